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
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec =
            rec.with_context(|| format!("`{}` line {line}: malformed row", path.display()))?;
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
    let num = |v: f64| {
        if v.is_finite() {
            format!("{v:.6}")
        } else {
            String::new()
        }
    };
    for ((ts, v), o) in s.timestamps.iter().zip(&s.values).zip(out) {
        let (e, lo, hi) = o
            .band
            .map_or((String::new(), String::new(), String::new()), |b| {
                (num(b.expected), num(b.lower), num(b.upper))
            });
        let reason = match o.explanation {
            Some(x) if o.anomaly || v.is_none() => x.to_string(),
            None if v.is_none() => "missing_data".to_string(),
            _ => String::new(),
        };
        let score = if v.is_some() {
            format!("{:.6}", o.score)
        } else {
            String::new()
        };
        wr.write_record([
            ts.as_str(),
            &v.map(|x| x.to_string()).unwrap_or_default(),
            &score,
            if o.anomaly { "1" } else { "0" },
            &e,
            &lo,
            &hi,
            &reason,
        ])?;
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
