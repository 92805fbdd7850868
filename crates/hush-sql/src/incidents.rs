//! The `incidents` table; their member alerts are in `membership`.

use uuid::Uuid;

use sqlx::types::Json;

use crate::error::{OpContext, SqlError};
use crate::sql::{Bind, Select, bind_all, new_id, parse_id, require_non_empty};
use crate::store::{SqlStore, with_pool};

/// Where an incident is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentState {
    /// Nobody has taken it yet.
    Open,
    /// Someone is on it.
    Acknowledged,
    /// Over.
    Resolved,
}

impl IncidentState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "acknowledged" => Some(Self::Acknowledged),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

/// Incident priority, P1 (most urgent) to P5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Priority(u8);

impl Priority {
    /// The most urgent priority.
    pub const P1: Self = Self(1);
    /// The least urgent priority.
    pub const P5: Self = Self(5);

    /// `Some` for 1 to 5.
    pub fn new(level: u8) -> Option<Self> {
        (1..=5).contains(&level).then_some(Self(level))
    }

    /// The level, 1 to 5.
    pub fn level(self) -> u8 {
        self.0
    }
}

/// An incident before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIncident {
    /// A one-line summary.
    pub title: String,
    /// Its priority.
    pub priority: Priority,
    /// When it opened, epoch ms.
    pub opened_at: i64,
    /// Everything not yet given a column (services, explanation, root cause, assignee).
    pub payload: serde_json::Value,
}

/// A stored incident.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// Row id (UUID v7).
    pub id: Uuid,
    /// Lifecycle state.
    pub state: IncidentState,
    /// Priority.
    pub priority: Priority,
    /// One-line summary.
    pub title: String,
    /// When it opened, epoch ms.
    pub opened_at: i64,
    /// When it was (last) acknowledged, epoch ms.
    pub acknowledged_at: Option<i64>,
    /// When it resolved, epoch ms; cleared if it reopens.
    pub resolved_at: Option<i64>,
    /// Last change, epoch ms.
    pub updated_at: i64,
    /// Everything not yet given a column.
    pub payload: serde_json::Value,
}

/// A partial update: fields left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentPatch {
    /// New state; moving into acknowledged/resolved stamps that time.
    pub state: Option<IncidentState>,
    /// New priority.
    pub priority: Option<Priority>,
    /// New title.
    pub title: Option<String>,
    /// New payload (replaces the whole document).
    pub payload: Option<serde_json::Value>,
}

/// Which incidents [`SqlStore::list_incidents`] returns, most recently opened first.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Only in this state.
    pub state: Option<IncidentState>,
    /// Only at least this urgent (P2 keeps P1 and P2).
    pub at_least: Option<Priority>,
    /// Only opened at or after this time, epoch ms.
    pub opened_since: Option<i64>,
    /// Only opened before this time, epoch ms.
    pub opened_before: Option<i64>,
    /// Only changed at or after this time, epoch ms: how a poller finds new and updated
    /// incidents without a notification channel. When set, rows come least recently updated
    /// first, so a poller can page by moving `updated_since` to the last row's time.
    pub updated_since: Option<i64>,
    /// Most rows to return ([`crate::DEFAULT_LIMIT`] if unset).
    pub limit: Option<u32>,
}

#[derive(sqlx::FromRow)]
struct IncidentRow {
    id: String,
    state: String,
    priority: i32,
    title: String,
    opened_at: i64,
    acknowledged_at: Option<i64>,
    resolved_at: Option<i64>,
    updated_at: i64,
    payload: Json<serde_json::Value>,
}

const COLUMNS: &str =
    "id, state, priority, title, opened_at, acknowledged_at, resolved_at, updated_at, payload";

