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
                value: Some(v),
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

/// Found by the `remote_write` fuzz target: `-0.0` came back as `+0.0` because proto3 skips
/// fields equal to the default and `-0.0 == 0.0`.
#[test]
fn negative_zero_survives_a_round_trip() {
    let input = vec![series(&[("__name__", "z")], &[(1, -0.0), (2, 0.0)])];
    let out = decode(&encode(&input), &Limits::default()).unwrap();
    assert_eq!(out[0].samples[0].v.to_bits(), (-0.0f64).to_bits());
    assert_eq!(out[0].samples[1].v.to_bits(), 0);
    // +0.0 is still left off the wire, as Prometheus leaves it off.
    let zero = WireSample {
        value: None,
        timestamp: 1,
    }
    .encode_to_vec();
    assert_eq!(zero, [0x10, 0x01]);
}

/// The fuzz target's crash input (`crash-c4ebb5f5…`, mode byte dropped), kept as a regression test.
#[test]
fn fuzz_crash_c4ebb5f5_round_trips() {
    let raw = [
        10, 137, 1, 10, 34, 10, 8, 95, 95, 110, 97, 109, 101, 95, 95, 18, 22, 110, 111, 100, 101,
        95, 99, 112, 117, 95, 115, 101, 99, 111, 110, 100, 115, 95, 116, 111, 116, 97, 108, 10, 8,
        10, 3, 99, 112, 117, 18, 1, 48, 10, 26, 10, 8, 105, 110, 115, 116, 97, 110, 99, 101, 18,
        14, 49, 48, 46, 48, 46, 51, 46, 49, 55, 58, 47, 49, 48, 48, 10, 11, 10, 3, 106, 111, 98,
        18, 4, 110, 111, 100, 101, 10, 12, 10, 4, 109, 111, 100, 101, 18, 4, 105, 100, 108, 101,
        18, 16, 9, 0, 0, 0, 128, 87, 87, 33, 65, 16, 128, 208, 149, 255, 188, 49, 18, 16, 9, 0, 0,
        0, 0, 0, 0, 0, 128, 16, 152, 197, 150, 255, 188, 65, 16, 152, 197, 150, 255, 152, 188, 49,
    ];
    let out = decode_protobuf(&raw, &Limits::default()).unwrap();
    let again = decode(&encode(&out), &Limits::default()).unwrap();
    let bits = |s: &[TimeSeries]| {
        s.iter()
            .flat_map(|s| s.samples.iter().map(|p| (p.t, p.v.to_bits())))
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&again), bits(&out));
}
