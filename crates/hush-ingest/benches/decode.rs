//! Decode throughput on a node_exporter-like batch (~500 series): remote_write (snappy, protobuf
//! and validation) with 1 and 2 samples per series, and the same data as exposition text.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hush_ingest::{Limits, exposition, remote_write};
use std::hint::black_box;

#[path = "support/node_exporter.rs"]
mod node_exporter;

fn remote_write_decode(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("remote_write_decode");
    for samples in [1, 2] {
        let batch = node_exporter::batch(samples, 1_700_000_000_000);
        let n: usize = batch.iter().map(|s| s.samples.len()).sum();
        let body = remote_write::encode(&batch);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(
            BenchmarkId::new("samples_per_series", samples),
            &body,
            |b, body| {
                b.iter(|| remote_write::decode(black_box(body), &limits).expect("valid batch"))
            },
        );
    }
    g.finish();
}

fn exposition_parse(c: &mut Criterion) {
    let limits = Limits::default();
    let text = node_exporter::exposition_text();
    let n = exposition::parse(&text, 0, &limits)
        .expect("valid text")
        .len();
    let mut g = c.benchmark_group("exposition_parse");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("node_exporter_scrape", |b| {
        b.iter(|| {
            exposition::parse(black_box(&text), 1_700_000_000_000, &limits).expect("valid text")
        })
    });
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("node_exporter_scrape_bytes", |b| {
        b.iter(|| {
            exposition::parse(black_box(&text), 1_700_000_000_000, &limits).expect("valid text")
        })
    });
    g.finish();
}

criterion_group!(benches, remote_write_decode, exposition_parse);
criterion_main!(benches);
