//! Hush's own metrics, served at `/metrics` in the OpenMetrics text format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ShardLabel {
    pub shard: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HandlerLabel {
    pub handler: String,
    pub code: String,
}

/// Every metric Hush exports about itself; names are fixed and documented in
/// `docs/configuration.md#self-monitoring`.
pub struct SelfMetrics {
    registry: Registry,
    pub samples_ingested: Family<SourceLabel, Counter>,
    pub samples_rejected: Family<ReasonLabel, Counter>,
    pub requests_rejected: Family<ReasonLabel, Counter>,
    pub request_duration: Family<HandlerLabel, Histogram>,
    /// Cluster mode: samples published to the stream, by source.
    pub cluster_published: Family<SourceLabel, Counter>,
    /// Cluster mode: writes refused because the stream was unavailable or a shard lagged.
    pub cluster_refused: Family<ReasonLabel, Counter>,
    /// Cluster mode: messages waiting per shard (pending + unacknowledged).
    pub cluster_lag: Family<ShardLabel, Gauge>,
    /// Cluster mode: messages no owner could decode (dropped, logged).
    pub cluster_invalid_messages: Counter,
    /// Cluster mode: series detectors written to shard checkpoints.
    pub cluster_detectors_saved: Counter,
    /// Cluster mode: series detectors taken over from shard checkpoints.
    pub cluster_detectors_restored: Counter,
    active_series: Gauge,
    series: Gauge,
    wal_bytes: Gauge<u64, AtomicU64>,
    block_bytes: Gauge<u64, AtomicU64>,
    blocks: Gauge,
    head_bytes: Gauge<u64, AtomicU64>,
}

impl Default for SelfMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("hush");
        let samples_ingested = Family::<SourceLabel, Counter>::default();
        let samples_rejected = Family::<ReasonLabel, Counter>::default();
        let requests_rejected = Family::<ReasonLabel, Counter>::default();
        let request_duration = Family::<HandlerLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "samples_ingested",
            "Samples stored, by source",
            samples_ingested.clone(),
        );
        registry.register(
            "samples_rejected",
            "Samples refused by the store, by reason (too_old, duplicate_timestamp, ...)",
            samples_rejected.clone(),
        );
        registry.register(
            "requests_rejected",
            "Ingest requests refused whole, by reason",
            requests_rejected.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            request_duration.clone(),
        );
        let cluster_published = Family::<SourceLabel, Counter>::default();
        let cluster_refused = Family::<ReasonLabel, Counter>::default();
        let cluster_lag = Family::<ShardLabel, Gauge>::default();
        let cluster_invalid_messages = Counter::default();
        let cluster_detectors_saved = Counter::default();
        let cluster_detectors_restored = Counter::default();
        registry.register(
            "cluster_detectors_saved",
            "Series detectors written to shard checkpoints in JetStream",
            cluster_detectors_saved.clone(),
        );
        registry.register(
            "cluster_detectors_restored",
            "Series detectors taken over from shard checkpoints written by earlier owners",
            cluster_detectors_restored.clone(),
        );
        registry.register(
            "cluster_samples_published",
            "Samples published to the cluster's stream, by source",
            cluster_published.clone(),
        );
        registry.register(
            "cluster_writes_refused",
            "Writes refused with 429/503 in cluster mode, by reason (lagging, unavailable)",
            cluster_refused.clone(),
        );
        registry.register(
            "cluster_shard_lag",
            "Messages waiting for a shard's owner (pending + unacknowledged)",
            cluster_lag.clone(),
        );
        registry.register(
            "cluster_invalid_messages",
            "Stream messages dropped because they could not be decoded",
            cluster_invalid_messages.clone(),
        );
        let mut m = Self {
            cluster_published,
            cluster_refused,
            cluster_lag,
            cluster_invalid_messages,
            cluster_detectors_saved,
            cluster_detectors_restored,
            samples_ingested,
            samples_rejected,
            requests_rejected,
            request_duration,
            active_series: Gauge::default(),
            series: Gauge::default(),
            wal_bytes: Gauge::default(),
            block_bytes: Gauge::default(),
            blocks: Gauge::default(),
            head_bytes: Gauge::default(),
            registry,
        };
        m.registry.register(
            "active_series",
            "Series with samples in the head",
            m.active_series.clone(),
        );
        m.registry
            .register("series", "Series known to the index", m.series.clone());
        m.registry.register(
            "wal_bytes",
            "Size of the write-ahead log on disk",
            m.wal_bytes.clone(),
        );
        m.registry.register(
            "block_bytes",
            "Size of block files on disk",
            m.block_bytes.clone(),
        );
        m.registry
            .register("blocks", "Block files on disk", m.blocks.clone());
        m.registry.register(
            "head_chunk_bytes",
            "Bytes of compressed samples in the head",
            m.head_bytes.clone(),
        );
        m
    }
}

impl SelfMetrics {
    /// Renders the registry after refreshing the gauges from the store.
    pub fn render(&self, stats: &hush_store::Stats) -> String {
        self.active_series.set(stats.active_series as i64);
        self.series.set(stats.series as i64);
        self.wal_bytes.set(stats.wal_bytes);
        self.block_bytes.set(stats.block_bytes);
        self.blocks.set(stats.blocks as i64);
        self.head_bytes.set(stats.head_bytes as u64);
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
