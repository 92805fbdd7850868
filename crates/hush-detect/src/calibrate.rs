//! Turning a raw deviation into a probability that means the same on every series.
//!
//! Each feature keeps a decayed histogram of its own past values on a log scale. The tail
//! probability of a new value is its rank among those values (with the +1 of a rank p-value, so
//! a short history can never claim more certainty than it has), extended by a power law past
//! the largest value seen. This is the idea behind Elastic ML's normalised scores: a score is a
//! statement about how rare the value is *for this series*, not about its units.

use serde::{Deserialize, Serialize};

const BINS: usize = 64;
/// Bits of a bin index (`BINS` = 2^6).
const BIN_BITS: u32 = 6;
const _: () = assert!(1 << BIN_BITS == BINS);
/// Values below this share bin 0.
const LO_LOG2: f64 = -4.0;
/// Bins per doubling of the value.
const PER_OCTAVE: f64 = 4.0;
/// Weights grow instead of old counts shrinking; rescale before they overflow.
const RESCALE_AT: f64 = 1e200;

/// A decayed log-scale histogram giving tail probabilities of non-negative values.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TailCalibrator {
    counts: Vec<f64>,
    /// Fenwick tree over `counts` (node `i` at index `i - 1`), so tails and quantiles cost
    /// a handful of additions instead of a pass over every bin.
    tree: Vec<f64>,
    total: f64,
    weight: f64,
    max_seen: f64,
    /// Per-observation growth of the weight: `1 / decay`.
    growth: f64,
}

fn bin_of(v: f64) -> (usize, f64) {
    if v.is_nan() || v <= 0.0 {
        return (0, 0.0);
    }
    let pos = (v.log2() - LO_LOG2) * PER_OCTAVE;
    if pos < 0.0 {
        return (0, 0.0);
    }
    if pos >= (BINS - 2) as f64 {
        // The open-ended top bin (also for an infinite `v`).
        return (BINS - 1, 0.0);
    }
    // `pos` is in [0, 62) here, so truncation to `u32` is the floor, and a cheaper cast than
    // to `usize` (which x86-64 has no single instruction for).
    let whole = pos as u32;
    let b = f64::from(whole);
    (whole as usize + 1, pos - b)
}

impl TailCalibrator {
    /// A calibrator that forgets with half-life `half_life` observations.
    pub fn new(half_life: f64) -> Self {
        let decay = 0.5f64.powf(1.0 / half_life.max(1.0));
        Self {
            counts: vec![0.0; BINS],
            tree: vec![0.0; BINS],
            total: 0.0,
            weight: 1.0,
            max_seen: 0.0,
            growth: 1.0 / decay,
        }
    }

    /// Number of observations, in units of the newest one's weight.
    pub fn effective_count(&self) -> f64 {
        self.total / self.weight
    }

    /// Probability of a value at least as large as `v` under the history (not including `v`).
    pub fn tail(&self, v: f64, tail_exponent: f64) -> f64 {
        let (idx, frac) = bin_of(v);
        self.tail_in(v, idx, frac, tail_exponent)
    }

    /// [`Self::tail`] of `v`, then [`Self::observe`] of it, placing `v` in its bin once (the
    /// logarithm is most of the cost of either).
    pub fn tail_then_observe(&mut self, v: f64, tail_exponent: f64) -> f64 {
        let (idx, frac) = bin_of(v);
        let p = self.tail_in(v, idx, frac, tail_exponent);
        self.observe_in(v, idx);
        p
    }

    fn tail_in(&self, v: f64, idx: usize, frac: f64, tail_exponent: f64) -> f64 {
        let own = self.counts.get(idx).copied().unwrap_or(0.0);
        let above = (self.total - self.prefix(idx)).max(0.0) + own * (1.0 - frac);
        let p = (above + self.weight) / (self.total + self.weight);
        if v > self.max_seen && self.max_seen > 0.0 {
            // Past every recorded value the rank is 1/(n+1) whatever the margin; a power law
            // lets a value far beyond the record be rarer than one just past it.
            p * (self.max_seen / v).powf(tail_exponent)
        } else {
            p
        }
    }

    /// Records `v`.
    pub fn observe(&mut self, v: f64) {
        let (idx, _) = bin_of(v);
        self.observe_in(v, idx);
    }

