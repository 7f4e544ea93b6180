//! The reflect-back loop: one partner shares what hurt, the other writes back
//! what they understood, and the first either confirms ("yes, that is it") or
//! clarifies, and the listener tries again, until it is confirmed.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The speaker shared; the listener is to reflect back.
    AwaitingReflection,
    /// The listener reflected; the speaker is to confirm or clarify.
    AwaitingConfirmation,
    /// The speaker felt heard.
    Confirmed,
}

impl Status {
    pub const ALL: [Status; 3] = [
        Status::AwaitingReflection,
        Status::AwaitingConfirmation,
        Status::Confirmed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::AwaitingReflection => "awaiting_reflection",
            Status::AwaitingConfirmation => "awaiting_confirmation",
            Status::Confirmed => "confirmed",
        }
    }

    pub fn parse(value: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// Who is acting in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Speaker,
    Listener,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// The listener writes what they understood.
    Reflect,
    /// The speaker: "yes, that is it".
    Confirm,
    /// The speaker clarifies and asks the listener to try again.
    Clarify,
}

/// The status after a move, or why the move does not fit now.
pub fn next(status: Status, role: Role, action: Move) -> Result<Status, &'static str> {
    match (status, role, action) {
        (Status::AwaitingReflection, Role::Listener, Move::Reflect) => {
            Ok(Status::AwaitingConfirmation)
        }
        (Status::AwaitingConfirmation, Role::Speaker, Move::Confirm) => Ok(Status::Confirmed),
        (Status::AwaitingConfirmation, Role::Speaker, Move::Clarify) => {
            Ok(Status::AwaitingReflection)
        }
        (Status::Confirmed, _, _) => {
            Err("This conversation is complete: it was confirmed. You can start a new one.")
        }
        (Status::AwaitingReflection, Role::Speaker, _) => Err(
            "Your partner is reflecting back what they heard. You can confirm or clarify once they have.",
        ),
        (Status::AwaitingConfirmation, Role::Listener, _) => {
            Err("Your partner is reading your reflection. Wait for them to confirm or clarify.")
        }
        (_, Role::Listener, _) => Err("Only the person who shared can confirm or clarify."),
        (_, Role::Speaker, Move::Reflect) => Err("Reflecting back is for the listener."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_goes_round_until_confirmed() {
        let mut status = Status::AwaitingReflection;
        status = next(status, Role::Listener, Move::Reflect).unwrap();
        assert_eq!(status, Status::AwaitingConfirmation);
        status = next(status, Role::Speaker, Move::Clarify).unwrap();
        assert_eq!(status, Status::AwaitingReflection, "try again");
        status = next(status, Role::Listener, Move::Reflect).unwrap();
        status = next(status, Role::Speaker, Move::Confirm).unwrap();
        assert_eq!(status, Status::Confirmed);
    }

    #[test]
    fn moves_out_of_turn_are_refused_with_a_reason() {
        assert!(next(Status::AwaitingReflection, Role::Speaker, Move::Confirm).is_err());
        assert!(next(Status::AwaitingReflection, Role::Speaker, Move::Reflect).is_err());
        assert!(next(Status::AwaitingConfirmation, Role::Listener, Move::Reflect).is_err());
        assert!(next(Status::AwaitingConfirmation, Role::Listener, Move::Confirm).is_err());
        for role in [Role::Speaker, Role::Listener] {
            for action in [Move::Reflect, Move::Confirm, Move::Clarify] {
                assert!(next(Status::Confirmed, role, action).is_err());
            }
        }
    }

    #[test]
    fn statuses_round_trip() {
        for status in [
            Status::AwaitingReflection,
            Status::AwaitingConfirmation,
            Status::Confirmed,
        ] {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
    }
}
