//! The controller against a real SQLite store, real processes and a real local HTTP receiver.
//! Metric queries go through a table of answers: the PromQL evaluator lives in the engine, and
//! the server's end-to-end test drives the real one.

use super::*;
use crate::config::RemediationConfig;
use std::path::PathBuf;

#[derive(Default)]
struct Answers(Mutex<HashMap<String, bool>>);

impl Answers {
    fn set(&self, q: &str, v: bool) {
        self.0.lock().insert(q.to_owned(), v);
    }
}

impl MetricQuery for Answers {
    fn holds(&self, expr: &str, _t: i64) -> Result<bool, String> {
        self.0
            .lock()
            .get(expr)
            .copied()
            .ok_or_else(|| format!("no series for `{expr}`"))
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    db: hush_sql::SqlStore,
    rem: Remediator,
    answers: Arc<Answers>,
}

async fn fixture(runbook: &str, tweak: impl FnOnce(&mut RemediationConfig)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::create_dir(root.join("runbooks")).unwrap();
    std::fs::write(
        root.join("runbooks/rb.yaml"),
        runbook.replace("ROOT", &root.display().to_string()),
    )
    .unwrap();
    let url = format!("sqlite://{}?mode=rwc", root.join("hush.db").display());
    let db = hush_sql::SqlStore::open(&url).await.unwrap();
    let mut cfg = RemediationConfig {
        runbooks_dir: Some(root.join("runbooks")),
        allowed_commands: vec![PathBuf::from("/usr/bin/touch"), PathBuf::from("/bin/echo")],
        ..RemediationConfig::default()
    };
    tweak(&mut cfg);
    let answers = Arc::new(Answers::default());
    let rem = Remediator::open(cfg, db.clone(), answers.clone())
        .await
        .unwrap();
    Fixture {
        _dir: dir,
        root,
        db,
        rem,
        answers,
    }
}

async fn incident(db: &hush_sql::SqlStore, title: &str, service: &str) -> Uuid {
    db.create_incident(&hush_sql::NewIncident {
        title: title.to_owned(),
        priority: hush_sql::Priority::new(2).unwrap(),
        opened_at: now_ms(),
        payload: serde_json::json!({"labels": {"service": service}, "alerts": ["HighErrorRate"]}),
    })
    .await
    .unwrap()
    .id
}

/// One poll, then every run it started, to completion.
async fn drive(rem: &Remediator) -> Vec<Uuid> {
    let ids = rem.tick(now_ms()).await;
    for id in &ids {
        rem.execute(*id).await;
    }
    ids
}

/// A local webhook receiver; returns its URL and what it received.
async fn receiver() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let got: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(v): axum::Json<serde_json::Value>| {
            let g = g.clone();
            async move {
                g.lock().push(v);
                "ok"
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, got)
}

fn runbook(mode: &str, webhook: &str, extra: &str) -> String {
    format!(
        r#"name: restart
mode: {mode}
confidence_threshold: 0.3
trigger: {{labels: {{service: api}}, alert_names: [HighErrorRate]}}
parameters:
  service: {{from: incident.labels.service, pattern: "[a-z]+"}}
  title: {{from: incident.title}}
target: "{{{{service}}}}"
preconditions: ['errors > 0']
steps:
  - name: mark
    command: [/usr/bin/touch, "ROOT/restarted"]
  - name: echo
    command: [/bin/echo, "{{{{title}}}}"]
  - name: tell
    webhook: {{url: "{webhook}", body: {{service: "{{{{service}}}}", note: "fix for {{{{title}}}}"}}}}
  - name: note
    annotate: "restarted {{{{service}}}}"
verification: {{query: 'errors < 1', within: 1s, interval: 100ms}}
rollback:
  - name: undo
    command: [/usr/bin/touch, "ROOT/rolled-back"]
{extra}"#
    )
}

async fn actions(db: &hush_sql::SqlStore) -> Vec<String> {
    db.list_audit(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn approved_run_acts_verifies_and_is_audited() {
    let (hook, got) = receiver().await;
    let f = fixture(&runbook("approve", &hook, ""), |_| {}).await;
    f.answers.set("errors > 0", true);
    f.answers.set("errors < 1", true);
    let inc = incident(&f.db, "API errors", "api").await;
    assert!(drive(&f.rem).await.is_empty(), "approve mode must wait");
    let runs = f.rem.runs();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run.state, RunState::PendingApproval);
    assert_eq!(run.incident, inc);
    assert_eq!(run.target, "api");
    assert!(
        run.confidence
            .reasons
            .iter()
            .any(|r| r.contains("HighErrorRate")),
        "{:?}",
        run.confidence
    );
    // Updating the incident does not create a second run.
    f.db.update_incident(
        inc,
        &hush_sql::IncidentPatch {
            title: Some("API errors!".into()),
            ..Default::default()
        },
        now_ms() + 1,
    )
    .await
    .unwrap();
    drive(&f.rem).await;
    assert_eq!(f.rem.runs().len(), 1);

    f.rem.approve(run.id, "token:alice").await.unwrap();
    assert_eq!(drive(&f.rem).await, [run.id]);
    let done = f.rem.run(run.id).unwrap();
    assert_eq!(done.state, RunState::Succeeded, "{done:#?}");
    assert!(f.root.join("restarted").exists());
    assert!(!f.root.join("rolled-back").exists());
    let body = got.lock().clone();
    assert_eq!(
        body,
        [serde_json::json!({"service": "api", "note": "fix for API errors"})]
    );
    let echo = &done
        .log
        .iter()
        .find(|s| s.name == "echo")
        .unwrap()
        .outcome
        .output;
    assert_eq!(echo["stdout"], "API errors\n");
    let inc_now = f.db.get_incident(inc).await.unwrap().unwrap();
    assert_eq!(inc_now.payload["annotations"][0]["text"], "restarted api");
    assert_eq!(
        actions(&f.db).await,
        [
            "remediation.run.created",
            "remediation.run.approved",
            "remediation.run.started",
            "remediation.precondition",
            "remediation.step",
            "remediation.step",
            "remediation.step",
            "remediation.step",
            "remediation.verification",
            "remediation.run.finished",
        ]
    );
    let approved = &f.db.list_audit(1, 1).await.unwrap()[0];
    assert_eq!(approved.actor, "token:alice");
    f.db.verify_audit_chain().await.unwrap();

    // A restart reads the record back: the pair is not acted on again, the outcome counts.
    let again = Remediator::open(
        RemediationConfig {
            runbooks_dir: Some(f.root.join("runbooks")),
            allowed_commands: vec![PathBuf::from("/usr/bin/touch"), PathBuf::from("/bin/echo")],
            ..RemediationConfig::default()
        },
        f.db.clone(),
        f.answers.clone(),
    )
    .await
    .unwrap();
    drive(&again).await;
    assert!(again.runs().is_empty());
    let inc2 = incident(&f.db, "API errors again", "api").await;
    drive(&again).await;
    let second = again
        .runs()
        .into_iter()
        .find(|r| r.incident == inc2)
        .unwrap();
    assert!(
        second.confidence.score > done.confidence.score,
        "{:?}",
        second.confidence
    );
    assert!(
        second
            .confidence
            .reasons
            .iter()
            .any(|r| r.contains("1 of 1")),
        "{:?}",
        second.confidence
    );
}

#[tokio::test]
async fn auto_run_rolls_back_when_verification_fails() {
    let (hook, _got) = receiver().await;
    let f = fixture(&runbook("auto", &hook, ""), |_| {}).await;
    f.answers.set("errors > 0", true);
    f.answers.set("errors < 1", false);
    incident(&f.db, "API errors", "api").await;
    let ids = drive(&f.rem).await;
    assert_eq!(
        ids.len(),
        1,
        "auto mode with enough confidence starts alone"
    );
    let run = f.rem.run(ids[0]).unwrap();
    assert_eq!(run.state, RunState::RolledBack, "{run:#?}");
    assert!(
        run.reason
            .as_deref()
            .unwrap()
            .contains("verification failed")
    );
    assert!(f.root.join("restarted").exists());
    assert!(f.root.join("rolled-back").exists());
    let acts = actions(&f.db).await;
    assert!(
        acts.contains(&"remediation.rollback".to_owned()),
        "{acts:?}"
    );
}

#[tokio::test]
async fn a_failed_precondition_acts_on_nothing() {
    let (hook, got) = receiver().await;
    let f = fixture(&runbook("auto", &hook, ""), |_| {}).await;
    f.answers.set("errors > 0", false);
    incident(&f.db, "API errors", "api").await;
    let ids = drive(&f.rem).await;
    let run = f.rem.run(ids[0]).unwrap();
    assert_eq!(run.state, RunState::Failed);
    assert!(run.reason.unwrap().contains("does not hold"));
    assert!(!f.root.join("restarted").exists());
    assert!(got.lock().is_empty());
}

#[tokio::test]
async fn the_rate_limit_blocks_runs_past_the_budget() {
    let (hook, _got) = receiver().await;
    let f = fixture(
        &runbook("auto", &hook, "limits: {max_runs_per_hour: 1}\n"),
        |_| {},
    )
    .await;
    f.answers.set("errors > 0", true);
    f.answers.set("errors < 1", true);
    incident(&f.db, "API errors 1", "api").await;
    assert_eq!(drive(&f.rem).await.len(), 1);
    incident(&f.db, "API errors 2", "api").await;
    assert!(drive(&f.rem).await.is_empty());
    let blocked: Vec<Run> = f
        .rem
        .runs()
        .into_iter()
        .filter(|r| r.state == RunState::Blocked)
        .collect();
    assert_eq!(blocked.len(), 1);
    assert!(
        blocked[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("max_runs_per_hour is 1"),
        "{:?}",
        blocked[0].reason
    );
    assert!(
        actions(&f.db)
            .await
            .contains(&"remediation.run.blocked".to_owned())
    );
}

#[tokio::test]
async fn the_kill_switch_cancels_queued_runs_and_refuses_approval() {
    let (hook, got) = receiver().await;
    let f = fixture(&runbook("approve", &hook, ""), |c| {
        c.max_concurrent_runs = 1
    })
    .await;
    f.answers.set("errors > 0", true);
    f.answers.set("errors < 1", true);
    incident(&f.db, "API errors 1", "api").await;
    incident(&f.db, "API errors 2", "api").await;
    drive(&f.rem).await;
    let runs = f.rem.runs();
    assert_eq!(runs.len(), 2);
    // One approved and queued, one still pending.
    f.rem.approve(runs[0].id, "token:alice").await.unwrap();
    let cancelled = f.rem.set_kill_switch(true, "token:bob").await.unwrap();
    assert_eq!(cancelled.len(), 2);
    assert!(drive(&f.rem).await.is_empty());
    for r in f.rem.runs() {
        assert_eq!(r.state, RunState::Cancelled);
        assert!(r.reason.unwrap().contains("token:bob"));
    }
    assert!(matches!(
        f.rem.approve(runs[1].id, "token:alice").await,
        Err(RemediationError::KillSwitch)
    ));
    assert!(!f.root.join("restarted").exists());
    assert!(got.lock().is_empty());
    // Released, nothing cancelled comes back.
    f.rem.set_kill_switch(false, "token:bob").await.unwrap();
    assert!(drive(&f.rem).await.is_empty());
    assert!(!f.root.join("restarted").exists());
}

#[tokio::test]
async fn dry_run_shows_exactly_what_would_run_and_changes_nothing() {
    let (hook, got) = receiver().await;
    let f = fixture(&runbook("approve", &hook, ""), |_| {}).await;
    f.answers.set("errors > 0", true);
    let inc = incident(&f.db, "API errors", "api").await;
    drive(&f.rem).await;
    let run = f.rem.runs().remove(0);
    let before = f.db.get_incident(inc).await.unwrap().unwrap();
    let plan = f.rem.dry_run(run.id, "token:alice").await.unwrap();
    let root = f.root.display().to_string();
    assert_eq!(
        plan["steps"],
        serde_json::json!([
            {"name": "mark", "action": {"kind": "command", "program": "/usr/bin/touch", "args": [format!("{root}/restarted")], "timeout_ms": 30000}},
            {"name": "echo", "action": {"kind": "command", "program": "/bin/echo", "args": ["API errors"], "timeout_ms": 30000}},
            {"name": "tell", "action": {"kind": "webhook", "method": "POST", "url": hook, "headers": {},
                "body": {"service": "api", "note": "fix for API errors"}, "timeout_ms": 30000}},
            {"name": "note", "action": {"kind": "annotate", "incident": inc, "text": "restarted api"}},
        ])
    );
    assert_eq!(
        plan["rollback"][0]["action"]["args"][0],
        format!("{root}/rolled-back")
    );
    assert_eq!(plan["preconditions"][0]["holds"], true);
    assert_eq!(plan["guardrails"]["allowed"], true);
    assert!(!f.root.join("restarted").exists());
    assert!(got.lock().is_empty());
    assert_eq!(f.db.get_incident(inc).await.unwrap().unwrap(), before);
    assert_eq!(f.rem.run(run.id).unwrap().state, RunState::PendingApproval);
}

#[tokio::test]
async fn incident_data_cannot_change_what_is_executed() {
    let (hook, got) = receiver().await;
    let f = fixture(&runbook("approve", &hook, ""), |_| {}).await;
    f.answers.set("errors > 0", true);
    f.answers.set("errors < 1", true);
    let pwned = f.root.join("pwned");
    let nasty = format!(
        "x; touch {p} && $(touch {p}) `touch {p}` | tee {p} > {p} ../../../etc/passwd '\"\\ {{{{service}}}} \n*",
        p = pwned.display()
    );
    incident(&f.db, &nasty, "api").await;
    drive(&f.rem).await;
    let run = f.rem.runs().remove(0);
    // The plan is the runbook's: same program, the title as one whole argument.
    let plan = f.rem.dry_run(run.id, "t").await.unwrap();
    assert_eq!(plan["steps"][1]["action"]["program"], "/bin/echo");
    assert_eq!(
        plan["steps"][1]["action"]["args"],
        serde_json::json!([nasty])
    );
    f.rem.approve(run.id, "t").await.unwrap();
    drive(&f.rem).await;
    let done = f.rem.run(run.id).unwrap();
    assert_eq!(done.state, RunState::Succeeded, "{done:#?}");
    let echo = &done
        .log
        .iter()
        .find(|s| s.name == "echo")
        .unwrap()
        .outcome
        .output;
    assert_eq!(echo["stdout"], format!("{nasty}\n"));
    assert!(!pwned.exists(), "a metacharacter was interpreted");
    // In the JSON body it stays one string value.
    assert_eq!(got.lock()[0]["note"], format!("fix for {nasty}"));

    // 1 MiB in the title: refused before anything is rendered into argv.
    let huge = "A".repeat(1 << 20);
    incident(&f.db, &huge, "api").await;
    assert!(drive(&f.rem).await.is_empty());
    let big = f
        .rem
        .runs()
        .into_iter()
        .find(|r| r.incident_title.starts_with("AAA"))
        .unwrap();
    assert_eq!(big.state, RunState::Blocked);
    assert!(
        big.reason
            .as_deref()
            .unwrap()
            .contains("is 1048576 bytes, remediation.max_param_bytes is 4096"),
        "{:?}",
        big.reason
    );
    assert_eq!(
        big.incident_title.chars().count(),
        201,
        "stored title is cut"
    );
    assert!(matches!(
        f.rem.approve(big.id, "t").await,
        Err(RemediationError::Conflict(_))
    ));
}

#[tokio::test]
async fn a_path_where_a_name_is_expected_is_refused() {
    let (hook, got) = receiver().await;
    // A trigger that does not look at the service, so only the parameter pattern stands guard.
    let rb = runbook("auto", &hook, "").replace("labels: {service: api}, ", "");
    let f = fixture(&rb, |_| {}).await;
    f.answers.set("errors > 0", true);
    incident(&f.db, "API errors", "../../etc").await;
    assert!(drive(&f.rem).await.is_empty());
    let run = f.rem.runs().remove(0);
    assert_eq!(run.state, RunState::Blocked);
    assert!(
        run.reason
            .as_deref()
            .unwrap()
            .contains("`../../etc` does not match"),
        "{:?}",
        run.reason
    );
    assert!(!f.root.join("restarted").exists());
    assert!(got.lock().is_empty());
}

#[tokio::test]
async fn a_broken_edit_keeps_the_working_runbooks() {
    let (hook, _got) = receiver().await;
    let f = fixture(&runbook("approve", &hook, ""), |_| {}).await;
    assert_eq!(f.rem.runbooks().0.len(), 1);
    // Make sure the modification time moves even on coarse clocks.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(
        f.root.join("runbooks/rb.yaml"),
        "name: restart\nmode: auto\n",
    )
    .unwrap();
    drive(&f.rem).await;
    let (rbs, errors) = f.rem.runbooks();
    assert_eq!(rbs.len(), 1);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].file.ends_with("rb.yaml"));
    std::fs::write(
        f.root.join("runbooks/other.yaml"),
        runbook("suggest", &hook, "").replace("name: restart", "name: other"),
    )
    .unwrap();
    std::fs::write(
        f.root.join("runbooks/rb.yaml"),
        runbook("approve", &hook, ""),
    )
    .unwrap();
    drive(&f.rem).await;
    let (rbs, errors) = f.rem.runbooks();
    assert_eq!(rbs.len(), 2, "{errors:?}");
    assert!(errors.is_empty());
}

