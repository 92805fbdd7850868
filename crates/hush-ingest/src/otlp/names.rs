//! OTLP names to Prometheus names, following the Prometheus OTLP receiver's default
//! `UnderscoreEscapingWithSuffixes` translation (prometheus/otlptranslator): non-alphanumeric runs
//! become `_`, the unit becomes a suffix (`s` → `_seconds`, `By/s` → `_bytes_per_second`), gauges
//! with unit `1` get `_ratio` and monotonic counters `_total`.

use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};

/// What the name is for; it decides the `_total` and `_ratio` suffixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    Counter,
    Gauge,
    /// Histograms and summaries: the unit only; `_bucket`/`_sum`/`_count` are added by the caller.
    Distribution,
}

/// UCUM units Prometheus spells out; anything else is kept (sanitised) as it is.
fn unit_word(unit: &str) -> &str {
    match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tebibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "%" => "percent",
        "1" => "",
        other => other,
    }
}

/// Units after a `/`, in the singular.
fn per_unit_word(unit: &str) -> &str {
    match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        other => other,
    }
}

/// Splits on everything that is not an ASCII letter or digit, dropping empty tokens.
fn tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
}

/// The Prometheus metric name for an OTLP metric name, unit and shape. May return an empty
/// string (a name with no alphanumeric character), which validation then refuses.
pub(super) fn metric_name(name: &str, unit: &str, shape: Shape) -> String {
    let mut parts: Vec<&str> = tokens(name).collect();
    let unit = strip_annotations(unit);
    let (main, per) = unit.split_once('/').unwrap_or((&unit, ""));
    let main_words: Vec<&str> = tokens(unit_word(main.trim())).collect();
    if !main_words.is_empty() && !ends_with(&parts, &main_words) {
        parts.extend(&main_words);
    }
    let per = per.trim();
    if !per.is_empty() {
        let per_words: Vec<&str> = tokens(per_unit_word(per)).collect();
        if !per_words.is_empty() && !ends_with(&parts, &per_words) {
            parts.push("per");
            parts.extend(&per_words);
        }
    }
    if shape == Shape::Gauge && main.trim() == "1" && parts.last() != Some(&"ratio") {
        parts.push("ratio");
    }
    if shape == Shape::Counter {
        parts.retain(|p| *p != "total");
        parts.push("total");
    }
    let mut out = parts.join("_");
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Removes UCUM annotations (`{packets}`), which name what is counted, not a unit.
fn strip_annotations(unit: &str) -> String {
    let mut depth = 0usize;
    unit.chars()
        .filter(|&c| {
            match c {
                '{' => depth += 1,
                '}' if depth > 0 => {
                    depth -= 1;
                    return false;
                }
                _ => {}
            }
            depth == 0
        })
        .collect()
}

fn ends_with(parts: &[&str], suffix: &[&str]) -> bool {
    parts.len() >= suffix.len() && parts[parts.len() - suffix.len()..] == *suffix
}

/// A label name for an attribute key: invalid characters become `_`, a leading digit gets
/// `key_` and a single leading underscore `key` (Prometheus reserves `__` names).
pub(super) fn label_name(key: &str) -> String {
    let mut out: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "key_");
    } else if out.starts_with('_') && !out.starts_with("__") {
        out.insert_str(0, "key");
    }
    out
}

/// An attribute value as a label value: strings as they are, scalars printed, bytes in base64,
/// arrays and maps as JSON (as the OpenTelemetry Collector's `AsString` does).
pub(crate) fn value_string(v: Option<&AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BytesValue(b)) => base64(b),
        // String-table references only mean something in profiles, which carry the table.
        Some(any_value::Value::StringValueStrindex(_)) => String::new(),
        Some(other) => to_json(other).to_string(),
    }
}

fn to_json(v: &any_value::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        any_value::Value::StringValue(s) => J::String(s.clone()),
        any_value::Value::BoolValue(b) => J::Bool(*b),
        any_value::Value::IntValue(i) => J::from(*i),
        any_value::Value::DoubleValue(d) => {
            serde_json::Number::from_f64(*d).map_or(J::Null, J::Number)
        }
        any_value::Value::BytesValue(b) => J::String(base64(b)),
        any_value::Value::StringValueStrindex(_) => J::Null,
        any_value::Value::ArrayValue(a) => J::Array(
            a.values
                .iter()
                .map(|x| x.value.as_ref().map_or(J::Null, to_json))
                .collect(),
        ),
        any_value::Value::KvlistValue(kv) => J::Object(
            kv.values
                .iter()
                .map(|p| {
                    (
                        p.key.clone(),
                        p.value
                            .as_ref()
                            .and_then(|x| x.value.as_ref())
                            .map_or(J::Null, to_json),
                    )
                })
                .collect(),
        ),
    }
}

/// Standard base64 with padding; a dozen lines beat a dependency for attribute values.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_like_the_prometheus_receiver() {
        let cases = [
            (
                "http.server.request.duration",
                "s",
                Shape::Distribution,
                "http_server_request_duration_seconds",
            ),
            (
                "system.network.io",
                "By",
                Shape::Counter,
                "system_network_io_bytes_total",
            ),
            (
                "requests.total",
                "{request}",
                Shape::Counter,
                "requests_total",
            ),
            (
                "process.cpu.time",
                "s",
                Shape::Counter,
                "process_cpu_time_seconds_total",
            ),
            (
                "memory.utilization",
                "1",
                Shape::Gauge,
                "memory_utilization_ratio",
            ),
            (
                "throughput",
                "By/s",
                Shape::Gauge,
                "throughput_bytes_per_second",
            ),
            ("latency_seconds", "s", Shape::Gauge, "latency_seconds"),
            (
                "queue.size",
                "{item}/s",
                Shape::Gauge,
                "queue_size_per_second",
            ),
            ("2xx.count", "", Shape::Gauge, "_2xx_count"),
            ("weird..name__x", "", Shape::Gauge, "weird_name_x"),
            ("cpu.temp", "Cel", Shape::Gauge, "cpu_temp_celsius"),
            ("...", "", Shape::Gauge, ""),
        ];
        for (name, unit, shape, want) in cases {
            assert_eq!(metric_name(name, unit, shape), want, "{name} {unit}");
        }
    }

    #[test]
    fn label_names() {
        assert_eq!(label_name("k8s.pod.name"), "k8s_pod_name");
        assert_eq!(label_name("1st"), "key_1st");
        assert_eq!(label_name("_private"), "key_private");
        assert_eq!(label_name("__reserved"), "__reserved");
        assert_eq!(label_name("http-method"), "http_method");
    }

    #[test]
    fn values_and_base64() {
        let s = |v| value_string(Some(&AnyValue { value: Some(v) }));
        assert_eq!(s(any_value::Value::IntValue(-3)), "-3");
        assert_eq!(s(any_value::Value::BoolValue(true)), "true");
        assert_eq!(s(any_value::Value::DoubleValue(0.5)), "0.5");
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        let arr =
            any_value::Value::ArrayValue(opentelemetry_proto::tonic::common::v1::ArrayValue {
                values: vec![
                    AnyValue {
                        value: Some(any_value::Value::StringValue("a".into())),
                    },
                    AnyValue { value: None },
                ],
            });
        assert_eq!(s(arr), r#"["a",null]"#);
        assert_eq!(value_string(None), "");
    }
}
