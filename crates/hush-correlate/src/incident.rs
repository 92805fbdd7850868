//! Incidents and the changes the correlator reports about them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use crate::alert::Millis;
use crate::features::{Features, Severity};
use crate::triage::Priority;

/// Identifies an incident within one correlator; ids are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IncidentId(pub u64);

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "inc-{}", self.0)
    }
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentState {
    /// Formed, but holding fewer alerts than its rule's `open_after`: nobody is told yet.
    Pending,
    /// Open: notified, growing while related alerts arrive.
    Open,
    /// Every alert resolved and the grace period passed.
    Resolved,
}

/// What one call into the correlator changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An incident opened (the moment to notify).
    Opened {
        incident: IncidentId,
        priority: Priority,
    },
    /// A new alert joined an open incident.
    Grew {
        incident: IncidentId,
        fingerprint: String,
        alerts: usize,
    },
    /// The priority moved.
    Reprioritised {
        incident: IncidentId,
        from: Priority,
        to: Priority,
    },
    /// An alert was found flapping; its further episodes fold into its incident quietly.
    Flapping {
        incident: IncidentId,
        fingerprint: String,
    },
    /// Every alert resolved and the grace period passed.
    Resolved { incident: IncidentId, at: Millis },
    /// An alert of a recently resolved incident fired again: the incident is open again.
    Reopened { incident: IncidentId },
}

/// Most label pairs and words an incident remembers for similarity; past it, the earliest
/// alerts already describe the incident.
const MAX_PAIRS: usize = 1024;
const MAX_TOKENS: usize = 512;
const MAX_KINDS: usize = 256;

/// One incident: alerts grouped as one problem, with its triage.
#[derive(Debug, Clone)]
pub struct Incident {
    pub id: IncidentId,
    pub state: IncidentState,
    /// The rule that formed it, when one did (learned grouping then leaves it alone).
    pub rule: Option<String>,
    /// When its first alert arrived.
    pub started_at: Millis,
    /// When a new alert last joined.
    pub grew_at: Millis,
    pub resolved_at: Option<Millis>,
    /// Distinct alert episodes (fingerprint, startsAt) in it.
    pub alerts: usize,
    /// Distinct fingerprints in it.
    pub fingerprints: BTreeSet<String>,
    /// Services named by its alerts.
    pub services: BTreeSet<String>,
    /// Instances named by its alerts (`instance`, `pod`, `node`, `host` labels).
    pub instances: BTreeSet<String>,
    pub teams: BTreeSet<String>,
    /// Fingerprints currently flapping.
    pub flapping: BTreeSet<String>,
    pub priority: Priority,
    /// Why it has that priority, most important first.
    pub reasons: Vec<String>,
    pub(crate) severity: Severity,
    pub(crate) service_idx: Vec<usize>,
    pub(crate) kinds: Vec<u32>,
    pub(crate) pairs: HashMap<String, u32>,
    pub(crate) tokens: HashSet<String>,
    pub(crate) firing: HashSet<String>,
    /// When the last firing alert resolved.
    pub(crate) quiet_since: Option<Millis>,
    /// Paused: its alerts are of kinds that usually stop firing by themselves, so it stays
    /// pending (nobody is told) until then, and opens only if something still fires.
    pub hold_until: Option<Millis>,
    /// It has been open (announced) at some point.
    pub(crate) announced: bool,
}

impl Incident {
    pub(crate) fn new(id: IncidentId, now: Millis, rule: Option<String>) -> Self {
        Self {
            id,
            state: IncidentState::Pending,
            rule,
            started_at: now,
            grew_at: now,
            resolved_at: None,
            alerts: 0,
            fingerprints: BTreeSet::new(),
            services: BTreeSet::new(),
            instances: BTreeSet::new(),
            teams: BTreeSet::new(),
            flapping: BTreeSet::new(),
            priority: Priority::P5,
            reasons: Vec::new(),
            severity: Severity::None,
            service_idx: Vec::new(),
            kinds: Vec::new(),
            pairs: HashMap::new(),
            tokens: HashSet::new(),
            firing: HashSet::new(),
            quiet_since: None,
            hold_until: None,
            announced: false,
        }
    }

