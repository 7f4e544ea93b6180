//! The rules of a structured talk (the speaker-listener technique), as a
//! pure state machine: who may make which move when, and what follows.
//!
//! One partner holds the floor and speaks in short turns. The listener's
//! only move is to say back what they heard; the speaker confirms ("yes,
//! that's it") or clarifies, and only a confirmed paraphrase lets the talk go
//! on. The floor passes when the speaker hands it over. Once both have been
//! heard, either may open the problem-solving phase: an agenda, a brainstorm
//! without judging, an agreement both accept, a follow-up date. Either
//! partner may leave at any time. A talk's state is never stored: it is the
//! replay of its turns through [`Talk::apply`].

use serde::{Deserialize, Serialize};

use crate::time::{DAY, MINUTE, Millis};

/// The longest turn: short turns keep the listener able to say it back.
pub const TURN_MAX_CHARS: usize = 1_000;
pub const TOPIC_MAX_CHARS: usize = 200;
/// The most turns one talk holds (leaving always works): a talk is a
/// conversation, not a log, and its turns are replayed on every move.
pub const MAX_TURNS: usize = 400;
/// The most ideas in one round of problem-solving (one agenda).
pub const MAX_IDEAS_PER_ROUND: usize = 20;
/// A time-out lasts at least this long: long enough for a body to calm down.
pub const TIMEOUT_MIN: Millis = 20 * MINUTE;
/// …and at most this long: a time-out always comes back.
pub const TIMEOUT_MAX: Millis = DAY;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Move {
    /// The speaker says something (one short turn).
    Speak,
    /// The listener says back what they heard.
    Paraphrase,
    /// The speaker: "yes, that's it".
    Confirm,
    /// The speaker: "not quite", and says it again differently.
    Clarify,
    /// The speaker hands the floor to the other partner.
    HandOver,
    /// Either partner, once both have been heard: start problem-solving.
    Solve,
    /// Problem-solving: name the one thing to solve.
    Agenda,
    /// Problem-solving: an idea (no judging during the brainstorm).
    Idea,
    /// Problem-solving: propose what to agree.
    Propose,
    /// Problem-solving: the other partner accepts the last proposal.
    Accept,
    /// Problem-solving: when to look at how it went.
    FollowUp,
    /// Either partner leaves the talk; it ends.
    Leave,
}

impl Move {
    pub const ALL: [Move; 12] = [
        Move::Speak,
        Move::Paraphrase,
        Move::Confirm,
        Move::Clarify,
        Move::HandOver,
        Move::Solve,
        Move::Agenda,
        Move::Idea,
        Move::Propose,
        Move::Accept,
        Move::FollowUp,
        Move::Leave,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Move::Speak => "speak",
            Move::Paraphrase => "paraphrase",
            Move::Confirm => "confirm",
            Move::Clarify => "clarify",
            Move::HandOver => "hand_over",
            Move::Solve => "solve",
            Move::Agenda => "agenda",
            Move::Idea => "idea",
            Move::Propose => "propose",
            Move::Accept => "accept",
            Move::FollowUp => "follow_up",
            Move::Leave => "leave",
        }
    }

    pub fn parse(value: &str) -> Option<Move> {
        Move::ALL.into_iter().find(|m| m.as_str() == value)
    }

    /// Does this move carry words?
    pub fn has_body(self) -> bool {
        matches!(
            self,
            Move::Speak
                | Move::Paraphrase
                | Move::Clarify
                | Move::Agenda
                | Move::Idea
                | Move::Propose
                | Move::FollowUp
        )
    }

    /// How the move reads in the talk, after the person's name.
    pub fn verb(self) -> &'static str {
        match self {
            Move::Speak => "said",
            Move::Paraphrase => "heard",
            Move::Confirm => "confirmed: yes, that's it",
            Move::Clarify => "clarified",
            Move::HandOver => "handed over the floor",
            Move::Solve => "opened problem-solving",
            Move::Agenda => "named what to solve",
            Move::Idea => "suggested",
            Move::Propose => "proposed",
            Move::Accept => "agreed",
            Move::FollowUp => "set a follow-up",
            Move::Leave => "left the talk",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Speaker and listener, no problem-solving.
    Listening,
    ProblemSolving,
    Ended,
}

/// In the listening phase: what the talk waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    /// The speaker may speak or hand over the floor.
    Speaker,
    /// The listener says back what they heard.
    Paraphrase,
    /// The speaker confirms or clarifies the paraphrase.
    Confirmation,
}

/// Why a move is not allowed now, in words for the person who tried it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

