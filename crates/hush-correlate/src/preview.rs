//! "What would this rule have done": replays past alerts through two correlators, with and
//! without the proposed rules, and reports what the rules changed.

use std::collections::{BTreeMap, BTreeSet};

use crate::alert::Alert;
use crate::correlator::{Config, Correlator};
use crate::error::RuleError;
use crate::incident::{Change, IncidentId};
use crate::learn::CoOccurrence;
use crate::rules::Rules;
use crate::topology::Topology;

/// What one rule did over the replayed alerts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RulePreview {
    pub rule: String,
    /// Distinct alert episodes it matched.
    pub alerts: usize,
    /// Incidents it formed.
    pub incidents: usize,
    /// Of those, incidents that never reached `open_after` and so never notified.
    pub held_back: usize,
}

/// The replay with the proposed rules next to the replay with the current ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Preview {
    /// Incidents opened (notified) with the current rules.
    pub opened_before: usize,
    /// Incidents opened with the proposed rules.
    pub opened_after: usize,
    /// Alerts refused as invalid (the same under both).
    pub refused: usize,
    /// One entry per proposed rule, in order.
    pub rules: Vec<RulePreview>,
}

/// An alert episode: fingerprint and start.
type Episode = (String, i64);

/// What one replay produced.
struct Replayed {
    opened: usize,
    refused: usize,
    members: BTreeMap<IncidentId, BTreeSet<Episode>>,
    open_ids: BTreeSet<IncidentId>,
}

fn replay(
    cfg: Config,
    topo: &Topology,
    learned: &CoOccurrence,
    alerts: &[Alert],
) -> Result<Replayed, RuleError> {
    let mut c = Correlator::new(cfg, topo.clone(), learned.clone())?;
    let (mut opened, mut refused) = (0, 0);
    let mut members: BTreeMap<IncidentId, BTreeSet<Episode>> = BTreeMap::new();
    let mut open_ids = BTreeSet::new();
    for a in alerts {
        let key = (a.fingerprint.clone(), a.starts_at);
        match c.ingest(a.clone(), a.received_at) {
            Ok(o) => {
                for ch in &o.changes {
                    if let Change::Opened { incident, .. } = ch {
                        opened += 1;
                        open_ids.insert(*incident);
                    }
                }
                members.entry(o.incident).or_default().insert(key);
            }
            Err(_) => refused += 1,
        }
    }
    Ok(Replayed {
        opened,
        refused,
        members,
        open_ids,
    })
}

/// Replays `alerts` (in time order, each at its `received_at`) under `current` and under
/// `proposed` rules, everything else of `cfg` equal.
pub fn preview(
    cfg: &Config,
    topo: &Topology,
    learned: &CoOccurrence,
    current: &Rules,
    proposed: &Rules,
    alerts: &[Alert],
) -> Result<Preview, RuleError> {
    let before = Config {
        rules: current.clone(),
        ..cfg.clone()
    };
    let after = Config {
        rules: proposed.clone(),
        ..cfg.clone()
    };
    let was = replay(before, topo, learned, alerts)?;
    let Replayed {
        opened: opened_after,
        members,
        open_ids,
        ..
    } = replay(after, topo, learned, alerts)?;
    let (opened_before, refused) = (was.opened, was.refused);
    // Which rule formed each incident is decided by its first alert.
    let mut rules: Vec<RulePreview> = proposed
        .rules
        .iter()
        .map(|r| RulePreview {
            rule: r.name.clone(),
            ..RulePreview::default()
        })
        .collect();
    let first_alert: BTreeMap<Episode, &Alert> = alerts
        .iter()
        .map(|a| ((a.fingerprint.clone(), a.starts_at), a))
        .collect();
    for (id, eps) in &members {
        let Some(a) = eps.iter().find_map(|k| first_alert.get(k)) else {
            continue;
        };
        let Some(pos) = proposed.rules.iter().position(|r| r.matches(a)) else {
            continue;
        };
        let rp = &mut rules[pos];
        rp.alerts += eps.len();
        rp.incidents += 1;
        if !open_ids.contains(id) {
            rp.held_back += 1;
        }
    }
    Ok(Preview {
        opened_before,
        opened_after,
        refused,
        rules,
    })
}
