//! The private safety check each partner takes alone at onboarding.

use serde::{Deserialize, Serialize};

use crate::program::{ContentError, markdown_to_html};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub text: String,
    /// The answer that is a concern: "yes" or "no".
    pub concerning: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub name: String,
    pub detail: String,
    /// Numbers to tap: each becomes a `tel:` or `sms:` link.
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

/// One way to reach a helpline from a phone.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// What the link says, e.g. "Call the crisis line (US)".
    pub label: String,
    /// "call" or "text".
    pub how: String,
    /// The number as dialled: digits, spaces, dashes and a leading +.
    pub number: String,
}

impl Contact {
    /// The link a phone opens: `tel:` to call, `sms:` to text.
    pub fn href(&self) -> String {
        let scheme = if self.how == "text" { "sms" } else { "tel" };
        let digits: String = self
            .number
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        format!("{scheme}:{digits}")
    }

    fn problem(&self) -> Option<String> {
        if self.how != "call" && self.how != "text" {
            return Some(format!(
                "contact `{}`: `how` must be \"call\" or \"text\"",
                self.label
            ));
        }
        let well_formed = self.number.chars().any(|c| c.is_ascii_digit())
            && self
                .number
                .trim_start_matches('+')
                .chars()
                .all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
        (!well_formed).then(|| {
            format!(
                "contact `{}`: `number` must be digits (spaces, dashes and a leading + allowed)",
                self.label
            )
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Help {
    pub title: String,
    pub body: String,
    pub resources: Vec<Resource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SelfGuided {
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SafetyCheck {
    pub intro: String,
    pub questions: Vec<Question>,
    pub help: Help,
    pub self_guided: SelfGuided,
}

impl SafetyCheck {
    pub fn parse(file: &str, text: &str) -> Result<SafetyCheck, ContentError> {
        let check: SafetyCheck = toml::from_str(text).map_err(|err| ContentError {
            file: file.to_owned(),
            line: err.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            }),
            reason: err.message().to_owned(),
        })?;
        for question in &check.questions {
            if question.concerning != "yes" && question.concerning != "no" {
                return Err(ContentError {
                    file: file.to_owned(),
                    line: 1,
                    reason: format!(
                        "question `{}`: `concerning` must be \"yes\" or \"no\"",
                        question.id
                    ),
                });
            }
        }
        let contacts = check.help.resources.iter().flat_map(|r| &r.contacts);
        if let Some(reason) = contacts.filter_map(Contact::problem).next() {
            return Err(ContentError {
                file: file.to_owned(),
                line: 1,
                reason,
            });
        }
        if check.questions.is_empty() {
            return Err(ContentError {
                file: file.to_owned(),
                line: 1,
                reason: "the safety check has no questions".to_owned(),
            });
        }
        Ok(check)
    }

    /// The questions answered in a concerning way. An unanswered question
    /// counts as concerning: someone unsure or unable to answer gets help too.
    pub fn concerns(&self, answer: impl Fn(&str) -> Option<bool>) -> Vec<&Question> {
        self.questions
            .iter()
            .filter(|q| match answer(&q.id) {
                Some(yes) => yes == (q.concerning == "yes"),
                None => true,
            })
            .collect()
    }

    pub fn help_html(&self) -> String {
        markdown_to_html(&self.help.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHECK: &str = r#"
intro = "Why we ask"
[[questions]]
id = "afraid"
text = "Are you afraid of your partner?"
concerning = "yes"
[[questions]]
id = "safe_home"
text = "Do you feel safe at home?"
concerning = "no"
[help]
title = "Help"
body = "You are not alone."
[[help.resources]]
name = "Emergency"
detail = "Call your local number"
[self_guided]
body = "Please find a therapist."
"#;

    #[test]
    fn contacts_become_call_and_text_links_and_bad_ones_are_refused() {
        let call = Contact {
            label: "Call".to_owned(),
            how: "call".to_owned(),
            number: "0808 2000 247".to_owned(),
        };
        assert_eq!(call.href(), "tel:08082000247");
        assert_eq!(call.problem(), None);
        let text = Contact {
            how: "text".to_owned(),
            number: "+1 741-741".to_owned(),
            ..call.clone()
        };
        assert_eq!(text.href(), "sms:+1741741");
        let with_contact = CHECK.replace(
            "detail = \"Call your local number\"",
            "detail = \"Call your local number\"\n[[help.resources.contacts]]\nlabel = \"Call\"\nhow = \"fax\"\nnumber = \"112\"",
        );
        assert!(SafetyCheck::parse("safety.toml", &with_contact).is_err());
        let letters = with_contact
            .replace("how = \"fax\"", "how = \"call\"")
            .replace("number = \"112\"", "number = \"javascript:1\"");
        assert!(SafetyCheck::parse("safety.toml", &letters).is_err());
        let good = letters.replace("number = \"javascript:1\"", "number = \"112\"");
        let check = SafetyCheck::parse("safety.toml", &good).unwrap();
        assert_eq!(check.help.resources[0].contacts[0].href(), "tel:112");
    }

    #[test]
    fn concerns_follow_each_questions_direction() {
        let check = SafetyCheck::parse("safety.toml", CHECK).unwrap();
        let none = check.concerns(|id| Some(id == "safe_home"));
        assert!(none.is_empty());
        let afraid = check.concerns(|id| Some(id == "afraid" || id == "safe_home"));
        assert_eq!(
            afraid.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(),
            ["afraid"]
        );
        let unsafe_home = check.concerns(|_| Some(false));
        assert_eq!(
            unsafe_home
                .iter()
                .map(|q| q.id.as_str())
                .collect::<Vec<_>>(),
            ["safe_home"]
        );
        assert_eq!(
            check.concerns(|_| None).len(),
            2,
            "unanswered counts as a concern"
        );
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let err = SafetyCheck::parse(
            "safety.toml",
            &CHECK.replace("concerning = \"no\"", "concerning = \"maybe\""),
        )
        .unwrap_err();
        assert!(err.reason.contains("safe_home"));
        let err = SafetyCheck::parse("safety.toml", "intro = 5").unwrap_err();
        assert_eq!(err.line, 1);
    }
}
