use crate::*;

fn data() -> Engine<MemoryStorage> {
    engine(&[
        ("m{job=\"a\", i=\"1\"}", &[(0, 1.0)]),
        ("m{job=\"a\", i=\"2\"}", &[(0, 5.0)]),
        ("m{job=\"b\", i=\"1\"}", &[(0, 2.0)]),
        ("m{job=\"b\", i=\"2\"}", &[(0, 4.0)]),
        ("m{job=\"b\", i=\"3\"}", &[(0, 9.0)]),
    ])
}

#[test]
fn sum_avg_min_max_count() {
    let e = data();
    assert_vector(instant(&e, "sum(m)", 10), &[("{}", 21.0)]);
    assert_vector(
        instant(&e, "sum by (job) (m)", 10),
        &[("{job=\"a\"}", 6.0), ("{job=\"b\"}", 15.0)],
    );
    assert_vector(
        instant(&e, "avg by (job) (m)", 10),
        &[("{job=\"a\"}", 3.0), ("{job=\"b\"}", 5.0)],
    );
    assert_vector(
        instant(&e, "min by (job) (m)", 10),
        &[("{job=\"a\"}", 1.0), ("{job=\"b\"}", 2.0)],
    );
    assert_vector(
        instant(&e, "max by (job) (m)", 10),
        &[("{job=\"a\"}", 5.0), ("{job=\"b\"}", 9.0)],
    );
    assert_vector(
        instant(&e, "count by (i) (m)", 10),
        &[("{i=\"1\"}", 2.0), ("{i=\"2\"}", 2.0), ("{i=\"3\"}", 1.0)],
    );
    assert_vector(
        instant(&e, "group by (job) (m)", 10),
        &[("{job=\"a\"}", 1.0), ("{job=\"b\"}", 1.0)],
    );
}

#[test]
fn without_drops_listed_labels_and_the_name() {
    let e = data();
    assert_vector(
        instant(&e, "sum without (i) (m)", 10),
        &[("{job=\"a\"}", 6.0), ("{job=\"b\"}", 15.0)],
    );
    assert_vector(
        instant(&e, "max without (job) (m)", 10),
        &[("{i=\"1\"}", 2.0), ("{i=\"2\"}", 5.0), ("{i=\"3\"}", 9.0)],
    );
    // by (__name__) keeps the name
    assert_vector(instant(&e, "sum by (__name__) (m)", 10), &[("m{}", 21.0)]);
}

#[test]
fn stddev_stdvar_quantile() {
    let e = data();
    // job b: 2, 4, 9 -> mean 5, squared deviations 9 + 1 + 16 = 26, population variance 26/3
    assert_vector(
        instant(&e, "stdvar by (job) (m)", 10),
        &[("{job=\"a\"}", 4.0), ("{job=\"b\"}", 26.0 / 3.0)],
    );
    assert_approx(
        instant(&e, "stddev by (job) (m)", 10)[1].1,
        (26.0f64 / 3.0).sqrt(),
    );
    // all five sorted 1 2 4 5 9: q=0.5 -> rank 2 -> 4; q=0.9 -> rank 3.6 -> 5 + 0.6*4
    assert_approx(one(&e, "quantile(0.5, m)", 10), 4.0);
    assert_approx(one(&e, "quantile(0.9, m)", 10), 7.4);
}

#[test]
fn topk_and_bottomk_keep_series_labels() {
    let e = data();
    assert_vector(
        instant(&e, "topk(2, m)", 10),
        &[
            ("m{i=\"3\", job=\"b\"}", 9.0),
            ("m{i=\"2\", job=\"a\"}", 5.0),
        ],
    );
    assert_vector(
        instant(&e, "bottomk(1, m) by (job)", 10),
        &[
            ("m{i=\"1\", job=\"a\"}", 1.0),
            ("m{i=\"1\", job=\"b\"}", 2.0),
        ],
    );
    assert!(instant(&e, "topk(0, m)", 10).is_empty());
    // in a range query, each step picks its own top
    let hush_query::Value::Matrix(mx) = e.range("topk(1, m)", 0, 10_000, 10_000).unwrap() else {
        panic!()
    };
    assert_eq!(mx.len(), 1);
    assert_eq!(mx[0].samples.len(), 2);
}

#[test]
fn count_values_counts_equal_values() {
    let e = engine(&[
        ("v{i=\"1\"}", &[(0, 1.0)]),
        ("v{i=\"2\"}", &[(0, 1.0)]),
        ("v{i=\"3\"}", &[(0, 0.5)]),
    ]);
    assert_vector(
        instant(&e, "count_values(\"value\", v)", 10),
        &[("{value=\"0.5\"}", 1.0), ("{value=\"1\"}", 2.0)],
    );
}

#[test]
fn aggregating_nothing_is_empty() {
    let e = data();
    assert!(instant(&e, "sum(nope)", 10).is_empty());
}
