//! End-to-end PromQL evaluation over an in-memory storage. Expected values are computed by hand
//! from Prometheus' documented semantics; the comments show the arithmetic.

mod aggregations;
mod binary;
mod deep;
mod errors;
mod functions;
mod never_panics;
mod rates;
mod selectors;

use hush_model::{Labels, Sample, TimeSeries};
use hush_query::{Engine, EngineOptions, MemoryStorage, STALE_NAN_BITS, Value};

/// A stale marker value.
pub fn stale() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Parses `name{a="1", b="2"}` (test inputs only; values without quotes or commas).
pub fn labels(s: &str) -> Labels {
    let (name, rest) = s.split_once('{').unwrap_or((s, "}"));
    let mut pairs: Vec<(String, String)> = Vec::new();
    if !name.is_empty() {
        pairs.push(("__name__".into(), name.into()));
    }
    for kv in rest
        .trim_end_matches('}')
        .split(',')
        .map(str::trim)
        .filter(|kv| !kv.is_empty())
    {
        let (k, v) = kv.split_once('=').unwrap();
        pairs.push((k.trim().into(), v.trim().trim_matches('"').into()));
    }
    Labels::from_pairs(pairs).unwrap()
}

/// Builds an engine over series given as `(labels, [(seconds, value)])`.
pub fn engine_with(
    series: &[(&str, &[(i64, f64)])],
    options: EngineOptions,
) -> Engine<MemoryStorage> {
    let mut st = MemoryStorage::new();
    for (l, points) in series {
        let samples = points
            .iter()
            .map(|&(t, v)| Sample::new(t * 1000, v))
            .collect();
        st.add(TimeSeries::new(labels(l), samples));
    }
    Engine::new(st, options)
}

pub fn engine(series: &[(&str, &[(i64, f64)])]) -> Engine<MemoryStorage> {
    engine_with(series, EngineOptions::default())
}

/// `count` points every `step` seconds from `start`, starting at `v0` and adding `inc`.
pub fn ramp(start: i64, step: i64, count: usize, v0: f64, inc: f64) -> Vec<(i64, f64)> {
    (0..count)
        .map(|i| (start + step * i as i64, v0 + inc * i as f64))
        .collect()
}

/// An instant query at `t` seconds, as `(labels, value)` pairs, rendered with Prometheus notation.
pub fn instant(e: &Engine<MemoryStorage>, q: &str, t: i64) -> Vec<(String, f64)> {
    match e.instant(q, t * 1000) {
        Ok(Value::Vector(v)) => {
            for (_, s) in &v {
                assert_eq!(s.t, t * 1000, "vector samples carry the evaluation time");
            }
            v.into_iter().map(|(l, s)| (l.to_string(), s.v)).collect()
        }
        other => panic!("{q}: expected a vector, got {other:?}"),
    }
}

/// The value of a one-element instant result (or a scalar).
pub fn one(e: &Engine<MemoryStorage>, q: &str, t: i64) -> f64 {
    match e.instant(q, t * 1000) {
        Ok(Value::Scalar(_, v)) => v,
        Ok(Value::Vector(v)) if v.len() == 1 => v[0].1.v,
        other => panic!("{q}: expected one value, got {other:?}"),
    }
}

pub fn approx(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[track_caller]
pub fn assert_approx(got: f64, want: f64) {
    assert!(approx(got, want), "got {got}, want {want}");
}

#[track_caller]
pub fn assert_vector(got: Vec<(String, f64)>, want: &[(&str, f64)]) {
    let got_s: Vec<&str> = got.iter().map(|(l, _)| l.as_str()).collect();
    let want_s: Vec<&str> = want.iter().map(|(l, _)| *l).collect();
    assert_eq!(got_s, want_s, "labels differ; got {got:?}");
    for ((l, g), (_, w)) in got.iter().zip(want) {
        assert!(approx(*g, *w), "{l}: got {g}, want {w}");
    }
}
