//! Alertmanager's side: grouping, waiting, re-sending and resolving, and the webhook payloads it
//! posts (version 4 of its webhook format).
//!
//! Routing: one receiver, `group_by: [alertname, service]`, `group_wait: 30s`,
//! `group_interval: 5m`, `repeat_interval: 1h` (shorter than the 4h default so re-sends show in
//! a two-hour run).

use std::collections::BTreeMap;

use crate::time::{ZERO_TIME, rfc3339};

/// Delay before the first notification of a new group.
pub const GROUP_WAIT_MS: i64 = 30_000;
/// Delay between notifications of a group that changed.
pub const GROUP_INTERVAL_MS: i64 = 300_000;
/// Delay before an unchanged firing group is notified again.
pub const REPEAT_INTERVAL_MS: i64 = 3_600_000;
/// Labels alerts are grouped by.
pub const GROUP_BY: [&str; 2] = ["alertname", "service"];

/// Prometheus' label-set fingerprint: FNV-1a 64 over sorted `name 0xff value 0xff`, in hex.
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut add = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    for (k, v) in labels {
        k.bytes().for_each(&mut add);
        add(0xff);
        v.bytes().for_each(&mut add);
        add(0xff);
    }
    format!("{h:016x}")
}

/// One alert as Alertmanager's webhook carries it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AmAlert {
    pub status: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: String,
    pub ends_at: String,
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    pub fingerprint: String,
}

/// The body Alertmanager POSTs to a webhook receiver.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub version: String,
    pub group_key: String,
    pub truncated_alerts: u32,
    pub status: String,
    pub receiver: String,
    pub group_labels: BTreeMap<String, String>,
    pub common_labels: BTreeMap<String, String>,
    pub common_annotations: BTreeMap<String, String>,
    #[serde(rename = "externalURL")]
    pub external_url: String,
    pub alerts: Vec<AmAlert>,
}

/// A webhook sent at a moment of simulated time.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// When Alertmanager sent it, epoch ms.
    pub sent_ms: i64,
    pub payload: Webhook,
}

/// A state change Prometheus reports for one alert.
#[derive(Debug, Clone)]
pub struct AlertEvent {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_ms: i64,
    /// `Some` when the alert resolved at that time.
    pub ends_ms: Option<i64>,
}

#[derive(Debug)]
struct Entry {
    event: AlertEvent,
}

#[derive(Debug)]
struct Group {
    labels: BTreeMap<String, String>,
    alerts: BTreeMap<String, Entry>,
    next_flush: i64,
    last_sent: Option<i64>,
    dirty: bool,
}

/// The Alertmanager model.
#[derive(Debug, Default)]
pub struct Alertmanager {
    groups: BTreeMap<String, Group>,
}

fn intersect<'a>(
    maps: impl Iterator<Item = &'a BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut out: Option<BTreeMap<String, String>> = None;
    for m in maps {
        out = Some(match out {
            None => m.clone(),
            Some(acc) => acc
                .into_iter()
                .filter(|(k, v)| m.get(k) == Some(v))
                .collect(),
        });
    }
    out.unwrap_or_default()
}

