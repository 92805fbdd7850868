//! `hush detect`: runs the streaming detector over NAB-layout CSV files (`timestamp,value`) and
//! writes `timestamp,value,score,label,expected,lower,upper,reason`.
//!
//! Input handling, documented because real exports are messy:
//! - rows are keyed by position; timestamps are copied through unparsed, so repeated or
//!   unsorted timestamps (NAB repeats hours at daylight-saving changes) are accepted;
//! - an empty value, `NaN`, `null` or `NA` is a missing point: it is written with an empty
//!   score and `missing_data` as the reason, and does not move the model;
//! - any other value that is not a number, or a row with the wrong number of fields, is an
//!   error naming the file and line.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use hush_detect::{Config, Detector, Outcome};

/// Arguments of `hush detect`.
#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    /// A CSV file, or a directory whose `.csv` files are all processed.
    #[arg(long)]
    pub input: PathBuf,
    /// Output file (for a file input; stdout if absent) or directory (mirrors the input tree).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Detector settings as JSON (fields of `hush_detect::Config`; absent fields keep defaults).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// One input file, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Timestamps as written.
    pub timestamps: Vec<String>,
    /// Values; `None` for a missing one.
    pub values: Vec<Option<f64>>,
}

/// Reads the detector config from a JSON file, or the defaults.
pub fn load_config(path: Option<&Path>) -> Result<Config> {
    let cfg = match path {
        None => Config::default(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("failed to read `{}`", p.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("failed to parse `{}`", p.display()))?
        }
    };
    cfg.validate()?;
    Ok(cfg)
}

/// Reads a `timestamp,value` CSV with a header (columns found by name, else the first two).
pub fn read_series(path: &Path) -> Result<Series> {
    let data =
        std::fs::read(path).with_context(|| format!("failed to open `{}`", path.display()))?;
    read_series_from(path, &data)
}

/// [`read_series`] of the contents `data` of the file `path`.
fn read_series_from(path: &Path, data: &[u8]) -> Result<Series> {
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(data);
    let headers = rdr
        .headers()
        .with_context(|| format!("`{}` line 1: bad header", path.display()))?
        .clone();
    let ts_col = headers
        .iter()
        .position(|h| h.trim() == "timestamp")
        .unwrap_or(0);
    let v_col = headers
        .iter()
        .position(|h| h.trim() == "value")
        .unwrap_or(1);
    if headers.len() < 2 {
        bail!(
            "`{}` line 1: expected at least two columns (timestamp,value)",
            path.display()
        );
    }
    let mut s = Series {
        timestamps: Vec::new(),
        values: Vec::new(),
    };
    // One record buffer for the whole file: no allocation per row.
    let mut rec = csv::StringRecord::new();
    loop {
        let more = rdr.read_record(&mut rec).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            anyhow::Error::new(e)
                .context(format!("`{}` line {line}: malformed row", path.display()))
        })?;
        if !more {
            break;
        }
        let line = rec.position().map_or(0, |p| p.line());
        let raw = rec.get(v_col).unwrap_or("").trim();
        let value = match parse_value(raw) {
            None => None,
            Some(Ok(v)) => Some(v),
            Some(Err(())) => bail!(
                "`{}` line {line}: value `{raw}` is not a number",
                path.display()
            ),
        };
        s.timestamps.push(rec.get(ts_col).unwrap_or("").to_string());
        s.values.push(value);
    }
    Ok(s)
}

/// Runs a fresh detector over `values`, one outcome per value.
pub fn detect_values(cfg: &Config, values: &[Option<f64>]) -> Result<Vec<Outcome>> {
    let mut d = Detector::new(cfg.clone())?;
    Ok(values.iter().map(|v| d.step(*v)).collect())
}

/// Two-digit groups, so a number is written a pair of digits per division.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The two digits of `v % 100`.
fn pair(v: u64) -> [u8; 2] {
    let i = (v % 100) as usize * 2;
    [PAIRS[i], PAIRS[i + 1]]
}

