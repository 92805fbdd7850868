use crate::*;

/// A counter rising 10 per 15s scrape: 0, 10, 20, 30, 40 at 0..60s.
fn counter() -> Vec<(i64, f64)> {
    ramp(0, 15, 5, 0.0, 10.0)
}

#[test]
fn rate_over_aligned_window() {
    let e = engine(&[("c{job=\"a\"}", &counter())]);
    // [0s, 60s] holds all five samples: increase 40 over exactly the window.
    assert_approx(one(&e, "increase(c[1m])", 60), 40.0);
    assert_approx(one(&e, "rate(c[1m])", 60), 40.0 / 60.0);
    // rate drops the metric name
    assert_vector(
        instant(&e, "rate(c[1m])", 60),
        &[("{job=\"a\"}", 40.0 / 60.0)],
    );
}

#[test]
fn rate_extrapolates_to_unaligned_window() {
    let e = engine(&[("c", &counter())]);
    // [10s, 70s] holds 10..40 at 15..60s: 30 over 45s, average gap 15s (threshold 16.5s).
    // Start gap 5s (zero point 45*(10/30)=15s away, farther) and end gap 10s both extrapolate:
    // 30 * 60/45 = 40, rate 40/60.
    assert_approx(one(&e, "increase(c[1m])", 70), 40.0);
    assert_approx(one(&e, "rate(c[1m])", 70), 40.0 / 60.0);
    // [20s, 80s] holds 20..40 at 30..60s: 20 over 30s. Start gap 10s < 16.5 but the counter
    // would reach zero 30*(20/20)=30s before: min is 10s. End gap 20s >= 16.5: add 7.5s.
    // 20 * (30+10+7.5)/30 = 31.666…
    assert_approx(one(&e, "increase(c[1m])", 80), 20.0 * 47.5 / 30.0);
}

#[test]
fn counter_reset_is_compensated() {
    // 0, 10, 20, 5 (reset), 15: increase = (15 - 0) + 20 = 35 over the exact window.
    let e = engine(&[(
        "c",
        &[(0, 0.0), (15, 10.0), (30, 20.0), (45, 5.0), (60, 15.0)],
    )]);
    assert_approx(one(&e, "increase(c[1m])", 60), 35.0);
    assert_approx(one(&e, "rate(c[1m])", 60), 35.0 / 60.0);
    assert_approx(one(&e, "resets(c[1m])", 60), 1.0);
    // delta treats it as a gauge: 15 - 0
    assert_approx(one(&e, "delta(c[1m])", 60), 15.0);
    // irate after the reset: (15 - 5) / 15s; idelta: 10
    assert_approx(one(&e, "irate(c[1m])", 60), 10.0 / 15.0);
    assert_approx(one(&e, "idelta(c[1m])", 60), 10.0);
    // irate across the reset itself takes the new value as the increase: 5 / 15s
    assert_approx(one(&e, "irate(c[1m])", 45), 5.0 / 15.0);
    assert_approx(one(&e, "changes(c[1m])", 60), 4.0);
}

#[test]
fn counter_extrapolation_stops_at_zero() {
    // 5, 20, 35 at 15, 30, 45s; window [0s, 60s]. 30 over 30s, gap 15s.
    // Start gap 15s but zero is reached 30*(5/30)=5s before the first sample: +5s.
    // End gap 15s < 16.5s: +15s. 30 * 50/30 = 50.
    let e = engine(&[("c", &[(15, 5.0), (30, 20.0), (45, 35.0)])]);
    assert_approx(one(&e, "increase(c[1m])", 60), 50.0);
    // delta does not know about counters: 30 * (30+15+15)/30 = 60
    assert_approx(one(&e, "delta(c[1m])", 60), 60.0);
}

#[test]
fn series_starting_inside_the_window_extrapolates_half_a_gap() {
    // 100, 110, 120 at 240, 250, 260s in the 5m window [-40s, 260s]: gap 10s, start gap
    // 280s (zero point 200s away): +5s, half a gap. End gap 0. 20 * (20+5)/20 = 25.
    let e = engine(&[("c", &[(240, 100.0), (250, 110.0), (260, 120.0)])]);
    assert_approx(one(&e, "increase(c[5m])", 260), 25.0);
    assert_approx(one(&e, "rate(c[5m])", 260), 25.0 / 300.0);
    // Starting from 0, the counter is assumed to have just started: no extrapolation back.
    let e = engine(&[("c", &[(240, 0.0), (250, 10.0), (260, 20.0)])]);
    assert_approx(one(&e, "increase(c[5m])", 260), 20.0);
}

#[test]
fn gauge_delta_extrapolates_half_a_gap_too() {
    let e = engine(&[("c", &[(240, 0.0), (250, 10.0), (260, 20.0)])]);
    assert_approx(one(&e, "delta(c[5m])", 260), 25.0);
}

#[test]
fn rate_needs_two_samples() {
    let e = engine(&[("c", &[(0, 1.0), (120, 2.0)])]);
    assert!(instant(&e, "rate(c[1m])", 120).is_empty());
    assert!(instant(&e, "irate(c[1m])", 120).is_empty());
    assert!(instant(&e, "delta(c[1m])", 120).is_empty());
}

#[test]
fn sum_by_rate() {
    let a = ramp(0, 15, 5, 0.0, 15.0); // 1/s
    let b = ramp(0, 15, 5, 0.0, 30.0); // 2/s
    let c = ramp(0, 15, 5, 0.0, 45.0); // 3/s
    let e = engine(&[
        ("c{job=\"x\", i=\"1\"}", &a),
        ("c{job=\"x\", i=\"2\"}", &b),
        ("c{job=\"y\", i=\"1\"}", &c),
    ]);
    assert_vector(
        instant(&e, "sum by (job) (rate(c[1m]))", 60),
        &[("{job=\"x\"}", 3.0), ("{job=\"y\"}", 3.0)],
    );
    assert_vector(
        instant(&e, "sum(rate(c[1m])) by (i)", 60),
        &[("{i=\"1\"}", 4.0), ("{i=\"2\"}", 2.0)],
    );
}

#[test]
fn rate_with_offset_uses_the_shifted_window() {
    // 0..8 per 15s at 0..120s, i.e. 1 per 15s. rate(c[1m] offset 1m) at 120s reads [0s, 60s].
    let e = engine(&[("c", &ramp(0, 15, 9, 0.0, 1.0))]);
    assert_approx(one(&e, "increase(c[1m] offset 1m)", 120), 4.0);
    assert_approx(one(&e, "rate(c[1m] @ 60)", 1000), 4.0 / 60.0);
}

#[test]
fn deriv_and_predict_linear() {
    // gauge 100 - 0.5/s: deriv -0.5; predict 1h ahead from 60s: value at 60s is 70, minus 1800
    let g = ramp(0, 15, 5, 100.0, -7.5);
    let e = engine(&[("g", &g)]);
    assert_approx(one(&e, "deriv(g[1m])", 60), -0.5);
    assert_approx(one(&e, "predict_linear(g[1m], 3600)", 60), 70.0 - 1800.0);
}
