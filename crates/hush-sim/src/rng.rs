//! Seeded randomness: one ChaCha8 stream per concern, and the few distributions the model needs.
//!
//! Every consumer (traffic, each counterfactual world, logs, traces, alerts) draws from its own
//! stream derived from the seed and a fixed stream name, so adding a log line never shifts the
//! traffic noise and the counterfactual worlds see exactly the same noise as the real one.

use rand::rngs::ChaCha8Rng;
use rand::{Rng as _, SeedableRng};

/// A deterministic random stream.
pub struct SimRng {
    inner: ChaCha8Rng,
    spare_normal: Option<f64>,
}

impl std::fmt::Debug for SimRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimRng")
    }
}

impl SimRng {
    /// The stream `name` of the simulation seeded with `seed`.
    pub fn stream(seed: u64, name: &str) -> Self {
        // FNV-1a over the name keeps streams independent and stable across builds.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&h.to_le_bytes());
        key[16..24].copy_from_slice(b"hush-sim");
        Self {
            inner: ChaCha8Rng::from_seed(key),
            spare_normal: None,
        }
    }

    /// A raw 64-bit draw (ids).
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub fn unit(&mut self) -> f64 {
        (self.inner.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in `[0, n)`; `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.unit() * n as f64) as usize).min(n.saturating_sub(1))
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// Standard normal (Box–Muller; the second value is kept for the next call).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (2.0 * std::f64::consts::PI * u2).sin_cos();
        self.spare_normal = Some(r * s);
        r * c
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// Poisson count with mean `lambda`: exact for small means, normal approximation above 30.
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 30.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as u64;
        }
        let l = (-lambda).exp();
        let mut k = 0u64;
        let mut p = 1.0;
        loop {
            p *= self.unit();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }
}

/// The error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7), enough for bucket shares.
pub fn erf(x: f64) -> f64 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-x * x).exp();
    sign * y
}

/// P(X ≤ x) for a log-normal with the given median and log-space sigma.
pub fn lognormal_cdf(x: f64, median: f64, sigma: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    0.5 * (1.0 + erf((x / median).ln() / (sigma * std::f64::consts::SQRT_2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4).map(|_| SimRng::stream(7, "x").next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            SimRng::stream(7, "x").next_u64(),
            SimRng::stream(7, "y").next_u64()
        );
        assert_ne!(
            SimRng::stream(7, "x").next_u64(),
            SimRng::stream(8, "x").next_u64()
        );
    }

    #[test]
    fn distributions_have_the_right_means() {
        let mut r = SimRng::stream(1, "t");
        let n = 20_000;
        let m: f64 = (0..n).map(|_| r.normal()).sum::<f64>() / n as f64;
        assert!(m.abs() < 0.05, "{m}");
        let p: f64 = (0..n).map(|_| r.poisson(4.0) as f64).sum::<f64>() / n as f64;
        assert!((p - 4.0).abs() < 0.1, "{p}");
        let e: f64 = (0..n).map(|_| r.exponential(2.0)).sum::<f64>() / n as f64;
        assert!((e - 2.0).abs() < 0.1, "{e}");
    }

    #[test]
    fn lognormal_cdf_is_half_at_the_median() {
        assert!((lognormal_cdf(0.1, 0.1, 0.5) - 0.5).abs() < 1e-9);
        assert!(lognormal_cdf(1.0, 0.1, 0.5) > 0.99);
        assert!((erf(1.0) - 0.842_700_79).abs() < 1e-6);
    }
}
