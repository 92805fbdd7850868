//! `cluster:` in the configuration file. Absent means embedded mode: one process, nothing else
//! to run.

use crate::duration::PromDuration;
use serde::Deserialize;
use std::time::Duration;

/// How this node joins a Hush cluster on NATS JetStream (see docs/cluster.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// NATS server URLs (`nats://host:port`); the client fails over between them.
    pub nats: Vec<String>,
    /// This node's name, unique in the cluster: `[A-Za-z0-9_-]`, at most 64 bytes.
    pub node_id: String,
    /// Shards series are spread over. Fixed for the life of a cluster: it is recorded on the
    /// stream, and a node configured differently refuses to start.
    #[serde(default = "default_shards")]
    pub shards: u32,
    /// How long a shard stays with a node that stops renewing its lease. The same on every node.
    #[serde(default = "default_lease")]
    pub lease: PromDuration,
    /// Prefix of the stream, subjects and buckets, so several clusters can share NATS.
    #[serde(default = "default_name")]
    pub name: String,
    /// Copies JetStream keeps of the stream and the lease buckets (1, 3 or 5 in a NATS cluster).
    #[serde(default = "default_replicas")]
    pub replicas: usize,
    /// How long the stream keeps samples. A node taking a shard over replays this much of the
    /// shard's history into its store; a shard left unconsumed longer than this loses samples.
    #[serde(default = "default_history")]
    pub history: PromDuration,
    /// Messages waiting for a shard's owner beyond which writes to that shard get 429.
    #[serde(default = "default_max_lag")]
    pub max_lag: u64,
    /// How long a write waits for JetStream's acknowledgements before answering 503.
    #[serde(default = "default_publish_timeout")]
    pub publish_timeout: PromDuration,
    /// How long a query waits for the owners of every shard before answering with what it has
    /// and a warning naming the missing shards.
    #[serde(default = "default_query_timeout")]
    pub query_timeout: PromDuration,
    /// Upper bound of the stream's size; when it is full, writes get 503 (nothing is dropped).
    #[serde(default)]
    pub max_stream_bytes: Option<u64>,
    /// How often an owner saves its shards' detector state to JetStream, so a node taking a
    /// shard over resumes the detectors instead of learning them again. A shard handed back
    /// (rebalancing, a stop) is saved at once; a crashed owner's is this old at most.
    #[serde(default = "default_checkpoint_interval")]
    pub checkpoint_interval: PromDuration,
}

fn default_shards() -> u32 {
    16
}
fn default_lease() -> PromDuration {
    PromDuration::from_secs(10)
}
fn default_name() -> String {
    "hush".into()
}
fn default_replicas() -> usize {
    1
}
fn default_history() -> PromDuration {
    PromDuration::from_secs(6 * 3600)
}
fn default_max_lag() -> u64 {
    10_000
}
fn default_publish_timeout() -> PromDuration {
    PromDuration::from_secs(5)
}

fn default_query_timeout() -> PromDuration {
    PromDuration::from_secs(5)
}

fn default_checkpoint_interval() -> PromDuration {
    PromDuration::from_secs(60)
}

