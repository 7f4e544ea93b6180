//! Matching and rules.
//!
//! 1. `text::tokenize` builds the canonical string and token table.
//! 2. One hash lookup per token finds every lexicon word (and its word id),
//!    then a walk of a phrase trie over the word ids from every token finds
//!    every lexicon phrase, word class and grammar anchor (the same matches,
//!    in the same order, as an overlapping Aho–Corasick scan of the canonical
//!    text; a unit test checks this).
//! 3. Grammar rules complete anchors ("you are" + adverbs + trait word, "I
//!    feel" + feeling word, "I will" + violent verb + person, ...).
//! 4. Resolution: negation, longest match, crisis precedence, sarcasm,
//!    positive framing, counter-attacks, fake I-statements, shouting.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;

use crate::explain::Why;
use crate::fx::FxMap;
use crate::lexicon::{self, Anchor, Cue, cls, fl};
use crate::text::{self, F_CAPS, F_INTERROBANG, F_SYNTH, F_TITLE, Norm};

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

/// A word of the lexicon: its single-word cues and its id in the phrase trie.
#[derive(Clone)]
struct Entry {
    cues: Vec<Cue>,
    /// Word id used by phrase-trie transitions (0 = not in any phrase).
    id: u32,
}

pub(crate) struct Lex {
    /// Multi-word phrases as a trie over word ids: transitions keyed by
    /// `(node << 32) | word id`; node 0 is the root.
    trie: FxMap<u64, u32>,
    /// Root transitions by word id (0 = none).
    root: Vec<u32>,
    /// Phrase index ending at each trie node.
    term: Vec<Option<u32>>,
    /// Cues of each phrase.
    cues: Vec<Vec<Cue>>,
    /// Every lexicon word (single-word entries and words of phrases), looked
    /// up once per token.
    words: FxMap<Box<str>, Entry>,
    /// The phrases, for the equivalence test against an Aho–Corasick scan.
    #[cfg(test)]
    phrases: Vec<String>,
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
    let mut raw: Vec<(String, Cue)> = Vec::new();
    for (why, flags, list) in lexicon::FINDS {
        for t in *list {
            for p in lexicon::expand_template(t) {
                raw.push((p, Cue::Find(*why, *flags)));
            }
        }
    }
    for t in lexicon::MASKS {
        for p in lexicon::expand_template(t) {
            raw.push((p, Cue::Find(Why::Apology, fl::MASK)));
        }
    }
    for (bits, list) in lexicon::CLASSES.iter().chain(lexicon::MULTI_CLASSES.iter()) {
        for t in *list {
            for p in lexicon::expand_template(t) {
                raw.push((p, Cue::Class(*bits)));
            }
        }
    }
    for (anchor, list) in lexicon::ANCHORS {
        for t in *list {
            for p in lexicon::expand_template(t) {
                raw.push((p, Cue::Anchor(*anchor)));
            }
        }
    }
    // crisis patterns also in the third person (see `third_person_variants`)
    let variants = third_person_variants(&raw);
    for (p, cue) in raw.into_iter().chain(variants) {
        add(p, cue);
    }
    // one-word entries go to the hash map, phrases to the trie
    let mut words: FxMap<Box<str>, Entry> = HashMap::default();
    let mut phrase_cues = Vec::new();
    let mut phrases = Vec::new();
    for (p, c) in patterns.into_iter().zip(cues) {
        if p.contains(' ') {
            phrases.push(p);
            phrase_cues.push(c);
        } else {
            words.insert(p.into_boxed_str(), Entry { cues: c, id: 0 });
        }
    }
    let cues = phrase_cues;
    let mut next_id = 0u32;
    let mut trie: FxMap<u64, u32> = HashMap::default();
    let mut term: Vec<Option<u32>> = vec![None];
    for (pid, p) in phrases.iter().enumerate() {
        let mut node = 0u32;
        for w in p.split(' ') {
            let entry = words.entry(w.into()).or_insert_with(|| Entry {
                cues: Vec::new(),
                id: 0,
            });
            if entry.id == 0 {
                next_id += 1;
                entry.id = next_id;
            }
            let key = (u64::from(node) << 32) | u64::from(entry.id);
            node = match trie.get(&key) {
                Some(&n) => n,
                None => {
                    let n = u32::try_from(term.len()).ok()?;
                    term.push(None);
                    trie.insert(key, n);
                    n
                }
            };
        }
        *term.get_mut(node as usize)? = Some(u32::try_from(pid).ok()?);
    }
    let mut root = vec![0u32; next_id as usize + 1];
    for (&key, &node) in &trie {
        if key >> 32 == 0
            && let Some(slot) = root.get_mut((key & u64::from(u32::MAX)) as usize)
        {
            *slot = node;
        }
    }
    Some(Lex {
        trie,
        root,
        term,
        cues,
        words,
        #[cfg(test)]
        phrases,
    })
}

/// Lexicon classes that crisis language is made of: their words also match
/// in the third person.
const CRISIS_CLASSES: u64 = cls::DEATH
    | cls::FRAME
    | cls::VIOL
    | cls::FORCE
    | cls::SH_VERB
    | cls::DESIRE
    | cls::SEX
    | cls::COERCE
    | cls::CTRL
    | cls::THREAT_VERB
    | cls::SELF_VERB
    | cls::PLAN;

fn crisis_cue(cue: &Cue) -> bool {
    match *cue {
        Cue::Find(why, flags) => why.kind() == Kind::Crisis && flags & fl::MASK == 0,
        Cue::Class(bits) => bits & CRISIS_CLASSES != 0,
        Cue::Anchor(_) => false,
    }
}

/// The third-person singular of `w` ("want" → "wants", "wish" →
/// "wishes", "try" → "tries"), for lowercase words of three letters or more.
fn third_person(w: &str) -> Option<String> {
    if w.len() < 3 || !w.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let b = w.as_bytes();
    let last = b[b.len() - 1];
    let before = b[b.len() - 2];
    Some(
        if last == b'y' && !matches!(before, b'a' | b'e' | b'i' | b'o' | b'u') {
            format!("{}ies", &w[..w.len() - 1])
        } else if matches!(last, b's' | b'x' | b'z' | b'o')
            || w.ends_with("sh")
            || w.ends_with("ch")
        {
            format!("{w}es")
        } else {
            format!("{w}s")
        },
    )
}

/// Crisis language is written about a partner as often as about oneself
/// ("she wants to die", "he hits me"), while the lexicon mostly lists its
/// words as "I" would write them. A *crisis verb* is a one-word lexicon
/// entry with a crisis cue ("want", "hit", "kill"); every crisis pattern
/// holding one also matches with its third-person form ("wants to die"),
/// and the form alone gets the verb's crisis cues. Only in that direction:
/// the verb never takes a form's own cues, and patterns of other kinds
/// keep their words as written.
fn third_person_variants(raw: &[(String, Cue)]) -> Vec<(String, Cue)> {
    let mut verbs: Vec<&str> = raw
        .iter()
        .filter(|(p, c)| !p.contains(' ') && crisis_cue(c))
        .map(|(p, _)| p.as_str())
        // a word ending in "s" is often a form already ("hits", "thoughts")
        .filter(|w| !w.ends_with('s'))
        .collect();
    verbs.sort_unstable();
    verbs.dedup();
    let form = |w: &str| verbs.binary_search(&w).ok().and_then(|_| third_person(w));
    let mut out = Vec::new();
    // a threat is written by the one who makes it ("I'll kill you"); its
    // third-person form is another thing ("it kills you to say thanks")
    let variable = |c: &Cue| crisis_cue(c) && !matches!(c, Cue::Find(Why::Threat, _));
    for (p, cue) in raw.iter().filter(|(_, c)| variable(c)) {
        if !p.split(' ').any(|w| form(w).is_some()) {
            continue;
        }
        let variant: Vec<String> = p
            .split(' ')
            .map(|w| form(w).unwrap_or_else(|| w.to_string()))
            .collect();
        out.push((variant.join(" "), *cue));
    }
    out
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
    /// Phrase-trie word id of each token (0 = in no phrase).
    ids: Vec<u32>,
    /// Scratch: phrase matches as (last token, first token, phrase).
    matches: Vec<(usize, usize, usize)>,
    /// Union of all token classes in the message.
    all: u64,
    /// Scratch: contrast-word prefix counts (see `resolve`).
    contrast: Vec<u32>,
    /// The lexicon classes present in each sentence (see `sentence_bits`).
    sbits: Vec<u64>,
}

