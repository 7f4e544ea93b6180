//! Gentle start-up suggestions for harsh messages.
//!
//! The scaffold follows the shape "I feel … when … I need …". When a
//! criticism names a concrete behaviour ("you never listen to me when I
//! talk"), that behaviour is reused as the situation, with the absolute
//! softened ("when you don't listen to me when I talk").

use crate::engine::{Cand, Ctx, span};
use crate::lexicon::cls;
use crate::{Kind, Label, text::F_CAPS};

const SITU_HEAD: &str = "Try a gentle start-up: \u{201c}I feel \u{2026} when ";
const SITU_TAIL: &str = ". I need \u{2026}\u{201d}";
const GENERIC: &str = "Try a gentle start-up about one specific moment: \u{201c}I feel \u{2026} when \u{2026}. I need \u{2026}\u{201d}";
const DEFENCE: &str = "Try owning a small part first: \u{201c}You\u{2019}re right that \u{2026}. I feel \u{2026} when \u{2026}, and I need \u{2026}\u{201d}";
const PAUSE: &str = "If you need a pause, try: \u{201c}I feel overwhelmed right now. I need a short break, and I\u{2019}ll come back to this in 20 minutes.\u{201d}";

/// `labels`: the message labels (the kinds of the reported findings, i.e. of
/// the alive candidates with a span).
pub(crate) fn suggest(ctx: &Ctx, text: &str, labels: &[Label]) -> Option<String> {
    let has = |l: Label| labels.contains(&l);
    if has(Label::Criticism) || has(Label::Contempt) {
        let mut out = String::new();
        let situ = has(Label::Criticism)
            && ctx
                .cands
                .iter()
                .filter(|c| c.alive && c.kind() == Kind::Criticism && span(ctx, c).is_some())
                .any(|c| {
                    out.clear();
                    out.push_str(SITU_HEAD);
                    situation(ctx, text, c, &mut out)
                });
        if situ {
            out.push_str(SITU_TAIL);
            return Some(out);
        }
        return Some(GENERIC.to_string());
    }
    if has(Label::Defensiveness) {
        return Some(DEFENCE.to_string());
    }
    if has(Label::Stonewalling) {
        return Some(PAUSE.to_string());
    }
    None
}

/// The concrete behaviour in a "you …" criticism, softened, appended to
/// `out` (pieces joined by single spaces). False when there is none (then
/// `out` holds partial text).
fn situation(ctx: &Ctx, text: &str, c: &Cand, out: &mut String) -> bool {
    let f = c.s;
    if ctx.word(f) != "you" {
        return false;
    }
    let toks = &ctx.n.toks;
    let mut last_os = usize::MAX;
    let mut words = 0usize;
    let mut k = f;
    // start of the last piece written (valid when `words > 0`)
    let mut last_piece = out.len();
    while k < toks.len() && !ctx.is_punct(k) && words < 14 {
        let w = ctx.word(k);
        let early = k <= f + 4;
        if ctx.has(k, cls::INSULT | cls::TRAIT | cls::DISMISS) {
            return false;
        }
        let t = toks[k];
        if early
            && matches!(
                w,
                "always"
                    | "constantly"
                    | "continually"
                    | "forever"
                    | "just"
                    | "even"
                    | "ever"
                    | "really"
                    | "totally"
                    | "completely"
                    | "literally"
                    | "seriously"
            )
        {
            last_os = t.os;
            k += 1;
            continue;
        }
        if early && matches!(w, "never" | "seldom" | "rarely" | "hardly") {
            let prev_copula = words > 0
                && out.get(last_piece..).is_some_and(|p| {
                    if p.is_ascii() {
                        ["are", "were", "is"]
                            .iter()
                            .any(|c| p.eq_ignore_ascii_case(c))
                    } else {
                        matches!(p.to_lowercase().as_str(), "are" | "were" | "is")
                    }
                });
            if prev_copula {
                last_piece = push_piece(out, &mut words, "not", false);
            } else {
                let next = ctx.word(k + 1);
                if next.ends_with("ed") || next == "ever" {
                    return false;
                }
                last_piece = push_piece(out, &mut words, "don\u{2019}t", false);
            }
            last_os = t.os;
            k += 1;
            continue;
        }
        if t.os != last_os {
            let Some(orig) = text.get(t.os..t.oe) else {
                return false;
            };
            let lower = t.flags & F_CAPS != 0 || words == 0;
            last_piece = push_piece(out, &mut words, orig, lower);
            last_os = t.os;
        }
        k += 1;
    }
    words >= 2
}

/// Append one piece (space-separated), lowercased when asked; returns where
/// it starts in `out`.
fn push_piece(out: &mut String, words: &mut usize, piece: &str, lower: bool) -> usize {
    if *words > 0 {
        out.push(' ');
    }
    let start = out.len();
    if !lower {
        out.push_str(piece);
    } else if piece.is_ascii() {
        out.push_str(piece);
        if let Some(tail) = out.get_mut(start..) {
            tail.make_ascii_lowercase();
        }
    } else {
        out.push_str(&piece.to_lowercase());
    }
    *words += 1;
    start
}
