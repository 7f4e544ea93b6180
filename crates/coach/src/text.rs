//! Normalisation and tokenisation.
//!
//! One pass over the characters of the original text produces a *canonical*
//! string: lowercase tokens separated by single spaces, with contractions
//! expanded (`don’t` → `do not`), curly quotes folded, digits collapsed to
//! `#`, selected emoji turned into word tokens, and clause punctuation reduced
//! to three tokens: `.` (sentence end), `?` (question end) and `,` (clause
//! break). The canonical string starts with a synthetic ` .` and ends with a
//! (possibly synthetic) `.` and a space, so lexicon phrases written as
//! `" phrase "` only ever match whole tokens, and `". fine ."` only matches a
//! sentence that is exactly "Fine".
//!
//! Every canonical token remembers the byte range of the original text it
//! came from, so findings can point back into the original text. The
//! normalisation of a word never depends on the words around it, which makes
//! `normalize(&text[start..end])` equal to the cue of any finding.

use std::sync::LazyLock;

use crate::fx::FxMap;

/// Token is punctuation (`.`, `?` or `,`).
pub(crate) const F_PUNCT: u8 = 1;
/// Token was invented (start/end sentinel) and has no original text.
pub(crate) const F_SYNTH: u8 = 2;
/// Word was written in capitals (two or more letters, not a known acronym).
pub(crate) const F_CAPS: u8 = 4;
/// Punctuation token contains a `!`.
pub(crate) const F_EXCL: u8 = 8;
/// Punctuation token contains both `?` and `!` (an interrobang, `?!`).
pub(crate) const F_INTERROBANG: u8 = 16;
/// Word written with a capital first letter and lowercase after it ("Mark").
pub(crate) const F_TITLE: u8 = 32;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Tok {
    /// Canonical byte range (inside `Norm::canon`).
    pub cs: usize,
    pub ce: usize,
    /// Original byte range (inside the analysed text).
    pub os: usize,
    pub oe: usize,
    pub flags: u8,
}

impl Tok {
    pub(crate) fn is_punct(&self) -> bool {
        self.flags & F_PUNCT != 0
    }
}

#[derive(Default, Debug)]
pub(crate) struct Norm {
    pub canon: String,
    pub toks: Vec<Tok>,
    /// Number of word tokens (after expansion).
    pub words: usize,
    /// Number of original words written in capitals.
    pub caps_words: usize,
    /// Number of original words with at least two letters.
    pub letter_words: usize,
}

impl Norm {
    pub(crate) fn tok_text(&self, i: usize) -> &str {
        self.toks
            .get(i)
            .and_then(|t| self.canon.get(t.cs..t.ce))
            .unwrap_or("")
    }
}

/// Words that are commonly written in capitals without shouting.
fn is_acronym(lower: &str) -> bool {
    matches!(
        lower,
        "ok" | "tv"
            | "omg"
            | "lol"
            | "asap"
            | "usa"
            | "uk"
            | "pm"
            | "am"
            | "id"
            | "fyi"
            | "btw"
            | "diy"
            | "ceo"
            | "dm"
            | "pc"
            | "gps"
            | "atm"
            | "er"
            | "icu"
            | "nyc"
            | "la"
            | "eta"
            | "ok'd"
            | "pto"
            | "wfh"
            | "hr"
            | "it"
    )
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{00B4}' | '\u{02BB}' | '\u{2032}'
    )
}

fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}')
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}' | '\u{2212}'
    )
}

