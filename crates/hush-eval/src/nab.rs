//! `hush eval nab`: runs the detector over the Numenta Anomaly Benchmark files present and
//! scores it by NAB's rules, in two modes — Hush's own decisions (`label`) and the best
//! corpus-wide threshold on `score` — for the three profiles.
//! `--reference DETECTOR` scores a published detector's results instead (scorer self-check).

pub mod corpus;
pub mod score;

use std::path::PathBuf;

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::detect::{detect_values, load_config, read_series, write_output};
use score::{
    PROFILES, Profile, ScoredRow, Tally, best_threshold, normalise, place_rows, score_file,
};

/// Arguments of `hush eval nab`.
#[derive(Debug, clap::Args)]
pub struct NabArgs {
    /// NAB root (holds `data/`, `labels/`, `config/`).
    #[arg(long)]
    pub data: PathBuf,
    /// Directory for per-file detector outputs and `summary.json`.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Detector settings as JSON (see `hush detect --config`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Score `reference_results/<DETECTOR>` with NAB's published thresholds instead of running Hush.
    #[arg(long)]
    pub reference: Option<String>,
    /// Print the standard-profile tally of every file (label mode).
    #[arg(long)]
    pub per_file: bool,
}

/// Normalised score and tally of one (mode, profile) cell.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Cell {
    /// `label` or `best_threshold` (or `published_threshold` for a reference).
    pub mode: String,
    /// NAB profile name.
    pub profile: String,
    /// Threshold applied.
    pub threshold: f64,
    /// Normalised score, 0 = null detector, 100 = perfect.
    pub score: f64,
    /// Summed raw reward.
    pub raw: f64,
    /// Windows detected, false detections, windows missed.
    pub tp: usize,
    /// False detections.
    pub fp: usize,
    /// Windows missed.
    pub fn_: usize,
}

fn cell(mode: &str, p: &Profile, threshold: f64, t: Tally, windows: usize) -> Cell {
    Cell {
        mode: mode.to_string(),
        profile: p.name.to_string(),
        threshold,
        score: normalise(t.raw, windows, p),
        raw: t.raw,
        tp: t.tp,
        fp: t.fp,
        fn_: t.fn_,
    }
}

fn at_threshold(files: &[(Vec<ScoredRow>, usize)], thr: f64, p: &Profile) -> Tally {
    let mut t = Tally::default();
    for (rows, w) in files {
        t.add(score_file(rows, *w, thr, p));
    }
    t
}

fn print_table(cells: &[Cell]) {
    println!(
        "{:<20} {:<20} {:>10} {:>8} {:>9} {:>4} {:>4} {:>4}",
        "mode", "profile", "threshold", "score", "raw", "tp", "fp", "fn"
    );
    for c in cells {
        println!(
            "{:<20} {:<20} {:>10.4} {:>8.2} {:>9.3} {:>4} {:>4} {:>4}",
            c.mode, c.profile, c.threshold, c.score, c.raw, c.tp, c.fp, c.fn_
        );
    }
}

/// Runs `hush eval nab`.
pub fn run(args: NabArgs) -> Result<()> {
    let files = corpus::load(&args.data)?;
    let windows: usize = files.iter().map(|f| f.windows.len()).sum();
    println!("{} files, {} windows", files.len(), windows);
    let mut cells = Vec::new();
    if let Some(det) = &args.reference {
        let path = args.data.join("config/thresholds.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        let thresholds: serde_json::Value = serde_json::from_str(&text)?;
        let scored: Vec<(Vec<ScoredRow>, usize)> = files
            .iter()
            .map(|f| {
                Ok((
                    place_rows(&corpus::reference_scores(&args.data, det, f)?, &f.windows),
                    f.windows.len(),
                ))
            })
            .collect::<Result<_>>()?;
        for p in &PROFILES {
            let thr = thresholds[det][p.name]["threshold"]
                .as_f64()
                .with_context(|| format!("no published threshold for `{det}` / `{}`", p.name))?;
            cells.push(cell(
                "published_threshold",
                p,
                thr,
                at_threshold(&scored, thr, p),
                windows,
            ));
        }
        print_table(&cells);
        return Ok(());
    }
    let cfg = load_config(args.config.as_deref())?;
    let pb = crate::progress::bar(files.len() as u64, "nab");
    let runs: Vec<(Vec<f64>, Vec<f64>)> = files
        .par_iter()
        .map(|f| {
            let s = read_series(&f.path)?;
            let out = detect_values(&cfg, &s.values)?;
            if let Some(dir) = &args.output {
                let p = dir.join(&f.key);
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                write_output(
                    std::io::BufWriter::new(std::fs::File::create(&p)?),
                    &s,
                    &out,
                )?;
            }
            pb.inc(1);
            Ok((
                out.iter().map(|o| o.score).collect(),
                out.iter().map(|o| f64::from(u8::from(o.anomaly))).collect(),
            ))
        })
        .collect::<Result<_>>()?;
    pb.finish_and_clear();
    let by_label: Vec<(Vec<ScoredRow>, usize)> = files
        .iter()
        .zip(&runs)
        .map(|(f, (_, l))| (place_rows(l, &f.windows), f.windows.len()))
        .collect();
    let by_score: Vec<(Vec<ScoredRow>, usize)> = files
        .iter()
        .zip(&runs)
        .map(|(f, (s, _))| (place_rows(s, &f.windows), f.windows.len()))
        .collect();
    if args.per_file {
        let p = &PROFILES[0];
        for (f, (rows, w)) in files.iter().zip(&by_label) {
            let t = score_file(rows, *w, 0.5, p);
            println!(
                "{:<60} raw {:>7.3} tp {} fp {} fn {}",
                f.key, t.raw, t.tp, t.fp, t.fn_
            );
        }
    }
    for p in &PROFILES {
        cells.push(cell(
            "label",
            p,
            0.5,
            at_threshold(&by_label, 0.5, p),
            windows,
        ));
    }
    for p in &PROFILES {
        let (thr, t) = best_threshold(&by_score, p);
        cells.push(cell("best_threshold", p, thr, t, windows));
    }
    print_table(&cells);
    if let Some(dir) = &args.output {
        std::fs::create_dir_all(dir)?;
        let p = dir.join("summary.json");
        std::fs::write(&p, serde_json::to_string_pretty(&cells)?)
            .with_context(|| format!("failed to write `{}`", p.display()))?;
    }
    Ok(())
}
