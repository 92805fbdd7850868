//! Operators' merges and splits: checked against the stored incidents, applied to the
//! correlator (so correlation follows them and learns from them), then written like any other
//! change of the task, with audit entries under the operator's name on both incidents.

use std::collections::BTreeSet;

use hush_correlate::{IncidentId, OperatorError};
use hush_sql::{IncidentPatch, IncidentState};
use serde_json::{Value, json};
use uuid::Uuid;

use super::live::{Live, MEMBER_KEEP, db_err, from_row};
use super::{IncidentError, Regrouped};

/// Most alerts one split may name; a storm's incident is split by kind, not alert by alert.
const MAX_SPLIT: usize = 10_000;
/// Longest fingerprint accepted (Alertmanager's are 16 hex digits; clients may choose theirs).
const MAX_FINGERPRINT: usize = 1024;

impl Live {
    /// The correlator's incident stored as `uuid`, if correlation still follows it.
    fn followed(&self, uuid: Uuid) -> Option<IncidentId> {
        self.ids
            .iter()
            .filter(|(_, u)| **u == uuid)
            .map(|(k, _)| *k)
            .find(|k| {
                self.corr
                    .incident(*k)
                    .is_some_and(|i| i.state != hush_correlate::IncidentState::Resolved)
            })
    }

    /// The stored incident `id`, refused when it cannot take part in a merge or split.
    async fn regroupable(&self, id: Uuid, what: &str) -> Result<hush_sql::Incident, IncidentError> {
        let row = self
            .engine
            .db
            .get_incident(id)
            .await
            .map_err(db_err)?
            .ok_or(IncidentError::NotFound(id))?;
        if let Some(m) = row.payload.get("merged_into").and_then(Value::as_str) {
            return Err(IncidentError::Conflict(format!(
                "{what} `{id}` was merged into `{m}`"
            )));
        }
        if row.state == IncidentState::Resolved {
            return Err(IncidentError::Conflict(format!(
                "{what} `{id}` is resolved; only open or acknowledged incidents can be merged or split"
            )));
        }
        Ok(row)
    }

    fn not_followed(what: &str, id: Uuid) -> IncidentError {
        IncidentError::Conflict(format!(
            "{what} `{id}` is no longer followed by correlation (every alert of it resolved); it cannot be merged or split"
        ))
    }

    /// Moves every alert of `from` into `into`; `from` resolves, marked `merged_into`.
    pub(super) async fn merge(
        &mut self,
        from: Uuid,
        into: Uuid,
        actor: &str,
    ) -> Result<Regrouped, IncidentError> {
        if from == into {
            return Err(IncidentError::Invalid(
                "an incident cannot be merged into itself".into(),
            ));
        }
        let src = self.regroupable(from, "incident").await?;
        self.regroupable(into, "target incident").await?;
        let now = self.engine.clock.now_ms();
        // Time first, so that what it resolves is written and not lost to a refusal below.
        let changes = self.corr.advance(now);
        self.apply(changes, None, now).await?;
        let cf = self
            .followed(from)
            .ok_or_else(|| Self::not_followed("incident", from))?;
        let ci = self
            .followed(into)
            .ok_or_else(|| Self::not_followed("target incident", into))?;
        let changes = self.corr.merge(cf, ci, now).map_err(|e| match e {
            OperatorError::SameIncident => {
                IncidentError::Invalid("an incident cannot be merged into itself".into())
            }
            _ => Self::not_followed("incident", from),
        })?;
        self.learned_changed = true;
        if let Some(m) = self.members.remove(&cf) {
            let t = self.members.entry(ci).or_default();
            t.names.extend(m.names);
            t.common = match (t.common.take(), m.common) {
                (Some(mut a), Some(b)) => {
                    a.retain(|k, v| b.get(k) == Some(v));
                    Some(a)
                }
                (a, b) => a.or(b),
            };
            t.starts.extend(m.starts);
            while t.starts.len() > MEMBER_KEEP {
                t.starts.pop_last();
            }
            for n in m.nodes {
                if t.nodes.len() < MEMBER_KEEP {
                    t.nodes.insert(n);
                }
            }
        }
        self.ids.remove(&cf);
        self.explained.remove(&from);
        let db = self.engine.db.clone();
        let moved: Vec<Uuid> = db
            .incident_alerts(from)
            .await
            .map_err(db_err)?
            .iter()
            .map(|a| a.id)
            .collect();
        // The target's memberships, payload, priority and root cause are written as growth.
        self.pending
            .attach
            .extend(moved.iter().map(|a| (into, *a, now)));
        self.apply(changes, None, now).await?;
        self.pending.dirty.insert(ci, "grew");
        self.flush(now).await?;
        db.detach_alerts(from, &moved).await.map_err(db_err)?;
        let mut payload = src.payload.clone();
        if let Some(p) = payload.as_object_mut() {
            p.insert("merged_into".into(), json!(into));
        }
        let patch = IncidentPatch {
            state: Some(IncidentState::Resolved),
            payload: Some(payload),
            ..IncidentPatch::default()
        };
        let row = db
            .update_incident(from, &patch, now)
            .await
            .map_err(db_err)?;
        self.audit(
            actor,
            "incident.merge",
            from,
            json!({"into": into, "alerts": moved.len()}),
            now,
        )
        .await?;
        self.audit(
            actor,
            "incident.merge",
            into,
            json!({"from": from, "alerts": moved.len()}),
            now,
        )
        .await?;
        self.emit("merged", &row, now);
        self.save_learned().await;
        let other = db
            .get_incident(into)
            .await
            .map_err(db_err)?
            .ok_or(IncidentError::NotFound(into))?;
        Ok(Regrouped {
            incident: row,
            other,
        })
    }