/// Emoji that carry meaning for the coach become word tokens.
fn emoji_token(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{1F644}' => "emoji_eyeroll",                // 🙄
        '\u{1F612}' | '\u{1F611}' => "emoji_unamused", // 😒 😑
        '\u{1F643}' => "emoji_upside_down",            // 🙃
        '\u{1F44F}' => "emoji_clap",                   // 👏
        '\u{1F595}' => "emoji_middle_finger",          // 🖕
        '\u{1F921}' => "emoji_clown",                  // 🤡
        '\u{1F602}' | '\u{1F923}' => "emoji_laugh",    // 😂 🤣
        '\u{1F624}' | '\u{1F620}' | '\u{1F621}' | '\u{1F92C}' => "emoji_angry", // 😤 😠 😡 🤬
        '\u{2764}' | '\u{2665}' | '\u{1F495}' | '\u{1F496}' | '\u{1F497}' | '\u{1F498}'
        | '\u{1F49E}' | '\u{1F49D}' | '\u{1F493}' | '\u{1F60D}' | '\u{1F970}' | '\u{1F618}'
        | '\u{1F49C}' | '\u{1F499}' | '\u{1F49A}' | '\u{1F49B}' | '\u{1F9E1}' => "emoji_heart",
        '\u{1F64F}' => "emoji_folded_hands", // 🙏
        '\u{1F622}' | '\u{1F62D}' | '\u{1F494}' | '\u{1F61E}' | '\u{1F614}' => "emoji_sad",
        '\u{1F910}' | '\u{1F636}' => "emoji_zipped", // 🤐 😶
        '\u{1F52A}' | '\u{1F5E1}' | '\u{1F52B}' => "emoji_weapon", // 🔪 🗡 🔫
        '\u{1F917}' => "emoji_hug",                  // 🤗
        _ => return None,
    })
}

/// How one original word becomes canonical words.
enum Exp {
    /// Keep the lowercase word as it is.
    Keep,
    /// Replace it with fixed words.
    Fixed(&'static [&'static str]),
    /// Keep the first `n` bytes, then add one word ("don't" → "do" "not").
    Stem(usize, &'static str),
    /// A number joined to a word ("20-minute" → "#" "minute"); the word
    /// starts at byte `n`.
    NumDash(usize),
}

/// `fixed_expansion` as a hash map (a long `match` on strings is a chain of
/// comparisons).
static FIXED: LazyLock<FxMap<&'static str, &'static [&'static str]>> = LazyLock::new(|| {
    FIXED_WORDS
        .iter()
        .filter_map(|w| fixed_expansion(w).map(|e| (*w, e)))
        .collect()
});

/// `apos`: the word contains an ASCII apostrophe.
fn expand(w: &str, apos: bool) -> Exp {
    let first = w.as_bytes().first().copied().unwrap_or(0);
    if w.len() <= 16
        && FIXED_FIRST[first as usize]
        && fixed_maybe(w.as_bytes())
        && let Some(fixed) = FIXED.get(w)
    {
        return Exp::Fixed(fixed);
    }
    let b = w.as_bytes();
    if b.first().is_some_and(|c| c.is_ascii_digit()) {
        // digits (and numbers like 3.5 or 1,000) collapse to '#'
        if b.iter()
            .all(|c| c.is_ascii_digit() || *c == b'.' || *c == b',')
        {
            return Exp::Fixed(&["#"]);
        }
        // ordinals: 100th, 1st, 22nd, 3rd
        let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
        if matches!(w.get(digits..), Some("th" | "st" | "nd" | "rd")) {
            return Exp::Fixed(&["#th"]);
        }
        if b.get(digits) == Some(&b'-') && b.get(digits + 1).is_some_and(u8::is_ascii_alphabetic) {
            return Exp::NumDash(digits + 1);
        }
    }
    if !apos {
        return Exp::Keep;
    }
    const SUFFIXES: [(&str, &str); 6] = [
        ("n't", "not"),
        ("'re", "are"),
        ("'m", "am"),
        ("'ve", "have"),
        ("'ll", "will"),
        ("'d", "would"),
    ];
    for (suffix, word) in SUFFIXES {
        if let Some(stem) = w.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return Exp::Stem(stem.len(), word);
        }
    }
    if let Some(stem) = w.strip_suffix("'s") {
        if stem == "let" {
            return Exp::Fixed(&["let", "us"]);
        }
        if s_is_is(stem) {
            return Exp::Stem(stem.len(), "is");
        }
    }
    if w == "y'all" {
        return Exp::Fixed(&["you"]);
    }
    Exp::Keep
}

