//! MSTL decomposition with the Theta method on the seasonally adjusted series: the seasonal
//! structure of MSTL at a fraction of the cost of fitting ETS to the remainder.

use augurs::mstl::stlrs::MstlParams;

use super::PointForecast;
use super::theta::theta;

pub(super) fn mstl_theta(y: &[f64], periods: &[usize], h: usize) -> Result<PointForecast, String> {
    // stlrs works in f32; the deseasonalised series is rebuilt in f64 from its parts.
    let y32: Vec<f32> = y.iter().map(|v| *v as f32).collect();
    let fit = MstlParams::new()
        .fit(&y32, periods)
        .map_err(|e| e.to_string())?;
    let seasonal = fit.seasonal();
    let adjusted: Vec<f64> = fit
        .trend()
        .iter()
        .zip(fit.remainder())
        .map(|(t, r)| f64::from(*t) + f64::from(*r))
        .collect();
    let mut fc = theta(&adjusted, None, h)?;
    for (period, component) in periods.iter().zip(seasonal) {
        // Repeat the last cycle of each seasonal component: index n - p + (i mod p) has the
        // phase of step n + i.
        let base = component
            .len()
            .checked_sub(*period)
            .ok_or("season longer than series")?;
        for (i, p) in fc.point.iter_mut().enumerate() {
            *p += f64::from(component[base + i % period]);
        }
    }
    Ok(fc)
}
