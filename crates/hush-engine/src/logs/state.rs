//! The mining state behind the log pipeline: the miner, per-template facts, per-minute counts
//! waiting to be written, learned rates and the anomalies they raised. Pure apart from
//! [`State::save`] and [`State::load`]; time is an argument.

use super::LogsConfig;
use hush_ingest::logs::{Level, LogRecord};
use hush_logs::{Change, MaskedLines, Miner, MinerConfig, MinerState, TemplateId};
use hush_model::{Labels, Sample, TimeSeries};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;

const MINUTE: i64 = 60_000;
/// Examples kept per template, per open minute and per anomaly.
const EXAMPLES: usize = 5;
/// Services counted per template (the rest are summed under `other`).
const SERVICES: usize = 64;
/// Open (service, template, level, minute) counts held at most; more are dropped and counted.
const MAX_BUCKETS: usize = 200_000;
/// Weight of the newest minute in a template's learned rate (an EWMA over minutes, silent
/// minutes counted as zero).
const ALPHA: f64 = 0.1;
/// Minutes a closed bucket waits past its end for stragglers before it is written.
pub(super) const GRACE_MS: i64 = 5_000;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Meta {
    level: String,
    first_seen: i64,
    last_seen: i64,
    count: u64,
    services: BTreeMap<String, u64>,
    examples: VecDeque<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Bucket {
    count: u64,
    examples: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Rate {
    mean: f64,
    first_minute: i64,
    last_minute: i64,
}

/// A log anomaly, as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogAnomaly {
    pub id: u64,
    /// `new_error_template` or `surge`.
    pub kind: String,
    /// Milliseconds: the line's time, or the start of the surging minute.
    pub time: i64,
    pub service: String,
    pub template_id: u64,
    pub template: String,
    pub level: String,
    /// Lines in that minute (1 for a new template).
    pub count: u64,
    /// The learned lines per minute before it (0 for a new template).
    pub expected: f64,
    pub examples: Vec<String>,
    pub explanation: String,
}

/// A template with what the pipeline knows about it.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateInfo {
    pub id: u64,
    pub template: String,
    pub level: String,
    pub count: u64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub services: BTreeMap<String, u64>,
    pub examples: Vec<String>,
}

/// The saved form (`data_dir/logs/state.json`).
#[derive(Serialize, Deserialize)]
struct Saved {
    version: u32,
    miner: MinerState,
    meta: Vec<(u64, Meta)>,
    buckets: Vec<(i64, String, u64, String, Bucket)>,
    rates: Vec<(String, u64, Rate)>,
    anomalies: Vec<LogAnomaly>,
    next_anomaly: u64,
}

pub(super) struct State {
    miner: Miner,
    meta: HashMap<u64, Meta>,
    /// (minute start, service, template id as mined, level) → count.
    buckets: BTreeMap<(i64, String, u64, String), Bucket>,
    rates: HashMap<(String, u64), Rate>,
    anomalies: VecDeque<LogAnomaly>,
    next_anomaly: u64,
    pub dirty: bool,
    /// Lines for a minute already written as a sample (mined and stored, not in the series).
    pub late: u64,
    /// Lines not counted because `MAX_BUCKETS` were open.
    pub dropped: u64,
}

/// Bytes of an example line kept: examples illustrate, the raw store has the whole line.
const EXAMPLE_BYTES: usize = 1024;

fn example(msg: &str) -> String {
    let mut end = msg.len().min(EXAMPLE_BYTES);
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    msg[..end].to_string()
}

fn level_rank(l: &str) -> u8 {
    match l {
        "fatal" => 6,
        "error" => 5,
        "warn" => 4,
        "info" => 3,
        "debug" => 2,
        "trace" => 1,
        _ => 0,
    }
}

impl State {
    pub fn new(cfg: &LogsConfig) -> anyhow::Result<Self> {
        let miner = Miner::new(MinerConfig {
            max_templates: cfg.max_templates,
            ..MinerConfig::default()
        })
        .map_err(|e| anyhow::anyhow!("logs miner: {e}"))?;
        Ok(Self {
            miner,
            meta: HashMap::new(),
            buckets: BTreeMap::new(),
            rates: HashMap::new(),
            anomalies: VecDeque::new(),
            next_anomaly: 1,
            dirty: false,
            late: 0,
            dropped: 0,
        })
    }

