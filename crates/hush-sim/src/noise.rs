//! Load and noise that every world shares: seasonal traffic, slow drifts, bursts and blips.
//!
//! Drawn once per tick, independently of any state, so that the real world and each
//! counterfactual world (see [`crate::world`]) experience exactly the same background.

use crate::estate::Estate;
use crate::rng::SimRng;

/// Requests per second at the gateway at the daily peak of an ordinary weekday.
pub const PEAK_RPS: f64 = 320.0;

/// Share of the daily peak at hour-of-day `h` (UTC, fractional): quiet at 04:00, a lunch peak
/// and a larger evening peak, as online shops see.
pub fn daily_shape(h: f64) -> f64 {
    let bump = |centre: f64, width: f64| {
        let mut d = (h - centre).abs();
        d = d.min(24.0 - d);
        (-0.5 * (d / width).powi(2)).exp()
    };
    (0.12 + 0.30 * bump(9.5, 2.0) + 0.62 * bump(13.0, 2.5) + 0.88 * bump(20.5, 2.4)).min(1.05)
}

/// Weekly factor for day `d` (0 = Monday): weekends busier, Friday evening quieter.
pub fn weekly_factor(d: u32) -> f64 {
    [1.0, 0.98, 0.97, 1.0, 0.93, 1.18, 1.12][d as usize % 7]
}

/// Seasonal mean traffic multiplier at `t_ms` (epoch ms), smooth across midnight.
pub fn seasonal(t_ms: i64) -> f64 {
    let day_ms = 86_400_000i64;
    let days = t_ms.div_euclid(day_ms);
    let h = t_ms.rem_euclid(day_ms) as f64 / 3_600_000.0;
    // 1970-01-01 was a Thursday, so Monday is day 4 of the epoch week.
    let dow = (days + 3).rem_euclid(7) as u32;
    let w = weekly_factor(dow) * (1.0 - h / 24.0) + weekly_factor(dow + 1) * (h / 24.0);
    daily_shape(h) * w
}

/// The shared random inputs of one tick.
#[derive(Debug, Clone)]
pub struct TickNoise {
    /// Multiplier on gateway traffic (seasonality × drift × bursts).
    pub traffic: f64,
    /// Per service, per instance: share of load (sums to about 1 per service after scaling).
    pub share: Vec<Vec<f64>>,
    /// Per service, per instance: multiplier on its own latency (drift, blips).
    pub latency: Vec<Vec<f64>>,
    /// Per service, per instance: multiplier on its base error rate.
    pub error: Vec<Vec<f64>>,
    /// Whether a marketing burst is under way (reported in truth as background).
    pub burst: f64,
}

/// Generates [`TickNoise`], keeping the slow-moving parts (drift, bursts, blips) as state.
#[derive(Debug)]
pub struct NoiseGen {
    rng: SimRng,
    step_ms: i64,
    drift: f64,
    burst: f64,
    lat_drift: Vec<Vec<f64>>,
    blip: Vec<Vec<f64>>,
}

impl NoiseGen {
    /// A generator for `estate` with ticks `step_ms` apart.
    pub fn new(seed: u64, estate: &Estate, step_ms: i64) -> Self {
        let shape = |v: f64| {
            estate
                .services
                .iter()
                .map(|s| vec![v; s.instances.len()])
                .collect::<Vec<_>>()
        };
        Self {
            rng: SimRng::stream(seed, "noise"),
            step_ms,
            drift: 0.0,
            burst: 0.0,
            lat_drift: shape(0.0),
            blip: shape(0.0),
        }
    }

    /// Draws the noise of the tick at `t_ms`.
    pub fn next(&mut self, t_ms: i64) -> TickNoise {
        let step_min = self.step_ms as f64 / 60_000.0;
        // AR(1) in log space with a 20-minute memory and 6 % stationary spread.
        let phi = (-step_min / 20.0).exp();
        self.drift = phi * self.drift + 0.06 * (1.0 - phi * phi).sqrt() * self.rng.normal();
        // Bursts (a newsletter, a flash sale): about one every four hours, +40–120 %, fading
        // with a 10-minute time constant.
        self.burst *= (-step_min / 10.0).exp();
        if self.rng.chance(step_min / 240.0) {
            self.burst += self.rng.uniform(0.4, 1.2);
        }
        let traffic = seasonal(t_ms)
            * self.drift.exp()
            * (1.0 + self.burst)
            * (1.0 + 0.02 * self.rng.normal());
        let lphi = (-step_min / 8.0).exp();
        let mut share = Vec::with_capacity(self.blip.len());
        let mut latency = Vec::with_capacity(self.blip.len());
        let mut error = Vec::with_capacity(self.blip.len());
        for (drifts, blips) in self.lat_drift.iter_mut().zip(self.blip.iter_mut()) {
            let n = drifts.len();
            let mut sh = Vec::with_capacity(n);
            let mut la = Vec::with_capacity(n);
            let mut er = Vec::with_capacity(n);
            for (d, b) in drifts.iter_mut().zip(blips.iter_mut()) {
                *d = lphi * *d + 0.08 * (1.0 - lphi * lphi).sqrt() * self.rng.normal();
                // Blips: GC pauses, a slow node, a cold cache; about one per instance a day,
                // 2–6× for a minute or two. They are background, never an incident.
                *b *= (-step_min / 1.0).exp();
                if self.rng.chance(step_min / 1440.0) {
                    *b += self.rng.uniform(1.0, 5.0);
                }
                sh.push((1.0 + 0.05 * self.rng.normal()).max(0.5) / n as f64);
                la.push(d.exp() * (1.0 + *b));
                er.push((1.0 + 0.5 * self.rng.normal()).max(0.0) * (1.0 + 3.0 * *b));
            }
            share.push(sh);
            latency.push(la);
            error.push(er);
        }
        TickNoise {
            traffic,
            share,
            latency,
            error,
            burst: self.burst,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn night_is_quieter_than_evening() {
        assert!(daily_shape(4.0) < 0.3 * daily_shape(20.5));
        assert!(daily_shape(13.0) > daily_shape(16.0));
        assert!((daily_shape(0.0) - daily_shape(24.0)).abs() < 1e-12);
    }

    #[test]
    fn weekends_are_busier_and_midnight_is_continuous() {
        // 2026-03-07 is a Saturday; 2026-03-04 a Wednesday.
        let sat = 1_772_841_600_000 + 20 * 3_600_000;
        let wed = 1_772_582_400_000 + 20 * 3_600_000;
        assert!(seasonal(sat) > seasonal(wed) * 1.1);
        let midnight = 1_772_841_600_000;
        assert!((seasonal(midnight - 1) - seasonal(midnight)).abs() < 1e-6);
    }

    #[test]
    fn noise_is_reproducible() {
        let e = Estate::shop();
        let mut a = NoiseGen::new(3, &e, 15_000);
        let mut b = NoiseGen::new(3, &e, 15_000);
        for k in 0..50 {
            let (x, y) = (a.next(k * 15_000), b.next(k * 15_000));
            assert_eq!(x.traffic, y.traffic);
            assert_eq!(x.latency, y.latency);
        }
    }
}
