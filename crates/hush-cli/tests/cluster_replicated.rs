//! The scale-out acceptance run: three NATS servers clustered on loopback (JetStream, the
//! stream and lease buckets with three replicas), the local PostgreSQL shared by three `hush
//! serve` nodes; remote_write and alerts streamed into all three; one NATS server and then the
//! leading Hush node (SIGKILL) die mid-stream. Afterwards every acknowledged sample is queryable exactly once
//! through any survivor, the dead node's shards moved within the lease, a spike on a moved
//! series is detected by its new owner, and the alerts formed one incident.

mod support;

use hush_engine::cluster::wire::shard_of;
use hush_model::{Labels, Sample, TimeSeries};
use serde_json::{Value as J, json};
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

const SERIES: usize = 30;
const SHARDS: u32 = 6;
const BATCHES: i64 = 260;
const KILL_NATS_AT: i64 = 50;
const KILL_NODE_AT: i64 = 140;
/// Past the detector's warm-up (150 points) and after the move.
const SPIKE_AT: i64 = 230;
const SPIKE: f64 = 1e6;
/// The batch whose alert starts the runbook: after the NATS server died, before the node.
const RUNBOOK_ALERT: i64 = 100;

fn labels(s: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", "replicated_test".to_string()),
        ("s", s.to_string()),
    ])
    .unwrap()
}

/// Batch `i`: every series at `base + i` seconds, value `i` (plus the spike on `spiked`).
fn batch(i: i64, base: i64, spiked: Option<usize>) -> Vec<u8> {
    let series: Vec<TimeSeries> = (0..SERIES)
        .map(|s| {
            let v = i as f64 + if spiked == Some(s) { SPIKE } else { 0.0 };
            TimeSeries::new(labels(s), vec![Sample::new(base + i * 1000, v)])
        })
        .collect();
    hush_ingest::encode_remote_write(&series)
}

