//! Season detection by autocorrelation, and the initial seasonal profile.
//!
//! A periodogram (as in `augurs-seasons`) needs many cycles and is slow on long buffers; the
//! autocorrelation peak needs two cycles and one pass per lag, and runs once per series.

/// Smallest season considered, in points.
const MIN_PERIOD: usize = 4;

/// The lag of the highest autocorrelation peak in `values`, if it is at least `min_acf` and
/// rises clearly out of a trough (a slowly drifting series has high autocorrelation at every
/// short lag and no season). Periods up to half the buffer are considered.
pub fn detect_period(values: &[f64], min_acf: f64) -> Option<usize> {
    let n = values.len();
    let max_lag = n / 2;
    if max_lag < MIN_PERIOD + 1 {
        return None;
    }
    // Winsorise at median ± 3 MAD first: a few spikes would otherwise swamp the correlation
    // of an ordinary daily cycle.
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let med = sorted[n / 2];
    let mut absdev: Vec<f64> = values.iter().map(|v| (v - med).abs()).collect();
    absdev.sort_by(f64::total_cmp);
    let mad = absdev[n / 2] * 1.4826;
    let (lo, hi) = if mad > 0.0 {
        (med - 3.0 * mad, med + 3.0 * mad)
    } else {
        (f64::NEG_INFINITY, f64::INFINITY)
    };
    let clipped: Vec<f64> = values.iter().map(|v| v.clamp(lo, hi)).collect();
    let mean = clipped.iter().sum::<f64>() / n as f64;
    let dev: Vec<f64> = clipped.iter().map(|v| v - mean).collect();
    let var: f64 = dev.iter().map(|d| d * d).sum();
    if var.is_nan() || var <= 0.0 || !var.is_finite() {
        return None;
    }
    // Pearson correlation of the overlapping parts: unbiased at long lags, where a plain
    // autocovariance over the whole variance would shrink and an overlap rescaling would
    // inflate peaks.
    let _ = var;
    let sums = Sums::of(&dev);
    let acf: Vec<f64> = (0..=max_lag + 1)
        .map(|lag| sums.pearson(&dev, lag))
        .collect();
    let mut best: Option<(usize, f64)> = None;
    let mut trough = f64::INFINITY;
    for lag in 1..=max_lag {
        trough = trough.min(acf[lag]);
        let is_peak = acf[lag] >= acf[lag - 1] && acf[lag] >= acf[lag + 1];
        if lag >= MIN_PERIOD && is_peak && acf[lag] >= min_acf && acf[lag] - trough >= 0.3 {
            // Prefer the first strong peak: later peaks are mostly its multiples.
            match best {
                Some((_, b)) if acf[lag] <= b + 0.1 => {}
                _ => best = Some((lag, acf[lag])),
            }
        }
    }
    best.map(|(lag, _)| lag)
}

/// Prefix sums of a series and of its squares (and the same from the end), so the means and
/// spreads of both overlapping parts at any lag cost O(1) and only the cross products take a
/// pass over the buffer. Each part's sum is read directly, never as a difference of two sums.
struct Sums {
    head: Vec<f64>,
    head_sq: Vec<f64>,
    tail: Vec<f64>,
    tail_sq: Vec<f64>,
}

impl Sums {
    fn of(v: &[f64]) -> Self {
        let n = v.len();
        let (mut head, mut head_sq) = (vec![0.0; n + 1], vec![0.0; n + 1]);
        let (mut tail, mut tail_sq) = (vec![0.0; n + 1], vec![0.0; n + 1]);
        for (i, x) in v.iter().enumerate() {
            head[i + 1] = head[i] + x;
            head_sq[i + 1] = head_sq[i] + x * x;
        }
        for (i, x) in v.iter().enumerate().rev() {
            tail[i] = tail[i + 1] + x;
            tail_sq[i] = tail_sq[i + 1] + x * x;
        }
        Self {
            head,
            head_sq,
            tail,
            tail_sq,
        }
    }

