//! Hush's own anomalies as alerts: metric anomalies (live detection) and log anomalies (new
//! error templates, surges) are handed to the incident pipeline like any other alert, so a
//! departure opens an incident or joins the one it belongs to.
//!
//! Anomalies are points; alerts are episodes. Anomalies of one series (or of one service's
//! template and kind) that follow each other within `anomaly_alerts.hold` are one alert: it
//! fires with the first, is re-sent as later ones extend it (its `ends_at` is the last anomaly
//! plus `hold`, so an alert whose sender stops — a restart — still expires), and is resolved
//! once `hold` passes without one.

use crate::config::PromDuration;
use crate::detection::Anomaly;
use crate::logs::LogAnomaly;
use hush_correlate::{Alert, AlertStatus};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// `anomaly_alerts` in the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnomalyAlertsConfig {
    pub enabled: bool,
    /// Anomalies this close together are one alert; this long without one resolves it.
    pub hold: PromDuration,
    /// How often new anomalies are looked for.
    pub interval: PromDuration,
    /// Metric anomalies scoring below this are kept for the API but raise no alert: the
    /// detector's default, tuned on NAB, also flags weak (about 1σ) shifts that no one
    /// should be paged for.
    pub min_score: f64,
}

impl Default for AnomalyAlertsConfig {
    fn default() -> Self {
        Self {
            // Off until anomalies can join incidents as evidence without opening their own:
            // on the simulator's shop the detector and new error templates opened several
            // incidents per run that no operator would want (docs/detection.md).
            enabled: false,
            hold: PromDuration::from_secs(600),
            interval: PromDuration::from_secs(5),
            min_score: 0.9,
        }
    }
}

impl AnomalyAlertsConfig {
    pub fn check(&self) -> Result<(), String> {
        if self.hold.0.is_zero() || self.interval.0.is_zero() {
            return Err("anomaly_alerts.hold and anomaly_alerts.interval must be positive".into());
        }
        if !(0.0..=1.0).contains(&self.min_score) {
            return Err(format!(
                "anomaly_alerts.min_score must be in [0, 1], not {}",
                self.min_score
            ));
        }
        Ok(())
    }
}

/// One open episode.
struct Episode {
    starts_at: i64,
    /// Time of its latest anomaly.
    last: i64,
    /// `last` when it was last sent.
    sent: i64,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

/// Episodes by fingerprint, and the anomaly ids already looked at. Pure: time is an argument.
pub struct Episodes {
    hold: i64,
    open: HashMap<String, Episode>,
    pub(crate) next_metric: u64,
    pub(crate) next_log: u64,
}

impl Episodes {
    pub fn new(hold_ms: i64) -> Self {
        Self {
            hold: hold_ms.max(1),
            open: HashMap::new(),
            next_metric: 0,
            next_log: 0,
        }
    }

    /// Folds one anomaly (its alert labels, annotations and time) into its episode.
    pub fn add(
        &mut self,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
        time: i64,
    ) {
        let fp = hush_correlate::fingerprint(&labels);
        match self.open.get_mut(&fp) {
            Some(e) if time <= e.last + self.hold => {
                if time > e.last {
                    e.last = time;
                    e.annotations = annotations;
                }
            }
            // The earlier episode ended unseen between two looks: this anomaly starts a new
            // one (the same fingerprint with a new `starts_at` is a new alert).
            _ => {
                self.open.insert(
                    fp,
                    Episode {
                        starts_at: time,
                        last: time,
                        sent: i64::MIN,
                        labels,
                        annotations,
                    },
                );
            }
        }
    }

    /// The alerts to send at `now`: new episodes (unless already over), episodes extended by a quarter of `hold`
    /// since last sent (so `ends_at` stays ahead without re-sending every anomaly), and
    /// episodes `hold` past their last anomaly, which are resolved and forgotten.
    pub fn due(&mut self, now: i64) -> Vec<Alert> {
        let mut out = Vec::new();
        let hold = self.hold;
        self.open.retain(|fp, e| {
            let over = now > e.last + hold;
            if over && e.sent == i64::MIN {
                // Over before anyone saw it (backfilled history, a long stall): the past is
                // not paged; the anomaly stays in the API.
                return false;
            }
            let extend = e.sent == i64::MIN || e.last >= e.sent.saturating_add(hold / 4);
            if over || extend {
                e.sent = e.last;
                out.push(Alert {
                    fingerprint: fp.clone(),
                    status: if over {
                        AlertStatus::Resolved
                    } else {
                        AlertStatus::Firing
                    },
                    labels: e.labels.clone(),
                    annotations: e.annotations.clone(),
                    starts_at: e.starts_at,
                    ends_at: Some(if over { e.last } else { e.last + hold }),
                    received_at: now,
                });
            }
            !over
        });
        // Resolutions after firings of other episodes, in a stable order.
        out.sort_by(|a, b| {
            (a.status == AlertStatus::Resolved, &a.fingerprint)
                .cmp(&(b.status == AlertStatus::Resolved, &b.fingerprint))
        });
        out
    }

