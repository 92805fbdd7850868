//! The alert as the correlator sees it, Alertmanager's fingerprint, and the size limits that
//! keep one absurd alert from costing more than any other.

use std::collections::BTreeMap;

use crate::error::AlertError;

/// Epoch milliseconds. Every timestamp of this crate is one, and arithmetic on them saturates.
pub type Millis = i64;

/// Whether an alert is firing or has resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum AlertStatus {
    Firing,
    Resolved,
}

/// One alert notification, decoded (from Alertmanager's webhook, the generic API or Hush's
/// own anomalies). An *episode* of an alert is identified by fingerprint and `starts_at`;
/// re-sends of an episode carry the same pair.
///
/// Serializable so a cluster node can hand alerts to the node that correlates them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Alert {
    /// Identity of the label set; see [`fingerprint`].
    pub fingerprint: String,
    pub status: AlertStatus,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// When the episode started.
    pub starts_at: Millis,
    /// When it ended (resolved alerts) or will be considered ended unless re-sent (firing
    /// alerts, as Alertmanager's `resolve_timeout` does); `None` when the sender gave none.
    pub ends_at: Option<Millis>,
    /// When Hush received it.
    pub received_at: Millis,
}

/// Bounds on one alert. An alert past them is refused with an [`AlertError`] naming the limit,
/// rather than slowing every comparison it would take part in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most labels on one alert (Prometheus' own default `label_limit` is unlimited, but real
    /// alerts carry tens).
    pub max_labels: usize,
    /// Most bytes of label and annotation names and values together.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_labels: 256,
            max_bytes: 64 * 1024,
        }
    }
}

/// Prometheus' and Alertmanager's label-set fingerprint: FNV-1a 64 over the labels sorted by
/// name, each as `name 0xff value 0xff`, printed as 16 hex digits.
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

impl Alert {
    /// A firing alert with the fingerprint computed from `labels`, received when it started.
    pub fn firing(labels: BTreeMap<String, String>, starts_at: Millis) -> Self {
        Self {
            fingerprint: fingerprint(&labels),
            status: AlertStatus::Firing,
            labels,
            annotations: BTreeMap::new(),
            starts_at,
            ends_at: None,
            received_at: starts_at,
        }
    }

    /// The value of label `name`, if present and not empty.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The service the alert is about: the first of the labels `service`, `app`, `job`,
    /// `app_kubernetes_io_name`, `container` that is set (the conventions of common exporters).
    pub fn service(&self) -> Option<&str> {
        [
            "service",
            "app",
            "job",
            "app_kubernetes_io_name",
            "container",
        ]
        .iter()
        .find_map(|k| self.label(k))
    }

    /// The alert's kind, `alertname@service`: what co-occurrence is learned over.
    pub fn kind(&self) -> String {
        format!(
            "{}@{}",
            self.label("alertname").unwrap_or(""),
            self.service().unwrap_or("")
        )
    }

    /// Checks the alert against `limits`, and fills in a missing fingerprint.
    pub fn validate(&mut self, limits: &Limits) -> Result<(), AlertError> {
        if self.labels.len() > limits.max_labels {
            return Err(AlertError::TooManyLabels {
                fingerprint: self.fingerprint.clone(),
                count: self.labels.len(),
                max: limits.max_labels,
            });
        }
        let bytes: usize = self
            .labels
            .iter()
            .chain(self.annotations.iter())
            .map(|(k, v)| k.len().saturating_add(v.len()))
            .fold(0usize, usize::saturating_add);
        if bytes > limits.max_bytes {
            return Err(AlertError::TooLarge {
                fingerprint: self.fingerprint.clone(),
                bytes,
                max: limits.max_bytes,
            });
        }
        if self.labels.contains_key("") {
            return Err(AlertError::EmptyLabelName {
                fingerprint: self.fingerprint.clone(),
            });
        }
        if self.fingerprint.is_empty() {
            self.fingerprint = fingerprint(&self.labels);
        }
        Ok(())
    }

    /// Whether the alert is over at `now`: resolved, or firing past an `ends_at` nobody
    /// renewed.
    pub fn is_over(&self, now: Millis) -> bool {
        match self.status {
            AlertStatus::Resolved => true,
            AlertStatus::Firing => self.ends_at.is_some_and(|e| e > self.starts_at && e <= now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn fingerprint_is_prometheus_fnv() {
        // The empty label set hashes to the FNV-1a offset basis, as in Prometheus.
        assert_eq!(fingerprint(&BTreeMap::new()), "cbf29ce484222325");
        let a = fingerprint(&labels(&[("alertname", "X"), ("service", "a")]));
        assert_ne!(
            a,
            fingerprint(&labels(&[("alertname", "X"), ("service", "b")]))
        );
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn validation_fills_fingerprint_and_refuses_huge_alerts() {
        let mut a = Alert::firing(labels(&[("alertname", "X")]), 0);
        a.fingerprint.clear();
        a.validate(&Limits::default()).unwrap();
        assert_eq!(a.fingerprint, fingerprint(&a.labels));

        let many: BTreeMap<String, String> = (0..10_000)
            .map(|i| (format!("l{i}"), "v".to_string()))
            .collect();
        let mut big = Alert::firing(many, 0);
        let err = big.validate(&Limits::default()).unwrap_err();
        assert!(err.to_string().contains("10000 labels"), "{err}");
    }

    #[test]
    fn firing_alert_expires_at_its_ends_at() {
        let mut a = Alert::firing(labels(&[("alertname", "X")]), 1_000);
        a.ends_at = Some(5_000);
        assert!(!a.is_over(4_999));
        assert!(a.is_over(5_000));
        a.ends_at = Some(i64::MIN);
        assert!(!a.is_over(i64::MAX), "an end before the start is ignored");
    }
}
