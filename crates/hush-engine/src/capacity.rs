//! Capacity planning on live data: resources from config, read from the store, estimated by
//! `hush-forecast`, ranked by time to exhaustion; and the predictive alerts that fire when
//! exhaustion falls inside the configured horizon and resolve when the trend turns.
//!
//! The estimates are pure ([`hush_forecast::capacity`]); this module only selects the data,
//! pairs free/size series, and keeps which alerts are firing between evaluations.

use crate::Engine;
use crate::config::PromDuration;
use hush_forecast::capacity::{
    self, AlertPolicy, AlertTransition, CapacityConfig, Exhaustion, LimitPairing, Risk,
};
use hush_model::{Labels, Matcher, Sample, TimeSeries};
use hush_store::Store;
use parking_lot::Mutex;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The `capacity:` section of the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CapacitySettings {
    /// Raise a predictive alert when exhaustion is expected within this long.
    pub horizon: PromDuration,
    /// History read for each estimate.
    pub lookback: PromDuration,
    /// Grid step the history is read at (samples are averaged into it).
    pub step: PromDuration,
    /// How often the resources are re-estimated in the background (alerts need no request).
    pub interval: PromDuration,
    /// How long a recommendation should keep a resource safe.
    pub safe_for: PromDuration,
    /// Resolved predictive alerts kept for the API.
    pub max_resolved: usize,
    pub resources: Vec<ResourceConfig>,
}

impl Default for CapacitySettings {
    fn default() -> Self {
        Self {
            horizon: PromDuration::from_secs(7 * 86_400),
            lookback: PromDuration::from_secs(14 * 86_400),
            step: PromDuration::from_secs(300),
            interval: PromDuration::from_secs(300),
            safe_for: PromDuration::from_secs(30 * 86_400),
            max_resolved: 1000,
            resources: Vec::new(),
        }
    }
}

/// One configured resource: a selector (each matching series is one resource) and where its
/// limit comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceConfig {
    /// Shown in reports and alerts; defaults to the selector.
    #[serde(default)]
    pub name: Option<String>,
    /// PromQL series selector of the usage (or free-space) metric.
    pub selector: String,
    /// A fixed limit in the metric's unit.
    #[serde(default)]
    pub limit: Option<f64>,
    /// A selector of the series holding the limit, matched on the other labels.
    #[serde(default)]
    pub limit_selector: Option<String>,
    /// The metric counts what is free (usage = limit - value). Defaults to what is known of the
    /// metric (`node_filesystem_avail_bytes` is free space), else false.
    #[serde(default)]
    pub free: Option<bool>,
}

impl CapacitySettings {
    /// Checks what deserialisation cannot: selectors parse, a limit source exists, durations
    /// are non-zero.
    pub fn check(&self) -> Result<(), String> {
        for (what, d) in [
            ("horizon", self.horizon),
            ("lookback", self.lookback),
            ("step", self.step),
            ("interval", self.interval),
        ] {
            if d.0.is_zero() {
                return Err(format!("capacity.{what} must be positive"));
            }
        }
        if self.step.0 * 3 > self.lookback.0 {
            return Err("capacity.lookback must hold at least 3 steps".into());
        }
        for (i, r) in self.resources.iter().enumerate() {
            let at = |m: String| format!("capacity.resources[{i}]: {m}");
            let matchers = crate::selector::parse(&r.selector).map_err(at)?;
            if let Some(s) = &r.limit_selector {
                crate::selector::parse(s).map_err(at)?;
            }
            if let Some(l) = r.limit
                && !(l.is_finite() && l > 0.0)
            {
                return Err(at(format!("limit must be a positive number, got {l}")));
            }
            let known = metric_name(&matchers).and_then(capacity::pairing_for);
            if r.limit.is_none() && r.limit_selector.is_none() && known.is_none() {
                return Err(at(format!(
                    "`{}` has no known limit series: set `limit` or `limit_selector`",
                    r.selector
                )));
            }
        }
        Ok(())
    }
}

