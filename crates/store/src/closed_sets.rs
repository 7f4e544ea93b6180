//! Columns that hold one word of a closed set (an entry's kind, a talk
//! move, an audience, a tier, a status) refuse any other word in the
//! database itself, with the sets taken from core's enums: a misspelt or
//! forgotten kind in a query fails at the write instead of hiding rows from
//! every reader.
//!
//! The first tables wrote their sets as `CHECK`s into their migrations.
//! These columns came later or hold sets that grow, and SQLite cannot add a
//! `CHECK` to an existing table, so they are guarded here after the
//! migrations: a `CHECK … NOT VALID` on PostgreSQL (no scan of a large table
//! at start-up; every later insert or update of a row is checked) and
//! `BEFORE INSERT`/`UPDATE OF` triggers on SQLite.
//!
//! Sets only ever widen at start-up: the words in force are recorded in the
//! `maintenance` table (`closed_set:<table>.<column>=<word>`), and a start
//! puts in force the union of those and its own. So an older version that
//! starts (or a CLI) after a newer one never takes away a word the newer one
//! writes. Narrowing a set, or dropping a guarded column, takes a migration.
//! A guard missing from the catalogue (a table rebuilt by a migration) is put
//! back at the next start.

use std::collections::BTreeSet;

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
    pub values: Vec<String>,
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
            values: values.into_iter().map(str::to_owned).collect(),
        }
    }

    /// The name of the constraint (PostgreSQL) or the stem of the triggers
    /// (SQLite).
    fn name(&self) -> String {
        format!("{}_{}_known", self.table, self.column)
    }

    /// What the catalogue holds once this column is guarded.
    fn guard_names(&self, backend: Backend) -> Vec<String> {
        match backend {
            Backend::Postgres => vec![self.name()],
            Backend::Sqlite => vec![
                format!("{}_insert", self.name()),
                format!("{}_update", self.name()),
            ],
        }
    }

    /// `'a', 'b', …` (only plain words are ever written: see [`is_word`]).
    fn list(&self) -> String {
        self.values
            .iter()
            .filter(|v| is_word(v))
            .map(|v| format!("'{v}'"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Lower-case letters and underscores: core's identifiers, safe in SQL text.
fn is_word(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
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

/// The prefix of the `maintenance` rows that record the words in force.
const IN_FORCE: &str = "closed_set:";

fn in_force_row(column: &ClosedColumn, value: &str) -> String {
    format!("{IN_FORCE}{}.{}={value}", column.table, column.column)
}

/// The sets to put in force: this version's, widened by every word already
/// in force (`in_force`: maintenance row names), and whether that is more
/// than is in force.
fn widen(code: Vec<ClosedColumn>, in_force: &BTreeSet<String>) -> (Vec<ClosedColumn>, bool) {
    let mut grows = false;
    let columns = code
        .into_iter()
        .map(|mut column| {
            let prefix = in_force_row(&column, "");
            let recorded: BTreeSet<&str> = in_force
                .iter()
                .filter_map(|row| row.strip_prefix(&prefix))
                .filter(|v| is_word(v))
                .collect();
            grows |= column.values.iter().any(|v| !recorded.contains(v.as_str()));
            for v in recorded {
                if !column.values.iter().any(|w| w == v) {
                    column.values.push(v.to_owned());
                }
            }
            column
        })
        .collect();
    (columns, grows)
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

/// Instances starting together on PostgreSQL take turns (any constant
/// shared by them works).
const GUARD_LOCK: i64 = 0x0074_7265_6c6c_6973;

impl Store {
    /// Puts the guards of [`closed_columns`] in place, widened by the words
    /// already in force, unless they all are and every guard is in the
    /// catalogue (run after the migrations at every start). When this
    /// version's own words are not in force yet, a failure fails the start
    /// (writes of a new word would fail until the next one); when only a
    /// missing guard is put back, a failure (a lock not granted in time while
    /// the tables are busy) is logged and the next start tries again.
    #[tracing::instrument(skip(self))]
    pub(crate) async fn guard_closed_sets(&self, now: trellis_core::Millis) -> Result<()> {
        let (columns, grows) = widen(closed_columns(), &self.closed_sets_in_force(None).await?);
        let guards = self.closed_set_guards().await?;
        let missing = columns
            .iter()
            .flat_map(|c| c.guard_names(self.backend()))
            .any(|g| !guards.contains(&g));
        if !grows && !missing {
            return Ok(());
        }
        match self.put_guards(now).await {
            Ok(()) => Ok(()),
            Err(err) if grows => Err(err),
            Err(err) => {
                tracing::warn!(error = %err, "a missing closed-set guard was not put back; the next start tries again");
                Ok(())
            }
        }
    }

    /// The words in force, as recorded (read in `tx` when given).
    async fn closed_sets_in_force(
        &self,
        tx: Option<&mut sqlx::Transaction<'_, sqlx::Any>>,
    ) -> Result<BTreeSet<String>> {
        let query = sqlx::query_as::<_, (String,)>(
            "SELECT name FROM maintenance WHERE substr(name, 1, 11) = $1",
        )
        .bind(IN_FORCE);
        let rows = match tx {
            Some(tx) => query.fetch_all(&mut **tx).await?,
            None => query.fetch_all(&self.pool).await?,
        };
        Ok(rows.into_iter().map(|(name,)| name).collect())
    }

    async fn put_guards(&self, now: trellis_core::Millis) -> Result<()> {
        // SQLite: take the write lock first, so a writer in between cannot
        // make the schema change fail half-way
        let mut tx = self.write_tx().await?;
        if self.backend() == Backend::Postgres {
            tx.execute("SET LOCAL lock_timeout = '5s'").await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(GUARD_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        // read again under the lock: another start may have widened a set
        // since this one looked, and must not be narrowed back
        let in_force = self.closed_sets_in_force(Some(&mut tx)).await?;
        let (columns, _) = widen(closed_columns(), &in_force);
        for column in &columns {
            for statement in statements(self.backend(), column) {
                tx.execute(statement.as_str()).await?;
            }
            for value in column.values.iter().filter(|v| is_word(v)) {
                let row = in_force_row(column, value);
                if !in_force.contains(&row) {
                    sqlx::query(
                        "INSERT INTO maintenance (name, version, done_at) VALUES ($1, 1, $2) \
                         ON CONFLICT (name) DO NOTHING",
                    )
                    .bind(row)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The names of the guards in the catalogue (constraints on PostgreSQL,
    /// triggers on SQLite) that [`closed_columns`] put there.
    pub(crate) async fn closed_set_guards(&self) -> Result<BTreeSet<String>> {
        let sql = match self.backend() {
            Backend::Postgres => "SELECT conname::text FROM pg_constraint",
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'trigger'",
        };
        let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(n,)| n)
            .filter(|n| n.contains("_known"))
            .collect())
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
    fn sets_in_force_only_widen() {
        let nothing = BTreeSet::new();
        let (fresh, grows) = widen(closed_columns(), &nothing);
        assert!(grows, "a new database puts every set in force");
        assert_eq!(fresh, closed_columns());
        let everything: BTreeSet<String> = closed_columns()
            .iter()
            .flat_map(|c| {
                c.values
                    .iter()
                    .map(|v| in_force_row(c, v))
                    .collect::<Vec<_>>()
            })
            .collect();
        let (same, grows) = widen(closed_columns(), &everything);
        assert!(!grows, "nothing new: no rebuild");
        assert_eq!(same, closed_columns());
        // a newer version put a word in force that this one does not know
        let mut newer = everything.clone();
        newer.insert("closed_set:entries.kind=letter".to_owned());
        newer.insert("closed_set:entries.kind=Robert'); DROP TABLE x".to_owned());
        let (kept, grows) = widen(closed_columns(), &newer);
        assert!(!grows, "an older start never rebuilds to narrow");
        assert!(kept[0].values.iter().any(|v| v == "letter"));
        assert!(
            !kept[0].values.iter().any(|v| v.contains('\'')),
            "only plain words reach SQL"
        );
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
