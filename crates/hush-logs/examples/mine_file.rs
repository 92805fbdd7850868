//! Mines every line of a file (the whole line is the content) and reports throughput, for
//! comparison with `scripts/drain3_baseline.py` on the same file:
//! `cargo run --release -p hush-logs --example mine_file -- FILE [REPEAT] [--learn]
//! [--sequential | --workers N] [--dump OUT]`.
//!
//! `REPEAT` feeds the file that many times (to measure memory after 10 M lines). By default
//! each line's parameters are extracted too (`Miner::add`); `--learn` keeps only the template
//! (`Miner::learn`), which is what drain3's `add_log_message` does.
//!
//! By default the file is read in blocks that `hush_logs::mask_ahead` masks on `N` worker
//! threads (`--workers`, default: the number of CPUs less one) and on this one, while this
//! thread learns them in order (`Miner::learn_masked` / `Miner::add_masked`). `--sequential`
//! mines each line with `Miner::learn` / `Miner::add` straight from the read buffer instead,
//! on this thread alone. Both give the same results.
//!
//! `--dump OUT` writes each line's template id, change and parameters, then the miner's final
//! state as JSON, so that two builds or two modes can be checked to give identical results.
use std::io::{BufRead, BufReader, Read, Write};
use std::time::Instant;

use hush_logs::{Change, MaskedLines, Miner, TemplateId, mask_ahead};

/// Bytes read per block of the pipelined mode: about 870 lines of common logs, small enough
/// for the two threads to share the work evenly, large enough that handing blocks over costs
/// nothing measurable.
const BLOCK: usize = 64 << 10;

/// Where each line's outcome goes: the counts, and the dump if one was asked for.
struct Sink {
    lines: u64,
    params: usize,
    dump: Option<std::io::BufWriter<std::fs::File>>,
}

impl Sink {
    fn line(&mut self, id: TemplateId, change: Change, params: &[&str]) {
        self.lines += 1;
        self.params += params.len();
        if let Some(w) = &mut self.dump {
            // Parameters are separated by U+001F (unit separator), which log text rarely holds.
            let r = writeln!(w, "{id}\t{change:?}\t{}", params.join("\u{1f}"));
            r.expect("writing the dump");
        }
    }
}

/// Mines one line (without its newline).
fn mine(miner: &mut Miner, bytes: &[u8], learn: bool, sink: &mut Sink) {
    // Valid UTF-8 (the common case) is checked by the fast path; the rest is decoded lossily.
    let line = match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    mine_str(miner, &line, learn, sink)
}

fn mine_str(miner: &mut Miner, line: &str, learn: bool, sink: &mut Sink) {
    let line = line.trim_end_matches('\r');
    if learn {
        let (id, change) = miner.learn(line);
        sink.line(id, change, &[]);
    } else {
        let m = miner.add(line);
        sink.line(m.id, m.change, &m.params);
    }
}

/// `--sequential`: whole lines are mined straight from the read buffer; only a line cut by
/// the buffer's end is copied (into `carry`) until its newline arrives.
fn sequential(
    path: &str,
    repeat: usize,
    miner: &mut Miner,
    learn: bool,
    sink: &mut Sink,
) -> std::io::Result<()> {
    let mut carry = Vec::new();
    for _ in 0..repeat {
        let mut reader = BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
        loop {
            let block = reader.fill_buf()?;
            if block.is_empty() {
                if !carry.is_empty() {
                    mine(miner, &carry, learn, sink);
                    carry.clear();
                }
                break;
            }
            let mut used = 0;
            if !carry.is_empty()
                && let Some(nl) = memchr::memchr(b'\n', block)
            {
                carry.extend_from_slice(&block[..nl]);
                mine(miner, &carry, learn, sink);
                carry.clear();
                used = nl + 1;
            }
            // The block's whole lines are checked as UTF-8 in one call (a newline is always a
            // character boundary); a block with invalid bytes goes line by line, lossily.
            let whole = memchr::memrchr(b'\n', &block[used..]).map_or(used, |k| used + k + 1);
            match std::str::from_utf8(&block[used..whole]) {
                Ok(text) => {
                    let mut rest = text;
                    while let Some(nl) = memchr::memchr(b'\n', rest.as_bytes()) {
                        mine_str(miner, &rest[..nl], learn, sink);
                        rest = &rest[nl + 1..];
                    }
                    used = whole;
                }
                Err(_) => {
                    while let Some(nl) = memchr::memchr(b'\n', &block[used..]) {
                        mine(miner, &block[used..used + nl], learn, sink);
                        used += nl + 1;
                    }
                }
            }
            carry.extend_from_slice(&block[used..]);
            let n = block.len();
            reader.consume(n);
        }
    }
    Ok(())
}