fn refuse<T>(message: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(message.into()))
}

/// A talk between two partners. `partners[0]` opened it and holds the floor first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Talk {
    pub partners: [String; 2],
    pub phase: Phase,
    /// Index into `partners` of the one who holds the floor.
    pub floor: usize,
    pub waiting: Waiting,
    /// Each partner has had a paraphrase of theirs confirmed.
    pub heard: [bool; 2],
    pub agenda_set: bool,
    /// The partner whose proposal waits for the other's acceptance.
    pub open_proposal: Option<usize>,
    pub agreements: usize,
    /// Who left, when the talk ended.
    pub left_by: Option<usize>,
    /// Turns so far, up to [`MAX_TURNS`].
    pub turns: usize,
    /// Ideas in this round of problem-solving, up to [`MAX_IDEAS_PER_ROUND`].
    pub ideas: usize,
}

impl Talk {
    pub fn new(opener: &str, other: &str) -> Talk {
        Talk {
            partners: [opener.to_owned(), other.to_owned()],
            phase: Phase::Listening,
            floor: 0,
            waiting: Waiting::Speaker,
            heard: [false, false],
            agenda_set: false,
            open_proposal: None,
            agreements: 0,
            left_by: None,
            turns: 0,
            ideas: 0,
        }
    }

    fn index_of(&self, who: &str) -> Option<usize> {
        self.partners.iter().position(|p| p == who)
    }

    pub fn speaker(&self) -> &str {
        &self.partners[self.floor]
    }

    pub fn listener(&self) -> &str {
        &self.partners[1 - self.floor]
    }

    /// Applies a move by `who` with a body of `body_chars` characters, or
    /// says why it is not allowed; a refused move changes nothing.
    pub fn apply(&mut self, who: &str, action: Move, body_chars: usize) -> Result<(), Refusal> {
        let Some(me) = self.index_of(who) else {
            return refuse("Only the two partners take part in a talk.");
        };
        if self.phase == Phase::Ended {
            return refuse("This talk has ended. You can start a new one at any time.");
        }
        if action.has_body() {
            if body_chars == 0 {
                return refuse("Please write something first.");
            }
            if body_chars > TURN_MAX_CHARS {
                return refuse(format!(
                    "Please keep each turn to {TURN_MAX_CHARS} characters or fewer: short turns are easier to hear and say back."
                ));
            }
        }
        if action == Move::Leave {
            self.phase = Phase::Ended;
            self.left_by = Some(me);
            self.turns += 1;
            return Ok(());
        }
        if self.turns >= MAX_TURNS {
            return refuse(
                "This talk has grown very long. Please close it and start a fresh one: a new talk can pick up where this one left off.",
            );
        }
        match self.phase {
            Phase::Listening => self.listening(me, action),
            Phase::ProblemSolving => self.solving(me, action),
            Phase::Ended => refuse("This talk has ended."),
        }?;
        self.turns += 1;
        Ok(())
    }

    fn listening(&mut self, me: usize, action: Move) -> Result<(), Refusal> {
        let speaking = me == self.floor;
        let other = self.partners[1 - me].clone();
        match (action, speaking, self.waiting) {
            (Move::Speak, true, Waiting::Speaker) => {
                self.waiting = Waiting::Paraphrase;
                Ok(())
            }
            (Move::Speak, true, _) => refuse(format!(
                "One turn at a time: wait until {other} has said back what they heard and you have confirmed it."
            )),
            (Move::Speak | Move::Clarify | Move::Confirm | Move::HandOver, false, _) => {
                refuse(format!(
                    "{other} has the floor and you are listening. Your move is to say back what you heard; the floor comes to you when {other} hands it over."
                ))
            }
            (Move::Paraphrase, false, Waiting::Paraphrase) => {
                self.waiting = Waiting::Confirmation;
                Ok(())
            }
            (Move::Paraphrase, false, Waiting::Confirmation) => refuse(format!(
                "Wait for {other} to confirm or clarify what you said back."
            )),
            (Move::Paraphrase, false, Waiting::Speaker) => refuse(format!(
                "There is nothing new to say back yet: {other} has the floor."
            )),
            (Move::Paraphrase, true, _) => refuse(format!(
                "You hold the floor: {other} is the one who says back what they heard."
            )),
            (Move::Confirm | Move::Clarify, true, Waiting::Confirmation) => {
                if action == Move::Confirm {
                    self.heard[me] = true;
                    self.waiting = Waiting::Speaker;
                } else {
                    self.waiting = Waiting::Paraphrase;
                }
                Ok(())
            }
            (Move::Confirm | Move::Clarify, true, _) => refuse(format!(
                "There is no paraphrase from {other} to confirm yet."
            )),
            (Move::HandOver, true, Waiting::Speaker) => {
                self.floor = 1 - self.floor;
                Ok(())
            }
            (Move::HandOver, true, _) => refuse(format!(
                "Finish this turn first: {other}'s paraphrase needs to be confirmed before the floor passes."
            )),
            (Move::Solve, _, Waiting::Speaker) if self.heard == [true, true] => {
                self.phase = Phase::ProblemSolving;
                Ok(())
            }
            (Move::Solve, _, _) => refuse(
                "Problem-solving comes after both of you have been heard: each speaks and has a paraphrase confirmed first.",
            ),
            (Move::Agenda | Move::Idea | Move::Propose | Move::Accept | Move::FollowUp, _, _) => {
                refuse("No problem-solving yet: for now the talk is about hearing each other.")
            }
            (Move::Leave, _, _) => Ok(()),
        }
    }

