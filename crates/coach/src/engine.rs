//! Matching and rules.
//!
//! 1. `text::tokenize` builds the canonical string and token table.
//! 2. One overlapping Aho–Corasick pass finds every lexicon phrase, word class
//!    and grammar anchor.
//! 3. Grammar rules complete anchors ("you are" + adverbs + trait word, "I
//!    feel" + feeling word, "I will" + violent verb + person, ...).
//! 4. Resolution: negation, longest match, crisis precedence, sarcasm,
//!    positive framing, counter-attacks, fake I-statements, shouting.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::explain::Why;
use crate::fx::FxMap;
use crate::lexicon::{self, Anchor, Cue, cls, fl};
use crate::text::{self, F_CAPS, F_INTERROBANG, F_SYNTH, Norm};

thread_local! {
    /// Per-thread scratch buffers, reused across calls.
    static SCRATCH: RefCell<Ctx> = RefCell::new(Ctx::default());
}

/// Run the analyser on `text` and hand the result to `f`, reusing this
/// thread's scratch buffers when possible.
fn with_ctx<R>(text: &str, f: impl Fn(&Ctx) -> R) -> R {
    let reused = SCRATCH.try_with(|cell| {
        let mut ctx = cell.try_borrow_mut().ok()?;
        run_into(text, &mut ctx);
        let out = f(&ctx);
        ctx.shrink();
        Some(out)
    });
    if let Ok(Some(out)) = reused {
        return out;
    }
    let mut ctx = Ctx::default();
    run_into(text, &mut ctx);
    f(&ctx)
}
use crate::{Analysis, Finding, Kind, Label, suggest};

pub(crate) struct Lex {
    /// Multi-word phrases (spaced so they match whole tokens only).
    ac: AhoCorasick,
    /// Cues of each AC pattern.
    cues: Vec<Vec<Cue>>,
    ntoks: Vec<usize>,
    /// Single-word entries, looked up per token.
    words: FxMap<Box<str>, Vec<Cue>>,
}

static LEX: LazyLock<Option<Lex>> = LazyLock::new(build);

fn build() -> Option<Lex> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut patterns: Vec<String> = Vec::new();
    let mut cues: Vec<Vec<Cue>> = Vec::new();
    let mut add = |p: String, cue: Cue| {
        let id = *index.entry(p.clone()).or_insert_with(|| {
            patterns.push(p);
            cues.push(Vec::new());
            patterns.len() - 1
        });
        let list = &mut cues[id];
        if let Cue::Class(bits) = cue {
            for c in list.iter_mut() {
                if let Cue::Class(b) = c {
                    *b |= bits;
                    return;
                }
            }
        }
        list.push(cue);
    };
    for (why, flags, list) in lexicon::FINDS {
        for t in *list {
            for p in lexicon::expand_template(t) {
                add(p, Cue::Find(*why, *flags));
            }
        }
    }
    for t in lexicon::MASKS {
        for p in lexicon::expand_template(t) {
            add(p, Cue::Find(Why::Apology, fl::MASK));
        }
    }
    for (bits, list) in lexicon::CLASSES.iter().chain(lexicon::MULTI_CLASSES.iter()) {
        for t in *list {
            for p in lexicon::expand_template(t) {
                add(p, Cue::Class(*bits));
            }
        }
    }
    for (anchor, list) in lexicon::ANCHORS {
        for t in *list {
            for p in lexicon::expand_template(t) {
                add(p, Cue::Anchor(*anchor));
            }
        }
    }
    // one-word entries go to the hash map, phrases to the automaton
    let mut words: FxMap<Box<str>, Vec<Cue>> = HashMap::default();
    let mut phrase_cues = Vec::new();
    let mut phrases = Vec::new();
    for (p, c) in patterns.into_iter().zip(cues) {
        if p.contains(' ') {
            phrases.push(p);
            phrase_cues.push(c);
        } else {
            words.insert(p.into_boxed_str(), c);
        }
    }
    let cues = phrase_cues;
    let ntoks = phrases.iter().map(|p| p.split(' ').count()).collect();
    let spaced: Vec<String> = phrases.iter().map(|p| format!(" {p} ")).collect();
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&spaced)
        .or_else(|_| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&spaced)
        })
        .ok()?;
    Some(Lex {
        ac,
        cues,
        ntoks,
        words,
    })
}

