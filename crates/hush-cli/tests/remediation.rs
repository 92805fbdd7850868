//! Remediation through a real `hush serve`: an incident (opened by an alert through the alert
//! API; the guardrail cases write incidents straight into the server's database) triggers a runbook in approve mode; an operator approves it through the API; a real command
//! and a real webhook run; the verification query recovers on real samples; every step is in the
//! audit log, `hush audit verify` passes, and changing one byte of an entry makes it fail naming
//! that entry. Plus the refusals: read tokens, unlisted commands, the kill switch.

mod support;

use hush_model::{Labels, Sample, TimeSeries};
use serde_json::{Value as J, json};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

const READ: &str = "read-token-0123456789";
const OPS: &str = "operator-token-0123456789";
const WRITE: &str = "write-token-0123456789";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn sample(v: f64) -> Vec<u8> {
    let l = Labels::from_pairs([("__name__", "api_errors"), ("service", "api")]).unwrap();
    hush_ingest::encode_remote_write(&[TimeSeries::new(l, vec![Sample::new(now_ms(), v)])])
}

fn config(root: &Path, mode: &str, hook: &str, extra: &str) -> String {
    let rb = format!(
        r#"name: restart-api
description: restart the API when its errors climb
mode: {mode}
confidence_threshold: 0.3
trigger: {{labels: {{service: api}}, alert_names: [HighErrorRate]}}
parameters:
  service: {{from: incident.labels.service, pattern: "[a-z]+"}}
target: "{{{{service}}}}"
preconditions: ['api_errors > 0']
steps:
  - name: restart
    command: [/usr/bin/touch, "{root}/restarted"]
  - name: say
    command: [/bin/echo, restarting, "{{{{service}}}}"]
  - name: ticket
    webhook: {{url: "{hook}", body: {{service: "{{{{service}}}}", action: restart}}}}
verification: {{query: 'api_errors < 1', within: 3s, interval: 100ms}}
rollback:
  - name: undo
    command: [/usr/bin/touch, "{root}/rolled-back"]
{extra}"#,
        root = root.display()
    );
    std::fs::create_dir_all(root.join("runbooks")).unwrap();
    std::fs::write(root.join("runbooks/restart.yaml"), rb).unwrap();
    format!(
        "auth:\n  tokens:\n    - {{name: grafana, token: {READ}, role: read}}\n    - {{name: ops, token: {OPS}, role: operator}}\n    - {{name: prom, token: {WRITE}, role: write}}\nremediation:\n  runbooks_dir: {}\n  allowed_commands: [/usr/bin/touch, /bin/echo]\n  poll_interval: 200ms\n",
        root.join("runbooks").display()
    )
}

