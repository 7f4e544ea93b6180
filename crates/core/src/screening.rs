//! When shared work may go ahead, and how Trellis answers a sign that
//! someone may be at risk. Pure rules: the web layer gathers the facts,
//! these functions decide.
//!
//! Two properties matter more than any other here:
//! - a partner's view of the gate never depends on what the *other* partner
//!   answered or wrote, so a closed gate can never point at who disclosed;
//! - a worry about hopelessness is answered with help and a notice, not by
//!   stopping the couple's work (only urgent risk closes the gate).

use serde::{Deserialize, Serialize};

/// What the therapist decided after talking with one partner alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Joint work is safe to go ahead.
    ConjointOk,
    /// Individual sessions first; joint work waits.
    IndividualFirst,
    /// Joint work is not advisable.
    ConjointContraindicated,
    /// Referred to another service.
    Referred,
}

impl Decision {
    pub const ALL: [Decision; 4] = [
        Decision::ConjointOk,
        Decision::IndividualFirst,
        Decision::ConjointContraindicated,
        Decision::Referred,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::ConjointOk => "conjoint_ok",
            Decision::IndividualFirst => "individual_first",
            Decision::ConjointContraindicated => "conjoint_contraindicated",
            Decision::Referred => "referred",
        }
    }

    pub fn parse(value: &str) -> Option<Decision> {
        Decision::ALL.into_iter().find(|d| d.as_str() == value)
    }

    /// How the decision reads to the therapist and in the audit log.
    pub fn label(self) -> &'static str {
        match self {
            Decision::ConjointOk => "Joint work can go ahead",
            Decision::IndividualFirst => "Individual sessions first",
            Decision::ConjointContraindicated => "Joint work is not advisable",
            Decision::Referred => "Referred elsewhere",
        }
    }
}

/// What one partner's situation contributes to the gate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartnerFacts {
    /// The therapist's latest decision about this partner, if any.
    pub decision: Option<Decision>,
    /// Whether they have taken the private safety check at least once.
    pub checked: bool,
    /// Whether they closed shared work themselves (no reason is asked).
    pub paused: bool,
}

/// Everything the gate looks at, for one couple.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GateFacts {
    /// A therapist guides the couple.
    pub guided: bool,
    /// The couple's current partners (a partner who left is not here).
    pub partners: Vec<PartnerFacts>,
    /// Urgent flags no one has decided on yet.
    pub open_urgent_flags: usize,
}

/// Whether the couple's shared work (paired exercises, talks, compromises,
/// agreements, suggested promises, rituals) is open.
///
/// - Guided couples: open once the therapist has recorded `conjoint_ok` for
///   each partner after seeing them alone, and no urgent flag waits for a
///   decision.
/// - Self-guided couples: open once both have taken the private check.
/// - Everyone: either partner may close it at any time, for any reason, and
///   nobody is told why.
pub fn shared_work_open(facts: &GateFacts) -> bool {
    let both_here = facts.partners.len() == 2;
    let nobody_paused = facts.partners.iter().all(|p| !p.paused);
    let cleared = if facts.guided {
        facts
            .partners
            .iter()
            .all(|p| p.decision == Some(Decision::ConjointOk))
            && facts.open_urgent_flags == 0
    } else {
        facts.partners.iter().all(|p| p.checked)
    };
    both_here && nobody_paused && cleared
}

/// How strong a sign of risk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Hopelessness, "can't go on", a routine worry: help and a notice.
    Distress,
    /// Self-harm with intent or a plan, threats, violence, lethality markers:
    /// an urgent notice, and shared work waits for the therapist.
    Urgent,
}

impl Tier {
    pub const ALL: [Tier; 2] = [Tier::Distress, Tier::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Distress => "distress",
            Tier::Urgent => "urgent",
        }
    }

    pub fn parse(value: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

/// Who may be at risk, seen from the person who wrote or answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AtRisk {
    /// The person themselves (their own safety, their own thoughts of harm).
    Themselves,
    /// Their partner (a threat they wrote, their own violence).
    Partner,
    /// Both.
    Both,
}

impl AtRisk {
    pub fn as_str(self) -> &'static str {
        match self {
            AtRisk::Themselves => "themselves",
            AtRisk::Partner => "partner",
            AtRisk::Both => "both",
        }
    }

    pub fn parse(value: &str) -> Option<AtRisk> {
        [AtRisk::Themselves, AtRisk::Partner, AtRisk::Both]
            .into_iter()
            .find(|a| a.as_str() == value)
    }

    /// The union of two.
    pub fn and(self, other: AtRisk) -> AtRisk {
        if self == other { self } else { AtRisk::Both }
    }

    pub fn includes_themselves(self) -> bool {
        self != AtRisk::Partner
    }

    pub fn includes_partner(self) -> bool {
        self != AtRisk::Themselves
    }
}