impl IncidentRow {
    fn into_incident(self) -> Result<Incident, SqlError> {
        let malformed = |reason: String| SqlError::Malformed {
            entity: "incident",
            id: self.id.clone(),
            reason,
        };
        let state = IncidentState::parse(&self.state)
            .ok_or_else(|| malformed(format!("unknown state `{}`", self.state)))?;
        let priority = u8::try_from(self.priority)
            .ok()
            .and_then(Priority::new)
            .ok_or_else(|| malformed(format!("priority {} outside 1..=5", self.priority)))?;
        Ok(Incident {
            id: parse_id("incident", &self.id)?,
            state,
            priority,
            title: self.title,
            opened_at: self.opened_at,
            acknowledged_at: self.acknowledged_at,
            resolved_at: self.resolved_at,
            updated_at: self.updated_at,
            payload: self.payload.0,
        })
    }
}

// One statement, so concurrent patches of different fields cannot lose each other's changes.
// Moving into `acknowledged` or `resolved` stamps that time once; leaving `resolved` clears it.
const UPDATE: &str = "UPDATE incidents SET \
       state = COALESCE($2, state), \
       priority = COALESCE($3, priority), \
       title = COALESCE($4, title), \
       payload = COALESCE($5, payload), \
       acknowledged_at = CASE WHEN $2 = 'acknowledged' AND state <> 'acknowledged' THEN $6 \
                              ELSE acknowledged_at END, \
       resolved_at = CASE WHEN $2 = 'resolved' AND state <> 'resolved' THEN $6 \
                          WHEN $2 IS NOT NULL AND $2 <> 'resolved' THEN NULL \
                          ELSE resolved_at END, \
       updated_at = $6 \
     WHERE id = $1 \
     RETURNING id, state, priority, title, opened_at, acknowledged_at, resolved_at, updated_at, payload";

impl SqlStore {
    /// Stores a new open incident.
    pub async fn create_incident(&self, incident: &NewIncident) -> Result<Incident, SqlError> {
        const SQL: &str = "INSERT INTO incidents (id, state, priority, title, opened_at, \
             acknowledged_at, resolved_at, updated_at, payload) \
             VALUES ($1, 'open', $2, $3, $4, NULL, NULL, $4, $5) \
             RETURNING id, state, priority, title, opened_at, acknowledged_at, resolved_at, \
             updated_at, payload";
        require_non_empty("incident title", &incident.title)?;
        let id = new_id().to_string();
        let payload = Json(&incident.payload);
        let row = with_pool!(self, pool => sqlx::query_as::<_, IncidentRow>(SQL)
            .bind(&id)
            .bind(i32::from(incident.priority.level()))
            .bind(&incident.title)
            .bind(incident.opened_at)
            .bind(payload)
            .fetch_one(pool)
            .await)
        .op("create incident")?;
        row.into_incident()
    }

