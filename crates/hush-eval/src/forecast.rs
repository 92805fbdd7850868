//! `hush forecast`: forecast a CSV series (`timestamp,value`) or every series of an M4-layout
//! file, with prediction intervals, to a file.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use hush_forecast::capacity::{DAY_MS, regularize};
use hush_forecast::{AutoConfig, AutoForecaster, Forecaster, unwrap_counter};
use hush_model::Sample;
use rayon::prelude::*;

use crate::m4::{Frequency, M4Series, read_m4, write_m4};

/// Arguments of `hush forecast`.
#[derive(Debug, Clone, clap::Args)]
pub struct ForecastArgs {
    /// Input: a CSV with a header and `timestamp,value` columns, or an M4 file with `--m4`.
    #[arg(long)]
    pub input: PathBuf,
    /// Steps to forecast.
    #[arg(long)]
    pub horizon: usize,
    /// Nominal coverage of the prediction interval.
    #[arg(long, default_value_t = 0.95)]
    pub interval: f64,
    /// Output: `timestamp,yhat,yhat_lower,yhat_upper`, or the M4 layout of point forecasts.
    #[arg(long)]
    pub output: PathBuf,
    /// Read and write the M4 layout (one row per series: quoted id, then values).
    #[arg(long)]
    pub m4: bool,
    /// With `--m4`: also write `<id>_lower` and `<id>_upper` rows here.
    #[arg(long, requires = "m4")]
    pub intervals_output: Option<PathBuf>,
    /// Seasonal periods in steps (default: from the M4 frequency, or a day and a week of steps).
    #[arg(long, value_delimiter = ',')]
    pub periods: Vec<usize>,
    /// The values are a counter: undo resets before forecasting.
    #[arg(long)]
    pub counter: bool,
}

/// Runs `hush forecast`.
pub fn run(args: ForecastArgs) -> anyhow::Result<()> {
    if !(args.interval > 0.0 && args.interval < 1.0) {
        bail!(
            "--interval must be strictly between 0 and 1, got {}",
            args.interval
        );
    }
    if args.horizon == 0 {
        bail!("--horizon must be at least 1");
    }
    if args.m4 {
        run_m4(&args)
    } else {
        run_csv(&args)
    }
}

fn run_m4(args: &ForecastArgs) -> anyhow::Result<()> {
    let series = read_m4(&args.input)?;
    let config = if args.periods.is_empty() {
        let freq = Frequency::from_path(&args.input).with_context(|| {
            format!(
                "cannot tell the frequency of `{}`; pass --periods",
                args.input.display()
            )
        })?;
        freq.config()
    } else {
        AutoConfig::for_periods(&args.periods)
    };
    let forecaster = AutoForecaster::new(config);
    let results: Vec<_> = series
        .par_iter()
        .map(|s| {
            let values = if args.counter {
                unwrap_counter(&s.values)
            } else {
                s.values.clone()
            };
            forecaster
                .forecast(&values, args.horizon, args.interval)
                .with_context(|| format!("failed to forecast series `{}`", s.id))
        })
        .collect::<Result<_, _>>()?;
    let rows = |pick: fn(&hush_forecast::Forecast) -> &Vec<f64>, suffix: &str| -> Vec<M4Series> {
        series
            .iter()
            .zip(&results)
            .map(|(s, f)| M4Series {
                id: format!("{}{suffix}", s.id),
                values: pick(f).clone(),
            })
            .collect()
    };
    write_m4(&args.output, &rows(|f| &f.point, ""))?;
    if let Some(path) = &args.intervals_output {
        let mut both = Vec::with_capacity(2 * series.len());
        for (lo, hi) in rows(|f| &f.lower, "_lower")
            .into_iter()
            .zip(rows(|f| &f.upper, "_upper"))
        {
            both.push(lo);
            both.push(hi);
        }
        write_m4(path, &both)?;
    }
    eprintln!(
        "forecast {} series, {} steps each",
        series.len(),
        args.horizon
    );
    Ok(())
}

/// How timestamps were written, so the output uses the same form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeFormat {
    Seconds,
    Millis,
    /// `YYYY-MM-DD HH:MM:SS` (naive, treated as UTC).
    Space,
    /// RFC 3339.
    Rfc3339,
}

fn parse_time(s: &str) -> Option<(i64, TimeFormat)> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        // Unix seconds until about year 5138; larger numbers are milliseconds.
        return Some(if n.abs() >= 1e11 {
            (n as i64, TimeFormat::Millis)
        } else {
            ((n * 1000.0).round() as i64, TimeFormat::Seconds)
        });
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some((t.timestamp_millis(), TimeFormat::Rfc3339));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some((t.and_utc().timestamp_millis(), TimeFormat::Space));
        }
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some((
        d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis(),
        TimeFormat::Space,
    ))
}

