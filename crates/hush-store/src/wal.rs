//! The write-ahead log: numbered segment files of CRC-framed records, written by one thread
//! that batches concurrent requests into a single write and a single fsync (group commit).
//!
//! **Invariant:** every segment starts with a checkpoint of all series known when it was opened,
//! so a segment can be replayed without any older one; samples reference series by id.

use crate::codec::{Cursor, put_i64, put_labels, put_u32, put_u64};
use crate::error::StoreError;
use hush_model::{Labels, SeriesId};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;

const REC_SERIES: u8 = 1;
const REC_SAMPLES: u8 = 2;

/// When the WAL calls fsync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Before every acknowledgement (batched across concurrent writers). The default: an
    /// acknowledged sample survives a crash or power loss.
    Always,
    /// Every given interval; a crash of the machine may lose up to that much acknowledged data,
    /// a crash of the process loses nothing (the data is in the page cache).
    Interval(Duration),
    /// Never explicitly; the operating system decides.
    Never,
}

/// Builds the bytes of WAL records.
#[derive(Default)]
pub(crate) struct RecordBuf {
    pub(crate) buf: Vec<u8>,
}

impl RecordBuf {
    fn frame(&mut self, kind: u8, body: impl FnOnce(&mut Vec<u8>)) {
        let start = self.buf.len();
        put_u32(&mut self.buf, 0); // length, patched below
        put_u32(&mut self.buf, 0); // crc, patched below
        self.buf.push(kind);
        body(&mut self.buf);
        let payload = &self.buf[start + 8..];
        let len = payload.len() as u32;
        let crc = crc32fast::hash(payload);
        self.buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
        self.buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    }

    pub(crate) fn series(&mut self, id: SeriesId, labels: &Labels) {
        self.frame(REC_SERIES, |b| {
            put_u64(b, id.0);
            put_labels(b, labels);
        });
    }

