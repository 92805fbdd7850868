//! Behaviour of the univariate detector on synthetic series: what must never alert, what must.

use hush_detect::{Config, Detector, Kind, Outcome, Verdict};
use proptest::prelude::*;

fn run(cfg: &Config, values: &[f64]) -> Vec<Outcome> {
    let mut d = Detector::new(cfg.clone()).expect("valid config");
    values.iter().map(|v| d.step(Some(*v))).collect()
}

/// Small deterministic noise (no RNG dependency): a hashed sequence in [-1, 1].
fn noise(i: usize) -> f64 {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 32;
    (x as f64 / u64::MAX as f64) * 2.0 - 1.0
}

fn daily(i: usize) -> f64 {
    50.0 + 20.0 * (i as f64 * std::f64::consts::TAU / 288.0).sin()
}

#[test]
fn constant_series_never_alerts() {
    let out = run(&Config::default(), &vec![42.0; 5000]);
    assert!(out.iter().all(|o| !o.anomaly));
}

#[test]
fn purely_seasonal_series_never_alerts_after_warmup() {
    let v: Vec<f64> = (0..288 * 14).map(daily).collect();
    let mut d = Detector::new(Config::default()).expect("valid");
    let out: Vec<Outcome> = v.iter().map(|x| d.step(Some(*x))).collect();
    assert_eq!(d.period(), 288, "the daily cycle is found");
    let alerts: Vec<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, o)| o.anomaly)
        .map(|(i, _)| i)
        .collect();
    assert!(alerts.is_empty(), "alerts at {alerts:?}");
}

#[test]
fn noisy_seasonal_series_rarely_alerts() {
    let v: Vec<f64> = (0..288 * 14).map(|i| daily(i) + noise(i)).collect();
    let alerts = run(&Config::default(), &v)
        .iter()
        .filter(|o| o.anomaly)
        .count();
    assert!(
        alerts <= 3,
        "{alerts} alerts on 4032 points of pure seasonal noise"
    );
}

#[test]
fn step_change_is_flagged_within_a_bounded_delay() {
    let mut v: Vec<f64> = (0..3000).map(|i| 10.0 + noise(i)).collect();
    for x in &mut v[2000..] {
        *x += 8.0;
    }
    let out = run(&Config::default(), &v);
    let first = out[2000..]
        .iter()
        .position(|o| o.anomaly)
        .expect("step flagged");
    assert!(first <= 5, "flagged {first} points after the step");
    assert!(out[..2000].iter().filter(|o| o.anomaly).count() <= 2);
}

#[test]
fn injected_spikes_are_found() {
    let mut v: Vec<f64> = (0..6000).map(|i| 100.0 + 3.0 * noise(i)).collect();
    let at = [1500, 2600, 3900, 5200];
    for &i in &at {
        v[i] += 40.0;
    }
    let out = run(&Config::default(), &v);
    for &i in &at {
        assert!(
            out[i].anomaly,
            "spike at {i} missed (score {})",
            out[i].score
        );
        let e = out[i].explanation.expect("explained");
        assert_eq!(e.kind, Kind::Spike);
        let b = out[i].band.expect("band");
        assert!(v[i] > b.upper && b.lower < 100.0 && b.upper > 100.0);
    }
}

#[test]
fn same_input_same_output() {
    let v: Vec<f64> = (0..4000).map(|i| daily(i) + 5.0 * noise(i)).collect();
    assert_eq!(run(&Config::default(), &v), run(&Config::default(), &v));
}

#[test]
fn restored_state_continues_exactly() {
    let v: Vec<f64> = (0..3000).map(|i| daily(i) + noise(i)).collect();
    let mut a = Detector::new(Config::default()).expect("valid");
    for x in &v[..1700] {
        a.step(Some(*x));
    }
    let json = serde_json::to_string(&a).expect("serialise");
    let mut b: Detector = serde_json::from_str(&json).expect("restore");
    for x in &v[1700..] {
        assert_eq!(a.step(Some(*x)), b.step(Some(*x)));
    }
}

#[test]
fn weekly_season_at_five_minutes_fits_in_64_kib() {
    let cfg = Config {
        period: Some(2016),
        ..Config::default()
    };
    let mut d = Detector::new(cfg).expect("valid");
    for i in 0..2016 * 3 {
        d.step(Some(
            500.0 + 100.0 * (i as f64 * std::f64::consts::TAU / 2016.0).sin() + noise(i),
        ));
    }
    assert_eq!(d.period(), 2016);
    let size = serde_json::to_vec(&d).expect("serialise").len();
    println!("weekly state: {size} bytes of JSON");
    assert!(size <= 64 * 1024, "{size} bytes");
}

