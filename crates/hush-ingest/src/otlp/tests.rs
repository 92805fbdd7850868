use super::*;
use crate::STALE_NAN_BITS;
use hush_model::Sample;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

const T_NS: u64 = 1_700_000_000_123_456_789;
const T_MS: i64 = 1_700_000_000_123;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        key_strindex: 0,
    }
}

fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "checkout"),
                    kv("service.instance.id", "pod-1"),
                    kv("host.name", "h1"),
                ],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metric(name: &str, unit: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        data: Some(data),
        ..Default::default()
    }
}

fn point(v: f64, attrs: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        time_unix_nano: T_NS,
        value: Some(number_data_point::Value::AsDouble(v)),
        ..Default::default()
    }
}

fn decode(metrics: Vec<Metric>) -> Result<Vec<TimeSeries>, IngestError> {
    decode_metrics_protobuf(&request(metrics).encode_to_vec(), &Limits::default())
}

fn rendered(series: &[TimeSeries]) -> Vec<(String, Vec<Sample>)> {
    series
        .iter()
        .map(|s| (s.labels.to_string(), s.samples.clone()))
        .collect()
}

fn cumulative() -> i32 {
    AggregationTemporality::Cumulative as i32
}

#[test]
fn gauge_with_resource_and_point_attributes() {
    let mut p = point(
        0.5,
        vec![kv("cpu.state", "idle"), kv("host.name", "override")],
    );
    let mut q = point(0.0, vec![]);
    q.value = Some(number_data_point::Value::AsInt(7));
    p.time_unix_nano = T_NS;
    let out = decode(vec![metric(
        "system.cpu.utilization",
        "1",
        Data::Gauge(Gauge {
            data_points: vec![p, q],
        }),
    )])
    .unwrap();
    assert_eq!(
        rendered(&out),
        [
            (
                r#"system_cpu_utilization_ratio{cpu_state="idle", host_name="override", instance="pod-1", service="checkout"}"#.into(),
                vec![Sample::new(T_MS, 0.5)]
            ),
            (
                r#"system_cpu_utilization_ratio{host_name="h1", instance="pod-1", service="checkout"}"#.into(),
                vec![Sample::new(T_MS, 7.0)]
            ),
        ]
    );
}

#[test]
fn sums_by_monotonicity_and_temporality() {
    let sum = |mono, temporality| {
        Data::Sum(Sum {
            data_points: vec![point(3.0, vec![])],
            aggregation_temporality: temporality,
            is_monotonic: mono,
        })
    };
    let out = decode(vec![metric(
        "http.requests",
        "{request}",
        sum(true, cumulative()),
    )])
    .unwrap();
    assert_eq!(out[0].labels.metric_name(), Some("http_requests_total"));
    let out = decode(vec![metric("queue.depth", "", sum(false, cumulative()))]).unwrap();
    assert_eq!(out[0].labels.metric_name(), Some("queue_depth"));
    let e = decode(vec![metric(
        "http.requests",
        "",
        sum(true, AggregationTemporality::Delta as i32),
    )])
    .unwrap_err();
    assert_eq!(e.reason(), "unsupported");
    assert!(
        e.to_string()
            .starts_with("unsupported: delta temporality of sum `http.requests`"),
        "{e}"
    );
    let e = decode(vec![metric("x", "", sum(true, 0))]).unwrap_err();
    assert_eq!(e.reason(), "unsupported");
}

