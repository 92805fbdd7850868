//! How strongly an alert belongs to an open incident: time proximity times relatedness
//! (topology, labels, text), scaled by learned co-occurrence.

use crate::alert::Millis;
use crate::correlator::Config;
use crate::features::{Features, Rarity};
use crate::incident::Incident;
use crate::learn::CoOccurrence;
use crate::topology::Topology;

/// The parts of a score, kept for explanations and tests.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Score {
    pub time: f32,
    pub topology: f32,
    pub labels: f32,
    pub text: f32,
    /// Multiplier from co-occurrence; 1 when nothing is known.
    pub learned: f32,
    pub total: f32,
}

/// Proximity in the dependency graph between `service` and the incident's services.
fn topology_proximity(service: Option<usize>, inc: &Incident, topo: &Topology) -> f32 {
    let Some(s) = service else { return 0.0 };
    let near = topo.near(s);
    inc.service_idx
        .iter()
        .filter_map(|j| {
            near.binary_search_by_key(j, |&(k, _)| k)
                .ok()
                .map(|pos| near[pos].1)
        })
        .fold(0.0, f32::max)
}

/// Share of the alert's label weight (by rarity) that the incident's alerts also carry.
fn label_similarity(f: &Features, inc: &Incident, rarity: &Rarity) -> f32 {
    let (mut shared, mut total) = (0.0f32, 0.0f32);
    for p in &f.pairs {
        // The alert name says what broke, not where: sharing it is no evidence of one cause.
        if p.starts_with("alertname=") {
            continue;
        }
        let w = rarity.weight(p);
        total += w;
        if inc.pairs.contains_key(p) {
            shared += w;
        }
    }
    if total <= f32::EPSILON {
        0.0
    } else {
        shared / total
    }
}

fn text_similarity(f: &Features, inc: &Incident) -> f32 {
    if f.tokens.is_empty() {
        return 0.0;
    }
    let shared = f.tokens.iter().filter(|t| inc.tokens.contains(*t)).count();
    shared as f32 / f.tokens.len() as f32
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn score(
    f: &Features,
    kind: Option<u32>,
    inc: &Incident,
    now: Millis,
    cfg: &Config,
    topo: &Topology,
    rarity: &Rarity,
    co: &CoOccurrence,
) -> Score {
    let gap = now.saturating_sub(inc.grew_at).max(0) as f32;
    let tau = cfg.tau_ms.max(1) as f32;
    let mut time = (-gap / tau).exp();
    if inc.is_firing() && gap <= cfg.max_gap_ms as f32 {
        // A problem still firing is still the problem: a late symptom of it belongs to it.
        time = time.max(cfg.firing_floor);
    }
    let topology = topology_proximity(f.service, inc, topo);
    let labels = label_similarity(f, inc, rarity);
    let text = text_similarity(f, inc);
    let related = (topology.max(cfg.label_weight * labels) + cfg.text_weight * text).min(1.0);
    let learned = match kind.and_then(|k| co.affinity(k, &inc.kinds)) {
        Some((p, confidence)) => {
            let m = cfg.learned_floor + (cfg.learned_ceiling - cfg.learned_floor) * p;
            1.0 + confidence * (m - 1.0)
        }
        None => 1.0,
    };
    Score {
        time,
        topology,
        labels,
        text,
        learned,
        total: time * related * learned,
    }
}
