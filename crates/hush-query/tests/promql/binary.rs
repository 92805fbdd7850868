use hush_query::QueryError;

use crate::*;

fn data() -> Engine<MemoryStorage> {
    engine(&[
        ("a{job=\"x\", i=\"1\"}", &[(0, 10.0)]),
        ("a{job=\"x\", i=\"2\"}", &[(0, 20.0)]),
        ("b{job=\"x\", i=\"1\"}", &[(0, 2.0)]),
        ("b{job=\"x\", i=\"2\"}", &[(0, 4.0)]),
        ("t{job=\"x\"}", &[(0, 100.0)]),
        ("info{job=\"x\", version=\"1.2\"}", &[(0, 1.0)]),
    ])
}

#[test]
fn scalar_arithmetic_and_precedence() {
    let e = data();
    assert_approx(one(&e, "1 + 2 * 3", 0), 7.0);
    assert_approx(one(&e, "(1 + 2) * 3", 0), 9.0);
    // ^ is right-associative and binds tighter than unary minus
    assert_approx(one(&e, "2 ^ 3 ^ 2", 0), 512.0);
    assert_approx(one(&e, "-2 ^ 2", 0), -4.0);
    assert_approx(one(&e, "7 % 3", 0), 1.0);
    assert_approx(one(&e, "-7 % 3", 0), -1.0);
    assert_eq!(one(&e, "1 / 0", 0), f64::INFINITY);
    assert!(one(&e, "0 / 0", 0).is_nan());
    assert_approx(one(&e, "1 == bool 1", 0), 1.0);
    assert_approx(one(&e, "2 < bool 1", 0), 0.0);
    assert_approx(one(&e, "-(3)", 0), -3.0);
}

#[test]
fn vector_scalar_arithmetic_drops_the_name() {
    let e = data();
    assert_vector(
        instant(&e, "a + 1", 10),
        &[
            ("{i=\"1\", job=\"x\"}", 11.0),
            ("{i=\"2\", job=\"x\"}", 21.0),
        ],
    );
    assert_vector(
        instant(&e, "100 / a", 10),
        &[
            ("{i=\"1\", job=\"x\"}", 10.0),
            ("{i=\"2\", job=\"x\"}", 5.0),
        ],
    );
    assert_vector(
        instant(&e, "-a", 10),
        &[
            ("{i=\"1\", job=\"x\"}", -10.0),
            ("{i=\"2\", job=\"x\"}", -20.0),
        ],
    );
}

#[test]
fn vector_scalar_comparison_filters_and_bool_maps_to_0_1() {
    let e = data();
    assert_vector(
        instant(&e, "a > 15", 10),
        &[("a{i=\"2\", job=\"x\"}", 20.0)],
    );
    // the vector's value is kept even when the scalar is on the left
    assert_vector(
        instant(&e, "15 < a", 10),
        &[("a{i=\"2\", job=\"x\"}", 20.0)],
    );
    assert_vector(
        instant(&e, "a > bool 15", 10),
        &[("{i=\"1\", job=\"x\"}", 0.0), ("{i=\"2\", job=\"x\"}", 1.0)],
    );
    assert_vector(
        instant(&e, "a == 10", 10),
        &[("a{i=\"1\", job=\"x\"}", 10.0)],
    );
    assert_vector(
        instant(&e, "a != 10", 10),
        &[("a{i=\"2\", job=\"x\"}", 20.0)],
    );
    assert_vector(
        instant(&e, "a <= 10", 10),
        &[("a{i=\"1\", job=\"x\"}", 10.0)],
    );
    assert_vector(
        instant(&e, "a >= 20", 10),
        &[("a{i=\"2\", job=\"x\"}", 20.0)],
    );
}