/// One sign of risk: how strong, and who may be in danger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concern {
    pub tier: Tier,
    pub at_risk: AtRisk,
    /// A distress concern that may be urgent: the coach's word statistics
    /// read urgency that no rule confirmed. Shared work is not paused on a
    /// reading that may be wrong (the other partner would notice the pause
    /// right after the writer saved), but the therapist's notice says it may
    /// be urgent and the caseload lists it before every other distress flag.
    /// Always false for an urgent concern.
    #[serde(default)]
    pub may_be_urgent: bool,
}

impl Concern {
    pub fn new(tier: Tier, at_risk: AtRisk) -> Concern {
        Concern {
            tier,
            at_risk,
            may_be_urgent: false,
        }
    }

    /// A distress concern whose urgency is possible, not confirmed (an
    /// urgent one stays urgent).
    pub fn possibly_urgent(at_risk: AtRisk) -> Concern {
        Concern {
            tier: Tier::Distress,
            at_risk,
            may_be_urgent: true,
        }
    }

    /// How pressing it is: urgent, then distress that may be urgent, then
    /// distress.
    pub fn rank(self) -> (Tier, bool) {
        (self.tier, self.may_be_urgent && self.tier != Tier::Urgent)
    }

    /// Whether a flag raised for `self` already covers `other`: as pressing,
    /// and about everyone `other` puts at risk.
    pub fn covers(self, other: Concern) -> bool {
        self.rank() >= other.rank() && self.at_risk.and(other.at_risk) == self.at_risk
    }

    /// Several signs in one piece of writing or one check make one concern:
    /// the strongest tier, everyone who may be at risk.
    pub fn combine(concerns: impl IntoIterator<Item = Concern>) -> Option<Concern> {
        concerns.into_iter().reduce(|a, b| {
            let tier = a.tier.max(b.tier);
            Concern {
                tier,
                at_risk: a.at_risk.and(b.at_risk),
                may_be_urgent: tier != Tier::Urgent && (a.may_be_urgent || b.may_be_urgent),
            }
        })
    }
}

/// What Trellis does about a concern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// Help (helplines, what happens next) is shown to the person at once.
    pub show_help: bool,
    /// The couple's therapist gets a notice (if there is a therapist).
    pub notify_therapist: bool,
    /// The notice is marked urgent.
    pub urgent: bool,
    /// The notice says it may be urgent (a distress concern whose urgency
    /// is possible, not confirmed).
    pub may_be_urgent: bool,
    /// The couple's shared work waits until the therapist records a decision.
    pub close_shared_work: bool,
}

/// The one rule for every concern, whatever raised it.
pub fn respond(concern: Concern, guided: bool) -> Response {
    let urgent = concern.tier == Tier::Urgent;
    Response {
        show_help: true,
        notify_therapist: guided,
        urgent,
        may_be_urgent: concern.rank().1,
        // Only a therapist can lift it, so only guided couples are closed;
        // self-guided partners are offered their own pause instead.
        close_shared_work: urgent && guided,
    }
}

