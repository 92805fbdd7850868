//! Steps the simulation at the chosen speed and sends each tick to the server through its
//! public APIs (metrics by remote_write, logs by OTLP, changes, Alertmanager webhooks), then
//! reads the incidents the server formed and prints as they open and are explained.

use super::board::Board;
use super::follow::{Event, Watcher};
use super::publish::Publisher;
use super::summary;
use anyhow::Context;
use hush_engine::Engine;
use hush_sim::{Scenario, Simulation};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub struct Setup {
    pub scenario: Scenario,
    pub seed: u64,
    /// Simulated seconds per wall second; 0 = unpaced.
    pub speed: f64,
    pub horizon_ms: i64,
    pub step_ms: i64,
    /// First simulated moment.
    pub start_ms: i64,
    /// Print incidents and status lines as they happen.
    pub verbose: bool,
}

/// A status line every this much simulated time.
const STATUS_EVERY_MS: i64 = 15 * 60_000;

/// What a run leaves for scoring.
pub struct Run {
    pub truth: hush_sim::Truth,
    pub end_ms: i64,
    pub alerts_in: usize,
}

/// Counts failures of one kind of request, printing the first.
#[derive(Default)]
struct Refusals(u64);

impl Refusals {
    fn note(&mut self, what: &str, r: anyhow::Result<()>) {
        if let Err(e) = r {
            if self.0 == 0 {
                eprintln!("the server refused simulated {what}: {e:#}");
            }
            self.0 += 1;
        }
    }
}

pub async fn drive(
    engine: &Arc<Engine>,
    setup: Setup,
    publisher: &Publisher,
    board: Arc<Board>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<Run> {
    let start_ms = setup.start_ms;
    let mut sim = Simulation::with_config(hush_sim::SimConfig {
        step_ms: setup.step_ms,
        horizon_ms: setup.horizon_ms,
        ..hush_sim::SimConfig::new(setup.seed, setup.scenario, start_ms)
    })
    .context("failed to start the simulation")?;
    let mut watcher = Watcher::new(engine.clone(), board.clone());
    let end_ms = start_ms + setup.horizon_ms;
    let period = match setup.speed {
        s if s > 0.0 => Some(Duration::from_secs_f64(setup.step_ms as f64 / 1000.0 / s)),
        _ => None,
    };
    let wall = Instant::now();
    let mut next = tokio::time::Instant::now();
    let mut next_status = start_ms + STATUS_EVERY_MS;
    let (mut metrics, mut logs, mut changes, mut alerts) = Default::default();
    let mut alerts_in = 0usize;
    while sim.next_tick_ms() < end_ms && !*stop.borrow() {
        // Stepping is CPU work; let the runtime move other tasks off this thread meanwhile.
        let tick = tokio::task::block_in_place(|| sim.step());
        engine.clock.set(tick.t_ms);
        Refusals::note(
            &mut metrics,
            "metrics",
            publisher.metrics(&tick.metrics).await,
        );
        Refusals::note(&mut logs, "logs", publisher.logs(&tick.logs).await);
        for c in &tick.changes {
            Refusals::note(&mut changes, "changes", publisher.change(c).await);
        }
        for n in &tick.alerts {
            alerts_in += n.payload.alerts.len();
            Refusals::note(&mut alerts, "alerts", publisher.alerts(n).await);
        }
        for e in watcher.drain(sim.truth()).await? {
            if !setup.verbose {
                continue;
            }
            match e {
                Event::Opened(v) => summary::opened(&v, tick.t_ms - start_ms, wall.elapsed()),
                Event::Renamed(v) => summary::renamed(&v, tick.t_ms - start_ms, wall.elapsed()),
            }
        }
        if tick.t_ms >= next_status {
            next_status += STATUS_EVERY_MS;
            if setup.verbose {
                summary::status(
                    tick.t_ms - start_ms,
                    wall.elapsed(),
                    alerts_in,
                    watcher.open_incidents(),
                    &board,
                );
            }
        }
        if let Some(p) = period {
            next += p;
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        }
    }
    let end = sim.next_tick_ms();
    Ok(Run {
        truth: sim.truth().clone(),
        end_ms: end,
        alerts_in,
    })
}
