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
//! lowercase word unigrams and bigrams of adjacent words, crude stems, the
//! lexicon's word classes per sentence, and (when the model file says so) a
//! clause-local negation mark on the unigrams and bigrams that follow
//! `not` / `no` / `never` up to the next punctuation. Each occurrence
//! counts once.
//!
//! The weights live in `data/crisis-model.tsv` (plain text, one weight per
//! line, written by `cargo run --release -p trellis-coach --example
//! train_crisis_model` from the development splits, never a test split)
//! and are compiled in with
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
use crate::lexicon;
use crate::text::Norm;
use crate::{Crisis, CrisisCategory, CrisisTier, Kind};

/// The shipped model file.
pub const MODEL_TSV: &str = include_str!("../data/crisis-model.tsv");

/// Version written in (and required of) the model file header.
pub const FORMAT_VERSION: u32 = 2;

/// The six categories, in the model file's class order (checked against
/// the file's `categories` line when it is read).
pub const CATEGORIES: [CrisisCategory; 6] = CrisisCategory::ALL;
/// Heads: 0 = crisis, 1..=6 = categories, 7 = tier (urgent), 8..=14 =
/// the tone labels of [`TONES`].
pub(crate) const HEADS: usize = 15;
pub(crate) const H_CRISIS: usize = 0;
pub(crate) const H_CAT: usize = 1;
pub(crate) const H_TIER: usize = 7;
pub(crate) const H_TONE: usize = 8;

/// The labels besides crisis that the model also reads, in head order.
pub(crate) const TONES: [Kind; 7] = {
    let a = Kind::ALL;
    [a[1], a[2], a[3], a[4], a[5], a[6], a[7]]
};

/// Fewest words a message needs before the model reads its tone: word
/// statistics say little about a short message ("I'm not sorry.", "ok"),
/// where the rules are the better reader.
pub(crate) const TONE_MIN_WORDS: usize = 8;

/// Name of head `h` as written in the model file: `crisis`, the category
/// names, `urgent`, then the tone label names.
pub(crate) fn head_name(h: usize) -> &'static str {
    match h {
        H_CRISIS => "crisis",
        H_TIER => "urgent",
        _ if (H_CAT..H_CAT + CATEGORIES.len()).contains(&h) => CATEGORIES[h - H_CAT].as_str(),
        _ => TONES.get(h.wrapping_sub(H_TONE)).map_or("", |k| k.as_str()),
    }
}

/// The feature name of the bias in the model file.
pub(crate) const BIAS: &str = "<bias>";

/// Which features a model reads (written in its file header).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct FeatureSet {
    /// Clause-local negation marks on unigrams and bigrams.
    pub negation: bool,
    /// A stem feature for every word (see [`stem`]).
    pub stems: bool,
    /// The lexicon's word classes present in each sentence, and pairs of the
    /// crisis-related ones (see [`class_features`]).
    pub classes: bool,
}

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
    /// `first` is a word's stem (see [`stem`]), not the word.
    pub stem: bool,
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

/// A bigram inside a negation's scope ("not going to hit you": "!to hit")
/// is a feature of its own, so a denied threat does not read as one.
fn neg_pair_key(pair: u64) -> u64 {
    mix(pair ^ 0x3c6e_f372_fe94_f82b)
}

fn uni_key(a: u64, neg: bool) -> u64 {
    mix(a ^ if neg { 0x27d4_eb2f_1656_67c5 } else { 0 })
}

fn stem_key(a: u64) -> u64 {
    mix(a ^ 0x1656_67b1_9e37_79f9)
}

fn class_key(a: u32) -> u64 {
    mix(u64::from(a) ^ 0x7f4a_7c15_2545_f491)
}

fn class_pair_key(a: u32, b: u32) -> u64 {
    mix((u64::from(a) << 8 | u64::from(b)) ^ 0x94d0_49bb_1331_11eb)
}

