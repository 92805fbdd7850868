//! Live correlation: alerts from the API go through one `hush_correlate::Correlator` (the same
//! engine code as `hush correlate`'s replay, here with wall-clock time) on one task fed by a
//! bounded channel; alerts, incidents, membership and every state change are written to the
//! SQL store (`Engine::db`) before the sender is answered, and broadcast for the live stream.
//!
//! One task owns the correlator and is the only writer of incidents, so an operator's
//! acknowledgement and the engine's growth of the same incident cannot overwrite each other:
//! operator changes are sent to the task as commands too, merges and splits included: they move
//! the correlator's own state, so correlation follows an operator's grouping from then on.
//!
//! At start the task rebuilds the correlator from the database: the alerts of every incident
//! not yet resolved are replayed in the order they arrived, each into the stored incident it
//! belongs to, so a restart keeps open incidents as they are (operators' merges and splits
//! included) and keeps growing them. What the correlator learned (co-occurrence, operators'
//! verdicts) is saved in `data_dir/correlation.json` and read back.

mod live;
mod regroup;
mod reload;

use hush_correlate::Alert;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc, oneshot};
use uuid::Uuid;

use crate::config::PromDuration;

pub(crate) use live::{run, serve};

/// `incidents:` in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncidentsConfig {
    /// An incident resolves this long after its last alert resolved.
    pub grace_period: PromDuration,
    /// Episodes of one alert within `flap_window` that make it flapping.
    pub flap_count: usize,
    pub flap_window: PromDuration,
    /// Holding incidents of transient alerts (`docs/correlation.md`, "Pausing transient
    /// alerts").
    pub pause: PauseConfig,
    pub notifications: crate::notify::NotifyConfig,
}

/// `incidents.pause:` in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PauseConfig {
    /// Hold alerts whose learned history says they stop by themselves.
    pub enabled: bool,
    /// Longest hold; a kind that needs more is not transient.
    pub max_window: PromDuration,
    /// Share of a kind's recent activities that must have ended within its hold.
    pub quantile: f32,
    /// Activities of a kind needed before its history is trusted.
    pub min_history: usize,
    /// User decisions, first match wins, whether or not `enabled`.
    pub rules: Vec<PauseRuleConfig>,
}

/// One entry of `incidents.pause.rules`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PauseRuleConfig {
    /// Label equalities an alert must satisfy; an empty value matches an absent label.
    #[serde(default)]
    pub matchers: std::collections::BTreeMap<String, String>,
    /// Hold (true) or never hold (false).
    pub pause: bool,
    /// How long to hold; absent: `max_window`.
    #[serde(default)]
    pub window: Option<PromDuration>,
}

impl Default for PauseConfig {
    fn default() -> Self {
        let d = hush_correlate::Pause::default();
        Self {
            enabled: d.enabled,
            max_window: PromDuration(std::time::Duration::from_millis(d.max_window_ms as u64)),
            quantile: d.quantile,
            min_history: d.min_history,
            rules: Vec::new(),
        }
    }
}

impl Default for IncidentsConfig {
    fn default() -> Self {
        let d = hush_correlate::Config::default();
        Self {
            grace_period: PromDuration(std::time::Duration::from_millis(d.grace_ms as u64)),
            flap_count: d.flap_count,
            flap_window: PromDuration(std::time::Duration::from_millis(d.flap_window_ms as u64)),
            pause: PauseConfig::default(),
            notifications: Default::default(),
        }
    }
}

impl IncidentsConfig {
    pub(crate) fn correlator_config(&self) -> hush_correlate::Config {
        let ms = |d: PromDuration| i64::try_from(d.0.as_millis()).unwrap_or(i64::MAX);
        hush_correlate::Config {
            grace_ms: ms(self.grace_period),
            flap_count: self.flap_count.max(2),
            flap_window_ms: ms(self.flap_window),
            pause: hush_correlate::Pause {
                enabled: self.pause.enabled,
                max_window_ms: ms(self.pause.max_window).max(1),
                quantile: self.pause.quantile.clamp(0.0, 1.0),
                min_history: self.pause.min_history.max(1),
                ..hush_correlate::Pause::default()
            },
            rules: hush_correlate::Rules {
                pause: self
                    .pause
                    .rules
                    .iter()
                    .map(|r| hush_correlate::PauseRule {
                        matchers: r.matchers.clone(),
                        pause: r.pause,
                        window_ms: r.window.map(|w| ms(w).max(1)),
                    })
                    .collect(),
                ..hush_correlate::Rules::default()
            },
            ..hush_correlate::Config::default()
        }
    }
}

