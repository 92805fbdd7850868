//! Alerts to incidents to root causes: the simulator's Alertmanager notifications go through
//! the correlator; when an incident opens or grows, the ranker names its top suspect.

use super::board::{Board, View};
use super::rca::{Named, change_event, name_cause};
use super::signals::Signals;
use anyhow::Context;
use hush_correlate::{
    Alert, AlertStatus, CoOccurrence, Config, Correlator, IncidentId, Topology, TopologyFile,
};
use hush_rca::{ChangeEvent, ServiceGraph};
use hush_sim::{AmAlert, Tick, Truth};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What the driver prints about an incident.
pub enum Event {
    Opened(View),
    /// The named root cause changed.
    Renamed(View),
}

pub struct Tracker {
    correlator: Correlator,
    graph: ServiceGraph,
    changes: Vec<ChangeEvent>,
    /// Alert episodes (fingerprint, start) per incident, to look up their truth.
    episodes: BTreeMap<IncidentId, BTreeSet<(String, i64)>>,
    named: BTreeMap<IncidentId, Option<Named>>,
    /// Nodes named by each incident's alerts (node alerts carry no service).
    nodes: BTreeMap<IncidentId, BTreeSet<String>>,
    pub alerts_in: usize,
    board: Arc<Board>,
}

impl Tracker {
    pub fn new(estate: &hush_sim::Estate, board: Arc<Board>) -> anyhow::Result<Self> {
        let file: TopologyFile = serde_saphyr::from_str(&estate.topology_yaml())
            .context("failed to read the simulator's topology")?;
        let topo = Topology::new(&file).context("invalid simulator topology")?;
        let correlator = Correlator::new(Config::default(), topo, CoOccurrence::default())
            .context("failed to start the correlator")?;
        Ok(Self {
            correlator,
            graph: super::rca::graph(estate),
            changes: Vec::new(),
            episodes: BTreeMap::new(),
            named: BTreeMap::new(),
            nodes: BTreeMap::new(),
            alerts_in: 0,
            board,
        })
    }

    pub fn open_incidents(&self) -> usize {
        self.correlator.open_incidents()
    }

    /// Takes one tick's alerts and changes; returns what is worth printing.
    pub fn tick(
        &mut self,
        tick: &Tick,
        signals: &Signals,
        truth: &Truth,
    ) -> anyhow::Result<Vec<Event>> {
        self.changes.extend(tick.changes.iter().map(change_event));
        let mut touched: BTreeSet<IncidentId> = BTreeSet::new();
        for n in &tick.alerts {
            for a in &n.payload.alerts {
                let alert = match decode(a, n.sent_ms) {
                    Ok(alert) => alert,
                    Err(e) => {
                        eprintln!("skipped alert {}: {e}", a.fingerprint);
                        continue;
                    }
                };
                self.alerts_in += 1;
                let key = (alert.fingerprint.clone(), alert.starts_at);
                let node = alert.labels.get("node").cloned();
                let firing = alert.status == AlertStatus::Firing;
                let out = match self.correlator.ingest(alert, n.sent_ms) {
                    Ok(o) => o,
                    Err(e) => {
                        eprintln!("refused alert {}: {e}", key.0);
                        continue;
                    }
                };
                if firing {
                    self.episodes.entry(out.incident).or_default().insert(key);
                }
                if let Some(n) = node {
                    self.nodes.entry(out.incident).or_default().insert(n);
                }
                touched.insert(out.incident);
            }
        }
        self.correlator.advance(tick.t_ms);
        let mut events = Vec::new();
        for id in touched {
            if let Some(e) = self.refresh(id, signals, truth, tick.t_ms)? {
                events.push(e);
            }
        }
        // Priority and state move without new alerts (resolves); keep the board current.
        for v in self.board.lock().iter_mut() {
            if let Some(inc) = self
                .correlator
                .incidents()
                .find(|i| i.id.to_string() == v.id)
            {
                v.priority = inc.priority.as_str().to_string();
                v.state = format!("{:?}", inc.state).to_lowercase();
            }
        }
        Ok(events)
    }

