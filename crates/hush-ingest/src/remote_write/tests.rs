use super::*;
use crate::limits::stale_marker;
use hush_model::Labels;

fn series(pairs: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries::new(
        Labels::from_pairs(pairs.iter().copied()).unwrap(),
        samples.iter().map(|&(t, v)| Sample::new(t, v)).collect(),
    )
}

fn wire(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> WireSeries {
    WireSeries {
        labels: labels
            .iter()
            .map(|(n, v)| WireLabel {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
        samples: samples
            .iter()
            .map(|&(t, v)| WireSample {
                value: v,
                timestamp: t,
            })
            .collect(),
    }
}

fn body(ts: Vec<WireSeries>) -> Vec<u8> {
    let raw = WriteRequest { timeseries: ts }.encode_to_vec();
    snap::raw::Encoder::new().compress_vec(&raw).unwrap()
}

#[test]
fn round_trip_keeps_stale_marker_bits() {
    let input = vec![
        series(
            &[("__name__", "up"), ("job", "node")],
            &[(1000, 1.0), (2000, stale_marker())],
        ),
        series(
            &[("__name__", "node_load1"), ("instance", "a:9100")],
            &[(1000, 0.25)],
        ),
    ];
    let out = decode(&encode(&input), &Limits::default()).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].labels, input[0].labels);
    assert_eq!(out[0].samples[1].v.to_bits(), super::super::STALE_NAN_BITS);
    assert_eq!(out[1], input[1]);
}

#[test]
fn unknown_fields_are_ignored() {
    let mut ts = wire(&[("__name__", "up")], &[(5, 1.0)]).encode_to_vec();
    // TimeSeries field 3 (exemplars) and 4 (native histograms), length-delimited.
    ts.extend_from_slice(&[0x1a, 2, 0x08, 0x01, 0x22, 1, 0x00]);
    let mut raw = Vec::new();
    raw.push(0x0a); // WriteRequest.timeseries
    raw.push(ts.len() as u8);
    raw.extend_from_slice(&ts);
    // WriteRequest field 3 (metadata) with a string inside.
    raw.extend_from_slice(&[0x1a, 3, 0x22, 1, b'x']);
    let out = decode_protobuf(&raw, &Limits::default()).unwrap();
    assert_eq!(out, vec![series(&[("__name__", "up")], &[(5, 1.0)])]);
}

#[test]
fn series_without_samples_are_skipped() {
    let b = body(vec![
        wire(&[("__name__", "a")], &[]),
        wire(&[("__name__", "b")], &[(1, 2.0)]),
    ]);
    let out = decode(&b, &Limits::default()).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].labels.metric_name(), Some("b"));
}

#[test]
fn truncated_snappy_is_bad_snappy() {
    let b = body(vec![wire(
        &[("__name__", "up"), ("job", "node")],
        &[(1, 1.0)],
    )]);
    let e = decode(&b[..b.len() - 3], &Limits::default()).unwrap_err();
    assert_eq!(e.reason(), "bad_snappy");
    assert_eq!(
        decode(&[], &Limits::default()).unwrap_err().reason(),
        "bad_snappy"
    );
}

#[test]
fn oversized_header_is_refused_before_allocating() {
    // A varint header announcing 4 GiB - 1 followed by almost nothing.
    let b = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
    let e = decode(&b, &Limits::default()).unwrap_err();
    assert_eq!(e.reason(), "body_too_large");
    assert!(e.to_string().contains("max_decompressed_bytes"), "{e}");
}

#[test]
fn invalid_protobuf_is_bad_protobuf() {
    let raw = [0x0a, 0x05, 0x01];
    let b = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
    assert_eq!(
        decode(&b, &Limits::default()).unwrap_err().reason(),
        "bad_protobuf"
    );
}

#[test]
fn non_finite_values_name_the_series() {
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let b = body(vec![
            wire(&[("__name__", "ok")], &[(1, 1.0)]),
            wire(&[("__name__", "bad"), ("job", "x")], &[(7, v)]),
        ]);
        let e = decode(&b, &Limits::default()).unwrap_err();
        assert_eq!(e.reason(), "non_finite_value");
        assert!(
            e.to_string()
                .starts_with(r#"series `bad{job="x"}`: non-finite value"#),
            "{e}"
        );
    }
}

#[test]
fn label_problems_are_specific() {
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("__name__", "up"), ("a", "1"), ("a", "2")],
            "duplicate_label_name",
        ),
        (&[("__name__", "up"), ("", "1")], "empty_label_name"),
        (&[("__name__", "up"), ("a-b", "1")], "invalid_label_name"),
        (&[("job", "x")], "invalid_metric_name"),
    ];
    for (labels, reason) in cases {
        let e = decode(&body(vec![wire(labels, &[(1, 1.0)])]), &Limits::default()).unwrap_err();
        assert_eq!(e.reason(), reason, "{labels:?}");
    }
}

#[test]
fn request_limits() {
    let b = body(vec![
        wire(&[("__name__", "a")], &[(1, 1.0), (2, 2.0)]),
        wire(&[("__name__", "b")], &[(1, 1.0)]),
    ]);
    let l = Limits {
        max_series_per_request: 1,
        ..Limits::default()
    };
    assert_eq!(decode(&b, &l).unwrap_err().reason(), "too_many_series");
    let l = Limits {
        max_samples_per_request: 2,
        ..Limits::default()
    };
    assert_eq!(decode(&b, &l).unwrap_err().reason(), "too_many_samples");
    let l = Limits {
        max_decompressed_bytes: 8,
        ..Limits::default()
    };
    assert_eq!(decode(&b, &l).unwrap_err().reason(), "body_too_large");
}
