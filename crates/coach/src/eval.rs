//! Evaluation against labelled messages (pure: parse and score, no I/O).

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Label, labels};

/// One labelled example, as in `data/dev.jsonl`. Other fields are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelledMessage {
    pub text: String,
    #[serde(default)]
    pub labels: Vec<String>,
    /// For crisis messages: what the crisis is about and how strong it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crisis: Option<GoldCrisis>,
    /// `crisis`, `hard_negative` or `other` (ordinary writing), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Labelled for crisis alone (`crisis-*.jsonl`): whether it is crisis,
    /// its category and tier are gold, but tone labels were not annotated,
    /// so tone heads and tone figures leave it out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub crisis_only: bool,
}

/// The gold reading of a crisis message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoldCrisis {
    /// `self_harm`, `suicidal`, `threat`, `violence_report`,
    /// `sexual_coercion` or `coercive_control`.
    pub category: String,
    /// `distress` or `urgent`.
    pub tier: String,
}

/// How the crisis messages of one tier or category were read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CrisisGroup {
    /// The tier or category name.
    pub name: String,
    /// Gold crisis messages in the group.
    pub support: usize,
    /// Of those, read as crisis at all.
    pub detected: usize,
    /// Of those, read with the same tier (tiers) or category (categories).
    pub agreeing: usize,
}

impl CrisisGroup {
    pub fn recall(&self) -> f64 {
        ratio(self.detected, self.support)
    }

    pub fn agreement(&self) -> f64 {
        ratio(self.agreeing, self.support)
    }
}

/// Precision / recall / F1 for one label (one-vs-rest over messages).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LabelScore {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Messages whose gold labels include this label.
    pub support: usize,
    /// Messages predicted with this label.
    pub predicted: usize,
    pub true_positives: usize,
}

/// Binary message-level score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BinaryScore {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
    pub predicted: usize,
    pub true_positives: usize,
}

/// A message whose predicted label set differs from its gold set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub text: String,
    pub gold: Vec<String>,
    pub predicted: Vec<String>,
}

/// The result of [`evaluate`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalReport {
    pub messages: usize,
    /// Known labels first (report order), then any unknown gold labels.
    pub per_label: Vec<LabelScore>,
    /// Mean F1 over labels with gold support > 0.
    pub macro_f1: f64,
    /// Harsh = any of criticism, contempt, defensiveness, stonewalling.
    pub harsh: BinaryScore,
    /// Recall of the `crisis` label; `None` when no message is gold crisis.
    pub crisis_recall: Option<f64>,
    /// Crisis messages by gold tier: found at all, and found with that tier.
    pub tiers: Vec<CrisisGroup>,
    /// Crisis messages by gold category: found at all, and with that category.
    pub categories: Vec<CrisisGroup>,
    /// Share of messages whose predicted label set equals the gold set.
    pub exact_match: f64,
    pub mismatches: Vec<Mismatch>,
}