/// The word currently being written into the canonical buffer.
#[derive(Default, Clone, Copy)]
struct Word {
    /// Canonical byte where the word's text starts (after its space).
    cs: usize,
    os: usize,
    oe: usize,
    letters: usize,
    upper: usize,
    /// An apostrophe was written into the word.
    apos: bool,
    /// The first letter was uppercase.
    first_upper: bool,
    active: bool,
}

impl Norm {
    fn push_tok(&mut self, s: &str, os: usize, oe: usize, flags: u8) {
        self.canon.push(' ');
        let cs = self.canon.len();
        self.canon.push_str(s);
        self.toks.push(Tok {
            cs,
            ce: self.canon.len(),
            os,
            oe,
            flags,
        });
    }

    fn start_word(&mut self, w: &mut Word, i: usize) {
        self.canon.push(' ');
        *w = Word {
            cs: self.canon.len(),
            os: i,
            oe: i,
            letters: 0,
            upper: 0,
            apos: false,
            first_upper: false,
            active: true,
        };
    }

    fn word_char(&mut self, w: &mut Word, i: usize, c: char) {
        if !w.active {
            self.start_word(w, i);
        }
        w.oe = i + c.len_utf8();
        if w.letters == 0 && c.is_uppercase() {
            w.first_upper = true;
        }
        if c.is_ascii() {
            if c.is_ascii_alphabetic() {
                w.letters += 1;
                if c.is_ascii_uppercase() {
                    w.upper += 1;
                }
            }
            self.canon.push(c.to_ascii_lowercase());
        } else {
            if c.is_alphabetic() {
                w.letters += 1;
                if c.is_uppercase() {
                    w.upper += 1;
                }
            }
            for l in c.to_lowercase() {
                self.canon.push(l);
            }
        }
    }

    fn flush_word(&mut self, w: &mut Word) {
        if !w.active {
            return;
        }
        w.active = false;
        let (os, oe, cs) = (w.os, w.oe, w.cs);
        let mut flags = 0u8;
        let exp = {
            let text = self.canon.get(cs..).unwrap_or("");
            if w.letters >= 2 {
                self.letter_words += 1;
                if w.upper == w.letters && !is_acronym(text) {
                    flags |= F_CAPS;
                    self.caps_words += 1;
                }
                if w.first_upper && w.upper < w.letters {
                    flags |= F_TITLE;
                }
            }
            expand(text, w.apos)
        };
        match exp {
            Exp::Keep => {
                self.toks.push(Tok {
                    cs,
                    ce: self.canon.len(),
                    os,
                    oe,
                    flags,
                });
                self.words += 1;
            }
            Exp::Stem(n, extra) => {
                self.canon.truncate(cs + n);
                self.toks.push(Tok {
                    cs,
                    ce: cs + n,
                    os,
                    oe,
                    flags,
                });
                // "I'll" -> "i" "will": only the first piece starts with the
                // capital (a titled "will" would read as a name)
                self.push_tok(extra, os, oe, flags & !F_TITLE);
                self.words += 2;
            }
            Exp::NumDash(k) => {
                let rest = self.canon.get(cs + k..).unwrap_or("").to_string();
                self.canon.truncate(cs.saturating_sub(1));
                self.push_tok("#", os, oe, flags);
                self.push_tok(&rest, os, oe, flags);
                self.words += 2;
            }
            Exp::Fixed(words) => {
                // drop the word and the space before it, then write the pieces
                self.canon.truncate(cs.saturating_sub(1));
                for (i, p) in words.iter().enumerate() {
                    let flags = if i == 0 { flags } else { flags & !F_TITLE };
                    self.push_tok(p, os, oe, flags);
                    self.words += 1;
                }
            }
        }
    }

