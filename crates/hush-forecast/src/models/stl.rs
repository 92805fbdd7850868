//! STL, seasonal-trend decomposition by loess (Cleveland et al. 1990), non-robust, in f32.
//!
//! Written here because STL was most of the cost of automatic model choice. It follows the
//! netlib Fortran operation for operation, as stlrs ports it, so its results equal stlrs'
//! `StlParams::fit` bit for bit (a test checks). What changes is how the work is done: a loess
//! fit's tricube weights depend only on where the window lies relative to the point fitted, so
//! they are computed once per window shape and reused along the series, instead of once per
//! fitted point with a division and two cubes per weight. Most windows of a series have the
//! same shape; only those near its ends differ.

use std::collections::HashMap;

/// Seasonal and trend components of a decomposition; the remainder is what they leave.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Stl {
    pub(super) seasonal: Vec<f32>,
    pub(super) trend: Vec<f32>,
}

/// Inner loop passes: stlrs' (and the Fortran's) default without robustness weights.
const INNER_LOOPS: usize = 2;

/// Decomposes `y` with season length `period` and seasonal smoother length `seasonal_length`,
/// the other settings at stlrs' defaults (degree 0 seasonal, degree 1 trend and low-pass
/// smoothers, window lengths and jumps derived from the period).
///
/// # Errors
/// A period below 2, or a series shorter than two periods.
pub(super) fn stl(y: &[f32], period: usize, seasonal_length: usize) -> Result<Stl, String> {
    let n = y.len();
    if n / 2 < period {
        return Err("series has less than two periods".into());
    }
    if period < 2 {
        return Err("period must be at least 2".into());
    }
    let np = period;
    let mut ns = seasonal_length.max(3);
    if ns % 2 == 0 {
        ns += 1;
    }
    let mut nt = ((1.5 * np as f32) / (1.0 - 1.5 / ns as f32)).ceil() as usize;
    nt = nt.max(3);
    if nt % 2 == 0 {
        nt += 1;
    }
    let mut nl = np.max(3);
    if nl % 2 == 0 {
        nl += 1;
    }
    let jump = |len: usize| (len as f32 / 10.0).ceil() as usize;
    let (nsjump, ntjump, nljump) = (jump(ns), jump(nt), jump(nl));

    let mut loess = Loess::default();
    let mut season = vec![0.0f32; n];
    let mut trend = vec![0.0f32; n];
    let size = n + 2 * np;
    let mut work1 = vec![0.0f32; size];
    let mut work2 = vec![0.0f32; size];
    let mut work3 = vec![0.0f32; size];
    let mut sub = vec![0.0f32; size];
    let mut sub_fit = vec![0.0f32; size];
    for _ in 0..INNER_LOOPS {
        for i in 0..n {
            work1[i] = y[i] - trend[i];
        }
        // Cycle-subseries smoothing, one period of padding at each end.
        seasonal_smooth(
            &mut loess,
            &work1[..n],
            np,
            ns,
            nsjump,
            &mut work2,
            &mut sub,
            &mut sub_fit,
        );
        // Low-pass filter of the padded seasonal: three moving averages, then loess.
        moving_average(&work2, n + 2 * np, np, &mut work3);
        moving_average(&work3, n + np + 1, np, &mut work1);
        moving_average(&work1, n + 2, 3, &mut work3);
        smooth(&mut loess, &work3[..n], nl, 1, nljump, &mut work1);
        for i in 0..n {
            season[i] = work2[np + i] - work1[i];
        }
        for i in 0..n {
            work1[i] = y[i] - season[i];
        }
        smooth(&mut loess, &work1[..n], nt, 1, ntjump, &mut trend);
    }
    Ok(Stl {
        seasonal: season,
        trend,
    })
}

/// Tricube weights, normalised to sum 1, per window shape: the window's ends relative to the
/// point fitted and the bandwidth (as bits). `None` when no point has weight.
#[derive(Default)]
struct Loess {
    kernels: HashMap<(isize, isize, u32), Option<Vec<f32>>>,
}

fn pow2(x: f32) -> f32 {
    x * x
}

fn pow3(x: f32) -> f32 {
    x * x * x
}

