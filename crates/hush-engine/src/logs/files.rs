//! Tailing log files (`logs.files`): every glob is expanded on each poll, each file is read
//! from where it was left to its last complete line, and the lines go through the same
//! pipeline as every other source.
//!
//! Design:
//! - **Polling, not change notifications.** A `stat` of each matching path every
//!   `logs.file_poll_interval` costs next to nothing for the handful of files a server tails,
//!   works on every filesystem (NFS, FUSE and container overlays, where inotify misses writes
//!   made elsewhere), and rotation and truncation have to be confirmed with `stat` anyway
//!   (a dropped or coalesced event must not lose a rotation). The price is up to one interval
//!   of latency.
//! - **A file is its device and inode** while it is open, so a rename (rotation) does not
//!   change which file is being read. A file that no longer matches the glob (renamed away or
//!   deleted) is read to its end before the files that replaced it, and let go after
//!   [`RETIRE_POLLS`] polls without growth, so lines its writer adds just after the rename
//!   are still read.
//! - **Truncation** (copytruncate): a file shorter than the position, or whose first bytes no
//!   longer match its fingerprint, is read again from its start.
//! - **Positions** (device, inode, an xxh3 fingerprint of the first [`FP_BYTES`] bytes, byte
//!   offset, line number) are handed to the pipeline with the lines they cover and saved in
//!   `data_dir/logs/files.json` only once those lines are sealed into a segment, so neither a
//!   restart nor a crash repeats lines, and a clean restart loses none. The fingerprint tells
//!   a file from a later one that got the same inode.
//! - **Partial lines** wait for their newline; a file let go with an unfinished last line
//!   gives it as a line (its writer has moved on).

use super::LogPipeline;
use super::config::{FileFormat, FileSource, LogsConfig, StartAt};
use crate::Engine;
use hush_ingest::logs::{Decoded, LogDefaults, LogError, decode_json_line, decode_plain_line};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::watch;

/// Bytes of a file's start that identify it with its inode.
pub(crate) const FP_BYTES: usize = 256;
/// Bytes read at a time.
const READ_CHUNK: usize = 64 << 10;
/// Bytes read from one file in one poll; past it the next poll starts at once. Keeps a large
/// backlog from holding the pipeline (and shutdown) for long.
const POLL_BUDGET: u64 = 8 << 20;
/// Polls without growth after which a file that left the glob is let go.
pub(crate) const RETIRE_POLLS: u32 = 3;
/// Positions of files not seen for this long are forgotten.
const FORGET_MS: i64 = 86_400_000;
/// Positions kept at most (the least recently seen go first).
const MAX_POSITIONS: usize = 10_000;

/// Which file: its device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FileKey {
    pub dev: u64,
    pub ino: u64,
}

impl FileKey {
    fn of(m: &std::fs::Metadata) -> Self {
        Self {
            dev: m.dev(),
            ino: m.ino(),
        }
    }
}

/// How far a file has been read, as saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilePosition {
    /// Where the file was last seen (for people; the key is the identity).
    pub path: String,
    /// xxh3 of the first `fp_len` bytes (fewer than [`FP_BYTES`] while the file is shorter).
    pub fp_len: u32,
    pub fp_hash: u64,
    /// Byte offset of the first line not yet taken.
    pub offset: u64,
    /// Lines before `offset`, when known (not for a file first opened at its end).
    pub line: Option<u64>,
    /// Engine time when the file was last read or let go.
    pub seen_ms: i64,
}

#[derive(Serialize, Deserialize)]
struct SavedFile {
    #[serde(flatten)]
    key: FileKey,
    #[serde(flatten)]
    pos: FilePosition,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    version: u32,
    files: Vec<SavedFile>,
}

/// The positions of tailed files, saved to `data_dir/logs/files.json`.
pub(crate) struct Positions {
    path: PathBuf,
    map: BTreeMap<FileKey, FilePosition>,
    pub(crate) dirty: bool,
}