#[test]
fn vector_vector_one_to_one() {
    let e = data();
    assert_vector(
        instant(&e, "a / b", 10),
        &[("{i=\"1\", job=\"x\"}", 5.0), ("{i=\"2\", job=\"x\"}", 5.0)],
    );
    assert_vector(
        instant(&e, "a - a", 10),
        &[("{i=\"1\", job=\"x\"}", 0.0), ("{i=\"2\", job=\"x\"}", 0.0)],
    );
    // comparison keeps the left side's name and value
    assert_vector(
        instant(&e, "a > b", 10),
        &[
            ("a{i=\"1\", job=\"x\"}", 10.0),
            ("a{i=\"2\", job=\"x\"}", 20.0),
        ],
    );
    assert_vector(
        instant(&e, "a < bool b", 10),
        &[("{i=\"1\", job=\"x\"}", 0.0), ("{i=\"2\", job=\"x\"}", 0.0)],
    );
    // on() keeps only the listed labels; ignoring() removes them
    assert_vector(
        instant(&e, "a / on(i) b", 10),
        &[("{i=\"1\"}", 5.0), ("{i=\"2\"}", 5.0)],
    );
    assert_vector(
        instant(&e, "a / ignoring(job) b", 10),
        &[("{i=\"1\"}", 5.0), ("{i=\"2\"}", 5.0)],
    );
    // unmatched elements vanish
    assert_vector(
        instant(&e, "a / b{i=\"2\"}", 10),
        &[("{i=\"2\", job=\"x\"}", 5.0)],
    );
}

#[test]
fn many_to_one_needs_group_modifiers() {
    let e = data();
    let err = e.instant("a / on(job) t", 10_000).unwrap_err();
    assert!(
        matches!(&err, QueryError::Execution(m) if m.contains("many-to-one matching must be explicit")),
        "{err}"
    );
    let err = e.instant("t / on(job) a", 10_000).unwrap_err();
    assert!(
        matches!(&err, QueryError::Execution(m) if m.contains("duplicate series")),
        "{err}"
    );
    assert_vector(
        instant(&e, "a / on(job) group_left t", 10),
        &[("{i=\"1\", job=\"x\"}", 0.1), ("{i=\"2\", job=\"x\"}", 0.2)],
    );
    assert_vector(
        instant(&e, "t / on(job) group_right a", 10),
        &[
            ("{i=\"1\", job=\"x\"}", 10.0),
            ("{i=\"2\", job=\"x\"}", 5.0),
        ],
    );
    // group_left(label) copies it from the "one" side: the info-metric join
    assert_vector(
        instant(&e, "a * on(job) group_left(version) info", 10),
        &[
            ("{i=\"1\", job=\"x\", version=\"1.2\"}", 10.0),
            ("{i=\"2\", job=\"x\", version=\"1.2\"}", 20.0),
        ],
    );
}

#[test]
fn set_operators() {
    let e = data();
    assert_vector(
        instant(&e, "a and on(i) b{i=\"1\"}", 10),
        &[("a{i=\"1\", job=\"x\"}", 10.0)],
    );
    assert_vector(
        instant(&e, "a unless on(i) b{i=\"1\"}", 10),
        &[("a{i=\"2\", job=\"x\"}", 20.0)],
    );
    // default matching ignores only the name
    assert_vector(
        instant(&e, "a and b", 10),
        &[
            ("a{i=\"1\", job=\"x\"}", 10.0),
            ("a{i=\"2\", job=\"x\"}", 20.0),
        ],
    );
    assert_vector(
        instant(&e, "b{i=\"1\"} or a", 10),
        &[
            ("a{i=\"2\", job=\"x\"}", 20.0),
            ("b{i=\"1\", job=\"x\"}", 2.0),
        ],
    );
    assert!(instant(&e, "a unless b", 10).is_empty());
}

#[test]
fn dropping_the_name_may_not_merge_series() {
    let e = engine(&[("x{a=\"1\"}", &[(0, 1.0)]), ("y{a=\"1\"}", &[(0, 2.0)])]);
    let err = e.instant("{a=\"1\"} * 2", 10_000).unwrap_err();
    assert_eq!(
        err,
        QueryError::Execution("vector cannot contain metrics with the same labelset".into())
    );
}
