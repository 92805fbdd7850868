//! The log pipeline: every record from any source is mined into a template (hush-logs), its
//! raw line kept compressed for `logs.retention` (`segments`), counted per minute, service,
//! template and level into `hush_log_template_count` samples, and watched for log anomalies
//! (a new error-level template; a minute that surges against the template's learned rate).
//! The miner, counts not yet written, learned rates and anomalies are saved to
//! `data_dir/logs/state.json` every flush and at shutdown, and read back at start.
//! Syslog listeners (`net`) and tailed files (`files`) feed the same path as the HTTP
//! endpoints.

pub mod config;
mod files;
mod net;
mod segments;
mod state;

pub use config::{FileFormat, FileSource, LogsConfig, StartAt, SyslogConfig};
pub use files::{FileKey, FilePosition};
pub use net::start;
pub use segments::StoredLine;
pub use state::{LogAnomaly, TemplateInfo};

use files::Positions;
use hush_ingest::logs::{Decoded, LogDefaults, LogLimits};
use hush_logs::{MaskedLines, MinerConfig};
use hush_model::TimeSeries;
use parking_lot::Mutex;
use segments::Segments;
use state::State;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What a query of raw lines asks for.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub service: Option<String>,
    pub template: Option<u64>,
    pub level: Option<String>,
    /// Case-sensitive substring of the message.
    pub contains: Option<String>,
    pub start: i64,
    pub end: i64,
    pub limit: usize,
}

pub struct LogPipeline {
    cfg: LogsConfig,
    state_path: PathBuf,
    state: Mutex<State>,
    segments: Mutex<Segments>,
    pub limits: LogLimits,
    pub defaults: LogDefaults,
    lines: AtomicU64,
    /// Refusals and repairs by reason (`frame_too_large`, `invalid_utf8`, …).
    counts: Mutex<BTreeMap<String, u64>>,
    listeners: Mutex<Option<net::Bound>>,
    /// Positions of tailed files. Locked after `segments`, and saved only when every line
    /// before them is sealed, so a restart resumes exactly after the stored lines.
    files: Mutex<Positions>,
    /// The miner's settings (fixed once the state is loaded), to mask lines without the lock.
    masking: MinerConfig,
}

impl LogPipeline {
    /// Loads saved state under `data_dir/logs` and binds the configured syslog sockets (so a
    /// port conflict stops start-up before anything runs).
    pub fn open(cfg: &LogsConfig, data_dir: &Path, max_body_bytes: usize) -> anyhow::Result<Self> {
        let dir = data_dir.join("logs");
        let segments = Segments::open(dir.join("segments"))
            .map_err(|e| anyhow::anyhow!("failed to open `{}`: {e}", dir.display()))?;
        let state_path = dir.join("state.json");
        let state = State::load(&state_path, cfg)?;
        let masking = state.miner_config().clone();
        let files = Positions::load(dir.join("files.json"))?;
        let bound = net::bind(&cfg.syslog)?;
        Ok(Self {
            cfg: cfg.clone(),
            state_path,
            state: Mutex::new(state),
            segments: Mutex::new(segments),
            limits: cfg.limits(max_body_bytes),
            defaults: cfg.defaults(),
            lines: AtomicU64::new(0),
            counts: Mutex::new(BTreeMap::new()),
            listeners: Mutex::new(Some(bound)),
            files: Mutex::new(files),
            masking,
        })
    }

    pub fn config(&self) -> &LogsConfig {
        &self.cfg
    }

    /// Counts a refusal or a repair under `reason`.
    pub fn count(&self, reason: &str, n: u64) {
        if n > 0 {
            *self.counts.lock().entry(reason.to_string()).or_default() += n;
        }
    }

    /// Mines and keeps every record; returns how many.
    pub fn ingest(&self, decoded: Decoded, now_ms: i64) -> usize {
        self.ingest_with(decoded, now_ms, None)
    }

    /// Like [`Self::ingest`] for lines of a tailed file: its position after them is recorded
    /// with the lines, under the segment lock, so the position saved with a seal covers
    /// exactly the lines sealed.
    pub(crate) fn ingest_file(
        &self,
        decoded: Decoded,
        now_ms: i64,
        key: FileKey,
        pos: FilePosition,
    ) -> usize {
        self.ingest_with(decoded, now_ms, Some((key, pos)))
    }

    fn ingest_with(
        &self,
        decoded: Decoded,
        now_ms: i64,
        file: Option<(FileKey, FilePosition)>,
    ) -> usize {
        for (reason, n) in decoded.lossy.counts() {
            self.count(reason, n);
        }
        let n = decoded.records.len();
        // Masking, most of the work of mining a line, needs no lock: done here, concurrent
        // ingests (connections, requests, tailed files) mask in parallel and hold the state
        // lock only to learn the masked lines, in order.
        let mut masked = MaskedLines::new(&self.masking);
        for r in &decoded.records {
            masked.push(&r.message);
        }
        let mut state = self.state.lock();
        let mut segments = self.segments.lock();
        for (k, r) in decoded.records.into_iter().enumerate() {
            let template = state.add_masked(&r, &masked, k, &self.cfg);
            segments.push(
                StoredLine {
                    t: r.time,
                    service: r.service,
                    host: r.host,
                    level: r.level.as_str().to_string(),
                    template,
                    message: r.message,
                },
                now_ms,
            );
        }
        drop(state);
        if let Some((key, pos)) = file {
            self.files.lock().set(key, pos);
        }
        // Sealing early keeps the open segment bounded under a burst.
        if segments.should_seal(now_ms) {
            self.seal(&mut segments);
        }
        self.lines.fetch_add(n as u64, Ordering::Relaxed);
        n
    }

