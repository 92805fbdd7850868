//! Sends the simulated estate's telemetry to the demo's server through Hush's public ingest
//! APIs, exactly as real sources would: metrics by Prometheus remote_write, alerts as
//! Alertmanager webhooks, changes to the change API, logs and traces by OTLP/HTTP (JSON).

use anyhow::{Context, bail};
use hush_model::TimeSeries;
use hush_sim::{Change, LogRecord, Notification, Span};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;

pub struct Publisher {
    client: reqwest::Client,
    base: String,
}

impl Publisher {
    pub fn new(addr: SocketAddr) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .context("failed to build the HTTP client")?;
        Ok(Self {
            client,
            base: format!("http://{addr}"),
        })
    }

    async fn check(what: &str, r: reqwest::Response) -> anyhow::Result<()> {
        let status = r.status();
        if status.is_success() {
            return Ok(());
        }
        let body = r.text().await.unwrap_or_default();
        bail!("{what}: HTTP {status}: {}", body.trim())
    }

    /// One scrape's samples by remote_write 1.0.
    pub async fn metrics(&self, series: &[TimeSeries]) -> anyhow::Result<()> {
        if series.is_empty() {
            return Ok(());
        }
        let r = self
            .client
            .post(format!("{}/api/v1/write", self.base))
            .header("Content-Encoding", "snappy")
            .header("Content-Type", "application/x-protobuf")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(hush_ingest::remote_write::encode(series))
            .send()
            .await
            .context("remote_write")?;
        Self::check("remote_write", r).await
    }

    /// One Alertmanager webhook, as its `webhook_configs` receiver would post it.
    pub async fn alerts(&self, n: &Notification) -> anyhow::Result<()> {
        let r = self
            .client
            .post(format!("{}/api/v1/alerts/alertmanager", self.base))
            .json(&n.payload)
            .send()
            .await
            .context("alert webhook")?;
        Self::check("alert webhook", r).await
    }

    /// One deploy, rollback, config change or feature flag.
    pub async fn change(&self, c: &Change) -> anyhow::Result<()> {
        let r = self
            .client
            .post(format!("{}/api/v1/changes", self.base))
            .json(&change_body(c))
            .send()
            .await
            .context("change event")?;
        Self::check("change event", r).await
    }

    /// A batch of log records by OTLP/HTTP JSON.
    pub async fn logs(&self, logs: &[LogRecord]) -> anyhow::Result<()> {
        if logs.is_empty() {
            return Ok(());
        }
        let r = self
            .client
            .post(format!("{}/v1/logs", self.base))
            .json(&logs_otlp_json(logs))
            .send()
            .await
            .context("OTLP logs")?;
        Self::check("OTLP logs", r).await
    }

    /// A batch of spans by OTLP/HTTP JSON.
    #[allow(dead_code)] // sent once the server takes OTLP traces
    pub async fn traces(&self, spans: &[Span]) -> anyhow::Result<()> {
        if spans.is_empty() {
            return Ok(());
        }
        let r = self
            .client
            .post(format!("{}/v1/traces", self.base))
            .json(&hush_sim::to_otlp_json(spans))
            .send()
            .await
            .context("OTLP traces")?;
        Self::check("OTLP traces", r).await
    }
}

/// The change API's body: `service`, `kind`, `version`, `author`, `description`, `time`.
pub fn change_body(c: &Change) -> Value {
    let kind = serde_json::to_value(c.kind).unwrap_or(Value::Null);
    let time = chrono::DateTime::from_timestamp_millis(c.time_ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    let mut body = json!({
        "service": c.service,
        "kind": kind,
        "author": c.author,
        "description": c.description,
        "time": time,
    });
    if let Some(v) = &c.version {
        body["version"] = json!(v);
    }
    body
}

fn attr(key: &str, value: &str) -> Value {
    json!({ "key": key, "value": { "stringValue": value } })
}

/// OTLP severity numbers (logs data model): DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21.
fn severity(level: hush_sim::Level) -> (i32, &'static str) {
    match level {
        hush_sim::Level::Debug => (5, "DEBUG"),
        hush_sim::Level::Info => (9, "INFO"),
        hush_sim::Level::Warn => (13, "WARN"),
        hush_sim::Level::Error => (17, "ERROR"),
        hush_sim::Level::Fatal => (21, "FATAL"),
    }
}

/// Records grouped by pod into OTLP `resourceLogs` (`service.name`, `host.name` = the pod).
pub fn logs_otlp_json(logs: &[LogRecord]) -> Value {
    let mut by_pod: BTreeMap<(&str, &str), Vec<Value>> = BTreeMap::new();
    for l in logs {
        let (num, text) = severity(l.level);
        by_pod
            .entry((l.service.as_str(), l.instance.as_str()))
            .or_default()
            .push(json!({
                "timeUnixNano": (l.time_ms as i128 * 1_000_000).to_string(),
                "severityNumber": num,
                "severityText": text,
                "body": { "stringValue": l.message },
            }));
    }
    let resource_logs: Vec<Value> = by_pod
        .into_iter()
        .map(|((service, pod), records)| {
            json!({
                "resource": { "attributes": [attr("service.name", service), attr("host.name", pod)] },
                "scopeLogs": [{ "scope": { "name": "hush-sim" }, "logRecords": records }],
            })
        })
        .collect();
    json!({ "resourceLogs": resource_logs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_grouped_by_pod_with_severity() {
        let rec = |svc: &str, pod: &str, level, msg: &str| LogRecord {
            time_ms: 1_700_000_000_123,
            service: svc.into(),
            instance: pod.into(),
            source: hush_sim::LogSource::App,
            level,
            message: msg.into(),
        };
        let v = logs_otlp_json(&[
            rec("a", "a-1", hush_sim::Level::Info, "hello"),
            rec("a", "a-1", hush_sim::Level::Error, "boom"),
            rec("b", "b-1", hush_sim::Level::Warn, "hmm"),
        ]);
        let rl = v["resourceLogs"].as_array().unwrap();
        assert_eq!(rl.len(), 2);
        let recs = rl[0]["scopeLogs"][0]["logRecords"].as_array().unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1]["severityNumber"], 17);
        assert_eq!(recs[0]["timeUnixNano"], "1700000000123000000");
        assert_eq!(
            rl[1]["resource"]["attributes"][0]["value"]["stringValue"],
            "b"
        );
    }
}