/// A local receiver standing in for a ticketing system.
fn receiver(rt: &tokio::runtime::Runtime) -> (String, Arc<Mutex<Vec<J>>>) {
    let got: Arc<Mutex<Vec<J>>> = Arc::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(v): axum::Json<J>| {
            let g = g.clone();
            async move {
                g.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let l = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    rt.spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, got)
}

async fn open_incident(data: &Path, title: &str) -> String {
    let url = format!("sqlite://{}", data.join("hush.db").display());
    let db = hush_sql::SqlStore::open(&url).await.unwrap();
    let inc = db
        .create_incident(&hush_sql::NewIncident {
            title: title.to_owned(),
            priority: hush_sql::Priority::new(2).unwrap(),
            opened_at: now_ms(),
            payload: json!({"labels": {"service": "api"}, "alerts": ["HighErrorRate"]}),
        })
        .await
        .unwrap();
    db.close().await;
    inc.id.to_string()
}

struct Api {
    c: reqwest::Client,
    base: String,
}

impl Api {
    async fn get(&self, path: &str) -> J {
        let r = self
            .c
            .get(format!("{}{path}", self.base))
            .bearer_auth(READ)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    async fn post(&self, path: &str, token: &str, body: &str) -> (u16, J) {
        let r = self
            .c
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(J::Null))
    }

    /// Polls the run list until `f` picks something.
    async fn wait_run(&self, what: &str, f: impl Fn(&J) -> bool) -> J {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let j = self.get("/api/v1/remediation/runs").await;
            if let Some(r) = j["data"]["runs"].as_array().unwrap().iter().find(|r| f(r)) {
                return r.clone();
            }
            assert!(Instant::now() < deadline, "no run {what}: {j}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[test]
fn approved_runbook_runs_verifies_and_leaves_a_verifiable_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (hook, got) = receiver(&rt);
    let port = free_port();
    let server = hush(root, port, &config(root, "approve", &hook, ""));
    let api = Api {
        c: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
    };
    let (run_id, seq_approved) = rt.block_on(async {
        let write = |v: f64| {
            api.c
                .post(format!("{}/api/v1/write", api.base))
                .bearer_auth(WRITE)
                .body(sample(v))
                .send()
        };
        assert!(write(5.0).await.unwrap().status().is_success());
        // The incident comes from an alert through the alert API, as in production: the
        // correlator opens it and its payload carries the alert's name and shared labels.
        let (status, body) = api
            .post(
                "/api/v1/alerts",
                WRITE,
                r#"{"alerts": [{"labels": {"alertname": "HighErrorRate", "service": "api", "severity": "critical"}}]}"#,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let incident = body["data"]["alerts"][0]["incident"]
            .as_str()
            .unwrap_or_else(|| panic!("no incident opened: {body}"))
            .to_string();

        let run = api
            .wait_run("pending approval", |r| r["incident"] == incident.as_str())
            .await;
        let ranked = api
            .get(&format!(
                "/api/v1/remediation/incidents/{incident}/runbooks"
            ))
            .await;
        assert_eq!(ranked["data"][0]["runbook"], "restart-api", "{ranked}");
        assert_eq!(ranked["data"][0]["confidence"], run["confidence"]);
        assert_eq!(run["state"], "pending_approval", "{run}");
        assert_eq!(run["runbook"], "restart-api");
        assert!(run["confidence"]["score"].as_f64().unwrap() > 0.3, "{run}");
        let id = run["id"].as_str().unwrap().to_owned();
        let approve = format!("/api/v1/remediation/runs/{id}/approve");
        let dry = format!("/api/v1/remediation/runs/{id}/dry-run");

        // A read token may look, not act.
        for path in [&approve, &dry] {
            let (status, body) = api.post(path, READ, "").await;
            assert_eq!(status, 403, "{path}: {body}");
        }
        let (status, _) = api
            .post(
                "/api/v1/remediation/kill-switch",
                READ,
                r#"{"engaged":true}"#,
            )
            .await;
        assert_eq!(status, 403);

        // The dry-run names the exact argv and request, and runs nothing.
        let (status, plan) = api.post(&dry, OPS, "").await;
        assert_eq!(status, 200, "{plan}");
        let steps = &plan["data"]["steps"];
        assert_eq!(steps[0]["action"]["program"], "/usr/bin/touch");
        assert_eq!(
            steps[0]["action"]["args"],
            json!([format!("{}/restarted", root.display())])
        );
        assert_eq!(steps[1]["action"]["args"], json!(["restarting", "api"]));
        assert_eq!(steps[2]["action"]["url"], hook.as_str());
        assert_eq!(
            steps[2]["action"]["body"],
            json!({"service": "api", "action": "restart"})
        );
        assert_eq!(plan["data"]["preconditions"][0]["holds"], true, "{plan}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!root.join("restarted").exists());
        assert!(got.lock().unwrap().is_empty());
        let still = api.get(&format!("/api/v1/remediation/runs/{id}")).await;
        assert_eq!(still["data"]["state"], "pending_approval");

        let (status, body) = api.post(&approve, OPS, "").await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = api.post(&approve, OPS, "").await;
        assert_eq!(status, 409, "approving twice: {body}");

        // The ticket arrives once the steps ran; the fix then shows in the metric.
        let deadline = Instant::now() + Duration::from_secs(20);
        while got.lock().unwrap().is_empty() {
            assert!(Instant::now() < deadline, "webhook never arrived");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(write(0.0).await.unwrap().status().is_success());
        let done = api
            .wait_run("finished", |r| {
                r["id"] == id.as_str()
                    && !["queued", "running"].contains(&r["state"].as_str().unwrap())
            })
            .await;
        assert_eq!(done["state"], "succeeded", "{done}");
        assert_eq!(done["approved_by"], "token:ops");
        let log = done["log"].as_array().unwrap();
        let phases: Vec<&str> = log.iter().map(|s| s["phase"].as_str().unwrap()).collect();
        assert_eq!(
            phases,
            ["precondition", "step", "step", "step", "verification"]
        );
        assert_eq!(log[2]["outcome"]["output"]["stdout"], "restarting api\n");
        assert!(root.join("restarted").exists());
        assert!(!root.join("rolled-back").exists());
        assert_eq!(
            got.lock().unwrap().clone(),
            [json!({"service": "api", "action": "restart"})]
        );

        // The audit log holds every decision and action, in order.
        let audit = api.get("/api/v1/audit?limit=1000").await;
        let entries = audit["data"].as_array().unwrap();
        let mine: Vec<&J> = entries
            .iter()
            .filter(|e| e["subject"] == id.as_str())
            .collect();
        let actions: Vec<&str> = mine.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(
            actions,
            [
                "remediation.run.created",
                "remediation.run.dry_run",
                "remediation.run.approved",
                "remediation.run.started",
                "remediation.precondition",
                "remediation.step",
                "remediation.step",
                "remediation.step",
                "remediation.verification",
                "remediation.run.finished",
            ]
        );
        // Newest first, from the end or from a position, as the UI's audit view reads it.
        let newest = api.get("/api/v1/audit?order=desc&limit=3").await;
        let back: Vec<J> = entries.iter().rev().take(3).cloned().collect();
        assert_eq!(newest["data"].as_array().unwrap(), &back);
        let before = back[2]["seq"].as_i64().unwrap();
        let older = api
            .get(&format!("/api/v1/audit?order=desc&before={before}&limit=1"))
            .await;
        assert_eq!(older["data"][0]["seq"].as_i64(), Some(before - 1));
        for bad in ["order=up", "before=3", "order=desc&after=3"] {
            let r = api
                .c
                .get(format!("{}/api/v1/audit?{bad}", api.base))
                .bearer_auth(READ)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "{bad}");
        }
        let approved = mine[2];
        assert_eq!(approved["actor"], "token:ops");
        assert_eq!(mine[5]["details"]["planned"]["program"], "/usr/bin/touch");
        assert_eq!(mine[9]["details"]["result"], "succeeded");
        let export = api
            .c
            .get(format!("{}/api/v1/audit/export", api.base))
            .bearer_auth(READ)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let lines: Vec<J> = export
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), entries.len());
        assert_eq!(&lines[..], &entries[..]);
        (id, approved["seq"].as_i64().unwrap())
    });
    drop(server);
    assert!(!run_id.is_empty());

    let verify = || {
        Command::new(env!("CARGO_BIN_EXE_hush"))
            .args(["audit", "verify", "--data-dir"])
            .arg(root.join("data"))
            .output()
            .unwrap()
    };
    let ok = verify();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("audit chain ok:"));

    // One byte of the approval's actor changes: `token:ops` becomes `token:opz`.
    rt.block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite://{}", root.join("data/hush.db").display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("DROP TRIGGER audit_log_no_update")
            .execute(&mut conn)
            .await
            .unwrap();
        let changed = sqlx::query("UPDATE audit_log SET actor = 'token:opz' WHERE seq = $1")
            .bind(seq_approved)
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(changed.rows_affected(), 1);
    });
    let bad = verify();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains(&format!(
            "audit chain broken at entry {seq_approved}: content does not match its hash"
        )),
        "{err}"
    );
}

