use hush_query::Value;

use crate::*;

#[test]
fn over_time_family() {
    // 2 4 4 4 5 5 7 9 at 0..105s every 15s: mean 5, population variance 4.
    let pts: Vec<(i64, f64)> = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as i64 * 15, v))
        .collect();
    let e = engine(&[("g{job=\"a\"}", &pts)]);
    let q = |f: &str| one(&e, &format!("{f}(g[2m])"), 105);
    assert_approx(q("avg_over_time"), 5.0);
    assert_approx(q("sum_over_time"), 40.0);
    assert_approx(q("min_over_time"), 2.0);
    assert_approx(q("max_over_time"), 9.0);
    assert_approx(q("count_over_time"), 8.0);
    assert_approx(q("last_over_time"), 9.0);
    assert_approx(q("stdvar_over_time"), 4.0);
    assert_approx(q("stddev_over_time"), 2.0);
    assert_approx(q("present_over_time"), 1.0);
    assert_approx(one(&e, "quantile_over_time(0.5, g[2m])", 105), 4.5);
    // a window of 30s at 105s holds 5, 7, 9 (75s..105s)
    assert_approx(one(&e, "avg_over_time(g[30s])", 105), 7.0);
    // only last_over_time keeps the name
    assert_vector(
        instant(&e, "last_over_time(g[1m])", 105),
        &[("g{job=\"a\"}", 9.0)],
    );
    assert_vector(
        instant(&e, "max_over_time(g[1m])", 105),
        &[("{job=\"a\"}", 9.0)],
    );
}

#[test]
fn math_functions_drop_the_name() {
    let e = engine(&[("x{a=\"1\"}", &[(0, -1.5)]), ("x{a=\"2\"}", &[(0, 2.25)])]);
    assert_vector(
        instant(&e, "abs(x)", 1),
        &[("{a=\"1\"}", 1.5), ("{a=\"2\"}", 2.25)],
    );
    assert_vector(
        instant(&e, "ceil(x)", 1),
        &[("{a=\"1\"}", -1.0), ("{a=\"2\"}", 3.0)],
    );
    assert_vector(
        instant(&e, "floor(x)", 1),
        &[("{a=\"1\"}", -2.0), ("{a=\"2\"}", 2.0)],
    );
    // round: halves go up, also for negatives
    assert_vector(
        instant(&e, "round(x)", 1),
        &[("{a=\"1\"}", -1.0), ("{a=\"2\"}", 2.0)],
    );
    assert_vector(
        instant(&e, "round(x, 0.5)", 1),
        &[("{a=\"1\"}", -1.5), ("{a=\"2\"}", 2.5)],
    );
    assert_vector(
        instant(&e, "clamp_min(x, 0)", 1),
        &[("{a=\"1\"}", 0.0), ("{a=\"2\"}", 2.25)],
    );
    assert_vector(
        instant(&e, "clamp_max(x, 0)", 1),
        &[("{a=\"1\"}", -1.5), ("{a=\"2\"}", 0.0)],
    );
    assert_vector(
        instant(&e, "clamp(x, -1, 1)", 1),
        &[("{a=\"1\"}", -1.0), ("{a=\"2\"}", 1.0)],
    );
    assert!(instant(&e, "clamp(x, 1, -1)", 1).is_empty());
    assert_vector(
        instant(&e, "sgn(x)", 1),
        &[("{a=\"1\"}", -1.0), ("{a=\"2\"}", 1.0)],
    );
    assert_vector(instant(&e, "sqrt(x{a=\"2\"})", 1), &[("{a=\"2\"}", 1.5)]);
    assert_approx(instant(&e, "exp(ln(x{a=\"2\"}))", 1)[0].1, 2.25);
    assert_approx(instant(&e, "log2(x{a=\"2\"} * 0 + 8)", 1)[0].1, 3.0);
    assert_approx(instant(&e, "log10(x{a=\"2\"} * 0 + 1000)", 1)[0].1, 3.0);
}

#[test]
fn scalar_vector_time_timestamp() {
    let e = engine(&[("x{a=\"1\"}", &[(10, 3.0)]), ("x{a=\"2\"}", &[(20, 4.0)])]);
    assert_approx(one(&e, "scalar(x{a=\"1\"})", 30), 3.0);
    // more than one element: NaN
    assert!(one(&e, "scalar(x)", 30).is_nan());
    assert_vector(instant(&e, "vector(7)", 30), &[("{}", 7.0)]);
    assert_approx(one(&e, "time()", 30), 30.0);
    assert_approx(one(&e, "time() - 5", 30), 25.0);
    // timestamp of a selector is the sample's own time; of anything else, the evaluation time
    assert_vector(
        instant(&e, "timestamp(x)", 30),
        &[("{a=\"1\"}", 10.0), ("{a=\"2\"}", 20.0)],
    );
    assert_vector(
        instant(&e, "timestamp((x))", 30),
        &[("{a=\"1\"}", 10.0), ("{a=\"2\"}", 20.0)],
    );
    assert_vector(
        instant(&e, "timestamp(x + 0)", 30),
        &[("{a=\"1\"}", 30.0), ("{a=\"2\"}", 30.0)],
    );
    let Value::Scalar(t, v) = e.instant("1 + 1", 5_000).unwrap() else {
        panic!()
    };
    assert_eq!((t, v), (5_000, 2.0));
    let Value::String(_, s) = e.instant("\"hello\"", 0).unwrap() else {
        panic!()
    };
    assert_eq!(s, "hello");
}

