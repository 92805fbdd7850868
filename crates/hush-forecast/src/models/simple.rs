//! Benchmarks that need no fitting: naive and seasonal naive.

use super::PointForecast;

/// Standard deviation of lag-`lag` differences, the one-step error of a (seasonal) random walk.
pub(super) fn diff_sd(y: &[f64], lag: usize) -> f64 {
    if y.len() <= lag {
        return 0.0;
    }
    let n = (y.len() - lag) as f64;
    let ss: f64 = y.windows(lag + 1).map(|w| (w[lag] - w[0]).powi(2)).sum();
    (ss / n).sqrt()
}

pub(super) fn naive(y: &[f64], h: usize) -> Result<PointForecast, String> {
    let last = *y.last().ok_or("empty series")?;
    let sigma = diff_sd(y, 1);
    Ok(PointForecast {
        point: vec![last; h],
        sd: (1..=h).map(|i| sigma * (i as f64).sqrt()).collect(),
    })
}

pub(super) fn seasonal_naive(y: &[f64], m: usize, h: usize) -> Result<PointForecast, String> {
    if y.len() < m || m == 0 {
        return Err(format!("needs one full season of {m} points"));
    }
    let base = y.len() - m;
    let sigma = diff_sd(y, m);
    Ok(PointForecast {
        point: (0..h).map(|i| y[base + i % m]).collect(),
        sd: (0..h)
            .map(|i| sigma * ((i / m + 1) as f64).sqrt())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasonal_naive_repeats_the_last_cycle() {
        let y = [1.0, 2.0, 3.0, 10.0, 20.0, 30.0];
        let f = seasonal_naive(&y, 3, 5).unwrap();
        assert_eq!(f.point, vec![10.0, 20.0, 30.0, 10.0, 20.0]);
        // The second cycle is a two-step seasonal random walk: sd grows by sqrt(2).
        assert!((f.sd[3] / f.sd[0] - 2f64.sqrt()).abs() < 1e-12);
    }
}
