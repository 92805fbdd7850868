//! The terminal side of the demo: one line per event, a status line now and then, and the
//! verdict against the simulator's truth at the end.

use super::board::View;
use hush_sim::Truth;
use std::time::Duration;

/// `1h05m`, `40m`, `2h`.
pub fn span(ms: i64) -> String {
    let m = ms / 60_000;
    match (m / 60, m % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m:02}m"),
    }
}

/// `[sim +42m | 0:43]`: simulated time since the start, wall time since the start.
fn stamp(sim_ms: i64, wall: Duration) -> String {
    let w = wall.as_secs();
    format!("[sim +{:>5} | {}:{:02}]", span(sim_ms), w / 60, w % 60)
}

fn cause(v: &View) -> String {
    match (&v.root_cause, &v.summary) {
        (Some(c), Some(s)) => format!("root cause: {c}\n      evidence: {s}"),
        (Some(c), None) => format!("root cause: {c}"),
        _ => "root cause: not named yet (nothing departed clearly)".to_string(),
    }
}

fn services(v: &View) -> String {
    const SHOWN: usize = 5;
    let mut s = v
        .services
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if v.services.len() > SHOWN {
        s.push_str(&format!(" +{}", v.services.len() - SHOWN));
    }
    s
}

pub fn opened(v: &View, sim_ms: i64, wall: Duration) {
    println!(
        "{} {} opened {}  {} alert(s) on {}\n      {}",
        stamp(sim_ms, wall),
        v.id,
        v.priority,
        v.alerts,
        services(v),
        cause(v)
    );
}

pub fn renamed(v: &View, sim_ms: i64, wall: Duration) {
    println!(
        "{} {} {}  {} alert(s) on {}\n      {}",
        stamp(sim_ms, wall),
        v.id,
        v.priority,
        v.alerts,
        services(v),
        cause(v)
    );
}

pub fn status(
    sim_ms: i64,
    wall: Duration,
    alerts_in: usize,
    open: usize,
    board: &super::board::Board,
) {
    let named = board
        .lock()
        .iter()
        .filter(|v| v.root_cause.is_some())
        .count();
    println!(
        "{} alerts in: {alerts_in}, incidents open: {open}, root causes named: {named}",
        stamp(sim_ms, wall)
    );
}

/// For every fault that has started: was its root cause named right by an incident?
pub fn verdict(truth: &Truth, views: &[View], now_ms: i64) {
    println!("\nVerdict against the simulator's truth:");
    let started: Vec<_> = truth
        .incidents
        .iter()
        .filter(|i| i.start_ms < now_ms)
        .collect();
    if started.is_empty() {
        println!(
            "  no fault started in this run (noise only); incidents opened: {}",
            views.len()
        );
        return;
    }
    let mut all_right = true;
    for t in started {
        let want = &t.root_cause.service;
        let mine: Vec<&View> = views
            .iter()
            .filter(|v| v.truth.as_deref() == Some(want))
            .collect();
        let right = mine.iter().find(|v| v.root_cause.as_deref() == Some(want));
        let line = match (right, mine.first()) {
            (Some(v), _) => format!("right: {} named {want}", v.id),
            (None, Some(v)) => {
                all_right = false;
                format!(
                    "wrong: {} named {}",
                    v.id,
                    v.root_cause.as_deref().unwrap_or("nothing")
                )
            }
            (None, None) => {
                all_right = false;
                "missed: no incident opened for it".to_string()
            }
        };
        println!(
            "  {} ({:?}, root cause {want}, from {}): {line}",
            t.id,
            t.kind,
            super::fmt_time(t.start_ms)
        );
    }
    let noise = views.iter().filter(|v| v.truth.is_none()).count();
    println!(
        "  incidents opened: {} ({noise} from noise alerts)",
        views.len()
    );
    println!("verdict: {}", if all_right { "right" } else { "wrong" });
}
