//! `hush eval m4`: backtest the forecaster on the M4 competition's hourly and weekly series
//! (Makridakis, Spiliotis & Assimakopoulos 2020) and print sMAPE, MASE, OWA against Naive2,
//! and interval coverage.
//!
//! Without a test file the last `horizon` points of each training series are held out, which is
//! how the development subset is meant to be used (its official test values are withheld).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hush_forecast::{AutoConfig, AutoForecaster, Forecast, Forecaster, ModelSpec};
use rayon::prelude::*;

/// One series of an M4 file: the quoted id, then its values.
#[derive(Debug, Clone, PartialEq)]
pub struct M4Series {
    /// Series id, e.g. `H1`.
    pub id: String,
    /// Observations in time order.
    pub values: Vec<f64>,
}

/// The two M4 frequencies in the subset, with the competition's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Frequency {
    /// 48-step horizon, MASE lag 24, seasons of 24 and 168 hours.
    Hourly,
    /// 13-step horizon, MASE lag 1, a yearly season of 52 weeks.
    Weekly,
}

impl Frequency {
    /// The M4 forecast horizon.
    pub fn horizon(self) -> usize {
        match self {
            Self::Hourly => 48,
            Self::Weekly => 13,
        }
    }

    /// The MASE seasonal lag M4 uses for this frequency.
    pub fn mase_lag(self) -> usize {
        match self {
            Self::Hourly => 24,
            Self::Weekly => 1,
        }
    }

    /// Seasonal periods offered to the models.
    pub fn periods(self) -> Vec<usize> {
        match self {
            Self::Hourly => vec![24, 168],
            Self::Weekly => vec![52],
        }
    }

    /// The forecaster configuration used for every series of this frequency.
    pub fn config(self) -> AutoConfig {
        let mut config = AutoConfig::for_periods(&self.periods());
        config.scale_lag = self.mase_lag();
        config
    }

    /// Guesses the frequency from an M4 file name (`Hourly-train.csv`).
    pub fn from_path(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        if name.starts_with("hourly") {
            Some(Self::Hourly)
        } else if name.starts_with("weekly") {
            Some(Self::Weekly)
        } else {
            None
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Hourly => "Hourly",
            Self::Weekly => "Weekly",
        }
    }
}

/// Reads an M4 file: a header row, then one row per series with trailing empty cells.
pub fn read_m4(path: &Path) -> anyhow::Result<Vec<M4Series>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("failed to open M4 file `{}`", path.display()))?;
    let mut out = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record =
            record.with_context(|| format!("bad CSV row {} in `{}`", row + 2, path.display()))?;
        let mut cells = record.iter();
        let Some(id) = cells.next() else { continue };
        let values = cells
            .filter(|c| !c.trim().is_empty())
            .map(|c| c.trim().parse::<f64>())
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| {
                format!("non-numeric value in series `{id}` of `{}`", path.display())
            })?;
        out.push(M4Series {
            id: id.to_string(),
            values,
        });
    }
    Ok(out)
}

/// Writes series in the M4 layout: a `V1..Vn` header, then quoted id and values per row.
pub fn write_m4(path: &Path, rows: &[M4Series]) -> anyhow::Result<()> {
    let width = rows.iter().map(|r| r.values.len()).max().unwrap_or(0);
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::NonNumeric)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("failed to create `{}`", path.display()))?;
    w.write_record((1..=width + 1).map(|i| format!("V{i}")))?;
    for r in rows {
        let mut rec = vec![r.id.clone()];
        rec.extend(r.values.iter().map(|v| format!("{v}")));
        w.write_record(&rec)?;
    }
    w.flush()?;
    Ok(())
}

/// Accuracy of one series' forecast against the held-out values.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SeriesScore {
    /// Symmetric MAPE in percent, averaged over the horizon.
    pub smape: f64,
    /// Mean absolute scaled error (scale: in-sample mean absolute lag-m difference).
    pub mase: f64,
    /// Fraction of held-out values inside the interval.
    pub coverage: f64,
    /// Mean scaled interval score (Gneiting & Raftery 2007), M4's interval measure.
    pub msis: f64,
}

/// In-sample mean absolute lag-`m` difference, the MASE denominator (lag 1 if too short).
pub fn mase_scale(train: &[f64], m: usize) -> f64 {
    let lag = if train.len() > m { m } else { 1 };
    if train.len() <= lag {
        return f64::NAN;
    }
    train
        .windows(lag + 1)
        .map(|w| (w[lag] - w[0]).abs())
        .sum::<f64>()
        / (train.len() - lag) as f64
}

