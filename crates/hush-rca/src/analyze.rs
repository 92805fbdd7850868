//! The entry point: departures → abstain gate → candidates → ranking → change suspects →
//! evidence chains.

use petgraph::graph::NodeIndex;
use serde::Serialize;

use crate::change::{ChangeEvent, proximity};
use crate::departure::{Departure, DepartureConfig, TimeRange, score_series};
use crate::error::RcaError;
use crate::explain::{Context, Culprit, EvidenceStep, explain};
use crate::graph::ServiceGraph;
use crate::rank::{Move, RankConfig, Ranker, candidates, rank};
use crate::series::{MetricKind, Series};

/// The symptom to explain: a series (or a kind of series) on one service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// Service showing the symptom.
    pub service: String,
    /// Kind of the violated signal.
    pub kind: MetricKind,
    /// Display name of the violated series, when one series is meant (`"latency Average"`).
    pub name: Option<String>,
}

/// An incident as the ranker sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// The symptom; `None` ranks every abnormal service.
    pub target: Option<Target>,
    /// When the symptom was detected (alert time), Unix seconds.
    pub onset: i64,
    /// Normal behaviour to compare against.
    pub baseline: TimeRange,
    /// Where to look for departures.
    pub window: TimeRange,
}

/// All settings; [`RcaConfig::default`] is the configuration measured on PetShop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RcaConfig {
    /// Departure scorer settings (its `threshold` also marks abnormal services).
    pub departure: DepartureConfig,
    /// Ranking method.
    pub ranker: Ranker,
    /// The target must depart at least this much, or the answer is "no root cause".
    pub gate: f64,
    /// Weight of series of the target's kind but another name (e.g. p90 when the SLO is Average).
    pub related_weight: f64,
    /// Weight of series of other kinds (a latency symptom with an error-rate cause).
    pub other_kind_weight: f64,
    /// Multiplier for a service with an abnormal callee.
    pub explained_factor: f64,
    /// A callee explains its caller when its score is at least this share of the caller's.
    pub explain_ratio: f64,
    /// Multiplier for inferred nodes.
    pub inferred_weight: f64,
    /// PageRank restart probability.
    pub restart: f64,
    /// PageRank backward-walk weight.
    pub backward: f64,
    /// How far before onset a change can still be a suspect, seconds.
    pub change_lookback: i64,
    /// Half-life of a change's time-proximity, seconds.
    pub change_half_life: i64,
    /// Score multiplier `1 + boost·proximity` for a service with a recent change.
    pub change_boost: f64,
    /// How many hypotheses to return.
    pub max_hypotheses: usize,
}

impl Default for RcaConfig {
    fn default() -> Self {
        Self {
            departure: DepartureConfig::default(),
            ranker: Ranker::Traversal,
            gate: 1.0,
            related_weight: 0.0,
            other_kind_weight: 0.0,
            explained_factor: 0.3,
            explain_ratio: 0.5,
            inferred_weight: 0.1,
            restart: 0.15,
            backward: 0.2,
            change_lookback: 3600,
            change_half_life: 900,
            change_boost: 2.0,
            max_hypotheses: 10,
        }
    }
}

/// The overall answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    /// Nothing to explain or nothing abnormal: no root cause is named.
    NoRootCause {
        /// Why, in plain words.
        reason: String,
    },
    /// Hypotheses were ranked.
    Ranked,
}

/// One root-cause hypothesis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hypothesis {
    /// Suspected service.
    pub service: String,
    /// Ranker score (comparable within one report only).
    pub score: f64,
    /// What inside the service departed first and most, or the change to suspect.
    pub culprit: Culprit,
    /// Steps from the cause to the symptom, in time order where the data allows.
    pub evidence: Vec<EvidenceStep>,
    /// The chain in one line of plain words.
    pub summary: String,
    /// First checks to run for this kind of component.
    pub first_checks: Vec<String>,
}

/// The result of [`analyze`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RcaReport {
    /// Ranked or abstained.
    pub verdict: Verdict,
    /// Hypotheses, best first (empty when abstaining).
    pub hypotheses: Vec<Hypothesis>,
    /// Every series that departed past the threshold, strongest first.
    pub departures: Vec<Departure>,
}

