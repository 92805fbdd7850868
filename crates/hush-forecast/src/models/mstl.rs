//! MSTL decomposition with a cheap non-seasonal model on the seasonally adjusted series:
//! MSTL's seasons, with Theta or additive ETS ([`super::holt`]) for the rest, at a fraction of
//! the cost of augurs' AutoETS.

use augurs::mstl::stlrs::MstlParams;

use super::PointForecast;

/// MSTL refinement passes (the paper's default is 2).
const ITERATIONS: usize = 1;

/// Decomposes `y` and returns the seasonally adjusted series and, per period, the last cycle
/// of its seasonal component (what the forecast repeats).
pub(super) fn decompose(y: &[f64], periods: &[usize]) -> Result<(Vec<f64>, Vec<Vec<f64>>), String> {
    // stlrs works in f32; the deseasonalised series is rebuilt in f64 from its parts.
    let y32: Vec<f32> = y.iter().map(|v| *v as f32).collect();
    let mut params = MstlParams::new();
    params.iterations(ITERATIONS);
    let fit = params.fit(&y32, periods).map_err(|e| e.to_string())?;
    let adjusted: Vec<f64> = fit
        .trend()
        .iter()
        .zip(fit.remainder())
        .map(|(t, r)| f64::from(*t) + f64::from(*r))
        .collect();
    let mut cycles = Vec::with_capacity(periods.len());
    for (period, component) in periods.iter().zip(fit.seasonal()) {
        let base = component
            .len()
            .checked_sub(*period)
            .ok_or("season longer than series")?;
        cycles.push(component[base..].iter().map(|v| f64::from(*v)).collect());
    }
    Ok((adjusted, cycles))
}

/// Fits MSTL to `y`, forecasts the adjusted series with `model`, and adds the seasons back by
/// repeating the last cycle of each (index `i mod p` of the last cycle has the phase of step
/// `n + i`, because the cycle starts at `n - p`).
pub(super) fn mstl_with(
    y: &[f64],
    periods: &[usize],
    h: usize,
    model: impl Fn(&[f64], usize) -> Result<PointForecast, String>,
) -> Result<PointForecast, String> {
    let (adjusted, cycles) = decompose(y, periods)?;
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
    y: &[f64],
    periods: &[usize],
    cuts: &[usize],
    h: usize,
) -> Result<Vec<PointForecast>, String> {
    let first = *cuts.iter().min().ok_or("no origins")?;
    let (mut adjusted, cycles) = decompose(&y[..first], periods)?;
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
