//! The coach's figures on a labelled JSONL file, without building the server:
//!
//! cargo run --release -p trellis-coach --example eval [FILE.jsonl] [--mismatches]
//!
//! Same report as `trellis coach eval`.

mod common;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/data/test.jsonl").to_string());
    let messages = common::read_or_exit(&path);
    let report = trellis_coach::eval::evaluate(&messages);
    println!("{report}");
    if args.iter().any(|a| a == "--mismatches") {
        println!("{}", report.mismatch_lines());
    }
}