impl Positions {
    pub(crate) fn load(path: PathBuf) -> anyhow::Result<Self> {
        let mut p = Self {
            path,
            map: BTreeMap::new(),
            dirty: false,
        };
        let text = match std::fs::read(&p.path) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(p),
            Err(e) => anyhow::bail!("failed to read `{}`: {e}", p.path.display()),
        };
        let saved: Saved = serde_json::from_slice(&text)
            .map_err(|e| anyhow::anyhow!("failed to parse `{}`: {e}", p.path.display()))?;
        if saved.version != 1 {
            anyhow::bail!(
                "`{}` has version {}, this build reads version 1",
                p.path.display(),
                saved.version
            );
        }
        p.map = saved.files.into_iter().map(|f| (f.key, f.pos)).collect();
        Ok(p)
    }

    pub(crate) fn get(&self, key: FileKey) -> Option<&FilePosition> {
        self.map.get(&key)
    }

    pub(crate) fn set(&mut self, key: FileKey, pos: FilePosition) {
        // A new `seen_ms` alone is not worth a write: it only delays forgetting.
        let same = self.map.get(&key).is_some_and(|p| {
            FilePosition {
                seen_ms: pos.seen_ms,
                ..p.clone()
            } == pos
        });
        self.map.insert(key, pos);
        self.dirty |= !same;
        if self.map.len() > MAX_POSITIONS {
            let oldest = self
                .map
                .iter()
                .min_by_key(|(_, p)| p.seen_ms)
                .map(|(k, _)| *k);
            if let Some(k) = oldest {
                self.map.remove(&k);
            }
        }
    }

    /// Forgets files not tracked now and not seen since `now_ms - FORGET_MS`.
    pub(crate) fn prune(&mut self, now_ms: i64, tracked: &HashSet<FileKey>) {
        let before = self.map.len();
        self.map
            .retain(|k, p| tracked.contains(k) || p.seen_ms >= now_ms - FORGET_MS);
        self.dirty |= self.map.len() != before;
    }

    pub(crate) fn list(&self) -> impl Iterator<Item = &FilePosition> {
        self.map.values()
    }

    /// Writes the file (temporary name, sync, rename) if anything changed.
    pub(crate) fn save(&mut self) -> std::io::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let saved = Saved {
            version: 1,
            files: self
                .map
                .iter()
                .map(|(k, p)| SavedFile {
                    key: *k,
                    pos: p.clone(),
                })
                .collect(),
        };
        let tmp = self.path.with_extension("json.tmp");
        let file = File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        serde_json::to_writer(&mut w, &saved)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        self.dirty = false;
        Ok(())
    }
}

/// One `logs.files` entry, ready to read with.
struct Source {
    cfg: FileSource,
    defaults: LogDefaults,
    message_field: String,
    /// Longest line held: a plain line is cut to the message limit (a few bytes more are kept
    /// so the cut falls on a character boundary); a JSON line past it is skipped.
    max_line: usize,
}

/// A file being read.
struct Tracked {
    source: usize,
    key: FileKey,
    path: PathBuf,
    file: File,
    fp_len: u32,
    fp_hash: u64,
    offset: u64,
    line: Option<u64>,
    /// The unfinished line after `offset` (at most `max_line + 4` bytes of it).
    partial: Vec<u8>,
    /// Bytes of the unfinished line read so far (more than `partial` holds for a long line).
    pending: u64,
    /// Matched by its glob in this poll.
    seen: bool,
    /// Polls in a row without growth while not matched.
    idle: u32,
}

impl Tracked {
    fn position(&self, now_ms: i64) -> FilePosition {
        FilePosition {
            path: self.path.to_string_lossy().into_owned(),
            fp_len: self.fp_len,
            fp_hash: self.fp_hash,
            offset: self.offset,
            line: self.line,
            seen_ms: now_ms,
        }
    }

    /// `path:line` when the line number is known, else the byte offset.
    fn place(&self) -> String {
        match self.line {
            Some(l) => format!("{}:{}", self.path.display(), l + 1),
            None => format!("{} at byte {}", self.path.display(), self.offset),
        }
    }
}

/// What one poll of one file did.
#[derive(Default)]
struct Read {
    bytes: u64,
    /// The budget ran out with data left.
    more: bool,
}

