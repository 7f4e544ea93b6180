//! A small statistical crisis model: the fallback after the rules.
//!
//! Three linear heads over the same sparse features of a message:
//!
//! - `crisis`: logistic regression, crisis or not;
//! - `category`: softmax regression over the six [`CrisisCategory`]s;
//! - `tier`: logistic regression, urgent or distress.
//!
//! Features come from the crate's own normalisation (`text::tokenize_into`,
//! so contractions are expanded and text-speak tokens stay as written):
//! lowercase word unigrams and bigrams of adjacent words, and (when the
//! model file says so) a clause-local negation mark on the unigrams that
//! follow `not` / `no` / `never` up to the next punctuation. Each occurrence
//! counts once.
//!
//! The weights live in `data/crisis-model.tsv` (plain text, one weight per
//! line, written by `cargo run --release -p trellis-coach --example
//! train_crisis_model` from `data/dev.jsonl` only) and are compiled in with
//! `include_str!`: no I/O at run time. Scoring hashes each feature once and
//! looks it up in one table; it allocates nothing.
//!
//! The engine calls the model only when the rules found no crisis; see
//! `engine::model_fallback`.

pub mod train;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use crate::explain::Why;
use crate::fx::FxHasher;
use crate::text::{self, Norm};
use crate::{Crisis, CrisisCategory, CrisisTier};

/// The shipped model file.
pub const MODEL_TSV: &str = include_str!("../data/crisis-model.tsv");

/// Version written in (and required of) the model file header.
pub const FORMAT_VERSION: u32 = 1;

/// The six categories, in the model file's class order.
pub const CATEGORIES: [CrisisCategory; 6] = [
    CrisisCategory::SelfHarm,
    CrisisCategory::Suicidal,
    CrisisCategory::Threat,
    CrisisCategory::ViolenceReport,
    CrisisCategory::SexualCoercion,
    CrisisCategory::CoerciveControl,
];

/// Heads: 0 = crisis, 1..=6 = categories, 7 = tier (urgent).
pub(crate) const HEADS: usize = 8;
pub(crate) const H_CRISIS: usize = 0;
pub(crate) const H_CAT: usize = 1;
pub(crate) const H_TIER: usize = 7;

/// Names of the heads as written in the model file.
pub(crate) const HEAD_NAMES: [&str; HEADS] = [
    "crisis",
    "self_harm",
    "suicidal",
    "threat",
    "violence_report",
    "sexual_coercion",
    "coercive_control",
    "urgent",
];

/// The feature name of the bias in the model file.
pub(crate) const BIAS: &str = "<bias>";

/// Words that open a clause-local negation scope.
fn is_negator(w: &str) -> bool {
    matches!(w, "not" | "no" | "never")
}

/// One feature of a message: a word, or two adjacent words, possibly
/// negated; `key` is its hash (see [`key_of`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Feat<'a> {
    pub first: &'a str,
    pub second: Option<&'a str>,
    pub neg: bool,
    pub key: u64,
}

const MUL: u64 = 0x9E37_79B9_7F4A_7C15;

fn word_hash(w: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(w.as_bytes());
    h.finish()
}

fn mix(h: u64) -> u64 {
    let h = (h ^ (h >> 29)).wrapping_mul(MUL);
    h ^ (h >> 32)
}

fn pair_key(a: u64, b: u64) -> u64 {
    mix(a.rotate_left(21) ^ b.wrapping_mul(MUL) ^ 0x5bd1_e995)
}

fn uni_key(a: u64, neg: bool) -> u64 {
    mix(a ^ if neg { 0x27d4_eb2f_1656_67c5 } else { 0 })
}

/// The key of a feature name as written in the model file (`word`,
/// `word word` or `!word`).
pub(crate) fn key_of(name: &str) -> u64 {
    if let Some(w) = name.strip_prefix('!') {
        return uni_key(word_hash(w), true);
    }
    match name.split_once(' ') {
        Some((a, b)) => pair_key(word_hash(a), word_hash(b)),
        None => uni_key(word_hash(name), false),
    }
}

impl Feat<'_> {
    /// The name used in the model file.
    pub(crate) fn name(&self) -> String {
        match (self.second, self.neg) {
            (Some(b), _) => format!("{} {b}", self.first),
            (None, true) => format!("!{}", self.first),
            (None, false) => self.first.to_string(),
        }
    }
}

