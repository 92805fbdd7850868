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
use std::hash::{BuildHasherDefault, Hasher};

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
    if ns.is_multiple_of(2) {
        ns += 1;
    }
    let mut nt = ((1.5 * np as f32) / (1.0 - 1.5 / ns as f32)).ceil() as usize;
    nt = nt.max(3);
    if nt.is_multiple_of(2) {
        nt += 1;
    }
    let mut nl = np.max(3);
    if nl.is_multiple_of(2) {
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

/// A window shape: the window's ends relative to the point fitted, and the bandwidth (bits).
type Shape = (isize, isize, u32);

/// Points fitted side by side when they share a window shape: each keeps its own sums in
/// its own order (so results are unchanged), and independent sums keep the CPU's pipelines
/// full where one sum would wait on each addition.
const LANES: usize = 8;

/// A loess fit to make at `xs` over the window `nleft..=nright` (1-based positions).
#[derive(Debug, Clone, Copy)]
struct Point {
    xs: usize,
    nleft: usize,
    nright: usize,
}

/// Tricube weights, normalised to sum 1, per window shape (`None` when no point has weight).
#[derive(Default)]
struct Loess {
    kernels: Vec<Option<Vec<f32>>>,
    index: HashMap<Shape, usize, BuildHasherDefault<ShapeHasher>>,
    /// The shape looked up last: consecutive fits mostly share it, and skip the hashing.
    last: Option<(Shape, usize)>,
    /// Scratch list of points, kept to avoid an allocation per smoothing.
    points: Vec<Point>,
}

/// A multiplicative hash for window shapes: lookups happen once per fitted point, and a
/// general-purpose hasher cost as much as a small window's fit. Shapes are not attacker
/// chosen, so no flooding resistance is needed.
#[derive(Default)]
struct ShapeHasher(u64);

impl ShapeHasher {
    fn mix(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for ShapeHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|b| self.mix(u64::from(*b)));
    }

    fn write_u32(&mut self, v: u32) {
        self.mix(u64::from(v));
    }

    fn write_isize(&mut self, v: isize) {
        self.mix(v as u64);
    }
}

fn pow2(x: f32) -> f32 {
    x * x
}

fn pow3(x: f32) -> f32 {
    x * x * x
}

/// The bandwidth of a fit and its window shape.
fn shape(n: usize, len: usize, p: Point) -> (f32, Shape) {
    let xs = p.xs as f32;
    let mut h = (xs - p.nleft as f32).max(p.nright as f32 - xs);
    if len > n {
        h += ((len - n) / 2) as f32;
    }
    let key = (
        p.nleft as isize - p.xs as isize,
        p.nright as isize - p.xs as isize,
        h.to_bits(),
    );
    (h, key)
}

impl Loess {
    /// The index of the kernel of `key`, computed on first use.
    fn kernel(&mut self, key: Shape, h: f32, p: Point) -> usize {
        if let Some((k, i)) = self.last
            && k == key
        {
            return i;
        }
        let kernels = &mut self.kernels;
        let i = *self.index.entry(key).or_insert_with(|| {
            kernels.push(tricube(h, p));
            kernels.len() - 1
        });
        self.last = Some((key, i));
        i
    }

    /// The loess fit of degree `ideg` at `p` over `y[..n]` with span `len`; `None` when every
    /// weight is zero.
    fn est(&mut self, y: &[f32], n: usize, len: usize, ideg: i32, p: Point) -> Option<f32> {
        let (h, key) = shape(n, len, p);
        let k = self.kernel(key, h, p);
        let w = self.kernels[k].as_deref()?;
        Some(fit_one(w, y, n, h, ideg, p))
    }

    /// Fits every point of `self.points`, writing each into `ys[xs - 1]`, or `y[xs - 1]` when
    /// its window has no weight.
    fn fit_points(&mut self, y: &[f32], n: usize, len: usize, ideg: i32, ys: &mut [f32]) {
        let points = std::mem::take(&mut self.points);
        let mut i = 0;
        while i < points.len() {
            let (h, key) = shape(n, len, points[i]);
            let k = self.kernel(key, h, points[i]);
            let mut j = i + 1;
            while j < points.len() && j - i < LANES && shape(n, len, points[j]).1 == key {
                j += 1;
            }
            let run = &points[i..j];
            match (&self.kernels[k], <&[Point; LANES]>::try_from(run)) {
                (None, _) => run.iter().for_each(|p| ys[p.xs - 1] = y[p.xs - 1]),
                (Some(w), Ok(group)) => {
                    let fits = fit_lanes(w, y, n, h, ideg, group);
                    for (p, f) in group.iter().zip(fits) {
                        ys[p.xs - 1] = f;
                    }
                }
                (Some(w), Err(_)) => {
                    for p in run {
                        ys[p.xs - 1] = fit_one(w, y, n, h, ideg, *p);
                    }
                }
            }
            i = j;
        }
        self.points = points;
    }
}

