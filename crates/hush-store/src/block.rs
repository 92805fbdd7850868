//! Immutable block files: every sample of a time span, chunked per series.
//!
//! Layout: `magic | chunk data | index | footer`. The index (series labels and chunk
//! references) is read into memory when the block is opened; chunk bytes are read on demand.
//! Blocks are written to a temporary name, synced and renamed, so a block file either exists
//! whole or not at all.

use crate::codec::{Cursor, put_i64, put_labels, put_u32, put_u64};
use crate::error::StoreError;
use crate::wal::sync_dir;
use hush_model::{Labels, Sample, SeriesId};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"HUSHBLK1";
/// Samples per chunk in a block: longer than head chunks, since sealed data is read in spans.
pub(crate) const BLOCK_CHUNK_SAMPLES: usize = 4096;

/// Facts about a block, stored in its index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlockMeta {
    pub id: u64,
    pub min_t: i64,
    pub max_t: i64,
    pub samples: u64,
    pub series: u64,
    /// The newest WAL segment whose samples are all in this block (or an older one).
    pub wal_upto: u64,
    /// Blocks merged into this one; they are deleted if still present at open.
    pub sources: Vec<u64>,
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkRef {
    pub min_t: i64,
    pub max_t: i64,
    pub offset: u64,
    pub len: u32,
}

/// An open block: its metadata and index in memory, chunk data on disk.
#[derive(Debug)]
pub(crate) struct Block {
    pub meta: BlockMeta,
    pub path: PathBuf,
    file: File,
    pub series: HashMap<SeriesId, (Labels, Vec<ChunkRef>)>,
}

pub(crate) fn block_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:016x}.blk"))
}

/// Writes a block from series given in any order; samples per series must be sorted and unique.
pub(crate) fn write_block(
    dir: &Path,
    mut meta: BlockMeta,
    series: impl Iterator<Item = (SeriesId, Labels, Vec<Sample>)>,
) -> Result<BlockMeta, StoreError> {
    let path = block_path(dir, meta.id);
    let tmp = path.with_extension("tmp");
    let file = File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
    let mut w = BufWriter::new(file);
    let mut offset = MAGIC.len() as u64;
    w.write_all(MAGIC).map_err(|e| StoreError::io(&tmp, e))?;
    let mut index = Vec::new();
    let (mut min_t, mut max_t, mut n_samples, mut n_series) = (i64::MAX, i64::MIN, 0u64, 0u64);
    for (id, labels, samples) in series {
        if samples.is_empty() {
            continue;
        }
        n_series += 1;
        put_u64(&mut index, id.0);
        put_labels(&mut index, &labels);
        let chunks: Vec<&[Sample]> = samples.chunks(BLOCK_CHUNK_SAMPLES).collect();
        put_u32(&mut index, chunks.len() as u32);
        for part in chunks {
            let (c_min, c_max) = (part[0].t, part[part.len() - 1].t);
            let bytes = crate::sealed::encode(part);
            w.write_all(&bytes).map_err(|e| StoreError::io(&tmp, e))?;
            put_i64(&mut index, c_min);
            put_i64(&mut index, c_max);
            put_u64(&mut index, offset);
            put_u32(&mut index, bytes.len() as u32);
            offset += bytes.len() as u64;
            min_t = min_t.min(c_min);
            max_t = max_t.max(c_max);
            n_samples += part.len() as u64;
        }
    }
    meta.min_t = min_t;
    meta.max_t = max_t;
    meta.samples = n_samples;
    meta.series = n_series;
    let mut head = Vec::new();
    put_u64(&mut head, meta.id);
    put_i64(&mut head, meta.min_t);
    put_i64(&mut head, meta.max_t);
    put_u64(&mut head, meta.samples);
    put_u64(&mut head, meta.wal_upto);
    put_u32(&mut head, meta.sources.len() as u32);
    for s in &meta.sources {
        put_u64(&mut head, *s);
    }
    put_u64(&mut head, n_series);
    head.extend_from_slice(&index);
    let index_offset = offset;
    w.write_all(&head).map_err(|e| StoreError::io(&tmp, e))?;
    let mut footer = Vec::new();
    put_u64(&mut footer, index_offset);
    put_u32(&mut footer, crc32fast::hash(&head));
    footer.extend_from_slice(MAGIC);
    w.write_all(&footer).map_err(|e| StoreError::io(&tmp, e))?;
    let file = w
        .into_inner()
        .map_err(|e| StoreError::io(&tmp, e.into_error()))?;
    file.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
    meta.bytes = index_offset + head.len() as u64 + footer.len() as u64;
    fs::rename(&tmp, &path).map_err(|e| StoreError::io(&path, e))?;
    sync_dir(dir)?;
    Ok(meta)
}

