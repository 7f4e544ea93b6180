//! "Is it time for couples therapy?": the anonymous self-check on a practice's
//! public page. Its questions and wording are content; how answers become a
//! gentle reading is this pure rule. Nothing here is a diagnosis, and the
//! reading says so.

use serde::{Deserialize, Serialize};

use crate::program::{ContentError, markdown_to_html};

/// How often something happens; the answer to every sign question.
pub const SCALE: [&str; 4] = ["Rarely or never", "Sometimes", "Often", "Most of the time"];
pub const SCALE_MAX: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sign {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reading {
    /// The reading applies from this share of the highest possible score (0–100).
    pub from_percent: u32,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SelfCheck {
    pub title: String,
    pub intro: String,
    pub signs: Vec<Sign>,
    /// A yes/no question about fear or harm; "yes" shows the danger help
    /// first, whatever the other answers.
    pub safety_question: String,
    pub safety_body: String,
    pub not_a_diagnosis: String,
    /// From the lowest `from_percent` (which must be 0) upwards.
    pub readings: Vec<Reading>,
}

/// What the answers suggest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<'a> {
    pub reading: &'a Reading,
    pub body_html: String,
    /// 0–100: how much of the highest possible score the answers reach.
    pub percent: u32,
    pub answered: usize,
    pub safety_concern: bool,
}

impl SelfCheck {
    pub fn parse(file: &str, text: &str) -> Result<SelfCheck, ContentError> {
        let error = |line: usize, reason: String| ContentError {
            file: file.to_owned(),
            line,
            reason,
        };
        let check: SelfCheck = toml::from_str(text).map_err(|err| {
            error(
                err.span().map_or(1, |s| {
                    text[..s.start.min(text.len())].matches('\n').count() + 1
                }),
                err.message().to_owned(),
            )
        })?;
        if check.signs.is_empty() {
            return Err(error(1, "the self-check has no signs to ask about".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for sign in &check.signs {
            if !seen.insert(sign.id.as_str()) {
                return Err(error(1, format!("the sign `{}` appears twice", sign.id)));
            }
        }
        let starts: Vec<u32> = check.readings.iter().map(|r| r.from_percent).collect();
        if starts.first() != Some(&0)
            || starts.windows(2).any(|w| w[0] >= w[1])
            || starts.iter().any(|&p| p > 100)
        {
            return Err(error(
                1,
                "readings must start at from_percent = 0 and rise, up to 100".into(),
            ));
        }
        Ok(check)
    }

    /// The reading for these answers. `answer(sign_id)` is 0..=3, or `None`
    /// when skipped (a skipped sign counts as 0: we only read what was said).
    pub fn outcome(&self, answer: impl Fn(&str) -> Option<u32>, feels_unsafe: bool) -> Outcome<'_> {
        let mut total = 0;
        let mut answered = 0;
        for sign in &self.signs {
            if let Some(value) = answer(&sign.id) {
                total += value.min(SCALE_MAX);
                answered += 1;
            }
        }
        let highest = SCALE_MAX * u32::try_from(self.signs.len()).unwrap_or(u32::MAX);
        let percent = (total * 100).checked_div(highest).unwrap_or(0);
        let reading = self
            .readings
            .iter()
            .rev()
            .find(|r| r.from_percent <= percent)
            .unwrap_or(&self.readings[0]);
        Outcome {
            reading,
            body_html: markdown_to_html(&reading.body),
            percent,
            answered,
            safety_concern: feels_unsafe,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
title = "Is it time?"
intro = "A few questions."
safety_question = "Do you feel afraid?"
safety_body = "Get help now."
not_a_diagnosis = "This is not a diagnosis."

[[signs]]
id = "arguments"
text = "We argue about the same things."

[[signs]]
id = "distance"
text = "We feel far apart."

[[readings]]
from_percent = 0
title = "Few signs"
body = "Doing *well*."

[[readings]]
from_percent = 34
title = "Some signs"
body = "Worth a talk."

[[readings]]
from_percent = 67
title = "Many signs"
body = "Now is a good time."
"#;

    fn check() -> SelfCheck {
        SelfCheck::parse("self-check.toml", TEXT).unwrap()
    }

    #[test]
    fn no_signs_reads_as_few() {
        let check = check();
        let outcome = check.outcome(|_| Some(0), false);
        assert_eq!(outcome.reading.title, "Few signs");
        assert_eq!(outcome.percent, 0);
        assert_eq!(outcome.answered, 2);
        assert!(outcome.body_html.contains("<em>well</em>"));
    }

    #[test]
    fn readings_change_at_their_thresholds() {
        let check = check();
        // 2 of 6 = 33%: still few; 3 of 6 = 50%: some; 4 of 6 = 66%: some; 5 of 6: many.
        let reading = |a, b| {
            check
                .outcome(|id| Some(if id == "arguments" { a } else { b }), false)
                .reading
                .title
                .clone()
        };
        assert_eq!(reading(1, 1), "Few signs");
        assert_eq!(reading(2, 1), "Some signs");
        assert_eq!(reading(2, 2), "Some signs");
        assert_eq!(reading(3, 2), "Many signs");
        assert_eq!(reading(3, 3), "Many signs");
    }

    #[test]
    fn skipped_signs_count_as_nothing_and_out_of_range_answers_are_capped() {
        let check = check();
        let outcome = check.outcome(|id| (id == "arguments").then_some(99), false);
        assert_eq!(outcome.answered, 1);
        assert_eq!(outcome.percent, 50);
        let none = check.outcome(|_| None, false);
        assert_eq!(none.answered, 0);
        assert_eq!(none.reading.title, "Few signs");
    }

    #[test]
    fn feeling_unsafe_is_carried_whatever_the_score() {
        let check = check();
        assert!(check.outcome(|_| Some(0), true).safety_concern);
        assert!(!check.outcome(|_| Some(3), false).safety_concern);
    }

    #[test]
    fn bad_content_is_refused_with_a_reason() {
        let no_zero = TEXT.replace("from_percent = 0", "from_percent = 5");
        assert!(
            SelfCheck::parse("f", &no_zero)
                .unwrap_err()
                .reason
                .contains("from_percent")
        );
        let twice = TEXT.replace("id = \"distance\"", "id = \"arguments\"");
        assert!(
            SelfCheck::parse("f", &twice)
                .unwrap_err()
                .reason
                .contains("twice")
        );
        let unknown = format!("{TEXT}\nsurprise = 1\n");
        assert!(SelfCheck::parse("f", &unknown).is_err());
    }
}
