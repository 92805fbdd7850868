use hush_query::{EngineOptions, Value};

use crate::*;

#[test]
fn instant_selector_takes_latest_sample_within_lookback() {
    let x = ramp(0, 15, 5, 1.0, 1.0); // 1..5 at 0,15,30,45,60s
    let e = engine(&[("x{job=\"a\"}", &x)]);
    assert_vector(instant(&e, "x", 50), &[("x{job=\"a\"}", 4.0)]);
    assert_vector(instant(&e, "x", 60), &[("x{job=\"a\"}", 5.0)]);
    // Prometheus 2.x includes the lookback's start: 60s + 5m is still found, a ms later not.
    assert_vector(instant(&e, "x", 360), &[("x{job=\"a\"}", 5.0)]);
    assert!(
        e.instant("x", 360_001)
            .map(|v| v == Value::Vector(vec![]))
            .unwrap()
    );
    // before the first sample
    assert!(instant(&e, "x", -1).is_empty());
}

#[test]
fn left_open_windows_follow_prometheus_3() {
    let x = ramp(0, 15, 5, 1.0, 1.0);
    let opts = EngineOptions {
        left_open_windows: true,
        ..EngineOptions::default()
    };
    let e = engine_with(&[("x", &x)], opts);
    assert!(instant(&e, "x", 360).is_empty());
    // range [0s, 30s] excludes 0s when left-open: 2 samples (2, 3)
    assert_approx(one(&e, "count_over_time(x[30s])", 30), 2.0);
    let e = engine(&[("x", &x)]);
    assert_approx(one(&e, "count_over_time(x[30s])", 30), 3.0);
}

#[test]
fn stale_marker_ends_a_series() {
    let e = engine(&[("x", &[(0, 1.0), (15, 2.0), (30, stale()), (45, 4.0)])]);
    assert_vector(instant(&e, "x", 20), &[("x{}", 2.0)]);
    assert!(instant(&e, "x", 30).is_empty());
    assert!(instant(&e, "x", 40).is_empty());
    assert_vector(instant(&e, "x", 45), &[("x{}", 4.0)]);
    // range functions skip the marker: samples 1, 2, 4
    assert_approx(one(&e, "count_over_time(x[1m])", 50), 3.0);
    assert_approx(one(&e, "sum_over_time(x[1m])", 50), 7.0);
}

#[test]
fn matchers_select_series() {
    let p: &[(i64, f64)] = &[(0, 1.0)];
    let q: &[(i64, f64)] = &[(0, 2.0)];
    let r: &[(i64, f64)] = &[(0, 3.0)];
    let e = engine(&[
        ("x{job=\"api\"}", p),
        ("x{job=\"db\"}", q),
        ("y{job=\"api\"}", r),
    ]);
    assert_vector(instant(&e, "x{job=\"db\"}", 10), &[("x{job=\"db\"}", 2.0)]);
    assert_vector(
        instant(&e, "x{job!=\"db\"}", 10),
        &[("x{job=\"api\"}", 1.0)],
    );
    assert_vector(
        instant(&e, "x{job=~\"a.*\"}", 10),
        &[("x{job=\"api\"}", 1.0)],
    );
    // regexes are anchored
    assert!(instant(&e, "x{job=~\"p\"}", 10).is_empty());
    assert_vector(
        instant(&e, "{job=\"api\"}", 10),
        &[("x{job=\"api\"}", 1.0), ("y{job=\"api\"}", 3.0)],
    );
    assert_vector(
        instant(&e, "{__name__=~\"x|y\", job!~\"db\"}", 10),
        &[("x{job=\"api\"}", 1.0), ("y{job=\"api\"}", 3.0)],
    );
}