/// The state of tailing, owned by one task and moved onto a blocking thread for each poll.
pub(crate) struct Tailer {
    sources: Vec<Source>,
    files: Vec<Tracked>,
    polls: u64,
    /// Paths whose errors were already logged (logged once, not on every poll).
    warned: HashSet<PathBuf>,
    last_prune_ms: i64,
}

impl Tailer {
    pub(crate) fn new(cfg: &LogsConfig) -> Self {
        let sources = cfg
            .files
            .iter()
            .map(|f| Source {
                cfg: f.clone(),
                defaults: LogDefaults {
                    service: f.service.clone().unwrap_or(cfg.default_service.clone()),
                    host: f.host.clone().unwrap_or(cfg.default_host.clone()),
                },
                message_field: f
                    .message_field
                    .clone()
                    .unwrap_or(cfg.json_message_field.clone()),
                max_line: match f.format {
                    FileFormat::Plain => cfg.max_message_bytes + 1,
                    // Room for the other fields and escapes around a message at its limit.
                    FileFormat::Json => cfg.max_message_bytes.saturating_mul(4),
                },
            })
            .collect();
        Self {
            sources,
            files: Vec::new(),
            polls: 0,
            warned: HashSet::new(),
            last_prune_ms: i64::MIN,
        }
    }

    /// Finds new files, reads every file's new lines into the pipeline and lets go of rotated
    /// files once they are read. Returns whether some file has more to read right away.
    /// Blocking: file IO and mining.
    pub(crate) fn poll(
        &mut self,
        logs: &LogPipeline,
        now: i64,
        stop: &watch::Receiver<bool>,
    ) -> bool {
        let first = self.polls == 0;
        self.polls += 1;
        self.discover(logs, first, now);
        let mut more = false;
        for si in 0..self.sources.len() {
            // Files that left the glob first: a rotated file is read to its end before the
            // file that took its name.
            let mut rotated_left = false;
            for pass_seen in [false, true] {
                if pass_seen && rotated_left {
                    break;
                }
                let mut i = 0;
                while i < self.files.len() {
                    if *stop.borrow() {
                        return false;
                    }
                    let f = &self.files[i];
                    if f.source != si || f.seen != pass_seen {
                        i += 1;
                        continue;
                    }
                    let r = match self.read(i, logs, now) {
                        Ok(r) => r,
                        Err(e) => {
                            let f = &self.files[i];
                            tracing::warn!(path = %f.path.display(), error = %e, "reading a tailed file failed");
                            Read::default()
                        }
                    };
                    more |= r.more;
                    let f = &mut self.files[i];
                    if f.seen {
                        i += 1;
                        continue;
                    }
                    rotated_left |= r.more;
                    f.idle = if r.bytes > 0 { 0 } else { f.idle + 1 };
                    if f.idle >= RETIRE_POLLS {
                        let f = self.files.swap_remove(i);
                        self.retire(f, logs, now);
                    } else {
                        i += 1;
                    }
                }
            }
        }
        if now.saturating_sub(self.last_prune_ms) >= 60_000 {
            self.last_prune_ms = now;
            let tracked = self.files.iter().map(|f| f.key).collect();
            logs.prune_file_positions(now, &tracked);
        }
        more
    }

    /// Expands every glob; opens files not tracked yet.
    fn discover(&mut self, logs: &LogPipeline, first: bool, now: i64) {
        for f in &mut self.files {
            f.seen = false;
        }
        for si in 0..self.sources.len() {
            let pattern = self.sources[si].cfg.path.0.clone();
            let paths = match glob::glob(&pattern) {
                Ok(p) => p,
                // Checked when the configuration loaded.
                Err(_) => continue,
            };
            for entry in paths {
                let path = match entry {
                    Ok(p) => p,
                    Err(e) => {
                        self.warn_once(e.path(), &format!("cannot list: {}", e.error()));
                        continue;
                    }
                };
                let meta = match std::fs::metadata(&path) {
                    Ok(m) if m.is_file() => m,
                    // Directories, sockets and dangling links are not log files.
                    Ok(_) => continue,
                    Err(e) if e.kind() == ErrorKind::NotFound => continue,
                    Err(e) => {
                        self.warn_once(&path, &e.to_string());
                        continue;
                    }
                };
                let key = FileKey::of(&meta);
                if let Some(f) = self.files.iter_mut().find(|f| f.key == key) {
                    f.seen = true;
                    if f.source == si {
                        f.path = path;
                    }
                    continue;
                }
                match self.open(si, &path, first, logs, now) {
                    Ok(Some(t)) => {
                        self.warned.remove(&path);
                        self.files.push(t);
                    }
                    Ok(None) => {}
                    Err(e) => self.warn_once(&path, &e.to_string()),
                }
            }
        }
    }

