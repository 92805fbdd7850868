//! `hush import`: load a file into the store directory directly (the server must not be
//! running on the same directory; the store's lock file refuses a second opener).

use anyhow::{Context, bail};
use hush_model::{Labels, TimeSeries};
use hush_store::{Options, Store};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// A CSV file of `timestamp,value` rows, or a Prometheus exposition file (`.prom`, `.txt`).
    file: PathBuf,
    /// Directory of the store to import into.
    #[arg(long, default_value = "./hush-data")]
    data_dir: PathBuf,
    /// Metric name for CSV rows.
    #[arg(long)]
    metric: Option<String>,
    /// Extra label for CSV rows, `name=value`; repeatable.
    #[arg(long = "label", value_name = "NAME=VALUE")]
    labels: Vec<String>,
    /// Timestamp for exposition samples without one (Unix ms) [default: now].
    #[arg(long)]
    timestamp: Option<i64>,
}

const BATCH: usize = 10_000;

pub fn run(a: ImportArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("failed to read `{}`", a.file.display()))?;
    let is_csv = a
        .file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let limits = hush_ingest::Limits {
        max_samples_per_request: usize::MAX,
        max_series_per_request: usize::MAX,
        max_decompressed_bytes: usize::MAX,
        ..Default::default()
    };
    let series = if is_csv {
        let Some(metric) = &a.metric else {
            bail!("--metric is required for CSV input")
        };
        let mut pairs = vec![("__name__".to_string(), metric.clone())];
        for l in &a.labels {
            let Some((n, v)) = l.split_once('=') else {
                bail!("--label `{l}` is not NAME=VALUE")
            };
            pairs.push((n.to_string(), v.to_string()));
        }
        let labels =
            Labels::from_pairs(pairs).map_err(|e| anyhow::anyhow!("invalid labels: {e}"))?;
        hush_ingest::csv::parse(&text, &labels, &limits)
            .map_err(|e| anyhow::anyhow!("{}: {e}", a.file.display()))?
    } else {
        let now = a.timestamp.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
        });
        hush_ingest::parse_exposition(&text, now, &limits)
            .map_err(|e| anyhow::anyhow!("{}: {e}", a.file.display()))?
    };
    let total: usize = series.iter().map(|s| s.samples.len()).sum();
    let store = Store::open(a.data_dir.join("tsdb"), Options::default())
        .with_context(|| format!("failed to open store in `{}`", a.data_dir.display()))?;
    let bar = hush_eval::progress::bar(total as u64, "importing");
    let (mut stored, mut rejected) = (0u64, 0u64);
    for ts in series {
        for part in ts.samples.chunks(BATCH) {
            let out =
                store.append_blocking(vec![TimeSeries::new(ts.labels.clone(), part.to_vec())])?;
            stored += out.stored;
            rejected += out.rejected_total();
            bar.inc(part.len() as u64);
        }
    }
    bar.finish_and_clear();
    println!(
        "{}: {stored} samples stored, {rejected} rejected",
        a.file.display()
    );
    Ok(())
}
