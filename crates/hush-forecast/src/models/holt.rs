//! Additive-error exponential smoothing without season (ETS A,N,N / A,A,N / A,Ad,N), fitted by a
//! deterministic grid search on the one-step sum of squared errors.
//!
//! Written here rather than taken from `augurs-ets` for speed: augurs runs Nelder–Mead (up to
//! 2,000 iterations) over parameters *and* initial states for six models, which dominated the
//! cost of automatic model choice. The additive models' states follow closed-form updates, so
//! one pass over the series scores a parameter set, and a fitted parameter set can be run on
//! to any later origin without refitting (see [`Holt::forecasts_at`]): the rolling-origin
//! backtest then costs one fit per candidate instead of one per origin.

use super::PointForecast;

/// Trend of an additive ETS model.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Trend {
    None,
    Linear,
    Damped(f64),
}

/// A fitted additive ETS model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Holt {
    alpha: f64,
    beta: f64,
    trend: Trend,
    /// Initial level and slope (the slope is 0 without trend).
    l0: f64,
    b0: f64,
    /// One-step residual standard deviation.
    sigma: f64,
}

/// Trials scored together in one pass over the series: independent recursions side by side
/// keep the CPU's pipelines full where one recursion would wait on each multiply-add.
const LANES: usize = 8;
/// Smoothing constants tried for the level.
const ALPHAS: [f64; LANES] = [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.95];
/// Slope smoothing as a fraction of alpha (beta <= alpha keeps the model forecastable).
const BETA_RATIOS: [f64; LANES] = [0.0, 0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5];
/// Factors around the best alpha for the final, finer search.
const SPREAD: [f64; LANES] = [0.6, 0.7, 0.8, 0.9, 1.1, 1.2, 1.35, 1.5];
/// Damping factors, in the usual admissible range [0.8, 0.98].
const PHIS: [f64; 4] = [0.8, 0.9, 0.95, 0.98];

impl Holt {
    fn phi(&self) -> f64 {
        match self.trend {
            Trend::Damped(p) => p,
            _ => 1.0,
        }
    }

    /// Runs the filter over `y`: calls `at(t, level, slope)` with the state after `t` values,
    /// for every `t` in `0..=y.len()`.
    fn run(&self, y: &[f64], mut at: impl FnMut(usize, f64, f64)) {
        let phi = self.phi();
        let (mut l, mut b) = (self.l0, self.b0);
        at(0, l, b);
        for (t, &v) in y.iter().enumerate() {
            let e = v - (l + phi * b);
            l += phi * b + self.alpha * e;
            b = phi * b + self.beta * e;
            at(t + 1, l, b);
        }
    }

    /// Number of estimated parameters, smoothing constants and initial states.
    fn k(&self) -> usize {
        match self.trend {
            Trend::None => 2,
            Trend::Linear => 4,
            Trend::Damped(_) => 5,
        }
    }

    /// Fits the three forms and keeps the best by AICc (Hyndman et al. 2008, ch. 7).
    ///
    /// Per form, a coordinate search in three batched passes: alpha on a grid, then beta at
    /// that alpha, then alpha again on a finer grid around the best.
    pub(super) fn fit(y: &[f64]) -> Result<Self, String> {
        let n = y.len();
        if n < 4 {
            return Err("needs at least 4 points".into());
        }
        // Initial states from the start of the series, not optimised: with hundreds of points
        // their influence fades, and leaving them out makes each trial a single pass.
        let k0 = (n / 4).clamp(1, 10);
        let slope0 = (y[k0] - y[0]) / k0 as f64;
        let nf = n as f64;
        let mut best: Option<(f64, Self)> = None;
        for trend in [Trend::None, Trend::Linear]
            .into_iter()
            .chain(PHIS.iter().map(|&p| Trend::Damped(p)))
        {
            let base = Self {
                alpha: 0.5,
                beta: 0.0,
                trend,
                l0: y[0],
                b0: if trend == Trend::None { 0.0 } else { slope0 },
                sigma: 0.0,
            };
            let ratio0 = if trend == Trend::None { 0.0 } else { 0.05 };
            let (mut m, mut sse) = best_of(
                y,
                ALPHAS.map(|a| Self {
                    alpha: a,
                    beta: a * ratio0,
                    ..base
                }),
            );
            if trend != Trend::None {
                (m, sse) = best_of(
                    y,
                    BETA_RATIOS.map(|r| Self {
                        beta: m.alpha * r,
                        ..m
                    }),
                );
            }
            let ratio = if m.alpha > 0.0 { m.beta / m.alpha } else { 0.0 };
            let (fine, fine_sse) = best_of(
                y,
                SPREAD.map(|f| {
                    let a = (m.alpha * f).clamp(0.001, 1.0);
                    Self {
                        alpha: a,
                        beta: a * ratio,
                        ..m
                    }
                }),
            );
            if fine_sse < sse {
                (m, sse) = (fine, fine_sse);
            }
            let k = m.k() as f64;
            if !sse.is_finite() || nf - k - 1.0 <= 0.0 {
                continue;
            }
            let aicc =
                nf * (sse.max(1e-300) / nf).ln() + 2.0 * k + 2.0 * k * (k + 1.0) / (nf - k - 1.0);
            if best.as_ref().is_none_or(|(b, _)| aicc < *b) {
                let sigma = (sse / (nf - k).max(1.0)).sqrt();
                best = Some((aicc, Self { sigma, ..m }));
            }
        }
        best.map(|(_, m)| m)
            .ok_or_else(|| "no admissible model".into())
    }

