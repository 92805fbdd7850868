//! Mines every line of a file (the whole line is the content) and reports throughput, for
//! comparison with `scripts/drain3_baseline.py` on the same file:
//! `cargo run --release -p hush-logs --example mine_file -- FILE [REPEAT] [--learn]`.
//! `REPEAT` feeds the file that many times (to measure memory after 10 M lines). By default
//! each line's parameters are extracted too (`Miner::add`); `--learn` keeps only the template
//! (`Miner::learn`), which is what drain3's `add_log_message` does.
use std::io::{BufRead, BufReader};
use std::time::Instant;

use hush_logs::Miner;

/// The first `\n`: `memchr` compares 16 or 32 bytes at a time (the hand-written eight-byte
/// search was about 4% of the instructions of a run).
fn newline(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

/// Mines one line (without its newline); returns its number of parameters (0 with `learn`).
fn mine(miner: &mut Miner, bytes: &[u8], learn: bool) -> usize {
    // Valid UTF-8 (the common case) is checked by the fast path; the rest is decoded lossily.
    let line = match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    mine_str(miner, &line, learn)
}

fn mine_str(miner: &mut Miner, line: &str, learn: bool) -> usize {
    let line = line.trim_end_matches('\r');
    if learn {
        miner.learn(line);
        0
    } else {
        miner.add(line).params.len()
    }
}

fn main() -> std::io::Result<()> {
    let learn = std::env::args().any(|a| a == "--learn");
    let mut args = std::env::args().skip(1).filter(|a| a != "--learn");
    let path = args.next().unwrap_or_else(|| "-".to_string());
    let repeat: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(1);
    let mut miner = Miner::default();
    let mut lines = 0u64;
    let mut params = 0usize;
    let start = Instant::now();
    let mut carry = Vec::new();
    for _ in 0..repeat {
        let mut reader = BufReader::with_capacity(1 << 20, std::fs::File::open(&path)?);
        loop {
            // Whole lines are mined straight from the read buffer; only a line cut by the
            // buffer's end is copied (into `carry`) until its newline arrives.
            let block = reader.fill_buf()?;
            if block.is_empty() {
                if !carry.is_empty() {
                    params += mine(&mut miner, &carry, learn);
                    lines += 1;
                }
                break;
            }
            let mut used = 0;
            if !carry.is_empty()
                && let Some(nl) = newline(block)
            {
                carry.extend_from_slice(&block[..nl]);
                params += mine(&mut miner, &carry, learn);
                carry.clear();
                lines += 1;
                used = nl + 1;
            }
            // The block's whole lines are checked as UTF-8 in one call (a newline is always a
            // character boundary); a block with invalid bytes goes line by line, lossily.
            let whole = memchr::memrchr(b'\n', &block[used..]).map_or(used, |k| used + k + 1);
            match std::str::from_utf8(&block[used..whole]) {
                Ok(text) => {
                    let mut rest = text;
                    while let Some(nl) = newline(rest.as_bytes()) {
                        params += mine_str(&mut miner, &rest[..nl], learn);
                        lines += 1;
                        rest = &rest[nl + 1..];
                    }
                    used = whole;
                }
                Err(_) => {
                    while let Some(nl) = newline(&block[used..]) {
                        params += mine(&mut miner, &block[used..used + nl], learn);
                        lines += 1;
                        used += nl + 1;
                    }
                }
            }
            carry.extend_from_slice(&block[used..]);
            let n = block.len();
            reader.consume(n);
        }
    }
    let mined = start.elapsed();
    let s = miner.stats();
    println!(
        "hush-logs{}: {lines} lines read and mined in {:.2} s = {:.0} lines/s; {} templates, {} created, {} merged, {} evicted, {params} params",
        if learn { " (learn)" } else { "" },
        mined.as_secs_f64(),
        lines as f64 / mined.as_secs_f64(),
        miner.len(),
        s.created,
        s.merged,
        s.evicted
    );
    Ok(())
}
