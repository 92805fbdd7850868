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
    let acf: Vec<f64> = (0..=max_lag + 1)
        .map(|lag| pearson(&dev[..n - lag], &dev[lag..]))
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

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return 0.0;
    }
    let ma = a.iter().sum::<f64>() / n as f64;
    let mb = b.iter().sum::<f64>() / n as f64;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa > 0.0 && sbb > 0.0 {
        sab / (saa * sbb).sqrt()
    } else {
        0.0
    }
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

    #[test]
    fn no_season_in_a_ramp_or_a_constant() {
        let ramp: Vec<f64> = (0..900).map(|i| i as f64).collect();
        assert_eq!(detect_period(&ramp, 0.5), None);
        assert_eq!(detect_period(&[3.0; 900], 0.5), None);
    }
}
