//! Raw lines, kept compressed for `logs.retention`.
//!
//! Design: lines are appended to an in-memory open segment; once a minute (or at 4 MiB) it is
//! sealed into one gzip file of JSON lines, `ARRIVAL_MINTIME_MAXTIME.jsonl.gz` (milliseconds),
//! written to a temporary name, synced and renamed. The name carries the time range of its
//! lines, so a query opens only the files that overlap it, and retention deletes whole files
//! by arrival time. gzip (flate2's pure-Rust backend) rather than zstd: no C library in the
//! build, and log text still shrinks about eight times (measured in docs/logs.md). Lines of
//! the open segment are lost on a crash (at most a minute's); a clean shutdown seals it.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Bytes of JSON held before the open segment is sealed early.
const SEAL_BYTES: usize = 4 << 20;

/// One raw line as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredLine {
    /// Milliseconds since the epoch.
    pub t: i64,
    pub service: String,
    pub host: String,
    pub level: String,
    /// The template id the line was mined into (resolve merges before comparing).
    pub template: u64,
    pub message: String,
}

pub struct Segments {
    dir: PathBuf,
    open: Vec<StoredLine>,
    open_bytes: usize,
    open_since: i64,
}

struct SealedFile {
    path: PathBuf,
    arrival: i64,
    min_t: i64,
    max_t: i64,
}

fn parse_name(path: &Path) -> Option<SealedFile> {
    let name = path.file_name()?.to_str()?.strip_suffix(".jsonl.gz")?;
    let mut it = name.splitn(3, '_');
    let arrival = it.next()?.parse().ok()?;
    let min_t = it.next()?.parse().ok()?;
    let max_t = it.next()?.parse().ok()?;
    Some(SealedFile {
        path: path.to_path_buf(),
        arrival,
        min_t,
        max_t,
    })
}

impl Segments {
    pub fn open(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        // A temporary file is a seal that did not finish; its lines were never acknowledged
        // as stored durably.
        for e in std::fs::read_dir(&dir)? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "tmp") {
                let _ = std::fs::remove_file(p);
            }
        }
        Ok(Self {
            dir,
            open: Vec::new(),
            open_bytes: 0,
            open_since: 0,
        })
    }

    pub fn push(&mut self, line: StoredLine, now_ms: i64) {
        if self.open.is_empty() {
            self.open_since = now_ms;
        }
        self.open_bytes += line.message.len() + line.service.len() + line.host.len() + 64;
        self.open.push(line);
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    pub fn should_seal(&self, now_ms: i64) -> bool {
        !self.open.is_empty()
            && (now_ms.div_euclid(60_000) != self.open_since.div_euclid(60_000)
                || self.open_bytes >= SEAL_BYTES)
    }

    /// Writes the open segment to its file.
    pub fn seal(&mut self) -> std::io::Result<()> {
        if self.open.is_empty() {
            return Ok(());
        }
        let min_t = self.open.iter().map(|l| l.t).min().unwrap_or(0);
        let max_t = self.open.iter().map(|l| l.t).max().unwrap_or(0);
        let name = format!("{}_{min_t}_{max_t}.jsonl.gz", self.open_since);
        let tmp = self.dir.join(format!("{name}.tmp"));
        let file = std::fs::File::create(&tmp)?;
        let mut gz = flate2::write::GzEncoder::new(
            std::io::BufWriter::new(file),
            flate2::Compression::default(),
        );
        for l in &self.open {
            serde_json::to_writer(&mut gz, l)?;
            gz.write_all(b"\n")?;
        }
        let file = gz.finish()?.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        let mut path = self.dir.join(&name);
        // Two seals in one millisecond with the same range: keep both (one a millisecond on).
        let mut n = 1;
        while path.exists() {
            let arrival = self.open_since + n;
            path = self.dir.join(format!("{arrival}_{min_t}_{max_t}.jsonl.gz"));
            n += 1;
        }
        std::fs::rename(&tmp, &path)?;
        self.open.clear();
        self.open_bytes = 0;
        Ok(())
    }

    fn sealed(&self) -> std::io::Result<Vec<SealedFile>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(&self.dir)? {
            if let Some(f) = parse_name(&e?.path()) {
                out.push(f);
            }
        }
        out.sort_by_key(|f| std::cmp::Reverse((f.arrival, f.path.clone())));
        Ok(out)
    }

    /// Deletes sealed files that arrived before `cutoff_ms`; returns how many.
    pub fn expire(&self, cutoff_ms: i64) -> std::io::Result<usize> {
        let mut n = 0;
        for f in self.sealed()? {
            if f.arrival < cutoff_ms {
                std::fs::remove_file(&f.path)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Lines with `start <= t <= end` that `keep` accepts, newest arrival first, at most
    /// `limit`.
    pub fn scan(
        &self,
        start: i64,
        end: i64,
        limit: usize,
        keep: &dyn Fn(&StoredLine) -> bool,
    ) -> std::io::Result<Vec<StoredLine>> {
        let mut out = Vec::new();
        let ok = |l: &StoredLine| l.t >= start && l.t <= end && keep(l);
        for l in self.open.iter().rev() {
            if out.len() >= limit {
                return Ok(out);
            }
            if ok(l) {
                out.push(l.clone());
            }
        }
        for f in self.sealed()? {
            if out.len() >= limit {
                break;
            }
            if f.max_t < start || f.min_t > end {
                continue;
            }
            let gz = flate2::read::GzDecoder::new(std::fs::File::open(&f.path)?);
            let mut lines = Vec::new();
            for text in BufReader::new(gz).lines() {
                let l: StoredLine = serde_json::from_str(&text?)?;
                if ok(&l) {
                    lines.push(l);
                }
            }
            out.extend(lines.into_iter().rev().take(limit - out.len()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(t: i64, msg: &str) -> StoredLine {
        StoredLine {
            t,
            service: "s".into(),
            host: "h".into(),
            level: "info".into(),
            template: 1,
            message: msg.into(),
        }
    }

    #[test]
    fn sealed_lines_are_found_filtered_and_expired() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Segments::open(dir.path().to_path_buf()).unwrap();
        s.push(line(1_000, "a"), 60_000);
        s.push(line(2_000, "b"), 60_001);
        assert!(!s.should_seal(119_999));
        assert!(s.should_seal(120_000));
        s.seal().unwrap();
        s.push(line(3_000, "c"), 120_000);
        let all = s.scan(i64::MIN, i64::MAX, 10, &|_| true).unwrap();
        let msgs: Vec<_> = all.iter().map(|l| l.message.as_str()).collect();
        assert_eq!(msgs, ["c", "b", "a"]);
        let some = s.scan(1_500, 2_500, 10, &|_| true).unwrap();
        assert_eq!(some.len(), 1);
        assert_eq!(s.scan(i64::MIN, i64::MAX, 2, &|_| true).unwrap().len(), 2);
        // Reopened: the sealed file is still there; the open one is gone unless sealed.
        s.seal().unwrap();
        let s = Segments::open(dir.path().to_path_buf()).unwrap();
        assert_eq!(s.scan(i64::MIN, i64::MAX, 10, &|_| true).unwrap().len(), 3);
        assert_eq!(s.expire(100_000).unwrap(), 1);
        let left = s.scan(i64::MIN, i64::MAX, 10, &|_| true).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].message, "c");
    }
}
