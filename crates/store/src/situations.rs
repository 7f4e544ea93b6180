//! The couple's situation and, for self-guided couples, what each partner
//! proposed until both agree.

use trellis_core::Millis;
use trellis_core::{CoupleId, UserId};

use crate::db::Store;
use crate::error::Result;

/// A situation as stored: `(kind, hurt partner id)`.
pub type SituationRow = (String, Option<String>);

impl Store {
    #[tracing::instrument(skip(self))]
    pub async fn couple_situation(&self, couple_id: &CoupleId) -> Result<Option<SituationRow>> {
        Ok(sqlx::query_as(
            "SELECT kind, hurt_partner_id FROM couple_situations WHERE couple_id = $1",
        )
        .bind(couple_id.as_str())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Sets the situation and clears any proposals, in one transaction.
    #[tracing::instrument(skip(self))]
    pub async fn set_couple_situation(
        &self,
        couple_id: &CoupleId,
        (kind, hurt_partner_id): (&str, Option<&str>),
        set_by: &str,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO couple_situations (couple_id, kind, hurt_partner_id, set_by, set_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (couple_id) DO UPDATE SET kind = $2, hurt_partner_id = $3, set_by = $4, set_at = $5",
        )
        .bind(couple_id.as_str())
        .bind(kind)
        .bind(hurt_partner_id)
        .bind(set_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM situation_proposals WHERE couple_id = $1")
            .bind(couple_id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A partner's proposal (replacing their earlier one).
    #[tracing::instrument(skip(self))]
    pub async fn propose_situation(
        &self,
        couple_id: &CoupleId,
        user_id: &UserId,
        (kind, hurt_partner_id): (&str, Option<&str>),
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO situation_proposals (couple_id, user_id, kind, hurt_partner_id, proposed_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (couple_id, user_id) DO UPDATE SET kind = $3, hurt_partner_id = $4, proposed_at = $5",
        )
        .bind(couple_id.as_str())
        .bind(user_id.as_str())
        .bind(kind)
        .bind(hurt_partner_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every open proposal in the couple: `(user id, kind, hurt partner id)`.
    #[tracing::instrument(skip(self))]
    pub async fn situation_proposals(
        &self,
        couple_id: &CoupleId,
    ) -> Result<Vec<(String, String, Option<String>)>> {
        Ok(sqlx::query_as(
            "SELECT user_id, kind, hurt_partner_id FROM situation_proposals WHERE couple_id = $1",
        )
        .bind(couple_id.as_str())
        .fetch_all(&self.pool)
        .await?)
    }
}
