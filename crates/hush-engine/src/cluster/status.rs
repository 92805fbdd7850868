//! `hush cluster status` and `GET /api/v1/cluster/status`: the cluster as JetStream sees it.

use super::leases::{NodeRecord, key, keys};
use super::{ClusterConfig, ClusterError};
use async_nats::jetstream::{kv, stream};

#[derive(Debug, Clone, serde::Serialize)]
pub struct ClusterStatus {
    pub name: String,
    pub shards: u32,
    /// The node leading correlation and remediation; `None` during an election.
    pub leader: Option<String>,
    pub nodes: Vec<NodeStatus>,
    pub shard_owners: Vec<ShardStatus>,
    /// Messages and bytes the stream holds now.
    pub stream_messages: u64,
    pub stream_bytes: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeStatus {
    pub node: String,
    pub api: String,
    pub started_ms: i64,
    pub shards: Vec<u32>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ShardStatus {
    pub shard: u32,
    /// The node holding the lease; `None` while the shard waits for an owner.
    pub owner: Option<String>,
    /// Messages not yet delivered to the owner plus those delivered but not acknowledged.
    pub lag: Option<u64>,
    /// Newest stream sequence the owner acknowledged.
    pub acked: Option<u64>,
}

pub(crate) async fn gather(
    config: &ClusterConfig,
    stream: &stream::Stream,
    leases: &kv::Store,
    nodes: &kv::Store,
) -> Result<ClusterStatus, ClusterError> {
    let unavailable = |e: &dyn std::fmt::Display| ClusterError::Unavailable(e.to_string());
    let mut node_list = Vec::new();
    for k in keys(nodes).await.map_err(|e| unavailable(&e))? {
        let Some(v) = nodes.get(&k).await.map_err(|e| unavailable(&e))? else {
            continue;
        };
        if let Ok(r) = serde_json::from_slice::<NodeRecord>(&v) {
            node_list.push(NodeStatus {
                node: r.node,
                api: r.api,
                started_ms: r.started_ms,
                shards: Vec::new(),
            });
        }
    }
    let leader = match leases
        .entry(super::leader::KEY)
        .await
        .map_err(|e| unavailable(&e))?
    {
        Some(e) if e.operation == kv::Operation::Put => String::from_utf8_lossy(&e.value)
            .split_whitespace()
            .next()
            .map(str::to_string),
        _ => None,
    };
    let mut shard_owners = Vec::new();
    for shard in 0..config.shards {
        let owner = match leases
            .entry(key(shard))
            .await
            .map_err(|e| unavailable(&e))?
        {
            Some(e) if e.operation == kv::Operation::Put => String::from_utf8_lossy(&e.value)
                .split_whitespace()
                .next()
                .map(str::to_string),
            _ => None,
        };
        let info = stream.consumer_info(config.consumer_name(shard)).await.ok();
        if let Some(o) = &owner
            && let Some(n) = node_list.iter_mut().find(|n| &n.node == o)
        {
            n.shards.push(shard);
        }
        shard_owners.push(ShardStatus {
            shard,
            owner,
            lag: info
                .as_ref()
                .map(|i| i.num_pending + i.num_ack_pending as u64),
            acked: info.as_ref().map(|i| i.ack_floor.stream_sequence),
        });
    }
    node_list.sort_by(|a, b| a.node.cmp(&b.node));
    let info = stream.get_info().await.map_err(|e| unavailable(&e))?;
    Ok(ClusterStatus {
        name: config.name.clone(),
        shards: config.shards,
        leader,
        nodes: node_list,
        shard_owners,
        stream_messages: info.state.messages,
        stream_bytes: info.state.bytes,
    })
}

impl ClusterStatus {
    /// Plain text for the terminal.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "cluster {}: {} node(s), {} shard(s), stream holds {} message(s), {} byte(s)",
            self.name,
            self.nodes.len(),
            self.shards,
            self.stream_messages,
            self.stream_bytes
        );
        let _ = writeln!(
            s,
            "leader (correlation, remediation): {}",
            self.leader
                .as_deref()
                .unwrap_or("(none: election under way)")
        );
        let _ = writeln!(s, "\n{:<24} {:<24} shards", "node", "api");
        for n in &self.nodes {
            let shards: Vec<String> = n.shards.iter().map(u32::to_string).collect();
            let _ = writeln!(s, "{:<24} {:<24} {}", n.node, n.api, shards.join(","));
        }
        let _ = writeln!(
            s,
            "\n{:>5} {:<24} {:>10} {:>12}",
            "shard", "owner", "lag", "acked"
        );
        for sh in &self.shard_owners {
            let _ = writeln!(
                s,
                "{:>5} {:<24} {:>10} {:>12}",
                sh.shard,
                sh.owner.as_deref().unwrap_or("(none)"),
                sh.lag.map_or("?".into(), |l| l.to_string()),
                sh.acked.map_or("?".into(), |l| l.to_string()),
            );
        }
        s
    }
}
