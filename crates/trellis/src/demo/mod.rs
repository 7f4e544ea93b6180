//! The demo practice: the shop window. Seeded only into an empty database,
//! through the same store operations real use goes through, with history
//! spread over past weeks.

use anyhow::Context;
use trellis_core::Millis;
use trellis_core::time::DAY;
use trellis_crypto::SecretToken;
use trellis_store::{NewPartner, NewPracticeWithAdmin, NewScreeningDecision, Store, User};

pub struct DemoAccount {
    pub email: &'static str,
    pub description: &'static str,
}

/// The demo's sign-ins, in the order they are printed.
pub const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        email: "admin@example.com",
        description: "practice admin",
    },
    DemoAccount {
        email: "therapist@example.com",
        description: "therapist of Alex & Sam",
    },
    DemoAccount {
        email: "alex@example.com",
        description: "partner (with Sam)",
    },
    DemoAccount {
        email: "sam@example.com",
        description: "partner (with Alex)",
    },
    DemoAccount {
        email: "therapist2@example.com",
        description: "therapist of Jordan & Riley",
    },
    DemoAccount {
        email: "jordan@example.com",
        description: "partner (with Riley)",
    },
    DemoAccount {
        email: "riley@example.com",
        description: "partner (with Jordan)",
    },
];

/// Fills an empty database with the demo practice. Returns false (and
/// changes nothing) when the database already holds data.
pub async fn seed_if_empty(store: &Store, password: &str, now: Millis) -> anyhow::Result<bool> {
    if !store.is_empty().await? {
        return Ok(false);
    }
    let hash = trellis_crypto::hash_password(password).context("hashing the demo password")?;
    seed(store, &hash, now).await?;
    Ok(true)
}

async fn therapist(
    store: &Store,
    admin: &User,
    email: &str,
    name: &str,
    at: Millis,
) -> anyhow::Result<User> {
    let token = SecretToken::generate();
    store
        .create_therapist_invitation(admin, email, name, token.hash().as_str(), at, at + 7 * DAY)
        .await?;
    let code = crate::demo::practice_code(name);
    let accepted = store
        .accept_invitation(
            token.hash().as_str(),
            name,
            hash_placeholder(),
            Some(&code),
            at + DAY / 3,
        )
        .await?;
    Ok(accepted.user)
}

/// Accounts are created with a placeholder and given the real hash after,
/// so every demo account shares one (slow) hash computation.
fn hash_placeholder() -> &'static str {
    "$demo$unset"
}

fn practice_code(name: &str) -> String {
    let letters: String = name
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .filter(|c| !matches!(c, 'I' | 'O'))
        .chain("TRELLISX".chars())
        .take(4)
        .collect();
    format!("{letters}-2026")
}

struct CoupleSeed<'a> {
    partners: [(&'a str, &'a str); 2],
    started_days_ago: i64,
    joined: bool,
    /// The therapist saw each partner alone in the first week and cleared
    /// them for joint work.
    screened: bool,
}

async fn couple(
    store: &Store,
    therapist: &User,
    seed: CoupleSeed<'_>,
    now: Millis,
) -> anyhow::Result<Vec<User>> {
    let started = now - seed.started_days_ago * DAY;
    let tokens = [SecretToken::generate(), SecretToken::generate()];
    let hashes = [tokens[0].hash(), tokens[1].hash()];
    let partners: Vec<NewPartner<'_>> = seed
        .partners
        .iter()
        .zip(&hashes)
        .map(|((email, name), hash)| NewPartner {
            email,
            name,
            token_hash: hash.as_str(),
        })
        .collect();
    let (created, _) = store
        .create_couple_with_invitations(therapist, &partners, started, started + 7 * DAY)
        .await?;
    let mut users = Vec::new();
    if seed.joined {
        for (offset, (hash, (_, name))) in hashes.iter().zip(seed.partners).enumerate() {
            let joined_at = started + DAY / 2 + i64::try_from(offset)? * DAY;
            let accepted = store
                .accept_invitation(hash.as_str(), name, hash_placeholder(), None, joined_at)
                .await?;
            users.push(accepted.user);
        }
    }
    if seed.screened {
        for partner in &users {
            store
                .record_screening_decision(NewScreeningDecision {
                    couple_id: &created.id,
                    user_id: &partner.id,
                    decision: "conjoint_ok",
                    sealed_note: None,
                    decided_by: &therapist.id,
                    flag_id: None,
                    now: started + 5 * DAY,
                })
                .await?;
        }
    }
    Ok(users)
}

async fn seed(store: &Store, password_hash: &str, now: Millis) -> anyhow::Result<()> {
    let (_, admin) = store
        .create_practice_with_admin(NewPracticeWithAdmin {
            practice_name: "Riverside Couples Practice",
            admin_email: "admin@example.com",
            admin_name: "Morgan Ellis",
            password_hash,
            setup_token_hash: None,
            now: now - 70 * DAY,
        })
        .await?;
    store
        .update_practice(
            admin.practice_id.as_deref().unwrap_or_default(),
            "Riverside Couples Practice",
            "A small team of couples therapists. We help partners talk again, repair trust and find their way back to each other.",
        )
        .await?;
    // The demo is tried by people without an authenticator app at hand; a real
    // practice keeps two-step sign-in required for its staff (the default).
    store
        .set_practice_requires_two_factor(admin.practice_id.as_deref().unwrap_or_default(), false)
        .await?;
    // The demo shows the helplines of the two regions its couples come from.
    store
        .set_practice_helpline_region(admin.practice_id.as_deref().unwrap_or_default(), "us,uk")
        .await?;
    let priya = therapist(
        store,
        &admin,
        "therapist@example.com",
        "Dr. Priya Natarajan",
        now - 68 * DAY,
    )
    .await?;
    let tom = therapist(
        store,
        &admin,
        "therapist2@example.com",
        "Tom Becker",
        now - 60 * DAY,
    )
    .await?;
    let alex_sam = CoupleSeed {
        partners: [("alex@example.com", "Alex"), ("sam@example.com", "Sam")],
        started_days_ago: 42,
        joined: true,
        screened: true,
    };
    let jordan_riley = CoupleSeed {
        partners: [
            ("jordan@example.com", "Jordan"),
            ("riley@example.com", "Riley"),
        ],
        started_days_ago: 35,
        joined: true,
        screened: true,
    };
    // A couple invited this week who have not joined yet, as a caseload has.
    let casey_drew = CoupleSeed {
        partners: [("casey@example.com", "Casey"), ("drew@example.com", "Drew")],
        started_days_ago: 2,
        joined: false,
        screened: false,
    };
    // A couple who joined this week: both took the private safety check, and
    // shared work waits until Dr. Priya has seen each of them alone.
    let noor_kai = CoupleSeed {
        partners: [("noor@example.com", "Noor"), ("kai@example.com", "Kai")],
        started_days_ago: 5,
        joined: true,
        screened: false,
    };
    let mut people = vec![priya, tom];
    people.extend(couple(store, &people[0].clone(), alex_sam, now).await?);
    people.extend(couple(store, &people[1].clone(), jordan_riley, now).await?);
    couple(store, &people[0].clone(), casey_drew, now).await?;
    people.extend(couple(store, &people[0].clone(), noor_kai, now).await?);
    for person in &people {
        store.set_password(&person.id, password_hash).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn practice_codes_are_readable() {
        assert_eq!(practice_code("Dr. Priya Natarajan"), "DRPR-2026");
        assert_eq!(practice_code("Tom Becker"), "TMBE-2026");
        assert_eq!(practice_code("Io"), "TREL-2026");
    }
}

pub mod history;
mod practice_life;
