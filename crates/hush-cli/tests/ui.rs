//! The web UI in a real browser: Debian's chromium driven by playwright-core (`ui/tests/e2e.mjs`)
//! against a `hush demo` server with incidents and a `hush serve` with tokens whose stored series
//! carries injected markup in its labels. Fails when any browser check fails.

mod support;

use hush_model::{Labels, Sample, TimeSeries};
use serde_json::Value as J;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

const READ: &str = "ui-read-token-0123456789";
const WRITE: &str = "ui-write-token-0123456789";
const OPERATOR: &str = "ui-operator-token-0123456789";
/// Both a script element and an event handler: neither may run.
const PAYLOAD: &str = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">";

fn ui_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui")
}

fn get(rt: &tokio::runtime::Runtime, url: &str, token: Option<&str>) -> (u16, J) {
    rt.block_on(async {
        let mut r = reqwest::Client::new().get(url);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(J::Null))
    })
}

/// 600 steady samples then a tripled one, under labels holding `PAYLOAD`: live detection
/// reports an anomaly whose labels the UI must show as text.
fn ingest_payload_series(rt: &tokio::runtime::Runtime, port: u16) {
    let labels = Labels::from_pairs([
        ("__name__", "latency_ms"),
        ("service", "shop"),
        ("note", PAYLOAD),
    ])
    .unwrap();
    let start = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64)
        - 3 * 3_600_000;
    let mut noise = 11u64;
    let mut samples = Vec::new();
    let mut t = start;
    for _ in 0..600 {
        noise = noise
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        samples.push(Sample::new(
            t,
            100.0 + 5.0 * ((noise >> 33) % 1000) as f64 / 1000.0,
        ));
        t += 15_000;
    }
    let url = format!("http://127.0.0.1:{port}/api/v1/write");
    rt.block_on(async {
        let c = reqwest::Client::new();
        for batch in [samples, vec![Sample::new(t, 300.0)]] {
            let body = hush_ingest::encode_remote_write(&[TimeSeries::new(labels.clone(), batch)]);
            let r = c
                .post(&url)
                .bearer_auth(WRITE)
                .body(body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "write refused: {}", r.status());
        }
    });
    let (s, j) = get(
        rt,
        &format!("http://127.0.0.1:{port}/api/v1/anomalies?service=shop"),
        Some(READ),
    );
    assert_eq!(s, 200, "{j}");
    assert!(
        j["data"]
            .as_array()
            .is_some_and(|l| l.iter().any(|a| a["labels"]["note"] == PAYLOAD)),
        "no anomaly carrying the payload: {j}"
    );
}

#[test]
fn browser_checks_pass() {
    let node = require_binary("node", "nodejs");
    let chromium = require_binary("chromium", "chromium");
    assert!(
        ui_dir().join("node_modules/playwright-core").is_dir(),
        "ui/node_modules is missing: run `npm ci` in ui/ (.ci/run does)"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Demo data: the db-slowdown fault opens incidents with a named root cause.
    let demo_port = free_port();
    let _demo = spawn(
        Command::new(env!("CARGO_BIN_EXE_hush"))
            .args(["demo", "--scenario", "db-slowdown", "--seed", "1"])
            .args(["--speed", "0", "--duration", "40m"])
            .arg("--listen")
            .arg(format!("127.0.0.1:{demo_port}"))
            .arg("--data-dir")
            .arg(dir.path().join("demo-data")),
        &dir.path().join("demo.log"),
    );
    let demo = format!("http://127.0.0.1:{demo_port}");
    wait_http(&format!("{demo}/-/ready"), Duration::from_secs(30));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, j) = get(&rt, &format!("{demo}/api/v1/incidents"), None);
        if j["data"]
            .as_array()
            .is_some_and(|l| l.iter().any(|i| i["root_cause"].is_string()))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the demo opened no incident with a root cause: {}",
            std::fs::read_to_string(dir.path().join("demo.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // A server with tokens, for roles and for injected text.
    let auth_dir = dir.path().join("auth");
    std::fs::create_dir_all(&auth_dir).unwrap();
    let auth_port = free_port();
    let _auth = hush(
        &auth_dir,
        auth_port,
        &format!(
            "auth:\n  tokens:\n    - {{name: viewer, token: {READ}, role: read}}\n    - {{name: prom, token: {WRITE}, role: write}}\n    - {{name: oncall, token: {OPERATOR}, role: operator}}\ndetection:\n  enabled: true\n"
        ),
    );
    ingest_payload_series(&rt, auth_port);

    let out = Command::new(node)
        .arg("tests/e2e.mjs")
        .current_dir(ui_dir())
        .env("CHROMIUM", chromium)
        .env("DEMO_URL", &demo)
        .env("AUTH_URL", format!("http://127.0.0.1:{auth_port}"))
        .env("READ_TOKEN", READ)
        .env("OPERATOR_TOKEN", OPERATOR)
        .env("PAYLOAD", PAYLOAD)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser checks failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
