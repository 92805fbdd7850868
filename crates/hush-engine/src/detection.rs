//! Live anomaly detection: one streaming detector per selected series, fed as samples are
//! stored. Anomalies are kept (newest last, bounded) for the API, and each scored point also
//! becomes samples of `hush_anomaly_score`, `hush_expected_lower` and `hush_expected_upper`
//! (labels of the source series plus `metric`), so any PromQL client can chart the band.
//!
//! Operator feedback on an anomaly moves that series' decision threshold. The whole state
//! (every series' detector, the kept anomalies, the next id) is checkpointed as JSON into
//! `data_dir/detection.json` and restored at start, so a restart does not forget what was learned.

use crate::config::DetectionConfig;
pub use hush_detect::Verdict;
use hush_detect::{Config as DetectorConfig, Detector};
use hush_model::{Labels, Matcher, Sample, SeriesId, TimeSeries};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

/// File under `data_dir` holding the checkpoint.
pub const CHECKPOINT_FILE: &str = "detection.json";
/// Bumped when the checkpoint layout changes; another version is set aside, not misread.
const CHECKPOINT_VERSION: u32 = 1;

/// One anomaly, as the API shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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
    /// The operator's latest verdict on it (`true_positive`, `false_positive`, `missed`), so
    /// whoever looks next sees it was judged. Absent in checkpoints written before verdicts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SeriesState {
    /// Kept so a checkpoint can be read back without trusting a stored hash.
    labels: Labels,
    detector: Detector,
    last_t: i64,
}

/// What `detection.json` holds.
#[derive(serde::Serialize, serde::Deserialize)]
struct Checkpoint {
    version: u32,
    next_id: u64,
    series: Vec<SeriesState>,
    anomalies: Vec<Anomaly>,
}

/// Why feedback could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error("anomaly `{0}` not found (unknown, or no longer kept)")]
    NotFound(u64),
    #[error("the series of anomaly `{0}` is no longer scored")]
    SeriesGone(u64),
    #[error("storing the feedback failed: {0}")]
    Store(String),
}

/// The result of feedback: the anomaly it concerned and the series' new threshold.
#[derive(Debug, Clone)]
pub struct FeedbackOutcome {
    pub anomaly: Anomaly,
    pub threshold: f64,
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