    /// Pearson correlation of `v[..n - lag]` with `v[lag..]`.
    fn pearson(&self, v: &[f64], lag: usize) -> f64 {
        let n = v.len();
        let m = n.saturating_sub(lag);
        if m < 2 {
            return 0.0;
        }
        let (sa, qa) = (self.head[m], self.head_sq[m]);
        let (sb, qb) = (self.tail[lag], self.tail_sq[lag]);
        let k = m as f64;
        let saa = qa - sa * sa / k;
        let sbb = qb - sb * sb / k;
        let sab = dot(&v[..m], &v[lag..]) - sa * sb / k;
        // A part whose spread is below rounding of its sum of squares is flat: no correlation.
        if saa > 1e-9 * qa && sbb > 1e-9 * qb {
            (sab / (saa * sbb).sqrt()).clamp(-1.0, 1.0)
        } else {
            0.0
        }
    }
}

/// Dot product in four independent lanes (one chain of additions would wait on each add).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let rest: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for j in 0..4 {
            s[j] += x[j] * y[j];
        }
    }
    (s[0] + s[1]) + (s[2] + s[3]) + rest
}

/// Mean deviation from the overall mean per phase of `period`, for the first `values.len()`
/// points (phase 0 at index 0).
pub fn initial_profile(values: &[f64], period: usize) -> Vec<f64> {
    let n = values.len();
    if n == 0 || period == 0 {
        return vec![0.0; period];
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let mut sum = vec![0.0; period];
    let mut cnt = vec![0usize; period];
    for (i, v) in values.iter().enumerate() {
        sum[i % period] += v - mean;
        cnt[i % period] += 1;
    }
    sum.iter()
        .zip(&cnt)
        .map(|(s, &c)| if c > 0 { s / c as f64 } else { 0.0 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_daily_cycle() {
        let v: Vec<f64> = (0..900)
            .map(|i| (i as f64 * std::f64::consts::TAU / 288.0).sin() * 10.0 + (i % 7) as f64 * 0.1)
            .collect();
        let p = detect_period(&v, 0.5).expect("period");
        assert!((286..=290).contains(&p), "{p}");
    }

    fn naive_pearson(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
        for (x, y) in a.iter().zip(b) {
            sab += (x - ma) * (y - mb);
            saa += (x - ma) * (x - ma);
            sbb += (y - mb) * (y - mb);
        }
        sab / (saa * sbb).sqrt()
    }

    #[test]
    fn correlation_from_running_sums_matches_the_direct_formula() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let v: Vec<f64> = (0..601)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                1e3 + (i as f64 / 40.0).sin() * 5.0 + (x % 1000) as f64 / 100.0
            })
            .collect();
        let sums = Sums::of(&v);
        for lag in [0, 1, 7, 150, 299, 300, 599] {
            let n = v.len();
            let want = naive_pearson(&v[..n - lag], &v[lag..]);
            let got = sums.pearson(&v, lag);
            assert!((want - got).abs() < 1e-9, "lag {lag}: {want} vs {got}");
        }
    }

    #[test]
    fn a_flat_stretch_correlates_with_nothing() {
        // Half flat, half noise: at lags that pair the flat half with anything, the flat part
        // has no spread, and rounding in the running sums must not pass for a correlation.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut v = vec![123.456; 300];
        v.extend((0..300).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            123.456 + (x % 1000) as f64 / 100.0
        }));
        assert_eq!(Sums::of(&v).pearson(&v, 300), 0.0);
        assert_eq!(detect_period(&v, 0.5), None);
    }

    #[test]
    fn no_season_in_a_ramp_or_a_constant() {
        let ramp: Vec<f64> = (0..900).map(|i| i as f64).collect();
        assert_eq!(detect_period(&ramp, 0.5), None);
        assert_eq!(detect_period(&[3.0; 900], 0.5), None);
    }
}
