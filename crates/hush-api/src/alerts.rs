//! Alert endpoints: `POST /api/v1/alerts/alertmanager` (Alertmanager's webhook),
//! `POST /api/v1/alerts` (the generic schema) and `GET /api/v1/alerts`.

use crate::AppState;
use crate::error::ApiError;
use crate::params::Params;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use bytes::Bytes;
use hush_correlate::Alert;
use hush_ingest::alerts::{AlertDecodeError, AlertLimits};
use serde_json::{Value as J, json};

type Decoder = fn(&[u8], i64, &AlertLimits) -> Result<Vec<Alert>, AlertDecodeError>;

async fn take(
    s: &AppState,
    body: &[u8],
    decode: Decoder,
    source: &'static str,
) -> Result<Json<J>, ApiError> {
    let limits = AlertLimits::from(&s.engine.limits);
    let alerts = decode(body, s.engine.clock.now_ms(), &limits).map_err(|e| {
        s.engine.count_rejected_request(e.reason());
        ApiError::from(e)
    })?;
    let accepted = s.engine.submit_alerts(alerts, source).await?;
    Ok(Json(json!({
        "status": "success",
        "data": { "accepted": accepted.len(), "alerts": accepted },
    })))
}

/// `POST /api/v1/alerts/alertmanager`: an Alertmanager webhook notification (version 4).
pub async fn alertmanager(State(s): State<AppState>, body: Bytes) -> Result<Json<J>, ApiError> {
    take(
        &s,
        &body,
        hush_ingest::alerts::decode_alertmanager,
        "alertmanager",
    )
    .await
}

/// `POST /api/v1/alerts`: alerts in the generic JSON schema (`docs/incidents.md`).
pub async fn generic(State(s): State<AppState>, body: Bytes) -> Result<Json<J>, ApiError> {
    take(&s, &body, hush_ingest::alerts::decode_generic, "api").await
}

/// `GET /api/v1/alerts?status=&source=&name=&since=&limit=`: stored alerts, latest first.
pub async fn list(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Result<Json<J>, ApiError> {
    let p = Params::parse(q.as_deref(), &h, &[])?;
    let status = match p.get("status") {
        None | Some("") => None,
        Some("firing") => Some(hush_sql::AlertStatus::Firing),
        Some("resolved") => Some(hush_sql::AlertStatus::Resolved),
        Some(o) => {
            return Err(ApiError::bad_data(format!(
                "invalid parameter `status`: `{o}`; expected firing or resolved"
            )));
        }
    };
    let f = hush_sql::AlertFilter {
        status,
        source: p.get("source").map(str::to_string),
        name: p.get("name").map(str::to_string),
        severity: p.get("severity").map(str::to_string),
        seen_since: p.get("since").map(|_| p.time("since", 0)).transpose()?,
        seen_before: None,
        limit: Some(crate::incidents::limit(&p)?),
    };
    let rows = s.engine.db.list_alerts(&f).await?;
    let data: Vec<J> = rows.iter().map(alert_json).collect();
    Ok(Json(json!({ "status": "success", "data": data })))
}

pub(crate) fn alert_json(a: &hush_sql::Alert) -> J {
    json!({
        "id": a.id,
        "fingerprint": a.fingerprint,
        "source": a.source,
        "name": a.name,
        "labels": a.labels.iter().map(|l| (l.name.clone(), J::String(l.value.clone()))).collect::<serde_json::Map<_, _>>(),
        "annotations": a.annotations,
        "severity": a.severity,
        "status": a.status.as_str(),
        "startsAt": a.starts_at,
        "endsAt": a.ends_at,
        "firstSeen": a.first_seen,
        "lastSeen": a.last_seen,
        "resends": a.resend_count,
        "flaps": a.flap_count,
    })
}