    /// [`Detection::new`], then [`Detection::restore`] from `data_dir`, logging what was found.
    pub fn open(cfg: DetectionConfig, data_dir: &Path) -> anyhow::Result<Self> {
        let d = Self::new(cfg)?;
        let r = d.restore(data_dir);
        match &r.error {
            Some(e) => tracing::error!(
                error = %e,
                set_aside = ?r.set_aside,
                "detection checkpoint unusable, starting afresh"
            ),
            None => tracing::info!(
                series = r.series,
                dropped = r.dropped,
                anomalies = r.anomalies,
                "detection state restored"
            ),
        }
        Ok(d)
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
                        labels: ts.labels.clone(),
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
                    feedback: None,
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

    /// Anomalies with an id from `id` on, oldest first (ids grow as they are found).
    pub fn since(&self, id: u64) -> Vec<Anomaly> {
        let st = self.state.lock();
        let mut out: Vec<Anomaly> = st
            .anomalies
            .iter()
            .rev()
            .take_while(|a| a.id >= id)
            .cloned()
            .collect();
        out.reverse();
        out
    }

    /// The id the next anomaly will get.
    pub fn next_id(&self) -> u64 {
        self.state.lock().next_id
    }

    /// The anomaly `id`, if still kept.
    pub fn get(&self, id: u64) -> Option<Anomaly> {
        let st = self.state.lock();
        st.anomalies.iter().find(|a| a.id == id).cloned()
    }

    /// Checks that feedback on `id` can be applied (the anomaly is kept and its series scored).
    pub fn check_feedback(&self, id: u64) -> Result<(Anomaly, f64), FeedbackError> {
        let st = self.state.lock();
        let a = st
            .anomalies
            .iter()
            .find(|a| a.id == id)
            .cloned()
            .ok_or(FeedbackError::NotFound(id))?;
        let s = st
            .series
            .get(&a.labels.series_id())
            .ok_or(FeedbackError::SeriesGone(id))?;
        Ok((a, s.detector.threshold()))
    }

    /// Applies an operator's verdict on anomaly `id` to its series' detector: a false positive
    /// raises the series' threshold above the anomaly's score, a miss lowers it below `score`
    /// (the score of the point that should have alerted; the anomaly's own if `None`).
    pub fn feedback(
        &self,
        id: u64,
        verdict: Verdict,
        score: Option<f64>,
    ) -> Result<FeedbackOutcome, FeedbackError> {
        let mut st = self.state.lock();
        let anomaly = st
            .anomalies
            .iter_mut()
            .find(|a| a.id == id)
            .ok_or(FeedbackError::NotFound(id))?;
        anomaly.feedback = Some(verdict_name(verdict).to_owned());
        let anomaly = anomaly.clone();
        let s = st
            .series
            .get_mut(&anomaly.labels.series_id())
            .ok_or(FeedbackError::SeriesGone(id))?;
        s.detector.feedback(verdict, score.unwrap_or(anomaly.score));
        Ok(FeedbackOutcome {
            threshold: s.detector.threshold(),
            anomaly,
        })
    }

    /// Writes the whole state to `dir/detection.json` (through a temporary file and a rename,
    /// so a crash mid-write leaves the previous checkpoint intact).
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        let json = {
            let st = self.state.lock();
            let cp = CheckpointRef {
                version: CHECKPOINT_VERSION,
                next_id: st.next_id,
                series: st.series.values().collect(),
                anomalies: st.anomalies.iter().collect(),
            };
            serde_json::to_vec(&cp)?
        };
        std::fs::create_dir_all(dir)?;
        let path = dir.join(CHECKPOINT_FILE);
        let tmp = dir.join(format!("{CHECKPOINT_FILE}.tmp"));
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }

