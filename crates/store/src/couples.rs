//! Couples, their partners, and the invitations that bring people in.

use sqlx::Row;
use sqlx::any::AnyRow;
use trellis_core::{CoupleId, InvitationKind, Millis, PracticeId, Role, UserId};

use crate::accounts::{NewUserRow, USER_COLUMNS, User, insert_user, user_from_row};
use crate::db::Store;
use crate::error::{Conflict, Result, StoreError};
use crate::new_id;

/// A couple has two partners, no more.
const COUPLE_SIZE: i64 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
/// A sign-up waiting for its owner to open the mailed link.
pub struct PendingSignUp<'a> {
    pub token_hash: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub now: Millis,
    pub expires_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Couple {
    pub id: CoupleId,
    pub practice_id: Option<PracticeId>,
    /// `None` while the couple is self-guided.
    pub therapist_id: Option<UserId>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub kind: InvitationKind,
    pub email: String,
    pub name: String,
    pub practice_id: Option<PracticeId>,
    pub couple_id: Option<CoupleId>,
    pub invited_by: UserId,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub used_at: Option<Millis>,
}

/// One partner as a therapist's caseload shows them: joined, or still invited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerSummary {
    pub name: String,
    pub email: String,
    pub joined: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseloadCouple {
    pub couple: Couple,
    pub partners: Vec<PartnerSummary>,
}

#[derive(Debug, Clone)]
pub struct NewPartner<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub token_hash: &'a str,
}

#[derive(Debug, Clone)]
pub struct InvitationAccepted {
    pub user: User,
    pub invitation: Invitation,
}

const INVITATION_COLUMNS: &str =
    "id, kind, email, name, practice_id, couple_id, invited_by, created_at, expires_at, used_at";