/// Normalised tricube weights of the window of `p` with bandwidth `h`. Positions are small
/// integers, so `|j - xs|` is exact in f32 and the weights depend only on the shape: the same
/// values a computation per point gives.
fn tricube(h: f32, p: Point) -> Option<Vec<f32>> {
    let xs = p.xs as f32;
    let h9 = 0.999f64 as f32 * h;
    let h1 = 0.001f64 as f32 * h;
    let mut a = 0.0f32;
    let mut w = Vec::with_capacity(p.nright + 1 - p.nleft);
    for j in p.nleft..=p.nright {
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
}

/// One loess fit with kernel `w`: a weighted mean, or for degree 1 a weighted mean with a
/// slope correction around the weighted centre of the positions. Positions are counted up in
/// f32, which is exact for them and cheaper than converting each index.
fn fit_one(w: &[f32], y: &[f32], n: usize, h: f32, ideg: i32, p: Point) -> f32 {
    let ys = &y[p.nleft - 1..p.nright];
    let xs = p.xs as f32;
    let x0 = p.nleft as f32;
    let range = n as f32 - 1.0;
    if h > 0.0 && ideg > 0 {
        let (mut a, mut x) = (0.0f32, x0);
        for wk in w {
            a += wk * x;
            x += 1.0;
        }
        let mut b = xs - a;
        let (mut c, mut x) = (0.0f32, x0);
        for wk in w {
            c += wk * pow2(x - a);
            x += 1.0;
        }
        if c.sqrt() > 0.001f64 as f32 * range {
            b /= c;
            let (mut fit, mut x) = (0.0f32, x0);
            for (wk, yk) in w.iter().zip(ys) {
                fit += wk * (b * (x - a) + 1.0) * yk;
                x += 1.0;
            }
            return fit;
        }
    }
    let mut fit = 0.0f32;
    for (wk, yk) in w.iter().zip(ys) {
        fit += wk * yk;
    }
    fit
}

/// [`fit_one`] for [`LANES`] points of one window shape at once, each with the same
/// operations in the same order as alone.
fn fit_lanes(
    w: &[f32],
    y: &[f32],
    n: usize,
    h: f32,
    ideg: i32,
    points: &[Point; LANES],
) -> [f32; LANES] {
    let range = n as f32 - 1.0;
    let x0 = points.map(|p| p.nleft as f32);
    let ys = points.map(|p| &y[p.nleft - 1..p.nright]);
    let mut a = [0.0f32; LANES];
    let mut b = [0.0f32; LANES];
    let mut linear = [false; LANES];
    if h > 0.0 && ideg > 0 {
        let mut k = 0.0f32;
        for wk in w {
            for l in 0..LANES {
                a[l] += wk * (x0[l] + k);
            }
            k += 1.0;
        }
        let mut c = [0.0f32; LANES];
        let mut k = 0.0f32;
        for wk in w {
            for l in 0..LANES {
                c[l] += wk * pow2((x0[l] + k) - a[l]);
            }
            k += 1.0;
        }
        for l in 0..LANES {
            b[l] = points[l].xs as f32 - a[l];
            linear[l] = c[l].sqrt() > 0.001f64 as f32 * range;
            if linear[l] {
                b[l] /= c[l];
            }
        }
    }
    let mut fit = [0.0f32; LANES];
    let mut k = 0.0f32;
    for (j, wk) in w.iter().enumerate() {
        for l in 0..LANES {
            let weight = if linear[l] {
                wk * (b[l] * ((x0[l] + k) - a[l]) + 1.0)
            } else {
                *wk
            };
            fit[l] += weight * ys[l][j];
        }
        k += 1.0;
    }
    fit
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
    let (mut nleft, mut nright) = (0, 0);
    loess.points.clear();
    if len >= n {
        nleft = 1;
        nright = n;
        for xs in (1..=n).step_by(newnj) {
            loess.points.push(Point { xs, nleft, nright });
        }
    } else if newnj == 1 {
        let nsh = len.div_ceil(2);
        nleft = 1;
        nright = len;
        for xs in 1..=n {
            if xs > nsh && nright != n {
                nleft += 1;
                nright += 1;
            }
            loess.points.push(Point { xs, nleft, nright });
        }
    } else {
        let nsh = len.div_ceil(2);
        for xs in (1..=n).step_by(newnj) {
            if xs < nsh {
                nleft = 1;
                nright = len;
            } else if xs > n - nsh {
                nleft = n - len + 1;
                nright = n;
            } else {
                nleft = xs - nsh + 1;
                nright = len + xs - nsh;
            }
            loess.points.push(Point { xs, nleft, nright });
        }
    }
    loess.fit_points(y, n, len, ideg, ys);
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
            // The window of the last point fitted above, as the Fortran does.
            let last = Point {
                xs: n,
                nleft,
                nright,
            };
            ys[n - 1] = loess.est(y, n, len, ideg, last).unwrap_or(y[n - 1]);
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
        let first = Point {
            xs: 0,
            nleft: 1,
            nright,
        };
        sub_fit[0] = loess.est(sub, k, ns, 0, first).unwrap_or(sub_fit[1]);
        let nleft = (k as isize - ns as isize + 1).max(1) as usize;
        let after = Point {
            xs: k + 1,
            nleft,
            nright: k,
        };
        sub_fit[k + 1] = loess.est(sub, k, ns, 0, after).unwrap_or(sub_fit[k]);
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
