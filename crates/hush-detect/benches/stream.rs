//! Streaming throughput of the univariate detector (points per second on one core).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hush_detect::{Config, Detector};

fn series(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
            50.0 + 20.0 * (i as f64 * std::f64::consts::TAU / 288.0).sin() + (x % 100) as f64 / 25.0
        })
        .collect()
}

fn stream(c: &mut Criterion) {
    let n = 100_000;
    let v = series(n);
    let mut g = c.benchmark_group("detector");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("step_seasonal_100k", |b| {
        b.iter(|| {
            let mut d = Detector::new(Config::default()).expect("valid");
            let mut alerts = 0usize;
            for x in &v {
                alerts += usize::from(d.step(Some(*x)).anomaly);
            }
            alerts
        })
    });
    let flat: Vec<f64> = v
        .iter()
        .enumerate()
        .map(|(i, x)| x - 20.0 * (i as f64 * std::f64::consts::TAU / 288.0).sin())
        .collect();
    g.bench_function("step_level_100k", |b| {
        b.iter(|| {
            let mut d = Detector::new(Config {
                season_buffer: 0,
                ..Config::default()
            })
            .expect("valid");
            flat.iter()
                .map(|x| usize::from(d.step(Some(*x)).anomaly))
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, stream);
criterion_main!(benches);