/// Why a request to the incident task failed.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    /// The input is wrong; nothing was changed.
    #[error("{0}")]
    Invalid(String),
    #[error("incident `{0}` not found")]
    NotFound(Uuid),
    /// The incident's state does not allow the change (resolved, merged away); nothing was
    /// changed.
    #[error("{0}")]
    Conflict(String),
    /// The task is stopping or gone.
    #[error("incident processing is not running")]
    Unavailable,
    /// Cluster mode: no node leads incident processing now (an election is under way).
    #[error(
        "no cluster node leads incident processing now; a leader is elected within cluster.lease"
    )]
    NoLeader,
    /// The database failed.
    #[error("{0}")]
    Internal(String),
}

/// What became of one accepted alert.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Accepted {
    pub fingerprint: String,
    /// The incident it belongs to, once that incident is open.
    pub incident: Option<Uuid>,
    /// A re-send of an episode already seen.
    pub duplicate: bool,
    pub flapping: bool,
}

/// An operator's change to an incident (`PATCH /api/v1/incidents/{id}`).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    /// `acknowledged` or `resolved` (or `open` to take an acknowledgement back).
    pub state: Option<String>,
    /// Who is on it; an empty string clears it.
    pub assignee: Option<String>,
    /// A note for the timeline.
    pub note: Option<String>,
}

/// `POST /api/v1/incidents/{id}/merge`: this incident's alerts move into `into`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    /// The incident that stays.
    pub into: Uuid,
}

/// `POST /api/v1/incidents/{id}/split`: these alerts (fingerprints) leave the incident and form
/// a new one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Split {
    pub alerts: Vec<String>,
}

/// What a merge or split left: the incident operated on and the other one (the merge's
/// target, the split's new incident).
#[derive(Debug, Clone)]
pub struct Regrouped {
    pub incident: hush_sql::Incident,
    pub other: hush_sql::Incident,
}

/// Every [`IncidentEvent::kind`], so an event read back from the wire gets its static name.
pub const EVENT_KINDS: [&str; 11] = [
    "opened",
    "grew",
    "reprioritised",
    "flapping",
    "resolved",
    "reopened",
    "acknowledged",
    "assigned",
    "note",
    "merged",
    "split",
];

/// A change the live stream reports (`GET /api/v1/incidents/stream`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct IncidentEvent {
    /// `opened`, `grew`, `reprioritised`, `flapping`, `resolved`, `reopened`, `acknowledged`,
    /// `assigned`, `note`, `merged` (this incident was merged into another, which grew),
    /// `split` (alerts left this incident for a new one, which opened).
    pub kind: &'static str,
    pub incident: Uuid,
    pub state: String,
    pub priority: String,
    pub title: String,
    pub alerts: usize,
    pub services: Vec<String>,
    pub teams: Vec<String>,
    pub at: i64,
}

pub(crate) enum Command {
    Alerts {
        alerts: Vec<Alert>,
        source: &'static str,
        reply: oneshot::Sender<Result<Vec<Accepted>, IncidentError>>,
    },
    Patch {
        id: Uuid,
        patch: Patch,
        actor: String,
        reply: oneshot::Sender<Result<hush_sql::Incident, IncidentError>>,
    },
    Merge {
        id: Uuid,
        into: Uuid,
        actor: String,
        reply: oneshot::Sender<Result<Regrouped, IncidentError>>,
    },
    Split {
        id: Uuid,
        alerts: Vec<String>,
        actor: String,
        reply: oneshot::Sender<Result<Regrouped, IncidentError>>,
    },
}

/// The handle the API talks to; the task behind it is started by `Engine::start`.
pub struct Incidents {
    /// Replaced at each leadership term in cluster mode; closed between terms, so a command
    /// sent then fails at once instead of waiting for a task that is not running.
    tx: parking_lot::Mutex<mpsc::Sender<Command>>,
    rx: parking_lot::Mutex<Option<mpsc::Receiver<Command>>>,
    events: broadcast::Sender<IncidentEvent>,
    /// Cluster mode: every node's view of the leader's events, relayed over NATS.
    live: broadcast::Sender<IncidentEvent>,
    relayed: std::sync::atomic::AtomicBool,
}

/// Commands waiting for the task; senders wait (backpressure) when it is full.
const QUEUE: usize = 1024;

