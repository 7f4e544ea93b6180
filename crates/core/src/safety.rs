//! The private safety check each partner takes alone at onboarding.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::program::{ContentError, markdown_to_html};
use crate::screening::{AtRisk, Concern, Tier};

/// An answer to one question of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    No,
    /// "Not sure / I'd rather not say": treated as a concern, kindly.
    NotSure,
}

impl Answer {
    pub const ALL: [Answer; 3] = [Answer::Yes, Answer::No, Answer::NotSure];

    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
            Answer::NotSure => "not_sure",
        }
    }

    pub fn parse(value: &str) -> Option<Answer> {
        Answer::ALL.into_iter().find(|a| a.as_str() == value)
    }

    /// How the answer reads to the therapist.
    pub fn label(self) -> &'static str {
        match self {
            Answer::Yes => "Yes",
            Answer::No => "No",
            Answer::NotSure => "Not sure / rather not say",
        }
    }
}

fn themselves() -> AtRisk {
    AtRisk::Themselves
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub text: String,
    /// The answer that is a concern: "yes" or "no".
    pub concerning: String,
    /// A lethality marker (weapons, strangulation, threats to kill, a plan
    /// to die): a concerning answer needs a same-day response.
    #[serde(default)]
    pub urgent: bool,
    /// Who may be at risk when the answer is a concern: the person answering
    /// ("themselves", the default) or their partner (their own violence).
    #[serde(default = "themselves")]
    pub at_risk: AtRisk,
    /// `safety` (the default) or `suitability`: whether the joint program
    /// fits now (an affair still going on, a decision to leave already made).
    /// A suitability answer raises no safety flag; the person sees why the
    /// joint program is not the right next step, the therapist sees the
    /// answer, and the partner sees nothing.
    #[serde(default)]
    pub topic: Topic,
}

/// What a question is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// A sign of risk: a concern raises a flag.
    #[default]
    Safety,
    /// Whether the joint program fits now: no flag, a private explanation.
    Suitability,
}

impl Question {
    /// The concern this question raises when its answer is one.
    fn concern(&self) -> Concern {
        Concern::new(
            if self.urgent {
                Tier::Urgent
            } else {
                Tier::Distress
            },
            self.at_risk,
        )
    }

