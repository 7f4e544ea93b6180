//! Training and cross-validation of the crisis model (deterministic: no
//! randomness, full-batch gradient descent with Adagrad, fixed epochs).
//!
//! Used by `examples/train_crisis_model.rs`; only ever fed the development
//! splits (`data/dev.jsonl` and `data/train.jsonl`), never the test split.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{
    BIAS, CATEGORIES, FORMAT_VERSION, H_CAT, H_CRISIS, H_TIER, H_TONE, HEADS, TONES, head_name,
};
use crate::eval::LabelledMessage;
use crate::text::{self, Norm};

/// Training settings (all fixed; written into the model file header).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Clause-local negation marks on unigrams.
    pub negation: bool,
    /// Stem features (see `model::stem`).
    pub stems: bool,
    /// Lexicon class features (see `model::class_features`).
    pub classes: bool,
    /// Keep features seen in at least this many training messages.
    pub min_count: usize,
    pub epochs: usize,
    pub learning_rate: f64,
    /// L2 penalty (per message, on the mean loss).
    pub l2: f64,
    /// Weight of a crisis message in the crisis head's loss.
    pub positive_weight: f64,
    /// L1 penalty on the crisis head only: its table is read for every
    /// message, so sparse weights keep it small (fewer cache misses in
    /// `analyze`). Category and tier (read only when the model fires) keep
    /// dense L2 weights, which cross-validate better.
    pub l1: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            negation: true,
            stems: true,
            classes: true,
            min_count: 2,
            epochs: 300,
            learning_rate: 0.1,
            l2: 1e-4,
            positive_weight: 2.0,
            l1: 0.0,
        }
    }
}

impl Options {
    pub(crate) fn feature_set(&self) -> super::FeatureSet {
        super::FeatureSet {
            negation: self.negation,
            stems: self.stems,
            classes: self.classes,
        }
    }
}

/// The gold reading of one message, in model terms.
#[derive(Clone, Debug)]
struct Gold {
    crisis: bool,
    category: Option<usize>,
    urgent: bool,
    tones: [bool; TONES.len()],
}

fn gold(m: &LabelledMessage) -> Gold {
    let crisis = m.labels.iter().any(|l| l.trim() == "crisis") || m.crisis.is_some();
    let category = m
        .crisis
        .as_ref()
        .and_then(|c| CATEGORIES.iter().position(|k| k.as_str() == c.category));
    let urgent = m.crisis.as_ref().is_some_and(|c| c.tier == "urgent");
    let tones = TONES.map(|k| m.labels.iter().any(|l| l.trim() == k.as_str()));
    Gold {
        crisis,
        category,
        urgent,
        tones,
    }
}

/// Feature names of one message, one entry per occurrence.
fn feature_names(text: &str, set: super::FeatureSet) -> Vec<String> {
    crate::engine::with_model_input(text, |n, bits| {
        let mut out = Vec::new();
        super::features(n, set, |f, _| out.push(f.name()));
        if set.classes {
            super::class_features(bits, true, |_, name| out.extend(name));
        }
        out
    })
}

/// A trained model, weights in f64.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainedModel {
    pub options: Options,
    /// Feature names, sorted.
    pub vocab: Vec<String>,
    /// One row per vocabulary entry.
    weights: Vec<[f64; HEADS]>,
    bias: [f64; HEADS],
}

/// Sparse examples: feature indices (with repeats) per message.
struct Data {
    rows: Vec<Vec<u32>>,
    gold: Vec<Gold>,
}

fn vectorise(texts: &[Vec<String>], index: &HashMap<&str, u32>) -> Vec<Vec<u32>> {
    texts
        .iter()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| index.get(n.as_str()).copied())
                .collect()
        })
        .collect()
}