fn invitation_from_row(row: &AnyRow) -> Result<Invitation> {
    let kind: String = row.try_get("kind")?;
    Ok(Invitation {
        id: row.try_get("id")?,
        kind: InvitationKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown invitation kind {kind}")))?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        practice_id: crate::opt_id_at(row, "practice_id")?,
        couple_id: crate::opt_id_at(row, "couple_id")?,
        invited_by: crate::id_at(row, "invited_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
    })
}

fn couple_from_row(row: &AnyRow) -> Result<Couple> {
    Ok(Couple {
        id: crate::id_at(row, "id")?,
        practice_id: crate::opt_id_at(row, "practice_id")?,
        therapist_id: crate::opt_id_at(row, "therapist_id")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Arguments for an invitation row; the store fills in id and times.
struct InvitationRow<'a> {
    token_hash: &'a str,
    kind: InvitationKind,
    email: &'a str,
    name: &'a str,
    practice_id: Option<&'a str>,
    couple_id: Option<&'a str>,
    invited_by: &'a str,
    now: Millis,
    expires_at: Millis,
}

async fn insert_invitation<'c, E>(executor: E, row: InvitationRow<'_>) -> Result<Invitation>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let invitation = Invitation {
        id: new_id(),
        kind: row.kind,
        email: row.email.to_owned(),
        name: row.name.to_owned(),
        practice_id: row.practice_id.map(PracticeId::from),
        couple_id: row.couple_id.map(CoupleId::from),
        invited_by: row.invited_by.into(),
        created_at: row.now,
        expires_at: row.expires_at,
        used_at: None,
    };
    sqlx::query(
        "INSERT INTO invitations (id, token_hash, kind, email, name, practice_id, couple_id, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&invitation.id)
    .bind(row.token_hash)
    .bind(row.kind.as_str())
    .bind(&invitation.email)
    .bind(&invitation.name)
    .bind(invitation.practice_id.as_deref())
    .bind(invitation.couple_id.as_deref())
    .bind(invitation.invited_by.as_str())
    .bind(invitation.created_at)
    .bind(invitation.expires_at)
    .execute(executor)
    .await?;
    Ok(invitation)
}

async fn insert_couple<'c, E>(
    executor: E,
    practice_id: Option<&str>,
    therapist_id: Option<&str>,
    now: Millis,
) -> Result<Couple>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let couple = Couple {
        id: new_id().into(),
        practice_id: practice_id.map(PracticeId::from),
        therapist_id: therapist_id.map(UserId::from),
        created_at: now,
    };
    sqlx::query(
        "INSERT INTO couples (id, practice_id, therapist_id, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(couple.id.as_str())
    .bind(couple.practice_id.as_deref())
    .bind(couple.therapist_id.as_deref())
    .bind(couple.created_at)
    .execute(executor)
    .await?;
    Ok(couple)
}

impl Store {
    /// A therapist's new couple with an invitation for each partner, atomically.
    #[tracing::instrument(skip(self, partners))]
    pub async fn create_couple_with_invitations(
        &self,
        therapist: &User,
        partners: &[NewPartner<'_>],
        now: Millis,
        expires_at: Millis,
    ) -> Result<(Couple, Vec<Invitation>)> {
        let mut tx = self.write_tx().await?;
        let couple = insert_couple(
            &mut *tx,
            therapist.practice_id.as_deref(),
            Some(&therapist.id),
            now,
        )
        .await?;
        let mut invitations = Vec::with_capacity(partners.len());
        for partner in partners {
            let invitation = insert_invitation(
                &mut *tx,
                InvitationRow {
                    token_hash: partner.token_hash,
                    kind: InvitationKind::Partner,
                    email: partner.email,
                    name: partner.name,
                    practice_id: therapist.practice_id.as_deref(),
                    couple_id: Some(&couple.id),
                    invited_by: &therapist.id,
                    now,
                    expires_at,
                },
            )
            .await?;
            invitations.push(invitation);
        }
        tx.commit().await?;
        Ok((couple, invitations))
    }

    /// An admin invites a therapist into their practice.
    #[tracing::instrument(skip(self, admin, token_hash, email, name))]
    pub async fn create_therapist_invitation(
        &self,
        admin: &User,
        email: &str,
        name: &str,
        token_hash: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<Invitation> {
        let practice_id = admin.practice_id.as_deref().ok_or(StoreError::NotFound)?;
        let mut tx = self.write_tx().await?;
        // A fresh link replaces any earlier open one for the same person.
        sqlx::query(
            "UPDATE invitations SET expires_at = $1 \
             WHERE practice_id = $2 AND kind = 'therapist' AND email = $3 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(practice_id)
        .bind(email)
        .execute(&mut *tx)
        .await?;
        let invitation = insert_invitation(
            &mut *tx,
            InvitationRow {
                token_hash,
                kind: InvitationKind::Therapist,
                email,
                name,
                practice_id: Some(practice_id),
                couple_id: None,
                invited_by: &admin.id,
                now,
                expires_at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(invitation)
    }

    /// Forgets the name and email of invitations that were used, or that
    /// ended (expired or replaced by a fresh link) before `ended_before`.
    /// The person's account, if any, holds their name and email from then on.
    #[tracing::instrument(skip(self))]
    pub async fn prune_invitations(&self, ended_before: Millis) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE invitations SET name = '', email = '' \
             WHERE (name <> '' OR email <> '') AND (used_at IS NOT NULL OR expires_at < $1)",
        )
        .bind(ended_before)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Invites someone into a couple that has room. A fresh link for the same
    /// email replaces the earlier open one.
    #[tracing::instrument(skip(self, inviter, partner))]
    pub async fn create_partner_invitation(
        &self,
        couple_id: &CoupleId,
        inviter: &User,
        partner: NewPartner<'_>,
        now: Millis,
        expires_at: Millis,
    ) -> Result<Invitation> {
        let mut tx = self.write_tx().await?;
        lock_couple(&mut tx, couple_id).await?;
        refuse_closed(&mut tx, couple_id).await?;
        let couple_row = sqlx::query(
            "SELECT id, practice_id, therapist_id, created_at FROM couples WHERE id = $1",
        )
        .bind(couple_id.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let couple = couple_from_row(&couple_row)?;
        sqlx::query(
            "UPDATE invitations SET expires_at = $1 \
             WHERE couple_id = $2 AND email = $3 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(couple_id.as_str())
        .bind(partner.email)
        .execute(&mut *tx)
        .await?;
        let (taken,): (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM couple_members WHERE couple_id = $1) + \
                    (SELECT COUNT(DISTINCT email) FROM invitations \
                     WHERE couple_id = $1 AND used_at IS NULL AND expires_at > $2)",
        )
        .bind(couple_id.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if taken >= COUPLE_SIZE {
            return Err(StoreError::Conflict(Conflict::CoupleFull));
        }
        let invitation = insert_invitation(
            &mut *tx,
            InvitationRow {
                token_hash: partner.token_hash,
                kind: InvitationKind::Partner,
                email: partner.email,
                name: partner.name,
                practice_id: couple.practice_id.as_deref(),
                couple_id: Some(couple_id),
                invited_by: &inviter.id,
                now,
                expires_at,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(invitation)
    }

    #[tracing::instrument(skip(self, token_hash))]
    pub async fn invitation_by_token(&self, token_hash: &str) -> Result<Option<Invitation>> {
        let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1");
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(invitation_from_row).transpose()
    }

    /// Turns an open invitation into an account, once. `Gone` when the link was
    /// used or has expired (also when two people race for it), `Conflict` when
    /// the email already has an account or the couple is already complete.
    #[tracing::instrument(skip(self, token_hash, name, password_hash, link_code))]
    pub async fn accept_invitation(
        &self,
        token_hash: &str,
        name: &str,
        password_hash: &str,
        link_code: Option<&str>,
        now: Millis,
    ) -> Result<InvitationAccepted> {
        let mut tx = self.write_tx().await?;
        let sql = format!(
            "UPDATE invitations SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING {INVITATION_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(now)
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            let exists = self.invitation_by_token(token_hash).await?;
            return Err(if exists.is_some() {
                StoreError::Gone
            } else {
                StoreError::NotFound
            });
        };
        let mut invitation = invitation_from_row(&row)?;
        let user_id = new_id();
        let role = match invitation.kind {
            InvitationKind::Therapist => Role::Therapist,
            InvitationKind::Partner => Role::Partner,
        };
        insert_user(
            &mut *tx,
            NewUserRow {
                id: &user_id,
                email: &invitation.email,
                name,
                role,
                password_hash,
                practice_id: match role {
                    Role::Therapist => invitation.practice_id.as_deref(),
                    _ => None,
                },
                link_code: match role {
                    Role::Therapist => link_code,
                    _ => None,
                },
                now,
            },
        )
        .await?;
        if let (Role::Partner, Some(couple_id)) = (role, invitation.couple_id.as_deref()) {
            add_member(&mut tx, couple_id, &user_id, now).await?;
        }
        tx.commit().await?;
        invitation.used_at = Some(now);
        let user = self.user(&user_id).await?;
        Ok(InvitationAccepted { user, invitation })
    }

    /// A partner starts on their own: a new self-guided couple with them in it.
    #[tracing::instrument(skip(self, email, name, password_hash))]
    pub async fn sign_up_self_guided(
        &self,
        email: &str,
        name: &str,
        password_hash: &str,
        now: Millis,
    ) -> Result<User> {
        let mut tx = self.write_tx().await?;
        let user_id = new_id();
        insert_user(
            &mut *tx,
            NewUserRow {
                id: &user_id,
                email,
                name,
                role: Role::Partner,
                password_hash,
                practice_id: None,
                link_code: None,
                now,
            },
        )
        .await?;
        let couple = insert_couple(&mut *tx, None, None, now).await?;
        add_member(&mut tx, &couple.id, &user_id, now).await?;
        tx.commit().await?;
        self.user(&user_id).await
    }

    /// Keeps a sign-up until its mailed link is opened; an earlier one for
    /// the same address is replaced, and expired ones are dropped.
    #[tracing::instrument(skip_all)]
    pub async fn create_pending_sign_up(&self, pending: PendingSignUp<'_>) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM pending_sign_ups WHERE email = $1 OR expires_at <= $2")
            .bind(pending.email)
            .bind(pending.now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO pending_sign_ups (token_hash, email, name, password_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(pending.token_hash)
        .bind(pending.email)
        .bind(pending.name)
        .bind(pending.password_hash)
        .bind(pending.now)
        .bind(pending.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Is this sign-up link still open?
    #[tracing::instrument(skip_all)]
    pub async fn pending_sign_up_is_open(&self, token_hash: &str, now: Millis) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT expires_at FROM pending_sign_ups WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Uses up a sign-up link: its account, made now. `NotFound` when the
    /// link is unknown, used or expired; `Conflict` when the address got an
    /// account meanwhile.
    #[tracing::instrument(skip_all)]
    pub async fn complete_pending_sign_up(&self, token_hash: &str, now: Millis) -> Result<User> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "DELETE FROM pending_sign_ups WHERE token_hash = $1 AND expires_at > $2 \
             RETURNING email, name, password_hash",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let (email, name, password_hash) = row.ok_or(StoreError::NotFound)?;
        self.sign_up_self_guided(&email, &name, &password_hash, now)
            .await
    }

    /// Links a self-guided couple to a therapist (and their practice).
    /// `Conflict` if the couple already has a therapist.
    #[tracing::instrument(skip(self, therapist))]
    pub async fn link_therapist(&self, couple_id: &CoupleId, therapist: &User) -> Result<()> {
        if set_couple_therapist(&self.pool, couple_id, therapist).await? == 0 {
            return Err(match self.couple(couple_id).await {
                Ok(_) => StoreError::Conflict(Conflict::CoupleHasTherapist),
                Err(err) => err,
            });
        }
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    pub async fn couple(&self, id: &CoupleId) -> Result<Couple> {
        let row = sqlx::query(
            "SELECT id, practice_id, therapist_id, created_at FROM couples WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        couple_from_row(&row)
    }

    /// The partners who have joined, in the order they joined.
    #[tracing::instrument(skip(self))]
    pub async fn couple_members(&self, couple_id: &CoupleId) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM couple_members m JOIN users u ON u.id = m.user_id \
             WHERE m.couple_id = $1 ORDER BY m.joined_at, u.id"
        );
        let rows = sqlx::query(&sql)
            .bind(couple_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| user_from_row(row).map(|u| u.user))
            .collect()
    }

    /// Invitations into the couple that can still be accepted.
    #[tracing::instrument(skip(self))]
    pub async fn open_couple_invitations(
        &self,
        couple_id: &CoupleId,
        now: Millis,
    ) -> Result<Vec<Invitation>> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations \
             WHERE couple_id = $1 AND used_at IS NULL AND expires_at > $2 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(couple_id.as_str())
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(invitation_from_row).collect()
    }

    /// Therapist invitations of a practice that can still be accepted.
    #[tracing::instrument(skip(self))]
    pub async fn open_therapist_invitations(
        &self,
        practice_id: &str,
        now: Millis,
    ) -> Result<Vec<Invitation>> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations \
             WHERE practice_id = $1 AND kind = 'therapist' AND used_at IS NULL AND expires_at > $2 \
             ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(practice_id)
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(invitation_from_row).collect()
    }

    /// The couples a therapist guides, newest first, each with its partners:
    /// those who joined and those still invited (open or expired, so a
    /// therapist notices a link that ran out).
    #[tracing::instrument(skip(self))]
    pub async fn caseload(&self, therapist_id: &UserId) -> Result<Vec<CaseloadCouple>> {
        let couples = sqlx::query(
            "SELECT id, practice_id, therapist_id, created_at FROM couples WHERE therapist_id = $1 \
             ORDER BY created_at DESC, id DESC",
        )
        .bind(therapist_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let members = sqlx::query(
            "SELECT m.couple_id, u.name, u.email FROM couple_members m \
             JOIN users u ON u.id = m.user_id JOIN couples c ON c.id = m.couple_id \
             WHERE c.therapist_id = $1 ORDER BY m.joined_at, u.id",
        )
        .bind(therapist_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let invited = sqlx::query(
            "SELECT i.couple_id, i.name, i.email FROM invitations i JOIN couples c ON c.id = i.couple_id \
             WHERE c.therapist_id = $1 AND i.used_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM users u WHERE u.email = i.email) \
             ORDER BY i.created_at, i.id",
        )
        .bind(therapist_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut caseload = Vec::with_capacity(couples.len());
        for row in &couples {
            let couple = couple_from_row(row)?;
            let mut partners: Vec<PartnerSummary> = Vec::new();
            for (rows, joined) in [(&members, true), (&invited, false)] {
                for row in rows {
                    let couple_id: String = row.try_get("couple_id")?;
                    if couple_id != couple.id {
                        continue;
                    }
                    let email: String = row.try_get("email")?;
                    if let Some(seen) = partners.iter_mut().find(|p| p.email == email) {
                        // A re-sent link (oldest first) shows the latest name.
                        if !joined && !seen.joined {
                            seen.name = row.try_get("name")?;
                        }
                        continue;
                    }
                    partners.push(PartnerSummary {
                        name: row.try_get("name")?,
                        email,
                        joined,
                    });
                }
            }
            caseload.push(CaseloadCouple { couple, partners });
        }
        Ok(caseload)
    }
}

/// Gives a self-guided couple its therapist (and their practice); the number
/// of couples changed, 0 when it already had one or does not exist.
pub(crate) async fn set_couple_therapist<'c, E>(
    executor: E,
    couple_id: &str,
    therapist: &User,
) -> Result<u64>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let done = sqlx::query(
        "UPDATE couples SET therapist_id = $1, practice_id = $2 WHERE id = $3 AND therapist_id IS NULL",
    )
    .bind(therapist.id.as_str())
    .bind(therapist.practice_id.as_deref())
    .bind(couple_id)
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

async fn add_member(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    couple_id: &str,
    user_id: &str,
    now: Millis,
) -> Result<()> {
    lock_couple(tx, couple_id).await?;
    refuse_closed(tx, couple_id).await?;
    let (members,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM couple_members WHERE couple_id = $1")
            .bind(couple_id)
            .fetch_one(&mut **tx)
            .await?;
    if members >= COUPLE_SIZE {
        return Err(StoreError::Conflict(Conflict::CoupleFull));
    }
    sqlx::query("INSERT INTO couple_members (user_id, couple_id, joined_at) VALUES ($1, $2, $3)")
        .bind(user_id)
        .bind(couple_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Serialises writers that count a couple's seats before filling one, so two
/// concurrent transactions cannot both see a free seat. A no-op UPDATE takes a
/// row lock on PostgreSQL (where `SELECT ... FOR UPDATE` would not be valid
/// SQLite) and the write lock on SQLite, before anything is read.
pub(crate) async fn lock_couple(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    couple_id: &str,
) -> Result<()> {
    sqlx::query("UPDATE couples SET created_at = created_at WHERE id = $1")
        .bind(couple_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A couple someone has left takes no new member.
pub(crate) async fn refuse_closed(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    couple_id: &str,
) -> Result<()> {
    let row: Option<(Option<i64>,)> = sqlx::query_as("SELECT closed_at FROM couples WHERE id = $1")
        .bind(couple_id)
        .fetch_optional(&mut **tx)
        .await?;
    if matches!(row, Some((Some(_),))) {
        return Err(StoreError::Conflict(Conflict::CoupleClosed));
    }
    Ok(())
}
