//! The exposition parser against `prometheus-parse` on generated documents both understand:
//! typed families, label values without `,` `=` `"` `}` (which `prometheus-parse` cannot read),
//! optional millisecond timestamps.

use hush_ingest::{Limits, exposition};
use proptest::prelude::*;
use std::collections::BTreeMap;

const NOW: i64 = 1_700_000_000_000;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Untyped,
    Histogram,
    Summary,
}

/// (metric name, labels with `le`/`quantile` normalised, value bits, timestamp ms)
type Flat = (String, BTreeMap<String, String>, u64, i64);

fn label_sets() -> impl Strategy<Value = Vec<BTreeMap<String, String>>> {
    prop::collection::vec(
        prop::collection::btree_map("l_[a-z]{1,3}", "[a-zA-Z0-9_./:-]{1,8}", 0..3),
        1..4,
    )
    .prop_map(|mut v| {
        v.sort();
        v.dedup();
        v
    })
}

fn doc() -> impl Strategy<Value = String> {
    let kind = prop_oneof![
        Just(Kind::Counter),
        Just(Kind::Gauge),
        Just(Kind::Untyped),
        Just(Kind::Histogram),
        Just(Kind::Summary)
    ];
    let family = (
        kind,
        label_sets(),
        prop::collection::vec(-1e6f64..1e6, 8),
        prop::option::of(0i64..2_000_000_000_000),
    );
    prop::collection::vec(family, 1..6).prop_map(|fams| {
        let mut out = String::new();
        for (i, (kind, sets, vals, ts)) in fams.into_iter().enumerate() {
            let name = format!("m{i}_x");
            let ts = ts.map(|t| format!(" {t}")).unwrap_or_default();
            let ty = match kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
                Kind::Untyped => "untyped",
                Kind::Histogram => "histogram",
                Kind::Summary => "summary",
            };
            out.push_str(&format!("# HELP {name} Some help.\n# TYPE {name} {ty}\n"));
            for set in sets {
                let lbl = |extra: Option<(&str, &str)>| {
                    let mut parts: Vec<String> =
                        set.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
                    if let Some((k, v)) = extra {
                        parts.push(format!("{k}=\"{v}\""));
                    }
                    if parts.is_empty() {
                        String::new()
                    } else {
                        format!("{{{}}}", parts.join(","))
                    }
                };
                match kind {
                    Kind::Counter | Kind::Gauge | Kind::Untyped => {
                        out.push_str(&format!("{name}{} {}{ts}\n", lbl(None), vals[0]));
                    }
                    Kind::Histogram => {
                        for (j, le) in ["0.1", "1", "10", "+Inf"].iter().enumerate() {
                            out.push_str(&format!(
                                "{name}_bucket{} {}{ts}\n",
                                lbl(Some(("le", le))),
                                vals[j].abs()
                            ));
                        }
                        out.push_str(&format!(
                            "{name}_sum{} {}{ts}\n{name}_count{} {}{ts}\n",
                            lbl(None),
                            vals[4],
                            lbl(None),
                            vals[5].abs()
                        ));
                    }
                    Kind::Summary => {
                        for (j, q) in ["0.5", "0.99"].iter().enumerate() {
                            out.push_str(&format!(
                                "{name}{} {}{ts}\n",
                                lbl(Some(("quantile", q))),
                                vals[j]
                            ));
                        }
                        out.push_str(&format!("{name}_sum{} {}{ts}\n", lbl(None), vals[4]));
                    }
                }
            }
        }
        out
    })
}

fn normalise(mut labels: BTreeMap<String, String>) -> BTreeMap<String, String> {
    for k in ["le", "quantile"] {
        if let Some(v) = labels.get_mut(k) {
            *v = v
                .parse::<f64>()
                .map(|f| f.to_string())
                .unwrap_or_else(|_| v.clone());
        }
    }
    labels
}

fn ours(text: &str) -> Vec<Flat> {
    let series = exposition::parse(text, NOW, &Limits::default()).expect("hush parses");
    let mut out: Vec<Flat> = Vec::new();
    for s in series {
        let name = s.labels.metric_name().unwrap_or_default().to_string();
        let labels: BTreeMap<_, _> = s
            .labels
            .iter()
            .filter(|l| l.name != "__name__")
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect();
        for p in s.samples {
            out.push((name.clone(), normalise(labels.clone()), p.v.to_bits(), p.t));
        }
    }
    out.sort();
    out
}

fn theirs(text: &str) -> Vec<Flat> {
    use prometheus_parse::{Scrape, Value};
    let at = chrono::DateTime::from_timestamp_millis(NOW).unwrap();
    let scrape =
        Scrape::parse_at(text.lines().map(|l| Ok(l.to_string())), at).expect("oracle parses");
    let mut out: Vec<Flat> = Vec::new();
    for s in scrape.samples {
        let labels: BTreeMap<_, _> = s
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let t = s.timestamp.timestamp_millis();
        let mut push = |name: String, extra: Option<(&str, f64)>, v: f64| {
            let mut l = labels.clone();
            if let Some((k, x)) = extra {
                l.insert(k.to_string(), x.to_string());
            }
            out.push((name, normalise(l), v.to_bits(), t));
        };
        match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => push(s.metric, None, v),
            Value::Histogram(hs) => {
                for h in hs {
                    push(
                        format!("{}_bucket", s.metric),
                        Some(("le", h.less_than)),
                        h.count,
                    );
                }
            }
            Value::Summary(qs) => {
                for q in qs {
                    push(s.metric.clone(), Some(("quantile", q.quantile)), q.count);
                }
            }
        }
    }
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn agrees_with_prometheus_parse(text in doc()) {
        prop_assert_eq!(ours(&text), theirs(&text), "{}", text);
    }
}

#[test]
fn agrees_on_a_node_exporter_excerpt() {
    let text = "# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n\
        # TYPE node_cpu_seconds_total counter\n\
        node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 4163.55\n\
        node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 129.87\n\
        # HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.\n\
        # TYPE go_gc_duration_seconds summary\n\
        go_gc_duration_seconds{quantile=\"0\"} 2.4e-05\n\
        go_gc_duration_seconds{quantile=\"1\"} 0.000176\n\
        go_gc_duration_seconds_sum 0.003\n\
        go_gc_duration_seconds_count 27\n\
        # TYPE node_load1 gauge\n\
        node_load1 0.21\n";
    assert_eq!(ours(text), theirs(text));
    assert_eq!(ours(text).len(), 7);
}