    /// The forecast of `h` steps from a state.
    fn forecast_from(&self, l: f64, b: f64, h: usize) -> PointForecast {
        let phi = self.phi();
        let mut point = Vec::with_capacity(h);
        let mut sd = Vec::with_capacity(h);
        // Variance of the h-step error for the additive class (Hyndman et al. 2008, 6.1):
        // sigma^2 (1 + sum_{j<h} c_j^2), c_j = alpha + beta (phi + ... + phi^j).
        let (mut damp_sum, mut c_sum, mut phi_j) = (0.0_f64, 0.0_f64, 1.0_f64);
        for _ in 0..h {
            phi_j *= phi;
            damp_sum += phi_j;
            point.push(l + damp_sum * b);
            sd.push(self.sigma * (1.0 + c_sum).sqrt());
            let c = self.alpha + self.beta * damp_sum;
            c_sum += c * c;
        }
        PointForecast { point, sd }
    }

    /// Forecasts of `h` steps from each origin in `origins` (numbers of values seen), with the
    /// fitted parameters, in one pass over `y`.
    pub(super) fn forecasts_at(
        &self,
        y: &[f64],
        origins: &[usize],
        h: usize,
    ) -> Vec<PointForecast> {
        let mut states = vec![(0.0, 0.0); origins.len()];
        self.run(y, |t, l, b| {
            for (o, s) in origins.iter().zip(states.iter_mut()) {
                if *o == t {
                    *s = (l, b);
                }
            }
        });
        states
            .into_iter()
            .map(|(l, b)| self.forecast_from(l, b, h))
            .collect()
    }

    /// A short name of the chosen form: `ANN`, `AAN`, `AAdN`.
    #[cfg(test)]
    fn form(&self) -> &'static str {
        match self.trend {
            Trend::None => "ANN",
            Trend::Linear => "AAN",
            Trend::Damped(_) => "AAdN",
        }
    }
}

/// The trial with the lowest one-step SSE on `y`, and that SSE; all scored in one pass.
fn best_of(y: &[f64], trials: [Holt; LANES]) -> (Holt, f64) {
    let phi = trials.map(|m| m.phi());
    let alpha = trials.map(|m| m.alpha);
    let beta = trials.map(|m| m.beta);
    let mut l = trials.map(|m| m.l0);
    let mut b = trials.map(|m| m.b0);
    let mut sse = [0.0; LANES];
    for &v in y {
        for i in 0..LANES {
            let pb = phi[i] * b[i];
            let e = v - (l[i] + pb);
            sse[i] += e * e;
            l[i] += pb + alpha[i] * e;
            b[i] = pb + beta[i] * e;
        }
    }
    let mut k = 0;
    for i in 1..LANES {
        // NaN (a diverging trial) never wins.
        if sse[i] < sse[k] || sse[k].is_nan() {
            k = i;
        }
    }
    (trials[k], sse[k])
}

/// Fits and forecasts `h` steps after `y`.
pub(super) fn holt(y: &[f64], h: usize) -> Result<PointForecast, String> {
    let m = Holt::fit(y)?;
    Ok(m.forecasts_at(y, &[y.len()], h).remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_trend_is_followed_and_a_level_is_held() {
        let y: Vec<f64> = (0..200)
            .map(|t| 5.0 + 0.5 * t as f64 + if t % 2 == 0 { 0.1 } else { -0.1 })
            .collect();
        let m = Holt::fit(&y).unwrap();
        assert_ne!(m.form(), "ANN");
        let f = holt(&y, 10).unwrap();
        // The next true values are 105.0, 105.5, ...: a trend model lands close.
        assert!((f.point[0] - 105.0).abs() < 1.0, "{:?}", f.point);
        assert!(f.point[9] > f.point[0] + 3.0);

        let flat: Vec<f64> = (0..200)
            .map(|t| 50.0 + ((t * 7919) % 13) as f64 / 13.0)
            .collect();
        let f = holt(&flat, 5).unwrap();
        assert!((f.point[4] - 50.5).abs() < 0.5, "{:?}", f.point);
        // The band widens with the horizon.
        assert!(f.sd[4] >= f.sd[0] && f.sd[0] > 0.0);
    }

    #[test]
    fn one_pass_forecasts_match_separate_filters() {
        let y: Vec<f64> = (0..120)
            .map(|t| (t as f64 * 0.3).sin() * 4.0 + t as f64 * 0.1)
            .collect();
        let m = Holt::fit(&y[..80]).unwrap();
        let runs = m.forecasts_at(&y, &[80, 100], 7);
        let direct = m.forecasts_at(&y[..100], &[100], 7).remove(0);
        assert_eq!(runs[1], direct);
        assert_eq!(runs[0], m.forecasts_at(&y[..80], &[80], 7).remove(0));
    }
}