#[test]
fn offset_and_at_shift_the_evaluation_time() {
    let x = ramp(0, 15, 9, 0.0, 1.0); // value = t/15 for t in 0..=120
    let e = engine(&[("x", &x)]);
    assert_approx(one(&e, "x offset 1m", 120), 4.0);
    assert_approx(one(&e, "x @ 30", 120), 2.0);
    assert_approx(one(&e, "x @ 60 offset 30s", 1000), 2.0);
    // negative offset looks ahead
    assert_approx(one(&e, "x offset -30s", 60), 6.0);
    // @ start() / end() in a range query pin to the query's bounds
    let Value::Matrix(m) = e.range("x @ end()", 0, 60_000, 30_000).unwrap() else {
        panic!()
    };
    assert_eq!(
        m[0].samples.iter().map(|s| s.v).collect::<Vec<_>>(),
        vec![4.0, 4.0, 4.0]
    );
    let Value::Matrix(m) = e.range("x @ start()", 30_000, 60_000, 30_000).unwrap() else {
        panic!()
    };
    assert_eq!(
        m[0].samples.iter().map(|s| s.v).collect::<Vec<_>>(),
        vec![2.0, 2.0]
    );
}

#[test]
fn range_selector_at_top_level_returns_raw_samples() {
    let e = engine(&[(
        "x{a=\"1\"}",
        &[(0, 1.0), (15, 2.0), (30, stale()), (45, 4.0)],
    )]);
    let Value::Matrix(m) = e.instant("x[45s]", 45_000).unwrap() else {
        panic!()
    };
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].labels, labels("x{a=\"1\"}"));
    let pts: Vec<(i64, f64)> = m[0].samples.iter().map(|s| (s.t, s.v)).collect();
    assert_eq!(pts, vec![(0, 1.0), (15_000, 2.0), (45_000, 4.0)]);
}

#[test]
fn range_query_evaluates_every_step() {
    let e = engine(&[("x", &ramp(0, 10, 7, 0.0, 1.0))]); // 0..6 at 0..60s
    let Value::Matrix(m) = e.range("x * 2", 0, 60_000, 20_000).unwrap() else {
        panic!()
    };
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].labels, labels("{}"));
    let pts: Vec<(i64, f64)> = m[0].samples.iter().map(|s| (s.t, s.v)).collect();
    assert_eq!(
        pts,
        vec![(0, 0.0), (20_000, 4.0), (40_000, 8.0), (60_000, 12.0)]
    );
    // a scalar becomes one series without labels
    let Value::Matrix(m) = e.range("time()", 0, 20_000, 10_000).unwrap() else {
        panic!()
    };
    assert_eq!(
        m[0].samples,
        vec![
            hush_model::Sample::new(0, 0.0),
            hush_model::Sample::new(10_000, 10.0),
            hush_model::Sample::new(20_000, 20.0)
        ]
    );
}

#[test]
fn series_appear_and_disappear_across_range_steps() {
    let e = engine(&[
        ("x{a=\"1\"}", &[(0, 1.0), (10, stale())]),
        ("x{a=\"2\"}", &[(20, 2.0)]),
    ]);
    let Value::Matrix(m) = e.range("x", 0, 20_000, 10_000).unwrap() else {
        panic!()
    };
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].samples, vec![hush_model::Sample::new(0, 1.0)]);
    assert_eq!(m[1].samples, vec![hush_model::Sample::new(20_000, 2.0)]);
}

#[test]
fn subquery_samples_inner_expression_at_aligned_steps() {
    // x = t/10 for t in 0..=120s. x[1m:20s] at 120s: inner steps 60,80,100,120 -> 6,8,10,12
    let e = engine(&[("x", &ramp(0, 10, 13, 0.0, 1.0))]);
    assert_approx(one(&e, "max_over_time(x[1m:20s])", 120), 12.0);
    assert_approx(one(&e, "count_over_time(x[1m:20s])", 120), 4.0);
    assert_approx(one(&e, "sum_over_time(x[1m:20s])", 120), 36.0);
    // steps are aligned to multiples of the step, not to the evaluation time: at 110s the
    // window [50s, 110s] holds 60, 80, 100
    assert_approx(one(&e, "count_over_time(x[1m:20s])", 110), 3.0);
    // default step 1m: [60s, 120s] holds 60 and 120 -> 6 + 12
    assert_approx(one(&e, "sum_over_time(x[1m:])", 120), 18.0);
}
