//! Notifications against real local receivers: a webhook and a Slack-compatible endpoint (an
//! axum server in the test) and SMTP (aiosmtpd). One message per incident when it opens, an
//! update when it grows, one when it resolves; silenced incidents send nothing.

mod alert_support;
mod support;

use alert_support::*;
use serde_json::{Value as J, json};
use std::time::Duration;
use support::*;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn alert(name: &str, service: &str, status: &str, starts: i64) -> J {
    let starts = chrono::DateTime::from_timestamp_millis(starts)
        .unwrap()
        .to_rfc3339();
    json!({"labels": {"alertname": name, "service": service, "severity": "critical"},
           "status": status, "startsAt": starts})
}

#[test]
fn one_message_per_incident_an_update_on_growth_one_on_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let hooks = Receiver::start();
    let smtp = Smtp::start(dir.path());
    let topo = dir.path().join("topology.yaml");
    std::fs::write(
        &topo,
        "services:\n  - {name: api, team: shop, dependsOn: [db]}\n  - {name: db, team: shop}\n  - {name: mailer, team: comms}\n",
    )
    .unwrap();
    let config = format!(
        "topology_file: {}\nincidents:\n  grace_period: 1s\n  notifications:\n    update_interval: 1s\n    channels:\n      - {{type: webhook, name: hook, url: '{}'}}\n      - {{type: slack, name: chat, url: '{}'}}\n      - {{type: email, name: mail, smtp: '127.0.0.1:{}', from: 'hush@example.com', to: ['oncall@example.com']}}\n",
        topo.display(),
        hooks.url("/hook"),
        hooks.url("/slack"),
        smtp.port
    );
    let port = free_port();
    let _hush = hush(dir.path(), port, &config);
    let base = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = reqwest::Client::new();
    let post = |body: J| {
        let c = c.clone();
        let url = format!("{base}/api/v1/alerts");
        rt.block_on(async move {
            let r = c.post(url).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<J>().await.unwrap()
        })
    };
    // A silence on the mailer: its incident notifies nobody.
    let r = rt.block_on(
        c.post(format!("{base}/api/v1/silences"))
            .json(&json!({"service": "mailer", "comment": "maintenance"}))
            .send(),
    );
    assert_eq!(r.unwrap().status(), 200);

    let t0 = now_ms() - 10_000;
    let j = post(json!([alert("HighLatency", "api", "firing", t0)]));
    let id = j["data"]["alerts"][0]["incident"]
        .as_str()
        .unwrap()
        .to_string();
    eventually(
        "the opening on every channel",
        Duration::from_secs(15),
        || {
            hooks.on("/hook").len() == 1
                && hooks.on("/slack").len() == 1
                && smtp.messages().len() == 1
        },
    );
    // A related alert grows the incident: one update.
    let j = post(json!([alert("SlowQueries", "db", "firing", t0 + 1)]));
    assert_eq!(j["data"]["alerts"][0]["incident"], id.as_str(), "{j}");
    // Re-sends are not growth.
    post(json!([alert("SlowQueries", "db", "firing", t0 + 1)]));
    let m = post(json!([alert("QueueBacklog", "mailer", "firing", t0)]));
    assert_ne!(m["data"]["alerts"][0]["incident"], id.as_str());
    eventually("the update", Duration::from_secs(15), || {
        hooks.on("/hook").len() == 2 && smtp.messages().len() == 2
    });
    // Both resolve: after the grace period, one resolve message.
    post(json!([
        alert("HighLatency", "api", "resolved", t0),
        alert("SlowQueries", "db", "resolved", t0 + 1)
    ]));
    eventually("the resolve", Duration::from_secs(15), || {
        hooks.on("/hook").len() == 3 && hooks.on("/slack").len() == 3 && smtp.messages().len() == 3
    });
    std::thread::sleep(Duration::from_millis(1500));

    let hook = hooks.on("/hook");
    let kinds: Vec<&str> = hook.iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["opened", "updated", "resolved"], "{hook:?}");
    assert!(
        hook.iter()
            .all(|m| m["incident"]["incident"] == id.as_str()),
        "{hook:?}"
    );
    assert_eq!(hook[1]["incident"]["alerts"], 2);
    let seq: Vec<i64> = hook
        .iter()
        .map(|m| m["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(seq, [1, 2, 3]);
    let slack: Vec<String> = hooks
        .on("/slack")
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert!(
        slack[0].contains("opened") && slack[2].contains("resolved"),
        "{slack:?}"
    );
    let mails = smtp.messages();
    assert_eq!(mails.len(), 3, "no more than three emails");
    assert!(
        mails.iter().all(|m| m.contains("Subject: [Hush P")),
        "{mails:?}"
    );
    let replies = mails.iter().filter(|m| m.contains("In-Reply-To:")).count();
    assert_eq!(
        replies, 2,
        "the update and the resolve thread under the opening: {mails:?}"
    );
    assert!(
        !hooks
            .on("/hook")
            .iter()
            .any(|m| m.to_string().contains("mailer")),
        "the silenced incident notified"
    );
}