    fn warn_once(&mut self, path: &Path, error: &str) {
        if self.warned.insert(path.to_path_buf()) {
            tracing::warn!(path = %path.display(), error, "cannot tail a log file");
        }
    }

    /// Opens a newly matched file and decides where to start: its saved position when the
    /// fingerprint still matches, its end for `start_at: end` on the first poll, else its start.
    fn open(
        &self,
        si: usize,
        path: &Path,
        first: bool,
        logs: &LogPipeline,
        now: i64,
    ) -> std::io::Result<Option<Tracked>> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        // The file actually opened: the path may have been replaced since it was listed.
        let key = FileKey::of(&meta);
        if self.files.iter().any(|f| f.key == key) {
            return Ok(None);
        }
        let size = meta.len();
        let saved = logs.file_position(key);
        let (offset, line) = match saved {
            Some(p) if fingerprint_matches(&file, p.fp_len, p.fp_hash)? => {
                if p.offset > size {
                    logs.count("file_truncated", 1);
                    (0, Some(0))
                } else {
                    (p.offset, p.line)
                }
            }
            _ if first && self.sources[si].cfg.start_at == StartAt::End => {
                (last_line_end(&file, size)?, None)
            }
            _ => (0, Some(0)),
        };
        let (fp_len, fp_hash) = fingerprint(&file, size)?;
        tracing::info!(path = %path.display(), offset, "tailing a log file");
        let t = Tracked {
            source: si,
            key,
            path: path.to_path_buf(),
            file,
            fp_len,
            fp_hash,
            offset,
            line,
            partial: Vec::new(),
            pending: 0,
            seen: true,
            idle: 0,
        };
        logs.set_file_position(t.key, t.position(now));
        Ok(Some(t))
    }

    /// Reads file `i` from its position, up to [`POLL_BUDGET`] bytes.
    fn read(&mut self, i: usize, logs: &LogPipeline, now: i64) -> std::io::Result<Read> {
        let src = &self.sources[self.files[i].source];
        let t = &mut self.files[i];
        let size = t.file.metadata()?.len();
        let mut pos = t.offset + t.pending;
        // Shorter than what was read, or rewritten from the start (even to the same size):
        // truncated in place (copytruncate), so everything in it now is new.
        if size < pos || !fingerprint_matches(&t.file, t.fp_len, t.fp_hash)? {
            tracing::info!(path = %t.path.display(), size, position = pos, "tailed file was truncated; reading it from the start");
            logs.count("file_truncated", 1);
            t.offset = 0;
            t.line = Some(0);
            t.partial.clear();
            t.pending = 0;
            (t.fp_len, t.fp_hash) = fingerprint(&t.file, size)?;
            pos = 0;
            logs.set_file_position(t.key, t.position(now));
        } else if size == pos {
            return Ok(Read::default());
        } else if (t.fp_len as usize) < FP_BYTES && size > t.fp_len as u64 {
            (t.fp_len, t.fp_hash) = fingerprint(&t.file, size)?;
        }
        let mut read = Read::default();
        let mut buf = vec![0u8; READ_CHUNK];
        let mut errors = 0u64;
        while read.bytes < POLL_BUDGET {
            let n = match t.file.read_at(&mut buf, pos) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            pos += n as u64;
            read.bytes += n as u64;
            let mut b = Batch::new(logs, now, errors);
            let mut chunk = &buf[..n];
            let hold = src.max_line + 4;
            while let Some(nl) = chunk.iter().position(|&b| b == b'\n') {
                let len = t.pending + nl as u64;
                if t.partial.is_empty() {
                    take(t, &chunk[..nl], len, src, &mut b);
                } else {
                    let room = hold.saturating_sub(t.partial.len());
                    t.partial.extend_from_slice(&chunk[..nl.min(room)]);
                    take(t, &t.partial, len, src, &mut b);
                }
                t.offset += len + 1;
                t.line = t.line.map(|l| l + 1);
                t.partial.clear();
                t.pending = 0;
                chunk = &chunk[nl + 1..];
            }
            let room = hold.saturating_sub(t.partial.len());
            t.partial.extend_from_slice(&chunk[..chunk.len().min(room)]);
            t.pending += chunk.len() as u64;
            errors = b.errors;
            let pos = t.position(now);
            if b.decoded.records.is_empty() && b.decoded.lossy == Default::default() {
                logs.set_file_position(t.key, pos);
            } else {
                logs.ingest_file(b.decoded, now, t.key, pos);
            }
        }
        read.more = read.bytes >= POLL_BUDGET;
        if errors > 1 {
            tracing::warn!(path = %t.path.display(), more = errors - 1, "further lines of a tailed file were refused");
        }
        Ok(read)
    }

    /// Lets go of a file that left its glob and stopped growing; an unfinished last line is
    /// taken as it is.
    fn retire(&mut self, mut t: Tracked, logs: &LogPipeline, now: i64) {
        if t.pending > 0 {
            let mut b = Batch::new(logs, now, 0);
            take(&t, &t.partial, t.pending, &self.sources[t.source], &mut b);
            t.offset += t.pending;
            t.line = t.line.map(|l| l + 1);
            t.pending = 0;
            logs.ingest_file(b.decoded, now, t.key, t.position(now));
        } else {
            logs.set_file_position(t.key, t.position(now));
        }
        tracing::info!(path = %t.path.display(), offset = t.offset, "stopped tailing a rotated or deleted log file");
    }
}

