//! [`Engine`]: the running pieces and the one place that spawns tasks.

use crate::config::Config;
use crate::metrics::{ReasonLabel, SelfMetrics, SourceLabel};
use hush_model::TimeSeries;
use hush_store::{AppendOutcome, Options, Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The running engine, shared by every HTTP handler and background task.
pub struct Engine {
    pub config: Config,
    pub store: Store,
    pub metrics: SelfMetrics,
    pub limits: hush_ingest::Limits,
    /// Live anomaly detection, when `detection.enabled`.
    pub detection: Option<crate::detection::Detection>,
    /// Alerts, incidents, events and the audit trail (embedded SQLite unless configured).
    pub db: hush_sql::SqlStore,
    /// The service graph from `topology_file`, replaceable through the API.
    pub topology: crate::topology::TopologyHolder,
    /// "Now" for every time-driven decision; manual in the demo and replays.
    pub clock: crate::clock::Clock,
    /// Log mining, raw lines, template counts and log anomalies.
    pub logs: crate::logs::LogPipeline,
    /// Live correlation of alerts into incidents (its task starts with [`Engine::start`]).
    pub incidents: crate::incidents::Incidents,
    /// Silences of notifications, from the configuration and the API.
    pub silences: crate::notify::Silences,
    /// Runbooks and runs, when `remediation.runbooks_dir` is set.
    pub remediation: Option<Arc<hush_remediate::Remediator>>,
    /// Capacity resources and their predictive alerts.
    pub capacity: crate::capacity::Capacity,
    /// Caller → callee edges seen in traces (`POST /v1/traces`).
    pub traces: crate::trace_edges::TraceEdges,
    /// The cluster this node belongs to, when `cluster` is configured.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    ready: AtomicBool,
    stop: watch::Sender<bool>,
}

impl Engine {
    /// Opens the store (replaying its WAL) under `config.data_dir` and the SQL database.
    ///
    /// Blocking: call it from `spawn_blocking` inside a Tokio runtime (the database is opened
    /// through the runtime's handle).
    pub fn open(config: Config) -> anyhow::Result<Arc<Self>> {
        let s = &config.storage;
        let opts = Options {
            retention: s.retention.0,
            out_of_order_window: s.out_of_order_window.0,
            fsync: s.fsync.0,
            max_series: s.max_series,
            ..Options::default()
        };
        let store = Store::open(config.data_dir.join("tsdb"), opts).map_err(|e| {
            anyhow::anyhow!(
                "failed to open store in `{}`: {e}",
                config.data_dir.display()
            )
        })?;
        let limits = config.limits.ingest_limits();
        let detection = match config.detection.enabled {
            true => Some(crate::detection::Detection::open(
                config.detection.clone(),
                &config.data_dir,
            )?),
            false => None,
        };
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            anyhow::anyhow!("failed to create `{}`: {e}", config.data_dir.display())
        })?;
        let url = config.database.url_for(&config.data_dir);
        let db = tokio::runtime::Handle::current()
            .block_on(hush_sql::SqlStore::open(&url))
            .map_err(|e| anyhow::anyhow!("failed to open the database: {e}"))?;
        let topology = match &config.topology_file {
            Some(p) => Some(crate::topology::LoadedTopology::load(p)?),
            None => None,
        };
        let logs = crate::logs::LogPipeline::open(
            &config.logs,
            &config.data_dir,
            config.limits.max_body_bytes,
        )?;
        let n = &config.incidents.notifications;
        crate::notify::validate(n)?;
        let silences =
            crate::notify::Silences::load(&n.silences, config.data_dir.join("silences.json"))?;
        let remediation = crate::remediation::open(&config, &db, &store)?;
        let capacity = crate::capacity::Capacity::new(config.capacity.clone())?;
        let cluster = match &config.cluster {
            Some(c) => Some(Arc::new(
                tokio::runtime::Handle::current()
                    .block_on(crate::cluster::Cluster::connect(
                        c.clone(),
                        &config.data_dir,
                        config.listen.value.to_string(),
                    ))
                    .map_err(|e| anyhow::anyhow!("failed to join the cluster: {e}"))?,
            )),
            None => None,
        };
        let (stop, _) = watch::channel(false);
        Ok(Arc::new(Self {
            config,
            store,
            metrics: SelfMetrics::default(),
            limits,
            detection,
            db,
            topology: crate::topology::TopologyHolder::new(topology),
            clock: crate::clock::Clock::system(),
            logs,
            incidents: crate::incidents::Incidents::default(),
            silences,
            remediation,
            capacity,
            traces: crate::trace_edges::TraceEdges::new(crate::trace_edges::RECENT_SPANS),
            cluster,
            ready: AtomicBool::new(false),
            stop,
        }))
    }

    /// Starts scrapers and maintenance; returns their handles for [`Engine::shutdown`].
    pub fn start(self: &Arc<Self>) -> Vec<JoinHandle<()>> {
        let mut tasks = Vec::new();
        for sc in &self.config.scrape_configs {
            for t in crate::scrape::targets(sc) {
                tasks.push(tokio::spawn(crate::scrape::run_target(
                    self.clone(),
                    t,
                    self.stop.subscribe(),
                )));
            }
        }
        // In a cluster the elected leader alone runs correlation and remediation.
        if self.cluster.is_some() {
            tasks.push(tokio::spawn(crate::cluster::run_leader(
                self.clone(),
                self.stop.subscribe(),
            )));
        } else {
            tasks.push(tokio::spawn(crate::incidents::run(
                self.clone(),
                self.stop.subscribe(),
            )));
            tasks.push(tokio::spawn(crate::remediation::run(
                self.clone(),
                self.stop.subscribe(),
            )));
        }
        tasks.push(tokio::spawn(crate::notify::run(
            self.clone(),
            self.stop.subscribe(),
        )));
        tasks.push(tokio::spawn(maintenance(
            self.clone(),
            self.stop.subscribe(),
        )));
        tasks.extend(crate::logs::start(self, &self.stop));
        if self.config.anomaly_alerts.enabled {
            tasks.push(tokio::spawn(crate::anomaly_alerts::run(
                self.clone(),
                self.stop.subscribe(),
            )));
        }
        if !self.config.capacity.resources.is_empty() {
            tasks.push(tokio::spawn(crate::capacity::run(
                self.clone(),
                self.stop.subscribe(),
            )));
        }
        if let Some(c) = &self.cluster {
            tasks.push(tokio::spawn(crate::cluster::serve_queries(
                self.clone(),
                self.stop.subscribe(),
            )));
            tasks.push(tokio::spawn(crate::cluster::run_leases(
                self.clone(),
                self.stop.subscribe(),
            )));
            tasks.push(tokio::spawn(crate::cluster::run_checkpoints(
                self.clone(),
                self.stop.subscribe(),
            )));
            tasks.push(tokio::spawn(crate::cluster::relay_events(
                self.clone(),
                self.stop.subscribe(),
            )));
            let metrics = self.metrics.cluster_lag.clone();
            let set_lag = Arc::new(move |shard: u32, lag: u64| {
                metrics
                    .get_or_create(&crate::metrics::ShardLabel {
                        shard: shard.to_string(),
                    })
                    .set(i64::try_from(lag).unwrap_or(i64::MAX));
            });
            tasks.push(tokio::spawn(
                c.clone().watch_lag(set_lag, self.stop.subscribe()),
            ));
        }
        self.ready.store(true, Ordering::Release);
        tasks
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Stores samples from `source` and counts them; returns after they are durable.
    pub async fn ingest(
        &self,
        series: Vec<TimeSeries>,
        source: &str,
    ) -> Result<AppendOutcome, StoreError> {
        // Scored before the write is acknowledged, so an anomaly is visible through the API as
        // soon as the sample that caused it is.
        let derived = match &self.detection {
            Some(d) => d.observe(&series),
            None => Vec::new(),
        };
        let out = self.store.append(series).await?;
        if !derived.is_empty()
            && let Err(e) = self.store.append(derived).await
        {
            tracing::warn!(error = %e, "storing anomaly scores failed");
        }
        self.metrics
            .samples_ingested
            .get_or_create(&SourceLabel {
                source: source.to_string(),
            })
            .inc_by(out.stored);
        for (why, n) in &out.rejected {
            self.metrics
                .samples_rejected
                .get_or_create(&ReasonLabel {
                    reason: why.as_str().to_string(),
                })
                .inc_by(*n);
        }
        Ok(out)
    }

    /// Correlates and stores alerts; answers once they are stored. In a cluster they go to the
    /// leader's incident task, here or on another node.
    pub async fn submit_alerts(
        &self,
        alerts: Vec<hush_correlate::Alert>,
        source: &'static str,
    ) -> Result<Vec<crate::incidents::Accepted>, crate::incidents::IncidentError> {
        match &self.cluster {
            Some(c) if !c.is_leader() => c.forward_alerts(alerts, source).await,
            _ => self.incidents.submit(alerts, source).await,
        }
    }

    /// Applies an operator's change to an incident through the (leader's) incident task.
    pub async fn patch_incident(
        &self,
        id: uuid::Uuid,
        patch: crate::incidents::Patch,
        actor: String,
    ) -> Result<hush_sql::Incident, crate::incidents::IncidentError> {
        use crate::incidents::IncidentError;
        match &self.cluster {
            Some(c) if !c.is_leader() => {
                let id = c.forward_patch(id, patch, actor).await?;
                self.db
                    .get_incident(id)
                    .await
                    .map_err(|e| IncidentError::Internal(e.to_string()))?
                    .ok_or(IncidentError::NotFound(id))
            }
            _ => self.incidents.patch(id, patch, actor).await,
        }
    }

    /// Merges incident `id` into `into` through the (leader's) incident task.
    pub async fn merge_incidents(
        &self,
        id: uuid::Uuid,
        into: uuid::Uuid,
        actor: String,
    ) -> Result<crate::incidents::Regrouped, crate::incidents::IncidentError> {
        match &self.cluster {
            Some(c) if !c.is_leader() => {
                let req = crate::cluster::RegroupRequest::Merge { id, into, actor };
                let ids = c.forward_regroup(req).await?;
                self.regrouped(ids).await
            }
            _ => self.incidents.merge(id, into, actor).await,
        }
    }

    /// Moves `alerts` (fingerprints) out of incident `id` into a new one through the
    /// (leader's) incident task.
    pub async fn split_incident(
        &self,
        id: uuid::Uuid,
        alerts: Vec<String>,
        actor: String,
    ) -> Result<crate::incidents::Regrouped, crate::incidents::IncidentError> {
        match &self.cluster {
            Some(c) if !c.is_leader() => {
                let req = crate::cluster::RegroupRequest::Split { id, alerts, actor };
                let ids = c.forward_regroup(req).await?;
                self.regrouped(ids).await
            }
            _ => self.incidents.split(id, alerts, actor).await,
        }
    }

    /// Reads back both incidents of a merge or split the leader made.
    async fn regrouped(
        &self,
        (a, b): (uuid::Uuid, uuid::Uuid),
    ) -> Result<crate::incidents::Regrouped, crate::incidents::IncidentError> {
        use crate::incidents::IncidentError;
        let read = async |id| {
            self.db
                .get_incident(id)
                .await
                .map_err(|e| IncidentError::Internal(e.to_string()))?
                .ok_or(IncidentError::NotFound(id))
        };
        Ok(crate::incidents::Regrouped {
            incident: read(a).await?,
            other: read(b).await?,
        })
    }

    /// Counts a request refused whole (bad input or a limit).
    pub fn count_rejected_request(&self, reason: &str) {
        self.metrics
            .requests_rejected
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// Stops background tasks and makes everything acknowledged durable, whatever the fsync
    /// policy.
    pub async fn shutdown(&self, tasks: Vec<JoinHandle<()>>) {
        self.ready.store(false, Ordering::Release);
        let _ = self.stop.send(true);
        for t in tasks {
            let _ = t.await;
        }
        // After the listeners stopped, so no line arrives once the segment is sealed.
        self.logs.close();
        if let Err(e) = self.store.sync().await {
            tracing::error!(error = %e, "final wal sync failed");
        }
        self.checkpoint_detection();
    }
}

/// Flushes the head into a block every `flush_interval` and compacts after each flush.
async fn maintenance(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    let every = engine.config.storage.flush_interval.0;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let store = engine.store.clone();
        let r = tokio::task::spawn_blocking(move || {
            let f = store.flush()?;
            let c = store.compact()?;
            Ok::<_, StoreError>((f, c))
        })
        .await;
        match r {
            Ok(Ok((f, c))) => tracing::info!(
                flushed = f.flushed_samples,
                merged = c.blocks_merged,
                dropped = c.blocks_dropped,
                "maintenance done"
            ),
            Ok(Err(e)) => tracing::error!(error = %e, "maintenance failed"),
            Err(e) => tracing::error!(error = %e, "maintenance task panicked"),
        }
        let e = engine.clone();
        let _ = tokio::task::spawn_blocking(move || e.checkpoint_detection()).await;
    }
}
