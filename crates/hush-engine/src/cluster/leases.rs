//! Shard ownership through leases in a JetStream KV bucket.
//!
//! The bucket's entries expire `cluster.lease` after their last write, so a lease is a key
//! (`shard-<n>`) whose value names the owning node and process. A node claims a free shard with
//! `create` (fails if the key exists), renews with `update` at the revision it last wrote (fails
//! if anyone else wrote since), and releases with a delete at that revision. Nodes register in a
//! second bucket with the same expiry; each aims for `ceil(shards / live nodes)` shards, claims
//! free ones below that and hands back the surplus above it, so shards spread as nodes come and
//! go. Besides the renew interval, a node wakes just after the earliest expiry it saw (the
//! entry's server time plus the lease), so a silent node's shards go to the others one lease
//! after its last renewal, not up to one renew interval later.
//!
//! A node stops consuming a shard by its own clock before the lease can have expired on the
//! server (it counts from before the renewal was sent), so two nodes never consume one shard at
//! once as long as their clocks run at the same rate.

use super::Cluster;
use crate::Engine;
use async_nats::jetstream::kv;
use futures_util::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// A shard this node holds: the lease revision and the consumer task.
struct Held {
    revision: u64,
    /// `Some(deadline)` while the lease holds; `None` tells the consumer to stop.
    lease: watch::Sender<Option<Instant>>,
    task: JoinHandle<()>,
}

impl Drop for Held {
    /// Dropping a holding without [`stop`] (the lease task itself was aborted) must not leave a
    /// consumer running without a lease.
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) fn key(shard: u32) -> String {
    format!("shard-{shard}")
}

/// The node record: who it is, where its API listens, when it started.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NodeRecord {
    pub node: String,
    pub incarnation: String,
    pub api: String,
    pub started_ms: i64,
}

/// Runs until `stop`: registers the node, claims, renews, rebalances and finally releases.
pub async fn run(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    let Some(cluster) = engine.cluster.clone() else {
        return;
    };
    let c = &cluster.config;
    let record = NodeRecord {
        node: c.node_id.clone(),
        incarnation: cluster.incarnation.clone(),
        api: cluster.api.clone(),
        started_ms: engine.clock.now_ms(),
    };
    let record = bytes::Bytes::from(serde_json::to_vec(&record).unwrap_or_default());
    let value = bytes::Bytes::from(format!("{} {}", c.node_id, cluster.incarnation));
    let lease = c.lease.0;
    // Less than the lease by a margin, measured from before the request left.
    let hold_for = lease.mul_f64(0.8);
    let mut held: BTreeMap<u32, Held> = BTreeMap::new();
    let mut tick = tokio::time::interval(c.renew_interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut first = true;
    // Just after the earliest lease or node record seen to expire, if one is due soon.
    let mut wake: Option<Instant> = None;
    // Another node handed shards back or left: look at once rather than at the next round.
    let mut released = match cluster.client.subscribe(c.released_subject()).await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "subscribing to shard releases failed; they are seen at the next round");
            None
        }
    };
    loop {
        let expiry = async {
            match wake {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let freed = async {
            match released.as_mut() {
                Some(s) => s.next().await,
                None => std::future::pending().await,
            }
        };
        let expired = tokio::select! {
            _ = tick.tick() => false,
            _ = expiry => true,
            _ = freed => true,
            _ = stop.changed() => break,
        };
        wake = None;
        // Woken for an expiry or a release: straight to the claims, the renewals are not due.
        if !expired {
            if let Err(e) = cluster.nodes.put(&c.node_id, record.clone()).await {
                tracing::warn!(error = %e, "registering the node failed");
            }
            if first {
                // Nodes started together see each other before anyone claims everything.
                first = false;
                continue;
            }
            // Renew what is held; a revision conflict means the lease was lost.
            let mut lost = Vec::new();
            for (&shard, h) in held.iter_mut() {
                let sent = Instant::now();
                match cluster
                    .leases
                    .update(key(shard), value.clone(), h.revision)
                    .await
                {
                    Ok(rev) => {
                        h.revision = rev;
                        let _ = h.lease.send(Some(sent + hold_for));
                    }
                    Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                        tracing::warn!(shard, "shard lease lost to another node");
                        lost.push(shard);
                    }
                    Err(e) => {
                        tracing::warn!(shard, error = %e, "renewing a shard lease failed");
                        if h.lease.borrow().is_none_or(|d| d <= Instant::now()) {
                            lost.push(shard);
                        }
                    }
                }
            }
            for shard in lost {
                if let Some(h) = held.remove(&shard) {
                    stop_consumer(h).await;
                }
            }
            // A consumer that stopped on its own (its deadline passed while renewals failed) leaves
            // a lease nobody consumes even if a later renewal got through: hand it back so it is
            // claimed again, here or elsewhere, with a fresh consumer.
            let idle: Vec<u32> = held
                .iter()
                .filter(|(_, h)| h.task.is_finished())
                .map(|(s, _)| *s)
                .collect();
            for shard in idle {
                if let Some(h) = held.remove(&shard) {
                    release(&engine, &cluster, shard, h).await;
                }
            }
        }
        // Rebalance against the nodes and leases that exist now.
        let (live, taken, next_expiry) = match view(&cluster).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "reading the cluster's leases failed");
                cluster.set_owned(held.keys().copied());
                continue;
            }
        };
        wake = next_expiry.and_then(|at| wake_at(at, lease, c.renew_interval()));
        let shards = c.shards;
        let target = shards.div_ceil(live.max(1)) as usize;
        if held.len() < target {
            // Each node starts looking at a different shard, so claims rarely collide.
            let offset = (hush_model::Labels::from_pairs([("node", c.node_id.as_str())])
                .map(|l| l.series_id().0)
                .unwrap_or(0)
                % u64::from(shards)) as u32;
            for i in 0..shards {
                if held.len() >= target {
                    break;
                }
                let shard = (offset + i) % shards;
                if taken.contains(&shard) || held.contains_key(&shard) {
                    continue;
                }
                let sent = Instant::now();
                match cluster.leases.create(key(shard), value.clone()).await {
                    Ok(revision) => {
                        tracing::info!(shard, "shard claimed");
                        let (tx, rx) = watch::channel(Some(sent + hold_for));
                        let task = tokio::spawn(super::consume_shard(
                            engine.clone(),
                            cluster.clone(),
                            shard,
                            rx,
                        ));
                        held.insert(
                            shard,
                            Held {
                                revision,
                                lease: tx,
                                task,
                            },
                        );
                    }
                    Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {}
                    Err(e) => tracing::warn!(shard, error = %e, "claiming a shard failed"),
                }
            }
        } else if held.len() > target {
            let surplus: Vec<u32> = held
                .keys()
                .rev()
                .take(held.len() - target)
                .copied()
                .collect();
            for shard in surplus {
                if let Some(h) = held.remove(&shard) {
                    release(&engine, &cluster, shard, h).await;
                    announce(&cluster).await;
                    tracing::info!(shard, "shard handed back for rebalancing");
                }
            }
        }
        cluster.set_owned(held.keys().copied());
    }
    for (shard, h) in std::mem::take(&mut held) {
        release(&engine, &cluster, shard, h).await;
    }
    cluster.set_owned(std::iter::empty());
    cluster.save_applied();
    if let Err(e) = cluster.nodes.delete(&c.node_id).await {
        tracing::warn!(error = %e, "deregistering the node failed");
    }
    // After the deregistration, so the others count one node fewer when they look.
    announce(&cluster).await;
}