    fn solving(&mut self, me: usize, action: Move) -> Result<(), Refusal> {
        match action {
            Move::Agenda => {
                self.agenda_set = true;
                self.ideas = 0;
                Ok(())
            }
            Move::Idea | Move::Propose if !self.agenda_set => {
                refuse("First name the one thing you want to solve together (the agenda).")
            }
            Move::Idea if self.ideas >= MAX_IDEAS_PER_ROUND => refuse(format!(
                "That's plenty of ideas for one agenda ({MAX_IDEAS_PER_ROUND}). Now choose among them and propose one, or name a new agenda to start a fresh round."
            )),
            Move::Idea => {
                self.ideas += 1;
                Ok(())
            }
            Move::Propose => {
                self.open_proposal = Some(me);
                Ok(())
            }
            Move::Accept => match self.open_proposal {
                Some(by) if by != me => {
                    self.open_proposal = None;
                    self.agreements += 1;
                    Ok(())
                }
                Some(_) => refuse("Your partner accepts your proposal, not you."),
                None => refuse("There is no proposal to accept yet."),
            },
            Move::FollowUp if self.agreements == 0 => {
                refuse("A follow-up date comes once you have agreed on something.")
            }
            Move::FollowUp => Ok(()),
            Move::Speak | Move::Paraphrase | Move::Confirm | Move::Clarify | Move::HandOver => {
                refuse("You are problem-solving now: suggest ideas, propose, and agree.")
            }
            Move::Solve => refuse("You are already problem-solving."),
            Move::Leave => Ok(()),
        }
    }

    /// The moves `who` may make now (for forms and hints).
    pub fn allowed(&self, who: &str) -> Vec<Move> {
        Move::ALL
            .into_iter()
            .filter(|&m| {
                let mut copy = self.clone();
                copy.apply(who, m, usize::from(m.has_body())).is_ok()
            })
            .collect()
    }
}

