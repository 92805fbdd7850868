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

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hush_detect::{Config, Detector, Outcome};
use rayon::prelude::*;

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
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .with_context(|| format!("failed to open `{}`", path.display()))?;
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
    let mut line = 1usize;
    loop {
        line += 1;
        let more = rdr
            .read_record(&mut rec)
            .with_context(|| format!("`{}` line {line}: malformed row", path.display()))?;
        if !more {
            break;
        }
        let raw = rec.get(v_col).unwrap_or("").trim();
        let value = match raw {
            "" | "NaN" | "nan" | "null" | "NA" => None,
            _ => match raw.parse::<f64>() {
                Ok(v) if v.is_finite() => Some(v),
                _ => bail!(
                    "`{}` line {line}: value `{raw}` is not a number",
                    path.display()
                ),
            },
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

/// Appends `x` with six decimals, exactly as `{:.6}` would. Values of everyday size that are not
/// near a rounding tie take an integer path (several times cheaper than the float formatter);
/// anything else falls back to it.
fn push_fixed6(buf: &mut String, x: f64) {
    let m = x.abs() * 1e6;
    let r = m.round();
    // Below 1e12 the product errs by under 1.2e-4, so away from a tie the rounding is exact.
    if x.abs() < 1e6 && ((m - m.floor()) - 0.5).abs() > 1e-3 {
        let r = r as u64;
        if x.is_sign_negative() {
            buf.push('-');
        }
        let (int, frac) = (r / 1_000_000, r % 1_000_000);
        let _ = write!(buf, "{int}.{frac:06}");
    } else {
        let _ = write!(buf, "{x:.6}");
    }
}

/// Writes the output CSV for a series and its outcomes.
pub fn write_output<W: std::io::Write>(w: W, s: &Series, out: &[Outcome]) -> Result<()> {
    let mut wr = csv::Writer::from_writer(w);
    wr.write_record([
        "timestamp",
        "value",
        "score",
        "label",
        "expected",
        "lower",
        "upper",
        "reason",
    ])?;
    // Fields are formatted into reused buffers: the writer is on the hot path of a backtest.
    let mut bufs: [String; 6] = Default::default();
    for ((ts, v), o) in s.timestamps.iter().zip(&s.values).zip(out) {
        bufs.iter_mut().for_each(String::clear);
        let [value, score, e, lo, hi, reason] = &mut bufs;
        if let Some(x) = v {
            let _ = write!(value, "{x}");
            push_fixed6(score, o.score);
        }
        if let Some(b) = o.band {
            for (buf, x) in [
                (&mut *e, b.expected),
                (&mut *lo, b.lower),
                (&mut *hi, b.upper),
            ] {
                if x.is_finite() {
                    push_fixed6(buf, x);
                }
            }
        }
        match o.explanation {
            Some(x) if o.anomaly || v.is_none() => {
                let _ = write!(reason, "{x}");
            }
            None if v.is_none() => reason.push_str("missing_data"),
            _ => {}
        }
        let label = if o.anomaly { "1" } else { "0" };
        wr.write_record([ts.as_str(), value, score, label, e, lo, hi, reason])?;
    }
    wr.flush()?;
    Ok(())
}

fn run_file(cfg: &Config, input: &Path, output: Option<&Path>) -> Result<()> {
    let s = read_series(input)?;
    let out = detect_values(cfg, &s.values)?;
    match output {
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("failed to create `{}`", dir.display()))?;
            }
            let f = std::fs::File::create(p)
                .with_context(|| format!("failed to create `{}`", p.display()))?;
            write_output(std::io::BufWriter::new(f), &s, &out)
        }
        None => write_output(std::io::stdout().lock(), &s, &out),
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
    files.par_iter().try_for_each(|rel| {
        let r = run_file(&cfg, &args.input.join(rel), Some(&out_dir.join(rel)));
        pb.inc(1);
        r
    })?;
    pb.finish_and_clear();
    Ok(())
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
            let scale = 10f64.powi((x % 17) as i32 - 8);
            let sign = if x & 1 == 0 { 1.0 } else { -1.0 };
            vals.push(sign * u * scale);
            vals.push(((x % 100_000_000) as f64) / 1e6 + 5e-7);
        }
        let mut buf = String::new();
        for v in vals {
            buf.clear();
            push_fixed6(&mut buf, v);
            assert_eq!(buf, format!("{v:.6}"), "{v:e}");
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