/// Records decoded from one read, and the lines refused so far in this poll of the file.
struct Batch<'a> {
    logs: &'a LogPipeline,
    now: i64,
    decoded: Decoded,
    errors: u64,
}

impl<'a> Batch<'a> {
    fn new(logs: &'a LogPipeline, now: i64, errors: u64) -> Self {
        Self {
            logs,
            now,
            decoded: Decoded::default(),
            errors,
        }
    }
}

/// Decodes one complete line of `len` bytes, of which `held` is what was kept, into the
/// batch; a refused line is counted, and the first of each poll logged with its place.
fn take(t: &Tracked, held: &[u8], len: u64, src: &Source, b: &mut Batch) {
    let limits = &b.logs.limits;
    let refused = match src.cfg.format {
        FileFormat::Plain => {
            // Cut a long line before decoding; the decoder cuts it to the message limit and
            // counts it.
            let line = if held.len() > src.max_line {
                complete_chars(&held[..held.len().min(src.max_line + 4)])
            } else {
                held
            };
            b.decoded.records.extend(decode_plain_line(
                line,
                b.now,
                &src.defaults,
                limits,
                &mut b.decoded.lossy,
            ));
            None
        }
        FileFormat::Json if len > src.max_line as u64 => Some((
            "line_too_long",
            format!(
                ": a JSON line of {len} bytes is longer than {} bytes",
                src.max_line
            ),
        )),
        FileFormat::Json => match decode_json_line(
            held,
            &src.message_field,
            b.now,
            &src.defaults,
            limits,
            &mut b.decoded.lossy,
        ) {
            Ok(r) => {
                b.decoded.records.extend(r);
                None
            }
            Err(LogError { reason, message }) => Some((reason.as_str(), message)),
        },
    };
    if let Some((reason, message)) = refused {
        b.logs.count(reason, 1);
        b.errors += 1;
        if b.errors == 1 {
            tracing::warn!("refused a line of {}{message}", t.place());
        }
    }
}