/// Calls `f(feature, sentence)` for every feature of the tokenised message;
/// `sentence` counts sentences (split at `.` and `?`) from 0.
pub(crate) fn features<'a>(n: &'a Norm, negation: bool, mut f: impl FnMut(Feat<'a>, u32)) {
    let mut sentence = 0u32;
    let mut negated = false;
    // the previous word and its hash, when it directly precedes
    let mut prev: Option<(&str, u64)> = None;
    for (i, t) in n.toks.iter().enumerate() {
        let word = n.canon.get(t.cs..t.ce).unwrap_or("");
        if t.is_punct() {
            if i > 0 && word != "," {
                sentence += 1;
            }
            negated = false;
            prev = None;
            continue;
        }
        let h = word_hash(word);
        let neg = negation && negated;
        f(
            Feat {
                first: word,
                second: None,
                neg,
                key: uni_key(h, neg),
            },
            sentence,
        );
        if let Some((p, ph)) = prev {
            f(
                Feat {
                    first: p,
                    second: Some(word),
                    neg: false,
                    key: pair_key(ph, h),
                },
                sentence,
            );
        }
        if is_negator(word) {
            negated = true;
        }
        prev = Some((word, h));
    }
}

/// Keys are already well-mixed hashes: use them as they are.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// A parsed model file.
#[derive(Debug)]
pub(crate) struct Model {
    pub threshold: f32,
    pub negation: bool,
    pub bias: [f32; HEADS],
    /// Feature key → crisis weight, for the features that have one (the
    /// crisis head is trained with L1, so this table stays small and
    /// cache-friendly: it is read for every message).
    crisis: KeyMap<f32>,
    /// Feature key → row of `weights`: all heads, read only for messages
    /// over the threshold.
    index: KeyMap<u32>,
    weights: Vec<[f32; HEADS]>,
}

/// Why a model file could not be read.
#[derive(Debug, PartialEq, Eq)]
pub struct ModelError(pub String);

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ModelError {}

fn err(line: usize, what: &str) -> ModelError {
    ModelError(format!("crisis model line {}: {what}", line + 1))
}

impl Model {
    /// Parse the model file format (see `train::TrainedModel::to_tsv`).
    pub(crate) fn parse(tsv: &str) -> Result<Model, ModelError> {
        let mut version = None;
        let mut threshold = None;
        let mut negation = None;
        let mut m = Model {
            threshold: 0.0,
            negation: false,
            bias: [0.0; HEADS],
            crisis: KeyMap::default(),
            index: KeyMap::default(),
            weights: Vec::new(),
        };
        for (ln, line) in tsv.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            match cols.as_slice() {
                ["version", v] => version = v.parse::<u32>().ok(),
                ["threshold", v] => threshold = v.parse::<f32>().ok(),
                ["negation", v] => negation = Some(*v == "1"),
                ["heads", rest @ ..] => {
                    if rest != HEAD_NAMES {
                        return Err(err(ln, "unexpected heads"));
                    }
                }
                ["categories", rest @ ..] => {
                    let names: Vec<&str> = CATEGORIES.iter().map(|c| c.as_str()).collect();
                    if *rest != names[..] {
                        return Err(err(ln, "unexpected categories"));
                    }
                }
                ["features", _] | ["trained_on", ..] => {}
                ["w", head, feature, weight] => {
                    let h = HEAD_NAMES
                        .iter()
                        .position(|n| n == head)
                        .ok_or_else(|| err(ln, "unknown head"))?;
                    let w: f32 = weight.parse().map_err(|_| err(ln, "bad weight"))?;
                    if !w.is_finite() {
                        return Err(err(ln, "weight is not finite"));
                    }
                    if *feature == BIAS {
                        m.bias[h] = w;
                        continue;
                    }
                    let key = key_of(feature);
                    let next = m.weights.len() as u32;
                    let slot = *m.index.entry(key).or_insert(next);
                    if slot == next {
                        m.weights.push([0.0; HEADS]);
                    }
                    if h == H_CRISIS {
                        m.crisis.insert(key, w);
                    }
                    if let Some(row) = m.weights.get_mut(slot as usize) {
                        row[h] = w;
                    }
                }
                _ => return Err(err(ln, "unrecognised line")),
            }
        }
        if version != Some(FORMAT_VERSION) {
            return Err(ModelError(format!(
                "crisis model: version {version:?}, expected {FORMAT_VERSION}"
            )));
        }
        m.threshold = threshold.ok_or_else(|| ModelError("crisis model: no threshold".into()))?;
        m.negation = negation.ok_or_else(|| ModelError("crisis model: no negation".into()))?;
        Ok(m)
    }

    /// Number of distinct features with a weight.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.weights.len()
    }

    /// The crisis head's score of a tokenised message, and the sentence
    /// holding the most positive crisis weight.
    pub(crate) fn crisis_score(&self, n: &Norm) -> (f32, Option<u32>) {
        let mut z = self.bias[H_CRISIS];
        let (mut cur_sent, mut cur_sum) = (0u32, 0f32);
        let (mut best_sent, mut best_sum) = (None, 0f32);
        features(n, self.negation, |f, s| {
            if s != cur_sent {
                if cur_sum > best_sum {
                    (best_sent, best_sum) = (Some(cur_sent), cur_sum);
                }
                (cur_sent, cur_sum) = (s, 0.0);
            }
            if let Some(&w) = self.crisis.get(&f.key) {
                z += w;
                if w > 0.0 {
                    cur_sum += w;
                }
            }
        });
        if cur_sum > best_sum {
            best_sent = Some(cur_sent);
        }
        (z, best_sent)
    }

    /// All heads of a tokenised message.
    pub(crate) fn score(&self, n: &Norm) -> Scores {
        let mut z = self.bias;
        features(n, self.negation, |f, _| {
            if let Some(row) = self
                .index
                .get(&f.key)
                .and_then(|&i| self.weights.get(i as usize))
            {
                for (acc, w) in z.iter_mut().zip(row) {
                    *acc += w;
                }
            }
        });
        Scores { z }
    }
}