/// A line of a JSONL file that could not be read.
#[derive(Debug)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parse JSONL (one [`LabelledMessage`] per line; blank lines skipped).
pub fn parse_jsonl(input: &str) -> Result<Vec<LabelledMessage>, ParseError> {
    input
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| ParseError {
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

const HARSH: [&str; 4] = ["criticism", "contempt", "defensiveness", "stonewalling"];

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// Score the coach on labelled messages.
pub fn evaluate(messages: &[LabelledMessage]) -> EvalReport {
    let mut names: Vec<String> = Label::ALL.iter().map(|l| l.as_str().to_string()).collect();
    let mut rows: Vec<(BTreeSet<String>, BTreeSet<String>)> = Vec::with_capacity(messages.len());
    for m in messages {
        let mut gold: BTreeSet<String> = m.labels.iter().map(|l| l.trim().to_lowercase()).collect();
        if gold.is_empty() {
            gold.insert("neutral".to_string());
        }
        for g in &gold {
            if !names.contains(g) {
                names.push(g.clone());
            }
        }
        let mut pred: BTreeSet<String> = labels(&m.text)
            .iter()
            .map(|l| l.as_str().to_string())
            .collect();
        if m.crisis_only {
            // only crisis or not is gold: both sides say just that
            let side = |s: &BTreeSet<String>| {
                BTreeSet::from([if s.contains("crisis") {
                    "crisis"
                } else {
                    "neutral"
                }
                .to_string()])
            };
            (gold, pred) = (side(&gold), side(&pred));
        }
        rows.push((gold, pred));
    }
    let mut per_label = Vec::new();
    for name in &names {
        let support = rows.iter().filter(|(g, _)| g.contains(name)).count();
        let predicted = rows.iter().filter(|(_, p)| p.contains(name)).count();
        if support == 0 && predicted == 0 {
            continue;
        }
        let tp = rows
            .iter()
            .filter(|(g, p)| g.contains(name) && p.contains(name))
            .count();
        let (precision, recall) = (ratio(tp, predicted), ratio(tp, support));
        per_label.push(LabelScore {
            label: name.clone(),
            precision,
            recall,
            f1: f1(precision, recall),
            support,
            predicted,
            true_positives: tp,
        });
    }
    let supported: Vec<f64> = per_label
        .iter()
        .filter(|s| s.support > 0)
        .map(|s| s.f1)
        .collect();
    let macro_f1 = if supported.is_empty() {
        0.0
    } else {
        supported.iter().sum::<f64>() / supported.len() as f64
    };
    let is_harsh = |s: &BTreeSet<String>| HARSH.iter().any(|h| s.contains(*h));
    let h_support = rows.iter().filter(|(g, _)| is_harsh(g)).count();
    let h_pred = rows.iter().filter(|(_, p)| is_harsh(p)).count();
    let h_tp = rows
        .iter()
        .filter(|(g, p)| is_harsh(g) && is_harsh(p))
        .count();
    let (hp, hr) = (ratio(h_tp, h_pred), ratio(h_tp, h_support));
    let harsh = BinaryScore {
        precision: hp,
        recall: hr,
        f1: f1(hp, hr),
        support: h_support,
        predicted: h_pred,
        true_positives: h_tp,
    };
    let crisis_recall = per_label
        .iter()
        .find(|s| s.label == "crisis" && s.support > 0)
        .map(|s| s.recall);
    let mismatches: Vec<Mismatch> = messages
        .iter()
        .zip(&rows)
        .filter(|(_, (g, p))| g != p)
        .map(|(m, (g, p))| Mismatch {
            text: m.text.clone(),
            gold: g.iter().cloned().collect(),
            predicted: p.iter().cloned().collect(),
        })
        .collect();
    let (tiers, categories) = crisis_groups(messages, &rows);
    EvalReport {
        messages: messages.len(),
        tiers,
        categories,
        exact_match: ratio(messages.len() - mismatches.len(), messages.len()),
        per_label,
        macro_f1,
        harsh,
        crisis_recall,
        mismatches,
    }
}

/// Crisis messages grouped by gold tier and by gold category. A message is
/// detected when the coach labels it crisis; it agrees when the strongest
/// crisis finding has the gold tier (or any finding has the gold category).
fn crisis_groups(
    messages: &[LabelledMessage],
    rows: &[(BTreeSet<String>, BTreeSet<String>)],
) -> (Vec<CrisisGroup>, Vec<CrisisGroup>) {
    let read: Vec<(&GoldCrisis, bool, Vec<crate::Crisis>)> = messages
        .iter()
        .zip(rows)
        .filter_map(|(m, (_, pred))| {
            let gold = m.crisis.as_ref()?;
            let detected = pred.contains("crisis");
            let signs = if detected {
                crate::analyze(&m.text).crisis_signs()
            } else {
                Vec::new()
            };
            Some((gold, detected, signs))
        })
        .collect();
    let group = |name: &str,
                 member: &dyn Fn(&GoldCrisis) -> bool,
                 agrees: &dyn Fn(&[crate::Crisis]) -> bool| {
        let members: Vec<_> = read.iter().filter(|(g, _, _)| member(g)).collect();
        CrisisGroup {
            name: name.to_owned(),
            support: members.len(),
            detected: members.iter().filter(|(_, d, _)| *d).count(),
            agreeing: members.iter().filter(|(_, d, s)| *d && agrees(s)).count(),
        }
    };
    let tiers = crate::CrisisTier::ALL
        .iter()
        .map(|tier| {
            group(tier.as_str(), &|g| g.tier == tier.as_str(), &|signs| {
                signs.first().is_some_and(|s| s.tier == *tier)
            })
        })
        .filter(|g| g.support > 0)
        .collect();
    let categories = crate::CrisisCategory::ALL
        .iter()
        .map(|category| {
            group(
                category.as_str(),
                &|g| g.category == category.as_str(),
                &|signs| signs.iter().any(|s| s.category == *category),
            )
        })
        .filter(|g| g.support > 0)
        .collect();
    (tiers, categories)
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} messages", self.messages)?;
        writeln!(
            f,
            "{:<15} {:>9} {:>7} {:>6} {:>8} {:>10}",
            "label", "precision", "recall", "F1", "support", "predicted"
        )?;
        for s in &self.per_label {
            writeln!(
                f,
                "{:<15} {:>9.3} {:>7.3} {:>6.3} {:>8} {:>10}",
                s.label, s.precision, s.recall, s.f1, s.support, s.predicted
            )?;
        }
        writeln!(f, "macro-F1 (labels with support): {:.3}", self.macro_f1)?;
        writeln!(
            f,
            "harsh (any horseman, per message): precision {:.3} recall {:.3} F1 {:.3} (support {}, predicted {})",
            self.harsh.precision,
            self.harsh.recall,
            self.harsh.f1,
            self.harsh.support,
            self.harsh.predicted
        )?;
        match self.crisis_recall {
            Some(r) => writeln!(f, "crisis recall: {r:.3}")?,
            None => writeln!(f, "crisis recall: n/a (no crisis messages)")?,
        }
        for (title, groups, agree) in [
            ("tier", &self.tiers, "same tier"),
            ("category", &self.categories, "same category"),
        ] {
            for g in groups {
                writeln!(
                    f,
                    "crisis {title} {:<17} recall {:.3}  {agree} {:.3}  (support {})",
                    g.name,
                    g.recall(),
                    g.agreement(),
                    g.support
                )?;
            }
        }
        write!(
            f,
            "exact label-set match: {:.3} ({} of {} differ)",
            self.exact_match,
            self.mismatches.len(),
            self.messages
        )
    }
}