#[test]
fn histogram_becomes_cumulative_buckets() {
    let p = HistogramDataPoint {
        time_unix_nano: T_NS,
        count: 6,
        sum: Some(12.5),
        bucket_counts: vec![1, 2, 3],
        explicit_bounds: vec![0.25, 1.0],
        attributes: vec![kv("route", "/a")],
        ..Default::default()
    };
    let h = Histogram {
        data_points: vec![p.clone()],
        aggregation_temporality: cumulative(),
    };
    let out = decode(vec![metric("rpc.duration", "s", Data::Histogram(h))]).unwrap();
    let got: Vec<(String, f64)> = out
        .iter()
        .map(|s| {
            let le = s
                .labels
                .get("le")
                .map(|l| format!("{{le={l}}}"))
                .unwrap_or_default();
            (
                format!("{}{le}", s.labels.metric_name().unwrap()),
                s.samples[0].v,
            )
        })
        .collect();
    let want = [
        ("rpc_duration_seconds_bucket{le=0.25}", 1.0),
        ("rpc_duration_seconds_bucket{le=1}", 3.0),
        ("rpc_duration_seconds_bucket{le=+Inf}", 6.0),
        ("rpc_duration_seconds_sum", 12.5),
        ("rpc_duration_seconds_count", 6.0),
    ];
    assert_eq!(got, want.map(|(n, v)| (n.to_string(), v)));
    assert_eq!(out[0].labels.get("service"), Some("checkout"));

    let bad = HistogramDataPoint {
        bucket_counts: vec![1, 2],
        ..p
    };
    let h = Histogram {
        data_points: vec![bad],
        aggregation_temporality: cumulative(),
    };
    let e = decode(vec![metric("rpc.duration", "s", Data::Histogram(h))]).unwrap_err();
    assert_eq!(e.reason(), "bad_otlp");
    assert_eq!(
        e.to_string(),
        "metric `rpc_duration_seconds`: 2 bucket counts for 2 explicit bounds (want one more count than bounds)"
    );
}

#[test]
fn summary_quantiles() {
    let p = SummaryDataPoint {
        time_unix_nano: T_NS,
        count: 10,
        sum: 4.0,
        quantile_values: vec![
            ValueAtQuantile {
                quantile: 0.5,
                value: 0.3,
            },
            ValueAtQuantile {
                quantile: 0.99,
                value: 0.9,
            },
        ],
        ..Default::default()
    };
    let out = decode(vec![metric(
        "gc.pause",
        "ms",
        Data::Summary(Summary {
            data_points: vec![p],
        }),
    )])
    .unwrap();
    let names: Vec<String> = out
        .iter()
        .map(|s| {
            format!(
                "{}{:?}",
                s.labels.metric_name().unwrap(),
                s.labels.get("quantile")
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "gc_pause_milliseconds Some(\"0.5\")",
            "gc_pause_milliseconds Some(\"0.99\")",
            "gc_pause_milliseconds_sum None",
            "gc_pause_milliseconds_count None"
        ]
        .map(|s| s.replace(' ', ""))
    );
}

#[test]
fn exponential_histogram_becomes_classic_buckets() {
    let p = ExponentialHistogramDataPoint {
        time_unix_nano: T_NS,
        count: 6,
        sum: Some(9.0),
        scale: 0,
        zero_count: 1,
        positive: Some(Buckets {
            offset: 0,
            bucket_counts: vec![1, 2],
        }),
        negative: Some(Buckets {
            offset: 0,
            bucket_counts: vec![1],
        }),
        ..Default::default()
    };
    let h = ExponentialHistogram {
        data_points: vec![p],
        aggregation_temporality: cumulative(),
    };
    let out = decode(vec![metric("size", "By", Data::ExponentialHistogram(h))]).unwrap();
    let buckets: Vec<(String, f64)> = out
        .iter()
        .filter_map(|s| Some((s.labels.get("le")?.to_string(), s.samples[0].v)))
        .collect();
    let want = [
        ("-1", 1.0),
        ("0", 2.0),
        ("2", 3.0),
        ("4", 5.0),
        ("+Inf", 6.0),
    ];
    assert_eq!(buckets, want.map(|(l, v)| (l.to_string(), v)));
    assert_eq!(out[0].labels.metric_name(), Some("size_bytes_bucket"));
}

#[test]
fn no_recorded_value_is_a_stale_marker() {
    let mut p = point(1.0, vec![]);
    p.flags = 1;
    let out = decode(vec![metric(
        "up",
        "",
        Data::Gauge(Gauge {
            data_points: vec![p],
        }),
    )])
    .unwrap();
    assert_eq!(out[0].samples[0].v.to_bits(), STALE_NAN_BITS);
}

#[test]
fn invalid_points() {
    let mut p = point(1.0, vec![]);
    p.time_unix_nano = 0;
    let e = decode(vec![metric(
        "up",
        "",
        Data::Gauge(Gauge {
            data_points: vec![p],
        }),
    )])
    .unwrap_err();
    assert_eq!(e.reason(), "invalid_timestamp");
    let e = decode(vec![metric(
        "up",
        "",
        Data::Gauge(Gauge {
            data_points: vec![point(f64::NAN, vec![])],
        }),
    )])
    .unwrap_err();
    assert_eq!(e.reason(), "non_finite_value");
    let e = decode(vec![metric(
        "...",
        "",
        Data::Gauge(Gauge {
            data_points: vec![point(1.0, vec![])],
        }),
    )])
    .unwrap_err();
    assert_eq!(e.reason(), "invalid_metric_name");
    // A point without a value is dropped, not an error.
    let mut p = point(1.0, vec![]);
    p.value = None;
    assert!(
        decode(vec![metric(
            "up",
            "",
            Data::Gauge(Gauge {
                data_points: vec![p]
            })
        )])
        .unwrap()
        .is_empty()
    );
}

#[test]
fn colliding_attribute_names_join_values() {
    let out = decode(vec![metric(
        "m",
        "",
        Data::Gauge(Gauge {
            data_points: vec![point(1.0, vec![kv("a_b", "2"), kv("a.b", "1")])],
        }),
    )])
    .unwrap();
    assert_eq!(out[0].labels.get("a_b"), Some("1;2"));
}

#[test]
fn bad_protobuf_and_size() {
    assert_eq!(
        decode_metrics_protobuf(&[0x0a, 0x05, 0x01], &Limits::default())
            .unwrap_err()
            .reason(),
        "bad_protobuf"
    );
    let l = Limits {
        max_decompressed_bytes: 2,
        ..Limits::default()
    };
    assert_eq!(
        decode_metrics_protobuf(&[0; 3], &l).unwrap_err().reason(),
        "body_too_large"
    );
}

const JSON: &str = r#"{
  "resourceMetrics": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}]},
    "scopeMetrics": [{
      "scope": {"name": "my.library", "version": "1.0.0"},
      "metrics": [
        {"name": "my.counter", "unit": "1", "description": "I am a Counter",
         "sum": {"aggregationTemporality": 2, "isMonotonic": true,
                 "dataPoints": [{"asDouble": 5, "startTimeUnixNano": "1544712660300000000",
                                 "timeUnixNano": "1544712660300000000",
                                 "attributes": [{"key": "my.counter.attr", "value": {"stringValue": "some value"}}]}]}},
        {"name": "my.gauge", "unit": "1", "gauge": {"dataPoints": [{"asInt": "10", "timeUnixNano": "1544712660300000000"}]}},
        {"name": "my.histogram", "unit": "ms",
         "histogram": {"aggregationTemporality": 2,
                       "dataPoints": [{"timeUnixNano": "1544712660300000000", "count": "2", "sum": 2,
                                       "bucketCounts": ["1", 1], "explicitBounds": [1], "min": 0, "max": 2}]}}
      ]
    }]
  }]
}"#;

