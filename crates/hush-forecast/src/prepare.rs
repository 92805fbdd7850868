//! Turning raw values into something a model can fit: missing points, counter resets, constants.
//!
//! Monitoring data has holes (scrape failures, stale markers as NaN) and counters that drop to
//! zero when a process restarts. Models here want a contiguous run of finite numbers, so this
//! module decides once how those cases are treated and reports what it did.

use crate::error::{ForecastError, Result};

/// A series ready for fitting, and what preparing it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// Contiguous finite values: leading missing points dropped, interior gaps interpolated.
    pub values: Vec<f64>,
    /// Missing points at the end. The forecast origin is the last observed value, so the
    /// caller forecasts this many extra steps and drops them to stay aligned with the input.
    pub trailing_missing: usize,
    /// Interior points that were filled by interpolation.
    pub filled: usize,
}

impl Prepared {
    /// Fraction of the kept span that was filled rather than observed.
    pub fn filled_fraction(&self) -> f64 {
        if self.values.is_empty() {
            0.0
        } else {
            self.filled as f64 / self.values.len() as f64
        }
    }

    /// True when every kept value is the same (to a relative tolerance of 1e-12).
    pub fn is_constant(&self) -> bool {
        let Some(&first) = self.values.first() else {
            return false;
        };
        let tol = 1e-12 * first.abs().max(1.0);
        self.values.iter().all(|v| (v - first).abs() <= tol)
    }
}

/// Trims missing values (NaN or infinite) at both ends and fills interior gaps by linear
/// interpolation between the neighbouring observations.
///
/// Linear filling keeps level and trend; over a gap longer than a season it flattens the
/// seasonal shape, which the interval calibration then sees as larger backtest errors.
///
/// # Errors
/// [`ForecastError::NoData`] when no value is finite.
pub fn prepare(raw: &[f64]) -> Result<Prepared> {
    let first = raw.iter().position(|v| v.is_finite());
    let last = raw.iter().rposition(|v| v.is_finite());
    let (Some(first), Some(last)) = (first, last) else {
        return Err(ForecastError::NoData { len: raw.len() });
    };
    let mut values = raw[first..=last].to_vec();
    let mut filled = 0;
    let mut prev = 0; // index of the last finite value; values[0] is finite by construction
    for i in 1..values.len() {
        if values[i].is_finite() {
            let gap = i - prev;
            if gap > 1 {
                let (a, b) = (values[prev], values[i]);
                for (k, slot) in values[prev + 1..i].iter_mut().enumerate() {
                    let w = (k + 1) as f64 / gap as f64;
                    *slot = a + (b - a) * w;
                }
                filled += gap - 1;
            }
            prev = i;
        }
    }
    Ok(Prepared {
        values,
        trailing_missing: raw.len() - 1 - last,
        filled,
    })
}

/// Undoes counter resets: a drop in a monotonic counter means the process restarted and began
/// again from zero, so the increase over that step is the new value itself (Prometheus'
/// `increase()` semantics). Missing values stay missing and do not break the running offset.
pub fn unwrap_counter(raw: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(raw.len());
    let mut offset = 0.0;
    let mut prev: Option<f64> = None;
    for &v in raw {
        if !v.is_finite() {
            out.push(v);
            continue;
        }
        if let Some(p) = prev
            && v < p
        {
            offset += p;
        }
        prev = Some(v);
        out.push(v + offset);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interior_gaps_are_interpolated_and_ends_trimmed() {
        let p = prepare(&[f64::NAN, 1.0, f64::NAN, f64::NAN, 4.0, 5.0, f64::NAN]).unwrap();
        assert_eq!(p.values, vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(p.trailing_missing, 1);
        assert_eq!(p.filled, 2);
    }

    #[test]
    fn all_missing_is_an_error() {
        assert_eq!(
            prepare(&[f64::NAN, f64::INFINITY]),
            Err(ForecastError::NoData { len: 2 })
        );
        assert_eq!(prepare(&[]), Err(ForecastError::NoData { len: 0 }));
    }

    #[test]
    fn constant_is_detected() {
        assert!(prepare(&[3.0, 3.0, f64::NAN, 3.0]).unwrap().is_constant());
        assert!(!prepare(&[3.0, 3.1]).unwrap().is_constant());
    }

    #[test]
    fn counter_resets_are_unwrapped() {
        let y = unwrap_counter(&[10.0, 20.0, 5.0, f64::NAN, 15.0, 2.0]);
        assert_eq!(&y[..3], &[10.0, 20.0, 25.0]);
        assert!(y[3].is_nan());
        assert_eq!(&y[4..], &[35.0, 37.0]);
    }
}
