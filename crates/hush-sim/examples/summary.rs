//! Prints what a scenario does: the truth, the alert episodes and volumes per signal.
//!
//! `cargo run -p hush-sim --example summary -- bad-deploy 1`

use hush_sim::{Scenario, Simulation};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let scenario = Scenario::parse(&args.next().unwrap_or_else(|| "db-slowdown".into()))?;
    let seed: u64 = args.next().map_or(Ok(1), |s| s.parse())?;
    // 2026-03-02T00:00:00Z, a Monday.
    let mut sim = Simulation::new(seed, scenario, 1_772_409_600_000 + 9 * 3_600_000, 15_000)?;
    let (mut series, mut logs, mut spans, mut notes, mut changes) = (0, 0, 0, 0, 0);
    for _ in 0..480 {
        let t = sim.step();
        series = t.metrics.len();
        logs += t.logs.len();
        spans += t.spans.len();
        notes += t.alerts.len();
        changes += t.changes.len();
    }
    println!(
        "series {series}, logs {logs}, spans {spans}, notifications {notes}, changes {changes}"
    );
    let truth = sim.truth();
    for inc in &truth.incidents {
        let start = inc.start_ms - truth.start_ms;
        println!(
            "{} {:?} {:?} start +{}m",
            inc.id,
            inc.kind,
            inc.root_cause,
            start / 60_000
        );
        for a in &inc.affected {
            println!("    {} +{}s", a.service, (a.since_ms - inc.start_ms) / 1000);
        }
    }
    for a in &truth.alerts {
        let at = (a.starts_at_ms - truth.start_ms) / 60_000;
        println!(
            "+{at:>3}m {:<32} {:<16} {:?}",
            a.alertname,
            a.service.as_deref().unwrap_or("-"),
            a.incident
        );
    }
    Ok(())
}
