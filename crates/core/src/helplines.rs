//! Crisis resources by region (`content/helplines.toml`): each practice
//! chooses the regions it serves, and help is shown for those; the
//! international list (emergency numbers and how to find local help) is the
//! fallback.

use serde::Deserialize;

use crate::program::{ContentError, toml_in_file};
use crate::safety::{Contact, Resource};

/// The region shown when a practice chose none, or one no longer listed.
pub const FALLBACK_REGION: &str = "international";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// A short id, e.g. "uk"; a practice stores these.
    pub id: String,
    /// What the admin chooses from, e.g. "United Kingdom".
    pub name: String,
    pub resources: Vec<Resource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Helplines {
    pub regions: Vec<Region>,
}

fn contact_is_sound(contact: &Contact) -> bool {
    let number = contact.number.trim_start_matches('+');
    matches!(contact.how.as_str(), "call" | "text")
        && number.chars().any(|c| c.is_ascii_digit())
        && number
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
}

impl Helplines {
    pub fn parse(file: &str, text: &str) -> Result<Helplines, ContentError> {
        let problem = |line: usize, reason: String| ContentError {
            file: file.to_owned(),
            line,
            reason,
        };
        let helplines: Helplines = toml_in_file(file, text, 0)?;
        for (index, region) in helplines.regions.iter().enumerate() {
            let id_ok = !region.id.is_empty()
                && region
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-');
            if !id_ok || helplines.regions[..index].iter().any(|r| r.id == region.id) {
                return Err(problem(
                    1,
                    format!(
                        "region `{}`: ids must be unique, lowercase letters and dashes",
                        region.id
                    ),
                ));
            }
            let contacts = region.resources.iter().flat_map(|r| &r.contacts);
            if let Some(bad) = contacts.into_iter().find(|c| !contact_is_sound(c)) {
                return Err(problem(
                    1,
                    format!(
                        "region `{}`, contact `{}`: `how` must be \"call\" or \"text\", and `number` digits (spaces, dashes and a leading + allowed)",
                        region.id, bad.label
                    ),
                ));
            }
        }
        if helplines.region(FALLBACK_REGION).is_none() {
            return Err(problem(
                1,
                format!("the `{FALLBACK_REGION}` region is missing"),
            ));
        }
        Ok(helplines)
    }

    pub fn region(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.id == id)
    }

    /// The known regions among `choice` (ids separated by commas), in order.
    pub fn chosen<'a>(&'a self, choice: &str) -> Vec<&'a Region> {
        let mut chosen: Vec<&Region> = Vec::new();
        for id in choice.split(',').map(str::trim) {
            if let Some(region) = self.region(id)
                && !chosen.iter().any(|r| r.id == region.id)
            {
                chosen.push(region);
            }
        }
        chosen
    }

    /// The resources for a practice's `choice` of regions; the fallback
    /// region's when none of them is known.
    pub fn resources_for(&self, choice: &str) -> Vec<Resource> {
        let mut chosen = self.chosen(choice);
        if chosen.is_empty() {
            chosen.extend(self.region(FALLBACK_REGION));
        }
        chosen
            .into_iter()
            .flat_map(|r| r.resources.iter().cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[[regions]]
id = "international"
name = "Elsewhere"
[[regions.resources]]
name = "Emergency services"
detail = "Call your local emergency number."
[[regions.resources.contacts]]
label = "Call 112"
how = "call"
number = "112"

[[regions]]
id = "uk"
name = "United Kingdom"
[[regions.resources]]
name = "A crisis line"
detail = "Any time."
"#;

    #[test]
    fn a_choice_of_regions_gives_their_resources_and_unknown_ones_fall_back() {
        let helplines = Helplines::parse("helplines.toml", FILE).unwrap();
        let names = |choice: &str| -> Vec<String> {
            helplines
                .resources_for(choice)
                .into_iter()
                .map(|r| r.name)
                .collect()
        };
        assert_eq!(names("uk"), ["A crisis line"]);
        assert_eq!(
            names("uk, international,uk"),
            ["A crisis line", "Emergency services"]
        );
        assert_eq!(names("mars"), ["Emergency services"]);
        assert_eq!(names(""), ["Emergency services"]);
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let no_fallback = FILE.replace("\"international\"", "\"elsewhere\"");
        assert!(Helplines::parse("helplines.toml", &no_fallback).is_err());
        let twice = FILE.replace("\"uk\"", "\"international\"");
        assert!(Helplines::parse("helplines.toml", &twice).is_err());
        let bad_number = FILE.replace("number = \"112\"", "number = \"javascript:1\"");
        assert!(Helplines::parse("helplines.toml", &bad_number).is_err());
        let bad_how = FILE.replace("how = \"call\"", "how = \"fax\"");
        assert!(Helplines::parse("helplines.toml", &bad_how).is_err());
    }
}
