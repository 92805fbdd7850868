//! The service dependency graph: services as nodes, caller→callee calls as edges, each edge
//! carrying the set of sources that reported it.

use std::collections::HashMap;

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::Serialize;

/// Where an edge was learnt. An edge seen by several sources keeps all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Declared in the topology file.
    Config,
    /// Seen as parent/child spans across services in traces.
    Traces,
    /// Inferred from metric labels (for example `client`/`server` label pairs).
    Labels,
}

impl Provenance {
    const ALL: [Provenance; 3] = [Provenance::Config, Provenance::Traces, Provenance::Labels];

    fn bit(self) -> u8 {
        match self {
            Provenance::Config => 1,
            Provenance::Traces => 2,
            Provenance::Labels => 4,
        }
    }
}

/// Whether a node reports its own telemetry or is only seen from its callers' side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// Instrumented: emits its own metrics, logs or spans.
    #[default]
    Service,
    /// Inferred from client-side spans (an external endpoint, a load balancer, a remote call):
    /// its series describe the caller's view of the call, so it mirrors whatever sits behind it.
    Inferred,
}

/// One node of the graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceNode {
    /// Service name, unique in the graph.
    pub name: String,
    /// Instrumented or inferred.
    pub kind: NodeKind,
}

/// One caller→callee edge with its provenance set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallEdge {
    bits: u8,
}

impl CallEdge {
    /// An edge reported by `source`.
    pub fn from_source(source: Provenance) -> Self {
        Self { bits: source.bit() }
    }

    /// Whether `source` reported this edge.
    pub fn has(&self, source: Provenance) -> bool {
        self.bits & source.bit() != 0
    }

    /// All sources that reported this edge, in a fixed order.
    pub fn provenance(&self) -> Vec<Provenance> {
        Provenance::ALL
            .into_iter()
            .filter(|p| self.has(*p))
            .collect()
    }
}

/// A directed service graph; edges point from caller to callee.
#[derive(Debug, Clone, Default)]
pub struct ServiceGraph {
    graph: DiGraph<ServiceNode, CallEdge>,
    index: HashMap<String, NodeIndex>,
}

impl ServiceGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a service, or returns the existing one. A node once known as instrumented stays so:
    /// an inferred sighting never downgrades it.
    pub fn add_service(&mut self, name: &str, kind: NodeKind) -> NodeIndex {
        if let Some(&ix) = self.index.get(name) {
            if kind == NodeKind::Service {
                self.graph[ix].kind = NodeKind::Service;
            }
            return ix;
        }
        let ix = self.graph.add_node(ServiceNode {
            name: name.to_owned(),
            kind,
        });
        self.index.insert(name.to_owned(), ix);
        ix
    }

    /// Records a call from `caller` to `callee` seen by `source`, creating unknown services as
    /// instrumented. Self-calls are ignored: they carry no information about propagation.
    pub fn add_call(&mut self, caller: &str, callee: &str, source: Provenance) {
        // Existing nodes keep their kind: an edge says nothing about instrumentation.
        let a = self.ensure(caller);
        let b = self.ensure(callee);
        if a == b {
            return;
        }
        match self.graph.find_edge(a, b) {
            Some(e) => self.graph[e].bits |= source.bit(),
            None => {
                self.graph.add_edge(a, b, CallEdge::from_source(source));
            }
        }
    }

    fn ensure(&mut self, name: &str) -> NodeIndex {
        match self.index.get(name) {
            Some(&ix) => ix,
            None => self.add_service(name, NodeKind::Service),
        }
    }

    /// Merges another graph into this one (for example traces into the configured topology).
    pub fn merge(&mut self, other: &ServiceGraph) {
        for n in other.graph.node_weights() {
            self.add_service(&n.name, n.kind);
        }
        for e in other.graph.edge_references() {
            let (a, b) = (&other.graph[e.source()].name, &other.graph[e.target()].name);
            for p in e.weight().provenance() {
                self.add_call(a, b, p);
            }
        }
    }

    /// Number of services.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// Whether the graph has no services.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// Looks a service up by name.
    pub fn node(&self, name: &str) -> Option<&ServiceNode> {
        self.index.get(name).map(|&ix| &self.graph[ix])
    }

    /// All services in insertion order.
    pub fn services(&self) -> impl Iterator<Item = &ServiceNode> {
        self.graph.node_weights()
    }

    /// All edges as (caller, callee, edge).
    pub fn calls(&self) -> impl Iterator<Item = (&str, &str, CallEdge)> {
        self.graph.edge_references().map(|e| {
            (
                self.graph[e.source()].name.as_str(),
                self.graph[e.target()].name.as_str(),
                *e.weight(),
            )
        })
    }

    /// The services `name` calls.
    pub fn callees(&self, name: &str) -> Vec<&str> {
        self.neighbours(name, Direction::Outgoing)
    }

    /// The services that call `name`.
    pub fn callers(&self, name: &str) -> Vec<&str> {
        self.neighbours(name, Direction::Incoming)
    }

    fn neighbours(&self, name: &str, dir: Direction) -> Vec<&str> {
        let Some(&ix) = self.index.get(name) else {
            return Vec::new();
        };
        let mut out: Vec<&str> = self
            .graph
            .neighbors_directed(ix, dir)
            .map(|n| self.graph[n].name.as_str())
            .collect();
        out.sort_unstable();
        out
    }

    /// Internal index of a service, for the rankers.
    pub(crate) fn index_of(&self, name: &str) -> Option<NodeIndex> {
        self.index.get(name).copied()
    }

    /// The underlying petgraph, for the rankers.
    pub(crate) fn inner(&self) -> &DiGraph<ServiceNode, CallEdge> {
        &self.graph
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_merge_provenance_and_ignore_self_calls() {
        let mut g = ServiceGraph::new();
        g.add_call("web", "api", Provenance::Config);
        g.add_call("web", "api", Provenance::Traces);
        g.add_call("api", "api", Provenance::Traces);
        let calls: Vec<_> = g.calls().collect();
        assert_eq!(calls.len(), 1);
        assert_eq!(
            calls[0].2.provenance(),
            vec![Provenance::Config, Provenance::Traces]
        );
        assert_eq!(g.callees("web"), vec!["api"]);
        assert_eq!(g.callers("api"), vec!["web"]);
    }

    #[test]
    fn inferred_nodes_upgrade_but_never_downgrade() {
        let mut g = ServiceGraph::new();
        g.add_service("db", NodeKind::Inferred);
        g.add_call("api", "db", Provenance::Traces);
        assert_eq!(g.node("db").map(|n| n.kind), Some(NodeKind::Inferred));
        g.add_service("db", NodeKind::Service);
        g.add_service("db", NodeKind::Inferred);
        assert_eq!(g.node("db").map(|n| n.kind), Some(NodeKind::Service));
    }

    #[test]
    fn merge_keeps_both_sources() {
        let mut a = ServiceGraph::new();
        a.add_call("web", "api", Provenance::Config);
        let mut b = ServiceGraph::new();
        b.add_call("web", "api", Provenance::Labels);
        b.add_call("api", "db", Provenance::Traces);
        a.merge(&b);
        assert_eq!(a.len(), 3);
        let web_api = a.calls().find(|c| c.1 == "api").map(|c| c.2);
        assert_eq!(
            web_api.map(|e| e.provenance()),
            Some(vec![Provenance::Config, Provenance::Labels])
        );
    }
}
