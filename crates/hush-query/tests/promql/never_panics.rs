//! Whatever the query string, the engine answers or errs; it never panics.

use proptest::prelude::*;

use crate::*;

const TOKENS: &[&str] = &[
    "x",
    "y",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "5m",
    "1s",
    "0s",
    ":",
    ",",
    "=",
    "!=",
    "=~",
    "!~",
    "\"a\"",
    "\"(\"",
    "job",
    "__name__",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "==",
    "!=",
    ">",
    "<",
    ">=",
    "<=",
    "bool",
    "and",
    "or",
    "unless",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "by",
    "without",
    "sum",
    "avg",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "rate",
    "irate",
    "increase",
    "histogram_quantile",
    "label_replace",
    "label_join",
    "absent",
    "timestamp",
    "clamp",
    "round",
    "scalar",
    "vector",
    "time",
    "offset",
    "@",
    "start()",
    "end()",
    "1",
    "0",
    "-1",
    "1e308",
    "NaN",
    "Inf",
    "9223372036854775807",
    "0.5",
    "sort",
    "predict_linear",
    "quantile_over_time",
    "le",
];

fn data() -> Engine<MemoryStorage> {
    let a = ramp(0, 15, 20, 0.0, 3.0);
    let b: Vec<(i64, f64)> = ramp(0, 15, 20, 1.0, 0.0)
        .into_iter()
        .map(|(t, v)| (t, if t == 150 { stale() } else { v }))
        .collect();
    engine(&[
        ("x{job=\"a\", le=\"1\"}", &a),
        ("x{job=\"b\", le=\"+Inf\"}", &b),
        ("y{job=\"a\"}", &a),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings(q in ".{0,40}") {
        let e = data();
        let _ = e.instant(&q, 200_000);
    }

    #[test]
    fn token_soup(tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 1..14)) {
        let q = tokens.join(" ");
        let e = data();
        let _ = e.instant(&q, 200_000);
        let _ = e.range(&q, 0, 300_000, 30_000);
    }
}

#[test]
fn extreme_times_and_offsets() {
    let e = data();
    for q in [
        "x offset 10000y",
        "x @ 9223372036854775",
        "rate(x[10000y])",
        "x[1s:1ms]",
        "max_over_time(x[10000y:1ms])",
    ] {
        let _ = e.instant(q, i64::MAX);
        let _ = e.instant(q, i64::MIN);
        let _ = e.range(q, i64::MIN, i64::MIN + 10, 1);
    }
}
