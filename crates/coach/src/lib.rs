//! Trellis communication coach: a pure, rule-based analyser of messages
//! between partners.
//!
//! [`analyze`] reads one message and reports [`Finding`]s — the four
//! horsemen of Gottman's research (criticism, contempt, defensiveness,
//! stonewalling), their antidotes (I-statements / gentle start-up, repair
//! attempts, appreciation) and crisis language (self-harm, threats,
//! violence). Each finding points at the exact bytes of the original text
//! that triggered it and carries a one-sentence, plain-language explanation.
//! Harsh messages also get a gentle start-up scaffold as a suggestion.
//!
//! The analyser is lexicon- and rule-based: one normalisation pass
//! ([`normalize`]), one word-table lookup per token plus a phrase-trie walk
//! over the tokens, then a few small grammar rules (negation, fake I-statements, sarcasm, counter-attacks,
//! shouting). It never panics, does no I/O, and holds no state between calls.
//!
//! ```
//! let a = trellis_coach::analyze("You never listen to me!");
//! assert!(a.is_harsh());
//! assert_eq!(a.labels[0].as_str(), "criticism");
//! assert!(a.suggestion.is_some());
//! ```

mod engine;
pub mod eval;
mod explain;
mod fx;
mod lexicon;
pub mod model;
mod suggest;
mod text;

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

pub use text::normalize;

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Self-harm, threats of harm, or violence. Always listed first.
    Crisis,
    /// Attacking the partner's character, blame with absolutes.
    Criticism,
    /// Insults, mockery, sarcasm, superiority, disgust.
    Contempt,
    /// Excuses, denial, counter-complaints, playing the innocent victim.
    Defensiveness,
    /// Withdrawing from or shutting down the conversation.
    Stonewalling,
    /// Gentle start-up: the writer's own feelings and needs.
    IStatement,
    /// Apology, responsibility, de-escalation, asking for a break.
    Repair,
    /// Gratitude, admiration, fondness.
    Appreciation,
}

impl Kind {
    /// All kinds in report order (crisis first).
    pub const ALL: [Kind; 8] = [
        Kind::Crisis,
        Kind::Criticism,
        Kind::Contempt,
        Kind::Defensiveness,
        Kind::Stonewalling,
        Kind::IStatement,
        Kind::Repair,
        Kind::Appreciation,
    ];

    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Crisis => "crisis",
            Kind::Criticism => "criticism",
            Kind::Contempt => "contempt",
            Kind::Defensiveness => "defensiveness",
            Kind::Stonewalling => "stonewalling",
            Kind::IStatement => "i_statement",
            Kind::Repair => "repair",
            Kind::Appreciation => "appreciation",
        }
    }

    /// One of the four horsemen.
    pub fn is_harsh(self) -> bool {
        matches!(
            self,
            Kind::Criticism | Kind::Contempt | Kind::Defensiveness | Kind::Stonewalling
        )
    }

    /// The message-level label for this kind.
    pub fn label(self) -> Label {
        match self {
            Kind::Crisis => Label::Crisis,
            Kind::Criticism => Label::Criticism,
            Kind::Contempt => Label::Contempt,
            Kind::Defensiveness => Label::Defensiveness,
            Kind::Stonewalling => Label::Stonewalling,
            Kind::IStatement => Label::IStatement,
            Kind::Repair => Label::Repair,
            Kind::Appreciation => Label::Appreciation,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message-level label: a [`Kind`], or `neutral` when nothing was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Crisis,
    Criticism,
    Contempt,
    Defensiveness,
    Stonewalling,
    IStatement,
    Repair,
    Appreciation,
    Neutral,
}

impl Label {
    /// All labels in report order.
    pub const ALL: [Label; 9] = [
        Label::Crisis,
        Label::Criticism,
        Label::Contempt,
        Label::Defensiveness,
        Label::Stonewalling,
        Label::IStatement,
        Label::Repair,
        Label::Appreciation,
        Label::Neutral,
    ];

    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Neutral => "neutral",
            Label::Crisis => "crisis",
            Label::Criticism => "criticism",
            Label::Contempt => "contempt",
            Label::Defensiveness => "defensiveness",
            Label::Stonewalling => "stonewalling",
            Label::IStatement => "i_statement",
            Label::Repair => "repair",
            Label::Appreciation => "appreciation",
        }
    }

    /// Parse a snake_case label name.
    pub fn parse(s: &str) -> Option<Label> {
        Label::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a crisis sign is about; the safety flow uses it to tell who may be
/// at risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrisisCategory {
    /// Harming oneself, with intent, a plan or an act.
    SelfHarm,
    /// Thoughts of death or of not being here.
    Suicidal,
    /// A threat to harm someone else.
    Threat,
    /// Violence the writer describes having happened.
    ViolenceReport,
    /// Sex that was pressured or forced.
    SexualCoercion,
    /// Control of money, phone, movements or contacts; intimidation.
    CoerciveControl,
}

