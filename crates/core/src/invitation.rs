//! Invitations are single-use links that expire: the rules for when one still works.

use crate::time::{DAY, Millis};

/// How long an invitation link stays valid.
pub const INVITATION_LIFETIME: Millis = 7 * DAY;

/// Who the invitation makes the invitee into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationKind {
    /// Joins the inviting admin's practice as a therapist.
    Therapist,
    /// Joins a couple as one of its two partners.
    Partner,
}

impl InvitationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationKind::Therapist => "therapist",
            InvitationKind::Partner => "partner",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "therapist" => Some(InvitationKind::Therapist),
            "partner" => Some(InvitationKind::Partner),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Can be accepted now.
    Open,
    /// Somebody already accepted it.
    Used,
    /// Its lifetime ran out before anyone accepted it.
    Expired,
}

/// A used invitation stays used even after it would have expired, so people
/// are told the truth about why a link no longer works.
pub fn invitation_status(
    expires_at: Millis,
    used_at: Option<Millis>,
    now: Millis,
) -> InvitationStatus {
    if used_at.is_some() {
        InvitationStatus::Used
    } else if now >= expires_at {
        InvitationStatus::Expired
    } else {
        InvitationStatus::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATED: Millis = 1_700_000_000_000;

    #[test]
    fn an_invitation_is_open_until_its_last_millisecond() {
        let expires = CREATED + INVITATION_LIFETIME;
        assert_eq!(
            invitation_status(expires, None, CREATED),
            InvitationStatus::Open
        );
        assert_eq!(
            invitation_status(expires, None, expires - 1),
            InvitationStatus::Open
        );
        assert_eq!(
            invitation_status(expires, None, expires),
            InvitationStatus::Expired
        );
    }

    #[test]
    fn a_used_invitation_reports_used_even_after_expiry() {
        let expires = CREATED + INVITATION_LIFETIME;
        assert_eq!(
            invitation_status(expires, Some(CREATED + 5), CREATED + 6),
            InvitationStatus::Used
        );
        assert_eq!(
            invitation_status(expires, Some(CREATED + 5), expires + DAY),
            InvitationStatus::Used
        );
    }

    #[test]
    fn invitations_last_seven_days() {
        assert_eq!(INVITATION_LIFETIME, 7 * 24 * 60 * 60 * 1000);
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [InvitationKind::Therapist, InvitationKind::Partner] {
            assert_eq!(InvitationKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(InvitationKind::parse("admin"), None);
    }
}
