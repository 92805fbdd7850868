//! Behaviour of the automatic forecaster on the awkward series monitoring produces.

use hush_forecast::{AutoConfig, AutoForecaster, ForecastError, Forecaster, unwrap_counter};

fn hourly() -> AutoForecaster {
    AutoForecaster::new(AutoConfig::for_periods(&[24, 168]))
}

fn daily_cycle(n: usize) -> Vec<f64> {
    (0..n)
        .map(|t| {
            100.0
                + 20.0 * (t as f64 * std::f64::consts::TAU / 24.0).sin()
                + ((t * 7919) % 13) as f64 * 0.3
        })
        .collect()
}

fn assert_well_formed(f: &hush_forecast::Forecast, h: usize) {
    assert_eq!(f.point.len(), h);
    for i in 0..h {
        assert!(f.point[i].is_finite() && f.lower[i].is_finite() && f.upper[i].is_finite());
        assert!(
            f.lower[i] <= f.point[i] && f.point[i] <= f.upper[i],
            "step {i}: {f:?}"
        );
    }
}

#[test]
fn seasonal_series_keeps_its_cycle_and_covers_the_truth() {
    let y = daily_cycle(24 * 30 + 48);
    let (train, test) = y.split_at(24 * 30);
    let f = hourly().forecast(train, 48, 0.95).unwrap();
    assert_well_formed(&f, 48);
    assert!(f.calibrated, "{f:?}");
    let inside = test
        .iter()
        .zip(f.lower.iter().zip(&f.upper))
        .filter(|(y, (l, u))| *l <= *y && *y <= *u)
        .count();
    assert!(inside >= 44, "{inside} of 48 inside");
    let mae: f64 = test
        .iter()
        .zip(&f.point)
        .map(|(a, p)| (a - p).abs())
        .sum::<f64>()
        / 48.0;
    assert!(mae < 3.0, "mae {mae} with {}", f.model);
}

#[test]
fn short_series_gets_a_wide_honest_interval() {
    let f = hourly()
        .forecast(&[10.0, 12.0, 11.0, 13.0, 12.0], 10, 0.95)
        .unwrap();
    assert_well_formed(&f, 10);
    // Noise of about 1.5 per step: a 95 % band ten steps out must be several units wide.
    assert!(f.upper[9] - f.lower[9] > 4.0, "{f:?}");
}

#[test]
fn too_short_and_all_missing_are_clear_errors() {
    assert_eq!(
        hourly().forecast(&[1.0, f64::NAN], 3, 0.95),
        Err(ForecastError::TooShort {
            observed: 1,
            min: 3
        })
    );
    assert_eq!(
        hourly().forecast(&[f64::NAN; 50], 3, 0.95),
        Err(ForecastError::NoData { len: 50 })
    );
    assert_eq!(
        hourly().forecast(&[], 3, 0.95),
        Err(ForecastError::NoData { len: 0 })
    );
    assert_eq!(
        hourly().forecast(&[1.0; 9], 0, 0.95),
        Err(ForecastError::InvalidHorizon(0))
    );
    assert_eq!(
        hourly().forecast(&[1.0; 9], 3, 1.5),
        Err(ForecastError::InvalidLevel(1.5))
    );
}

#[test]
fn constant_series_forecasts_the_constant() {
    let f = hourly().forecast(&[7.5; 200], 24, 0.95).unwrap();
    assert_eq!(f.model, "constant");
    assert!(
        f.point
            .iter()
            .chain(&f.lower)
            .chain(&f.upper)
            .all(|v| *v == 7.5)
    );
}

#[test]
fn nan_laden_series_is_forecast_and_trailing_gaps_keep_alignment() {
    let mut y = daily_cycle(24 * 21);
    for (i, v) in y.iter_mut().enumerate() {
        if i % 5 == 0 || (200..230).contains(&i) {
            *v = f64::NAN;
        }
    }
    // The last 3 steps are missing: the forecast still starts right after the input.
    let n = y.len();
    y[n - 3..].iter_mut().for_each(|v| *v = f64::NAN);
    let f = hourly().forecast(&y, 24, 0.95).unwrap();
    assert_well_formed(&f, 24);
    let truth = daily_cycle(n + 24);
    let mae: f64 = truth[n..]
        .iter()
        .zip(&f.point)
        .map(|(a, p)| (a - p).abs())
        .sum::<f64>()
        / 24.0;
    assert!(mae < 5.0, "mae {mae} with {}", f.model);
}

#[test]
fn counter_resets_do_not_break_the_trend() {
    // A counter growing by 10 per step that restarts twice.
    let raw: Vec<f64> = (0..300).map(|t| ((t % 120) * 10) as f64).collect();
    let y = unwrap_counter(&raw);
    let f = hourly().forecast(&y, 12, 0.95).unwrap();
    assert_well_formed(&f, 12);
    let expected = y[299] + 10.0 * 12.0;
    assert!(
        (f.point[11] - expected).abs() < 0.05 * expected,
        "{} vs {expected}",
        f.point[11]
    );
}

#[test]
fn trend_change_is_followed() {
    // Flat for two weeks, then rising by 1 per hour for a week.
    let y: Vec<f64> = (0..24 * 21)
        .map(|t| {
            50.0 + 5.0 * (t as f64 * std::f64::consts::TAU / 24.0).sin()
                + (t as f64 - 336.0).max(0.0)
        })
        .collect();
    let f = hourly().forecast(&y, 24, 0.95).unwrap();
    assert_well_formed(&f, 24);
    let last_level = 50.0 + (y.len() as f64 - 336.0);
    // Extrapolating the new slope, not the flat past: well above the last level by step 24.
    assert!(
        f.point[23] > last_level + 12.0,
        "{} with {}",
        f.point[23],
        f.model
    );
}

#[test]
fn huge_magnitudes_and_negative_values_are_fine() {
    let big: Vec<f64> = daily_cycle(24 * 10).iter().map(|v| v * 1e12).collect();
    assert_well_formed(&hourly().forecast(&big, 24, 0.95).unwrap(), 24);
    let neg: Vec<f64> = daily_cycle(24 * 10).iter().map(|v| 50.0 - v).collect();
    assert_well_formed(&hourly().forecast(&neg, 24, 0.8).unwrap(), 24);
}

mod arbitrary_input {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            6 => -1e6..1e6f64,
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(0.0),
            1 => -1e15..1e15f64,
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Whatever arrives — short, gappy, flat, infinite, huge — the forecaster answers with a
        /// well-formed forecast or an error, never a panic or a non-finite band.
        #[test]
        fn never_panics_and_bands_are_well_formed(
            y in prop::collection::vec(value(), 0..400),
            h in 1usize..60,
        ) {
            if let Ok(f) = hourly().forecast(&y, h, 0.9) {
                assert_well_formed(&f, h);
            }
        }
    }
}