/// Train on `messages` with `options`.
pub fn train(messages: &[LabelledMessage], options: Options) -> TrainedModel {
    let names: Vec<Vec<String>> = messages
        .iter()
        .map(|m| feature_names(&m.text, options.feature_set()))
        .collect();
    // document counts
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for doc in &names {
        let mut seen: Vec<&str> = doc.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for s in seen {
            *counts.entry(s).or_insert(0) += 1;
        }
    }
    let mut vocab: Vec<String> = counts
        .iter()
        .filter(|(_, c)| **c >= options.min_count)
        .map(|(s, _)| (*s).to_string())
        .collect();
    vocab.sort_unstable();
    let index: HashMap<&str, u32> = vocab
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let data = Data {
        rows: vectorise(&names, &index),
        gold: messages.iter().map(gold).collect(),
    };
    let nf = vocab.len();
    let mut weights = vec![[0.0; HEADS]; nf];
    let mut bias = [0.0; HEADS];

    // crisis head: every message
    let all: Vec<(usize, f64, f64)> = data
        .gold
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let y = if g.crisis { 1.0 } else { 0.0 };
            let w = if g.crisis {
                options.positive_weight
            } else {
                1.0
            };
            (i, y, w)
        })
        .collect();
    fit_logistic(
        &data.rows,
        &all,
        nf,
        &options,
        H_CRISIS,
        options.l1,
        &mut weights,
        &mut bias,
    );
    // tier head: crisis messages
    let crisis: Vec<(usize, f64, f64)> = data
        .gold
        .iter()
        .enumerate()
        .filter(|(_, g)| g.crisis)
        .map(|(i, g)| (i, if g.urgent { 1.0 } else { 0.0 }, 1.0))
        .collect();
    fit_logistic(
        &data.rows,
        &crisis,
        nf,
        &options,
        H_TIER,
        0.0,
        &mut weights,
        &mut bias,
    );
    // category head: crisis messages with a category
    let cats: Vec<(usize, usize)> = data
        .gold
        .iter()
        .enumerate()
        .filter_map(|(i, g)| g.category.map(|c| (i, c)))
        .collect();
    fit_softmax(&data.rows, &cats, nf, &options, &mut weights, &mut bias);
    // tone heads: every message
    for k in 0..TONES.len() {
        let examples: Vec<(usize, f64, f64)> = data
            .gold
            .iter()
            .enumerate()
            .filter(|(i, _)| !messages[*i].crisis_only)
            .map(|(i, g)| (i, if g.tones[k] { 1.0 } else { 0.0 }, 1.0))
            .collect();
        fit_logistic(
            &data.rows,
            &examples,
            nf,
            &options,
            H_TONE + k,
            options.l1,
            &mut weights,
            &mut bias,
        );
    }
    TrainedModel {
        options,
        vocab,
        weights,
        bias,
    }
}

fn adagrad_step(w: &mut f64, g: f64, acc: &mut f64, lr: f64) {
    *acc += g * g;
    if *acc > 0.0 {
        *w -= lr * g / acc.sqrt();
    }
}

/// Full-batch logistic regression for head `h` on `(row, label, weight)`,
/// with an L1 penalty `l1` (soft-thresholded after each step).
#[allow(clippy::too_many_arguments)]
fn fit_logistic(
    rows: &[Vec<u32>],
    examples: &[(usize, f64, f64)],
    nf: usize,
    o: &Options,
    h: usize,
    l1: f64,
    weights: &mut [[f64; HEADS]],
    bias: &mut [f64; HEADS],
) {
    if examples.is_empty() {
        return;
    }
    let total: f64 = examples.iter().map(|e| e.2).sum();
    let mut grad = vec![0.0; nf];
    let mut acc = vec![0.0; nf];
    let mut bias_acc = 0.0;
    for _ in 0..o.epochs {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut bias_grad = 0.0;
        for &(i, y, wt) in examples {
            let row = &rows[i];
            let z = bias[h] + row.iter().map(|&j| weights[j as usize][h]).sum::<f64>();
            let d = wt * (super::sigmoid(z) - y) / total;
            bias_grad += d;
            for &j in row {
                grad[j as usize] += d;
            }
        }
        for j in 0..nf {
            let g = grad[j] + o.l2 * weights[j][h];
            adagrad_step(&mut weights[j][h], g, &mut acc[j], o.learning_rate);
            if l1 > 0.0 && acc[j] > 0.0 {
                let cut = o.learning_rate * l1 / acc[j].sqrt();
                let w = weights[j][h];
                weights[j][h] = w.signum() * (w.abs() - cut).max(0.0);
            }
        }
        adagrad_step(&mut bias[h], bias_grad, &mut bias_acc, o.learning_rate);
    }
}

