//! The `events` table: anomalies, changes (deploys, config) and forecasts, in time order.

use std::collections::BTreeMap;

use hush_model::Labels;
use sqlx::types::Json;
use uuid::Uuid;

use crate::error::{OpContext, SqlError};
use crate::sql::{Bind, Select, bind_all, labels_from_map, labels_to_map, new_id, parse_id};
use crate::store::{SqlStore, with_pool};

/// What an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A detector found a series behaving unusually.
    Anomaly,
    /// Something was changed: a deploy, a config change, a feature flag, scaling.
    Change,
    /// A forecast predicts a limit will be crossed.
    Forecast,
}

impl EventKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anomaly => "anomaly",
            Self::Change => "change",
            Self::Forecast => "forecast",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "anomaly" => Some(Self::Anomaly),
            "change" => Some(Self::Change),
            "forecast" => Some(Self::Forecast),
            _ => None,
        }
    }
}

/// An event before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// What it records.
    pub kind: EventKind,
    /// The service it concerns, when known.
    pub service: Option<String>,
    /// The series it concerns (empty for a change).
    pub series: Labels,
    /// When it happened, epoch ms.
    pub at: i64,
    /// How strong it is (anomaly score, forecast confidence); none for a change.
    pub score: Option<f64>,
    /// Kind-specific detail (explanation, version and author, predicted crossing).
    pub payload: serde_json::Value,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Row id (UUID v7).
    pub id: Uuid,
    /// What it records.
    pub kind: EventKind,
    /// The service it concerns, when known.
    pub service: Option<String>,
    /// The series it concerns.
    pub series: Labels,
    /// When it happened, epoch ms.
    pub at: i64,
    /// How strong it is.
    pub score: Option<f64>,
    /// Kind-specific detail.
    pub payload: serde_json::Value,
}

/// Which events [`SqlStore::list_events`] returns.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only this kind.
    pub kind: Option<EventKind>,
    /// Only for this service.
    pub service: Option<String>,
    /// Only at or after this time, epoch ms.
    pub from: Option<i64>,
    /// Only before this time, epoch ms.
    pub to: Option<i64>,
    /// Only with a score at least this (drops events without a score).
    pub min_score: Option<f64>,
    /// Most rows to return ([`crate::DEFAULT_LIMIT`] if unset).
    pub limit: Option<u32>,
    /// Newest first instead of the default oldest first (timeline order).
    pub newest_first: bool,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    kind: String,
    service: Option<String>,
    series: Json<BTreeMap<String, String>>,
    at: i64,
    score: Option<f64>,
    payload: Json<serde_json::Value>,
}

impl EventRow {
    fn into_event(self) -> Result<Event, SqlError> {
        let kind = EventKind::parse(&self.kind).ok_or_else(|| SqlError::Malformed {
            entity: "event",
            id: self.id.clone(),
            reason: format!("unknown kind `{}`", self.kind),
        })?;
        Ok(Event {
            id: parse_id("event", &self.id)?,
            series: labels_from_map("event", &self.id, self.series.0)?,
            kind,
            service: self.service,
            at: self.at,
            score: self.score,
            payload: self.payload.0,
        })
    }
}

impl SqlStore {
    /// Stores `event` and returns it with its id.
    pub async fn insert_event(&self, event: &NewEvent) -> Result<Event, SqlError> {
        const SQL: &str = "INSERT INTO events (id, kind, service, series, at, score, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)";
        if event.score.is_some_and(f64::is_nan) {
            return Err(SqlError::Invalid {
                field: "event score",
                reason: "NaN".to_owned(),
            });
        }
        let id = new_id();
        let id_text = id.to_string();
        let series = Json(labels_to_map(&event.series));
        let payload = Json(&event.payload);
        with_pool!(self, pool => sqlx::query(SQL)
            .bind(&id_text)
            .bind(event.kind.as_str())
            .bind(event.service.as_deref())
            .bind(&series)
            .bind(event.at)
            .bind(event.score)
            .bind(payload)
            .execute(pool)
            .await
            .map(|_| ()))
        .op("insert event")?;
        Ok(Event {
            id,
            kind: event.kind,
            service: event.service.clone(),
            series: event.series.clone(),
            at: event.at,
            score: event.score,
            payload: event.payload.clone(),
        })
    }

    /// Events matching `filter`, by time (oldest first unless `newest_first`).
    pub async fn list_events(&self, filter: &EventFilter) -> Result<Vec<Event>, SqlError> {
        let mut select =
            Select::new("SELECT id, kind, service, series, at, score, payload FROM events");
        if let Some(kind) = filter.kind {
            select.and("kind", "=", Bind::Text(kind.as_str().to_owned()));
        }
        if let Some(service) = &filter.service {
            select.and("service", "=", Bind::Text(service.clone()));
        }
        if let Some(from) = filter.from {
            select.and("at", ">=", Bind::Int(from));
        }
        if let Some(to) = filter.to {
            select.and("at", "<", Bind::Int(to));
        }
        if let Some(min) = filter.min_score {
            select.and("score", ">=", Bind::Float(min));
        }
        let order = if filter.newest_first {
            "at DESC, id DESC"
        } else {
            "at ASC, id ASC"
        };
        let (sql, binds) = select.finish(order, filter.limit);
        let rows = with_pool!(self, pool => bind_all!(
            sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(sql.clone())), &binds)
            .fetch_all(pool)
            .await)
        .op("list events")?;
        rows.into_iter().map(EventRow::into_event).collect()
    }
}
