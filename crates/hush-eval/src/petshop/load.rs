//! Readers for the PetShop layout (`graph.csv`, `metrics.csv`, `target.json`), shared with the
//! `hush rca` batch command. Errors name the file and, where it helps, the line.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use hush_rca::{MetricKind, NodeKind, Provenance, Series, SeriesKey, ServiceGraph};

/// Reads an adjacency-matrix `graph.csv` (row r, column c = 1 means r calls c). Nodes whose names
/// end in `_remote` or `_client` are inferred: the tracer saw them only from the other side.
pub fn load_graph(path: &Path) -> anyhow::Result<ServiceGraph> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .with_context(|| format!("failed to open graph `{}`", path.display()))?;
    let mut rows = rdr.records();
    let header = match rows.next() {
        Some(r) => r.with_context(|| format!("failed to read `{}` line 1", path.display()))?,
        None => bail!("graph `{}` is empty", path.display()),
    };
    let names: Vec<String> = header.iter().skip(1).map(str::to_owned).collect();
    let mut g = ServiceGraph::new();
    for n in &names {
        g.add_service(n, node_kind(n));
    }
    for (i, rec) in rows.enumerate() {
        let line = i + 2;
        let rec =
            rec.with_context(|| format!("failed to read `{}` line {line}", path.display()))?;
        let caller = rec.get(0).unwrap_or_default();
        if !names.iter().any(|n| n == caller) {
            bail!(
                "`{}` line {line}: row node `{caller}` is not a column",
                path.display()
            );
        }
        for (j, cell) in rec.iter().skip(1).enumerate() {
            let Some(callee) = names.get(j) else {
                bail!("`{}` line {line}: more cells than columns", path.display());
            };
            match cell.trim() {
                "" | "0" | "0.0" => {}
                "1" | "1.0" => g.add_call(caller, callee, Provenance::Config),
                other => bail!(
                    "`{}` line {line}: cell for `{callee}` is `{other}`, expected 0 or 1",
                    path.display()
                ),
            }
        }
    }
    Ok(g)
}

fn node_kind(name: &str) -> NodeKind {
    if name.ends_with("_remote") || name.ends_with("_client") {
        NodeKind::Inferred
    } else {
        NodeKind::Service
    }
}

/// Maps a PetShop metric name to a kind.
pub fn metric_kind(metric: &str) -> MetricKind {
    match metric {
        "latency" => MetricKind::Latency,
        "availability" => MetricKind::Availability,
        "requests" => MetricKind::Throughput,
        _ => MetricKind::Other,
    }
}

/// Reads a `metrics.csv` with the 3-row header (node, metric, statistic), a `unix_timestamp`
/// row, then one row per time step. Series are named `"{metric} {statistic}"`.
pub fn load_metrics(path: &Path) -> anyhow::Result<Vec<Series>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .with_context(|| format!("failed to open metrics `{}`", path.display()))?;
    let mut recs = Vec::new();
    for (i, r) in rdr.records().enumerate() {
        recs.push(
            r.with_context(|| format!("failed to read `{}` line {}", path.display(), i + 1))?,
        );
    }
    if recs.len() < 4 {
        bail!(
            "metrics `{}` has fewer than the 4 header rows",
            path.display()
        );
    }
    let width = recs[0].len();
    if recs[1].len() != width || recs[2].len() != width {
        bail!(
            "metrics `{}`: the 3 header rows differ in length",
            path.display()
        );
    }
    let mut times = Vec::with_capacity(recs.len() - 4);
    let mut cols: Vec<Vec<f64>> = vec![Vec::with_capacity(recs.len() - 4); width.saturating_sub(1)];
    for (i, rec) in recs.iter().enumerate().skip(4) {
        let line = i + 1;
        if rec.len() != width {
            bail!(
                "`{}` line {line}: {} cells, header has {width}",
                path.display(),
                rec.len()
            );
        }
        let t: f64 = rec[0].trim().parse().with_context(|| {
            format!(
                "`{}` line {line}: bad timestamp `{}`",
                path.display(),
                &rec[0]
            )
        })?;
        if !t.is_finite() {
            bail!(
                "`{}` line {line}: bad timestamp `{}`",
                path.display(),
                &rec[0]
            );
        }
        times.push(t as i64);
        for (j, cell) in rec.iter().skip(1).enumerate() {
            let v = match cell.trim() {
                "" => f64::NAN,
                s => s.parse().with_context(|| {
                    format!(
                        "`{}` line {line}: bad value `{s}` in column {}",
                        path.display(),
                        j + 2
                    )
                })?,
            };
            cols[j].push(v);
        }
    }
    let mut out = BTreeMap::new();
    for (j, values) in cols.into_iter().enumerate() {
        let (node, metric, stat) = (&recs[0][j + 1], &recs[1][j + 1], &recs[2][j + 1]);
        let key = SeriesKey::new(node, metric_kind(metric), format!("{metric} {stat}"));
        if out
            .insert(key.to_string(), Series::new(key, times.clone(), values))
            .is_some()
        {
            bail!(
                "metrics `{}`: column `{node} {metric} {stat}` appears twice",
                path.display()
            );
        }
    }
    Ok(out.into_values().collect())
}

/// The parts of `target.json` the evaluation uses.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TargetFile {
    /// The SLO violation.
    pub target: TargetSpec,
    /// The injected cause.
    pub root_cause: RootCause,
}

/// The violated series.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TargetSpec {
    /// Node, always `PetSite` in the dataset.
    pub node: String,
    /// `latency` or `availability`.
    pub metric: String,
    /// Statistic, e.g. `Average`.
    pub agg: String,
    /// Alert time, Unix seconds.
    pub timestamp: i64,
}

/// The true cause.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RootCause {
    /// Node to find.
    pub node: String,
}

/// Reads `target.json`.
pub fn load_target(path: &Path) -> anyhow::Result<TargetFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to open target `{}`", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("failed to parse `{}`", path.display()))
}
