//! The visibility rules of Trellis, in one place: who may see what.
//!
//! Every read path asks [`may_view`]; storage queries select by the
//! audiences that [`visible_audiences`] derives from the same rule, so the
//! SQL and the rule cannot disagree. The table in `DESIGN.md` reads
//! straight off the tests at the bottom of this file.

use serde::{Deserialize, Serialize};

use crate::{CoupleId, Role, UserId};

/// Who the author of a piece of writing chose to show it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Only the author. The default: nothing is shared silently.
    #[default]
    Me,
    /// The author and the couple's therapist.
    Therapist,
    /// The author and their partner.
    Partner,
    /// The author, their partner and the couple's therapist.
    PartnerAndTherapist,
}

impl Audience {
    pub const ALL: [Audience; 4] = [
        Audience::Me,
        Audience::Therapist,
        Audience::Partner,
        Audience::PartnerAndTherapist,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Me => "me",
            Audience::Therapist => "therapist",
            Audience::Partner => "partner",
            Audience::PartnerAndTherapist => "partner_and_therapist",
        }
    }

    pub fn parse(value: &str) -> Option<Audience> {
        Audience::ALL.into_iter().find(|a| a.as_str() == value)
    }

    /// In plain words, next to what someone writes.
    pub fn describe(self) -> &'static str {
        match self {
            Audience::Me => "Only you can see this.",
            Audience::Therapist => "You and your therapist can see this. Your partner cannot.",
            Audience::Partner => "You and your partner can see this. Your therapist cannot.",
            Audience::PartnerAndTherapist => "You, your partner and your therapist can see this.",
        }
    }

    /// Who can see it, said to someone who did not write it (a partner or
    /// the therapist), so nobody reads "you" meaning someone else.
    pub fn describe_to_reader(self, author: &str) -> String {
        match self {
            Audience::Me => format!("Only {author} can see this."),
            Audience::Therapist => {
                format!("{author} shared this with you; their partner cannot see it.")
            }
            Audience::Partner => {
                format!("{author} shared this with you; their therapist cannot see it.")
            }
            Audience::PartnerAndTherapist => {
                format!("{author} shared this with their partner and their therapist.")
            }
        }
    }

    /// A short label for choices and lists.
    pub fn label(self) -> &'static str {
        match self {
            Audience::Me => "Only me",
            Audience::Therapist => "My therapist",
            Audience::Partner => "My partner",
            Audience::PartnerAndTherapist => "My partner and my therapist",
        }
    }

    fn includes_partner(self) -> bool {
        matches!(self, Audience::Partner | Audience::PartnerAndTherapist)
    }

    fn includes_therapist(self) -> bool {
        matches!(self, Audience::Therapist | Audience::PartnerAndTherapist)
    }
}

/// How the person looking stands to the thing they look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// They wrote it (for a therapist's note: they are the note's therapist).
    Author,
    /// They wrote it but no longer belong to its couple: a partner who left,
    /// a therapist who no longer guides the couple. Their own writing stays
    /// theirs; what the couple made together stays with the couple.
    AuthorWhoLeft,
    /// The other partner of the author's couple.
    Partner,
    /// The therapist who guides the couple.
    CoupleTherapist,
    /// The one person the writing is addressed to: the partner a therapist
    /// writes to in their private thread.
    Addressee,
    /// Anyone else: another couple, another therapist, any admin.
    Outsider,
}

/// What is being looked at, with the facts the rule needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// Client writing with an audience: journal entries, exercise answers,
    /// openness log entries, appreciations, messages.
    Writing { audience: Audience },
    /// An answer to a paired exercise: both answer privately, and the partner
    /// sees this one only once they have answered too.
    PairedAnswer {
        audience: Audience,
        reader_has_answered: bool,
    },
    /// A partner's private safety screening.
    SafetyScreening,
    /// A partner's measure scores.
    MeasureScores {
        shared_with_partner: bool,
        therapist_consent: bool,
    },
    /// A therapist's private notes about a couple.
    TherapistNote,
    /// What the couple does together: structured talks, promises, agreements.
    Joint { therapist_may_read: bool },
}

