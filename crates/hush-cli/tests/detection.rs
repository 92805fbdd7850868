//! Live detection: a series whose level shifts produces an anomaly with an explanation through
//! the API as soon as the deviating sample's write is acknowledged; a steady series does not.

mod support;

use hush_model::{Labels, Sample, TimeSeries};
use serde_json::Value as J;
use support::*;

fn body(name: &str, t: i64, v: f64) -> Vec<u8> {
    let l = Labels::from_pairs([("__name__", name), ("service", "checkout")]).unwrap();
    hush_ingest::encode_remote_write(&[TimeSeries::new(l, vec![Sample::new(t, v)])])
}

#[test]
fn level_shift_is_reported_with_an_explanation() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = hush(
        dir.path(),
        port,
        "detection:\n  enabled: true\n  series: ['{service=\"checkout\"}']\nanomaly_alerts:\n  enabled: true\n",
    );
    let start = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64)
        // The shift lands about now: an anomaly older than `anomaly_alerts.hold` when first
        // seen pages no one.
        - 601 * 15_000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/api/v1/write");
        let anomalies = format!("http://127.0.0.1:{port}/api/v1/anomalies?service=checkout");
        // A noisy but steady latency for 600 scrapes (warm-up is 150), plus a steady control.
        let mut noise = 7u64;
        let mut next = || {
            noise = noise.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((noise >> 33) % 1000) as f64 / 1000.0
        };
        let mut t = start;
        for _ in 0..600 {
            for (name, v) in [("latency_ms", 100.0 + 5.0 * next()), ("steady_ms", 50.0 + 2.0 * next())] {
                let r = c.post(&url).body(body(name, t, v)).send().await.unwrap();
                assert!(r.status().is_success());
            }
            t += 15_000;
        }
        let j: J = c.get(&anomalies).send().await.unwrap().json().await.unwrap();
        let before = j["data"].as_array().unwrap().len();
        // The level shifts to 3x: the first deviating sample must already be reported.
        let r = c.post(&url).body(body("latency_ms", t, 300.0)).send().await.unwrap();
        assert!(r.status().is_success());
        let j: J = c.get(&anomalies).send().await.unwrap().json().await.unwrap();
        let list = j["data"].as_array().unwrap();
        assert!(list.len() > before, "no anomaly for the shift: {j}");
        let a = list.last().unwrap();
        assert_eq!(a["labels"]["__name__"], "latency_ms", "{a}");
        assert_eq!(a["time"].as_f64().unwrap(), t as f64 / 1000.0);
        assert!(!a["explanation"].as_str().unwrap().is_empty(), "{a}");
        let expected = a["expected"].as_f64().unwrap();
        assert!((95.0..=110.0).contains(&expected), "expected value should be the learned level: {a}");
        assert!(a["upper"].as_f64().unwrap() < 300.0, "the band should not contain the flagged value: {a}");
        assert!(a["kind"].is_string() && a["score"].as_f64().unwrap() > 0.5, "{a}");
        // The control series raised nothing strong (the detector's NAB-tuned default may flag a
        // weak, ~1 sigma level shift on pure noise: visible at scores below 0.9).
        let strong: J = c.get(format!("{anomalies}&min_score=0.9")).send().await.unwrap().json().await.unwrap();
        let strong = strong["data"].as_array().unwrap();
        assert!(strong.iter().all(|a| a["labels"]["__name__"] != "steady_ms"), "{strong:?}");
        assert!(strong.iter().any(|a| a["time"].as_f64() == Some(t as f64 / 1000.0)), "{strong:?}");
        // The score is a series PromQL can read.
        let q = format!("http://127.0.0.1:{port}/api/v1/query?query=hush_anomaly_score%7Bmetric%3D%22latency_ms%22%7D&time={}", t as f64 / 1000.0);
        let j: J = c.get(&q).send().await.unwrap().json().await.unwrap();
        let score: f64 = j["data"]["result"][0]["value"][1].as_str().unwrap().parse().unwrap();
        assert!(score > 0.5, "{j}");
        // The anomaly becomes an alert of the incident pipeline (source `anomaly`), naming the
        // series, and opens an incident; the weak flags of the control series raise none.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let alert = loop {
            let j: J = c
                .get(format!("http://127.0.0.1:{port}/api/v1/alerts?name=HushAnomaly"))
                .send().await.unwrap().json().await.unwrap();
            let list = j["data"].as_array().unwrap_or_else(|| panic!("{j}"));
            if let Some(a) = list.iter().find(|a| a["labels"]["metric"] == "latency_ms") {
                assert!(list.iter().all(|a| a["labels"]["metric"] != "steady_ms"), "{j}");
                break a.clone();
            }
            assert!(std::time::Instant::now() < deadline, "no anomaly alert: {j}");
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        };
        assert_eq!(alert["source"], "anomaly", "{alert}");
        assert_eq!(alert["labels"]["service"], "checkout", "{alert}");
        let j: J = c
            .get(format!("http://127.0.0.1:{port}/api/v1/incidents"))
            .send().await.unwrap().json().await.unwrap();
        let list = j["data"].as_array().unwrap_or_else(|| panic!("{j}"));
        assert!(
            list.iter().any(|i| i["title"].as_str().unwrap_or("").contains("HushAnomaly")),
            "no incident for the anomaly: {j}"
        );
    });
}