/// Scores a forecast as M4 does: sMAPE and MASE per series, interval coverage and MSIS.
pub fn score(train: &[f64], actual: &[f64], f: &Forecast, m: usize) -> SeriesScore {
    let h = actual.len().min(f.point.len());
    if h == 0 {
        return SeriesScore::default();
    }
    let scale = mase_scale(train, m);
    let alpha = 1.0 - f.level;
    let mut s = SeriesScore::default();
    let steps = actual
        .iter()
        .zip(&f.point)
        .zip(f.lower.iter().zip(&f.upper));
    for ((&y, &p), (&lo, &hi)) in steps.take(h) {
        let denom = y.abs() + p.abs();
        s.smape += if denom > 0.0 {
            200.0 * (y - p).abs() / denom
        } else {
            0.0
        };
        s.mase += (y - p).abs() / scale;
        s.coverage += f64::from(u8::from(lo <= y && y <= hi));
        let penalty = 2.0 / alpha * ((lo - y).max(0.0) + (y - hi).max(0.0));
        s.msis += (hi - lo + penalty) / scale;
    }
    let hf = h as f64;
    SeriesScore {
        smape: s.smape / hf,
        mase: s.mase / hf,
        coverage: s.coverage / hf,
        msis: s.msis / hf,
    }
}

/// Averages over series of every measure, plus timing.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Summary {
    /// Series scored.
    pub series: usize,
    /// Series the forecaster refused (counted as failures, not scored).
    pub failed: usize,
    /// Mean of the per-series scores.
    pub mean: SeriesScore,
    /// Wall time of fitting and forecasting all series.
    pub elapsed: Duration,
}

/// How the series of one file are forecast.
pub enum Method<'a> {
    /// The automatic forecaster.
    Auto(&'a AutoForecaster),
    /// One fixed model with the same backtest-calibrated intervals.
    Single(AutoForecaster),
}

impl Method<'_> {
    fn forecaster(&self) -> &AutoForecaster {
        match self {
            Self::Auto(f) => f,
            Self::Single(f) => f,
        }
    }
}

/// A one-model forecaster that keeps the automatic calibration (backtest and conformal width).
pub fn single_model(spec: ModelSpec, base: &AutoConfig) -> AutoForecaster {
    AutoForecaster::new(AutoConfig {
        candidates: vec![spec],
        blend: 1,
        ..base.clone()
    })
}

/// Forecasts every `(train, test)` pair and scores it.
pub fn evaluate(pairs: &[(&[f64], &[f64])], method: &Method<'_>, level: f64, m: usize) -> Summary {
    let forecaster = method.forecaster();
    let start = Instant::now();
    let forecasts: Vec<Option<Forecast>> = pairs
        .par_iter()
        .map(|(train, test)| forecaster.forecast(train, test.len(), level).ok())
        .collect();
    let elapsed = start.elapsed();
    let mut sum = SeriesScore::default();
    let (mut series, mut failed) = (0, 0);
    for ((train, test), f) in pairs.iter().zip(&forecasts) {
        let Some(f) = f else {
            failed += 1;
            continue;
        };
        let s = score(train, test, f, m);
        sum.smape += s.smape;
        sum.mase += s.mase;
        sum.coverage += s.coverage;
        sum.msis += s.msis;
        series += 1;
    }
    let k = series.max(1) as f64;
    Summary {
        series,
        failed,
        mean: SeriesScore {
            smape: sum.smape / k,
            mase: sum.mase / k,
            coverage: sum.coverage / k,
            msis: sum.msis / k,
        },
        elapsed,
    }
}

/// Arguments of `hush eval m4`.
#[derive(Debug, Clone, clap::Args)]
pub struct M4Args {
    /// The M4 subset folder (holding `train/Hourly-train.csv` and `train/Weekly-train.csv`);
    /// both frequencies are evaluated.
    #[arg(long, conflicts_with = "train")]
    pub data: Option<PathBuf>,
    /// One M4 training file; the frequency is taken from its name unless `--frequency` is given.
    #[arg(long)]
    pub train: Option<PathBuf>,
    /// The matching test file; without it the last `--horizon` points of each series are held out.
    #[arg(long, requires = "train")]
    pub test: Option<PathBuf>,
    /// Frequency of `--train`.
    #[arg(long, value_enum)]
    pub frequency: Option<Frequency>,
    /// Forecast horizon (default: 48 hourly, 13 weekly).
    #[arg(long)]
    pub horizon: Option<usize>,
    /// Nominal coverage of the prediction interval.
    #[arg(long, default_value_t = 0.95)]
    pub interval: f64,
    /// Worker threads (1 for a single-threaded timing; default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also score each candidate model on its own and the reference benchmarks.
    #[arg(long)]
    pub per_model: bool,
    /// Only the first N series of each file (for quick checks).
    #[arg(long)]
    pub limit: Option<usize>,
}

