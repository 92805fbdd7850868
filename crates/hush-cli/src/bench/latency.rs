//! `hush bench latency`: how long a remote_write sample takes to become queryable. Each probe
//! writes one new series through one node and polls an instant query for it on another (in a
//! cluster: through the stream, the owner's consumer and the query fan-out), one probe at a
//! time so probes do not queue behind each other.

use anyhow::{Context, bail};
use hush_model::{Labels, Sample, TimeSeries};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct LatencyArgs {
    /// Where to write (remote_write URLs; probes take them in turn), e.g.
    /// http://127.0.0.1:9650/api/v1/write.
    #[arg(long = "write", required = true)]
    write: Vec<String>,
    /// Base URLs to query (probes take them in turn, offset by one from the writes so that a
    /// probe written to node k is read on node k+1 when the lists are the same nodes).
    #[arg(long = "query", required = true)]
    query: Vec<String>,
    /// Probes.
    #[arg(long, default_value_t = 200)]
    probes: usize,
    /// Interval between polls of the query.
    #[arg(long, default_value_t = 2)]
    poll_ms: u64,
    /// A probe not visible after this long fails the benchmark.
    #[arg(long, default_value_t = 30)]
    timeout_s: u64,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub async fn run(a: LatencyArgs) -> anyhow::Result<()> {
    if a.probes == 0 {
        bail!("--probes must be positive");
    }
    let client = reqwest::Client::new();
    let run_id = std::process::id();
    let mut took = Vec::with_capacity(a.probes);
    for k in 0..a.probes {
        let write = &a.write[k % a.write.len()];
        let base = a.query[(k + 1) % a.query.len()].trim_end_matches('/');
        let t = chrono::Utc::now().timestamp_millis();
        let probe = format!("{run_id}-{k}");
        let labels =
            Labels::from_pairs([("__name__", "hush_bench_probe"), ("probe", probe.as_str())])
                .context("probe labels")?;
        let body = hush_ingest::encode_remote_write(&[TimeSeries::new(
            labels,
            vec![Sample::new(t, k as f64)],
        )]);
        let query = format!(
            "{base}/api/v1/query?query=hush_bench_probe%7Bprobe%3D%22{probe}%22%7D&time={}",
            t as f64 / 1000.0
        );
        let began = Instant::now();
        let r = client
            .post(write)
            .header("Content-Encoding", "snappy")
            .header("Content-Type", "application/x-protobuf")
            .body(body)
            .send()
            .await
            .with_context(|| format!("writing probe {k} to {write}"))?;
        if !r.status().is_success() {
            bail!("{write} answered {} to probe {k}", r.status());
        }
        loop {
            let v: serde_json::Value = client
                .get(&query)
                .send()
                .await
                .with_context(|| format!("querying {base}"))?
                .json()
                .await
                .with_context(|| format!("undecodable answer from {base}"))?;
            if v["data"]["result"]
                .as_array()
                .is_some_and(|r| !r.is_empty())
            {
                break;
            }
            if began.elapsed() > Duration::from_secs(a.timeout_s) {
                bail!("probe {k} not queryable on {base} after {}s", a.timeout_s);
            }
            tokio::time::sleep(Duration::from_millis(a.poll_ms)).await;
        }
        took.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(f64::total_cmp);
    println!(
        "remote_write to queryable, {} probes: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        took.len(),
        pct(&took, 0.5),
        pct(&took, 0.9),
        pct(&took, 0.99),
        took[took.len() - 1]
    );
    Ok(())
}
