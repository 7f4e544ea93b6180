use serde::{Deserialize, Serialize};

/// What a person is to the practice. One account has exactly one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the practice: therapists, settings, intake.
    Admin,
    /// Guides couples.
    Therapist,
    /// One of the two people in a couple.
    Partner,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Therapist, Role::Partner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Therapist => "therapist",
            Role::Partner => "partner",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == value)
    }

    /// Staff see other people's shared work and so are held to stricter
    /// session rules than clients.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Therapist)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn unknown_names_are_not_roles() {
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse(""), None);
        assert_eq!(Role::parse("client"), None);
    }

    #[test]
    fn only_admins_and_therapists_are_staff() {
        assert!(Role::Admin.is_staff());
        assert!(Role::Therapist.is_staff());
        assert!(!Role::Partner.is_staff());
    }
}
