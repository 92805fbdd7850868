//! Rankers over the anomalous subgraph.
//!
//! A callee's fault shows up in its callers, so the candidates are the abnormal services that can
//! be reached from the symptom by following calls through abnormal services only (the traversal
//! idea of the PetShop baseline — Hardt et al., 2023); a service whose abnormal callee already
//! explains it is discounted.

use petgraph::Direction;
use petgraph::graph::NodeIndex;
use serde::Serialize;

use crate::graph::{NodeKind, ServiceGraph};
use crate::ppr::personalised_pagerank;
use crate::series::MetricKind;

/// Which ranking method orders the candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Ranker {
    /// Anomaly strength, discounted when an abnormal callee explains it.
    #[default]
    Traversal,
    /// Personalised PageRank on the anomalous subgraph (teleport = anomaly, walk caller→callee).
    PageRank,
    /// Graph-free robust score (BARO-style): strongest departure first.
    Robust,
    /// Reciprocal-rank fusion of the three.
    Ensemble,
}

/// Knobs the rankers share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankConfig {
    /// Departure from which a service counts as abnormal.
    pub threshold: f64,
    /// Multiplier for a service with an abnormal callee (it is likely a victim).
    pub explained_factor: f64,
    /// A callee explains its caller when its (kind-weighted) score is at least this share of the
    /// caller's.
    pub explain_ratio: f64,
    /// Multiplier for inferred nodes (seen only from callers; they mirror what they front).
    pub inferred_weight: f64,
    /// PageRank restart probability.
    pub restart: f64,
    /// PageRank weight of walking back from callee to caller, relative to forward.
    pub backward: f64,
}

/// Abnormal services reachable from `target` through abnormal services, plus `target` itself;
/// all abnormal services when there is no target.
pub(crate) fn candidates(
    graph: &ServiceGraph,
    scores: &[f64],
    target: Option<NodeIndex>,
    threshold: f64,
) -> Vec<NodeIndex> {
    let g = graph.inner();
    let abnormal = |ix: NodeIndex| scores.get(ix.index()).is_some_and(|s| *s >= threshold);
    let Some(t) = target else {
        return g.node_indices().filter(|ix| abnormal(*ix)).collect();
    };
    let mut seen = vec![false; g.node_count()];
    seen[t.index()] = true;
    let mut stack = vec![t];
    let mut out = vec![t];
    while let Some(u) = stack.pop() {
        for v in g.neighbors_directed(u, Direction::Outgoing) {
            if !seen[v.index()] && abnormal(v) {
                seen[v.index()] = true;
                out.push(v);
                stack.push(v);
            }
        }
    }
    out
}