    fn observe_in(&mut self, v: f64, idx: usize) {
        self.weight *= self.growth;
        if let Some(c) = self.counts.get_mut(idx) {
            *c += self.weight;
        }
        let mut i = idx + 1;
        while let Some(node) = self.tree.get_mut(i - 1) {
            *node += self.weight;
            i += i & i.wrapping_neg();
        }
        self.total += self.weight;
        // The record decays too, at the same pace, so an old burst stops masking new ones.
        self.max_seen = (self.max_seen / self.growth).max(v);
        if self.weight > RESCALE_AT {
            let k = 1.0 / self.weight;
            self.counts.iter_mut().for_each(|c| *c *= k);
            self.tree.iter_mut().for_each(|c| *c *= k);
            self.total *= k;
            self.weight = 1.0;
        }
    }

    /// The value whose tail probability is about `p` (inverse of [`Self::tail`] at bin
    /// resolution), used to draw bands.
    pub fn quantile_for_tail(&self, p: f64, tail_exponent: f64) -> f64 {
        let target = p * (self.total + self.weight) - self.weight;
        if target <= 0.0 {
            // Beyond the record: invert the power-law extension.
            let p0 = self.weight / (self.total + self.weight);
            let m = self.max_seen.max(f64::MIN_POSITIVE);
            return m * (p0 / p.max(f64::MIN_POSITIVE)).powf(1.0 / tail_exponent);
        }
        // The bin where the weight above first reaches `target`: the first bin (from the bottom)
        // whose inclusive prefix reaches `total - target`, found by descending the tree.
        let goal = self.total - target;
        let (mut pos, mut acc) = (0usize, 0.0);
        let mut step = BINS.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            // Selects rather than branches: which way the descent goes is data, not pattern.
            let node = self.tree.get(next - 1).copied().unwrap_or(f64::INFINITY);
            let take = acc + node < goal;
            pos = if take { next } else { pos };
            acc = if take { acc + node } else { acc };
            step /= 2;
        }
        let idx = pos.min(BINS - 1);
        let c = self.counts.get(idx).copied().unwrap_or(0.0);
        let above = self.total - acc - c;
        let frac = if c > 0.0 {
            (1.0 - (target - above) / c).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let lo = if idx == 0 {
            0.0
        } else {
            (LO_LOG2 + ((idx - 1) as f64 + frac) / PER_OCTAVE).exp2()
        };
        lo.min(self.max_seen.max(lo))
    }

    /// Sum of the bins below `idx`.
    fn prefix(&self, idx: usize) -> f64 {
        // A fixed number of rounds (one per bit of the bin index) instead of one per set bit:
        // the loop's exit no longer depends on the bin, so it is not mispredicted. Past the
        // last set bit the rounds add 0, which leaves the sum unchanged.
        let (mut i, mut sum) = (idx.min(self.tree.len()), 0.0);
        for _ in 0..BIN_BITS {
            sum += self.tree.get(i.wrapping_sub(1)).copied().unwrap_or(0.0);
            i &= i.wrapping_sub(1);
        }
        sum + self.counts.get(idx).copied().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_p_value_never_below_one_over_n_plus_one_inside_the_record() {
        let mut c = TailCalibrator::new(1e9);
        for i in 0..99 {
            c.observe(1.0 + (i % 10) as f64 / 10.0);
        }
        let p = c.tail(1.95, 2.0);
        assert!(p >= 1.0 / 100.0 - 1e-12, "{p}");
        assert!(c.tail(0.01, 2.0) > 0.99);
    }

    #[test]
    fn beyond_the_record_is_rarer_the_further_out() {
        let mut c = TailCalibrator::new(1e9);
        for _ in 0..1000 {
            c.observe(1.0);
        }
        let near = c.tail(1.2, 2.0);
        let far = c.tail(10.0, 2.0);
        assert!(far < near / 50.0, "{near} {far}");
    }

    #[test]
    fn tail_then_observe_equals_tail_and_observe() {
        let (mut a, mut b) = (TailCalibrator::new(500.0), TailCalibrator::new(500.0));
        for i in 0..3000 {
            let v = ((i * 7919) % 1000) as f64 / 37.0 + if i % 97 == 0 { 400.0 } else { 0.0 };
            let p = a.tail(v, 2.0);
            a.observe(v);
            assert_eq!(p.to_bits(), b.tail_then_observe(v, 2.0).to_bits());
        }
        assert_eq!(a, b);
    }

    #[test]
    fn quantile_inverts_tail_roughly() {
        let mut c = TailCalibrator::new(1e9);
        for i in 0..10_000 {
            c.observe((i % 100) as f64 / 10.0);
        }
        let q = c.quantile_for_tail(0.1, 2.0);
        assert!((8.0..=9.6).contains(&q), "{q}");
    }
}
