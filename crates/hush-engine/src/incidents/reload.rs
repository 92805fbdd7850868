//! Rebuilding the correlator from the database at start (and when the topology changes).

use std::collections::HashMap;
use std::sync::Arc;

use hush_correlate::{AlertStatus, Change, CoOccurrence, Correlator};
use hush_sql::{IncidentFilter, IncidentState};

use super::live::{Live, from_row};
use crate::Engine;

/// Most unresolved incidents replayed; older ones stay in the database as they are.
const MAX_OPEN: u32 = 10_000;

impl Live {
    /// A correlator over the current topology holding every unresolved stored incident: their
    /// alerts are replayed at the times they were received (and resolved), so the correlator
    /// sees the same history it saw live, then time is moved to now.
    pub(super) async fn rebuild(engine: Arc<Engine>) -> anyhow::Result<Self> {
        let loaded = engine.topology.get();
        let topo = loaded.as_ref().map(|t| t.graph.clone());
        let graph = topo.as_ref().map(|g| (**g).clone()).unwrap_or_default();
        let cfg = engine.config.incidents.correlator_config();
        let corr = Correlator::new(cfg, graph, CoOccurrence::default())
            .map_err(|e| anyhow::anyhow!("invalid correlation rules: {e}"))?;
        let mut live = Live {
            engine: engine.clone(),
            corr,
            topo,
            ids: HashMap::new(),
            last_opened: 0,
            naming: String::new(),
            explained: Default::default(),
            members: Default::default(),
            pending: Default::default(),
            ticks: 0,
        };
        let db = &engine.db;
        let mut open = Vec::new();
        for state in [IncidentState::Open, IncidentState::Acknowledged] {
            let f = IncidentFilter {
                state: Some(state),
                limit: Some(MAX_OPEN),
                ..IncidentFilter::default()
            };
            open.extend(db.list_incidents(&f).await?);
        }
        open.sort_by_key(|i| i.opened_at);
        if let Some(last) = db
            .list_incidents(&IncidentFilter {
                limit: Some(1),
                ..IncidentFilter::default()
            })
            .await?
            .first()
        {
            live.last_opened = last.opened_at;
        }
        // (time, order, alert, incident): firing at first receipt, resolved at last receipt.
        let mut events = Vec::new();
        for inc in &open {
            for a in db.incident_alerts(inc.id).await? {
                let firing = from_row(&a);
                let resolved = (a.status == hush_sql::AlertStatus::Resolved).then(|| {
                    let mut r = firing.clone();
                    r.status = AlertStatus::Resolved;
                    r.received_at = a.last_seen;
                    r
                });
                events.push((firing.received_at, events.len(), firing, inc.id));
                if let Some(r) = resolved {
                    events.push((a.last_seen, events.len(), r, inc.id));
                }
            }
        }
        events.sort_by_key(|e| (e.0, e.1));
        let mut later: Vec<Change> = Vec::new();
        for (at, _, alert, stored) in events {
            let labels = alert.labels.clone();
            let starts_at = alert.starts_at;
            let Ok(out) = live.corr.ingest(alert, at) else {
                continue;
            };
            live.note_member(out.incident, &labels, starts_at);
            // The first stored incident an alert of a correlator incident came from names it.
            live.ids.entry(out.incident).or_insert(stored);
            later.extend(
                out.changes
                    .into_iter()
                    .filter(|c| matches!(c, Change::Resolved { .. } | Change::Reopened { .. })),
            );
        }
        let now = live.engine.clock.now_ms();
        later.extend(live.corr.advance(now));
        live.apply(later, None, now)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        live.flush(now).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        tracing::info!(
            incidents = open.len(),
            "incidents rebuilt from the database"
        );
        Ok(live)
    }
}