/// Full-batch softmax regression over the category heads.
fn fit_softmax(
    rows: &[Vec<u32>],
    examples: &[(usize, usize)],
    nf: usize,
    o: &Options,
    weights: &mut [[f64; HEADS]],
    bias: &mut [f64; HEADS],
) {
    const K: usize = CATEGORIES.len();
    if examples.is_empty() {
        return;
    }
    let total = examples.len() as f64;
    let mut grad = vec![[0.0; K]; nf];
    let mut acc = vec![[0.0; K]; nf];
    let mut bias_acc = [0.0; K];
    for _ in 0..o.epochs {
        grad.iter_mut().for_each(|g| *g = [0.0; K]);
        let mut bias_grad = [0.0; K];
        for &(i, y) in examples {
            let row = &rows[i];
            let mut z = [0.0; K];
            for (k, zk) in z.iter_mut().enumerate() {
                *zk = bias[H_CAT + k]
                    + row
                        .iter()
                        .map(|&j| weights[j as usize][H_CAT + k])
                        .sum::<f64>();
            }
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let exps: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
            let sum: f64 = exps.iter().sum();
            for k in 0..K {
                let d = (exps[k] / sum - if k == y { 1.0 } else { 0.0 }) / total;
                bias_grad[k] += d;
                for &j in row {
                    grad[j as usize][k] += d;
                }
            }
        }
        for j in 0..nf {
            for k in 0..K {
                let g = grad[j][k] + o.l2 * weights[j][H_CAT + k];
                adagrad_step(
                    &mut weights[j][H_CAT + k],
                    g,
                    &mut acc[j][k],
                    o.learning_rate,
                );
            }
        }
        for k in 0..K {
            adagrad_step(
                &mut bias[H_CAT + k],
                bias_grad[k],
                &mut bias_acc[k],
                o.learning_rate,
            );
        }
    }
}

/// One message's out-of-fold reading.
#[derive(Clone, Debug)]
pub struct Prediction {
    pub probability: f64,
    pub category: usize,
    pub urgent: bool,
    /// The tier head's probability that a crisis is urgent.
    pub urgent_probability: f64,
    /// Probability of each tone label ([`TONES`] order).
    pub tones: [f64; TONES.len()],
    /// Words in the message (tone readings need [`super::TONE_MIN_WORDS`]).
    pub words: usize,
}

impl TrainedModel {
    /// Score a message (same features as the runtime, in f64).
    pub fn predict(&self, text: &str) -> Prediction {
        let index: HashMap<&str, usize> = self
            .vocab
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        self.predict_with(&index, text)
    }

    /// Features with a non-zero crisis weight.
    pub fn crisis_features(&self) -> usize {
        self.weights
            .iter()
            .filter(|r| r[H_CRISIS].abs() >= 1e-4)
            .count()
    }

    fn predict_with(&self, index: &HashMap<&str, usize>, text: &str) -> Prediction {
        let mut z = self.bias;
        for name in feature_names(text, self.options.feature_set()) {
            if let Some(row) = index.get(name.as_str()).and_then(|&i| self.weights.get(i)) {
                for (a, w) in z.iter_mut().zip(row) {
                    *a += w;
                }
            }
        }
        let mut category = 0;
        for k in 1..CATEGORIES.len() {
            if z[H_CAT + k] > z[H_CAT + category] {
                category = k;
            }
        }
        Prediction {
            probability: super::sigmoid(z[H_CRISIS]),
            category,
            urgent: z[H_TIER] >= 0.0,
            urgent_probability: super::sigmoid(z[H_TIER]),
            tones: std::array::from_fn(|k| super::sigmoid(z[H_TONE + k])),
            words: {
                let mut n = Norm::default();
                text::tokenize_into(text, &mut n);
                n.words
            },
        }
    }