/// Lexicon classes whose pairs in one sentence are features: the ones crisis
/// language is made of (a violent verb and a body part, medicine and a
/// quantity, a plan and a means, a desire and a self-harm verb…).
const PAIRED_CLASSES: u64 = lexicon::cls::THREAT_VERB
    | lexicon::cls::SELF_VERB
    | lexicon::cls::THREAT_OBJ
    | lexicon::cls::SELF_OBJ
    | lexicon::cls::DEATH
    | lexicon::cls::VIOL
    | lexicon::cls::FORCE
    | lexicon::cls::SH_VERB
    | lexicon::cls::DESIRE
    | lexicon::cls::PAST
    | lexicon::cls::SEX
    | lexicon::cls::COERCE
    | lexicon::cls::REFUSAL
    | lexicon::cls::PERSIST
    | lexicon::cls::CTRL
    | lexicon::cls::CTRL_OBJ
    | lexicon::cls::AGENT
    | lexicon::cls::THIRD
    | lexicon::cls::BODY
    | lexicon::cls::MEDS
    | lexicon::cls::QUANT
    | lexicon::cls::PLAN
    | lexicon::cls::SH_MARK
    | lexicon::cls::NEG
    | lexicon::cls::ME
    | lexicon::cls::SELF_PRON
    | lexicon::cls::LAUGH_WORD
    | lexicon::cls::ACCIDENT
    | lexicon::cls::FEEL_NEG;

/// Calls `f(key, name)` for the class features of a message whose sentences
/// hold the lexicon classes `sentence_bits`: `@n` for each class present in
/// a sentence, `@a&b` for each pair (`@`: no word token starts with it,
/// while numbers are `#`) of [`PAIRED_CLASSES`] in one sentence.
/// The name is built only when `named` (training).
pub(crate) fn class_features(
    sentence_bits: &[u64],
    named: bool,
    mut f: impl FnMut(u64, Option<String>),
) {
    for &bits in sentence_bits {
        let mut rest = bits;
        while rest != 0 {
            let a = rest.trailing_zeros();
            rest &= rest - 1;
            f(class_key(a), named.then(|| format!("@{a}")));
            if PAIRED_CLASSES & (1 << a) == 0 {
                continue;
            }
            let mut later = rest & PAIRED_CLASSES;
            while later != 0 {
                let b = later.trailing_zeros();
                later &= later - 1;
                f(class_pair_key(a, b), named.then(|| format!("@{a}&{b}")));
            }
        }
    }
}

/// A crude suffix-stripping stem (a suffix of `w`), so that forms the training data never
/// showed share a feature with those it did: "choked", "chokes", "choking"
/// and "choke" all give "chok"; "hitting" gives "hit".
pub(crate) fn stem(w: &str) -> &str {
    let b = w.as_bytes();
    let n0 = b.len();
    // the suffix to strip ("ing", "ed", "es", "s", "ly"), keeping at least
    // three letters; decided on the last byte, as this runs for every word
    let cut = match b.last() {
        Some(b'g') if n0 >= 6 && w.ends_with("ing") => 3,
        Some(b'd') if n0 >= 5 && w.ends_with("ed") => 2,
        Some(b's') if n0 >= 5 && w.ends_with("es") => 2,
        Some(b's') if n0 >= 4 && b[n0 - 2] != b's' => 1,
        Some(b'y') if n0 >= 5 && w.ends_with("ly") => 2,
        _ => 0,
    };
    let mut s = w.get(..n0 - cut).unwrap_or(w);
    let sb = s.as_bytes();
    let n = sb.len();
    if n < b.len()
        && n >= 4
        && sb[n - 1] == sb[n - 2]
        && !matches!(sb[n - 1], b'l' | b's' | b'z' | b'e' | b'o')
    {
        // hitting -> hitt -> hit
        s = s.get(..n - 1).unwrap_or(s);
    } else if n >= 4 && sb[n - 1] == b'e' {
        // choke -> chok, like choked
        s = s.get(..n - 1).unwrap_or(s);
    }
    s
}