    pub fn load(path: &Path, cfg: &LogsConfig) -> anyhow::Result<Self> {
        let mut s = Self::new(cfg)?;
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(s),
            Err(e) => anyhow::bail!("failed to read `{}`: {e}", path.display()),
        };
        let saved: Saved = serde_json::from_slice(&text)
            .map_err(|e| anyhow::anyhow!("failed to parse `{}`: {e}", path.display()))?;
        let mut miner_state = saved.miner;
        // The configured cap wins over the saved one; eviction applies on the next line.
        miner_state.config.max_templates = cfg.max_templates;
        s.miner = Miner::from_state(miner_state)
            .map_err(|e| anyhow::anyhow!("invalid miner state in `{}`: {e}", path.display()))?;
        s.meta = saved.meta.into_iter().collect();
        s.buckets = saved
            .buckets
            .into_iter()
            .map(|(m, svc, id, lvl, b)| ((m, svc, id, lvl), b))
            .collect();
        s.rates = saved
            .rates
            .into_iter()
            .map(|(svc, id, r)| ((svc, id), r))
            .collect();
        s.anomalies = saved.anomalies.into();
        s.next_anomaly = saved.next_anomaly.max(1);
        Ok(s)
    }

    /// Writes the state atomically (temporary file, sync, rename).
    pub fn save(&mut self, path: &Path) -> std::io::Result<()> {
        let saved = Saved {
            version: 1,
            miner: self.miner.state(),
            meta: self.meta.iter().map(|(k, v)| (*k, v.clone())).collect(),
            buckets: self
                .buckets
                .iter()
                .map(|((m, s, id, l), b)| (*m, s.clone(), *id, l.clone(), b.clone()))
                .collect(),
            rates: self
                .rates
                .iter()
                .map(|((s, id), r)| (s.clone(), *id, *r))
                .collect(),
            anomalies: self.anomalies.iter().cloned().collect(),
            next_anomaly: self.next_anomaly,
        };
        let tmp = path.with_extension("json.tmp");
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        serde_json::to_writer(&mut w, &saved)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        self.dirty = false;
        Ok(())
    }

    fn text(&self, id: u64) -> String {
        self.miner
            .template(TemplateId(id))
            .map_or_else(String::new, |t| t.text())
    }

    fn resolve(&self, id: u64) -> u64 {
        self.miner.resolve(TemplateId(id)).0
    }

    fn push_anomaly(&mut self, mut a: LogAnomaly, cap: usize) {
        a.id = self.next_anomaly;
        self.next_anomaly += 1;
        self.anomalies.push_back(a);
        while self.anomalies.len() > cap {
            self.anomalies.pop_front();
        }
    }

    /// The miner's settings, for masking lines ahead ([`MaskedLines`]).
    pub fn miner_config(&self) -> &MinerConfig {
        self.miner.config()
    }

    /// Mines one record; returns its template id. (The pipeline masks its records ahead, in
    /// a batch: [`Self::add_masked`].)
    #[cfg(test)]
    pub fn add(&mut self, r: &LogRecord, cfg: &LogsConfig) -> u64 {
        let mut masked = MaskedLines::new(self.miner.config());
        masked.push(&r.message);
        self.add_masked(r, &masked, 0, cfg)
    }

    /// Mines a record whose message is line `k` of `masked`; returns its template id. Only
    /// the template is kept: parameters are not extracted.
    pub fn add_masked(
        &mut self,
        r: &LogRecord,
        masked: &MaskedLines,
        k: usize,
        cfg: &LogsConfig,
    ) -> u64 {
        let learned = match self.miner.learn_masked(masked, k) {
            Some(learned) => learned,
            None => self.miner.learn(&r.message),
        };
        self.record(r, learned, cfg)
    }

    /// Keeps the facts, counts and anomalies of a record just mined.
    fn record(
        &mut self,
        r: &LogRecord,
        (id, change): (TemplateId, Change),
        cfg: &LogsConfig,
    ) -> u64 {
        self.dirty = true;
        let (id, created) = (id.0, change == Change::Created);
        let level = r.level.as_str();
        let meta = self.meta.entry(id).or_insert_with(|| Meta {
            level: level.to_string(),
            first_seen: r.time,
            last_seen: r.time,
            ..Meta::default()
        });
        meta.count += 1;
        meta.first_seen = meta.first_seen.min(r.time);
        meta.last_seen = meta.last_seen.max(r.time);
        if level_rank(level) > level_rank(&meta.level) {
            meta.level = level.to_string();
        }
        let svc = if meta.services.len() < SERVICES || meta.services.contains_key(&r.service) {
            r.service.as_str()
        } else {
            "other"
        };
        *meta.services.entry(svc.to_string()).or_default() += 1;
        if meta.examples.len() >= EXAMPLES {
            meta.examples.pop_front();
        }
        meta.examples.push_back(example(&r.message));

        if created && r.level.is_error() {
            let a = LogAnomaly {
                id: 0,
                kind: "new_error_template".into(),
                time: r.time,
                service: r.service.clone(),
                template_id: id,
                template: self.text(id),
                level: level.to_string(),
                count: 1,
                expected: 0.0,
                examples: vec![example(&r.message)],
                explanation: format!("a new {level}-level log pattern appeared in {}", r.service),
            };
            self.push_anomaly(a, cfg.max_anomalies);
        }

        let minute = r.time.div_euclid(MINUTE) * MINUTE;
        let resolved = self.resolve(id);
        if self
            .rates
            .get(&(r.service.clone(), resolved))
            .is_some_and(|rate| minute <= rate.last_minute)
        {
            self.late += 1;
            return id;
        }
        let key = (minute, r.service.clone(), id, level.to_string());
        if self.buckets.len() >= MAX_BUCKETS && !self.buckets.contains_key(&key) {
            self.dropped += 1;
            return id;
        }
        let b = self.buckets.entry(key).or_default();
        b.count += 1;
        if b.examples.len() < EXAMPLES {
            b.examples.push(example(&r.message));
        }
        id
    }

    /// Closes every minute that ended more than [`GRACE_MS`] before `now`: returns their
    /// counts as `hush_log_template_count` samples, learns each template's rate and raises a
    /// surge anomaly where a minute breaks it.
    pub fn flush(&mut self, now: i64, cfg: &LogsConfig) -> Vec<TimeSeries> {
        let closed: Vec<_> = self
            .buckets
            .keys()
            .take_while(|k| k.0 + MINUTE + GRACE_MS <= now)
            .cloned()
            .collect();
        if closed.is_empty() {
            return Vec::new();
        }
        self.dirty = true;
        // Merged templates are counted under the id that survived.
        let mut per_level: BTreeMap<(i64, String, u64, String), u64> = BTreeMap::new();
        let mut per_template: BTreeMap<(i64, String, u64), Bucket> = BTreeMap::new();
        for k in closed {
            let Some(b) = self.buckets.remove(&k) else {
                continue;
            };
            let (minute, svc, id, lvl) = k;
            let id = self.resolve(id);
            *per_level.entry((minute, svc.clone(), id, lvl)).or_default() += b.count;
            let t = per_template.entry((minute, svc, id)).or_default();
            t.count += b.count;
            for e in b.examples {
                if t.examples.len() < EXAMPLES {
                    t.examples.push(e);
                }
            }
        }
        let mut series = Vec::with_capacity(per_level.len());
        for ((minute, svc, id, lvl), n) in per_level {
            let labels = Labels::from_pairs([
                ("__name__", "hush_log_template_count".to_string()),
                ("level", lvl),
                ("service", svc),
                ("template_id", TemplateId(id).to_string()),
            ]);
            if let Ok(labels) = labels {
                series.push(TimeSeries::new(labels, vec![Sample::new(minute, n as f64)]));
            }
        }
        for ((minute, svc, id), b) in per_template {
            self.learn(minute, svc, id, b, cfg);
        }
        self.prune();
        series
    }

    fn learn(&mut self, minute: i64, svc: String, id: u64, b: Bucket, cfg: &LogsConfig) {
        let count = b.count as f64;
        let key = (svc, id);
        let Some(rate) = self.rates.get(&key).copied() else {
            self.rates.insert(
                key,
                Rate {
                    mean: count,
                    first_minute: minute,
                    last_minute: minute,
                },
            );
            return;
        };
        // Silent minutes in between count as zeros: (1-α)^gap in closed form.
        let gap = ((minute - rate.last_minute) / MINUTE - 1).clamp(0, 100_000) as i32;
        let mean = rate.mean * (1.0 - ALPHA).powi(gap);
        let watched = ((minute - rate.first_minute) / MINUTE).max(0) as u64;
        let threshold = (cfg.surge_factor * mean).max(cfg.surge_min_count as f64);
        if watched >= cfg.surge_min_minutes && count >= threshold && b.count >= cfg.surge_min_count
        {
            let level = self
                .meta
                .get(&key.1)
                .map_or_else(|| "unknown".to_string(), |m| m.level.clone());
            let a = LogAnomaly {
                id: 0,
                kind: "surge".into(),
                time: minute,
                service: key.0.clone(),
                template_id: key.1,
                template: self.text(key.1),
                level,
                count: b.count,
                expected: mean,
                examples: b.examples,
                explanation: format!(
                    "{} lines in one minute against a learned {mean:.2}/min ({:.0}x) over {watched} minutes",
                    b.count,
                    count / mean.max(0.01)
                ),
            };
            self.push_anomaly(a, cfg.max_anomalies);
        }
        self.rates.insert(
            key,
            Rate {
                mean: mean + ALPHA * (count - mean),
                first_minute: rate.first_minute,
                last_minute: minute,
            },
        );
    }

    /// Forgets facts about templates the miner evicted, so memory follows its cap.
    fn prune(&mut self) {
        if self.meta.len() <= self.miner.config().max_templates * 2
            && self.rates.len() <= MAX_BUCKETS
        {
            return;
        }
        let miner = &self.miner;
        let alive = |id: u64| miner.template(miner.resolve(TemplateId(id))).is_some();
        self.meta.retain(|id, _| alive(*id));
        self.rates.retain(|(_, id), _| alive(*id));
    }

    /// Every id whose lines now belong to template `id` (itself and those merged into it).
    pub fn ids_of(&self, id: u64) -> std::collections::HashSet<u64> {
        let target = self.resolve(id);
        let mut ids: std::collections::HashSet<u64> = self
            .meta
            .keys()
            .copied()
            .filter(|k| self.resolve(*k) == target)
            .collect();
        ids.insert(id);
        ids
    }

    pub fn templates(&self, service: Option<&str>) -> Vec<TemplateInfo> {
        let mut by_id: BTreeMap<u64, TemplateInfo> = BTreeMap::new();
        for (id, m) in &self.meta {
            let rid = self.resolve(*id);
            let Some(t) = self.miner.template(TemplateId(rid)) else {
                continue;
            };
            let e = by_id.entry(rid).or_insert_with(|| TemplateInfo {
                id: rid,
                template: t.text(),
                level: m.level.clone(),
                count: 0,
                first_seen: m.first_seen,
                last_seen: m.last_seen,
                services: BTreeMap::new(),
                examples: Vec::new(),
            });
            e.count += m.count;
            e.first_seen = e.first_seen.min(m.first_seen);
            e.last_seen = e.last_seen.max(m.last_seen);
            if level_rank(&m.level) > level_rank(&e.level) {
                e.level = m.level.clone();
            }
            for (s, n) in &m.services {
                *e.services.entry(s.clone()).or_default() += n;
            }
            for x in &m.examples {
                if e.examples.len() < EXAMPLES {
                    e.examples.push(x.clone());
                }
            }
        }
        let mut out: Vec<_> = by_id
            .into_values()
            .filter(|t| service.is_none_or(|s| t.services.contains_key(s)))
            .collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
        out
    }

    pub fn anomalies(&self) -> impl DoubleEndedIterator<Item = &LogAnomaly> {
        self.anomalies.iter()
    }

    /// The id the next anomaly will get.
    pub fn next_anomaly_id(&self) -> u64 {
        self.next_anomaly
    }

    pub fn template_count(&self) -> usize {
        self.miner.len()
    }

    pub fn miner_stats(&self) -> hush_logs::MinerStats {
        self.miner.stats()
    }
}

