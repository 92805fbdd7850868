//! `hush bench alerts`: alerts through HTTP into a running Hush at a target rate; reports the
//! rate sustained, the receive-to-incident latency (a `POST /api/v1/alerts` answers once its
//! alerts are correlated and stored with their incident), and the incident list's latency.

use anyhow::{Context, bail};
use serde_json::{Value as J, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct AlertsArgs {
    /// Hush's base URL.
    #[arg(long, default_value = "http://127.0.0.1:9650")]
    url: String,
    /// Target alerts per minute.
    #[arg(long, default_value_t = 100_000)]
    rate: u64,
    /// Seconds to send for.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Alerts per request (Alertmanager sends one group per request).
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Distinct services the alerts name (alerts of one service tend to group).
    #[arg(long, default_value_t = 200)]
    services: usize,
    /// Bearer token, if the server requires one.
    #[arg(long)]
    token: Option<String>,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub async fn run(a: AlertsArgs) -> anyhow::Result<()> {
    if a.batch == 0 || a.concurrency == 0 || a.rate == 0 {
        bail!("--batch, --concurrency and --rate must be positive");
    }
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/alerts", a.url.trim_end_matches('/'));
    let requests = (a.rate * a.seconds / 60).div_ceil(a.batch as u64);
    // Requests are released on a fixed schedule; latency counts from the scheduled time, so a
    // server falling behind shows as latency instead of a slower sender (no coordinated
    // omission).
    let every = Duration::from_secs_f64(60.0 * a.batch as f64 / a.rate as f64);
    let start = Instant::now() + Duration::from_millis(100);
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stamp = chrono::Utc::now().timestamp_millis();
    let mut workers = Vec::new();
    for _ in 0..a.concurrency {
        let (client, url, next, token) =
            (client.clone(), url.clone(), next.clone(), a.token.clone());
        let (batch, services) = (a.batch, a.services.max(1));
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= requests {
                    return (lat, errors);
                }
                let due = start + every.mul_f64(i as f64);
                tokio::time::sleep_until(due.into()).await;
                let alerts: Vec<J> = (0..batch)
                    .map(|k| {
                        let n = i * batch as u64 + k as u64;
                        json!({"labels": {
                            "alertname": format!("Bench{}", n % 7),
                            "service": format!("svc-{}", (n / 3) % services as u64),
                            "instance": format!("host-{n}"),
                            "run": stamp.to_string(),
                        }})
                    })
                    .collect();
                let mut req = client.post(&url).json(&alerts);
                if let Some(t) = &token {
                    req = req.bearer_auth(t);
                }
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        lat.push(due.elapsed().as_secs_f64() * 1000.0)
                    }
                    _ => errors += 1,
                }
            }
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await.context("bench worker failed")?;
        lat.extend(l);
        errors += e;
    }
    let took = start.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    let sent = lat.len() as f64 * a.batch as f64;
    println!(
        "alerts: {sent:.0} in {took:.1} s = {:.0} alerts/min (target {}), {errors} failed requests",
        sent / took * 60.0,
        a.rate
    );
    println!(
        "receive-to-incident latency per request of {}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        a.batch,
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN)
    );
    // The incident list with everything stored.
    let list = format!("{}/api/v1/incidents?limit=100", a.url.trim_end_matches('/'));
    let mut ll = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let mut req = client.get(&list);
        if let Some(tk) = &a.token {
            req = req.bearer_auth(tk);
        }
        let r = req.send().await.context("incident list")?;
        let ok = r.status().is_success();
        let _ = r.bytes().await;
        if ok {
            ll.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    ll.sort_by(f64::total_cmp);
    println!(
        "GET /api/v1/incidents?limit=100: p50 {:.1} ms, p99 {:.1} ms",
        pct(&ll, 0.5),
        pct(&ll, 0.99)
    );
    Ok(())
}
