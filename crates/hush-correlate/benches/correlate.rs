//! Alerts per second through the correlator with many incidents open, and the per-alert
//! latency distribution at the target rate (100 k alerts per simulated minute).
//!
//! The workload is synthetic and seeded: 20 000 services in a random dependency DAG (one
//! dependency each, so most alerts are unrelated and incidents pile up open), 20 alert
//! names, 5 instances per service; four alerts in five fire, one in five resolves an earlier
//! one.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use hush_correlate::{
    Alert, AlertStatus, CoOccurrence, Config, Correlator, ServiceSpec, Topology, TopologyFile,
};

const SERVICES: usize = 20_000;
const T0: i64 = 1_772_442_000_000;

/// A small deterministic generator (SplitMix64), so the bench needs no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn topology(rng: &mut Rng) -> Topology {
    let services = (0..SERVICES)
        .map(|i| ServiceSpec {
            name: format!("svc-{i}"),
            kind: if i < 5 {
                "gateway".into()
            } else {
                "api".into()
            },
            team: format!("team-{}", i % 40),
            criticality: Some(["low", "medium", "high", "critical"][i % 4].into()),
            // Callers come first, so dependencies point to higher indices: a DAG.
            depends_on: (0..1)
                .filter(|_| i + 1 < SERVICES)
                .map(|_| format!("svc-{}", i + 1 + rng.below(SERVICES - i - 1)))
                .collect(),
        })
        .collect();
    Topology::new(&TopologyFile { services }).expect("generated topology is valid")
}

/// `n` alerts, 0.6 ms of simulated time apart (100 k per minute).
fn workload(rng: &mut Rng, n: usize, from: usize) -> Vec<Alert> {
    let mut out: Vec<Alert> = Vec::with_capacity(n);
    for k in from..from + n {
        let at = T0 + (k as i64) * 3 / 5;
        if k % 5 == 4 && !out.is_empty() {
            let mut a = out[rng.below(out.len())].clone();
            a.status = AlertStatus::Resolved;
            a.ends_at = Some(at);
            a.received_at = at;
            out.push(a);
            continue;
        }
        let s = rng.below(SERVICES);
        let mut l = BTreeMap::new();
        l.insert("alertname".into(), format!("Alert{}", rng.below(20)));
        l.insert("service".into(), format!("svc-{s}"));
        l.insert("instance".into(), format!("svc-{s}-{}", rng.below(5)));
        l.insert(
            "severity".into(),
            ["info", "warning", "critical"][rng.below(3)].into(),
        );
        l.insert("namespace".into(), "prod".into());
        let mut a = Alert::firing(l, at);
        a.annotations
            .insert("summary".into(), format!("svc-{s} misbehaves in way {k}"));
        out.push(a);
    }
    out
}

/// Feeds `alerts` and returns the correlator and each ingest's latency in nanoseconds.
fn feed(c: &mut Correlator, alerts: &[Alert]) -> Vec<u128> {
    alerts
        .iter()
        .map(|a| {
            let t = Instant::now();
            black_box(c.ingest(a.clone(), a.received_at).ok());
            t.elapsed().as_nanos()
        })
        .collect()
}

/// One simulated minute at the target rate after a minute of warm-up; prints the figures.
fn latency_report() {
    let mut rng = Rng(7);
    let topo = topology(&mut rng);
    let mut c = Correlator::new(Config::default(), topo, CoOccurrence::default()).unwrap();
    let warm = workload(&mut rng, 100_000, 0);
    feed(&mut c, &warm);
    let minute = workload(&mut rng, 100_000, 100_000);
    let start = Instant::now();
    let mut lat = feed(&mut c, &minute);
    let wall = start.elapsed();
    lat.sort_unstable();
    let q = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)] as f64 / 1e3;
    println!(
        "100k alerts (one simulated minute) in {:.2} s wall: {:.0} alerts/s; per alert p50 {:.1} us, p99 {:.1} us, max {:.1} us; {} incidents open, {} remembered",
        wall.as_secs_f64(),
        minute.len() as f64 / wall.as_secs_f64(),
        q(0.5),
        q(0.99),
        q(1.0),
        c.open_incidents(),
        c.incidents().count()
    );
}

fn ingest(cr: &mut Criterion) {
    let mut rng = Rng(11);
    let topo = topology(&mut rng);
    let mut warm = Correlator::new(Config::default(), topo, CoOccurrence::default()).unwrap();
    feed(&mut warm, &workload(&mut rng, 50_000, 0));
    let batch = workload(&mut rng, 1_000, 50_000);
    let mut g = cr.benchmark_group("correlate");
    g.throughput(Throughput::Elements(batch.len() as u64));
    g.bench_function(
        format!("ingest_1k_with_{}_open", warm.open_incidents()),
        |b| {
            b.iter_batched(
                || warm.clone(),
                |mut c| feed(&mut c, &batch),
                BatchSize::LargeInput,
            )
        },
    );
    g.finish();
}

criterion_group!(benches, ingest);

fn main() {
    // The latency report is a measurement, not a check: skip it when the bench only runs as
    // a test (`cargo test --benches`, CI).
    if !std::env::args().any(|a| a == "--test") {
        latency_report();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
