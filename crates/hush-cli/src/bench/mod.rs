//! `hush bench`: fixed-dataset benchmarks of the metric path, printed as plain figures.
//!
//! - `store`: remote_write decode + append throughput on one thread, resident memory per
//!   active series, and bytes per sample on disk after compaction.
//! - `replay`: the same seeded remote_write stream sent to any receiver (Hush, or Prometheus
//!   with `--web.enable-remote-write-receiver`), for back-to-back throughput comparisons.
//! - `alerts`: alerts through HTTP into a running Hush (`bench/alerts.rs`).
//! - `latency`: remote_write to queryable, one probe at a time (`bench/latency.rs`).

mod alerts;
mod dataset;
mod latency;

use anyhow::Context;
use dataset::Dataset;
use hush_store::{FsyncPolicy, Options, Store};
use std::time::{Duration, Instant};

#[derive(clap::Subcommand)]
pub enum BenchCmd {
    /// Ingest throughput, memory per active series, and on-disk bytes per sample.
    Store(StoreArgs),
    /// Send a seeded node_exporter-like remote_write stream to a receiver and time it.
    Replay(ReplayArgs),
    /// Alerts through HTTP at a target rate: sustained rate, receive-to-incident latency, and
    /// the incident list's latency.
    Alerts(alerts::AlertsArgs),
    /// How long a remote_write sample takes to become queryable (p50/p90/p99), written to one
    /// node and read on another.
    Latency(latency::LatencyArgs),
}

#[derive(clap::Args)]
pub struct StoreArgs {
    /// Hosts for the memory and throughput phase (about 340 series each).
    #[arg(long, default_value_t = 300)]
    hosts: usize,
    /// Scrapes (15 s apart) for the memory and throughput phase.
    #[arg(long, default_value_t = 120)]
    scrapes: usize,
    /// Hosts for the compression phase, which runs a full day of scrapes.
    #[arg(long, default_value_t = 10)]
    compression_hosts: usize,
    /// Series per remote_write request (Prometheus 2.42 sends up to 500 samples per request).
    #[arg(long, default_value_t = 500)]
    batch: usize,
}

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// Receiver URL, e.g. http://127.0.0.1:9650/api/v1/write; repeated, requests go to each in
    /// turn (the nodes of a cluster).
    #[arg(long, required = true)]
    url: Vec<String>,
    #[arg(long, default_value_t = 100)]
    hosts: usize,
    #[arg(long, default_value_t = 120)]
    scrapes: usize,
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Requests in flight at once (Prometheus' remote_write shards; it scales up to 200).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
}

pub fn run(cmd: BenchCmd) -> anyhow::Result<()> {
    match cmd {
        BenchCmd::Store(a) => store(a),
        BenchCmd::Replay(a) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            tokio::runtime::Runtime::new()?.block_on(replay(a))
        }
        BenchCmd::Alerts(a) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            tokio::runtime::Runtime::new()?.block_on(alerts::run(a))
        }
        BenchCmd::Latency(a) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            tokio::runtime::Runtime::new()?.block_on(latency::run(a))
        }
    }
}

/// User + system CPU seconds of this process so far (all threads, WAL writer included).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the file: 12 and 13 after the state field.
    (ticks(11) + ticks(12)) / 100.0
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Encodes one scrape as remote_write bodies of at most `batch` series.
fn bodies(ds: &mut Dataset, t: i64, batch: usize) -> Vec<Vec<u8>> {
    ds.scrape(t)
        .chunks(batch)
        .map(hush_ingest::encode_remote_write)
        .collect()
}