/// Appends `x` with six decimals, exactly as `{:.6}` would. Values below 10^9 that are not
/// near a rounding tie take an integer path (several times cheaper than the float formatter);
/// anything else falls back to it.
fn push_fixed6(buf: &mut Vec<u8>, x: f64) {
    let a = x.abs();
    if a < 1e9 {
        let m = a * 1e6;
        // `m` errs from the exact product by at most half an ulp (m * 2^-53), so away from a
        // tie by more than that its rounding is the exact one; and below 2^52 the cast
        // truncates exactly, so `m - whole` is the exact fraction.
        let whole = m as u64;
        let frac = m - whole as f64;
        if (frac - 0.5).abs() > (m * 2.3e-16).max(1e-3) {
            let r = whole + u64::from(frac > 0.5);
            let (int, frac) = (r / 1_000_000, r % 1_000_000);
            // Written in place over a tail of `-` (the sign, if any, is then already there)
            // and cut to length: a text built in a stack block and copied out was read back
            // right after being stored a byte or two at a time, which stalls store forwarding
            // (it was the costliest step of a row).
            let start = buf.len();
            buf.extend_from_slice(&[b'-'; 24]);
            let block = &mut buf[start..];
            let digits = int.checked_ilog10().map_or(1, |d| d as usize + 1);
            let dot = usize::from(x.is_sign_negative()) + digits;
            let (mut v, mut i) = (int, dot);
            while v >= 100 {
                i -= 2;
                block[i..i + 2].copy_from_slice(&pair(v));
                v /= 100;
            }
            if v >= 10 {
                block[i - 2..i].copy_from_slice(&pair(v));
            } else {
                block[i - 1] = b'0' + v as u8;
            }
            block[dot] = b'.';
            block[dot + 1..dot + 3].copy_from_slice(&pair(frac / 10_000));
            block[dot + 3..dot + 5].copy_from_slice(&pair(frac / 100));
            block[dot + 5..dot + 7].copy_from_slice(&pair(frac));
            buf.truncate(start + dot + 7);
            return;
        }
    }
    let _ = write!(buf, "{x:.6}");
}

/// Appends `x` exactly as `{x}` (the shortest decimal that reads back as `x`) would;
/// `shortest` is that text when already known (see [`plain_decimal`]).
fn push_value(buf: &mut Vec<u8>, x: f64, shortest: Option<&str>) {
    if let Some(text) = shortest {
        buf.extend_from_slice(text.as_bytes());
    } else {
        let _ = write!(buf, "{x}");
    }
}

/// Exact powers of ten (every one up to 10^22 is a double).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Reads `raw` if it is a plain decimal (`-?(0|[1-9]\d*)(\.\d+)?`) of at most 15 significant
/// digits, with at most 22 of them after the point once trailing zeros are dropped; `None`
/// for anything else (then the general parser decides). Returns the value and its shortest
/// form, which is `raw` without trailing fractional zeros: any decimal of up to 15 digits
/// survives a round trip through `f64`, so no shorter one reads back as the same number, and
/// copying it skips the float formatter, the costliest part of writing a row. The value is
/// the digits as an integer (exact below 2^53) divided by an exact power of ten: one
/// correctly rounded operation, so exactly what `str::parse` returns.
fn plain_decimal(raw: &str) -> Option<(f64, &str)> {
    let b = raw.as_bytes();
    let (neg, body) = match b {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, b),
    };
    let int_len = body.iter().take_while(|c| c.is_ascii_digit()).count();
    if int_len == 0 || (int_len > 1 && body.first() == Some(&b'0')) {
        return None;
    }
    let (int, rest) = body.split_at(int_len);
    let frac = match rest {
        [] => &[][..],
        [b'.', f @ ..] if !f.is_empty() && f.iter().all(u8::is_ascii_digit) => f,
        _ => return None,
    };
    let kept = frac.len() - frac.iter().rev().take_while(|&&c| c == b'0').count();
    let frac = &frac[..kept];
    let (mut mant, mut significant) = (0u64, 0usize);
    for &c in int.iter().chain(frac) {
        if mant == 0 && c == b'0' {
            continue;
        }
        significant += 1;
        if significant > 15 {
            return None;
        }
        mant = mant * 10 + u64::from(c - b'0');
    }
    let v = mant as f64 / *POW10.get(frac.len())?;
    let len = usize::from(neg) + int_len + if kept > 0 { 1 + kept } else { 0 };
    Some((if neg { -v } else { v }, raw.get(..len)?))
}

