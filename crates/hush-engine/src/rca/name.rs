//! Names the root cause of one incident from the service graph, the recent window of
//! per-service signals, and the changes seen so far.

use super::signals::Signals;
use hush_rca::{ChangeEvent, Incident, RcaConfig, ServiceGraph, TimeRange, Verdict};
use std::collections::BTreeSet;

/// Margin before the first alert where the fault may already be under way: alert rules wait
/// (`for: 2m`–`5m`) and faults ramp up, so the baseline must end well before onset.
const LEAD_S: i64 = 600;
/// Shortest baseline used.
const MIN_BASELINE_S: i64 = 900;
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
    /// Every ranked service, best first (the named one included).
    pub suspects: Vec<String>,
    /// The top suspect's culprit when it is a change: its description.
    pub change: Option<String>,
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
    alert_starts_ms: &[i64],
    now_ms: i64,
) -> anyhow::Result<Option<Named>> {
    let Some(first) = signals.first_time() else {
        return Ok(None);
    };
    // An incident opened by a standing warning as history begins (a certificate expiring
    // soon) leaves no history to compare with: the onset is its first alert that started late
    // enough to have a baseline before it (the symptoms that joined later), else this moment.
    let onset = alert_starts_ms
        .iter()
        .map(|t| t / 1000)
        .filter(|t| t - first >= LEAD_S + MIN_BASELINE_S)
        .min()
        .unwrap_or(now_ms / 1000);
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
    // Pods on one node share its CPU, memory bandwidth and network: a neighbour's burst reaches
    // its co-tenants without any call between them. The involved services' node neighbours
    // (from the pods' node labels) are therefore suspects too. They get no edges: a shared node
    // says nothing about which tenant affects which, and both directions would let every
    // co-tenant explain away every other.
    let mut involved: BTreeSet<&str> = involved.into_iter().collect();
    let base: Vec<&str> = involved.iter().copied().collect();
    // Only when the involved services show contention: their CPU is being throttled.
    let contended = signals.series(&base).iter().any(|s| {
        s.key.name == "cpu periods not throttled"
            && hush_rca::departure::score_series(
                s,
                baseline,
                window,
                &hush_rca::DepartureConfig::default(),
            )
            .is_some_and(|d| d.score >= hush_rca::DepartureConfig::default().threshold)
    });
    let pairs = if contended {
        signals.colocated()
    } else {
        Vec::new()
    };
    for (a, b) in &pairs {
        if base.contains(&a.as_str()) && graph.node(b).is_some() {
            involved.insert(b);
        }
        if base.contains(&b.as_str()) && graph.node(a).is_some() {
            involved.insert(a);
        }
    }
    let involved: Vec<&str> = involved.into_iter().collect();
    // A neighbour is suspected only through the resources it shares (saturation signals): its
    // own errors and latency belong to its own incidents.
    let series: Vec<_> = signals
        .series(&involved)
        .into_iter()
        .filter(|s| {
            base.contains(&s.key.service.as_str()) || s.key.kind == hush_rca::MetricKind::Saturation
        })
        .collect();
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
    let suspects: Vec<String> = report
        .hypotheses
        .iter()
        .map(|h| h.service.clone())
        .collect();
    Ok(report.hypotheses.into_iter().next().map(|h| Named {
        change: match &h.culprit {
            hush_rca::explain::Culprit::Change(c) => Some(c.description.clone()),
            _ => None,
        },
        service: h.service,
        summary: h.summary,
        evidence: h.evidence.into_iter().map(|e| e.text).collect(),
        suspects,
    }))
}