/// Raw head scores of one message.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scores {
    pub z: [f32; HEADS],
}

pub(crate) fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Scores {
    pub(crate) fn category(&self) -> CrisisCategory {
        let mut best = 0;
        for k in 1..CATEGORIES.len() {
            if self.z[H_CAT + k] > self.z[H_CAT + best] {
                best = k;
            }
        }
        CATEGORIES[best]
    }

    pub(crate) fn tier(&self) -> CrisisTier {
        if self.z[H_TIER] >= 0.0 {
            CrisisTier::Urgent
        } else {
            CrisisTier::Distress
        }
    }
}

/// The existing explanation for a category (the model adds no new texts).
pub(crate) fn why(category: CrisisCategory) -> Why {
    match category {
        CrisisCategory::SelfHarm => Why::SelfHarm,
        CrisisCategory::Suicidal => Why::Suicidal,
        CrisisCategory::Threat => Why::Threat,
        CrisisCategory::ViolenceReport => Why::Violence,
        CrisisCategory::SexualCoercion => Why::SexualCoercion,
        CrisisCategory::CoerciveControl => Why::CoerciveControl,
    }
}

static MODEL: OnceLock<Option<Model>> = OnceLock::new();

/// The shipped model, parsed once. `None` only if the file is malformed
/// (a unit test makes sure it is not); the coach then runs on rules alone.
pub(crate) fn shipped() -> Option<&'static Model> {
    MODEL.get_or_init(|| Model::parse(MODEL_TSV).ok()).as_ref()
}

/// A confident crisis reading by the model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Reading {
    pub crisis: Crisis,
    pub probability: f64,
    /// First and last token (inclusive) of the sentence that carries it.
    pub s: usize,
    pub e: usize,
}

/// The model's reading of a tokenised message, when it is confident.
pub(crate) fn read(n: &Norm) -> Option<Reading> {
    let model = shipped()?;
    let (z, best_sent) = model.crisis_score(n);
    let probability = sigmoid(f64::from(z));
    if probability < f64::from(model.threshold) {
        return None;
    }
    let (s, e) = sentence_tokens(n, best_sent.unwrap_or(0))?;
    let scores = model.score(n);
    Some(Reading {
        crisis: Crisis {
            category: scores.category(),
            tier: scores.tier(),
        },
        probability,
        s,
        e,
    })
}

/// First and last word token of sentence `want` (as counted by
/// [`features`]), falling back to the whole message.
fn sentence_tokens(n: &Norm, want: u32) -> Option<(usize, usize)> {
    let mut sentence = 0u32;
    let mut range: Option<(usize, usize)> = None;
    let mut any: Option<(usize, usize)> = None;
    for (i, t) in n.toks.iter().enumerate() {
        if t.is_punct() {
            if i > 0 && matches!(n.tok_text(i), "." | "?") {
                sentence += 1;
            }
            continue;
        }
        any = Some(any.map_or((i, i), |(s, _)| (s, i)));
        if sentence == want {
            range = Some(range.map_or((i, i), |(s, _)| (s, i)));
        }
    }
    range.or(any)
}

