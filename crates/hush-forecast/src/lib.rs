//! Forecasting and capacity planning for Hush: forecasts with prediction intervals for any
//! series, automatic model choice per series, and time to exhaustion against a limit.
//!
//! - [`AutoForecaster`] fits every candidate [`ModelSpec`] (seasonal naive, ETS, MSTL + ETS,
//!   Theta) in a rolling-origin backtest, keeps the best, and sizes the interval from the
//!   backtest errors (split conformal), so bands are honest per series.
//! - [`prepare`] handles gaps (NaN), and [`unwrap_counter`] counter resets, before fitting.
//! - [`capacity`] answers "when does this resource run out, how sure are we, what to add", and
//!   decides when a predictive alert should fire and when it should clear.
//!
//! **Invariant:** hush-forecast does no IO, no clock, no async. Values come in as slices, the
//! current time comes in as an argument, and results come back as values. The engine decides
//! when to call it and where the data come from; `hush-eval` drives it from files.
//!
//! Forecasting works on a regular grid: one value per step, NaN where a step is missing.
//! [`capacity::regularize`] turns timestamped samples into that grid.

pub mod auto;
pub mod capacity;
mod error;
pub mod interval;
pub mod models;
mod prepare;

pub use auto::{AutoConfig, AutoForecaster};
pub use error::{ForecastError, Result};
/// The vocabulary crate, re-exported so callers name the same `Sample` type.
pub use hush_model;
pub use models::{ModelSpec, PointForecast};
pub use prepare::{Prepared, prepare, unwrap_counter};

/// A forecast with a central prediction interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// Point forecasts, one per step after the last input step.
    pub point: Vec<f64>,
    /// Lower bound of the interval at each step.
    pub lower: Vec<f64>,
    /// Upper bound of the interval at each step.
    pub upper: Vec<f64>,
    /// Nominal coverage of `[lower, upper]`, e.g. 0.95.
    pub level: f64,
    /// The model or models used, `+`-joined when several are averaged: `snaive(24)+theta(24)`.
    pub model: String,
    /// Mean absolute scaled error of the chosen models in the backtest, if one could be run.
    pub backtest_mase: Option<f64>,
    /// True when the interval width comes from backtest errors rather than the model alone.
    pub calibrated: bool,
}

impl Forecast {
    /// The forecast for a series that never moved: the same value, with a zero-width interval,
    /// because the history holds no evidence of any variation.
    pub fn constant(value: f64, horizon: usize, level: f64) -> Self {
        Self {
            point: vec![value; horizon],
            lower: vec![value; horizon],
            upper: vec![value; horizon],
            level,
            model: "constant".into(),
            backtest_mase: None,
            calibrated: false,
        }
    }

    /// Number of steps forecast.
    pub fn horizon(&self) -> usize {
        self.point.len()
    }
}

/// Something that forecasts a regular series: the boundary the engine and the CLI use, so a
/// model outside this crate (Prophet behind a feature, a remote service) can slot in.
pub trait Forecaster {
    /// Forecasts `horizon` steps after the last element of `values` (NaN marks a missing step)
    /// with a central interval at `level` (0 < level < 1).
    ///
    /// # Errors
    /// [`ForecastError`] for an invalid horizon or level, a series with no or too few finite
    /// values, or when no model can be fitted.
    fn forecast(&self, values: &[f64], horizon: usize, level: f64) -> Result<Forecast>;
}
