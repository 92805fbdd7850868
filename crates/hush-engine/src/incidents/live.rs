//! The incident task: one correlator, the database writes its changes cause, and the events.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hush_correlate::{Alert, AlertStatus, Change, Correlator, IncidentId, Topology};
use hush_sql::{IncidentPatch, IncidentState, NewAlert, NewAuditEntry, NewIncident, Priority};
use serde_json::{Value, json};
use tokio::sync::watch;
use uuid::Uuid;

use super::{Accepted, Command, IncidentError, IncidentEvent, Patch};
use crate::Engine;

/// Least time between two root-cause analyses of a growing incident (same services).
const RCA_EVERY_MS: i64 = 60_000;

/// How often time moves on without alerts (expiries, grace periods).
const TICK: Duration = Duration::from_secs(1);

pub(crate) struct Live {
    pub(super) engine: Arc<Engine>,
    pub(super) corr: Correlator,
    /// The topology the correlator was built with, to notice a replacement.
    pub(super) topo: Option<Arc<Topology>>,
    /// Correlator incident → stored incident, for incidents that opened.
    pub(super) ids: HashMap<IncidentId, Uuid>,
    /// Last `opened_at` given out: kept strictly increasing so it is a unique page cursor.
    pub(super) last_opened: i64,
    /// `alertname` of the alert being ingested, for the title of an incident it opens.
    pub(super) naming: String,
    /// Per incident: the services and alert count its root cause was last named for, and when.
    pub(super) explained: HashMap<Uuid, (std::collections::BTreeSet<String>, usize, i64)>,
    pub(super) ticks: u64,
    /// Per incident: its alerts' names and the labels all its alerts share, for runbook
    /// triggers and templates.
    pub(super) members: HashMap<IncidentId, Members>,
    /// Work gathered while a batch is correlated and written once at its end by
    /// [`Live::flush`]: a storm of alerts into one incident costs one update of it per batch,
    /// not one per alert.
    pub(super) pending: Pending,
    /// Learned co-occurrence changed since it was last saved.
    pub(super) learned_changed: bool,
}

#[derive(Debug, Default)]
pub(super) struct Pending {
    /// Incidents that grew or changed priority, with the kind of change to report.
    pub(super) dirty: std::collections::BTreeMap<IncidentId, &'static str>,
    /// Memberships to write: (incident, alert row, at).
    pub(super) attach: Vec<(Uuid, Uuid, i64)>,
    /// Row ids of the alerts stored in this batch, by fingerprint.
    pub(super) rows: HashMap<String, Uuid>,
    /// Incidents whose root cause may need naming (opened or grew).
    pub(super) explain: std::collections::BTreeSet<IncidentId>,
    /// Incidents opened in this batch, under the ids already given out.
    create: Vec<(Uuid, NewIncident)>,
}

/// Most alerts correlated and committed together: requests waiting in the queue are taken
/// with the one at hand (group commit) up to this many alerts.
const BATCH_ALERTS: usize = 5_000;

/// Where the answer to one request of alerts goes.
type AlertReply = tokio::sync::oneshot::Sender<Result<Vec<Accepted>, IncidentError>>;

/// One request's alerts waiting in a batch.
struct Request {
    alerts: Vec<Alert>,
    rows: Vec<NewAlert>,
    reply: AlertReply,
}

#[derive(Debug, Default)]
pub(super) struct Members {
    pub(super) names: std::collections::BTreeSet<String>,
    /// `None` until the first alert joins.
    pub(super) common: Option<std::collections::BTreeMap<String, String>>,
    /// The earliest episode starts of its alerts (root-cause onset), at most [`MEMBER_KEEP`].
    pub(super) starts: std::collections::BTreeSet<i64>,
    /// The nodes its node-level alerts name (they carry no service), at most [`MEMBER_KEEP`].
    pub(super) nodes: std::collections::BTreeSet<String>,
}

/// Bound on the starts and nodes kept per incident: analysis needs the earliest onsets and
/// the nodes involved, not every one of a storm's thousands.
pub(super) const MEMBER_KEEP: usize = 256;

