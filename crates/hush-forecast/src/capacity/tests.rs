//! Capacity behaviour on simulated disks.

use super::*;
use hush_model::Sample;

const STEP: i64 = 5 * 60 * 1000;
const GB: f64 = 1e9;

/// Deterministic standard normal noise (LCG + Box–Muller), so tests are reproducible.
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// A disk filling at 10 GB/day from 100 GB with a 3 GB daily swing.
fn disk(t: i64) -> f64 {
    let d = t as f64 / DAY_MS as f64;
    100.0 * GB + 10.0 * GB * d + 3.0 * GB * (std::f64::consts::TAU * d).sin()
}

fn history(until: i64, seed: u64, value: impl Fn(i64) -> f64) -> Grid {
    let mut noise = Noise(seed);
    let samples: Vec<Sample> = (0..=until / STEP)
        .map(|i| Sample::new(i * STEP, value(i * STEP) + 0.5 * GB * noise.normal()))
        .collect();
    regularize(&samples, Some(STEP)).unwrap()
}

const LIMIT: f64 = 200.0 * GB;

/// The true exhaustion time: first step where the noiseless path reaches the limit.
fn truth() -> i64 {
    (0..).map(|i| i * STEP).find(|&t| disk(t) >= LIMIT).unwrap()
}

#[test]
fn exhaustion_within_ten_percent_at_least_three_days_ahead() {
    let truth = truth();
    for days_ahead in [3, 4, 5, 6] {
        let now = truth - days_ahead * DAY_MS;
        let grid = history(now, 7 + days_ahead as u64, disk);
        let ex = time_to_exhaustion(&grid, LIMIT, now, &CapacityConfig::default()).unwrap();
        let eta = ex.eta.expect("exhaustion expected");
        let err = (eta - truth).abs() as f64 / (truth - now) as f64;
        assert!(
            err <= 0.10,
            "{days_ahead} days ahead: error {err:.3}, {}",
            ex.describe(now)
        );
        let (lo, hi) = (ex.earliest.unwrap(), ex.latest.unwrap());
        assert!(lo <= eta && eta <= hi);
        assert!(
            ex.describe(now).starts_with("full in "),
            "{}",
            ex.describe(now)
        );
    }
}

#[test]
fn predictive_alert_fires_before_the_horizon_and_clears_when_the_trend_turns() {
    let truth = truth();
    let turn = truth - 3 * DAY_MS;
    // After the turn a cleanup frees 40 GB and growth stops.
    let value = |t: i64| {
        if t < turn {
            disk(t)
        } else {
            disk(turn) - 40.0 * GB
        }
    };
    let policy = AlertPolicy::default();
    let (mut firing, mut raised, mut resolved) = (false, None, None);
    let mut now = 2 * DAY_MS;
    while now < truth {
        let grid = history(now, now as u64, value);
        let ex = time_to_exhaustion(&grid, LIMIT, now, &CapacityConfig::default()).unwrap();
        match predictive_alert(&ex, now, &policy, firing) {
            AlertTransition::Raise => raised = raised.or(Some(now)),
            AlertTransition::Resolve => resolved = resolved.or(Some(now)),
            _ => {}
        }
        firing = predictive_alert(&ex, now, &policy, firing).firing();
        now += DAY_MS / 4;
    }
    let raised = raised.expect("alert raised");
    let lead = (truth - raised) as f64 / DAY_MS as f64;
    assert!((5.0..=8.0).contains(&lead), "raised {lead:.2} days ahead");
    let resolved = resolved.expect("alert resolved");
    assert!(
        resolved > turn && resolved - turn <= 2 * DAY_MS,
        "resolved {} h after the turn",
        (resolved - turn) / 3_600_000
    );
    assert!(!firing);
}

#[test]
fn a_flat_disk_is_never_full_and_needs_nothing() {
    let grid = history(5 * DAY_MS, 3, |_| 120.0 * GB);
    let now = 5 * DAY_MS;
    let ex = time_to_exhaustion(&grid, LIMIT, now, &CapacityConfig::default()).unwrap();
    assert_eq!(ex.eta, None);
    assert_eq!(ex.risk, Risk::None);
    assert_eq!(ex.recommend(now + 30 * DAY_MS, 0.1).add, 0.0);
    assert_eq!(
        predictive_alert(&ex, now, &AlertPolicy::default(), false),
        AlertTransition::Quiet
    );
}

#[test]
fn recommendation_covers_the_safe_period() {
    let now = 5 * DAY_MS;
    let grid = history(now, 11, disk);
    let ex = time_to_exhaustion(&grid, LIMIT, now, &CapacityConfig::default()).unwrap();
    let rec = ex.recommend(now + 14 * DAY_MS, 0.1);
    // 14 days at 10 GB/day from about 150 GB reaches about 293 GB at a daily peak.
    let expected_peak = disk(now + 14 * DAY_MS - DAY_MS / 2 + DAY_MS / 4);
    assert!(rec.needed_limit > expected_peak / 0.9 * 0.97, "{rec:?}");
    assert!(rec.add > 90.0 * GB && rec.add < 160.0 * GB, "{rec:?}");
}

#[test]
fn already_full_is_critical_and_free_space_falling_to_zero_is_handled() {
    let now = 3 * DAY_MS;
    let grid = history(now, 5, disk);
    let ex = time_to_exhaustion(&grid, 120.0 * GB, now, &CapacityConfig::default()).unwrap();
    assert_eq!(ex.risk, Risk::Critical);
    assert_eq!(ex.describe(now), "full now");

    let free = Grid {
        values: grid.values.iter().map(|v| LIMIT - v).collect(),
        ..grid.clone()
    };
    let ex = time_to_floor(&free, 0.0, now, &CapacityConfig::default()).unwrap();
    let days = ex.days_left(now).unwrap();
    let truth_days = (truth() - now) as f64 / DAY_MS as f64;
    assert!(
        (days - truth_days).abs() <= 0.1 * truth_days,
        "{days} vs {truth_days}"
    );
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let grid = history(DAY_MS, 1, disk);
    let cfg = CapacityConfig::default();
    assert!(matches!(
        time_to_exhaustion(&grid, f64::NAN, 0, &cfg),
        Err(ForecastError::InvalidLimit(_))
    ));
    let empty = Grid {
        start: 0,
        step: STEP,
        values: vec![f64::NAN; 10],
    };
    assert_eq!(
        time_to_exhaustion(&empty, LIMIT, 0, &cfg),
        Err(ForecastError::NoData { len: 10 })
    );
    let bad_step = Grid {
        step: 0,
        ..grid.clone()
    };
    assert_eq!(
        time_to_exhaustion(&bad_step, LIMIT, 0, &cfg),
        Err(ForecastError::InvalidStep(0))
    );
    let two = Grid {
        start: 0,
        step: STEP,
        values: vec![1.0, 2.0],
    };
    assert!(matches!(
        time_to_exhaustion(&two, LIMIT, 0, &cfg),
        Err(ForecastError::TooShort { .. })
    ));
}