    /// Punctuation: merges with a directly preceding punctuation token.
    fn punct(&mut self, w: &mut Word, p: u8, os: usize, oe: usize, extra: u8) {
        self.flush_word(w);
        let rank = |b: u8| match b {
            b'?' => 3,
            b'.' => 2,
            _ => 1,
        };
        let s = match p {
            b'?' => "?",
            b'.' => ".",
            _ => ",",
        };
        if let Some(last) = self.toks.last_mut()
            && last.flags & F_PUNCT != 0
        {
            let cur = self.canon.as_bytes().get(last.cs).copied().unwrap_or(b'.');
            let mut flags = last.flags | extra;
            if (cur == b'?' && extra & F_EXCL != 0) || (p == b'?' && last.flags & F_EXCL != 0) {
                flags |= F_INTERROBANG;
            }
            last.flags = flags;
            if last.flags & F_SYNTH == 0 {
                last.oe = oe;
            }
            if rank(p) > rank(cur) {
                let cs = last.cs;
                self.canon.replace_range(cs..cs + 1, s);
            }
            return;
        }
        self.push_tok(s, os, oe, F_PUNCT | extra);
    }

    fn clear(&mut self) {
        self.canon.clear();
        self.toks.clear();
        self.words = 0;
        self.caps_words = 0;
        self.letter_words = 0;
    }
}

/// Tokenise `text` into its canonical form.
#[cfg(test)]
pub(crate) fn tokenize(text: &str) -> Norm {
    let mut n = Norm::default();
    tokenize_into(text, &mut n);
    n
}

/// Tokenise `text` into `n`, reusing its buffers.
pub(crate) fn tokenize_into(text: &str, n: &mut Norm) {
    n.clear();
    n.canon.reserve(text.len() + text.len() / 4 + 8);
    n.canon.push_str(" .");
    n.toks.push(Tok {
        cs: 1,
        ce: 2,
        os: 0,
        oe: 0,
        flags: F_PUNCT | F_SYNTH,
    });
    let mut w = Word::default();
    let bytes = text.as_bytes();
    let mut prev: Option<char> = None;
    let mut i = 0usize;
    while i < bytes.len() {
        let b0 = bytes[i];
        // plain ASCII whitespace only ends a word
        if matches!(b0, b' ' | b'\t') {
            n.flush_word(&mut w);
            prev = Some(b0 as char);
            i += 1;
            continue;
        }
        // ASCII letters and digits: the common case
        if b0.is_ascii_alphanumeric() {
            if !w.active {
                n.start_word(&mut w, i);
            }
            if w.letters == 0 && b0.is_ascii_uppercase() {
                w.first_upper = true;
            }
            // the whole run of ASCII letters and digits at once
            let mut last = b0;
            let (mut letters, mut upper) = (0usize, 0usize);
            while let Some(&b) = bytes.get(i) {
                if !b.is_ascii_alphanumeric() {
                    break;
                }
                letters += usize::from(b.is_ascii_alphabetic());
                upper += usize::from(b.is_ascii_uppercase());
                n.canon.push(b.to_ascii_lowercase() as char);
                last = b;
                i += 1;
            }
            w.letters += letters;
            w.upper += upper;
            w.oe = i;
            prev = Some(last as char);
            continue;
        }
        let Some(c) = text.get(i..).and_then(|r| r.chars().next()) else {
            break;
        };
        let end = i + c.len_utf8();
        let next = text.get(end..).and_then(|r| r.chars().next());
        if c.is_alphanumeric() {
            n.word_char(&mut w, i, c);
        } else if is_apostrophe(c) {
            if w.active && next.is_some_and(char::is_alphabetic) {
                n.word_char(&mut w, i, '\'');
                w.apos = true;
                w.oe = end;
            } else {
                n.flush_word(&mut w);
            }
        } else if is_hyphen(c) {
            if w.active && next.is_some_and(char::is_alphanumeric) {
                n.word_char(&mut w, i, '-');
                w.oe = end;
            } else if prev.is_none_or(char::is_whitespace) || next.is_none_or(char::is_whitespace) {
                n.punct(&mut w, b',', i, end, 0);
            } else {
                n.flush_word(&mut w);
            }
        } else if is_dash(c) {
            if prev.is_none_or(char::is_whitespace) || next.is_none_or(char::is_whitespace) {
                n.punct(&mut w, b',', i, end, 0);
            } else {
                n.flush_word(&mut w);
            }
        } else {
            match c {
                '.' => {
                    let digit_before = prev.is_some_and(|p| p.is_ascii_digit());
                    let digit_after = next.is_some_and(|x| x.is_ascii_digit());
                    if w.active && digit_before && digit_after {
                        n.word_char(&mut w, i, '.');
                    } else {
                        n.punct(&mut w, b'.', i, end, 0);
                    }
                }
                '!' | '\u{203C}' | '\u{FF01}' => n.punct(&mut w, b'.', i, end, F_EXCL),
                '?' | '\u{FF1F}' => n.punct(&mut w, b'?', i, end, 0),
                '\u{2049}' | '\u{2048}' => n.punct(&mut w, b'?', i, end, F_EXCL | F_INTERROBANG),
                '\n' | '\r' | '\u{2026}' | '\u{3002}' => n.punct(&mut w, b'.', i, end, 0),
                ',' | ';' | ':' | '(' | ')' | '[' | ']' | '{' | '}' | '\u{FF0C}' => {
                    n.punct(&mut w, b',', i, end, 0)
                }
                _ => {
                    n.flush_word(&mut w);
                    if let Some(e) = emoji_token(c) {
                        n.push_tok(e, i, end, 0);
                        n.words += 1;
                    }
                }
            }
        }
        prev = Some(c);
        i = end;
    }
    n.flush_word(&mut w);
    let len = text.len();
    if n.toks.last().is_none_or(|t| !t.is_punct()) {
        n.push_tok(".", len, len, F_PUNCT | F_SYNTH);
    }
    n.canon.push(' ');
}