/// Runs `hush eval m4`.
pub fn run(args: M4Args) -> anyhow::Result<()> {
    let mut jobs: Vec<(PathBuf, Frequency)> = Vec::new();
    if let Some(train) = &args.train {
        let freq = args
            .frequency
            .or_else(|| Frequency::from_path(train))
            .with_context(|| {
                format!(
                    "cannot tell the frequency of `{}`; pass --frequency",
                    train.display()
                )
            })?;
        jobs.push((train.clone(), freq));
    } else if let Some(dir) = &args.data {
        for freq in [Frequency::Hourly, Frequency::Weekly] {
            jobs.push((
                dir.join("train")
                    .join(format!("{}-train.csv", freq.label())),
                freq,
            ));
        }
    } else {
        bail!("pass --data DIR or --train FILE");
    }
    if !(args.interval > 0.0 && args.interval < 1.0) {
        bail!(
            "--interval must be strictly between 0 and 1, got {}",
            args.interval
        );
    }
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = args.threads {
        pool = pool.num_threads(t.max(1));
    }
    let pool = pool.build().context("failed to start the worker pool")?;
    println!(
        "{:<8} {:<28} {:>6} {:>7} {:>7} {:>7} {:>6} {:>8} {:>9}",
        "freq", "method", "series", "sMAPE", "MASE", "OWA", "cover", "MSIS", "seconds"
    );
    for (path, freq) in jobs {
        pool.install(|| run_one(&args, &path, freq))?;
    }
    Ok(())
}

fn run_one(args: &M4Args, path: &Path, freq: Frequency) -> anyhow::Result<()> {
    let mut series = read_m4(path)?;
    if let Some(limit) = args.limit {
        series.truncate(limit);
    }
    let h = args.horizon.unwrap_or(freq.horizon());
    let tests = match &args.test {
        Some(p) => Some(read_m4(p)?),
        None => None,
    };
    let mut pairs: Vec<(&[f64], &[f64])> = Vec::with_capacity(series.len());
    for (i, s) in series.iter().enumerate() {
        match &tests {
            Some(t) => {
                let test = t.get(i).filter(|t| t.id == s.id).with_context(|| {
                    format!(
                        "test file has no row for series `{}` at position {}",
                        s.id,
                        i + 1
                    )
                })?;
                pairs.push((&s.values, &test.values));
            }
            None if s.values.len() > h => {
                let (train, test) = s.values.split_at(s.values.len() - h);
                pairs.push((train, test));
            }
            None => bail!(
                "series `{}` has {} points, not more than the horizon {h}",
                s.id,
                s.values.len()
            ),
        }
    }
    let m = freq.mase_lag();
    let config = freq.config();
    // M4 adjusts Naive2 for the season of the MASE lag only (none for weekly data).
    let naive2 = single_model(ModelSpec::Naive2 { period: m }, &config);
    let naive2 = evaluate(&pairs, &Method::Single(naive2), args.interval, m);
    let mut rows: Vec<(String, Summary)> = Vec::new();
    if args.per_model {
        rows.push(("naive2".into(), naive2));
        for spec in &config.candidates {
            let f = single_model(spec.clone(), &config);
            rows.push((
                spec.name(),
                evaluate(&pairs, &Method::Single(f), args.interval, m),
            ));
        }
    }
    let auto = AutoForecaster::new(config);
    rows.push((
        "hush auto".into(),
        evaluate(&pairs, &Method::Auto(&auto), args.interval, m),
    ));
    for (name, s) in rows {
        let owa = (s.mean.smape / naive2.mean.smape + s.mean.mase / naive2.mean.mase) / 2.0;
        println!(
            "{:<8} {:<28} {:>6} {:>7.3} {:>7.3} {:>7.3} {:>6.3} {:>8.2} {:>9.2}{}",
            freq.label(),
            name,
            s.series,
            s.mean.smape,
            s.mean.mase,
            owa,
            s.mean.coverage,
            s.mean.msis,
            s.elapsed.as_secs_f64(),
            if s.failed > 0 {
                format!("  ({} failed)", s.failed)
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
