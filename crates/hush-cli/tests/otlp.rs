//! OTLP/HTTP metrics in, PromQL out: resource attributes become labels, histograms become
//! Prometheus buckets.

mod support;

use serde_json::{Value as J, json};
use support::*;

#[test]
fn otlp_json_gauge_sum_and_histogram_are_queryable() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = hush(dir.path(), port, "");
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let t = now_ns.to_string();
    let body = json!({
      "resourceMetrics": [{
        "resource": {"attributes": [
          {"key": "service.name", "value": {"stringValue": "checkout"}},
          {"key": "service.instance.id", "value": {"stringValue": "pod-1"}}
        ]},
        "scopeMetrics": [{"metrics": [
          {"name": "queue.depth", "gauge": {"dataPoints": [{"asDouble": 7.0, "timeUnixNano": t}]}},
          {"name": "requests", "sum": {"isMonotonic": true, "aggregationTemporality": 2,
             "dataPoints": [{"asInt": "42", "timeUnixNano": t, "attributes": [{"key": "http.route", "value": {"stringValue": "/pay"}}]}]}},
          {"name": "latency", "unit": "s", "histogram": {"aggregationTemporality": 2, "dataPoints": [{
             "timeUnixNano": t, "count": "4", "sum": 1.5, "bucketCounts": ["1", "2", "1"], "explicitBounds": [0.1, 0.5]}]}}
        ]}]
      }]
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let r = c
            .post(format!("http://127.0.0.1:{port}/v1/metrics"))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "{} {}",
            r.status(),
            r.text().await.unwrap()
        );
        let time = (now_ns / 1_000_000) as f64 / 1000.0;
        let q = |expr: &str| {
            let c = c.clone();
            let url = format!(
                "http://127.0.0.1:{port}/api/v1/query?query={}&time={time}",
                expr.replace(' ', "%20")
                    .replace('"', "%22")
                    .replace('{', "%7B")
                    .replace('}', "%7D")
            );
            async move { c.get(url).send().await.unwrap().json::<J>().await.unwrap() }
        };
        let j = q("queue_depth{service=\"checkout\",instance=\"pod-1\"}").await;
        assert_eq!(j["data"]["result"][0]["value"][1], "7", "{j}");
        let j = q("requests_total{http_route=\"/pay\"}").await;
        assert_eq!(j["data"]["result"][0]["value"][1], "42", "{j}");
        let j = q("histogram_quantile(0.5, latency_seconds_bucket)").await;
        let v: f64 = j["data"]["result"][0]["value"][1]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        // Cumulative buckets 1, 3, 4 over (0.1, 0.5, +Inf): the median falls in (0.1, 0.5].
        assert!(v > 0.1 && v <= 0.5, "{j}");
        // A body in a type Hush does not speak is refused with a clear 415.
        let r = c
            .post(format!("http://127.0.0.1:{port}/v1/metrics"))
            .header("Content-Type", "text/plain")
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 415);
    });
}