#[tokio::test]
async fn more_incidents_than_a_page_are_all_seen_in_one_poll() {
    let (hook, _got) = receiver().await;
    let f = fixture(&runbook("suggest", &hook, ""), |_| {}).await;
    // Same update time for many rows, and more rows than one page.
    for i in 0..1_100 {
        f.db.create_incident(&hush_sql::NewIncident {
            title: format!("API errors {i}"),
            priority: hush_sql::Priority::new(2).unwrap(),
            opened_at: 1_000 + i / 300,
            payload: serde_json::json!({"labels": {"service": "api"}, "alerts": ["HighErrorRate"]}),
        })
        .await
        .unwrap();
    }
    drive(&f.rem).await;
    let runs = f.rem.runs();
    assert_eq!(runs.len(), 1_100);
    assert!(runs.iter().all(|r| r.state == RunState::Suggested));
    drive(&f.rem).await;
    assert_eq!(f.rem.runs().len(), 1_100);
}

#[tokio::test]
async fn runbooks_are_ranked_for_an_incident_by_confidence_and_record() {
    let (hook, _got) = receiver().await;
    let f = fixture(&runbook("approve", &hook, ""), |_| {}).await;
    f.answers.set("errors > 0", true);
    f.answers.set("errors < 1", true);
    let vague = "name: vague\nmode: suggest\ntrigger: {title_contains: errors}\nsteps:\n  - {name: s, annotate: hi}\n";
    std::fs::write(f.root.join("runbooks/vague.yaml"), vague).unwrap();
    let inc = incident(&f.db, "API errors", "api").await;
    drive(&f.rem).await;
    let row = f.db.get_incident(inc).await.unwrap().unwrap();
    let ranked = f.rem.rank(&row);
    let names: Vec<&str> = ranked.iter().map(|r| r.runbook.as_str()).collect();
    assert_eq!(names, ["restart", "vague"]);
    assert_eq!(ranked[0].record, Record::default());
    let before = ranked[0].confidence.score;
    let run = f
        .rem
        .runs()
        .into_iter()
        .find(|r| r.runbook == "restart")
        .unwrap();
    f.rem.approve(run.id, "t").await.unwrap();
    drive(&f.rem).await;
    assert_eq!(f.rem.run(run.id).unwrap().state, RunState::Succeeded);
    let ranked = f.rem.rank(&row);
    assert_eq!(
        ranked[0].record,
        Record {
            succeeded: 1,
            failed: 0
        }
    );
    assert!(ranked[0].confidence.score > before);
}