impl Block {
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
        let len = file.metadata().map_err(|e| StoreError::io(path, e))?.len();
        if len < (MAGIC.len() + 20) as u64 {
            return Err(StoreError::corrupt(path, "file too short"));
        }
        let mut footer = [0u8; 20];
        file.read_exact_at(&mut footer, len - 20)
            .map_err(|e| StoreError::io(path, e))?;
        let mut fc = Cursor::new(&footer);
        let (index_offset, crc) = (fc.u64().unwrap_or(0), fc.u32().unwrap_or(0));
        if &footer[12..] != MAGIC || index_offset >= len - 20 {
            return Err(StoreError::corrupt(path, "bad footer"));
        }
        let mut head = vec![0u8; (len - 20 - index_offset) as usize];
        file.read_exact_at(&mut head, index_offset)
            .map_err(|e| StoreError::io(path, e))?;
        if crc32fast::hash(&head) != crc {
            return Err(StoreError::corrupt(path, "index checksum mismatch"));
        }
        let bad = || StoreError::corrupt(path, "truncated index");
        let mut c = Cursor::new(&head);
        let mut meta = BlockMeta {
            id: c.u64().ok_or_else(bad)?,
            min_t: c.i64().ok_or_else(bad)?,
            max_t: c.i64().ok_or_else(bad)?,
            samples: c.u64().ok_or_else(bad)?,
            wal_upto: c.u64().ok_or_else(bad)?,
            bytes: len,
            ..Default::default()
        };
        for _ in 0..c.u32().ok_or_else(bad)? {
            meta.sources.push(c.u64().ok_or_else(bad)?);
        }
        meta.series = c.u64().ok_or_else(bad)?;
        let mut series = HashMap::with_capacity(meta.series.min(1 << 20) as usize);
        for _ in 0..meta.series {
            let id = SeriesId(c.u64().ok_or_else(bad)?);
            let labels = c.labels().ok_or_else(bad)?;
            let n = c.u32().ok_or_else(bad)?;
            let mut refs = Vec::with_capacity(n.min(1 << 16) as usize);
            for _ in 0..n {
                refs.push(ChunkRef {
                    min_t: c.i64().ok_or_else(bad)?,
                    max_t: c.i64().ok_or_else(bad)?,
                    offset: c.u64().ok_or_else(bad)?,
                    len: c.u32().ok_or_else(bad)?,
                });
            }
            series.insert(id, (labels, refs));
        }
        Ok(Self {
            meta,
            path: path.to_path_buf(),
            file,
            series,
        })
    }

    /// Samples of one series within `[start, end]`, ascending.
    pub(crate) fn read(
        &self,
        id: SeriesId,
        start: i64,
        end: i64,
        out: &mut Vec<Sample>,
    ) -> Result<(), StoreError> {
        let Some((_, refs)) = self.series.get(&id) else {
            return Ok(());
        };
        for r in refs.iter().filter(|r| r.max_t >= start && r.min_t <= end) {
            let mut buf = vec![0u8; r.len as usize];
            self.file
                .read_exact_at(&mut buf, r.offset)
                .map_err(|e| StoreError::io(&self.path, e))?;
            let samples = crate::sealed::decode(&buf)
                .ok_or_else(|| StoreError::corrupt(&self.path, "bad chunk"))?;
            out.extend(samples.into_iter().filter(|s| s.t >= start && s.t <= end));
        }
        Ok(())
    }

    /// Every sample of one series.
    pub(crate) fn read_all(&self, id: SeriesId, out: &mut Vec<Sample>) -> Result<(), StoreError> {
        self.read(id, i64::MIN, i64::MAX, out)
    }
}

/// Block ids present in `dir`; leftover temporary files from a crash are removed.
pub(crate) fn list_blocks(dir: &Path) -> Result<Vec<u64>, StoreError> {
    let mut ids = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))? {
        let e = e.map_err(|e| StoreError::io(dir, e))?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.ends_with(".tmp") {
            let _ = fs::remove_file(e.path());
        } else if let Some(id) = name
            .strip_suffix(".blk")
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}