/// Fixed rewrites: contractions written without apostrophes, chat spellings.
/// Every word `fixed_expansion` rewrites.
const FIXED_WORDS: &[&str] = &[
    "idc",
    "idgaf",
    "can't",
    "cant",
    "cannot",
    "won't",
    "wont",
    "shan't",
    "ain't",
    "aint",
    "dont",
    "doesnt",
    "didnt",
    "isnt",
    "arent",
    "wasnt",
    "werent",
    "couldnt",
    "shouldnt",
    "wouldnt",
    "havent",
    "hasnt",
    "hadnt",
    "mustnt",
    "im",
    "ive",
    "youre",
    "youve",
    "youll",
    "youd",
    "theyre",
    "thats",
    "whats",
    "hes",
    "shes",
    "theres",
    "gonna",
    "wanna",
    "gotta",
    "kinda",
    "sorta",
    "lemme",
    "gimme",
    "u",
    "ur",
    "urself",
    "ya",
    "idk",
    "dunno",
    "luv",
    "thx",
    "thanx",
    "tnx",
    "pls",
    "plz",
    "plez",
    "sry",
    "srry",
    "soz",
    "kms",
    "kys",
    "sh",
    "sh'd",
    "od",
    "od'd",
    "odd'd",
    "abt",
    "nite",
    "rn",
    "stfu",
    "wtf",
    "nvm",
    "nevermind",
    "cuz",
    "coz",
    "cos",
    "bc",
    "b/c",
    "alot",
    "tho",
    "ok",
    "okay",
    "okey",
    "k",
    "kk",
    "disorganised",
    "apologise",
    "apologised",
    "criticised",
    "criticise",
    "timeout",
    "time-out",
    "self-harm",
    "selfharm",
    "self-harming",
    "self-harmed",
    "selfharming",
    "eyeroll",
    "eye-roll",
    "grown-up",
    "self-centred",
    "selfcentered",
    "self-centered",
    "klutz",
    "ugh",
    "ughh",
    "ughhh",
    "uggh",
    "lmao",
    "lmfao",
    "rofl",
    "lolol",
    "hahaha",
    "hahahaha",
    "haha",
    "hah",
    "hehe",
    "xoxo",
    "xo",
];

/// First bytes of `FIXED_WORDS` as a lookup table (a cheap pre-filter).
static FIXED_FIRST: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < FIXED_FIRST_BYTES.len() {
        t[FIXED_FIRST_BYTES[i] as usize] = true;
        i += 1;
    }
    t
};

