//! Root cause for live incidents: the service graph from the topology, per-service signals
//! read back from the store, and change events from the database, ranked by `hush-rca`.
//!
//! The ranker is pure; this module only gathers its inputs. Signals are rebuilt from stored
//! samples by cutting the window into scrape-interval ticks, so the server and the offline
//! evaluation derive them with the same code ([`signals::Signals`]).

pub mod name;
pub mod signals;

use crate::Engine;
use crate::topology::LoadedTopology;
use hush_model::{MatchOp, Matcher, Sample, TimeSeries};
use hush_rca::{ChangeEvent, NodeKind, Provenance, ServiceGraph};
use std::collections::BTreeSet;

pub use name::{Named, name_cause};
pub use signals::Signals;

/// Longest look-back read from the store for one analysis (baseline and incident window).
const LOOKBACK_MS: i64 = 3 * 3600 * 1000;
/// Ticks kept: enough for [`LOOKBACK_MS`] at a 15 s interval.
const MAX_TICKS: usize = 720;

/// The configured topology as a ranker graph (edges caller → callee).
pub fn graph_of(topology: &LoadedTopology) -> ServiceGraph {
    let mut g = ServiceGraph::new();
    for s in &topology.file.services {
        g.add_service(&s.name, NodeKind::Service);
    }
    for s in &topology.file.services {
        for d in &s.depends_on {
            g.add_call(&s.name, d, Provenance::Config);
        }
    }
    g
}

/// A stored change event (`kind = change`) as a ranker suspect. The payload's `kind`,
/// `version`, `description` and `author` are used when present.
pub fn change_of(e: &hush_sql::Event) -> Option<ChangeEvent> {
    let service = e.service.clone()?;
    let field = |k: &str| e.payload.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let what = field("description").unwrap_or_else(|| "change".into());
    Some(ChangeEvent {
        kind: field("kind").unwrap_or_else(|| "change".into()),
        description: match field("version") {
            Some(v) => format!("{service} {v}: {what}"),
            None => format!("{service}: {what}"),
        },
        author: field("author"),
        service,
        at: e.at / 1000,
    })
}

/// The typical spacing of samples, used as the tick length (bounded to 1 s – 5 min).
fn tick_ms(series: &[TimeSeries]) -> i64 {
    let mut gaps: Vec<i64> = series
        .iter()
        .flat_map(|s| s.samples.windows(2).map(|w| w[1].t - w[0].t))
        .filter(|g| *g > 0)
        .take(10_000)
        .collect();
    if gaps.is_empty() {
        return 15_000;
    }
    let mid = gaps.len() / 2;
    (*gaps.select_nth_unstable(mid).1).clamp(1_000, 300_000)
}

/// Rebuilds per-service signals from stored series: each tick takes every series' last sample
/// at or before the tick's end, as a scrape at that moment would have seen it.
pub fn signals_from(series: &[TimeSeries], start_ms: i64, end_ms: i64) -> Signals {
    let step = tick_ms(series);
    let mut signals = Signals::new(MAX_TICKS);
    let first = start_ms.div_euclid(step) * step + step;
    let mut cursor = vec![0usize; series.len()];
    let mut t = first;
    while t < end_ms + step {
        let mut tick = Vec::with_capacity(series.len());
        for (i, s) in series.iter().enumerate() {
            let c = &mut cursor[i];
            let before = *c;
            while *c < s.samples.len() && s.samples[*c].t <= t {
                *c += 1;
            }
            // Only a sample that arrived in this tick counts; an old one is not a new scrape.
            if *c > before {
                let last = s.samples[*c - 1];
                tick.push(TimeSeries::new(
                    s.labels.clone(),
                    vec![Sample {
                        t: last.t,
                        v: last.v,
                    }],
                ));
            }
        }
        if !tick.is_empty() {
            signals.push(t, &tick);
        }
        t += step;
    }
    signals
}

/// The services in the graph that the incident's services reach (callees included).
fn involved(graph: &ServiceGraph, services: &BTreeSet<String>) -> Vec<String> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<String> = services.iter().cloned().collect();
    while let Some(s) = todo.pop() {
        if graph.node(&s).is_none() || !seen.insert(s.clone()) {
            continue;
        }
        todo.extend(graph.callees(&s).into_iter().map(str::to_owned));
    }
    seen.into_iter().collect()
}

