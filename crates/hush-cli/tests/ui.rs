//! The web UI in a real browser: Debian's chromium driven by playwright-core (`ui/tests/e2e.mjs`)
//! against a `hush demo` server with incidents and a `hush serve` with tokens whose stored series
//! labels, log lines and an alert (with the incident it opened) carry injected markup, and which
//! loads the demo's runbook so that incident has a run to approve. Fails when any browser check
//! fails, or when what the browser did (a verdict, an approval, a split and a merge) is not in
//! the server's database.

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

/// Without a browser: what the UI's files, client routes and the two UI endpoints answer.
#[test]
fn assets_routes_and_roles_over_http() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = hush(
        dir.path(),
        port,
        &format!(
            "auth:\n  tokens:\n    - {{name: viewer, token: {READ}, role: read}}\n    - {{name: oncall, token: {OPERATOR}, role: operator}}\n"
        ),
    );
    let base = format!("http://127.0.0.1:{port}");
    rt.block_on(async {
        let c = reqwest::Client::new();
        // The entry page, for `/` and for any client route, with no token.
        let mut etag = String::new();
        for path in [
            "/",
            "/incidents",
            "/incidents/some-id",
            "/anomalies?service=x",
        ] {
            let r = c.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            assert_eq!(r.headers()["content-type"], "text/html", "{path}");
            assert!(
                r.headers()["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .contains("script-src 'self'")
            );
            assert_eq!(r.headers()["cache-control"], "no-cache");
            etag = r.headers()["etag"].to_str().unwrap().to_string();
            assert!(
                r.text()
                    .await
                    .unwrap()
                    .contains("<script type=\"module\" src=\"/app.js\">")
            );
        }
        // Revalidation answers 304 while the binary is the same.
        let r = c
            .get(format!("{base}/incidents"))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304);
        for (path, ct) in [
            ("/app.js", "text/javascript"),
            ("/app.css", "text/css"),
            ("/favicon.svg", "image/svg+xml"),
        ] {
            let r = c.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            assert_eq!(r.headers()["content-type"], ct, "{path}");
            assert!(!r.bytes().await.unwrap().is_empty(), "{path}");
        }
        // API paths, missing files and non-GET requests never get the UI.
        for (m, path) in [
            ("GET", "/api/v1/nope"),
            ("GET", "/api"),
            ("GET", "/missing.js"),
            ("POST", "/incidents"),
            ("GET", "/-/nope"),
        ] {
            let r = c
                .request(m.parse().unwrap(), format!("{base}{path}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404, "{m} {path}");
            let j: J = r.json().await.unwrap();
            assert_eq!(j["errorType"], "not_found", "{m} {path}: {j}");
        }
        // whoami: no token, each role, an unknown token.
        let who = |t: Option<&'static str>| {
            let mut r = c.get(format!("{base}/api/v1/whoami"));
            if let Some(t) = t {
                r = r.bearer_auth(t);
            }
            async move {
                let r = r.send().await.unwrap();
                (r.status().as_u16(), r.json::<J>().await.unwrap())
            }
        };
        let (s, j) = who(None).await;
        assert_eq!(
            (s, &j["data"]["auth"], &j["data"]["role"]),
            (200, &J::Bool(true), &J::Null),
            "{j}"
        );
        let (s, j) = who(Some(READ)).await;
        assert_eq!(
            (s, j["data"]["role"].as_str(), j["data"]["name"].as_str()),
            (200, Some("read"), Some("viewer")),
            "{j}"
        );
        let (s, j) = who(Some(OPERATOR)).await;
        assert_eq!(
            (s, j["data"]["role"].as_str()),
            (200, Some("operator")),
            "{j}"
        );
        let (s, j) = who(Some("not-a-token")).await;
        assert_eq!(s, 401, "{j}");
        assert!(
            j["error"].as_str().unwrap().contains("unknown token"),
            "{j}"
        );
        // The effective configuration needs a token and never shows one.
        let r = c
            .get(format!("{base}/api/v1/status/config"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let r = c
            .get(format!("{base}/api/v1/status/config"))
            .bearer_auth(READ)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let j: J = r.json().await.unwrap();
        let text = j["data"]["text"].as_str().unwrap();
        assert!(
            text.contains("viewer") && text.contains("<secret>"),
            "{text}"
        );
        assert!(
            !text.contains(READ) && !text.contains(OPERATOR),
            "a token leaked: {text}"
        );
    });
}

/// A log line of the demo incident's suspect whose message carries `PAYLOAD`: the incident page
/// lists it under related logs and must show it as text.
fn ingest_payload_log(rt: &tokio::runtime::Runtime, port: u16) {
    let line = serde_json::json!({"message": format!("query failed: {PAYLOAD}"), "service": "postgres", "level": "error"});
    rt.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/api/v1/logs"))
            .bearer_auth(WRITE)
            .body(format!("{line}\n"))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "log line refused: {}", r.status());
    });
    let (s, j) = get(
        rt,
        &format!("http://127.0.0.1:{port}/api/v1/log-templates?service=postgres"),
        Some(READ),
    );
    assert_eq!(s, 200, "{j}");
    assert!(
        j.to_string().contains("window.__pwned=1"),
        "the log line is not in the templates: {j}"
    );
}

