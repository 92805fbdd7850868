//! Remediation in the running server: the controller from `hush-remediate`, fed by the SQL
//! store's incidents and answering its PromQL through `hush-query` on the series store.
//!
//! One task polls (every `remediation.poll_interval`, or at once when a run is approved) and
//! owns the tasks that execute runs; on shutdown it gives them a bounded time to finish the
//! step they are in, so its outcome reaches the audit log.

use crate::Engine;
use hush_model::{Matcher, TimeSeries};
use hush_remediate::{MetricQuery, Remediator};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// PromQL over the series store: a precondition or verification holds when the expression
/// returns a non-empty vector or a non-zero scalar (so `errors < 1` holds once errors recover).
pub struct StoreQuery(pub hush_store::Store);

struct Source<'a>(&'a hush_store::Store);

impl hush_query::Storage for Source<'_> {
    fn select(
        &self,
        m: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<TimeSeries>, hush_query::StorageError> {
        self.0
            .select(m, start, end)
            .map_err(|e| hush_query::StorageError(e.to_string()))
    }
}

impl StoreQuery {
    fn eval(&self, expr: &str, t_ms: i64) -> Result<bool, String> {
        let q = hush_query::Engine::new(Source(&self.0), hush_query::EngineOptions::default());
        match q.instant(expr, t_ms).map_err(|e| e.to_string())? {
            hush_query::Value::Vector(v) => Ok(!v.is_empty()),
            hush_query::Value::Scalar(_, x) => Ok(x != 0.0 && !x.is_nan()),
            hush_query::Value::Matrix(m) => Ok(!m.is_empty()),
            hush_query::Value::String(..) => Err(format!("`{expr}` is a string, not a condition")),
        }
    }
}

impl MetricQuery for StoreQuery {
    fn holds(&self, expr: &str, t_ms: i64) -> Result<bool, String> {
        // Evaluation is CPU-bound and may read block files: keep it off the async workers
        // where the runtime allows.
        let multi = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi {
            tokio::task::block_in_place(|| self.eval(expr, t_ms))
        } else {
            self.eval(expr, t_ms)
        }
    }
}

/// The controller when `remediation.runbooks_dir` is set; a runbook that does not load refuses
/// start-up with its file and line.
pub(crate) fn open(
    config: &crate::config::Config,
    db: &hush_sql::SqlStore,
    store: &hush_store::Store,
) -> anyhow::Result<Option<Arc<Remediator>>> {
    if config.remediation.runbooks_dir.is_none() {
        return Ok(None);
    }
    let r = tokio::runtime::Handle::current()
        .block_on(Remediator::open(
            config.remediation.clone(),
            db.clone(),
            Arc::new(StoreQuery(store.clone())),
        ))
        .map_err(|e| anyhow::anyhow!("remediation: {e}"))?;
    Ok(Some(Arc::new(r)))
}

/// Polls and executes until `stop`.
pub(crate) async fn run(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    let Some(rem) = engine.remediation.clone() else {
        return;
    };
    let mut tick = tokio::time::interval(engine.config.remediation.poll_interval.0);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut running = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = rem.wake.notified() => {}
            _ = stop.changed() => break,
        }
        for id in rem.tick(hush_remediate::controller::now_ms()).await {
            let r = rem.clone();
            running.spawn(async move { r.execute(id).await });
        }
        while let Some(done) = running.try_join_next() {
            if let Err(e) = done {
                tracing::error!(error = %e, "remediation run task failed");
            }
        }
    }
    let drain = async { while running.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(10), drain)
        .await
        .is_err()
    {
        tracing::warn!("remediation runs still executing at shutdown were stopped");
    }
}
