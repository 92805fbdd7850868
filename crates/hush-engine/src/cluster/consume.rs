//! The owner's side of a shard: take over the previous owner's detectors, catch up on the
//! shard's history, then consume its durable consumer into the local store.
//!
//! Re-delivery (an acknowledgement lost, a takeover, a replay overlapping what was consumed)
//! never double-counts because the store treats a sample equal to one it holds for the same
//! series and timestamp as a duplicate and drops it, wherever it is (head, out-of-order buffer,
//! blocks; queries merge by timestamp). That makes the stream position only an optimisation,
//! so no idempotence key has to be stored atomically with the samples.

use super::{Cluster, SOURCE_HEADER, wire};
use crate::Engine;
use async_nats::jetstream::{self, consumer};
use futures_util::StreamExt;
use hush_model::TimeSeries;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Messages taken and stored together (one store append, one acknowledgement).
const BATCH: usize = 256;

fn holds(lease: &watch::Receiver<Option<Instant>>) -> bool {
    lease.borrow().is_some_and(|d| Instant::now() < d)
}

/// Consumes `shard` while the lease holds.
pub async fn run(
    engine: Arc<Engine>,
    cluster: Arc<Cluster>,
    shard: u32,
    lease: watch::Receiver<Option<Instant>>,
) {
    let started = Instant::now();
    // The previous owner's detectors first, so the replay below continues them.
    match super::checkpoint::load(&engine, &cluster, shard).await {
        Ok(Some(r)) => tracing::info!(
            shard,
            restored = r.restored,
            kept = r.kept,
            dropped = r.dropped,
            "shard detectors taken over"
        ),
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(shard, error = %e, "reading the detector checkpoint failed; relearning from the history")
        }
    }
    // History first: what earlier owners stored is queryable here too before new samples
    // arrive. Retried, because skipping it would hide acknowledged samples from queries.
    loop {
        if !holds(&lease) {
            return;
        }
        match replay(&engine, &cluster, shard, &lease).await {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(
                        shard,
                        messages = n,
                        took_ms = started.elapsed().as_millis() as u64,
                        "shard history replayed"
                    );
                }
                break;
            }
            Err(e) => {
                tracing::warn!(shard, error = %e, "replaying shard history failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    cluster.set_caught_up(shard, true);
    // However this task ends, the shard stops answering queries here with it.
    struct NotCaughtUp<'a>(&'a Cluster, u32);
    impl Drop for NotCaughtUp<'_> {
        fn drop(&mut self) {
            self.0.set_caught_up(self.1, false);
        }
    }
    let _guard = NotCaughtUp(&cluster, shard);
    let name = cluster.config.consumer_name(shard);
    let consumer = loop {
        if !holds(&lease) {
            return;
        }
        match cluster
            .stream
            .get_consumer::<consumer::pull::Config>(&name)
            .await
        {
            Ok(c) => break c,
            Err(e) => {
                tracing::warn!(shard, error = %e, "opening the shard consumer failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    };
    let wait = cluster.config.renew_interval().min(Duration::from_secs(1));
    while holds(&lease) {
        let batch = consumer
            .fetch()
            .max_messages(BATCH)
            .expires(wait)
            .messages()
            .await;
        let mut batch = match batch {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(shard, error = %e, "fetching from the shard failed");
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        let mut msgs = Vec::new();
        while let Some(m) = batch.next().await {
            match m {
                Ok(m) => msgs.push(m),
                Err(e) => {
                    tracing::debug!(shard, error = %e, "fetch ended early");
                    break;
                }
            }
        }
        let Some(last) = msgs.last() else {
            continue;
        };
        let seq = last.info().map(|i| i.stream_sequence).unwrap_or(0);
        if let Err(e) = store(&engine, shard, &msgs).await {
            // Not acknowledged: redelivered after the acknowledgement wait.
            tracing::error!(shard, error = %e, "storing shard samples failed");
            tokio::time::sleep(wait).await;
            continue;
        }
        // Past the lease the next owner may hold these messages already; leave them to it
        // (the samples stored here are duplicates there, and harmless here).
        if !holds(&lease) {
            break;
        }
        // Double: the server confirms, so the next owner resumes after these for sure.
        if let Err(e) = last.double_ack().await {
            tracing::warn!(shard, error = %e, "acknowledging shard messages failed; they come again");
            continue;
        }
        cluster.mark_applied(shard, seq);
    }
}

/// Decodes messages and appends their samples; returns once they are durable.
async fn store(
    engine: &Engine,
    shard: u32,
    msgs: &[jetstream::Message],
) -> Result<(), hush_store::StoreError> {
    let mut by_source: BTreeMap<String, Vec<TimeSeries>> = BTreeMap::new();
    for m in msgs {
        let source = m
            .headers
            .as_ref()
            .and_then(|h| h.get(SOURCE_HEADER))
            .map(|v| v.as_str().to_string())
            .unwrap_or_else(|| "cluster".into());
        match wire::decode(&m.payload) {
            Ok(s) => by_source.entry(source).or_default().extend(s),
            Err(e) => {
                // Nothing a retry fixes: counted, logged and acknowledged with the batch so
                // the shard does not stall behind it.
                engine.metrics.cluster_invalid_messages.inc();
                let seq = m.info().map(|i| i.stream_sequence).unwrap_or(0);
                tracing::error!(shard, seq, error = %e, "dropping an undecodable message");
            }
        }
    }
    for (source, series) in by_source {
        engine.ingest(series, &source).await?;
    }
    // Only `always` has synced before `append` returned; the acknowledgement must not run
    // ahead of the disk under the other policies.
    if !matches!(
        engine.store.options().fsync,
        hush_store::FsyncPolicy::Always
    ) {
        engine.store.sync().await?;
    }
    Ok(())
}

/// Replays the shard's retained messages this node has not stored, up to the newest the
/// durable consumer delivered; what comes after is the consumer's. Returns messages replayed.
async fn replay(
    engine: &Engine,
    cluster: &Cluster,
    shard: u32,
    lease: &watch::Receiver<Option<Instant>>,
) -> Result<u64, String> {
    let info = cluster
        .stream
        .consumer_info(cluster.config.consumer_name(shard))
        .await
        .map_err(|e| e.to_string())?;
    let upto = info.delivered.stream_sequence;
    let from = cluster.applied(shard) + 1;
    if upto < from {
        return Ok(0);
    }
    let ordered = cluster
        .stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: cluster.config.subject(shard),
            deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                start_sequence: from,
            },
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut msgs = ordered.messages().await.map_err(|e| e.to_string())?;
    let mut pending = Vec::new();
    let mut replayed = 0u64;
    loop {
        if !holds(lease) {
            return Err("lease ended during replay".into());
        }
        // Messages before `upto` may have aged out of the stream: silence means done.
        let next = match tokio::time::timeout(Duration::from_secs(2), msgs.next()).await {
            Ok(Some(Ok(m))) => m,
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(None) | Err(_) => break,
        };
        let (seq, left) = next
            .info()
            .map(|i| (i.stream_sequence, i.pending))
            .unwrap_or((upto, 0));
        if seq > upto {
            break;
        }
        pending.push(next);
        let done = seq >= upto || left == 0;
        if pending.len() >= BATCH || done {
            store(engine, shard, &pending)
                .await
                .map_err(|e| e.to_string())?;
            replayed += pending.len() as u64;
            pending.clear();
            cluster.mark_applied(shard, seq);
        }
        if done {
            break;
        }
    }
    if !pending.is_empty() {
        store(engine, shard, &pending)
            .await
            .map_err(|e| e.to_string())?;
        replayed += pending.len() as u64;
    }
    Ok(replayed)
}