    /// Restores a checkpoint written by [`Detection::save`], if `dir` holds one. Detectors
    /// built with other settings than the current ones are dropped (they relearn); an
    /// unreadable checkpoint is renamed aside (`.unreadable`) and detection starts afresh,
    /// so nothing is overwritten that could still be inspected.
    pub fn restore(&self, dir: &Path) -> RestoreReport {
        let path = dir.join(CHECKPOINT_FILE);
        let mut report = RestoreReport::default();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return report,
            Err(e) => {
                report.error = Some(format!("failed to read `{}`: {e}", path.display()));
                return report;
            }
        };
        let cp = match serde_json::from_slice::<Checkpoint>(&bytes) {
            Ok(cp) if cp.version == CHECKPOINT_VERSION => cp,
            Ok(cp) => {
                report.error = Some(format!(
                    "checkpoint version {} is not {CHECKPOINT_VERSION}",
                    cp.version
                ));
                report.set_aside = set_aside(&path);
                return report;
            }
            Err(e) => {
                report.error = Some(format!("failed to parse `{}`: {e}", path.display()));
                report.set_aside = set_aside(&path);
                return report;
            }
        };
        let mut st = self.state.lock();
        st.next_id = st.next_id.max(cp.next_id);
        for s in cp.series {
            if s.detector.config() != &self.detector || st.series.len() >= self.cfg.max_series {
                report.dropped += 1;
                continue;
            }
            st.series.insert(s.labels.series_id(), s);
            report.series += 1;
        }
        st.anomalies = cp.anomalies.into();
        while st.anomalies.len() > self.cfg.max_anomalies {
            st.anomalies.pop_front();
        }
        report.anomalies = st.anomalies.len();
        report
    }

    /// The detectors of the series `pick` selects, as gzip-compressed JSON for another node's
    /// [`Detection::import`] (cluster mode hands a shard's detectors over this way), and how
    /// many series that is.
    pub fn export(&self, pick: impl Fn(&Labels) -> bool) -> anyhow::Result<(usize, Vec<u8>)> {
        use std::io::Write;
        let (count, json) = {
            let st = self.state.lock();
            let series: Vec<&SeriesState> =
                st.series.values().filter(|s| pick(&s.labels)).collect();
            let count = series.len();
            let json = serde_json::to_vec(&HandoverRef {
                version: CHECKPOINT_VERSION,
                series,
            })?;
            (count, json)
        };
        // Fast level: JSON of float digits shrinks several-fold for little CPU per checkpoint.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&json)?;
        Ok((count, gz.finish()?))
    }

    /// Takes over detectors written by [`Detection::export`] on another node. A series this
    /// node scores already keeps whichever state has seen the later sample; detectors built
    /// with other settings are dropped (they learn again), as at a restore.
    pub fn import(&self, bytes: &[u8]) -> anyhow::Result<ImportReport> {
        use std::io::Read;
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_HANDOVER_BYTES)
            .read_to_end(&mut json)?;
        let h: Handover = serde_json::from_slice(&json)?;
        anyhow::ensure!(
            h.version == CHECKPOINT_VERSION,
            "detector hand-over version {} is not {CHECKPOINT_VERSION}",
            h.version
        );
        let mut report = ImportReport::default();
        let mut st = self.state.lock();
        for s in h.series {
            let id = s.labels.series_id();
            if s.detector.config() != &self.detector {
                report.dropped += 1;
                continue;
            }
            match st.series.get(&id) {
                Some(mine) if mine.last_t >= s.last_t => report.kept += 1,
                Some(_) => {
                    st.series.insert(id, s);
                    report.restored += 1;
                }
                None if st.series.len() >= self.cfg.max_series => {
                    st.refused += 1;
                    report.dropped += 1;
                }
                None => {
                    st.series.insert(id, s);
                    report.restored += 1;
                }
            }
        }
        Ok(report)
    }

    /// Series being scored, and series refused because of `detection.max_series`.
    pub fn counts(&self) -> (usize, u64) {
        let st = self.state.lock();
        (st.series.len(), st.refused)
    }
}

/// [`Checkpoint`] by reference, so saving does not clone every detector.
#[derive(serde::Serialize)]
struct CheckpointRef<'a> {
    version: u32,
    next_id: u64,
    series: Vec<&'a SeriesState>,
    anomalies: Vec<&'a Anomaly>,
}

/// A shard's detectors as one node hands them to the next.
#[derive(serde::Deserialize)]
struct Handover {
    version: u32,
    series: Vec<SeriesState>,
}

/// [`Handover`] by reference.
#[derive(serde::Serialize)]
struct HandoverRef<'a> {
    version: u32,
    series: Vec<&'a SeriesState>,
}

/// Bounds what a hand-over may expand to, so a corrupt or hostile object cannot exhaust memory.
const MAX_HANDOVER_BYTES: u64 = 4 << 30;

/// What [`Detection::import`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportReport {
    /// Series whose detectors were taken over.
    pub restored: usize,
    /// Series whose own detector had seen later samples and was kept.
    pub kept: usize,
    /// Series dropped: other detector settings, or `detection.max_series` reached.
    pub dropped: usize,
}

/// What [`Detection::restore`] found.
#[derive(Debug, Default)]
pub struct RestoreReport {
    /// Series whose detectors were restored.
    pub series: usize,
    /// Series dropped because the detector settings changed.
    pub dropped: usize,
    /// Anomalies restored.
    pub anomalies: usize,
    /// Why the checkpoint could not be used, if it could not.
    pub error: Option<String>,
    /// Where an unusable checkpoint was moved.
    pub set_aside: Option<PathBuf>,
}

fn set_aside(path: &Path) -> Option<PathBuf> {
    let to = path.with_extension("json.unreadable");
    std::fs::rename(path, &to).ok().map(|_| to)
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

/// The stored spelling of a verdict.
pub fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::TruePositive => "true_positive",
        Verdict::FalsePositive => "false_positive",
        Verdict::Missed => "missed",
    }
}

