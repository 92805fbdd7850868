//! Live anomaly detection: one streaming detector per selected series, fed as samples are
//! stored. Anomalies are kept (newest last, bounded) for the API, and each scored point also
//! becomes samples of `hush_anomaly_score`, `hush_expected_lower` and `hush_expected_upper`
//! (labels of the source series plus `metric`), so any PromQL client can chart the band.

use crate::config::DetectionConfig;
use hush_detect::{Config as DetectorConfig, Detector};
use hush_model::{Labels, Matcher, Sample, SeriesId, TimeSeries};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};

/// One anomaly, as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Anomaly {
    pub id: u64,
    /// The series' labels, `__name__` included.
    pub labels: Labels,
    pub service: Option<String>,
    /// Milliseconds since the epoch.
    pub time: i64,
    pub value: f64,
    pub score: f64,
    pub expected: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub kind: Option<String>,
    pub explanation: String,
}

struct SeriesState {
    detector: Detector,
    last_t: i64,
}

struct State {
    series: HashMap<SeriesId, SeriesState>,
    anomalies: VecDeque<Anomaly>,
    next_id: u64,
    refused: u64,
}

pub struct Detection {
    cfg: DetectionConfig,
    selectors: Vec<Vec<Matcher>>,
    detector: DetectorConfig,
    state: Mutex<State>,
}

impl Detection {
    pub fn new(cfg: DetectionConfig) -> anyhow::Result<Self> {
        let selectors = cfg
            .series
            .iter()
            .map(|s| crate::selector::parse(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(anyhow::Error::msg)?;
        let mut detector = DetectorConfig::default();
        if let Some(s) = cfg.sensitivity {
            detector.sensitivity = s;
        }
        Detector::new(detector.clone()).map_err(|e| anyhow::anyhow!("detection config: {e}"))?;
        let state = State {
            series: HashMap::new(),
            anomalies: VecDeque::new(),
            next_id: 1,
            refused: 0,
        };
        Ok(Self {
            cfg,
            selectors,
            detector,
            state: Mutex::new(state),
        })
    }

    fn selected(&self, labels: &Labels) -> bool {
        // Derived series are never scored again.
        if labels.metric_name().is_some_and(|n| n.starts_with("hush_")) {
            return false;
        }
        self.selectors.is_empty()
            || self
                .selectors
                .iter()
                .any(|ms| ms.iter().all(|m| m.matches(labels)))
    }

    /// Scores the new samples of selected series (older or repeated timestamps are skipped,
    /// so client retries are not counted twice) and returns the derived series to store.
    pub fn observe(&self, batch: &[TimeSeries]) -> Vec<TimeSeries> {
        let mut derived = Vec::new();
        let mut st = self.state.lock();
        for ts in batch.iter().filter(|ts| self.selected(&ts.labels)) {
            let id = ts.labels.series_id();
            if !st.series.contains_key(&id) {
                if st.series.len() >= self.cfg.max_series {
                    st.refused += 1;
                    continue;
                }
                let Ok(detector) = Detector::new(self.detector.clone()) else {
                    continue;
                };
                st.series.insert(
                    id,
                    SeriesState {
                        detector,
                        last_t: i64::MIN,
                    },
                );
            }
            let (mut score, mut lower, mut upper) = (Vec::new(), Vec::new(), Vec::new());
            let mut found = Vec::new();
            if let Some(s) = st.series.get_mut(&id) {
                for p in ts.samples.iter().filter(|p| p.v.is_finite()) {
                    if p.t <= s.last_t {
                        continue;
                    }
                    s.last_t = p.t;
                    let out = s.detector.step(Some(p.v));
                    score.push(Sample::new(p.t, out.score));
                    if let Some(b) = out.band {
                        lower.push(Sample::new(p.t, b.lower));
                        upper.push(Sample::new(p.t, b.upper));
                    }
                    if out.anomaly {
                        found.push((*p, out));
                    }
                }
            }
            for (p, out) in found {
                let id = st.next_id;
                st.next_id += 1;
                st.anomalies.push_back(Anomaly {
                    id,
                    labels: ts.labels.clone(),
                    service: ts
                        .labels
                        .get("service")
                        .or(ts.labels.get("job"))
                        .map(str::to_string),
                    time: p.t,
                    value: p.v,
                    score: out.score,
                    expected: out.band.map(|b| b.expected),
                    lower: out.band.map(|b| b.lower),
                    upper: out.band.map(|b| b.upper),
                    kind: out
                        .explanation
                        .as_ref()
                        .map(|e| format!("{:?}", e.kind).to_lowercase()),
                    explanation: out.explanation.map(|e| e.to_string()).unwrap_or_default(),
                });
                if st.anomalies.len() > self.cfg.max_anomalies {
                    st.anomalies.pop_front();
                }
            }
            if self.cfg.write_series {
                let metric = ts.labels.metric_name().unwrap_or_default().to_string();
                for (name, samples) in [
                    ("hush_anomaly_score", score),
                    ("hush_expected_lower", lower),
                    ("hush_expected_upper", upper),
                ] {
                    if !samples.is_empty() {
                        let l = ts.labels.with("metric", &metric).with("__name__", name);
                        derived.push(TimeSeries::new(l, samples));
                    }
                }
            }
        }
        derived
    }

    /// Anomalies matching the filters, oldest first, at most `limit`.
    pub fn list(&self, f: &AnomalyFilter) -> Vec<Anomaly> {
        let st = self.state.lock();
        let mut out: Vec<Anomaly> = st
            .anomalies
            .iter()
            .filter(|a| a.time >= f.start && a.time <= f.end && a.score >= f.min_score)
            .filter(|a| {
                f.service
                    .as_deref()
                    .is_none_or(|s| a.service.as_deref() == Some(s))
            })
            .filter(|a| {
                f.selectors.is_empty()
                    || f.selectors
                        .iter()
                        .any(|ms| ms.iter().all(|m| m.matches(&a.labels)))
            })
            .cloned()
            .collect();
        if out.len() > f.limit {
            out.drain(..out.len() - f.limit);
        }
        out
    }

    /// Series being scored, and series refused because of `detection.max_series`.
    pub fn counts(&self) -> (usize, u64) {
        let st = self.state.lock();
        (st.series.len(), st.refused)
    }
}

/// Filters of `GET /api/v1/anomalies`.
#[derive(Debug, Clone)]
pub struct AnomalyFilter {
    pub service: Option<String>,
    pub selectors: Vec<Vec<Matcher>>,
    pub start: i64,
    pub end: i64,
    pub min_score: f64,
    pub limit: usize,
}