/// Tells the other nodes that shards are free or a node left.
async fn announce(cluster: &Cluster) {
    let subject = cluster.config.released_subject();
    if let Err(e) = cluster.client.publish(subject, bytes::Bytes::new()).await {
        tracing::debug!(error = %e, "announcing a release failed; the others see it at their next round");
    }
    let _ = cluster.client.flush().await;
}

/// Stops the consumer (it finishes and acknowledges the batch in hand), saves the shard's
/// detectors for the next owner, then deletes the lease so another node can claim the shard
/// at once instead of after it expires.
async fn release(engine: &Arc<Engine>, cluster: &Cluster, shard: u32, h: Held) {
    let revision = h.revision;
    stop_consumer(h).await;
    cluster.save_applied();
    if let Err(e) = super::checkpoint::save(engine, cluster, shard).await {
        tracing::warn!(shard, error = %e, "saving the detector checkpoint failed; the next owner relearns");
    }
    if let Err(e) = cluster
        .leases
        .delete_expect_revision(key(shard), Some(revision))
        .await
    {
        tracing::warn!(shard, error = %e, "releasing a shard lease failed; it expires by itself");
    }
}

async fn stop_consumer(mut h: Held) {
    let _ = h.lease.send(None);
    // A consumer stuck on the store or the network must not hold shutdown forever.
    if tokio::time::timeout(Duration::from_secs(30), &mut h.task)
        .await
        .is_err()
    {
        tracing::warn!("a shard consumer did not stop in time");
    }
}

/// When to look again for an entry last written at `written` (nanoseconds since the epoch, the
/// server's clock): just after it expires, or `None` if that is not worth an extra round
/// because the regular one comes first, or the clocks disagree so much that the time is long
/// past (the server expires it when it does; the regular round sees it).
fn wake_at(written: i128, lease: Duration, every: Duration) -> Option<Instant> {
    // Past the server's expiry timer, which fires at the entry's expiry to the millisecond.
    const SLACK: Duration = Duration::from_millis(20);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    let due = written + lease.as_nanos() as i128 + SLACK.as_nanos() as i128 - now;
    if due >= every.as_nanos() as i128 || due < -(every.as_nanos() as i128) {
        return None;
    }
    // An entry the server has not expired yet at its time is looked at again shortly.
    let due = if due > 0 {
        Duration::from_nanos(due as u64)
    } else {
        Duration::from_millis(50)
    };
    Some(Instant::now() + due)
}