/// True once the lexicon compiled (it always should; checked by tests).
#[cfg(test)]
pub(crate) fn lexicon_ready() -> bool {
    LEX.is_some()
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Cand {
    pub why: Why,
    /// First and last token (inclusive).
    pub s: usize,
    pub e: usize,
    pub flags: u8,
    pub grammar: bool,
    pub alive: bool,
}

impl Cand {
    pub(crate) fn kind(&self) -> Kind {
        self.why.kind()
    }
    fn len(&self) -> usize {
        self.e - self.s
    }
    fn contains(&self, o: &Cand) -> bool {
        self.s <= o.s && o.e <= self.e && self.len() > o.len()
    }
}

#[derive(Default)]
pub(crate) struct Ctx {
    pub n: Norm,
    pub cls: Vec<u64>,
    multi: Vec<(usize, usize, u64)>,
    pub sent: Vec<u32>,
    pub cands: Vec<Cand>,
    anchors: Vec<(usize, usize, Anchor)>,
    /// Token index by canonical start byte (valid at token starts only).
    tok_at: Vec<u32>,
    /// Union of all token classes in the message.
    all: u64,
}

impl Ctx {
    fn clear(&mut self) {
        self.cls.clear();
        self.multi.clear();
        self.sent.clear();
        self.cands.clear();
        self.anchors.clear();
        self.all = 0;
    }
    /// Give memory back after an unusually large message.
    fn shrink(&mut self) {
        const LIMIT: usize = 1 << 16;
        if self.n.toks.capacity() > LIMIT || self.n.canon.capacity() > 4 * LIMIT {
            *self = Ctx::default();
        }
    }
    fn len(&self) -> usize {
        self.n.toks.len()
    }
    pub(crate) fn is_punct(&self, i: usize) -> bool {
        self.n.toks.get(i).is_none_or(|t| t.is_punct())
    }
    pub(crate) fn has(&self, i: usize, bits: u64) -> bool {
        self.cls.get(i).is_some_and(|c| c & bits != 0)
    }
    pub(crate) fn word(&self, i: usize) -> &str {
        self.n.tok_text(i)
    }
    /// End of a (single- or multi-token) class entry starting at `i`.
    fn class_at(&self, i: usize, bits: u64) -> Option<usize> {
        if self.has(i, bits) {
            return Some(i);
        }
        // `multi` is sorted by start
        let from = self.multi.partition_point(|m| m.0 < i);
        self.multi[from..]
            .iter()
            .take_while(|m| m.0 == i)
            .filter(|m| m.2 & bits != 0)
            .map(|m| m.1)
            .max()
    }
    fn push(&mut self, why: Why, s: usize, e: usize, flags: u8) {
        self.cands.push(Cand {
            why,
            s,
            e,
            flags,
            grammar: true,
            alive: true,
        });
    }
    fn sentence_has(&self, i: usize, pred: impl Fn(&str) -> bool) -> bool {
        let Some(&sid) = self.sent.get(i) else {
            return false;
        };
        // bounded, so pathological one-sentence inputs stay linear
        let mut lo = i;
        while lo > 0 && i - lo < 64 && self.sent.get(lo - 1) == Some(&sid) {
            lo -= 1;
        }
        let mut hi = i;
        while hi - i < 64 && self.sent.get(hi + 1) == Some(&sid) {
            hi += 1;
        }
        (lo..=hi).any(|k| pred(self.word(k)))
    }
    fn caps(&self, i: usize) -> bool {
        self.n.toks.get(i).is_some_and(|t| t.flags & F_CAPS != 0)
    }
}

/// Tokenise, match and apply all rules.
fn run_into(text: &str, ctx: &mut Ctx) {
    ctx.clear();
    text::tokenize_into(text, &mut ctx.n);
    let len = ctx.n.toks.len();
    ctx.cls.resize(len, 0);
    if ctx.tok_at.len() < ctx.n.canon.len() + 1 {
        ctx.tok_at.resize(ctx.n.canon.len() + 1, 0);
    }
    for (i, t) in ctx.n.toks.iter().enumerate() {
        if let Some(slot) = ctx.tok_at.get_mut(t.cs) {
            *slot = u32::try_from(i).unwrap_or(u32::MAX);
        }
    }
    let mut sid = 0u32;
    for t in &ctx.n.toks {
        ctx.sent.push(sid);
        if t.is_punct() {
            let c = ctx.n.canon.as_bytes().get(t.cs).copied();
            if c == Some(b'.') || c == Some(b'?') {
                sid += 1;
            }
        }
    }
    let Some(lex) = LEX.as_ref() else {
        return;
    };
    for i in 0..len {
        let t = ctx.n.toks[i];
        let Some(list) = ctx.n.canon.get(t.cs..t.ce).and_then(|w| lex.words.get(w)) else {
            continue;
        };
        for cue in list {
            match *cue {
                Cue::Find(why, flags) => ctx.cands.push(Cand {
                    why,
                    s: i,
                    e: i,
                    flags,
                    grammar: false,
                    alive: true,
                }),
                Cue::Class(bits) => ctx.cls[i] |= bits,
                Cue::Anchor(a) => ctx.anchors.push((i, i, a)),
            }
        }
    }
    for m in lex.ac.find_overlapping_iter(ctx.n.canon.as_str()) {
        let pid = m.pattern().as_usize();
        let sb = m.start() + 1;
        let s = ctx.tok_at.get(sb).map_or(usize::MAX, |&i| i as usize);
        if ctx.n.toks.get(s).is_none_or(|t| t.cs != sb) {
            continue;
        }
        let e = s + lex.ntoks.get(pid).copied().unwrap_or(1).max(1) - 1;
        if e >= len {
            continue;
        }
        for cue in lex.cues.get(pid).map(Vec::as_slice).unwrap_or(&[]) {
            match *cue {
                Cue::Find(why, flags) => ctx.cands.push(Cand {
                    why,
                    s,
                    e,
                    flags,
                    grammar: false,
                    alive: true,
                }),
                Cue::Class(bits) => {
                    if s == e {
                        ctx.cls[s] |= bits;
                    } else {
                        ctx.multi.push((s, e, bits));
                    }
                }
                Cue::Anchor(a) => ctx.anchors.push((s, e, a)),
            }
        }
    }
    ctx.all = ctx.cls.iter().fold(0, |acc, c| acc | c);
    ctx.multi.sort_unstable_by_key(|m| m.0);
    // an anchor inside a longer anchor is superseded by it (sorted by start,
    // longest first: inside iff an earlier anchor reaches at least as far)
    let mut anchors = std::mem::take(&mut ctx.anchors);
    anchors.sort_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
    let mut reach: Option<usize> = None;
    for &(s, e, a) in &anchors {
        let inside = reach.is_some_and(|r| r >= e);
        reach = Some(reach.map_or(e, |r| r.max(e)));
        if !inside {
            grammar(ctx, s, e, a);
        }
    }
    ctx.anchors = anchors;
    if ctx.n.canon.contains('?') {
        echo_questions(ctx);
    }
    if ctx.n.canon.contains(" again ") {
        again_rule(ctx);
    }
    ideation_rule(ctx);
    resolve(ctx);
}

// ---------------------------------------------------------------- grammar

fn grammar(ctx: &mut Ctx, s: usize, e: usize, a: Anchor) {
    match a {
        Anchor::You => you_rule(ctx, s, e + 1, false),
        Anchor::YouBe => you_rule(ctx, s, e + 1, true),
        Anchor::Your => {
            if ctx.has(e + 1, cls::YOUR_ARE) && !ctx.is_punct(e + 1) {
                you_rule(ctx, s, e + 1, true);
            }
        }
        Anchor::WhatA => what_a_rule(ctx, s, e),
        Anchor::FutureI => threat_rule(ctx, s, e),
        Anchor::TheyWill => they_threat_rule(ctx, s, e),
        _ => feel_rule(ctx, s, e, a),
    }
}

/// Words that look like traits or insults but are usually verbs after a bare
/// "you" ("you mean…", "you cheat at cards").
fn bare_you_ambiguous(w: &str) -> bool {
    matches!(
        w,
        "mean"
            | "cheat"
            | "lie"
            | "nag"
            | "joke"
            | "mess"
            | "baby"
            | "waste"
            | "tool"
            | "bully"
            | "snake"
            | "pig"
            | "cow"
            | "animal"
            | "critical"
            | "difficult"
            | "cold"
            | "dirty"
            | "negative"
            | "cheap"
            | "nightmare"
            | "gross"
            | "good"
            | "best"
    )
}

fn you_rule(ctx: &mut Ctx, a_s: usize, start: usize, be: bool) {
    let len = ctx.len();
    let (mut neg, mut too, mut my, mut intens) = (false, false, false, false);
    let mut j = start;
    let mut steps = 0;
    while j < len && steps < 6 && !ctx.is_punct(j) {
        steps += 1;
        let c = ctx.cls[j];
        if c & cls::ALWAYS != 0 {
            if neg {
                return;
            }
            // "you always help", "you are always so kind" are praise
            let mut k = j + 1;
            while k < len && k <= j + 3 && !ctx.is_punct(k) {
                if ctx.has(k, cls::PRAISE | cls::POS_VERB) {
                    ctx.push(Why::Admire, a_s, k, fl::POSCTX);
                    return;
                }
                if !ctx.has(k, cls::INTENS) {
                    break;
                }
                k += 1;
            }
            ctx.push(Why::Absolute, a_s, j, fl::SITU);
            return;
        }
        if c & cls::NEVER != 0 && !neg {
            let next = ctx.word(j + 1);
            if matches!(
                next,
                "know" | "knew" | "mind" | "cease" | "fail" | "fails" | "guess" | "believe"
            ) {
                return;
            }
            ctx.push(Why::Absolute, a_s, j, fl::SITU);
            return;
        }
        let bare_ok = be || intens || {
            // vocative: "you idiot!", "you selfish jerk"
            let nxt = j + 1;
            ctx.is_punct(nxt) || ctx.has(nxt, cls::INSULT | cls::TRAIT)
        };
        let ambiguous = !be && bare_you_ambiguous(ctx.word(j));
        if let Some(end) = ctx.class_at(j, cls::INSULT)
            && !neg
            && !my
            && bare_ok
            && !ambiguous
        {
            ctx.push(Why::Insult, a_s, end, 0);
            return;
        }
        if c & cls::DISMISS != 0 && !neg && bare_ok {
            ctx.push(Why::Dismissive, a_s, j, 0);
            return;
        }
        if c & cls::DISMISS_TOO != 0 && too && !neg {
            ctx.push(Why::Dismissive, a_s, j, 0);
            return;
        }
        if c & cls::TRAIT != 0 && !neg && bare_ok && !ambiguous {
            let mut k = j + 1;
            while k < len && k <= j + 2 && !ctx.is_punct(k) {
                if let Some(end) = ctx.class_at(k, cls::INSULT) {
                    ctx.push(Why::Insult, a_s, end, 0);
                    return;
                }
                if !ctx.has(k, cls::TRAIT | cls::INTENS) {
                    break;
                }
                k += 1;
            }
            ctx.push(Why::Character, a_s, j, 0);
            return;
        }
        if (be || my)
            && !neg
            && (c & cls::PRAISE != 0 && !ambiguous || (my && c & cls::MY_PRAISE != 0))
        {
            ctx.push(Why::Admire, a_s, j, fl::POSCTX);
            return;
        }
        // "when you forget…" describes a situation (as in an I-statement)
        let situational =
            (a_s.saturating_sub(6)..a_s).any(|q| matches!(ctx.word(q), "when" | "if" | "whenever"));
        if be && !neg && !situational && c & cls::BLAME_VERB != 0 && ctx.word(j).ends_with("ing") {
            ctx.push(Why::Blame, a_s, j, fl::SITU);
            return;
        }
        if !be && !my {
            if c & cls::BLAME_VERB != 0 && !neg && !situational {
                ctx.push(Why::Blame, a_s, j, fl::SITU);
                return;
            }
            if c & cls::AUX_NEG != 0 && ctx.word(j + 1) == "not" {
                let present = c & cls::AUX_PRESENT != 0;
                let mut even = false;
                let mut k = j + 2;
                while k < len && k <= j + 5 && !ctx.is_punct(k) {
                    if ctx.has(k, cls::EVEN) {
                        even = true;
                        k += 1;
                        continue;
                    }
                    if ctx.has(k, cls::HABIT) {
                        if even || (present && !situational) {
                            ctx.push(Why::Blame, a_s, k, fl::SITU);
                        }
                        return;
                    }
                    break;
                }
                return;
            }
        }
        if !be && matches!(ctx.word(j), "have" | "has" | "had" | "will" | "would") {
            j += 1;
            continue;
        }
        if c & cls::TOO != 0 {
            too = true;
        }
        if c & cls::NEG != 0 {
            neg = true;
        } else if c & cls::MY != 0 {
            my = true;
        } else if c & (cls::INTENS | cls::TOO) != 0 || (be && c & cls::LIKE != 0) {
            intens = true;
        } else {
            return;
        }
        j += 1;
    }
}

fn what_a_rule(ctx: &mut Ctx, a_s: usize, a_e: usize) {
    let len = ctx.len();
    let mut j = a_e + 1;
    while j < len && j <= a_e + 3 && !ctx.is_punct(j) {
        if let Some(end) = ctx.class_at(j, cls::INSULT) {
            let w = ctx.word(j);
            let thing = matches!(
                w,
                "mess"
                    | "nightmare"
                    | "joke"
                    | "waste"
                    | "disappointment"
                    | "failure"
                    | "embarrassment"
                    | "disgrace"
                    | "trash"
                    | "garbage"
            );
            if !thing && (ctx.is_punct(end + 1) || ctx.has(end + 1, cls::YOU)) {
                ctx.push(Why::Insult, a_s, end, 0);
            }
            return;
        }
        if !ctx.has(j, cls::INTENS | cls::TRAIT | cls::INSULT) {
            return;
        }
        j += 1;
    }
}

fn threat_rule(ctx: &mut Ctx, a_s: usize, a_e: usize) {
    let len = ctx.len();
    let mut j = a_e + 1;
    while j < len && j <= a_e + 4 && !ctx.is_punct(j) {
        if ctx.has(j, cls::NEG) {
            return;
        }
        if ctx.has(j, cls::THREAT_VERB | cls::SELF_VERB) {
            let k = j + 1;
            if ctx.has(k, cls::SELF_OBJ) && ctx.has(j, cls::SELF_VERB) {
                ctx.push(Why::SelfHarm, a_s, k, 0);
            } else if ctx.word(k) == "your"
                && ctx.has(j, cls::THREAT_VERB)
                && matches!(
                    ctx.word(k + 1),
                    "face"
                        | "head"
                        | "teeth"
                        | "neck"
                        | "skull"
                        | "throat"
                        | "nose"
                        | "jaw"
                        | "legs"
                        | "arms"
                        | "arm"
                        | "leg"
                )
            {
                ctx.push(Why::Threat, a_s, k + 1, 0);
            } else if ctx.has(k, cls::THREAT_OBJ) && ctx.has(j, cls::THREAT_VERB) {
                let lethal = matches!(
                    ctx.word(j),
                    "kill" | "murder" | "stab" | "shoot" | "strangle" | "choke"
                );
                let idiom = matches!(
                    ctx.word(k + 1),
                    "off" | "up" | "at" | "in" | "with" | "back" | "on" | "to"
                );
                if lethal || !idiom {
                    ctx.push(Why::Threat, a_s, k, 0);
                }
            }
            return;
        }
        if !ctx.has(j, cls::INTENS) {
            return;
        }
        j += 1;
    }
}

/// "He said he'd kill me", "she's going to hurt me": a threat reported by the
/// person at risk.
fn they_threat_rule(ctx: &mut Ctx, a_s: usize, a_e: usize) {
    let len = ctx.len();
    let mut j = a_e + 1;
    while j < len && j <= a_e + 6 && !ctx.is_punct(j) {
        if ctx.has(j, cls::NEG) {
            return;
        }
        if ctx.has(j, cls::THREAT_VERB) {
            let obj = ctx.word(j + 1);
            let target = matches!(obj, "me" | "us" | "my")
                || (obj == "the" && matches!(ctx.word(j + 2), "kids" | "children" | "baby"));
            let idiom = matches!(ctx.word(j + 2), "up" | "off" | "at" | "in" | "with");
            if target && !idiom {
                ctx.push(Why::Violence, a_s, j + 1, 0);
            }
            return;
        }
        j += 1;
    }
}

fn feel_rule(ctx: &mut Ctx, a_s: usize, a_e: usize, a: Anchor) {
    let len = ctx.len();
    let be = matches!(a, Anchor::BeNow | Anchor::BePast);
    let mut neg = (a_s..=a_e).any(|k| ctx.has(k, cls::NEG));
    let first = a_e + 1;
    if !be && ctx.has(first, cls::FAKE_FEEL) {
        return; // "I feel like you…", "I feel that you…": a thought, not a feeling
    }
    // "I was being defensive" describes behaviour, not a feeling
    if be && (ctx.has(first, cls::LIKE) || ctx.word(first) == "being") {
        return;
    }
    // "…when I'm sad": a subordinate clause, not a statement of feeling
    if be && a_s >= 1 && matches!(ctx.word(a_s - 1), "when" | "whenever" | "if" | "because") {
        return;
    }
    let strong = cls::FEEL_NEG | cls::FEEL_POS | cls::FLOOD | cls::APPREC_ADJ;
    let weak = cls::FEEL_WEAK_NEG | cls::FEEL_WEAK_POS;
    let wanted = if be || matches!(a, Anchor::Getting) {
        strong
    } else {
        strong | weak
    };
    let mut j = first;
    while j < len && j <= a_e + 4 && !ctx.is_punct(j) {
        if let Some(end) = ctx.class_at(j, wanted) {
            let mut bits = ctx.cls[j];
            for &(s, e, b) in &ctx.multi {
                if s == j && e == end {
                    bits |= b;
                }
            }
            feel_outcome(ctx, a, a_s, end, bits, neg);
            return;
        }
        if ctx.has(j, cls::NEG) {
            neg = true;
        } else if !ctx.has(j, cls::INTENS) {
            return;
        }
        j += 1;
    }
}

fn feel_outcome(ctx: &mut Ctx, a: Anchor, s: usize, e: usize, bits: u64, neg: bool) {
    let pos = bits & (cls::FEEL_POS | cls::FEEL_WEAK_POS) != 0;
    let negative = bits & (cls::FEEL_NEG | cls::FEEL_WEAK_NEG) != 0;
    if bits & cls::APPREC_ADJ != 0 {
        if !neg && !matches!(a, Anchor::WouldFeel | Anchor::YouMakeFeel) {
            ctx.push(Why::Thanks, s, e, fl::POSCTX);
        }
        return;
    }
    if matches!(a, Anchor::YouMakeFeel) {
        if pos && !neg {
            ctx.push(Why::Affection, s, e, fl::POSCTX);
        } else if negative || bits & cls::FLOOD != 0 {
            ctx.push(Why::Blame, s, e, 0);
        }
        return;
    }
    if matches!(a, Anchor::Getting) {
        // "I'm getting scared / overwhelmed": a state report mid-conflict
        ctx.push(Why::Flooding, s, e, 0);
        return;
    }
    if bits & cls::FLOOD != 0 {
        match a {
            Anchor::FeelNow | Anchor::BeNow => {
                ctx.push(Why::Feeling, s, e, 0);
                // "When the house is messy, I feel overwhelmed" names a
                // trigger: a gentle start-up rather than a call for a pause
                let triggered =
                    ctx.sentence_has(e, |w| matches!(w, "when" | "because" | "if" | "whenever"));
                if !neg && !triggered {
                    ctx.push(Why::Flooding, s, e, 0);
                }
            }
            _ => ctx.push(Why::Feeling, s, e, 0),
        }
        return;
    }
    ctx.push(Why::Feeling, s, e, 0);
    let present = matches!(a, Anchor::FeelNow | Anchor::BeNow);
    let past = matches!(a, Anchor::FeelPast | Anchor::BePast);
    if bits & cls::FEEL_REL != 0 && !neg && (present || past) && ctx.sentence_has(e, |w| w == "you")
    {
        ctx.push(Why::Affection, s, e, fl::POSCTX);
    }
    // only the progressive "I'm feeling…" reads as an in-the-moment report
    let progressive = (s..e).any(|k| ctx.word(k) == "feeling");
    if bits & cls::FEEL_NEG != 0 && !neg && present && progressive {
        // a bare state report at the end of a sentence ("I'm feeling
        // unappreciated.") is a repair bid in the middle of a conflict
        let mut k = e + 1;
        while matches!(ctx.word(k), "right" | "now" | "too" | "again") {
            k += 1;
        }
        let ends = ctx.is_punct(k) && ctx.word(k) != ",";
        let has_trigger =
            ctx.sentence_has(e, |w| matches!(w, "when" | "because" | "if" | "whenever"));
        if ends && !has_trigger {
            ctx.push(Why::Flooding, s, e, 0);
        }
    }
}

/// Suicidal ideation stated indirectly: in one sentence, a first-person
/// reference, a desire / plan frame and a death / absence concept ("Maybe it
/// would be easier if I just wasn't around", "I want to sleep and not wake
/// up"). Crisis recall matters more than precision here.
fn ideation_rule(ctx: &mut Ctx) {
    let multi_bits = ctx.multi.iter().fold(0, |acc, m| acc | m.2);
    let all = ctx.all | multi_bits;
    if all & cls::DEATH == 0 || all & cls::FRAME == 0 {
        return;
    }
    // (start, end, bits) of every class hit carrying DEATH or FRAME
    let mut hits: Vec<(usize, usize, u64)> = Vec::new();
    for (i, &c) in ctx.cls.iter().enumerate() {
        if c & (cls::DEATH | cls::FRAME) != 0 {
            hits.push((i, i, c & (cls::DEATH | cls::FRAME)));
        }
    }
    for &(s, e, b) in &ctx.multi {
        if b & (cls::DEATH | cls::FRAME) != 0 {
            hits.push((s, e, b & (cls::DEATH | cls::FRAME)));
        }
    }
    hits.truncate(512);
    for &(ds, de, db) in &hits {
        // idioms ("dead tired", "die laughing") are masked
        let masked = ctx
            .cands
            .iter()
            .any(|m| m.flags & fl::MASK != 0 && m.s <= de && ds <= m.e);
        if db & cls::DEATH == 0 || masked {
            continue;
        }
        let Some(&sid) = ctx.sent.get(ds) else {
            continue;
        };
        let frame = hits.iter().find(|&&(fs, fe, fb)| {
            fb & cls::FRAME != 0
                && ctx.sent.get(fs) == Some(&sid)
                && (fe < ds || fs > de)
                // "I don't want to die" is not ideation
                && !(fs.saturating_sub(2)..fs).any(|k| ctx.has(k, cls::NEG))
        });
        let Some(&(fs, fe, _)) = frame else {
            continue;
        };
        let (lo, hi) = (fs.min(ds), fe.max(de));
        let first_person = ctx.sentence_has(ds, |w| matches!(w, "i" | "me" | "my" | "myself"));
        if first_person {
            ctx.push(Why::SelfHarm, lo, hi, 0);
            return;
        }
    }
}

/// "You left the lights on again.": a repeated behaviour pinned on the
/// partner is criticism even without "always".
fn again_rule(ctx: &mut Ctx) {
    let len = ctx.len();
    for i in 1..len {
        if ctx.word(i) != "again" {
            continue;
        }
        // "again", optionally followed by a time phrase, ends the sentence
        let mut t = i + 1;
        while t <= i + 3
            && matches!(
                ctx.word(t),
                "last"
                    | "night"
                    | "today"
                    | "yesterday"
                    | "this"
                    | "morning"
                    | "week"
                    | "tonight"
                    | "evening"
                    | "weekend"
            )
        {
            t += 1;
        }
        if ctx.word(t) != "." {
            continue;
        }
        let Some(&sid) = ctx.sent.get(i) else {
            continue;
        };
        let mut k = i;
        let mut you = None;
        while k > 0 && i - k < 32 && ctx.sent.get(k - 1) == Some(&sid) && !ctx.is_punct(k - 1) {
            k -= 1;
            if ctx.word(k) == "you" && k + 1 < i {
                you = Some(k);
            }
        }
        let Some(y) = you else {
            continue;
        };
        let situational = (y.saturating_sub(4)..y)
            .any(|q| matches!(ctx.word(q), "when" | "if" | "whenever" | "see" | "miss"));
        let covered = ctx
            .cands
            .iter()
            .rev()
            .take(64)
            .any(|c| c.kind().is_harsh() && c.s <= i && y <= c.e);
        if !situational && !covered {
            ctx.push(Why::Absolute, y, i, fl::SITU);
        }
    }
}

/// "I'm rude?", "Me? Lazy?", "YOU want ME to…?": indignant echo questions.
fn echo_questions(ctx: &mut Ctx) {
    let len = ctx.len();
    let mut sent_start = 1usize;
    for i in 1..len {
        if !ctx.is_punct(i) || ctx.word(i) == "," {
            continue;
        }
        let s0 = sent_start;
        sent_start = i + 1;
        if ctx.word(i) != "?" {
            continue;
        }
        let words: Vec<usize> = (s0..i).filter(|&k| !ctx.is_punct(k)).collect();
        let (Some(&f), Some(&l)) = (words.first(), words.last()) else {
            continue;
        };
        let me_first = ctx.word(f) == "me" || (ctx.word(f) == "i" && ctx.word(f + 1) == "am");
        let judged = words.iter().any(|&k| {
            ctx.has(k, cls::TRAIT | cls::INSULT | cls::DISMISS)
                || matches!(ctx.word(k), "wrong" | "problem" | "unreasonable")
        });
        let followed = ctx
            .n
            .toks
            .get(i + 1)
            .is_some_and(|t| t.flags & F_SYNTH == 0);
        if me_first && words.len() <= 4 && (judged || (words.len() == 1 && followed)) {
            ctx.push(Why::CounterAttack, f, l, fl::COUNTER);
            continue;
        }
        let caps_you = words.iter().find(|&&k| ctx.word(k) == "you" && ctx.caps(k));
        let caps_me = words.iter().find(|&&k| ctx.word(k) == "me" && ctx.caps(k));
        if let (Some(&a), Some(&b)) = (caps_you, caps_me) {
            ctx.push(Why::CounterAttack, a.min(b), a.max(b), fl::COUNTER);
        }
    }
}

// ---------------------------------------------------------------- resolution

fn claim_negated(ctx: &Ctx, s: usize) -> bool {
    let lo = s.saturating_sub(6);
    let mut i = s;
    while i > lo {
        i -= 1;
        if ctx.is_punct(i) {
            break;
        }
        // "I can't believe…" is an exclamation, not a negated claim
        if ctx.has(i, cls::NEG) && !(i >= 1 && matches!(ctx.word(i - 1), "can" | "could")) {
            if (i + 1..s.min(i + 4)).any(|q| ctx.has(q, cls::CLAIM)) {
                return true;
            }
            if i + 2 == s && ctx.word(i + 1) == "that" {
                return true;
            }
        }
    }
    false
}

fn immediately_negated(ctx: &Ctx, s: usize) -> bool {
    (s >= 1 && !ctx.is_punct(s - 1) && ctx.has(s - 1, cls::NEG))
        || (s >= 2
            && !ctx.is_punct(s - 2)
            && ctx.has(s - 2, cls::NEG)
            && ctx.has(s - 1, cls::INTENS)
            && !ctx.is_punct(s - 1))
}

/// For every token `t`, the furthest end of the given spans that start at or
/// before `t` (`None` when no span starts there or earlier).
fn prefix_reach<'a>(len: usize, spans: impl Iterator<Item = &'a Cand>) -> Vec<Option<usize>> {
    let mut reach: Vec<Option<usize>> = vec![None; len];
    for c in spans {
        if let Some(slot) = reach.get_mut(c.s) {
            *slot = Some(slot.map_or(c.e, |e| e.max(c.e)));
        }
    }
    let mut best: Option<usize> = None;
    for slot in reach.iter_mut() {
        best = match (best, *slot) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        *slot = best;
    }
    reach
}

