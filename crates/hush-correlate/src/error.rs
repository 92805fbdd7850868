//! Why an alert, a topology or a rule set was refused. Each variant names what was wrong so the
//! API can answer 4xx with it.

use crate::incident::IncidentId;

/// An alert the correlator refuses; nothing else is affected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    /// More labels than [`crate::Limits::max_labels`].
    #[error("alert `{fingerprint}` has {count} labels, more than the limit of {max}")]
    TooManyLabels {
        fingerprint: String,
        count: usize,
        max: usize,
    },
    /// Labels and annotations together larger than [`crate::Limits::max_bytes`].
    #[error(
        "alert `{fingerprint}` carries {bytes} bytes of labels and annotations, more than the limit of {max}"
    )]
    TooLarge {
        fingerprint: String,
        bytes: usize,
        max: usize,
    },
    /// A label with an empty name.
    #[error("alert `{fingerprint}` has a label with an empty name")]
    EmptyLabelName { fingerprint: String },
}

/// A topology file that cannot describe a dependency graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopologyError {
    /// Two services share a name.
    #[error("service `{0}` is listed twice in the topology")]
    DuplicateService(String),
    /// A `dependsOn` entry names no listed service.
    #[error("service `{service}` depends on `{missing}`, which the topology does not list")]
    UnknownDependency { service: String, missing: String },
    /// A criticality outside `critical`, `high`, `medium`, `low`.
    #[error(
        "service `{service}` has criticality `{value}`; expected critical, high, medium or low"
    )]
    BadCriticality { service: String, value: String },
    /// A service without a name.
    #[error("service number {0} of the topology has an empty name")]
    EmptyName(usize),
}

/// A user rule that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// Two rules share a name, so previews and incidents could not say which one acted.
    #[error("rule `{0}` is defined twice")]
    DuplicateRule(String),
    /// A window of zero or less.
    #[error("rule `{rule}` has window {window_ms} ms; it must be positive")]
    BadWindow { rule: String, window_ms: i64 },
    /// A rule without a name.
    #[error("rule number {0} has an empty name")]
    EmptyName(usize),
}

/// An operator's merge or split the correlator refuses; nothing is changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorError {
    /// No such incident is remembered (never was, or resolved and forgotten).
    #[error("incident {0} is not known to correlation")]
    UnknownIncident(IncidentId),
    /// An incident merged into itself.
    #[error("an incident cannot be merged into itself")]
    SameIncident,
    /// The incident is resolved (or merged away) and takes no more changes.
    #[error("incident {0} is resolved")]
    Resolved(IncidentId),
    /// A split naming no alert.
    #[error("nothing to split off: name at least one alert")]
    NothingToSplit,
    /// A split naming every alert of the incident (that is the incident itself).
    #[error("cannot split off every alert of incident {0}: at least one must stay")]
    SplitsAll(IncidentId),
    /// A split naming an alert that is not in the incident.
    #[error("alert `{fingerprint}` is not in incident {incident}")]
    UnknownAlert {
        fingerprint: String,
        incident: IncidentId,
    },
}