impl Default for Incidents {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (events, _) = broadcast::channel(4096);
        let (live, _) = broadcast::channel(4096);
        Self {
            tx: parking_lot::Mutex::new(tx),
            rx: parking_lot::Mutex::new(Some(rx)),
            events,
            live,
            relayed: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl Incidents {
    /// Correlates and stores `alerts` from `source`; answers once they are stored.
    pub async fn submit(
        &self,
        alerts: Vec<Alert>,
        source: &'static str,
    ) -> Result<Vec<Accepted>, IncidentError> {
        let (reply, rx) = oneshot::channel();
        let tx = self.tx.lock().clone();
        tx.send(Command::Alerts {
            alerts,
            source,
            reply,
        })
        .await
        .map_err(|_| IncidentError::Unavailable)?;
        rx.await.map_err(|_| IncidentError::Unavailable)?
    }

    /// Applies an operator's change through the task.
    pub async fn patch(
        &self,
        id: Uuid,
        patch: Patch,
        actor: String,
    ) -> Result<hush_sql::Incident, IncidentError> {
        let (reply, rx) = oneshot::channel();
        let tx = self.tx.lock().clone();
        tx.send(Command::Patch {
            id,
            patch,
            actor,
            reply,
        })
        .await
        .map_err(|_| IncidentError::Unavailable)?;
        rx.await.map_err(|_| IncidentError::Unavailable)?
    }

    /// Merges incident `id` into `into` through the task: `id`'s alerts move to `into`, and `id`
    /// resolves, marked `merged_into`.
    pub async fn merge(
        &self,
        id: Uuid,
        into: Uuid,
        actor: String,
    ) -> Result<Regrouped, IncidentError> {
        let (reply, rx) = oneshot::channel();
        let tx = self.tx.lock().clone();
        tx.send(Command::Merge {
            id,
            into,
            actor,
            reply,
        })
        .await
        .map_err(|_| IncidentError::Unavailable)?;
        rx.await.map_err(|_| IncidentError::Unavailable)?
    }

    /// Splits the alerts `alerts` (fingerprints) off incident `id` into a new incident through
    /// the task.
    pub async fn split(
        &self,
        id: Uuid,
        alerts: Vec<String>,
        actor: String,
    ) -> Result<Regrouped, IncidentError> {
        let (reply, rx) = oneshot::channel();
        let tx = self.tx.lock().clone();
        tx.send(Command::Split {
            id,
            alerts,
            actor,
            reply,
        })
        .await
        .map_err(|_| IncidentError::Unavailable)?;
        rx.await.map_err(|_| IncidentError::Unavailable)?
    }

    /// Changes this node's incident task makes from now on (what notifications act on).
    pub fn subscribe(&self) -> broadcast::Receiver<IncidentEvent> {
        self.events.subscribe()
    }

    /// Changes from now on wherever they are made: this node's own in embedded mode; in
    /// cluster mode the leader's, relayed to every node (the live stream of the API).
    pub fn subscribe_live(&self) -> broadcast::Receiver<IncidentEvent> {
        if self.relayed.load(std::sync::atomic::Ordering::Acquire) {
            self.live.subscribe()
        } else {
            self.events.subscribe()
        }
    }

    /// Cluster mode: from now on the live stream reads the relay.
    pub(crate) fn relay_to(&self) -> &broadcast::Sender<IncidentEvent> {
        self.relayed
            .store(true, std::sync::atomic::Ordering::Release);
        &self.live
    }

    pub(crate) fn take_receiver(&self) -> Option<mpsc::Receiver<Command>> {
        self.rx.lock().take()
    }

    /// A fresh queue for a leadership term; commands sent from now on go to its receiver.
    pub(crate) fn open_term(&self) -> mpsc::Receiver<Command> {
        let (tx, rx) = mpsc::channel(QUEUE);
        *self.tx.lock() = tx;
        rx
    }

    pub(crate) fn events(&self) -> &broadcast::Sender<IncidentEvent> {
        &self.events
    }
}

/// Ends a queue: later sends fail, and what is still queued is answered `NoLeader`, so no
/// sender waits for a task that no longer runs.
pub(crate) fn close_queue(rx: &mut mpsc::Receiver<Command>) {
    rx.close();
    while let Ok(c) = rx.try_recv() {
        match c {
            Command::Alerts { reply, .. } => {
                let _ = reply.send(Err(IncidentError::NoLeader));
            }
            Command::Patch { reply, .. } => {
                let _ = reply.send(Err(IncidentError::NoLeader));
            }
            Command::Merge { reply, .. } | Command::Split { reply, .. } => {
                let _ = reply.send(Err(IncidentError::NoLeader));
            }
        }
    }
}
