//! Hush's anomaly detection: streaming, per-series detectors that learn each series' normal
//! behaviour and say, for every point, how unusual it is, what was expected, and why.
//!
//! It owns the algorithms only: robust seasonal baselines, season detection, level-shift and
//! variance tests, score calibration, flatline and missing-data handling, and feedback that
//! moves a series' threshold; and an isolation forest across one service's metrics for
//! "each metric looks fine, the combination is wrong". The engine feeds it live samples and stores what it says; the
//! offline `hush detect` command feeds it CSV files.
//!
//! **Invariant: no IO, no clock, no async.** Values in, values out; time is the order of
//! points. The model state of a series is the [`Detector`] itself, serialisable with serde.
//!
//! ```
//! use hush_detect::{Config, Detector, Verdict};
//!
//! let mut d = Detector::new(Config::default()).unwrap();
//! for i in 0..1000 {
//!     d.step(Some(100.0 + (i % 7) as f64));
//! }
//! let out = d.step(Some(400.0));
//! assert!(out.anomaly);
//! println!("{}", out.explanation.unwrap()); // spike: ... sigma from expected (moving level)
//! // An operator says it was benign: the same pattern stops alerting.
//! d.feedback(Verdict::FalsePositive, out.score);
//! let state = serde_json::to_string(&d).unwrap(); // survives a restart
//! # let _ = state;
//! ```

mod calibrate;
mod config;
mod detector;
mod error;
mod explain;
mod multivariate;
mod nonfinite;
pub mod season;

pub use calibrate::TailCalibrator;
pub use config::Config;
pub use detector::{Band, Detector, Outcome, Verdict};
pub use error::DetectError;
pub use explain::{Baseline, Explanation, Kind};
pub use multivariate::{ForestConfig, IsolationForest};
