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

/// Orders `cands` by the chosen ranker (`deltas`: each service's best move in its signal's units,
/// `NaN` when not comparable); returns (node, score) best first, scores > 0 only.
pub(crate) fn rank(
    ranker: Ranker,
    graph: &ServiceGraph,
    scores: &[f64],
    deltas: &[f64],
    cands: &[NodeIndex],
    cfg: &RankConfig,
) -> Vec<(NodeIndex, f64)> {
    let mut out = match ranker {
        Ranker::Traversal => traversal(graph, scores, deltas, cands, cfg),
        Ranker::PageRank => pagerank(graph, scores, cands, cfg),
        Ranker::Robust => cands
            .iter()
            .map(|&ix| (ix, scores[ix.index()] * kind_weight(graph, ix, cfg)))
            .collect(),
        Ranker::Ensemble => {
            let lists = [
                sorted(traversal(graph, scores, deltas, cands, cfg)),
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

fn traversal(
    graph: &ServiceGraph,
    scores: &[f64],
    deltas: &[f64],
    cands: &[NodeIndex],
    cfg: &RankConfig,
) -> Vec<(NodeIndex, f64)> {
    let g = graph.inner();
    cands
        .iter()
        .map(|&ix| {
            // A callee explains its caller only if it moved comparably. Moves are compared in
            // the signal's own units when both are known (latency adds up along a call path,
            // failures pass through), else in spreads: a caller that moved far more than anything
            // it calls is where the fault sits.
            let own = scores[ix.index()];
            let own_delta = deltas.get(ix.index()).copied().unwrap_or(f64::NAN);
            let explained = g.neighbors_directed(ix, Direction::Outgoing).any(|c| {
                let s = scores[c.index()] * kind_weight(graph, c, cfg);
                let d = deltas.get(c.index()).copied().unwrap_or(f64::NAN);
                let comparable = if d.is_finite() && own_delta.is_finite() && own_delta > 0.0 {
                    d >= cfg.explain_ratio * own_delta
                } else {
                    s >= cfg.explain_ratio * own
                };
                s >= cfg.threshold && comparable
            });
            let f = if explained { cfg.explained_factor } else { 1.0 };
            (ix, scores[ix.index()] * f * kind_weight(graph, ix, cfg))
        })
        .collect()
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