#[test]
fn otlp_json() {
    let out = decode_metrics_json(JSON.as_bytes(), &Limits::default()).unwrap();
    let got: Vec<String> = out
        .iter()
        .map(|s| format!("{} {}", s.labels, s.samples[0].v))
        .collect();
    assert_eq!(
        got,
        [
            r#"my_counter_total{my_counter_attr="some value", service="my.service"} 5"#,
            r#"my_gauge_ratio{service="my.service"} 10"#,
            r#"my_histogram_milliseconds_bucket{le="1", service="my.service"} 1"#,
            r#"my_histogram_milliseconds_bucket{le="+Inf", service="my.service"} 2"#,
            r#"my_histogram_milliseconds_sum{service="my.service"} 2"#,
            r#"my_histogram_milliseconds_count{service="my.service"} 2"#,
        ]
    );
    assert!(out.iter().all(|s| s.samples[0].t == 1_544_712_660_300));
}

#[test]
fn bad_json_names_line_and_column() {
    let e =
        decode_metrics_json(b"{\n  \"resourceMetrics\": [,]\n}", &Limits::default()).unwrap_err();
    assert_eq!(e.reason(), "bad_json");
    assert_eq!(
        e.to_string(),
        "invalid OTLP/JSON at line 2, column 23: expected value"
    );
}

#[test]
fn json_accepts_numbers_where_strings_are_usual() {
    let body = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[
        {"asInt": 3, "timeUnixNano": 1544712660300000000}]}}]}]}]}"#;
    let out = decode_metrics_json(body.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(out[0].samples, [Sample::new(1_544_712_660_300, 3.0)]);
}
