//! [`Store`]: appends go to the head and the WAL; flushes turn the head into blocks; queries
//! read a consistent snapshot of blocks, blocks being written, and the head.

use crate::block::{Block, block_path, list_blocks};
use crate::error::StoreError;
use crate::head::{Appended, HeadData, RejectReason};
use crate::index::Index;
use crate::wal::{
    FsyncPolicy, Record, RecordBuf, Wal, list_segments, replay_segment, segment_path,
};
use hush_model::{Labels, Matcher, Sample, SeriesId, TimeSeries};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Tunables of the store; [`Options::default`] keeps every acknowledged sample durable.
#[derive(Debug, Clone)]
pub struct Options {
    /// Samples older than this (relative to the newest sample seen) are dropped.
    pub retention: Duration,
    /// How far behind a series' newest sample a late sample may arrive and still be stored.
    pub out_of_order_window: Duration,
    pub fsync: FsyncPolicy,
    /// Refuse samples that would create series beyond this many live series.
    pub max_series: usize,
    /// Blocks of one day are merged when there are several.
    pub compact_span: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(15 * 24 * 3600),
            out_of_order_window: Duration::from_secs(10 * 60),
            fsync: FsyncPolicy::Always,
            max_series: 1_000_000,
            compact_span: Duration::from_secs(24 * 3600),
        }
    }
}

/// What an append did, sample by sample.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AppendOutcome {
    pub stored: u64,
    /// Samples identical to ones already stored (client retries); not an error.
    pub duplicates: u64,
    pub rejected: HashMap<RejectReason, u64>,
    /// The first rejected sample, to name in an error message.
    pub first_rejection: Option<(Labels, Sample, RejectReason)>,
}

