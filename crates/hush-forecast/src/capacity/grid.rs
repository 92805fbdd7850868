//! From timestamped samples to the regular grid the models need.

use hush_model::{Sample, Timestamp};

use crate::error::{ForecastError, Result};

/// Longest grid [`regularize`] builds; a stray timestamp years away must not allocate gigabytes.
pub const MAX_GRID: usize = 2_000_000;

/// Values on a regular time grid: `values[i]` is the value at `start + i * step`, NaN if absent.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Time of the first value, in milliseconds since the Unix epoch.
    pub start: Timestamp,
    /// Distance between values, in milliseconds.
    pub step: i64,
    /// One value per step; NaN where no sample fell.
    pub values: Vec<f64>,
}

impl Grid {
    /// Time of the value at `index`.
    pub fn time_at(&self, index: usize) -> Timestamp {
        self.start
            .saturating_add(self.step.saturating_mul(index as i64))
    }

    /// Time of the last step.
    pub fn end(&self) -> Timestamp {
        self.time_at(self.values.len().saturating_sub(1))
    }
}

/// Median of the positive gaps between consecutive timestamps, the natural step of a series.
pub fn infer_step(samples: &[Sample]) -> Option<i64> {
    let mut times: Vec<Timestamp> = samples.iter().map(|s| s.t).collect();
    times.sort_unstable();
    let mut gaps: Vec<i64> = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|g| *g > 0)
        .collect();
    if gaps.is_empty() {
        return None;
    }
    let mid = gaps.len() / 2;
    Some(*gaps.select_nth_unstable(mid).1)
}

/// Places samples on a grid of `step` ms (inferred when `None`) starting at the earliest
/// sample. Each sample goes to the nearest step; when several share one, the latest wins.
///
/// # Errors
/// [`ForecastError::NoData`] without samples, [`ForecastError::InvalidStep`] for a step that is
/// not positive or cannot be inferred, [`ForecastError::TooShort`] when the span would need
/// more than [`MAX_GRID`] steps.
pub fn regularize(samples: &[Sample], step: Option<i64>) -> Result<Grid> {
    let step = match step.or_else(|| infer_step(samples)) {
        Some(s) if s > 0 => s,
        Some(s) => return Err(ForecastError::InvalidStep(s)),
        None if samples.is_empty() => return Err(ForecastError::NoData { len: 0 }),
        None => return Err(ForecastError::InvalidStep(0)),
    };
    let mut sorted = samples.to_vec();
    sorted.sort_by_key(|s| s.t);
    let (Some(first), Some(last)) = (sorted.first(), sorted.last()) else {
        return Err(ForecastError::NoData { len: 0 });
    };
    let start = first.t;
    let span = (i128::from(last.t) - i128::from(start)) / i128::from(step);
    let len = usize::try_from(span + 1).unwrap_or(usize::MAX);
    if len > MAX_GRID {
        return Err(ForecastError::GridTooLarge {
            steps: len,
            max: MAX_GRID,
        });
    }
    let mut values = vec![f64::NAN; len];
    for s in &sorted {
        let offset = i128::from(s.t) - i128::from(start);
        let idx = ((offset + i128::from(step) / 2) / i128::from(step)) as usize;
        if let Some(slot) = values.get_mut(idx.min(len - 1)) {
            *slot = s.v;
        }
    }
    Ok(Grid {
        start,
        step,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_become_nan_and_jitter_snaps_to_the_grid() {
        let s = [
            Sample::new(0, 1.0),
            Sample::new(61_000, 2.0),
            Sample::new(180_000, 4.0),
        ];
        let g = regularize(&s, Some(60_000)).unwrap();
        assert_eq!(g.values.len(), 4);
        assert_eq!(g.values[1], 2.0);
        assert!(g.values[2].is_nan());
        assert_eq!(g.end(), 180_000);
    }

    #[test]
    fn a_far_away_timestamp_is_refused_not_allocated() {
        let s = [Sample::new(0, 1.0), Sample::new(i64::MAX, 2.0)];
        assert!(matches!(
            regularize(&s, Some(1)),
            Err(ForecastError::GridTooLarge { .. })
        ));
        assert_eq!(regularize(&[], None), Err(ForecastError::NoData { len: 0 }));
    }
}
