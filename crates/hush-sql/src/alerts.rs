//! The `alerts` table: one row per fingerprint, updated in place by re-sends.

use std::collections::BTreeMap;

use hush_model::Labels;
use sqlx::types::Json;
use uuid::Uuid;

use crate::error::{OpContext, SqlError};
use crate::sql::{
    Bind, Select, bind_all, labels_from_map, labels_to_map, new_id, parse_id, require_non_empty,
};
use crate::store::{SqlStore, with_pool};

/// Whether an alert is currently firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertStatus {
    /// The condition holds.
    Firing,
    /// The condition has cleared.
    Resolved,
}

impl AlertStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Firing => "firing",
            Self::Resolved => "resolved",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "firing" => Some(Self::Firing),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

/// An alert as received, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    /// Identity across re-sends (Alertmanager's fingerprint, or one Hush derived).
    pub fingerprint: String,
    /// Who sent it, e.g. `alertmanager` or `hush-detect`.
    pub source: String,
    /// The alert name (`alertname`).
    pub name: String,
    /// Identifying labels.
    pub labels: Labels,
    /// Free-text annotations (summary, description, runbook URL).
    pub annotations: BTreeMap<String, String>,
    /// Severity as the source spelt it (`critical`, `warning`, …).
    pub severity: String,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// When the condition started, epoch ms.
    pub starts_at: i64,
    /// When it ended, epoch ms, if the source said.
    pub ends_at: Option<i64>,
    /// When Hush received this copy, epoch ms.
    pub received_at: i64,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Row id (UUID v7).
    pub id: Uuid,
    /// Identity across re-sends; unique.
    pub fingerprint: String,
    /// Who sent the latest copy.
    pub source: String,
    /// The alert name.
    pub name: String,
    /// Labels of the latest copy.
    pub labels: Labels,
    /// Annotations of the latest copy.
    pub annotations: BTreeMap<String, String>,
    /// Severity of the latest copy.
    pub severity: String,
    /// Current status.
    pub status: AlertStatus,
    /// Start of the current firing episode, epoch ms.
    pub starts_at: i64,
    /// End, epoch ms, if known.
    pub ends_at: Option<i64>,
    /// First receipt, epoch ms.
    pub first_seen: i64,
    /// Latest receipt, epoch ms.
    pub last_seen: i64,
    /// Receipts after the first.
    pub resend_count: i64,
    /// Status changes (firing ↔ resolved) seen so far.
    pub flap_count: i64,
}

/// What [`SqlStore::upsert_alert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// A new fingerprint: a row was inserted.
    Created,
    /// A known fingerprint: its row was updated.
    Updated,
    /// An older copy than the one stored (`received_at` < `last_seen`): nothing changed.
    Stale,
}

/// Which alerts [`SqlStore::list_alerts`] returns, newest `last_seen` first.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only this status.
    pub status: Option<AlertStatus>,
    /// Only from this source.
    pub source: Option<String>,
    /// Only with this name.
    pub name: Option<String>,
    /// Only with this severity.
    pub severity: Option<String>,
    /// Only seen at or after this time, epoch ms.
    pub seen_since: Option<i64>,
    /// Only seen before this time, epoch ms.
    pub seen_before: Option<i64>,
    /// Most rows to return ([`crate::DEFAULT_LIMIT`] if unset).
    pub limit: Option<u32>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AlertRow {
    id: String,
    fingerprint: String,
    source: String,
    name: String,
    labels: Json<BTreeMap<String, String>>,
    annotations: Json<BTreeMap<String, String>>,
    severity: String,
    status: String,
    starts_at: i64,
    ends_at: Option<i64>,
    first_seen: i64,
    last_seen: i64,
    resend_count: i64,
    flap_count: i64,
}

pub(crate) const ALERT_COLUMNS: &str = "id, fingerprint, source, name, labels, annotations, severity, \
     status, starts_at, ends_at, first_seen, last_seen, resend_count, flap_count";

impl AlertRow {
    pub(crate) fn into_alert(self) -> Result<Alert, SqlError> {
        let status = AlertStatus::parse(&self.status).ok_or_else(|| SqlError::Malformed {
            entity: "alert",
            id: self.id.clone(),
            reason: format!("unknown status `{}`", self.status),
        })?;
        Ok(Alert {
            id: parse_id("alert", &self.id)?,
            labels: labels_from_map("alert", &self.id, self.labels.0)?,
            fingerprint: self.fingerprint,
            source: self.source,
            name: self.name,
            annotations: self.annotations.0,
            severity: self.severity,
            status,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            resend_count: self.resend_count,
            flap_count: self.flap_count,
        })
    }
}

