//! Names the root cause of one incident from the service graph, the recent window of
//! per-service signals, and the changes seen so far.

use super::signals::Signals;
use hush_rca::{ChangeEvent, Incident, RcaConfig, ServiceGraph, TimeRange, Verdict};
use std::collections::BTreeSet;

/// Margin before the first alert where the fault may already be under way: alert rules wait
/// (`for: 2m`–`5m`) and faults ramp up, so the baseline must end well before onset.
const LEAD_S: i64 = 600;
/// Longest baseline used.
const BASELINE_S: i64 = 2700;

/// The named suspect.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Named {
    pub service: String,
    /// One line: the chain from cause to symptom.
    pub summary: String,
    /// Each step in plain words.
    pub evidence: Vec<String>,
    /// The top suspects in rank order (the named one first), at most five.
    pub ranked: Vec<String>,
}

/// The incident's services and everything they call, directly or not: a cause lies
/// downstream of its symptoms even when it raised no alert of its own.
fn reach<'a>(graph: &'a ServiceGraph, services: &'a BTreeSet<String>) -> Vec<&'a str> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut todo: Vec<&str> = services.iter().map(String::as_str).collect();
    while let Some(s) = todo.pop() {
        if graph.node(s).is_none() || !seen.insert(s) {
            continue;
        }
        todo.extend(graph.callees(s));
    }
    seen.into_iter().collect()
}

/// Ranks suspects for an incident that opened at `onset_ms`, looking at data up to `now_ms`.
/// `Ok(None)` when the ranker abstains.
pub fn name_cause(
    graph: &ServiceGraph,
    signals: &Signals,
    changes: &[ChangeEvent],
    services: &BTreeSet<String>,
    onset_ms: i64,
    now_ms: i64,
) -> anyhow::Result<Option<Named>> {
    let Some(first) = signals.first_time() else {
        return Ok(None);
    };
    let onset = onset_ms / 1000;
    let now = now_ms / 1000;
    let split = (onset - LEAD_S).max(first + (onset - first) / 2);
    let baseline = TimeRange {
        start: (split - BASELINE_S).max(first),
        end: split,
    };
    let window = TimeRange {
        start: split,
        end: now.max(split),
    };
    let involved = reach(graph, services);
    if involved.is_empty() {
        // Alerts from outside the estate's graph (an external probe): nothing to rank.
        return Ok(None);
    }
    let series = signals.series(&involved);
    let incident = Incident {
        target: None,
        onset,
        baseline,
        window,
    };
    let report = hush_rca::analyze(graph, &series, changes, &incident, &RcaConfig::default())
        .map_err(|e| anyhow::anyhow!("root-cause analysis failed: {e}"))?;
    if !matches!(report.verdict, Verdict::Ranked) {
        return Ok(None);
    }
    let ranked: Vec<String> = report
        .hypotheses
        .iter()
        .map(|h| h.service.clone())
        .take(5)
        .collect();
    Ok(report.hypotheses.into_iter().next().map(|h| Named {
        service: h.service,
        summary: h.summary,
        evidence: h.evidence.into_iter().map(|e| e.text).collect(),
        ranked,
    }))
}