/// Bloom slot of a word for `FIXED_BLOOM` (length, first and last byte).
const fn fixed_slot(b: &[u8]) -> usize {
    let n = b.len();
    if n == 0 {
        return 0;
    }
    let (f, l) = (b[0] as usize, b[n - 1] as usize);
    (f.wrapping_mul(31) ^ l.wrapping_mul(131) ^ n.wrapping_mul(7919)) & 1023
}

/// A 1024-bit Bloom filter over `FIXED_WORDS` (a cheap pre-filter that
/// rejects most ordinary words before hashing).
static FIXED_BLOOM: [u64; 16] = {
    let mut t = [0u64; 16];
    let mut i = 0;
    while i < FIXED_WORDS.len() {
        let k = fixed_slot(FIXED_WORDS[i].as_bytes());
        t[k / 64] |= 1 << (k % 64);
        i += 1;
    }
    t
};

fn fixed_maybe(b: &[u8]) -> bool {
    let k = fixed_slot(b);
    FIXED_BLOOM
        .get(k / 64)
        .is_some_and(|w| w & (1 << (k % 64)) != 0)
}

/// First bytes of `FIXED_WORDS`.
const FIXED_FIRST_BYTES: &[u8] = b"abcdeghiklmnoprstuwxy";

fn fixed_expansion(w: &str) -> Option<&'static [&'static str]> {
    Some(match w {
        "can't" | "cant" | "cannot" => &["can", "not"],
        "won't" | "wont" => &["will", "not"],
        "shan't" => &["shall", "not"],
        "ain't" | "aint" => &["am", "not"],
        "dont" => &["do", "not"],
        "doesnt" => &["does", "not"],
        "didnt" => &["did", "not"],
        "isnt" => &["is", "not"],
        "arent" => &["are", "not"],
        "wasnt" => &["was", "not"],
        "werent" => &["were", "not"],
        "couldnt" => &["could", "not"],
        "shouldnt" => &["should", "not"],
        "wouldnt" => &["would", "not"],
        "havent" => &["have", "not"],
        "hasnt" => &["has", "not"],
        "hadnt" => &["had", "not"],
        "mustnt" => &["must", "not"],
        "im" => &["i", "am"],
        "ive" => &["i", "have"],
        "youre" => &["you", "are"],
        "youve" => &["you", "have"],
        "youll" => &["you", "will"],
        "youd" => &["you", "would"],
        "theyre" => &["they", "are"],
        "thats" => &["that", "is"],
        "whats" => &["what", "is"],
        "hes" => &["he", "is"],
        "shes" => &["she", "is"],
        "theres" => &["there", "is"],
        "gonna" => &["going", "to"],
        "wanna" => &["want", "to"],
        "gotta" => &["got", "to"],
        "kinda" => &["kind", "of"],
        "sorta" => &["sort", "of"],
        "lemme" => &["let", "me"],
        "gimme" => &["give", "me"],
        "u" => &["you"],
        "ur" => &["your"],
        "urself" => &["yourself"],
        "ya" => &["you"],
        "idk" => &["i", "do", "not", "know"],
        "idc" | "idgaf" => &["i", "do", "not", "care"],
        "dunno" => &["do", "not", "know"],
        "luv" => &["love"],
        "thx" | "thanx" | "tnx" => &["thanks"],
        "pls" | "plz" | "plez" => &["please"],
        "sry" | "srry" | "soz" => &["sorry"],
        "kms" => &["kill", "myself"],
        "kys" => &["kill", "yourself"],
        "sh" => &["self", "harm"],
        "sh'd" => &["self", "harmed"],
        "od" => &["overdose"],
        "od'd" | "odd'd" => &["overdosed"],
        "abt" => &["about"],
        "nite" => &["night"],
        "rn" => &["right", "now"],
        "stfu" => &["shut", "the", "fuck", "up"],
        "wtf" => &["what", "the", "fuck"],
        "nvm" | "nevermind" => &["never", "mind"],
        "cuz" | "coz" | "cos" | "bc" | "b/c" => &["because"],
        "alot" => &["a", "lot"],
        "tho" => &["though"],
        "ok" | "okay" | "okey" | "k" | "kk" => &["ok"],
        "disorganised" => &["disorganized"],
        "apologise" => &["apologize"],
        "apologised" => &["apologized"],
        "criticised" => &["criticized"],
        "criticise" => &["criticize"],
        "timeout" => &["time", "out"],
        "time-out" => &["time", "out"],
        "self-harm" | "selfharm" => &["self", "harm"],
        "self-harming" | "selfharming" => &["self", "harming"],
        "self-harmed" => &["self", "harmed"],
        "eyeroll" | "eye-roll" => &["eye", "roll"],
        "grown-up" => &["grown", "up"],
        "self-centred" | "selfcentered" | "self-centered" => &["self", "centered"],
        "klutz" => &["clutz"],
        "ugh" | "ughh" | "ughhh" | "uggh" => &["ugh"],
        "lmao" | "lmfao" | "rofl" | "lolol" => &["lol"],
        "hahaha" | "hahahaha" | "haha" | "hah" | "hehe" => &["haha"],
        "xoxo" | "xo" => &["xoxo"],
        _ => return None,
    })
}

