//! Cluster mode: several Hush nodes sharing NATS JetStream as the ingest log (see
//! docs/cluster.md).
//!
//! - A node that receives samples validates them as in embedded mode, splits them by shard
//!   ([`wire::shard_of`]) and publishes one or more messages per shard to the stream
//!   (`<name>.samples.<shard>`); the client is answered only after JetStream acknowledged every
//!   publish, and refused with 429/503 and `Retry-After` when it cannot be.
//! - Shards are owned through leases in a JetStream KV bucket whose entries expire after
//!   `cluster.lease` ([`leases`]); the owner of a shard replays the shard's retained history it
//!   has not stored yet, then consumes the shard's durable consumer into its local store and
//!   acknowledges after the store made the samples durable ([`consume`]). Owners save their
//!   shards' detectors to a JetStream object store and a new owner resumes them
//!   ([`checkpoint`]).
//!
//! - Any node answers a query for the whole cluster by gathering the selected series from the
//!   shards' owners ([`query`]).
//! - One node at a time leads correlation and remediation through a lease in the same bucket
//!   ([`leader`]); the others hand it their alerts.
//!
//! **Invariant:** a sample acknowledged to a client is in the stream; a message is acknowledged
//! to the stream only after its samples are durable in the owner's store.

mod checkpoint;
pub mod config;
mod consume;
mod leader;
mod leases;
mod query;
mod relay;
pub mod status;
pub mod wire;

pub use config::ClusterConfig;
pub use query::Gathered;

use async_nats::jetstream::{self, consumer, kv, object_store, stream};
use hush_model::TimeSeries;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Header naming the ingest source (`remote_write`, `otlp`), so the owner counts samples under
/// the source they came from.
const SOURCE_HEADER: &str = "Hush-Source";
/// Lag of a shard not measured yet.
const UNKNOWN: u64 = u64::MAX;
/// Room left in a NATS message for headers.
const HEADER_ROOM: usize = 4096;

/// What went wrong talking to the cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("failed to connect to NATS at {urls}: {reason}")]
    Connect { urls: String, reason: String },
    #[error("failed to set up {what}: {reason}")]
    Setup { what: String, reason: String },
    #[error("failed to read {what} (is a cluster running on these NATS servers?): {reason}")]
    Read { what: String, reason: String },
    #[error(
        "stream `{stream}` was created with {found} shards but cluster.shards is {configured}; the shard count of a cluster cannot change"
    )]
    ShardsMismatch {
        stream: String,
        found: u32,
        configured: u32,
    },
    /// JetStream did not acknowledge (not connected, timed out, stream full): retry later.
    #[error("the ingest stream is unavailable: {0}")]
    Unavailable(String),
    /// The shard's owner is too far behind: retry later.
    #[error("shard {shard} is {lag} messages behind its owner (cluster.max_lag is {max})")]
    Lagging { shard: u32, lag: u64, max: u64 },
    #[error(transparent)]
    TooLarge(#[from] wire::TooLarge),
}

/// This node's connection to the cluster: the stream, the lease buckets and what it owns.
pub struct Cluster {
    pub config: ClusterConfig,
    client: async_nats::Client,
    js: jetstream::Context,
    stream: stream::Stream,
    leases: kv::Store,
    nodes: kv::Store,
    /// Each shard's detector checkpoint.
    detectors: object_store::ObjectStore,
    /// Told apart from an earlier process with the same node id, whose leases may still run.
    incarnation: String,
    /// The HTTP address this node serves, shown in the status.
    api: String,
    max_message: usize,
    /// Messages waiting per shard (pending + unacknowledged), refreshed every second.
    lag: Vec<AtomicU64>,
    /// Whether this node leads correlation and remediation now.
    leader: std::sync::atomic::AtomicBool,
    /// Shards this node owns now.
    owned: Mutex<Vec<u32>>,
    /// Owned shards whose history replay has finished: only these answer queries.
    caught_up: Mutex<std::collections::BTreeSet<u32>>,
    /// Per shard, the newest stream sequence this node stored: a takeover replays from there.
    applied: Mutex<BTreeMap<u32, u64>>,
    applied_path: PathBuf,
}

