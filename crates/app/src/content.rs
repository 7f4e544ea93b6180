//! Program content: compiled into the binary from `content/`, optionally
//! overridden or extended by a practice's own folder (same layout; a file
//! with the same path replaces the built-in one, new programs are added).
//! Everything is checked at start: a mistake stops Trellis with the file,
//! the line and the reason.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use include_dir::{Dir, DirEntry, include_dir};
use trellis_core::helplines::{FALLBACK_REGION, Helplines};
use trellis_core::measures::Instrument;
use trellis_core::program::{
    ContentError, Program, markdown_to_html, parse_program, split_front_matter,
};
use trellis_core::safety::{Resource, SafetyCheck};
use trellis_core::selfcheck::SelfCheck;

static BUILT_IN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../content");

/// The program everyone follows unless their practice says otherwise.
pub const DEFAULT_PROGRAM: &str = "rebuilding-trust";

#[derive(Debug)]
pub struct Content {
    /// The default program, and any others a practice added.
    default: Program,
    others: Vec<Program>,
    pub safety: SafetyCheck,
    /// Crisis resources by region, from `helplines.toml`.
    pub helplines: Helplines,
    pub self_check: SelfCheck,
    pub onboarding_title: String,
    pub onboarding_html: String,
    /// Measures and check-ins, from `instruments/*.toml`.
    pub instruments: Vec<Instrument>,
}

impl Content {
    pub fn program(&self, id: &str) -> Option<&Program> {
        std::iter::once(&self.default)
            .chain(&self.others)
            .find(|p| p.id == id)
    }

    pub fn default_program(&self) -> &Program {
        &self.default
    }

    /// The international helplines (emergency numbers and how to find
    /// local help), for where no practice is known.
    pub fn helplines(&self) -> Vec<Resource> {
        self.helplines_for(FALLBACK_REGION)
    }

    /// The helplines for a practice's regions (ids separated by commas),
    /// from `helplines.toml`; a practice's own `[[help.resources]]` in its
    /// `safety.toml` still win. Wherever help is shown, this is what is shown.
    pub fn helplines_for(&self, regions: &str) -> Vec<Resource> {
        if self.safety.help.resources.is_empty() {
            self.helplines.resources_for(regions)
        } else {
            self.safety.help.resources.clone()
        }
    }

    /// The international helplines' numbers as one plain sentence.
    pub fn helplines_in_words(&self) -> String {
        self.helplines_in_words_for(FALLBACK_REGION)
    }

    /// The helplines' numbers as one plain sentence, for answers that cannot
    /// hold links (an API error message).
    pub fn helplines_in_words_for(&self, regions: &str) -> String {
        let resources = self.helplines_for(regions);
        let labels: Vec<&str> = resources
            .iter()
            .flat_map(|r| &r.contacts)
            .map(|c| c.label.as_str())
            .collect();
        if labels.is_empty() {
            return String::new();
        }
        format!("You can reach help now: {}.", labels.join("; "))
    }

    /// The regions a practice can choose for its helplines: `(id, name)`.
    pub fn helpline_regions(&self) -> Vec<(String, String)> {
        self.helplines
            .regions
            .iter()
            .map(|r| (r.id.clone(), r.name.clone()))
            .collect()
    }

    /// A practice's choice of regions, checked: known ids only, in order,
    /// joined by commas. `None` when nothing known was chosen.
    pub fn helpline_choice(&self, choice: &str) -> Option<String> {
        let chosen = self.helplines.chosen(choice);
        (!chosen.is_empty()).then(|| {
            chosen
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(",")
        })
    }

    pub fn instrument(&self, id: &str) -> Option<&Instrument> {
        self.instruments.iter().find(|i| i.id == id)
    }

    /// Only the built-in content (tests, and practices without a folder).
    pub fn built_in() -> anyhow::Result<Content> {
        Content::load(None)
    }

    pub fn load(practice_dir: Option<&Path>) -> anyhow::Result<Content> {
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        collect_built_in(&BUILT_IN, &mut files);
        if let Some(dir) = practice_dir {
            collect_dir(dir, dir, &mut files)
                .with_context(|| format!("could not read the content folder {}", dir.display()))?;
        }
        Ok(parse(&files)?)
    }
}