/// The key of a feature name as written in the model file (`word`,
/// `word word`, `!word` or `~stem`).
pub(crate) fn key_of(name: &str) -> u64 {
    if let Some(c) = name.strip_prefix('@') {
        let num = |s: &str| s.parse::<u32>().unwrap_or(u32::MAX);
        return match c.split_once('&') {
            Some((a, b)) => class_pair_key(num(a), num(b)),
            None => class_key(num(c)),
        };
    }
    if let Some(w) = name.strip_prefix('~') {
        return stem_key(word_hash(w));
    }
    if let Some(w) = name.strip_prefix('!') {
        return match w.split_once(' ') {
            Some((a, b)) => neg_pair_key(pair_key(word_hash(a), word_hash(b))),
            None => uni_key(word_hash(w), true),
        };
    }
    match name.split_once(' ') {
        Some((a, b)) => pair_key(word_hash(a), word_hash(b)),
        None => uni_key(word_hash(name), false),
    }
}

impl Feat<'_> {
    /// The name used in the model file.
    pub(crate) fn name(&self) -> String {
        if self.stem {
            return format!("~{}", self.first);
        }
        match (self.second, self.neg) {
            (Some(b), true) => format!("!{} {b}", self.first),
            (Some(b), false) => format!("{} {b}", self.first),
            (None, true) => format!("!{}", self.first),
            (None, false) => self.first.to_string(),
        }
    }
}