#[test]
fn histogram_quantile_over_rated_buckets() {
    // Buckets gaining 50 (<=0.1), 90 (<=0.5), 100 (+Inf) observations per minute.
    let b = |inc: f64| ramp(0, 15, 5, 0.0, inc / 4.0);
    let (b1, b2, b3) = (b(50.0), b(90.0), b(100.0));
    let e = engine(&[
        ("req_bucket{job=\"a\", le=\"0.1\"}", &b1),
        ("req_bucket{job=\"a\", le=\"0.5\"}", &b2),
        ("req_bucket{job=\"a\", le=\"+Inf\"}", &b3),
    ]);
    // rank 0.7*100 = 70 lies in (0.1, 0.5] at 20 of 40: 0.1 + 0.4 * 0.5
    assert_vector(
        instant(&e, "histogram_quantile(0.7, rate(req_bucket[1m]))", 60),
        &[("{job=\"a\"}", 0.3)],
    );
    assert_vector(
        instant(
            &e,
            "histogram_quantile(0.5, sum by (le) (rate(req_bucket[1m])))",
            60,
        ),
        &[("{}", 0.1)],
    );
}

#[test]
fn label_replace_and_join() {
    let e = engine(&[("up{instance=\"host-1:9100\", job=\"node\"}", &[(0, 1.0)])]);
    assert_vector(
        instant(
            &e,
            "label_replace(up, \"host\", \"$1\", \"instance\", \"(.*):.*\")",
            1,
        ),
        &[(
            "up{host=\"host-1\", instance=\"host-1:9100\", job=\"node\"}",
            1.0,
        )],
    );
    // no match: unchanged
    assert_vector(
        instant(
            &e,
            "label_replace(up, \"host\", \"$1\", \"instance\", \"nomatch\")",
            1,
        ),
        &[("up{instance=\"host-1:9100\", job=\"node\"}", 1.0)],
    );
    assert_vector(
        instant(
            &e,
            "label_join(up, \"id\", \"/\", \"job\", \"instance\")",
            1,
        ),
        &[(
            "up{id=\"node/host-1:9100\", instance=\"host-1:9100\", job=\"node\"}",
            1.0,
        )],
    );
}

#[test]
fn absent_invents_labels_from_equality_matchers() {
    let e = engine(&[("up{job=\"node\"}", &[(0, 1.0)])]);
    assert!(instant(&e, "absent(up)", 1).is_empty());
    assert_vector(
        instant(&e, "absent(nope{job=\"x\", env=~\"p.*\"})", 1),
        &[("{job=\"x\"}", 1.0)],
    );
    assert_vector(instant(&e, "absent(sum(nope))", 1), &[("{}", 1.0)]);
    assert!(instant(&e, "absent_over_time(up[1m])", 1).is_empty());
    assert_vector(
        instant(&e, "absent_over_time(nope{job=\"x\"}[1m])", 1),
        &[("{job=\"x\"}", 1.0)],
    );
}

#[test]
fn sort_orders_instant_results() {
    let e = engine(&[
        ("x{a=\"1\"}", &[(0, 3.0)]),
        ("x{a=\"2\"}", &[(0, 1.0)]),
        ("x{a=\"3\"}", &[(0, 2.0)]),
    ]);
    let vals = |q: &str| {
        instant(&e, q, 1)
            .into_iter()
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
    };
    assert_eq!(vals("sort(x)"), vec![1.0, 2.0, 3.0]);
    assert_eq!(vals("sort_desc(x)"), vec![3.0, 2.0, 1.0]);
    // other results are ordered by labels
    assert_eq!(vals("x"), vec![3.0, 1.0, 2.0]);
}

#[test]
fn calendar_and_trigonometry() {
    // 2024-02-29T13:45:10Z
    let t = 1_709_214_310;
    let e = engine(&[("ts{a=\"1\"}", &[(0, t as f64)])]);
    assert_vector(instant(&e, "hour(ts)", 10), &[("{a=\"1\"}", 13.0)]);
    assert_vector(instant(&e, "days_in_month(ts)", 10), &[("{a=\"1\"}", 29.0)]);
    // without an argument: the evaluation time
    assert_vector(instant(&e, "year()", t), &[("{}", 2024.0)]);
    assert_vector(instant(&e, "day_of_week()", t), &[("{}", 4.0)]);
    assert_approx(one(&e, "pi()", 0), std::f64::consts::PI);
    assert_approx(instant(&e, "deg(ts * 0 + pi())", 10)[0].1, 180.0);
    assert_approx(instant(&e, "cos(ts * 0)", 10)[0].1, 1.0);
}