fn store(a: StoreArgs) -> anyhow::Result<()> {
    let limits = hush_ingest::Limits::default();
    let dir = tempfile::tempdir().context("temp dir")?;
    let opts = Options {
        fsync: FsyncPolicy::Never,
        retention: Duration::from_secs(30 * 86_400),
        ..Options::default()
    };

    // Phase 1: throughput and memory.
    let mut ds = Dataset::new(a.hosts, 1);
    let series = ds.series_count();
    let t0 = 1_700_000_000_000i64;
    let before = rss_bytes();
    let st = Store::open(dir.path().join("mem"), opts.clone())?;
    let (mut decode, mut append, mut samples) = (Duration::ZERO, Duration::ZERO, 0u64);
    let (mut cpu, mut encoded) = (0.0f64, Vec::new());
    for i in 0..a.scrapes {
        let t = t0 + i as i64 * ds.interval_ms;
        // Encode first so the CPU clock below covers only decode and append.
        encoded.clear();
        encoded.extend(bodies(&mut ds, t, a.batch));
        let c0 = cpu_seconds();
        for body in &encoded {
            let s = Instant::now();
            let ts = hush_ingest::decode_remote_write(body, &limits)?;
            let m = Instant::now();
            let out = st.append_blocking(ts)?;
            append += m.elapsed();
            decode += m - s;
            samples += out.stored;
        }
        cpu += cpu_seconds() - c0;
    }
    let after = rss_bytes();
    let total = decode + append;
    println!(
        "dataset: {series} series (node_exporter-like, {} hosts), {} scrapes, {samples} samples",
        a.hosts, a.scrapes
    );
    println!(
        "remote_write decode:          {:>12.0} samples/s",
        samples as f64 / decode.as_secs_f64()
    );
    println!(
        "store append (fsync never):   {:>12.0} samples/s",
        samples as f64 / append.as_secs_f64()
    );
    println!(
        "decode + append, one thread:  {:>12.0} samples/s wall",
        samples as f64 / total.as_secs_f64()
    );
    println!(
        "decode + append per CPU-second: {:>10.0} samples/s (user+system time of all threads)",
        samples as f64 / cpu.max(1e-9)
    );
    let stats = st.stats();
    println!(
        "resident memory per active series: {:.0} bytes ({} active series, head chunks {} bytes, RSS +{} KiB)",
        after.saturating_sub(before) as f64 / stats.active_series.max(1) as f64,
        stats.active_series,
        stats.head_bytes,
        after.saturating_sub(before) / 1024
    );
    drop(st);

    // Phase 2: a day of data, flushed every two hours, then compacted into one block.
    let mut ds = Dataset::new(a.compression_hosts, 2);
    let st = Store::open(dir.path().join("disk"), opts)?;
    let per_flush = (2 * 3_600_000 / ds.interval_ms) as usize;
    let day = (86_400_000 / ds.interval_ms) as usize;
    let start = t0 - t0.rem_euclid(86_400_000);
    for i in 0..=day {
        let t = start + i as i64 * ds.interval_ms;
        let ts = ds.scrape(t);
        st.append_blocking(ts)?;
        if i > 0 && i % per_flush == 0 {
            st.flush()?;
        }
    }
    let before_compact = st.stats();
    let r = st.compact()?;
    let s = st.stats();
    // The last scrape (next day) stays in the head; blocks hold the compacted day.
    println!(
        "on disk after compaction: {:.3} bytes/sample ({} samples in {} bytes; {} blocks merged into {}; before: {:.3} bytes/sample)",
        s.block_bytes as f64 / s.block_samples.max(1) as f64,
        s.block_samples,
        s.block_bytes,
        r.blocks_merged,
        s.blocks,
        before_compact.block_bytes as f64 / before_compact.block_samples.max(1) as f64,
    );
    Ok(())
}

async fn replay(a: ReplayArgs) -> anyhow::Result<()> {
    let mut ds = Dataset::new(a.hosts, 3);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let start = now - a.scrapes as i64 * ds.interval_ms;
    // Scrape order is kept: request k is sent only after every request of earlier scrapes
    // was started, as a remote_write shard would.
    let mut stream = Vec::new();
    for i in 0..a.scrapes {
        let t = start + i as i64 * ds.interval_ms;
        stream.push(bodies(&mut ds, t, a.batch));
    }
    let samples = (ds.series_count() * a.scrapes) as f64;
    let client = reqwest::Client::new();
    let retried = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let began = Instant::now();
    let mut k = 0usize;
    for scrape in stream {
        let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(a.concurrency));
        let mut tasks = Vec::new();
        for body in scrape {
            let permit = sem.clone().acquire_owned().await?;
            let (c, url) = (client.clone(), a.url[k % a.url.len()].clone());
            k += 1;
            let retried = retried.clone();
            tasks.push(tokio::spawn(async move {
                // Backpressure (429, or 503 while a cluster's stream is unavailable) is
                // retried as Prometheus does, and counted.
                loop {
                    let r = c
                        .post(&url)
                        .header("Content-Encoding", "snappy")
                        .header("Content-Type", "application/x-protobuf")
                        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                        .body(body.clone())
                        .send()
                        .await;
                    match &r {
                        Ok(resp)
                            if resp.status() == reqwest::StatusCode::TOO_MANY_REQUESTS
                                || resp.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE =>
                        {
                            retried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        _ => {
                            drop(permit);
                            return r;
                        }
                    }
                }
            }));
        }
        for t in tasks {
            let r = t.await??;
            anyhow::ensure!(r.status().is_success(), "receiver answered {}", r.status());
        }
    }
    let secs = began.elapsed().as_secs_f64();
    println!(
        "replayed {samples} samples ({} series x {} scrapes) in {secs:.2} s: {:.0} samples/s ({} requests retried after 429/503)",
        ds.series_count(),
        a.scrapes,
        samples / secs,
        retried.load(std::sync::atomic::Ordering::Relaxed)
    );
    Ok(())
}
