//! `incident_alerts`: which alerts each incident groups. An alert may sit in several incidents
//! while correlation merges and splits them; removing either side removes the membership.

use uuid::Uuid;

use crate::alerts::{ALERT_COLUMNS, Alert, AlertRow};
use crate::error::{OpContext, SqlError};
use crate::sql::parse_id;
use crate::store::{SqlStore, with_pool};

impl SqlStore {
    /// Makes alert `alert` a member of incident `incident` at `at`; `false` if it already was.
    pub async fn attach_alert(
        &self,
        incident: Uuid,
        alert: Uuid,
        at: i64,
    ) -> Result<bool, SqlError> {
        const SQL: &str = "INSERT INTO incident_alerts (incident_id, alert_id, attached_at) \
             VALUES ($1, $2, $3) ON CONFLICT (incident_id, alert_id) DO NOTHING";
        let (incident_text, alert_text) = (incident.to_string(), alert.to_string());
        let result = with_pool!(self, pool => sqlx::query(SQL)
            .bind(&incident_text).bind(&alert_text).bind(at)
            .execute(pool).await.map(|r| r.rows_affected()));
        match result {
            Ok(n) => Ok(n == 1),
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                // Name the missing side rather than the constraint.
                if self.get_incident(incident).await?.is_none() {
                    Err(SqlError::NotFound {
                        entity: "incident",
                        id: incident_text,
                    })
                } else {
                    Err(SqlError::NotFound {
                        entity: "alert",
                        id: alert_text,
                    })
                }
            }
            Err(source) => Err(SqlError::Query {
                op: "attach alert",
                source,
            }),
        }
    }

    /// Makes each `(incident, alert, at)` a membership in one transaction; already-present
    /// pairs are left alone. Returns how many were new. A missing incident or alert fails the
    /// whole batch.
    pub async fn attach_alerts(&self, pairs: &[(Uuid, Uuid, i64)]) -> Result<u64, SqlError> {
        // 3 parameters a row: far under both backends' limits.
        const ROWS: usize = 1_000;
        if pairs.is_empty() {
            return Ok(0);
        }
        let n = with_pool!(self, pool => {
            let mut tx = pool.begin().await.op("begin membership batch")?;
            let mut n = 0;
            for chunk in pairs.chunks(ROWS) {
                let mut sql = String::from(
                    "INSERT INTO incident_alerts (incident_id, alert_id, attached_at) VALUES ",
                );
                for i in 0..chunk.len() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
                }
                sql.push_str(" ON CONFLICT (incident_id, alert_id) DO NOTHING");
                // Only placeholders are generated; every value is bound.
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (incident, alert, at) in chunk {
                    q = q.bind(incident.to_string()).bind(alert.to_string()).bind(*at);
                }
                n += q.execute(&mut *tx).await.op("attach alerts")?.rows_affected();
            }
            tx.commit().await.op("commit membership batch")?;
            n
        });
        Ok(n)
    }

    /// Removes alert `alert` from incident `incident`; `false` if it was not a member.
    pub async fn detach_alert(&self, incident: Uuid, alert: Uuid) -> Result<bool, SqlError> {
        const SQL: &str = "DELETE FROM incident_alerts WHERE incident_id = $1 AND alert_id = $2";
        let (incident, alert) = (incident.to_string(), alert.to_string());
        let n = with_pool!(self, pool => sqlx::query(SQL)
            .bind(&incident).bind(&alert).execute(pool).await.map(|r| r.rows_affected()))
        .op("detach alert")?;
        Ok(n == 1)
    }

    /// Removes each of `alerts` from incident `incident` in one transaction (an operator's
    /// merge or split moves many at once); returns how many were members.
    pub async fn detach_alerts(&self, incident: Uuid, alerts: &[Uuid]) -> Result<u64, SqlError> {
        const ROWS: usize = 1_000;
        if alerts.is_empty() {
            return Ok(0);
        }
        let incident = incident.to_string();
        let n = with_pool!(self, pool => {
            let mut tx = pool.begin().await.op("begin membership removal")?;
            let mut n = 0;
            for chunk in alerts.chunks(ROWS) {
                let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                let sql = format!(
                    "DELETE FROM incident_alerts WHERE incident_id = $1 AND alert_id IN ({})",
                    marks.join(", ")
                );
                // Only placeholders are generated; every value is bound.
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&incident);
                for a in chunk {
                    q = q.bind(a.to_string());
                }
                n += q.execute(&mut *tx).await.op("detach alerts")?.rows_affected();
            }
            tx.commit().await.op("commit membership removal")?;
            n
        });
        Ok(n)
    }

    /// The alerts of incident `incident`, in the order they joined.
    pub async fn incident_alerts(&self, incident: Uuid) -> Result<Vec<Alert>, SqlError> {
        let sql = format!(
            "SELECT {} FROM alerts a JOIN incident_alerts m ON m.alert_id = a.id \
             WHERE m.incident_id = $1 ORDER BY m.attached_at, a.id",
            ALERT_COLUMNS
                .split(", ")
                .map(|c| format!("a.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let incident = incident.to_string();
        let rows = with_pool!(self, pool => sqlx::query_as::<_, AlertRow>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(&incident).fetch_all(pool).await)
        .op("list incident alerts")?;
        rows.into_iter().map(AlertRow::into_alert).collect()
    }

    /// The incidents alert `alert` belongs to, oldest membership first.
    pub async fn alert_incidents(&self, alert: Uuid) -> Result<Vec<Uuid>, SqlError> {
        const SQL: &str = "SELECT incident_id FROM incident_alerts WHERE alert_id = $1 \
             ORDER BY attached_at, incident_id";
        let alert = alert.to_string();
        let ids = with_pool!(self, pool => sqlx::query_scalar::<_, String>(SQL)
            .bind(&alert).fetch_all(pool).await)
        .op("list alert incidents")?;
        ids.iter().map(|id| parse_id("incident", id)).collect()
    }
}