/// Appends a CSV field, quoted when it holds a delimiter, a quote or a line break (as the `csv`
/// crate's writer does).
fn push_field(buf: &mut Vec<u8>, field: &[u8]) {
    if field
        .iter()
        .any(|&c| matches!(c, b',' | b'"' | b'\r' | b'\n'))
    {
        buf.push(b'"');
        for &c in field {
            if c == b'"' {
                buf.push(b'"');
            }
            buf.push(c);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(field);
    }
}

const HEADER: &[u8] = b"timestamp,value,score,label,expected,lower,upper,reason\n";

/// Appends one output row. `plain_ts`: the timestamp holds nothing that needs quoting;
/// `shortest`: the value's shortest text, if known.
fn push_row(
    buf: &mut Vec<u8>,
    (ts, plain_ts): (&str, bool),
    value: Option<f64>,
    shortest: Option<&str>,
    o: &Outcome,
) {
    if plain_ts {
        buf.extend_from_slice(ts.as_bytes());
    } else {
        push_field(buf, ts.as_bytes());
    }
    buf.push(b',');
    if let Some(x) = value {
        push_value(buf, x, shortest);
        buf.push(b',');
        push_fixed6(buf, o.score);
    } else {
        buf.push(b',');
    }
    buf.extend_from_slice(if o.anomaly { b",1," } else { b",0," });
    if let Some(b) = o.band {
        for (i, x) in [b.expected, b.lower, b.upper].into_iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            if x.is_finite() {
                push_fixed6(buf, x);
            }
        }
    } else {
        buf.extend_from_slice(b",");
        buf.push(b',');
    }
    buf.push(b',');
    match o.explanation {
        Some(x) if o.anomaly || value.is_none() => push_field(buf, x.to_string().as_bytes()),
        None if value.is_none() => buf.extend_from_slice(b"missing_data"),
        _ => {}
    }
    buf.push(b'\n');
}

/// Writes the output CSV for a series and its outcomes.
pub fn write_output<W: std::io::Write>(mut w: W, s: &Series, out: &[Outcome]) -> Result<()> {
    let mut buf = HEADER.to_vec();
    for ((ts, v), o) in s.timestamps.iter().zip(&s.values).zip(out) {
        push_row(&mut buf, (ts, false), *v, None, o);
    }
    w.write_all(&buf)?;
    w.flush()?;
    Ok(())
}

/// Reads a missing-or-number value as `hush detect` documents it.
fn parse_value(raw: &str) -> Option<Result<f64, ()>> {
    match raw {
        "" | "NaN" | "nan" | "null" | "NA" => None,
        _ => Some(match raw.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(()),
        }),
    }
}

