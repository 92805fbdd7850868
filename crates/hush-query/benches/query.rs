//! `sum by (job) (rate(x[5m]))` over 1,000 counters × 1 hour at 15 s resolution, as an instant
//! query and as a 60-step range query.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hush_model::{Labels, Sample, TimeSeries};
use hush_query::{Engine, EngineOptions, MemoryStorage};

const HOUR_MS: i64 = 3_600_000;

fn storage() -> MemoryStorage {
    let mut st = MemoryStorage::new();
    for i in 0..1000 {
        let labels = Labels::from_pairs([
            ("__name__", "x".to_string()),
            ("job", format!("job-{}", i % 10)),
            ("instance", format!("host-{i}:9100")),
        ])
        .expect("valid labels");
        let samples = (0..=HOUR_MS / 15_000)
            .map(|k| Sample::new(k * 15_000, (k * (1 + i % 7)) as f64))
            .collect();
        st.add(TimeSeries::new(labels, samples));
    }
    st
}

fn bench(c: &mut Criterion) {
    let engine = Engine::new(storage(), EngineOptions::default());
    let q = "sum by (job) (rate(x[5m]))";
    c.bench_function("instant sum by rate 1000 series", |b| {
        b.iter(|| black_box(engine.instant(q, HOUR_MS).expect("query")))
    });
    c.bench_function("range 60 steps sum by rate 1000 series", |b| {
        b.iter(|| black_box(engine.range(q, 60_000, HOUR_MS, 60_000).expect("query")))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