    pub(crate) fn samples(&mut self, samples: &[(SeriesId, i64, f64)]) {
        if samples.is_empty() {
            return;
        }
        self.frame(REC_SAMPLES, |b| {
            put_u32(b, samples.len() as u32);
            for (id, t, v) in samples {
                put_u64(b, id.0);
                put_i64(b, *t);
                put_u64(b, v.to_bits());
            }
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// What replay hands back, in log order.
pub(crate) enum Record {
    Series(SeriesId, Labels),
    Samples(Vec<(SeriesId, i64, f64)>),
}

pub(crate) fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:010}"))
}

/// Segment numbers present in `dir`, ascending.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<u64>, StoreError> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))? {
        let e = e.map_err(|e| StoreError::io(dir, e))?;
        if let Some(n) = e.file_name().to_str().and_then(|s| s.parse::<u64>().ok()) {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Reads one segment. A torn or corrupt record ends it: the bytes from there on are cut off
/// (they were never acknowledged, since acknowledgement follows the write), and the count of
/// bytes dropped is returned.
pub(crate) fn replay_segment(path: &Path, mut f: impl FnMut(Record)) -> Result<u64, StoreError> {
    let data = fs::read(path).map_err(|e| StoreError::io(path, e))?;
    let mut c = Cursor::new(&data);
    let mut good = 0usize;
    while !c.is_empty() {
        let Some(rec) = read_record(&mut c) else {
            break;
        };
        f(rec);
        good = data.len() - c.remaining();
    }
    let dropped = (data.len() - good) as u64;
    if dropped > 0 {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| StoreError::io(path, e))?;
        file.set_len(good as u64)
            .map_err(|e| StoreError::io(path, e))?;
        file.sync_all().map_err(|e| StoreError::io(path, e))?;
    }
    Ok(dropped)
}

fn read_record(c: &mut Cursor<'_>) -> Option<Record> {
    let len = c.u32()? as usize;
    let crc = c.u32()?;
    let payload = c.bytes(len)?;
    if crc32fast::hash(payload) != crc {
        return None;
    }
    let mut p = Cursor::new(payload);
    match p.u8()? {
        REC_SERIES => {
            let id = SeriesId(p.u64()?);
            let labels = p.labels()?;
            Some(Record::Series(id, labels))
        }
        REC_SAMPLES => {
            let n = p.u32()? as usize;
            let mut v = Vec::with_capacity(n.min(payload.len() / 24));
            for _ in 0..n {
                v.push((SeriesId(p.u64()?), p.i64()?, f64::from_bits(p.u64()?)));
            }
            Some(Record::Samples(v))
        }
        _ => None,
    }
}

enum Cmd {
    Write(Vec<u8>, oneshot::Sender<io::Result<()>>),
    /// Close the current segment and open the next, starting it with the given checkpoint.
    /// Answers with the number of the segment that was closed.
    Rotate(Vec<u8>, oneshot::Sender<io::Result<u64>>),
    Sync(oneshot::Sender<io::Result<()>>),
}

/// Handle to the WAL writer thread. Dropping every handle stops the thread after it has
/// written (and synced) what it was given.
#[derive(Clone)]
pub(crate) struct Wal {
    tx: mpsc::Sender<Cmd>,
}

impl Wal {
    /// Opens a new segment numbered `next` (older ones are left alone) and starts the writer.
    pub(crate) fn start(
        dir: PathBuf,
        next: u64,
        checkpoint: Vec<u8>,
        policy: FsyncPolicy,
    ) -> Result<Self, StoreError> {
        let (mut file, _) = open_segment(&dir, next, &checkpoint)?;
        let (tx, rx) = mpsc::channel::<Cmd>();
        std::thread::Builder::new()
            .name("hush-wal".into())
            .spawn(move || writer_loop(dir, next, &mut file, rx, policy))
            .map_err(|e| StoreError::Internal(format!("failed to start wal writer: {e}")))?;
        Ok(Self { tx })
    }

    /// Queues bytes in submission order; the receiver resolves once they are durable per policy.
    pub(crate) fn write(&self, bytes: Vec<u8>) -> oneshot::Receiver<io::Result<()>> {
        let (tx, rx) = oneshot::channel();
        let _ = self.tx.send(Cmd::Write(bytes, tx));
        rx
    }

    pub(crate) fn rotate(&self, checkpoint: Vec<u8>) -> oneshot::Receiver<io::Result<u64>> {
        let (tx, rx) = oneshot::channel();
        let _ = self.tx.send(Cmd::Rotate(checkpoint, tx));
        rx
    }

    pub(crate) fn sync(&self) -> oneshot::Receiver<io::Result<()>> {
        let (tx, rx) = oneshot::channel();
        let _ = self.tx.send(Cmd::Sync(tx));
        rx
    }
}

fn open_segment(dir: &Path, n: u64, checkpoint: &[u8]) -> Result<(File, PathBuf), StoreError> {
    let path = segment_path(dir, n);
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| StoreError::io(&path, e))?;
    f.write_all(checkpoint)
        .map_err(|e| StoreError::io(&path, e))?;
    f.sync_all().map_err(|e| StoreError::io(&path, e))?;
    sync_dir(dir)?;
    Ok((f, path))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

fn writer_loop(
    dir: PathBuf,
    mut seg: u64,
    file: &mut File,
    rx: mpsc::Receiver<Cmd>,
    policy: FsyncPolicy,
) {
    let tick = match policy {
        FsyncPolicy::Interval(d) => d,
        _ => Duration::from_secs(3600),
    };
    let mut dirty = false;
    loop {
        let first = match rx.recv_timeout(tick) {
            Ok(c) => c,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if dirty {
                    let _ = file.sync_data();
                    dirty = false;
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = file.sync_data();
                return;
            }
        };
        // Group commit: take everything already queued, write it in one go, sync once.
        let mut batch = vec![first];
        while let Ok(c) = rx.try_recv() {
            batch.push(c);
            if batch.len() >= 4096 {
                break;
            }
        }
        let mut buf = Vec::new();
        let mut waiting = Vec::new();
        for cmd in batch {
            match cmd {
                Cmd::Write(b, done) => {
                    buf.extend_from_slice(&b);
                    waiting.push(done);
                }
                Cmd::Sync(done) => {
                    let r = flush(file, &mut buf).and_then(|_| file.sync_data());
                    finish(&mut waiting, &r);
                    let _ = done.send(r);
                }
                Cmd::Rotate(checkpoint, done) => {
                    let r = flush(file, &mut buf).and_then(|_| file.sync_data());
                    finish(&mut waiting, &r);
                    let closed = seg;
                    let r = r.and_then(|_| {
                        let (f, _) =
                            open_segment(&dir, seg + 1, &checkpoint).map_err(io::Error::other)?;
                        *file = f;
                        seg += 1;
                        Ok(closed)
                    });
                    let _ = done.send(r);
                }
            }
        }
        let r = flush(file, &mut buf).and_then(|_| match policy {
            FsyncPolicy::Always if !waiting.is_empty() => file.sync_data(),
            _ => Ok(()),
        });
        dirty = matches!(policy, FsyncPolicy::Interval(_));
        finish(&mut waiting, &r);
    }
}

fn flush(file: &mut File, buf: &mut Vec<u8>) -> io::Result<()> {
    if !buf.is_empty() {
        file.write_all(buf)?;
        buf.clear();
    }
    Ok(())
}

fn finish(waiting: &mut Vec<oneshot::Sender<io::Result<()>>>, r: &io::Result<()>) {
    for w in waiting.drain(..) {
        let _ = w.send(match r {
            Ok(()) => Ok(()),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        });
    }
}