/// The whole of `hush detect` for one file held in memory, streaming: each row is parsed,
/// scored and formatted in turn into `out`, with no allocation per row. Handles the plain CSV
/// every exporter writes (no quotes, `\n` or `\r\n` line ends); returns `Ok(false)` for
/// anything else, which [`detect_csv`] then reads with the full CSV reader. Behaves as
/// [`read_series`] + [`detect_values`] + [`write_output`] (tested).
fn detect_plain(cfg: &Config, name: &Path, data: &[u8], out: &mut Vec<u8>) -> Result<bool> {
    if memchr::memchr(b'"', data).is_some() {
        return Ok(false);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(false);
    };
    // Lines split on `\n` with a trailing `\r` dropped; empty lines are skipped, as a CSV
    // reader skips them. Every cut is at an ASCII byte, so slicing the text cannot fail.
    let bytes = text.as_bytes();
    let mut lines = memchr::memchr_iter(b'\n', bytes)
        .chain(std::iter::once(bytes.len()))
        .scan(0usize, |start, end| {
            let begin = std::mem::replace(start, end + 1);
            let row = text.get(begin..end).unwrap_or("");
            Some(row.strip_suffix('\r').unwrap_or(row))
        })
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| (i + 1, l));
    let header = lines.next().map_or("", |(_, l)| l);
    if header.contains('\r') {
        return Ok(false);
    }
    let columns = header.split(',').count();
    if header.is_empty() || columns < 2 {
        bail!(
            "`{}` line 1: expected at least two columns (timestamp,value)",
            name.display()
        );
    }
    let col = |want: &str, default: usize| {
        header
            .split(',')
            .position(|h| h.trim() == want)
            .unwrap_or(default)
    };
    let (ts_col, v_col) = (col("timestamp", 0), col("value", 1));
    let mut d = Detector::new(cfg.clone())?;
    out.clear();
    // The output runs about three times the input: grown once, not by doubling.
    out.reserve(data.len() * 3);
    out.extend_from_slice(HEADER);
    let has_cr = memchr::memchr(b'\r', data).is_some();
    for (line, row) in lines {
        if has_cr && row.contains('\r') {
            // A lone carriage return ends a record for a CSV reader.
            return Ok(false);
        }
        let (mut ts, mut raw, mut n, mut begin) = ("", "", 0usize, 0usize);
        for end in memchr::memchr_iter(b',', row.as_bytes()).chain(std::iter::once(row.len())) {
            let field = row.get(begin..end).unwrap_or("");
            if n == ts_col {
                ts = field;
            }
            if n == v_col {
                raw = field.trim();
            }
            n += 1;
            begin = end + 1;
        }
        if n != columns {
            bail!(
                "`{}` line {line}: malformed row: {n} fields where the header has {columns}",
                name.display()
            );
        }
        let (value, shortest) = match plain_decimal(raw) {
            Some((v, text)) => (Some(v), Some(text)),
            None => match parse_value(raw) {
                None => (None, None),
                Some(Ok(v)) => (Some(v), None),
                Some(Err(())) => bail!(
                    "`{}` line {line}: value `{raw}` is not a number",
                    name.display()
                ),
            },
        };
        let o = d.step(value);
        // Plain CSV: a field holds no quote, delimiter or line break.
        push_row(out, (ts, true), value, shortest, &o);
    }
    Ok(true)
}

/// Runs the detector over the CSV `data` (read from `name`) and leaves the output CSV in `out`.
fn detect_csv(cfg: &Config, name: &Path, data: &[u8], out: &mut Vec<u8>) -> Result<()> {
    if detect_plain(cfg, name, data, out)? {
        return Ok(());
    }
    let s = read_series_from(name, data)?;
    let outcomes = detect_values(cfg, &s.values)?;
    out.clear();
    write_output(&mut *out, &s, &outcomes)
}

/// Buffers one worker reuses from file to file, so a backtest allocates per file at most.
#[derive(Default)]
struct Scratch {
    input: Vec<u8>,
    output: Vec<u8>,
}

fn run_file(cfg: &Config, input: &Path, output: Option<&Path>) -> Result<()> {
    run_file_with(&mut Scratch::default(), cfg, input, output)
}

fn run_file_with(
    scratch: &mut Scratch,
    cfg: &Config,
    input: &Path,
    output: Option<&Path>,
) -> Result<()> {
    scratch.input.clear();
    std::fs::File::open(input)
        .and_then(|mut f| f.read_to_end(&mut scratch.input))
        .with_context(|| format!("failed to open `{}`", input.display()))?;
    detect_csv(cfg, input, &scratch.input, &mut scratch.output)?;
    match output {
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("failed to create `{}`", dir.display()))?;
            }
            std::fs::write(p, &scratch.output)
                .with_context(|| format!("failed to write `{}`", p.display()))
        }
        None => {
            let mut w = std::io::stdout().lock();
            w.write_all(&scratch.output)?;
            w.flush()?;
            Ok(())
        }
    }
}