/// Pronoun-like stems whose `'s` means "is" (not a possessive).
fn s_is_is(stem: &str) -> bool {
    matches!(
        stem,
        "it" | "that"
            | "there"
            | "here"
            | "what"
            | "who"
            | "where"
            | "how"
            | "he"
            | "she"
            | "everything"
            | "nothing"
            | "something"
            | "this"
            | "life"
            | "everyone"
            | "nobody"
            | "everybody"
            | "someone"
            | "why"
            | "when"
    )
}

/// The canonical form of `text` without sentinels: lowercase tokens joined by
/// single spaces, contractions expanded, punctuation reduced to `.`, `?`, `,`.
pub fn normalize(text: &str) -> String {
    let mut n = Norm::default();
    tokenize_into(text, &mut n);
    let mut out = String::with_capacity(n.canon.len());
    for t in n.toks.iter().filter(|t| t.flags & F_SYNTH == 0) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(n.canon.get(t.cs..t.ce).unwrap_or(""));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_table_is_complete() {
        for w in FIXED_WORDS {
            assert!(fixed_expansion(w).is_some(), "{w}");
            assert!(FIXED_FIRST[w.as_bytes()[0] as usize], "{w}");
            assert!(fixed_maybe(w.as_bytes()), "{w}");
        }
        assert_eq!(FIXED.len(), FIXED_WORDS.len());
    }

    #[test]
    fn contractions_and_quotes() {
        assert_eq!(
            normalize("I don’t think you’re LAZY!"),
            "i do not think you are lazy ."
        );
        assert_eq!(normalize("You—are—a—failure"), "you are a failure");
        assert_eq!(
            normalize("That's not true — I just"),
            "that is not true , i just"
        );
        assert_eq!(normalize("Why?! 🙄"), "why ? emoji_eyeroll");
        assert_eq!(normalize("give me 20 minutes"), "give me # minutes");
        assert_eq!(
            normalize("can't, cannot, won’t"),
            "can not , can not , will not"
        );
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("self-centered ex-wife"), "self centered ex-wife");
    }

    #[test]
    fn spans_point_back() {
        let t = "Ok… you’re SO late";
        let n = tokenize(t);
        let so = n
            .toks
            .iter()
            .find(|k| n.canon.get(k.cs..k.ce) == Some("so"));
        assert!(so.is_some_and(|k| &t[k.os..k.oe] == "SO" && k.flags & F_CAPS != 0));
        assert!(n.canon.starts_with(" . "));
        assert!(n.canon.ends_with(" "));
    }

    #[test]
    fn interrobang() {
        let n = tokenize("really?!");
        assert!(n.toks.iter().any(|t| t.flags & F_INTERROBANG != 0));
    }
}
