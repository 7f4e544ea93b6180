//! Who may call which route: each route declares an [`Access`] once, and
//! [`expected_outcome`] says what every kind of caller must get. The
//! authorization-matrix test calls every route as every kind of caller and
//! compares with this, so a new route cannot ship without a declared rule.

use crate::Role;
use crate::privacy::Relation;

/// The rule a route is declared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (sign-in, invitations, health).
    Public,
    /// Anyone signed in; what they get is their own or what they may see.
    SignedIn,
    /// Only people with this role.
    Role(Role),
    /// A practice's staff: its admins and therapists (the intake inbox).
    Staff,
    /// People in a couple's work: partners and therapists, not admins
    /// (message threads).
    PartnerOrTherapist,
    /// A piece of writing named in the path: whoever may see it.
    /// (Tested with a private entry, which only its author may see.)
    Writing,
    /// A couple named in the path: only the therapist who guides it.
    CoupleTherapist,
    /// A couple named in the path: its two partners and its therapist.
    Couple,
}

/// What a caller must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The route does its work (which may still refuse bad input).
    Allowed,
    /// Asked to sign in (401, or a redirect to the sign-in page).
    Unauthenticated,
    /// 403: the caller's role may not use this route.
    Forbidden,
    /// 404: the thing exists, but not for this caller.
    NotFound,
}

/// A caller as the matrix sees them: their role (none when anonymous) and
/// how they stand to the couple whose item the path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub role: Option<Role>,
    pub relation: Relation,
}

pub fn expected_outcome(access: Access, caller: Caller) -> Outcome {
    let Some(role) = caller.role else {
        return if access == Access::Public {
            Outcome::Allowed
        } else {
            Outcome::Unauthenticated
        };
    };
    match access {
        Access::Public | Access::SignedIn => Outcome::Allowed,
        Access::Role(required) if role == required => Outcome::Allowed,
        Access::Role(_) => Outcome::Forbidden,
        Access::Staff if role == Role::Partner => Outcome::Forbidden,
        Access::Staff => Outcome::Allowed,
        Access::PartnerOrTherapist if role == Role::Admin => Outcome::Forbidden,
        Access::PartnerOrTherapist => Outcome::Allowed,
        Access::Writing
            if matches!(caller.relation, Relation::Author | Relation::AuthorWhoLeft) =>
        {
            Outcome::Allowed
        }
        Access::Writing => Outcome::NotFound,
        Access::CoupleTherapist if role != Role::Therapist => Outcome::Forbidden,
        Access::CoupleTherapist if caller.relation == Relation::CoupleTherapist => Outcome::Allowed,
        Access::CoupleTherapist => Outcome::NotFound,
        Access::Couple => match caller.relation {
            Relation::Author
            | Relation::Partner
            | Relation::CoupleTherapist
            | Relation::Addressee => Outcome::Allowed,
            Relation::Outsider | Relation::AuthorWhoLeft => Outcome::NotFound,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Option<Role>, relation: Relation) -> Caller {
        Caller { role, relation }
    }

    #[test]
    fn anonymous_callers_reach_only_public_routes() {
        let anonymous = caller(None, Relation::Outsider);
        assert_eq!(
            expected_outcome(Access::Public, anonymous),
            Outcome::Allowed
        );
        for access in [
            Access::SignedIn,
            Access::Role(Role::Admin),
            Access::Writing,
            Access::CoupleTherapist,
        ] {
            assert_eq!(
                expected_outcome(access, anonymous),
                Outcome::Unauthenticated,
                "{access:?}"
            );
        }
    }

    #[test]
    fn role_routes_refuse_other_roles_with_403() {
        let partner = caller(Some(Role::Partner), Relation::Partner);
        assert_eq!(
            expected_outcome(Access::Role(Role::Partner), partner),
            Outcome::Allowed
        );
        assert_eq!(
            expected_outcome(Access::Role(Role::Therapist), partner),
            Outcome::Forbidden
        );
        assert_eq!(
            expected_outcome(Access::Role(Role::Admin), partner),
            Outcome::Forbidden
        );
    }

    #[test]
    fn private_writing_is_a_404_for_everyone_but_its_author() {
        assert_eq!(
            expected_outcome(
                Access::Writing,
                caller(Some(Role::Partner), Relation::Author)
            ),
            Outcome::Allowed
        );
        for (role, relation) in [
            (Role::Partner, Relation::Partner),
            (Role::Partner, Relation::Outsider),
            (Role::Therapist, Relation::CoupleTherapist),
            (Role::Therapist, Relation::Outsider),
            (Role::Admin, Relation::Outsider),
        ] {
            assert_eq!(
                expected_outcome(Access::Writing, caller(Some(role), relation)),
                Outcome::NotFound,
                "{role:?} {relation:?}"
            );
        }
    }

    #[test]
    fn a_couples_journey_is_for_the_couple_and_its_therapist() {
        for relation in [Relation::Author, Relation::Partner] {
            assert_eq!(
                expected_outcome(Access::Couple, caller(Some(Role::Partner), relation)),
                Outcome::Allowed
            );
        }
        assert_eq!(
            expected_outcome(
                Access::Couple,
                caller(Some(Role::Therapist), Relation::CoupleTherapist)
            ),
            Outcome::Allowed
        );
        for role in [Role::Partner, Role::Therapist, Role::Admin] {
            assert_eq!(
                expected_outcome(Access::Couple, caller(Some(role), Relation::Outsider)),
                Outcome::NotFound
            );
        }
    }

    #[test]
    fn a_couple_page_is_for_its_therapist() {
        let access = Access::CoupleTherapist;
        assert_eq!(
            expected_outcome(
                access,
                caller(Some(Role::Therapist), Relation::CoupleTherapist)
            ),
            Outcome::Allowed
        );
        assert_eq!(
            expected_outcome(access, caller(Some(Role::Therapist), Relation::Outsider)),
            Outcome::NotFound
        );
        assert_eq!(
            expected_outcome(access, caller(Some(Role::Partner), Relation::Author)),
            Outcome::Forbidden
        );
        assert_eq!(
            expected_outcome(access, caller(Some(Role::Admin), Relation::Outsider)),
            Outcome::Forbidden
        );
    }

    #[test]
    fn staff_routes_are_for_admins_and_therapists() {
        for (role, outcome) in [
            (Role::Admin, Outcome::Allowed),
            (Role::Therapist, Outcome::Allowed),
            (Role::Partner, Outcome::Forbidden),
        ] {
            assert_eq!(
                expected_outcome(Access::Staff, caller(Some(role), Relation::Outsider)),
                outcome
            );
        }
        assert_eq!(
            expected_outcome(Access::Staff, caller(None, Relation::Outsider)),
            Outcome::Unauthenticated
        );
        for (role, outcome) in [
            (Role::Admin, Outcome::Forbidden),
            (Role::Therapist, Outcome::Allowed),
            (Role::Partner, Outcome::Allowed),
        ] {
            assert_eq!(
                expected_outcome(
                    Access::PartnerOrTherapist,
                    caller(Some(role), Relation::Outsider)
                ),
                outcome
            );
        }
    }
}