/// Ranks root-cause hypotheses for `incident`.
///
/// Errors name the input at fault: an unknown target or series service, a reversed range, a
/// ragged series or an out-of-range setting. Everything else (missing values, empty windows,
/// nothing abnormal) is an answer, not an error.
pub fn analyze(
    graph: &ServiceGraph,
    series: &[Series],
    changes: &[ChangeEvent],
    incident: &Incident,
    cfg: &RcaConfig,
) -> Result<RcaReport, RcaError> {
    validate(graph, series, incident, cfg)?;
    let target_ix = match &incident.target {
        Some(t) => Some(
            graph
                .index_of(&t.service)
                .ok_or_else(|| RcaError::UnknownTarget(t.service.clone()))?,
        ),
        None => None,
    };
    let mut deps: Vec<Departure> = series
        .iter()
        .filter_map(|s| score_series(s, incident.baseline, incident.window, &cfg.departure))
        .collect();
    deps.sort_by(|a, b| b.score.total_cmp(&a.score));

    // Per-service score: the strongest weighted departure, and which series gave it.
    let n = graph.len();
    let mut scores = vec![0.0; n];
    let mut best: Vec<Option<usize>> = vec![None; n];
    for (i, d) in deps.iter().enumerate() {
        let Some(ix) = graph.index_of(&d.key.service) else {
            continue;
        };
        let w = weight(incident.target.as_ref(), d, cfg);
        if d.score * w > scores[ix.index()] {
            scores[ix.index()] = d.score * w;
            best[ix.index()] = Some(i);
        }
    }

    let threshold = cfg.departure.threshold;
    let abstain = |reason: String| RcaReport {
        verdict: Verdict::NoRootCause { reason },
        hypotheses: Vec::new(),
        departures: deps
            .iter()
            .filter(|d| d.score >= threshold)
            .cloned()
            .collect(),
    };
    if let (Some(t), Some(tix)) = (&incident.target, target_ix) {
        let s = scores[tix.index()];
        if s < cfg.gate {
            return Ok(abstain(format!(
                "{} {} stayed within {:.1}σ of its baseline (gate {:.1}σ)",
                t.service,
                t.name.as_deref().unwrap_or("symptom"),
                s,
                cfg.gate
            )));
        }
    }

    let cands = candidates(graph, &scores, target_ix, threshold);
    let rank_cfg = RankConfig {
        threshold,
        explained_factor: cfg.explained_factor,
        explain_ratio: cfg.explain_ratio,
        inferred_weight: cfg.inferred_weight,
        restart: cfg.restart,
        backward: cfg.backward,
    };
    // When each service was changed: a change between a callee's onset and its caller's is
    // the nearer explanation of the caller.
    let mut changed: Vec<Vec<i64>> = vec![Vec::new(); n];
    for c in changes {
        if let Some(ix) = graph.index_of(&c.service) {
            changed[ix.index()].push(c.at);
        }
    }
    // Per service, its other series that departed earlier and were still abnormal when its
    // strongest one departed: (first time past the threshold, weighted score).
    let mut onsets: Vec<Vec<(i64, f64)>> = vec![Vec::new(); n];
    for d in &deps {
        let Some(ix) = graph.index_of(&d.key.service) else {
            continue;
        };
        let Some(b) = best[ix.index()]
            .and_then(|i| deps.get(i))
            .and_then(|d| d.first_at)
        else {
            continue;
        };
        let w = d.score * weight(incident.target.as_ref(), d, cfg);
        let ongoing = d.last_at.is_some_and(|t| t >= b);
        match d.first_at {
            Some(f) if f < b && ongoing && w >= threshold => onsets[ix.index()].push((f, w)),
            _ => {}
        }
    }
    // Moves in signal units, comparable only between series of the symptom's kind and name.
    let moves: Vec<Move<'_>> = best
        .iter()
        .zip(&changed)
        .zip(&onsets)
        .map(|((b, ch), earlier)| match b.and_then(|i| deps.get(i)) {
            Some(d) if weight(incident.target.as_ref(), d, cfg) >= 1.0 => Move {
                delta: (d.peak_value - d.baseline).abs(),
                signal: Some((d.key.kind, d.key.name.as_str())),
                first: d.first_at,
                earlier,
                abnormal: &d.abnormal_at,
                changed: ch,
            },
            _ => Move {
                delta: f64::NAN,
                signal: None,
                first: None,
                earlier: &[],
                abnormal: &[],
                changed: ch,
            },
        })
        .collect();
    let mut ranked = rank(cfg.ranker, graph, &scores, &moves, &cands, &rank_cfg);
    let suspects = change_suspects(graph, changes, incident, cfg, &cands, &moves);
    apply_changes(&mut ranked, &suspects, cfg);
    if ranked.is_empty() {
        return Ok(abstain("no service departed from its baseline".to_owned()));
    }
    ranked.truncate(cfg.max_hypotheses);
    let ctx = Context {
        graph,
        scores: &scores,
        best: &best,
        deps: &deps,
        target: target_ix,
        threshold,
    };
    let hypotheses = ranked
        .iter()
        .map(|&(ix, score)| {
            let change = suspects
                .iter()
                .filter(|(c, _, p)| *c == ix && *p >= 0.5)
                .max_by(|a, b| a.2.total_cmp(&b.2))
                .map(|(_, ch, _)| (*ch).clone());
            explain(&ctx, ix, score, change)
        })
        .collect();
    Ok(RcaReport {
        verdict: Verdict::Ranked,
        hypotheses,
        departures: deps.into_iter().filter(|d| d.score >= threshold).collect(),
    })
}

