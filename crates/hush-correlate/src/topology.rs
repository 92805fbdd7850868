//! The service dependency graph (`topology.yaml`, shared with RCA) and what correlation and
//! triage ask of it: how close two services are, and which entry points sit upstream of a
//! service.

use std::collections::{HashMap, VecDeque};

use crate::error::TopologyError;

/// The topology file as written: `services: [{name, type, team, criticality, dependsOn}]`.
/// The caller parses YAML (or JSON) into it; [`Topology::new`] validates it.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TopologyFile {
    pub services: Vec<ServiceSpec>,
}

/// One service of the topology file.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceSpec {
    pub name: String,
    /// `gateway`, `web`, `api`, `worker`, `database`, …; gateways and web front ends are the
    /// entry points users reach.
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default)]
    pub team: String,
    /// `critical`, `high`, `medium` or `low`; `medium` when absent.
    #[serde(default)]
    pub criticality: Option<String>,
    /// Services this one calls.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// How much an outage of a service matters to the business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Criticality {
    Low,
    Medium,
    High,
    Critical,
}

impl Criticality {
    /// The word used in the topology file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// Kinds that receive user traffic directly.
const ENTRY_KINDS: [&str; 5] = ["gateway", "web", "frontend", "ingress", "edge"];
/// Proximity by number of dependency hops (0 = the same service).
const HOP_PROXIMITY: [f32; 4] = [1.0, 0.9, 0.7, 0.5];
/// Proximity of two callers of the same dependency.
const SIBLING_PROXIMITY: f32 = 0.35;
/// A dependency with more callers than this (a shared database) does not make its callers
/// siblings: everything would be related to everything.
const HUB_CALLERS: usize = 5;

/// A validated dependency graph with precomputed neighbourhoods.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    names: Vec<String>,
    index: HashMap<String, usize>,
    teams: Vec<String>,
    criticality: Vec<Criticality>,
    entry: Vec<bool>,
    /// Per service: services within reach and their proximity, itself included.
    near: Vec<Vec<(usize, f32)>>,
    /// Per service: the entry points that depend on it, directly or not.
    entries_above: Vec<Vec<usize>>,
}

impl Topology {
    /// Validates `file`: unique names, known dependencies, known criticalities.
    pub fn new(file: &TopologyFile) -> Result<Self, TopologyError> {
        let mut index = HashMap::new();
        for (i, s) in file.services.iter().enumerate() {
            if s.name.is_empty() {
                return Err(TopologyError::EmptyName(i));
            }
            if index.insert(s.name.clone(), i).is_some() {
                return Err(TopologyError::DuplicateService(s.name.clone()));
            }
        }
        let n = file.services.len();
        let mut deps = vec![Vec::new(); n];
        let mut callers = vec![Vec::new(); n];
        let mut criticality = Vec::with_capacity(n);
        for (i, s) in file.services.iter().enumerate() {
            for d in &s.depends_on {
                let j = *index
                    .get(d)
                    .ok_or_else(|| TopologyError::UnknownDependency {
                        service: s.name.clone(),
                        missing: d.clone(),
                    })?;
                if i != j && !deps[i].contains(&j) {
                    deps[i].push(j);
                    callers[j].push(i);
                }
            }
            criticality.push(match s.criticality.as_deref().unwrap_or("medium") {
                "critical" => Criticality::Critical,
                "high" => Criticality::High,
                "medium" => Criticality::Medium,
                "low" => Criticality::Low,
                other => {
                    return Err(TopologyError::BadCriticality {
                        service: s.name.clone(),
                        value: other.to_string(),
                    });
                }
            });
        }
        // Entry points by kind when the file says; otherwise the services nobody calls.
        let typed: Vec<bool> = file
            .services
            .iter()
            .map(|s| ENTRY_KINDS.contains(&s.kind.to_ascii_lowercase().as_str()))
            .collect();
        let entry = if typed.iter().any(|&t| t) {
            typed
        } else {
            callers.iter().map(Vec::is_empty).collect()
        };
        let near = (0..n).map(|i| neighbourhood(i, &deps, &callers)).collect();
        let entries_above = (0..n)
            .map(|i| {
                reach(i, &callers, usize::MAX)
                    .into_iter()
                    .filter(|&(j, _)| entry[j])
                    .map(|(j, _)| j)
                    .collect()
            })
            .collect();
        Ok(Self {
            names: file.services.iter().map(|s| s.name.clone()).collect(),
            teams: file.services.iter().map(|s| s.team.clone()).collect(),
            index,
            criticality,
            entry,
            near,
            entries_above,
        })
    }

    /// Number of services.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the topology lists no service.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The index of service `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The name of service `i`.
    pub fn name(&self, i: usize) -> &str {
        self.names.get(i).map_or("", String::as_str)
    }

    /// The team owning service `i` (empty when unknown).
    pub fn team(&self, i: usize) -> &str {
        self.teams.get(i).map_or("", String::as_str)
    }

