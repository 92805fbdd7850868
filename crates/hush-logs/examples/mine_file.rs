//! Mines every line of a file (the whole line is the content) and reports throughput, for
//! comparison with `scripts/drain3_baseline.py` on the same file:
//! `cargo run --release -p hush-logs --example mine_file -- FILE [REPEAT]`.
//! `REPEAT` feeds the file that many times (to measure memory after 10 M lines).
use std::io::{BufRead, BufReader};
use std::time::Instant;

use hush_logs::Miner;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "-".to_string());
    let repeat: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(1);
    let mut miner = Miner::default();
    let mut lines = 0u64;
    let mut params = 0usize;
    let start = Instant::now();
    let mut buf = Vec::new();
    for _ in 0..repeat {
        let mut reader = BufReader::with_capacity(1 << 20, std::fs::File::open(&path)?);
        loop {
            buf.clear();
            if reader.read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            // Valid UTF-8 (the common case) is checked by the fast path; the rest is decoded lossily.
            let line = match std::str::from_utf8(&buf) {
                Ok(s) => std::borrow::Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(&buf),
            };
            let line = line.trim_end_matches(['\n', '\r']);
            params += miner.add(line).params.len();
            lines += 1;
        }
    }
    let mined = start.elapsed();
    let s = miner.stats();
    println!(
        "hush-logs: {lines} lines read and mined in {:.2} s = {:.0} lines/s; {} templates, {} created, {} merged, {} evicted, {params} params",
        mined.as_secs_f64(),
        lines as f64 / mined.as_secs_f64(),
        miner.len(),
        s.created,
        s.merged,
        s.evicted
    );
    Ok(())
}
