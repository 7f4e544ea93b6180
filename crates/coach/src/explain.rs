//! Explanations: one warm, plain sentence per kind of cue, in our own words.

use crate::{Crisis, CrisisCategory, CrisisTier, Kind};

/// Why a cue fired; selects the explanation (and guides the suggestion).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Why {
    // crisis
    /// Hurting oneself: an act, or the intent to do it now.
    SelfHarm,
    /// An urge to hurt oneself, not acted on: distress.
    SelfHarmUrge,
    /// Intent, a plan, means or an attempt to end one's life: urgent.
    Suicidal,
    /// Hopelessness, a wish not to be here: distress, without a plan.
    Despair,
    Threat,
    Violence,
    /// Sex that was pressured, forced or continued after a no.
    SexualCoercion,
    /// Control of phone, money, movements or contacts.
    CoerciveControl,
    // criticism
    Absolute,
    Character,
    Blame,
    Question,
    Exasperation,
    Should,
    Shouting,
    // contempt
    Insult,
    Sarcasm,
    Superiority,
    Dismissive,
    Disgust,
    Rejection,
    EyeRoll,
    // defensiveness
    CounterAttack,
    Denial,
    Excuse,
    Victim,
    Deflect,
    NonApology,
    // stonewalling
    Shutdown,
    Withdraw,
    // i-statement
    Feeling,
    Need,
    Impact,
    // repair
    Apology,
    Responsibility,
    Break,
    Understand,
    Request,
    Compromise,
    Flooding,
    // appreciation
    Thanks,
    Affection,
    Admire,
    /// Read by the statistical model, not a rule: the label only, with a
    /// plain explanation of the label itself (never crisis).
    Tone(Kind),
}