    /// Whether this answer is a concern. Not sure counts, and so does no
    /// answer: someone unsure or unable to answer gets help too.
    pub fn is_concern(&self, answer: Option<Answer>) -> bool {
        match answer {
            Some(Answer::Yes) => self.concerning == "yes",
            Some(Answer::No) => self.concerning == "no",
            Some(Answer::NotSure) | None => true,
        }
    }
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
    /// What a person reads when the joint program does not fit now.
    #[serde(default)]
    pub not_suitable: Option<NotSuitable>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotSuitable {
    pub title: String,
    pub body: String,
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

    /// The safety questions answered in a concerning way (see
    /// [`Question::is_concern`]); suitability questions are not safety concerns.
    pub fn concerns(&self, answer: impl Fn(&str) -> Option<Answer>) -> Vec<&Question> {
        self.questions
            .iter()
            .filter(|q| q.topic == Topic::Safety && q.is_concern(answer(&q.id)))
            .collect()
    }

    /// The suitability questions whose answer says the joint program does not
    /// fit now ("not sure" counts: the therapist will talk it through).
    pub fn unsuitable(&self, answer: impl Fn(&str) -> Option<Answer>) -> Vec<&Question> {
        self.questions
            .iter()
            .filter(|q| q.topic == Topic::Suitability && q.is_concern(answer(&q.id)))
            .collect()
    }

    /// The check's answers as one concern: urgent when any lethality item is
    /// a concern, distress otherwise; `None` when nothing is a concern.
    pub fn concern(&self, answer: impl Fn(&str) -> Option<Answer>) -> Option<Concern> {
        Concern::combine(self.concerns(answer).into_iter().map(Question::concern))
    }

    /// The concern a check raises, counting only what is new since the
    /// person's previous check: an answer the therapist has already seen and
    /// decided on does not raise the same flag again at every re-screening.
    /// The first check counts everything.
    pub fn new_concern(
        &self,
        previous: Option<&BTreeMap<String, Answer>>,
        current: &BTreeMap<String, Answer>,
    ) -> Option<Concern> {
        let was_concern =
            |q: &Question| previous.is_some_and(|p| q.is_concern(p.get(&q.id).copied()));
        Concern::combine(
            self.questions
                .iter()
                .filter(|q| q.topic == Topic::Safety)
                .filter(|q| q.is_concern(current.get(&q.id).copied()) && !was_concern(q))
                .map(Question::concern),
        )
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
        let yes_if = |yes: bool| Some(if yes { Answer::Yes } else { Answer::No });
        let none = check.concerns(|id| yes_if(id == "safe_home"));
        assert!(none.is_empty());
        let afraid = check.concerns(|id| yes_if(id == "afraid" || id == "safe_home"));
        assert_eq!(
            afraid.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(),
            ["afraid"]
        );
        let unsafe_home = check.concerns(|_| Some(Answer::No));
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
        assert_eq!(
            check.concerns(|_| Some(Answer::NotSure)).len(),
            2,
            "not sure counts as a concern"
        );
    }

    #[test]
    fn lethality_items_make_a_concern_urgent_and_say_who_is_at_risk() {
        let text = CHECK.replace(
            "id = \"afraid\"",
            "id = \"afraid\"\nurgent = true\nat_risk = \"partner\"",
        );
        let check = SafetyCheck::parse("safety.toml", &text).unwrap();
        let answers = |afraid: Answer, safe_home: Answer| {
            move |id: &str| Some(if id == "afraid" { afraid } else { safe_home })
        };
        assert_eq!(check.concern(answers(Answer::No, Answer::Yes)), None);
        assert_eq!(
            check.concern(answers(Answer::No, Answer::NotSure)),
            Some(Concern::new(Tier::Distress, AtRisk::Themselves))
        );
        assert_eq!(
            check.concern(answers(Answer::Yes, Answer::No)),
            Some(Concern::new(Tier::Urgent, AtRisk::Both))
        );
        assert_eq!(Answer::parse("not_sure"), Some(Answer::NotSure));
        // re-screening: only what changed raises a flag again
        let map = |afraid: Answer, safe_home: Answer| {
            BTreeMap::from([
                ("afraid".to_owned(), afraid),
                ("safe_home".to_owned(), safe_home),
            ])
        };
        let before = map(Answer::Yes, Answer::Yes);
        assert_eq!(check.new_concern(Some(&before), &before), None);
        assert_eq!(
            check.new_concern(Some(&before), &map(Answer::Yes, Answer::No)),
            Some(Concern::new(Tier::Distress, AtRisk::Themselves))
        );
        assert_eq!(
            check.new_concern(None, &before).map(|c| c.tier),
            Some(Tier::Urgent)
        );
        assert_eq!(Answer::parse("maybe"), None);
        // a suitability question is never a safety concern
        let fit = CHECK.replace(
            "id = \"safe_home\"",
            "id = \"safe_home\"\ntopic = \"suitability\"",
        );
        let fit = SafetyCheck::parse("safety.toml", &fit).unwrap();
        assert_eq!(fit.concerns(|_| Some(Answer::No)).len(), 0);
        assert_eq!(
            fit.unsuitable(|_| Some(Answer::No))
                .iter()
                .map(|q| q.id.as_str())
                .collect::<Vec<_>>(),
            ["safe_home"]
        );
        let odd = CHECK.replace("id = \"safe_home\"", "id = \"safe_home\"\ntopic = \"mood\"");
        assert!(SafetyCheck::parse("safety.toml", &odd).is_err());
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