    pub fn open(&self) -> usize {
        self.open.len()
    }
}

/// The alert of a metric anomaly: the series' labels (its name as `metric`), `alertname`
/// `HushAnomaly`, and its explanation.
pub fn metric_alert(a: &Anomaly) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut labels: BTreeMap<String, String> = a
        .labels
        .iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect();
    if let Some(name) = labels.remove("__name__") {
        labels.entry("metric".into()).or_insert(name);
    }
    if let Some(s) = &a.service {
        labels.entry("service".into()).or_insert_with(|| s.clone());
    }
    labels.insert("alertname".into(), "HushAnomaly".into());
    labels.insert("severity".into(), "warning".into());
    let mut ann = BTreeMap::new();
    ann.insert("summary".into(), a.explanation.clone());
    ann.insert("anomaly_id".into(), a.id.to_string());
    ann.insert("score".into(), format!("{:.3}", a.score));
    if let Some(k) = &a.kind {
        ann.insert("kind".into(), k.clone());
    }
    (labels, ann)
}

/// The alert of a log anomaly: service, template and level, `alertname` naming the kind, the
/// explanation and the first example line.
pub fn log_alert(a: &LogAnomaly) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let alertname = match a.kind.as_str() {
        "new_error_template" => "HushNewLogPattern",
        "surge" => "HushLogSurge",
        _ => "HushLogAnomaly",
    };
    let labels: BTreeMap<String, String> = [
        ("alertname", alertname.to_string()),
        ("service", a.service.clone()),
        ("template_id", a.template_id.to_string()),
        ("level", a.level.clone()),
        ("severity", "warning".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut ann = BTreeMap::new();
    ann.insert("summary".into(), a.explanation.clone());
    ann.insert("template".into(), a.template.clone());
    ann.insert("anomaly_id".into(), a.id.to_string());
    if let Some(x) = a.examples.first() {
        ann.insert("example".into(), x.clone());
    }
    (labels, ann)
}

/// Every `anomaly_alerts.interval`, sends what [`Episodes::due`] says to the incident pipeline.
pub(crate) async fn run(engine: Arc<crate::Engine>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let cfg = engine.config.anomaly_alerts.clone();
    let mut tick = tokio::time::interval(cfg.interval.0);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let hold = i64::try_from(cfg.hold.0.as_millis()).unwrap_or(i64::MAX);
    let mut eps = Episodes::new(hold);
    // Anomalies kept from before a restart were handed over then (or expired since).
    if let Some(d) = &engine.detection {
        eps.next_metric = d.next_id();
    }
    eps.next_log = engine.logs.next_anomaly_id();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        collect(&engine, &cfg, &mut eps);
        let batch = eps.due(engine.clock.now_ms());
        if batch.is_empty() {
            continue;
        }
        let n = batch.len();
        if let Err(e) = engine.submit_alerts(batch, "anomaly").await {
            tracing::warn!(error = %e, alerts = n, "anomaly alerts were not taken by the incident pipeline");
        }
    }
}

/// Folds anomalies found since the last look into `eps`.
fn collect(engine: &crate::Engine, cfg: &AnomalyAlertsConfig, eps: &mut Episodes) {
    if let Some(d) = &engine.detection {
        for a in d.since(eps.next_metric) {
            eps.next_metric = a.id + 1;
            if a.score >= cfg.min_score {
                let (l, ann) = metric_alert(&a);
                eps.add(l, ann, a.time);
            }
        }
    }
    for a in engine.logs.anomalies_since(eps.next_log) {
        eps.next_log = a.id + 1;
        let (l, ann) = log_alert(&a);
        eps.add(l, ann, a.time);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(series: &str) -> BTreeMap<String, String> {
        [("alertname", "HushAnomaly"), ("metric", series)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn anomalies_of_a_series_are_one_alert_that_resolves_after_hold() {
        let mut e = Episodes::new(600_000);
        e.add(labels("a"), BTreeMap::new(), 1_000);
        let first = e.due(2_000);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].status, AlertStatus::Firing);
        assert_eq!(first[0].starts_at, 1_000);
        assert_eq!(first[0].ends_at, Some(601_000));
        // Close followers extend it without a re-send until a quarter of `hold` has passed.
        e.add(labels("a"), BTreeMap::new(), 60_000);
        assert!(e.due(61_000).is_empty());
        e.add(labels("a"), BTreeMap::new(), 200_000);
        let again = e.due(201_000);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].fingerprint, first[0].fingerprint);
        assert_eq!(again[0].starts_at, 1_000, "the same alert, re-sent");
        assert_eq!(again[0].ends_at, Some(800_000));
        // Quiet for `hold`: resolved at its last anomaly, then forgotten.
        assert!(e.due(800_000).is_empty());
        let done = e.due(800_001);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].status, AlertStatus::Resolved);
        assert_eq!(done[0].ends_at, Some(200_000));
        assert_eq!(e.open(), 0);
        assert!(e.due(900_000).is_empty());
    }

    #[test]
    fn a_late_anomaly_after_a_gap_starts_a_new_alert() {
        let mut e = Episodes::new(1_000);
        e.add(labels("a"), BTreeMap::new(), 0);
        e.add(labels("a"), BTreeMap::new(), 5_000);
        let out = e.due(5_001);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].starts_at, 5_000);
        e.add(labels("b"), BTreeMap::new(), 5_500);
        assert_eq!(e.due(5_600).len(), 1);
        assert_eq!(e.open(), 2);
    }

    #[test]
    fn an_episode_over_before_it_was_seen_is_not_sent() {
        let mut e = Episodes::new(1_000);
        e.add(labels("a"), BTreeMap::new(), 0);
        assert!(e.due(10_000).is_empty());
        assert_eq!(e.open(), 0);
    }
}
