//! Fuzz `analyze`: no panics, and every finding is a valid, non-empty,
//! char-aligned span whose normalisation equals its cue.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let a = trellis_coach::analyze(&text);
    assert_eq!(a.labels, trellis_coach::labels(&text));
    for f in &a.findings {
        assert!(f.start < f.end && f.end <= text.len());
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        assert_eq!(trellis_coach::normalize(&text[f.start..f.end]), f.cue);
    }
    if a.is_crisis() {
        assert!(a.suggestion.is_none());
    }
});
