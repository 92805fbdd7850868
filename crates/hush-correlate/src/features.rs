//! What grouping compares, extracted once per alert: its kind, service, label pairs weighted by
//! rarity, and the words of its summary.

use std::collections::HashMap;

use crate::alert::Alert;
use crate::topology::Topology;

/// Most words kept from an alert's text; summaries are one sentence.
const MAX_TOKENS: usize = 32;
/// Most distinct label pairs tracked for rarity before the rarest are forgotten.
const MAX_TRACKED_PAIRS: usize = 200_000;
/// Annotations whose words are compared.
const TEXT_ANNOTATIONS: [&str; 3] = ["summary", "description", "message"];

/// An alert's severity label, in the spellings seen in the wild.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Severity {
    None,
    Info,
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub(crate) fn parse(s: Option<&str>) -> Self {
        match s.map(str::to_ascii_lowercase).as_deref() {
            Some("critical" | "page" | "emergency" | "alert" | "fatal" | "p1") => Self::Critical,
            Some("error" | "major" | "high" | "p2") => Self::Error,
            Some("warning" | "warn" | "minor" | "medium" | "p3") => Self::Warning,
            Some("info" | "informational" | "low" | "notice" | "none" | "p4" | "p5") => Self::Info,
            _ => Self::None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::None => "unknown",
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Critical => "critical",
        }
    }
}

/// The comparable parts of one alert.
#[derive(Debug, Clone)]
pub(crate) struct Features {
    /// `alertname@service`: what co-occurrence is learned over.
    pub kind: String,
    /// Index of its service in the topology, when the topology knows it.
    pub service: Option<usize>,
    /// Its team: the `team` label, or the topology's owner of its service.
    pub team: Option<String>,
    /// `name=value` pairs.
    pub pairs: Vec<String>,
    pub tokens: Vec<String>,
    pub severity: Severity,
}

impl Features {
    pub(crate) fn of(a: &Alert, topo: &Topology) -> Self {
        let service = a.service().and_then(|s| topo.index(s));
        let team = a.label("team").map(str::to_string).or_else(|| {
            service
                .map(|i| topo.team(i).to_string())
                .filter(|t| !t.is_empty())
        });
        let kind = a.kind();
        let pairs = a.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut tokens: Vec<String> = Vec::new();
        for key in TEXT_ANNOTATIONS {
            let Some(text) = a.annotations.get(key) else {
                continue;
            };
            for w in text.split(|c: char| !c.is_alphabetic()) {
                if w.len() >= 3 && tokens.len() < MAX_TOKENS {
                    let w = w.to_lowercase();
                    if !tokens.contains(&w) {
                        tokens.push(w);
                    }
                }
            }
        }
        Self {
            kind,
            service,
            team,
            pairs,
            tokens,
            severity: Severity::parse(a.label("severity")),
        }
    }
}

/// How common each label pair is across all alerts seen, so that pairs every alert carries
/// (`namespace=prod`) weigh nothing and rare ones (`instance=db-0`) weigh most: inverse
/// document frequency, as in text retrieval.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rarity {
    df: HashMap<String, u64>,
    total: u64,
}

impl Rarity {
    pub(crate) fn observe(&mut self, f: &Features) {
        self.total = self.total.saturating_add(1);
        for p in &f.pairs {
            if let Some(c) = self.df.get_mut(p) {
                *c = c.saturating_add(1);
            } else {
                self.df.insert(p.clone(), 1);
            }
        }
        if self.df.len() > MAX_TRACKED_PAIRS {
            // Forget pairs seen once: they are the unbounded ones (ids, timestamps).
            self.df.retain(|_, c| *c > 1);
        }
    }

    /// Weight in [0, 1]: 0 for a pair on every alert, 1 for one never seen.
    pub(crate) fn weight(&self, pair: &str) -> f32 {
        let n = self.total as f64 + 1.0;
        if n <= 1.0 {
            return 1.0;
        }
        let df = self.df.get(pair).copied().unwrap_or(0) as f64;
        ((n / (df + 1.0)).ln() / n.ln()).clamp(0.0, 1.0) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn common_pairs_weigh_nothing() {
        let mut r = Rarity::default();
        let topo = Topology::default();
        for i in 0..100 {
            let mut l = BTreeMap::new();
            l.insert("namespace".to_string(), "prod".to_string());
            l.insert("instance".to_string(), format!("pod-{i}"));
            r.observe(&Features::of(&Alert::firing(l, 0), &topo));
        }
        assert!(r.weight("namespace=prod") < 0.01);
        assert!(r.weight("instance=pod-3") > 0.8);
        assert_eq!(Severity::parse(Some("CRITICAL")), Severity::Critical);
    }
}
