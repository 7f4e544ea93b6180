//! Gentle start-up suggestions for harsh messages.
//!
//! The scaffold follows the shape "I feel … when … I need …". When a
//! criticism names a concrete behaviour ("you never listen to me when I
//! talk"), that behaviour is reused as the situation, with the absolute
//! softened ("when you don't listen to me when I talk").

use crate::engine::{Cand, Ctx, span};
use crate::lexicon::cls;
use crate::{Kind, text::F_CAPS};

const OPEN: char = '\u{201c}';
const CLOSE: char = '\u{201d}';

pub(crate) fn suggest(ctx: &Ctx, text: &str) -> Option<String> {
    let alive: Vec<&Cand> = ctx
        .cands
        .iter()
        .filter(|c| c.alive && span(ctx, c).is_some())
        .collect();
    let has = |k: Kind| alive.iter().any(|c| c.kind() == k);
    if has(Kind::Criticism) || has(Kind::Contempt) {
        let situ = alive
            .iter()
            .filter(|c| c.kind() == Kind::Criticism)
            .find_map(|c| situation(ctx, text, c));
        return Some(match situ {
            Some(s) => format!(
                "Try a gentle start-up: {OPEN}I feel \u{2026} when {s}. I need \u{2026}{CLOSE}"
            ),
            None => format!(
                "Try a gentle start-up about one specific moment: {OPEN}I feel \u{2026} when \u{2026}. I need \u{2026}{CLOSE}"
            ),
        });
    }
    if has(Kind::Defensiveness) {
        return Some(format!(
            "Try owning a small part first: {OPEN}You\u{2019}re right that \u{2026}. I feel \u{2026} when \u{2026}, and I need \u{2026}{CLOSE}"
        ));
    }
    if has(Kind::Stonewalling) {
        return Some(format!(
            "If you need a pause, try: {OPEN}I feel overwhelmed right now. I need a short break, and I\u{2019}ll come back to this in 20 minutes.{CLOSE}"
        ));
    }
    None
}

/// The concrete behaviour in a "you …" criticism, softened.
fn situation(ctx: &Ctx, text: &str, c: &Cand) -> Option<String> {
    let f = c.s;
    if ctx.word(f) != "you" {
        return None;
    }
    let toks = &ctx.n.toks;
    let mut out: Vec<String> = Vec::new();
    let mut last_os = usize::MAX;
    let mut words = 0usize;
    let mut k = f;
    while k < toks.len() && !ctx.is_punct(k) && words < 14 {
        let w = ctx.word(k);
        let early = k <= f + 4;
        if ctx.has(k, cls::INSULT | cls::TRAIT | cls::DISMISS) {
            return None;
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
            let prev_copula = out
                .last()
                .is_some_and(|p| matches!(p.to_lowercase().as_str(), "are" | "were" | "is"));
            if prev_copula {
                out.push("not".to_string());
            } else {
                let next = ctx.word(k + 1);
                if next.ends_with("ed") || next == "ever" {
                    return None;
                }
                out.push("don\u{2019}t".to_string());
            }
            last_os = t.os;
            words += 1;
            k += 1;
            continue;
        }
        if t.os != last_os {
            let orig = text.get(t.os..t.oe)?;
            let piece = if t.flags & F_CAPS != 0 || out.is_empty() {
                orig.to_lowercase()
            } else {
                orig.to_string()
            };
            out.push(piece);
            words += 1;
            last_os = t.os;
        }
        k += 1;
    }
    (out.len() >= 2).then(|| out.join(" "))
}
