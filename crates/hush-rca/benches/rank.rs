//! RCA for one incident over 50 services and 500 series (10 per service, 120 points each):
//! departures, candidates, ranking and evidence chains. Target: well under one second.

use criterion::{Criterion, criterion_group, criterion_main};
use hush_rca::analyze::Target;
use hush_rca::{
    Incident, MetricKind, Provenance, Ranker, RcaConfig, Series, SeriesKey, ServiceGraph,
    TimeRange, analyze,
};

const SERVICES: usize = 50;
const PER_SERVICE: usize = 10;
const POINTS: i64 = 120;

fn estate() -> (ServiceGraph, Vec<Series>) {
    let mut g = ServiceGraph::new();
    // A layered tree with a few cross edges: service i calls 2i+1 and 2i+2, and i+7.
    for i in 0..SERVICES {
        for j in [2 * i + 1, 2 * i + 2, i + 7] {
            if j < SERVICES {
                g.add_call(&format!("svc-{i}"), &format!("svc-{j}"), Provenance::Traces);
            }
        }
    }
    let times: Vec<i64> = (0..POINTS).map(|t| t * 60).collect();
    let mut series = Vec::new();
    for i in 0..SERVICES {
        // The fault sits in svc-20 and reaches its ancestors (9, 4, 1, 0 and 13, 6, 2).
        let hit = [20, 9, 4, 1, 0, 13, 6, 2].contains(&i);
        for k in 0..PER_SERVICE {
            let kind = if k < 5 {
                MetricKind::Latency
            } else {
                MetricKind::Saturation
            };
            let values = times
                .iter()
                .map(|t| {
                    let noise = ((t / 60) as usize * 31 + i * 17 + k * 7) % 100;
                    let base = 1.0 + noise as f64 / 1000.0;
                    if hit && *t >= 100 * 60 {
                        base * 3.0
                    } else {
                        base
                    }
                })
                .collect();
            let key = SeriesKey::new(format!("svc-{i}"), kind, format!("m{k}"));
            series.push(Series::new(key, times.clone(), values));
        }
    }
    (g, series)
}

fn bench(c: &mut Criterion) {
    let (g, series) = estate();
    let incident = Incident {
        target: Some(Target {
            service: "svc-0".to_owned(),
            kind: MetricKind::Latency,
            name: Some("m0".to_owned()),
        }),
        onset: 100 * 60,
        baseline: TimeRange::new(0, 99 * 60),
        window: TimeRange::new(100 * 60, POINTS * 60),
    };
    for ranker in [Ranker::Traversal, Ranker::PageRank, Ranker::Ensemble] {
        let cfg = RcaConfig {
            ranker,
            related_weight: 0.5,
            other_kind_weight: 0.5,
            ..RcaConfig::default()
        };
        let report = analyze(&g, &series, &[], &incident, &cfg).expect("analyze");
        assert_eq!(
            report.hypotheses.first().map(|h| h.service.as_str()),
            Some("svc-20")
        );
        c.bench_function(&format!("rca_50_services_500_series_{ranker:?}"), |b| {
            b.iter(|| analyze(&g, &series, &[], &incident, &cfg))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
