//! Functions over range vectors: `rate` and friends, and the `*_over_time` family.
//!
//! Samples handed in never contain stale markers (the evaluator drops them when it cuts the
//! window) and are ascending by time.

use hush_model::Sample;

use super::{Func, quantile};

/// The window a range vector was cut from, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    /// Start of the range (`t - offset - range`).
    pub start: i64,
    /// End of the range (`t - offset`).
    pub end: i64,
    /// The evaluation time itself, which `predict_linear` projects from.
    pub eval_t: i64,
}

/// Applies a range function to one series' samples. `None` means "no output for this series".
/// `arg` is the scalar parameter of `quantile_over_time` and `predict_linear`.
pub(crate) fn apply(func: Func, samples: &[Sample], w: Window, arg: f64) -> Option<f64> {
    let (first, last) = (samples.first()?, samples.last()?);
    Some(match func {
        Func::Rate => extrapolated_delta(samples, w, true, true)?,
        Func::Increase => extrapolated_delta(samples, w, true, false)?,
        Func::Delta => extrapolated_delta(samples, w, false, false)?,
        Func::Irate => instant_delta(samples, true)?,
        Func::Idelta => instant_delta(samples, false)?,
        Func::Resets => samples.windows(2).filter(|p| p[1].v < p[0].v).count() as f64,
        Func::Changes => samples
            .windows(2)
            .filter(|p| p[1].v != p[0].v && !(p[1].v.is_nan() && p[0].v.is_nan()))
            .count() as f64,
        Func::Deriv => {
            if samples.len() < 2 {
                return None;
            }
            linear_regression(samples, first.t).0
        }
        Func::PredictLinear => {
            if samples.len() < 2 {
                return None;
            }
            let (slope, intercept) = linear_regression(samples, w.eval_t);
            slope * arg + intercept
        }
        Func::AvgOverTime => avg(samples),
        Func::SumOverTime => samples.iter().map(|s| s.v).sum(),
        Func::MinOverTime => samples
            .iter()
            .fold(first.v, |m, s| if s.v < m || m.is_nan() { s.v } else { m }),
        Func::MaxOverTime => samples
            .iter()
            .fold(first.v, |m, s| if s.v > m || m.is_nan() { s.v } else { m }),
        Func::CountOverTime => samples.len() as f64,
        Func::LastOverTime => last.v,
        Func::StdvarOverTime => variance(samples),
        Func::StddevOverTime => variance(samples).sqrt(),
        Func::QuantileOverTime => {
            let mut vals: Vec<f64> = samples.iter().map(|s| s.v).collect();
            quantile(arg, &mut vals)
        }
        Func::PresentOverTime | Func::AbsentOverTime => 1.0,
        _ => return None,
    })
}

