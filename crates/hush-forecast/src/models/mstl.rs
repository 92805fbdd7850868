//! MSTL decomposition with a cheap non-seasonal model on the seasonally adjusted series:
//! MSTL's seasons, with Theta or additive ETS ([`super::holt`]) for the rest, at a fraction of
//! the cost of augurs' AutoETS.
//!
//! With one refinement pass MSTL is a chain of STL fits, shortest period first: STL on the
//! series, then STL on what the first season leaves, and so on. MSTL over `[24]` is therefore
//! the first link of MSTL over `[24, 168]`, and [`Decompositions`] keeps the links of each
//! series prefix so candidates that share periods (and the backtest and final fits of one
//! candidate) decompose once. STL is most of the cost of automatic model choice.

use super::PointForecast;
use super::stl::stl;

/// One STL link of the chain: the season it removed, the trend it fitted, and the series left
/// after removing this and every earlier season (f32, as stlrs, whose results these match).
#[derive(Debug, Clone)]
struct Link {
    period: usize,
    seasonal: Vec<f32>,
    trend: Vec<f32>,
    deseasoned: Vec<f32>,
}

/// The MSTL chains computed so far for prefixes of one series.
#[derive(Debug)]
pub(crate) struct Decompositions<'a> {
    y: &'a [f64],
    /// Per prefix length, the links computed, shortest period first.
    chains: Vec<(usize, Vec<Link>)>,
}

impl<'a> Decompositions<'a> {
    /// An empty store for `y`; every decomposition asked of it is of a prefix of `y`.
    pub(crate) fn new(y: &'a [f64]) -> Self {
        Self {
            y,
            chains: Vec::new(),
        }
    }

    /// The series this store decomposes.
    pub(crate) fn series(&self) -> &'a [f64] {
        self.y
    }

    /// MSTL with one refinement pass of `y[..len]`: the seasonally adjusted series and, per
    /// period (in the order given), the last cycle of its seasonal component (what a forecast
    /// repeats). Identical, value for value, to stlrs' `MstlParams` with one iteration.
    pub(crate) fn decompose(
        &mut self,
        len: usize,
        periods: &[usize],
    ) -> Result<(Vec<f64>, Vec<Vec<f64>>), String> {
        // The checks MstlParams::fit makes, in its order, before any fitting.
        if periods.is_empty() {
            return Err("periods must not be empty".into());
        }
        if periods.iter().any(|&p| p < 2) {
            return Err("period must be at least 2".into());
        }
        if periods.iter().any(|&p| len / 2 < p) {
            return Err("series has less than two periods".into());
        }
        let y: &'a [f64] = self.y;
        let y = &y[..len];
        // Stable order by period, as MSTL fits them; `order[k]` is the caller's index.
        let mut order: Vec<usize> = (0..periods.len()).collect();
        order.sort_by_key(|&i| periods[i]);
        let slot = match self.chains.iter().position(|(l, _)| *l == len) {
            Some(slot) => slot,
            None => {
                self.chains.push((len, Vec::new()));
                self.chains.len() - 1
            }
        };
        let links = &mut self.chains[slot].1;
        for (k, &i) in order.iter().enumerate() {
            if links.get(k).is_some_and(|l| l.period == periods[i]) {
                continue;
            }
            // A different period at this depth: the chain from here on is another one.
            links.truncate(k);
            let input: Vec<f32> = match links.last() {
                Some(prev) => prev.deseasoned.clone(),
                None => y.iter().map(|v| *v as f32).collect(),
            };
            // MSTL's seasonal window for the k-th shortest period.
            let fit = stl(&input, periods[i], 7 + 4 * (k + 1))?;
            let seasonal = fit.seasonal;
            let deseasoned = input.iter().zip(&seasonal).map(|(d, s)| d - s).collect();
            links.push(Link {
                period: periods[i],
                seasonal,
                trend: fit.trend,
                deseasoned,
            });
        }
        let last = &links[order.len() - 1];
        // STL works in f32; the adjusted series is rebuilt in f64 from trend and remainder.
        let adjusted = last
            .trend
            .iter()
            .zip(&last.deseasoned)
            .map(|(t, d)| f64::from(*t) + f64::from(d - t))
            .collect();
        let mut cycles = vec![Vec::new(); periods.len()];
        for (k, &i) in order.iter().enumerate() {
            let component = &links[k].seasonal;
            let base = component
                .len()
                .checked_sub(periods[i])
                .ok_or("season longer than series")?;
            cycles[i] = component[base..].iter().map(|v| f64::from(*v)).collect();
        }
        Ok((adjusted, cycles))
    }
}

