//! `hush eval scenarios`: the demo's pipeline (simulator → correlator → root-cause ranker) run
//! offline over scenarios × seeds, scored against the simulator's truth. It needs no server:
//! the ranker reads the simulated signals directly, as the demo does.

use super::board::Board;
use super::signals::Signals;
use super::tracker::Tracker;
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
    /// Print, per fault, the truth and each of its incidents' suspects.
    #[arg(long)]
    detail: bool,
}

/// The outcome for one fault of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Right,
    Wrong,
    Missed,
}

/// One started fault of one run, scored.
#[derive(Debug, Clone)]
pub struct Scored {
    pub outcome: Outcome,
    /// The true root cause is among the first three suspects of one of its incidents.
    pub top3: bool,
    /// For a fault caused by a change: an incident named the right service with a change as
    /// the culprit. `None` when no change caused the fault.
    pub change_named: Option<bool>,
    /// The true root cause and, per incident it opened, the suspects (best first).
    pub detail: String,
}

/// Runs one scenario and seed; returns each started fault's score and the incidents opened
/// from noise alerts.
pub fn run_one(
    scenario: Scenario,
    seed: u64,
    horizon_ms: i64,
) -> anyhow::Result<(Vec<Scored>, usize)> {
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
    let scored = sim
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
            let outcome = if mine.iter().any(|v| v.root_cause.as_deref() == Some(want)) {
                Outcome::Right
            } else if mine.is_empty() {
                Outcome::Missed
            } else {
                Outcome::Wrong
            };
            let top3 = mine
                .iter()
                .any(|v| v.suspects.iter().take(3).any(|s| s == want));
            let change_named = t.root_cause.change.as_ref().map(|_| {
                mine.iter()
                    .any(|v| v.root_cause.as_deref() == Some(want) && v.change.is_some())
            });
            let detail = format!(
                "{} seed {seed}: truth {want} ({}) at +{}m; {}",
                scenario.name(),
                t.root_cause.metric,
                (t.start_ms - start_ms) / 60_000,
                if mine.is_empty() {
                    "no incident".to_string()
                } else {
                    mine.iter()
                        .map(|v| {
                            format!(
                                "[{} +{}m: {}{}]",
                                v.id,
                                (v.opened_ms - start_ms) / 60_000,
                                v.suspects
                                    .iter()
                                    .take(5)
                                    .cloned()
                                    .collect::<Vec<_>>()
                                    .join(" > "),
                                v.summary
                                    .as_deref()
                                    .map(|s| format!(" | {s}"))
                                    .unwrap_or_default()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                }
            );
            Scored {
                outcome,
                top3,
                change_named,
                detail,
            }
        })
        .collect();
    Ok((scored, views.iter().filter(|v| v.truth.is_none()).count()))
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
        "{:<16} {:>5} {:>6} {:>6} {:>6} {:>7} {:>7} {:>6}",
        "scenario", "runs", "right", "top-3", "wrong", "missed", "change", "noise"
    );
    let (mut right, mut top3, mut faults) = (0usize, 0usize, 0usize);
    let (mut ch_ok, mut ch_all) = (0usize, 0usize);
    for s in scenarios {
        let (mut r, mut t3, mut w, mut m, mut noise) = (0, 0, 0, 0, 0);
        let (mut c_ok, mut c_all) = (0, 0);
        for seed in a.first_seed..a.first_seed + a.seeds {
            let (scored, n) = run_one(s, seed, horizon_ms)?;
            noise += n;
            for sc in scored {
                if a.detail {
                    println!("  {}", sc.detail);
                }
                match sc.outcome {
                    Outcome::Right => r += 1,
                    Outcome::Wrong => w += 1,
                    Outcome::Missed => m += 1,
                }
                t3 += usize::from(sc.top3);
                if let Some(ok) = sc.change_named {
                    c_all += 1;
                    c_ok += usize::from(ok);
                }
            }
        }
        println!(
            "{:<16} {:>5} {:>6} {:>6} {:>6} {:>7} {:>7} {:>6}",
            s.name(),
            a.seeds,
            r,
            t3,
            w,
            m,
            if c_all > 0 {
                format!("{c_ok}/{c_all}")
            } else {
                "-".to_string()
            },
            noise
        );
        right += r;
        top3 += t3;
        faults += r + w + m;
        ch_ok += c_ok;
        ch_all += c_all;
    }
    println!(
        "root cause named right (top-1): {right}/{faults} = {:.3}",
        right as f64 / faults.max(1) as f64
    );
    println!(
        "root cause among the first three (top-3): {top3}/{faults} = {:.3}",
        top3 as f64 / faults.max(1) as f64
    );
    println!("change named as the culprit when a change caused the fault: {ch_ok}/{ch_all}");
    Ok(())
}