// A re-send updates the row in place. A copy older than the stored one is ignored (the WHERE on
// DO UPDATE), so two senders racing (an Alertmanager HA pair) cannot roll the state back. A
// resolved alert that fires again starts a new episode: its `starts_at` moves, and the status
// change counts as a flap.
macro_rules! upsert_head {
    () => {
        "INSERT INTO alerts (id, fingerprint, source, name, labels, annotations, \
         severity, status, starts_at, ends_at, first_seen, last_seen, resend_count, flap_count) "
    };
}
macro_rules! upsert_tail {
    () => {
        " ON CONFLICT (fingerprint) DO UPDATE SET \
       source = excluded.source, name = excluded.name, labels = excluded.labels, \
       annotations = excluded.annotations, severity = excluded.severity, status = excluded.status, \
       starts_at = CASE WHEN alerts.status = 'resolved' AND excluded.status = 'firing' \
                        THEN excluded.starts_at ELSE alerts.starts_at END, \
       ends_at = excluded.ends_at, last_seen = excluded.last_seen, \
       resend_count = alerts.resend_count + 1, \
       flap_count = alerts.flap_count + CASE WHEN alerts.status <> excluded.status THEN 1 ELSE 0 END \
     WHERE excluded.last_seen >= alerts.last_seen \
     RETURNING id, fingerprint, source, name, labels, annotations, severity, status, starts_at, \
       ends_at, first_seen, last_seen, resend_count, flap_count"
    };
}
const UPSERT: &str = concat!(
    upsert_head!(),
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 0, 0)",
    upsert_tail!()
);

impl SqlStore {
    /// Stores `alert`: inserts a new fingerprint, or updates the existing row of a re-send.
    pub async fn upsert_alert(&self, alert: &NewAlert) -> Result<(Alert, UpsertOutcome), SqlError> {
        require_non_empty("alert fingerprint", &alert.fingerprint)?;
        let labels = Json(labels_to_map(&alert.labels));
        let annotations = Json(&alert.annotations);
        let id = new_id().to_string();
        let row = with_pool!(self, pool => sqlx::query_as::<_, AlertRow>(UPSERT)
            .bind(&id)
            .bind(&alert.fingerprint)
            .bind(&alert.source)
            .bind(&alert.name)
            .bind(&labels)
            .bind(annotations)
            .bind(&alert.severity)
            .bind(alert.status.as_str())
            .bind(alert.starts_at)
            .bind(alert.ends_at)
            .bind(alert.received_at)
            .fetch_optional(pool)
            .await)
        .op("upsert alert")?;
        match row {
            Some(row) => {
                let alert = row.into_alert()?;
                let outcome = if alert.resend_count == 0 {
                    UpsertOutcome::Created
                } else {
                    UpsertOutcome::Updated
                };
                Ok((alert, outcome))
            }
            None => {
                let stored = self
                    .get_alert_by_fingerprint(&alert.fingerprint)
                    .await?
                    .ok_or_else(|| SqlError::NotFound {
                        entity: "alert",
                        id: alert.fingerprint.clone(),
                    })?;
                Ok((stored, UpsertOutcome::Stale))
            }
        }
    }

    /// Stores every alert of `alerts` in one transaction, in order, as [`Self::upsert_alert`]
    /// would one by one. A burst costs one commit (one fsync) and a few multi-row statements
    /// instead of a statement and a commit per alert; either all are stored or none.
    pub async fn upsert_alerts(
        &self,
        alerts: &[NewAlert],
    ) -> Result<Vec<(Alert, UpsertOutcome)>, SqlError> {
        const GET: &str = "SELECT id, fingerprint, source, name, labels, annotations, severity, \
             status, starts_at, ends_at, first_seen, last_seen, resend_count, flap_count \
             FROM alerts WHERE fingerprint = $1";
        for a in alerts {
            require_non_empty("alert fingerprint", &a.fingerprint)?;
        }
        if alerts.is_empty() {
            return Ok(Vec::new());
        }
        let chunks = upsert_chunks(alerts);
        let rows: Vec<(AlertRow, bool)> = with_pool!(self, pool => {
            let mut tx = pool.begin().await.op("begin alert batch")?;
            let mut out = Vec::with_capacity(alerts.len());
            for chunk in &chunks {
                let sql = multi_upsert_sql(chunk.len());
                // Only placeholders are generated; every value is bound.
                let mut q = sqlx::query_as::<_, AlertRow>(sqlx::AssertSqlSafe(sql));
                for alert in chunk {
                    q = q
                        .bind(new_id().to_string())
                        .bind(&alert.fingerprint)
                        .bind(&alert.source)
                        .bind(&alert.name)
                        .bind(Json(labels_to_map(&alert.labels)))
                        .bind(Json(&alert.annotations))
                        .bind(&alert.severity)
                        .bind(alert.status.as_str())
                        .bind(alert.starts_at)
                        .bind(alert.ends_at)
                        .bind(alert.received_at);
                }
                let mut returned: std::collections::HashMap<String, AlertRow> = q
                    .fetch_all(&mut *tx)
                    .await
                    .op("upsert alerts")?
                    .into_iter()
                    .map(|r| (r.fingerprint.clone(), r))
                    .collect();
                for alert in chunk {
                    // Not returned: an older copy than the stored one, left as it was.
                    match returned.remove(&alert.fingerprint) {
                        Some(r) => out.push((r, false)),
                        None => {
                            let r = sqlx::query_as::<_, AlertRow>(GET)
                                .bind(&alert.fingerprint)
                                .fetch_optional(&mut *tx)
                                .await
                                .op("get alert")?
                                .ok_or_else(|| SqlError::NotFound {
                                    entity: "alert",
                                    id: alert.fingerprint.clone(),
                                })?;
                            out.push((r, true));
                        }
                    }
                }
            }
            tx.commit().await.op("commit alert batch")?;
            out
        });
        rows.into_iter()
            .map(|(row, stale)| {
                let alert = row.into_alert()?;
                let outcome = if stale {
                    UpsertOutcome::Stale
                } else if alert.resend_count == 0 {
                    UpsertOutcome::Created
                } else {
                    UpsertOutcome::Updated
                };
                Ok((alert, outcome))
            })
            .collect()
    }