/// Live nodes, the shards with a lease, and when the oldest lease or node record was written
/// (nanoseconds since the epoch, the server's clock): the next one to expire.
async fn view(cluster: &Cluster) -> Result<(u32, BTreeSet<u32>, Option<i128>), String> {
    let nodes = entries(&cluster.nodes).await?;
    let mut oldest = nodes.iter().map(|e| e.created.unix_timestamp_nanos()).min();
    let read = async {
        let mut taken = BTreeSet::new();
        let mut oldest: Option<i128> = None;
        for shard in 0..cluster.config.shards {
            if let Some(e) = cluster
                .leases
                .entry(key(shard))
                .await
                .map_err(|e| e.to_string())?
                && e.operation == kv::Operation::Put
            {
                taken.insert(shard);
                let t = e.created.unix_timestamp_nanos();
                oldest = Some(oldest.map_or(t, |o| o.min(t)));
            }
        }
        Ok::<_, String>((taken, oldest))
    };
    let (taken, oldest_lease) = tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .map_err(|_| "timed out reading the shard leases".to_string())??;
    oldest = match (oldest, oldest_lease) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    // This node counts even if its registration failed this round.
    let live = nodes
        .iter()
        .filter(|e| e.key != cluster.config.node_id)
        .count() as u32
        + 1;
    Ok((live, taken, oldest))
}

/// The keys of `store` that hold a value (not deleted).
///
/// Read from the bucket stream's per-subject counts (one request) and a direct get per key,
/// not with the KV `keys()` listing: that creates an ephemeral consumer per call, which in a
/// clustered JetStream is a replicated group the metadata leader must place; at a few per
/// second per node they time out for tens of seconds while a NATS server is lost, and every
/// lease with them.
pub(crate) async fn keys(store: &kv::Store) -> Result<Vec<String>, String> {
    Ok(entries(store).await?.into_iter().map(|e| e.key).collect())
}

/// The entries of `store` that hold a value, read as [`keys`] describes.
async fn entries(store: &kv::Store) -> Result<Vec<kv::Entry>, String> {
    use futures_util::TryStreamExt;
    let read = async {
        let mut subjects = store
            .stream
            .info_with_subjects(format!("{}>", store.prefix))
            .await
            .map_err(|e| e.to_string())?;
        let mut listed = Vec::new();
        while let Some((subject, _)) = subjects.try_next().await.map_err(|e| e.to_string())? {
            if let Some(k) = subject.strip_prefix(store.prefix.as_str()) {
                listed.push(k.to_string());
            }
        }
        listed.sort();
        let mut out = Vec::new();
        for k in listed {
            // A deleted key keeps its subject (the tombstone) until it ages out.
            if let Some(e) = store.entry(k.as_str()).await.map_err(|e| e.to_string())?
                && e.operation == kv::Operation::Put
            {
                out.push(e);
            }
        }
        Ok::<_, String>(out)
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .map_err(|_| "timed out listing keys".to_string())?
}

#[cfg(test)]
mod tests {
    #[test]
    fn shard_keys_are_distinct_from_the_leader_key() {
        // Never the leader's key, whatever the shard.
        assert_eq!(super::key(17), "shard-17");
        assert_ne!(super::key(0), super::super::leader::KEY);
    }

    #[test]
    fn wakes_just_after_an_expiry_due_before_the_next_round() {
        use std::time::{Duration, SystemTime, UNIX_EPOCH};
        use tokio::time::Instant;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as i128;
        let ms = |n: i128| n * 1_000_000;
        let (lease, every) = (Duration::from_secs(3), Duration::from_secs(1));
        // Renewed just now: the regular round comes first.
        assert!(super::wake_at(now, lease, every).is_none());
        // Written 2.5 s ago: expires in 0.5 s, looked at 20 ms after that.
        let at = super::wake_at(now - ms(2500), lease, every).unwrap();
        let left = at.saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_millis(400) && left <= Duration::from_millis(520),
            "{left:?}"
        );
        // Due already but not yet gone: looked at again shortly, not in a busy loop.
        let at = super::wake_at(now - ms(3100), lease, every).unwrap();
        let left = at.saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_millis(30) && left <= Duration::from_millis(50),
            "{left:?}"
        );
        // Long past by this clock (the server's disagrees): left to the regular round.
        assert!(super::wake_at(now - ms(10_000), lease, every).is_none());
    }
}
