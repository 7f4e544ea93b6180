//! Measures as data, and the arithmetic of progress: scores, bands against a
//! cutoff, change, the Reliable Change Index (Jacobson & Truax, 1991), when a
//! check-in is due, and the alerts a therapist gets. All pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::program::ContentError;
use crate::time::{DAY, Millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstrumentKind {
    /// A published, validated measure (wording shown verbatim).
    Validated,
    /// Our own check-in: useful for noticing change, not a measure.
    CheckIn,
}

/// One answer choice, in the order the form shows them, left to right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerOption {
    pub value: i64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstrumentItem {
    pub id: String,
    pub text: String,
    pub options: Vec<AnswerOption>,
    /// An instruction shown before this item (e.g. before a block of
    /// adjective pairs), in our own words.
    pub lead_in: Option<String>,
}

/// What reliable change needs, with where the numbers come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Psychometrics {
    pub sd: f64,
    pub reliability: f64,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instrument {
    pub id: String,
    pub title: String,
    pub short_title: String,
    /// What the measure asks, in everyday words, for chart titles
    /// ("How happy you feel together"); the title when a file gives none.
    pub plain_title: String,
    /// What the cutoff means, said plainly to the people being measured.
    pub cutoff_meaning: Option<String>,
    pub kind: InstrumentKind,
    pub citation: String,
    pub licence: String,
    pub range: (i64, i64),
    pub cutoff: Option<f64>,
    /// `None`: not published, so no reliable-change figures are shown.
    pub psychometrics: Option<Psychometrics>,
    /// A free-text private note may go with the answers.
    pub note: bool,
    pub items: Vec<InstrumentItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScaleFile {
    values: Vec<i64>,
    labels: Option<Vec<String>>,
    #[serde(default)]
    poles: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemFile {
    id: String,
    scale: String,
    text: String,
    #[serde(default)]
    lead_in: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PsychometricsFile {
    NotPublished(String),
    Published(Psychometrics),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstrumentFile {
    id: String,
    title: String,
    short_title: String,
    #[serde(default)]
    plain_title: Option<String>,
    #[serde(default)]
    cutoff_meaning: Option<String>,
    kind: InstrumentKind,
    citation: String,
    licence: String,
    range: (i64, i64),
    cutoff: Option<f64>,
    direction: String,
    psychometrics: PsychometricsFile,
    #[serde(default)]
    note: bool,
    scales: BTreeMap<String, ScaleFile>,
    items: Vec<ItemFile>,
}

fn fail(file: &str, line: usize, reason: impl Into<String>) -> ContentError {
    ContentError {
        file: file.to_owned(),
        line,
        reason: reason.into(),
    }
}

/// Semantic-differential items ("INTERESTING — BORING") print only the two
/// poles; each position gets a label naming where it lies, for screen readers.
fn pole_labels(text: &str, count: usize) -> Vec<String> {
    let (left, right) = text
        .split_once('—')
        .map_or((text, ""), |(l, r)| (l.trim(), r.trim()));
    (0..count)
        .map(|i| match i {
            0 => format!("{left} (1 of {count})"),
            i if i + 1 == count => format!("{right} ({count} of {count})"),
            i => format!("{} of {count}", i + 1),
        })
        .collect()
}

impl Instrument {
    pub fn parse(file: &str, text: &str) -> Result<Instrument, ContentError> {
        let raw: InstrumentFile = toml::from_str(text).map_err(|err| {
            let line = err.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            fail(file, line, err.message())
        })?;
        if raw.direction != "higher_is_better" {
            return Err(fail(
                file,
                1,
                "only `direction = \"higher_is_better\"` is supported",
            ));
        }
        let psychometrics = match raw.psychometrics {
            PsychometricsFile::Published(p) => {
                if !(p.sd > 0.0 && p.reliability > 0.0 && p.reliability < 1.0)
                    || p.source.trim().is_empty()
                {
                    return Err(fail(
                        file,
                        1,
                        "psychometrics need sd > 0, 0 < reliability < 1 and a source",
                    ));
                }
                Some(p)
            }
            PsychometricsFile::NotPublished(text) if text == "not published" => None,
            PsychometricsFile::NotPublished(other) => {
                return Err(fail(
                    file,
                    1,
                    format!("psychometrics must be a table or \"not published\", not \"{other}\""),
                ));
            }
        };
        let mut items = Vec::with_capacity(raw.items.len());
        let (mut min_sum, mut max_sum) = (0, 0);
        for item in raw.items {
            let scale = raw.scales.get(&item.scale).ok_or_else(|| {
                fail(
                    file,
                    1,
                    format!("item {}: there is no scale `{}`", item.id, item.scale),
                )
            })?;
            let labels = match (&scale.labels, scale.poles) {
                (Some(labels), false) if labels.len() == scale.values.len() => labels.clone(),
                (None, true) => pole_labels(&item.text, scale.values.len()),
                _ => {
                    return Err(fail(
                        file,
                        1,
                        format!(
                            "scale `{}` needs as many labels as values, or `poles = true`",
                            item.scale
                        ),
                    ));
                }
            };
            min_sum += scale.values.iter().min().copied().unwrap_or(0);
            max_sum += scale.values.iter().max().copied().unwrap_or(0);
            let options = scale
                .values
                .iter()
                .zip(labels)
                .map(|(value, label)| AnswerOption {
                    value: *value,
                    label,
                })
                .collect();
            items.push(InstrumentItem {
                id: item.id,
                text: item.text,
                options,
                lead_in: item.lead_in,
            });
        }
        if items.is_empty() {
            return Err(fail(file, 1, "an instrument needs items"));
        }
        if (min_sum, max_sum) != raw.range {
            return Err(fail(
                file,
                1,
                format!(
                    "the items add up to {min_sum}–{max_sum}, but the range says {}–{}",
                    raw.range.0, raw.range.1
                ),
            ));
        }
        if raw.cutoff.is_some() != raw.cutoff_meaning.is_some() {
            return Err(fail(
                file,
                1,
                "a cutoff needs a cutoff_meaning that says what it means, and only a cutoff has one",
            ));
        }
        Ok(Instrument {
            id: raw.id,
            plain_title: raw.plain_title.unwrap_or_else(|| raw.title.clone()),
            cutoff_meaning: raw.cutoff_meaning,
            title: raw.title,
            short_title: raw.short_title,
            kind: raw.kind,
            citation: raw.citation,
            licence: raw.licence,
            range: raw.range,
            cutoff: raw.cutoff,
            psychometrics,
            note: raw.note,
            items,
        })
    }

    /// The total of a complete, valid set of answers, or which item is wrong and why.
    pub fn score(&self, answers: &BTreeMap<String, i64>) -> Result<i64, (String, String)> {
        for id in answers.keys() {
            if !self.items.iter().any(|i| &i.id == id) {
                return Err((id.clone(), format!("this instrument has no item \"{id}\"")));
            }
        }
        let mut total = 0;
        for item in &self.items {
            let value = answers
                .get(&item.id)
                .ok_or_else(|| (item.id.clone(), format!("please answer \"{}\"", item.text)))?;
            if !item.options.iter().any(|o| o.value == *value) {
                let allowed: Vec<String> =
                    item.options.iter().map(|o| o.value.to_string()).collect();
                return Err((
                    item.id.clone(),
                    format!("{value} is not one of the answers ({})", allowed.join(", ")),
                ));
            }
            total += value;
        }
        Ok(total)
    }

    pub fn band(&self, score: i64) -> Band {
        match self.cutoff {
            Some(cutoff) if (score as f64) < cutoff => Band::BelowCutoff,
            Some(_) => Band::AtOrAboveCutoff,
            None => Band::NoCutoff,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Below the published cutoff: notable dissatisfaction.
    BelowCutoff,
    AtOrAboveCutoff,
    /// The instrument has no cutoff.
    NoCutoff,
}

impl Band {
    pub fn describe(self) -> &'static str {
        match self {
            Band::BelowCutoff => "below the cutoff: notable dissatisfaction",
            Band::AtOrAboveCutoff => "at or above the cutoff",
            Band::NoCutoff => "a check-in, without a cutoff",
        }
    }
}

/// Jacobson & Truax (1991): RCI = (x2 − x1) / S_diff, with
/// S_diff = √2 · SE and SE = SD · √(1 − r). |RCI| > 1.96 is reliable change.
pub fn reliable_change_index(before: f64, after: f64, p: &Psychometrics) -> f64 {
    let standard_error = p.sd * (1.0 - p.reliability).sqrt();
    let s_diff = (2.0 * standard_error * standard_error).sqrt();
    (after - before) / s_diff
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReliableChange {
    Improved,
    Deteriorated,
    NoReliableChange,
}

/// Reliable change from baseline, with "clinically significant" when an
/// improvement also crosses the cutoff from below (criterion c).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChangeAssessment {
    pub rci: f64,
    pub change: ReliableChange,
    pub clinically_significant: bool,
}

pub fn assess_change(
    baseline: f64,
    latest: f64,
    p: &Psychometrics,
    cutoff: Option<f64>,
) -> ChangeAssessment {
    let rci = reliable_change_index(baseline, latest, p);
    let change = if rci > 1.96 {
        ReliableChange::Improved
    } else if rci < -1.96 {
        ReliableChange::Deteriorated
    } else {
        ReliableChange::NoReliableChange
    };
    let crossed = cutoff.is_some_and(|c| baseline < c && latest >= c);
    ChangeAssessment {
        rci,
        change,
        clinically_significant: change == ReliableChange::Improved && crossed,
    }
}

/// When someone is due a check-in: never taken, or the cadence has passed.
pub fn is_due(last_taken: Option<Millis>, cadence_days: i64, now: Millis) -> bool {
    match last_taken {
        None => true,
        Some(at) => now - at >= cadence_days.max(1) * DAY - DAY / 2,
    }
}

/// A scored check-in in someone's history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub at: Millis,
    pub score: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub kind: &'static str,
    /// Why it fired, in plain words for the therapist.
    pub reason: String,
}

/// How many check-ins running below the cutoff, without improvement, raise
/// an alert. Most couples start below the cutoff, so being there is not news;
/// staying there without getting better is.
pub const BELOW_CUTOFF_RUN: usize = 3;

/// The alerts for one partner on one instrument (history oldest first).
/// They read only the first check-in and the last [`BELOW_CUTOFF_RUN`]
/// ones (and [`gap_alert`] the last two), so a history cut to those ends
/// gives the same alerts.
pub fn partner_alerts(
    name: &str,
    instrument: &Instrument,
    history: &[Point],
    cadence_days: i64,
    now: Millis,
) -> Vec<Alert> {
    let mut alerts = Vec::new();
    if let (Some(first), Some(last), Some(p)) =
        (history.first(), history.last(), &instrument.psychometrics)
        && history.len() >= 2
    {
        let assessed = assess_change(first.score as f64, last.score as f64, p, instrument.cutoff);
        if assessed.change == ReliableChange::Deteriorated {
            alerts.push(Alert {
                kind: "reliable_deterioration",
                reason: format!(
                    "{name}'s {} fell from {} to {} (RCI {:.2}, beyond −1.96): a reliable deterioration.",
                    instrument.short_title, first.score, last.score, assessed.rci
                ),
            });
        }
    }
    if let Some(cutoff) = instrument.cutoff
        && history.len() >= BELOW_CUTOFF_RUN
    {
        let run = &history[history.len() - BELOW_CUTOFF_RUN..];
        let all_below = run.iter().all(|p| (p.score as f64) < cutoff);
        // every instrument is higher-is-better (checked when parsed)
        let improving = match (run.first(), run.last()) {
            (Some(first), Some(last)) => last.score > first.score,
            _ => false,
        };
        if all_below && !improving {
            alerts.push(Alert {
                kind: "below_cutoff",
                reason: format!(
                    "{name}'s last {BELOW_CUTOFF_RUN} {} scores stayed below the cutoff of {cutoff} without improving.",
                    instrument.short_title
                ),
            });
        }
    }
    match history.last() {
        Some(last) if now - last.at > 2 * cadence_days.max(1) * DAY => alerts.push(Alert {
            kind: "missed_check_ins",
            reason: format!(
                "{name} has not done the {} for {} days (the cadence is every {cadence_days} days).",
                instrument.short_title,
                (now - last.at) / DAY
            ),
        }),
        _ => {}
    }
    alerts
}

/// A widening gap between the partners: the latest gap is at least a fifth
/// of the range and has grown by at least a tenth of the range.
pub fn gap_alert(
    instrument: &Instrument,
    a: (&str, &[Point]),
    b: (&str, &[Point]),
) -> Option<Alert> {
    let span = (instrument.range.1 - instrument.range.0).max(1) as f64;
    let (name_a, ha) = a;
    let (name_b, hb) = b;
    if ha.len() < 2 || hb.len() < 2 {
        return None;
    }
    let gap = |i: usize, j: usize| (ha[i].score - hb[j].score).abs() as f64;
    let now_gap = gap(ha.len() - 1, hb.len() - 1);
    let before = gap(ha.len() - 2, hb.len() - 2);
    (now_gap >= span / 5.0 && now_gap - before >= span / 10.0).then(|| Alert {
        kind: "widening_gap",
        reason: format!(
            "The gap between {name_a} and {name_b} on the {} grew from {before} to {now_gap} points.",
            instrument.short_title
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first check-in and the last [`BELOW_CUTOFF_RUN`].
    fn ends_of(history: &[Point]) -> Vec<Point> {
        let mut ends = vec![history[0]];
        let tail = history.len().saturating_sub(BELOW_CUTOFF_RUN).max(1);
        ends.extend_from_slice(&history[tail..]);
        ends
    }

    #[test]
    fn alerts_read_only_the_first_and_the_last_check_ins() {
        // the caseload reads only these ends of each history
        let csi = Instrument::parse("csi4.toml", CSI4).unwrap();
        let now = 100 * DAY;
        let mut seed = 7u64;
        for _ in 0..300 {
            let len = 1 + (seed % 12) as usize;
            let history: Vec<Point> = (0..len)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    Point {
                        at: (i as i64 + 60) * DAY,
                        score: ((seed >> 33) % 22) as i64,
                    }
                })
                .collect();
            let ends = ends_of(&history);
            let full = partner_alerts("A", &csi, &history, 7, now);
            let cut = partner_alerts("A", &csi, &ends, 7, now);
            assert_eq!(
                full.iter().map(|a| &a.reason).collect::<Vec<_>>(),
                cut.iter().map(|a| &a.reason).collect::<Vec<_>>(),
                "{history:?}"
            );
            let other: Vec<Point> = history
                .iter()
                .map(|p| Point {
                    at: p.at,
                    score: 21 - p.score,
                })
                .collect();
            let other_ends = ends_of(&other);
            assert_eq!(
                gap_alert(&csi, ("A", &history), ("B", &other)).map(|a| a.reason),
                gap_alert(&csi, ("A", &ends), ("B", &other_ends)).map(|a| a.reason)
            );
        }
    }

    const CSI16: &str = include_str!("../../../content/instruments/csi16.toml");
    const CSI4: &str = include_str!("../../../content/instruments/csi4.toml");
    const PULSE: &str = include_str!("../../../content/instruments/trust-pulse.toml");

    fn answers(
        instrument: &Instrument,
        pick: impl Fn(&InstrumentItem) -> i64,
    ) -> BTreeMap<String, i64> {
        instrument
            .items
            .iter()
            .map(|i| (i.id.clone(), pick(i)))
            .collect()
    }

    #[test]
    fn the_csi16_scores_as_published() {
        let csi = Instrument::parse("csi16.toml", CSI16).unwrap();
        assert_eq!(csi.items.len(), 16);
        assert_eq!(csi.range, (0, 81));
        assert_eq!(csi.cutoff, Some(51.5));
        assert!(
            csi.items[10].lead_in.is_some() && csi.items[9].lead_in.is_none(),
            "the adjective pairs are introduced"
        );
        let min = answers(&csi, |i| i.options.iter().map(|o| o.value).min().unwrap());
        let max = answers(&csi, |i| i.options.iter().map(|o| o.value).max().unwrap());
        assert_eq!(csi.score(&min), Ok(0));
        assert_eq!(csi.score(&max), Ok(81));
        // Reversed items: the leftmost option of "INTERESTING — BORING" is worth 5,
        // of "BAD — GOOD" 0; "All the time" (leftmost) is worth 5.
        let leftmost = answers(&csi, |i| i.options[0].value);
        // happiness 0 + how_often 5 + 4×true 0 + 4×extent 0 + desc pairs (11,13,14,16) 4×5 + asc pairs (12,15) 0
        assert_eq!(csi.score(&leftmost), Ok(25));
        let item11 = csi.items.iter().find(|i| i.id == "11").unwrap();
        assert_eq!(item11.text, "INTERESTING — BORING");
        assert_eq!(item11.options[0].value, 5);
        assert!(item11.options[0].label.starts_with("INTERESTING"));
        let item2 = csi.items.iter().find(|i| i.id == "2").unwrap();
        assert_eq!(
            (item2.options[0].value, item2.options[0].label.as_str()),
            (5, "All the time")
        );
        // Mixed, by hand: "Happy"(3) + "Occasionally"(2) + 4×"Mostly TRUE"(3) + 4×"Somewhat"(2) + 6 pairs at 3.
        let mixed = answers(&csi, |i| match i.id.as_str() {
            "1" => 3,
            "2" => 2,
            "3" | "4" | "5" | "6" => 3,
            "7" | "8" | "9" | "10" => 2,
            _ => 3,
        });
        assert_eq!(csi.score(&mixed), Ok(3 + 2 + 12 + 8 + 18));
        assert_eq!(csi.band(43), Band::BelowCutoff);
        assert_eq!(csi.band(52), Band::AtOrAboveCutoff);
        assert!(csi.psychometrics.is_none(), "nothing invented");
    }

    #[test]
    fn the_csi4_is_four_items_of_the_csi16() {
        let csi = Instrument::parse("csi4.toml", CSI4).unwrap();
        let ids: Vec<&str> = csi.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["1", "5", "7", "10"]);
        assert_eq!(csi.range, (0, 21));
        let all = |v| answers(&csi, |i| if i.id == "1" { v + 1 } else { v });
        assert_eq!(csi.score(&all(5)), Ok(21));
        assert_eq!(csi.score(&all(0)), Ok(1));
        assert_eq!(csi.band(13), Band::BelowCutoff);
        assert_eq!(csi.band(14), Band::AtOrAboveCutoff);
    }

    #[test]
    fn invalid_answers_name_the_item_and_why() {
        let csi = Instrument::parse("csi4.toml", CSI4).unwrap();
        let mut a = answers(&csi, |_| 3);
        a.remove("7");
        assert_eq!(csi.score(&a).unwrap_err().0, "7");
        let mut a = answers(&csi, |_| 3);
        a.insert("5".into(), 9);
        let err = csi.score(&a).unwrap_err();
        assert_eq!(err.0, "5");
        assert!(err.1.contains("9 is not one of"));
        let mut a = answers(&csi, |_| 3);
        a.insert("99".into(), 1);
        assert_eq!(csi.score(&a).unwrap_err().0, "99");
    }

    #[test]
    fn the_trust_pulse_is_a_check_in() {
        let pulse = Instrument::parse("trust-pulse.toml", PULSE).unwrap();
        assert_eq!(pulse.kind, InstrumentKind::CheckIn);
        assert_eq!(pulse.range, (0, 30));
        assert!(pulse.note && pulse.cutoff.is_none());
        assert_eq!(pulse.band(3), Band::NoCutoff);
    }

    #[test]
    fn ranges_must_match_the_items() {
        let broken = CSI4.replace("range = [0, 21]", "range = [0, 20]");
        assert!(
            Instrument::parse("x.toml", &broken)
                .unwrap_err()
                .reason
                .contains("add up to 0–21")
        );
        let invented = CSI4.replace(
            "psychometrics = \"not published\"",
            "psychometrics = \"about 0.9\"",
        );
        assert!(Instrument::parse("x.toml", &invented).is_err());
    }

    /// Hand-worked: SD 10, r 0.91 → SE = 10·√0.09 = 3, S_diff = √(2·9) = 4.2426.
    #[test]
    fn the_reliable_change_index_matches_a_hand_worked_example() {
        let p = Psychometrics {
            sd: 10.0,
            reliability: 0.91,
            source: "example".into(),
        };
        let rci = reliable_change_index(40.0, 50.0, &p);
        assert!((rci - 10.0 / 4.242_640_687).abs() < 1e-6, "{rci}");
        let improved = assess_change(40.0, 50.0, &p, Some(45.0));
        assert_eq!(improved.change, ReliableChange::Improved);
        assert!(
            improved.clinically_significant,
            "reliable and crossed the cutoff"
        );
        let not_crossed = assess_change(46.0, 56.0, &p, Some(45.0));
        assert!(
            !not_crossed.clinically_significant,
            "already above the cutoff"
        );
        assert_eq!(
            assess_change(50.0, 45.0, &p, None).change,
            ReliableChange::NoReliableChange
        );
        assert_eq!(
            assess_change(50.0, 40.0, &p, None).change,
            ReliableChange::Deteriorated
        );
    }

    #[test]
    fn check_ins_are_due_by_cadence() {
        let now = 100 * DAY;
        assert!(is_due(None, 7, now));
        assert!(!is_due(Some(now - 3 * DAY), 7, now));
        assert!(is_due(Some(now - 7 * DAY), 7, now));
        assert!(
            is_due(Some(now - 7 * DAY + DAY / 4), 7, now),
            "half a day early counts"
        );
    }

    fn history(scores: &[i64], every_days: i64, end: Millis) -> Vec<Point> {
        let n = scores.len() as i64;
        scores
            .iter()
            .enumerate()
            .map(|(i, s)| Point {
                at: end - (n - 1 - i as i64) * every_days * DAY,
                score: *s,
            })
            .collect()
    }

    #[test]
    fn alerts_fire_on_constructed_histories_and_say_why() {
        let mut csi = Instrument::parse("csi4.toml", CSI4).unwrap();
        let now = 200 * DAY;
        let fine = history(&[15, 16, 17], 7, now);
        assert!(partner_alerts("Sam", &csi, &fine, 7, now).is_empty());
        let low = history(&[14, 12, 11, 10], 7, now);
        let alerts = partner_alerts("Riley", &csi, &low, 7, now);
        assert_eq!(alerts.len(), 1);
        // below the cutoff but getting better is not an alert: most couples
        // start there
        let climbing = history(&[9, 10, 12], 7, now);
        assert!(partner_alerts("Sam", &csi, &climbing, 7, now).is_empty());
        let stuck = history(&[11, 10, 11], 7, now);
        assert_eq!(partner_alerts("Sam", &csi, &stuck, 7, now).len(), 1);
        assert_eq!(alerts[0].kind, "below_cutoff");
        assert!(alerts[0].reason.contains("Riley") && alerts[0].reason.contains("13.5"));
        let stale = history(&[16], 7, now - 15 * DAY);
        assert_eq!(
            partner_alerts("Jo", &csi, &stale, 7, now)[0].kind,
            "missed_check_ins"
        );
        // Reliable deterioration only with published parameters.
        let falling = history(&[20, 18, 14], 7, now);
        assert!(
            partner_alerts("Al", &csi, &falling, 7, now)
                .iter()
                .all(|a| a.kind != "reliable_deterioration")
        );
        csi.psychometrics = Some(Psychometrics {
            sd: 3.0,
            reliability: 0.9,
            source: "test".into(),
        });
        let alerts = partner_alerts("Al", &csi, &falling, 7, now);
        assert!(
            alerts
                .iter()
                .any(|a| a.kind == "reliable_deterioration" && a.reason.contains("RCI"))
        );
    }

    #[test]
    fn a_widening_gap_between_partners_raises_an_alert() {
        let csi = Instrument::parse("csi4.toml", CSI4).unwrap();
        let now = 100 * DAY;
        let a = history(&[15, 17], 7, now);
        let close = history(&[14, 16], 7, now);
        assert!(gap_alert(&csi, ("A", &a), ("B", &close)).is_none());
        let apart = history(&[14, 10], 7, now);
        let alert = gap_alert(&csi, ("A", &a), ("B", &apart)).unwrap();
        assert_eq!(alert.kind, "widening_gap");
        assert!(alert.reason.contains("from 1 to 7"));
        assert!(
            gap_alert(&csi, ("A", &a[..1]), ("B", &apart)).is_none(),
            "too little history"
        );
    }
}