/// `rate`, `increase` and `delta`: the change over the window, extrapolated towards its edges
/// as Prometheus' `extrapolatedRate` does. Counters add back the value before each reset and are
/// never extrapolated below zero.
fn extrapolated_delta(
    samples: &[Sample],
    w: Window,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let (first, last) = (samples.first()?, samples.last()?);
    let mut result = last.v - first.v;
    if is_counter {
        let mut prev = 0.0;
        for s in samples {
            if s.v < prev {
                result += prev;
            }
            prev = s.v;
        }
    }
    let mut to_start = (first.t - w.start) as f64 / 1000.0;
    let to_end = (w.end - last.t) as f64 / 1000.0;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let avg_gap = sampled / (samples.len() - 1) as f64;
    if is_counter && result > 0.0 && first.v >= 0.0 {
        // A counter cannot have been below zero: stop extrapolating where it would reach it.
        let to_zero = sampled * (first.v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    // Extrapolate to an edge only if the gap to it is about one sample interval; otherwise the
    // series started or ended inside the window, so extend by half an interval.
    let threshold = avg_gap * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        avg_gap / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        avg_gap / 2.0
    };
    result *= interval / sampled;
    if is_rate {
        result /= (w.end - w.start) as f64 / 1000.0;
    }
    Some(result)
}

/// `irate` and `idelta`: from the last two samples only.
fn instant_delta(samples: &[Sample], is_rate: bool) -> Option<f64> {
    let [.., prev, last] = samples else {
        return None;
    };
    let mut result = if is_rate && last.v < prev.v {
        last.v
    } else {
        last.v - prev.v
    };
    let gap = last.t - prev.t;
    if gap == 0 {
        return None;
    }
    if is_rate {
        result /= gap as f64 / 1000.0;
    }
    Some(result)
}

/// Incremental mean that survives huge values, as Prometheus' `avg_over_time`.
fn avg(samples: &[Sample]) -> f64 {
    let mut mean: f64 = 0.0;
    let mut count = 0.0;
    for s in samples {
        count += 1.0;
        if mean.is_infinite() {
            if s.v.is_infinite() && (mean > 0.0) == (s.v > 0.0) {
                continue;
            }
            if !s.v.is_infinite() && !s.v.is_nan() {
                continue;
            }
        }
        mean += s.v / count - mean / count;
    }
    mean
}

/// Population variance (Welford).
fn variance(samples: &[Sample]) -> f64 {
    let (mut count, mut mean, mut m2) = (0.0, 0.0, 0.0);
    for s in samples {
        count += 1.0;
        let delta = s.v - mean;
        mean += delta / count;
        m2 += delta * (s.v - mean);
    }
    m2 / count
}

/// Least-squares slope (per second) and intercept at `intercept_t`.
fn linear_regression(samples: &[Sample], intercept_t: i64) -> (f64, f64) {
    let init = samples.first().map_or(f64::NAN, |s| s.v);
    if samples.iter().all(|s| s.v == init) {
        // A constant series has slope 0 exactly; avoid rounding noise.
        return if init.is_infinite() {
            (f64::NAN, f64::NAN)
        } else {
            (0.0, init)
        };
    }
    let (mut n, mut sx, mut sy, mut sxy, mut sx2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for s in samples {
        let x = (s.t - intercept_t) as f64 / 1000.0;
        n += 1.0;
        sx += x;
        sy += s.v;
        sxy += x * s.v;
        sx2 += x * x;
    }
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    (slope, sy / n - slope * sx / n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(points: &[(i64, f64)]) -> Vec<Sample> {
        points.iter().map(|&(t, v)| Sample::new(t, v)).collect()
    }

    fn w(start: i64, end: i64) -> Window {
        Window {
            start,
            end,
            eval_t: end,
        }
    }

    #[test]
    fn rate_extrapolates_to_window_edges() {
        // Window (0, 60s]; samples every 15s at 15..60 rising by 15/step: 45 over 45s.
        // Gap to start 15s < 1.1*15: extend to 60s sampled -> 60 increase, /60s = 1/s.
        let x = s(&[
            (15_000, 15.0),
            (30_000, 30.0),
            (45_000, 45.0),
            (60_000, 60.0),
        ]);
        assert_eq!(apply(Func::Increase, &x, w(0, 60_000), 0.0), Some(60.0));
        assert_eq!(apply(Func::Rate, &x, w(0, 60_000), 0.0), Some(1.0));
    }

    #[test]
    fn rate_does_not_extrapolate_counter_below_zero() {
        // first value 5 at 15s, 20 at 30s, 35 at 45s: result 30 over 30s, avg gap 15s.
        // to_start 15s, but the counter hits zero 30*(5/30)=5s before first: interval 30+5+(to_end 15)=50.
        let x = s(&[(15_000, 5.0), (30_000, 20.0), (45_000, 35.0)]);
        let got = apply(Func::Increase, &x, w(0, 60_000), 0.0).unwrap();
        assert!((got - 30.0 * 50.0 / 30.0).abs() < 1e-9, "{got}");
    }

    #[test]
    fn rate_extends_half_interval_when_series_starts_inside_window() {
        // Samples at 100s..130s every 10s in a 300s window ending at 140s (start -160s).
        // to_start 260s > 11s threshold -> +5s; to_end 10s < 11s -> +10s; interval 45s.
        let x = s(&[
            (100_000, 0.0),
            (110_000, 10.0),
            (120_000, 20.0),
            (130_000, 30.0),
        ]);
        let got = apply(Func::Delta, &x, w(-160_000, 140_000), 0.0).unwrap();
        assert!((got - 30.0 * 45.0 / 30.0).abs() < 1e-9, "{got}");
    }

    #[test]
    fn counter_reset_adds_previous_value() {
        // 10, 20, 5 (reset), 15: increase = (15-10) + 20 = 25 over sampled 30s; edges exact.
        let x = s(&[(0, 10.0), (10_000, 20.0), (20_000, 5.0), (30_000, 15.0)]);
        let got = apply(Func::Increase, &x, w(0, 30_000), 0.0).unwrap();
        assert!((got - 25.0).abs() < 1e-9, "{got}");
        // delta ignores resets: 15-10 = 5
        assert_eq!(apply(Func::Delta, &x, w(0, 30_000), 0.0), Some(5.0));
        assert_eq!(apply(Func::Resets, &x, w(0, 30_000), 0.0), Some(1.0));
        assert_eq!(apply(Func::Changes, &x, w(0, 30_000), 0.0), Some(3.0));
    }

    #[test]
    fn rate_needs_two_samples() {
        assert_eq!(apply(Func::Rate, &s(&[(0, 1.0)]), w(0, 10_000), 0.0), None);
        assert_eq!(apply(Func::Irate, &s(&[(0, 1.0)]), w(0, 10_000), 0.0), None);
    }

    #[test]
    fn irate_and_idelta_use_last_two_samples() {
        let x = s(&[(0, 1.0), (10_000, 5.0), (15_000, 15.0)]);
        assert_eq!(apply(Func::Irate, &x, w(0, 15_000), 0.0), Some(2.0));
        assert_eq!(apply(Func::Idelta, &x, w(0, 15_000), 0.0), Some(10.0));
        // reset: irate takes the new value as the increase
        let r = s(&[(0, 10.0), (5_000, 4.0)]);
        assert_eq!(apply(Func::Irate, &r, w(0, 5_000), 0.0), Some(0.8));
        assert_eq!(apply(Func::Idelta, &r, w(0, 5_000), 0.0), Some(-6.0));
    }

    #[test]
    fn over_time_family() {
        let x = s(&[
            (0, 2.0),
            (1, 4.0),
            (2, 4.0),
            (3, 4.0),
            (4, 5.0),
            (5, 5.0),
            (6, 7.0),
            (7, 9.0),
        ]);
        let win = w(0, 7);
        assert_eq!(apply(Func::AvgOverTime, &x, win, 0.0), Some(5.0));
        assert_eq!(apply(Func::SumOverTime, &x, win, 0.0), Some(40.0));
        assert_eq!(apply(Func::MinOverTime, &x, win, 0.0), Some(2.0));
        assert_eq!(apply(Func::MaxOverTime, &x, win, 0.0), Some(9.0));
        assert_eq!(apply(Func::CountOverTime, &x, win, 0.0), Some(8.0));
        assert_eq!(apply(Func::LastOverTime, &x, win, 0.0), Some(9.0));
        // the textbook population variance of this set is 4
        assert_eq!(apply(Func::StdvarOverTime, &x, win, 0.0), Some(4.0));
        assert_eq!(apply(Func::StddevOverTime, &x, win, 0.0), Some(2.0));
        // q=0.5 over 8 values: rank 3.5 between 4 and 5
        assert_eq!(apply(Func::QuantileOverTime, &x, win, 0.5), Some(4.5));
        assert_eq!(apply(Func::PresentOverTime, &x, win, 0.0), Some(1.0));
    }

    #[test]
    fn min_over_time_skips_leading_nan() {
        let x = s(&[(0, f64::NAN), (1, 3.0), (2, 1.0)]);
        assert_eq!(apply(Func::MinOverTime, &x, w(0, 2), 0.0), Some(1.0));
    }

    #[test]
    fn deriv_and_predict_linear() {
        // v = 2 + 0.5 * seconds
        let x = s(&[(0, 2.0), (10_000, 7.0), (20_000, 12.0)]);
        let d = apply(Func::Deriv, &x, w(0, 20_000), 0.0).unwrap();
        assert!((d - 0.5).abs() < 1e-12);
        // at eval 20s the fitted value is 12; 60s later 12 + 30 = 42
        let p = apply(Func::PredictLinear, &x, w(0, 20_000), 60.0).unwrap();
        assert!((p - 42.0).abs() < 1e-9, "{p}");
    }
}