/// `bytes` without a character cut at its end (so a cut line decodes without a stray U+FFFD).
fn complete_chars(bytes: &[u8]) -> &[u8] {
    for back in 1..=bytes.len().min(4) {
        let i = bytes.len() - back;
        let b = bytes[i];
        if b & 0xC0 == 0x80 {
            continue;
        }
        let width = match b {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if i + width > bytes.len() {
            &bytes[..i]
        } else {
            bytes
        };
    }
    bytes
}

/// Length and xxh3 of the file's first bytes, up to [`FP_BYTES`].
fn fingerprint(file: &File, size: u64) -> std::io::Result<(u32, u64)> {
    let mut buf = vec![0u8; (size as usize).min(FP_BYTES)];
    let n = read_full_at(file, &mut buf, 0)?;
    Ok((n as u32, xxhash_rust::xxh3::xxh3_64(&buf[..n])))
}

fn fingerprint_matches(file: &File, len: u32, hash: u64) -> std::io::Result<bool> {
    let mut buf = vec![0u8; len as usize];
    let n = read_full_at(file, &mut buf, 0)?;
    Ok(n == len as usize && xxhash_rust::xxh3::xxh3_64(&buf) == hash)
}

fn read_full_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], at + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The offset just after the file's last newline (looked for in its last 64 KiB), so reading
/// from the end does not start inside a line.
fn last_line_end(file: &File, size: u64) -> std::io::Result<u64> {
    let from = size.saturating_sub(READ_CHUNK as u64);
    let mut buf = vec![0u8; (size - from) as usize];
    let n = read_full_at(file, &mut buf, from)?;
    Ok(match buf[..n].iter().rposition(|&b| b == b'\n') {
        Some(i) => from + i as u64 + 1,
        None => size,
    })
}