    /// The model file: a header, then `f<TAB>feature<TAB>weight…`, one row
    /// per feature with its weight in every head (three decimals).
    pub fn to_tsv(
        &self,
        threshold: f64,
        possible_threshold: f64,
        urgent_threshold: f64,
        tone_thresholds: &[f64; TONES.len()],
        trained_on: &str,
    ) -> String {
        let o = &self.options;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# Trellis coach model: linear heads (crisis, its category and tier, and the tone labels) over unigrams, bigrams, negated unigrams and stems.\n\
             # Written by `cargo run --release -p trellis-coach --example train_crisis_model`; do not edit by hand.\n\
             # Options: min_count {} epochs {} learning_rate {} l2 {} positive_weight {} l1 (crisis head) {}",
            o.min_count, o.epochs, o.learning_rate, o.l2, o.positive_weight, o.l1
        );
        let _ = writeln!(s, "version\t{FORMAT_VERSION}");
        let _ = writeln!(s, "trained_on\t{trained_on}");
        let _ = writeln!(s, "threshold\t{threshold:.2}");
        let _ = writeln!(s, "possible_threshold\t{possible_threshold:.2}");
        let _ = writeln!(s, "urgent_threshold\t{urgent_threshold:.2}");
        for (k, t) in TONES.iter().zip(tone_thresholds) {
            let _ = writeln!(s, "tone_threshold\t{}\t{t:.2}", k.as_str());
        }
        let _ = writeln!(s, "negation\t{}", u8::from(o.negation));
        let _ = writeln!(s, "stems\t{}", u8::from(o.stems));
        let _ = writeln!(s, "classes\t{}", u8::from(o.classes));
        let heads: Vec<&str> = (0..HEADS).map(head_name).collect();
        let _ = writeln!(s, "heads\t{}", heads.join("\t"));
        let cats: Vec<&str> = CATEGORIES.iter().map(|c| c.as_str()).collect();
        let _ = writeln!(s, "categories\t{}", cats.join("\t"));
        let _ = writeln!(s, "features\t{}", self.vocab.len());
        // one row per feature: its weight in every head, in `heads` order
        // (rows whose weights all round to zero are left out)
        let mut row_line = |name: &str, row: &[f64; HEADS]| {
            if row.iter().all(|w| w.abs() < MIN_WEIGHT) {
                return;
            }
            s.push_str("f\t");
            s.push_str(name);
            for w in row {
                if w.abs() < 0.0005 {
                    s.push_str("\t0");
                } else {
                    let _ = write!(s, "\t{w:.3}");
                }
            }
            s.push('\n');
        };
        row_line(BIAS, &self.bias);
        for (name, row) in self.vocab.iter().zip(&self.weights) {
            row_line(name, row);
        }
        s
    }
}

/// Out-of-fold predictions of `k`-fold cross-validation (message `i` is in
/// fold `i % k`; the files are grouped by kind and category, so this
/// stratifies).
pub fn cross_validate(messages: &[LabelledMessage], options: Options, k: usize) -> Vec<Prediction> {
    let k = k.max(2);
    let mut out: Vec<Option<Prediction>> = vec![None; messages.len()];
    for fold in 0..k {
        let train_set: Vec<LabelledMessage> = messages
            .iter()
            .enumerate()
            .filter(|(i, _)| i % k != fold)
            .map(|(_, m)| m.clone())
            .collect();
        let model = train(&train_set, options);
        let index: HashMap<&str, usize> = model
            .vocab
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        for (i, m) in messages.iter().enumerate().filter(|(i, _)| i % k == fold) {
            out[i] = Some(model.predict_with(&index, &m.text));
        }
    }
    out.into_iter()
        .map(|p| {
            p.unwrap_or(Prediction {
                probability: 0.0,
                category: 0,
                urgent: false,
                urgent_probability: 0.0,
                tones: [0.0; TONES.len()],
                words: 0,
            })
        })
        .collect()
}

