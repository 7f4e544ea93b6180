//! Throughput of `analyze` over the in-repo development split.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn messages() -> Vec<String> {
    trellis_coach::eval::parse_jsonl(include_str!("../data/dev.jsonl"))
        .map(|v| v.into_iter().map(|m| m.text).collect())
        .unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let msgs = messages();
    assert!(!msgs.is_empty(), "data/dev.jsonl holds messages");
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