#[test]
fn missing_points_are_reported_and_do_not_move_the_model() {
    let mut d = Detector::new(Config::default()).expect("valid");
    for i in 0..500 {
        d.step(Some(10.0 + noise(i)));
    }
    let o = d.step(None);
    assert!(!o.anomaly);
    assert_eq!(o.explanation.map(|e| e.kind), Some(Kind::MissingData));
    assert_eq!(
        d.step(Some(f64::NAN)).explanation.map(|e| e.kind),
        Some(Kind::MissingData)
    );
}

#[test]
fn feedback_silences_a_false_positive_and_surfaces_a_miss() {
    let base: Vec<f64> = (0..3000).map(|i| 100.0 + 3.0 * noise(i)).collect();
    let mut d = Detector::new(Config::default()).expect("valid");
    for x in &base[..2000] {
        d.step(Some(*x));
    }
    // The smallest spike that alerts, so its score is below saturation.
    let (spike, o) = (101..200)
        .map(|v| (v as f64, d.clone().step(Some(v as f64))))
        .find(|(_, o)| o.anomaly)
        .expect("some spike alerts");
    assert!(o.score < 0.999, "score {}", o.score);
    let mut quiet = d.clone();
    quiet.feedback(Verdict::FalsePositive, o.score);
    assert!(
        !quiet.step(Some(spike)).anomaly,
        "marked false positive, still alerts"
    );

    // The largest value that does not alert.
    let quiet_value = spike - 1.0;
    let small = d.clone().step(Some(quiet_value));
    assert!(!small.anomaly);
    let mut loud = d.clone();
    loud.feedback(Verdict::Missed, small.score);
    assert!(
        loud.step(Some(quiet_value)).anomaly,
        "marked missed, still silent"
    );
}

#[test]
fn invalid_config_is_refused() {
    let cfg = Config {
        sensitivity: 2.0,
        ..Config::default()
    };
    assert!(Detector::new(cfg).is_err());
}

proptest! {
    #[test]
    fn any_input_gives_bounded_scores(values in proptest::collection::vec(proptest::option::weighted(0.95, -1e300f64..1e300), 0..1500)) {
        let mut d = Detector::new(Config { warmup: 20, ..Config::default() }).expect("valid");
        for v in values {
            let o = d.step(v);
            prop_assert!((0.0..=1.0).contains(&o.score));
        }
    }

    #[test]
    fn output_depends_only_on_the_past(values in proptest::collection::vec(-1e6f64..1e6, 200..800), cut in 0usize..200) {
        let cfg = Config { warmup: 20, ..Config::default() };
        let full = run(&cfg, &values);
        let prefix = run(&cfg, &values[..cut]);
        prop_assert_eq!(&full[..cut], &prefix[..]);
    }
}

#[test]
fn one_flatline_run_raises_one_alert() {
    // A moving series that stops for 800 points: with the refractory period alone, the run
    // would be reported again every `refractory` points.
    let mut v: Vec<f64> = (0..2000).map(|i| 20.0 + 2.0 * noise(i)).collect();
    v.extend(std::iter::repeat_n(20.0, 800));
    v.extend((2800..3500).map(|i| 20.0 + 2.0 * noise(i)));
    let out = run(&Config::default(), &v);
    let flat: Vec<usize> = (0..out.len())
        .filter(|&i| out[i].anomaly && out[i].explanation.is_some_and(|e| e.kind == Kind::Flatline))
        .collect();
    assert_eq!(flat.len(), 1, "flatline alerts at {flat:?}");
    assert!((2000..2000 + 2 * Config::default().flatline_min).contains(&flat[0]));
}

#[test]
fn state_with_non_finite_fields_survives_json() {
    // Mid warm-up (season buffer holding a missing point, no previous value yet) and after
    // warm-up without a season (an empty season range is ±infinity): JSON has no NaN or
    // infinity, so these must still read back.
    let v: Vec<Option<f64>> = (0..900)
        .map(|i| (i % 97 != 5).then(|| 10.0 + noise(i)))
        .collect();
    for cut in [0, 3, 60, 400, 700] {
        let mut a = Detector::new(Config::default()).expect("valid");
        for x in &v[..cut] {
            a.step(*x);
        }
        let json = serde_json::to_string(&a).expect("serialise");
        let mut b: Detector = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("restore after {cut} points: {e}\n{json:.300}"));
        for x in &v[cut..] {
            let (oa, ob) = (a.step(*x), b.step(*x));
            assert_eq!(format!("{oa:?}"), format!("{ob:?}"), "after {cut} points");
        }
    }
}