/// An alert through the alert API whose label and summary carry `PAYLOAD`: it opens an incident
/// whose page must show that text as text. Its name is the demo's database alert, so the demo's
/// runbook suggests itself for it.
fn ingest_payload_alert(rt: &tokio::runtime::Runtime, port: u16) -> String {
    let alert = serde_json::json!([{
        "labels": {"alertname": "PostgresSlowQueries", "service": "postgres", "severity": "critical", "detail": PAYLOAD},
        "annotations": {"summary": format!("queries are slow {PAYLOAD}")},
    }]);
    let (s, j) = rt.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/api/v1/alerts"))
            .bearer_auth(WRITE)
            .json(&alert)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<J>().await.unwrap_or(J::Null))
    });
    assert_eq!(s, 200, "alert refused: {j}");
    j["data"]["alerts"][0]["incident"]
        .as_str()
        .unwrap_or_else(|| panic!("the alert opened no incident: {j}"))
        .to_string()
}

/// The service the demo's fault broke (db-slowdown, seed 1), from the simulator's truth.
fn true_root_cause() -> String {
    let scenario = hush_sim::Scenario::parse("db-slowdown").unwrap();
    let sim = hush_sim::Simulation::new(1, scenario, 0, 15_000).unwrap();
    sim.truth().incidents[0].root_cause.service.clone()
}

/// The run the demo's runbook got on `incident`, once the server created it (pending approval).
fn pending_run(rt: &tokio::runtime::Runtime, port: u16, incident: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, j) = get(
            rt,
            &format!("http://127.0.0.1:{port}/api/v1/remediation/runs"),
            Some(READ),
        );
        assert_eq!(s, 200, "{j}");
        if let Some(run) = j["data"]["runs"]
            .as_array()
            .and_then(|l| l.iter().find(|r| r["incident"] == incident))
        {
            assert_eq!(run["state"], "pending_approval", "{run}");
            assert_eq!(run["runbook"], "postgres-slow-queries", "{run}");
            return run["id"].as_str().unwrap().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "the runbook got no run on incident {incident}: {j}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
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
        if j["data"].as_array().is_some_and(|l| {
            l.iter()
                .any(|i| i["root_cause"].is_string() || i["rootCause"]["service"].is_string())
        }) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the demo opened no incident with a root cause: {}",
            std::fs::read_to_string(dir.path().join("demo.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // A server with tokens, for roles and for injected text, loading the demo's runbook file as
    // an operator would (a runbooks directory), so its incident gets a run to approve.
    let auth_dir = dir.path().join("auth");
    let runbooks = auth_dir.join("runbooks");
    std::fs::create_dir_all(&runbooks).unwrap();
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("src/demo/runbooks/postgres-slow-queries.yaml"),
        runbooks.join("postgres-slow-queries.yaml"),
    )
    .unwrap();
    let auth_port = free_port();
    let auth = hush(
        &auth_dir,
        auth_port,
        &format!(
            "auth:\n  tokens:\n    - {{name: viewer, token: {READ}, role: read}}\n    - {{name: prom, token: {WRITE}, role: write}}\n    - {{name: oncall, token: {OPERATOR}, role: operator}}\ndetection:\n  enabled: true\nremediation:\n  runbooks_dir: {}\n  poll_interval: 200ms\n",
            runbooks.display()
        ),
    );
    ingest_payload_series(&rt, auth_port);
    ingest_payload_log(&rt, auth_port);
    let incident = ingest_payload_alert(&rt, auth_port);
    let run = pending_run(&rt, auth_port, &incident);

    let out = Command::new(node)
        .arg("tests/e2e.mjs")
        .current_dir(ui_dir())
        .env("CHROMIUM", chromium)
        .env("DEMO_URL", &demo)
        .env("AUTH_URL", format!("http://127.0.0.1:{auth_port}"))
        .env("READ_TOKEN", READ)
        .env("OPERATOR_TOKEN", OPERATOR)
        .env("PAYLOAD", PAYLOAD)
        .env("AUTH_INCIDENT", &incident)
        .env("AUTH_RUN", &run)
        // The simulator's truth: the cause the demo must name and highlight.
        .env("DEMO_ROOT_CAUSE", true_root_cause())
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser checks failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // What the browser did is in the database, not only in the answers it saw: the verdict as
    // an anomaly event, the approval in the audit chain under the operator's token name.
    drop(auth);
    rt.block_on(async {
        let url = format!("sqlite://{}", auth_dir.join("data/hush.db").display());
        let db = hush_sql::SqlStore::open(&url).await.unwrap();
        let events = db
            .list_events(&hush_sql::EventFilter {
                kind: Some(hush_sql::EventKind::Anomaly),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].payload["feedback"], "false_positive");
        assert_eq!(events[0].series.get("note"), Some(PAYLOAD));
        let audit = db.list_audit(0, 1000).await.unwrap();
        assert!(
            audit.iter().any(|e| e.action == "remediation.run.approved"
                && e.subject == run
                && e.actor == "token:oncall"),
            "no approval of run {run} by token:oncall in {audit:?}"
        );
        // The browser's split and merge back: on both incidents, under the operator's name.
        for action in ["incident.split", "incident.merge"] {
            let done: Vec<_> = audit
                .iter()
                .filter(|e| e.action == action && e.actor == "token:oncall")
                .collect();
            assert_eq!(done.len(), 2, "{action}: {done:?}");
            assert_ne!(done[0].subject, done[1].subject, "{action}: {done:?}");
        }
        db.close().await;
    });
}
