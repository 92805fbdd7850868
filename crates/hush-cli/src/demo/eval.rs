//! `hush eval scenarios`: every scenario × seed run end to end through a real server, exactly
//! as the demo runs (the simulator's telemetry through the public ingest APIs, the server's
//! own correlation and root-cause analysis), then scored against the simulator's truth.

use super::board::{Board, View};
use super::driver::{self, Run, Setup};
use super::publish::Publisher;
use anyhow::Context;
use hush_engine::Engine;
use hush_engine::config::Config;
use hush_sim::{Scenario, Truth};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tokio::sync::watch;

#[derive(clap::Args)]
pub struct ScenariosArgs {
    /// Seeds per scenario (1, 2, …).
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// First seed.
    #[arg(long, default_value_t = 1)]
    first_seed: u64,
    /// Comma-separated scenario names [default: every scenario with a fault].
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Simulated time per run, e.g. 2h or 40m.
    #[arg(long, default_value = "2h")]
    duration: String,
}

/// Simulated scrape interval, as in the demo.
const STEP_MS: i64 = 15_000;
/// 2026-03-02T09:00Z: a fixed weekday morning, so runs are comparable.
const START_MS: i64 = 1_772_442_000_000;

/// The outcome for one fault of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Right,
    /// Not first, but among the top three suspects.
    Top3,
    Wrong,
    Missed,
}

/// What one run scores.
#[derive(Debug, Default)]
pub struct Score {
    pub outcomes: Vec<Outcome>,
    /// Incidents opened from noise alerts only.
    pub noise_incidents: usize,
    /// Per fault that opened an incident: simulated ms from the fault's start to its first
    /// incident.
    pub detection_ms: Vec<i64>,
    /// B-cubed precision and recall of alerts grouped into incidents, summed over alerts.
    pub bcubed: (f64, f64, usize),
    /// Noise alerts, and those merged into an incident of a real fault.
    pub noise_alerts: (usize, usize),
    pub alerts_in: usize,
    pub incidents: usize,
}

/// Runs one scenario and seed through a fresh server on a free loopback port.
pub async fn run_one(scenario: Scenario, seed: u64, horizon_ms: i64) -> anyhow::Result<Score> {
    let dir = tempfile::Builder::new()
        .prefix("hush-eval-")
        .tempdir()
        .context("failed to create a temporary data directory")?;
    let topology = dir.path().join("topology.yaml");
    std::fs::write(&topology, hush_sim::Estate::shop().topology_yaml())?;
    let mut config = Config {
        data_dir: dir.path().join("data"),
        topology_file: Some(topology),
        ..Config::default()
    };
    config.detection.enabled = true;
    // Throwaway data: durability costs time and proves nothing here.
    config.storage.fsync = hush_engine::config::FsyncSetting(hush_store::FsyncPolicy::Never);
    let engine = tokio::task::spawn_blocking(move || Engine::open(config))
        .await
        .context("engine start-up panicked")??;
    engine.clock.set(START_MS);
    let tasks = engine.start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(hush_api::serve(
        listener,
        hush_api::router(engine.clone()),
        async move {
            let _ = server_stop.wait_for(|s| *s).await;
        },
    ));
    let board = Arc::new(Board::default());
    let setup = Setup {
        scenario,
        seed,
        speed: 0.0,
        horizon_ms,
        step_ms: STEP_MS,
        start_ms: START_MS,
        verbose: false,
    };
    let publisher = Publisher::new(addr)?;
    let run = driver::drive(&engine, setup, &publisher, board.clone(), stop_rx.clone()).await;
    let membership = match &run {
        Ok(_) => membership(&engine).await?,
        Err(_) => BTreeMap::new(),
    };
    let _ = stop_tx.send(true);
    let _ = server.await;
    engine.shutdown(tasks).await;
    let run = run?;
    Ok(score(&run, &board.snapshot(), &membership))
}

/// Every stored alert's fingerprint → the incident it was attached to last.
async fn membership(engine: &Engine) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let incidents = engine
        .db
        .list_incidents(&hush_sql::IncidentFilter {
            limit: Some(10_000),
            ..Default::default()
        })
        .await?;
    for i in incidents.iter().rev() {
        for a in engine.db.incident_alerts(i.id).await? {
            out.insert(a.fingerprint, i.id.to_string());
        }
    }
    Ok(out)
}