fn metric_name(m: &[Matcher]) -> Option<&str> {
    m.iter()
        .find(|m| m.name == "__name__" && m.op == hush_model::MatchOp::Equal)
        .map(|m| m.value.as_str())
}

/// A predictive alert: small and self-contained so the alert pipeline can take it as is.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PredictiveAlert {
    /// Always `CapacityExhaustionPredicted`.
    pub name: String,
    /// The resource's series labels plus `resource` (the configured name).
    pub labels: Labels,
    /// `critical` when exhaustion may come within a day, else `warning`.
    pub severity: String,
    /// Milliseconds since the epoch.
    pub starts_at: i64,
    /// Set once resolved.
    pub ends_at: Option<i64>,
    /// E.g. "disk /: full in 3.2 days (2.5–4.1)".
    pub summary: String,
}

/// One resource's estimate, as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceReport {
    pub resource: String,
    pub labels: Labels,
    pub current: f64,
    pub limit: f64,
    /// Growth per day of the trend (negative when shrinking).
    pub growth_per_day: f64,
    /// Central estimate of exhaustion, ms since the epoch.
    pub exhaustion: Option<i64>,
    /// Range of the estimate (ms): earliest plausible, latest plausible (None: maybe never).
    pub earliest: Option<i64>,
    pub latest: Option<i64>,
    pub days_left: Option<f64>,
    pub summary: String,
    pub risk: &'static str,
    /// How much to add to stay safe for `capacity.safe_for`.
    pub recommended_add: f64,
    pub recommendation: String,
    pub model: String,
    /// Mean absolute scaled error of the model on the held-out end of the history.
    pub backtest_mase: Option<f64>,
}

/// A resource that could not be estimated, with the reason.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub resource: String,
    pub labels: Labels,
    pub reason: String,
}

/// The result of one evaluation.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapacityReport {
    pub evaluated_at: i64,
    /// Soonest exhaustion first; resources not expected to run out last.
    pub resources: Vec<ResourceReport>,
    pub skipped: Vec<Skipped>,
}

#[derive(Default)]
struct AlertState {
    firing: BTreeMap<String, PredictiveAlert>,
    resolved: Vec<PredictiveAlert>,
}

/// Configured resources and the predictive alerts' state.
pub struct Capacity {
    settings: CapacitySettings,
    resources: Vec<(ResourceConfig, Vec<Matcher>, Option<Vec<Matcher>>)>,
    alerts: Mutex<AlertState>,
}

const ALERT_NAME: &str = "CapacityExhaustionPredicted";

fn risk_name(r: Risk) -> &'static str {
    match r {
        Risk::None => "none",
        Risk::Low => "low",
        Risk::Medium => "medium",
        Risk::High => "high",
        Risk::Critical => "critical",
    }
}

fn ms(d: PromDuration) -> i64 {
    i64::try_from(d.0.as_millis()).unwrap_or(i64::MAX)
}

/// The labels that identify a resource apart from the metric name, for pairing.
fn without_name(l: &Labels) -> Labels {
    l.without(&["__name__"])
}

impl Capacity {
    /// Validated settings (see [`CapacitySettings::check`]).
    pub fn new(settings: CapacitySettings) -> anyhow::Result<Self> {
        settings.check().map_err(anyhow::Error::msg)?;
        let resources = settings
            .resources
            .iter()
            .map(|r| {
                let m = crate::selector::parse(&r.selector).map_err(anyhow::Error::msg)?;
                let l = r
                    .limit_selector
                    .as_deref()
                    .map(crate::selector::parse)
                    .transpose()
                    .map_err(anyhow::Error::msg)?;
                Ok((r.clone(), m, l))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            settings,
            resources,
            alerts: Mutex::new(AlertState::default()),
        })
    }

    pub fn settings(&self) -> &CapacitySettings {
        &self.settings
    }

