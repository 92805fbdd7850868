//! Rebuilding the correlator from the database at start (and when the topology changes), and
//! keeping what it learned in the data directory.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use hush_correlate::{AlertStatus, Change, CoOccurrence, Correlator, Placement};
use hush_sql::{IncidentFilter, IncidentState};

use super::live::{Live, from_row};
use crate::Engine;

/// Most unresolved incidents replayed; older ones stay in the database as they are.
const MAX_OPEN: u32 = 10_000;

/// Learned co-occurrence and operators' verdicts, under `data_dir`. Per node, like the
/// detectors' state: it is what this node's correlator learned.
pub const LEARNED_FILE: &str = "correlation.json";

/// Reads the learned state saved under `dir`; none yet is an empty one. An unreadable file is
/// renamed aside (`.unreadable`) so it is kept for a look but does not stop correlation.
pub(crate) fn load_learned(dir: &Path) -> CoOccurrence {
    let path = dir.join(LEARNED_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return CoOccurrence::default(),
        Err(e) => {
            tracing::error!(error = %e, path = %path.display(), "learned correlation unreadable; starting afresh");
            return CoOccurrence::default();
        }
    };
    match serde_json::from_slice(&bytes) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, path = %path.display(), "learned correlation unreadable; set aside, starting afresh");
            let _ = std::fs::rename(&path, dir.join(format!("{LEARNED_FILE}.unreadable")));
            CoOccurrence::default()
        }
    }
}

/// Writes `learned` to `dir` through a temporary file and a rename, so a crash mid-write
/// leaves the previous state.
fn save_learned(dir: &Path, learned: &CoOccurrence) -> std::io::Result<()> {
    use std::io::Write;
    let json = serde_json::to_vec(learned)?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{LEARNED_FILE}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(LEARNED_FILE))
}

impl Live {
    /// Saves what the correlator learned into the data directory; a failure is logged, the
    /// correlator is unaffected.
    pub(super) async fn save_learned(&mut self) {
        let dir = self.engine.config.data_dir.clone();
        let learned = self.corr.learned().clone();
        match tokio::task::spawn_blocking(move || save_learned(&dir, &learned)).await {
            Ok(Ok(())) => self.learned_changed = false,
            Ok(Err(e)) => tracing::error!(error = %e, "saving learned correlation failed"),
            Err(e) => tracing::error!(error = %e, "saving learned correlation failed"),
        }
    }

    /// A correlator over the current topology holding every unresolved stored incident: their
    /// alerts are replayed at the times they were received (and resolved), each into the
    /// stored incident it belongs to — the grouping the database holds is the truth, operators'
    /// merges and splits included — then time is moved to now. `learned` is the co-occurrence
    /// to start from; `None` reads it from the data directory.
    pub(super) async fn rebuild(
        engine: Arc<Engine>,
        learned: Option<CoOccurrence>,
    ) -> anyhow::Result<Self> {
        let loaded = engine.topology.get();
        let topo = loaded.as_ref().map(|t| t.graph.clone());
        let graph = topo.as_ref().map(|g| (**g).clone()).unwrap_or_default();
        let cfg = engine.config.incidents.correlator_config();
        let learned = match learned {
            Some(l) => l,
            None => {
                let dir = engine.config.data_dir.clone();
                tokio::task::spawn_blocking(move || load_learned(&dir)).await?
            }
        };
        let corr = Correlator::new(cfg, graph, learned)
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
            learned_changed: false,
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
        // Stored incident → the correlator's incident rebuilt for it.
        let mut placed: HashMap<uuid::Uuid, hush_correlate::IncidentId> = HashMap::new();
        for (at, _, alert, stored) in events {
            let labels = alert.labels.clone();
            let starts_at = alert.starts_at;
            let placement = match placed.get(&stored) {
                Some(&id) => Placement::Join(id),
                None => Placement::New,
            };
            let Ok(out) = live.corr.ingest_placed(alert, at, placement) else {
                continue;
            };
            placed.entry(stored).or_insert(out.incident);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learned_state_reads_back_and_a_damaged_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_learned(dir.path()), CoOccurrence::default());
        let mut c = CoOccurrence::default();
        c.learn(&["A@a", "B@b"]);
        c.apart(&["A@a"], &["C@c"]);
        save_learned(dir.path(), &c).unwrap();
        assert_eq!(load_learned(dir.path()), c);
        std::fs::write(dir.path().join(LEARNED_FILE), b"{\"kinds\": [").unwrap();
        assert_eq!(load_learned(dir.path()), CoOccurrence::default());
        assert!(
            dir.path()
                .join(format!("{LEARNED_FILE}.unreadable"))
                .is_file()
        );
        assert!(!dir.path().join(LEARNED_FILE).exists());
    }
}