    /// Seals the open segment, then saves the file positions it covers.
    fn seal(&self, segments: &mut Segments) {
        if let Err(e) = segments.seal() {
            tracing::error!(error = %e, "sealing a log segment failed");
            return;
        }
        if let Err(e) = self.files.lock().save() {
            tracing::error!(error = %e, "saving the positions of tailed log files failed");
        }
    }

    /// Where reading a tailed file stands, if it was read before.
    pub(crate) fn file_position(&self, key: FileKey) -> Option<FilePosition> {
        self.files.lock().get(key).cloned()
    }

    /// Records a tailed file's position when no line goes with it (a new file, a truncation,
    /// blank or refused lines); saved with the next seal or flush.
    pub(crate) fn set_file_position(&self, key: FileKey, pos: FilePosition) {
        self.files.lock().set(key, pos);
    }

    pub(crate) fn prune_file_positions(&self, now_ms: i64, tracked: &HashSet<FileKey>) {
        self.files.lock().prune(now_ms, tracked);
    }

    /// Closes finished minutes (their counts are returned for the store), seals the open
    /// segment, applies retention and saves the state. Blocking: file IO.
    pub fn flush(&self, now_ms: i64) -> Vec<TimeSeries> {
        let series = {
            let mut state = self.state.lock();
            let series = state.flush(now_ms, &self.cfg);
            if state.dirty
                && let Err(e) = state.save(&self.state_path)
            {
                tracing::error!(error = %e, path = %self.state_path.display(), "saving the log miner state failed");
            }
            series
        };
        let mut segments = self.segments.lock();
        // An empty segment has nothing to write, but positions waiting for it are now safe.
        if segments.should_seal(now_ms) || segments.is_empty() {
            self.seal(&mut segments);
        }
        let cutoff = now_ms.saturating_sub(self.cfg.retention.0.as_millis() as i64);
        if let Err(e) = segments.expire(cutoff) {
            tracing::error!(error = %e, "expiring log segments failed");
        }
        series
    }

    /// At shutdown, once the listeners have stopped: seals whatever is open and saves the
    /// state (open minutes included).
    pub fn close(&self) {
        let mut state = self.state.lock();
        if let Err(e) = state.save(&self.state_path) {
            tracing::error!(error = %e, "saving the log miner state failed");
        }
        drop(state);
        self.seal(&mut self.segments.lock());
    }

    /// Raw lines matching `q`, newest first.
    pub fn query(&self, q: &LogQuery) -> std::io::Result<Vec<StoredLine>> {
        // Every id mined into the asked template (merges included), taken once so the scan
        // runs without holding the miner.
        let ids = q.template.map(|t| self.state.lock().ids_of(t));
        let keep = |l: &StoredLine| {
            q.service.as_deref().is_none_or(|s| s == l.service)
                && q.level.as_deref().is_none_or(|v| v == l.level)
                && q.contains.as_deref().is_none_or(|c| l.message.contains(c))
                && ids.as_ref().is_none_or(|ids| ids.contains(&l.template))
        };
        let segments = self.segments.lock();
        segments.scan(q.start, q.end, q.limit, &keep)
    }

    pub fn templates(&self, service: Option<&str>) -> Vec<TemplateInfo> {
        self.state.lock().templates(service)
    }

    /// Anomalies newest first, optionally of one service or kind, at most `limit`.
    pub fn anomalies(
        &self,
        service: Option<&str>,
        kind: Option<&str>,
        limit: usize,
    ) -> Vec<LogAnomaly> {
        self.state
            .lock()
            .anomalies()
            .rev()
            .filter(|a| service.is_none_or(|s| s == a.service))
            .filter(|a| kind.is_none_or(|k| k == a.kind))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Anomalies with an id from `id` on, oldest first (ids grow with time).
    pub fn anomalies_since(&self, id: u64) -> Vec<LogAnomaly> {
        let state = self.state.lock();
        let mut out: Vec<LogAnomaly> = state
            .anomalies()
            .rev()
            .take_while(|a| a.id >= id)
            .cloned()
            .collect();
        out.reverse();
        out
    }

    /// The id the next log anomaly will get.
    pub fn next_anomaly_id(&self) -> u64 {
        self.state.lock().next_anomaly_id()
    }

    /// Counters for `GET /api/v1/log-stats`.
    pub fn stats(&self) -> serde_json::Value {
        let state = self.state.lock();
        let m = state.miner_stats();
        serde_json::json!({
            "lines": self.lines.load(Ordering::Relaxed),
            "templates": state.template_count(),
            "templates_created": m.created,
            "templates_merged": m.merged,
            "templates_evicted": m.evicted,
            "late_for_counts": state.late,
            "dropped_from_counts": state.dropped,
            "reasons": &*self.counts.lock(),
            "files": self.files.lock().list().collect::<Vec<_>>(),
        })
    }
}

/// Level names accepted by queries.
pub fn level_name(s: &str) -> Option<&'static str> {
    state::level_name(s)
}
