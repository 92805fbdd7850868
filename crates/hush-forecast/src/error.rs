//! The one error type of the crate.

/// Why a forecast or a capacity estimate could not be produced.
///
/// Variants carry the values that caused them so a caller can say which series failed and why.
/// Errors from `augurs` are flattened to text here: its error types are not all `Send`, and the
/// engine moves these errors across threads.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    /// The series holds no finite value at all (empty, or every point missing).
    #[error("series has no finite values ({len} points, all missing)")]
    NoData {
        /// Number of points given, all of them missing.
        len: usize,
    },
    /// Too few finite values to fit even the simplest model.
    #[error("series has {observed} finite values, at least {min} are needed")]
    TooShort {
        /// Finite values found.
        observed: usize,
        /// Finite values required.
        min: usize,
    },
    /// A horizon of zero steps was asked for.
    #[error("horizon must be at least 1 step, got {0}")]
    InvalidHorizon(usize),
    /// An interval level outside (0, 1).
    #[error("interval level must be strictly between 0 and 1, got {0}")]
    InvalidLevel(f64),
    /// A seasonal period below 2.
    #[error("seasonal period must be at least 2, got {0}")]
    InvalidPeriod(usize),
    /// One model could not be fitted to this series.
    #[error("model `{model}` failed: {reason}")]
    Model {
        /// The model's name, e.g. `mstl_ets(24,168)`.
        model: String,
        /// What went wrong, as reported by the model.
        reason: String,
    },
    /// No candidate model could be fitted; `last` is the last failure seen.
    #[error("no candidate model could be fitted to a series of {len} points: {last}")]
    NoModel {
        /// Length of the prepared series.
        len: usize,
        /// The last model failure.
        last: String,
    },
    /// A capacity limit that is not a finite number.
    #[error("capacity limit must be finite, got {0}")]
    InvalidLimit(f64),
    /// Timestamps spread so far apart that the regular grid would be unreasonably long.
    #[error("samples span {steps} steps, more than the {max} allowed")]
    GridTooLarge {
        /// Steps the grid would need.
        steps: usize,
        /// The most allowed.
        max: usize,
    },
    /// A sampling step that is not a positive duration.
    #[error("sampling step must be positive, got {0} ms")]
    InvalidStep(i64),
}

/// Shorthand used across the crate.
pub type Result<T> = std::result::Result<T, ForecastError>;
