//! Ground truth: what really happened in a run, against which detection, correlation and RCA
//! are scored. Serialised as `truth.json`.

use crate::fault::FaultKind;

/// Where the trouble started.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RootCause {
    pub service: String,
    /// The faulty pod, when only one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The node, for faults that act through a node (noisy neighbour).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The metric that moved first at the source.
    pub metric: String,
    /// The change that caused it, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
}

/// A service the fault reached, and when its signals first departed from the no-fault world.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Affected {
    pub service: String,
    pub since_ms: i64,
}

/// One true incident: one injected fault and everything it caused.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentTruth {
    pub id: String,
    pub kind: FaultKind,
    pub root_cause: RootCause,
    /// Fault start, epoch ms.
    pub start_ms: i64,
    /// Repair time, epoch ms; `None` when the fault outlasts the horizon.
    pub end_ms: Option<i64>,
    pub description: String,
    /// Services reached, in the order the fault reached them.
    pub affected: Vec<Affected>,
}

/// One alert episode (an alert is identified by fingerprint and `startsAt`) and its incident.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertTruth {
    pub fingerprint: String,
    /// As in the alert: RFC 3339.
    pub starts_at: String,
    pub starts_at_ms: i64,
    pub alertname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// `None`: noise that belongs to no incident.
    pub incident: Option<String>,
}

/// The truth of a run so far.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Truth {
    pub scenario: String,
    pub seed: u64,
    pub start_ms: i64,
    pub step_ms: i64,
    pub horizon_ms: i64,
    pub incidents: Vec<IncidentTruth>,
    pub alerts: Vec<AlertTruth>,
}

impl Truth {
    /// The incident an alert episode belongs to (`None` for noise or an unknown episode).
    pub fn incident_of(&self, fingerprint: &str, starts_at_ms: i64) -> Option<&str> {
        self.alerts
            .iter()
            .find(|a| a.fingerprint == fingerprint && a.starts_at_ms == starts_at_ms)
            .and_then(|a| a.incident.as_deref())
    }
}