    /// Moves the alerts `alerts` (fingerprints) of incident `id` into a new incident.
    pub(super) async fn split(
        &mut self,
        id: Uuid,
        alerts: Vec<String>,
        actor: &str,
    ) -> Result<Regrouped, IncidentError> {
        if alerts.is_empty() {
            return Err(IncidentError::Invalid(
                "`alerts` is empty: name the fingerprints of the alerts to split off".into(),
            ));
        }
        if alerts.len() > MAX_SPLIT {
            return Err(IncidentError::Invalid(format!(
                "`alerts` names {} alerts, more than the limit of {MAX_SPLIT}",
                alerts.len()
            )));
        }
        if let Some(fp) = alerts
            .iter()
            .find(|a| a.is_empty() || a.len() > MAX_FINGERPRINT)
        {
            return Err(IncidentError::Invalid(format!(
                "`alerts` holds a fingerprint of {} bytes; expected 1 to {MAX_FINGERPRINT}",
                fp.len()
            )));
        }
        self.regroupable(id, "incident").await?;
        let db = self.engine.db.clone();
        let members = db.incident_alerts(id).await.map_err(db_err)?;
        let off: BTreeSet<&str> = alerts.iter().map(String::as_str).collect();
        let known: BTreeSet<&str> = members.iter().map(|a| a.fingerprint.as_str()).collect();
        if let Some(fp) = off.iter().find(|fp| !known.contains(**fp)) {
            return Err(IncidentError::Invalid(format!(
                "alert `{fp}` is not in incident `{id}`"
            )));
        }
        if off.len() >= known.len() {
            return Err(IncidentError::Invalid(format!(
                "cannot split off every alert of incident `{id}`: at least one must stay (to close it, resolve it)"
            )));
        }
        let now = self.engine.clock.now_ms();
        let changes = self.corr.advance(now);
        self.apply(changes, None, now).await?;
        let cid = self
            .followed(id)
            .ok_or_else(|| Self::not_followed("incident", id))?;
        let off_list: Vec<String> = off.iter().map(|s| s.to_string()).collect();
        let rows: Vec<hush_correlate::Alert> = members.iter().map(from_row).collect();
        let (nid, changes) = self
            .corr
            .split(cid, &off_list, &rows, now)
            .map_err(|e| match e {
                OperatorError::UnknownAlert { fingerprint, .. } => IncidentError::Invalid(format!(
                    "alert `{fingerprint}` is not in incident `{id}` as correlation sees it"
                )),
                OperatorError::SplitsAll(_) | OperatorError::NothingToSplit => {
                    IncidentError::Invalid(format!(
                        "cannot split off every alert of incident `{id}`: at least one must stay"
                    ))
                }
                _ => Self::not_followed("incident", id),
            })?;
        self.learned_changed = true;
        // Both parts' names, shared labels, onsets and nodes, from their alerts.
        self.members.remove(&cid);
        for a in &members {
            let part = if off.contains(a.fingerprint.as_str()) {
                nid
            } else {
                cid
            };
            let labels = a
                .labels
                .iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect();
            self.note_member(part, &labels, a.starts_at);
        }
        let moved: Vec<&hush_sql::Alert> = members
            .iter()
            .filter(|a| off.contains(a.fingerprint.as_str()))
            .collect();
        self.naming = moved
            .first()
            .map(|a| a.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "alert".into());
        // The new incident opens like any other (row, memberships, audit, stream, root cause);
        // its alerts' rows are known, so opening looks none up.
        self.pending.rows = members
            .iter()
            .map(|a| (a.fingerprint.clone(), a.id))
            .collect();
        self.apply(changes, None, now).await?;
        self.pending.dirty.insert(cid, "split");
        self.pending.explain.insert(cid);
        self.flush(now).await?;
        let new = *self.ids.get(&nid).ok_or_else(|| {
            IncidentError::Internal("the split-off incident was not stored".into())
        })?;
        let moved_ids: Vec<Uuid> = moved.iter().map(|a| a.id).collect();
        db.detach_alerts(id, &moved_ids).await.map_err(db_err)?;
        self.audit(
            actor,
            "incident.split",
            id,
            json!({"into": new, "alerts": off_list}),
            now,
        )
        .await?;
        self.audit(
            actor,
            "incident.split",
            new,
            json!({"from": id, "alerts": off_list}),
            now,
        )
        .await?;
        self.save_learned().await;
        let get = |u: Uuid| {
            let db = db.clone();
            async move {
                db.get_incident(u)
                    .await
                    .map_err(db_err)?
                    .ok_or(IncidentError::NotFound(u))
            }
        };
        Ok(Regrouped {
            incident: get(id).await?,
            other: get(new).await?,
        })
    }
}
