//! Hush's anomaly detection: streaming, per-series detectors that learn each series' normal
//! behaviour and say, for every point, how unusual it is, what was expected, and why.
//!
//! It owns the algorithms only: robust seasonal baselines, season detection, level-shift and
//! variance tests, score calibration, flatline and missing-data handling, and feedback that
//! moves a series' threshold. The engine feeds it live samples and stores what it says; the
//! offline `hush detect` command feeds it CSV files.
//!
//! **Invariant: no IO, no clock, no async.** Values in, values out; time is the order of
//! points. The model state of a series is the [`Detector`] itself, serialisable with serde.

mod calibrate;
mod config;
mod detector;
mod error;
mod explain;
pub mod season;

pub use calibrate::TailCalibrator;
pub use config::Config;
pub use detector::{Band, Detector, Outcome, Verdict};
pub use error::DetectError;
pub use explain::{Baseline, Explanation, Kind};
