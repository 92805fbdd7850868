//! Alerts to incidents through the real server: Alertmanager's webhook and the generic API,
//! re-sends, resolves with the grace period, operator changes with roles, the timeline, the
//! live stream, the topology file, bad input, and a restart that keeps open incidents.

mod support;

use serde_json::{Value as J, json};
use std::time::{Duration, Instant};
use support::*;

const READ: &str = "read-token-0123456789";
const WRITE: &str = "write-token-0123456789";
const OPS: &str = "ops-token-0123456789";
const ADMIN: &str = "admin-token-0123456789";

fn config(topology: &std::path::Path) -> String {
    format!(
        "auth:\n  tokens:\n    - {{name: grafana, token: {READ}, role: read}}\n    - {{name: am, token: {WRITE}, role: write}}\n    - {{name: alice, token: {OPS}, role: operator}}\n    - {{name: root, token: {ADMIN}, role: admin}}\n\
         topology_file: {}\nincidents:\n  grace_period: 1s\n",
        topology.display()
    )
}

const TOPOLOGY: &str = "services:\n  - {name: web, type: web, team: shop, criticality: high, dependsOn: [api]}\n  - {name: api, type: api, team: shop, dependsOn: [db]}\n  - {name: db, type: database, team: data, criticality: critical}\n  - {name: mailer, type: worker, team: comms}\n";

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// An Alertmanager webhook body for `alerts` of (alertname, service, status).
fn webhook(alerts: &[(&str, &str, &str)], starts: i64) -> J {
    let list: Vec<J> = alerts
        .iter()
        .map(|(name, svc, status)| {
            json!({
                "status": status,
                "labels": {"alertname": name, "service": svc, "severity": "critical"},
                "annotations": {"summary": format!("{name} on {svc}")},
                "startsAt": rfc3339(starts),
                "endsAt": if *status == "resolved" { rfc3339(starts + 60_000) } else { "0001-01-01T00:00:00Z".to_string() },
                "generatorURL": "http://prometheus/graph",
            })
        })
        .collect();
    json!({"version": "4", "receiver": "hush", "status": "firing", "groupKey": "{}:{}", "alerts": list})
}