/// Crisis decision counts.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            0.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
}

/// Figures at one threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct AtThreshold {
    pub threshold: f64,
    /// The model alone.
    pub model: Counts,
    /// Rules, then the model when the rules found no crisis.
    pub combined: Counts,
    /// Only the alarms the model adds (rules found no crisis).
    pub added: Counts,
    /// Category / tier of the model on gold crisis messages it fires on
    /// where the rules did not (correct, total).
    pub added_category: (usize, usize),
    pub added_tier: (usize, usize),
}

/// Evaluate out-of-fold predictions at `threshold`; `rules[i]` is whether
/// the rules alone read message `i` as crisis.
pub fn at_threshold(
    messages: &[LabelledMessage],
    preds: &[Prediction],
    rules: &[bool],
    threshold: f64,
) -> AtThreshold {
    let mut r = AtThreshold {
        threshold,
        model: Counts::default(),
        combined: Counts::default(),
        added: Counts::default(),
        added_category: (0, 0),
        added_tier: (0, 0),
    };
    for ((m, p), &rule) in messages.iter().zip(preds).zip(rules) {
        let g = gold(m);
        let fires = p.probability >= threshold;
        let count = |c: &mut Counts, predicted: bool| match (predicted, g.crisis) {
            (true, true) => c.tp += 1,
            (true, false) => c.fp += 1,
            (false, true) => c.fn_ += 1,
            (false, false) => {}
        };
        count(&mut r.model, fires);
        count(&mut r.combined, rule || fires);
        if !rule {
            count(&mut r.added, fires);
            if fires && g.crisis {
                r.added_category.1 += 1;
                r.added_tier.1 += 1;
                if g.category == Some(p.category) {
                    r.added_category.0 += 1;
                }
                if g.urgent == p.urgent {
                    r.added_tier.0 += 1;
                }
            }
        }
    }
    r
}

/// Category and tier accuracy of out-of-fold predictions over all gold
/// crisis messages: ((correct, total), (correct, total)).
pub fn category_tier_accuracy(
    messages: &[LabelledMessage],
    preds: &[Prediction],
) -> ((usize, usize), (usize, usize)) {
    let (mut cat, mut tier) = ((0, 0), (0, 0));
    for (m, p) in messages.iter().zip(preds) {
        let g = gold(m);
        if let Some(c) = g.category {
            cat.1 += 1;
            cat.0 += usize::from(c == p.category);
        }
        if g.crisis {
            tier.1 += 1;
            tier.0 += usize::from(g.urgent == p.urgent);
        }
    }
    (cat, tier)
}

/// Of the ordinary messages (kind `other`: everyday writing, neither crisis
/// nor a look-alike), the share the model alone flags at `threshold` (the
/// false alarms a therapist would get from everyday use), and their number.
pub fn ordinary_alarm_rate(
    messages: &[LabelledMessage],
    preds: &[Prediction],
    threshold: f64,
) -> (f64, usize) {
    let (mut alarms, mut total) = (0usize, 0usize);
    for (m, p) in messages.iter().zip(preds) {
        if m.kind.as_deref() == Some("other") && !gold(m).crisis {
            total += 1;
            alarms += usize::from(p.probability >= threshold);
        }
    }
    (
        if total == 0 {
            0.0
        } else {
            alarms as f64 / total as f64
        },
        total,
    )
}

/// The rules alone on each message.
pub fn rules_decisions(messages: &[LabelledMessage]) -> Vec<bool> {
    messages
        .iter()
        .map(|m| crate::engine::rules_crisis(&m.text))
        .collect()
}

/// Rows whose weights are all smaller than this are left out of the file.
const MIN_WEIGHT: f64 = 0.002;

/// The files the shipped model is trained on (written into its header).
pub const TRAINED_ON: &str = "data/dev.jsonl data/train.jsonl data/crisis-train.jsonl";

