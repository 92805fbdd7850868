//! Live root-cause analysis reads what was ingested: a database that slows down (its callers'
//! latency following) is named from stored series, the topology file and the database.

use hush_engine::Engine;
use hush_engine::config::Config;
use hush_model::{Labels, Sample, TimeSeries};
use std::collections::BTreeSet;

const TOPOLOGY: &str = "services:
  - {name: web, type: web, dependsOn: [api]}
  - {name: api, type: api, dependsOn: [db, cache]}
  - {name: db, type: database}
  - {name: cache, type: cache}
";

fn series(name: &str, service: &str, extra: &[(&str, &str)], samples: Vec<Sample>) -> TimeSeries {
    let mut pairs = vec![
        ("__name__", name),
        ("service", service),
        ("instance", "i-1"),
    ];
    pairs.extend_from_slice(extra);
    TimeSeries::new(Labels::from_pairs(pairs).unwrap(), samples)
}

/// Cumulative counters and latency sums of a service whose mean latency is `lat(t)` seconds.
fn traffic(service: &str, start: i64, n: usize, lat: impl Fn(usize) -> f64) -> Vec<TimeSeries> {
    let (mut req, mut sum) = (Vec::new(), Vec::new());
    let (mut c, mut s) = (0.0, 0.0);
    for i in 0..n {
        // 100 req/s with a little deterministic wobble.
        let r = 100.0 + ((i * 7919) % 13) as f64;
        c += r * 15.0;
        s += r * 15.0 * lat(i);
        let t = start + i as i64 * 15_000;
        req.push(Sample { t, v: c });
        sum.push(Sample { t, v: s });
    }
    let count = req.clone();
    vec![
        series("http_requests_total", service, &[("code", "200")], req),
        series("http_request_duration_seconds_sum", service, &[], sum),
        series("http_request_duration_seconds_count", service, &[], count),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_database_is_named_from_stored_series() {
    let dir = tempfile::tempdir().unwrap();
    let topo = dir.path().join("topology.yaml");
    std::fs::write(&topo, TOPOLOGY).unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        topology_file: Some(topo),
        ..Config::default()
    };
    let engine = tokio::task::spawn_blocking(move || Engine::open(config))
        .await
        .unwrap()
        .unwrap();
    let now = 1_700_000_000_000i64;
    let n = 480; // two hours at 15 s
    let start = now - (n as i64 - 1) * 15_000;
    let fault = 400; // the database slows from here on
    let wobble = |i: usize| ((i * 31) % 7) as f64 * 0.0004;
    let mut all = Vec::new();
    all.extend(traffic("db", start, n, |i| {
        0.010 + wobble(i) + if i >= fault { 0.200 } else { 0.0 }
    }));
    all.extend(traffic("api", start, n, |i| {
        0.030 + wobble(i) + if i >= fault + 2 { 0.200 } else { 0.0 }
    }));
    all.extend(traffic("web", start, n, |i| {
        0.050 + wobble(i) + if i >= fault + 3 { 0.200 } else { 0.0 }
    }));
    all.extend(traffic("cache", start, n, |i| 0.002 + wobble(i)));
    engine.ingest(all, "test").await.unwrap();

    let services: BTreeSet<String> = ["web".to_string(), "api".to_string()].into();
    let onset = start + (fault as i64 + 8) * 15_000;
    let named =
        hush_engine::rca::analyze_incident(&engine, &services, &[onset], &BTreeSet::new(), now)
            .await
            .unwrap()
            .expect("a cause is named");
    assert_eq!(named.service, "db", "named {named:?}");
    assert!(!named.evidence.is_empty());

    // Without a topology there is nothing to rank over.
    let bare = Config {
        data_dir: dir.path().join("bare"),
        ..Config::default()
    };
    let e2 = tokio::task::spawn_blocking(move || Engine::open(bare))
        .await
        .unwrap()
        .unwrap();
    assert!(
        hush_engine::rca::analyze_incident(&e2, &services, &[onset], &BTreeSet::new(), now)
            .await
            .unwrap()
            .is_none()
    );
}