fn score(run: &Run, views: &[View], membership: &BTreeMap<String, String>) -> Score {
    let truth: &Truth = &run.truth;
    let mut s = Score {
        alerts_in: run.alerts_in,
        incidents: views.len(),
        noise_incidents: views.iter().filter(|v| v.truth.is_none()).count(),
        ..Score::default()
    };
    for t in truth.incidents.iter().filter(|t| t.start_ms < run.end_ms) {
        let want = t.root_cause.service.as_str();
        let mine: Vec<&View> = views
            .iter()
            .filter(|v| v.truth.as_deref() == Some(want))
            .collect();
        let outcome = if mine.iter().any(|v| v.root_cause.as_deref() == Some(want)) {
            Outcome::Right
        } else if mine
            .iter()
            .any(|v| v.ranked.iter().take(3).any(|r| r == want))
        {
            Outcome::Top3
        } else if mine.is_empty() {
            Outcome::Missed
        } else {
            Outcome::Wrong
        };
        s.outcomes.push(outcome);
        if let Some(first) = mine.iter().map(|v| v.opened_ms).min() {
            s.detection_ms.push(first - t.start_ms);
        }
    }
    // B-cubed over the distinct alerts (fingerprints) the server saw: the true cluster is the
    // fault an alert belongs to (noise alerts are each their own), the predicted one the
    // incident it joined (an alert in no incident is alone).
    let mut truth_of: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for a in &truth.alerts {
        let e = truth_of.entry(a.fingerprint.as_str()).or_insert(None);
        if a.incident.is_some() {
            *e = a.incident.as_deref();
        }
    }
    let seen: Vec<&str> = truth_of
        .keys()
        .copied()
        .filter(|fp| membership.contains_key(*fp))
        .collect();
    let pred = |fp: &str| membership.get(fp).map(String::as_str);
    let real_incidents: BTreeSet<&str> = seen
        .iter()
        .filter(|fp| truth_of[**fp].is_some())
        .filter_map(|fp| pred(fp))
        .collect();
    for &fp in &seen {
        let t = truth_of[fp];
        let p = pred(fp);
        let same_pred: Vec<&str> = seen.iter().copied().filter(|o| pred(o) == p).collect();
        let same_truth: Vec<&str> = match t {
            Some(t) => seen
                .iter()
                .copied()
                .filter(|o| truth_of[*o] == Some(t))
                .collect(),
            None => vec![fp],
        };
        let both = same_pred.iter().filter(|o| same_truth.contains(o)).count() as f64;
        s.bcubed.0 += both / same_pred.len() as f64;
        s.bcubed.1 += both / same_truth.len() as f64;
        s.bcubed.2 += 1;
        if t.is_none() {
            s.noise_alerts.0 += 1;
            if p.is_some_and(|p| real_incidents.contains(p)) {
                s.noise_alerts.1 += 1;
            }
        }
    }
    s
}

pub fn run(a: ScenariosArgs) -> anyhow::Result<()> {
    let horizon_ms = a
        .duration
        .parse::<hush_engine::config::PromDuration>()
        .map(|d| d.0.as_millis() as i64)
        .map_err(|e| anyhow::anyhow!("--duration: {e}"))?;
    let scenarios: Vec<Scenario> = if a.scenarios.is_empty() {
        Scenario::ALL
            .iter()
            .copied()
            .filter(|s| s.name() != "noise")
            .collect()
    } else {
        a.scenarios
            .iter()
            .map(|n| Scenario::parse(n).map_err(|e| anyhow::anyhow!("{e}")))
            .collect::<Result<_, _>>()?
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start runtime")?;
    println!(
        "{:<16} {:>4} {:>5} {:>5} {:>5} {:>6} {:>5} {:>9} {:>6} {:>6}",
        "scenario",
        "runs",
        "right",
        "top3",
        "wrong",
        "missed",
        "noise",
        "detect",
        "bc-f1",
        "merged"
    );
    let mut total = Score::default();
    for sc in scenarios {
        let mut sum = Score::default();
        for seed in a.first_seed..a.first_seed + a.seeds {
            let s = rt
                .block_on(run_one(sc, seed, horizon_ms))
                .with_context(|| format!("{} seed {seed}", sc.name()))?;
            merge(&mut sum, s);
        }
        print_row(sc.name(), a.seeds, &sum);
        merge(&mut total, sum);
    }
    print_row("all", a.seeds, &total);
    let faults = total.outcomes.len().max(1) as f64;
    let right = count(&total, Outcome::Right);
    let top3 = right + count(&total, Outcome::Top3);
    let (p, r) = bcubed(&total);
    println!(
        "root cause named right (top-1): {right}/{} = {:.3}",
        total.outcomes.len(),
        right as f64 / faults
    );
    println!(
        "root cause in the top three:    {top3}/{} = {:.3}",
        total.outcomes.len(),
        top3 as f64 / faults
    );
    println!(
        "grouping B-cubed precision {p:.3}, recall {r:.3}, F1 {:.3}; noise alerts merged into real incidents: {}/{}; alerts in {} → incidents {}",
        f1(p, r),
        total.noise_alerts.1,
        total.noise_alerts.0,
        total.alerts_in,
        total.incidents
    );
    Ok(())
}

fn merge(into: &mut Score, s: Score) {
    into.outcomes.extend(s.outcomes);
    into.noise_incidents += s.noise_incidents;
    into.detection_ms.extend(s.detection_ms);
    into.bcubed.0 += s.bcubed.0;
    into.bcubed.1 += s.bcubed.1;
    into.bcubed.2 += s.bcubed.2;
    into.noise_alerts.0 += s.noise_alerts.0;
    into.noise_alerts.1 += s.noise_alerts.1;
    into.alerts_in += s.alerts_in;
    into.incidents += s.incidents;
}

fn count(s: &Score, o: Outcome) -> usize {
    s.outcomes.iter().filter(|x| **x == o).count()
}

fn bcubed(s: &Score) -> (f64, f64) {
    let n = s.bcubed.2.max(1) as f64;
    (s.bcubed.0 / n, s.bcubed.1 / n)
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

fn print_row(name: &str, runs: u64, s: &Score) {
    let mut d = s.detection_ms.clone();
    d.sort_unstable();
    // Median time from a fault's start to its first incident, simulated minutes.
    let detect = match d.get(d.len() / 2) {
        Some(ms) => format!("{:.1}m", *ms as f64 / 60_000.0),
        None => "-".to_string(),
    };
    let (p, r) = bcubed(s);
    let merged = match s.noise_alerts {
        (0, _) => "-".to_string(),
        (n, m) => format!("{m}/{n}"),
    };
    println!(
        "{:<16} {:>4} {:>5} {:>5} {:>5} {:>6} {:>5} {:>9} {:>6.3} {:>6}",
        name,
        runs,
        count(s, Outcome::Right),
        count(s, Outcome::Top3),
        count(s, Outcome::Wrong),
        count(s, Outcome::Missed),
        s.noise_incidents,
        detect,
        f1(p, r),
        merged
    );
}