impl crate::Engine {
    /// Records an operator's verdict on anomaly `id` in the events table (an `anomaly` event
    /// whose payload holds the verdict), then applies it to the series' detector. Stored first,
    /// so an applied verdict is never one the database lost.
    pub async fn anomaly_feedback(
        &self,
        id: u64,
        verdict: Verdict,
        score: Option<f64>,
        at: i64,
    ) -> Result<FeedbackOutcome, FeedbackError> {
        let Some(d) = &self.detection else {
            return Err(FeedbackError::NotFound(id));
        };
        let (a, before) = d.check_feedback(id)?;
        let event = hush_sql::NewEvent {
            kind: hush_sql::EventKind::Anomaly,
            service: a.service.clone(),
            series: a.labels.clone(),
            at,
            score: Some(a.score),
            payload: serde_json::json!({
                "feedback": verdict_name(verdict),
                "anomaly_id": id,
                "anomaly_time": a.time,
                "anomaly_kind": a.kind,
                "score": score,
                "threshold_before": before,
            }),
        };
        self.db
            .insert_event(&event)
            .await
            .map_err(|e| FeedbackError::Store(e.to_string()))?;
        d.feedback(id, verdict, score)
    }

    /// Saves the detection state into `data_dir` (on every maintenance tick and at shutdown);
    /// a failure is logged, the running detectors are unaffected.
    pub fn checkpoint_detection(&self) {
        if let Some(d) = &self.detection
            && let Err(e) = d.save(&self.config.data_dir)
        {
            tracing::error!(error = %e, "detection checkpoint failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(sensitivity: Option<f64>) -> DetectionConfig {
        DetectionConfig {
            enabled: true,
            sensitivity,
            ..DetectionConfig::default()
        }
    }

    fn batch(t0: i64, n: i64, f: impl Fn(i64) -> f64) -> Vec<TimeSeries> {
        let l = Labels::from_pairs([("__name__", "lat"), ("service", "a")]).unwrap();
        let samples = (0..n).map(|k| Sample::new(t0 + k, f(k))).collect();
        vec![TimeSeries::new(l, samples)]
    }

    fn wobble(k: i64) -> f64 {
        // Quadratic residues: irregular, with no period the season search could lock onto.
        100.0 + ((k * k * 7919 + 31 * k) % 1009) as f64 / 250.0
    }

    #[test]
    fn a_restored_checkpoint_continues_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let a = Detection::new(enabled(None)).unwrap();
        a.observe(&batch(0, 700, wobble));
        a.save(dir.path()).unwrap();
        let b = Detection::new(enabled(None)).unwrap();
        let r = b.restore(dir.path());
        assert!(r.error.is_none(), "{r:?}");
        assert_eq!((r.series, r.dropped), (1, 0));
        let next = batch(700, 300, |k| wobble(k) + if k == 50 { 80.0 } else { 0.0 });
        let (da, db) = (a.observe(&next), b.observe(&next));
        assert_eq!(format!("{da:?}"), format!("{db:?}"));
        let all = AnomalyFilter {
            service: None,
            selectors: Vec::new(),
            start: i64::MIN,
            end: i64::MAX,
            min_score: 0.0,
            limit: usize::MAX,
        };
        let ids = |d: &Detection| {
            d.list(&all)
                .iter()
                .map(|x| (x.id, x.time))
                .collect::<Vec<_>>()
        };
        assert!(
            ids(&b).iter().any(|&(_, t)| t == 750),
            "spike not found: {:?}",
            ids(&b)
        );
        assert_eq!(ids(&a), ids(&b));
    }

    #[test]
    fn a_handed_over_detector_continues_exactly_and_never_goes_back() {
        let a = Detection::new(enabled(None)).unwrap();
        a.observe(&batch(0, 700, wobble));
        let other = Labels::from_pairs([("__name__", "other")]).unwrap();
        a.observe(&[TimeSeries::new(other, vec![Sample::new(0, 1.0)])]);
        // Only the series picked travel.
        let (n, bytes) = a.export(|l| l.get("service") == Some("a")).unwrap();
        assert_eq!(n, 1);
        let b = Detection::new(enabled(None)).unwrap();
        let r = b.import(&bytes).unwrap();
        assert_eq!((r.restored, r.kept, r.dropped), (1, 0, 0));
        assert_eq!(b.counts().0, 1);
        let next = batch(700, 300, |k| wobble(k) + if k == 50 { 80.0 } else { 0.0 });
        let (da, db) = (a.observe(&next), b.observe(&next));
        assert_eq!(format!("{da:?}"), format!("{db:?}"));
        // Importing the older state again keeps the newer one already running.
        let r = b.import(&bytes).unwrap();
        assert_eq!((r.restored, r.kept, r.dropped), (0, 1, 0));
        let (da, db) = (
            a.observe(&batch(1000, 5, wobble)),
            b.observe(&batch(1000, 5, wobble)),
        );
        assert_eq!(format!("{da:?}"), format!("{db:?}"));
        // Other detector settings: dropped, learned again.
        let c = Detection::new(enabled(Some(0.9))).unwrap();
        let r = c.import(&bytes).unwrap();
        assert_eq!((r.restored, r.kept, r.dropped), (0, 0, 1));
        // Garbage is an error, not a panic.
        assert!(c.import(b"not gzip").is_err());
    }

    #[test]
    fn a_verdict_stays_on_its_anomaly_across_a_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let a = Detection::new(enabled(None)).unwrap();
        a.observe(&batch(0, 700, wobble));
        a.observe(&batch(700, 100, |k| {
            wobble(k) + if k == 50 { 80.0 } else { 0.0 }
        }));
        let all = AnomalyFilter {
            service: None,
            selectors: Vec::new(),
            start: i64::MIN,
            end: i64::MAX,
            min_score: 0.0,
            limit: usize::MAX,
        };
        let spike = a.list(&all).into_iter().find(|x| x.time == 750).unwrap();
        assert_eq!(spike.feedback, None);
        let out = a.feedback(spike.id, Verdict::FalsePositive, None).unwrap();
        assert_eq!(out.anomaly.feedback.as_deref(), Some("false_positive"));
        let verdicts = |d: &Detection| {
            d.list(&all)
                .into_iter()
                .map(|x| (x.id, x.feedback))
                .collect::<Vec<_>>()
        };
        assert!(
            verdicts(&a).contains(&(spike.id, Some("false_positive".to_owned()))),
            "{:?}",
            verdicts(&a)
        );
        // Only the judged anomaly carries a verdict.
        assert_eq!(verdicts(&a).iter().filter(|(_, f)| f.is_some()).count(), 1);
        a.save(dir.path()).unwrap();
        let b = Detection::new(enabled(None)).unwrap();
        assert!(b.restore(dir.path()).error.is_none());
        assert_eq!(verdicts(&a), verdicts(&b));
    }

    #[test]
    fn other_settings_relearn_and_a_bad_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let a = Detection::new(enabled(None)).unwrap();
        a.observe(&batch(0, 300, wobble));
        a.save(dir.path()).unwrap();
        let b = Detection::new(enabled(Some(0.9))).unwrap();
        let r = b.restore(dir.path());
        assert_eq!((r.series, r.dropped), (0, 1), "{r:?}");

        std::fs::write(dir.path().join(CHECKPOINT_FILE), b"{\"version\": 1, \"next").unwrap();
        let c = Detection::new(enabled(None)).unwrap();
        let r = c.restore(dir.path());
        assert!(
            r.error
                .as_deref()
                .is_some_and(|e| e.contains("failed to parse")),
            "{r:?}"
        );
        assert!(dir.path().join("detection.json.unreadable").is_file());
        assert!(!dir.path().join(CHECKPOINT_FILE).exists());
        assert_eq!(c.counts().0, 0);
    }
}
