//! The program as data: Markdown files with TOML front matter (between `+++`
//! lines), parsed into stages and exercises. Parsing is strict: anything
//! wrong is reported with the file, the line and the reason, so a practice
//! editing its content learns at start-up, not when a couple opens a page.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::privacy::Audience;
use crate::situation::{PartnerRole, Situation};

/// The kinds of exercise, each with its own form and rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExerciseKind {
    /// Free writing, audience chosen by the author.
    Reflection,
    /// A few statements rated 0 to 10.
    Rating,
    /// Both answer privately; answers are shown to each other once both answered.
    Paired,
    /// One shares what hurt, the other reflects it back until the first confirms.
    ReflectBack,
    /// Things to tick.
    Checklist,
    /// Goals with concrete markers of progress.
    Goals,
}

impl ExerciseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExerciseKind::Reflection => "reflection",
            ExerciseKind::Rating => "rating",
            ExerciseKind::Paired => "paired",
            ExerciseKind::ReflectBack => "reflect_back",
            ExerciseKind::Checklist => "checklist",
            ExerciseKind::Goals => "goals",
        }
    }

    /// Exercises both partners do together; they wait while a safety concern is open.
    pub fn is_joint(self) -> bool {
        matches!(self, ExerciseKind::Paired | ExerciseKind::ReflectBack)
    }

    pub fn label(self) -> &'static str {
        match self {
            ExerciseKind::Reflection => "Reflection",
            ExerciseKind::Rating => "Rating",
            ExerciseKind::Paired => "Together, answered apart",
            ExerciseKind::ReflectBack => "Listening and reflecting back",
            ExerciseKind::Checklist => "Checklist",
            ExerciseKind::Goals => "Goals",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingItem {
    pub id: String,
    pub text: String,
    pub low: String,
    pub high: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exercise {
    pub id: String,
    pub stage: String,
    pub order: u32,
    pub title: String,
    pub kind: ExerciseKind,
    pub minutes: u32,
    pub why: String,
    /// Instructions, rendered to HTML (raw HTML in the source is shown as text).
    pub body_html: String,
    pub prompt: Option<String>,
    pub prompt_speaker: Option<String>,
    pub prompt_listener: Option<String>,
    pub rating_items: Vec<RatingItem>,
    pub checklist_items: Vec<ChecklistItem>,
    pub areas: Vec<String>,
    pub default_audience: Audience,
    /// The situations the exercise is shown in; empty means all.
    pub situations: Vec<Situation>,
    /// Offered "when you are ready": it never holds a stage back.
    pub optional: bool,
    /// Wording for each partner when one partner was hurt by the other.
    pub roles: BTreeMap<PartnerRole, RoleWording>,
}

/// What changes for one role; anything left out keeps the shared wording.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoleWording {
    pub why: Option<String>,
    pub prompt: Option<String>,
    pub prompt_speaker: Option<String>,
    pub prompt_listener: Option<String>,
    pub body_html: Option<String>,
}

impl Exercise {
    /// Whether a couple in `situation` sees this exercise (a couple whose
    /// situation is not set yet sees everything).
    pub fn shown_in(&self, situation: Option<Situation>) -> bool {
        match situation {
            Some(situation) => self.situations.is_empty() || self.situations.contains(&situation),
            None => true,
        }
    }

    /// The exercise as one partner reads it: their role's wording where the
    /// content has one, the shared wording everywhere else.
    pub fn worded_for(&self, role: Option<PartnerRole>) -> Exercise {
        let mut exercise = self.clone();
        let Some(wording) = role.and_then(|r| self.roles.get(&r)) else {
            return exercise;
        };
        let pick = |own: &Option<String>, shared: &mut Option<String>| {
            if own.is_some() {
                shared.clone_from(own);
            }
        };
        pick(&wording.prompt, &mut exercise.prompt);
        pick(&wording.prompt_speaker, &mut exercise.prompt_speaker);
        pick(&wording.prompt_listener, &mut exercise.prompt_listener);
        if let Some(why) = &wording.why {
            exercise.why.clone_from(why);
        }
        if let Some(body) = &wording.body_html {
            exercise.body_html.clone_from(body);
        }
        exercise
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    pub id: String,
    pub title: String,
    pub order: u32,
    pub intro_html: String,
    pub exercises: Vec<Exercise>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Program {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub intro_html: String,
    pub stages: Vec<Stage>,
}

impl Program {
    pub fn exercise(&self, id: &str) -> Option<(&Stage, &Exercise)> {
        self.stages.iter().find_map(|stage| {
            stage
                .exercises
                .iter()
                .find(|e| e.id == id)
                .map(|e| (stage, e))
        })
    }

    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.id == id)
    }

    pub fn exercise_count(&self) -> usize {
        self.stages.iter().map(|s| s.exercises.len()).sum()
    }
}

/// What is wrong with a content file, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct ContentError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

fn error(file: &str, line: usize, reason: impl Into<String>) -> ContentError {
    ContentError {
        file: file.to_owned(),
        line,
        reason: reason.into(),
    }
}

/// Splits `+++ front matter +++ body`; the front matter starts on line 2.
pub fn split_front_matter<'a>(
    file: &str,
    text: &'a str,
) -> Result<(&'a str, &'a str), ContentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
        .ok_or_else(|| {
            error(
                file,
                1,
                "the file must start with a `+++` line opening the front matter",
            )
        })?;
    let end = rest
        .find("\n+++")
        .ok_or_else(|| error(file, 1, "the front matter is not closed by a `+++` line"))?;
    let front = &rest[..=end];
    let body = rest[end + 4..].trim_start_matches(['\r', '\n']);
    Ok((front, body))
}

fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, front: &str) -> Result<T, ContentError> {
    // +1: the opening `+++` line.
    toml_in_file(file, front, 1)
}

/// Reads TOML that starts `lines_before` lines into `file`; a mistake is
/// reported with its line in the file.
pub fn toml_in_file<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
    lines_before: usize,
) -> Result<T, ContentError> {
    toml::from_str(text).map_err(|err| {
        let line = err.span().map_or(1, |span| {
            text[..span.start.min(text.len())].matches('\n').count() + 1
        });
        error(file, line + lines_before, err.message().to_owned())
    })
}

/// Markdown to HTML; raw HTML in the source is escaped, never passed through.
pub fn markdown_to_html(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, html};
    let parser = Parser::new(markdown).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgramFront {
    id: String,
    title: String,
    summary: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StageFront {
    id: String,
    title: String,
    order: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExerciseFront {
    id: String,
    stage: String,
    order: u32,
    title: String,
    kind: ExerciseKind,
    minutes: u32,
    why: String,
    prompt: Option<String>,
    prompt_speaker: Option<String>,
    prompt_listener: Option<String>,
    #[serde(default)]
    items: Vec<toml::Table>,
    #[serde(default)]
    areas: Vec<String>,
    default_audience: Option<Audience>,
    #[serde(default)]
    situations: Vec<Situation>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    roles: BTreeMap<PartnerRole, RoleFront>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFront {
    why: Option<String>,
    prompt: Option<String>,
    prompt_speaker: Option<String>,
    prompt_listener: Option<String>,
    body: Option<String>,
}

fn item_list<T: serde::de::DeserializeOwned>(
    file: &str,
    items: &[toml::Table],
) -> Result<Vec<T>, ContentError> {
    items
        .iter()
        .enumerate()
        .map(|(i, table)| {
            table.clone().try_into().map_err(|err: toml::de::Error| {
                error(file, 1, format!("item {}: {}", i + 1, err.message()))
            })
        })
        .collect()
}

fn exercise_from(file: &str, front: ExerciseFront, body: &str) -> Result<Exercise, ContentError> {
    let need = |value: &Option<String>, key: &str| -> Result<(), ContentError> {
        match value {
            Some(v) if !v.trim().is_empty() => Ok(()),
            _ => Err(error(
                file,
                1,
                format!("a {} exercise needs `{key}`", front.kind.as_str()),
            )),
        }
    };
    let mut rating_items = Vec::new();
    let mut checklist_items = Vec::new();
    match front.kind {
        ExerciseKind::Reflection | ExerciseKind::Paired => need(&front.prompt, "prompt")?,
        ExerciseKind::Goals => {
            need(&front.prompt, "prompt")?;
            if front.areas.is_empty() {
                return Err(error(file, 1, "a goals exercise needs `areas`"));
            }
        }
        ExerciseKind::ReflectBack => {
            need(&front.prompt_speaker, "prompt_speaker")?;
            need(&front.prompt_listener, "prompt_listener")?;
        }
        ExerciseKind::Rating => {
            rating_items = item_list::<RatingItem>(file, &front.items)?;
            if rating_items.is_empty() {
                return Err(error(file, 1, "a rating exercise needs `items`"));
            }
        }
        ExerciseKind::Checklist => {
            checklist_items = item_list::<ChecklistItem>(file, &front.items)?;
            if checklist_items.is_empty() {
                return Err(error(file, 1, "a checklist exercise needs `items`"));
            }
        }
    }
    let mut item_ids = HashSet::new();
    for id in rating_items
        .iter()
        .map(|i| &i.id)
        .chain(checklist_items.iter().map(|i| &i.id))
    {
        if !item_ids.insert(id.clone()) {
            return Err(error(file, 1, format!("item id `{id}` is used twice")));
        }
    }
    if front.kind == ExerciseKind::Paired
        && matches!(
            front.default_audience,
            Some(Audience::Me) | Some(Audience::Therapist)
        )
    {
        return Err(error(
            file,
            1,
            "a paired exercise is shared with the partner: its audience must include them",
        ));
    }
    for (role, wording) in &front.roles {
        let for_turns = front.kind == ExerciseKind::ReflectBack;
        let misplaced = if for_turns {
            wording.prompt.is_some()
        } else {
            wording.prompt_speaker.is_some() || wording.prompt_listener.is_some()
        };
        if misplaced {
            return Err(error(
                file,
                1,
                format!(
                    "`roles.{}`: a {} exercise words its prompt with {}",
                    role.as_str(),
                    front.kind.as_str(),
                    if for_turns {
                        "`prompt_speaker` and `prompt_listener`"
                    } else {
                        "`prompt`"
                    }
                ),
            ));
        }
    }
    Ok(Exercise {
        id: front.id,
        stage: front.stage,
        order: front.order,
        title: front.title,
        kind: front.kind,
        minutes: front.minutes,
        why: front.why,
        body_html: markdown_to_html(body),
        prompt: front.prompt,
        prompt_speaker: front.prompt_speaker,
        prompt_listener: front.prompt_listener,
        rating_items,
        checklist_items,
        areas: front.areas,
        default_audience: front.default_audience.unwrap_or(match front.kind {
            ExerciseKind::Paired | ExerciseKind::ReflectBack => Audience::Partner,
            _ => Audience::Me,
        }),
        situations: front.situations,
        optional: front.optional,
        roles: front
            .roles
            .into_iter()
            .map(|(role, wording)| {
                (
                    role,
                    RoleWording {
                        why: wording.why,
                        prompt: wording.prompt,
                        prompt_speaker: wording.prompt_speaker,
                        prompt_listener: wording.prompt_listener,
                        body_html: wording.body.as_deref().map(markdown_to_html),
                    },
                )
            })
            .collect(),
    })
}

/// Parses one program from its files, named by their path inside the
/// program folder: `program.md`, `stages/*.md`, `exercises/*.md`.
pub fn parse_program(files: &BTreeMap<String, String>) -> Result<Program, ContentError> {
    let (program_file, program_text) = files
        .iter()
        .find(|(name, _)| name.ends_with("program.md"))
        .ok_or_else(|| error("program.md", 1, "every program folder needs a program.md"))?;
    let (front, body) = split_front_matter(program_file, program_text)?;
    let meta: ProgramFront = parse_toml(program_file, front)?;
    let mut stages = Vec::new();
    let mut exercises = Vec::new();
    for (name, text) in files {
        let (front, body) = split_front_matter(name, text)?;
        if name.contains("stages/") {
            let stage: StageFront = parse_toml(name, front)?;
            stages.push(Stage {
                id: stage.id,
                title: stage.title,
                order: stage.order,
                intro_html: markdown_to_html(body),
                exercises: Vec::new(),
            });
        } else if name.contains("exercises/") {
            let front: ExerciseFront = parse_toml(name, front)?;
            exercises.push((name.clone(), exercise_from(name, front, body)?));
        }
    }
    stages.sort_by_key(|s| s.order);
    let mut ids = HashSet::new();
    for stage in &stages {
        if !ids.insert(stage.id.clone()) {
            return Err(error(
                program_file,
                1,
                format!("stage id `{}` is used twice", stage.id),
            ));
        }
    }
    for (file, exercise) in exercises {
        if !ids.insert(exercise.id.clone()) {
            return Err(error(
                &file,
                1,
                format!("id `{}` is used twice", exercise.id),
            ));
        }
        let stage = stages
            .iter_mut()
            .find(|s| s.id == exercise.stage)
            .ok_or_else(|| {
                error(
                    &file,
                    1,
                    format!("stage `{}` does not exist", exercise.stage),
                )
            })?;
        stage.exercises.push(exercise);
    }
    for stage in &mut stages {
        stage.exercises.sort_by_key(|e| e.order);
    }
    if stages.is_empty() {
        return Err(error(program_file, 1, "the program has no stages"));
    }
    Ok(Program {
        id: meta.id,
        title: meta.title,
        summary: meta.summary,
        intro_html: markdown_to_html(body),
        stages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        map.insert(
            "program.md".to_owned(),
            "+++\nid = \"p\"\ntitle = \"P\"\nsummary = \"S\"\n+++\nIntro".to_owned(),
        );
        map.insert(
            "stages/01-a.md".to_owned(),
            "+++\nid = \"a\"\ntitle = \"A\"\norder = 1\n+++\nStage A".to_owned(),
        );
        for (name, text) in extra {
            map.insert((*name).to_owned(), (*text).to_owned());
        }
        map
    }

    const REFLECTION: &str = "+++\nid = \"r\"\nstage = \"a\"\norder = 1\ntitle = \"R\"\nkind = \"reflection\"\nminutes = 5\nwhy = \"W\"\nprompt = \"Q?\"\n+++\nDo **this**.";

    #[test]
    fn a_small_program_parses() {
        let program = parse_program(&files(&[("exercises/01-1-r.md", REFLECTION)])).unwrap();
        assert_eq!(program.stages.len(), 1);
        let (_, exercise) = program.exercise("r").unwrap();
        assert_eq!(exercise.kind, ExerciseKind::Reflection);
        assert_eq!(exercise.body_html, "<p>Do <strong>this</strong>.</p>\n");
        assert_eq!(exercise.default_audience, Audience::Me);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let broken = "+++\nid = \"r\"\nstage = \"a\"\norder = \"one\"\n+++\n";
        let err = parse_program(&files(&[("exercises/x.md", broken)])).unwrap_err();
        assert_eq!(err.file, "exercises/x.md");
        assert_eq!(err.line, 4, "{err}");
        let unknown = REFLECTION.replace("minutes = 5", "minutes = 5\ncolour = \"red\"");
        let err = parse_program(&files(&[("exercises/x.md", &unknown)])).unwrap_err();
        assert!(err.reason.contains("colour"), "{err}");
        let err = parse_program(&files(&[("exercises/x.md", "no front matter")])).unwrap_err();
        assert_eq!(err.line, 1);
    }

    #[test]
    fn kind_specific_fields_are_required() {
        let no_prompt = REFLECTION.replace("prompt = \"Q?\"\n", "");
        assert!(
            parse_program(&files(&[("exercises/x.md", &no_prompt)]))
                .unwrap_err()
                .reason
                .contains("prompt")
        );
        let rating = REFLECTION.replace("kind = \"reflection\"", "kind = \"rating\"");
        assert!(
            parse_program(&files(&[("exercises/x.md", &rating)]))
                .unwrap_err()
                .reason
                .contains("items")
        );
        let private_pair = REFLECTION
            .replace("kind = \"reflection\"", "kind = \"paired\"")
            .replace("prompt", "default_audience = \"me\"\nprompt");
        assert!(
            parse_program(&files(&[("exercises/x.md", &private_pair)]))
                .unwrap_err()
                .reason
                .contains("partner")
        );
    }

    #[test]
    fn unknown_stages_and_duplicate_ids_are_refused() {
        let elsewhere = REFLECTION.replace("stage = \"a\"", "stage = \"zz\"");
        assert!(
            parse_program(&files(&[("exercises/x.md", &elsewhere)]))
                .unwrap_err()
                .reason
                .contains("zz")
        );
        let err = parse_program(&files(&[
            ("exercises/x.md", REFLECTION),
            ("exercises/y.md", REFLECTION),
        ]))
        .unwrap_err();
        assert!(err.reason.contains("twice"));
    }

    #[test]
    fn roles_and_situations_shape_what_each_partner_reads() {
        let worded = REFLECTION.replace(
            "prompt = \"Q?\"\n",
            "prompt = \"Q?\"\nsituations = [\"one_hurt\", \"both_hurt\"]\noptional = true\n[roles.hurt]\nprompt = \"What do you need?\"\nbody = \"Just for *you*.\"\n[roles.involved]\nwhy = \"Owning it\"\n",
        );
        let program = parse_program(&files(&[("exercises/x.md", &worded)])).unwrap();
        let (_, exercise) = program.exercise("r").unwrap();
        assert!(exercise.optional);
        assert!(exercise.shown_in(Some(Situation::OneHurt)));
        assert!(!exercise.shown_in(Some(Situation::Eroded)));
        assert!(exercise.shown_in(None));
        let hurt = exercise.worded_for(Some(PartnerRole::Hurt));
        assert_eq!(hurt.prompt.as_deref(), Some("What do you need?"));
        assert_eq!(hurt.body_html, "<p>Just for <em>you</em>.</p>\n");
        assert_eq!(hurt.why, "W");
        let involved = exercise.worded_for(Some(PartnerRole::Involved));
        assert_eq!(involved.prompt.as_deref(), Some("Q?"));
        assert_eq!(involved.why, "Owning it");
        assert_eq!(exercise.worded_for(None), *exercise);
        // a role table names only known roles and fits the exercise kind
        let stranger = worded.replace("[roles.involved]", "[roles.bystander]");
        assert!(parse_program(&files(&[("exercises/x.md", &stranger)])).is_err());
        let turns = worded.replace("[roles.hurt]\nprompt", "[roles.hurt]\nprompt_speaker");
        let err = parse_program(&files(&[("exercises/x.md", &turns)])).unwrap_err();
        assert!(err.reason.contains("roles.hurt"), "{err}");
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        assert_eq!(
            markdown_to_html("<script>x</script>"),
            "&lt;script&gt;x&lt;/script&gt;"
        );
    }
}

/// How far each partner got in the stage before this one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreviousStage {
    /// Exercises of that stage the couple is expected to do (shown in their
    /// situation, not optional).
    pub expected: usize,
    /// How many of those each current partner has done.
    pub done_by_each: Vec<usize>,
}

impl PreviousStage {
    /// Both partners did at least half of it (a stage with nothing expected
    /// is done).
    fn done_enough(&self) -> bool {
        self.done_by_each.len() == 2
            && self
                .done_by_each
                .iter()
                .all(|&done| 2 * done >= self.expected)
    }
}

/// Whether a stage is open: the first always; any the therapist unlocked;
/// for a self-paced couple, the next one once both partners finished enough
/// of the stage before (at least half of it each), so a couple walks the
/// stages in order instead of being handed all nine at once.
pub fn stage_is_open(
    stage_order: u32,
    self_paced: bool,
    unlocked_by_therapist: bool,
    previous: Option<&PreviousStage>,
) -> bool {
    stage_order <= 1
        || unlocked_by_therapist
        || (self_paced && previous.is_some_and(PreviousStage::done_enough))
}

#[cfg(test)]
mod pacing_tests {
    use super::{PreviousStage, stage_is_open};

    fn previous(expected: usize, done: &[usize]) -> PreviousStage {
        PreviousStage {
            expected,
            done_by_each: done.to_vec(),
        }
    }

    #[test]
    fn guided_couples_start_with_the_first_stage_and_follow_the_therapist() {
        assert!(stage_is_open(1, false, false, None));
        assert!(!stage_is_open(2, false, false, Some(&previous(4, &[4, 4]))));
        assert!(stage_is_open(2, false, true, None));
    }

    #[test]
    fn self_paced_couples_open_the_next_stage_when_both_did_half_of_this_one() {
        assert!(!stage_is_open(2, true, false, None));
        assert!(!stage_is_open(2, true, false, Some(&previous(4, &[4, 1]))));
        assert!(stage_is_open(2, true, false, Some(&previous(4, &[2, 2]))));
        assert!(stage_is_open(3, true, false, Some(&previous(3, &[2, 3]))));
        assert!(!stage_is_open(3, true, false, Some(&previous(3, &[1, 3]))));
        // one partner alone cannot walk ahead
        assert!(!stage_is_open(2, true, false, Some(&previous(2, &[2]))));
        // a stage with nothing expected holds nobody back
        assert!(stage_is_open(2, true, false, Some(&previous(0, &[0, 0]))));
        // the therapist may still open any stage
        assert!(stage_is_open(9, true, true, Some(&previous(5, &[0, 0]))));
    }
}