/// Calls `f(feature, sentence)` for every feature of the tokenised message;
/// `sentence` counts sentences (split at `.` and `?`) from 0.
#[inline]
pub(crate) fn features<'a>(n: &'a Norm, set: FeatureSet, mut f: impl FnMut(Feat<'a>, u32)) {
    let negation = set.negation;
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
                stem: false,
                key: uni_key(h, neg),
            },
            sentence,
        );
        if set.stems {
            let st = stem(word);
            let key = stem_key(if st.len() == word.len() {
                h
            } else {
                word_hash(st)
            });
            f(
                Feat {
                    first: st,
                    second: None,
                    neg: false,
                    stem: true,
                    key,
                },
                sentence,
            );
        }
        if let Some((p, ph)) = prev {
            let pair = pair_key(ph, h);
            f(
                Feat {
                    first: p,
                    second: Some(word),
                    neg,
                    stem: false,
                    key: if neg { neg_pair_key(pair) } else { pair },
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

/// The weights of one feature in every head, padded to 16 lanes so that
/// adding a row compiles to a few vector instructions.
#[derive(Clone, Copy, Debug, Default)]
#[repr(align(64))]
pub(crate) struct Row(pub [f32; 16]);

impl Row {
    #[inline]
    fn add(&mut self, other: &Row) {
        for i in 0..16 {
            self.0[i] += other.0[i];
        }
    }
}

const _: () = assert!(HEADS <= 16);

/// Tracks the sentence with the largest sum of positive weights, as
/// features arrive in sentence order.
#[derive(Default)]
struct BestSentence {
    cur: u32,
    sum: f32,
    best: Option<u32>,
    best_sum: f32,
}

impl BestSentence {
    #[inline]
    fn add(&mut self, sentence: u32, w: f32) {
        if sentence != self.cur {
            self.close();
            (self.cur, self.sum) = (sentence, 0.0);
        }
        if w > 0.0 {
            self.sum += w;
        }
    }

    fn close(&mut self) {
        if self.sum > self.best_sum {
            (self.best, self.best_sum) = (Some(self.cur), self.sum);
        }
    }

    fn finish(mut self) -> Option<u32> {
        self.close();
        self.best
    }
}

/// A parsed model file.
#[derive(Debug)]
pub(crate) struct Model {
    /// Probability from which the model's crisis reading is sure enough to
    /// tell the therapist.
    pub threshold: f32,
    /// Probability from which it is a possible sign: the writer is offered
    /// help and the choice to tell their therapist (at most `threshold`).
    pub possible_threshold: f32,
    /// Tier probability from which a sure reading is urgent (infinite:
    /// never, and only the rules make a sign urgent). Possible readings are
    /// never urgent.
    pub urgent_threshold: f32,
    /// Probability each tone head needs before it adds a label the rules
    /// missed (infinite: never).
    pub tone_threshold: [f32; TONES.len()],
    pub set: FeatureSet,
    pub bias: Row,
    /// Feature key → crisis weight: the only head read for every message,
    /// so it gets a small table of its own (fewer cache misses).
    crisis: KeyMap<f32>,
    /// Feature key → row of `weights` (all heads in one row): read only when
    /// a message needs more than the crisis head.
    index: KeyMap<u32>,
    weights: Vec<Row>,
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
        let mut stems = false;
        let mut classes = false;
        let mut m = Model {
            threshold: 0.0,
            possible_threshold: f32::INFINITY,
            urgent_threshold: f32::INFINITY,
            tone_threshold: [f32::INFINITY; TONES.len()],
            set: FeatureSet::default(),
            bias: Row::default(),
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
                ["possible_threshold", v] => {
                    m.possible_threshold =
                        v.parse().map_err(|_| err(ln, "bad possible threshold"))?;
                }
                ["urgent_threshold", v] => {
                    m.urgent_threshold = v.parse().map_err(|_| err(ln, "bad urgent threshold"))?;
                }
                ["negation", v] => negation = Some(*v == "1"),
                ["stems", v] => stems = *v == "1",
                ["classes", v] => classes = *v == "1",
                ["heads", rest @ ..] => {
                    if rest.len() != HEADS
                        || rest.iter().enumerate().any(|(h, n)| *n != head_name(h))
                    {
                        return Err(err(ln, "unexpected heads"));
                    }
                }
                ["tone_threshold", head, v] => {
                    let k = TONES
                        .iter()
                        .position(|k| k.as_str() == *head)
                        .ok_or_else(|| err(ln, "unknown tone head"))?;
                    let t: f32 = v.parse().map_err(|_| err(ln, "bad tone threshold"))?;
                    m.tone_threshold[k] = t;
                }
                ["categories", rest @ ..] => {
                    let names: Vec<&str> = CATEGORIES.iter().map(|c| c.as_str()).collect();
                    if *rest != names[..] {
                        return Err(err(ln, "unexpected categories"));
                    }
                }
                ["features", _] | ["trained_on", ..] => {}
                ["f", feature, ws @ ..] => {
                    if ws.len() != HEADS {
                        return Err(err(ln, "expected one weight per head"));
                    }
                    let mut row = Row::default();
                    for (slot, w) in row.0.iter_mut().zip(ws) {
                        let w: f32 = w.parse().map_err(|_| err(ln, "bad weight"))?;
                        if !w.is_finite() {
                            return Err(err(ln, "weight is not finite"));
                        }
                        *slot = w;
                    }
                    if *feature == BIAS {
                        m.bias = row;
                        continue;
                    }
                    let key = key_of(feature);
                    if m.index.contains_key(&key) {
                        return Err(err(ln, "feature listed twice"));
                    }
                    m.index.insert(key, m.weights.len() as u32);
                    if row.0[H_CRISIS] != 0.0 {
                        m.crisis.insert(key, row.0[H_CRISIS]);
                    }
                    m.weights.push(row);
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
        // a possible sign is never surer than a sure one
        m.possible_threshold = m.possible_threshold.min(m.threshold);
        m.set = FeatureSet {
            negation: negation.ok_or_else(|| ModelError("crisis model: no negation".into()))?,
            stems,
            classes,
        };
        Ok(m)
    }

    /// Number of distinct features with a weight.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.weights.len()
    }

    /// The crisis head's score of a message, and the sentence holding the
    /// most positive crisis weight.
    pub(crate) fn crisis_score(&self, n: &Norm, sentence_bits: &[u64]) -> (f32, Option<u32>) {
        let mut z = self.bias.0[H_CRISIS];
        if self.set.classes {
            class_features(sentence_bits, false, |key, _| {
                z += self.crisis.get(&key).copied().unwrap_or(0.0);
            });
        }
        let mut best = BestSentence::default();
        features(n, self.set, |f, s| {
            let w = self.crisis.get(&f.key).copied().unwrap_or(0.0);
            z += w;
            best.add(s, w);
        });
        (z, best.finish())
    }

    fn row(&self, key: u64) -> Option<&Row> {
        self.index
            .get(&key)
            .and_then(|&i| self.weights.get(i as usize))
    }

    /// All heads of a message, and the sentence holding the most positive
    /// crisis weight.
    pub(crate) fn score(&self, n: &Norm, sentence_bits: &[u64]) -> (Scores, Option<u32>) {
        let mut z = self.bias;
        if self.set.classes {
            class_features(sentence_bits, false, |key, _| {
                if let Some(row) = self.row(key) {
                    z.add(row);
                }
            });
        }
        let mut best = BestSentence::default();
        features(n, self.set, |f, s| {
            if let Some(row) = self.row(f.key) {
                z.add(row);
                best.add(s, row.0[H_CRISIS]);
            }
        });
        let mut out = [0f32; HEADS];
        out.copy_from_slice(&z.0[..HEADS]);
        (Scores { z: out }, best.finish())
    }

    /// The sentence holding the most positive weight of head `h`.
    fn best_sentence(&self, n: &Norm, h: usize) -> Option<u32> {
        let mut sums: Vec<f32> = Vec::new();
        features(n, self.set, |f, s| {
            let w = self
                .index
                .get(&f.key)
                .and_then(|&i| self.weights.get(i as usize))
                .map_or(0.0, |row| row.0[h]);
            let s = s as usize;
            if sums.len() <= s {
                sums.resize(s + 1, 0.0);
            }
            if w > 0.0 {
                sums[s] += w;
            }
        });
        let (best, sum) =
            sums.iter().enumerate().fold(
                (0, 0f32),
                |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
            );
        (sum > 0.0).then_some(best as u32)
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

    /// Urgent only for a sure reading whose tier head reaches `urgent`
    /// (an urgent sign pauses a couple's shared work).
    pub(crate) fn tier(&self, urgent: f32, tentative: bool) -> CrisisTier {
        if !tentative && sigmoid(f64::from(self.z[H_TIER])) >= f64::from(urgent) {
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

/// A confident tone reading: a label the rules may have missed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ToneReading {
    pub kind: Kind,
    pub s: usize,
    pub e: usize,
}

/// Everything the model reads in a message with confidence.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Readings {
    pub crisis: Option<Reading>,
    pub tones: [Option<ToneReading>; TONES.len()],
}

/// The model's readings of a tokenised message. `wanted(kind)` says which
/// tone labels are worth a reading (those the rules did not find).
pub(crate) fn read(n: &Norm, sentence_bits: &[u64], tones_wanted: bool) -> Readings {
    let mut out = Readings::default();
    let Some(model) = shipped() else {
        return out;
    };
    // one pass: all heads when the tone heads are wanted, else the crisis
    // head alone (and all heads only if it fires)
    let tones = tones_wanted && n.words >= TONE_MIN_WORDS;
    let (z, best_sent, scores) = if tones {
        let (all, best) = model.score(n, sentence_bits);
        (all.z[H_CRISIS], best, Some(all))
    } else {
        let (z, best) = model.crisis_score(n, sentence_bits);
        (z, best, None)
    };
    let probability = sigmoid(f64::from(z));
    let crisis = probability >= f64::from(model.possible_threshold);
    if !crisis && !tones {
        return out;
    }
    let scores = scores.unwrap_or_else(|| model.score(n, sentence_bits).0);
    if crisis && let Some((s, e)) = sentence_tokens(n, best_sent.unwrap_or(0)) {
        let tentative = probability < f64::from(model.threshold);
        out.crisis = Some(Reading {
            crisis: Crisis {
                category: scores.category(),
                tier: scores.tier(model.urgent_threshold, tentative),
                tentative,
                statistical: true,
            },
            probability,
            s,
            e,
        });
    }
    for (k, kind) in TONES.iter().enumerate() {
        let h = H_TONE + k;
        if !tones || sigmoid(f64::from(scores.z[h])) < f64::from(model.tone_threshold[k]) {
            continue;
        }
        let sentence = model.best_sentence(n, h).unwrap_or(0);
        if let Some((s, e)) = sentence_tokens(n, sentence) {
            out.tones[k] = Some(ToneReading { kind: *kind, s, e });
        }
    }
    out
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
    crate::engine::with_model_input(text, |n, bits| {
        read(n, bits, false).crisis.map(|r| r.crisis)
    })
}

/// The model's crisis probability for `text` (whatever the threshold).
pub fn probability(text: &str) -> f64 {
    crate::engine::with_model_input(text, |n, bits| {
        shipped().map_or(0.0, |m| sigmoid(f64::from(m.crisis_score(n, bits).0)))
    })
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
        let row = |w: &str| format!("{w}{}", "\t0".repeat(HEADS - 1));
        let head = "version\t2\nthreshold\t0.5\nnegation\t1\n";
        // too few weights, not a number, twice the same feature
        assert!(Model::parse(&format!("{head}f\tx\t1\n")).is_err());
        assert!(Model::parse(&format!("{head}f\tx\t{}\n", row("NaN"))).is_err());
        assert!(Model::parse(&format!("{head}f\tx\t{}\nf\tx\t{}\n", row("1"), row("2"))).is_err());
        // an older format, and a tone threshold for a head that is no tone
        assert!(Model::parse("version\t1\nthreshold\t0.5\nnegation\t1\n").is_err());
        assert!(
            Model::parse("version\t2\nthreshold\t0.5\nnegation\t1\ntone_threshold\tcrisis\t0.5\n")
                .is_err()
        );
        let ok = Model::parse(&format!(
            "version\t2\nthreshold\t0.5\nnegation\t0\nstems\t1\ntone_threshold\trepair\t0.4\nf\tx y\t{}\nf\t~sorri\t{}\n",
            row("1.5"),
            row("2")
        ))
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert!(ok.set.stems && !ok.set.negation);
        assert_eq!(ok.tone_threshold[5], 0.4);
        assert!(
            ok.tone_threshold[0].is_infinite(),
            "unset tone heads never fire"
        );
    }

    #[test]
    fn stems_join_the_forms_of_a_word() {
        for (forms, want) in [
            (&["choke", "choked", "chokes", "choking"][..], "chok"),
            (&["hit", "hits", "hitting"][..], "hit"),
            (&["cut", "cuts", "cutting"][..], "cut"),
            (&["hurt", "hurts", "hurting"][..], "hurt"),
            (&["kill", "killed", "kills", "killing"][..], "kill"),
        ] {
            for w in forms {
                assert_eq!(stem(w), want, "{w}");
            }
        }
        // short words and words ending in ss keep their shape
        assert_eq!(stem("is"), "is");
        assert_eq!(stem("kiss"), "kiss");
        assert_eq!(stem("bed"), "bed");
    }

    #[test]
    fn class_features_name_classes_and_crisis_pairs() {
        use crate::lexicon::cls;
        let a = cls::MEDS.trailing_zeros();
        let b = cls::QUANT.trailing_zeros();
        let t = cls::TRAIT.trailing_zeros();
        let mut got = Vec::new();
        class_features(&[cls::MEDS | cls::QUANT | cls::TRAIT], true, |key, name| {
            let name = name.unwrap();
            assert_eq!(key, key_of(&name), "{name}");
            got.push(name);
        });
        got.sort();
        let (lo, hi) = (a.min(b), a.max(b));
        let mut want = vec![
            format!("@{a}"),
            format!("@{b}"),
            format!("@{t}"),
            format!("@{lo}&{hi}"),
        ];
        want.sort();
        // a tone class pairs with nothing
        assert_eq!(got, want);
    }

    #[test]
    fn every_head_has_a_distinct_name() {
        let names: std::collections::HashSet<&str> = (0..HEADS).map(head_name).collect();
        assert_eq!(names.len(), HEADS);
        assert!(!names.contains(""));
    }

    #[test]
    fn likely_but_unsure_readings_are_tentative_and_sure_ones_are_not() {
        let model = shipped().unwrap();
        assert!(
            (0.5..=model.threshold).contains(&model.possible_threshold),
            "{} <= {}",
            model.possible_threshold,
            model.threshold
        );
        let possible =
            crate::analyze("I gave my guitar to my brother, I won't need it").crisis_signs();
        assert_eq!(possible.len(), 1, "{possible:?}");
        assert!(possible[0].tentative);
        assert!(possible[0].statistical, "read by the word statistics");
        assert_eq!(possible[0].tier, CrisisTier::Distress);
        for sure in [
            "Some nights I want to kill myself.",
            "He hit me again last night.",
        ] {
            let signs = crate::analyze(sure).crisis_signs();
            assert!(
                !signs.is_empty() && signs.iter().all(|s| !s.tentative),
                "{sure}: {signs:?}"
            );
        }
        assert!(
            crate::analyze("Can you pick up milk on the way home?")
                .crisis_signs()
                .is_empty()
        );
    }

    #[test]
    fn only_a_sure_reading_with_a_confident_tier_head_is_urgent() {
        let with_tier = |z: f32| {
            let mut scores = Scores { z: [0.0; HEADS] };
            scores.z[H_TIER] = z;
            scores
        };
        let (confident, lukewarm) = (with_tier(3.0), with_tier(0.5));
        assert_eq!(confident.tier(0.84, false), CrisisTier::Urgent);
        assert_eq!(confident.tier(0.84, true), CrisisTier::Distress, "possible");
        assert_eq!(confident.tier(f32::INFINITY, false), CrisisTier::Distress);
        assert_eq!(lukewarm.tier(0.84, false), CrisisTier::Distress);
        let shipped = shipped().unwrap();
        assert!(
            (0.5..1.0).contains(&shipped.urgent_threshold),
            "{}",
            shipped.urgent_threshold
        );
    }

    #[test]
    fn features_are_unigrams_bigrams_and_their_negated_forms() {
        let mut n = Norm::default();
        crate::text::tokenize_into("I don't want to go, ok. Bye", &mut n);
        let mut got = Vec::new();
        features(
            &n,
            FeatureSet {
                negation: true,
                stems: false,
                classes: false,
            },
            |f, s| {
                assert_eq!(f.key, key_of(&f.name()));
                got.push((f.name(), s))
            },
        );
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "i",
                "do",
                "i do",
                "not",
                "do not",
                "!want",
                "!not want",
                "!to",
                "!want to",
                "!go",
                "!to go",
                "ok",
                "bye"
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
            // the model leans to crisis on its own, and the coach reports it
            assert!(probability(text) >= 0.75, "{text}: {}", probability(text));
            assert!(crate::analyze(text).is_crisis(), "{text}");
        }
        assert!(crisis("He choked me last night and I am scared to go home.").is_some());
        for text in [
            "Can you pick up milk on the way home?",
            "That movie was so scary, the killer was brilliant.",
            "This traffic is killing me lol",
            "Thank you for cooking dinner tonight.",
            "I'll be away all weekend, want me to call?",
            "I hope I don't wake up late tomorrow.",
        ] {
            assert!(crisis(text).is_none(), "{text}: {}", probability(text));
            assert!(!crate::analyze(text).is_crisis(), "{text}");
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
