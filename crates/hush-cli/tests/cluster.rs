//! Cluster mode with real processes: three `hush serve` nodes on a NATS JetStream server,
//! remote_write streamed into all of them, one node SIGKILLed mid-stream; every acknowledged
//! sample is then found exactly once on its shard's owner.

mod support;

use hush_engine::cluster::wire::shard_of;
use hush_model::{Labels, Sample, TimeSeries};
use serde_json::Value as J;
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

const SERIES: usize = 30;
const SHARDS: u32 = 6;

fn labels(s: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", "cluster_test".to_string()),
        ("s", s.to_string()),
    ])
    .unwrap()
}

fn batch(i: i64, base: i64) -> Vec<u8> {
    let series: Vec<TimeSeries> = (0..SERIES)
        .map(|s| TimeSeries::new(labels(s), vec![Sample::new(base + i * 1000, i as f64)]))
        .collect();
    hush_ingest::encode_remote_write(&series)
}

#[test]
fn sigkill_of_a_node_mid_stream_loses_no_acknowledged_sample() {
    let nats_server = require_binary("nats-server", "nats-server");
    let dir = tempfile::tempdir().unwrap();
    let nats_port = free_port();
    let _nats = spawn(
        Command::new(nats_server)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &nats_port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(dir.path().join("nats")),
        &dir.path().join("nats.log"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", nats_port)).is_err() {
        assert!(Instant::now() < deadline, "nats-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut nodes = Vec::new();
    for id in ["a", "b", "c"] {
        let d = dir.path().join(id);
        std::fs::create_dir_all(&d).unwrap();
        let port = free_port();
        let cfg = format!(
            "cluster:\n  nats: ['nats://127.0.0.1:{nats_port}']\n  node_id: {id}\n  shards: {SHARDS}\n  lease: 3s\n"
        );
        nodes.push((id, port, hush(&d, port, &cfg)));
    }
    let ports: Vec<u16> = nodes.iter().map(|n| n.1).collect();
    let base = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        / 1000
        - 600)
        * 1000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = reqwest::Client::new();
    rt.block_on(async {
        let start = Instant::now();
        loop {
            if let Some(s) = status(&c, ports[0]).await
                && owners(&s)
                    .is_some_and(|o| ["a", "b", "c"].iter().all(|n| o.iter().any(|x| x == n)))
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "shards never spread over three nodes"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });

    // Batches go out one after another, round-robin over the live nodes; a batch is retried on
    // the next node until one acknowledges it.
    let mut killed: Option<Instant> = None;
    let mut moved: Option<Duration> = None;
    let mut last = -1i64;
    rt.block_on(async {
        for i in 0..150i64 {
            let live: Vec<u16> = if killed.is_some() {
                ports[..2].to_vec()
            } else {
                ports.clone()
            };
            let mut k = i as usize;
            let mut tries = 0;
            loop {
                let port = live[k % live.len()];
                let r = c
                    .post(format!("http://127.0.0.1:{port}/api/v1/write"))
                    .body(batch(i, base))
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status().is_success()) {
                    last = i;
                    break;
                }
                tries += 1;
                assert!(tries < 50, "batch {i} was never acknowledged");
                k += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if i == 60 {
                let _ = nodes[2].2.0.kill(); // SIGKILL
                let _ = nodes[2].2.0.wait();
                killed = Some(Instant::now());
            }
            if let Some(t) = killed
                && moved.is_none()
                && let Some(s) = status(&c, ports[0]).await
                && owners(&s).is_some_and(|o| o.iter().all(|x| x == "a" || x == "b"))
            {
                moved = Some(t.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    });
    assert_eq!(last, 149);
    rt.block_on(async {
        // Everything consumed, every shard on a survivor.
        let start = Instant::now();
        let owners = loop {
            if let Some(s) = status(&c, ports[0]).await
                && let Some(o) = owners(&s)
                && o.iter().all(|x| x == "a" || x == "b")
                && s["shard_owners"].as_array().unwrap().iter().all(|x| x["lag"] == 0)
            {
                moved.get_or_insert(killed.unwrap().elapsed());
                break o;
            }
            assert!(start.elapsed() < Duration::from_secs(40), "shards never settled on the survivors");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        eprintln!("shards of the SIGKILLed node owned by the survivors {:?} after the kill (lease 3s)", moved.unwrap());
        assert!(moved.unwrap() < Duration::from_secs(8), "took {:?}", moved.unwrap());
        let end = (base + (last + 2) * 1000) as f64 / 1000.0;
        for s in 0..SERIES {
            let owner = &owners[shard_of(&labels(s), SHARDS) as usize];
            let port = if owner == "a" { ports[0] } else { ports[1] };
            let q = |f: &str| {
                format!("http://127.0.0.1:{port}/api/v1/query?query={f}(cluster_test%7Bs%3D%22{s}%22%7D%5B1h%5D)&time={end}")
            };
            let body: J = c.get(q("count_over_time")).send().await.unwrap().json().await.unwrap();
            let n: i64 = body["data"]["result"][0]["value"][1].as_str().unwrap_or("0").parse().unwrap();
            assert_eq!(n, last + 1, "series {s} on its owner {owner}: {body}");
            let body: J = c.get(q("sum_over_time")).send().await.unwrap().json().await.unwrap();
            let sum: f64 = body["data"]["result"][0]["value"][1].as_str().unwrap().parse().unwrap();
            assert_eq!(sum, (last * (last + 1) / 2) as f64, "series {s}");
        }
    });
}
