//! `hush eval scenarios`: the demo's pipeline (simulator → correlator → root-cause ranker) run
//! offline over scenarios × seeds, scored against the simulator's truth. It needs no server:
//! the ranker reads the simulated signals directly, as the demo does.

use super::board::Board;
use super::tracker::Tracker;
use hush_engine::rca::Signals;
use hush_sim::{Scenario, SimConfig, Simulation};
use std::sync::Arc;

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

/// The outcome for one fault of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Right,
    Wrong,
    Missed,
}

/// Runs one scenario and seed; returns each started fault's outcome and the incidents opened
/// from noise alerts.
pub fn run_one(
    scenario: Scenario,
    seed: u64,
    horizon_ms: i64,
) -> anyhow::Result<(Vec<Outcome>, usize)> {
    let step_ms = 15_000;
    let start_ms = 1_772_442_000_000; // 2026-03-02T09:00Z: a fixed, weekday morning
    let mut sim = Simulation::with_config(SimConfig {
        step_ms,
        horizon_ms,
        ..SimConfig::new(seed, scenario, start_ms)
    })?;
    let board = Arc::new(Board::default());
    let mut tracker = Tracker::new(sim.estate(), board.clone())?;
    let mut signals = Signals::new(480);
    while sim.next_tick_ms() < start_ms + horizon_ms {
        let tick = sim.step();
        signals.push(tick.t_ms, &tick.metrics);
        tracker.tick(&tick, &signals, sim.truth())?;
    }
    let views = board.snapshot();
    let now = sim.next_tick_ms();
    let outcomes = sim
        .truth()
        .incidents
        .iter()
        .filter(|t| t.start_ms < now)
        .map(|t| {
            let want = t.root_cause.service.as_str();
            let mine: Vec<_> = views
                .iter()
                .filter(|v| v.truth.as_deref() == Some(want))
                .collect();
            if mine.iter().any(|v| v.root_cause.as_deref() == Some(want)) {
                Outcome::Right
            } else if mine.is_empty() {
                Outcome::Missed
            } else {
                Outcome::Wrong
            }
        })
        .collect();
    Ok((outcomes, views.iter().filter(|v| v.truth.is_none()).count()))
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
    println!(
        "{:<16} {:>5} {:>6} {:>6} {:>7} {:>6}",
        "scenario", "runs", "right", "wrong", "missed", "noise"
    );
    let (mut right, mut faults) = (0usize, 0usize);
    for s in scenarios {
        let (mut r, mut w, mut m, mut noise) = (0, 0, 0, 0);
        for seed in a.first_seed..a.first_seed + a.seeds {
            let (outcomes, n) = run_one(s, seed, horizon_ms)?;
            noise += n;
            for o in outcomes {
                match o {
                    Outcome::Right => r += 1,
                    Outcome::Wrong => w += 1,
                    Outcome::Missed => m += 1,
                }
            }
        }
        println!(
            "{:<16} {:>5} {:>6} {:>6} {:>7} {:>6}",
            s.name(),
            a.seeds,
            r,
            w,
            m,
            noise
        );
        right += r;
        faults += r + w + m;
    }
    println!(
        "root cause named right (top-1): {right}/{faults} = {:.3}",
        right as f64 / faults.max(1) as f64
    );
    Ok(())
}