struct Api {
    c: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(&self, m: reqwest::Method, path: &str, token: &str, body: Option<J>) -> (u16, J) {
        let mut r = self
            .c
            .request(m, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(J::Null))
    }
    async fn get(&self, path: &str) -> J {
        let (s, j) = self.send(reqwest::Method::GET, path, READ, None).await;
        assert_eq!(s, 200, "GET {path}: {j}");
        j
    }
    async fn post(&self, path: &str, body: J) -> (u16, J) {
        self.send(reqwest::Method::POST, path, WRITE, Some(body))
            .await
    }
    async fn incidents(&self, query: &str) -> Vec<J> {
        self.get(&format!("/api/v1/incidents{query}")).await["data"]
            .as_array()
            .unwrap()
            .clone()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn alerts_become_incidents_that_live_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let topo = dir.path().join("topology.yaml");
    std::fs::write(&topo, TOPOLOGY).unwrap();
    let port = free_port();
    let server = hush(dir.path(), port, &config(&topo));
    let api = Api {
        c: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
    };
    let t0 = now_ms() - 60_000;
    let rt = runtime();
    let id = rt.block_on(async {
        // The live stream, opened before anything happens.
        let mut stream = api
            .c
            .get(format!("{}/api/v1/incidents/stream", api.base))
            .bearer_auth(READ)
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), 200);

        // Two related alerts (api calls db) from Alertmanager: one incident.
        let body = webhook(&[("HighLatency", "api", "firing"), ("SlowQueries", "db", "firing")], t0);
        let (s, j) = api.post("/api/v1/alerts/alertmanager", body.clone()).await;
        assert_eq!(s, 200, "{j}");
        assert_eq!(j["data"]["accepted"], 2);
        let inc = j["data"]["alerts"][0]["incident"].as_str().unwrap().to_string();
        assert_eq!(j["data"]["alerts"][1]["incident"], inc.as_str(), "{j}");

        let mut seen = String::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !seen.contains("\"opened\"") {
            assert!(Instant::now() < deadline, "no `opened` event on the stream: {seen}");
            let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
                .await
                .expect("stream event")
                .unwrap()
                .unwrap();
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(seen.contains("event: incident") && seen.contains(&inc), "{seen}");

        // A re-send updates the same alerts: still one incident of two alerts.
        let (_, j) = api.post("/api/v1/alerts/alertmanager", body).await;
        assert_eq!(j["data"]["alerts"][0]["duplicate"], true, "{j}");
        let list = api.incidents("").await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0]["alerts"], 2);
        assert_eq!(list[0]["state"], "open");
        let alerts = api.get("/api/v1/alerts").await;
        let rows = alerts["data"].as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|a| a["resends"] == 1), "{alerts}");

        // An unrelated alert of another team through the generic API, no fingerprint given.
        let (s, j) = api
            .post("/api/v1/alerts", json!([{"labels": {"alertname": "QueueBacklog", "service": "mailer", "severity": "warning"}}]))
            .await;
        assert_eq!(s, 200, "{j}");
        let other = j["data"]["alerts"][0]["incident"].as_str().unwrap().to_string();
        assert_ne!(other, inc, "an unrelated service of another team must not join");
        assert_eq!(j["data"]["alerts"][0]["fingerprint"].as_str().unwrap().len(), 16);

        // Filters and pagination.
        assert_eq!(api.incidents("?service=mailer").await.len(), 1);
        assert_eq!(api.incidents("?service=db").await[0]["id"], inc.as_str());
        let page = api.get("/api/v1/incidents?limit=1").await;
        assert_eq!(page["data"].as_array().unwrap().len(), 1);
        let next = page["next"].as_i64().expect("a cursor");
        let rest = api.incidents(&format!("?limit=1&before={next}")).await;
        assert_eq!(rest.len(), 1);
        assert_ne!(rest[0]["id"], page["data"][0]["id"]);
        let (s, j) = api.send(reqwest::Method::GET, "/api/v1/incidents?priority=P9", READ, None).await;
        assert_eq!(s, 400);
        assert!(j["error"].as_str().unwrap().contains("priority"), "{j}");

        // Operator changes need the operator role, and land in the timeline.
        let path = format!("/api/v1/incidents/{inc}");
        let (s, _) = api
            .send(reqwest::Method::PATCH, &path, READ, Some(json!({"state": "acknowledged"})))
            .await;
        assert_eq!(s, 403);
        let (s, j) = api
            .send(reqwest::Method::PATCH, &path, OPS, Some(json!({"state": "acknowledged", "assignee": "alice", "note": "looking at the db"})))
            .await;
        assert_eq!(s, 200, "{j}");
        assert_eq!(j["data"]["state"], "acknowledged");
        assert_eq!(j["data"]["assignee"], "alice");
        let (s, j) = api
            .send(reqwest::Method::PATCH, &path, OPS, Some(json!({"state": "sleeping"})))
            .await;
        assert_eq!(s, 400);
        assert!(j["error"].as_str().unwrap().contains("sleeping"), "{j}");
        let (s, _) = api
            .send(reqwest::Method::PATCH, "/api/v1/incidents/0190f0a0-0000-7000-8000-000000000000", OPS, Some(json!({"note": "x"})))
            .await;
        assert_eq!(s, 404);
        let one = api.get(&path).await;
        assert_eq!(one["data"]["members"].as_array().unwrap().len(), 2, "{one}");
        let tl = api.get(&format!("{path}/timeline")).await;
        let kinds: Vec<&str> = tl["data"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        for want in ["alert", "incident.open", "incident.acknowledge", "incident.assign", "incident.note"] {
            assert!(kinds.contains(&want), "timeline lacks {want}: {kinds:?}");
        }
        let note = tl["data"].as_array().unwrap().iter().find(|e| e["kind"] == "incident.note").unwrap();
        assert_eq!(note["actor"], "token:alice");
        assert_eq!(note["details"]["text"], "looking at the db");

        // The topology file: read, refused when invalid, replaced by an admin only.
        let t = api.get("/api/v1/topology/file").await;
        assert_eq!(t["data"]["services"].as_array().unwrap().len(), 4);
        let put = |token: &'static str, body: &'static str| {
            let c = api.c.clone();
            let url = format!("{}/api/v1/topology/file", api.base);
            async move {
                let r = c.put(url).bearer_auth(token).body(body).send().await.unwrap();
                (r.status().as_u16(), r.json::<J>().await.unwrap_or(J::Null))
            }
        };
        let replacement = "services:\n  - {name: web, dependsOn: [api]}\n  - {name: api}\n";
        assert_eq!(put(OPS, replacement).await.0, 403);
        let (s, j) = put(ADMIN, "services:\n  - {name: web, dependsOn: [nowhere]}\n").await;
        assert_eq!(s, 400);
        assert!(j["error"].as_str().unwrap().contains("nowhere"), "{j}");
        let (s, j) = put(ADMIN, replacement).await;
        assert_eq!(s, 200, "{j}");
        assert_eq!(std::fs::read_to_string(&topo).unwrap(), replacement);
        assert_eq!(api.get("/api/v1/topology/file").await["data"]["services"].as_array().unwrap().len(), 2);
        inc
    });

    // A restart (SIGKILL) keeps the open incident, and a new related alert grows it.
    drop(server);
    let port = free_port();
    let _server = hush(dir.path(), port, &config(&topo));
    let api = Api {
        c: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
    };
    rt.block_on(async {
        let list = api.incidents("?state=acknowledged").await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0]["id"], id.as_str());
        let body = webhook(&[("HighErrorRate", "api", "firing")], t0 + 1000);
        let (s, j) = api.post("/api/v1/alerts/alertmanager", body).await;
        assert_eq!(s, 200, "{j}");
        assert_eq!(j["data"]["alerts"][0]["incident"], id.as_str(), "{j}");

        // Every alert resolves; after the grace period the incident does too.
        let body = webhook(
            &[
                ("HighLatency", "api", "resolved"),
                ("SlowQueries", "db", "resolved"),
                ("HighErrorRate", "api", "resolved"),
            ],
            t0,
        );
        let mut body = body;
        body["alerts"][2]["startsAt"] = json!(rfc3339(t0 + 1000));
        let (s, j) = api.post("/api/v1/alerts/alertmanager", body).await;
        assert_eq!(s, 200, "{j}");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let one = api.get(&format!("/api/v1/incidents/{id}")).await;
            if one["data"]["state"] == "resolved" {
                break;
            }
            assert!(Instant::now() < deadline, "incident did not resolve: {one}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let tl = api.get(&format!("/api/v1/incidents/{id}/timeline")).await;
        let resolve = tl["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "incident.resolve");
        assert_eq!(resolve.expect("resolve in timeline")["actor"], "engine");
        assert_eq!(
            api.get("/api/v1/alerts?status=firing").await["data"]
                .as_array()
                .unwrap()
                .len(),
            1,
            "only the mailer alert still fires"
        );
    });
}