    /// Firing alerts, then resolved ones (newest last).
    pub fn alerts(&self) -> Vec<PredictiveAlert> {
        let st = self.alerts.lock();
        st.firing
            .values()
            .cloned()
            .chain(st.resolved.iter().cloned())
            .collect()
    }

    /// Estimates every resource at `now` from the store and updates the predictive alerts.
    /// Blocking (reads blocks): call it off the async threads.
    pub fn evaluate(&self, store: &Store, now: i64) -> anyhow::Result<CapacityReport> {
        let start = now.saturating_sub(ms(self.settings.lookback));
        let mut report = CapacityReport {
            evaluated_at: now,
            ..CapacityReport::default()
        };
        let mut seen = Vec::new();
        for (cfg, matchers, limit_matchers) in &self.resources {
            let name = cfg.name.clone().unwrap_or_else(|| cfg.selector.clone());
            let series = store
                .select(matchers, start, now)
                .map_err(|e| anyhow::anyhow!("failed to read `{}`: {e}", cfg.selector))?;
            let known = metric_name(matchers).and_then(capacity::pairing_for);
            let limits = match (limit_matchers, cfg.limit, known) {
                (Some(m), _, _) => store
                    .select(m, start, now)
                    .map_err(|e| anyhow::anyhow!("failed to read the limit of `{name}`: {e}"))?,
                (None, None, Some(p)) => {
                    let mut m = vec![Matcher::equal("__name__", p.limit_metric)];
                    m.extend(matchers.iter().filter(|m| m.name != "__name__").cloned());
                    store
                        .select(&m, start, now)
                        .map_err(|e| anyhow::anyhow!("failed to read `{}`: {e}", p.limit_metric))?
                }
                _ => Vec::new(),
            };
            let free = cfg.free.or(known.map(|p| p.measures_free)).unwrap_or(false);
            for s in series {
                let labels = s.labels.with("resource", &name);
                match self.estimate(cfg, &s, &limits, free, now) {
                    Ok((ex, mase)) => {
                        seen.push(alert_key(&labels));
                        let r = self.report(&name, labels, &ex, mase, now);
                        self.update_alert(&r, &ex, now);
                        report.resources.push(r);
                    }
                    Err(reason) => report.skipped.push(Skipped {
                        resource: name.clone(),
                        labels,
                        reason,
                    }),
                }
            }
        }
        self.resolve_missing(&seen, now);
        report.resources.sort_by(|a, b| {
            let key = |r: &ResourceReport| r.exhaustion.unwrap_or(i64::MAX);
            key(a).cmp(&key(b)).then(a.resource.cmp(&b.resource))
        });
        Ok(report)
    }

    fn estimate(
        &self,
        cfg: &ResourceConfig,
        s: &TimeSeries,
        limits: &[TimeSeries],
        free: bool,
        now: i64,
    ) -> Result<(Exhaustion, Option<f64>), String> {
        let (usage, limit) = match cfg.limit {
            Some(l) if !free => (s.samples.clone(), l),
            Some(l) => (
                s.samples
                    .iter()
                    .map(|p| Sample::new(p.t, l - p.v))
                    .collect(),
                l,
            ),
            None => {
                let key = without_name(&s.labels);
                let lim = limits
                    .iter()
                    .find(|l| without_name(&l.labels) == key)
                    .ok_or("no limit series with the same labels")?;
                let pairing = LimitPairing {
                    limit_metric: "",
                    measures_free: free,
                };
                capacity::paired_usage(&s.samples, &lim.samples, pairing)
                    .ok_or("usage and limit series share no timestamps")?
            }
        };
        let grid = capacity::regularize(&usage, Some(ms(self.settings.step)))
            .map_err(|e| e.to_string())?;
        let config = CapacityConfig::default();
        let ex =
            capacity::time_to_exhaustion(&grid, limit, now, &config).map_err(|e| e.to_string())?;
        Ok((ex, capacity::backtest_mase(&grid, &config)))
    }

