//! Client writing (journal entries and every later kind), selected by who
//! is reading: the visibility rule of `trellis_core::privacy` becomes the
//! WHERE clause, so nothing the reader may not see ever leaves the database.

use sqlx::Row;
use sqlx::any::AnyRow;
use trellis_core::privacy::{Audience, Relation, visible_audiences};
use trellis_core::{CoupleId, Millis, Role, UserId};

use crate::db::Store;
use crate::error::{Result, StoreError};
use crate::new_id;

/// Who is reading, as far as the visibility rule needs to know.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    pub user_id: &'a UserId,
    pub role: Role,
    pub couple_id: Option<&'a CoupleId>,
    /// The reader's now: shared writing still in its undo window (or held
    /// until morning) is the author's alone until then.
    pub now: Millis,
}

/// One piece of client writing, body still sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedEntry {
    pub id: String,
    pub couple_id: CoupleId,
    pub couple_therapist_id: Option<UserId>,
    pub author_id: UserId,
    pub author_name: String,
    pub kind: String,
    pub ref_id: Option<String>,
    pub audience: Audience,
    /// The one person this is addressed to (a therapist's private message).
    pub addressed_to: Option<UserId>,
    pub body: Vec<u8>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Before this, only the author can read it (see [`Reader::now`]).
    pub visible_from: Millis,
}

#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub id: &'a str,
    pub couple_id: &'a str,
    pub author_id: &'a str,
    pub kind: trellis_core::EntryKind,
    pub ref_id: Option<&'a str>,
    pub audience: Audience,
    pub addressed_to: Option<&'a str>,
    pub body: &'a [u8],
    pub now: Millis,
    /// When others may read it: `now`, or later for an undo window.
    pub visible_from: Millis,
}

/// A safety flag raised by what an entry says (see
/// [`Store::insert_entry_with_flag`]).
#[derive(Debug, Clone, Copy)]
pub struct WritingFlag<'a> {
    pub user_id: &'a str,
    /// Sealed with the couple's key.
    pub sealed_note: &'a [u8],
    pub level: crate::program::FlagLevel<'a>,
}