    /// Whether any of its alerts is firing.
    pub fn is_firing(&self) -> bool {
        !self.firing.is_empty()
    }

    /// The worst severity among its alerts, as the label spelled it.
    pub fn severity(&self) -> &'static str {
        self.severity.as_str()
    }

    /// Takes a new alert episode in.
    pub(crate) fn absorb(
        &mut self,
        fingerprint: &str,
        f: &Features,
        labels: &std::collections::BTreeMap<String, String>,
        kind: Option<u32>,
        service_name: Option<&str>,
        now: Millis,
    ) {
        self.alerts = self.alerts.saturating_add(1);
        // Only a new alert is growth; another episode of a known one (a flap) is not, so a
        // flapping alert does not keep an incident looking young.
        if self.fingerprints.insert(fingerprint.to_string()) {
            self.grew_at = self.grew_at.max(now);
        }
        self.firing.insert(fingerprint.to_string());
        self.quiet_since = None;
        self.severity = self.severity.max(f.severity);
        if let Some(s) = service_name {
            self.services.insert(s.to_string());
        }
        if let Some(i) = f.service
            && !self.service_idx.contains(&i)
        {
            self.service_idx.push(i);
        }
        for k in ["instance", "pod", "node", "host"] {
            if let Some(v) = labels.get(k).filter(|v| !v.is_empty()) {
                self.instances.insert(v.clone());
            }
        }
        if let Some(t) = &f.team {
            self.teams.insert(t.clone());
        }
        if let Some(k) = kind
            && !self.kinds.contains(&k)
            && self.kinds.len() < MAX_KINDS
        {
            self.kinds.push(k);
        }
        for p in &f.pairs {
            if let Some(c) = self.pairs.get_mut(p) {
                *c = c.saturating_add(1);
            } else if self.pairs.len() < MAX_PAIRS {
                self.pairs.insert(p.clone(), 1);
            }
        }
        for t in &f.tokens {
            if self.tokens.len() < MAX_TOKENS {
                self.tokens.insert(t.clone());
            }
        }
    }

    /// Takes in everything incident `other` holds (an operator's merge), leaving it empty.
    pub(crate) fn absorb_incident(&mut self, other: &mut Incident) {
        self.alerts = self.alerts.saturating_add(other.alerts);
        self.started_at = self.started_at.min(other.started_at);
        self.grew_at = self.grew_at.max(other.grew_at);
        self.severity = self.severity.max(other.severity);
        self.fingerprints.append(&mut other.fingerprints);
        self.services.append(&mut other.services);
        self.instances.append(&mut other.instances);
        self.teams.append(&mut other.teams);
        self.flapping.append(&mut other.flapping);
        for i in other.service_idx.drain(..) {
            if !self.service_idx.contains(&i) {
                self.service_idx.push(i);
            }
        }
        for k in other.kinds.drain(..) {
            if !self.kinds.contains(&k) && self.kinds.len() < MAX_KINDS {
                self.kinds.push(k);
            }
        }
        for (p, n) in other.pairs.drain() {
            if let Some(c) = self.pairs.get_mut(&p) {
                *c = c.saturating_add(n);
            } else if self.pairs.len() < MAX_PAIRS {
                self.pairs.insert(p, n);
            }
        }
        for t in other.tokens.drain() {
            if self.tokens.len() < MAX_TOKENS {
                self.tokens.insert(t);
            }
        }
        self.firing.extend(other.firing.drain());
        self.quiet_since = match (self.is_firing(), self.quiet_since, other.quiet_since) {
            (true, _, _) => None,
            (false, a, b) => a.max(b),
        };
        other.alerts = 0;
        other.services.clear();
        other.instances.clear();
        other.teams.clear();
        other.quiet_since = None;
    }
}