/// Fewest alarms a threshold must raise in CV before its precision counts
/// (above it, one or two confident mistakes make the estimate meaningless).
pub const MIN_ALARMS: usize = 10;

/// The lowest threshold (on a 0.01 grid, 0.30..=0.99) from which on every
/// higher threshold that raises at least [`MIN_ALARMS`] alarms keeps the
/// precision of `pick` at or above `target`.
pub fn choose_threshold(
    messages: &[LabelledMessage],
    preds: &[Prediction],
    rules: &[bool],
    target: f64,
    pick: impl Fn(&AtThreshold) -> Counts,
) -> Option<f64> {
    let mut best = None;
    for t in (30..=99).rev().map(|t| f64::from(t) / 100.0) {
        let c = pick(&at_threshold(messages, preds, rules, t));
        if c.tp + c.fp < MIN_ALARMS {
            continue;
        }
        if c.precision() >= target {
            best = Some(t);
        } else {
            break;
        }
    }
    best
}

/// Of the sure alarms the model adds (rules silent, probability at least
/// `threshold`) whose tier head says urgent with at least `urgent`: how
/// many are gold urgent crises (right), and how many in all.
pub fn urgent_counts(
    messages: &[LabelledMessage],
    preds: &[Prediction],
    rules: &[bool],
    threshold: f64,
    urgent: f64,
) -> (usize, usize) {
    let (mut right, mut all) = (0, 0);
    for ((m, p), &rule) in messages.iter().zip(preds).zip(rules) {
        if rule || p.probability < threshold || p.urgent_probability < urgent {
            continue;
        }
        all += 1;
        let g = gold(m);
        right += usize::from(g.crisis && g.urgent);
    }
    (right, all)
}

/// The lowest tier probability (0.01 grid, 0.50..=0.99) from which on the
/// model's sure alarms called urgent are gold urgent crises at least
/// `target` of the time (at every higher threshold with at least
/// [`MIN_ALARMS`] of them); infinity when none is.
pub fn choose_urgent_threshold(
    messages: &[LabelledMessage],
    preds: &[Prediction],
    rules: &[bool],
    threshold: f64,
    target: f64,
) -> f64 {
    let mut best = f64::INFINITY;
    for t in (50..=99).rev().map(|t| f64::from(t) / 100.0) {
        let (right, all) = urgent_counts(messages, preds, rules, threshold, t);
        if all < MIN_ALARMS {
            continue;
        }
        if right as f64 / all as f64 >= target {
            best = t;
        } else {
            break;
        }
    }
    best
}

/// Label counts of one tone head at a threshold: rules, or the model where
/// the rules found nothing to say (as the coach does); and the counts of the
/// model's added labels alone.
pub fn tone_counts(
    messages: &[LabelledMessage],
    preds: &[Prediction],
    rules: &[Vec<crate::Label>],
    k: usize,
    threshold: f64,
    only: impl Fn(usize) -> bool,
) -> (Counts, Counts) {
    let label = TONES[k].label();
    let (mut all, mut added) = (Counts::default(), Counts::default());
    for (i, ((m, p), r)) in messages.iter().zip(preds).zip(rules).enumerate() {
        if !only(i) || m.crisis_only {
            continue;
        }
        let silent = r.is_empty();
        let by_model = silent && p.words >= super::TONE_MIN_WORDS && p.tones[k] >= threshold;
        let gold = gold(m).tones[k];
        for (c, predicted) in [
            (&mut all, r.contains(&label) || by_model),
            (&mut added, by_model),
        ] {
            match (predicted, gold) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                (false, true) => c.fn_ += 1,
                (false, false) => {}
            }
        }
    }
    (all, added)
}

/// Least precision the model's own tone labels must keep (out of fold).
pub const TONE_PRECISION: f64 = 0.75;