impl Cluster {
    /// Connects to NATS and makes sure the stream, the shard consumers and the lease buckets
    /// exist (every node does this; JetStream accepts identical re-creations).
    pub async fn connect(
        config: ClusterConfig,
        data_dir: &Path,
        api: String,
    ) -> Result<Self, ClusterError> {
        let (client, js) = connect(&config).await?;
        let stream = ensure_stream(&js, &config).await?;
        ensure_consumers(&stream, &config).await?;
        let leases = ensure_bucket(&js, &config, config.leases_bucket()).await?;
        let nodes = ensure_bucket(&js, &config, config.nodes_bucket()).await?;
        let detectors = ensure_object_store(&js, &config).await?;
        let max_message = client
            .server_info()
            .max_payload
            .saturating_sub(HEADER_ROOM)
            .max(64 * 1024);
        let applied_path = data_dir.join("cluster-applied.json");
        let applied = load_applied(&applied_path);
        Ok(Self {
            lag: (0..config.shards)
                .map(|_| AtomicU64::new(UNKNOWN))
                .collect(),
            config,
            client,
            js,
            stream,
            leases,
            nodes,
            detectors,
            incarnation: uuid::Uuid::new_v4().simple().to_string(),
            api,
            max_message,
            leader: std::sync::atomic::AtomicBool::new(false),
            owned: Mutex::new(Vec::new()),
            caught_up: Mutex::new(Default::default()),
            applied: Mutex::new(applied),
            applied_path,
        })
    }

    /// Publishes validated series to their shards and returns the number of samples once
    /// JetStream acknowledged every message. On an error some messages may be stored already:
    /// the client's retry sends them again, which the owner's store absorbs as duplicates.
    pub async fn publish(
        &self,
        series: Vec<TimeSeries>,
        source: &str,
    ) -> Result<u64, ClusterError> {
        if self.client.connection_state() != async_nats::connection::State::Connected {
            return Err(ClusterError::Unavailable("not connected to NATS".into()));
        }
        let parts = wire::partition(series, self.config.shards);
        for (shard, _) in &parts {
            let lag = self.lag(*shard).unwrap_or(0);
            if lag > self.config.max_lag {
                return Err(ClusterError::Lagging {
                    shard: *shard,
                    lag,
                    max: self.config.max_lag,
                });
            }
        }
        let unavailable = |e: &dyn std::fmt::Display| ClusterError::Unavailable(e.to_string());
        let mut acks = Vec::new();
        let mut samples = 0u64;
        for (shard, ss) in parts {
            samples += ss.iter().map(|s| s.samples.len() as u64).sum::<u64>();
            for body in wire::encode(ss, self.max_message)? {
                let mut headers = async_nats::HeaderMap::new();
                headers.insert(SOURCE_HEADER, source);
                let ack = self
                    .js
                    .publish_with_headers(self.config.subject(shard), headers, body.into())
                    .await
                    .map_err(|e| unavailable(&e))?;
                acks.push(ack);
            }
        }
        // Sent first, awaited after: the acknowledgements come back in parallel.
        for ack in acks {
            ack.await.map_err(|e| unavailable(&e))?;
        }
        Ok(samples)
    }

    /// Messages waiting for a shard's owner, when measured.
    pub fn lag(&self, shard: u32) -> Option<u64> {
        self.lag
            .get(shard as usize)
            .map(|l| l.load(Ordering::Relaxed))
            .filter(|&l| l != UNKNOWN)
    }

    /// Shards this node owns now, ascending.
    pub fn owned(&self) -> Vec<u32> {
        self.owned.lock().clone()
    }

    /// The cluster as JetStream sees it: nodes, shard owners, consumer lag.
    pub async fn status(&self) -> Result<status::ClusterStatus, ClusterError> {
        status::gather(&self.config, &self.stream, &self.leases, &self.nodes).await
    }

    fn set_owned(&self, shards: impl Iterator<Item = u32>) {
        *self.owned.lock() = shards.collect();
    }

    /// Shards this node owns and has replayed: what it may answer queries for. A shard still
    /// replaying is left to the asker's warning rather than answered short.
    pub(crate) fn answerable(&self) -> Vec<u32> {
        let ready = self.caught_up.lock();
        self.owned()
            .into_iter()
            .filter(|s| ready.contains(s))
            .collect()
    }

    fn set_caught_up(&self, shard: u32, yes: bool) {
        let mut ready = self.caught_up.lock();
        if yes {
            ready.insert(shard);
        } else {
            ready.remove(&shard);
        }
    }

    fn applied(&self, shard: u32) -> u64 {
        self.applied.lock().get(&shard).copied().unwrap_or(0)
    }

    fn mark_applied(&self, shard: u32, seq: u64) {
        let mut a = self.applied.lock();
        let e = a.entry(shard).or_default();
        *e = (*e).max(seq);
    }

