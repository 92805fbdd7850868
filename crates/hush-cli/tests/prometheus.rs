//! Against a real Prometheus and node_exporter: Prometheus scrapes node_exporter and
//! remote_writes to Hush while Hush scrapes the same node_exporter itself. Hush must hold both
//! paths' series, and answer PromQL over the remote-written data exactly as Prometheus answers
//! over its own copy.

mod support;

use serde_json::Value as J;
use std::process::Command;
use std::time::Duration;
use support::*;

async fn get(url: &str) -> J {
    let r = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status();
    let body: J = r.json().await.expect("json body");
    assert!(status.is_success(), "GET {url}: {status} {body}");
    body
}

fn enc(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `{labels → [(t, v)]}` of a query result, for comparison.
fn points(body: &J) -> std::collections::BTreeMap<String, Vec<(f64, f64)>> {
    let mut out = std::collections::BTreeMap::new();
    for r in body["data"]["result"].as_array().expect("result array") {
        let key = r["metric"].to_string();
        let pts: Vec<(f64, f64)> = match (r.get("value"), r.get("values")) {
            (Some(v), _) => vec![(
                v[0].as_f64().unwrap(),
                v[1].as_str().unwrap().parse().unwrap(),
            )],
            (_, Some(vs)) => vs
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    (
                        v[0].as_f64().unwrap(),
                        v[1].as_str().unwrap().parse().unwrap(),
                    )
                })
                .collect(),
            _ => panic!("no value in {r}"),
        };
        out.insert(key, pts);
    }
    out
}

fn assert_same(query: &str, ours: &J, theirs: &J) {
    let (a, b) = (points(ours), points(theirs));
    assert!(
        !b.is_empty(),
        "Prometheus returned nothing for `{query}`: {theirs}"
    );
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "series differ for `{query}`"
    );
    for (k, pa) in &a {
        let pb = &b[k];
        assert_eq!(pa.len(), pb.len(), "point count differs for `{query}` {k}");
        for ((ta, va), (tb, vb)) in pa.iter().zip(pb) {
            assert!(
                (ta - tb).abs() < 1e-6,
                "timestamps differ for `{query}` {k}"
            );
            let tol = 1e-9 * va.abs().max(vb.abs()).max(1.0);
            assert!(
                (va - vb).abs() <= tol || (va.is_nan() && vb.is_nan()),
                "`{query}` {k} at {ta}: hush {va} vs prometheus {vb}"
            );
        }
    }
}

#[test]
fn matches_real_prometheus_over_remote_written_node_exporter_data() {
    let prometheus = require_binary("prometheus", "prometheus");
    let node_exporter = require_binary("prometheus-node-exporter", "prometheus-node-exporter");
    let dir = tempfile::tempdir().unwrap();
    let (hush_port, ne_port, prom_port) = (free_port(), free_port(), free_port());

    let _ne = spawn(
        Command::new(&node_exporter).arg(format!("--web.listen-address=127.0.0.1:{ne_port}")),
        &dir.path().join("node_exporter.log"),
    );
    wait_http(
        &format!("http://127.0.0.1:{ne_port}/metrics"),
        Duration::from_secs(30),
    );
    let _hush = hush(
        dir.path(),
        hush_port,
        &format!(
            "scrape_configs:\n  - job_name: node-direct\n    scrape_interval: 5s\n    scrape_timeout: 4s\n    static_configs:\n      - targets: ['127.0.0.1:{ne_port}']\n"
        ),
    );
    let prom_cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &prom_cfg,
        format!(
            "global:\n  scrape_interval: 5s\n  scrape_timeout: 4s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['127.0.0.1:{ne_port}']\nremote_write:\n  - url: http://127.0.0.1:{hush_port}/api/v1/write\n    queue_config:\n      batch_send_deadline: 1s\n"
        ),
    )
    .unwrap();
    let _prom = spawn(
        Command::new(&prometheus)
            .arg(format!("--config.file={}", prom_cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("prom").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}")),
        &dir.path().join("prometheus.log"),
    );
    wait_http(
        &format!("http://127.0.0.1:{prom_port}/-/ready"),
        Duration::from_secs(60),
    );
    std::thread::sleep(Duration::from_secs(35));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let hush = format!("http://127.0.0.1:{hush_port}");
        let prom = format!("http://127.0.0.1:{prom_port}");
        // Leave time for the newest remote_write batch to land (Prometheus tails its WAL and
        // sends within the 1 s batch deadline; 10 s leaves a wide margin on a busy machine).
        let end = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 10) as f64;
        let start = end - 25.0;

        for job in ["node", "node-direct"] {
            let q = format!("node_cpu_seconds_total{{job=\"{job}\"}}");
            let r = get(&format!("{hush}/api/v1/query_range?query={}&start={start}&end={end}&step=5", enc(&q))).await;
            let n = r["data"]["result"].as_array().map_or(0, Vec::len);
            assert!(n > 0, "no `{q}` in Hush: {r}");
            let up = get(&format!("{hush}/api/v1/query?query={}&time={end}", enc(&format!("up{{job=\"{job}\"}}")))).await;
            assert_eq!(points(&up).values().next().map(|p| p[0].1), Some(1.0), "up for {job}: {up}");
        }

        let queries = [
            "rate(node_cpu_seconds_total{job=\"node\"}[30s])",
            "sum by (mode) (rate(node_cpu_seconds_total{job=\"node\"}[30s]))",
            "avg_over_time(node_memory_MemFree_bytes{job=\"node\"}[30s])",
            "irate(node_network_receive_bytes_total{job=\"node\"}[30s])",
            "max without (cpu) (increase(node_cpu_seconds_total{job=\"node\"}[30s]))",
            "node_memory_MemFree_bytes{job=\"node\"} / node_memory_MemTotal_bytes{job=\"node\"} > 0",
            "topk(3, node_cpu_seconds_total{job=\"node\"})",
        ];
        for q in queries {
            let path = format!("/api/v1/query?query={}&time={end}", enc(q));
            assert_same(q, &get(&format!("{hush}{path}")).await, &get(&format!("{prom}{path}")).await);
            let path = format!("/api/v1/query_range?query={}&start={start}&end={end}&step=5", enc(q));
            assert_same(q, &get(&format!("{hush}{path}")).await, &get(&format!("{prom}{path}")).await);
        }
    });
}
