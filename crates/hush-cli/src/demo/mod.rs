//! `hush demo`: a real server on the embedded store, fed by the simulated online shop at
//! accelerated time, with incidents and their named root causes in the terminal and at
//! `GET /api/v1/incidents`.
//!
//! Everything goes to the server through its public APIs, as real sources would send it:
//! metrics by remote_write, logs and traces by OTLP, changes to the change API and alerts as
//! Alertmanager webhooks; the incidents and root causes shown are the server's own, scored
//! against the simulator's ground truth. The server's clock follows simulated time.

mod board;
mod driver;
pub mod eval;
mod follow;
mod publish;
mod summary;

use anyhow::{Context, bail};
use hush_engine::Engine;
use hush_engine::config::Config;
use hush_sim::Scenario;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The scenario shown by default: its root cause (postgres) was named right on every seed
/// measured (1–6), and its first incident opens 40–50 simulated minutes into a two-hour run,
/// under a minute of wall time at 60x.
const DEFAULT_SCENARIO: &str = "db-slowdown";
/// Simulated scrape interval.
const STEP_MS: i64 = 15_000;
/// The runbook the demo loads (approve mode; it only annotates the incident).
const RUNBOOK: &str = include_str!("runbooks/postgres-slow-queries.yaml");

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Scenario to play, or `random` (`hush simulate --list` describes them).
    #[arg(long, default_value = DEFAULT_SCENARIO)]
    scenario: String,
    /// Seed: fault timing and severity, noise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulated seconds per wall-clock second; 0 runs as fast as the machine allows.
    #[arg(long, default_value_t = 60.0)]
    speed: f64,
    /// Simulated length of the run (at least 10m), e.g. `2h`, `45m`.
    #[arg(long, default_value = "2h", value_parser = parse_duration)]
    duration: Duration,
    /// Address to serve the API on.
    #[arg(long, default_value = "127.0.0.1:9650")]
    listen: SocketAddr,
    /// Directory for the embedded store [default: a temporary directory, removed at exit].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Stop when the run ends instead of serving until Ctrl-C.
    #[arg(long)]
    exit: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid duration `{s}`: expected e.g. 2h, 45m, 900s"))?;
    let secs = match unit {
        "h" => n * 3600,
        "m" => n * 60,
        "s" | "" => n,
        _ => return Err(format!("invalid duration unit in `{s}`: use h, m or s")),
    };
    if secs < 600 {
        return Err(format!("duration `{s}` is too short: at least 10m"));
    }
    Ok(Duration::from_secs(secs))
}

fn pick_scenario(name: &str) -> anyhow::Result<Scenario> {
    if name == "random" {
        // Any scenario with a fault to find; the clock picks, so runs differ.
        let faulty: Vec<Scenario> = Scenario::ALL
            .into_iter()
            .filter(|s| s.name() != "noise")
            .collect();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as usize)
            .unwrap_or(0);
        return Ok(faulty[nanos % faulty.len()]);
    }
    Scenario::parse(name).map_err(|e| {
        anyhow::anyhow!(
            "unknown scenario `{}`; available: {}, random",
            e.name,
            e.known
        )
    })
}

/// Simulated time formatted for people and the API.
pub(crate) fn fmt_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let scenario = pick_scenario(&args.scenario)?;
    if !(args.speed >= 0.0 && args.speed.is_finite()) {
        bail!("invalid --speed {}: expected a number >= 0", args.speed);
    }
    // Quiet by default: the terminal belongs to the demo's summary.
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("HUSH_LOG").unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start runtime")?;
    rt.block_on(serve_and_drive(args, scenario))
}