impl Ctx {
    fn clear(&mut self) {
        self.cls.clear();
        self.multi.clear();
        self.sent.clear();
        self.cands.clear();
        self.anchors.clear();
        self.ids.clear();
        self.matches.clear();
        self.sbits.clear();
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
    ctx.ids.resize(len, 0);
    let Some(lex) = LEX.as_ref() else {
        // (unreachable: the lexicon always compiles)
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
        return;
    };
    // one pass over the tokens: sentence ids, word entries
    let mut sid = 0u32;
    let (mut question, mut again) = (false, false);
    for i in 0..len {
        let t = ctx.n.toks[i];
        ctx.sent.push(sid);
        let w = ctx.n.canon.get(t.cs..t.ce).unwrap_or("");
        if t.is_punct() {
            let c = w.as_bytes().first().copied();
            if c == Some(b'?') {
                question = true;
            }
            if c == Some(b'.') || c == Some(b'?') {
                sid += 1;
            }
        } else if w == "again" {
            again = true;
        }
        let Some(entry) = lex.words.get(w) else {
            continue;
        };
        ctx.ids[i] = entry.id;
        for cue in &entry.cues {
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
    // phrases: walk the trie from every token; report in order of the last
    // token, longer phrases first (the order of an overlapping scan)
    let mut matches = std::mem::take(&mut ctx.matches);
    for s in 0..len {
        let first = ctx.ids.get(s).copied().unwrap_or(0) as usize;
        let mut node = lex.root.get(first).copied().unwrap_or(0);
        if node == 0 {
            continue;
        }
        for (k, &id) in ctx.ids.get(s..).unwrap_or(&[]).iter().enumerate() {
            let e = s + k;
            if k > 0 {
                if id == 0 {
                    break;
                }
                let key = (u64::from(node) << 32) | u64::from(id);
                let Some(&next) = lex.trie.get(&key) else {
                    break;
                };
                node = next;
            }
            if let Some(Some(pid)) = lex.term.get(node as usize) {
                matches.push((e, s, *pid as usize));
            }
        }
    }
    matches.sort_unstable_by_key(|&(e, s, _)| (e, s));
    for &(e, s, pid) in &matches {
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
    ctx.matches = matches;
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
    if question {
        echo_questions(ctx);
    }
    if again {
        again_rule(ctx);
    }
    ideation_rule(ctx);
    crisis_rules(ctx);
    resolve(ctx);
    sentence_bits(ctx);
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
                let lethal = matches!(ctx.word(j), "kill" | "end" | "hang" | "shoot" | "drown");
                let why = if lethal { Why::Suicidal } else { Why::SelfHarm };
                ctx.push(why, a_s, k, 0);
            } else if ctx.word(k) == "your"
                && ctx.has(j, cls::THREAT_VERB)
                && matches!(
                    ctx.word(k + 1),
                    "dog"
                        | "cat"
                        | "kids"
                        | "children"
                        | "family"
                        | "mum"
                        | "mom"
                        | "fingers"
                        | "ribs"
                        | "hands"
                        | "face"
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
                // "I'm going to destroy everyone tonight" (a game), "I could
                // kill you" (exasperation) are figures of speech
                let vague = matches!(ctx.word(k), "everyone" | "someone" | "somebody");
                let could = (a_s..=a_e).any(|q| ctx.word(q) == "could");
                if (lethal || (!idiom && !vague)) && !could {
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
            ctx.push(Why::Despair, lo, hi, 0);
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
        // the words of the sentence (punctuation skipped)
        let (mut first, mut l, mut nwords) = (None, 0usize, 0usize);
        let (mut judged, mut caps_you, mut caps_me) = (false, None, None);
        for k in s0..i {
            if ctx.is_punct(k) {
                continue;
            }
            first = first.or(Some(k));
            l = k;
            nwords += 1;
            let w = ctx.word(k);
            judged = judged
                || ctx.has(k, cls::TRAIT | cls::INSULT | cls::DISMISS)
                || matches!(w, "wrong" | "problem" | "unreasonable");
            if caps_you.is_none() && w == "you" && ctx.caps(k) {
                caps_you = Some(k);
            }
            if caps_me.is_none() && w == "me" && ctx.caps(k) {
                caps_me = Some(k);
            }
        }
        let Some(f) = first else {
            continue;
        };
        let me_first = ctx.word(f) == "me" || (ctx.word(f) == "i" && ctx.word(f + 1) == "am");
        let followed = ctx
            .n
            .toks
            .get(i + 1)
            .is_some_and(|t| t.flags & F_SYNTH == 0);
        if me_first && nwords <= 4 && (judged || (nwords == 1 && followed)) {
            ctx.push(Why::CounterAttack, f, l, fl::COUNTER);
            continue;
        }
        if let (Some(a), Some(b)) = (caps_you, caps_me) {
            ctx.push(Why::CounterAttack, a.min(b), a.max(b), fl::COUNTER);
        }
    }
}

// ---------------------------------------------------------------- crisis

/// Inclusive bounds of the clause around `i` (words between punctuation).
fn clause(ctx: &Ctx, i: usize) -> (usize, usize) {
    let len = ctx.len();
    let mut lo = i;
    while lo > 0 && i - lo < 64 && !ctx.is_punct(lo - 1) {
        lo -= 1;
    }
    let mut hi = i;
    while hi + 1 < len && hi - i < 64 && !ctx.is_punct(hi + 1) {
        hi += 1;
    }
    (lo, hi)
}

/// Inclusive bounds of the sentence around `i` (its closing `.` or `?`
/// included).
fn sentence(ctx: &Ctx, i: usize) -> (usize, usize) {
    let sid = ctx.sent.get(i).copied();
    let mut lo = i;
    while lo > 0 && i - lo < 64 && ctx.sent.get(lo - 1).copied() == sid {
        lo -= 1;
    }
    let mut hi = i;
    while hi - i < 64 && ctx.sent.get(hi + 1).is_some() && ctx.sent.get(hi + 1).copied() == sid {
        hi += 1;
    }
    (lo, hi)
}

/// First token in `lo..=hi` where a (single- or multi-token) entry of the
/// class starts and ends inside the range.
fn find_in(ctx: &Ctx, lo: usize, hi: usize, bits: u64) -> Option<usize> {
    let single = (lo..=hi).find(|&k| ctx.has(k, bits));
    let from = ctx.multi.partition_point(|m| m.0 < lo);
    let multi = ctx.multi[from..]
        .iter()
        .take_while(|m| m.0 <= hi)
        .find(|m| m.1 <= hi && m.2 & bits != 0)
        .map(|m| m.0);
    match (single, multi) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Who does the action of the verb at `v`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Subj {
    /// a partner, a pronoun or a named person
    Agent,
    /// the writer
    First,
    /// a parent, a boss, an animal, a thing: "kill me" from them is hyperbole
    Third,
    /// some other noun
    Other,
    /// none in the clause ("and then hit me", "got pushed")
    Elided,
}

/// Words skipped between a subject and its verb.
fn aux_or_adverb(w: &str) -> bool {
    matches!(
        w,
        "will"
            | "would"
            | "could"
            | "should"
            | "might"
            | "may"
            | "can"
            | "is"
            | "was"
            | "are"
            | "were"
            | "am"
            | "be"
            | "been"
            | "being"
            | "has"
            | "have"
            | "had"
            | "going"
            | "to"
            | "just"
            | "literally"
            | "actually"
            | "also"
            | "always"
            | "even"
            | "nearly"
            | "almost"
            | "kept"
            | "keeps"
            | "keep"
            | "started"
            | "starts"
            | "finally"
            | "once"
            | "still"
            | "again"
            | "suddenly"
            | "did"
            | "does"
            | "do"
            | "repeatedly"
            | "basically"
            | "then"
            | "said"
            | "says"
            | "threatened"
    )
}

fn is_title(ctx: &Ctx, k: usize) -> bool {
    ctx.n.toks.get(k).is_some_and(|t| t.flags & F_TITLE != 0) && ctx.word(k) != "i"
}

fn subject(ctx: &Ctx, v: usize) -> Subj {
    let mut k = v;
    while k > 0 && v - k < 8 {
        k -= 1;
        // chat drops the subject: "Burned my hand on the oven"
        if ctx.is_punct(k) {
            return Subj::First;
        }
        let w = ctx.word(k);
        if matches!(
            w,
            "and" | "but" | "so" | "when" | "after" | "until" | "while" | "because" | "if"
        ) {
            return Subj::Elided;
        }
        if aux_or_adverb(w) || ctx.has(k, cls::INTENS | cls::NEG) {
            continue;
        }
        if matches!(w, "i" | "me") {
            return Subj::First;
        }
        if ctx.has(k, cls::THIRD) {
            return Subj::Third;
        }
        if ctx.has(k, cls::AGENT) || is_title(ctx, k) {
            return Subj::Agent;
        }
        return Subj::Other;
    }
    Subj::First
}

/// People and animals a violent act can land on ("our son", "the dog").
fn dependant(w: &str) -> bool {
    matches!(
        w,
        "kids"
            | "children"
            | "child"
            | "son"
            | "daughter"
            | "baby"
            | "stepson"
            | "stepdaughter"
            | "dog"
            | "cat"
            | "puppy"
            | "kitten"
            | "wife"
            | "husband"
            | "partner"
            | "girlfriend"
            | "boyfriend"
            | "mum"
            | "mom"
            | "sister"
            | "brother"
    )
}

/// Body parts where grabbing or squeezing is violence.
fn sensitive(w: &str) -> bool {
    matches!(
        w,
        "neck" | "throat" | "wrist" | "wrists" | "arm" | "arms" | "hair" | "face" | "head" | "jaw"
    )
}

/// Who a violence verb lands on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Victim {
    /// "me", "us"
    Me,
    /// "my neck", "my arm": (sensitive)
    MyBody(bool),
    /// "our son", "the dog", "him", "Sara"
    Person,
    /// "my car", "the ball"
    Thing,
}

/// The object after a verb at `v`: what it is and its last token.
fn victim(ctx: &Ctx, v: usize) -> Option<(Victim, usize)> {
    let mut j = v + 1;
    // "spat in my face", "hit me across the face"
    if matches!(ctx.word(j), "in" | "on" | "across" | "around" | "at") && ctx.word(j + 1) == "my" {
        j += 1;
    }
    let w = ctx.word(j);
    if ctx.is_punct(j) {
        return None;
    }
    match w {
        "me" | "us" => Some((Victim::Me, j)),
        "him" | "her" | "them" => Some((Victim::Person, j)),
        "my" | "our" | "the" | "his" => {
            // one adjective may come between ("my left arm")
            for k in [j + 1, j + 2] {
                if ctx.is_punct(k) {
                    break;
                }
                let n = ctx.word(k);
                if w == "my" && ctx.has(k, cls::BODY) {
                    return Some((Victim::MyBody(sensitive(n)), k));
                }
                if dependant(n) {
                    return Some((Victim::Person, k));
                }
            }
            Some((Victim::Thing, j + 1))
        }
        _ if is_title(ctx, j) && !ctx.has(j, cls::THIRD) => Some((Victim::Person, j)),
        _ => Some((Victim::Thing, j)),
    }
}

fn crisis_rules(ctx: &mut Ctx) {
    let multi_bits = ctx.multi.iter().fold(0, |acc, m| acc | m.2);
    let all = ctx.all | multi_bits;
    if all & (cls::VIOL | cls::FORCE) != 0 {
        violence_rule(ctx);
    }
    if all & cls::SH_VERB != 0 {
        self_harm_rule(ctx);
    }
    if all & cls::MEDS != 0 && all & cls::QUANT != 0 {
        overdose_rule(ctx);
    }
    if all & cls::CTRL != 0 && all & cls::CTRL_OBJ != 0 {
        control_rule(ctx);
    }
    declared_harm_rule(ctx);
    if (all & cls::SEX != 0 && all & cls::COERCE != 0)
        || (all & cls::REFUSAL != 0 && all & cls::PERSIST != 0)
    {
        coercion_rule(ctx);
    }
}

/// Words of harm in a declared future: violent verbs, weapons and the
/// places harm ends ("in hospital", "in the ground"). Words with everyday
/// senses ("end", "ruin", "break", "cut", "burn", "fire", "destroy") are
/// left to the narrower rules.
fn harm_word(ctx: &Ctx, k: usize) -> bool {
    let w = ctx.word(k);
    if ctx.has(k, cls::THREAT_VERB) {
        return !matches!(
            w,
            "end" | "ruin" | "break" | "cut" | "burn" | "destroy" | "hit"
        );
    }
    matches!(
        w,
        "poison"
            | "slash"
            | "smother"
            | "suffocate"
            | "bury"
            | "hospital"
            | "grave"
            | "ditch"
            | "coffin"
            | "acid"
            | "petrol"
            | "hammer"
            | "knife"
            | "gun"
            | "rifle"
            | "shotgun"
            | "machete"
            | "bullet"
            | "bones"
            | "bone"
            | "disappear"
    ) || (w == "set" && ctx.word(k + 1) == "fire")
        || (w == "run"
            && matches!(ctx.word(k + 1), "me" | "us" | "you")
            && ctx.word(k + 2) == "over")
        || (w == "finish" && ctx.word(k + 1) == "the" && ctx.word(k + 2) == "job")
        || (matches!(w, "throw" | "push")
            && matches!(ctx.word(k + 1), "me" | "us" | "you" | "him" | "her")
            && matches!(ctx.word(k + 2), "off" | "down" | "out" | "through" | "into"))
}

/// A person on the receiving end of a declared harm: the writer, the
/// partner, their bodies, the children.
fn harm_target(ctx: &Ctx, k: usize, by_writer: bool) -> bool {
    let w = ctx.word(k);
    let body_or_kin = |j: usize| {
        ctx.has(j, cls::BODY)
            || matches!(
                ctx.word(j),
                "kids" | "children" | "baby" | "son" | "daughter" | "mum" | "mom" | "dog" | "cat"
            )
    };
    if by_writer {
        matches!(w, "you" | "him" | "her" | "them")
            || (matches!(w, "your" | "his" | "her" | "their") && body_or_kin(k + 1))
    } else {
        matches!(w, "me" | "us" | "you")
            || (matches!(w, "my" | "your" | "the") && body_or_kin(k + 1))
    }
}

/// "He said he'll throw acid in my face", "she says if I go she'll slash my
/// tyres and then my throat", "I'll put you both in hospital": harm declared
/// for the future by the partner (or someone named) against the writer, or
/// by the writer against the partner. A parent's or a boss's "will kill me"
/// is hyperbole and left alone (see `subject`).
fn declared_harm_rule(ctx: &mut Ctx) {
    let len = ctx.len();
    for m in 1..len {
        let w = ctx.word(m);
        let future =
            matches!(w, "will" | "would" | "gonna") || (w == "going" && ctx.word(m + 1) == "to");
        if !future {
            continue;
        }
        let by_writer = match subject(ctx, m) {
            Subj::Agent => false,
            Subj::First => true,
            _ => continue,
        };
        // "he would never hurt me", "I will not touch her"
        let (_, shi) = sentence(ctx, m);
        let end = shi.min(m + 12);
        let Some(h) = (m + 1..=end).find(|&k| harm_word(ctx, k)) else {
            continue;
        };
        if (m + 1..h).any(|k| ctx.has(k, cls::NEG) || ctx.is_punct(k) && ctx.word(k) != ",") {
            continue;
        }
        // the span starts after the marker: "will" of "I'll" carries the
        // capital of "I" and would read as a title
        if (m + 1..=end).any(|k| harm_target(ctx, k, by_writer)) {
            ctx.push(Why::Threat, m + 1, h, 0);
        }
    }
}

/// "My husband hit me", "Jess shoved me into the wall", "he's been hitting
/// me", "I got slapped", "he grabbed my wrist", "she threw a glass at me",
/// "I pushed her": a violence verb with a person on the receiving end.
fn violence_rule(ctx: &mut Ctx) {
    let len = ctx.len();
    for v in 1..len {
        let strong = ctx.has(v, cls::VIOL);
        let force = ctx.has(v, cls::FORCE);
        if !strong && !force {
            continue;
        }
        let verb = ctx.word(v);
        let mut p = v;
        while p > 0
            && matches!(
                ctx.word(p - 1),
                "just" | "literally" | "really" | "badly" | "repeatedly"
            )
        {
            p -= 1;
        }
        let passive = !verb.ends_with("ing")
            && p > 0
            && matches!(
                ctx.word(p - 1),
                "got" | "get" | "gets" | "getting" | "was" | "were" | "been" | "being"
            );
        let (_, hi) = clause(ctx, v);
        // a direction after the object: "into the wall", "down the stairs"
        let direction = |ctx: &Ctx, from: usize| {
            (from..=(from + 3).min(hi)).any(|k| {
                let w = ctx.word(k);
                matches!(
                    w,
                    "down" | "against" | "into" | "onto" | "across" | "through" | "behind"
                ) || (matches!(w, "off" | "over" | "to" | "on")
                    && matches!(ctx.word(k + 1), "the" | "a")
                    && matches!(
                        ctx.word(k + 2),
                        "ground" | "floor" | "bed" | "stairs" | "wall" | "sofa" | "couch" | "table"
                    ))
                    || (w == "by"
                        && matches!(ctx.word(k + 1), "my" | "the")
                        && ctx.has(k + 2, cls::BODY))
            }) && !(from..=(from + 4).min(hi)).any(|k| {
                matches!(
                    ctx.word(k),
                    "hug" | "kiss" | "cuddle" | "close" | "tight" | "pool" | "edge"
                )
            })
        };
        if passive {
            let subj = subject(ctx, p - 1);
            if !matches!(subj, Subj::First | Subj::Elided) {
                continue;
            }
            let w1 = ctx.word(v + 1);
            // "hit by a car", "beaten at chess", "kicked out of the club"
            let by_thing =
                w1 == "by" && !(ctx.has(v + 2, cls::AGENT | cls::MY) || is_title(ctx, v + 2));
            let game = matches!(verb, "beat" | "beaten") && matches!(w1, "at" | "in");
            if by_thing || game || matches!(w1, "out" | "off" | "up" | "for" | "to") {
                continue;
            }
            if strong || direction(ctx, v + 1) {
                ctx.push(Why::Violence, p - 1, v, 0);
            }
            continue;
        }
        let subj = subject(ctx, v);
        if matches!(subj, Subj::Third | Subj::Other) {
            continue;
        }
        // "she threw a glass at me"
        let thrown_at = (v + 1..=(v + 5).min(hi))
            .find(|&k| ctx.word(k) == "at" && matches!(ctx.word(k + 1), "me" | "us" | "my"));
        if matches!(verb, "threw" | "throw" | "throws" | "throwing" | "hurled")
            && let Some(k) = thrown_at
        {
            ctx.push(Why::Violence, v, k + 1, 0);
            continue;
        }
        let Some((vic, end)) = victim(ctx, v) else {
            continue;
        };
        let after = ctx.word(end + 1);
        let idiom = matches!(after, "up" | "off" | "out" | "at" | "back");
        // "I pushed her.", "he shoved me and left": a shove that ends the clause
        let bare_shove = matches!(verb, "pushed" | "shoved" | "grabbed" | "shook")
            && (ctx.is_punct(end + 1) || matches!(after, "and" | "hard" | "so"));
        let hit = match vic {
            Victim::Me => {
                subj != Subj::First && !idiom && (strong || bare_shove || direction(ctx, end + 1))
            }
            Victim::MyBody(sens) => {
                subj != Subj::First && (strong || sens || direction(ctx, end + 1))
            }
            Victim::Person => !idiom && (strong || bare_shove || direction(ctx, end + 1)),
            Victim::Thing => false,
        };
        if hit {
            let mut e = end;
            while e < hi && e < end + 3 && !ctx.is_punct(e + 1) && direction(ctx, e + 1) {
                e += 1;
            }
            ctx.push(Why::Violence, v, e, 0);
        }
    }
}

/// "I burned my arm with a lighter", "I cut again last night", "hitting
/// myself", "scratching my arms till they bleed": injury the writer does to
/// themselves (an accident is filtered later).
fn self_harm_rule(ctx: &mut Ctx) {
    let len = ctx.len();
    for v in 1..len {
        if !ctx.has(v, cls::SH_VERB) {
            continue;
        }
        let subj = subject(ctx, v);
        // "the urge to cut", "thoughts of hurting myself"
        let urge = (v.saturating_sub(3)..v).any(|k| ctx.has(k, cls::DESIRE));
        if !matches!(subj, Subj::First | Subj::Elided) && !urge {
            continue;
        }
        let verb = ctx.word(v);
        let w1 = ctx.word(v + 1);
        if w1 == "myself" {
            ctx.push(Why::SelfHarm, v, v + 1, 0);
            continue;
        }
        let (_, hi) = clause(ctx, v);
        let (slo, shi) = sentence(ctx, v);
        let cutting = matches!(
            verb,
            "cut"
                | "cuts"
                | "cutting"
                | "carve"
                | "carved"
                | "carving"
                | "slash"
                | "slashed"
                | "slashing"
                | "scratch"
                | "scratched"
                | "scratching"
        );
        if let Some(k) = (v + 1..=(v + 5).min(hi)).find(|&k| ctx.word(k) == "my") {
            let body = [k + 1, k + 2]
                .into_iter()
                .find(|&b| b <= hi && ctx.has(b, cls::BODY));
            if let Some(b) = body {
                let core = cutting
                    && matches!(
                        ctx.word(b),
                        "wrist"
                            | "wrists"
                            | "thigh"
                            | "thighs"
                            | "forearm"
                            | "forearms"
                            | "arm"
                            | "arms"
                            | "skin"
                            | "leg"
                            | "legs"
                            | "stomach"
                    );
                let marked = find_in(ctx, slo, shi, cls::SH_MARK).is_some();
                if core || marked {
                    ctx.push(Why::SelfHarm, v, b, 0);
                }
                continue;
            }
        }
        // "I cut again", "gonna cut tonight", "cutting is the only thing"
        if matches!(verb, "cut" | "cutting") {
            let bare = ctx.is_punct(v + 1)
                || matches!(
                    w1,
                    "again"
                        | "tonight"
                        | "today"
                        | "yesterday"
                        | "last"
                        | "before"
                        | "is"
                        | "was"
                        | "helps"
                        | "anymore"
                        | "deeper"
                        | "so"
                );
            if bare {
                ctx.push(Why::SelfHarm, v, v, 0);
            }
        }
    }
}

/// "took a load of paracetamol", "took extra of my meds": more medicine
/// than prescribed.
fn overdose_rule(ctx: &mut Ctx) {
    let len = ctx.len();
    for m in 1..len {
        if !ctx.has(m, cls::MEDS) {
            continue;
        }
        let (lo, _) = clause(ctx, m);
        let from = m.saturating_sub(6).max(lo);
        let Some(t) = (from..m).find(|&k| {
            matches!(
                ctx.word(k),
                "took"
                    | "take"
                    | "taken"
                    | "taking"
                    | "swallowed"
                    | "swallow"
                    | "downed"
                    | "popped"
            )
        }) else {
            continue;
        };
        let quant = (t + 1..m).any(|k| ctx.has(k, cls::QUANT) && ctx.word(k) != "all");
        if quant && matches!(subject(ctx, t), Subj::First | Subj::Elided) {
            ctx.push(Why::SelfHarm, t, m, 0);
        }
    }
}

/// "he checks my phone", "she controls all the money", "goes through my
/// messages", "I check her phone": control of the partner's things.
fn control_rule(ctx: &mut Ctx) {
    let len = ctx.len();
    for v in 1..len {
        let Some(ve) = ctx.class_at(v, cls::CTRL) else {
            continue;
        };
        let subj = subject(ctx, v);
        if matches!(subj, Subj::Third | Subj::Other) {
            continue;
        }
        let (lo, hi) = clause(ctx, v);
        // "could you check my phone for the code?", "please hide my phone"
        let request = (lo..v).any(|k| {
            ctx.word(k) == "please"
                || (matches!(ctx.word(k), "can" | "could" | "would" | "will")
                    && ctx.word(k + 1) == "you")
        });
        // "you can check my messages whenever you want": transparency
        // offered by the writer, not control
        let offer = (lo..v).any(|k| ctx.word(k) == "you")
            && (lo..v).any(|k| matches!(ctx.word(k), "can" | "may" | "welcome" | "free"));
        if request || offer {
            continue;
        }
        // the object follows the verb: "reads all my messages", not "keeps
        // ignoring my texts"
        let Some(o) = (ve + 1..=(ve + 4).min(hi))
            .take_while(|&k| {
                ctx.class_at(k, cls::CTRL_OBJ).is_some()
                    || matches!(
                        ctx.word(k),
                        "my" | "our" | "the" | "all" | "her" | "his" | "of" | "own"
                    )
            })
            .find(|&k| ctx.class_at(k, cls::CTRL_OBJ).is_some())
        else {
            continue;
        };
        let oe = ctx.class_at(o, cls::CTRL_OBJ).unwrap_or(o);
        let poss = [o.saturating_sub(1), o.saturating_sub(2)]
            .into_iter()
            .filter(|&k| k > ve)
            .map(|k| ctx.word(k))
            .find(|w| matches!(*w, "my" | "our" | "the" | "all" | "her" | "his"));
        let verb = ctx.word(v);
        let ok = match (subj, poss) {
            (Subj::First, Some("her" | "his")) => true,
            (Subj::First, _) => false,
            (_, Some("my" | "our" | "all")) => true,
            (_, Some("the")) => matches!(
                verb,
                "control"
                    | "controls"
                    | "controlled"
                    | "controlling"
                    | "changed"
                    | "changes"
                    | "hides"
                    | "hid"
                    | "keeps"
                    | "kept"
            ),
            _ => false,
        };
        if ok {
            ctx.push(Why::CoerciveControl, v, oe, 0);
        }
    }
}

/// Sex that is pressured or forced, or goes on after a no: in one sentence,
/// sex and pressure ("guilt trips me into sex"), or a refusal and carrying
/// on ("I said no and he did it anyway").
fn coercion_rule(ctx: &mut Ctx) {
    let len = ctx.len();
    let wanted = cls::SEX | cls::COERCE | cls::REFUSAL | cls::PERSIST;
    // (sentence, start, end, bits)
    let mut hits: Vec<(u32, usize, usize, u64)> = Vec::new();
    for k in 0..len {
        let b = ctx.cls.get(k).copied().unwrap_or(0) & wanted;
        if b != 0 {
            hits.push((ctx.sent.get(k).copied().unwrap_or(0), k, k, b));
        }
    }
    for &(s, e, b) in &ctx.multi {
        if b & wanted != 0 {
            hits.push((ctx.sent.get(s).copied().unwrap_or(0), s, e, b & wanted));
        }
    }
    hits.truncate(256);
    let mut found: Vec<(usize, usize)> = Vec::new();
    for &(sid, s, e, b) in &hits {
        let pair = |need: u64| {
            hits.iter()
                .find(|h| h.0 == sid && h.3 & need != 0 && (h.1, h.2) != (s, e))
                .map(|h| (h.1, h.2))
        };
        let other = if b & cls::SEX != 0 {
            pair(cls::COERCE)
        } else if b & cls::REFUSAL != 0 {
            pair(cls::PERSIST)
        } else {
            None
        };
        if let Some((os, oe)) = other {
            found.push((s.min(os), e.max(oe)));
        }
    }
    for (s, e) in found {
        ctx.push(Why::SexualCoercion, s, e, 0);
    }
}

/// A negation just before a crisis cue: "I'm not going to hurt myself",
/// "he's never hit me", "I don't want to die on this hill".
fn crisis_negated(ctx: &Ctx, s: usize) -> bool {
    let mut k = s;
    while k > 0 && s - k < 5 {
        k -= 1;
        if ctx.is_punct(k) {
            return false;
        }
        if ctx.has(k, cls::NEG) {
            return true;
        }
        let filler = aux_or_adverb(ctx.word(k))
            || ctx.has(k, cls::INTENS)
            || matches!(
                ctx.word(k),
                "want"
                    | "wanting"
                    | "feel"
                    | "feeling"
                    | "trying"
                    | "planning"
                    | "about"
                    | "i"
                    | "he"
                    | "she"
                    | "they"
                    | "you"
                    | "ever"
                    | "gonna"
                    | "thinking"
                    | "a"
                    | "the"
                    | "any"
                    | "anything"
                    | "to"
                    | "having"
                    | "really"
                    | "that"
            );
        if !filler {
            return false;
        }
    }
    false
}

/// A joke: a retraction ("jk", "kidding") in the sentence, or laughter in
/// the clause or closing the sentence — unless negated ("I'm not joking"),
/// and never for violence that keeps happening ("got smacked around again
/// lol").
fn joking(ctx: &Ctx, c: &Cand) -> bool {
    if ctx.all & (cls::LAUGH_WORD | cls::RETRACT) == 0 {
        return false;
    }
    let (slo, shi) = sentence(ctx, c.s);
    let (clo, chi) = clause(ctx, c.s);
    let again = (slo..=shi).any(|k| ctx.word(k) == "again");
    let negated = |k: usize| {
        (k >= 1 && ctx.has(k - 1, cls::NEG))
            || (k >= 2 && !ctx.is_punct(k - 1) && ctx.has(k - 2, cls::NEG))
    };
    // "lol not kidding": an emphatic denial outweighs the laughter
    if (slo..=shi).any(|k| ctx.has(k, cls::RETRACT) && negated(k)) {
        return false;
    }
    for k in slo..=shi {
        let laugh = ctx.has(k, cls::LAUGH_WORD);
        let retract = ctx.has(k, cls::RETRACT);
        if !laugh && !retract {
            continue;
        }
        if retract {
            return true;
        }
        let closing = (k + 1..=shi).all(|q| {
            ctx.is_punct(q)
                || ctx.has(q, cls::LAUGH_WORD | cls::RETRACT)
                || ctx.word(q).starts_with("emoji_")
        });
        if (clo..=chi).contains(&k) || closing {
            if c.why == Why::Violence && again {
                continue;
            }
            return true;
        }
    }
    false
}

/// "Mum will kill me if we're late", "this move is going to kill me": a
/// parent, a boss or a thing "killing" the writer is a figure of speech.
fn hyperbole(ctx: &Ctx, c: &Cand) -> bool {
    if !matches!(c.why, Why::Violence | Why::Threat) {
        return false;
    }
    // "he hit me up about the party", "she beat me at chess", "don't beat
    // me up about it" (but "he beat me up", "he beat me up for talking to
    // my ex" are beatings)
    let beat = (c.s..c.e).any(|k| matches!(ctx.word(k), "beat" | "beats"));
    let next = ctx.word(c.e + 1);
    if ctx.word(c.e) == "me"
        && ((next == "up" && !beat) || (beat && matches!(next, "at" | "to" | "in")))
    {
        return true;
    }
    if ctx.word(c.e) == "up" && beat && next == "about" {
        return true;
    }
    (c.s..=c.e).any(|k| {
        let verb = matches!(ctx.word(k), "kill" | "murder" | "killing" | "murdering");
        // "I could kill you for eating the last brownie"
        let could = (k.saturating_sub(2)..k).any(|q| ctx.word(q) == "could");
        verb && (could
            || (ctx.word(k + 1) == "me" && matches!(subject(ctx, k), Subj::Third | Subj::Other)))
    })
}

/// Words that make a bare mention of suicide, self-harm or an overdose a
/// topic (a film, a course, a charity, a loss) rather than the writer's
/// own state.
fn topic_word(w: &str) -> bool {
    matches!(
        w,
        "prevention"
            | "awareness"
            | "charity"
            | "documentary"
            | "film"
            | "movie"
            | "podcast"
            | "book"
            | "article"
            | "storyline"
            | "story"
            | "course"
            | "training"
            | "episode"
            | "show"
            | "series"
            | "novel"
            | "lecture"
            | "research"
            | "statistics"
            | "hotline"
            | "helpline"
            | "campaign"
            | "fundraiser"
            | "seminar"
            | "workshop"
            | "module"
            | "news"
            | "song"
            | "poem"
            | "poet"
            | "died"
            | "memory"
            | "memorial"
            | "funeral"
            | "grief"
            | "bereavement"
    )
}

/// The first word of an idiom that reads a harm word on ("die of
/// embarrassment", "hurt myself laughing").
fn idiom_harm_word(w: &str) -> bool {
    matches!(
        w,
        "die" | "died" | "dying" | "dead" | "hurt" | "hurting" | "kill" | "killing" | "killed"
    )
}

/// People of a story: "the character kills himself".
fn story_person(w: &str) -> bool {
    matches!(
        w,
        "character" | "characters" | "villain" | "hero" | "heroine" | "protagonist" | "narrator"
    )
}

/// A telling: "in the film", "a show where…".
fn story_medium(w: &str) -> bool {
    matches!(
        w,
        "film"
            | "movie"
            | "book"
            | "novel"
            | "show"
            | "series"
            | "episode"
            | "documentary"
            | "podcast"
            | "play"
            | "game"
            | "chapter"
    )
}

/// A story framed as one in the sentence `slo..=shi`: "the villain", "in
/// the film", "a movie where…", "the book about…".
fn story_frame(ctx: &Ctx, slo: usize, shi: usize) -> bool {
    (slo..=shi).any(|k| {
        let (w, next) = (ctx.word(k), ctx.word(k + 1));
        (matches!(w, "the" | "a" | "this" | "that") && story_person(next))
            || (matches!(w, "in" | "on")
                && matches!(next, "the" | "a" | "that" | "this")
                && story_medium(ctx.word(k + 2)))
            || (story_medium(w) && matches!(next, "where" | "about" | "when"))
    })
}

/// He, she or they: in a message about a couple, often the partner.
fn third_person_pronoun(w: &str) -> bool {
    matches!(
        w,
        "he" | "she" | "him" | "her" | "his" | "hers" | "they" | "them" | "their"
    )
}

/// The writer or the one written to (or someone of theirs).
fn speaker_or_listener(w: &str) -> bool {
    matches!(
        w,
        "i" | "me"
            | "my"
            | "myself"
            | "mine"
            | "you"
            | "your"
            | "yourself"
            | "u"
            | "ur"
            | "us"
            | "our"
            | "we"
            | "ours"
            | "ourselves"
    )
}

/// Sports where hitting and tackling are the game.
fn sport_word(w: &str) -> bool {
    matches!(
        w,
        "dodgeball"
            | "rugby"
            | "football"
            | "soccer"
            | "boxing"
            | "fencing"
            | "sparring"
            | "bout"
            | "karate"
            | "judo"
            | "hockey"
            | "wrestling"
            | "kickboxing"
            | "paintball"
            | "league"
            | "referee"
            | "tournament"
            | "netball"
            | "lacrosse"
    )
}

/// Someone other than a partner who sets rules: "the doctor says I'm not
/// allowed to drive", "not allowed my phone on the shop floor".
fn authority_word(w: &str) -> bool {
    matches!(
        w,
        "doctor"
            | "dr"
            | "gp"
            | "nurse"
            | "surgeon"
            | "dentist"
            | "boss"
            | "manager"
            | "hospital"
            | "airline"
            | "landlord"
            | "school"
            | "teacher"
            | "procedure"
            | "surgery"
            | "operation"
            | "shift"
            | "office"
            | "policy"
            | "workplace"
            | "exam"
    )
}

/// Plans for an ordinary event: "Picked a date! 14th June for the party".
fn event_word(w: &str) -> bool {
    matches!(
        w,
        "party"
            | "wedding"
            | "holiday"
            | "trip"
            | "birthday"
            | "hall"
            | "venue"
            | "booking"
            | "reservation"
            | "gig"
            | "concert"
            | "interview"
            | "anniversary"
            | "christening"
            | "barbecue"
            | "bbq"
    )
}

/// Context that makes a crisis cue ordinary, per kind of cue: a topic
/// rather than a state, an accident on a thing, a sport, a rule set by a
/// doctor or an employer, a date for a party, ending a membership.
fn benign_context(ctx: &Ctx, c: &Cand, slo: usize, shi: usize) -> bool {
    let in_sentence = |pred: fn(&str) -> bool| (slo..=shi).any(|k| pred(ctx.word(k)));
    let cue: Vec<&str> = (c.s..=c.e).map(|k| ctx.word(k)).collect();
    match c.why {
        Why::Suicidal | Why::SelfHarm | Why::Despair | Why::SelfHarmUrge => {
            // a bare mention in a topic: "a documentary about suicide
            // prevention", "lost my uncle to suicide" — not "attempted suicide"
            let bare = matches!(
                cue.as_slice(),
                ["suicide"] | ["overdose"] | ["self", "harm"]
            );
            let own = c.s >= 1
                && matches!(
                    ctx.word(c.s - 1),
                    "attempted"
                        | "attempt"
                        | "considering"
                        | "considered"
                        | "contemplating"
                        | "committing"
                        | "commit"
                );
            if bare && !own && in_sentence(topic_word) {
                return true;
            }
            // "I hope I don't wake up late tomorrow": waking at a time
            if cue.ends_with(&["wake", "up"])
                && matches!(
                    ctx.word(c.e + 1),
                    "late" | "early" | "before" | "till" | "until" | "at" | "in" | "on"
                )
            {
                return true;
            }
            // "gonna end it with the gym membership": ending something
            if cue.last() == Some(&"it") && cue.contains(&"end") && ctx.word(c.e + 1) == "with" {
                return true;
            }
            // "picked a date" for a party
            if matches!(
                cue.as_slice(),
                ["picked", "a", "date"] | ["i", "have", "decided"]
            ) && (0..ctx.len()).any(|k| event_word(ctx.word(k)))
            {
                return true;
            }
        }
        _ => {}
    }
    // a story told about others: "the character kills himself in the
    // film", "in the book the villain wants to die" (but not "after that
    // film I want to die", "my wife says she wants to die", nor "he
    // watched a film and said he wants to die": a partner may be he or she)
    if story_frame(ctx, slo, shi)
        && !in_sentence(|w| speaker_or_listener(w) || third_person_pronoun(w))
    {
        return true;
    }
    if matches!(c.why, Why::SelfHarm | Why::Violence) {
        // "burned myself on the glue gun", "hit my head on the cupboard":
        // an injury on a thing (but "on purpose" stays)
        let own_body = cue.iter().any(|w| matches!(*w, "my" | "myself"));
        let (_, chi) = clause(ctx, c.e);
        let on_thing = (c.e + 1..chi).any(|k| {
            ctx.word(k) == "on"
                && matches!(
                    ctx.word(k + 1),
                    "the" | "a" | "an" | "some" | "that" | "this" | "those"
                )
        });
        // "burned my hand on the kettle on purpose" is no accident
        let deliberate = (slo..=shi).any(|k| {
            matches!(ctx.word(k), "deliberately" | "intentionally")
                || (ctx.word(k) == "on" && ctx.word(k + 1) == "purpose")
        });
        if own_body && on_thing && !deliberate {
            return true;
        }
    }
    if matches!(c.why, Why::Violence | Why::Threat) && in_sentence(sport_word) {
        return true;
    }
    if c.why == Why::CoerciveControl && cue.first() == Some(&"not") && in_sentence(authority_word) {
        return true;
    }
    false
}

fn crisis_filters(ctx: &mut Ctx) {
    if !ctx
        .cands
        .iter()
        .any(|c| c.alive && c.kind() == Kind::Crisis)
    {
        return;
    }
    for i in 0..ctx.cands.len() {
        let c = ctx.cands[i];
        if !c.alive || c.kind() != Kind::Crisis {
            continue;
        }
        let (slo, shi) = sentence(ctx, c.s);
        let again = (slo..=shi).any(|k| ctx.word(k) == "again");
        // "when I was a teenager", "years ago", "I used to"
        let past = !again && find_in(ctx, slo, shi, cls::PAST).is_some();
        // "The old one is so blunt I nearly cut myself"
        let accident =
            matches!(c.why, Why::SelfHarm) && find_in(ctx, slo, shi, cls::ACCIDENT).is_some();
        // a title or a name: "Mateo's band is called Suicide Squirrels"
        let title = is_title(ctx, c.s) && c.s >= 1 && !ctx.is_punct(c.s - 1);
        // "I don't see any reason to live anymore": the negation is part of it
        let polarity = (c.s..=c.e).any(|k| matches!(ctx.word(k), "any" | "anymore" | "ever"));
        if past
            || accident
            || benign_context(ctx, &c, slo, shi)
            || title
            || (!polarity && crisis_negated(ctx, c.s))
            || joking(ctx, &c)
            || hyperbole(ctx, &c)
        {
            ctx.cands[i].alive = false;
            continue;
        }
        // an urge not acted on: "I want to hurt myself", "the urge to cut"
        if c.why == Why::SelfHarm {
            let intent = (c.s.saturating_sub(3)..c.s).any(|k| {
                matches!(
                    ctx.word(k),
                    "going" | "will" | "gonna" | "plan" | "planning"
                )
            });
            if !intent && find_in(ctx, slo, c.e, cls::DESIRE).is_some() {
                ctx.cands[i].why = Why::SelfHarmUrge;
            }
        }
    }
    // hopelessness with a plan, means or a time is urgent
    let despair = ctx.cands.iter().any(|c| c.alive && c.why == Why::Despair);
    if despair && find_in(ctx, 0, ctx.len().saturating_sub(1), cls::PLAN).is_some() {
        for c in ctx.cands.iter_mut() {
            if c.alive && c.why == Why::Despair {
                c.why = Why::Suicidal;
            }
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

/// The kinds the coach praises (the horsemen's antidotes).
fn is_antidote(kind: Kind) -> bool {
    matches!(kind, Kind::Repair | Kind::Appreciation | Kind::IStatement)
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
        // masks that read a harm word on as an idiom ("die of
        // embarrassment", "hurt myself laughing"; not "dying to")
        let idioms: Vec<(usize, usize)> = ctx
            .cands
            .iter()
            .filter(|c| {
                c.flags & fl::MASK != 0 && idiom_harm_word(ctx.word(c.s)) && ctx.word(c.e) != "to"
            })
            .map(|c| (c.s, c.e))
            .collect();
        for c in ctx.cands.iter_mut() {
            let masked = reach.get(c.s).is_some_and(|r| r.is_some_and(|e| e >= c.e));
            // a crisis phrase that such an idiom starts inside and runs past:
            // "ready to die" in "ready to die of embarrassment" (a mask on
            // another word, "i could disappear somewhere", ends nothing)
            let idiom_tail = c.why.kind() == Kind::Crisis
                && idioms.iter().any(|&(s, e)| s > c.s && s <= c.e && e > c.e);
            if c.flags & fl::MASK != 0 || masked || idiom_tail {
                c.alive = false;
            }
        }
    }
    // crisis readings: negation, jokes, hyperbole, the distant past, tiers
    crisis_filters(ctx);
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
            // and a message the rules read as crisis is not praised for its
            // antidotes: the "sorry" of a goodbye is not a repair attempt (the
            // model's less certain finding leaves the rest of a message be)
            if c.alive && c.kind() != Kind::Crisis && (hit || is_antidote(c.kind())) {
                c.alive = false;
            }
        }
    }
    // 4. sarcasm
    sarcasm(ctx);
    // 5. positive framing: "I love that you always…", "thank you for always…"
    // (cands are sorted by start: remember the latest appreciation per sentence)
    // contrast[k] = contrast words among tokens 0..k (built on first use)
    let mut contrast = std::mem::take(&mut ctx.contrast);
    contrast.clear();
    let mut last: Option<(u32, usize, usize)> = None; // (sentence, start, end)
    for i in 0..ctx.cands.len() {
        let c = ctx.cands[i];
        if !c.alive {
            continue;
        }
        let sid = ctx.sent.get(c.s).copied().unwrap_or(0);
        if c.why == Why::Absolute {
            if let Some((ps, p_s, p_e)) = last {
                if contrast.is_empty() {
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
                }
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
    ctx.contrast = contrast;
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

/// Position of `kind` in `Kind::ALL` (the declaration order).
fn order(kind: Kind) -> usize {
    kind as usize
}

fn labels_of(kinds: impl Iterator<Item = Kind>) -> Vec<Label> {
    let mut present = [false; 8];
    for k in kinds {
        if let Some(slot) = present.get_mut(order(k)) {
            *slot = true;
        }
    }
    let n = present.iter().filter(|p| **p).count();
    if n == 0 {
        return vec![Label::Neutral];
    }
    let mut labels = Vec::with_capacity(n);
    for (k, p) in Kind::ALL.iter().zip(present) {
        if p {
            labels.push(k.label());
        }
    }
    labels
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
    let model = model_fallback(ctx);
    let mut findings: Vec<Finding> =
        Vec::with_capacity(ctx.cands.iter().filter(|c| c.alive).count() + 1);
    for c in reported(ctx, model.crisis.as_ref()) {
        let Some((start, end, f, l)) = span(ctx, c) else {
            continue;
        };
        let cue = ctx
            .n
            .canon
            .get(ctx.n.toks[f].cs..ctx.n.toks[l].ce)
            .unwrap_or("")
            .to_string();
        findings.push(Finding {
            kind: c.kind(),
            start,
            end,
            cue,
            explanation: c.why.explanation().into(),
            crisis: c.why.crisis(),
        });
    }
    findings.extend(model.findings(ctx));
    // crisis first, then text order
    findings.sort_by_key(|f| {
        let o = order(f.kind);
        (o != 0, f.start, o, f.end)
    });
    findings.dedup_by(|a, b| a.kind == b.kind && a.start == b.start && a.end == b.end);
    let labels = labels_of(findings.iter().map(|f| f.kind));
    let suggestion = if labels.first() == Some(&Label::Crisis) {
        None
    } else {
        suggest::suggest(ctx, text, &labels)
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
        let model = model_fallback(ctx);
        labels_of(
            reported(ctx, model.crisis.as_ref())
                .filter(|c| span(ctx, c).is_some())
                .map(Cand::kind)
                .chain(model.kinds()),
        )
    })
}

// ------------------------------------------------- statistical fallback

/// True when the rules found a crisis that will be reported.
fn rules_found_crisis(ctx: &Ctx) -> bool {
    ctx.cands
        .iter()
        .any(|c| c.alive && c.kind() == Kind::Crisis && span(ctx, c).is_some())
}

/// The lexicon classes present in each sentence (multi-word entries count in
/// the sentence they start in), into `ctx.sbits`. Words inside a negation's
/// scope (after "not", "no" or "never", up to the next punctuation) add only
/// the negation itself: "I'm not going to hit you" holds no striking verb
/// for the model, as it holds none for the rules.
fn sentence_bits(ctx: &mut Ctx) {
    let mut bits = std::mem::take(&mut ctx.sbits);
    bits.clear();
    let sentences = ctx.sent.last().map_or(0, |&s| s as usize + 1);
    bits.resize(sentences, 0);
    let mut negated = vec![false; ctx.n.toks.len()];
    let mut scope = false;
    for (i, t) in ctx.n.toks.iter().enumerate() {
        if t.is_punct() {
            scope = false;
            continue;
        }
        negated[i] = scope;
        if matches!(
            ctx.n.canon.get(t.cs..t.ce).unwrap_or(""),
            "not" | "no" | "never"
        ) {
            scope = true;
        }
    }
    let sent = &ctx.sent;
    let mut add = |i: usize, b: u64| {
        let b = if negated.get(i).copied().unwrap_or(false) {
            b & lexicon::cls::NEG
        } else {
            b
        };
        if let Some(slot) = sent.get(i).and_then(|&s| bits.get_mut(s as usize)) {
            *slot |= b;
        }
    };
    for (i, &b) in ctx.cls.iter().enumerate() {
        if b != 0 {
            add(i, b);
        }
    }
    for &(s, _, b) in &ctx.multi {
        add(s, b);
    }
    ctx.sbits = bits;
}

/// The tokens and the per-sentence lexicon classes of `text`: what the model
/// reads.
pub(crate) fn with_model_input<R>(text: &str, f: impl Fn(&Norm, &[u64]) -> R) -> R {
    with_ctx(text, |ctx| f(&ctx.n, &ctx.sbits))
}

/// The rules alone read `text` as crisis (for the model's cross-validation).
pub(crate) fn rules_crisis(text: &str) -> bool {
    with_ctx(text, rules_found_crisis)
}

/// The labels the rules alone give `text` (for the model's training); empty
/// when they saw no cue at all.
pub(crate) fn rules_labels(text: &str) -> Vec<Label> {
    with_ctx(text, |ctx| {
        if ctx.cands.is_empty() {
            return Vec::new();
        }
        labels_of(
            ctx.cands
                .iter()
                .filter(|c| c.alive && span(ctx, c).is_some())
                .map(Cand::kind),
        )
    })
}

/// A finding read by the statistical model: the sentence that carries its
/// evidence.
struct Fallback {
    why: Why,
    crisis: Option<crate::Crisis>,
    /// Byte span and first / last token.
    start: usize,
    end: usize,
    f: usize,
    l: usize,
}

impl Fallback {
    /// A sure crisis hides the findings it overlaps, like a rules crisis; a
    /// possible one (tentative) hides nothing: the reading is uncertain, and
    /// what the words say about tone still stands.
    fn hides(&self) -> bool {
        self.crisis.is_some_and(|c| !c.tentative)
    }

    fn finding(&self, ctx: &Ctx) -> Finding {
        let cue = ctx
            .n
            .toks
            .get(self.f)
            .zip(ctx.n.toks.get(self.l))
            .and_then(|(f, l)| ctx.n.canon.get(f.cs..l.ce))
            .unwrap_or("")
            .to_string();
        Finding {
            kind: self.why.kind(),
            start: self.start,
            end: self.end,
            cue,
            explanation: self.why.explanation().into(),
            crisis: self.crisis,
        }
    }

    fn overlaps(&self, s: usize, e: usize) -> bool {
        !(e < self.f || self.l < s)
    }
}

/// What the model adds to the rules: a crisis sign when the rules found
/// none, and tone labels when the rules found nothing at all (never where a
/// crisis sign is).
#[derive(Default)]
struct ModelFindings {
    crisis: Option<Fallback>,
    tones: [Option<Fallback>; crate::model::TONES.len()],
}

impl ModelFindings {
    fn kinds(&self) -> impl Iterator<Item = Kind> + '_ {
        self.crisis
            .iter()
            .chain(self.tones.iter().flatten())
            .map(|f| f.why.kind())
    }

    fn findings<'a>(&'a self, ctx: &'a Ctx) -> impl Iterator<Item = Finding> + 'a {
        self.crisis
            .iter()
            .chain(self.tones.iter().flatten())
            .map(|f| f.finding(ctx))
    }
}

fn fallback_at(
    ctx: &Ctx,
    why: Why,
    crisis: Option<crate::Crisis>,
    s: usize,
    e: usize,
) -> Option<Fallback> {
    let c = Cand {
        why,
        s,
        e,
        flags: 0,
        grammar: false,
        alive: true,
    };
    let (start, end, f, l) = span(ctx, &c)?;
    Some(Fallback {
        why,
        crisis,
        start,
        end,
        f,
        l,
    })
}

fn model_fallback(ctx: &Ctx) -> ModelFindings {
    let mut found = 0u16;
    for c in ctx
        .cands
        .iter()
        .filter(|c| c.alive && span(ctx, c).is_some())
    {
        found |= 1 << order(c.kind());
    }
    let rules_crisis = found & (1 << order(Kind::Crisis)) != 0;
    // tone labels only where the rules saw no cue at all (not even one they
    // set aside, like the "sorry" of "sorry for your loss"): the rules'
    // reading of words they know is finer than word statistics ("I feel
    // like you never listen" is criticism, not an I-statement)
    let silent = ctx.cands.is_empty();
    let r = crate::model::read(&ctx.n, &ctx.sbits, silent);
    let mut out = ModelFindings::default();
    // where the rules read a crisis cue and set it aside (denied, a film, a
    // resolved past…), only a sure model reading overrides them: their
    // reading of words they know is finer than word statistics
    let rules_set_aside_crisis = ctx
        .cands
        .iter()
        .any(|c| !c.alive && c.kind() == Kind::Crisis);
    if !rules_crisis
        && let Some(c) = r.crisis
        && !(c.crisis.tentative && rules_set_aside_crisis)
    {
        // The model makes a sign urgent only when it is sure of the crisis
        // and its tier head reaches the threshold chosen out of fold, and
        // never over a crisis cue the rules set aside (denied, a film, a
        // resolved past): there the rules' reading of the words stands for
        // the tier, and the sign is distress (help and a notice).
        let crisis = if rules_set_aside_crisis {
            crate::Crisis {
                tier: crate::CrisisTier::Distress,
                ..c.crisis
            }
        } else {
            c.crisis
        };
        out.crisis = fallback_at(
            ctx,
            crate::model::why(crisis.category),
            Some(crisis),
            c.s,
            c.e,
        );
    }
    for (slot, t) in out.tones.iter_mut().zip(r.tones) {
        let Some(t) = t else { continue };
        let Some(fb) = fallback_at(ctx, Why::Tone(t.kind), None, t.s, t.e) else {
            continue;
        };
        // a crisis hides what it overlaps, as in `resolve`
        let under_crisis = out
            .crisis
            .as_ref()
            .is_some_and(|k| k.hides() && k.overlaps(fb.f, fb.l))
            || ctx
                .cands
                .iter()
                .any(|c| c.alive && c.kind() == Kind::Crisis && fb.overlaps(c.s, c.e));
        if !under_crisis {
            *slot = Some(fb);
        }
    }
    out
}

/// The alive candidates, less those the model's crisis finding overlaps
/// (a crisis hides what it overlaps, as in `resolve`).
fn reported<'a>(ctx: &'a Ctx, fallback: Option<&'a Fallback>) -> impl Iterator<Item = &'a Cand> {
    let hiding = fallback.filter(|k| k.hides());
    ctx.cands
        .iter()
        .filter(move |c| c.alive && hiding.is_none_or(|k| c.e < k.f || k.l < c.s))
}

#[cfg(test)]
mod crisis_tests {
    use crate::{CrisisCategory as C, CrisisTier as T, analyze};

    /// The strongest crisis sign of `text`, if any.
    fn sign(text: &str) -> Option<(C, T)> {
        let signs = analyze(text).crisis_signs();
        signs.first().map(|s| (s.category, s.tier))
    }

    fn has(text: &str, category: C, tier: T) {
        let signs = analyze(text).crisis_signs();
        assert!(
            signs
                .iter()
                .any(|s| s.category == category && s.tier == tier),
            "{text}: want {category:?}/{tier:?}, got {signs:?}"
        );
    }

    /// The rules raise nothing (the statistical fallback is tested in
    /// `model`; its own false alarms are measured, not hidden, by the eval).
    fn none(text: &str) {
        assert!(
            !super::rules_crisis(text),
            "{text}: want no crisis sign from the rules"
        );
    }

    #[test]
    fn violence_with_any_subject_and_tense() {
        for t in [
            "My husband hit me last night",
            "Jess shoved me into the wall",
            "he's been hitting me for months",
            "I got slapped at the party",
            "I was choked until I blacked out",
            "my bf grabbed my wrist so hard it bruised",
            "she threw a plate at me",
            "I pushed her. I'm so ashamed.",
        ] {
            has(t, C::ViolenceReport, T::Urgent);
        }
        for t in [
            "I hit the car in front at the lights, everyone is fine",
            "No, he's never hit me, we just shout a lot",
            "he pulled me into a hug",
            "she beat me at chess again",
            "he hit me up about the party",
            "I got hit by a car on my bike years ago",
            "the realisation hit me hard",
            "you're pushing me away",
        ] {
            none(t);
        }
    }

    #[test]
    fn strangulation_weapons_and_fear() {
        for t in [
            "he put his hands around my throat",
            "she pinned me down on the bed",
            "he pulled a knife on me",
            "I'm scared of what he'll do when he gets home",
        ] {
            has(t, C::ViolenceReport, T::Urgent);
        }
        none("I'm choking on this cough, can you get the lozenges");
        none("can you pick up a new chef's knife, the old one is blunt");
    }

    #[test]
    fn laughter_is_per_sentence_and_never_when_denied() {
        has(
            "he said he'd kill me, I'm not joking",
            C::ViolenceReport,
            T::Urgent,
        );
        has(
            "he wasn't joking when he said he would kill me",
            C::ViolenceReport,
            T::Urgent,
        );
        has(
            "got smacked around again lol. its fine",
            C::ViolenceReport,
            T::Urgent,
        );
        // laughter in another sentence does not cancel a report
        has(
            "lol the dog ate my sock. He hit me last night.",
            C::ViolenceReport,
            T::Urgent,
        );
        none("she's going to kill me if I forget the milk lol");
        none("im gonna kms if this meeting runs over jk");
        none("Ronan pushed me into the pool at the barbecue 😂");
    }

    #[test]
    fn hyperbole_from_third_parties_and_things() {
        for t in [
            "Mum will kill me if I'm late",
            "my boss is going to murder me when she sees this",
            "the stress of this move is going to kill me",
            "i could kill u for eating the last brownie",
            "I can't do this homework anymore",
            "I would never hurt you, you know that",
            "Mateo's band is called Suicide Squirrels",
        ] {
            none(t);
        }
        has(
            "he said he will kill me if I leave",
            C::ViolenceReport,
            T::Urgent,
        );
    }

    #[test]
    fn sexual_coercion() {
        for t in [
            "he made me have sex when I didn't want to",
            "I said no and he did it anyway",
            "she kept going after I said stop",
            "he pressured me into sex again",
            "my gf guilt trips me into sex",
        ] {
            has(t, C::SexualCoercion, T::Urgent);
        }
        none("I said no to the party and he went anyway");
        none("you made me breakfast in bed, thank you");
    }

    #[test]
    fn coercive_control() {
        for t in [
            "he checks my phone every night",
            "she controls all the money",
            "he won't let me see my friends",
            "I have to ask permission to leave the house",
            "he has all my passwords",
            "I check her phone, somebody has to",
        ] {
            has(t, C::CoerciveControl, T::Distress);
        }
        for t in [
            "could you check my phone for the delivery code",
            "I check my phone too much",
            "lol my mum still tracks my location",
            "You keep ignoring my texts.",
            "nobody's controlling anybody, we agreed a budget",
            // transparency the writer offers
            "You can check my messages whenever you want",
            "you're welcome to read my texts, I have nothing to hide",
        ] {
            none(t);
        }
    }

    #[test]
    fn self_harm_acts_and_urges() {
        for t in [
            "I burned my arm with a lighter after the fight",
            "i cut again last night",
            "I've been self-harming again",
            "took a load of paracetamol after he left",
            "i sh'd again",
        ] {
            has(t, C::SelfHarm, T::Urgent);
        }
        for t in [
            "I keep wanting to hurt myself",
            "the urge to cut is really bad tonight",
            "i wanna self harm so bad",
        ] {
            has(t, C::SelfHarm, T::Distress);
        }
        for t in [
            "Burned my hand on the oven tray, stupid",
            "I cut my finger chopping onions",
            "I'm not going to hurt myself, I promise",
            "I used to self harm at school, ten years clean now",
        ] {
            none(t);
        }
    }

    #[test]
    fn ordinary_contexts_of_crisis_words() {
        for t in [
            // a topic, not a state
            "We watched a documentary about suicide prevention last night",
            "Asha is running a 10k for a suicide charity",
            // an injury on a thing
            "scratched my arm on the brambles at the allotment",
            // a boss's or a parent's "going to murder me", a future without harm
            "Ugh, my boss is going to murder me when she finds out",
            "He'll hit the gym after work and then pick up the kids",
            "hit my head on the cupboard door again",
            // a sport, a rule set by a doctor or an employer
            "got hit in the face twice at dodgeball but we won",
            "Doctor says I'm not allowed to drive for a week",
            // an ordinary plan, ending a membership, waking at a time
            "Picked a date! 14th June for the party",
            "im gonna end it with the gym membership",
            "I hope I don't wake up late tomorrow",
            // negated and resolved in words
            "I'd never do anything to hurt myself, I'm just frustrated",
            "I had suicidal thoughts at uni twelve years ago",
        ] {
            none(t);
        }
        for t in [
            // harm declared for the future, in words no phrase list holds
            "My partner says he'll throw acid in my face so no one looks at me",
            "She said if I go to my sister's she'll slash my tyres and then my throat",
            "he said hed break every bone in my hand if he catches me texting",
            "Carry on flirting with him and I'll put you both in hospital.",
            "I burned my hand on the kettle on purpose this afternoon",
            "I have attempted suicide before and the thoughts are back",
        ] {
            assert!(sign(t).is_some(), "{t}");
        }
    }

    #[test]
    fn third_person_forms_follow_english_spelling() {
        for (base, form) in [
            ("want", Some("wants")),
            ("wish", Some("wishes")),
            ("punch", Some("punches")),
            ("kiss", Some("kisses")),
            ("try", Some("tries")),
            ("play", Some("plays")),
            ("hit", Some("hits")),
            // too short to inflect safely ("us", "is"), or not a plain word
            ("go", None),
            ("u", None),
            ("café", None),
            ("self-harm", None),
        ] {
            assert_eq!(super::third_person(base).as_deref(), form, "{base}");
        }
    }

    #[test]
    fn crisis_words_match_in_the_third_person() {
        // "wants" is read as "want" inside the phrase "want to die"; the
        // same words about oneself give the same finding
        assert_eq!(sign("she wants to die"), sign("i want to die"));
        assert!(sign("she wants to die").is_some());
        assert!(sign("my wife says she wants to die").is_some());
        assert!(sign("he hits me when he drinks").is_some());
        // one direction only: a verb never takes a form's own cues, and
        // words outside crisis language keep their forms apart
        for t in [
            "Did you read my text?",
            "I thought my phone was dead",
            "Can you hold my hair back?",
            "It kills you to say thank you, doesn't it",
        ] {
            assert_eq!(sign(t), None, "{t}");
        }
    }

    #[test]
    fn suicidal_intent_and_passive_ideation() {
        for t in [
            "I want to kill myself",
            "I'm going to end it tonight",
            // the "will" of "I'll" is not a title (a name is not a crisis)
            "I'll end it tonight",
            "I'm going to unalive myself",
            "kms",
        ] {
            assert_eq!(sign(t), Some((C::Suicidal, T::Urgent)), "{t}");
        }
        for t in [
            "I don't see the point anymore",
            "I think about dying",
            "I wish I wasn't here",
        ] {
            assert_eq!(sign(t), Some((C::Suicidal, T::Distress)), "{t}");
        }
        // hopelessness with means or a plan is urgent
        assert_eq!(
            sign(
                "honestly i cant do this anymore, i looked up how many of my sleeping tablets it would take"
            ),
            Some((C::Suicidal, T::Urgent))
        );
        none("lol i wanna die, i just sent the email to the whole department");
        none("I don't want to die on this hill, let's get the blue sofa");
        none("I'm not suicidal, just tired");
        none("i want to disappear into a cabin in the woods with you");
    }

    #[test]
    fn threats() {
        for t in [
            "touch my phone again and ill hurt you. im not joking",
            "u ever lie to me again and ill break ur fingers",
            "I will hurt your dog if you don't come home",
        ] {
            has(t, C::Threat, T::Urgent);
        }
        none("new season of the shooter game dropped, I'm going to destroy everyone tonight");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn order_is_declaration_order() {
        for (i, k) in crate::Kind::ALL.iter().enumerate() {
            assert_eq!(super::order(*k), i);
        }
    }

    #[test]
    fn lexicon_compiles() {
        assert!(super::lexicon_ready());
    }

    /// Phrase matches of the trie, in report order, as (first, last, phrase).
    fn trie_matches(text: &str) -> Vec<(usize, usize, usize)> {
        let mut ctx = super::Ctx::default();
        super::run_into(text, &mut ctx);
        ctx.matches.iter().map(|&(e, s, p)| (s, e, p)).collect()
    }

    /// The same with an overlapping Aho–Corasick scan over the canonical
    /// text (the previous implementation).
    fn ac_matches(text: &str) -> Vec<(usize, usize, usize)> {
        use aho_corasick::{AhoCorasick, MatchKind};
        use std::sync::LazyLock;
        static AC: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
            let lex = super::LEX.as_ref()?;
            let spaced: Vec<String> = lex.phrases.iter().map(|p| format!(" {p} ")).collect();
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&spaced)
                .ok()
        });
        let (Some(ac), Some(lex)) = (AC.as_ref(), super::LEX.as_ref()) else {
            return Vec::new();
        };
        let n = crate::text::tokenize(text);
        let mut out = Vec::new();
        for m in ac.find_overlapping_iter(n.canon.as_str()) {
            let pid = m.pattern().as_usize();
            let sb = m.start() + 1;
            let Some(s) = n.toks.iter().position(|t| t.cs == sb) else {
                continue;
            };
            let ntoks = lex.phrases[pid].split(' ').count();
            out.push((s, s + ntoks - 1, pid));
        }
        out
    }

    #[test]
    fn trie_matches_aho_corasick() {
        let mut texts: Vec<String> = Vec::new();
        for set in [
            include_str!("../data/dev.jsonl"),
            include_str!("../tests/data/own-sentences.jsonl"),
        ] {
            for m in crate::eval::parse_jsonl(set).unwrap() {
                texts.push(m.text);
            }
        }
        // every phrase on its own and inside a sentence
        let lex = super::LEX.as_ref().unwrap();
        for p in &lex.phrases {
            texts.push(p.clone());
            texts.push(format!("well {p} and {p}, {p}?"));
        }
        texts.push(texts.join(" "));
        for t in &texts {
            assert_eq!(trie_matches(t), ac_matches(t), "{t}");
        }
    }
}
