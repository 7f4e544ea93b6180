//! Messages per second for `analyze` over a JSONL file (default: the
//! in-repo test split, `crates/coach/data/test.jsonl`).
//!
//! cargo run --release -p trellis-coach --example throughput [FILE.jsonl] [SECONDS]
//!
//! Prints one line: `rust_msgs_per_sec=<n> messages=<m> seconds=<s>` (plus a
//! line for the cheaper `labels` call), single thread.

use std::hint::black_box;
use std::time::{Duration, Instant};

mod common;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/data/test.jsonl").to_string());
    let secs: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let labelled = common::read_or_exit(&path);
    let report = trellis_coach::eval::evaluate(&labelled);
    println!(
        "rust_harsh_precision={:.3} rust_harsh_recall={:.3} rust_harsh_f1={:.3} rust_macro_f1={:.3}",
        report.harsh.precision, report.harsh.recall, report.harsh.f1, report.macro_f1
    );
    let msgs: Vec<String> = labelled.into_iter().map(|m| m.text).collect();
    if msgs.is_empty() {
        eprintln!("no messages in {path}");
        std::process::exit(2);
    }
    // warm up (builds the lexicon automaton once)
    for m in &msgs {
        black_box(trellis_coach::analyze(m));
    }
    let budget = Duration::from_secs_f64(secs);
    for (name, f) in [
        ("rust_msgs_per_sec", analyze_all as fn(&[String])),
        ("rust_labels_msgs_per_sec", labels_all as fn(&[String])),
    ] {
        let start = Instant::now();
        let mut n = 0usize;
        while start.elapsed() < budget {
            f(&msgs);
            n += msgs.len();
        }
        let el = start.elapsed().as_secs_f64();
        println!("{name}={:.0} messages={n} seconds={el:.3}", n as f64 / el);
    }
}

fn analyze_all(msgs: &[String]) {
    for m in msgs {
        black_box(trellis_coach::analyze(black_box(m)));
    }
}

fn labels_all(msgs: &[String]) {
    for m in msgs {
        black_box(trellis_coach::labels(black_box(m)));
    }
}