impl CrisisCategory {
    pub const ALL: [CrisisCategory; 6] = [
        CrisisCategory::SelfHarm,
        CrisisCategory::Suicidal,
        CrisisCategory::Threat,
        CrisisCategory::ViolenceReport,
        CrisisCategory::SexualCoercion,
        CrisisCategory::CoerciveControl,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CrisisCategory::SelfHarm => "self_harm",
            CrisisCategory::Suicidal => "suicidal",
            CrisisCategory::Threat => "threat",
            CrisisCategory::ViolenceReport => "violence_report",
            CrisisCategory::SexualCoercion => "sexual_coercion",
            CrisisCategory::CoerciveControl => "coercive_control",
        }
    }
}

/// How strong a crisis sign is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrisisTier {
    /// Hopelessness without a plan: help and a notice.
    Distress,
    /// Intent, a plan, threats, violence: an urgent response.
    Urgent,
}

impl CrisisTier {
    /// Strongest first, as reports list them.
    pub const ALL: [CrisisTier; 2] = [CrisisTier::Urgent, CrisisTier::Distress];

    pub fn as_str(self) -> &'static str {
        match self {
            CrisisTier::Distress => "distress",
            CrisisTier::Urgent => "urgent",
        }
    }
}

/// The crisis reading of one finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Crisis {
    pub category: CrisisCategory,
    pub tier: CrisisTier,
    /// A possible sign only: word statistics found it likely but not sure
    /// (see the crate README). The writer is offered help and the choice to
    /// tell their therapist; nobody is told on their behalf. Rules' signs
    /// and the model's sure ones are never tentative.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tentative: bool,
    /// Read by the word statistics, not by a rule's cue. Its tier is the
    /// model's estimate: Trellis lets an urgent one make the therapist's
    /// notice urgent, but only a rule's urgent sign pauses a couple's
    /// shared work by itself (a pause the other partner notices).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub statistical: bool,
}

/// One thing the coach noticed in a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: Kind,
    /// Byte offset of the start of the triggering text (a char boundary).
    pub start: usize,
    /// Byte offset just past the triggering text (a char boundary, > start).
    pub end: usize,
    /// The triggering text in canonical form: always equal to
    /// `normalize(&text[start..end])`.
    pub cue: String,
    /// One warm, plain sentence for the writer.
    pub explanation: Cow<'static, str>,
    /// Set on crisis findings: category and tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crisis: Option<Crisis>,
}

/// The coach's reading of one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analysis {
    /// The analysed text, unchanged.
    pub text: String,
    /// Distinct labels, crisis first; `[neutral]` when there are no findings.
    pub labels: Vec<Label>,
    /// Findings, crisis first, then in text order.
    pub findings: Vec<Finding>,
    /// A gentle start-up scaffold for harsh messages, otherwise `None`.
    pub suggestion: Option<String>,
}

impl Analysis {
    /// True when the message contains crisis language (self-harm, threats,
    /// violence): the caller should start the safety flow.
    pub fn is_crisis(&self) -> bool {
        self.labels.first() == Some(&Label::Crisis)
    }

    /// The crisis signs found, strongest first.
    pub fn crisis_signs(&self) -> Vec<Crisis> {
        let mut signs: Vec<Crisis> = self.findings.iter().filter_map(|f| f.crisis).collect();
        signs.sort_by_key(|sign| std::cmp::Reverse(sign.tier));
        signs.dedup();
        signs
    }

    /// True when any of the four horsemen was found.
    pub fn is_harsh(&self) -> bool {
        self.findings.iter().any(|f| f.kind.is_harsh())
    }

    /// True when nothing was found.
    pub fn is_neutral(&self) -> bool {
        self.findings.is_empty()
    }

    /// True when a finding of `kind` is present.
    pub fn has(&self, kind: Kind) -> bool {
        self.findings.iter().any(|f| f.kind == kind)
    }

    /// The findings of one kind.
    pub fn findings_of(&self, kind: Kind) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.kind == kind)
    }
}

/// Analyse one message. Never panics; any `&str` is accepted.
pub fn analyze(text: &str) -> Analysis {
    engine::analyze(text)
}

/// Only the message-level labels (crisis first, `[neutral]` when empty).
/// Cheaper than [`analyze`]: no spans, cues, explanations or suggestion are
/// built.
pub fn labels(text: &str) -> Vec<Label> {
    engine::labels_only(text)
}
