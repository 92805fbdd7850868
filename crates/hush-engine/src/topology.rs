//! The service dependency graph from the topology file (`topology_file` in the config),
//! shared by correlation and RCA, and replaceable at run time.

use hush_correlate::{Topology, TopologyFile};
use parking_lot::RwLock;
use std::path::Path;
use std::sync::Arc;

/// A validated topology with the file it came from (kept to serve it back).
#[derive(Debug, Clone)]
pub struct LoadedTopology {
    pub file: TopologyFile,
    pub graph: Arc<Topology>,
}

impl LoadedTopology {
    /// Validates a parsed file.
    pub fn new(file: TopologyFile) -> anyhow::Result<Self> {
        let graph = Topology::new(&file).map_err(|e| anyhow::anyhow!("invalid topology: {e}"))?;
        Ok(Self {
            file,
            graph: Arc::new(graph),
        })
    }

    /// Parses YAML (JSON is YAML too), naming line and column on error.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let file: TopologyFile =
            serde_saphyr::from_str(text).map_err(|e| anyhow::anyhow!("invalid topology: {e}"))?;
        Self::new(file)
    }

    /// Reads and parses a topology file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("failed to read `{}`: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

/// The engine's current topology; empty until a file is configured or one is put through the API.
#[derive(Debug, Default)]
pub struct TopologyHolder(RwLock<Option<LoadedTopology>>);

impl TopologyHolder {
    pub fn new(initial: Option<LoadedTopology>) -> Self {
        Self(RwLock::new(initial))
    }

    pub fn get(&self) -> Option<LoadedTopology> {
        self.0.read().clone()
    }

    pub fn replace(&self, t: LoadedTopology) {
        *self.0.write() = Some(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_unknown_dependencies() {
        let ok = LoadedTopology::parse(
            "services:\n  - {name: web, type: web, dependsOn: [db]}\n  - {name: db, type: database}\n",
        )
        .unwrap();
        assert_eq!(ok.graph.len(), 2);
        let holder = TopologyHolder::default();
        assert!(holder.get().is_none());
        holder.replace(ok);
        assert_eq!(holder.get().unwrap().file.services.len(), 2);
        let bad = LoadedTopology::parse("services:\n  - {name: web, dependsOn: [nowhere]}\n");
        assert!(
            bad.is_err(),
            "a dependency on an unknown service must be refused"
        );
        let typo = LoadedTopology::parse("services:\n  - {name: web, depends: [db]}\n");
        assert!(typo.is_err(), "unknown keys must be refused");
    }
}