fn resolve(ctx: &mut Ctx) {
    // start order, longest first; stable, so ties keep lexicon order
    ctx.cands.sort_by_key(|c| (c.s, std::cmp::Reverse(c.e)));
    // 1. negation
    for i in 0..ctx.cands.len() {
        let c = ctx.cands[i];
        let kind = c.kind();
        let negated = match kind {
            Kind::Criticism | Kind::Contempt | Kind::Defensiveness | Kind::Stonewalling => {
                claim_negated(ctx, c.s) || (!c.grammar && immediately_negated(ctx, c.s))
            }
            Kind::Appreciation | Kind::Repair => !c.grammar && immediately_negated(ctx, c.s),
            Kind::Crisis | Kind::IStatement => false,
        };
        if negated {
            ctx.cands[i].alive = false;
        }
    }
    // 2. longest match wins; same-kind overlaps keep the longer one.
    // Candidates are sorted by start (longest first), so only overlapping
    // neighbours need comparing.
    let n = ctx.cands.len();
    for i in 0..n {
        let mut j = i + 1;
        while j < n && ctx.cands[j].s <= ctx.cands[i].e {
            let (a, b) = (ctx.cands[i], ctx.cands[j]);
            if a.alive && b.alive {
                if a.contains(&b) {
                    ctx.cands[j].alive = false;
                } else if b.contains(&a) {
                    ctx.cands[i].alive = false;
                } else if a.kind() == b.kind() {
                    // overlapping, same kind: keep the longer (or earlier)
                    if b.len() > a.len() {
                        ctx.cands[i].alive = false;
                    } else {
                        ctx.cands[j].alive = false;
                    }
                }
            }
            j += 1;
        }
    }
    // masks hide what they contain and are never reported themselves;
    // reach[t] = furthest end of a mask starting at or before token t
    if ctx.cands.iter().any(|c| c.flags & fl::MASK != 0) {
        let reach = prefix_reach(
            ctx.len(),
            ctx.cands.iter().filter(|c| c.flags & fl::MASK != 0),
        );
        for c in ctx.cands.iter_mut() {
            let masked = reach.get(c.s).is_some_and(|r| r.is_some_and(|e| e >= c.e));
            if c.flags & fl::MASK != 0 || masked {
                c.alive = false;
            }
        }
    }
    // "she's going to kill me if I forget the milk lol": laughter marks a
    // threat or violence phrase as hyperbole (self-harm is never discounted)
    if ctx.all & cls::LAUGH_WORD != 0 {
        for c in ctx.cands.iter_mut() {
            if matches!(c.why, Why::Threat | Why::Violence) {
                c.alive = false;
            }
        }
    }
    // 3. crisis wins over anything overlapping it
    if ctx
        .cands
        .iter()
        .any(|c| c.alive && c.kind() == Kind::Crisis)
    {
        let reach = prefix_reach(
            ctx.len(),
            ctx.cands
                .iter()
                .filter(|c| c.alive && c.kind() == Kind::Crisis),
        );
        for c in ctx.cands.iter_mut() {
            // some crisis k with k.s <= c.e reaches c.s
            let hit = reach.get(c.e).is_some_and(|r| r.is_some_and(|e| e >= c.s));
            if c.alive && c.kind() != Kind::Crisis && hit {
                c.alive = false;
            }
        }
    }
    // 4. sarcasm
    sarcasm(ctx);
    // 5. positive framing: "I love that you always…", "thank you for always…"
    // (cands are sorted by start: remember the latest appreciation per sentence)
    let mut contrast = Vec::with_capacity(ctx.len() + 1);
    let mut count = 0u32;
    contrast.push(0);
    for k in 0..ctx.len() {
        if matches!(
            ctx.word(k),
            "but" | "though" | "however" | "although" | "yet"
        ) {
            count += 1;
        }
        contrast.push(count);
    }
    let mut last: Option<(u32, usize, usize)> = None; // (sentence, start, end)
    for i in 0..ctx.cands.len() {
        let c = ctx.cands[i];
        if !c.alive {
            continue;
        }
        let sid = ctx.sent.get(c.s).copied().unwrap_or(0);
        if c.why == Why::Absolute {
            if let Some((ps, p_s, p_e)) = last {
                let between = contrast.get(c.s).copied().unwrap_or(0)
                    - contrast.get(p_e.min(c.s)).copied().unwrap_or(0);
                if ps == sid && p_s < c.s && between == 0 {
                    ctx.cands[i].alive = false;
                }
            }
        } else if c.kind() == Kind::Appreciation {
            last = Some((sid, c.s, c.e));
        }
    }
    // 6. criticism inside or after a defence is part of the counter-attack
    if let Some(p) = ctx
        .cands
        .iter()
        .filter(|c| c.alive && c.kind() == Kind::Defensiveness)
        .map(|c| c.s)
        .min()
    {
        let sp = ctx.sent.get(p).copied().unwrap_or(0);
        for c in ctx.cands.iter_mut() {
            if c.alive
                && c.kind() == Kind::Criticism
                && ctx.sent.get(c.s).copied().unwrap_or(0) >= sp
            {
                c.alive = false;
            }
        }
    }
    // 7. an "I feel" sentence that carries contempt is not an I-statement
    let mut contempt_sents: Vec<u32> = ctx
        .cands
        .iter()
        .filter(|c| c.alive && c.kind() == Kind::Contempt)
        .filter_map(|c| ctx.sent.get(c.s).copied())
        .collect();
    contempt_sents.sort_unstable();
    contempt_sents.dedup();
    for c in ctx.cands.iter_mut() {
        if c.alive
            && c.kind() == Kind::IStatement
            && ctx
                .sent
                .get(c.s)
                .is_some_and(|s| contempt_sents.binary_search(s).is_ok())
        {
            c.alive = false;
        }
    }
    // 8. shouting
    shouting(ctx);
}