fn format_time(ms: i64, f: TimeFormat) -> String {
    match f {
        TimeFormat::Millis => ms.to_string(),
        TimeFormat::Seconds if ms % 1000 == 0 => (ms / 1000).to_string(),
        TimeFormat::Seconds => format!("{}", ms as f64 / 1000.0),
        TimeFormat::Space | TimeFormat::Rfc3339 => {
            let t = DateTime::from_timestamp_millis(ms).unwrap_or_default();
            if f == TimeFormat::Space {
                t.format("%Y-%m-%d %H:%M:%S").to_string()
            } else {
                t.to_rfc3339()
            }
        }
    }
}

/// Reads `timestamp,value` rows (header skipped); empty or non-numeric values become gaps.
fn read_series(path: &Path) -> anyhow::Result<(Vec<Sample>, TimeFormat)> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("failed to open `{}`", path.display()))?;
    let mut samples = Vec::new();
    let mut format = None;
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("bad CSV row {} in `{}`", i + 2, path.display()))?;
        let (Some(ts), Some(v)) = (rec.get(0), rec.get(1)) else {
            bail!(
                "row {} of `{}` needs a timestamp and a value",
                i + 2,
                path.display()
            );
        };
        let (t, f) = parse_time(ts).with_context(|| {
            format!(
                "unreadable timestamp `{ts}` on row {} of `{}`",
                i + 2,
                path.display()
            )
        })?;
        format.get_or_insert(f);
        samples.push(Sample::new(t, v.trim().parse().unwrap_or(f64::NAN)));
    }
    let format = format.with_context(|| format!("`{}` has no rows", path.display()))?;
    Ok((samples, format))
}

/// A day and a week of steps, for steps that divide a day; a week for daily data.
fn default_periods(step: i64) -> Vec<usize> {
    if step <= 0 {
        return Vec::new();
    }
    if step < DAY_MS && DAY_MS % step == 0 {
        let day = (DAY_MS / step) as usize;
        vec![day, 7 * day]
    } else if step == DAY_MS {
        vec![7]
    } else {
        Vec::new()
    }
}

fn run_csv(args: &ForecastArgs) -> anyhow::Result<()> {
    let (samples, format) = read_series(&args.input)?;
    let grid = regularize(&samples, None)
        .with_context(|| format!("cannot place `{}` on a regular grid", args.input.display()))?;
    let periods = if args.periods.is_empty() {
        default_periods(grid.step)
    } else {
        args.periods.clone()
    };
    let values = if args.counter {
        unwrap_counter(&grid.values)
    } else {
        grid.values.clone()
    };
    let forecaster = AutoForecaster::new(AutoConfig::for_periods(&periods));
    let f = forecaster
        .forecast(&values, args.horizon, args.interval)
        .with_context(|| format!("failed to forecast `{}`", args.input.display()))?;
    let mut w = csv::Writer::from_path(&args.output)
        .with_context(|| format!("failed to create `{}`", args.output.display()))?;
    w.write_record(["timestamp", "yhat", "yhat_lower", "yhat_upper"])?;
    for i in 0..f.horizon() {
        let t = grid.end() + grid.step * (i as i64 + 1);
        w.write_record([
            format_time(t, format),
            f.point[i].to_string(),
            f.lower[i].to_string(),
            f.upper[i].to_string(),
        ])?;
    }
    w.flush()?;
    eprintln!(
        "model {}, backtest MASE {}, {} steps of {} s",
        f.model,
        f.backtest_mase.map_or("n/a".into(), |m| format!("{m:.3}")),
        f.horizon(),
        grid.step / 1000
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_in_their_own_format() {
        for s in [
            "1700000000",
            "1700000000000",
            "2024-03-01 12:00:00",
            "2024-03-01T12:00:00+00:00",
        ] {
            let (t, f) = parse_time(s).unwrap();
            assert_eq!(format_time(t, f), s);
        }
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn csv_forecast_writes_horizon_rows_with_ordered_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        let mut text = String::from("timestamp,value\n");
        for i in 0..24 * 14 {
            let v = 50.0 + 10.0 * ((i % 24) as f64 / 24.0 * std::f64::consts::TAU).sin();
            let v = if i % 17 == 0 {
                String::new()
            } else {
                v.to_string()
            };
            text.push_str(&format!("{},{v}\n", 1_700_000_000 + 3600 * i));
        }
        std::fs::write(&input, text).unwrap();
        let output = dir.path().join("out.csv");
        run(ForecastArgs {
            input,
            horizon: 24,
            interval: 0.95,
            output: output.clone(),
            m4: false,
            intervals_output: None,
            periods: vec![],
            counter: false,
        })
        .unwrap();
        let out = std::fs::read_to_string(output).unwrap();
        let rows: Vec<&str> = out.lines().collect();
        assert_eq!(rows[0], "timestamp,yhat,yhat_lower,yhat_upper");
        assert_eq!(rows.len(), 25);
        assert!(rows[1].starts_with(&(1_700_000_000 + 3600 * 24 * 14).to_string()));
        for r in &rows[1..] {
            let v: Vec<f64> = r.split(',').skip(1).map(|x| x.parse().unwrap()).collect();
            assert!(v[1] <= v[0] && v[0] <= v[2], "{r}");
        }
    }
}
