//! Throughput of `analyze` over the dev-set messages.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn messages() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/coach-dev.jsonl");
    match std::fs::read_to_string(&path) {
        Ok(s) => trellis_coach::eval::parse_jsonl(&s)
            .map(|v| v.into_iter().map(|m| m.text).collect())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let msgs = messages();
    if msgs.is_empty() {
        eprintln!("skipped: coach-dev.jsonl not found");
        return;
    }
    let mut g = c.benchmark_group("coach");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("analyze/dev-set", |b| {
        b.iter(|| {
            for m in &msgs {
                black_box(trellis_coach::analyze(black_box(m)));
            }
        })
    });
    g.bench_function("labels/dev-set", |b| {
        b.iter(|| {
            for m in &msgs {
                black_box(trellis_coach::labels(black_box(m)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
