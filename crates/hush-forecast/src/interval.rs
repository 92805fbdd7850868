//! Interval arithmetic: normal quantiles and split-conformal scaling.

/// Inverse of the standard normal CDF (Acklam's rational approximation, relative error below
/// 1.2e-9), enough for interval half-widths. `p` outside (0, 1) gives ±infinity.
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// Two-sided normal multiplier for a central interval at `level` (1.96 for 0.95).
pub fn z_for_level(level: f64) -> f64 {
    normal_quantile(0.5 + level / 2.0)
}

/// The split-conformal multiplier: the `ceil((n + 1) * level)`-th smallest of the normalised
/// absolute backtest errors (Vovk et al. 2005; Lei et al. 2018). `None` when there are too few
/// scores to reach `level`, so the caller falls back to the model's own width.
pub fn conformal_quantile(scores: &mut [f64], level: f64) -> Option<f64> {
    let n = scores.len();
    let rank = ((n as f64 + 1.0) * level).ceil() as usize;
    if n == 0 || rank > n {
        return None;
    }
    scores.sort_by(f64::total_cmp);
    Some(scores[rank.max(1) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles_match_tables() {
        assert!((z_for_level(0.95) - 1.959_964).abs() < 1e-6);
        assert!((z_for_level(0.80) - 1.281_552).abs() < 1e-6);
        assert!((normal_quantile(0.001) + 3.090_232).abs() < 1e-6);
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn conformal_rank_is_finite_sample_corrected() {
        let mut s: Vec<f64> = (1..=99).map(f64::from).collect();
        // ceil(100 * 0.95) = 95th smallest.
        assert_eq!(conformal_quantile(&mut s, 0.95), Some(95.0));
        let mut few = vec![1.0, 2.0];
        assert_eq!(conformal_quantile(&mut few, 0.95), None);
    }
}