impl EvalReport {
    /// The mismatching messages, one per line ("gold → predicted: text").
    pub fn mismatch_lines(&self) -> String {
        self.mismatches
            .iter()
            .map(|m| format!("{:?} -> {:?}: {}", m.gold, m.predicted, m.text))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn msg(text: &str, labels: &[&str]) -> LabelledMessage {
        LabelledMessage {
            text: text.to_string(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            crisis: None,
            kind: None,
            crisis_only: false,
        }
    }

    #[test]
    fn crisis_only_messages_count_for_crisis_alone() {
        let mut ordinary = msg("I'm sorry I snapped at you.", &["neutral"]);
        ordinary.crisis_only = true;
        let mut crisis = msg("i took all of my pills an hour ago", &["crisis"]);
        crisis.crisis_only = true;
        let report = evaluate(&[ordinary, crisis]);
        assert!(
            report.per_label.iter().all(|s| s.label != "repair"),
            "an unannotated tone is neither gold nor predicted: {:?}",
            report.per_label
        );
        let row = report
            .per_label
            .iter()
            .find(|s| s.label == "crisis")
            .unwrap();
        assert_eq!((row.support, row.true_positives), (1, 1));
        assert_eq!(report.exact_match, 1.0);
    }

    #[test]
    fn scores_a_tiny_set() {
        let set = vec![
            msg("You never listen to me.", &["criticism"]),
            msg("Thank you for dinner.", &["appreciation"]),
            msg("I will kill myself.", &["crisis"]),
            msg("The bus leaves at noon.", &["neutral"]),
        ];
        let r = evaluate(&set);
        assert_eq!(r.messages, 4);
        assert_eq!(r.crisis_recall, Some(1.0));
        assert!((r.harsh.f1 - 1.0).abs() < 1e-9);
        assert!(
            (r.macro_f1 - 1.0).abs() < 1e-9,
            "{r}\n{}",
            r.mismatch_lines()
        );
        let shown = r.to_string();
        assert!(shown.contains("macro-F1"));
        assert!(shown.contains("criticism"));
    }

    #[test]
    fn parses_jsonl_and_ignores_extra_fields() {
        let input = "{\"text\":\"Fine\",\"labels\":[\"stonewalling\"],\"source\":\"x\"}\n\n{\"text\":\"hi\",\"labels\":[]}\n";
        let v = parse_jsonl(input).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].labels, vec!["stonewalling"]);
        assert!(parse_jsonl("{oops").is_err());
    }

