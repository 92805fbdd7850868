//! One Alertmanager alert object (as in its webhook's `alerts` array, plus an optional
//! `receivedAt`) to a correlator [`Alert`].

use std::collections::BTreeMap;

use chrono::DateTime;
use hush_correlate::{Alert, AlertStatus, Millis};

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
    #[serde(default)]
    received_at: Option<String>,
}

/// A decoded line: the alert, and `startsAt` as the input spelled it (echoed in the output).
#[derive(Debug, Clone)]
pub struct Decoded {
    pub alert: Alert,
    pub starts_at: String,
}

fn time(field: &str, s: &str) -> Result<Millis, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.timestamp_millis())
        .map_err(|e| format!("invalid `{field}` `{s}`: {e}"))
}

/// Decodes one line. Alertmanager's zero time (`0001-01-01T00:00:00Z`) as `endsAt` means none.
pub fn alert_line(line: &str) -> Result<Decoded, String> {
    let l: Line = serde_json::from_str(line).map_err(|e| format!("invalid alert JSON: {e}"))?;
    let starts_raw = l.starts_at.ok_or("missing `startsAt`")?;
    let starts_at = time("startsAt", &starts_raw)?;
    let ends_at = match l.ends_at.as_deref() {
        None | Some("") => None,
        Some(s) => Some(time("endsAt", s)?).filter(|&e| e > 0),
    };
    let received_at = match l.received_at.as_deref() {
        None | Some("") => starts_at,
        Some(s) => time("receivedAt", s)?,
    };
    let status = match l.status.as_deref() {
        Some("resolved") => AlertStatus::Resolved,
        Some("firing") => AlertStatus::Firing,
        None => {
            if ends_at.is_some_and(|e| e <= received_at) {
                AlertStatus::Resolved
            } else {
                AlertStatus::Firing
            }
        }
        Some(other) => {
            return Err(format!(
                "invalid `status` `{other}`: expected firing or resolved"
            ));
        }
    };
    let alert = Alert {
        // Computed here when absent, so the caller can key the episode before ingesting it.
        fingerprint: l
            .fingerprint
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| hush_correlate::fingerprint(&l.labels)),
        status,
        labels: l.labels,
        annotations: l.annotations,
        starts_at,
        ends_at,
        received_at,
    };
    Ok(Decoded {
        alert,
        starts_at: starts_raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_alertmanager_objects() {
        let d = alert_line(r#"{"status":"firing","labels":{"alertname":"X"},"annotations":{},"startsAt":"2026-03-02T09:00:00.000Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://p","fingerprint":"abc","receivedAt":"2026-03-02T09:00:30.000Z"}"#).unwrap();
        assert_eq!(d.alert.status, AlertStatus::Firing);
        assert_eq!(d.alert.ends_at, None);
        assert_eq!(d.alert.received_at - d.alert.starts_at, 30_000);
        assert_eq!(d.starts_at, "2026-03-02T09:00:00.000Z");
        let d = alert_line(r#"{"labels":{"a":"b"},"startsAt":"2026-03-02T09:00:00Z","endsAt":"2026-03-02T09:05:00Z"}"#).unwrap();
        assert_eq!(
            d.alert.status,
            AlertStatus::Firing,
            "no status: endsAt still ahead"
        );
        assert_eq!(d.alert.received_at, d.alert.starts_at);
        let d = alert_line(r#"{"startsAt":"2026-03-02T09:00:00Z","endsAt":"2026-03-02T09:05:00Z","receivedAt":"2026-03-02T09:06:00Z"}"#).unwrap();
        assert_eq!(
            d.alert.status,
            AlertStatus::Resolved,
            "no status: endsAt passed"
        );
    }

    #[test]
    fn bad_lines_name_the_problem() {
        assert!(alert_line("{").unwrap_err().contains("invalid alert JSON"));
        assert!(
            alert_line(r#"{"labels":{}}"#)
                .unwrap_err()
                .contains("startsAt")
        );
        assert!(
            alert_line(r#"{"startsAt":"yesterday"}"#)
                .unwrap_err()
                .contains("invalid `startsAt` `yesterday`")
        );
        assert!(
            alert_line(r#"{"status":"maybe","startsAt":"2026-03-02T09:00:00Z"}"#)
                .unwrap_err()
                .contains("maybe")
        );
        // Far but valid dates decode; the correlator copes with them.
        assert!(alert_line(r#"{"startsAt":"9999-12-31T23:59:59Z"}"#).is_ok());
    }
}
