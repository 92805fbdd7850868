//! Flush (head → block), compaction (blocks of a day → one block) and retention.

use super::{Store, checkpoint};
use crate::block::{Block, BlockMeta, block_path, write_block};
use crate::error::StoreError;
use crate::head::HeadData;
use crate::wal::segment_path;
use hush_model::{Labels, Sample, SeriesId};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What one maintenance pass did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MaintenanceReport {
    pub flushed_samples: u64,
    pub blocks_written: usize,
    pub blocks_merged: usize,
    pub blocks_dropped: usize,
    pub series_dropped: usize,
}

impl Store {
    /// Moves everything in the head into a new block and deletes the WAL segments it covers.
    pub fn flush(&self) -> Result<MaintenanceReport, StoreError> {
        let inner = &*self.inner;
        let _one = inner.maintenance.lock();
        let (set, labels, rotated) = {
            let mut st = inner.state.write();
            let mut set: HashMap<SeriesId, HeadData> = HashMap::new();
            let mut labels = HashMap::new();
            for s in st.index.series.iter_mut().flatten() {
                if !s.head.is_empty() {
                    set.insert(s.id, s.head.take());
                    labels.insert(s.id, s.labels.clone());
                }
            }
            if set.is_empty() {
                return Ok(MaintenanceReport::default());
            }
            // Queued behind every append made so far: the closed segment holds exactly `set`.
            let rotated = inner.wal.rotate(checkpoint(&st.index));
            let set = Arc::new(set);
            st.flushing.push(set.clone());
            (set, labels, rotated)
        };
        let closed = rotated
            .blocking_recv()
            .map_err(|_| StoreError::Closed)?
            .map_err(|e| StoreError::Wal(e.to_string()))?;
        let meta = BlockMeta {
            id: self.next_block_id(),
            wal_upto: closed,
            ..Default::default()
        };
        let mut series: Vec<(SeriesId, Labels, Vec<Sample>)> = set
            .iter()
            .map(|(id, h)| {
                let mut v = Vec::new();
                h.read(i64::MIN, i64::MAX, &mut v);
                (*id, labels.get(id).cloned().unwrap_or_default(), v)
            })
            .collect();
        series.sort_by_key(|s| s.0);
        let written = write_block(&inner.dir.join("blocks"), meta, series.into_iter())?;
        let block = Arc::new(Block::open(&block_path(
            &inner.dir.join("blocks"),
            written.id,
        ))?);
        {
            let mut st = inner.state.write();
            st.blocks.push(block);
            st.flushing.retain(|f| !Arc::ptr_eq(f, &set));
        }
        let wal_dir = inner.dir.join("wal");
        for n in crate::wal::list_segments(&wal_dir)?
            .into_iter()
            .filter(|&n| n <= closed)
        {
            let _ = std::fs::remove_file(segment_path(&wal_dir, n));
        }
        tracing::info!(
            block = written.id,
            samples = written.samples,
            bytes = written.bytes,
            "flushed head"
        );
        Ok(MaintenanceReport {
            flushed_samples: written.samples,
            blocks_written: 1,
            ..Default::default()
        })
    }

    /// Merges the blocks of each finished day into one (fewer files, better compression) and
    /// drops blocks wholly older than the retention period.
    pub fn compact(&self) -> Result<MaintenanceReport, StoreError> {
        let inner = &*self.inner;
        let _one = inner.maintenance.lock();
        let mut report = MaintenanceReport::default();
        let (blocks, max_t) = {
            let st = inner.state.read();
            (st.blocks.clone(), st.max_t)
        };
        let span = (inner.opts.compact_span.as_millis() as i64).max(1);
        let cutoff = max_t.saturating_sub(inner.opts.retention.as_millis() as i64);
        let (expired, kept): (Vec<_>, Vec<_>) =
            blocks.into_iter().partition(|b| b.meta.max_t < cutoff);
        let mut groups: BTreeMap<i64, Vec<Arc<Block>>> = BTreeMap::new();
        for b in kept {
            // Only periods that have ended (the head has moved on) are merged.
            if b.meta.max_t
                < max_t
                    .saturating_sub(span / 12)
                    .min(max_t - max_t.rem_euclid(span))
            {
                groups
                    .entry(b.meta.min_t.div_euclid(span))
                    .or_default()
                    .push(b);
            }
        }
        let blocks_dir = inner.dir.join("blocks");
        for (_, group) in groups.into_iter().filter(|(_, g)| g.len() > 1) {
            let mut merged: BTreeMap<SeriesId, (Labels, Vec<Sample>)> = BTreeMap::new();
            for b in &group {
                for (id, (labels, _)) in &b.series {
                    let e = merged
                        .entry(*id)
                        .or_insert_with(|| (labels.clone(), Vec::new()));
                    b.read_all(*id, &mut e.1)?;
                }
            }
            let series = merged.into_iter().map(|(id, (l, mut v))| {
                v.sort_by_key(|s| s.t);
                v.dedup_by_key(|s| s.t);
                (id, l, v)
            });
            let meta = BlockMeta {
                id: self.next_block_id(),
                wal_upto: group.iter().map(|b| b.meta.wal_upto).max().unwrap_or(0),
                sources: group.iter().map(|b| b.meta.id).collect(),
                ..Default::default()
            };
            let written = write_block(&blocks_dir, meta, series)?;
            let block = Arc::new(Block::open(&block_path(&blocks_dir, written.id))?);
            {
                let mut st = inner.state.write();
                st.blocks
                    .retain(|b| !group.iter().any(|g| Arc::ptr_eq(b, g)));
                st.blocks.push(block);
                st.blocks.sort_by_key(|b| b.meta.min_t);
            }
            for b in &group {
                let _ = std::fs::remove_file(&b.path);
            }
            report.blocks_merged += group.len();
            report.blocks_written += 1;
        }
        if !expired.is_empty() {
            let mut st = inner.state.write();
            st.blocks
                .retain(|b| !expired.iter().any(|e| Arc::ptr_eq(b, e)));
            for b in &expired {
                let _ = std::fs::remove_file(&b.path);
            }
            report.blocks_dropped = expired.len();
            // Forget series that no longer have data anywhere.
            let dead: Vec<u32> = st
                .index
                .series
                .iter()
                .enumerate()
                .filter_map(|(r, s)| s.as_ref().map(|s| (r as u32, s)))
                .filter(|(_, s)| {
                    s.head.is_empty()
                        && !st.blocks.iter().any(|b| b.series.contains_key(&s.id))
                        && !st.flushing.iter().any(|f| f.contains_key(&s.id))
                })
                .map(|(r, _)| r)
                .collect();
            report.series_dropped = dead.len();
            for r in dead {
                st.index.remove(r);
            }
        }
        Ok(report)
    }
}