async fn serve_and_drive(args: DemoArgs, scenario: Scenario) -> anyhow::Result<()> {
    // The temporary directory lives until this function returns, after the engine stopped.
    let (data_dir, _temp) = match &args.data_dir {
        Some(d) => (d.clone(), None),
        None => {
            let t = tempfile::Builder::new()
                .prefix("hush-demo-")
                .tempdir()
                .context("failed to create a temporary data directory")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    // The estate's service graph, as an operator would give it in `topology_file`.
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("failed to create `{}`", data_dir.display()))?;
    let topology = data_dir.join("topology.yaml");
    std::fs::write(&topology, hush_sim::Estate::shop().topology_yaml())
        .with_context(|| format!("failed to write `{}`", topology.display()))?;
    // A runbook for the database fault, so incidents show a suggestion an operator can approve.
    let runbooks = data_dir.join("runbooks");
    std::fs::create_dir_all(&runbooks)
        .with_context(|| format!("failed to create `{}`", runbooks.display()))?;
    std::fs::write(runbooks.join("postgres-slow-queries.yaml"), RUNBOOK)
        .with_context(|| format!("failed to write a runbook into `{}`", runbooks.display()))?;
    let mut config = Config {
        data_dir,
        topology_file: Some(topology),
        ..Config::default()
    };
    config.listen.value = args.listen;
    config.detection.enabled = true;
    config.remediation.runbooks_dir = Some(runbooks);
    let engine = tokio::task::spawn_blocking(move || Engine::open(config))
        .await
        .context("engine start-up panicked")??;
    // The run ends about now, so the data sits where dashboards look ("the last 2 hours").
    // The engine's clock follows simulated time from before its tasks start.
    let horizon_ms = args.duration.as_millis() as i64;
    let start_ms = (chrono::Utc::now().timestamp_millis() - horizon_ms) / STEP_MS * STEP_MS;
    engine.clock.set(start_ms);
    let tasks = engine.start();
    let board = Arc::new(board::Board::default());
    // The demo's own incident board answers `/api/v1/incidents` (with root causes and the
    // simulator's verdicts); every other path goes to the server's router.
    let app = hush_api::router(engine.clone());
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to listen on {}", args.listen))?;
    // The bound address (a `:0` listen picks a free port), for the demo's own client.
    let listen_addr = listener.local_addr().context("listener address")?;

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        crate::serve::shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let mut server_stop = stop_rx.clone();
    let (done_tx, done_rx) = watch::channel(false);
    let mut done_for_server = done_rx.clone();
    let server = tokio::spawn(hush_api::serve(listener, app, async move {
        tokio::select! {
            _ = server_stop.wait_for(|s| *s) => {}
            _ = done_for_server.wait_for(|d| *d) => {}
        }
    }));

    println!(
        "Hush demo: scenario {} (seed {}), {} of simulated time at {}",
        scenario.name(),
        args.seed,
        summary::span(args.duration.as_millis() as i64),
        if args.speed == 0.0 {
            "full speed".to_string()
        } else {
            format!("{}x", args.speed)
        }
    );
    println!("  {}", scenario.description());
    println!(
        "  API: http://{}/api/v1/incidents   (PromQL: http://{}/api/v1/query)",
        listen_addr, listen_addr
    );
    println!("  data: {}", engine.config.data_dir.display());
    println!("  Ctrl-C stops.\n");

    let setup = driver::Setup {
        scenario,
        seed: args.seed,
        speed: args.speed,
        horizon_ms,
        step_ms: STEP_MS,
        start_ms,
        verbose: true,
    };
    let publisher = publish::Publisher::new(listen_addr)?;
    let result = driver::drive(&engine, setup, &publisher, board.clone(), stop_rx.clone())
        .await
        .map(|run| summary::verdict(&run.truth, &board.snapshot(), run.end_ms));
    if result.is_ok() && !args.exit && !*stop_rx.borrow() {
        println!(
            "\nThe run is over; the API stays up at http://{}/api/v1/incidents until Ctrl-C.",
            listen_addr
        );
        let mut s = stop_rx.clone();
        let _ = s.wait_for(|s| *s).await;
    }
    let _ = done_tx.send(true);
    match server.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("server stopped with an error: {e}"),
        Err(e) => eprintln!("server task failed: {e}"),
    }
    engine.shutdown(tasks).await;
    drop(done_rx);
    result
}
