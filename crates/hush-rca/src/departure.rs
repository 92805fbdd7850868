//! Per-series departure: how far, and from when, a series left its normal band.
//!
//! The baseline is summarised by its median and a robust spread (the larger of IQR/1.349 and
//! 1.4826·MAD, as in BARO's robust scorer — Pham et al., FSE 2024). Short baselines cannot
//! estimate spread, so the spread has floors: a share of the median for unbounded signals and a
//! share of full scale for ratios. The departure of each incident point is `(x − median) / spread`
//! in the signal's bad direction; the series scores its largest departure and remembers the first
//! point that crossed the threshold.

use serde::Serialize;

use crate::series::{BadDirection, Series, SeriesKey};

/// A closed time range in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeRange {
    /// First second included.
    pub start: i64,
    /// Last second included.
    pub end: i64,
}

impl TimeRange {
    /// `[start, end]`.
    pub fn new(start: i64, end: i64) -> Self {
        Self { start, end }
    }
}

/// Settings of the departure scorer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepartureConfig {
    /// Spread floor as a share of |median| for unbounded signals.
    pub relative_floor: f64,
    /// Spread floor as a share of full scale for ratios (availability).
    pub ratio_floor: f64,
    /// Departure (in spreads) from which a point counts as abnormal.
    pub threshold: f64,
}

impl Default for DepartureConfig {
    fn default() -> Self {
        Self {
            relative_floor: 0.1,
            ratio_floor: 0.005,
            threshold: 3.0,
        }
    }
}

/// How one series departed during the incident window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Departure {
    /// The series.
    pub key: SeriesKey,
    /// Largest departure in the bad direction, in robust spreads (≥ 0).
    pub score: f64,
    /// Signed largest move (positive = rose), in spreads, for wording.
    pub signed: f64,
    /// When the largest departure happened.
    pub peak_at: i64,
    /// Value at the peak.
    pub peak_value: f64,
    /// First incident point at or above the threshold, if any.
    pub first_at: Option<i64>,
    /// Last incident point at or above the threshold, if any.
    pub last_at: Option<i64>,
    /// Every incident point at or above the threshold (for temporal precedence; not reported).
    #[serde(skip)]
    pub abnormal_at: Vec<i64>,
    /// Baseline median.
    pub baseline: f64,
    /// Robust spread used.
    pub spread: f64,
}

/// Scores one series; `None` when the baseline or the incident window has no finite value.
pub fn score_series(
    series: &Series,
    baseline: TimeRange,
    incident: TimeRange,
    cfg: &DepartureConfig,
) -> Option<Departure> {
    let mut base: Vec<f64> = series
        .values_in(baseline.start, baseline.end)
        .map(|(_, v)| v)
        .collect();
    if base.is_empty() {
        return None;
    }
    base.sort_unstable_by(f64::total_cmp);
    let median = quantile(&base, 0.5);
    let iqr = quantile(&base, 0.75) - quantile(&base, 0.25);
    let mut dev: Vec<f64> = base.iter().map(|v| (v - median).abs()).collect();
    dev.sort_unstable_by(f64::total_cmp);
    let mad = quantile(&dev, 0.5) * 1.4826;
    let floor = if series.key.kind.is_ratio() {
        let full = if base.iter().any(|v| *v > 1.0) {
            100.0
        } else {
            1.0
        };
        cfg.ratio_floor * full
    } else {
        cfg.relative_floor * median.abs()
    };
    let spread = (iqr / 1.349)
        .max(mad)
        .max(floor)
        .max(f64::MIN_POSITIVE * 1e6);

    let dir = series.key.kind.bad_direction();
    let mut best: Option<Departure> = None;
    let mut first_at = None;
    let mut last_at = None;
    let mut abnormal_at = Vec::new();
    for (t, v) in series.values_in(incident.start, incident.end) {
        let z = (v - median) / spread;
        let bad = match dir {
            BadDirection::Up => z,
            BadDirection::Down => -z,
            BadDirection::Both => z.abs(),
        }
        .max(0.0);
        if bad >= cfg.threshold {
            first_at = first_at.or(Some(t));
            last_at = Some(t);
            abnormal_at.push(t);
        }
        if best.as_ref().is_none_or(|b| bad > b.score) {
            best = Some(Departure {
                key: series.key.clone(),
                score: bad,
                signed: z,
                peak_at: t,
                peak_value: v,
                first_at: None,
                last_at: None,
                abnormal_at: Vec::new(),
                baseline: median,
                spread,
            });
        }
    }
    best.map(|mut d| {
        d.first_at = first_at;
        d.last_at = last_at;
        d.abnormal_at = abnormal_at;
        d
    })
}

/// Linear-interpolated quantile of sorted, non-empty data.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] * (1.0 - frac) + sorted[hi] * frac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::MetricKind;

    fn series(kind: MetricKind, values: &[f64]) -> Series {
        let times = (0..values.len() as i64).map(|i| i * 60).collect();
        Series::new(SeriesKey::new("svc", kind, "m"), times, values.to_vec())
    }

    #[test]
    fn flat_then_jump_departs_at_the_jump() {
        let mut v = vec![10.0, 10.5, 9.5, 10.0, 10.2, 9.8];
        v.extend([10.1, 30.0, 31.0]);
        let s = series(MetricKind::Latency, &v);
        let d = score_series(
            &s,
            TimeRange::new(0, 300),
            TimeRange::new(360, 480),
            &Default::default(),
        );
        let d = d.expect("scored");
        assert_eq!(d.first_at, Some(420));
        assert_eq!(d.last_at, Some(480));
        assert!(d.score > 10.0, "{}", d.score);
    }

    #[test]
    fn availability_drop_is_bad_but_rise_is_not() {
        let s = series(MetricKind::Availability, &[100.0, 100.0, 100.0, 95.0]);
        let cfg = DepartureConfig::default();
        let d = score_series(&s, TimeRange::new(0, 120), TimeRange::new(180, 180), &cfg);
        assert!(d.expect("scored").score >= 9.9);
        let s = series(MetricKind::Availability, &[90.0, 90.0, 90.0, 100.0]);
        let d = score_series(&s, TimeRange::new(0, 120), TimeRange::new(180, 180), &cfg);
        assert_eq!(d.expect("scored").score, 0.0);
    }

    #[test]
    fn missing_values_are_skipped_and_empty_windows_give_none() {
        let s = series(MetricKind::Latency, &[f64::NAN, 1.0, f64::NAN, 1.0]);
        let cfg = DepartureConfig::default();
        assert!(score_series(&s, TimeRange::new(0, 0), TimeRange::new(60, 180), &cfg).is_none());
        assert!(score_series(&s, TimeRange::new(0, 60), TimeRange::new(120, 120), &cfg).is_none());
        assert!(score_series(&s, TimeRange::new(0, 60), TimeRange::new(120, 180), &cfg).is_some());
    }

    #[test]
    fn constant_series_never_departs() {
        let s = series(MetricKind::Latency, &[2.0; 10]);
        let d = score_series(
            &s,
            TimeRange::new(0, 300),
            TimeRange::new(360, 540),
            &Default::default(),
        );
        assert_eq!(d.expect("scored").score, 0.0);
    }
}