impl Loess {
    /// The loess fit of degree `ideg` at position `xs` (1-based, like the window ends
    /// `nleft..=nright`) over `y[..n]` with span `len`; `None` when every weight is zero.
    #[allow(clippy::too_many_arguments)]
    fn est(
        &mut self,
        y: &[f32],
        n: usize,
        len: usize,
        ideg: i32,
        xs_at: usize,
        nleft: usize,
        nright: usize,
    ) -> Option<f32> {
        let xs = xs_at as f32;
        let range = n as f32 - 1.0;
        let mut h = (xs - nleft as f32).max(nright as f32 - xs);
        if len > n {
            h += ((len - n) / 2) as f32;
        }
        let key = (
            nleft as isize - xs_at as isize,
            nright as isize - xs_at as isize,
            h.to_bits(),
        );
        // Positions are small integers, so |j - xs| is exact in f32 and the weights depend only
        // on the key: the same values the per-point computation gives.
        let w = self
            .kernels
            .entry(key)
            .or_insert_with(|| {
                let h9 = 0.999f64 as f32 * h;
                let h1 = 0.001f64 as f32 * h;
                let mut a = 0.0f32;
                let mut w = Vec::with_capacity(nright + 1 - nleft);
                for j in nleft..=nright {
                    let r = (j as f32 - xs).abs();
                    let mut wj = 0.0f32;
                    if r <= h9 {
                        wj = if r <= h1 {
                            1.0
                        } else {
                            pow3(1.0 - pow3(r / h))
                        };
                        a += wj;
                    }
                    w.push(wj);
                }
                (a > 0.0).then(|| {
                    w.iter_mut().for_each(|v| *v /= a);
                    w
                })
            })
            .as_deref()?;
        let ys = &y[nleft - 1..nright];
        if h > 0.0 && ideg > 0 {
            // Linear fit: the weighted centre of the positions, then a slope correction.
            let mut a = 0.0f32;
            for (k, wk) in w.iter().enumerate() {
                a += wk * (nleft + k) as f32;
            }
            let mut b = xs - a;
            let mut c = 0.0f32;
            for (k, wk) in w.iter().enumerate() {
                c += wk * pow2((nleft + k) as f32 - a);
            }
            if c.sqrt() > 0.001f64 as f32 * range {
                b /= c;
                let mut fit = 0.0f32;
                for (k, (wk, yk)) in w.iter().zip(ys).enumerate() {
                    fit += wk * (b * ((nleft + k) as f32 - a) + 1.0) * yk;
                }
                return Some(fit);
            }
        }
        let mut fit = 0.0f32;
        for (wk, yk) in w.iter().zip(ys) {
            fit += wk * yk;
        }
        Some(fit)
    }
}

/// Loess smoothing of `y` (span `len`, degree `ideg`) into `ys`, fitted every `njump` points
/// and linearly interpolated between them.
fn smooth(loess: &mut Loess, y: &[f32], len: usize, ideg: i32, njump: usize, ys: &mut [f32]) {
    let n = y.len();
    if n < 2 {
        ys[0] = y[0];
        return;
    }
    let newnj = njump.min(n - 1);
    let (mut nleft, mut nright);
    if len >= n {
        nleft = 1;
        nright = n;
        let mut i = 1;
        while i <= n {
            ys[i - 1] = loess
                .est(y, n, len, ideg, i, nleft, nright)
                .unwrap_or(y[i - 1]);
            i += newnj;
        }
    } else if newnj == 1 {
        let nsh = len.div_ceil(2);
        nleft = 1;
        nright = len;
        for i in 1..=n {
            if i > nsh && nright != n {
                nleft += 1;
                nright += 1;
            }
            ys[i - 1] = loess
                .est(y, n, len, ideg, i, nleft, nright)
                .unwrap_or(y[i - 1]);
        }
    } else {
        let nsh = len.div_ceil(2);
        (nleft, nright) = (0, 0);
        let mut i = 1;
        while i <= n {
            if i < nsh {
                nleft = 1;
                nright = len;
            } else if i > n - nsh {
                nleft = n - len + 1;
                nright = n;
            } else {
                nleft = i - nsh + 1;
                nright = len + i - nsh;
            }
            ys[i - 1] = loess
                .est(y, n, len, ideg, i, nleft, nright)
                .unwrap_or(y[i - 1]);
            i += newnj;
        }
    }
    if newnj != 1 {
        let mut i = 1;
        while i <= n - newnj {
            let delta = (ys[i + newnj - 1] - ys[i - 1]) / newnj as f32;
            for j in i + 1..=i + newnj - 1 {
                ys[j - 1] = ys[i - 1] + delta * (j - i) as f32;
            }
            i += newnj;
        }
        let k = ((n - 1) / newnj) * newnj + 1;
        if k != n {
            ys[n - 1] = loess
                .est(y, n, len, ideg, n, nleft, nright)
                .unwrap_or(y[n - 1]);
            if k != n - 1 {
                let delta = (ys[n - 1] - ys[k - 1]) / (n - k) as f32;
                for j in k + 1..=n - 1 {
                    ys[j - 1] = ys[k - 1] + delta * (j - k) as f32;
                }
            }
        }
    }
}

