//! Bad input to the ingest endpoints: each gets a 4xx naming the problem, the server keeps
//! serving, and what was stored before is unchanged.

mod support;

use hush_model::{Labels, Sample, TimeSeries};
use serde_json::Value as J;
use support::*;

fn good(t: i64) -> Vec<u8> {
    let l = Labels::from_pairs([("__name__", "ok_metric"), ("a", "1")]).unwrap();
    hush_ingest::encode_remote_write(&[TimeSeries::new(l, vec![Sample::new(t, 1.0)])])
}

/// A remote_write body built from raw label pairs (which `Labels` itself would refuse).
fn raw(labels: &[(&str, &str)], v: f64, t: i64) -> Vec<u8> {
    use hush_ingest::remote_write::{WireLabel, WireSample, WireSeries, WriteRequest};
    use prost::Message;
    let req = WriteRequest {
        timeseries: vec![WireSeries {
            labels: labels
                .iter()
                .map(|(n, v)| WireLabel {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            samples: vec![WireSample {
                value: Some(v),
                timestamp: t,
            }],
        }],
    };
    snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .unwrap()
}

#[test]
fn bad_requests_get_specific_4xx_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = hush(dir.path(), port, "limits:\n  max_body_bytes: 100000\n");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/api/v1/write");
        assert!(c.post(&url).body(good(now)).send().await.unwrap().status().is_success());
        let valid = good(now + 1000);
        let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
            ("truncated snappy", valid[..valid.len() / 2].to_vec(), 400, "bad_snappy"),
            ("invalid protobuf", snap::raw::Encoder::new().compress_vec(&[0xff, 0xff, 0xff, 0x07]).unwrap(), 400, "bad_protobuf"),
            ("NaN value", raw(&[("__name__", "m")], f64::NAN, now), 400, "non_finite_value"),
            ("+Inf value", raw(&[("__name__", "m")], f64::INFINITY, now), 400, "non_finite_value"),
            ("duplicate label", raw(&[("__name__", "m"), ("a", "1"), ("a", "2")], 1.0, now), 400, "duplicate_label_name"),
            ("empty label name", raw(&[("__name__", "m"), ("", "1")], 1.0, now), 400, "empty_label_name"),
            ("oversized body", vec![0u8; 200_000], 413, "max_body_bytes"),
        ];
        for (what, body, status, needle) in cases {
            let r = c.post(&url).body(body).send().await.unwrap();
            assert_eq!(r.status().as_u16(), status, "{what}");
            let j: J = r.json().await.unwrap_or_else(|e| panic!("{what}: body is not json: {e}"));
            let msg = j["error"].as_str().unwrap_or_default();
            assert!(msg.contains(needle), "{what}: message `{msg}` lacks `{needle}`");
        }
        // Still serving, and only the one good sample is stored.
        let q = format!("http://127.0.0.1:{port}/api/v1/query?query=count(%7B__name__%3D~%22.%2B%22%2C__name__!~%22up%7Cscrape_.*%22%7D)&time={}", (now + 2000) as f64 / 1000.0);
        let j: J = c.get(&q).send().await.unwrap().json().await.unwrap();
        assert_eq!(j["data"]["result"][0]["value"][1], "1", "{j}");
        let m = c.get(format!("http://127.0.0.1:{port}/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(m.contains("hush_requests_rejected_total{reason=\"bad_snappy\"} 1"), "{m}");
    });
}