    /// The alert with row id `id`.
    pub async fn get_alert(&self, id: Uuid) -> Result<Option<Alert>, SqlError> {
        const SQL: &str = "SELECT id, fingerprint, source, name, labels, annotations, severity, \
             status, starts_at, ends_at, first_seen, last_seen, resend_count, flap_count \
             FROM alerts WHERE id = $1";
        let id = id.to_string();
        let row = with_pool!(self, pool => sqlx::query_as::<_, AlertRow>(SQL)
            .bind(&id).fetch_optional(pool).await)
        .op("get alert")?;
        row.map(AlertRow::into_alert).transpose()
    }

    /// The alert with `fingerprint`.
    pub async fn get_alert_by_fingerprint(
        &self,
        fingerprint: &str,
    ) -> Result<Option<Alert>, SqlError> {
        const SQL: &str = "SELECT id, fingerprint, source, name, labels, annotations, severity, \
             status, starts_at, ends_at, first_seen, last_seen, resend_count, flap_count \
             FROM alerts WHERE fingerprint = $1";
        let row = with_pool!(self, pool => sqlx::query_as::<_, AlertRow>(SQL)
            .bind(fingerprint).fetch_optional(pool).await)
        .op("get alert")?;
        row.map(AlertRow::into_alert).transpose()
    }

    /// Alerts matching `filter`, most recently seen first.
    pub async fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>, SqlError> {
        let mut select = Select::new(&format!("SELECT {ALERT_COLUMNS} FROM alerts"));
        if let Some(status) = filter.status {
            select.and("status", "=", Bind::Text(status.as_str().to_owned()));
        }
        if let Some(source) = &filter.source {
            select.and("source", "=", Bind::Text(source.clone()));
        }
        if let Some(name) = &filter.name {
            select.and("name", "=", Bind::Text(name.clone()));
        }
        if let Some(severity) = &filter.severity {
            select.and("severity", "=", Bind::Text(severity.clone()));
        }
        if let Some(since) = filter.seen_since {
            select.and("last_seen", ">=", Bind::Int(since));
        }
        if let Some(before) = filter.seen_before {
            select.and("last_seen", "<", Bind::Int(before));
        }
        let (sql, binds) = select.finish("last_seen DESC, id DESC", filter.limit);
        let rows = with_pool!(self, pool => bind_all!(
            sqlx::query_as::<_, AlertRow>(sqlx::AssertSqlSafe(sql.clone())), &binds)
            .fetch_all(pool)
            .await)
        .op("list alerts")?;
        rows.into_iter().map(AlertRow::into_alert).collect()
    }
}

/// Rows per multi-row upsert: 11 parameters each stays well under both backends' limits
/// (SQLite 32,766, PostgreSQL 65,535).
const UPSERT_ROWS: usize = 500;

/// Splits a batch into runs without a repeated fingerprint, in order: one statement may not
/// update the same row twice (PostgreSQL refuses it), and later copies must see earlier ones.
fn upsert_chunks(alerts: &[NewAlert]) -> Vec<Vec<&NewAlert>> {
    let mut chunks: Vec<Vec<&NewAlert>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for a in alerts {
        let full = chunks.last().is_none_or(|c| c.len() >= UPSERT_ROWS);
        if full || !seen.insert(a.fingerprint.as_str()) {
            seen.clear();
            seen.insert(a.fingerprint.as_str());
            chunks.push(Vec::new());
        }
        if let Some(c) = chunks.last_mut() {
            c.push(a);
        }
    }
    chunks
}

/// [`UPSERT`] for `rows` rows of values.
fn multi_upsert_sql(rows: usize) -> String {
    let (head, tail) = (upsert_head!(), upsert_tail!());
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * 64);
    sql.push_str(head);
    sql.push_str("VALUES ");
    for r in 0..rows {
        let b = r * 11;
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for k in 1..=11 {
            sql.push_str(&format!("${}, ", b + k));
        }
        sql.push_str(&format!("${}, 0, 0)", b + 11));
    }
    sql.push_str(tail);
    sql
}
