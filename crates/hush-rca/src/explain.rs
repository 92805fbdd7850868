//! Evidence chains: from the suspected cause, along the abnormal callers, to the symptom, each
//! step one series with how far and when it moved; plus first checks for that kind of component.

use std::collections::VecDeque;

use petgraph::Direction;
use petgraph::graph::NodeIndex;
use serde::Serialize;

use crate::analyze::Hypothesis;
use crate::change::ChangeEvent;
use crate::departure::Departure;
use crate::graph::{NodeKind, ServiceGraph};
use crate::series::{MetricKind, SeriesKey};
use crate::timefmt::{utc_hm, utc_minute};

/// What inside a suspected service to look at first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Culprit {
    /// The series that departed first and most.
    Series {
        /// The series.
        key: SeriesKey,
        /// Its departure, in robust spreads.
        score: f64,
        /// When it first crossed the threshold (or peaked).
        at: i64,
    },
    /// A change close to onset.
    Change(ChangeEvent),
    /// Only the service is suspected (no series of it departed).
    Service,
}

/// One link of an evidence chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceStep {
    /// Service of this step.
    pub service: String,
    /// The series behind the step, if any (a change has none).
    pub series: Option<SeriesKey>,
    /// When it happened, Unix seconds.
    pub at: i64,
    /// The step in plain words.
    pub text: String,
}

/// What [`explain`] needs from the analysis.
pub(crate) struct Context<'a> {
    pub graph: &'a ServiceGraph,
    pub scores: &'a [f64],
    pub best: &'a [Option<usize>],
    pub deps: &'a [Departure],
    pub target: Option<NodeIndex>,
    pub threshold: f64,
}

/// Builds the hypothesis for service `ix`.
pub(crate) fn explain(
    ctx: &Context<'_>,
    ix: NodeIndex,
    score: f64,
    change: Option<ChangeEvent>,
) -> Hypothesis {
    let g = ctx.graph.inner();
    let service = g[ix].name.clone();
    let mut evidence = Vec::new();
    if let Some(c) = &change {
        evidence.push(EvidenceStep {
            service: c.service.clone(),
            series: None,
            at: c.at,
            text: change_text(c),
        });
    }
    for node in path_to_target(ctx, ix) {
        if let Some(d) = ctx.best[node.index()].and_then(|i| ctx.deps.get(i)) {
            evidence.push(step(d));
        }
    }
    let culprit = match (&change, ctx.best[ix.index()].and_then(|i| ctx.deps.get(i))) {
        (Some(c), _) => Culprit::Change(c.clone()),
        (None, Some(d)) => Culprit::Series {
            key: d.key.clone(),
            score: d.score,
            at: d.first_at.unwrap_or(d.peak_at),
        },
        (None, None) => Culprit::Service,
    };
    let summary = summarise(&evidence);
    let first_checks = first_checks(&service, g[ix].kind, &culprit);
    Hypothesis {
        service,
        score,
        culprit,
        evidence,
        summary,
        first_checks,
    }
}

/// Shortest chain of abnormal callers from `from` up to the target (inclusive both ends); just
/// `from` when there is no target or no such chain.
fn path_to_target(ctx: &Context<'_>, from: NodeIndex) -> Vec<NodeIndex> {
    let g = ctx.graph.inner();
    let Some(t) = ctx.target else {
        return vec![from];
    };
    let mut prev = vec![None; g.node_count()];
    let mut seen = vec![false; g.node_count()];
    seen[from.index()] = true;
    let mut queue = VecDeque::from([from]);
    while let Some(u) = queue.pop_front() {
        if u == t {
            let mut path = vec![t];
            let mut cur = t;
            while let Some(p) = prev[cur.index()] {
                path.push(p);
                cur = p;
            }
            path.reverse();
            return path;
        }
        for v in g.neighbors_directed(u, Direction::Incoming) {
            let ok = v == t || ctx.scores[v.index()] >= ctx.threshold;
            if ok && !seen[v.index()] {
                seen[v.index()] = true;
                prev[v.index()] = Some(u);
                queue.push_back(v);
            }
        }
    }
    vec![from]
}

fn step(d: &Departure) -> EvidenceStep {
    let at = d.first_at.unwrap_or(d.peak_at);
    let verb = if d.signed >= 0.0 { "rose" } else { "fell" };
    EvidenceStep {
        service: d.key.service.clone(),
        series: Some(d.key.clone()),
        at,
        text: format!(
            "{} {} {verb} {:.1}σ at {} ({} vs baseline {})",
            d.key.service,
            d.key.name,
            d.score,
            utc_hm(at),
            short(d.peak_value),
            short(d.baseline)
        ),
    }
}

fn change_text(c: &ChangeEvent) -> String {
    let what = if c.kind == "deploy" {
        "was deployed".to_owned()
    } else {
        format!("({} change) was applied", c.kind)
    };
    let by = c
        .author
        .as_deref()
        .map(|a| format!(" by {a}"))
        .unwrap_or_default();
    format!("{} {what}{by} at {}", c.description, utc_hm(c.at))
}

fn summarise(evidence: &[EvidenceStep]) -> String {
    let Some(first) = evidence.iter().map(|e| e.at).min() else {
        return String::new();
    };
    let (changes, steps): (Vec<_>, Vec<_>) = evidence.iter().partition(|e| e.series.is_none());
    let mut s = steps
        .iter()
        .map(|e| e.text.as_str())
        .collect::<Vec<_>>()
        .join(" → ");
    for c in changes {
        if !s.is_empty() {
            s.push_str("; ");
        }
        s.push_str(&c.text);
    }
    format!("{s} (UTC, {})", &utc_minute(first)[..10])
}

fn short(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The seeds' `recommend_action`: what to look at first for this kind of component and signal.
fn first_checks(service: &str, kind: NodeKind, culprit: &Culprit) -> Vec<String> {
    let name = service.to_ascii_lowercase();
    let mut out = Vec::new();
    if let Culprit::Change(c) = culprit {
        out.push(format!(
            "diff {} against the previous version and roll it back if the timing holds",
            c.description
        ));
    }
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if has(&["db", "dynamo", "sql", "table", "database", "redis", "cache"]) {
        out.push(format!(
            "check {service} for slow queries, throttling and exhausted connection pools"
        ));
    } else if has(&["queue", "sqs", "kafka", "topic", "stream"]) {
        out.push(format!(
            "check {service} queue depth, consumer lag and dead letters"
        ));
    } else if has(&["lambda", "function"]) {
        out.push(format!(
            "check {service} errors, timeouts, cold starts and concurrency limits"
        ));
    }
    if kind == NodeKind::Inferred {
        out.push(format!(
            "{service} is only seen from its callers: check the endpoint it fronts and the network path"
        ));
    }
    match culprit {
        Culprit::Series { key, .. } => match key.kind {
            MetricKind::Latency => out.push(format!(
                "compare {service} latency with its dependencies' and look for CPU or memory saturation"
            )),
            MetricKind::Availability | MetricKind::Errors => out.push(format!(
                "read {service}'s recent error logs and failed responses; check restarts and health checks"
            )),
            MetricKind::Saturation => out.push(format!("check {service} capacity and scaling limits")),
            MetricKind::LogTemplate => {
                out.push(format!("read the new {service} log lines around the first departure"))
            }
            MetricKind::Throughput | MetricKind::Other => out.push(format!(
                "check what changed in {service}'s traffic: callers, retries, load shedding"
            )),
        },
        Culprit::Change(_) | Culprit::Service => {
            out.push(format!("check {service}'s recent logs and health"))
        }
    }
    out
}
