//! A real Alertmanager (Debian's `prometheus-alertmanager`) whose webhook receiver is Hush:
//! alerts posted to Alertmanager's API v2 become one Hush incident. Then two Alertmanagers
//! sending the same alerts, as an HA pair whose members both notify, still make one incident
//! and one notification; resolving the alerts resolves it with one more message.

mod alert_support;
mod support;

use alert_support::*;
use serde_json::{Value as J, json};
use std::process::Command;
use std::time::Duration;
use support::*;

const TOKEN: &str = "alertmanager-token-0123456789";

fn alertmanager(dir: &std::path::Path, name: &str, hush_port: u16) -> (Proc, u16) {
    let bin = require_binary("prometheus-alertmanager", "prometheus-alertmanager");
    let port = free_port();
    let cfg = dir.join(format!("{name}.yml"));
    // One group for everything, sent after a short wait, so one webhook call carries the
    // storm; resolves are sent too (Hush closes incidents from them).
    std::fs::write(
        &cfg,
        format!(
            "route:\n  receiver: hush\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: hush\n    webhook_configs:\n      - url: http://127.0.0.1:{hush_port}/api/v1/alerts/alertmanager\n        send_resolved: true\n        http_config:\n          authorization:\n            credentials: {TOKEN}\n"
        ),
    )
    .unwrap();
    let p = spawn(
        Command::new(bin)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.path={}", dir.join(name).display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // Not clustered: both members notify, and Hush must fold the copies.
            .arg("--cluster.listen-address="),
        &dir.join(format!("{name}.log")),
    );
    wait_http(
        &format!("http://127.0.0.1:{port}/-/ready"),
        Duration::from_secs(30),
    );
    (p, port)
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339()
}

fn alerts(ends: Option<i64>) -> J {
    let now = chrono::Utc::now().timestamp_millis();
    let mk = |name: &str, svc: &str| {
        let mut a = json!({
            "labels": {"alertname": name, "service": svc, "severity": "critical"},
            "annotations": {"summary": format!("{name} on {svc}")},
            "startsAt": rfc3339(now - 120_000),
            "generatorURL": "http://prometheus/graph",
        });
        if let Some(e) = ends {
            a["endsAt"] = json!(rfc3339(e));
        }
        a
    };
    json!([mk("HighLatency", "api"), mk("SlowQueries", "db")])
}

#[test]
fn alertmanager_pair_yields_one_incident_and_one_notification() {
    let dir = tempfile::tempdir().unwrap();
    let hooks = Receiver::start();
    let topo = dir.path().join("topology.yaml");
    std::fs::write(
        &topo,
        "services:\n  - {name: api, team: shop, dependsOn: [db]}\n  - {name: db, team: shop}\n",
    )
    .unwrap();
    let hush_port = free_port();
    let config = format!(
        "auth:\n  tokens:\n    - {{name: am, token: {TOKEN}, role: write}}\ntopology_file: {}\nincidents:\n  grace_period: 1s\n  notifications:\n    update_interval: 1s\n    channels:\n      - {{type: webhook, name: hook, url: '{}'}}\n",
        topo.display(),
        hooks.url("/hook")
    );
    let _hush = hush(dir.path(), hush_port, &config);
    let (_am1, p1) = alertmanager(dir.path(), "am1", hush_port);
    let (_am2, p2) = alertmanager(dir.path(), "am2", hush_port);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = reqwest::Client::new();
    let post_to_both = |body: J| {
        rt.block_on(async {
            for p in [p1, p2] {
                let r = c
                    .post(format!("http://127.0.0.1:{p}/api/v2/alerts"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "alertmanager refused the alerts");
            }
        })
    };
    let get = |path: &str| -> J {
        rt.block_on(async {
            c.get(format!("http://127.0.0.1:{hush_port}{path}"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    };

    post_to_both(alerts(None));
    // Both members deliver: every alert is stored once, re-sent at least once.
    eventually(
        "both Alertmanagers' deliveries",
        Duration::from_secs(30),
        || {
            let a = get("/api/v1/alerts");
            let rows = a["data"].as_array().cloned().unwrap_or_default();
            rows.len() == 2 && rows.iter().all(|r| r["resends"].as_i64() >= Some(1))
        },
    );
    let inc = get("/api/v1/incidents");
    let list = inc["data"].as_array().unwrap();
    assert_eq!(list.len(), 1, "one incident: {inc}");
    assert_eq!(list[0]["alerts"], 2);
    assert_eq!(list[0]["state"], "open");
    let alerts_json = get("/api/v1/alerts");
    assert!(
        alerts_json["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["source"] == "alertmanager"),
        "{alerts_json}"
    );
    // Give any extra notification time to show up, then count.
    std::thread::sleep(Duration::from_secs(3));
    let sent = hooks.on("/hook");
    assert_eq!(sent.len(), 1, "one notification: {sent:?}");
    assert_eq!(sent[0]["kind"], "opened");
    assert_eq!(sent[0]["incident"]["alerts"], 2);

    // Resolving at both members resolves the incident: one more message.
    let now = chrono::Utc::now().timestamp_millis();
    post_to_both(alerts(Some(now - 1000)));
    eventually("the resolve notification", Duration::from_secs(30), || {
        hooks.on("/hook").len() >= 2
    });
    std::thread::sleep(Duration::from_secs(2));
    let sent = hooks.on("/hook");
    let kinds: Vec<&str> = sent.iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["opened", "resolved"], "{sent:?}");
    let inc = get("/api/v1/incidents");
    assert_eq!(inc["data"][0]["state"], "resolved", "{inc}");
}
