//! Exponential smoothing through `augurs`: non-seasonal AutoETS, and MSTL with AutoETS on the
//! seasonally adjusted series.
//!
//! augurs' seasonal ETS is unimplemented (it panics), so seasonality is only ever handled by
//! MSTL here and AutoETS is always asked for a non-seasonal model (`ZZN`).

use augurs::ets::AutoETS;
use augurs::mstl::MSTLModel;
use augurs::{Fit, Forecast, Predict};

use super::PointForecast;

/// Level at which augurs is asked for intervals; only their width is kept, as a standard
/// deviation, so any level works.
const LEVEL: f64 = 0.95;
/// Normal quantile for [`LEVEL`].
const Z: f64 = 1.959_963_984_540_054;

fn auto_spec() -> Result<AutoETS, String> {
    AutoETS::new(1, "ZZN").map_err(|e| e.to_string())
}

fn to_point_forecast(f: Forecast, h: usize) -> Result<PointForecast, String> {
    let iv = f.intervals.ok_or("no intervals returned")?;
    if f.point.len() != h || iv.lower.len() != h || iv.upper.len() != h {
        return Err(format!("expected {h} steps, got {}", f.point.len()));
    }
    let sd = iv
        .lower
        .iter()
        .zip(&iv.upper)
        .map(|(l, u)| ((u - l) / (2.0 * Z)).max(0.0))
        .collect();
    Ok(PointForecast { point: f.point, sd })
}

pub(super) fn auto_ets(y: &[f64], h: usize) -> Result<PointForecast, String> {
    let fitted = auto_spec()?.fit(y).map_err(|e| e.to_string())?;
    let f = fitted.predict(h, LEVEL).map_err(|e| e.to_string())?;
    to_point_forecast(f, h)
}

pub(super) fn mstl_ets(y: &[f64], periods: &[usize], h: usize) -> Result<PointForecast, String> {
    let model = MSTLModel::new(periods.to_vec(), auto_spec()?.into_trend_model());
    let fitted = model.fit(y).map_err(|e| e.to_string())?;
    let f = fitted.predict(h, LEVEL).map_err(|e| e.to_string())?;
    to_point_forecast(f, h)
}