/// A time-out must come back between 20 minutes and 24 hours from now.
pub fn validate_timeout(now: Millis, return_at: Millis) -> Result<(), crate::ValidationError> {
    let gap = return_at - now;
    if gap < TIMEOUT_MIN {
        return Err(crate::ValidationError::new(
            "return_at",
            "A break needs at least 20 minutes: that is how long a body takes to calm down. Please choose a later time to come back.",
        ));
    }
    if gap > TIMEOUT_MAX {
        return Err(crate::ValidationError::new(
            "return_at",
            "A break lasts at most 24 hours, so that it always comes back. Please choose an earlier time.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "alex";
    const B: &str = "sam";

    fn talk() -> Talk {
        Talk::new(A, B)
    }

    fn play(talk: &mut Talk, moves: &[(&str, Move)]) {
        for (who, action) in moves {
            talk.apply(who, *action, usize::from(action.has_body()))
                .unwrap_or_else(|r| panic!("{who} {action:?}: {r}"));
        }
    }

    fn allowed(talk: &Talk, who: &str) -> Vec<Move> {
        talk.allowed(who)
    }

    #[test]
    fn a_full_round_passes_the_floor_only_after_a_confirmed_paraphrase() {
        let mut t = talk();
        assert_eq!(allowed(&t, A), [Move::Speak, Move::HandOver, Move::Leave]);
        assert_eq!(allowed(&t, B), [Move::Leave]);
        play(&mut t, &[(A, Move::Speak)]);
        assert_eq!(allowed(&t, A), [Move::Leave]);
        assert_eq!(allowed(&t, B), [Move::Paraphrase, Move::Leave]);
        play(&mut t, &[(B, Move::Paraphrase)]);
        assert_eq!(allowed(&t, A), [Move::Confirm, Move::Clarify, Move::Leave]);
        assert_eq!(allowed(&t, B), [Move::Leave]);
        play(&mut t, &[(A, Move::Clarify)]);
        assert_eq!(
            t.waiting,
            Waiting::Paraphrase,
            "a clarification is heard again"
        );
        play(&mut t, &[(B, Move::Paraphrase), (A, Move::Confirm)]);
        assert_eq!(t.heard, [true, false]);
        play(&mut t, &[(A, Move::HandOver)]);
        assert_eq!(t.speaker(), B);
        assert_eq!(allowed(&t, B), [Move::Speak, Move::HandOver, Move::Leave]);
        assert_eq!(allowed(&t, A), [Move::Leave]);
    }

    #[test]
    fn the_listener_cannot_speak_and_says_why() {
        let mut t = talk();
        let refusal = t.apply(B, Move::Speak, 10).unwrap_err();
        assert!(refusal.0.contains("you are listening"), "{refusal}");
        play(&mut t, &[(A, Move::Speak)]);
        let before = t.clone();
        assert!(t.apply(B, Move::Speak, 10).is_err());
        assert!(
            t.apply(A, Move::Speak, 10)
                .unwrap_err()
                .0
                .contains("One turn at a time")
        );
        assert!(t.apply(A, Move::Paraphrase, 10).is_err());
        assert!(
            t.apply(A, Move::HandOver, 0)
                .unwrap_err()
                .0
                .contains("Finish this turn")
        );
        assert_eq!(t, before, "refused moves change nothing");
    }

    /// Every move by every person in every listening state: exactly the
    /// expected ones are legal.
    #[test]
    fn every_move_in_every_listening_state() {
        let states: Vec<(&str, Vec<(&str, Move)>)> = vec![
            ("start", vec![]),
            ("spoken", vec![(A, Move::Speak)]),
            ("paraphrased", vec![(A, Move::Speak), (B, Move::Paraphrase)]),
            (
                "confirmed",
                vec![(A, Move::Speak), (B, Move::Paraphrase), (A, Move::Confirm)],
            ),
        ];
        let expected = |state: &str, who: &str| -> Vec<Move> {
            match (state, who) {
                ("start", A) => vec![Move::Speak, Move::HandOver, Move::Leave],
                ("spoken", B) => vec![Move::Paraphrase, Move::Leave],
                ("paraphrased", A) => vec![Move::Confirm, Move::Clarify, Move::Leave],
                ("confirmed", A) => vec![Move::Speak, Move::HandOver, Move::Leave],
                _ => vec![Move::Leave],
            }
        };
        for (state, moves) in states {
            let mut t = talk();
            play(&mut t, &moves);
            for who in [A, B, "tom"] {
                let legal: Vec<Move> = Move::ALL
                    .into_iter()
                    .filter(|&m| t.clone().apply(who, m, usize::from(m.has_body())).is_ok())
                    .collect();
                let want = if who == "tom" {
                    vec![]
                } else {
                    expected(state, who)
                };
                assert_eq!(legal, want, "{state}, {who}");
            }
        }
    }

    const BOTH_HEARD: [(&str, Move); 8] = [
        (A, Move::Speak),
        (B, Move::Paraphrase),
        (A, Move::Confirm),
        (A, Move::HandOver),
        (B, Move::Speak),
        (A, Move::Paraphrase),
        (B, Move::Confirm),
        (A, Move::Solve),
    ];

    #[test]
    fn a_round_of_problem_solving_holds_a_bounded_number_of_ideas() {
        let mut t = talk();
        play(&mut t, &BOTH_HEARD);
        play(&mut t, &[(B, Move::Agenda)]);
        for i in 0..MAX_IDEAS_PER_ROUND {
            play(&mut t, &[([A, B][i % 2], Move::Idea)]);
        }
        let refused = t.apply(A, Move::Idea, 5).unwrap_err();
        assert!(refused.0.contains("plenty of ideas"), "{refused}");
        play(&mut t, &[(A, Move::Propose), (B, Move::Accept)]);
        // A new agenda opens a new round.
        play(&mut t, &[(B, Move::Agenda), (A, Move::Idea)]);
    }

    #[test]
    fn a_talk_holds_a_bounded_number_of_turns_but_leaving_always_works() {
        let mut t = talk();
        while t.turns + 3 <= MAX_TURNS {
            play(
                &mut t,
                &[(A, Move::Speak), (B, Move::Paraphrase), (A, Move::Confirm)],
            );
        }
        while t.turns < MAX_TURNS {
            let holder = t.speaker().to_owned();
            play(&mut t, &[(&holder, Move::HandOver)]);
        }
        assert_eq!(t.turns, MAX_TURNS);
        let refused = t.apply(A, Move::Speak, 5).unwrap_err();
        assert!(refused.0.contains("very long"), "{refused}");
        play(&mut t, &[(B, Move::Leave)]);
        assert_eq!(t.phase, Phase::Ended);
    }

    #[test]
    fn problem_solving_waits_until_both_are_heard() {
        let mut t = talk();
        play(
            &mut t,
            &[(A, Move::Speak), (B, Move::Paraphrase), (A, Move::Confirm)],
        );
        assert!(
            t.apply(A, Move::Solve, 0)
                .unwrap_err()
                .0
                .contains("both of you")
        );
        assert!(
            t.apply(A, Move::Idea, 5)
                .unwrap_err()
                .0
                .contains("No problem-solving yet")
        );
        play(
            &mut t,
            &[(A, Move::HandOver), (B, Move::Speak), (A, Move::Paraphrase)],
        );
        assert!(
            t.apply(B, Move::Solve, 0).is_err(),
            "not while a paraphrase waits"
        );
        play(&mut t, &[(B, Move::Confirm), (A, Move::Solve)]);
        assert_eq!(t.phase, Phase::ProblemSolving);
        assert!(t.apply(B, Move::Speak, 5).is_err());
        assert!(t.apply(B, Move::Idea, 5).unwrap_err().0.contains("agenda"));
        assert!(t.apply(B, Move::FollowUp, 5).is_err());
        play(
            &mut t,
            &[
                (B, Move::Agenda),
                (A, Move::Idea),
                (B, Move::Idea),
                (A, Move::Propose),
            ],
        );
        assert!(
            t.apply(A, Move::Accept, 0)
                .unwrap_err()
                .0
                .contains("Your partner accepts")
        );
        play(&mut t, &[(B, Move::Accept)]);
        assert_eq!(t.agreements, 1);
        assert!(
            t.apply(B, Move::Accept, 0)
                .unwrap_err()
                .0
                .contains("no proposal")
        );
        play(&mut t, &[(A, Move::FollowUp)]);
        assert!(t.apply(A, Move::Solve, 0).is_err());
    }

    #[test]
    fn either_partner_can_always_leave_and_then_nothing_moves() {
        for (moves, leaver) in [
            (vec![], B),
            (vec![(A, Move::Speak)], A),
            (vec![(A, Move::Speak), (B, Move::Paraphrase)], B),
        ] {
            let mut t = talk();
            play(&mut t, &moves);
            play(&mut t, &[(leaver, Move::Leave)]);
            assert_eq!(t.phase, Phase::Ended);
            for m in Move::ALL {
                assert!(t.clone().apply(A, m, 1).is_err());
                assert!(t.clone().apply(B, m, 1).is_err());
            }
        }
    }

    #[test]
    fn turns_are_short_and_never_empty() {
        let mut t = talk();
        assert!(
            t.apply(A, Move::Speak, 0)
                .unwrap_err()
                .0
                .contains("write something")
        );
        assert!(
            t.apply(A, Move::Speak, TURN_MAX_CHARS + 1)
                .unwrap_err()
                .0
                .contains("short turns")
        );
        assert!(t.apply(A, Move::Speak, TURN_MAX_CHARS).is_ok());
        assert_eq!(
            t.apply("someone", Move::Leave, 0).unwrap_err().0,
            "Only the two partners take part in a talk."
        );
    }

    #[test]
    fn moves_round_trip_through_their_names() {
        for m in Move::ALL {
            assert_eq!(Move::parse(m.as_str()), Some(m));
            assert!(!m.verb().is_empty());
        }
        assert_eq!(Move::parse("shout"), None);
    }

    #[test]
    fn time_outs_come_back_between_twenty_minutes_and_a_day() {
        let now = 1_000_000_000;
        assert!(validate_timeout(now, now + TIMEOUT_MIN - 1).is_err());
        assert!(validate_timeout(now, now + TIMEOUT_MIN).is_ok());
        assert!(validate_timeout(now, now + TIMEOUT_MAX).is_ok());
        assert!(validate_timeout(now, now + TIMEOUT_MAX + 1).is_err());
        assert!(validate_timeout(now, now - 1).is_err());
    }
}
