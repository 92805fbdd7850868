//! Reading NAB's layout: `data/<category>/<name>.csv`, `labels/combined_windows.json` and
//! `reference_results/<detector>/<category>/<detector>_<name>.csv`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// One data file with its label windows resolved to row ranges.
#[derive(Clone, Debug)]
pub struct NabFile {
    /// `<category>/<name>.csv`, the key used by NAB's label files.
    pub key: String,
    /// Absolute or relative path of the data file.
    pub path: PathBuf,
    /// Timestamps as written (compared as strings, as NAB does).
    pub timestamps: Vec<String>,
    /// Inclusive row ranges of the anomaly windows, in time order.
    pub windows: Vec<(usize, usize)>,
}

/// Every data file under `root/data` that `labels/combined_windows.json` knows, sorted by key.
pub fn load(root: &Path) -> Result<Vec<NabFile>> {
    let labels_path = root.join("labels/combined_windows.json");
    let text = std::fs::read_to_string(&labels_path)
        .with_context(|| format!("failed to read `{}`", labels_path.display()))?;
    let labels: BTreeMap<String, Vec<[String; 2]>> = serde_json::from_str(&text)
        .with_context(|| format!("failed to parse `{}`", labels_path.display()))?;
    let mut files = Vec::new();
    for (key, wins) in labels {
        let path = root.join("data").join(&key);
        if !path.exists() {
            // Part of the corpus may be withheld: score what is present.
            continue;
        }
        let timestamps = read_timestamps(&path)?;
        let mut windows = Vec::with_capacity(wins.len());
        for [start, end] in &wins {
            let (s, e) = (trim_micros(start), trim_micros(end));
            // NAB locates a window by the first row carrying each end's timestamp.
            let left = timestamps.iter().position(|t| t.as_str() >= s);
            let right = timestamps.iter().rposition(|t| t.as_str() <= e);
            match (left, right) {
                (Some(l), Some(r)) if l <= r => windows.push((l, r)),
                _ => bail!("window `{start}`..`{end}` of `{key}` matches no rows"),
            }
        }
        windows.sort_unstable();
        files.push(NabFile {
            key,
            path,
            timestamps,
            windows,
        });
    }
    Ok(files)
}

fn trim_micros(ts: &str) -> &str {
    ts.split('.').next().unwrap_or(ts)
}

fn read_timestamps(path: &Path) -> Result<Vec<String>> {
    let mut rdr = csv::Reader::from_path(path)
        .with_context(|| format!("failed to open `{}`", path.display()))?;
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("`{}` line {}: bad csv", path.display(), i + 2))?;
        out.push(rec.get(0).unwrap_or("").to_string());
    }
    Ok(out)
}

/// Scores of a published detector for `file` (the `anomaly_score` column), checked to have
/// one row per data row.
pub fn reference_scores(root: &Path, detector: &str, file: &NabFile) -> Result<Vec<f64>> {
    let (cat, name) = file.key.split_once('/').unwrap_or(("", &file.key));
    let path = root
        .join("reference_results")
        .join(detector)
        .join(cat)
        .join(format!("{detector}_{name}"));
    let mut rdr = csv::Reader::from_path(&path)
        .with_context(|| format!("failed to open `{}`", path.display()))?;
    let headers = rdr.headers()?.clone();
    let col = headers
        .iter()
        .position(|h| h == "anomaly_score")
        .with_context(|| format!("`{}` has no anomaly_score column", path.display()))?;
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("`{}` line {}: bad csv", path.display(), i + 2))?;
        let v: f64 = rec
            .get(col)
            .unwrap_or("")
            .trim()
            .parse()
            .with_context(|| format!("`{}` line {}: bad score", path.display(), i + 2))?;
        out.push(v);
    }
    if out.len() != file.timestamps.len() {
        bail!(
            "`{}` has {} rows, data has {}",
            path.display(),
            out.len(),
            file.timestamps.len()
        );
    }
    Ok(out)
}