fn collect_built_in(dir: &Dir<'static>, files: &mut BTreeMap<String, String>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(sub) => collect_built_in(sub, files),
            DirEntry::File(file) => {
                if let Some(text) = file.contents_utf8() {
                    files.insert(
                        file.path().to_string_lossy().replace('\\', "/"),
                        text.to_owned(),
                    );
                }
            }
        }
    }
}

fn collect_dir(
    root: &Path,
    dir: &Path,
    files: &mut BTreeMap<String, String>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_dir(root, &path, files)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("md" | "toml")
        ) {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            files.insert(relative, std::fs::read_to_string(&path)?);
        }
    }
    Ok(())
}

/// A file every content folder must have.
fn required<'a>(files: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str, ContentError> {
    files
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| ContentError {
            file: name.to_owned(),
            line: 1,
            reason: format!("{name} is missing"),
        })
}

fn parse(files: &BTreeMap<String, String>) -> Result<Content, ContentError> {
    let mut by_program: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (path, text) in files {
        if let Some(rest) = path.strip_prefix("programs/")
            && let Some((program, inner)) = rest.split_once('/')
        {
            by_program
                .entry(program.to_owned())
                .or_default()
                .insert(inner.to_owned(), text.clone());
        }
    }
    let mut programs = Vec::new();
    for (folder, program_files) in &by_program {
        let program = parse_program(program_files).map_err(|mut err| {
            err.file = format!("programs/{folder}/{}", err.file);
            err
        })?;
        programs.push(program);
    }
    let position = programs
        .iter()
        .position(|p| p.id == DEFAULT_PROGRAM)
        .ok_or_else(|| ContentError {
            file: "programs/".to_owned(),
            line: 1,
            reason: format!("the default program `{DEFAULT_PROGRAM}` is missing"),
        })?;
    let default = programs.remove(position);
    let safety_text = files.get("safety.toml").ok_or_else(|| ContentError {
        file: "safety.toml".to_owned(),
        line: 1,
        reason: "the safety check is missing".to_owned(),
    })?;
    let safety = SafetyCheck::parse("safety.toml", safety_text)?;
    let helplines = Helplines::parse("helplines.toml", required(files, "helplines.toml")?)?;
    let self_check_text = files.get("self-check.toml").ok_or_else(|| ContentError {
        file: "self-check.toml".to_owned(),
        line: 1,
        reason: "the \"is it time?\" self-check is missing".to_owned(),
    })?;
    let self_check = SelfCheck::parse("self-check.toml", self_check_text)?;
    let onboarding = files.get("onboarding.md").ok_or_else(|| ContentError {
        file: "onboarding.md".to_owned(),
        line: 1,
        reason: "the onboarding text is missing".to_owned(),
    })?;
    let (front, body) = split_front_matter("onboarding.md", onboarding)?;
    #[derive(serde::Deserialize)]
    struct Front {
        title: String,
    }
    let front: Front = toml::from_str(front).map_err(|err| ContentError {
        file: "onboarding.md".to_owned(),
        line: 2,
        reason: err.message().to_owned(),
    })?;
    let mut instruments = Vec::new();
    for (path, text) in files {
        if path.starts_with("instruments/") && path.ends_with(".toml") {
            instruments.push(Instrument::parse(path, text)?);
        }
    }
    for required in ["csi16", "csi4", "trust-pulse"] {
        if !instruments.iter().any(|i| i.id == required) {
            return Err(ContentError {
                file: "instruments/".to_owned(),
                line: 1,
                reason: format!("the instrument `{required}` is missing"),
            });
        }
    }
    Ok(Content {
        default,
        others: programs,
        safety,
        helplines,
        self_check,
        instruments,
        onboarding_title: front.title,
        onboarding_html: markdown_to_html(body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_program_is_complete() {
        let content = Content::built_in().unwrap();
        let program = content.default_program();
        assert_eq!(program.id, DEFAULT_PROGRAM);
        assert_eq!(program.stages.len(), 9);
        assert_eq!(program.stages[0].id, "making-it-safe");
        // the hurt and the involved partner read different words where it matters
        let (_, hearing) = program.exercise("hearing-the-hurt").unwrap();
        use trellis_core::situation::PartnerRole;
        assert_ne!(
            hearing.worded_for(Some(PartnerRole::Hurt)).prompt_speaker,
            hearing
                .worded_for(Some(PartnerRole::Involved))
                .prompt_speaker
        );
        let worn = content.program("trust-worn-down").unwrap();
        assert!(worn.stages.len() >= 4 && worn.exercise_count() >= 12);
        assert!(
            program.exercise_count() >= 24,
            "{}",
            program.exercise_count()
        );
        for stage in &program.stages {
            assert!(
                stage.exercises.len() >= 2,
                "{} has too few exercises",
                stage.id
            );
        }
        use trellis_core::program::ExerciseKind::*;
        for kind in [Reflection, Rating, Paired, ReflectBack, Checklist, Goals] {
            let count = program
                .stages
                .iter()
                .flat_map(|s| &s.exercises)
                .filter(|e| e.kind == kind)
                .count();
            assert!(count >= 2, "{kind:?}: {count}");
        }
        assert!(content.safety.questions.len() >= 5);
        assert!(!content.onboarding_html.is_empty());
    }

    #[test]
    fn a_practice_folder_overrides_and_reports_mistakes_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let stages = dir.path().join("programs/rebuilding-trust/stages");
        std::fs::create_dir_all(&stages).unwrap();
        std::fs::write(
            stages.join("01-making-it-safe.md"),
            "+++\nid = \"making-it-safe\"\ntitle = \"What trust means here\"\norder = 1\n+++\nOur words.",
        )
        .unwrap();
        let content = Content::load(Some(dir.path())).unwrap();
        assert_eq!(
            content.default_program().stages[0].title,
            "What trust means here"
        );

        std::fs::write(
            stages.join("02-broken.md"),
            "+++\nid = \"x\"\ntitle = 5\norder = 2\n+++\n",
        )
        .unwrap();
        let err = Content::load(Some(dir.path())).unwrap_err().to_string();
        assert!(
            err.contains("programs/rebuilding-trust/stages/02-broken.md:3"),
            "{err}"
        );
    }

    /// Helpline numbers live in `content/helplines.toml` alone: none may be
    /// written into Rust source (outside tests) or a template.
    #[test]
    fn no_helpline_number_is_written_into_source() {
        const NUMBERS: [&str; 16] = [
            "988", "911", "999", "112", "116 123", "85258", "741741", "2000 247", "799-7233",
            "116123", "341 900", "50808", "737 732", "13 11 14", "733 843", "1737",
        ];
        fn is_digit_at(text: &str, index: Option<usize>) -> bool {
            index
                .and_then(|i| text.as_bytes().get(i))
                .is_some_and(u8::is_ascii_digit)
        }
        fn has_number(line: &str, number: &str) -> bool {
            line.match_indices(number).any(|(at, _)| {
                !is_digit_at(line, at.checked_sub(1)) && !is_digit_at(line, Some(at + number.len()))
            })
        }
        fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, files);
                } else if path.extension().is_some_and(|e| e == "rs" || e == "html") {
                    files.push(path);
                }
            }
        }
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for name in ["core", "crypto", "store", "web", "trellis", "coach"] {
            walk(&crates.join(name).join("src"), &mut files);
        }
        walk(&crates.join("web").join("templates"), &mut files);
        assert!(files.len() > 50, "the source was not found: {crates:?}");
        let mut found = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            // Tests may name numbers; they come after `#[cfg(test)]`.
            let source = text.split("#[cfg(test)]").next().unwrap_or_default();
            let is_template = file.extension().is_some_and(|e| e == "html");
            for (n, line) in source.lines().enumerate() {
                // In Rust, only text: a line with a string literal or its continuation.
                let text_line =
                    is_template || line.contains('"') || line.trim_end().ends_with('\\');
                for number in NUMBERS {
                    if text_line && has_number(line, number) {
                        found.push(format!("{}:{}: {number}", file.display(), n + 1));
                    }
                }
            }
        }
        assert!(found.is_empty(), "helpline numbers in source: {found:#?}");
    }
}