/// How much a departure counts towards its service, given the symptom's kind and name.
fn weight(target: Option<&Target>, d: &Departure, cfg: &RcaConfig) -> f64 {
    let Some(t) = target else { return 1.0 };
    if d.key.kind != t.kind {
        return cfg.other_kind_weight;
    }
    match &t.name {
        Some(name) if *name != d.key.name => cfg.related_weight,
        _ => 1.0,
    }
}

fn validate(
    graph: &ServiceGraph,
    series: &[Series],
    incident: &Incident,
    cfg: &RcaConfig,
) -> Result<(), RcaError> {
    for (what, r) in [
        ("baseline", incident.baseline),
        ("incident", incident.window),
    ] {
        if r.end < r.start {
            return Err(RcaError::BadRange {
                what,
                start: r.start,
                end: r.end,
            });
        }
    }
    for s in series {
        if s.times.len() != s.values.len() {
            return Err(RcaError::RaggedSeries(s.key.to_string()));
        }
        if graph.node(&s.key.service).is_none() {
            return Err(RcaError::UnknownService {
                service: s.key.service.clone(),
                series: s.key.to_string(),
            });
        }
    }
    let unit = |v: f64| (0.0..=1.0).contains(&v);
    let nonneg = |v: f64| v.is_finite() && v >= 0.0;
    if !(cfg.departure.threshold > 0.0 && cfg.departure.threshold.is_finite()) {
        return Err(RcaError::InvalidConfig(
            "departure threshold must be positive",
        ));
    }
    if !(unit(cfg.restart) && unit(cfg.explained_factor) && unit(cfg.inferred_weight)) {
        return Err(RcaError::InvalidConfig(
            "restart, explained_factor and inferred_weight must lie in [0, 1]",
        ));
    }
    if ![
        cfg.gate,
        cfg.explain_ratio,
        cfg.related_weight,
        cfg.other_kind_weight,
        cfg.backward,
        cfg.change_boost,
    ]
    .into_iter()
    .all(nonneg)
        || ![cfg.departure.relative_floor, cfg.departure.ratio_floor]
            .into_iter()
            .all(nonneg)
    {
        return Err(RcaError::InvalidConfig(
            "weights, gate and floors must be finite and >= 0",
        ));
    }
    Ok(())
}

/// Changes close enough to onset on a candidate service, or on a service that a candidate calls
/// directly and that was changed before that candidate departed: (service, change, proximity).
///
/// A fault travels up the call graph through the services that show it, so a changed service
/// that did not depart itself (no telemetry of the fault: a database whose clients see the
/// errors) can only be the cause of what its own callers show, after the change. A change on a
/// service that neither departed nor is called by one that did is unrelated to the incident,
/// however close in time; with nothing departed, no change is a suspect.
fn change_suspects<'a>(
    graph: &ServiceGraph,
    changes: &'a [ChangeEvent],
    incident: &Incident,
    cfg: &RcaConfig,
    cands: &[NodeIndex],
    moves: &[Move<'_>],
) -> Vec<(NodeIndex, &'a ChangeEvent, f64)> {
    let g = graph.inner();
    let in_scope = |ix: NodeIndex, at: i64| {
        cands.contains(&ix)
            || g.neighbors_directed(ix, petgraph::Direction::Incoming)
                .any(|caller| {
                    cands.contains(&caller)
                        && moves
                            .get(caller.index())
                            .and_then(|m| m.first)
                            .is_some_and(|first| first >= at)
                })
    };
    changes
        .iter()
        .filter_map(|c| {
            let ix = graph.index_of(&c.service)?;
            let p = proximity(
                c.at,
                incident.onset,
                cfg.change_lookback,
                cfg.change_half_life,
            );
            (p > 0.0 && in_scope(ix, c.at)).then_some((ix, c, p))
        })
        .collect()
}

/// Boosts services with a recent change; a changed service nobody flagged still becomes a
/// suspect, scored as if it had departed by the proximity-weighted boost.
fn apply_changes(
    ranked: &mut Vec<(NodeIndex, f64)>,
    suspects: &[(NodeIndex, &ChangeEvent, f64)],
    cfg: &RcaConfig,
) {
    let floor = ranked.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    let floor = if floor.is_finite() { floor } else { 1.0 };
    for &(ix, _, p) in suspects {
        let boost = 1.0 + cfg.change_boost * p;
        match ranked.iter_mut().find(|r| r.0 == ix) {
            Some(r) => r.1 *= boost,
            None => ranked.push((ix, floor * cfg.change_boost * p)),
        }
    }
    ranked.retain(|r| r.1 > 0.0);
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
}