    /// The criticality of service `i`.
    pub fn criticality(&self, i: usize) -> Criticality {
        self.criticality
            .get(i)
            .copied()
            .unwrap_or(Criticality::Medium)
    }

    /// Whether service `i` receives user traffic directly.
    pub fn is_entry(&self, i: usize) -> bool {
        self.entry.get(i).copied().unwrap_or(false)
    }

    /// Services close to `i` in the dependency graph, with a proximity in (0, 1]: 1 for `i`
    /// itself, less for each hop up or down, [`SIBLING_PROXIMITY`] for callers of a shared
    /// dependency that is not a hub.
    pub fn near(&self, i: usize) -> &[(usize, f32)] {
        self.near.get(i).map_or(&[], Vec::as_slice)
    }

    /// The entry points that depend on service `i` (itself included if it is one).
    pub fn entries_above(&self, i: usize) -> &[usize] {
        self.entries_above.get(i).map_or(&[], Vec::as_slice)
    }
}

/// Breadth-first reach from `from` along `edges`, at most `depth` hops: (service, hops).
fn reach(from: usize, edges: &[Vec<usize>], depth: usize) -> Vec<(usize, usize)> {
    let mut seen = vec![false; edges.len()];
    let mut out = Vec::new();
    let mut q = VecDeque::from([(from, 0usize)]);
    seen[from] = true;
    while let Some((i, d)) = q.pop_front() {
        out.push((i, d));
        if d >= depth {
            continue;
        }
        for &j in &edges[i] {
            if !seen[j] {
                seen[j] = true;
                q.push_back((j, d + 1));
            }
        }
    }
    out
}

fn neighbourhood(i: usize, deps: &[Vec<usize>], callers: &[Vec<usize>]) -> Vec<(usize, f32)> {
    let mut best: HashMap<usize, f32> = HashMap::new();
    let mut put = |j: usize, p: f32| {
        let e = best.entry(j).or_insert(0.0);
        *e = e.max(p);
    };
    let max_hops = HOP_PROXIMITY.len() - 1;
    // Trouble travels up from a dependency to its callers, and a cause can show after its
    // symptoms: both directions count, but not zig-zags (those are siblings, below).
    for edges in [deps, callers] {
        for (j, d) in reach(i, edges, max_hops) {
            put(j, HOP_PROXIMITY[d]);
        }
    }
    for &d in &deps[i] {
        if callers[d].len() <= HUB_CALLERS {
            for &s in &callers[d] {
                put(s, SIBLING_PROXIMITY);
            }
        }
    }
    let mut v: Vec<(usize, f32)> = best.into_iter().collect();
    v.sort_by_key(|&(j, _)| j);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn shop() -> TopologyFile {
        let s = |name: &str, kind: &str, crit: &str, deps: &[&str]| ServiceSpec {
            name: name.into(),
            kind: kind.into(),
            team: format!("team-{name}"),
            criticality: Some(crit.into()),
            depends_on: deps.iter().map(|d| (*d).to_string()).collect(),
        };
        TopologyFile {
            services: vec![
                s("gateway", "gateway", "critical", &["frontend"]),
                s("frontend", "web", "critical", &["catalog", "cart"]),
                s("catalog", "api", "high", &["db"]),
                s("cart", "api", "high", &["cache"]),
                s("db", "database", "critical", &[]),
                s("cache", "cache", "high", &[]),
                s("batch", "batch", "low", &["db"]),
            ],
        }
    }

    #[test]
    fn proximity_falls_with_hops_both_ways() {
        let t = Topology::new(&shop()).unwrap();
        let p = |a: &str, b: &str| {
            let (a, b) = (t.index(a).unwrap(), t.index(b).unwrap());
            t.near(a).iter().find(|(j, _)| *j == b).map_or(0.0, |x| x.1)
        };
        assert_eq!(p("db", "db"), 1.0);
        assert_eq!(p("db", "catalog"), 0.9);
        assert_eq!(p("catalog", "db"), 0.9);
        assert_eq!(p("db", "gateway"), 0.5);
        assert_eq!(p("catalog", "batch"), SIBLING_PROXIMITY);
        assert_eq!(p("cache", "db"), 0.0);
    }

    #[test]
    fn entry_points_and_errors() {
        let t = Topology::new(&shop()).unwrap();
        let above: Vec<&str> = t
            .entries_above(t.index("db").unwrap())
            .iter()
            .map(|&i| t.name(i))
            .collect();
        assert_eq!(above.len(), 2);
        assert!(above.contains(&"gateway") && above.contains(&"frontend"));
        assert!(t.entries_above(t.index("batch").unwrap()).is_empty());

        let mut f = shop();
        f.services[0].depends_on.push("nowhere".into());
        assert_eq!(
            Topology::new(&f).unwrap_err().to_string(),
            "service `gateway` depends on `nowhere`, which the topology does not list"
        );
        let mut f = shop();
        f.services[1].criticality = Some("urgent".into());
        assert!(matches!(
            Topology::new(&f),
            Err(TopologyError::BadCriticality { .. })
        ));
    }
}