fn sarcasm(ctx: &mut Ctx) {
    let sarc_emoji = ctx.all & cls::SARC_EMOJI != 0;
    let interrobang = ctx.n.toks.iter().any(|t| t.flags & F_INTERROBANG != 0);
    let shouting_all = ctx.n.letter_words > 0 && ctx.n.caps_words * 10 >= ctx.n.letter_words * 6;
    let caps_emph = ctx.n.caps_words > 0 && !shouting_all;
    let profane = ctx.all & cls::PROFANE != 0;
    let conditional = fl::SARC_COND | fl::SARC_OR_APPREC | fl::LAUGH;
    let hostile = profane
        || ctx.cands.iter().any(|c| {
            c.alive && c.kind().is_harsh() && c.flags & conditional == 0 && c.why != Why::Sarcasm
        })
        || ctx
            .cands
            .iter()
            .any(|c| c.alive && c.why == Why::Sarcasm && c.flags & conditional == 0);
    let caps_near = |ctx: &Ctx, c: &Cand| (c.s..=c.e + 2).any(|k| ctx.caps(k));
    for i in 0..ctx.cands.len() {
        let c = ctx.cands[i];
        if !c.alive {
            continue;
        }
        if c.flags & fl::SARC_COND != 0 {
            let marked = sarc_emoji || interrobang || caps_emph || hostile;
            if !marked {
                ctx.cands[i].alive = false;
            }
        } else if c.flags & fl::SARC_OR_APPREC != 0 {
            let marked = sarc_emoji || hostile || (interrobang && caps_emph);
            if !marked {
                let thanks = (c.s..=c.e).any(|k| matches!(ctx.word(k), "thank" | "thanks"));
                ctx.cands[i].why = if thanks { Why::Thanks } else { Why::Admire };
                ctx.cands[i].flags |= fl::POSCTX;
            }
        } else if c.flags & fl::LAUGH != 0 {
            if !hostile {
                ctx.cands[i].alive = false;
            }
        } else if c.kind() == Kind::Appreciation && (sarc_emoji || (hostile && caps_near(ctx, &c)))
        {
            ctx.cands[i].why = Why::Sarcasm;
        }
    }
}