    fn report(
        &self,
        name: &str,
        labels: Labels,
        ex: &Exhaustion,
        mase: Option<f64>,
        now: i64,
    ) -> ResourceReport {
        let safe = ms(self.settings.safe_for);
        let rec = ex.recommend(now.saturating_add(safe), CapacityConfig::default().headroom);
        let days = safe as f64 / capacity::DAY_MS as f64;
        let recommendation = if rec.add > 0.0 {
            format!(
                "add {} (limit {}) to stay under {:.0} % for {days:.0} days",
                fmt_num(rec.add),
                fmt_num(rec.needed_limit),
                90.0
            )
        } else {
            format!("nothing to add for the next {days:.0} days")
        };
        ResourceReport {
            resource: name.to_string(),
            labels,
            current: ex.current,
            limit: ex.limit,
            growth_per_day: ex.growth_per_day,
            exhaustion: ex.eta,
            earliest: ex.earliest,
            latest: ex.latest,
            days_left: ex.days_left(now),
            summary: format!("{name}: {}", ex.describe(now)),
            risk: risk_name(ex.risk),
            recommended_add: rec.add,
            recommendation,
            model: ex.model_name(),
            backtest_mase: mase,
        }
    }

    fn update_alert(&self, r: &ResourceReport, ex: &Exhaustion, now: i64) {
        let key = alert_key(&r.labels);
        let policy = AlertPolicy {
            horizon: ms(self.settings.horizon),
            ..AlertPolicy::default()
        };
        let mut st = self.alerts.lock();
        let firing = st.firing.contains_key(&key);
        match capacity::predictive_alert(ex, now, &policy, firing) {
            AlertTransition::Raise => {
                let labels = r.labels.with("alertname", ALERT_NAME);
                st.firing.insert(
                    key,
                    PredictiveAlert {
                        name: ALERT_NAME.into(),
                        labels,
                        severity: severity(ex.risk).into(),
                        starts_at: now,
                        ends_at: None,
                        summary: r.summary.clone(),
                    },
                );
            }
            AlertTransition::Hold => {
                if let Some(a) = st.firing.get_mut(&key) {
                    a.summary = r.summary.clone();
                    a.severity = severity(ex.risk).into();
                }
            }
            AlertTransition::Resolve => self.resolve(&mut st, &key, now),
            AlertTransition::Quiet => {}
        }
    }

    fn resolve(&self, st: &mut AlertState, key: &str, now: i64) {
        if let Some(mut a) = st.firing.remove(key) {
            a.ends_at = Some(now);
            st.resolved.push(a);
            let excess = st.resolved.len().saturating_sub(self.settings.max_resolved);
            st.resolved.drain(..excess);
        }
    }

    /// A resource whose series disappeared (deleted volume, retired host) cannot run out.
    fn resolve_missing(&self, seen: &[String], now: i64) {
        let mut st = self.alerts.lock();
        let gone: Vec<String> = st
            .firing
            .keys()
            .filter(|k| !seen.contains(k))
            .cloned()
            .collect();
        for k in gone {
            self.resolve(&mut st, &k, now);
        }
    }
}

fn severity(r: Risk) -> &'static str {
    if r == Risk::Critical {
        "critical"
    } else {
        "warning"
    }
}

fn alert_key(l: &Labels) -> String {
    l.iter()
        .map(|l| format!("{}={:?}", l.name, l.value))
        .collect::<Vec<_>>()
        .join(",")
}

/// Compact number for messages: 1.2e+11 style is unreadable, so SI prefixes.
fn fmt_num(v: f64) -> String {
    let a = v.abs();
    let (d, p) = match a {
        x if x >= 1e12 => (1e12, "T"),
        x if x >= 1e9 => (1e9, "G"),
        x if x >= 1e6 => (1e6, "M"),
        x if x >= 1e3 => (1e3, "k"),
        _ => (1.0, ""),
    };
    format!("{:.1}{p}", v / d)
}