    #[test]
    fn own_sentences_targets() {
        // our own wording, written blind and then kept as a regression set
        // (the rules were tuned against it; the model's tone readings, which
        // lift the unseen test split, cost a little here)
        let input = include_str!("../tests/data/own-sentences.jsonl");
        let r = evaluate(&parse_jsonl(input).unwrap());
        println!("{r}\n{}", r.mismatch_lines());
        assert!(r.macro_f1 >= 0.92, "macro-F1 {}", r.macro_f1);
        assert!(r.harsh.f1 >= 0.94, "harsh F1 {}", r.harsh.f1);
        assert_eq!(r.crisis_recall, Some(1.0));
    }

    /// The development split: the rules were written against it, so it is
    /// held to the targets with no slack.
    #[test]
    fn development_split_targets() {
        let r = evaluate(&parse_jsonl(include_str!("../data/dev.jsonl")).unwrap());
        println!("{r}\n{}", r.mismatch_lines());
        assert!(r.messages >= 500, "{} messages", r.messages);
        let crisis = r.per_label.iter().find(|s| s.label == "crisis").unwrap();
        assert!(crisis.recall >= 0.95, "crisis recall {}", crisis.recall);
        assert!(
            crisis.precision >= 0.85,
            "crisis precision {}",
            crisis.precision
        );
        assert!(r.macro_f1 >= 0.85, "macro-F1 {}", r.macro_f1);
        assert!(r.harsh.f1 >= 0.90, "harsh F1 {}", r.harsh.f1);
    }

    /// The test split was written apart from the rules and never used to
    /// tune them: it reports how the coach does on words nobody tuned for.
    /// Its floor guards against regressions only; the figures are in the
    /// README.
    #[test]
    fn test_split_is_measured() {
        let r = evaluate(&parse_jsonl(include_str!("../data/test.jsonl")).unwrap());
        println!("{r}");
        assert!(r.messages >= 300, "{} messages", r.messages);
        assert!(r.crisis_recall.unwrap_or(0.0) >= TEST_SPLIT_CRISIS_RECALL_FLOOR);
        assert!(r.tiers.iter().any(|t| t.name == "distress"));
        assert!(
            r.categories.len() == crate::CrisisCategory::ALL.len(),
            "every category is present"
        );
    }

    /// What the test split reached when last measured, less a little slack.
    const TEST_SPLIT_CRISIS_RECALL_FLOOR: f64 = 0.84;

    /// The crisis-only test split (round three onwards: crisis, its tier
    /// and category are gold; tones were not annotated), held out like the
    /// first.
    #[test]
    fn crisis_test_split_is_measured() {
        let set = parse_jsonl(include_str!("../data/crisis-test.jsonl")).unwrap();
        assert!(set.iter().all(|m| m.crisis_only));
        let r = evaluate(&set);
        println!("{r}");
        assert!(r.messages >= 400, "{} messages", r.messages);
        assert!(r.crisis_recall.unwrap_or(0.0) >= CRISIS_TEST_SPLIT_RECALL_FLOOR);
        assert!(
            r.per_label
                .iter()
                .all(|s| ["crisis", "neutral"].contains(&s.label.as_str())),
            "only crisis is scored: {:?}",
            r.per_label
        );
    }

    const CRISIS_TEST_SPLIT_RECALL_FLOOR: f64 = 0.83;
}