/// Names NATS accepts in stream, consumer, bucket and key names alike.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl ClusterConfig {
    /// The checks that need more than one field or a range; messages name the key.
    pub fn check(&self) -> Result<(), String> {
        if self.nats.is_empty() {
            return Err("cluster.nats needs at least one server URL".into());
        }
        for u in &self.nats {
            u.parse::<async_nats::ServerAddr>()
                .map_err(|e| format!("cluster.nats: `{u}` is not a NATS URL: {e}"))?;
        }
        if !is_token(&self.node_id) {
            return Err(format!(
                "cluster.node_id `{}` must be 1-64 characters of A-Z, a-z, 0-9, `_` and `-`",
                self.node_id
            ));
        }
        if !is_token(&self.name) {
            return Err(format!(
                "cluster.name `{}` must be 1-64 characters of A-Z, a-z, 0-9, `_` and `-`",
                self.name
            ));
        }
        if !(1..=4096).contains(&self.shards) {
            return Err(format!(
                "cluster.shards must be in 1..=4096, got {}",
                self.shards
            ));
        }
        if self.lease.0 < Duration::from_secs(1) || self.lease.0 > Duration::from_secs(600) {
            return Err("cluster.lease must be between 1s and 10m".into());
        }
        if !matches!(self.replicas, 1..=5) {
            return Err(format!(
                "cluster.replicas must be in 1..=5, got {}",
                self.replicas
            ));
        }
        if self.history.0 < self.lease.0 {
            return Err("cluster.history must be at least cluster.lease".into());
        }
        if self.publish_timeout.0.is_zero() {
            return Err("cluster.publish_timeout must be positive".into());
        }
        if self.query_timeout.0.is_zero() {
            return Err("cluster.query_timeout must be positive".into());
        }
        if self.checkpoint_interval.0 < Duration::from_secs(1) {
            return Err("cluster.checkpoint_interval must be at least 1s".into());
        }
        Ok(())
    }

    /// The stream holding every shard's samples.
    pub fn stream_name(&self) -> String {
        format!("{}-samples", self.name)
    }

    /// The subject of one shard.
    pub fn subject(&self, shard: u32) -> String {
        format!("{}.samples.{shard}", self.name)
    }

    /// The durable consumer of one shard, shared by whichever node owns the shard.
    pub fn consumer_name(&self, shard: u32) -> String {
        format!("shard-{shard}")
    }

    pub fn leases_bucket(&self) -> String {
        format!("{}-shards", self.name)
    }

    pub fn nodes_bucket(&self) -> String {
        format!("{}-nodes", self.name)
    }

    /// The object store holding each shard's detector checkpoint.
    pub fn detectors_bucket(&self) -> String {
        format!("{}-detectors", self.name)
    }

    /// Where alerts are handed to the leader, which correlates them.
    pub fn alerts_subject(&self) -> String {
        format!("{}.alerts.submit", self.name)
    }

    /// Where operators' incident changes are handed to the leader, the incidents' only writer.
    pub fn patch_subject(&self) -> String {
        format!("{}.incidents.patch", self.name)
    }

    /// Where queries ask every node for the series of the shards it owns.
    pub fn query_subject(&self) -> String {
        format!("{}.query.select", self.name)
    }

    /// Where a node announces that it handed shards back or left, so others claim at once.
    pub fn released_subject(&self) -> String {
        format!("{}.shards.released", self.name)
    }

    /// Where the leader's incident events are relayed to every node's live stream.
    pub fn events_subject(&self) -> String {
        format!("{}.incidents.events", self.name)
    }

    /// Where merges and splits are handed to the leader.
    pub fn regroup_subject(&self) -> String {
        format!("{}.incidents.regroup", self.name)
    }

    /// How often leases are renewed and shards rebalanced: three chances per lease.
    pub fn renew_interval(&self) -> Duration {
        self.lease.0 / 3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(yaml: &str) -> Result<ClusterConfig, String> {
        let c: ClusterConfig = serde_saphyr::from_str(yaml).map_err(|e| e.to_string())?;
        c.check().map(|()| c)
    }

    #[test]
    fn defaults_and_names() {
        let c = cfg("nats: ['nats://127.0.0.1:4222']\nnode_id: a\n").unwrap();
        assert_eq!(c.shards, 16);
        assert_eq!(c.lease.0, Duration::from_secs(10));
        assert_eq!(c.stream_name(), "hush-samples");
        assert_eq!(c.subject(3), "hush.samples.3");
        assert_eq!(c.leases_bucket(), "hush-shards");
        assert_eq!(c.detectors_bucket(), "hush-detectors");
        assert_eq!(c.checkpoint_interval.0, Duration::from_secs(60));
        assert!(c.renew_interval() < c.lease.0);
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = cfg("nats: []\nnode_id: a\n").unwrap_err();
        assert!(e.contains("cluster.nats"), "{e}");
        let e = cfg("nats: ['nats://127.0.0.1:4222']\nnode_id: 'a b'\n").unwrap_err();
        assert!(e.contains("cluster.node_id"), "{e}");
        let e = cfg("nats: ['nats://127.0.0.1:4222']\nnode_id: a\nshards: 0\n").unwrap_err();
        assert!(e.contains("cluster.shards"), "{e}");
        let e = cfg("nats: ['nats://127.0.0.1:4222']\nnode_id: a\nlease: 100ms\n").unwrap_err();
        assert!(e.contains("cluster.lease"), "{e}");
        let e = cfg("nats: ['nats://127.0.0.1:4222']\nnode_id: a\ncheckpoint_interval: 0s\n")
            .unwrap_err();
        assert!(e.contains("cluster.checkpoint_interval"), "{e}");
        let e = cfg("nats: ['nats://127.0.0.1:4222']\nnode_id: a\nname: a.b\n").unwrap_err();
        assert!(e.contains("cluster.name"), "{e}");
        assert!(cfg("nats: ['nats://127.0.0.1:4222']\nnode_id: a\nbogus: 1\n").is_err());
        assert!(cfg("node_id: a\n").is_err(), "nats is required");
    }
}