/// The file, `repeat` times over, as blocks of whole lines (a last line without a newline is
/// a block of its own). Runs on whichever thread asks for the next block; a read error ends
/// the blocks and is kept for the caller.
struct Blocks<'a> {
    path: &'a str,
    left: usize,
    file: Option<std::fs::File>,
    /// The start of a line cut by the end of the last read.
    carry: Vec<u8>,
    error: Option<std::io::Error>,
}

impl Blocks<'_> {
    /// Replaces the content of `buf` with the next block; false when there is none.
    fn fill(&mut self, buf: &mut Vec<u8>) -> bool {
        match self.read(buf) {
            Ok(more) => more,
            Err(e) => {
                self.error = Some(e);
                false
            }
        }
    }

    fn read(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        // `buf` holds an earlier block: its bytes are read over, so only space it never had
        // is zeroed (and one `read` call fills a block, where `read_to_end` on a `take` made
        // four, probing for the end).
        let mut len = self.carry.len();
        if buf.len() < len {
            buf.resize(len, 0);
        }
        buf[..len].copy_from_slice(&self.carry);
        self.carry.clear();
        loop {
            let file = match &mut self.file {
                Some(f) => f,
                None if self.left == 0 => {
                    buf.truncate(len);
                    return Ok(len > 0);
                }
                None => {
                    self.left -= 1;
                    self.file.insert(std::fs::File::open(self.path)?)
                }
            };
            if buf.len() < len + BLOCK {
                buf.resize(len + BLOCK, 0);
            }
            let n = file.read(&mut buf[len..len + BLOCK])?;
            len += n;
            if n == 0 {
                // The end of the file: what is left is its last line, a block of its own.
                self.file = None;
                if len == 0 {
                    continue;
                }
                buf.truncate(len);
                return Ok(true);
            }
            if let Some(k) = memchr::memrchr(b'\n', &buf[..len]) {
                self.carry.extend_from_slice(&buf[k + 1..len]);
                buf.truncate(k + 1);
                return Ok(true);
            }
            // A line longer than a block: read on.
        }
    }
}

fn main() -> std::io::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut flag = |name: &str| {
        let found = args.iter().any(|a| a == name);
        args.retain(|a| a != name);
        found
    };
    let learn = flag("--learn");
    let seq = flag("--sequential");
    let mut option = |name: &str| match args.iter().position(|a| a == name) {
        Some(k) if k + 1 < args.len() => {
            let value = args.remove(k + 1);
            args.remove(k);
            Some(value)
        }
        _ => None,
    };
    let dump = option("--dump");
    let workers: usize = match option("--workers") {
        Some(n) => n.parse().expect("--workers takes a number"),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()) - 1,
    };
    let mut args = args.into_iter();
    let path = args.next().unwrap_or_else(|| "-".to_string());
    let repeat: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(1);
    let mut miner = Miner::default();
    let mut sink = Sink {
        lines: 0,
        params: 0,
        dump: match &dump {
            Some(out) => Some(std::io::BufWriter::new(std::fs::File::create(out)?)),
            None => None,
        },
    };
    let start = Instant::now();
    if seq {
        sequential(&path, repeat, &mut miner, learn, &mut sink)?;
    } else {
        let mut blocks = Blocks {
            path: &path,
            left: repeat,
            file: None,
            carry: Vec::new(),
            error: None,
        };
        let config = miner.config().clone();
        let read = |buf: &mut Vec<u8>| blocks.fill(buf);
        mask_ahead(&config, read, workers, |block: &MaskedLines| {
            for k in 0..block.len() {
                if learn {
                    if let Some((id, change)) = miner.learn_masked(block, k) {
                        sink.line(id, change, &[]);
                    }
                } else if let Some(m) = miner.add_masked(block, k) {
                    sink.line(m.id, m.change, &m.params);
                }
            }
        });
        if let Some(e) = blocks.error {
            return Err(e);
        }
    }
    let mined = start.elapsed();
    let s = miner.stats();
    println!(
        "hush-logs{}{}: {} lines read and mined in {:.2} s = {:.0} lines/s; {} templates, {} created, {} merged, {} evicted, {} params",
        if learn { " (learn)" } else { "" },
        if seq {
            " sequential".to_string()
        } else {
            format!(" with {workers} masking worker(s)")
        },
        sink.lines,
        mined.as_secs_f64(),
        sink.lines as f64 / mined.as_secs_f64(),
        miner.len(),
        s.created,
        s.merged,
        s.evicted,
        sink.params
    );
    if let Some(mut w) = sink.dump {
        serde_json::to_writer(&mut w, &miner.state())?;
        w.flush()?;
    }
    Ok(())
}
