//! Shared by the examples: read a labelled JSONL file or exit with a clear
//! message.

use trellis_coach::eval::{LabelledMessage, parse_jsonl};

/// The messages of `path`; exits with status 2 and a message on stderr when
/// the file is missing or malformed.
pub fn read_or_exit(path: &str) -> Vec<LabelledMessage> {
    let input = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    match parse_jsonl(&input) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    }
}
