//! Reads the server's own incidents back as they change (the engine's event stream and its
//! database, the same data `GET /api/v1/incidents` serves) and scores each named root cause
//! against the simulator's truth.

use super::board::{Board, View};
use hush_engine::Engine;
use hush_engine::incidents::IncidentEvent;
use hush_sim::Truth;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::broadcast::{Receiver, error::TryRecvError};
use uuid::Uuid;

/// What the driver prints about an incident.
pub enum Event {
    Opened(View),
    /// The named root cause changed.
    Renamed(View),
}

pub struct Watcher {
    engine: Arc<Engine>,
    events: Receiver<IncidentEvent>,
    board: Arc<Board>,
    named: HashMap<Uuid, Option<String>>,
}

impl Watcher {
    /// Subscribes before any alert is sent, so no change is missed.
    pub fn new(engine: Arc<Engine>, board: Arc<Board>) -> Self {
        let events = engine.incidents.subscribe();
        Self {
            engine,
            events,
            board,
            named: HashMap::new(),
        }
    }

    /// Incidents open now, by the board's last view of them.
    pub fn open_incidents(&self) -> usize {
        self.board
            .lock()
            .iter()
            .filter(|v| v.state != "resolved")
            .count()
    }

    /// Takes every incident change since the last call; returns what is worth printing.
    pub async fn drain(&mut self, truth: &Truth) -> anyhow::Result<Vec<Event>> {
        let mut touched: BTreeSet<Uuid> = BTreeSet::new();
        let mut lagged = false;
        loop {
            match self.events.try_recv() {
                Ok(ev) => {
                    touched.insert(ev.incident);
                }
                Err(TryRecvError::Lagged(_)) => lagged = true,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        if lagged {
            // Changes were dropped: look at every incident again.
            let all = self
                .engine
                .db
                .list_incidents(&hush_sql::IncidentFilter {
                    limit: Some(1000),
                    ..Default::default()
                })
                .await?;
            touched.extend(all.iter().map(|i| i.id));
        }
        let mut out = Vec::new();
        for id in touched {
            if let Some(e) = self.refresh(id, truth).await? {
                out.push(e);
            }
        }
        Ok(out)
    }

    async fn refresh(&mut self, id: Uuid, truth: &Truth) -> anyhow::Result<Option<Event>> {
        let db = &self.engine.db;
        let Some(inc) = db.get_incident(id).await? else {
            return Ok(None);
        };
        let members = db.incident_alerts(id).await?;
        let expected = truth_of(&members, truth);
        let cause = inc.payload.get("root_cause").filter(|v| !v.is_null());
        let text = |k: &str| cause.and_then(|c| c.get(k)).and_then(Value::as_str);
        let root_cause = text("service").map(str::to_owned);
        let evidence = strings(cause.and_then(|c| c.get("evidence")));
        let verdict = match (&expected, &root_cause) {
            (None, _) => "noise",
            (Some(_), None) => "abstained",
            (Some(t), Some(n)) if t == n => "right",
            _ => "wrong",
        };
        let services = strings(inc.payload.get("services"));
        let view = View {
            id: id.to_string(),
            opened: super::fmt_time(inc.opened_at),
            opened_ms: inc.opened_at,
            priority: format!("P{}", inc.priority.level()),
            state: inc.state.as_str().to_string(),
            services,
            alerts: inc
                .payload
                .get("alerts")
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize,
            root_cause: root_cause.clone(),
            summary: text("summary").map(str::to_owned),
            evidence,
            change: text("change").map(str::to_owned),
            suspects: strings(cause.and_then(|c| c.get("suspects"))),
            truth: expected,
            verdict: verdict.to_string(),
        };
        let first = !self.named.contains_key(&id);
        let renamed = self.named.get(&id).is_some_and(|b| *b != root_cause);
        self.named.insert(id, root_cause);
        self.board.upsert(view.clone());
        Ok(match (first, renamed) {
            (true, _) => Some(Event::Opened(view)),
            (false, true) => Some(Event::Renamed(view)),
            _ => None,
        })
    }
}

/// The strings of a JSON array (none when absent or not an array).
fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The true root-cause service of the fault most of the incident's alerts belong to. A stored
/// alert keeps its latest episode's start, so an earlier episode is found by fingerprint.
fn truth_of(members: &[hush_sql::Alert], truth: &Truth) -> Option<String> {
    let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
    for a in members {
        let hit = truth.incident_of(&a.fingerprint, a.starts_at).or_else(|| {
            truth
                .alerts
                .iter()
                .rev()
                .find(|t| t.fingerprint == a.fingerprint && t.starts_at_ms <= a.starts_at)
                .and_then(|t| t.incident.as_deref())
        });
        if let Some(t) = hit {
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
