//! Triage: a priority from P1 to P5 and the reasons for it, from the worst severity, the blast
//! radius (services and instances affected, entry points upstream) and service criticality.
//!
//! Points, added up: severity critical 3, error 2.5, warning 2, info 0.5; criticality critical
//! 3, high 2, medium 1; blast radius 2 from five services or ten instances, 1 from two services
//! or three instances; user impact 2 when an entry point is itself affected, 1 when one sits
//! upstream. P1 from 8 points, P2 from 6, P3 from 4, P4 from 2. An incident of nothing but
//! flapping alerts drops one level: it is real, but nobody needs waking for it.

use std::fmt;

use crate::features::Severity;
use crate::incident::Incident;
use crate::topology::{Criticality, Topology};

/// Incident priority; P1 is the most urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
    P5,
}

impl Priority {
    /// `P1` … `P5`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::P1 => "P1",
            Self::P2 => "P2",
            Self::P3 => "P3",
            Self::P4 => "P4",
            Self::P5 => "P5",
        }
    }

    fn lower(self) -> Self {
        match self {
            Self::P1 => Self::P2,
            Self::P2 => Self::P3,
            Self::P3 => Self::P4,
            Self::P4 | Self::P5 => Self::P5,
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A priority and the reasons for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Triage {
    pub priority: Priority,
    /// Total points behind the priority.
    pub score: f32,
    pub reasons: Vec<String>,
}

/// Triage of `inc` against `topo`.
pub fn triage(inc: &Incident, topo: &Topology) -> Triage {
    let mut score = 0.0f32;
    let mut reasons = Vec::new();
    let sev = match inc.severity {
        Severity::Critical => 3.0,
        Severity::Error => 2.5,
        Severity::Warning => 2.0,
        Severity::Info => 0.5,
        Severity::None => 1.0,
    };
    score += sev;
    reasons.push(format!("worst severity {}", inc.severity.as_str()));

    let worst = inc
        .service_idx
        .iter()
        .map(|&i| (topo.criticality(i), i))
        .max();
    if let Some((c, i)) = worst {
        score += match c {
            Criticality::Critical => 3.0,
            Criticality::High => 2.0,
            Criticality::Medium => 1.0,
            Criticality::Low => 0.0,
        };
        reasons.push(format!("{} is of {} criticality", topo.name(i), c.as_str()));
    }

    let (ns, ni) = (inc.services.len(), inc.instances.len());
    let blast = if ns >= 5 || ni >= 10 {
        2.0
    } else if ns >= 2 || ni >= 3 {
        1.0
    } else {
        0.0
    };
    score += blast;
    reasons.push(format!("{ns} services and {ni} instances affected"));

    let mut entries: Vec<usize> = inc
        .service_idx
        .iter()
        .flat_map(|&i| topo.entries_above(i).iter().copied())
        .collect();
    entries.sort_unstable();
    entries.dedup();
    if !entries.is_empty() {
        let hit = inc.service_idx.iter().any(|&i| topo.is_entry(i));
        score += if hit { 2.0 } else { 1.0 };
        let names: Vec<&str> = entries.iter().map(|&i| topo.name(i)).collect();
        reasons.push(if hit {
            format!("entry point affected: {}", names.join(", "))
        } else {
            format!("upstream of entry points {}", names.join(", "))
        });
    }

    let mut priority = match score {
        s if s >= 8.0 => Priority::P1,
        s if s >= 6.0 => Priority::P2,
        s if s >= 4.0 => Priority::P3,
        s if s >= 2.0 => Priority::P4,
        _ => Priority::P5,
    };
    if !inc.flapping.is_empty() && inc.flapping.len() == inc.fingerprints.len() {
        priority = priority.lower();
        reasons.push("only flapping alerts: lowered one level".to_string());
    }
    // Most weighty reasons first: they are what a pager message has room for.
    Triage {
        priority,
        score,
        reasons,
    }
}