/// Moving average of length `len` over `x[..n]` into `ave[..n - len + 1]`, by a running sum.
fn moving_average(x: &[f32], n: usize, len: usize, ave: &mut [f32]) {
    let newn = n - len + 1;
    let flen = len as f32;
    let mut v: f32 = x.iter().take(len).copied().sum();
    ave[0] = v / flen;
    for m in 0..newn - 1 {
        v = v - x[m] + x[len + m];
        ave[m + 1] = v / flen;
    }
}

/// Smooths each cycle-subseries of `y` (period `np`, span `ns`, degree 0) and extends it by
/// one point at each end, into `season[..n + 2 * np]`.
#[allow(clippy::too_many_arguments)]
fn seasonal_smooth(
    loess: &mut Loess,
    y: &[f32],
    np: usize,
    ns: usize,
    nsjump: usize,
    season: &mut [f32],
    sub: &mut [f32],
    sub_fit: &mut [f32],
) {
    let n = y.len();
    for j in 1..=np {
        let k = (n - j) / np + 1;
        for i in 1..=k {
            sub[i - 1] = y[(i - 1) * np + j - 1];
        }
        let sub = &sub[..k];
        smooth(loess, sub, ns, 0, nsjump, &mut sub_fit[1..]);
        let nright = ns.min(k);
        sub_fit[0] = loess.est(sub, k, ns, 0, 0, 1, nright).unwrap_or(sub_fit[1]);
        let nleft = (k as isize - ns as isize + 1).max(1) as usize;
        sub_fit[k + 1] = loess
            .est(sub, k, ns, 0, k + 1, nleft, k)
            .unwrap_or(sub_fit[k]);
        for m in 1..=k + 2 {
            season[(m - 1) * np + j - 1] = sub_fit[m - 1];
        }
    }
}

#[cfg(test)]
mod tests {
    use augurs::mstl::stlrs::StlParams;

    use super::*;

    /// A cycle, a trend and noise from a small deterministic generator.
    fn series(n: usize, period: usize, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (0..n)
            .map(|t| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let noise = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                let phase = t as f32 * std::f32::consts::TAU / period as f32;
                1e3 * (seed as f32 + 1.0) + 0.7 * t as f32 + 40.0 * phase.sin() + 25.0 * noise
            })
            .collect()
    }

    #[test]
    fn equals_stlrs_bit_for_bit() {
        let cases = [
            (2, 7, 9),
            (3, 7, 40),
            (4, 11, 9),
            (7, 11, 61),
            (12, 15, 150),
            (24, 11, 48),
            (24, 11, 556),
            (24, 11, 748),
            (24, 15, 1000),
            (52, 11, 300),
            (168, 15, 336),
            (168, 15, 556),
            (168, 19, 748),
            (168, 15, 1008),
        ];
        for (seed, (period, ns, n)) in cases.into_iter().enumerate() {
            let y = series(n, period, seed as u64);
            let ours = stl(&y, period, ns).unwrap();
            let theirs = StlParams::new()
                .seasonal_length(ns)
                .fit(&y, period)
                .unwrap();
            assert_eq!(ours.seasonal, theirs.seasonal(), "period {period} n {n}");
            assert_eq!(ours.trend, theirs.trend(), "period {period} n {n}");
        }
    }

    #[test]
    fn refuses_what_stlrs_refuses() {
        let y = series(40, 24, 1);
        assert!(stl(&y, 24, 11).is_err());
        assert!(stl(&y, 1, 11).is_err());
        assert!(stl(&y, 20, 11).is_ok());
    }
}