#[test]
fn a_runbook_with_an_unlisted_command_refuses_to_start_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let cfg = config(root, "auto", "http://127.0.0.1:9/hook", "");
    let rb = root.join("runbooks/restart.yaml");
    let text = std::fs::read_to_string(&rb)
        .unwrap()
        .replace("[/bin/echo, restarting,", "[/bin/sh, -c,");
    std::fs::write(&rb, text).unwrap();
    std::fs::write(root.join("hush.yaml"), cfg).unwrap();
    let expected = format!(
        "{}:14:15: command `/bin/sh` is not in remediation.allowed_commands",
        rb.display()
    );
    // `hush config check` finds it before any server starts.
    let check = Command::new(env!("CARGO_BIN_EXE_hush"))
        .args(["config", "check"])
        .arg(root.join("hush.yaml"))
        .output()
        .unwrap();
    assert!(!check.status.success());
    let err = String::from_utf8_lossy(&check.stderr);
    assert!(err.contains(&expected), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_hush"))
        .args(["serve", "--config"])
        .arg(root.join("hush.yaml"))
        .arg("--data-dir")
        .arg(root.join("data"))
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&expected), "{err}");
}

#[test]
fn auto_mode_rolls_back_and_the_kill_switch_stops_what_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (hook, got) = receiver(&rt);
    let port = free_port();
    // One run per hour: the second incident is over budget.
    let _server = hush(
        root,
        port,
        &config(root, "auto", &hook, "limits: {max_runs_per_hour: 1}\n"),
    );
    let api = Api {
        c: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
    };
    rt.block_on(async {
        let r = api
            .c
            .post(format!("{}/api/v1/write", api.base))
            .bearer_auth(WRITE)
            .body(sample(5.0))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        // Errors never recover: verification fails and the rollback runs.
        let first = open_incident(&root.join("data"), "API errors").await;
        let run = api
            .wait_run("rolled back", |r| {
                r["incident"] == first.as_str() && r["state"] == "rolled_back"
            })
            .await;
        assert!(
            run["reason"]
                .as_str()
                .unwrap()
                .contains("verification failed"),
            "{run}"
        );
        assert!(root.join("restarted").exists());
        assert!(root.join("rolled-back").exists());
        assert_eq!(got.lock().unwrap().len(), 1);

        let second = open_incident(&root.join("data"), "API errors again").await;
        let blocked = api
            .wait_run("blocked", |r| {
                r["incident"] == second.as_str() && r["state"] == "blocked"
            })
            .await;
        assert!(
            blocked["reason"]
                .as_str()
                .unwrap()
                .contains("max_runs_per_hour is 1"),
            "{blocked}"
        );

        // Engaged, the switch stops everything; a bad body is refused with the reason.
        let (status, body) = api
            .post("/api/v1/remediation/kill-switch", OPS, r#"{"engage":true}"#)
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("engaged"),
            "{body}"
        );
        let (status, body) = api
            .post(
                "/api/v1/remediation/kill-switch",
                OPS,
                r#"{"engaged":true}"#,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let third = open_incident(&root.join("data"), "API errors a third time").await;
        let cancelled = api
            .wait_run("cancelled", |r| r["incident"] == third.as_str())
            .await;
        assert_eq!(cancelled["state"], "cancelled", "{cancelled}");
        assert_eq!(
            got.lock().unwrap().len(),
            1,
            "nothing ran after the kill switch"
        );
        let j = api.get("/api/v1/remediation/runs").await;
        assert_eq!(j["data"]["kill_switch"], true);
    });
}