    /// Saves the applied positions; losing them only makes the next takeover replay more.
    fn save_applied(&self) {
        let text = serde_json::to_string(&*self.applied.lock()).unwrap_or_default();
        let tmp = self.applied_path.with_extension("json.tmp");
        if let Err(e) =
            std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &self.applied_path))
        {
            tracing::warn!(error = %e, path = %self.applied_path.display(), "saving cluster positions failed");
        }
    }

    /// Refreshes every shard's lag once a second, for backpressure and `/metrics`.
    pub(crate) async fn watch_lag(
        self: Arc<Self>,
        metrics: Arc<dyn Fn(u32, u64) + Send + Sync>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            for shard in 0..self.config.shards {
                match self
                    .stream
                    .consumer_info(self.config.consumer_name(shard))
                    .await
                {
                    Ok(info) => {
                        let lag = info.num_pending + info.num_ack_pending as u64;
                        self.lag[shard as usize].store(lag, Ordering::Relaxed);
                        metrics(shard, lag);
                    }
                    Err(e) => {
                        tracing::debug!(shard, error = %e, "reading consumer lag failed");
                        break;
                    }
                }
            }
        }
    }
}

async fn connect(
    config: &ClusterConfig,
) -> Result<(async_nats::Client, jetstream::Context), ClusterError> {
    let urls = config.nats.join(", ");
    let mut addrs = Vec::new();
    for u in &config.nats {
        addrs.push(
            u.parse::<async_nats::ServerAddr>()
                .map_err(|e| ClusterError::Connect {
                    urls: urls.clone(),
                    reason: e.to_string(),
                })?,
        );
    }
    let client = async_nats::ConnectOptions::new()
        .name(format!("hush {}", config.node_id))
        .connection_timeout(Duration::from_secs(5))
        .connect(addrs)
        .await
        .map_err(|e| ClusterError::Connect {
            urls,
            reason: e.to_string(),
        })?;
    let mut js = jetstream::new(client.clone());
    js.set_timeout(config.publish_timeout.0);
    Ok((client, js))
}

/// Connects without joining: for `hush cluster status`.
pub async fn status_of(config: &ClusterConfig) -> Result<status::ClusterStatus, ClusterError> {
    let (_client, js) = connect(config).await?;
    let setup = |what: String| {
        move |e: &dyn std::fmt::Display| ClusterError::Read {
            what,
            reason: e.to_string(),
        }
    };
    let stream = js
        .get_stream(config.stream_name())
        .await
        .map_err(|e| setup(format!("stream `{}`", config.stream_name()))(&e))?;
    let leases = js
        .get_key_value(config.leases_bucket())
        .await
        .map_err(|e| setup(format!("bucket `{}`", config.leases_bucket()))(&e))?;
    let nodes = js
        .get_key_value(config.nodes_bucket())
        .await
        .map_err(|e| setup(format!("bucket `{}`", config.nodes_bucket()))(&e))?;
    status::gather(config, &stream, &leases, &nodes).await
}

/// Maps a failure to set up `what` (a stream, bucket or object store) to a [`ClusterError`].
fn setup_error(what: String) -> impl Fn(&dyn std::fmt::Display) -> ClusterError {
    move |e| ClusterError::Setup {
        what: what.clone(),
        reason: e.to_string(),
    }
}

/// The stream's description records the shard count, so a node configured with another count
/// refuses to start instead of sending series to the wrong shards.
fn description(shards: u32) -> String {
    format!("hush samples; shards={shards}")
}

async fn ensure_stream(
    js: &jetstream::Context,
    config: &ClusterConfig,
) -> Result<stream::Stream, ClusterError> {
    let name = config.stream_name();
    let setup = setup_error(format!("stream `{name}`"));
    let cfg = stream::Config {
        name: name.clone(),
        description: Some(description(config.shards)),
        subjects: vec![format!("{}.samples.*", config.name)],
        retention: stream::RetentionPolicy::Limits,
        max_age: config.history.0,
        max_bytes: config
            .max_stream_bytes
            .map_or(-1, |b| i64::try_from(b).unwrap_or(i64::MAX)),
        // A full stream refuses new samples (the client retries) instead of dropping old ones.
        discard: stream::DiscardPolicy::New,
        num_replicas: config.replicas,
        storage: stream::StorageType::File,
        ..Default::default()
    };
    match js.get_stream(&name).await {
        Ok(mut s) => {
            let info = s.info().await.map_err(|e| setup(&e))?;
            let found = info
                .config
                .description
                .as_deref()
                .and_then(|d| d.rsplit_once("shards="))
                .and_then(|(_, n)| n.parse::<u32>().ok());
            if let Some(found) = found
                && found != config.shards
            {
                return Err(ClusterError::ShardsMismatch {
                    stream: name,
                    found,
                    configured: config.shards,
                });
            }
            // Keeps history and limits in line with the configuration.
            if let Err(e) = js.update_stream(cfg).await {
                tracing::warn!(stream = %name, error = %e, "updating the stream's limits failed");
            }
            Ok(s)
        }
        Err(e) if stream_not_found(&e) => js.create_stream(cfg).await.map_err(|e| setup(&e)),
        Err(e) => Err(setup(&e)),
    }
}

