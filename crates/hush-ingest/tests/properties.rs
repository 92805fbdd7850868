//! Properties of every decoder: round trips keep series exactly, and no input panics.

use hush_ingest::{Limits, csv, exposition, otlp, remote_write, stale_marker};
use hush_model::{Labels, Sample, TimeSeries};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => -1e12f64..1e12,
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(stale_marker()),
        1 => any::<i32>().prop_map(f64::from),
    ]
}

/// Distinct valid series with any label values (quotes, backslashes, newlines, non-ASCII).
fn series_set() -> impl Strategy<Value = Vec<TimeSeries>> {
    let labels = (
        "[a-zA-Z_:][a-zA-Z0-9_:]{0,12}",
        prop::collection::btree_map(
            "[a-z][a-z0-9_]{0,6}",
            "\\PC{1,10}|[\"\\\\\n{},=]{1,4}",
            0..5,
        ),
    );
    let samples = prop::collection::btree_map(0i64..4_000_000_000_000, value(), 1..4);
    prop::collection::vec((labels, samples), 0..20).prop_map(|v| {
        let mut out: Vec<TimeSeries> = Vec::new();
        for ((name, pairs), samples) in v {
            let mut b = hush_model::LabelsBuilder::default();
            b.push("__name__", name);
            for (k, val) in pairs {
                b.push(k, val);
            }
            let labels = b.build().expect("generated labels are valid");
            if out.iter().any(|s| s.labels == labels) {
                continue;
            }
            out.push(TimeSeries::new(
                labels,
                samples
                    .into_iter()
                    .map(|(t, v)| Sample::new(t, v))
                    .collect(),
            ));
        }
        out
    })
}

/// Equality that tells NaN payloads apart, so the stale marker must survive bit for bit.
fn same(a: &[TimeSeries], b: &[TimeSeries]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.labels == y.labels
                && x.samples.len() == y.samples.len()
                && x.samples
                    .iter()
                    .zip(&y.samples)
                    .all(|(p, q)| p.t == q.t && p.v.to_bits() == q.v.to_bits())
        })
}

/// Renders series in the text format, escaping label values.
fn render(series: &[TimeSeries]) -> String {
    let mut out = String::new();
    for s in series {
        let name = s.labels.metric_name().unwrap_or_default();
        let labels: Vec<String> = s
            .labels
            .iter()
            .filter(|l| l.name != "__name__")
            .map(|l| {
                let v = l
                    .value
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                format!("{}=\"{v}\"", l.name)
            })
            .collect();
        for p in &s.samples {
            // Stale markers cannot be written in text; render the others.
            if p.v.is_nan() {
                continue;
            }
            out.push_str(&format!(
                "{name}{{{}}} {:?} {}\n",
                labels.join(","),
                p.v,
                p.t
            ));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn remote_write_round_trip(series in series_set()) {
        let out = remote_write::decode(&remote_write::encode(&series), &Limits::default()).unwrap();
        prop_assert!(same(&series, &out), "{:?}\n{:?}", series, out);
    }

    #[test]
    fn exposition_round_trip(series in series_set()) {
        let mut expected: Vec<TimeSeries> = series.clone();
        for s in &mut expected {
            s.samples.retain(|p| !p.v.is_nan());
        }
        expected.retain(|s| !s.samples.is_empty());
        let text = render(&series);
        let out = exposition::parse(&text, 0, &Limits::default()).unwrap();
        prop_assert!(same(&expected, &out), "{}\n{:?}", text, out);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let l = Limits::default();
        let _ = remote_write::decode(&bytes, &l);
        let _ = remote_write::decode_protobuf(&bytes, &l);
        let _ = otlp::decode_metrics_protobuf(&bytes, &l);
        let _ = otlp::decode_metrics_json(&bytes, &l);
        let text = String::from_utf8_lossy(&bytes);
        let _ = exposition::parse(&text, 0, &l);
        let _ = csv::parse(&text, &Labels::from_pairs([("__name__", "x")]).unwrap(), &l);
    }

    #[test]
    fn exposition_like_text_never_panics(text in "[a-z_{}=\",# \\n\\\\0-9.+eEINaf\t:-]{0,300}") {
        let l = Limits::default();
        let _ = exposition::parse(&text, 0, &l);
        let _ = exposition::parse_document(&text, exposition::Format::OpenMetrics, 0, &l);
    }

    #[test]
    fn snappy_wrapped_protobuf_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let body = snap::raw::Encoder::new().compress_vec(&bytes).unwrap();
        let _ = remote_write::decode(&body, &Limits::default());
    }
}