/// The rule. Admins are never readers of client material: running a practice
/// does not need it.
pub fn may_view(relation: Relation, item: Item) -> bool {
    match (item, relation) {
        (_, Relation::Outsider) => false,
        (Item::TherapistNote, relation) => {
            matches!(relation, Relation::Author | Relation::AuthorWhoLeft)
        }
        (Item::Joint { .. }, Relation::AuthorWhoLeft) => false,
        (_, Relation::Author | Relation::AuthorWhoLeft) => true,
        // Only writing is ever addressed to someone.
        (Item::Writing { .. }, Relation::Addressee) => true,
        (_, Relation::Addressee) => false,
        (Item::Writing { audience }, Relation::Partner) => audience.includes_partner(),
        (Item::Writing { audience }, Relation::CoupleTherapist) => audience.includes_therapist(),
        (
            Item::PairedAnswer {
                audience,
                reader_has_answered,
            },
            Relation::Partner,
        ) => audience.includes_partner() && reader_has_answered,
        (Item::PairedAnswer { audience, .. }, Relation::CoupleTherapist) => {
            audience.includes_therapist()
        }
        (Item::SafetyScreening, Relation::Partner) => false,
        (Item::SafetyScreening, Relation::CoupleTherapist) => true,
        (
            Item::MeasureScores {
                shared_with_partner,
                ..
            },
            Relation::Partner,
        ) => shared_with_partner,
        (
            Item::MeasureScores {
                therapist_consent, ..
            },
            Relation::CoupleTherapist,
        ) => therapist_consent,
        (Item::Joint { .. }, Relation::Partner) => true,
        (Item::Joint { therapist_may_read }, Relation::CoupleTherapist) => therapist_may_read,
    }
}

/// The audiences of writing that someone with this relation may read; the
/// store selects rows with exactly these.
pub fn visible_audiences(relation: Relation) -> Vec<Audience> {
    Audience::ALL
        .into_iter()
        .filter(|&audience| may_view(relation, Item::Writing { audience }))
        .collect()
}

/// The facts about a viewer that decide their relation to a couple's item.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub user_id: &'a UserId,
    pub role: Role,
    /// The viewer's couple, for a partner.
    pub couple_id: Option<&'a CoupleId>,
}

/// The facts about where an item belongs.
#[derive(Debug, Clone, Copy)]
pub struct Ownership<'a> {
    pub author_id: &'a UserId,
    pub couple_id: &'a CoupleId,
    /// The therapist guiding that couple, if any.
    pub couple_therapist_id: Option<&'a UserId>,
    /// The one person it is addressed to, if any (a private message).
    pub addressed_to: Option<&'a UserId>,
}