/// Whether the private safety check is due again: never taken, older than
/// the practice's interval, or asked for by the therapist since the last one.
pub fn rescreen_due(
    last_check_at: Option<i64>,
    requested_at: Option<i64>,
    interval_weeks: i64,
    now: i64,
) -> bool {
    const WEEK_MS: i64 = 7 * 24 * 60 * 60 * 1000;
    let Some(last) = last_check_at else {
        return true;
    };
    let interval = interval_weeks.max(1).saturating_mul(WEEK_MS);
    let stale = now.saturating_sub(last) >= interval;
    let requested = requested_at.is_some_and(|asked| asked > last);
    stale || requested
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cleared() -> PartnerFacts {
        PartnerFacts {
            decision: Some(Decision::ConjointOk),
            checked: true,
            paused: false,
        }
    }

    fn guided(partners: Vec<PartnerFacts>, open_urgent_flags: usize) -> GateFacts {
        GateFacts {
            guided: true,
            partners,
            open_urgent_flags,
        }
    }

    #[test]
    fn guided_couples_open_only_after_conjoint_ok_for_each_partner() {
        assert!(!shared_work_open(&guided(vec![], 0)));
        assert!(!shared_work_open(&guided(vec![cleared()], 0)));
        assert!(shared_work_open(&guided(vec![cleared(), cleared()], 0)));
        for decision in [
            None,
            Some(Decision::IndividualFirst),
            Some(Decision::ConjointContraindicated),
            Some(Decision::Referred),
        ] {
            let other = PartnerFacts {
                decision,
                ..cleared()
            };
            assert!(!shared_work_open(&guided(vec![cleared(), other], 0)));
        }
    }

    #[test]
    fn an_urgent_flag_closes_a_cleared_guided_couple_until_decided() {
        assert!(!shared_work_open(&guided(vec![cleared(), cleared()], 1)));
    }

    #[test]
    fn either_partner_may_pause_any_couple() {
        let paused = PartnerFacts {
            paused: true,
            ..cleared()
        };
        assert!(!shared_work_open(&guided(vec![cleared(), paused], 0)));
        let self_guided = GateFacts {
            guided: false,
            partners: vec![paused, cleared()],
            open_urgent_flags: 0,
        };
        assert!(!shared_work_open(&self_guided));
    }

    #[test]
    fn self_guided_couples_open_once_both_took_the_check_whatever_they_answered() {
        let checked = PartnerFacts {
            decision: None,
            checked: true,
            paused: false,
        };
        let unchecked = PartnerFacts {
            checked: false,
            ..checked
        };
        let facts = |partners, open_urgent_flags| GateFacts {
            guided: false,
            partners,
            open_urgent_flags,
        };
        assert!(shared_work_open(&facts(vec![checked, checked], 0)));
        assert!(!shared_work_open(&facts(vec![checked, unchecked], 0)));
        // flags never reach a self-guided gate: no one could lift them, and
        // a closed gate would tell the other partner who disclosed
        assert!(shared_work_open(&facts(vec![checked, checked], 3)));
    }

    #[test]
    fn the_gate_does_not_depend_on_what_the_other_partner_disclosed() {
        // Before screening, a couple where one partner raised an urgent
        // concern and a couple where no one did look the same.
        let waiting = PartnerFacts {
            decision: None,
            checked: true,
            paused: false,
        };
        assert_eq!(
            shared_work_open(&guided(vec![waiting, waiting], 1)),
            shared_work_open(&guided(vec![waiting, waiting], 0)),
        );
    }

    #[test]
    fn distress_notifies_without_closing_and_urgent_closes_guided_couples() {
        let distress = Concern::new(Tier::Distress, AtRisk::Themselves);
        let response = respond(distress, true);
        assert!(response.show_help && response.notify_therapist);
        assert!(!response.urgent && !response.close_shared_work);
        let urgent = Concern::new(Tier::Urgent, AtRisk::Partner);
        let response = respond(urgent, true);
        assert!(response.urgent && response.close_shared_work);
        let alone = respond(urgent, false);
        assert!(alone.show_help && !alone.notify_therapist && !alone.close_shared_work);
    }

    #[test]
    fn concerns_combine_to_the_strongest_tier_and_everyone_at_risk() {
        let combined = Concern::combine([
            Concern::new(Tier::Distress, AtRisk::Themselves),
            Concern::new(Tier::Urgent, AtRisk::Partner),
        ]);
        assert_eq!(combined, Some(Concern::new(Tier::Urgent, AtRisk::Both)));
        assert_eq!(Concern::combine([]), None);
        assert!(AtRisk::Both.includes_themselves() && AtRisk::Both.includes_partner());
        assert!(!AtRisk::Partner.includes_themselves());
    }

    #[test]
    fn a_possibly_urgent_concern_ranks_between_distress_and_urgent() {
        let distress = Concern::new(Tier::Distress, AtRisk::Themselves);
        let maybe = Concern::possibly_urgent(AtRisk::Themselves);
        let urgent = Concern::new(Tier::Urgent, AtRisk::Themselves);
        assert!(distress.rank() < maybe.rank() && maybe.rank() < urgent.rank());
        // an urgent concern is never "possibly" urgent
        let confirmed = Concern {
            may_be_urgent: true,
            ..urgent
        };
        assert_eq!(confirmed.rank(), urgent.rank());
        // combining keeps the possibility only below a confirmed urgency
        assert_eq!(Concern::combine([distress, maybe]), Some(maybe));
        let both = Concern::combine([maybe, Concern::new(Tier::Urgent, AtRisk::Partner)]);
        assert_eq!(
            both,
            Some(Concern::new(Tier::Urgent, AtRisk::Both)),
            "{both:?}"
        );
        // a flag covers what is no more pressing and about no one else
        assert!(maybe.covers(distress) && maybe.covers(maybe) && !maybe.covers(urgent));
        assert!(!distress.covers(maybe));
        assert!(!maybe.covers(Concern::possibly_urgent(AtRisk::Partner)));
        // the notice says so; nothing closes
        let response = respond(maybe, true);
        assert!(response.may_be_urgent && !response.urgent && !response.close_shared_work);
        assert!(!respond(distress, true).may_be_urgent);
        assert!(!respond(urgent, true).may_be_urgent);
    }

    #[test]
    fn rescreening_is_due_when_never_taken_stale_or_requested() {
        let week = 7 * 24 * 60 * 60 * 1000;
        assert!(rescreen_due(None, None, 8, 0));
        assert!(!rescreen_due(Some(0), None, 8, 8 * week - 1));
        assert!(rescreen_due(Some(0), None, 8, 8 * week));
        assert!(rescreen_due(Some(10), Some(11), 8, 12));
        assert!(!rescreen_due(Some(10), Some(9), 8, 12));
        // a nonsense interval still means "sometimes", never "constantly"
        assert!(!rescreen_due(Some(0), None, 0, week - 1));
    }

    #[test]
    fn decisions_and_tiers_round_trip_their_names() {
        for decision in Decision::ALL {
            assert_eq!(Decision::parse(decision.as_str()), Some(decision));
        }
        assert_eq!(Decision::parse("ok"), None);
        assert_eq!(Tier::parse("urgent"), Some(Tier::Urgent));
        assert_eq!(AtRisk::parse("both"), Some(AtRisk::Both));
    }
}
