//! Alerts in, incidents out: deduplication, flapping, grouping into incidents, user rules and
//! triage.
//!
//! [`Correlator`] takes one [`Alert`] at a time together with the current time and returns the
//! [`Change`]s it caused (an incident opened, grew, changed priority or resolved). Grouping
//! combines time proximity, the service [`Topology`], label and text similarity and
//! co-occurrence learned from past incidents ([`CoOccurrence`]); user [`Rules`] take precedence
//! and can be replayed over past alerts with [`preview`]. Operators' merges and splits
//! ([`Correlator::merge`], [`Correlator::split`]) move the correlator's own state and are learned
//! as verdicts on pairs of kinds. [`triage`] turns an incident into a
//! [`Priority`] with the reasons for it.
//!
//! This crate does not decode wire formats, store anything, notify anyone or serve HTTP: the
//! engine and the API feed it decoded alerts and persist and broadcast what it returns.
//!
//! **Invariant:** hush-correlate does no IO, no clock, no async; time is an argument.
//! **Invariant:** no input can make it panic; arithmetic on timestamps saturates and alert size
//! is bounded by [`Limits`].

mod alert;
mod correlator;
mod error;
mod features;
mod incident;
mod learn;
mod preview;
mod rules;
mod score;
mod topology;
mod triage;

pub use alert::{Alert, AlertStatus, Limits, Millis, fingerprint};
pub use correlator::{Config, Correlator, Outcome, Pause, Placement};
pub use error::{AlertError, OperatorError, RuleError, TopologyError};
pub use incident::{Change, Incident, IncidentId, IncidentState};
pub use learn::CoOccurrence;
pub use preview::{Preview, RulePreview, preview};
pub use rules::{GroupRule, PauseRule, Rules};
pub use topology::{Criticality, ServiceSpec, Topology, TopologyFile};
pub use triage::{Priority, Triage, triage};
