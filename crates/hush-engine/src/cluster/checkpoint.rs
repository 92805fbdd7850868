//! Detector hand-over between shard owners through a JetStream object store.
//!
//! An owner writes the detectors of each shard it holds as one object (`shard-<n>`) every
//! `cluster.checkpoint_interval` and when it hands the shard back; the next owner reads the
//! object before replaying the shard's history. The replay still feeds the detectors every
//! sample after the checkpoint, and a detector skips samples at or before the newest it has
//! seen, so a checkpoint older or newer than the replay's start neither loses nor repeats a
//! step. Without a checkpoint (a first owner, a read that failed) the new owner learns from the
//! replayed history alone, as before; a checkpoint is never required.

use super::{Cluster, wire};
use crate::Engine;
use crate::detection::ImportReport;
use async_nats::jetstream::object_store;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Bounds a read or write of one shard's object, so a slow NATS cannot hold up a takeover.
const TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn object(shard: u32) -> String {
    format!("shard-{shard}")
}

/// Writes the detectors of `shard`'s series; returns how many. A node that scores none of
/// the shard's series writes nothing, so it never replaces a useful checkpoint with an empty
/// one (a takeover whose read failed, a node that only just claimed).
pub(crate) async fn save(
    engine: &Arc<Engine>,
    cluster: &Cluster,
    shard: u32,
) -> Result<usize, String> {
    if engine.detection.is_none() {
        return Ok(0);
    }
    let e = engine.clone();
    let shards = cluster.config.shards;
    let (n, bytes) = tokio::task::spawn_blocking(move || {
        let Some(d) = &e.detection else {
            return Ok((0, Vec::new()));
        };
        d.export(|l| wire::shard_of(l, shards) == shard)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    if n == 0 {
        return Ok(0);
    }
    let name = object(shard);
    let mut data = bytes.as_slice();
    let put = cluster.detectors.put(name.as_str(), &mut data);
    tokio::time::timeout(TIMEOUT, put)
        .await
        .map_err(|_| "timed out writing the detector checkpoint".to_string())?
        .map_err(|e| e.to_string())?;
    engine.metrics.cluster_detectors_saved.inc_by(n as u64);
    Ok(n)
}

/// Reads `shard`'s checkpoint into this node's detectors; `None` if there is none.
pub(crate) async fn load(
    engine: &Arc<Engine>,
    cluster: &Cluster,
    shard: u32,
) -> Result<Option<ImportReport>, String> {
    if engine.detection.is_none() {
        return Ok(None);
    }
    let read = async {
        let mut obj = match cluster.detectors.get(object(shard).as_str()).await {
            Ok(o) => o,
            Err(e) if e.kind() == object_store::GetErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let mut bytes = Vec::new();
        obj.read_to_end(&mut bytes)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Some(bytes))
    };
    let Some(bytes) = tokio::time::timeout(TIMEOUT, read)
        .await
        .map_err(|_| "timed out reading the detector checkpoint".to_string())??
    else {
        return Ok(None);
    };
    let e = engine.clone();
    let report = tokio::task::spawn_blocking(move || match &e.detection {
        Some(d) => d.import(&bytes),
        None => Ok(ImportReport::default()),
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("the detector checkpoint is unusable: {e}"))?;
    engine
        .metrics
        .cluster_detectors_restored
        .inc_by(report.restored as u64);
    Ok(Some(report))
}

/// Saves the detectors of every shard this node owns every `cluster.checkpoint_interval`,
/// apart from the lease task so a slow save never delays a renewal.
pub(crate) async fn run(engine: Arc<Engine>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let Some(cluster) = engine.cluster.clone() else {
        return;
    };
    if engine.detection.is_none() {
        return;
    }
    let every = cluster.config.checkpoint_interval.0;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Per shard, the stream position its last saved checkpoint had seen: a shard that
    // stored nothing since is not written again.
    let mut saved_at: std::collections::BTreeMap<u32, u64> = Default::default();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        for shard in cluster.owned() {
            let position = cluster.applied(shard);
            if saved_at.get(&shard) == Some(&position) {
                continue;
            }
            match save(&engine, &cluster, shard).await {
                Ok(n) => {
                    saved_at.insert(shard, position);
                    tracing::debug!(shard, series = n, "detector checkpoint saved");
                }
                Err(e) => {
                    tracing::warn!(shard, error = %e, "saving the detector checkpoint failed")
                }
            }
        }
    }
}