/// Polls the configured files until the stop signal.
pub(super) async fn run(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    let every = engine.logs.config().file_poll_interval.0;
    let mut tailer = Tailer::new(engine.logs.config());
    loop {
        let (e, s) = (engine.clone(), stop.clone());
        let more;
        (tailer, more) = match tokio::task::spawn_blocking(move || {
            let more = tailer.poll(&e.logs, e.clock.now_ms(), &s);
            (tailer, more)
        })
        .await
        {
            Ok(r) => r,
            Err(e) => {
                // Start over: positions are in the pipeline, so nothing is read twice.
                tracing::error!(error = %e, "tailing log files panicked");
                (Tailer::new(engine.logs.config()), false)
            }
        };
        let wait = if more {
            std::time::Duration::ZERO
        } else {
            every
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::logs::LogQuery;
    use std::io::Write;

    const T0: i64 = 1_700_000_000_000;

    fn pipeline(data: &Path, logs_yaml: &str) -> LogPipeline {
        let cfg = Config::parse(&format!("logs:\n{logs_yaml}"), Path::new("hush.yaml")).unwrap();
        LogPipeline::open(&cfg.logs, data, 1 << 20).unwrap()
    }

    fn poll(t: &mut Tailer, p: &LogPipeline, now: i64) -> bool {
        let (_tx, rx) = watch::channel(false);
        t.poll(p, now, &rx)
    }

    /// Every stored line's message, oldest first.
    fn messages(p: &LogPipeline) -> Vec<String> {
        let q = LogQuery {
            start: i64::MIN,
            end: i64::MAX,
            limit: 1_000_000,
            ..LogQuery::default()
        };
        let mut v = p.query(&q).unwrap();
        v.reverse();
        v.into_iter().map(|l| l.message).collect()
    }

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    fn reason(p: &LogPipeline, r: &str) -> u64 {
        p.counts.lock().get(r).copied().unwrap_or(0)
    }

    #[test]
    fn appended_lines_are_read_and_a_partial_line_waits_for_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("app.log");
        append(&log, "worker 1 started\nworker 2 started\nworker 3 sta");
        let p = pipeline(
            &dir.path().join("data"),
            &format!(
                "  files:\n    - {{path: '{}', service: app, host: h1}}\n",
                log.display()
            ),
        );
        let mut t = Tailer::new(p.config());
        poll(&mut t, &p, T0);
        assert_eq!(messages(&p), ["worker 1 started", "worker 2 started"]);
        poll(&mut t, &p, T0 + 1);
        assert_eq!(messages(&p).len(), 2, "the partial line waits");
        append(&log, "rted\r\n\nERROR worker 4 crashed\n");
        poll(&mut t, &p, T0 + 2);
        assert_eq!(
            messages(&p),
            [
                "worker 1 started",
                "worker 2 started",
                "worker 3 started",
                "ERROR worker 4 crashed"
            ]
        );
        let q = LogQuery {
            start: i64::MIN,
            end: i64::MAX,
            limit: 1,
            ..LogQuery::default()
        };
        let last = &p.query(&q).unwrap()[0];
        assert_eq!(
            (
                last.service.as_str(),
                last.host.as_str(),
                last.level.as_str(),
                last.t
            ),
            ("app", "h1", "error", T0 + 2)
        );
        let pos = p.files.lock().list().next().unwrap().clone();
        assert_eq!(pos.line, Some(5));
        assert_eq!(pos.offset, std::fs::metadata(&log).unwrap().len());
    }

    #[test]
    fn a_rotated_file_is_read_to_its_end_before_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("app.log");
        let p = pipeline(
            &dir.path().join("data"),
            &format!("  files:\n    - path: '{}'\n", log.display()),
        );
        let mut t = Tailer::new(p.config());
        // The writer keeps its file open across the rename, as loggers do until told to
        // reopen.
        let mut w = std::fs::File::create(&log).unwrap();
        w.write_all(b"old line 1\n").unwrap();
        poll(&mut t, &p, T0);
        w.write_all(b"old line 2\n").unwrap();
        std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
        w.write_all(b"old line 3\n").unwrap();
        append(&log, "new line 1\n");
        poll(&mut t, &p, T0 + 1);
        assert_eq!(
            messages(&p),
            ["old line 1", "old line 2", "old line 3", "new line 1"]
        );
        // A line written to the old file after the new one appeared is still read, and an
        // unfinished last line is taken when the old file is let go.
        w.write_all(b"old line 4\nold line 5 unfinished").unwrap();
        for i in 0..=RETIRE_POLLS {
            poll(&mut t, &p, T0 + 2 + i as i64);
        }
        assert_eq!(t.files.len(), 1, "the rotated file was let go");
        append(&log, "new line 2\n");
        poll(&mut t, &p, T0 + 10);
        assert_eq!(
            messages(&p),
            [
                "old line 1",
                "old line 2",
                "old line 3",
                "new line 1",
                "old line 4",
                "old line 5 unfinished",
                "new line 2"
            ]
        );
    }

    #[test]
    fn a_truncated_file_is_read_again_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("app.log");
        let p = pipeline(
            &dir.path().join("data"),
            &format!("  files:\n    - path: '{}'\n", log.display()),
        );
        let mut t = Tailer::new(p.config());
        append(&log, "before 1\nbefore 2\n");
        poll(&mut t, &p, T0);
        // copytruncate: copy, then truncate in place; the writer goes on at the start.
        std::fs::copy(&log, dir.path().join("app.log.1")).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&log)
            .unwrap()
            .set_len(0)
            .unwrap();
        append(&log, "after 1\n");
        poll(&mut t, &p, T0 + 1);
        assert_eq!(messages(&p), ["before 1", "before 2", "after 1"]);
        assert_eq!(reason(&p, "file_truncated"), 1);
        // Truncated and written to the same size, or past the old position, between two
        // polls: the first bytes no longer match, so it is still read from the start.
        std::fs::write(&log, "after 2\n").unwrap();
        poll(&mut t, &p, T0 + 2);
        std::fs::write(&log, "rewritten from the start 1\nrewritten 2\n").unwrap();
        poll(&mut t, &p, T0 + 3);
        assert_eq!(
            messages(&p)[3..],
            ["after 2", "rewritten from the start 1", "rewritten 2"]
        );
        assert_eq!(reason(&p, "file_truncated"), 3);
    }

    #[test]
    fn a_restart_resumes_without_repeating_or_losing_lines() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let log = dir.path().join("app.log");
        let cfg = format!("  files:\n    - path: '{}'\n", log.display());
        append(&log, "job 1 done\njob 2 done\n");
        {
            let p = pipeline(&data, &cfg);
            let mut t = Tailer::new(p.config());
            poll(&mut t, &p, T0);
            append(&log, "job 3 done\njob 4 do");
            poll(&mut t, &p, T0 + 1);
            // A clean stop seals the lines and saves the positions with them.
            p.close();
        }
        append(&log, "ne\njob 5 done\n");
        {
            let p = pipeline(&data, &cfg);
            let mut t = Tailer::new(p.config());
            poll(&mut t, &p, T0 + 2);
            let want: Vec<String> = (1..=5).map(|i| format!("job {i} done")).collect();
            assert_eq!(messages(&p), want);
            // A crash: lines read since the last seal are in no segment and their position
            // was not saved, so the next start reads them again, once.
            p.flush(T0 + 120_000);
            append(&log, "job 6 done\n");
            poll(&mut t, &p, T0 + 120_001);
            assert_eq!(messages(&p).len(), 6);
        }
        let p = pipeline(&data, &cfg);
        let mut t = Tailer::new(p.config());
        poll(&mut t, &p, T0 + 120_002);
        let want: Vec<String> = (1..=6).map(|i| format!("job {i} done")).collect();
        assert_eq!(messages(&p), want);
    }

    #[test]
    fn the_glob_picks_up_new_files_from_their_start() {
        let dir = tempfile::tempdir().unwrap();
        append(&dir.path().join("a.log"), "old 1\nold 2\n");
        append(&dir.path().join("notes.txt"), "not a log\n");
        let p = pipeline(
            &dir.path().join("data"),
            &format!(
                "  files:\n    - {{path: '{}/*.log', start_at: end}}\n",
                dir.path().display()
            ),
        );
        let mut t = Tailer::new(p.config());
        poll(&mut t, &p, T0);
        assert!(
            messages(&p).is_empty(),
            "start_at: end skips what was there"
        );
        append(&dir.path().join("a.log"), "fresh 3\n");
        append(&dir.path().join("b.log"), "b first 1\nb second 2\n");
        poll(&mut t, &p, T0 + 1);
        let mut got = messages(&p);
        got.sort();
        assert_eq!(got, ["b first 1", "b second 2", "fresh 3"]);
    }

    #[test]
    fn json_files_refuse_bad_lines_by_place_and_keep_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("events.jsonl");
        append(
            &log,
            "{\"msg\":\"user 1 login\",\"service\":\"auth\",\"level\":\"warn\"}\n{oops\n{\"x\":1}\n{\"msg\":\"user 2 login\"}\n",
        );
        let p = pipeline(
            &dir.path().join("data"),
            &format!(
                "  files:\n    - {{path: '{}', format: json, message_field: msg, service: web}}\n",
                log.display()
            ),
        );
        let mut t = Tailer::new(p.config());
        poll(&mut t, &p, T0);
        let q = LogQuery {
            start: i64::MIN,
            end: i64::MAX,
            limit: 10,
            ..LogQuery::default()
        };
        let lines = p.query(&q).unwrap();
        let got: Vec<_> = lines
            .iter()
            .rev()
            .map(|l| (l.message.as_str(), l.service.as_str(), l.level.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("user 1 login", "auth", "warn"),
                ("user 2 login", "web", "unknown")
            ]
        );
        assert_eq!(
            (reason(&p, "bad_json"), reason(&p, "missing_message")),
            (1, 1)
        );
    }

    #[test]
    fn a_long_line_is_cut_without_holding_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("app.log");
        let long = "\u{e9}".repeat(150_000); // 300 KB, across several reads
        append(&log, &format!("{long}\nshort 1\n"));
        let p = pipeline(
            &dir.path().join("data"),
            &format!(
                "  max_message_bytes: 101\n  files:\n    - path: '{}'\n",
                log.display()
            ),
        );
        let mut t = Tailer::new(p.config());
        poll(&mut t, &p, T0);
        let got = messages(&p);
        assert_eq!(got[0], "\u{e9}".repeat(50));
        assert_eq!(got[1], "short 1");
        assert_eq!(
            (reason(&p, "truncated"), reason(&p, "invalid_utf8")),
            (1, 0)
        );
        assert!(t.files[0].partial.capacity() < 4096);
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        assert_eq!(complete_chars(b"abc"), b"abc");
        assert_eq!(complete_chars("a\u{e9}".as_bytes()), "a\u{e9}".as_bytes());
        assert_eq!(complete_chars(&"a\u{e9}".as_bytes()[..2]), b"a");
        assert_eq!(complete_chars(&"a\u{1f600}".as_bytes()[..4]), b"a");
        assert_eq!(complete_chars(b""), b"");
    }
}