/// How the viewer stands to the item. Membership is asked before
/// authorship: having written something never brings anyone back into a
/// couple they left.
pub fn relation(viewer: Viewer<'_>, item: Ownership<'_>) -> Relation {
    let member = match viewer.role {
        Role::Partner => viewer.couple_id == Some(item.couple_id),
        Role::Therapist => item.couple_therapist_id == Some(viewer.user_id),
        Role::Admin => false,
    };
    if viewer.user_id == item.author_id {
        return if member {
            Relation::Author
        } else {
            Relation::AuthorWhoLeft
        };
    }
    if item.addressed_to == Some(viewer.user_id) {
        return Relation::Addressee;
    }
    match viewer.role {
        _ if !member => Relation::Outsider,
        Role::Partner => Relation::Partner,
        Role::Therapist => Relation::CoupleTherapist,
        Role::Admin => Relation::Outsider,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn readers_who_did_not_write_it_are_told_in_their_own_terms() {
        assert_eq!(
            Audience::Partner.describe_to_reader("Alex"),
            "Alex shared this with you; their therapist cannot see it."
        );
        for audience in Audience::ALL {
            let said = audience.describe_to_reader("Alex");
            assert!(said.starts_with("Alex ") || said.starts_with("Only Alex"));
            assert!(!said.contains("your "), "{said}");
        }
    }

    use super::*;
    use Relation::*;

    fn writing(audience: Audience) -> Item {
        Item::Writing { audience }
    }

    /// Ids live for the whole test run (leaked): the tables below read as
    /// plain names.
    fn u(id: &str) -> &'static UserId {
        Box::leak(Box::new(UserId::new(id)))
    }

    fn c(id: &str) -> &'static CoupleId {
        Box::leak(Box::new(CoupleId::new(id)))
    }

    fn viewer(user_id: &str, role: Role, couple_id: Option<&str>) -> Viewer<'static> {
        Viewer {
            user_id: u(user_id),
            role,
            couple_id: couple_id.map(c),
        }
    }

    /// DESIGN.md, "Visibility rules": one row per line.
    #[test]
    fn the_visibility_table() {
        let rows: [(Item, bool, bool, bool); 6] = [
            //  item                                     author partner therapist
            (writing(Audience::Me), true, false, false),
            (writing(Audience::Therapist), true, false, true),
            (writing(Audience::Partner), true, true, false),
            (writing(Audience::PartnerAndTherapist), true, true, true),
            (Item::SafetyScreening, true, false, true),
            (
                Item::Joint {
                    therapist_may_read: true,
                },
                true,
                true,
                true,
            ),
        ];
        for (item, author, partner, therapist) in rows {
            assert_eq!(may_view(Author, item), author, "author: {item:?}");
            assert_eq!(may_view(Partner, item), partner, "partner: {item:?}");
            assert_eq!(
                may_view(CoupleTherapist, item),
                therapist,
                "therapist: {item:?}"
            );
            assert!(!may_view(Outsider, item), "outsider: {item:?}");
        }
    }

    #[test]
    fn scores_reach_the_partner_only_if_shared_and_the_therapist_only_with_consent() {
        for shared in [false, true] {
            for consent in [false, true] {
                let item = Item::MeasureScores {
                    shared_with_partner: shared,
                    therapist_consent: consent,
                };
                assert!(may_view(Author, item));
                assert_eq!(may_view(Partner, item), shared);
                assert_eq!(may_view(CoupleTherapist, item), consent);
                assert!(!may_view(Outsider, item));
            }
        }
    }

    #[test]
    fn paired_answers_wait_until_both_have_answered() {
        for audience in [Audience::Partner, Audience::PartnerAndTherapist] {
            let waiting = Item::PairedAnswer {
                audience,
                reader_has_answered: false,
            };
            let both = Item::PairedAnswer {
                audience,
                reader_has_answered: true,
            };
            assert!(may_view(Author, waiting));
            assert!(
                !may_view(Partner, waiting),
                "hidden until the partner answers"
            );
            assert!(may_view(Partner, both));
            assert_eq!(
                may_view(CoupleTherapist, waiting),
                audience == Audience::PartnerAndTherapist
            );
            assert!(!may_view(Outsider, both));
        }
        let kept_private = Item::PairedAnswer {
            audience: Audience::Me,
            reader_has_answered: true,
        };
        assert!(!may_view(Partner, kept_private));
    }

    #[test]
    fn a_therapists_notes_are_for_that_therapist_alone() {
        assert!(may_view(Author, Item::TherapistNote));
        for other in [Partner, CoupleTherapist, Outsider] {
            assert!(!may_view(other, Item::TherapistNote), "{other:?}");
        }
    }

    #[test]
    fn a_couple_can_close_a_joint_record_to_the_therapist() {
        let closed = Item::Joint {
            therapist_may_read: false,
        };
        assert!(may_view(Author, closed));
        assert!(may_view(Partner, closed));
        assert!(!may_view(CoupleTherapist, closed));
    }

    #[test]
    fn visible_audiences_follow_the_rule() {
        assert_eq!(visible_audiences(Author), Audience::ALL.to_vec());
        assert_eq!(
            visible_audiences(Partner),
            vec![Audience::Partner, Audience::PartnerAndTherapist]
        );
        assert_eq!(
            visible_audiences(CoupleTherapist),
            vec![Audience::Therapist, Audience::PartnerAndTherapist]
        );
        assert!(visible_audiences(Outsider).is_empty());
    }

    #[test]
    fn relations_are_derived_from_ids_not_roles_alone() {
        let couple = Ownership {
            author_id: u("alex"),
            couple_id: c("c1"),
            couple_therapist_id: Some(u("priya")),
            addressed_to: None,
        };
        assert_eq!(
            relation(viewer("alex", Role::Partner, Some("c1")), couple),
            Author
        );
        assert_eq!(
            relation(viewer("sam", Role::Partner, Some("c1")), couple),
            Partner
        );
        assert_eq!(
            relation(viewer("jordan", Role::Partner, Some("c2")), couple),
            Outsider
        );
        assert_eq!(
            relation(viewer("lonely", Role::Partner, None), couple),
            Outsider
        );
        assert_eq!(
            relation(viewer("priya", Role::Therapist, None), couple),
            CoupleTherapist
        );
        assert_eq!(
            relation(viewer("tom", Role::Therapist, None), couple),
            Outsider
        );
        assert_eq!(
            relation(viewer("morgan", Role::Admin, None), couple),
            Outsider
        );
        // A therapist id in a partner's role (or the reverse) grants nothing.
        assert_eq!(
            relation(viewer("priya", Role::Partner, Some("c9")), couple),
            Outsider
        );
        let self_guided = Ownership {
            couple_therapist_id: None,
            ..couple
        };
        assert_eq!(
            relation(viewer("priya", Role::Therapist, None), self_guided),
            Outsider
        );
    }

    #[test]
    fn leaving_a_couple_leaves_its_joint_records_behind() {
        let talk = Ownership {
            author_id: u("sam"),
            couple_id: c("c1"),
            couple_therapist_id: Some(u("priya")),
            addressed_to: None,
        };
        // Sam opened the talk, then left for a couple of their own.
        let sam = relation(viewer("sam", Role::Partner, Some("c7")), talk);
        assert_eq!(sam, AuthorWhoLeft);
        for therapist_may_read in [false, true] {
            assert!(!may_view(sam, Item::Joint { therapist_may_read }));
        }
        // Their own writing and scores stay theirs.
        for audience in Audience::ALL {
            assert!(may_view(sam, writing(audience)));
        }
        assert!(may_view(
            sam,
            Item::MeasureScores {
                shared_with_partner: false,
                therapist_consent: false
            }
        ));
        // A therapist the couple was moved away from keeps their own notes
        // but no longer reads the couple's joint work.
        let moved = relation(
            viewer("tom", Role::Therapist, None),
            Ownership {
                author_id: u("tom"),
                ..talk
            },
        );
        assert_eq!(moved, AuthorWhoLeft);
        assert!(may_view(moved, Item::TherapistNote));
        assert!(!may_view(
            moved,
            Item::Joint {
                therapist_may_read: true
            }
        ));
        let admin = relation(
            viewer("morgan", Role::Admin, None),
            Ownership {
                author_id: u("morgan"),
                ..talk
            },
        );
        assert!(!may_view(
            admin,
            Item::Joint {
                therapist_may_read: true
            }
        ));
    }

    #[test]
    fn audiences_round_trip_and_default_to_me() {
        for audience in Audience::ALL {
            assert_eq!(Audience::parse(audience.as_str()), Some(audience));
            assert!(!audience.describe().is_empty());
        }
        assert_eq!(Audience::default(), Audience::Me);
        assert_eq!(Audience::parse("everyone"), None);
    }

    #[test]
    fn writing_addressed_to_someone_reaches_them_and_no_one_else() {
        // A therapist's private message to partner A: sealed for the
        // therapist's audience, addressed to A.
        let message = Ownership {
            author_id: u("therapist"),
            couple_id: c("c1"),
            couple_therapist_id: Some(u("therapist")),
            addressed_to: Some(u("a")),
        };
        let item = writing(Audience::Therapist);
        let a = relation(viewer("a", Role::Partner, Some("c1")), message);
        let b = relation(viewer("b", Role::Partner, Some("c1")), message);
        let other = relation(viewer("t2", Role::Therapist, None), message);
        assert_eq!(a, Addressee);
        assert!(may_view(a, item));
        assert_eq!(b, Partner);
        assert!(!may_view(b, item), "the other partner never reads it");
        assert!(!may_view(other, item));
        assert!(!may_view(Addressee, Item::TherapistNote));
        assert!(!may_view(Addressee, Item::SafetyScreening));
    }
}
