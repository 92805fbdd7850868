use hush_query::{EngineOptions, QueryError};

use crate::*;

fn err(q: &str) -> QueryError {
    engine(&[("x", &[(0, 1.0)])]).instant(q, 0).unwrap_err()
}

#[test]
fn unsupported_constructs_name_themselves() {
    for (q, what) in [
        (
            "double_exponential_smoothing(x[5m], 0.5, 0.5)",
            "function `double_exponential_smoothing`",
        ),
        ("mad_over_time(x[5m])", "function `mad_over_time`"),
        ("holt_winters(x[5m], 0.5, 0.5)", "function `holt_winters`"),
        ("limitk(2, x)", "aggregation `limitk`"),
    ] {
        let e = err(q);
        assert!(e.is_bad_input());
        assert!(e.to_string().starts_with("unsupported: "), "{q}: {e}");
        assert!(e.to_string().contains(what), "{q}: {e}");
    }
}

#[test]
fn parse_errors_are_bad_input() {
    for q in ["sum(", "x{", "rate(x)", "1 +", "x[5m] + 1", "\"a\" + 1", ""] {
        let e = err(q);
        assert!(matches!(e, QueryError::Parse(_)), "{q}: {e:?}");
        assert!(e.is_bad_input());
    }
}

#[test]
fn bad_regex_in_label_replace_is_bad_input() {
    let e = err("label_replace(x, \"a\", \"b\", \"c\", \"(\")");
    assert!(e.is_bad_input(), "{e:?}");
}

#[test]
fn range_query_arguments_are_checked() {
    let e = engine(&[("x", &[(0, 1.0)])]);
    assert!(matches!(
        e.range("x", 0, 10_000, 0),
        Err(QueryError::InvalidQuery(_))
    ));
    assert!(matches!(
        e.range("x", 10_000, 0, 1_000),
        Err(QueryError::InvalidQuery(_))
    ));
    // Prometheus limits step intervals: 11,000 intervals (11,001 points) pass, one more fails
    let e2 = e.range("x", 0, 11_001_000, 1_000).unwrap_err();
    assert!(e2.to_string().contains("11000 points"), "{e2}");
    assert!(e.range("x", 0, 11_000_000, 1_000).is_ok());
    // range vectors and strings cannot be range-query results
    assert!(matches!(
        e.range("x[1m]", 0, 10_000, 1_000),
        Err(QueryError::InvalidQuery(_))
    ));
    assert!(matches!(
        e.range("\"s\"", 0, 10_000, 1_000),
        Err(QueryError::InvalidQuery(_))
    ));
}

#[test]
fn sample_limit_is_enforced() {
    let many = ramp(0, 1, 100, 0.0, 1.0);
    let opts = EngineOptions {
        max_samples: 50,
        ..EngineOptions::default()
    };
    let e = engine_with(&[("x", &many)], opts);
    assert_eq!(
        e.instant("sum_over_time(x[5m])", 100_000),
        Err(QueryError::TooManySamples { limit: 50 })
    );
    // the limit counts what a query loads: 11 samples for a 10s window
    assert!(e.instant("sum_over_time(x[10s])", 99_000).is_ok());
}