    /// Re-ranks one incident after it opened or changed.
    fn refresh(
        &mut self,
        id: IncidentId,
        signals: &Signals,
        truth: &Truth,
        now_ms: i64,
    ) -> anyhow::Result<Option<Event>> {
        let Some(inc) = self.correlator.incident(id) else {
            return Ok(None);
        };
        let first = !self.named.contains_key(&id);
        let before = self.named.get(&id).cloned().flatten().map(|n| n.service);
        let grew = self
            .board
            .lock()
            .iter()
            .find(|v| v.id == id.to_string())
            .is_none_or(|v| v.alerts != inc.alerts);
        let named = if first || grew {
            // A node's alert points at the services running there.
            let mut services = inc.services.clone();
            for n in self.nodes.get(&id).into_iter().flatten() {
                services.extend(signals.on_node(n));
            }
            name_cause(
                &self.graph,
                signals,
                &self.changes,
                &services,
                &self
                    .episodes
                    .get(&id)
                    .map(|e| e.iter().map(|(_, t)| *t).collect::<Vec<_>>())
                    .unwrap_or_else(|| vec![inc.started_at]),
                now_ms,
            )?
        } else {
            self.named.get(&id).cloned().flatten()
        };
        let expected = self.truth_of(id, truth);
        let verdict = match (&expected, &named) {
            (None, _) => "noise",
            (Some(_), None) => "abstained",
            (Some(t), Some(n)) if *t == n.service => "right",
            _ => "wrong",
        };
        let view = View {
            id: id.to_string(),
            opened: super::fmt_time(inc.started_at),
            opened_ms: inc.started_at,
            priority: inc.priority.as_str().to_string(),
            state: format!("{:?}", inc.state).to_lowercase(),
            services: inc.services.iter().cloned().collect(),
            alerts: inc.alerts,
            root_cause: named.as_ref().map(|n| n.service.clone()),
            summary: named.as_ref().map(|n| n.summary.clone()),
            evidence: named
                .as_ref()
                .map(|n| n.evidence.clone())
                .unwrap_or_default(),
            suspects: named
                .as_ref()
                .map(|n| n.suspects.clone())
                .unwrap_or_default(),
            change: named.as_ref().and_then(|n| n.change.clone()),
            truth: expected,
            verdict: verdict.to_string(),
        };
        let renamed = before != view.root_cause;
        self.named.insert(id, named);
        self.board.upsert(view.clone());
        Ok(match (first, renamed) {
            (true, _) => Some(Event::Opened(view)),
            (false, true) => Some(Event::Renamed(view)),
            _ => None,
        })
    }

    /// The true root-cause service of the fault most of the incident's alerts belong to.
    fn truth_of(&self, id: IncidentId, truth: &Truth) -> Option<String> {
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for (fp, start) in self.episodes.get(&id).into_iter().flatten() {
            if let Some(t) = truth.incident_of(fp, *start) {
                *votes.entry(t).or_default() += 1;
            }
        }
        let (best, _) = votes.into_iter().max_by_key(|(_, n)| *n)?;
        truth
            .incidents
            .iter()
            .find(|i| i.id == best)
            .map(|i| i.root_cause.service.clone())
    }
}

/// One webhook alert as the correlator takes it; Alertmanager's zero time means "no end".
fn decode(a: &AmAlert, received_at: i64) -> anyhow::Result<Alert> {
    let time = |field: &str, s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| d.timestamp_millis())
            .with_context(|| format!("invalid `{field}` `{s}`"))
    };
    let status = match a.status.as_str() {
        "firing" => AlertStatus::Firing,
        "resolved" => AlertStatus::Resolved,
        other => anyhow::bail!("invalid status `{other}`"),
    };
    let ends_at = match a.ends_at.as_str() {
        "" => None,
        s => Some(time("endsAt", s)?).filter(|&e| e > 0),
    };
    Ok(Alert {
        fingerprint: a.fingerprint.clone(),
        status,
        labels: a.labels.clone(),
        annotations: a.annotations.clone(),
        starts_at: time("startsAt", &a.starts_at)?,
        ends_at,
        received_at,
    })
}