fn shouting(ctx: &mut Ctx) {
    let n = &ctx.n;
    if n.caps_words < 3 || n.caps_words * 10 < n.letter_words * 6 {
        return;
    }
    // only when nothing else was found: shouting on top of a finding adds
    // nothing, and a shouted "I LOVE YOU" is not harsh
    if ctx.cands.iter().any(|c| c.alive) {
        return;
    }
    let caps: Vec<usize> = (0..ctx.len()).filter(|&k| ctx.caps(k)).collect();
    if let (Some(&f), Some(&l)) = (caps.first(), caps.last()) {
        ctx.push(Why::Shouting, f, l, 0);
    }
}

// ---------------------------------------------------------------- output

fn order(kind: Kind) -> usize {
    Kind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(usize::MAX)
}

fn labels_of(kinds: impl Iterator<Item = Kind>) -> Vec<Label> {
    let mut present = [false; 8];
    for k in kinds {
        if let Some(slot) = present.get_mut(order(k)) {
            *slot = true;
        }
    }
    let labels: Vec<Label> = Kind::ALL
        .iter()
        .zip(present)
        .filter(|(_, p)| *p)
        .map(|(k, _)| k.label())
        .collect();
    if labels.is_empty() {
        vec![Label::Neutral]
    } else {
        labels
    }
}

