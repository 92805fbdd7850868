//! Crash safety: stream remote_write batches, SIGKILL the server mid-stream, restart it, and
//! find every acknowledged sample exactly once.

mod support;

use hush_model::{Labels, Sample, TimeSeries};
use serde_json::Value as J;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use support::*;

const SERIES: usize = 20;

fn batch(i: i64, base: i64) -> Vec<u8> {
    let series: Vec<TimeSeries> = (0..SERIES)
        .map(|s| {
            let l =
                Labels::from_pairs([("__name__", "crash_test"), ("s", &s.to_string())]).unwrap();
            TimeSeries::new(l, vec![Sample::new(base + i * 1000, i as f64)])
        })
        .collect();
    hush_ingest::encode_remote_write(&series)
}

#[test]
fn acknowledged_samples_survive_sigkill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        / 1000
        - 600)
        * 1000;
    let mut server = hush(dir.path(), port, "");
    // The highest batch index acknowledged with a 2xx; batches go out strictly one after another.
    let acked = Arc::new(AtomicI64::new(-1));
    let url = format!("http://127.0.0.1:{port}/api/v1/write");
    let sender = {
        let acked = acked.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let c = reqwest::Client::new();
                for i in 0..100_000i64 {
                    match c.post(&url).body(batch(i, base)).send().await {
                        Ok(r) if r.status().is_success() => acked.store(i, Ordering::SeqCst),
                        Ok(r) => panic!("batch {i} refused: {}", r.status()),
                        Err(_) => return, // the server is gone
                    }
                }
            })
        })
    };
    // Let a few hundred batches through, then kill -9 with requests in flight.
    while acked.load(Ordering::SeqCst) < 300 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = server.0.kill(); // SIGKILL
    let _ = server.0.wait();
    sender.join().unwrap();
    let last = acked.load(Ordering::SeqCst);
    assert!(last >= 300);

    let _server = hush(dir.path(), port, "");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let end = (base + (last + 2) * 1000) as f64 / 1000.0;
        let q = format!(
            "http://127.0.0.1:{port}/api/v1/query?query=count_over_time(crash_test%5B1h%5D)&time={end}"
        );
        let body: J = reqwest::get(&q).await.unwrap().json().await.unwrap();
        let result = body["data"]["result"].as_array().expect("result");
        assert_eq!(result.len(), SERIES, "{body}");
        for r in result {
            let n: i64 = r["value"][1].as_str().unwrap().parse().unwrap();
            // Every acknowledged batch (0..=last) once; the one in flight at the kill may or
            // may not have been written, never twice.
            assert!(n == last + 1 || n == last + 2, "series {}: {n} samples, {} acknowledged", r["metric"], last + 1);
        }
        // And the values are the right ones: the sum of 0..=last (plus the in-flight batch).
        let q = format!("http://127.0.0.1:{port}/api/v1/query?query=sum_over_time(crash_test%5B1h%5D)&time={end}");
        let body: J = reqwest::get(&q).await.unwrap().json().await.unwrap();
        for r in body["data"]["result"].as_array().unwrap() {
            let sum: f64 = r["value"][1].as_str().unwrap().parse().unwrap();
            let acked_sum = (last * (last + 1) / 2) as f64;
            assert!(sum == acked_sum || sum == acked_sum + (last + 1) as f64, "sum {sum} vs acknowledged {acked_sum}");
        }
    });
}
