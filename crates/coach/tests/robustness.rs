//! Property tests: `analyze` never panics, and every finding's span is a
//! valid, non-empty, char-aligned slice whose normalisation is the cue.

use proptest::prelude::*;
use trellis_coach::{Label, analyze, labels, normalize};

fn check_invariants(text: &str) -> Result<(), TestCaseError> {
    let a = analyze(text);
    prop_assert_eq!(&a.text, text);
    prop_assert!(!a.labels.is_empty());
    prop_assert_eq!(a.labels == vec![Label::Neutral], a.findings.is_empty());
    prop_assert_eq!(&a.labels, &labels(text));
    for f in &a.findings {
        prop_assert!(f.start < f.end, "empty span {:?}", f);
        prop_assert!(f.end <= text.len());
        prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        let slice = &text[f.start..f.end];
        prop_assert_eq!(normalize(slice), f.cue.clone(), "span {:?} vs cue", slice);
        prop_assert!(!f.cue.is_empty());
        prop_assert!(!f.explanation.is_empty());
    }
    if a.is_crisis() {
        prop_assert_eq!(
            a.findings.first().map(|f| f.kind),
            Some(trellis_coach::Kind::Crisis)
        );
        prop_assert!(a.suggestion.is_none());
    }
    prop_assert_eq!(a.suggestion.is_some(), a.is_harsh() && !a.is_crisis());
    Ok(())
}

/// Words the lexicon cares about, plus punctuation, emoji and odd Unicode,
/// so random sentences actually exercise the rules.
const VOCAB: &[&str] = &[
    "you",
    "You",
    "YOU",
    "you’re",
    "your",
    "ur",
    "u",
    "are",
    "never",
    "always",
    "so",
    "such",
    "a",
    "an",
    "lazy",
    "idiot",
    "stupid",
    "not",
    "don’t",
    "dont",
    "can't",
    "won't",
    "I",
    "I'm",
    "i’m",
    "feel",
    "felt",
    "like",
    "that",
    "hurt",
    "lonely",
    "overwhelmed",
    "when",
    "sorry",
    "thank",
    "thanks",
    "love",
    "kill",
    "myself",
    "will",
    "going",
    "to",
    "hit",
    "him",
    "fine",
    "whatever",
    "but",
    "well",
    "the",
    "one",
    "who",
    "why",
    "did",
    "do",
    "care",
    "listen",
    "break",
    "take",
    "can",
    "we",
    "talk",
    "later",
    "great",
    "job",
    "SO",
    "much",
    "🙄",
    "❤️",
    "😂",
    "—",
    "–",
    "-",
    "…",
    ",",
    ".",
    "!",
    "?",
    "?!",
    "’",
    "'",
    "\"",
    "“",
    "”",
    "\n",
    "  ",
    "İ",
    "ß",
    "ﬃ",
    "e\u{301}",
    "\u{200d}",
    "🏽",
    "12",
    "3.5",
    "100th",
    "self-centered",
    "gonna",
    "wanna",
    "kms",
    "idk",
    "#",
    "_",
    "me",
    "ME",
    "rude",
    "dear",
    "yes",
    "Fine",
];

fn sentence() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCAB), 0..24).prop_map(|words| {
        let mut s = String::new();
        for (i, w) in words.iter().enumerate() {
            if i % 3 != 2 {
                s.push(' ');
            }
            s.push_str(w);
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_strings(text in any::<String>()) {
        check_invariants(&text)?;
    }

    #[test]
    fn lexicon_soup(text in sentence()) {
        check_invariants(&text)?;
    }

    #[test]
    fn unicode_heavy(text in "[\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}\\p{Z}\\p{C}]{0,80}") {
        check_invariants(&text)?;
    }
}

#[test]
fn long_input_is_fine() {
    let unit = "You never listen. I feel hurt when you yell! Whatever. Thanks ❤️ ";
    let text = unit.repeat(2_000);
    let a = analyze(&text);
    assert!(a.findings.len() > 1_000);
    for f in &a.findings {
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
    }
}

#[test]
fn pathological_inputs_stay_fast() {
    // one enormous sentence full of overlapping cues, masks and anchors
    let unit = "you never you are so lazy i feel sad thank god you again sorry to hear i want to not wake up again ";
    for text in [
        unit.repeat(3_000),
        "a".repeat(300_000),
        "🙄".repeat(50_000),
        "you ".repeat(60_000),
    ] {
        let start = std::time::Instant::now();
        let a = analyze(&text);
        assert!(
            start.elapsed().as_secs_f64() < 10.0,
            "too slow: {:?}",
            start.elapsed()
        );
        for f in &a.findings {
            assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        }
    }
}
