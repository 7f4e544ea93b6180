//! Behaviour on our own sentences (none are taken from the dev set).
//! Each case lists the labels the coach must produce, exactly.

use trellis_coach::{Kind, Label, analyze};

fn names(text: &str) -> Vec<&'static str> {
    analyze(text).labels.iter().map(|l| l.as_str()).collect()
}

fn check(cases: &[(&str, &[&str])]) {
    let mut failures = Vec::new();
    for (text, want) in cases {
        let got = names(text);
        if got != *want {
            failures.push(format!("{text:?}: want {want:?}, got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn criticism() {
    check(&[
        ("You always leave your socks on the floor.", &["criticism"]),
        ("you NEVER call me back", &["criticism"]),
        ("You’re always on your phone.", &["criticism"]),
        ("You are never on time for anything.", &["criticism"]),
        ("You are so selfish.", &["criticism"]),
        ("You're such an inconsiderate person.", &["criticism"]),
        ("You constantly interrupt me.", &["criticism"]),
        ("Why can't you ever put the dishes away?", &["criticism"]),
        ("What is wrong with you?", &["criticism"]),
        ("How could you forget my birthday?", &["criticism"]),
        ("You just don't care about this family.", &["criticism"]),
        ("You only care about yourself.", &["criticism"]),
        ("You keep ignoring my texts.", &["criticism"]),
        ("You ruined the whole evening.", &["criticism"]),
        (
            "How many times do I have to ask you to take out the trash?",
            &["criticism"],
        ),
        (
            "I’ve told you a hundred times to lock the door.",
            &["criticism"],
        ),
        ("It's all your fault we're late.", &["criticism"]),
        ("You should have asked me first.", &["criticism"]),
        ("Typical. You didn't even text me.", &["criticism"]),
        ("I can't count on you for anything.", &["criticism"]),
        ("Your so lazy", &["criticism"]),
        ("u never help with the kids", &["criticism"]),
        ("I feel like you never listen to me.", &["criticism"]),
        ("I feel that you are selfish.", &["criticism"]),
        ("WHERE WERE YOU ALL NIGHT", &["criticism"]),
    ]);
}

#[test]
fn contempt() {
    check(&[
        ("You're an idiot.", &["contempt"]),
        ("You are such a loser", &["contempt"]),
        ("I feel like you're an idiot.", &["contempt"]),
        ("What a moron.", &["contempt"]),
        ("You disgust me.", &["contempt"]),
        ("Oh, you're overreacting again.", &["contempt"]),
        ("You’re being hysterical.", &["contempt"]),
        ("Grow up.", &["contempt"]),
        ("Wow, real mature.", &["contempt"]),
        (
            "Yeah right, like you would ever clean anything.",
            &["contempt"],
        ),
        ("Nobody else would put up with you.", &["contempt"]),
        ("You're pathetic 🙄", &["contempt"]),
        ("Great job ruining dinner 🙄", &["contempt"]),
        (
            "Would it kill you to help for once?",
            &["criticism", "contempt"],
        ),
        ("Any idiot could figure that out.", &["contempt"]),
        ("You're way too emotional about this.", &["contempt"]),
        ("Let me explain it to you slowly.", &["contempt"]),
        ("Who do you think you are?", &["contempt"]),
        ("Shut up.", &["contempt"]),
        ("You selfish jerk.", &["contempt"]),
    ]);
}

#[test]
fn defensiveness() {
    check(&[
        ("It's not my fault the car broke down.", &["defensiveness"]),
        (
            "That's not what happened and you know it.",
            &["defensiveness"],
        ),
        ("I was too busy, okay?", &["defensiveness"]),
        (
            "Well, you forgot to pay the bill last month.",
            &["defensiveness"],
        ),
        ("But you never do the laundry either!", &["defensiveness"]),
        (
            "You're the one who always starts these fights.",
            &["defensiveness"],
        ),
        ("I didn't do anything wrong.", &["defensiveness"]),
        ("How was I supposed to know?", &["defensiveness"]),
        ("You made me yell.", &["defensiveness"]),
        ("I'm sorry you feel that way.", &["defensiveness"]),
        ("Why are you attacking me?", &["defensiveness"]),
        (
            "Me? Lazy? You haven't cleaned in weeks.",
            &["defensiveness"],
        ),
        ("Yeah, but you said you'd do it.", &["defensiveness"]),
        ("I'm not a mind reader.", &["defensiveness"]),
        (
            "What about the time you forgot our anniversary?",
            &["defensiveness"],
        ),
    ]);
}

#[test]
fn stonewalling() {
    check(&[
        ("Whatever.", &["stonewalling"]),
        ("Fine.", &["stonewalling"]),
        ("I don't want to talk about it.", &["stonewalling"]),
        ("Leave me alone.", &["stonewalling"]),
        ("This conversation is over.", &["stonewalling"]),
        ("I’m not discussing this again.", &["stonewalling"]),
        ("Do what you want, I don't care.", &["stonewalling"]),
        ("I have nothing to say to you.", &["stonewalling"]),
        ("Forget it.", &["stonewalling"]),
        ("If you say so.", &["stonewalling"]),
    ]);
}

#[test]
fn i_statements() {
    check(&[
        (
            "I feel lonely when you work late every night.",
            &["i_statement"],
        ),
        (
            "I felt embarrassed when you joked about me at dinner.",
            &["i_statement"],
        ),
        ("I’m worried about our savings.", &["i_statement"]),
        (
            "I was really anxious when I couldn't reach you.",
            &["i_statement"],
        ),
        (
            "It hurts me when you check your phone while I'm talking.",
            &["i_statement"],
        ),
        ("I get nervous when we talk about money.", &["i_statement"]),
        (
            "Spending time together matters a lot to me.",
            &["i_statement"],
        ),
        (
            "I would love it if we could cook together this weekend.",
            &["i_statement"],
        ),
        (
            "I feel taken for granted when the chores fall on me.",
            &["i_statement"],
        ),
        (
            "I feel sad and I need some reassurance that we're okay.",
            &["i_statement"],
        ),
        (
            "I don't feel supported when plans change at the last minute.",
            &["i_statement"],
        ),
        ("I miss you so much.", &["i_statement"]),
    ]);
}

#[test]
fn repair() {
    check(&[
        ("I'm sorry, I shouldn't have raised my voice.", &["repair"]),
        ("I apologize for snapping at you.", &["repair"]),
        ("You're right, I didn't think about that.", &["repair"]),
        (
            "Can we take a break and come back to this in an hour?",
            &["repair"],
        ),
        ("Let's start over.", &["repair"]),
        ("I see your point.", &["repair"]),
        ("My bad, that came out wrong.", &["repair"]),
        ("I need a minute to calm down.", &["repair"]),
        ("Let's find a middle ground.", &["repair"]),
        ("Help me understand what you need.", &["repair"]),
        ("I think I overreacted.", &["repair"]),
        ("We're on the same team here.", &["repair"]),
        ("I'm starting to feel flooded.", &["repair"]),
        ("Can you say that more gently?", &["repair"]),
    ]);
}

#[test]
fn appreciation() {
    check(&[
        (
            "Thank you for picking up the kids today.",
            &["appreciation"],
        ),
        ("Thanks for always making me laugh.", &["appreciation"]),
        (
            "I really appreciate how patient you were with my mom.",
            &["appreciation"],
        ),
        ("You're amazing.", &["appreciation"]),
        ("I'm so proud of you.", &["appreciation"]),
        ("You always know how to cheer me up.", &["appreciation"]),
        ("I love you ❤️", &["appreciation"]),
        ("You're my best friend.", &["appreciation"]),
        ("I’m so grateful for you.", &["appreciation"]),
        ("You make me so happy.", &["appreciation"]),
        ("Good job on the presentation!", &["appreciation"]),
        ("I love how you sing in the car.", &["appreciation"]),
    ]);
}

#[test]
fn crisis() {
    check(&[
        ("I want to kill myself.", &["crisis"]),
        ("I don't see any reason to live anymore.", &["crisis"]),
        ("Everyone would be better off without me.", &["crisis"]),
        ("I've been thinking about ending my life.", &["crisis"]),
        ("I can't go on like this.", &["crisis"]),
        ("I’m going to hurt myself tonight.", &["crisis"]),
        ("If you leave I'll kill you.", &["crisis"]),
        ("I swear I will hit you.", &["crisis"]),
        ("You'll regret this, watch your back.", &["crisis"]),
        ("He hit me again last night.", &["crisis"]),
        ("I wish I was dead", &["crisis"]),
        ("i wanna die", &["crisis"]),
        ("kms", &["crisis"]),
        ("I'm scared of him.", &["crisis"]),
        ("I won't be a burden to you much longer.", &["crisis"]),
        // about a partner, in the third person
        ("She wants to die.", &["crisis"]),
        ("My husband says he wants to kill himself.", &["crisis"]),
        ("he hits me when he drinks", &["crisis"]),
        // a story near the writer is still the writer's
        ("After that film I want to die.", &["crisis"]),
        (
            "He watched a film and then said he wants to die.",
            &["crisis"],
        ),
        ("i cant keep living like this", &["crisis"]),
        ("what's even the point in living", &["crisis"]),
        ("he beat me up on saturday", &["crisis"]),
        ("I just want the pain to stop forever.", &["crisis"]),
        ("He beat me up for talking to my ex.", &["crisis"]),
        ("he was beating me in front of the kids", &["crisis"]),
        (
            "I wish I could disappear somewhere and never come back",
            &["crisis"],
        ),
        (
            "I'll make sure you never know where the kids are",
            &["crisis"],
        ),
        ("Jake lost the plot and tried to kill himself.", &["crisis"]),
    ]);
}

/// Idioms that share words with crisis language, read as the idiom.
#[test]
fn idioms_that_end_like_crisis() {
    check(&[
        (
            "Honestly I was ready to die of embarrassment.",
            &["neutral"],
        ),
        ("Don't beat me up about it, it was one email.", &["neutral"]),
        ("He beat me at chess again.", &["neutral"]),
        ("The new mattress was worth every penny.", &["neutral"]),
        (
            "I nearly killed myself laughing at that video.",
            &["neutral"],
        ),
        (
            "We can't keep living with your mum, we need our own place.",
            &["neutral"],
        ),
        ("can't do life admin today", &["neutral"]),
        ("We need to track every penny this month.", &["neutral"]),
    ]);
}

#[test]
fn stories_about_others() {
    check(&[
        ("The character kills himself in the film.", &["neutral"]),
        (
            "In the last chapter the villain wants to die.",
            &["neutral"],
        ),
    ]);
}

#[test]
fn neutral() {
    check(&[
        ("Can you grab milk on the way home?", &["neutral"]),
        ("The meeting moved to 3pm.", &["neutral"]),
        ("Dinner is in the oven.", &["neutral"]),
        ("Do you mean Tuesday or Wednesday?", &["neutral"]),
        ("You never know, it might work out.", &["neutral"]),
        ("I'm going to hit the gym after work.", &["neutral"]),
        ("That movie was so stupid lol", &["neutral"]),
        ("I'm done with the dishes.", &["neutral"]),
        ("Did you remember to call the plumber?", &["neutral"]),
        ("Fine weather today, want to walk?", &["neutral"]),
        ("We should book the flights soon.", &["neutral"]),
        ("The kids grow up so fast.", &["neutral"]),
        ("I'm not going anywhere tonight.", &["neutral"]),
        ("My boss is killing me with these deadlines", &["neutral"]),
        ("", &["neutral"]),
        ("🙂", &["neutral"]),
        ("ok", &["neutral"]),
        ("Where did you put the keys?", &["neutral"]),
        ("Please pick up some bread.", &["neutral"]),
    ]);
}

#[test]
fn negation() {
    check(&[
        (
            "I don't think you never listen, I just feel unheard tonight.",
            &["i_statement"],
        ),
        ("You're not stupid.", &["neutral"]),
        ("I don't think you're lazy.", &["neutral"]),
        ("I never said you were lazy.", &["defensiveness"]),
        ("I'm not sorry.", &["neutral"]),
        ("No thanks.", &["neutral"]),
        ("I would never hurt you.", &["neutral"]),
        ("I'm not going to hit you.", &["neutral"]),
    ]);
}

#[test]
fn mixed() {
    check(&[
        (
            "I love you, but you never listen.",
            &["criticism", "appreciation"],
        ),
        ("Sorry, but you started it.", &["defensiveness"]),
        (
            "Thanks a LOT for leaving me to clean up your crap!",
            &["contempt"],
        ),
        (
            "I'm sorry. I feel overwhelmed and need a break.",
            &["i_statement", "repair"],
        ),
        (
            "I want to die. You never cared anyway.",
            &["crisis", "criticism"],
        ),
    ]);
}

#[test]
fn crisis_first_and_flagged() {
    let a = analyze("You're an idiot and I'm going to kill myself.");
    assert!(a.is_crisis());
    assert_eq!(a.labels[0], Label::Crisis);
    assert_eq!(a.findings[0].kind, Kind::Crisis);
    assert!(a.suggestion.is_none());
}

#[test]
fn suggestion_reuses_behaviour() {
    let a = analyze("You never listen to me when I talk!");
    let s = a.suggestion.unwrap_or_default();
    assert!(
        s.contains("when you don\u{2019}t listen to me when I talk"),
        "{s}"
    );
    assert!(s.contains("I feel"), "{s}");
    assert!(s.contains("I need"), "{s}");
    assert!(analyze("Thanks for dinner!").suggestion.is_none());
    assert!(analyze("Whatever.").suggestion.is_some());
}

#[test]
fn spans_point_at_cues() {
    let text = "Honestly, you’re SO lazy.";
    let a = analyze(text);
    let f = &a.findings[0];
    assert_eq!(&text[f.start..f.end], "you’re SO lazy");
    assert_eq!(f.cue, "you are so lazy");
    assert!(!f.explanation.is_empty());
}

#[test]
fn json_shape() {
    let a = analyze("I feel hurt when you forget to call.");
    let v = serde_json::to_value(&a).unwrap_or_default();
    let obj = v.as_object().cloned().unwrap_or_default();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["findings", "labels", "suggestion", "text"]);
    assert_eq!(v["labels"], serde_json::json!(["i_statement"]));
    assert!(v["suggestion"].is_null());
    let f = &v["findings"][0];
    let mut fk: Vec<&str> = f
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    fk.sort();
    assert_eq!(fk, ["cue", "end", "explanation", "kind", "start"]);
    assert_eq!(f["kind"], "i_statement");
    let n = serde_json::to_value(analyze("The bus is late.")).unwrap_or_default();
    assert_eq!(n["labels"], serde_json::json!(["neutral"]));
    assert_eq!(n["findings"], serde_json::json!([]));
}

#[test]
fn published_style_constructs() {
    // constructs named in the literature, in our own wording
    check(&[
        ("I'm getting worried.", &["repair"]),
        ("That hurt my feelings.", &["i_statement"]),
        ("Did I do something wrong?", &["repair"]),
        ("I know this isn't your fault.", &["repair"]),
        ("Let's agree to disagree.", &["repair"]),
        (
            "Would you be willing to walk the dog tonight?",
            &["i_statement"],
        ),
        (
            "When I see clothes on the floor, I feel irritated because I need order.",
            &["i_statement"],
        ),
        ("Nothing matters anymore.", &["crisis"]),
        ("No one would miss me if I was gone.", &["crisis"]),
        ("I'll make your life hell.", &["crisis"]),
        ("You're nothing without me.", &["contempt"]),
        ("It was just a joke, relax.", &["defensiveness"]),
        ("Why are you so forgetful?", &["criticism"]),
        ("Ha! You call that cleaning?", &["contempt"]),
        (
            "I'm upset that the floor wasn't swept; we agreed to alternate.",
            &["i_statement"],
        ),
        (
            "Honey, I'm feeling stressed about money. Can we look at the budget together?",
            &["i_statement"],
        ),
    ]);
}

#[test]
fn everyday_messages() {
    check(&[
        ("You didn't take out the trash again.", &["criticism"]),
        (
            "You left the door unlocked again last night.",
            &["criticism"],
        ),
        ("I can't wait to see you again.", &["appreciation"]),
        (
            "I get upset when you leave dishes out again.",
            &["i_statement"],
        ),
        ("Oh, so now you care about my feelings?", &["contempt"]),
        ("Gee, thanks for finally showing up.", &["contempt"]),
        ("It's not like I had a choice.", &["defensiveness"]),
        (
            "I wouldn't have yelled if you had just listened.",
            &["defensiveness"],
        ),
        ("Hey, I was only trying to help!", &["defensiveness"]),
        ("I'm not talking to you right now.", &["stonewalling"]),
        ("I took a bunch of pills.", &["crisis"]),
        ("She pushed me down the stairs.", &["crisis"]),
        ("I'm sorry to hear about your grandmother.", &["neutral"]),
        ("I'm sorry for your loss.", &["neutral"]),
        ("Thank god you're home.", &["neutral"]),
        ("I'd kill for a pizza right now.", &["neutral"]),
        ("I'm so tired today.", &["neutral"]),
        ("You look tired, are you okay?", &["neutral"]),
        ("Nice try.", &["contempt"]),
        ("I LOVE YOU SO MUCH", &["appreciation"]),
        (
            "Oh great, another brilliant idea from you 🙄",
            &["contempt"],
        ),
        (
            "I need some quiet time tonight; could we talk tomorrow?",
            &["repair"],
        ),
        ("Can we take a 20-minute break?", &["repair"]),
        ("I feel that you are ignoring me.", &["criticism"]),
        ("I feel you don't love me.", &["criticism"]),
        ("I'm happy that you can come.", &["i_statement"]),
        ("I feel like hitting you.", &["crisis"]),
        (
            "It sounds like you felt left out at the party.",
            &["repair"],
        ),
        (
            "What I hear you saying is that you want more help.",
            &["repair"],
        ),
        ("He said he would kill me.", &["crisis"]),
    ]);
}

/// Wordings of each kind that the lexicon once knew in one form only.
#[test]
fn kinds_in_other_wordings() {
    check(&[
        (
            "Your problem is that you never finish a job.",
            &["criticism"],
        ),
        ("You can't be trusted with the car keys.", &["criticism"]),
        ("No wonder nobody likes your cooking.", &["contempt"]),
        ("I wasn't even home when it happened!", &["defensiveness"]),
        ("What was I supposed to say, no?", &["defensiveness"]),
        ("idc. not doing this tonight", &["stonewalling"]),
        ("You've got a fair point about the budget.", &["repair"]),
        ("Let's start over, this is silly.", &["repair"]),
        ("Cheers for sorting the bins x", &["appreciation"]),
        ("Sorry, it's my fault.", &["repair"]),
    ]);
}

/// Short, plain crisis messages, the way many people first say it: each
/// one must be read as crisis, whatever a change does to the long and
/// oblique ones. (A length feature once scored better on the test splits
/// and lost eight of these; it was left out.)
#[test]
fn short_plain_crisis_messages() {
    let missed: Vec<&str> = [
        "i cant keep living like this",
        "I don't want to be alive anymore",
        "im done with life",
        "I just want it all to be over",
        "I'm so tired of living",
        "nothing matters anymore and i want out",
        "there's no way out for me",
        "I'm a burden to everyone",
        "i don't want to exist",
        "I wish I could fall asleep and never wake up",
        "life isn't worth living",
        "i'm thinking of ending things",
        "i've been having thoughts of ending my life",
        "I feel like killing myself",
        "I feel suicidal",
        "no one would miss me if i was gone",
        "they'd be better off if i was dead",
        "I've written my goodbye letters",
        "I've been cutting myself again",
        "i hurt myself last night",
        "I took too many pills",
        "i want to disappear and never come back",
        "i cant do life anymore",
        "what's the point in living",
        "I'm ready to die",
        "I don't think I'll be here much longer",
        "I keep thinking about driving off the road",
        "he said he will kill me if i leave",
        "he threatened to kill me",
        "she said she'd stab me",
        "he beat me up",
        "my boyfriend hits me",
        "my husband raped me",
        "he forced himself on me",
        "he won't let me leave the house",
        "i'm scared he's going to kill me",
        "if you leave i'll kill myself",
        "if you leave me I will hurt you",
        "I'm going to make you pay",
        "i know where you live",
        "he said he'd put me in the ground",
        "he told me nobody would find my body",
        "she said she'd make me disappear",
        "he pinned me down",
        "he held me down on the bed",
        "he dragged me by my hair",
        "he spat in my face",
        "she bit me hard enough to bleed",
        "he threw me against the wall",
        "he punched me in the stomach",
        "he kicked me while i was on the floor",
        "he tried to strangle me",
        "he squeezed my neck",
        "he pointed a gun at me",
        "he threatened me with a knife",
        "he pressures me into sex when im asleep",
        "i didn't want to but he didn't stop",
        "he won't take no for an answer in bed",
        "she reads all my messages and texts",
        "he put a tracker on my phone",
        "he won't let me see my family",
        "he controls all the money",
        "i'm not allowed to go out without him",
        "he takes my car keys so i can't leave",
        "he monitors my location 24/7",
        "im going to slit my wrists",
        "i've been burning myself with cigarettes",
        "i starve myself as punishment",
        "i scratch myself till i bleed",
        "i took a whole packet of paracetamol",
        "i want to overdose",
        "i've said my goodbyes",
        "i can't see a future for myself",
        "i hate being alive",
        "i pray i don't wake up",
        "i want to go to sleep forever",
        "I don't want to be here anymore",
        "I'm so tired. I just want it to stop",
        "I don't know how much longer I can do this",
        "I want the pain to stop forever",
        "I'm not going to be around for much longer",
        "I just want to go to sleep and never wake up",
        "I feel like a burden on everyone",
        "nobody would even notice if I was gone",
        "sometimes I think about just ending it all",
        "I've been giving my stuff away",
        "I keep thinking about killing myself",
        "I have a plan",
        "I want to die but I'm scared",
        "I can't take the pain anymore",
        "life feels pointless",
        "there's no reason for me to keep going",
        "I'm thinking about suicide",
        "I'm considering suicide",
        "I hate myself so much I want to hurt myself",
        "I'm a waste of space",
        "I just want to stop existing",
        "I'm going to end my life",
        "he told me to kill myself",
        "she told me to go die",
    ]
    .into_iter()
    .filter(|t| !names(t).contains(&"crisis"))
    .collect();
    assert!(missed.is_empty(), "read as not crisis: {missed:?}");
}
