//! JSON lines over HTTP: one JSON object per line.
//!
//! The message is the string in `message_field` (configurable; `message` by default, with `msg`
//! and `log` tried next). `service`/`service.name`, `host`/`host.name`/`hostname`,
//! `level`/`severity` and `timestamp`/`time`/`ts` (RFC 3339, or epoch seconds or
//! milliseconds as a number) are read when present. A line that is not a JSON object, or has
//! no message, refuses the whole request with its line number, so nothing is half-stored.

use super::{
    Decoded, Level, LogDefaults, LogError, LogLimits, LogReason, LogRecord, Lossy, check_body,
    check_records, cut,
};
use serde_json::{Map, Value};

/// Decodes a JSON-lines body (`application/x-ndjson`); blank lines are skipped.
pub fn decode_json_lines(
    body: &[u8],
    message_field: &str,
    now_ms: i64,
    defaults: &LogDefaults,
    limits: &LogLimits,
) -> Result<Decoded, LogError> {
    check_body(body.len(), limits)?;
    let mut out = Decoded::default();
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        if raw.trim_ascii().is_empty() {
            continue;
        }
        check_records(out.records.len() + 1, limits)?;
        let record = decode_json_line(raw, message_field, now_ms, defaults, limits, &mut out.lossy)
            .map_err(|e| LogError::new(e.reason, format!("line {}{}", i + 1, e.message)))?;
        out.records.extend(record);
    }
    Ok(out)
}

/// Decodes one JSON line (a file being tailed goes line by line, so one bad line does not
/// refuse its neighbours). A blank line is `Ok(None)`. An error's message starts where a
/// line number would end (` column 3: …`, `: no `message` field`), for the caller to prefix
/// with its own place (`line 7`, `app.log:7`).
pub fn decode_json_line(
    raw: &[u8],
    message_field: &str,
    now_ms: i64,
    defaults: &LogDefaults,
    limits: &LogLimits,
    lossy: &mut Lossy,
) -> Result<Option<LogRecord>, LogError> {
    let raw = raw.trim_ascii();
    if raw.is_empty() {
        return Ok(None);
    }
    let value: Value = match serde_json::from_slice(raw) {
        Ok(v) => v,
        // serde_json refuses invalid UTF-8 inside strings: decode lossily and retry.
        Err(_) if std::str::from_utf8(raw).is_err() => {
            lossy.invalid_utf8 += 1;
            serde_json::from_str(&String::from_utf8_lossy(raw)).map_err(|e| bad_json(&e))?
        }
        Err(e) => return Err(bad_json(&e)),
    };
    let Value::Object(obj) = value else {
        return Err(LogError::new(
            LogReason::BadJson,
            ": expected a JSON object",
        ));
    };
    let message = [message_field, "message", "msg", "log"]
        .iter()
        .find_map(|k| obj.get(*k))
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .ok_or_else(|| {
            LogError::new(
                LogReason::MissingMessage,
                format!(": no `{message_field}` field"),
            )
        })?;
    let message = cut(message, limits.max_message_bytes, lossy);
    let level = string(&obj, &["level", "severity", "lvl"])
        .and_then(|s| Level::parse(&s))
        .unwrap_or_else(|| Level::infer(&message));
    Ok(Some(LogRecord {
        time: time(&obj).unwrap_or(now_ms),
        service: string(&obj, &["service", "service.name", "app"])
            .unwrap_or_else(|| defaults.service.clone()),
        host: string(&obj, &["host", "host.name", "hostname"])
            .unwrap_or_else(|| defaults.host.clone()),
        level,
        message,
    }))
}

fn bad_json(e: &serde_json::Error) -> LogError {
    LogError::new(LogReason::BadJson, format!(" column {}: {e}", e.column()))
}

fn string(obj: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match obj.get(*k) {
        Some(Value::String(s)) if !s.is_empty() => Some(super::name(s)),
        _ => None,
    })
}

/// Milliseconds from RFC 3339 text or an epoch number (seconds below 10^11, else ms).
fn time(obj: &Map<String, Value>) -> Option<i64> {
    ["timestamp", "time", "ts", "@timestamp"]
        .iter()
        .find_map(|k| match obj.get(*k)? {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.timestamp_millis()),
            Value::Number(n) => {
                let f = n.as_f64()?;
                if !f.is_finite() || !(0.0..=1e15).contains(&f) {
                    return None;
                }
                Some(if f < 1e11 {
                    (f * 1000.0) as i64
                } else {
                    f as i64
                })
            }
            _ => None,
        })
}