#[test]
fn bad_alerts_get_specific_4xx_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let topo = dir.path().join("topology.yaml");
    std::fs::write(&topo, TOPOLOGY).unwrap();
    let port = free_port();
    let _server = hush(dir.path(), port, &config(&topo));
    let api = Api {
        c: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
    };
    runtime().block_on(async {
        let (s, _) = api
            .post(
                "/api/v1/alerts/alertmanager",
                webhook(&[("Ok", "api", "firing")], now_ms()),
            )
            .await;
        assert_eq!(s, 200);
        let huge: serde_json::Map<String, J> = (0..10_000)
            .map(|i| (format!("l{i}"), J::from("v")))
            .collect();
        let raw = |s: &str| s.as_bytes().to_vec();
        let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
            (
                "malformed JSON",
                "/api/v1/alerts/alertmanager",
                raw("{\"alerts\": [{"),
                400,
                "bad_json",
            ),
            (
                "missing alerts",
                "/api/v1/alerts/alertmanager",
                raw("{\"version\":\"4\"}"),
                400,
                "missing field `alerts`",
            ),
            (
                "missing labels",
                "/api/v1/alerts/alertmanager",
                raw(r#"{"alerts":[{"status":"firing","startsAt":"2026-01-01T00:00:00Z"}]}"#),
                400,
                "alert 0: missing field `labels`",
            ),
            (
                "missing status",
                "/api/v1/alerts/alertmanager",
                raw(r#"{"alerts":[{"labels":{"a":"b"},"startsAt":"2026-01-01T00:00:00Z"}]}"#),
                400,
                "missing field `status`",
            ),
            (
                "absurd timestamp",
                "/api/v1/alerts",
                raw(r#"[{"labels":{"a":"b"},"startsAt":"2999-01-01T00:00:00Z"}]"#),
                400,
                "bad_timestamp",
            ),
            (
                "ancient timestamp",
                "/api/v1/alerts",
                raw(r#"[{"labels":{"a":"b"},"startsAt":"1970-01-01T00:00:00Z"}]"#),
                400,
                "before the year 2000",
            ),
            (
                "10k labels",
                "/api/v1/alerts",
                serde_json::to_vec(&json!([{"labels": huge}])).unwrap(),
                400,
                "10000 labels",
            ),
            (
                "bad label name",
                "/api/v1/alerts",
                raw(r#"[{"labels":{"a":"b"}},{"labels":{"not-a-name":"x"}}]"#),
                400,
                "alert 1: invalid label name",
            ),
        ];
        for (what, path, body, status, needle) in cases {
            let r = api
                .c
                .post(format!("{}{path}", api.base))
                .bearer_auth(WRITE)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), status, "{what}");
            let j: J = r
                .json()
                .await
                .unwrap_or_else(|e| panic!("{what}: not json: {e}"));
            let msg = j["error"].as_str().unwrap_or_default();
            assert!(msg.contains(needle), "{what}: `{msg}` lacks `{needle}`");
        }
        // Nothing of a refused request was stored; the good alert and its incident are intact.
        let alerts = api.get("/api/v1/alerts").await;
        assert_eq!(alerts["data"].as_array().unwrap().len(), 1, "{alerts}");
        assert_eq!(alerts["data"][0]["name"], "Ok");
        assert_eq!(api.incidents("").await.len(), 1);
        let m = api
            .c
            .get(format!("{}/metrics", api.base))
            .bearer_auth(READ)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            m.contains("hush_requests_rejected_total{reason=\"too_many_labels\"} 1"),
            "{m}"
        );
    });
}

