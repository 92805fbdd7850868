//! Capacity through the server: a disk filling with a daily cycle, written with backdated
//! timestamps over remote_write, is predicted full within 10 % of the truth days ahead, with a
//! predictive alert; the forecast endpoint returns bands and refuses bad parameters with 400.

mod support;

use hush_model::{Labels, Sample, TimeSeries};
use serde_json::Value as J;
use support::*;

const STEP: i64 = 5 * 60 * 1000;
const DAY: i64 = 86_400_000;
const GB: f64 = 1e9;
const SIZE: f64 = 200.0 * GB;

/// Used bytes of the simulated disk `d` days after the start of the history: 70 GB growing
/// 10 GB/day with a 3 GB daily swing.
fn used(d: f64) -> f64 {
    70.0 * GB + 10.0 * GB * d + 3.0 * GB * (std::f64::consts::TAU * d).sin()
}

fn series(name: &str, samples: Vec<Sample>) -> TimeSeries {
    let l = Labels::from_pairs([
        ("__name__", name),
        ("instance", "db-1:9100"),
        ("mountpoint", "/"),
    ])
    .unwrap();
    TimeSeries::new(l, samples)
}

#[test]
fn filling_disk_is_predicted_and_alerted_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = hush(
        dir.path(),
        port,
        "capacity:\n  resources:\n    - name: disk\n      selector: 'node_filesystem_avail_bytes{mountpoint=\"/\"}'\n",
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // Nine days of history (inside the 15-day retention), ending now; the disk is full about
    // 4 days from now, inside the default 7-day alert horizon.
    let start = now - 9 * DAY;
    let day_of = |t: i64| (t - start) as f64 / DAY as f64;
    let truth = (0..)
        .map(|i| now + i * 60_000)
        .find(|&t| used(day_of(t)) >= SIZE)
        .unwrap();
    let ahead = (truth - now) as f64 / DAY as f64;
    assert!(
        ahead >= 3.0,
        "the prediction must be at least 3 days ahead, is {ahead:.2}"
    );
    let mut noise = 11u64;
    let mut normal = || {
        // Sum of 12 uniforms minus 6: a deterministic, roughly normal draw.
        (0..12)
            .map(|_| {
                noise = noise
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (noise >> 11) as f64 / (1u64 << 53) as f64
            })
            .sum::<f64>()
            - 6.0
    };
    let times: Vec<i64> = (0..)
        .map(|i| start + i * STEP)
        .take_while(|t| *t <= now)
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for chunk in times.chunks(288) {
            let avail: Vec<Sample> = chunk
                .iter()
                .map(|&t| Sample::new(t, SIZE - used(day_of(t)) - 0.5 * GB * normal()))
                .collect();
            let size: Vec<Sample> = chunk.iter().map(|&t| Sample::new(t, SIZE)).collect();
            let body = hush_ingest::encode_remote_write(&[
                series("node_filesystem_avail_bytes", avail),
                series("node_filesystem_size_bytes", size),
            ]);
            let r = c
                .post(format!("{base}/api/v1/write"))
                .body(body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        }

        let j: J = c
            .get(format!("{base}/api/v1/capacity"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let res = &j["data"]["resources"][0];
        assert_eq!(res["resource"], "disk", "{j}");
        assert_eq!(res["limit"].as_f64().unwrap(), SIZE, "{res}");
        let eta = res["exhaustion"].as_i64().expect("exhaustion predicted");
        let err = (eta - truth).abs() as f64 / (truth - now) as f64;
        assert!(err <= 0.10, "error {err:.3} of {ahead:.2} days: {res}");
        assert!(res["earliest"].as_i64().unwrap() <= eta, "{res}");
        assert!(
            ["critical", "high", "medium"].contains(&res["risk"].as_str().unwrap()),
            "{res}"
        );
        assert!(res["recommendedAdd"].as_f64().unwrap() > 0.0, "{res}");
        assert!(res["model"].as_str().unwrap().starts_with("line"), "{res}");
        assert!(res["backtestMase"].as_f64().is_some(), "{res}");
        let alerts = j["data"]["alerts"].as_array().unwrap();
        assert_eq!(alerts.len(), 1, "{j}");
        let a = &alerts[0];
        assert_eq!(a["name"], "CapacityExhaustionPredicted");
        assert!(
            a["endsAt"].is_null() && a["startsAt"].as_i64().unwrap() <= now + 60_000,
            "{a}"
        );
        assert!(
            a["summary"].as_str().unwrap().starts_with("disk: full in "),
            "{a}"
        );
        assert!(a["labels"].to_string().contains("db-1:9100"), "{a}");

        // Forecast endpoint: one day ahead at 1 h steps, bands around the point forecast.
        let q = "query=node_filesystem_avail_bytes&horizon=1d&step=1h&lookback=8d";
        let j: J = c
            .get(format!("{base}/api/v1/forecast?{q}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let f = &j["data"]["result"][0];
        let yhat = f["yhat"].as_array().unwrap_or_else(|| panic!("{j}"));
        assert_eq!(yhat.len(), 24, "{f}");
        let val = |p: &J| p[1].as_str().unwrap().parse::<f64>().unwrap();
        for i in 0..24 {
            let (lo, mid, hi) = (val(&f["lower"][i]), val(&yhat[i]), val(&f["upper"][i]));
            assert!(lo <= mid && mid <= hi, "step {i}: {lo} {mid} {hi}");
        }
        // Free space keeps falling: a day later the forecast is about 10 GB lower.
        let drop = val(&yhat[0]) - val(&yhat[23]);
        assert!(drop > 5.0 * GB && drop < 15.0 * GB, "{f}");
        for bad in [
            "query=node_filesystem_avail_bytes",
            "query=node_filesystem_avail_bytes&horizon=1d&interval=1.5",
            "query=node_filesystem_avail_bytes&horizon=1000d&step=1s",
            "query=node_filesystem_avail_bytes&horizon=soon",
            "query=sum(&horizon=1d",
        ] {
            let r = c
                .get(format!("{base}/api/v1/forecast?{bad}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "{bad}");
            let body: J = r.json().await.unwrap();
            assert!(
                !body["error"].as_str().unwrap_or("").is_empty(),
                "{bad}: {body}"
            );
        }
    });
}
