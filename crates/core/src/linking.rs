//! A self-guided couple asking a therapist to guide them: practice codes that
//! expire, and who may take which step of a link request.
//!
//! Nothing links on one person's say-so: the other partner agrees (when
//! there is one), then the therapist accepts. Either partner may withdraw a
//! request while it waits.

use crate::time::{DAY, Millis};

/// How long a therapist's practice code works after it was issued.
pub const LINK_CODE_LIFETIME: Millis = 30 * DAY;

/// When a code issued at `issued_at` stops working.
pub fn link_code_expiry(issued_at: Millis) -> Millis {
    issued_at.saturating_add(LINK_CODE_LIFETIME)
}

/// A code works until its last millisecond, and not from then on.
pub fn link_code_works(expires_at: Millis, now: Millis) -> bool {
    now < expires_at
}

/// Where a link request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    /// The other partner has not answered yet.
    WaitingForPartner,
    /// Both partners agree; the therapist has not answered yet.
    WaitingForTherapist,
    /// The therapist accepted: the couple is linked.
    Accepted,
    /// The other partner or the therapist said no.
    Declined,
    /// A partner took the request back while it waited.
    Withdrawn,
}

impl LinkStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::WaitingForPartner => "waiting_for_partner",
            LinkStatus::WaitingForTherapist => "waiting_for_therapist",
            LinkStatus::Accepted => "accepted",
            LinkStatus::Declined => "declined",
            LinkStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            LinkStatus::WaitingForPartner,
            LinkStatus::WaitingForTherapist,
            LinkStatus::Accepted,
            LinkStatus::Declined,
            LinkStatus::Withdrawn,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }

    /// Still waiting for someone's answer.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            LinkStatus::WaitingForPartner | LinkStatus::WaitingForTherapist
        )
    }
}

/// A step someone takes on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAction {
    Agree,
    Decline,
    Withdraw,
    Accept,
}

impl LinkAction {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "agree" => Some(LinkAction::Agree),
            "decline" => Some(LinkAction::Decline),
            "withdraw" => Some(LinkAction::Withdraw),
            "accept" => Some(LinkAction::Accept),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LinkAction::Agree => "agree",
            LinkAction::Decline => "decline",
            LinkAction::Withdraw => "withdraw",
            LinkAction::Accept => "accept",
        }
    }
}

/// Who is taking a step, as the request sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkParty {
    /// The partner who typed the code.
    Requester,
    /// The other partner of the couple.
    OtherPartner,
    /// The therapist the request is addressed to.
    Therapist,
}

/// Where a request goes when `party` takes `action`, or `None` when that
/// step is not theirs to take now.
pub fn next_link_status(
    status: LinkStatus,
    party: LinkParty,
    action: LinkAction,
) -> Option<LinkStatus> {
    use LinkAction::{Accept, Agree, Decline, Withdraw};
    use LinkParty::{OtherPartner, Requester, Therapist};
    use LinkStatus::{Declined, WaitingForPartner, WaitingForTherapist, Withdrawn};
    match (status, party, action) {
        (WaitingForPartner, OtherPartner, Agree) => Some(WaitingForTherapist),
        (WaitingForPartner, OtherPartner, Decline) => Some(Declined),
        (WaitingForPartner | WaitingForTherapist, Requester | OtherPartner, Withdraw) => {
            Some(Withdrawn)
        }
        (WaitingForTherapist, Therapist, Accept) => Some(LinkStatus::Accepted),
        (WaitingForTherapist, Therapist, Decline) => Some(Declined),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUED: Millis = 1_700_000_000_000;

    #[test]
    fn a_code_works_for_thirty_days_and_not_a_millisecond_more() {
        let expires = link_code_expiry(ISSUED);
        assert_eq!(expires - ISSUED, 30 * DAY);
        assert!(link_code_works(expires, ISSUED));
        assert!(link_code_works(expires, expires - 1));
        assert!(!link_code_works(expires, expires));
        assert!(!link_code_works(expires, expires + DAY));
        assert_eq!(link_code_expiry(Millis::MAX), Millis::MAX);
    }

    #[test]
    fn statuses_read_back_as_written() {
        for status in [
            LinkStatus::WaitingForPartner,
            LinkStatus::WaitingForTherapist,
            LinkStatus::Accepted,
            LinkStatus::Declined,
            LinkStatus::Withdrawn,
        ] {
            assert_eq!(LinkStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(LinkStatus::parse("linked"), None);
        for action in ["agree", "decline", "withdraw", "accept"] {
            assert_eq!(
                LinkAction::parse(action).map(LinkAction::as_str),
                Some(action)
            );
        }
        assert_eq!(LinkAction::parse("pace"), None);
    }

    #[test]
    fn the_other_partner_agrees_before_the_therapist_accepts() {
        use LinkAction::*;
        use LinkParty::*;
        use LinkStatus::*;
        // The requester cannot agree for the other partner, and the
        // therapist cannot accept before both partners agree.
        assert_eq!(next_link_status(WaitingForPartner, Requester, Agree), None);
        assert_eq!(next_link_status(WaitingForPartner, Therapist, Accept), None);
        assert_eq!(
            next_link_status(WaitingForPartner, OtherPartner, Agree),
            Some(WaitingForTherapist)
        );
        assert_eq!(
            next_link_status(WaitingForPartner, OtherPartner, Decline),
            Some(Declined)
        );
        assert_eq!(
            next_link_status(WaitingForTherapist, Therapist, Accept),
            Some(Accepted)
        );
        assert_eq!(
            next_link_status(WaitingForTherapist, Therapist, Decline),
            Some(Declined)
        );
        assert_eq!(
            next_link_status(WaitingForTherapist, OtherPartner, Accept),
            None
        );
        assert_eq!(
            next_link_status(WaitingForTherapist, Therapist, Withdraw),
            None
        );
        for party in [Requester, OtherPartner] {
            assert_eq!(
                next_link_status(WaitingForPartner, party, Withdraw),
                Some(Withdrawn)
            );
            assert_eq!(
                next_link_status(WaitingForTherapist, party, Withdraw),
                Some(Withdrawn)
            );
        }
        // A settled request stays settled.
        for settled in [Accepted, Declined, Withdrawn] {
            assert!(!settled.is_open());
            for party in [Requester, OtherPartner, Therapist] {
                for action in [Agree, Decline, Withdraw, Accept] {
                    assert_eq!(next_link_status(settled, party, action), None);
                }
            }
        }
    }
}