fn postgres_schema() -> Option<String> {
    if std::env::var("HUSH_SKIP_POSTGRES").as_deref() == Ok("1") {
        return None;
    }
    let base = std::env::var("HUSH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!(
        "hush_replicated_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let out = Command::new("psql")
        .args([&base, "-q", "-c", &format!("CREATE SCHEMA {schema}")])
        .output()
        .expect("psql must be installed to create the test schema");
    assert!(
        out.status.success(),
        "PostgreSQL at {base} refused a schema ({}); start it, point HUSH_TEST_POSTGRES_URL at \
         one, or set HUSH_SKIP_POSTGRES=1 to skip on purpose",
        String::from_utf8_lossy(&out.stderr)
    );
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options[search_path]={schema}"))
}

/// Three clustered `nats-server`s; returns them and their client ports once JetStream is
/// healthy on each.
fn nats_cluster(dir: &std::path::Path) -> (Vec<Option<Proc>>, Vec<u16>) {
    let bin = require_binary("nats-server", "nats-server");
    let client: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let route: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let monitor: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut procs = Vec::new();
    for i in 0..3 {
        let routes: Vec<String> = (0..3)
            .filter(|j| *j != i)
            .map(|j| format!("nats://127.0.0.1:{}", route[j]))
            .collect();
        procs.push(Some(spawn(
            Command::new(&bin)
                .args(["-a", "127.0.0.1", "-p", &client[i].to_string()])
                .args(["-m", &monitor[i].to_string()])
                .args(["-n", &format!("nats-{i}"), "--cluster_name", "hush-test"])
                .args(["--cluster", &format!("nats://127.0.0.1:{}", route[i])])
                .args(["--routes", &routes.join(",")])
                .args(["-js", "-sd"])
                .arg(dir.join(format!("nats-{i}"))),
            &dir.join(format!("nats-{i}.log")),
        )));
    }
    for m in &monitor {
        wait_http(
            &format!("http://127.0.0.1:{m}/healthz"),
            Duration::from_secs(30),
        );
    }
    (procs, client)
}

async fn query(c: &reqwest::Client, port: u16, q: &str, at: f64) -> J {
    let q: String = q
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    c.get(format!(
        "http://127.0.0.1:{port}/api/v1/query?query={q}&time={at}"
    ))
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

#[test]
fn replicated_cluster_survives_a_nats_server_and_a_node_dying_mid_stream() {
    let Some(pg) = postgres_schema() else {
        eprintln!("skipped: HUSH_SKIP_POSTGRES=1");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (mut nats, nats_ports) = nats_cluster(dir.path());
    let urls: Vec<String> = nats_ports
        .iter()
        .map(|p| format!("'nats://127.0.0.1:{p}'"))
        .collect();
    let topology = dir.path().join("topology.yaml");
    std::fs::write(
        &topology,
        "services:\n  - {name: checkout, team: shop, dependsOn: [payments]}\n  - {name: payments, team: shop}\n",
    )
    .unwrap();
    // A runbook that acts alone on the incident once an alert sent between the NATS server's
    // death and the node's arrives; each run appends a line, so a second run would show.
    let runbooks = dir.path().join("runbooks");
    std::fs::create_dir_all(&runbooks).unwrap();
    let actions = dir.path().join("actions.log");
    std::fs::write(
        runbooks.join("record.yaml"),
        format!(
            "name: record\ndescription: appends a line per run\nmode: auto\nconfidence_threshold: 0.0\n\
             trigger:\n  alert_names: [Replicated{RUNBOOK_ALERT}]\nsteps:\n  - name: record\n    \
             command: [/bin/sh, -c, 'echo run >> {}']\n",
            actions.display()
        ),
    )
    .unwrap();
    let mut nodes = Vec::new();
    for id in ["a", "b", "c"] {
        let d = dir.path().join(id);
        std::fs::create_dir_all(&d).unwrap();
        let port = free_port();
        let cfg = format!(
            "cluster:\n  nats: [{}]\n  node_id: {id}\n  shards: {SHARDS}\n  lease: 3s\n  replicas: 3\n  query_timeout: 2s\n  checkpoint_interval: 2s\n\
             database:\n  url: '{pg}'\ntopology_file: {}\n\
             detection:\n  enabled: true\n  series: ['{{__name__=\"replicated_test\"}}']\n\
             remediation:\n  runbooks_dir: {}\n  allowed_commands: [/bin/sh]\n  poll_interval: 500ms\n",
            urls.join(", "),
            topology.display(),
            runbooks.display()
        );
        nodes.push((id, port, Some(hush(&d, port, &cfg))));
    }
    let ports: Vec<u16> = nodes.iter().map(|n| n.1).collect();
    let base = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        / 1000
        - 900)
        * 1000;
    let starts = chrono::DateTime::from_timestamp_millis(base)
        .unwrap()
        .to_rfc3339();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = reqwest::Client::new();
    rt.block_on(async {
        let start = Instant::now();
        loop {
            if let Some(s) = status(&c, ports[0]).await
                && let Some(o) = owners(&s)
                && ["a", "b", "c"].iter().all(|n| o.iter().any(|x| x == n))
                && s["leader"].is_string()
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(40),
                "shards never spread over three nodes with a leader"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    const NAMES: [&str; 3] = ["a", "b", "c"];
    let mut killed: Option<Instant> = None;
    // The node killed: the leader at the time, so correlation and remediation change hands.
    let mut dead = 2usize;
    // A series of a shard node c owns when it is killed: the spike on it must be detected by
    // its new owner.
    let mut spiked: Option<usize> = None;
    let mut moved: Option<Duration> = None;
    let mut incidents = std::collections::BTreeSet::new();
    let mut alerts_sent = 0;
    rt.block_on(async {
        for i in 0..BATCHES {
            let survivors: Vec<u16> = (0..3).filter(|n| *n != dead).map(|n| ports[n]).collect();
            let live: &[u16] = if killed.is_some() { &survivors } else { &ports };
            // Samples, then every tenth batch an alert, each to the next live node; retried on
            // the next one until acknowledged (a node's NATS server or the leader may be
            // changing).
            let mut sends = vec![("/api/v1/write", None)];
            if i % 10 == 0 {
                sends.push(("/api/v1/alerts", Some(format!("Replicated{i}"))));
            }
            for (path, alert) in sends {
                let mut k = i as usize;
                let mut tries = 0;
                loop {
                    let port = live[k % live.len()];
                    let url = format!("http://127.0.0.1:{port}{path}");
                    let r = match &alert {
                        None => {
                            let spike = if i == SPIKE_AT { spiked } else { None };
                            c.post(&url).body(batch(i, base, spike)).send().await
                        }
                        Some(name) => {
                            let body = json!([{
                                "labels": {"alertname": name, "service": "checkout", "namespace": "shop"},
                                "startsAt": starts,
                            }]);
                            c.post(&url).json(&body).send().await
                        }
                    };
                    if let Ok(r) = r
                        && r.status().is_success()
                    {
                        if alert.is_some() {
                            let v: J = r.json().await.unwrap();
                            let id = v["data"]["alerts"][0]["incident"].as_str();
                            incidents.insert(id.unwrap_or("none").to_string());
                            alerts_sent += 1;
                        }
                        break;
                    }
                    tries += 1;
                    assert!(tries < 100, "{path} of batch {i} was never acknowledged");
                    k += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            if i == KILL_NATS_AT {
                nats[0] = None; // SIGKILL on drop
            }
            if i == KILL_NODE_AT {
                // After the NATS server's death the shards may have been reshuffled: wait
                // until the leader owns some, so its death moves shards and the leadership.
                let start = Instant::now();
                let (lost, leader) = loop {
                    if let Some(s) = status(&c, ports[0]).await
                        && let Some(o) = owners(&s)
                        && let Some(l) = s["leader"].as_str()
                        && o.iter().any(|x| x == l)
                    {
                        break (o, l.to_string());
                    }
                    assert!(start.elapsed() < Duration::from_secs(40), "the leader never owned a shard");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                };
                dead = NAMES.iter().position(|n| *n == leader).unwrap();
                spiked = (0..SERIES).find(|s| lost[shard_of(&labels(*s), SHARDS) as usize] == leader);
                assert!(spiked.is_some(), "no series on {leader}'s shards {lost:?}");
                let mut p = nodes[dead].2.take().unwrap();
                let _ = p.0.kill(); // SIGKILL
                let _ = p.0.wait();
                killed = Some(Instant::now());
            }
            if let Some(t) = killed
                && moved.is_none()
                && let Some(s) = status(&c, survivors[0]).await
                && owners(&s).is_some_and(|o| o.iter().all(|x| *x != NAMES[dead]))
            {
                moved = Some(t.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let last = BATCHES - 1;
    let survivors: Vec<u16> = (0..3).filter(|n| *n != dead).map(|n| ports[n]).collect();
    rt.block_on(async {
        let start = Instant::now();
        let owners = loop {
            if let Some(s) = status(&c, survivors[0]).await
                && let Some(o) = owners(&s)
                && o.iter().all(|x| *x != NAMES[dead])
                && s["shard_owners"].as_array().unwrap().iter().all(|x| x["lag"] == 0)
            {
                moved.get_or_insert(killed.unwrap().elapsed());
                break o;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "shards never settled on the survivors"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let moved = moved.unwrap();
        eprintln!(
            "shards of the SIGKILLed node (the leader, {}) owned by the survivors {moved:?} after the kill (lease 3s)",
            NAMES[dead]
        );
        // Survivors claim just after the expiry, one lease after the last renewal (so at most
        // the lease after the kill); the slack is for a loaded machine.
        assert!(moved < Duration::from_secs(5), "took {moved:?}");

        // Every acknowledged sample exactly once, asked of either survivor (query fan-out).
        let end = (base + (last + 2) * 1000) as f64 / 1000.0;
        let want_count = (SERIES as i64 * (last + 1)) as f64;
        let want_sum = SERIES as f64 * (last * (last + 1) / 2) as f64 + SPIKE;
        // A new owner answers for a shard once it has replayed the shard's history; until
        // then the answer says the shard is missing (never silently short).
        let start = Instant::now();
        loop {
            let v = query(&c, survivors[0], "sum(count_over_time(replicated_test[1h]))", end).await;
            if v["warnings"].is_null() {
                break;
            }
            assert!(v["warnings"][0].as_str().unwrap().starts_with("partial result"), "{v}");
            assert!(start.elapsed() < Duration::from_secs(30), "never caught up: {v}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        for port in &survivors {
            let v = query(&c, *port, "sum(count_over_time(replicated_test[1h]))", end).await;
            assert!(v["warnings"].is_null(), "{v}");
            let n: f64 = v["data"]["result"][0]["value"][1].as_str().unwrap().parse().unwrap();
            assert_eq!(n, want_count, "{v}");
            let v = query(&c, *port, "sum(sum_over_time(replicated_test[1h]))", end).await;
            let s: f64 = v["data"]["result"][0]["value"][1].as_str().unwrap().parse().unwrap();
            assert_eq!(s, want_sum, "{v}");
        }

        // The spike on the moved series was detected by its new owner.
        let spiked = spiked.unwrap();
        let owner = &owners[shard_of(&labels(spiked), SHARDS) as usize];
        let port = ports[NAMES.iter().position(|n| n == owner).unwrap()];
        let spike_s = (base + SPIKE_AT * 1000) as f64 / 1000.0;
        let spiked_label = spiked.to_string();
        let start = Instant::now();
        loop {
            let v: J = c
                .get(format!("http://127.0.0.1:{port}/api/v1/anomalies?min_score=0.9"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let found = v["data"].as_array().unwrap().iter().any(|a| {
                a["labels"]["s"] == spiked_label.as_str() && a["time"].as_f64() == Some(spike_s)
            });
            if found {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no anomaly for the spike on moved series {spiked} at its owner {owner}: {v}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Detectors moved with the shards: the survivors took some over from checkpoints the
        // nodes saved every 2 s (through the object store, replicated, one NATS server down).
        let mut restored = 0.0;
        for port in &survivors {
            let text = c
                .get(format!("http://127.0.0.1:{port}/metrics"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            restored += text
                .lines()
                .find_map(|l| l.strip_prefix("hush_cluster_detectors_restored_total "))
                .map_or(0.0, |v| v.trim().parse::<f64>().unwrap());
        }
        eprintln!("series detectors taken over from checkpoints by the survivors: {restored}");
        assert!(restored > 0.0, "no detector was taken over from a checkpoint");

        // The alerts, sent through every node across a NATS server's and maybe the leader's
        // death, form one incident holding each of them once.
        assert_eq!(incidents.len(), 1, "{incidents:?}");
        let v: J = c
            .get(format!("http://127.0.0.1:{}/api/v1/incidents", survivors[1]))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let list = v["data"].as_array().unwrap();
        assert_eq!(list.len(), 1, "{v}");
        let id = list[0]["id"].as_str().unwrap();
        assert!(incidents.contains(id));
        let v: J = c
            .get(format!("http://127.0.0.1:{}/api/v1/incidents/{id}", survivors[0]))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["data"]["alerts"], alerts_sent, "{v}");

        // The runbook ran once, though the node leading remediation when its alert came died.
        let start = Instant::now();
        while !actions.exists() {
            assert!(start.elapsed() < Duration::from_secs(20), "the runbook never ran");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        let runs = std::fs::read_to_string(&actions).unwrap();
        assert_eq!(runs.lines().count(), 1, "runs: {runs:?}");
    });
}