/// Every `.csv` under `dir`, sorted, as paths relative to `dir`.
pub fn csv_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let full = dir.join(&rel);
        for e in std::fs::read_dir(&full)
            .with_context(|| format!("failed to list `{}`", full.display()))?
        {
            let e = e?;
            let name = rel.join(e.file_name());
            if e.file_type()?.is_dir() {
                stack.push(name);
            } else if name.extension().is_some_and(|x| x == "csv") {
                out.push(name);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Runs `hush detect`.
pub fn run(args: DetectArgs) -> Result<()> {
    let cfg = load_config(args.config.as_deref())?;
    if !args.input.is_dir() {
        return run_file(&cfg, &args.input, args.output.as_deref());
    }
    let Some(out_dir) = args.output else {
        bail!("`--output` is required when `--input` is a directory");
    };
    let files = csv_files(&args.input)?;
    let pb = crate::progress::bar(files.len() as u64, "detect");
    // Workers take the next file from a shared counter and keep their buffers: files are
    // independent, and a plain pool neither spins while idle nor allocates per file.
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let mut errors: Vec<(usize, anyhow::Error)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut scratch = Scratch::default();
                    let mut errors = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(rel) = files.get(i) else { break };
                        let r = run_file_with(
                            &mut scratch,
                            &cfg,
                            &args.input.join(rel),
                            Some(&out_dir.join(rel)),
                        );
                        pb.inc(1);
                        if let Err(e) = r {
                            failed.store(true, Ordering::Relaxed);
                            errors.push((i, e));
                        }
                    }
                    errors
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    pb.finish_and_clear();
    // The first failing file in sorted order, whichever worker met it first.
    errors.sort_by_key(|(i, _)| *i);
    match errors.into_iter().next() {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    fn sample(n: usize) -> String {
        let mut s = String::from("timestamp,value\n");
        for i in 0..n {
            let v = 50.0 + 10.0 * ((i % 37) as f64 / 37.0) + if i == 700 { 90.0 } else { 0.0 };
            s.push_str(&format!(
                "2014-04-01 {:02}:{:02}:00,{v}\n",
                (i / 60) % 24,
                i % 60
            ));
        }
        s
    }

    #[test]
    fn output_rows_depend_only_on_earlier_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let full = sample(1200);
        let cut: String = full.lines().take(800).map(|l| format!("{l}\n")).collect();
        let (a, b) = (
            write(dir.path(), "a.csv", &full),
            write(dir.path(), "b.csv", &cut),
        );
        let (oa, ob) = (dir.path().join("oa.csv"), dir.path().join("ob.csv"));
        run_file(&Config::default(), &a, Some(&oa)).expect("full");
        run_file(&Config::default(), &b, Some(&ob)).expect("prefix");
        let (ta, tb) = (
            std::fs::read_to_string(oa).expect("read"),
            std::fs::read_to_string(ob).expect("read"),
        );
        let shared: Vec<&str> = ta.lines().take(800).collect();
        assert_eq!(shared, tb.lines().collect::<Vec<_>>());
        assert!(
            ta.lines().nth(701).is_some_and(|l| l.contains(",1,")),
            "spike at row 700 flagged"
        );
    }

    #[test]
    fn fixed_six_decimals_match_the_formatter() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut vals = vec![
            0.0,
            -0.0,
            0.5e-6,
            1.5e-6,
            -2.5e-6,
            0.9999995,
            123.4567895,
            1e6,
            -1e7,
            1e300,
        ];
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            let scale = 10f64.powi((x % 19) as i32 - 8);
            let sign = if x & 1 == 0 { 1.0 } else { -1.0 };
            vals.push(sign * u * scale);
            vals.push(((x % 100_000_000) as f64) / 1e6 + 5e-7);
            // Near a tie at the magnitudes where the product's own rounding matters.
            vals.push(((x % 1_000_000_000_000_000) as f64 + 0.5) / 1e6);
        }
        let mut buf = Vec::new();
        for v in vals {
            buf.clear();
            push_fixed6(&mut buf, v);
            assert_eq!(String::from_utf8_lossy(&buf), format!("{v:.6}"), "{v:e}");
        }
    }

    /// The streaming path against the general one (full CSV reader, outcomes collected,
    /// values formatted by the float formatter).
    fn both_paths(text: &str) -> (Result<String, String>, Result<String, String>) {
        let name = Path::new("t.csv");
        let mut out = Vec::new();
        let plain = match detect_plain(&Config::default(), name, text.as_bytes(), &mut out) {
            Ok(true) => Ok(String::from_utf8(out).expect("utf8")),
            Ok(false) => Err("not plain".to_string()),
            Err(e) => Err(format!("{e:#}")),
        };
        let general = read_series_from(name, text.as_bytes())
            .and_then(|s| {
                let o = detect_values(&Config::default(), &s.values)?;
                let mut buf = Vec::new();
                write_output(&mut buf, &s, &o)?;
                Ok(String::from_utf8(buf)?)
            })
            .map_err(|e| format!("{e:#}"));
        (plain, general)
    }

    #[test]
    fn streaming_path_writes_what_the_general_path_writes() {
        // Missing values (empty and NaN) among the rows.
        let spiky: String = sample(1500)
            .lines()
            .enumerate()
            .map(|(i, l)| match (i % 97, i % 131) {
                (5, _) if i > 0 => format!("{},\n", l.split(',').next().unwrap_or("")),
                (_, 7) => format!("{},NaN\n", l.split(',').next().unwrap_or("")),
                _ => format!("{l}\n"),
            })
            .collect();
        let decimals: String = std::iter::once("timestamp,value\n".to_string())
            .chain((0..1200).map(|i| {
                let v = [
                    "0.132",
                    "20.0",
                    "51.846000000000004",
                    "1e-3",
                    "-0",
                    "007",
                    "3.",
                    "+4.50",
                ][i % 8];
                format!("2014-01-01 {:02}:{:02}:00,{v}\n", (i / 60) % 24, i % 60)
            }))
            .collect();
        for text in [
            sample(1200),
            spiky.clone(),
            spiky.replace('\n', "\r\n"),
            spiky.replacen('\n', "\n\n", 40),
            decimals,
            // Columns found by name, wherever they are.
            sample(400)
                .lines()
                .map(|l| format!("x,{l}\n"))
                .collect::<String>()
                .replacen("x,timestamp,value", "label, timestamp ,value ", 1),
        ] {
            let (plain, general) = both_paths(&text);
            assert!(
                plain.is_ok(),
                "plain CSV takes the streaming path: {plain:?}"
            );
            assert_eq!(plain, general);
        }
        let (plain, _) = both_paths(&sample(1200));
        assert!(
            plain.expect("written").contains(",1,"),
            "the spike at row 700 alerts"
        );
        let (plain, _) = both_paths(&spiky);
        assert!(plain.expect("written").contains(",,,0,,,,missing_data\n"));
    }

    #[test]
    fn streaming_path_errors_name_file_and_line_like_the_general_path() {
        for (text, line) in [
            (
                "timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,abc\n",
                3,
            ),
            (
                "timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00\n",
                3,
            ),
            ("timestamp,value\n1,2\n3,4,5\n", 3),
            ("timestamp\n1\n", 1),
            ("", 1),
        ] {
            let (plain, general) = both_paths(text);
            for e in [plain.expect_err(text), general.expect_err(text)] {
                assert!(
                    e.contains("t.csv") && e.contains(&format!("line {line}")),
                    "{text:?}: {e}"
                );
            }
        }
    }

    #[test]
    fn quoted_or_unusual_csv_takes_the_general_path() {
        let text = "timestamp,value\n\"2014-01-01 00:00:00\",1\n\"a,b\",2\n";
        let (plain, general) = both_paths(text);
        assert_eq!(plain, Err("not plain".to_string()));
        assert!(general.expect("reads").contains("\"a,b\",2,"));
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write(dir.path(), "q.csv", text);
        let o = dir.path().join("o.csv");
        run_file(&Config::default(), &p, Some(&o)).expect("run");
        assert!(
            std::fs::read_to_string(o)
                .expect("read")
                .contains("\"a,b\",2,")
        );
    }

    #[test]
    fn plain_decimals_read_as_parse_does_and_are_their_shortest_form() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "0.0",
            "-0.000",
            "1",
            "20.0",
            "0.1",
            "0.10",
            "100000000000000000000",
            "0.0000000000000000000001",
            "123456789012345",
            "1234567890123456",
            "0.3",
            "0.30000000000000004",
            "9007199254740993",
            "5.",
            "007",
            "1e5",
            "+3",
            "-12.5000",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 1_000_000_000_000_000) as f64;
            let places = ((x >> 50) % 20) as i32;
            let v = digits / 10f64.powi(places);
            texts.push(format!("{v}"));
            texts.push(format!("{v:.*}", ((x >> 40) % 12) as usize));
            texts.push(format!("-{}", (x >> 20) % 100_000));
        }
        let mut plain = 0;
        for t in &texts {
            let v: f64 = t.parse().expect("number");
            if let Some((got, shortest)) = plain_decimal(t) {
                plain += 1;
                assert_eq!(got.to_bits(), v.to_bits(), "{t}");
                assert_eq!(shortest, format!("{v}"), "{t}");
            }
        }
        assert!(plain > texts.len() / 2, "{plain} of {}", texts.len());
        for t in [
            "", "-", ".5", "5.", "+3", "007", "1e5", "0x10", "1.2.3", "NaN", "١",
        ] {
            assert_eq!(plain_decimal(t), None, "{t}");
        }
    }

    #[test]
    fn non_numeric_value_names_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write(
            dir.path(),
            "bad.csv",
            "timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,abc\n",
        );
        let e = format!("{:#}", read_series(&p).expect_err("bad value"));
        assert!(
            e.contains("bad.csv") && e.contains("line 3") && e.contains("abc"),
            "{e}"
        );
    }

    #[test]
    fn malformed_row_names_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write(
            dir.path(),
            "short.csv",
            "timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00\n",
        );
        let e = format!("{:#}", read_series(&p).expect_err("short row"));
        assert!(e.contains("short.csv") && e.contains("line 3"), "{e}");
    }

    #[test]
    fn missing_values_and_repeated_timestamps_are_accepted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write(
            dir.path(),
            "gaps.csv",
            "timestamp,value\n2014-03-09 03:00:00,1\n2014-03-09 03:00:00,\n2014-03-09 02:00:00,NaN\n2014-03-09 04:00:00,2\n",
        );
        let s = read_series(&p).expect("read");
        assert_eq!(s.values, vec![Some(1.0), None, None, Some(2.0)]);
        let out = detect_values(&Config::default(), &s.values).expect("detect");
        let mut buf = Vec::new();
        write_output(&mut buf, &s, &out).expect("write");
        let text = String::from_utf8(buf).expect("utf8");
        assert_eq!(
            text.lines().filter(|l| l.ends_with("missing_data")).count(),
            2,
            "{text}"
        );
    }

    #[test]
    fn directory_input_is_mirrored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("in/sub");
        std::fs::create_dir_all(&input).expect("mkdir");
        write(&input, "x.csv", &sample(300));
        let out = dir.path().join("out");
        run(DetectArgs {
            input: dir.path().join("in"),
            output: Some(out.clone()),
            config: None,
        })
        .expect("run");
        assert!(out.join("sub/x.csv").exists());
    }
}
