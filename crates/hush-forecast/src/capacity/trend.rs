//! The growth model behind capacity estimates: an additive daily (or other) profile, and a
//! straight line fitted to the seasonally adjusted values of the current regime only.
//!
//! Exhaustion dates depend on the slope far more than on anything else, and the slope that
//! matters is today's: a disk that filled fast last week and was cleaned up yesterday must not
//! be extrapolated from last week. So the line is fitted after the last break in the trend,
//! found as the best two-segment split by BIC (Schwarz 1978).

/// A fitted line with a seasonal profile, in grid steps.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendFit {
    /// Value of the line at step `origin`.
    pub intercept: f64,
    /// Growth per step.
    pub slope: f64,
    /// First step of the regime the line was fitted to.
    pub origin: usize,
    /// Number of points in that regime.
    pub points: usize,
    /// Mean of the regime's step indices, relative to `origin`.
    pub t_mean: f64,
    /// Sum of squared deviations of those indices.
    pub sxx: f64,
    /// Residual standard deviation, inflated for autocorrelation.
    pub sigma: f64,
    /// Additive seasonal offsets by phase (empty when no season is used).
    pub profile: Vec<f64>,
}

impl TrendFit {
    /// Expected value at grid step `t` (any step, past or future).
    pub fn mean_at(&self, t: usize) -> f64 {
        let season = if self.profile.is_empty() {
            0.0
        } else {
            self.profile[t % self.profile.len()]
        };
        self.intercept + self.slope * (t as f64 - self.origin as f64) + season
    }

    /// Standard deviation of a new observation at step `t`: noise plus line uncertainty.
    pub fn sd_at(&self, t: usize) -> f64 {
        let dt = t as f64 - self.origin as f64 - self.t_mean;
        let line_var =
            self.sigma.powi(2) * (1.0 / self.points as f64 + dt * dt / self.sxx.max(1e-12));
        (self.sigma.powi(2) + line_var).sqrt()
    }
}

/// Least-squares line through `(i, y[i])`: (intercept at 0, slope, residual sum of squares).
fn line(y: &[f64]) -> (f64, f64, f64) {
    let n = y.len() as f64;
    let tm = (n - 1.0) / 2.0;
    let ym = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, v) in y.iter().enumerate() {
        let dt = i as f64 - tm;
        sxy += dt * (v - ym);
        sxx += dt * dt;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let intercept = ym - slope * tm;
    let rss = y
        .iter()
        .enumerate()
        .map(|(i, v)| (v - intercept - slope * i as f64).powi(2))
        .sum();
    (intercept, slope, rss)
}

/// Additive profile by phase of residuals from a centred moving average of length `period`.
fn profile(y: &[f64], period: usize) -> Vec<f64> {
    let half = period / 2;
    let mut sums = vec![0.0; period];
    let mut counts = vec![0usize; period];
    let mut window: f64 = y[..period].iter().sum();
    // Moving average of `period` values starting at i, centred at i + half.
    for i in 0..=y.len() - period {
        if i > 0 {
            window += y[i + period - 1] - y[i - 1];
        }
        let centre = i + half;
        sums[centre % period] += y[centre] - window / period as f64;
        counts[centre % period] += 1;
    }
    let mut p: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| if c > 0 { s / c as f64 } else { 0.0 })
        .collect();
    let mean = p.iter().sum::<f64>() / period as f64;
    p.iter_mut().for_each(|v| *v -= mean);
    p
}

/// Start of the current regime: the split with the lowest BIC for two independent lines, if
/// it beats one line. Splits are tried on a coarse grid to keep this linear-ish in `n`.
fn regime_start(d: &[f64], min_seg: usize) -> usize {
    let n = d.len();
    if n < 2 * min_seg + 2 {
        return 0;
    }
    let bic = |rss: f64, k: f64| n as f64 * (rss / n as f64).max(1e-300).ln() + k * (n as f64).ln();
    let (_, _, rss1) = line(d);
    let mut best = (bic(rss1, 3.0), 0);
    let stride = ((n - 2 * min_seg) / 200).max(1);
    let mut b = min_seg;
    while b <= n - min_seg {
        let (_, _, left) = line(&d[..b]);
        let (_, _, right) = line(&d[b..]);
        // Two lines plus the break point: 4 coefficients, 1 variance, 1 location.
        let score = bic(left + right, 6.0);
        if score < best.0 {
            best = (score, b);
        }
        b += stride;
    }
    best.1
}

/// Fits the growth model to clean values `y` with a season of `period` steps (0 or 1: none).
pub fn fit(y: &[f64], period: usize) -> TrendFit {
    let use_season = period >= 2 && y.len() >= 2 * period;
    let prof = if use_season {
        profile(y, period)
    } else {
        Vec::new()
    };
    let d: Vec<f64> = y
        .iter()
        .enumerate()
        .map(|(t, v)| v - prof.get(t % period.max(1)).copied().unwrap_or(0.0))
        .collect();
    // A regime shorter than a season would let the daily swing pose as a trend.
    let min_seg = if use_season {
        period
    } else {
        8.min(y.len() / 2).max(2)
    };
    let origin = regime_start(&d, min_seg);
    let seg = &d[origin..];
    let (intercept, slope, rss) = line(seg);
    let m = seg.len() as f64;
    let resid: Vec<f64> = seg
        .iter()
        .enumerate()
        .map(|(i, v)| v - intercept - slope * i as f64)
        .collect();
    // Residuals of monitoring data are autocorrelated; scale by sqrt((1 + r1) / (1 - r1)), the
    // AR(1) effective-sample-size correction, so the range is not falsely narrow.
    let r1 = {
        let num: f64 = resid.windows(2).map(|w| w[0] * w[1]).sum();
        let den: f64 = resid.iter().map(|r| r * r).sum();
        if den > 0.0 {
            (num / den).clamp(0.0, 0.95)
        } else {
            0.0
        }
    };
    let sigma = (rss / (m - 2.0).max(1.0)).sqrt() * ((1.0 + r1) / (1.0 - r1)).sqrt();
    let t_mean = (m - 1.0) / 2.0;
    let sxx = (0..seg.len()).map(|i| (i as f64 - t_mean).powi(2)).sum();
    TrendFit {
        intercept,
        slope,
        origin,
        points: seg.len(),
        t_mean,
        sxx,
        sigma,
        profile: prof,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_slope_under_a_daily_cycle() {
        let y: Vec<f64> = (0..24 * 10)
            .map(|t| {
                100.0 + 0.5 * t as f64 + 10.0 * (t as f64 * std::f64::consts::TAU / 24.0).sin()
            })
            .collect();
        let f = fit(&y, 24);
        assert!((f.slope - 0.5).abs() < 0.01, "{f:?}");
        assert!((f.mean_at(240) - (100.0 + 120.0)).abs() < 1.0);
    }

    #[test]
    fn fits_only_the_regime_after_a_trend_change() {
        let y: Vec<f64> = (0..200)
            .map(|t| if t < 120 { t as f64 } else { 120.0 })
            .collect();
        let f = fit(&y, 0);
        assert!(f.origin >= 110 && f.origin <= 125, "{}", f.origin);
        assert!(f.slope.abs() < 0.05, "{}", f.slope);
    }
}