/// Parses `Level` names for queries (`error`, `warn`, …).
pub(super) fn level_name(s: &str) -> Option<&'static str> {
    Level::ALL
        .into_iter()
        .find(|l| l.as_str() == s)
        .map(Level::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hush_ingest::logs::Level;

    fn rec(t: i64, level: Level, msg: &str) -> LogRecord {
        LogRecord {
            time: t,
            service: "pay".into(),
            host: "h".into(),
            level,
            message: msg.into(),
        }
    }

    const T0: i64 = 1_700_000_040_000 - 1_700_000_040_000 % MINUTE;

    #[test]
    fn a_new_error_template_is_an_anomaly_an_info_one_is_not() {
        let cfg = LogsConfig::default();
        let mut s = State::new(&cfg).unwrap();
        s.add(&rec(T0, Level::Info, "user 1 logged in"), &cfg);
        s.add(&rec(T0, Level::Error, "disk /dev/sda1 failed"), &cfg);
        s.add(&rec(T0, Level::Error, "disk /dev/sdb2 failed"), &cfg);
        let kinds: Vec<_> = s
            .anomalies()
            .map(|a| (a.kind.as_str(), a.level.as_str()))
            .collect();
        assert_eq!(kinds, [("new_error_template", "error")]);
    }

    #[test]
    fn a_surge_against_the_learned_rate_is_found_with_examples_and_counts_are_series() {
        let cfg = LogsConfig::default();
        let mut s = State::new(&cfg).unwrap();
        for m in 0..30 {
            for i in 0..2 {
                s.add(
                    &rec(
                        T0 + m * MINUTE + i,
                        Level::Warn,
                        &format!("retry {i} for order {m}"),
                    ),
                    &cfg,
                );
            }
        }
        for i in 0..40 {
            s.add(
                &rec(
                    T0 + 30 * MINUTE + i,
                    Level::Warn,
                    &format!("retry {i} for order 99"),
                ),
                &cfg,
            );
        }
        // Nothing closes before the minute and its grace have passed.
        assert!(s.flush(T0, &cfg).is_empty());
        let series = s.flush(T0 + 31 * MINUTE + GRACE_MS, &cfg);
        assert_eq!(series.len(), 31);
        let last = series
            .iter()
            .find(|ts| ts.samples[0].t == T0 + 30 * MINUTE)
            .unwrap();
        assert_eq!(last.samples[0].v, 40.0);
        assert_eq!(last.labels.get("level"), Some("warn"));
        assert_eq!(last.labels.get("service"), Some("pay"));
        let surges: Vec<_> = s.anomalies().filter(|a| a.kind == "surge").collect();
        assert_eq!(surges.len(), 1, "{surges:?}");
        assert_eq!(surges[0].count, 40);
        assert!(
            (surges[0].expected - 2.0).abs() < 0.5,
            "{}",
            surges[0].expected
        );
        assert!(surges[0].examples[0].contains("order 99"));
        // The closed minute does not count again: a late line is mined but not re-counted.
        s.add(
            &rec(T0 + 30 * MINUTE, Level::Warn, "retry 1 for order 5"),
            &cfg,
        );
        assert_eq!(s.late, 1);
    }

    #[test]
    fn steady_traffic_never_surges_and_state_survives_a_reload() {
        let cfg = LogsConfig::default();
        let mut s = State::new(&cfg).unwrap();
        for m in 0..60 {
            for i in 0..(20 + m % 7) {
                s.add(
                    &rec(
                        T0 + m * MINUTE + i,
                        Level::Info,
                        &format!("served /api/{i} in {m}ms"),
                    ),
                    &cfg,
                );
            }
        }
        s.flush(T0 + 61 * MINUTE, &cfg);
        assert_eq!(s.anomalies().count(), 0);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        s.save(&p).unwrap();
        let r = State::load(&p, &cfg).unwrap();
        assert_eq!(r.templates(None).len(), s.templates(None).len());
        assert_eq!(
            r.templates(Some("pay"))[0].count,
            s.templates(None)[0].count
        );
        assert_eq!(r.rates.len(), s.rates.len());
    }
}