/// A generic-API alert of `name` on `service` (its own `instance`), firing or resolved, started
/// at `starts`.
fn generic(name: &str, service: &str, instance: &str, status: &str, starts: i64) -> J {
    json!({
        "labels": {"alertname": name, "service": service, "severity": "critical", "instance": instance},
        "status": status,
        "startsAt": rfc3339(starts),
        "endsAt": if status == "resolved" { json!(rfc3339(starts + 1_000)) } else { J::Null },
    })
}

#[test]
fn operators_merge_and_split_and_correlation_follows_and_learns_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let topo = dir.path().join("topology.yaml");
    std::fs::write(&topo, TOPOLOGY).unwrap();
    let port = free_port();
    let server = hush(dir.path(), port, &config(&topo));
    let api = Api {
        c: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
    };
    let t0 = now_ms() - 60_000;
    let rt = runtime();
    let post_as = |token: &'static str, path: String, body: J| {
        let api = &api;
        async move {
            api.send(reqwest::Method::POST, &path, token, Some(body))
                .await
        }
    };
    let kinds = |tl: &J| -> Vec<(String, String)> {
        tl["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["kind"].as_str().unwrap_or("").to_string(),
                    e["actor"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let (lat, slow, queue) = (
        generic("HighLatency", "api", "api-0", "firing", t0),
        generic("SlowQueries", "db", "db-0", "firing", t0),
        generic("QueueBacklog", "mailer", "mailer-0", "firing", t0),
    );
    let (i1, i2) = rt.block_on(async {
        let mut stream = api
            .c
            .get(format!("{}/api/v1/incidents/stream", api.base))
            .bearer_auth(READ)
            .send()
            .await
            .unwrap();
        let (s, j) = api.post("/api/v1/alerts", json!([lat, slow, queue])).await;
        assert_eq!(s, 200, "{j}");
        let at = |n: usize| {
            j["data"]["alerts"][n]["incident"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let slow_fp = j["data"]["alerts"][1]["fingerprint"]
            .as_str()
            .unwrap()
            .to_string();
        let (i1, i2) = (at(0), at(2));
        assert_eq!(at(1), i1, "api calls db: one incident cold");
        assert_ne!(i2, i1);

        // Read-only tokens may do neither.
        let split_path = format!("/api/v1/incidents/{i1}/split");
        let merge_path = |id: &str| format!("/api/v1/incidents/{id}/merge");
        let (s, _) = post_as(READ, split_path.clone(), json!({"alerts": [slow_fp]})).await;
        assert_eq!(s, 403);
        let (s, _) = post_as(READ, merge_path(&i2), json!({"into": i1})).await;
        assert_eq!(s, 403);

        // Refusals name the problem and change nothing.
        let unknown = "0190f0a0-0000-7000-8000-000000000000";
        for (path, body, status, says) in [
            (split_path.clone(), json!({"alerts": []}), 400, "empty"),
            (
                split_path.clone(),
                json!({"alerts": ["0000"]}),
                400,
                "`0000` is not in incident",
            ),
            (
                split_path.clone(),
                json!({"alerts": [slow_fp, j["data"]["alerts"][0]["fingerprint"]]}),
                400,
                "every alert",
            ),
            (
                split_path.clone(),
                json!({"fingerprints": []}),
                400,
                "invalid split",
            ),
            (
                format!("/api/v1/incidents/{unknown}/split"),
                json!({"alerts": [slow_fp]}),
                404,
                "not found",
            ),
            (merge_path(&i2), json!({"into": i2}), 400, "into itself"),
            (merge_path(&i2), json!({"into": unknown}), 404, "not found"),
            (
                merge_path(&i2),
                json!({"into": "nope"}),
                400,
                "invalid merge",
            ),
            (
                merge_path("nope"),
                json!({"into": i1}),
                400,
                "invalid incident id",
            ),
        ] {
            let (s, e) = post_as(OPS, path.clone(), body.clone()).await;
            assert_eq!(s, status, "{path} {body}: {e}");
            assert!(
                e["error"].as_str().unwrap().contains(says),
                "{path} {body}: {e}"
            );
        }
        assert_eq!(
            api.get(&format!("/api/v1/incidents/{i1}")).await["data"]["members"]
                .as_array()
                .unwrap()
                .len(),
            2
        );

        // Split the database alert off: a new incident holding it, recorded on both.
        let (s, j) = post_as(OPS, split_path.clone(), json!({"alerts": [slow_fp]})).await;
        assert_eq!(s, 200, "{j}");
        let new = j["data"]["new"]["id"].as_str().unwrap().to_string();
        assert_eq!(j["data"]["incident"]["alerts"], 1, "{j}");
        assert_eq!(j["data"]["new"]["alerts"], 1, "{j}");
        assert_eq!(j["data"]["new"]["services"], json!(["db"]), "{j}");
        assert_eq!(j["data"]["new"]["state"], "open");
        let members = |id: String| {
            let api = &api;
            async move {
                api.get(&format!("/api/v1/incidents/{id}")).await["data"]["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["fingerprint"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(members(new.clone()).await, vec![slow_fp.clone()]);
        assert!(!members(i1.clone()).await.contains(&slow_fp));
        for id in [&i1, &new] {
            let tl = api.get(&format!("/api/v1/incidents/{id}/timeline")).await;
            assert!(
                kinds(&tl).contains(&("incident.split".into(), "token:alice".into())),
                "{id}: {tl}"
            );
        }
        // A re-send of the split-off alert stays in the new incident.
        let (_, j) = api.post("/api/v1/alerts", json!([slow])).await;
        assert_eq!(j["data"]["alerts"][0]["incident"], new.as_str(), "{j}");

        // Merge the new incident into the mailer's: its alert moves, it resolves, both record it.
        let (s, j) = post_as(OPS, merge_path(&new), json!({"into": i2})).await;
        assert_eq!(s, 200, "{j}");
        assert_eq!(j["data"]["merged"]["state"], "resolved", "{j}");
        assert_eq!(j["data"]["merged"]["mergedInto"], i2.as_str(), "{j}");
        assert_eq!(j["data"]["into"]["alerts"], 2, "{j}");
        let mut got = members(i2.clone()).await;
        got.sort();
        assert!(got.contains(&slow_fp) && got.len() == 2, "{got:?}");
        assert!(members(new.clone()).await.is_empty());
        for id in [&new, &i2] {
            let tl = api.get(&format!("/api/v1/incidents/{id}/timeline")).await;
            assert!(
                kinds(&tl).contains(&("incident.merge".into(), "token:alice".into())),
                "{id}: {tl}"
            );
        }
        let audit = api.get("/api/v1/audit?limit=1000").await.to_string();
        assert!(audit.contains("incident.merge") && audit.contains("incident.split"));
        // Nothing merges into a merged or resolved incident, and a merged one does not move again.
        let (s, e) = post_as(OPS, merge_path(&i1), json!({"into": new})).await;
        assert_eq!(s, 409, "{e}");
        assert!(e["error"].as_str().unwrap().contains("merged into"), "{e}");
        let (s, _) = post_as(OPS, merge_path(&new), json!({"into": i1})).await;
        assert_eq!(s, 409);
        // The merged alert's re-send goes where it was merged.
        let (_, j) = api.post("/api/v1/alerts", json!([slow])).await;
        assert_eq!(j["data"]["alerts"][0]["incident"], i2.as_str(), "{j}");

        // The stream said so.
        let mut seen = String::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !(seen.contains("\"merged\"") && seen.contains("\"split\"")) {
            assert!(
                Instant::now() < deadline,
                "no merged and split events: {seen}"
            );
            let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
                .await
                .expect("stream event")
                .unwrap()
                .unwrap();
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        (i1, i2)
    });

    // What was learned is on disk at once.
    let saved: J =
        serde_json::from_slice(&std::fs::read(dir.path().join("data/correlation.json")).unwrap())
            .unwrap();
    assert!(
        saved["verdicts"].as_array().is_some_and(|v| v.len() == 2),
        "{saved}"
    );

    // A restart keeps the grouping operators made.
    drop(server);
    let port = free_port();
    let server = hush(dir.path(), port, &config(&topo));
    let api = Api {
        c: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
    };
    rt.block_on(async {
        let (_, j) = api.post("/api/v1/alerts", json!([slow, lat])).await;
        assert_eq!(j["data"]["alerts"][0]["incident"], i2.as_str(), "{j}");
        assert_eq!(j["data"]["alerts"][1]["incident"], i1.as_str(), "{j}");
        // Everything resolves (grace 1 s).
        let over: Vec<J> = [
            ("HighLatency", "api", "api-0"),
            ("SlowQueries", "db", "db-0"),
            ("QueueBacklog", "mailer", "mailer-0"),
        ]
        .iter()
        .map(|(n, s, i)| generic(n, s, i, "resolved", t0))
        .collect();
        let (s, j) = api.post("/api/v1/alerts", J::Array(over)).await;
        assert_eq!(s, 200, "{j}");
        let deadline = Instant::now() + Duration::from_secs(15);
        while !api.incidents("?state=open").await.is_empty() {
            assert!(Instant::now() < deadline, "incidents did not resolve");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });

    // After another restart, with nothing open, only the learned state remembers: the same
    // kinds on other instances, which grouped cold at the start, now stay apart.
    drop(server);
    let port = free_port();
    let _server = hush(dir.path(), port, &config(&topo));
    let api = Api {
        c: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
    };
    rt.block_on(async {
        let t1 = now_ms();
        let again = json!([
            generic("HighLatency", "api", "api-1", "firing", t1),
            generic("SlowQueries", "db", "db-1", "firing", t1),
        ]);
        let (s, j) = api.post("/api/v1/alerts", again).await;
        assert_eq!(s, 200, "{j}");
        let (a, b) = (
            &j["data"]["alerts"][0]["incident"],
            &j["data"]["alerts"][1]["incident"],
        );
        assert!(a.is_string() && b.is_string(), "{j}");
        assert_ne!(a, b, "the split was forgotten: {j}");
    });
}