fn any_of(label: &str, values: impl IntoIterator<Item = String>) -> anyhow::Result<Matcher> {
    let pattern = values
        .into_iter()
        .map(|s| regex::escape(&s))
        .collect::<Vec<_>>()
        .join("|");
    Matcher::new(MatchOp::Regex, label, pattern).map_err(|e| anyhow::anyhow!("bad matcher: {e}"))
}

/// Label values of `kube_pod_info` series matching `m` lately: which nodes a set of services
/// runs on, or which services a set of nodes hosts. Index only, no samples read.
fn pod_info(engine: &Engine, m: Matcher, want: &str, now_ms: i64) -> anyhow::Result<Vec<String>> {
    let labels = engine
        .store
        .series(
            &[Matcher::equal("__name__", "kube_pod_info"), m],
            now_ms - 15 * 60_000,
            now_ms,
        )
        .map_err(|e| anyhow::anyhow!("reading pod placement: {e}"))?;
    Ok(labels
        .iter()
        .filter_map(|l| l.get(want).map(str::to_owned))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect())
}

/// Names the root cause of an incident over `services` (plus, for alerts that name a node,
/// the services running there), whose alerts started at `alert_starts_ms`, with data up to
/// `now_ms`. `Ok(None)` when there is no topology, nothing to rank, or the ranker abstains.
pub async fn analyze_incident(
    engine: &Engine,
    services: &BTreeSet<String>,
    alert_starts_ms: &[i64],
    nodes: &BTreeSet<String>,
    now_ms: i64,
) -> anyhow::Result<Option<Named>> {
    let Some(topology) = engine.topology.get() else {
        return Ok(None);
    };
    let graph = graph_of(&topology);
    let mut services = services.clone();
    if !nodes.is_empty() {
        services.extend(pod_info(
            engine,
            any_of("node", nodes.iter().cloned())?,
            "service",
            now_ms,
        )?);
    }
    let reach = involved(&graph, &services);
    if reach.is_empty() {
        return Ok(None);
    }
    // Co-tenants of the involved pods share their nodes' resources: read them too.
    let mut read: BTreeSet<String> = reach.iter().cloned().collect();
    let their_nodes = pod_info(
        engine,
        any_of("service", reach.iter().cloned())?,
        "node",
        now_ms,
    )?;
    if !their_nodes.is_empty() {
        read.extend(pod_info(
            engine,
            any_of("node", their_nodes)?,
            "service",
            now_ms,
        )?);
    }
    let start = now_ms - LOOKBACK_MS;
    // Reading hours of samples and folding them is CPU work: off the async workers, so the
    // incident task's awaits (and every other task) keep moving meanwhile.
    let matcher = any_of("service", read)?;
    let store = engine.store.clone();
    let signals = tokio::task::spawn_blocking(move || {
        store
            .select(&[matcher], start, now_ms)
            .map(|series| signals_from(&series, start, now_ms))
    })
    .await
    .map_err(|e| anyhow::anyhow!("root-cause analysis task failed: {e}"))?
    .map_err(|e| anyhow::anyhow!("reading series for root-cause analysis: {e}"))?;
    let events = engine
        .db
        .list_events(&hush_sql::EventFilter {
            kind: Some(hush_sql::EventKind::Change),
            from: Some(start),
            to: Some(now_ms + 1),
            limit: Some(10_000),
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("reading changes for root-cause analysis: {e}"))?;
    let changes: Vec<ChangeEvent> = events.iter().filter_map(change_of).collect();
    let named = name_cause(
        &graph,
        &signals,
        &changes,
        &services,
        alert_starts_ms,
        now_ms,
    );
    tracing::debug!(
        services = reach.len(),
        signals = signals.series(&[]).len(),
        changes = changes.len(),
        now_ms,
        named = ?named.as_ref().ok().and_then(|n| n.as_ref().map(|n| n.service.clone())),
        "root-cause analysis"
    );
    named
}