/// Decomposes `y[..len]`, forecasts the adjusted series with `model`, and adds the seasons back
/// by repeating the last cycle of each (index `i mod p` of the last cycle has the phase of step
/// `len + i`, because the cycle starts at `len - p`).
pub(super) fn mstl_with(
    store: &mut Decompositions<'_>,
    len: usize,
    periods: &[usize],
    h: usize,
    model: impl Fn(&[f64], usize) -> Result<PointForecast, String>,
) -> Result<PointForecast, String> {
    let (adjusted, cycles) = store.decompose(len, periods)?;
    let mut fc = model(&adjusted, h)?;
    for (period, cycle) in periods.iter().zip(&cycles) {
        for (i, p) in fc.point.iter_mut().enumerate() {
            *p += cycle[i % period];
        }
    }
    Ok(fc)
}

/// Backtest of MSTL + Holt from the origins `cuts` (earliest last) with one decomposition and
/// one fit, both at the earliest origin: later origins see the values after it seasonally
/// adjusted by the earliest decomposition's repeated cycles, and the fitted model's states are
/// run on through them. Nothing after an origin is used for its forecast.
pub(super) fn mstl_holt_backtest(
    store: &mut Decompositions<'_>,
    periods: &[usize],
    cuts: &[usize],
    h: usize,
) -> Result<Vec<PointForecast>, String> {
    let y = store.series();
    let first = *cuts.iter().min().ok_or("no origins")?;
    let (mut adjusted, cycles) = store.decompose(first, periods)?;
    let season = |t: usize| -> f64 {
        periods
            .iter()
            .zip(&cycles)
            .map(|(p, c)| c[(t - first) % p])
            .sum()
    };
    adjusted.extend((first..y.len()).map(|t| y[t] - season(t)));
    let model = super::holt::Holt::fit(&adjusted[..first])?;
    let mut runs = model.forecasts_at(&adjusted, cuts, h);
    for (run, &cut) in runs.iter_mut().zip(cuts) {
        for (i, p) in run.point.iter_mut().enumerate() {
            *p += season(cut + i);
        }
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use augurs::mstl::stlrs::MstlParams;

    use super::*;

    /// Two seasons and a trend, with deterministic noise.
    fn series(n: usize) -> Vec<f64> {
        (0..n)
            .map(|t| {
                let t = t as f64;
                50.0 + 0.01 * t
                    + 8.0 * (t * std::f64::consts::TAU / 24.0).sin()
                    + 3.0 * (t * std::f64::consts::TAU / 168.0).cos()
                    + ((t as usize * 7919) % 17) as f64 * 0.2
            })
            .collect()
    }

    /// stlrs' own MSTL with one pass, converted as the chain converts.
    fn reference(y: &[f64], periods: &[usize]) -> (Vec<f64>, Vec<Vec<f64>>) {
        let y32: Vec<f32> = y.iter().map(|v| *v as f32).collect();
        let fit = MstlParams::new().iterations(1).fit(&y32, periods).unwrap();
        let adjusted = fit
            .trend()
            .iter()
            .zip(fit.remainder())
            .map(|(t, r)| f64::from(*t) + f64::from(*r))
            .collect();
        let cycles = periods
            .iter()
            .zip(fit.seasonal())
            .map(|(p, s)| s[s.len() - p..].iter().map(|v| f64::from(*v)).collect())
            .collect();
        (adjusted, cycles)
    }

    #[test]
    fn the_chain_is_mstl_with_one_pass_value_for_value() {
        let y = series(24 * 7 * 5 + 5);
        for periods in [vec![24], vec![24, 168], vec![168, 24], vec![12, 24, 168]] {
            let mut store = Decompositions::new(&y);
            assert_eq!(
                store.decompose(y.len(), &periods).unwrap(),
                reference(&y, &periods),
                "{periods:?}"
            );
        }
    }

    #[test]
    fn shared_links_give_what_a_fresh_decomposition_gives() {
        let y = series(24 * 7 * 6);
        let cut = y.len() - 3 * 48;
        let mut shared = Decompositions::new(&y);
        // The order automatic choice asks in: prefixes and full series, shorter chains first.
        let asked = [
            (cut, vec![24]),
            (cut, vec![24, 168]),
            (y.len(), vec![24, 168]),
            (y.len(), vec![24]),
            (cut, vec![168]),
            (cut, vec![24, 168]),
        ];
        for (len, periods) in asked {
            let got = shared.decompose(len, &periods).unwrap();
            let fresh = Decompositions::new(&y).decompose(len, &periods).unwrap();
            assert_eq!(got, fresh, "{len} {periods:?}");
            assert_eq!(got, reference(&y[..len], &periods), "{len} {periods:?}");
        }
    }

    #[test]
    fn too_short_and_bad_periods_are_errors() {
        let y = series(100);
        let mut store = Decompositions::new(&y);
        assert!(store.decompose(100, &[24, 168]).is_err());
        assert!(store.decompose(100, &[]).is_err());
        assert!(store.decompose(100, &[1]).is_err());
        assert!(store.decompose(100, &[24]).is_ok());
    }
}