fn stream_not_found(e: &jetstream::context::GetStreamError) -> bool {
    matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(j)
        if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND)
}

/// The consumer of a shard: durable, so its position survives every node; acknowledging a
/// message acknowledges those before it; unacknowledged messages go to the next owner after
/// one lease.
fn consumer_config(config: &ClusterConfig, shard: u32) -> consumer::pull::Config {
    consumer::pull::Config {
        durable_name: Some(config.consumer_name(shard)),
        filter_subject: config.subject(shard),
        ack_policy: consumer::AckPolicy::All,
        ack_wait: config.lease.0,
        max_ack_pending: 10_000,
        deliver_policy: consumer::DeliverPolicy::All,
        num_replicas: config.replicas,
        ..Default::default()
    }
}

async fn ensure_consumers(
    stream: &stream::Stream,
    config: &ClusterConfig,
) -> Result<(), ClusterError> {
    for shard in 0..config.shards {
        stream
            .get_or_create_consumer::<consumer::pull::Config>(
                &config.consumer_name(shard),
                consumer_config(config, shard),
            )
            .await
            .map_err(|e| ClusterError::Setup {
                what: format!("consumer `{}`", config.consumer_name(shard)),
                reason: e.to_string(),
            })?;
    }
    Ok(())
}

/// A KV bucket whose entries expire one lease after their last write.
///
/// Its stream is declared here, as the KV specification lays it out, because the client's own
/// bucket creation first reads the account's JetStream limits in a shape older servers
/// (2.9, still in Debian) do not answer in.
async fn ensure_bucket(
    js: &jetstream::Context,
    config: &ClusterConfig,
    bucket: String,
) -> Result<kv::Store, ClusterError> {
    let setup = setup_error(format!("bucket `{bucket}`"));
    let lease = config.lease.0;
    let cfg = stream::Config {
        max_messages_per_subject: 1,
        max_age: lease,
        // Must not exceed the age limit; the server's default is two minutes.
        duplicate_window: lease.min(Duration::from_secs(120)),
        deny_delete: true,
        ..bucket_stream(
            format!("KV_{bucket}"),
            vec![format!("$KV.{bucket}.>")],
            config,
        )
    };
    js.create_or_update_stream(cfg)
        .await
        .map_err(|e| setup(&e))?;
    js.get_key_value(&bucket).await.map_err(|e| setup(&e))
}

/// The object store of detector checkpoints, its stream declared here like the KV buckets'
/// so every node asks for the same settings. Objects never expire: a shard's checkpoint is
/// replaced by its next owner's.
async fn ensure_object_store(
    js: &jetstream::Context,
    config: &ClusterConfig,
) -> Result<object_store::ObjectStore, ClusterError> {
    let bucket = config.detectors_bucket();
    let setup = setup_error(format!("object store `{bucket}`"));
    let cfg = bucket_stream(
        format!("OBJ_{bucket}"),
        vec![format!("$O.{bucket}.C.>"), format!("$O.{bucket}.M.>")],
        config,
    );
    js.create_or_update_stream(cfg)
        .await
        .map_err(|e| setup(&e))?;
    js.get_object_store(&bucket).await.map_err(|e| setup(&e))
}

/// The settings KV buckets and object stores share: file storage, replicated as configured,
/// rollups and direct gets allowed, writes refused rather than old entries dropped when full.
fn bucket_stream(name: String, subjects: Vec<String>, config: &ClusterConfig) -> stream::Config {
    stream::Config {
        name,
        subjects,
        max_bytes: -1,
        max_message_size: -1,
        storage: stream::StorageType::File,
        allow_rollup: true,
        allow_direct: true,
        num_replicas: config.replicas,
        discard: stream::DiscardPolicy::New,
        ..Default::default()
    }
}

fn load_applied(path: &Path) -> BTreeMap<u32, u64> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

pub(crate) use checkpoint::run as run_checkpoints;
pub(crate) use consume::run as consume_shard;
pub(crate) use leader::RegroupRequest;
pub(crate) use leader::run as run_leader;
pub(crate) use leases::run as run_leases;
pub(crate) use query::serve as serve_queries;
pub(crate) use relay::run as relay_events;
