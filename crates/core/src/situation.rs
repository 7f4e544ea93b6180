//! What kind of breach of trust a couple is working on, and which role each
//! partner has in it. After one partner broke trust, the partner who was hurt
//! and the partner who broke it need different prompts (asking the hurt
//! partner to share the blame before any atonement does harm); when both were
//! hurt, or trust wore down without one breach, both see the same words.

use serde::{Deserialize, Serialize};

/// The couple's situation, set by their therapist (or agreed by both
/// partners of a self-guided couple).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Situation {
    /// One partner was hurt by the other's breach (an affair, lies, hidden money).
    OneHurt,
    /// Both hurt each other.
    BothHurt,
    /// Trust wore down without one breach.
    Eroded,
}

impl Situation {
    pub const ALL: [Situation; 3] = [Situation::OneHurt, Situation::BothHurt, Situation::Eroded];

    pub fn as_str(self) -> &'static str {
        match self {
            Situation::OneHurt => "one_hurt",
            Situation::BothHurt => "both_hurt",
            Situation::Eroded => "eroded",
        }
    }

    pub fn parse(value: &str) -> Option<Situation> {
        Situation::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// How the situation reads on a page.
    pub fn label(self) -> &'static str {
        match self {
            Situation::OneHurt => "One of us was hurt by the other's breach of trust",
            Situation::BothHurt => "We have both been hurt",
            Situation::Eroded => "Trust wore down over time, without one breach",
        }
    }
}

/// A partner's role when one partner was hurt by the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerRole {
    /// The partner who was hurt.
    Hurt,
    /// The partner who broke trust.
    Involved,
}

impl PartnerRole {
    pub fn as_str(self) -> &'static str {
        match self {
            PartnerRole::Hurt => "hurt",
            PartnerRole::Involved => "involved",
        }
    }

    pub fn parse(value: &str) -> Option<PartnerRole> {
        [PartnerRole::Hurt, PartnerRole::Involved]
            .into_iter()
            .find(|r| r.as_str() == value)
    }
}

/// A couple's situation as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoupleSituation {
    pub kind: Situation,
    /// Set exactly when `kind` is `OneHurt`.
    pub hurt_partner_id: Option<String>,
}

impl CoupleSituation {
    /// Checks that a hurt partner is named when, and only when, one partner
    /// was hurt, and that it is one of the couple's partners.
    pub fn new(
        kind: Situation,
        hurt_partner_id: Option<&str>,
        partners: &[&str],
    ) -> Result<CoupleSituation, &'static str> {
        let hurt = hurt_partner_id.map(str::trim).filter(|id| !id.is_empty());
        match (kind, hurt) {
            (Situation::OneHurt, None) => Err("Please say which partner was hurt."),
            (Situation::OneHurt, Some(id)) if !partners.contains(&id) => {
                Err("Please choose one of the couple's partners.")
            }
            (Situation::OneHurt, Some(id)) => Ok(CoupleSituation {
                kind,
                hurt_partner_id: Some(id.to_owned()),
            }),
            (_, Some(_)) => Err("Only name a hurt partner when one partner was hurt by the other."),
            (_, None) => Ok(CoupleSituation {
                kind,
                hurt_partner_id: None,
            }),
        }
    }

    /// The role of one partner: only one-hurt couples have roles.
    pub fn role_of(&self, user_id: &str) -> Option<PartnerRole> {
        let hurt = self.hurt_partner_id.as_deref()?;
        (self.kind == Situation::OneHurt).then(|| {
            if hurt == user_id {
                PartnerRole::Hurt
            } else {
                PartnerRole::Involved
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hurt_needs_one_of_the_partners_and_gives_each_a_role() {
        let partners = ["sam", "alex"];
        assert!(CoupleSituation::new(Situation::OneHurt, None, &partners).is_err());
        assert!(CoupleSituation::new(Situation::OneHurt, Some("tom"), &partners).is_err());
        let one = CoupleSituation::new(Situation::OneHurt, Some("sam"), &partners).unwrap();
        assert_eq!(one.role_of("sam"), Some(PartnerRole::Hurt));
        assert_eq!(one.role_of("alex"), Some(PartnerRole::Involved));
    }

    #[test]
    fn other_situations_have_no_roles_and_name_no_one() {
        let partners = ["sam", "alex"];
        assert!(CoupleSituation::new(Situation::Eroded, Some("sam"), &partners).is_err());
        for kind in [Situation::BothHurt, Situation::Eroded] {
            let situation = CoupleSituation::new(kind, None, &partners).unwrap();
            assert_eq!(situation.role_of("sam"), None);
            assert_eq!(situation.role_of("alex"), None);
        }
        for kind in Situation::ALL {
            assert_eq!(Situation::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(PartnerRole::parse("hurt"), Some(PartnerRole::Hurt));
        assert_eq!(Situation::parse("affair"), None);
    }
}