/// Orders `cands` by the chosen ranker (`moves`: each service's best departure, for comparing
/// a caller with its callees); returns (node, score) best first, scores > 0 only.
pub(crate) fn rank(
    ranker: Ranker,
    graph: &ServiceGraph,
    scores: &[f64],
    moves: &[Move<'_>],
    cands: &[NodeIndex],
    cfg: &RankConfig,
) -> Vec<(NodeIndex, f64)> {
    let mut out = match ranker {
        Ranker::Traversal => traversal(graph, scores, moves, cands, cfg),
        Ranker::PageRank => pagerank(graph, scores, cands, cfg),
        Ranker::Robust => cands
            .iter()
            .map(|&ix| (ix, scores[ix.index()] * kind_weight(graph, ix, cfg)))
            .collect(),
        Ranker::Ensemble => {
            let lists = [
                sorted(traversal(graph, scores, moves, cands, cfg)),
                sorted(pagerank(graph, scores, cands, cfg)),
            ];
            cands
                .iter()
                .map(|&ix| {
                    let fused = lists
                        .iter()
                        .filter_map(|l| l.iter().position(|(n, _)| *n == ix))
                        .map(|r| 1.0 / (2.0 + r as f64))
                        .sum();
                    (ix, fused)
                })
                .collect()
        }
    };
    out.retain(|(_, s)| s.is_finite() && *s > 0.0);
    sorted(out)
}

fn sorted(mut v: Vec<(NodeIndex, f64)>) -> Vec<(NodeIndex, f64)> {
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

fn kind_weight(graph: &ServiceGraph, ix: NodeIndex, cfg: &RankConfig) -> f64 {
    match graph.inner()[ix].kind {
        NodeKind::Service => 1.0,
        NodeKind::Inferred => cfg.inferred_weight,
    }
}

/// A service's strongest departure as the traversal ranker compares it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Move<'a> {
    /// Size of the move in the signal's own units; `NaN` when not comparable.
    pub delta: f64,
    /// Kind and display name of the series that moved.
    pub signal: Option<(MetricKind, &'a str)>,
    /// When it first stood past the threshold, Unix seconds.
    pub first: Option<i64>,
    /// Its other series that stood past the threshold before it and still did when it
    /// departed: (first time past the threshold, score).
    pub earlier: &'a [(i64, f64)],
    /// Every time it stood past the threshold, ascending.
    pub abnormal: &'a [i64],
    /// When changes were applied to the service, Unix seconds.
    pub changed: &'a [i64],
}

/// How long before its caller departed a callee must still have been abnormal to explain it:
/// a few scrape intervals, as the effect of a callee shows in its caller within a minute or two.
const STILL_ABNORMAL_S: i64 = 300;

/// How long a departure takes to show one hop away, and a change in the service it was applied
/// to: a scrape or two.
const PROPAGATION_S: i64 = 60;

/// Whether the caller's own change, not the callee, explains the caller's onset.
///
/// Either the callee had been abnormal for longer than its effect takes to propagate while the
/// caller stayed normal, and the caller departed only after a change was applied to it: an
/// earlier downstream blip (a GC pause, a slow node) then explains nothing, however it compares
/// in size. Or the caller departed within a scrape or two of its own change and the callee was
/// not abnormal across that change: it departed only with or after the change (which precedes
/// both), or its blip was over before the change took effect. Only a callee abnormal both
/// before the change and still as the caller departed leaves the two indistinguishable; it then
/// keeps explaining its caller.
fn own_change_came_between(mine: &Move<'_>, theirs: &Move<'_>) -> bool {
    let (Some(a), Some(b)) = (theirs.first, mine.first) else {
        return false;
    };
    let across = |t: i64| a < t && theirs.abnormal.iter().any(|&x| x >= t && x <= b);
    mine.changed
        .iter()
        .any(|&t| t <= b && (t >= a + PROPAGATION_S || (b - t <= PROPAGATION_S && !across(t))))
}

fn traversal(
    graph: &ServiceGraph,
    scores: &[f64],
    moves: &[Move<'_>],
    cands: &[NodeIndex],
    cfg: &RankConfig,
) -> Vec<(NodeIndex, f64)> {
    let g = graph.inner();
    let none = Move {
        delta: f64::NAN,
        signal: None,
        first: None,
        earlier: &[],
        abnormal: &[],
        changed: &[],
    };
    // Per candidate: its own weighted score and the callees that explain it (empty: none do).
    let mut own_scores = Vec::with_capacity(cands.len());
    let mut explainers: Vec<Vec<NodeIndex>> = Vec::with_capacity(cands.len());
    for &ix in cands {
        // A callee explains its caller only if it moved comparably. Moves of the same signal
        // are compared in its own units, summed over the abnormal callees (latency adds up over
        // the calls a request makes; failures of several callees add up too). Moves of
        // different signals (a cache's failed commands, its caller's latency) have no common
        // unit — their spreads differ by orders of magnitude — so there a callee explains its
        // caller when it departed no later and was still abnormal when the caller departed
        // (temporal precedence). Without either, moves are compared in spreads.
        let own = scores[ix.index()];
        let mine = moves.get(ix.index()).copied().unwrap_or(none);
        let mut same: Vec<NodeIndex> = Vec::new();
        let mut same_sum = 0.0;
        let mut cross: Vec<NodeIndex> = Vec::new();
        for c in g.neighbors_directed(ix, Direction::Outgoing) {
            let s = scores[c.index()] * kind_weight(graph, c, cfg);
            if s < cfg.threshold {
                continue;
            }
            let theirs = moves.get(c.index()).copied().unwrap_or(none);
            if own_change_came_between(&mine, &theirs) {
                continue;
            }
            let comparable = theirs.signal.is_some() && theirs.signal == mine.signal;
            // Load flows down the call graph: a callee's traffic moving is the consequence of
            // its caller sending more or less, never an explanation of a different symptom.
            if !comparable
                && theirs
                    .signal
                    .is_some_and(|(k, _)| k == MetricKind::Throughput)
            {
                continue;
            }
            if comparable && theirs.delta.is_finite() && mine.delta.is_finite() && mine.delta > 0.0
            {
                same_sum += theirs.delta;
                same.push(c);
            } else if let (false, Some(a), Some(b)) = (comparable, theirs.first, mine.first) {
                // A callee's blip that was over before the caller moved is no explanation.
                let still = theirs
                    .abnormal
                    .iter()
                    .any(|&t| t <= b && b - t <= STILL_ABNORMAL_S);
                // Nor is a callee that departed after the caller was already departing, as far
                // (in spreads) as the callee ever did, on a signal still abnormal when its
                // strongest moved: the caller's trouble began first. A smaller early move of
                // the caller's (a noisy point) does not count.
                let caller_first = mine.earlier.iter().any(|&(f, sc)| f < a && sc >= s);
                if a <= b && still && !caller_first {
                    cross.push(c);
                }
            } else if s >= cfg.explain_ratio * own {
                same.push(c);
                same_sum = f64::INFINITY;
            }
        }
        let by_same = mine.delta.is_finite()
            && mine.delta > 0.0
            && same_sum >= cfg.explain_ratio * mine.delta
            || same_sum.is_infinite();
        let mut why = if by_same { same } else { Vec::new() };
        why.extend(cross);
        own_scores.push(own * kind_weight(graph, ix, cfg));
        explainers.push(why);
    }
    // An explained service is a victim: it scores `explained_factor` times its own score, and
    // never more than `explained_factor` times the best of what explains it, so a symptom whose
    // signal has a tight spread cannot outrank its cause. Victims of victims settle in a few
    // rounds (scores only fall).
    let mut fin: Vec<f64> = own_scores
        .iter()
        .zip(&explainers)
        .map(|(o, e)| {
            if e.is_empty() {
                *o
            } else {
                o * cfg.explained_factor
            }
        })
        .collect();
    for _ in 0..cands.len() {
        let mut changed = false;
        for i in 0..cands.len() {
            if explainers[i].is_empty() {
                continue;
            }
            let best = explainers[i]
                .iter()
                .map(|c| match cands.iter().position(|x| x == c) {
                    Some(j) => fin[j],
                    None => scores[c.index()] * kind_weight(graph, *c, cfg),
                })
                .fold(0.0, f64::max);
            let capped = (own_scores[i] * cfg.explained_factor).min(best * cfg.explained_factor);
            if capped < fin[i] {
                fin[i] = capped;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    cands.iter().copied().zip(fin).collect()
}

fn pagerank(
    graph: &ServiceGraph,
    scores: &[f64],
    cands: &[NodeIndex],
    cfg: &RankConfig,
) -> Vec<(NodeIndex, f64)> {
    let g = graph.inner();
    let pos = |ix: NodeIndex| cands.iter().position(|c| *c == ix);
    let n = cands.len();
    let mut w = vec![vec![0.0; n]; n];
    for (i, &u) in cands.iter().enumerate() {
        let mut max_callee: f64 = 0.0;
        for v in g.neighbors_directed(u, Direction::Outgoing) {
            if let Some(j) = pos(v) {
                let s = scores[v.index()] * kind_weight(graph, v, cfg);
                w[i][j] += s;
                max_callee = max_callee.max(s);
            }
        }
        for v in g.neighbors_directed(u, Direction::Incoming) {
            if let Some(j) = pos(v) {
                w[i][j] += cfg.backward * scores[v.index()];
            }
        }
        // A service more abnormal than anything it calls keeps the walker: the fault is here.
        w[i][i] += (scores[u.index()] * kind_weight(graph, u, cfg) - max_callee).max(0.0);
    }
    let teleport: Vec<f64> = cands
        .iter()
        .map(|&ix| scores[ix.index()] * kind_weight(graph, ix, cfg))
        .collect();
    let pi = personalised_pagerank(&w, &teleport, cfg.restart, 100);
    cands.iter().copied().zip(pi).collect()
}