/// The threshold (0.50..=0.99, or never) that gives tone head `k` the best
/// F1 of rules-or-model over the messages `only` selects, while the labels
/// the model adds keep [`TONE_PRECISION`]: out-of-fold model readings on
/// messages the rules were not written against, so the rules' figures there
/// are honest too.
pub fn choose_tone_threshold(
    messages: &[LabelledMessage],
    preds: &[Prediction],
    rules: &[Vec<crate::Label>],
    k: usize,
    only: impl Fn(usize) -> bool + Copy,
) -> f64 {
    let f1 = |c: Counts| {
        let (p, r) = (c.precision(), c.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    };
    let mut best = (
        f1(tone_counts(messages, preds, rules, k, f64::INFINITY, only).0),
        f64::INFINITY,
    );
    for t in (50..=99).map(|t| f64::from(t) / 100.0) {
        let (all, added) = tone_counts(messages, preds, rules, k, t, only);
        if added.tp + added.fp < 3 || added.precision() < TONE_PRECISION {
            continue;
        }
        let score = f1(all);
        if score > best.0 + 1e-9 {
            best = (score, t);
        }
    }
    best.1
}

/// The name of tone head `k`.
pub fn tone_name(k: usize) -> &'static str {
    TONES.get(k).map_or("", |t| t.as_str())
}

/// The rules alone on each message: all labels, or none at all when they
/// saw no cue (not even one they set aside).
pub fn rules_labels(messages: &[LabelledMessage]) -> Vec<Vec<crate::Label>> {
    messages
        .iter()
        .map(|m| crate::engine::rules_labels(&m.text))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::eval::parse_jsonl;
    use crate::model::{MODEL_TSV, Model};

    fn development() -> Vec<LabelledMessage> {
        let mut all = parse_jsonl(include_str!("../../data/dev.jsonl")).unwrap();
        all.extend(parse_jsonl(include_str!("../../data/train.jsonl")).unwrap());
        all.extend(parse_jsonl(include_str!("../../data/crisis-train.jsonl")).unwrap());
        all
    }

    fn tone_thresholds_of(tsv: &str) -> [f64; TONES.len()] {
        TONES.map(|k| {
            tsv.lines()
                .find_map(|l| l.strip_prefix(&format!("tone_threshold\t{}\t", k.as_str())))
                .map_or(f64::INFINITY, |v| v.parse().unwrap())
        })
    }

    fn threshold_of(tsv: &str, name: &str) -> f64 {
        tsv.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}\t")))
            .and_then(|v| v.parse().ok())
            .unwrap()
    }

    /// Retraining on the same data gives the same file, and the shipped
    /// file is what the documented command writes.
    #[test]
    fn retraining_is_deterministic_and_reproduces_the_shipped_model() {
        let data = development();
        let threshold = threshold_of(MODEL_TSV, "threshold");
        let possible = threshold_of(MODEL_TSV, "possible_threshold");
        let urgent = threshold_of(MODEL_TSV, "urgent_threshold");
        let tones = tone_thresholds_of(MODEL_TSV);
        let write = || {
            train(&data, Options::default()).to_tsv(threshold, possible, urgent, &tones, TRAINED_ON)
        };
        let (a, b) = (write(), write());
        assert_eq!(a, b);
        // same features and weights as shipped (to the printed precision,
        // allowing one unit of rounding from a different libm)
        let parse = |s: &str| -> Vec<(String, f64)> {
            s.lines()
                .filter_map(|l| l.strip_prefix("f\t"))
                .flat_map(|l| {
                    let mut cols = l.split('\t');
                    let name = cols.next().unwrap().to_string();
                    cols.enumerate()
                        .map(move |(h, w)| (format!("{name}/{h}"), w.parse().unwrap()))
                })
                .collect()
        };
        let (mine, shipped) = (parse(&a), parse(MODEL_TSV));
        assert_eq!(mine.len(), shipped.len(), "retrain with the example");
        for ((k1, w1), (k2, w2)) in mine.iter().zip(&shipped) {
            assert_eq!(k1, k2);
            assert!((w1 - w2).abs() <= 2e-3, "{k1}: {w1} vs {w2}");
        }
        assert!(Model::parse(&a).is_ok());
    }
}
