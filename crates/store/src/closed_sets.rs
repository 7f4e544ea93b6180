//! Columns that hold one word of a closed set (an entry's kind, a talk
//! move, an audience, a tier, a status) refuse any other word in the
//! database itself, with the sets taken from core's enums: a misspelt or
//! forgotten kind in a query fails at the write instead of hiding rows from
//! every reader.
//!
//! The first tables wrote their sets as `CHECK`s into their migrations.
//! These columns came later or hold sets that grow, and SQLite cannot add a
//! `CHECK` to an existing table, so they are guarded here after the
//! migrations: a `CHECK … NOT VALID` on PostgreSQL (new writes only, no scan
//! of a large table at start-up) and `BEFORE INSERT`/`UPDATE` triggers on
//! SQLite. Both are rebuilt only when a set changes (a fingerprint in the
//! `maintenance` table).

use sqlx::Executor;
use trellis_core::privacy::Audience;
use trellis_core::reflect_back::Status as ReflectBackStatus;
use trellis_core::screening::Tier;
use trellis_core::talk::Move;
use trellis_core::writing::EntryKind;

use crate::db::{Backend, Store};
use crate::error::Result;

/// One column and the words it may hold (NULL stays allowed where the
/// column allows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedColumn {
    pub table: &'static str,
    pub column: &'static str,
    pub values: Vec<&'static str>,
}

impl ClosedColumn {
    fn new(
        table: &'static str,
        column: &'static str,
        values: impl IntoIterator<Item = &'static str>,
    ) -> ClosedColumn {
        ClosedColumn {
            table,
            column,
            values: values.into_iter().collect(),
        }
    }

    /// The name of the constraint (PostgreSQL) or the stem of the triggers
    /// (SQLite).
    fn name(&self) -> String {
        format!("{}_{}_known", self.table, self.column)
    }

    /// `'a', 'b', …` (the words are core's own identifiers: lower-case
    /// letters and underscores, checked by a test).
    fn list(&self) -> String {
        self.values
            .iter()
            .map(|v| format!("'{v}'"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Every guarded column, with its set from core.
pub fn closed_columns() -> Vec<ClosedColumn> {
    let audiences = || Audience::ALL.map(Audience::as_str);
    vec![
        ClosedColumn::new("entries", "kind", EntryKind::ALL.map(EntryKind::as_str)),
        ClosedColumn::new("talk_turns", "kind", Move::ALL.map(Move::as_str)),
        ClosedColumn::new("reflect_backs", "audience", audiences()),
        ClosedColumn::new(
            "reflect_backs",
            "status",
            ReflectBackStatus::ALL.map(ReflectBackStatus::as_str),
        ),
        ClosedColumn::new("audience_changes", "from_audience", audiences()),
        ClosedColumn::new("audience_changes", "to_audience", audiences()),
        ClosedColumn::new("promise_marks", "context_audience", audiences()),
        ClosedColumn::new("safety_screenings", "tier", Tier::ALL.map(Tier::as_str)),
    ]
}

/// The `maintenance` row that records which sets are in force.
const MAINTENANCE: &str = "closed_sets";

/// A stable fingerprint of the sets (FNV-1a over their text; std's hasher
/// may change between Rust releases).
fn fingerprint(columns: &[ClosedColumn]) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for c in columns {
        for byte in format!("{}.{}={};", c.table, c.column, c.list()).bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    // the maintenance table keeps a signed 64-bit version
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// The statements that put `column`'s guard in place (replacing an older one).
fn statements(backend: Backend, column: &ClosedColumn) -> Vec<String> {
    let (table, col, name, list) = (column.table, column.column, column.name(), column.list());
    match backend {
        Backend::Postgres => vec![
            format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"),
            format!(
                "ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({col} IN ({list})) NOT VALID"
            ),
        ],
        Backend::Sqlite => ["insert", "update"]
            .into_iter()
            .flat_map(|event| {
                let on = match event {
                    "insert" => "INSERT".to_owned(),
                    _ => format!("UPDATE OF {col}"),
                };
                [
                    format!("DROP TRIGGER IF EXISTS {name}_{event}"),
                    format!(
                        "CREATE TRIGGER {name}_{event} BEFORE {on} ON {table} \
                         WHEN NEW.{col} IS NOT NULL AND NEW.{col} NOT IN ({list}) \
                         BEGIN SELECT RAISE(ABORT, 'unknown {table}.{col}'); END"
                    ),
                ]
            })
            .collect(),
    }
}

impl Store {
    /// Puts the guards of [`closed_columns`] in place unless the same sets
    /// already are (run after the migrations at every start).
    #[tracing::instrument(skip(self))]
    pub(crate) async fn guard_closed_sets(&self, now: trellis_core::Millis) -> Result<()> {
        let columns = closed_columns();
        let version = fingerprint(&columns);
        if self.maintenance_done(MAINTENANCE).await? == Some(version) {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for column in &columns {
            for statement in statements(self.backend(), column) {
                tx.execute(statement.as_str()).await?;
            }
        }
        tx.commit().await?;
        self.record_maintenance(MAINTENANCE, version, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_plain_words_so_they_can_be_written_into_sql() {
        for c in closed_columns() {
            assert!(!c.values.is_empty(), "{}", c.name());
            for v in &c.values {
                assert!(
                    !v.is_empty() && v.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                    "{}: {v:?}",
                    c.name()
                );
            }
        }
    }

    #[test]
    fn the_fingerprint_changes_with_any_set() {
        let columns = closed_columns();
        let mut grown = columns.clone();
        grown[0].values.push("letter");
        assert_ne!(fingerprint(&columns), fingerprint(&grown));
        assert_eq!(fingerprint(&columns), fingerprint(&closed_columns()));
    }

    #[test]
    fn sqlite_guards_inserts_and_updates_of_the_column() {
        let entries = &closed_columns()[0];
        let sql = statements(Backend::Sqlite, entries).join(";\n");
        assert!(sql.contains("BEFORE INSERT ON entries"), "{sql}");
        assert!(sql.contains("BEFORE UPDATE OF kind ON entries"), "{sql}");
        assert!(
            sql.contains("'journal'") && sql.contains("'openness'"),
            "{sql}"
        );
        let pg = statements(Backend::Postgres, entries).join(";\n");
        assert!(
            pg.contains("CHECK (kind IN ('journal',") && pg.ends_with("NOT VALID"),
            "{pg}"
        );
    }
}