pub(super) fn db_err(e: hush_sql::SqlError) -> IncidentError {
    IncidentError::Internal(e.to_string())
}

/// Runs until `stop`: rebuilds from the database, then serves commands and ticks.
pub(crate) async fn run(engine: Arc<Engine>, stop: watch::Receiver<bool>) {
    let Some(mut rx) = engine.incidents.take_receiver() else {
        return;
    };
    serve(engine, &mut rx, stop).await;
}

/// Serves `rx` until `stop` (embedded mode: the process; cluster mode: a leadership term).
pub(crate) async fn serve(
    engine: Arc<Engine>,
    rx: &mut tokio::sync::mpsc::Receiver<Command>,
    mut stop: watch::Receiver<bool>,
) {
    let mut live = loop {
        match Live::rebuild(engine.clone(), None).await {
            Ok(l) => break l,
            Err(e) => {
                tracing::error!(error = %e, "rebuilding incidents from the database failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    };
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(Command::Alerts { alerts, source, reply }) => {
                    // Group commit: requests already queued join this one, so a burst of
                    // small requests costs one transaction, not one each.
                    let mut batch = vec![(alerts, source, reply)];
                    let mut held = None;
                    let mut n = batch[0].0.len();
                    while n < BATCH_ALERTS {
                        match rx.try_recv() {
                            Ok(Command::Alerts { alerts, source, reply }) => {
                                n += alerts.len();
                                batch.push((alerts, source, reply));
                            }
                            Ok(other) => {
                                held = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    live.alert_batch(batch).await;
                    if let Some(c) = held {
                        live.command(c).await;
                    }
                }
                Some(c) => live.command(c).await,
                None => break,
            },
            _ = tick.tick() => {
                if let Err(e) = live.tick().await {
                    tracing::error!(error = %e, "incident upkeep failed");
                }
            }
            _ = stop.changed() => break,
        }
    }
    live.save_learned().await;
}

impl Live {
    /// Records an alert joining an incident: its name, and the labels every member shares.
    pub(super) fn note_member(
        &mut self,
        id: IncidentId,
        labels: &std::collections::BTreeMap<String, String>,
        starts_at: i64,
    ) {
        let m = self.members.entry(id).or_default();
        if let Some(n) = labels.get("alertname") {
            m.names.insert(n.clone());
        }
        m.starts.insert(starts_at);
        if m.starts.len() > MEMBER_KEEP {
            m.starts.pop_last();
        }
        if let Some(n) = labels.get("node")
            && m.nodes.len() < MEMBER_KEEP
        {
            m.nodes.insert(n.clone());
        }
        m.common = Some(match m.common.take() {
            None => labels.clone(),
            Some(mut c) => {
                c.retain(|k, v| labels.get(k) == Some(v));
                c
            }
        });
    }

    async fn command(&mut self, c: Command) {
        match c {
            Command::Alerts {
                alerts,
                source,
                reply,
            } => self.alert_batch(vec![(alerts, source, reply)]).await,
            Command::Patch {
                id,
                patch,
                actor,
                reply,
            } => {
                let r = self.patch(id, patch, &actor).await;
                let _ = reply.send(r);
            }
            Command::Merge {
                id,
                into,
                actor,
                reply,
            } => {
                let r = self.merge(id, into, &actor).await;
                let _ = reply.send(r);
            }
            Command::Split {
                id,
                alerts,
                actor,
                reply,
            } => {
                let r = self.split(id, alerts, &actor).await;
                let _ = reply.send(r);
            }
        }
    }

    async fn tick(&mut self) -> Result<(), IncidentError> {
        let current = self.engine.topology.get().map(|t| t.graph);
        let same = match (&current, &self.topo) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            // A new topology changes how alerts relate; the correlator is rebuilt over it from
            // the stored open incidents, as at start.
            let learned = self.corr.learned().clone();
            let rebuilt = Live::rebuild(self.engine.clone(), Some(learned))
                .await
                .map_err(|e| IncidentError::Internal(e.to_string()))?;
            *self = rebuilt;
        }
        let now = self.engine.clock.now_ms();
        let changes = self.corr.advance(now);
        self.apply(changes, None, now).await?;
        self.flush(now).await?;
        // Forget the ids of incidents the correlator forgot (resolved past the reopen window).
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks.is_multiple_of(60) {
            let corr = &self.corr;
            self.ids.retain(|k, _| corr.incident(*k).is_some());
            if self.learned_changed {
                self.save_learned().await;
            }
        }
        Ok(())
    }

    /// Correlates and stores the alerts of one or more requests together. Each request's
    /// alerts are checked before any is stored, and a request that fails the check is refused
    /// alone; the others' alerts are stored in one transaction and their incidents updated once
    /// per batch.
    async fn alert_batch(&mut self, batch: Vec<AlertRequest>) {
        let limits = self.corr.config().limits;
        let mut requests = Vec::with_capacity(batch.len());
        for (mut alerts, source, reply) in batch {
            let checked = alerts
                .iter_mut()
                .enumerate()
                .try_for_each(|(i, a)| {
                    a.validate(&limits)
                        .map_err(|e| IncidentError::Invalid(format!("alert {i}: {e}")))
                })
                .and_then(|()| {
                    alerts
                        .iter()
                        .map(|a| stored(a, source))
                        .collect::<Result<Vec<_>, _>>()
                });
            match checked {
                Ok(rows) => requests.push(Request {
                    alerts,
                    rows,
                    reply,
                }),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            }
        }
        if requests.is_empty() {
            return;
        }
        match self.correlate(&mut requests).await {
            Ok(mut answers) => {
                for r in requests.into_iter().rev() {
                    let _ = r.reply.send(Ok(answers.pop().unwrap_or_default()));
                }
            }
            Err(e) => {
                let text = e.to_string();
                for r in requests {
                    let _ = r.reply.send(Err(match &e {
                        IncidentError::Invalid(_) => IncidentError::Invalid(text.clone()),
                        IncidentError::NotFound(id) => IncidentError::NotFound(*id),
                        IncidentError::Conflict(_) => IncidentError::Conflict(text.clone()),
                        IncidentError::Unavailable => IncidentError::Unavailable,
                        IncidentError::NoLeader => IncidentError::NoLeader,
                        IncidentError::Internal(_) => IncidentError::Internal(text.clone()),
                    }));
                }
            }
        }
    }

    /// Stores, correlates and writes the changes of checked requests; one answer per request.
    async fn correlate(
        &mut self,
        requests: &mut [Request],
    ) -> Result<Vec<Vec<Accepted>>, IncidentError> {
        let now = self.engine.clock.now_ms();
        let changes = self.corr.advance(now);
        self.apply(changes, None, now).await?;
        let rows: Vec<NewAlert> = requests
            .iter_mut()
            .flat_map(|r| std::mem::take(&mut r.rows))
            .collect();
        let stored = self.engine.db.upsert_alerts(&rows).await.map_err(db_err)?;
        self.pending.rows = stored
            .iter()
            .map(|(a, _)| (a.fingerprint.clone(), a.id))
            .collect();
        let mut ids = stored.into_iter().map(|(a, _)| a.id);
        let mut answers = Vec::with_capacity(requests.len());
        for r in requests.iter_mut() {
            let mut out = Vec::with_capacity(r.alerts.len());
            for a in std::mem::take(&mut r.alerts) {
                let row = ids.next().ok_or_else(|| {
                    IncidentError::Internal("the store answered fewer alerts than sent".into())
                })?;
                let fp = a.fingerprint.clone();
                self.naming = a.label("alertname").unwrap_or("alert").to_string();
                let labels = a.labels.clone();
                let starts_at = a.starts_at;
                let o = self
                    .corr
                    .ingest(a, now)
                    .map_err(|e| IncidentError::Invalid(e.to_string()))?;
                self.note_member(o.incident, &labels, starts_at);
                self.apply(o.changes, Some((&fp, row)), now).await?;
                let incident = self.ids.get(&o.incident).copied();
                if let Some(inc) = incident
                    && !o.duplicate
                {
                    self.pending.attach.push((inc, row, now));
                }
                out.push(Accepted {
                    fingerprint: fp,
                    incident,
                    duplicate: o.duplicate,
                    flapping: o.flapping,
                });
            }
            answers.push(out);
        }
        self.flush(now).await?;
        Ok(answers)
    }

    /// Writes the work [`Live::apply`] gathered: memberships in one transaction, then each
    /// incident that grew once, with its root cause brought up to date.
    pub(super) async fn flush(&mut self, now: i64) -> Result<(), IncidentError> {
        self.write_opened(now).await?;
        let pending = std::mem::take(&mut self.pending);
        if !pending.attach.is_empty() {
            self.engine
                .db
                .attach_alerts(&pending.attach)
                .await
                .map_err(db_err)?;
        }
        let mut explain = pending.explain;
        for (incident, kind) in pending.dirty {
            self.sync(incident, kind, None, now).await?;
            if kind == "grew" {
                explain.insert(incident);
            }
        }
        for incident in explain {
            if let Some(&uuid) = self.ids.get(&incident) {
                self.explain(incident, uuid, now).await?;
            }
        }
        Ok(())
    }

    /// Writes the incidents opened since the last write, with their audit entries, in two
    /// statements, then tells the live stream.
    async fn write_opened(&mut self, now: i64) -> Result<(), IncidentError> {
        if self.pending.create.is_empty() {
            return Ok(());
        }
        let create = std::mem::take(&mut self.pending.create);
        let db = &self.engine.db;
        let rows = db.create_incidents(&create).await.map_err(db_err)?;
        let audits: Vec<NewAuditEntry> = rows
            .iter()
            .map(|row| NewAuditEntry {
                at: now,
                actor: "engine".to_string(),
                action: "incident.open".to_string(),
                subject: row.id.to_string(),
                details: json!({"title": row.title, "priority": row.priority.level()}),
            })
            .collect();
        db.append_audits(&audits).await.map_err(db_err)?;
        for row in &rows {
            self.emit("opened", row, now);
        }
        Ok(())
    }

    /// Writes what the correlator changed. `current` is the alert being ingested (its row is
    /// known without a lookup).
    pub(super) async fn apply(
        &mut self,
        changes: Vec<Change>,
        current: Option<(&str, Uuid)>,
        now: i64,
    ) -> Result<(), IncidentError> {
        for c in changes {
            match c {
                Change::Opened { incident, .. } => self.open(incident, current, now).await?,
                // Growth is written once per batch by `flush`; "grew" outranks
                // "reprioritised" since its update carries the new priority too.
                Change::Grew { incident, .. } => {
                    self.pending.dirty.insert(incident, "grew");
                }
                Change::Reprioritised { incident, .. } => {
                    self.pending
                        .dirty
                        .entry(incident)
                        .or_insert("reprioritised");
                }
                // State changes are written at once, in order; each writes the incident's
                // whole current view, so nothing gathered for it before is left to write.
                Change::Flapping { incident, .. } => {
                    self.write_opened(now).await?;
                    self.pending.dirty.remove(&incident);
                    self.sync(incident, "flapping", None, now).await?
                }
                Change::Resolved { incident, at } => {
                    // The correlator learned the incident's kinds as it resolved.
                    self.learned_changed = true;
                    self.write_opened(now).await?;
                    self.pending.dirty.remove(&incident);
                    self.sync(incident, "resolved", Some(IncidentState::Resolved), at)
                        .await?
                }
                Change::Reopened { incident } => {
                    self.write_opened(now).await?;
                    self.pending.dirty.remove(&incident);
                    self.sync(incident, "reopened", Some(IncidentState::Open), now)
                        .await?
                }
            }
        }
        Ok(())
    }

    /// Gives a newly opened incident its id and queues it, its memberships and its root
    /// cause for the end of the batch ([`Live::flush`]).
    async fn open(
        &mut self,
        id: IncidentId,
        current: Option<(&str, Uuid)>,
        now: i64,
    ) -> Result<(), IncidentError> {
        let Some(inc) = self.corr.incident(id) else {
            return Ok(());
        };
        let opened_at = now.max(self.last_opened.saturating_add(1));
        self.last_opened = opened_at;
        let new = NewIncident {
            title: title(inc, &self.naming),
            priority: priority(inc.priority),
            opened_at,
            payload: payload(inc, &Value::Null, self.members.get(&id)),
        };
        let fps: Vec<String> = inc.fingerprints.iter().cloned().collect();
        let uuid = Uuid::now_v7();
        self.ids.insert(id, uuid);
        self.pending.create.push((uuid, new));
        for fp in fps {
            let alert = match current {
                Some((c, aid)) if c == fp => Some(aid),
                _ => match self.pending.rows.get(&fp) {
                    Some(&aid) => Some(aid),
                    None => self
                        .engine
                        .db
                        .get_alert_by_fingerprint(&fp)
                        .await
                        .map_err(db_err)?
                        .map(|a| a.id),
                },
            };
            if let Some(aid) = alert {
                self.pending.attach.push((uuid, aid, now));
            }
        }
        self.pending.explain.insert(id);
        Ok(())
    }

    /// Names the incident's root cause (live RCA over the stored series, the topology and the
    /// changes) when it opens and whenever its set of services changes, and stores it with the
    /// incident. Analysis failing is logged, never fatal to correlation.
    async fn explain(&mut self, id: IncidentId, uuid: Uuid, now: i64) -> Result<(), IncidentError> {
        let Some(inc) = self.corr.incident(id) else {
            return Ok(());
        };
        // Again when new services join, or when it grew and a minute has passed: more of the
        // fault is visible by then. Not on every alert: storms must not queue analyses.
        let due = match self.explained.get(&uuid) {
            None => true,
            Some((services, alerts, at)) => {
                *services != inc.services || (*alerts != inc.alerts && now - *at >= RCA_EVERY_MS)
            }
        };
        if !due {
            return Ok(());
        }
        let services = inc.services.clone();
        self.explained
            .insert(uuid, (services.clone(), inc.alerts, now));
        // Each member alert's start (the onset is the first with history before it) and the
        // nodes node-level alerts name (they carry no service).
        let (mut starts, nodes) = match self.members.get(&id) {
            Some(m) => (m.starts.iter().copied().collect(), m.nodes.clone()),
            None => (Vec::new(), Default::default()),
        };
        if starts.is_empty() {
            starts.push(inc.started_at);
        }
        let named =
            match crate::rca::analyze_incident(&self.engine, &services, &starts, &nodes, now).await
            {
                // No cause to name (no topology, services outside it, too little data): a
                // cause named before stands.
                Ok(None) => return Ok(()),
                Ok(Some(n)) => n,
                Err(e) => {
                    tracing::warn!(error = %e, incident = %uuid, "root-cause analysis failed");
                    return Ok(());
                }
            };
        let db = &self.engine.db;
        let Some(existing) = db.get_incident(uuid).await.map_err(db_err)? else {
            return Ok(());
        };
        let value = serde_json::to_value(&named).unwrap_or(Value::Null);
        if existing.payload.get("root_cause") == Some(&value) {
            return Ok(());
        }
        let mut payload = existing.payload.clone();
        payload["root_cause"] = value.clone();
        let patch = IncidentPatch {
            payload: Some(payload),
            ..IncidentPatch::default()
        };
        let row = db
            .update_incident(uuid, &patch, now)
            .await
            .map_err(db_err)?;
        self.audit(
            "engine",
            "incident.root_cause",
            uuid,
            json!({ "root_cause": value }),
            now,
        )
        .await?;
        self.emit("explained", &row, now);
        Ok(())
    }

    /// Brings the stored incident in line with the correlator's, optionally moving its state.
    pub(super) async fn sync(
        &mut self,
        id: IncidentId,
        kind: &'static str,
        state: Option<IncidentState>,
        at: i64,
    ) -> Result<(), IncidentError> {
        let (Some(&uuid), Some(inc)) = (self.ids.get(&id), self.corr.incident(id)) else {
            return Ok(());
        };
        let db = &self.engine.db;
        let Some(existing) = db.get_incident(uuid).await.map_err(db_err)? else {
            return Ok(());
        };
        // Growth of an incident an operator closed by hand opens it again.
        let state = match (state, kind) {
            (None, "grew") if existing.state == IncidentState::Resolved => {
                Some(IncidentState::Open)
            }
            (s, _) => s,
        };
        let patch = IncidentPatch {
            state: state.filter(|s| *s != existing.state),
            priority: Some(priority(inc.priority)),
            payload: Some(payload(inc, &existing.payload, self.members.get(&id))),
            ..IncidentPatch::default()
        };
        let moved = patch.state;
        let row = db.update_incident(uuid, &patch, at).await.map_err(db_err)?;
        if let Some(s) = moved {
            let action = match s {
                IncidentState::Resolved => "incident.resolve",
                IncidentState::Open => "incident.reopen",
                IncidentState::Acknowledged => "incident.acknowledge",
            };
            self.audit("engine", action, uuid, json!({"reason": kind}), at)
                .await?;
        }
        self.emit(kind, &row, at);
        Ok(())
    }

    async fn patch(
        &mut self,
        id: Uuid,
        p: Patch,
        actor: &str,
    ) -> Result<hush_sql::Incident, IncidentError> {
        let state = match p.state.as_deref() {
            None => None,
            Some("acknowledged") => Some(IncidentState::Acknowledged),
            Some("resolved") => Some(IncidentState::Resolved),
            Some("open") => Some(IncidentState::Open),
            Some(other) => {
                return Err(IncidentError::Invalid(format!(
                    "`state` is `{other}`; expected acknowledged, resolved or open"
                )));
            }
        };
        if let Some(n) = &p.note
            && (n.trim().is_empty() || n.len() > 10_000)
        {
            return Err(IncidentError::Invalid(
                "`note` must be between 1 and 10000 bytes".into(),
            ));
        }
        if p.assignee.as_ref().is_some_and(|a| a.len() > 200) {
            return Err(IncidentError::Invalid(
                "`assignee` is longer than 200 bytes".into(),
            ));
        }
        if state.is_none() && p.note.is_none() && p.assignee.is_none() {
            return Err(IncidentError::Invalid(
                "nothing to change: give `state`, `assignee` or `note`".into(),
            ));
        }
        let db = &self.engine.db;
        let existing = db
            .get_incident(id)
            .await
            .map_err(db_err)?
            .ok_or(IncidentError::NotFound(id))?;
        let now = self.engine.clock.now_ms();
        let mut payload = existing.payload.clone();
        if let Some(a) = &p.assignee
            && let Some(obj) = payload.as_object_mut()
        {
            let v = if a.is_empty() {
                Value::Null
            } else {
                Value::String(a.clone())
            };
            obj.insert("assignee".into(), v);
        }
        let patch = IncidentPatch {
            state: state.filter(|s| *s != existing.state),
            payload: p.assignee.is_some().then_some(payload),
            ..IncidentPatch::default()
        };
        let row = db.update_incident(id, &patch, now).await.map_err(db_err)?;
        if let Some(s) = patch.state {
            let (action, kind) = match s {
                IncidentState::Acknowledged => ("incident.acknowledge", "acknowledged"),
                IncidentState::Resolved => ("incident.resolve", "resolved"),
                IncidentState::Open => ("incident.reopen", "reopened"),
            };
            self.audit(
                actor,
                action,
                id,
                json!({"from": existing.state.as_str()}),
                now,
            )
            .await?;
            self.emit(kind, &row, now);
        }
        if let Some(a) = &p.assignee {
            self.audit(actor, "incident.assign", id, json!({"assignee": a}), now)
                .await?;
            self.emit("assigned", &row, now);
        }
        if let Some(n) = &p.note {
            self.audit(actor, "incident.note", id, json!({"text": n}), now)
                .await?;
            self.emit("note", &row, now);
        }
        Ok(row)
    }

    pub(super) async fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: Uuid,
        details: Value,
        at: i64,
    ) -> Result<(), IncidentError> {
        self.engine
            .db
            .append_audit(&NewAuditEntry {
                at,
                actor: actor.to_string(),
                action: action.to_string(),
                subject: subject.to_string(),
                details,
            })
            .await
            .map_err(db_err)?;
        Ok(())
    }

    pub(super) fn emit(&self, kind: &'static str, row: &hush_sql::Incident, at: i64) {
        let alerts = row
            .payload
            .get("alerts")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        let strings = |k: &str| -> Vec<String> {
            row.payload
                .get(k)
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        // No subscriber is not an error: the stream is for whoever listens now.
        let _ = self.engine.incidents.events().send(IncidentEvent {
            kind,
            incident: row.id,
            state: row.state.as_str().to_string(),
            priority: format!("P{}", row.priority.level()),
            title: row.title.clone(),
            alerts,
            services: strings("services"),
            teams: strings("teams"),
            at,
        });
    }
}

/// The row an alert is stored as.
fn stored(a: &Alert, source: &str) -> Result<NewAlert, IncidentError> {
    let labels =
        hush_model::Labels::from_pairs(a.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|e| IncidentError::Invalid(format!("alert `{}`: {e}", a.fingerprint)))?;
    Ok(NewAlert {
        fingerprint: a.fingerprint.clone(),
        source: source.to_string(),
        name: a.label("alertname").unwrap_or("").to_string(),
        labels,
        annotations: a.annotations.clone(),
        severity: a.label("severity").unwrap_or("").to_string(),
        status: match a.status {
            AlertStatus::Firing => hush_sql::AlertStatus::Firing,
            AlertStatus::Resolved => hush_sql::AlertStatus::Resolved,
        },
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        received_at: a.received_at,
    })
}

fn priority(p: hush_correlate::Priority) -> Priority {
    let level = match p {
        hush_correlate::Priority::P1 => 1,
        hush_correlate::Priority::P2 => 2,
        hush_correlate::Priority::P3 => 3,
        hush_correlate::Priority::P4 => 4,
        hush_correlate::Priority::P5 => 5,
    };
    Priority::new(level).unwrap_or(Priority::P5)
}

fn title(inc: &hush_correlate::Incident, name: &str) -> String {
    let services: Vec<&str> = inc.services.iter().map(String::as_str).take(3).collect();
    let what = if services.is_empty() {
        "unknown service".to_string()
    } else {
        services.join(", ")
    };
    format!("{name} on {what}")
}

/// The engine's view of an incident, keeping the fields operators own (`assignee`).
fn payload(inc: &hush_correlate::Incident, old: &Value, members: Option<&Members>) -> Value {
    let names: Vec<&String> = members
        .map(|m| m.names.iter().collect())
        .unwrap_or_default();
    let common = members.and_then(|m| m.common.clone()).unwrap_or_default();
    json!({
        "alert_names": names,
        "labels": common,
        "correlator_id": inc.id.0,
        "alerts": inc.alerts,
        "fingerprints": inc.fingerprints.len(),
        "services": inc.services,
        "instances": inc.instances.iter().take(50).collect::<Vec<_>>(),
        "teams": inc.teams,
        "severity": inc.severity(),
        "reasons": inc.reasons,
        "flapping": inc.flapping,
        "rule": inc.rule,
        "assignee": old.get("assignee").cloned().unwrap_or(Value::Null),
        "root_cause": old.get("root_cause").cloned().unwrap_or(Value::Null),
        "merged_into": old.get("merged_into").cloned().unwrap_or(Value::Null),
    })
}

/// Reads back the correlator's alert from a stored row (for the rebuild).
pub(super) fn from_row(a: &hush_sql::Alert) -> Alert {
    Alert {
        fingerprint: a.fingerprint.clone(),
        status: AlertStatus::Firing,
        labels: a
            .labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect(),
        annotations: a.annotations.clone(),
        starts_at: a.starts_at,
        ends_at: None,
        received_at: a.first_seen,
    }
}

/// One alert request waiting in a batch: its alerts, their source and where to answer.
type AlertRequest = (
    Vec<Alert>,
    &'static str,
    tokio::sync::oneshot::Sender<Result<Vec<Accepted>, IncidentError>>,
);