/// Re-estimates the resources every `capacity.interval`, so predictive alerts fire and
/// resolve without anyone asking.
pub(crate) async fn run(
    engine: std::sync::Arc<crate::Engine>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let every = engine.config.capacity.interval.0;
    let mut tick = tokio::time::interval(every);
    // What was last handed to the incident pipeline, per fingerprint: (start, resolved).
    let mut sent: HashMap<String, (i64, bool)> = HashMap::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let e = engine.clone();
        let r =
            tokio::task::spawn_blocking(move || e.capacity.evaluate(&e.store, e.clock.now_ms()))
                .await;
        match r {
            Ok(Ok(report)) => {
                tracing::debug!(
                    resources = report.resources.len(),
                    skipped = report.skipped.len(),
                    "capacity evaluated"
                );
                forward(&engine, &mut sent).await;
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "capacity evaluation failed"),
            Err(e) => tracing::error!(error = %e, "capacity task panicked"),
        }
    }
}

/// Hands new and newly resolved predictive alerts to the incident pipeline (source
/// `capacity`), so a coming exhaustion opens an incident like any other alert.
async fn forward(engine: &Arc<Engine>, sent: &mut HashMap<String, (i64, bool)>) {
    let now = engine.clock.now_ms();
    let mut batch = Vec::new();
    for pa in engine.capacity.alerts() {
        let mut labels: std::collections::BTreeMap<String, String> = pa
            .labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect();
        labels.remove("__name__");
        labels.insert("alertname".into(), pa.name.clone());
        labels.insert("severity".into(), pa.severity.clone());
        let fingerprint = hush_correlate::fingerprint(&labels);
        let resolved = pa.ends_at.is_some();
        if sent.get(&fingerprint) == Some(&(pa.starts_at, resolved)) {
            continue;
        }
        sent.insert(fingerprint.clone(), (pa.starts_at, resolved));
        batch.push(hush_correlate::Alert {
            fingerprint,
            status: if resolved {
                hush_correlate::AlertStatus::Resolved
            } else {
                hush_correlate::AlertStatus::Firing
            },
            labels,
            annotations: [("summary".to_string(), pa.summary.clone())].into(),
            starts_at: pa.starts_at,
            ends_at: pa.ends_at,
            received_at: now,
        });
    }
    if batch.is_empty() {
        return;
    }
    if let Err(e) = engine.submit_alerts(batch, "capacity").await {
        tracing::warn!(error = %e, "predictive alerts were not taken by the incident pipeline");
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    fn parse(s: &str) -> Result<Config, String> {
        Config::parse(s, Path::new("hush.yaml")).map_err(|e| e.to_string())
    }

    #[test]
    fn resources_need_a_limit_source_and_valid_selectors() {
        let c = parse("capacity:\n  horizon: 3d\n  resources:\n    - selector: 'node_filesystem_avail_bytes{mountpoint=\"/\"}'\n    - name: queue\n      selector: queue_depth\n      limit: 1000\n").unwrap();
        assert_eq!(c.capacity.horizon.0.as_secs(), 3 * 86_400);
        assert_eq!(c.capacity.resources.len(), 2);
        assert!(super::Capacity::new(c.capacity).is_ok());

        let e = parse("capacity:\n  resources:\n    - selector: queue_depth\n").unwrap_err();
        assert!(
            e.contains("capacity.resources[0]") && e.contains("limit"),
            "{e}"
        );
        let e = parse("capacity:\n  resources:\n    - selector: 'rate(x[5m])'\n      limit: 1\n")
            .unwrap_err();
        assert!(e.contains("not a series selector"), "{e}");
        let e = parse("capacity:\n  resources:\n    - selector: x\n      limit: -5\n").unwrap_err();
        assert!(e.contains("limit must be a positive number"), "{e}");
        let e = parse("capacity:\n  step: 0s\n").unwrap_err();
        assert!(e.contains("capacity.step"), "{e}");
        let e = parse("capacity:\n  resources:\n    - selector: x\n      limt: 5\n").unwrap_err();
        assert!(e.contains("limt"), "{e}");
    }
}
