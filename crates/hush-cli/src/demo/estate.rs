//! The simulator's estate as the ranker sees it: its topology as the service graph and its
//! changes as suspects.

use hush_rca::{ChangeEvent, NodeKind, Provenance, ServiceGraph};

/// The simulator's topology as a ranker graph (edges caller → callee, from configuration).
pub fn graph(estate: &hush_sim::Estate) -> ServiceGraph {
    let mut g = ServiceGraph::new();
    for s in &estate.services {
        g.add_service(&s.name, NodeKind::Service);
    }
    for s in &estate.services {
        for to in s
            .depends_on
            .iter()
            .filter_map(|d| estate.services.get(d.to))
        {
            g.add_call(&s.name, &to.name, Provenance::Config);
        }
    }
    g
}

/// A simulator change as a ranker suspect.
pub fn change_event(c: &hush_sim::Change) -> ChangeEvent {
    let kind = serde_json::to_value(c.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "change".into());
    ChangeEvent {
        service: c.service.clone(),
        kind,
        description: match &c.version {
            Some(v) => format!("{} {v}: {}", c.service, c.description),
            None => format!("{}: {}", c.service, c.description),
        },
        author: Some(c.author.clone()),
        at: c.time_ms / 1000,
    }
}
