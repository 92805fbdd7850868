//! Steps the simulation at the chosen speed and sends each tick to the server (metrics, by
//! remote_write) and the tracker (alerts), printing as incidents open and are explained.

use super::board::Board;
use super::publish::Publisher;
use super::summary;
use super::tracker::{Event, Tracker};
use anyhow::Context;
use hush_engine::Engine;
use hush_engine::rca::Signals;
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
}

/// Signals kept for ranking: two simulated hours.
const WINDOW_TICKS: usize = 480;
/// A status line every this much simulated time.
const STATUS_EVERY_MS: i64 = 15 * 60_000;

pub async fn drive(
    engine: &Arc<Engine>,
    setup: Setup,
    publisher: &Publisher,
    board: Arc<Board>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    // The run ends about now, so the data sits where dashboards look ("the last 2 hours").
    let now_ms = chrono::Utc::now().timestamp_millis();
    let start_ms = (now_ms - setup.horizon_ms) / setup.step_ms * setup.step_ms;
    let mut sim = Simulation::with_config(hush_sim::SimConfig {
        step_ms: setup.step_ms,
        horizon_ms: setup.horizon_ms,
        ..hush_sim::SimConfig::new(setup.seed, setup.scenario, start_ms)
    })
    .context("failed to start the simulation")?;
    let mut tracker = Tracker::new(sim.estate(), board.clone())?;
    let mut signals = Signals::new(WINDOW_TICKS);
    let end_ms = start_ms + setup.horizon_ms;
    let period = match setup.speed {
        s if s > 0.0 => Some(Duration::from_secs_f64(setup.step_ms as f64 / 1000.0 / s)),
        _ => None,
    };
    let wall = Instant::now();
    let mut next = tokio::time::Instant::now();
    let mut next_status = start_ms + STATUS_EVERY_MS;
    let mut rejected = 0u64;
    while sim.next_tick_ms() < end_ms && !*stop.borrow() {
        // Stepping is CPU work; let the runtime move other tasks off this thread meanwhile.
        let mut tick = tokio::task::block_in_place(|| sim.step());
        signals.push(tick.t_ms, &tick.metrics);
        engine.clock.set(tick.t_ms);
        if let Err(e) = publisher.metrics(&tick.metrics).await {
            rejected += tick.metrics.len() as u64;
            if rejected == tick.metrics.len() as u64 {
                eprintln!("the server refused simulated metrics: {e:#}");
            }
        }
        tick.metrics.clear();
        let events = tokio::task::block_in_place(|| tracker.tick(&tick, &signals, sim.truth()))?;
        for e in events {
            match e {
                Event::Opened(v) => summary::opened(&v, tick.t_ms - start_ms, wall.elapsed()),
                Event::Renamed(v) => summary::renamed(&v, tick.t_ms - start_ms, wall.elapsed()),
            }
        }
        if tick.t_ms >= next_status {
            next_status += STATUS_EVERY_MS;
            summary::status(
                tick.t_ms - start_ms,
                wall.elapsed(),
                tracker.alerts_in,
                tracker.open_incidents(),
                &board,
            );
        }
        if let Some(p) = period {
            next += p;
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        }
    }
    if rejected > 0 {
        eprintln!("the server refused {rejected} simulated series samples");
    }
    summary::verdict(sim.truth(), &board.snapshot(), sim.next_tick_ms());
    Ok(())
}