    /// Stores new open incidents under ids the caller chose, in one transaction and one
    /// statement per 1,000, returned in the order given. Choosing ids up front lets a caller
    /// refer to an incident (memberships, answers) before the batch is written.
    pub async fn create_incidents(
        &self,
        incidents: &[(Uuid, NewIncident)],
    ) -> Result<Vec<Incident>, SqlError> {
        const ROWS: usize = 1_000;
        for (_, i) in incidents {
            require_non_empty("incident title", &i.title)?;
        }
        if incidents.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<IncidentRow> = with_pool!(self, pool => {
            let mut tx = pool.begin().await.op("begin incident batch")?;
            let mut out = Vec::with_capacity(incidents.len());
            for chunk in incidents.chunks(ROWS) {
                let mut sql = String::from(
                    "INSERT INTO incidents (id, state, priority, title, opened_at, \
                     acknowledged_at, resolved_at, updated_at, payload) VALUES ",
                );
                for i in 0..chunk.len() {
                    let b = 5 * i;
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!(
                        "(${}, 'open', ${}, ${}, ${}, NULL, NULL, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 4,
                        b + 5
                    ));
                }
                sql.push_str(
                    " RETURNING id, state, priority, title, opened_at, acknowledged_at, \
                     resolved_at, updated_at, payload",
                );
                // Only placeholders are generated; every value is bound.
                let mut q = sqlx::query_as::<_, IncidentRow>(sqlx::AssertSqlSafe(sql));
                for (id, i) in chunk {
                    q = q
                        .bind(id.to_string())
                        .bind(i32::from(i.priority.level()))
                        .bind(&i.title)
                        .bind(i.opened_at)
                        .bind(Json(&i.payload));
                }
                let mut got: std::collections::HashMap<String, IncidentRow> = q
                    .fetch_all(&mut *tx)
                    .await
                    .op("create incidents")?
                    .into_iter()
                    .map(|r| (r.id.clone(), r))
                    .collect();
                for (id, _) in chunk {
                    let id = id.to_string();
                    let row = got.remove(&id).ok_or(SqlError::NotFound {
                        entity: "incident",
                        id,
                    })?;
                    out.push(row);
                }
            }
            tx.commit().await.op("commit incident batch")?;
            out
        });
        rows.into_iter().map(IncidentRow::into_incident).collect()
    }

    /// Applies `patch` to incident `id` at time `at` (epoch ms) and returns the result.
    pub async fn update_incident(
        &self,
        id: Uuid,
        patch: &IncidentPatch,
        at: i64,
    ) -> Result<Incident, SqlError> {
        if patch.title.as_deref() == Some("") {
            return Err(SqlError::Invalid {
                field: "incident title",
                reason: "must not be empty".to_owned(),
            });
        }
        let id_text = id.to_string();
        let payload = patch.payload.as_ref().map(Json);
        let row = with_pool!(self, pool => sqlx::query_as::<_, IncidentRow>(UPDATE)
            .bind(&id_text)
            .bind(patch.state.map(IncidentState::as_str))
            .bind(patch.priority.map(|p| i32::from(p.level())))
            .bind(patch.title.as_deref())
            .bind(payload)
            .bind(at)
            .fetch_optional(pool)
            .await)
        .op("update incident")?;
        row.ok_or(SqlError::NotFound {
            entity: "incident",
            id: id_text,
        })?
        .into_incident()
    }

    /// The incident with id `id`.
    pub async fn get_incident(&self, id: Uuid) -> Result<Option<Incident>, SqlError> {
        const SQL: &str = "SELECT id, state, priority, title, opened_at, acknowledged_at, \
             resolved_at, updated_at, payload FROM incidents WHERE id = $1";
        let id = id.to_string();
        let row = with_pool!(self, pool => sqlx::query_as::<_, IncidentRow>(SQL)
            .bind(&id).fetch_optional(pool).await)
        .op("get incident")?;
        row.map(IncidentRow::into_incident).transpose()
    }

    /// Incidents matching `filter`, most recently opened first (least recently updated first
    /// with `updated_since`).
    pub async fn list_incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, SqlError> {
        let mut select = Select::new(&format!("SELECT {COLUMNS} FROM incidents"));
        if let Some(state) = filter.state {
            select.and("state", "=", Bind::Text(state.as_str().to_owned()));
        }
        if let Some(p) = filter.at_least {
            select.and("priority", "<=", Bind::Int(i64::from(p.level())));
        }
        if let Some(since) = filter.opened_since {
            select.and("opened_at", ">=", Bind::Int(since));
        }
        if let Some(before) = filter.opened_before {
            select.and("opened_at", "<", Bind::Int(before));
        }
        if let Some(since) = filter.updated_since {
            select.and("updated_at", ">=", Bind::Int(since));
        }
        let order = match filter.updated_since {
            Some(_) => "updated_at ASC, id ASC",
            None => "opened_at DESC, id DESC",
        };
        let (sql, binds) = select.finish(order, filter.limit);
        let rows = with_pool!(self, pool => bind_all!(
            sqlx::query_as::<_, IncidentRow>(sqlx::AssertSqlSafe(sql.clone())), &binds)
            .fetch_all(pool)
            .await)
        .op("list incidents")?;
        rows.into_iter().map(IncidentRow::into_incident).collect()
    }
}
