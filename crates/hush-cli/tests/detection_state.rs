//! Live detection across operator feedback and restarts: a verdict is stored and changes what
//! the series alerts on; a restart keeps every series' learned baseline.

mod support;

use hush_model::{Labels, Sample, TimeSeries};
use serde_json::{Value as J, json};
use std::process::Command;
use support::*;

const STEP: i64 = 15_000;
const CONFIG: &str = "detection:\n  enabled: true\n  series: ['{service=\"checkout\"}']\n";

fn labels(name: &str) -> Labels {
    Labels::from_pairs([("__name__", name), ("service", "checkout")]).unwrap()
}

/// Deterministic noise in [0, 1).
fn noise(i: i64) -> f64 {
    let x = (i as u64)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((x >> 33) % 1000) as f64 / 1000.0
}

fn start_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 24 * 3_600_000
}

/// Posts `n` points from `t0` (every `STEP`) for each series, the value given by `f(i)`.
async fn send(
    c: &reqwest::Client,
    port: u16,
    names: &[&str],
    t0: i64,
    n: i64,
    f: impl Fn(i64) -> f64,
) {
    let url = format!("http://127.0.0.1:{port}/api/v1/write");
    let mut i = 0;
    while i < n {
        let end = (i + 200).min(n);
        let series: Vec<TimeSeries> = names
            .iter()
            .map(|name| {
                let samples = (i..end).map(|k| Sample::new(t0 + k * STEP, f(k))).collect();
                TimeSeries::new(labels(name), samples)
            })
            .collect();
        let body = hush_ingest::encode_remote_write(&series);
        let r = c.post(&url).body(body).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        i = end;
    }
}

async fn anomalies_at(c: &reqwest::Client, port: u16, name: &str, t: i64) -> Vec<J> {
    let url = format!("http://127.0.0.1:{port}/api/v1/anomalies?match[]={name}");
    let j: J = c.get(url).send().await.unwrap().json().await.unwrap();
    j["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["time"].as_f64() == Some(t as f64 / 1000.0))
        .cloned()
        .collect()
}

fn stop(server: support::Proc) {
    // SIGINT: the graceful path that checkpoints, as an operator's restart would.
    let mut server = server;
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = server.0.wait().unwrap();
    assert!(status.success(), "hush exited with {status}");
}

#[test]
fn false_positive_feedback_is_stored_and_silences_the_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = hush(dir.path(), port, CONFIG);
    let t0 = start_ms();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (score, t2) = rt.block_on(async {
        let c = reqwest::Client::new();
        // Two series with identical histories; only `marked_ms` gets feedback.
        let names = ["marked_ms", "control_ms"];
        let normal = |k: i64| 100.0 + 5.0 * noise(k);
        send(&c, port, &names, t0, 600, normal).await;
        let t1 = t0 + 600 * STEP;
        send(&c, port, &names, t1, 1, |_| 300.0).await;
        let marked = anomalies_at(&c, port, "marked_ms", t1).await;
        assert_eq!(marked.len(), 1, "the first spike must alert: {marked:?}");
        assert_eq!(anomalies_at(&c, port, "control_ms", t1).await.len(), 1);
        let id = marked[0]["id"].as_u64().unwrap();
        let score = marked[0]["score"].as_f64().unwrap();

        // Bad feedback is refused with the problem named, and changes nothing.
        let fb = |id: String| format!("http://127.0.0.1:{port}/api/v1/anomalies/{id}/feedback");
        for (path, body, status, needle) in [
            (
                id.to_string(),
                json!({"verdict": "benign"}),
                400,
                "invalid verdict `benign`",
            ),
            (
                "abc".to_string(),
                json!({"verdict": "false_positive"}),
                400,
                "invalid anomaly id `abc`",
            ),
            (
                id.to_string(),
                json!({"verdict": "missed", "score": 7}),
                400,
                "invalid score",
            ),
            (
                "999999".to_string(),
                json!({"verdict": "false_positive"}),
                404,
                "`999999` not found",
            ),
        ] {
            let r = c.post(fb(path)).json(&body).send().await.unwrap();
            assert_eq!(r.status().as_u16(), status, "{body}");
            let text = r.text().await.unwrap();
            assert!(text.contains(needle), "{text}");
        }
        let r = c
            .post(fb(id.to_string()))
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);

        let r = c
            .post(fb(id.to_string()))
            .json(&json!({"verdict": "false_positive"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let j: J = r.json().await.unwrap();
        let threshold = j["data"]["threshold"].as_f64().unwrap();
        assert!(
            threshold > score,
            "threshold {threshold} should rise above the score {score}"
        );

        // Long enough later that the first alert no longer holds the second back, the same
        // spike again: the control series alerts, the marked one does not.
        let t2 = t1 + 2001 * STEP;
        send(&c, port, &names, t1 + STEP, 2000, |k| normal(k + 601)).await;
        send(&c, port, &names, t2, 1, |_| 300.0).await;
        assert_eq!(
            anomalies_at(&c, port, "control_ms", t2).await.len(),
            1,
            "the control series must alert on the repeated spike"
        );
        let again = anomalies_at(&c, port, "marked_ms", t2).await;
        assert!(
            again.is_empty(),
            "a pattern marked false positive alerted again: {again:?}"
        );
        (score, t1)
    });
    stop(server);

    // The verdict is in the database, as an anomaly event naming it.
    rt.block_on(async {
        let url = format!("sqlite://{}", dir.path().join("data/hush.db").display());
        let db = hush_sql::SqlStore::open(&url).await.unwrap();
        let events = db
            .list_events(&hush_sql::EventFilter {
                kind: Some(hush_sql::EventKind::Anomaly),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(e.payload["feedback"], "false_positive");
        assert_eq!(e.payload["anomaly_time"].as_i64(), Some(t2));
        assert_eq!(e.score, Some(score));
        assert_eq!(e.series.get("__name__"), Some("marked_ms"));
    });
}

#[test]
fn restart_keeps_a_warmed_up_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = hush(dir.path(), port, CONFIG);
    let t0 = start_ms();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        send(&c, port, &["latency_ms"], t0, 600, |k| {
            100.0 + 5.0 * noise(k)
        })
        .await;
    });
    stop(server);
    assert!(
        dir.path().join("data/detection.json").is_file(),
        "no checkpoint written"
    );

    let port = free_port();
    let _server = hush(dir.path(), port, CONFIG);
    rt.block_on(async {
        let c = reqwest::Client::new();
        // A fresh detector would still be warming up (150 points) and report nothing; the
        // restored one knows the level is ~100 and flags the first deviating point.
        let t = t0 + 600 * STEP;
        send(&c, port, &["latency_ms"], t, 1, |_| 300.0).await;
        let found = anomalies_at(&c, port, "latency_ms", t).await;
        assert_eq!(
            found.len(),
            1,
            "restored detector did not flag the shift: {found:?}"
        );
        let expected = found[0]["expected"].as_f64().unwrap();
        assert!(
            (95.0..=110.0).contains(&expected),
            "baseline forgotten: {}",
            found[0]
        );
    });
}
