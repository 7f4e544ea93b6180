//! Loading many rows at once: multi-row `INSERT`s in one transaction, for
//! generating large practices (`trellis loadgen`), never for requests.
//!
//! Tables and columns are named by the caller's code (`&'static str`), never
//! by input; values are always bound.

use sqlx::Arguments;
use sqlx::any::AnyArguments;

use crate::Store;
use crate::error::Result;

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Bytes(Vec<u8>),
    NullText,
    NullInt,
    NullBytes,
}

impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Cell::Text(value.to_owned())
    }
}

impl From<String> for Cell {
    fn from(value: String) -> Self {
        Cell::Text(value)
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Self {
        Cell::Int(value)
    }
}

impl From<Vec<u8>> for Cell {
    fn from(value: Vec<u8>) -> Self {
        Cell::Bytes(value)
    }
}

impl From<Option<String>> for Cell {
    fn from(value: Option<String>) -> Self {
        value.map_or(Cell::NullText, Cell::Text)
    }
}

impl From<Option<i64>> for Cell {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Cell::NullInt, Cell::Int)
    }
}

impl From<Option<Vec<u8>>> for Cell {
    fn from(value: Option<Vec<u8>>) -> Self {
        value.map_or(Cell::NullBytes, Cell::Bytes)
    }
}

/// Well under SQLite's 32,766 and PostgreSQL's 65,535 bound values.
const MAX_BOUND_VALUES: usize = 30_000;

fn add(
    args: &mut AnyArguments<'_>,
    cell: Cell,
) -> std::result::Result<(), sqlx::error::BoxDynError> {
    match cell {
        Cell::Text(v) => args.add(v),
        Cell::Int(v) => args.add(v),
        Cell::Bytes(v) => args.add(v),
        Cell::NullText => args.add(None::<String>),
        Cell::NullInt => args.add(None::<i64>),
        Cell::NullBytes => args.add(None::<Vec<u8>>),
    }
}

/// `INSERT INTO table (a, b) VALUES ($1, $2), ($3, $4), …` for `rows` rows.
fn insert_sql(table: &str, columns: &[&str], rows: usize) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns.len() {
            if column > 0 {
                sql.push_str(", ");
            }
            n += 1;
            sql.push('$');
            sql.push_str(&n.to_string());
        }
        sql.push(')');
    }
    sql
}

impl Store {
    /// Inserts `rows` into `table` in one transaction, as few statements as
    /// the engines' limits on bound values allow. Every row must have one
    /// cell per column.
    #[tracing::instrument(skip(self, columns, rows), fields(rows = rows.len()))]
    pub async fn insert_rows(
        &self,
        table: &'static str,
        columns: &[&'static str],
        rows: Vec<Vec<Cell>>,
    ) -> Result<()> {
        if rows.is_empty() || columns.is_empty() {
            return Ok(());
        }
        if let Some(bad) = rows.iter().find(|r| r.len() != columns.len()) {
            return Err(crate::StoreError::Corrupt(format!(
                "a row for {table} has {} values for {} columns",
                bad.len(),
                columns.len()
            )));
        }
        // SQLite runs one prepared single-row statement fastest; PostgreSQL
        // wants few round trips, so many rows to a statement.
        let per_statement = match self.backend() {
            crate::Backend::Sqlite => 1,
            crate::Backend::Postgres => (MAX_BOUND_VALUES / columns.len()).clamp(1, 1_000),
        };
        let mut tx = self.write_tx().await?;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Cell>> = rows.by_ref().take(per_statement).collect();
            let sql = insert_sql(table, columns, chunk.len());
            let mut args = AnyArguments::default();
            for cell in chunk.into_iter().flatten() {
                add(&mut args, cell).map_err(sqlx::Error::Encode)?;
            }
            sqlx::query_with(&sql, args).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_value_once() {
        assert_eq!(
            insert_sql("t", &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(insert_sql("t", &["a"], 1), "INSERT INTO t (a) VALUES ($1)");
    }
}