impl Alertmanager {
    /// Takes in an alert firing or resolving at `t`.
    pub fn receive(&mut self, ev: AlertEvent, t: i64) {
        let group_labels: BTreeMap<String, String> = ev
            .labels
            .iter()
            .filter(|(k, _)| GROUP_BY.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let inner: Vec<String> = group_labels
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        let key = format!("{{}}:{{{}}}", inner.join(", "));
        let g = self.groups.entry(key).or_insert_with(|| Group {
            labels: group_labels,
            alerts: BTreeMap::new(),
            next_flush: t + GROUP_WAIT_MS,
            last_sent: None,
            dirty: false,
        });
        let fp = fingerprint(&ev.labels);
        // A new episode of a flapping alert replaces the old one, whose resolve may never be
        // sent: what Alertmanager does when an alert flaps within one group interval.
        g.alerts.insert(fp, Entry { event: ev });
        g.dirty = true;
    }

    /// Notifications due at `t`.
    pub fn flush(&mut self, t: i64) -> Vec<Notification> {
        let mut out = Vec::new();
        for (key, g) in &mut self.groups {
            if g.next_flush > t {
                continue;
            }
            while g.next_flush <= t {
                g.next_flush += GROUP_INTERVAL_MS;
            }
            let any_firing = g.alerts.values().any(|e| e.event.ends_ms.is_none());
            let repeat = g.last_sent.is_none_or(|l| t - l >= REPEAT_INTERVAL_MS) && any_firing;
            if !(g.dirty || repeat) {
                continue;
            }
            let alerts: Vec<AmAlert> = g
                .alerts
                .iter()
                .map(|(fp, e)| {
                    let name = e.event.labels.get("alertname").map_or("", String::as_str);
                    AmAlert {
                        status: if e.event.ends_ms.is_some() { "resolved" } else { "firing" }.to_string(),
                        labels: e.event.labels.clone(),
                        annotations: e.event.annotations.clone(),
                        starts_at: rfc3339(e.event.starts_ms),
                        ends_at: e.event.ends_ms.map_or_else(|| ZERO_TIME.to_string(), rfc3339),
                        generator_url: format!("http://prometheus.shop.example:9090/graph?g0.expr=ALERTS%7Balertname%3D%22{name}%22%7D&g0.tab=1"),
                        fingerprint: fp.clone(),
                    }
                })
                .collect();
            let payload = Webhook {
                version: "4".into(),
                group_key: key.clone(),
                truncated_alerts: 0,
                status: if any_firing { "firing" } else { "resolved" }.into(),
                receiver: "hush".into(),
                group_labels: g.labels.clone(),
                common_labels: intersect(alerts.iter().map(|a| &a.labels)),
                common_annotations: intersect(alerts.iter().map(|a| &a.annotations)),
                external_url: "http://alertmanager.shop.example:9093".into(),
                alerts,
            };
            out.push(Notification {
                sent_ms: t,
                payload,
            });
            g.last_sent = Some(t);
            g.dirty = false;
            g.alerts.retain(|_, e| e.event.ends_ms.is_none());
        }
        self.groups.retain(|_, g| !g.alerts.is_empty());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fingerprint_matches_prometheus() {
        // Prometheus' empty label set hashes to the FNV-1a offset basis.
        assert_eq!(fingerprint(&BTreeMap::new()), "cbf29ce484222325");
        let a = fingerprint(&labels(&[("alertname", "X"), ("service", "a")]));
        assert_eq!(a.len(), 16);
        assert_ne!(
            a,
            fingerprint(&labels(&[("alertname", "X"), ("service", "b")]))
        );
    }

    #[test]
    fn waits_groups_repeats_and_resolves() {
        let mut am = Alertmanager::default();
        let ev = |svc: &str, ends: Option<i64>| AlertEvent {
            labels: labels(&[
                ("alertname", "HighErrorRate"),
                ("service", svc),
                ("instance", svc),
            ]),
            annotations: BTreeMap::new(),
            starts_ms: 0,
            ends_ms: ends,
        };
        am.receive(ev("a", None), 0);
        assert!(
            am.flush(15_000).is_empty(),
            "group_wait holds the first notification"
        );
        let n = am.flush(30_000);
        assert_eq!(n.len(), 1);
        assert_eq!(
            n[0].payload.group_key,
            r#"{}:{alertname="HighErrorRate", service="a"}"#
        );
        assert_eq!(n[0].payload.alerts[0].ends_at, ZERO_TIME);
        assert!(
            am.flush(330_000).is_empty(),
            "unchanged groups wait for repeat_interval"
        );
        let n = am.flush(30_000 + 12 * GROUP_INTERVAL_MS);
        assert_eq!(n.len(), 1, "re-sent after an hour");
        am.receive(ev("a", Some(4_000_000)), 4_000_000);
        let n = am.flush(4_000_000 + GROUP_INTERVAL_MS);
        assert_eq!(n[0].payload.status, "resolved");
        assert!(am.flush(9_000_000).is_empty(), "a resolved group is gone");
    }
}