/// Byte span and token range of a candidate (punctuation trimmed, expansion
/// siblings included).
pub(crate) fn span(ctx: &Ctx, c: &Cand) -> Option<(usize, usize, usize, usize)> {
    let toks = &ctx.n.toks;
    let mut f = (c.s..=c.e).find(|&k| !ctx.is_punct(k))?;
    let mut l = (c.s..=c.e).rev().find(|&k| !ctx.is_punct(k))?;
    while f > 0
        && toks
            .get(f - 1)
            .is_some_and(|t| !t.is_punct() && t.os == toks[f].os)
    {
        f -= 1;
    }
    while toks
        .get(l + 1)
        .is_some_and(|t| !t.is_punct() && t.oe == toks[l].oe)
    {
        l += 1;
    }
    let (start, end) = (toks.get(f)?.os, toks.get(l)?.oe);
    (start < end).then_some((start, end, f, l))
}

pub(crate) fn analyze(text: &str) -> Analysis {
    with_ctx(text, |ctx| build_analysis(ctx, text))
}

fn build_analysis(ctx: &Ctx, text: &str) -> Analysis {
    let mut findings: Vec<(usize, Finding)> = Vec::new();
    for c in ctx.cands.iter().filter(|c| c.alive) {
        let Some((start, end, f, l)) = span(ctx, c) else {
            continue;
        };
        let kind = c.kind();
        let cue = ctx
            .n
            .canon
            .get(ctx.n.toks[f].cs..ctx.n.toks[l].ce)
            .unwrap_or("")
            .to_string();
        findings.push((
            order(kind),
            Finding {
                kind,
                start,
                end,
                cue,
                explanation: c.why.explanation().into(),
            },
        ));
    }
    findings.sort_by_key(|(o, f)| (*o != 0, f.start, *o, f.end));
    findings.dedup_by(|a, b| a.1.kind == b.1.kind && a.1.start == b.1.start && a.1.end == b.1.end);
    let findings: Vec<Finding> = findings.into_iter().map(|(_, f)| f).collect();
    let labels = labels_of(findings.iter().map(|f| f.kind));
    let suggestion = if labels.first() == Some(&Label::Crisis) {
        None
    } else {
        suggest::suggest(ctx, text)
    };
    Analysis {
        text: text.to_string(),
        labels,
        findings,
        suggestion,
    }
}

pub(crate) fn labels_only(text: &str) -> Vec<Label> {
    with_ctx(text, |ctx| {
        labels_of(
            ctx.cands
                .iter()
                .filter(|c| c.alive && span(ctx, c).is_some())
                .map(Cand::kind),
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn lexicon_compiles() {
        assert!(super::lexicon_ready());
    }
}