fn entry_insert<'q>(
    entry: &NewEntry<'q>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(
        "INSERT INTO entries (id, couple_id, author_id, kind, ref_id, audience, body, created_at, updated_at, addressed_to, visible_from) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)",
    )
    .bind(entry.id)
    .bind(entry.couple_id)
    .bind(entry.author_id)
    .bind(entry.kind.as_str())
    .bind(entry.ref_id)
    .bind(entry.audience.as_str())
    .bind(entry.body)
    .bind(entry.now)
    .bind(entry.addressed_to)
    .bind(entry.visible_from)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceChange {
    pub changed_by: String,
    pub from: Audience,
    pub to: Audience,
    pub changed_at: Millis,
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter<'a> {
    pub couple_id: Option<&'a str>,
    pub kind: Option<trellis_core::EntryKind>,
    pub ref_id: Option<&'a str>,
    pub author_id: Option<&'a str>,
    /// Only entries older than this one (its `created_at` and `id`): the
    /// cursor of the next page, in the list's newest-first order.
    pub before: Option<(Millis, &'a str)>,
}

impl<'a> EntryFilter<'a> {
    /// A couple's writing of one kind that answers one thing (an exercise,
    /// a round of reflecting back…), by anyone.
    pub fn answers(couple_id: &'a str, kind: trellis_core::EntryKind, ref_id: &'a str) -> Self {
        Self {
            couple_id: Some(couple_id),
            kind: Some(kind),
            ref_id: Some(ref_id),
            ..Self::default()
        }
    }
}

const ENTRY_COLUMNS: &str = "e.id, e.couple_id, c.therapist_id AS couple_therapist_id, e.author_id, \
     u.name AS author_name, e.kind, e.ref_id, e.audience, e.addressed_to, e.body, e.created_at, e.updated_at, \
     e.visible_from";
const ENTRY_FROM: &str =
    "entries e JOIN couples c ON c.id = e.couple_id JOIN users u ON u.id = e.author_id";

fn entry_from_row(row: &AnyRow) -> Result<SealedEntry> {
    let audience: String = row.try_get("audience")?;
    Ok(SealedEntry {
        id: row.try_get("id")?,
        couple_id: crate::id_at(row, "couple_id")?,
        couple_therapist_id: crate::opt_id_at(row, "couple_therapist_id")?,
        author_id: crate::id_at(row, "author_id")?,
        author_name: row.try_get("author_name")?,
        kind: row.try_get("kind")?,
        ref_id: row.try_get("ref_id")?,
        audience: Audience::parse(&audience)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown audience {audience}")))?,
        addressed_to: crate::opt_id_at(row, "addressed_to")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        visible_from: row.try_get("visible_from")?,
    })
}

/// A piece of SQL with the values it binds, numbered from a given `$n`.
pub(crate) struct Clause {
    pub sql: String,
    pub binds: Vec<String>,
}

impl Clause {
    fn param(&mut self, value: &str, first: usize) -> String {
        self.binds.push(value.to_owned());
        format!("${}", first + self.binds.len() - 1)
    }
}

/// `(author is the reader OR the reader's relation to the couple lets them
/// see this audience)`, for entries aliased `e` joined to couples `c`.
pub(crate) fn visibility_clause(reader: Reader<'_>, first: usize) -> Clause {
    let mut clause = Clause {
        sql: String::new(),
        binds: Vec::new(),
    };
    let me = clause.param(reader.user_id, first);
    let (relation, couple_condition) = match (reader.role, reader.couple_id) {
        (Role::Partner, Some(couple_id)) => {
            let couple = clause.param(couple_id, first);
            (Relation::Partner, format!("e.couple_id = {couple}"))
        }
        (Role::Therapist, _) => (Relation::CoupleTherapist, format!("c.therapist_id = {me}")),
        _ => (Relation::Outsider, "1 = 0".to_owned()),
    };
    let audiences: Vec<String> = visible_audiences(relation)
        .into_iter()
        .map(|a| clause.param(a.as_str(), first))
        .collect();
    // Writing addressed to the reader (Relation::Addressee) is theirs to read.
    clause.sql = if audiences.is_empty() {
        format!("(e.author_id = {me} OR e.addressed_to = {me})")
    } else {
        format!(
            "(e.author_id = {me} OR e.addressed_to = {me} OR ({couple_condition} AND e.audience IN ({})))",
            audiences.join(", ")
        )
    };
    clause
}

/// [`visibility_clause`] and, for anyone but the author, only once the
/// entry's `visible_from` has come: what every read of writing uses.
pub(crate) fn readable_clause(reader: Reader<'_>, first: usize) -> Clause {
    let mut clause = visibility_clause(reader, first);
    let next = first + clause.binds.len();
    let now = reader.now.to_string();
    clause.sql = format!(
        "({} AND (e.author_id = ${next} OR e.visible_from <= CAST(${} AS BIGINT)))",
        clause.sql,
        next + 1
    );
    clause.binds.push(reader.user_id.to_string());
    clause.binds.push(now);
    clause
}

impl Store {
    #[tracing::instrument(skip(self, entry), fields(entry_id = entry.id, kind = entry.kind.as_str()))]
    pub async fn insert_entry(&self, entry: NewEntry<'_>) -> Result<()> {
        entry_insert(&entry).execute(&self.pool).await?;
        Ok(())
    }

    /// Stores the entry and, when its words raised one, its safety flag, in
    /// one transaction: writing in crisis is never stored without its flag.
    #[tracing::instrument(skip_all, fields(couple_id = entry.couple_id))]
    pub async fn insert_entry_with_flag(
        &self,
        entry: NewEntry<'_>,
        flag: Option<WritingFlag<'_>>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        entry_insert(&entry).execute(&mut *tx).await?;
        if let Some(flag) = flag {
            crate::program::concern_insert(
                flag.user_id,
                entry.couple_id,
                flag.sealed_note,
                (flag.level, crate::program::ConcernSource::Writing),
                entry.now,
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The entry, if `reader` may see it; `None` both when it does not exist
    /// and when it is not theirs to see.
    #[tracing::instrument(skip(self, reader), fields(reader = %reader.user_id))]
    pub async fn entry_for(&self, reader: Reader<'_>, id: &str) -> Result<Option<SealedEntry>> {
        let visible = readable_clause(reader, 2);
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.id = $1 AND {}",
            visible.sql
        );
        let mut query = sqlx::query(&sql).bind(id);
        for value in &visible.binds {
            query = query.bind(value);
        }
        let row = query.fetch_optional(&self.pool).await?;
        row.as_ref().map(entry_from_row).transpose()
    }

    /// Entries `reader` may see, newest first.
    #[tracing::instrument(skip(self, reader, filter), fields(reader = %reader.user_id))]
    pub async fn entries_for(
        &self,
        reader: Reader<'_>,
        filter: EntryFilter<'_>,
        limit: i64,
    ) -> Result<Vec<SealedEntry>> {
        let visible = readable_clause(reader, 1);
        let mut sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE {}",
            visible.sql
        );
        let mut binds = visible.binds;
        for (column, value) in [
            ("e.couple_id", filter.couple_id),
            ("e.kind", filter.kind.map(trellis_core::EntryKind::as_str)),
            ("e.ref_id", filter.ref_id),
            ("e.author_id", filter.author_id),
        ] {
            if let Some(value) = value {
                binds.push(value.to_owned());
                sql.push_str(&format!(" AND {column} = ${}", binds.len()));
            }
        }
        let mut next = binds.len() + 1;
        if filter.before.is_some() {
            sql.push_str(&format!(
                " AND (e.created_at < ${next} OR (e.created_at = ${next} AND e.id < ${}))",
                next + 1
            ));
            next += 2;
        }
        sql.push_str(&format!(
            " ORDER BY e.created_at DESC, e.id DESC LIMIT ${next}"
        ));
        let mut query = sqlx::query(&sql);
        for value in &binds {
            query = query.bind(value);
        }
        if let Some((created_at, id)) = filter.before {
            query = query.bind(created_at).bind(id);
        }
        let rows = query.bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Messages in these threads that `reader` may see, written by someone
    /// else after the reader last opened the thread: one query, for the
    /// count beside "Messages" on every page.
    #[tracing::instrument(skip(self, reader), fields(reader = %reader.user_id))]
    pub async fn unread_messages_for(
        &self,
        reader: Reader<'_>,
        thread_keys: &[&str],
    ) -> Result<i64> {
        if thread_keys.is_empty() {
            return Ok(0);
        }
        let visible = readable_clause(reader, 1);
        let mut binds = visible.binds;
        let me = format!("${}", binds.len() + 1);
        binds.push(reader.user_id.to_string());
        let keys: Vec<String> = thread_keys
            .iter()
            .map(|key| {
                binds.push((*key).to_owned());
                format!("${}", binds.len())
            })
            .collect();
        let sql = format!(
            "SELECT COUNT(*) AS n FROM entries e JOIN couples c ON c.id = e.couple_id \
             LEFT JOIN thread_reads r ON r.user_id = {me} AND r.thread_key = e.ref_id \
             WHERE {} AND e.kind = 'message' AND e.author_id <> {me} \
             AND e.ref_id IN ({}) AND e.created_at > COALESCE(r.read_at, 0)",
            visible.sql,
            keys.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for value in &binds {
            query = query.bind(value);
        }
        Ok(query.fetch_one(&self.pool).await?.try_get("n")?)
    }

    /// Changes the audience of the author's own entry and records the change,
    /// together, with the body sealed again for the new audience and, when
    /// given, the moment others may read it from (an undo window opening or
    /// closing with the change). `NotFound` unless `author_id` wrote it.
    #[tracing::instrument(skip(self, body))]
    pub async fn change_audience(
        &self,
        entry_id: &str,
        author_id: &str,
        to: Audience,
        body: &[u8],
        now: Millis,
        visible_from: Option<Millis>,
    ) -> Result<Audience> {
        let mut tx = self.write_tx().await?;
        let row: Option<(String,)> = sqlx::query_as(
            "UPDATE entries SET updated_at = $1, visible_from = COALESCE($4, visible_from) \
             WHERE id = $2 AND author_id = $3 RETURNING audience",
        )
        .bind(now)
        .bind(entry_id)
        .bind(author_id)
        .bind(visible_from)
        .fetch_optional(&mut *tx)
        .await?;
        let (from,) = row.ok_or(StoreError::NotFound)?;
        let from = Audience::parse(&from)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown audience {from}")))?;
        if from != to {
            sqlx::query("UPDATE entries SET audience = $1, body = $2 WHERE id = $3")
                .bind(to.as_str())
                .bind(body)
                .bind(entry_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO audience_changes (id, entry_id, changed_by, from_audience, to_audience, changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(new_id())
            .bind(entry_id)
            .bind(author_id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(from)
    }

    /// The audience history of an entry, oldest first (callers check that the
    /// reader may see the entry first).
    #[tracing::instrument(skip(self))]
    pub async fn audience_changes(&self, entry_id: &str) -> Result<Vec<AudienceChange>> {
        let rows = sqlx::query(
            "SELECT changed_by, from_audience, to_audience, changed_at FROM audience_changes \
             WHERE entry_id = $1 ORDER BY changed_at, id",
        )
        .bind(entry_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let parse = |value: String| {
                    Audience::parse(&value)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown audience {value}")))
                };
                Ok(AudienceChange {
                    changed_by: row.try_get("changed_by")?,
                    from: parse(row.try_get("from_audience")?)?,
                    to: parse(row.try_get("to_audience")?)?,
                    changed_at: row.try_get("changed_at")?,
                })
            })
            .collect()
    }

    /// When others may read the author's entry from (the end of an undo
    /// window, the morning it is held until, or now). `NotFound` unless
    /// `author_id` wrote it.
    #[tracing::instrument(skip(self))]
    pub async fn set_visible_from(
        &self,
        entry_id: &str,
        author_id: &str,
        at: Millis,
    ) -> Result<()> {
        let done =
            sqlx::query("UPDATE entries SET visible_from = $1 WHERE id = $2 AND author_id = $3")
                .bind(at)
                .bind(entry_id)
                .bind(author_id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entry kinds written into this crate's SQL as text (`e.kind =
    /// 'message'`, `kind IN ('exercise', 'paired')`): each must be one of
    /// core's kinds, so renaming a kind cannot leave a query behind.
    #[test]
    fn every_entry_kind_written_in_sql_is_a_kind() {
        let sources = [
            include_str!("notes.rs"),
            include_str!("program.rs"),
            include_str!("writing.rs"),
        ];
        let mut found = Vec::new();
        for source in sources {
            for (at, _) in source.match_indices("kind") {
                let rest = &source[at + "kind".len()..];
                let list = if let Some(after) = rest.strip_prefix(" = '") {
                    after.split('\'').next().map(|w| vec![w])
                } else if let Some(after) = rest
                    .strip_prefix(" IN (")
                    .or_else(|| rest.strip_prefix(" NOT IN ("))
                {
                    after.split(')').next().and_then(|items| {
                        items
                            .split(',')
                            .map(|item| item.trim().strip_prefix('\'')?.strip_suffix('\''))
                            .collect::<Option<Vec<_>>>()
                    })
                } else {
                    None
                };
                found.extend(list.unwrap_or_default());
            }
        }
        assert!(found.len() >= 8, "the queries were found: {found:?}");
        for kind in found {
            assert!(
                trellis_core::EntryKind::parse(kind).is_some(),
                "{kind:?} in SQL is not an entry kind"
            );
        }
    }

    #[test]
    fn partners_see_their_own_and_what_their_partner_shared_with_them() {
        let clause = visibility_clause(
            Reader {
                user_id: &UserId::new("sam"),
                role: Role::Partner,
                couple_id: Some(&CoupleId::new("c1")),
                now: 0,
            },
            2,
        );
        assert_eq!(
            clause.sql,
            "(e.author_id = $2 OR e.addressed_to = $2 OR (e.couple_id = $3 AND e.audience IN ($4, $5)))"
        );
        assert_eq!(
            clause.binds,
            ["sam", "c1", "partner", "partner_and_therapist"]
        );
    }

    #[test]
    fn therapists_see_what_was_shared_with_them_in_their_couples() {
        let clause = visibility_clause(
            Reader {
                user_id: &UserId::new("priya"),
                role: Role::Therapist,
                couple_id: None,
                now: 0,
            },
            1,
        );
        assert_eq!(
            clause.sql,
            "(e.author_id = $1 OR e.addressed_to = $1 OR (c.therapist_id = $1 AND e.audience IN ($2, $3)))"
        );
        assert_eq!(
            clause.binds,
            ["priya", "therapist", "partner_and_therapist"]
        );
    }

    #[test]
    fn admins_and_partners_without_a_couple_see_only_their_own() {
        for reader in [
            Reader {
                user_id: &UserId::new("morgan"),
                role: Role::Admin,
                couple_id: None,
                now: 0,
            },
            Reader {
                user_id: &UserId::new("robin"),
                role: Role::Partner,
                couple_id: None,
                now: 0,
            },
        ] {
            let clause = visibility_clause(reader, 1);
            assert_eq!(clause.sql, "(e.author_id = $1 OR e.addressed_to = $1)");
        }
    }

    #[test]
    fn others_read_shared_writing_only_once_its_moment_has_come() {
        let clause = readable_clause(
            Reader {
                user_id: &UserId::new("sam"),
                role: Role::Partner,
                couple_id: Some(&CoupleId::new("c1")),
                now: 1_000,
            },
            1,
        );
        assert!(
            clause
                .sql
                .ends_with(" AND (e.author_id = $5 OR e.visible_from <= CAST($6 AS BIGINT)))"),
            "{}",
            clause.sql
        );
        assert_eq!(
            clause.binds,
            [
                "sam",
                "c1",
                "partner",
                "partner_and_therapist",
                "sam",
                "1000"
            ]
        );
    }
}
