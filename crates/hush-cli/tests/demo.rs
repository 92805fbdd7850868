//! `hush demo` end to end: the server comes up, the simulated estate's metrics, logs and
//! alerts reach it through its public APIs, the server's own incident names the simulator's
//! true root cause, `GET /api/v1/incidents` shows it, and SIGINT stops everything cleanly.

mod support;

use serde_json::Value as J;
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

const SCENARIO: &str = "db-slowdown";
const SEED: u64 = 1;

/// The fault's root-cause service; places do not depend on the start time.
fn true_root_cause() -> String {
    let scenario = hush_sim::Scenario::parse(SCENARIO).unwrap();
    let sim = hush_sim::Simulation::new(SEED, scenario, 0, 15_000).unwrap();
    sim.truth().incidents[0].root_cause.service.clone()
}

#[test]
fn demo_names_the_true_root_cause_in_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // 40 simulated minutes put the fault about 13 minutes in; a debug build steps them in
    // well under 20 s, so the speed only caps, it does not slow the test.
    let mut demo = spawn(
        Command::new(env!("CARGO_BIN_EXE_hush"))
            .args(["demo", "--scenario", SCENARIO, "--seed", &SEED.to_string()])
            .args(["--speed", "1200", "--duration", "40m"])
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(dir.path().join("data")),
        &dir.path().join("demo.log"),
    );
    let log = || std::fs::read_to_string(dir.path().join("demo.log")).unwrap_or_default();
    wait_http(
        &format!("http://127.0.0.1:{port}/-/ready"),
        Duration::from_secs(30),
    );
    let want = true_root_cause();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let found: Option<J> = rt.block_on(async {
        let c = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/api/v1/incidents");
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if let Ok(r) = c.get(&url).send().await
                && let Ok(j) = r.json::<J>().await
                && let Some(hit) = j["data"].as_array().and_then(|l| {
                    l.iter()
                        .find(|i| i["rootCause"]["service"] == want.as_str())
                })
            {
                return Some(hit.clone());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        None
    });
    let hit = found.unwrap_or_else(|| panic!("no incident named {want}; output:\n{}", log()));
    for field in [
        "id",
        "openedAt",
        "priority",
        "services",
        "alerts",
        "rootCause",
    ] {
        assert!(!hit[field].is_null(), "missing `{field}` in {hit}");
    }
    assert!(
        hit["rootCause"]["evidence"]
            .as_array()
            .is_some_and(|e| !e.is_empty()),
        "{hit}"
    );

    // The terminal summary names it too, and Ctrl-C (SIGINT) stops the process cleanly.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !log().contains("verdict:") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = log();
    assert!(
        out.contains(&format!("root cause: {want}")),
        "summary does not name {want}:\n{out}"
    );
    assert!(out.contains("verdict: right"), "{out}");
    let pid = demo.0.id().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = demo.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "demo did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "demo exited with {status}:\n{}", log());
}