impl AppendOutcome {
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

/// Counters and gauges for self-observability.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub series: usize,
    pub active_series: usize,
    pub blocks: usize,
    pub block_bytes: u64,
    pub block_samples: u64,
    pub wal_bytes: u64,
    pub samples_stored: u64,
    pub samples_duplicate: u64,
    pub rejected: Vec<(&'static str, u64)>,
    pub head_bytes: usize,
}

struct Snapshot {
    blocks: Vec<Arc<Block>>,
    flushing: Vec<Arc<HashMap<SeriesId, HeadData>>>,
}

struct State {
    index: Index,
    blocks: Vec<Arc<Block>>,
    flushing: Vec<Arc<HashMap<SeriesId, HeadData>>>,
    /// Newest sample timestamp seen, the clock for retention (data time, not wall time).
    max_t: i64,
}

struct Inner {
    dir: PathBuf,
    /// Held (locked) for the store's lifetime.
    _lock: std::fs::File,
    opts: Options,
    state: RwLock<State>,
    wal: Wal,
    /// One flush or compaction at a time.
    maintenance: Mutex<()>,
    next_block: AtomicU64,
    stored: AtomicU64,
    duplicates: AtomicU64,
    rejected: [AtomicU64; 4],
}

/// The embedded time-series store. Cheap to clone; all clones share one store.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl Store {
    /// Opens (or creates) a store in `dir`, replaying the WAL written since the newest block.
    pub fn open(dir: impl AsRef<Path>, opts: Options) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        let (wal_dir, blocks_dir) = (dir.join("wal"), dir.join("blocks"));
        for d in [&dir, &wal_dir, &blocks_dir] {
            std::fs::create_dir_all(d).map_err(|e| StoreError::io(d, e))?;
        }
        // One process per directory: a second writer would interleave WAL records.
        let lock_path = dir.join("LOCK");
        let lock = std::fs::File::create(&lock_path).map_err(|e| StoreError::io(&lock_path, e))?;
        if lock.try_lock().is_err() {
            return Err(StoreError::Locked { path: dir });
        }
        let mut blocks = Vec::new();
        for id in list_blocks(&blocks_dir)? {
            blocks.push(Block::open(&block_path(&blocks_dir, id))?);
        }
        // A merge that crashed before deleting its inputs leaves them behind: drop them now.
        let merged: Vec<u64> = blocks.iter().flat_map(|b| b.meta.sources.clone()).collect();
        blocks.retain(|b| {
            let stale = merged.contains(&b.meta.id);
            if stale {
                let _ = std::fs::remove_file(&b.path);
            }
            !stale
        });
        let mut index = Index::default();
        let mut max_t = i64::MIN;
        for b in &blocks {
            max_t = max_t.max(b.meta.max_t);
            for (id, (labels, _)) in &b.series {
                index.get_or_create(*id, labels);
            }
        }
        let wal_upto = blocks.iter().map(|b| b.meta.wal_upto).max().unwrap_or(0);
        let segments = list_segments(&wal_dir)?;
        for &n in segments.iter().filter(|&&n| n <= wal_upto) {
            let _ = std::fs::remove_file(segment_path(&wal_dir, n));
        }
        let mut replayed = 0u64;
        for &n in segments.iter().filter(|&&n| n > wal_upto) {
            let dropped = replay_segment(&segment_path(&wal_dir, n), |rec| match rec {
                Record::Series(id, labels) => {
                    index.get_or_create(id, &labels);
                }
                Record::Samples(samples) => {
                    for (id, t, v) in samples {
                        let Some(&r) = index.by_id.get(&id) else {
                            continue;
                        };
                        if let Some(s) = index.get_mut(r) {
                            // Everything in the log was accepted when written: no window here.
                            if s.head.append(t, v, i64::MIN) == Appended::Stored {
                                replayed += 1;
                                max_t = max_t.max(t);
                            }
                        }
                    }
                }
            })?;
            if dropped > 0 {
                tracing::warn!(
                    segment = n,
                    bytes = dropped,
                    "cut a torn tail off a wal segment"
                );
            }
        }
        tracing::info!(
            blocks = blocks.len(),
            series = index.live,
            samples = replayed,
            "store opened"
        );
        let next_seg = segments.last().copied().unwrap_or(wal_upto).max(wal_upto) + 1;
        let wal = Wal::start(wal_dir, next_seg, checkpoint(&index), opts.fsync)?;
        let next_block = blocks.iter().map(|b| b.meta.id).max().unwrap_or(0) + 1;
        let state = State {
            index,
            blocks: blocks.into_iter().map(Arc::new).collect(),
            flushing: Vec::new(),
            max_t,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                dir,
                _lock: lock,
                opts,
                state: RwLock::new(state),
                wal,
                maintenance: Mutex::new(()),
                next_block: AtomicU64::new(next_block),
                stored: AtomicU64::new(0),
                duplicates: AtomicU64::new(0),
                rejected: Default::default(),
            }),
        })
    }

    pub fn options(&self) -> &Options {
        &self.inner.opts
    }

    /// Stores samples and returns once they are durable per the fsync policy. Samples the
    /// store refuses (too old, conflicting duplicates, over the series limit) are counted in
    /// the outcome; the others are stored.
    pub async fn append(&self, batch: Vec<TimeSeries>) -> Result<AppendOutcome, StoreError> {
        let (outcome, rx) = self.append_to_head(batch);
        if let Some(rx) = rx {
            rx.await
                .map_err(|_| StoreError::Closed)?
                .map_err(|e| StoreError::Wal(e.to_string()))?;
        }
        Ok(outcome)
    }

    /// Same as [`Store::append`] for callers without an async runtime.
    pub fn append_blocking(&self, batch: Vec<TimeSeries>) -> Result<AppendOutcome, StoreError> {
        let (outcome, rx) = self.append_to_head(batch);
        if let Some(rx) = rx {
            rx.blocking_recv()
                .map_err(|_| StoreError::Closed)?
                .map_err(|e| StoreError::Wal(e.to_string()))?;
        }
        Ok(outcome)
    }

    #[allow(clippy::type_complexity)]
    fn append_to_head(
        &self,
        batch: Vec<TimeSeries>,
    ) -> (
        AppendOutcome,
        Option<tokio::sync::oneshot::Receiver<std::io::Result<()>>>,
    ) {
        let inner = &*self.inner;
        let mut out = AppendOutcome::default();
        let mut rec = RecordBuf::default();
        let mut wal_samples = Vec::new();
        let ooo = inner.opts.out_of_order_window.as_millis() as i64;
        let retention = inner.opts.retention.as_millis() as i64;
        let reject =
            |out: &mut AppendOutcome, labels: &Labels, s: Sample, why: RejectReason, n: u64| {
                *out.rejected.entry(why).or_default() += n;
                if out.first_rejection.is_none() {
                    out.first_rejection = Some((labels.clone(), s, why));
                }
            };
        let mut st = inner.state.write();
        let batch_max = batch
            .iter()
            .flat_map(|ts| ts.samples.iter().map(|s| s.t))
            .max()
            .unwrap_or(i64::MIN);
        st.max_t = st.max_t.max(batch_max);
        let oldest_kept = st.max_t.saturating_sub(retention);
        for ts in batch {
            let Some(&first) = ts.samples.first() else {
                continue;
            };
            let id = ts.labels.series_id();
            let r = match st.index.by_id.get(&id) {
                Some(&r) => r,
                None if st.index.live >= inner.opts.max_series => {
                    reject(
                        &mut out,
                        &ts.labels,
                        first,
                        RejectReason::SeriesLimit,
                        ts.samples.len() as u64,
                    );
                    continue;
                }
                None => {
                    rec.series(id, &ts.labels);
                    st.index.get_or_create(id, &ts.labels).0
                }
            };
            let Some(series) = st.index.get_mut(r) else {
                continue;
            };
            for s in &ts.samples {
                if s.t < oldest_kept {
                    reject(&mut out, &ts.labels, *s, RejectReason::OutOfRetention, 1);
                    continue;
                }
                let accept_before = series
                    .head
                    .max_t()
                    .map_or(i64::MIN, |m| m.saturating_sub(ooo));
                match series.head.append(s.t, s.v, accept_before) {
                    Appended::Stored => {
                        out.stored += 1;
                        wal_samples.push((id, s.t, s.v));
                    }
                    Appended::Duplicate => out.duplicates += 1,
                    Appended::Rejected(why) => reject(&mut out, &ts.labels, *s, why, 1),
                }
            }
        }
        rec.samples(&wal_samples);
        // Sent while the lock is held, so the log's order is the order applied to memory.
        let rx = (!rec.is_empty()).then(|| inner.wal.write(rec.buf));
        drop(st);
        inner.stored.fetch_add(out.stored, Ordering::Relaxed);
        inner
            .duplicates
            .fetch_add(out.duplicates, Ordering::Relaxed);
        for (why, n) in &out.rejected {
            inner.rejected[RejectReason::ALL.iter().position(|r| r == why).unwrap_or(0)]
                .fetch_add(*n, Ordering::Relaxed);
        }
        (out, rx)
    }

    /// Series matching all `matchers` with their samples in `[start, end]` (ms, inclusive),
    /// samples ascending; series without samples in range are omitted.
    pub fn select(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<TimeSeries>, StoreError> {
        let (found, snap) = {
            let st = self.inner.state.read();
            let refs = st.index.select(matchers);
            let mut found = Vec::with_capacity(refs.len());
            for r in refs {
                let Some(Some(s)) = st.index.series.get(r as usize) else {
                    continue;
                };
                let mut head = Vec::new();
                s.head.read(start, end, &mut head);
                found.push((s.id, s.labels.clone(), head));
            }
            (
                found,
                Snapshot {
                    blocks: st.blocks.clone(),
                    flushing: st.flushing.clone(),
                },
            )
        };
        let mut out = Vec::with_capacity(found.len());
        for (id, labels, head) in found {
            let mut samples = Vec::new();
            for b in snap
                .blocks
                .iter()
                .filter(|b| b.meta.max_t >= start && b.meta.min_t <= end)
            {
                b.read(id, start, end, &mut samples)?;
            }
            for f in &snap.flushing {
                if let Some(h) = f.get(&id) {
                    h.read(start, end, &mut samples);
                }
            }
            let sorted = samples.windows(2).all(|w| w[0].t < w[1].t)
                && samples
                    .last()
                    .zip(head.first())
                    .is_none_or(|(a, b)| a.t < b.t);
            samples.extend(head);
            if !sorted {
                samples.sort_by_key(|s| s.t);
                samples.dedup_by_key(|s| s.t);
            }
            if !samples.is_empty() {
                out.push(TimeSeries::new(labels, samples));
            }
        }
        Ok(out)
    }

    /// Label sets of the series matching `matchers` that have samples in `[start, end]`.
    pub fn series(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<Labels>, StoreError> {
        let st = self.inner.state.read();
        let mut out = Vec::new();
        for r in st.index.select(matchers) {
            let Some(Some(s)) = st.index.series.get(r as usize) else {
                continue;
            };
            let in_head = s
                .head
                .min_t()
                .zip(s.head.max_t())
                .is_some_and(|(a, b)| b >= start && a <= end);
            let in_blocks = || {
                st.blocks.iter().any(|b| {
                    b.series
                        .get(&s.id)
                        .is_some_and(|(_, c)| c.iter().any(|c| c.max_t >= start && c.min_t <= end))
                }) || st.flushing.iter().any(|f| {
                    f.get(&s.id).is_some_and(|h| {
                        h.min_t()
                            .zip(h.max_t())
                            .is_some_and(|(a, b)| b >= start && a <= end)
                    })
                })
            };
            if in_head || in_blocks() {
                out.push(s.labels.clone());
            }
        }
        out.sort();
        Ok(out)
    }

    /// All label names, or those of series matching `matchers` when any are given.
    pub fn label_names(&self, matchers: &[Matcher]) -> Vec<String> {
        let st = self.inner.state.read();
        if matchers.is_empty() {
            return st.index.label_names();
        }
        let mut names: Vec<String> = st
            .index
            .select(matchers)
            .into_iter()
            .filter_map(|r| st.index.series.get(r as usize).and_then(Option::as_ref))
            .flat_map(|s| s.labels.iter().map(|l| l.name.clone()).collect::<Vec<_>>())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Values of label `name`, restricted to series matching `matchers` when any are given.
    pub fn label_values(&self, name: &str, matchers: &[Matcher]) -> Vec<String> {
        let st = self.inner.state.read();
        if matchers.is_empty() {
            return st.index.label_values(name);
        }
        let mut values: Vec<String> = st
            .index
            .select(matchers)
            .into_iter()
            .filter_map(|r| st.index.series.get(r as usize).and_then(Option::as_ref))
            .filter_map(|s| s.labels.get(name).map(str::to_string))
            .collect();
        values.sort();
        values.dedup();
        values
    }

    /// Waits until everything appended so far is on disk, whatever the fsync policy.
    pub async fn sync(&self) -> Result<(), StoreError> {
        self.inner
            .wal
            .sync()
            .await
            .map_err(|_| StoreError::Closed)?
            .map_err(|e| StoreError::Wal(e.to_string()))
    }

    pub fn stats(&self) -> Stats {
        let inner = &*self.inner;
        let st = inner.state.read();
        let mut s = Stats {
            series: st.index.live,
            blocks: st.blocks.len(),
            block_bytes: st.blocks.iter().map(|b| b.meta.bytes).sum(),
            block_samples: st.blocks.iter().map(|b| b.meta.samples).sum(),
            samples_stored: inner.stored.load(Ordering::Relaxed),
            samples_duplicate: inner.duplicates.load(Ordering::Relaxed),
            ..Default::default()
        };
        for m in st.index.series.iter().flatten() {
            if !m.head.is_empty() {
                s.active_series += 1;
                s.head_bytes += m.head.heap_bytes();
            }
        }
        drop(st);
        s.rejected = RejectReason::ALL
            .iter()
            .zip(&inner.rejected)
            .map(|(r, n)| (r.as_str(), n.load(Ordering::Relaxed)))
            .collect();
        s.wal_bytes = dir_bytes(&inner.dir.join("wal"));
        s
    }

    pub(crate) fn next_block_id(&self) -> u64 {
        self.inner.next_block.fetch_add(1, Ordering::Relaxed)
    }
}

fn checkpoint(index: &Index) -> Vec<u8> {
    let mut rec = RecordBuf::default();
    for s in index.series.iter().flatten() {
        rec.series(s.id, &s.labels);
    }
    rec.buf
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

mod maintenance;
pub use maintenance::MaintenanceReport;