impl Why {
    pub(crate) fn explanation(self) -> &'static str {
        match self {
            Why::SelfHarm | Why::Suicidal => {
                "It sounds like you may be in real danger of being hurt right now; you don't have to face this alone, and support is available right now."
            }
            Why::SelfHarmUrge | Why::Despair => {
                "It sounds like you may be carrying something really painful; you don't have to face it alone, and support is available right now."
            }
            Why::SexualCoercion => {
                "Sex should never be pressured or forced, and a no always counts; what you describe matters, and support is available right now."
            }
            Why::CoerciveControl => {
                "Being watched, kept from people or kept short of money or your own things can wear you down; you deserve to feel free and safe, and support is available."
            }
            Why::Threat => {
                "This reads as a threat of harm; everyone's safety comes first, and help is available right now."
            }
            Why::Violence => {
                "What you describe sounds unsafe; your safety matters most, and support is available right now."
            }
            Why::Absolute => {
                "Words like \u{201c}always\u{201d} and \u{201c}never\u{201d} can make your partner feel judged as a whole person instead of heard about one moment."
            }
            Why::Character => {
                "Describing your partner as a kind of person tends to land as an attack, while naming the specific moment is easier to hear."
            }
            Why::Blame => {
                "Putting the whole problem on your partner can make them brace for a fight instead of listening."
            }
            Why::Question => {
                "A question like this can sound like a cross-examination, even when you really want to understand."
            }
            Why::Exasperation => {
                "Keeping count of how often you've asked can leave your partner feeling scolded rather than invited to help."
            }
            Why::Should => {
                "\u{201c}You should have\u{2026}\u{201d} can sound like a verdict, while sharing how it affected you invites a softer reply."
            }
            Why::Shouting => {
                "Writing in capitals can read like shouting, which makes your words harder to take in."
            }
            Why::Insult => {
                "Names and put-downs cut deep and make it very hard for your partner to hear what you need."
            }
            Why::Sarcasm => {
                "Sarcasm can come across as mocking, and that usually hurts more than the words themselves."
            }
            Why::Superiority => {
                "Talking down to your partner can leave them feeling small instead of close to you."
            }
            Why::Dismissive => {
                "Telling your partner how they should feel can leave them feeling brushed aside rather than understood."
            }
            Why::Disgust => {
                "Words of disgust or hostility can leave lasting hurt, even when they come from real frustration."
            }
            Why::Rejection => {
                "Suggesting your partner is unlovable can feel crushing, whatever frustration sits behind it."
            }
            Why::EyeRoll => {
                "An eye-roll can say \u{201c}I look down on this\u{201d} louder than any word."
            }
            Why::CounterAttack => {
                "Answering a complaint with one of your own can turn the talk into a contest where nobody feels heard."
            }
            Why::Denial => {
                "Flatly denying it can leave your partner feeling unheard, even if there's truth on your side."
            }
            Why::Excuse => {
                "Explaining why it wasn't your fault can sound like a brush-off, and owning even a small part helps a lot."
            }
            Why::Victim => {
                "Feeling blamed is hard, but casting yourself as the wronged one can make it harder to find a way forward together."
            }
            Why::Deflect => {
                "Saying your partner caused your reaction hands them the blame for your part of it."
            }
            Why::NonApology => {
                "An apology with a \u{201c}but\u{201d} or an \u{201c}if\u{201d} can sound more like a defence than a real apology."
            }
            Why::Shutdown => {
                "This can read as closing the conversation, so if you need a pause, saying so and when you'll come back helps."
            }
            Why::Withdraw => {
                "Tuning out can leave your partner feeling alone in the conversation, and a short, named break is kinder to you both."
            }
            Why::Feeling => {
                "You're naming your own feelings, which makes it much easier for your partner to listen."
            }
            Why::Need => {
                "Saying what matters to you, rather than what's wrong with your partner, keeps the door open."
            }
            Why::Impact => {
                "Describing how a specific situation affects you is a gentle way to raise a concern."
            }
            Why::Apology => {
                "An apology like this helps calm things down and shows you care about the relationship."
            }
            Why::Responsibility => {
                "Owning your part takes courage and helps your partner soften too."
            }
            Why::Break => {
                "Asking for a pause is a healthy way to calm down, and coming back when you said you would makes it work."
            }
            Why::Understand => {
                "Trying to understand your partner's side is one of the strongest ways to turn a hard talk around."
            }
            Why::Request => {
                "Asking for what you need in the moment helps you both steer back toward each other."
            }
            Why::Compromise => "Looking for common ground shows you're on the same team.",
            Why::Flooding => {
                "Letting your partner know how you're doing right now gives you both a chance to slow down."
            }
            Why::Thanks => "Saying thank you helps your partner feel seen and valued.",
            Why::Affection => {
                "Sharing love and fondness builds the warmth that carries couples through hard moments."
            }
            Why::Admire => "Noticing what you admire in your partner strengthens your bond.",
            Why::Tone(kind) => match kind {
                Kind::Criticism => {
                    "This may land as a judgement of your partner as a person; naming the moment and how it felt is easier to hear."
                }
                Kind::Contempt => {
                    "This may come across as looking down on your partner, and that tends to hurt more than the words themselves."
                }
                Kind::Defensiveness => {
                    "This may sound like a defence; owning even a small part helps your partner feel heard."
                }
                Kind::Stonewalling => {
                    "This may read as shutting the conversation down; if you need a pause, saying so and when you'll come back helps."
                }
                Kind::IStatement => {
                    "You're speaking from your own experience, which makes it easier for your partner to listen."
                }
                Kind::Repair => "This reaches toward your partner and helps calm things down.",
                Kind::Appreciation => {
                    "Warm words like these help your partner feel seen and valued."
                }
                // the model's crisis readings use the crisis reasons
                Kind::Crisis => {
                    "It sounds like you may be carrying something really painful; you don't have to face it alone, and support is available right now."
                }
            },
        }
    }

    /// For crisis reasons: what the sign is about and how strong it is.
    pub(crate) fn crisis(self) -> Option<Crisis> {
        let (category, tier) = match self {
            Why::SelfHarm => (CrisisCategory::SelfHarm, CrisisTier::Urgent),
            Why::SelfHarmUrge => (CrisisCategory::SelfHarm, CrisisTier::Distress),
            Why::Suicidal => (CrisisCategory::Suicidal, CrisisTier::Urgent),
            Why::Despair => (CrisisCategory::Suicidal, CrisisTier::Distress),
            Why::SexualCoercion => (CrisisCategory::SexualCoercion, CrisisTier::Urgent),
            Why::CoerciveControl => (CrisisCategory::CoerciveControl, CrisisTier::Distress),
            Why::Threat => (CrisisCategory::Threat, CrisisTier::Urgent),
            Why::Violence => (CrisisCategory::ViolenceReport, CrisisTier::Urgent),
            _ => return None,
        };
        Some(Crisis {
            category,
            tier,
            tentative: false,
            statistical: false,
        })
    }

    /// The kind a finding with this reason belongs to.
    pub(crate) fn kind(self) -> Kind {
        match self {
            Why::SelfHarm
            | Why::SelfHarmUrge
            | Why::Suicidal
            | Why::Despair
            | Why::Threat
            | Why::Violence
            | Why::SexualCoercion
            | Why::CoerciveControl => Kind::Crisis,
            Why::Absolute
            | Why::Character
            | Why::Blame
            | Why::Question
            | Why::Exasperation
            | Why::Should
            | Why::Shouting => Kind::Criticism,
            Why::Insult
            | Why::Sarcasm
            | Why::Superiority
            | Why::Dismissive
            | Why::Disgust
            | Why::Rejection
            | Why::EyeRoll => Kind::Contempt,
            Why::CounterAttack
            | Why::Denial
            | Why::Excuse
            | Why::Victim
            | Why::Deflect
            | Why::NonApology => Kind::Defensiveness,
            Why::Shutdown | Why::Withdraw => Kind::Stonewalling,
            Why::Feeling | Why::Need | Why::Impact => Kind::IStatement,
            Why::Apology
            | Why::Responsibility
            | Why::Break
            | Why::Understand
            | Why::Request
            | Why::Compromise
            | Why::Flooding => Kind::Repair,
            Why::Thanks | Why::Affection | Why::Admire => Kind::Appreciation,
            Why::Tone(kind) => kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Crisis, CrisisCategory, CrisisTier, analyze};

    fn signs(text: &str) -> Vec<Crisis> {
        analyze(text).crisis_signs()
    }

    #[test]
    fn crisis_findings_carry_a_category_and_a_tier() {
        let hopeless = signs("Honestly I can't go on like this anymore.");
        assert_eq!(
            hopeless.first(),
            Some(&Crisis {
                category: CrisisCategory::Suicidal,
                tier: CrisisTier::Distress,
                tentative: false,
                statistical: false,
            })
        );
        let plan = signs("I have been saving up my pills.");
        assert_eq!(plan.first().map(|c| c.tier), Some(CrisisTier::Urgent));
        let threat = signs("If you leave I will kill you.");
        assert_eq!(
            threat.first().map(|c| c.category),
            Some(CrisisCategory::Threat)
        );
        assert!(signs("Thanks for dinner, it was lovely.").is_empty());
        // the strongest sign comes first when both are present
        let both = signs("I hate my life and I want to kill myself.");
        assert_eq!(both.first().map(|c| c.tier), Some(CrisisTier::Urgent));
        assert!(
            analyze("Let's talk tonight.")
                .findings
                .iter()
                .all(|f| f.crisis.is_none())
        );
    }
}