/// The model alone on `text`: `Some` when it reads the message as crisis
/// with at least the shipped threshold's confidence. The coach only uses
/// it when the rules found no crisis.
pub fn crisis(text: &str) -> Option<Crisis> {
    let mut n = Norm::default();
    text::tokenize_into(text, &mut n);
    read(&n).map(|r| r.crisis)
}

/// The model's crisis probability for `text` (whatever the threshold).
pub fn probability(text: &str) -> f64 {
    let mut n = Norm::default();
    text::tokenize_into(text, &mut n);
    shipped().map_or(0.0, |m| sigmoid(f64::from(m.crisis_score(&n).0)))
}

/// The shipped decision threshold on [`probability`].
pub fn threshold() -> Option<f64> {
    shipped().map(|m| f64::from(m.threshold))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn shipped_model_parses() {
        let m = Model::parse(MODEL_TSV).unwrap();
        assert!(m.len() > 100, "{} features", m.len());
        assert!(m.threshold > 0.5 && m.threshold < 1.0);
        assert!(shipped().is_some());
    }

    #[test]
    fn malformed_files_are_rejected() {
        assert!(Model::parse("").is_err());
        assert!(Model::parse("version\t1\nthreshold\t0.5\nnegation\t1\nw\tnope\tx\t1\n").is_err());
        assert!(
            Model::parse("version\t1\nthreshold\t0.5\nnegation\t1\nw\tcrisis\tx\tNaN\n").is_err()
        );
        assert!(Model::parse("version\t2\nthreshold\t0.5\nnegation\t1\n").is_err());
        let ok =
            Model::parse("version\t1\nthreshold\t0.5\nnegation\t0\nw\tcrisis\tx y\t1.5\n").unwrap();
        assert_eq!(ok.len(), 1);
    }

    #[test]
    fn features_are_unigrams_bigrams_and_negated_unigrams() {
        let mut n = Norm::default();
        text::tokenize_into("I don't want to go, ok. Bye", &mut n);
        let mut got = Vec::new();
        features(&n, true, |f, s| {
            assert_eq!(f.key, key_of(&f.name()));
            got.push((f.name(), s))
        });
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "i", "do", "i do", "not", "do not", "!want", "not want", "!to", "want to", "!go",
                "to go", "ok", "bye"
            ]
        );
        assert_eq!(got.last().map(|(_, s)| *s), Some(1));
    }

    #[test]
    fn plain_sentences_score_as_expected() {
        for text in [
            "I have been thinking about ending my life.",
            "He choked me last night and I am scared to go home.",
            "she takes my phone and checks who i talk to, i am not allowed to see my sister",
        ] {
            assert!(crisis(text).is_some(), "{text}: {}", probability(text));
        }
        for text in [
            "Can you pick up milk on the way home?",
            "That movie was so scary, the killer was brilliant.",
            "This traffic is killing me lol",
            "Thank you for cooking dinner tonight.",
        ] {
            assert!(crisis(text).is_none(), "{text}: {}", probability(text));
        }
    }

    #[test]
    fn fallback_finding_points_at_the_sentence_and_keeps_invariants() {
        let text = "We had a nice dinner, thanks. He said if I ever tell my sister he'll make me regret it.";
        // the rules miss it (today); the model does not
        assert!(!crate::engine::rules_crisis(text));
        let a = crate::analyze(text);
        assert!(a.is_crisis(), "{a:?}");
        let f = &a.findings[0];
        assert_eq!(f.kind, crate::Kind::Crisis);
        assert!(f.crisis.is_some());
        assert_eq!(crate::normalize(&text[f.start..f.end]), f.cue);
        assert_eq!(
            f.cue,
            crate::normalize("He said if I ever tell my sister he'll make me regret it")
        );
        assert!(!f.cue.contains("dinner"), "{}", f.cue);
        assert_eq!(a.labels, crate::labels(text));
        assert!(a.suggestion.is_none());
        // the appreciation in the other sentence is not hidden
        assert!(a.has(crate::Kind::Appreciation));
    }
}
