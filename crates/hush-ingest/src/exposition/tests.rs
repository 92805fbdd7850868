use super::*;
use hush_model::{Labels, Sample};

const NOW: i64 = 1_700_000_000_000;

fn ok(text: &str) -> Vec<TimeSeries> {
    parse(text, NOW, &Limits::default()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn err(text: &str) -> IngestError {
    parse(text, NOW, &Limits::default()).unwrap_err()
}

fn one(ts: &[TimeSeries], rendered: &str) -> Vec<Sample> {
    ts.iter()
        .find(|s| s.labels.to_string() == rendered)
        .unwrap_or_else(|| {
            panic!(
                "no `{rendered}` in {:?}",
                ts.iter().map(|s| s.labels.to_string()).collect::<Vec<_>>()
            )
        })
        .samples
        .clone()
}

#[test]
fn text_format_with_comments_types_and_timestamps() {
    let text = "# A comment\n\
        # HELP http_requests_total The total.\\nSecond line.\n\
        # TYPE http_requests_total counter\n\
        http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n\
        http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n\
        \n\
        metric_without_timestamp_and_labels 12.47\n\
        up 1\r\n";
    let doc = parse_document(text, Format::Text, NOW, &Limits::default()).unwrap();
    let s = &doc.series;
    assert_eq!(s.len(), 4);
    assert_eq!(
        one(s, r#"http_requests_total{code="200", method="post"}"#),
        [Sample::new(1395066363000, 1027.0)]
    );
    assert_eq!(
        one(s, "metric_without_timestamp_and_labels{}"),
        [Sample::new(NOW, 12.47)]
    );
    assert_eq!(one(s, "up{}"), [Sample::new(NOW, 1.0)]);
    assert_eq!(doc.metadata.len(), 1);
    assert_eq!(doc.metadata[0].kind, MetricType::Counter);
    assert_eq!(
        doc.metadata[0].help.as_deref(),
        Some("The total.\nSecond line.")
    );
}

#[test]
fn escaped_label_values_and_delimiters_inside_values() {
    let s = ok(
        r#"msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9
weird{a="x}y",b="1,2",c="{",} 1
other_escape{a="tab\there"} 2
"#,
    );
    let l = &s[0].labels;
    assert_eq!(l.get("path"), Some(r"C:\DIR\FILE.TXT"));
    assert_eq!(l.get("error"), Some("Cannot find file:\n\"FILE.TXT\""));
    assert_eq!(s[1].labels.get("a"), Some("x}y"));
    assert_eq!(s[1].labels.get("b"), Some("1,2"));
    assert_eq!(s[1].labels.get("c"), Some("{"));
    assert_eq!(s[2].labels.get("a"), Some(r"tab\there"));
}

#[test]
fn histogram_and_summary_with_special_values() {
    let s = ok("# TYPE h histogram\n\
        h_bucket{le=\"0.05\"} 24054\n\
        h_bucket{le=\"+Inf\"} 144320\n\
        h_sum 53423\n\
        h_count 144320\n\
        # TYPE s summary\n\
        s{quantile=\"0.5\"} 4773\n\
        s_sum 1.7560473e+07\n\
        s_count 2693\n");
    assert_eq!(s.len(), 7);
    assert_eq!(one(&s, r#"h_bucket{le="+Inf"}"#)[0].v, 144320.0);
    assert_eq!(one(&s, "s_sum{}")[0].v, 1.7560473e7);
}

#[test]
fn non_finite_values_are_rejected_with_line_unless_dropped() {
    for v in ["NaN", "+Inf", "-Inf"] {
        let e = err(&format!("ok 1\ns{{quantile=\"0.5\"}} {v}\n"));
        assert_eq!(e.reason(), "non_finite_value");
        assert!(
            e.to_string()
                .starts_with("line 2: series `s{quantile=\"0.5\"}`"),
            "{e}"
        );
    }
    let limits = Limits {
        non_finite: crate::NonFinite::Drop,
        ..Limits::default()
    };
    let s = parse("a NaN\nb +Inf\nc 1\n", NOW, &limits).unwrap();
    assert_eq!(s.len(), 1);
}

#[test]
fn open_metrics_document() {
    let text = "# TYPE acme_http_router_request_seconds summary\n\
        # UNIT acme_http_router_request_seconds seconds\n\
        # HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.\n\
        acme_http_router_request_seconds_sum{path=\"/api/v1\",method=\"GET\"} 9036.32\n\
        acme_http_router_request_seconds_count{path=\"/api/v1\",method=\"GET\"} 807283.0\n\
        acme_http_router_request_seconds_created{path=\"/api/v1\",method=\"GET\"} 1605281325.0\n\
        # TYPE foo counter\n\
        foo_total 17.0 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67\n\
        foo_created 1520430000.123\n\
        # TYPE go_info info\n\
        go_info{version=\"go1.21\"} 1\n\
        # TYPE door stateset\n\
        door{door=\"open\"} 1\n\
        door{door=\"closed\"} 0\n\
        # TYPE cache gaugehistogram\n\
        cache_bucket{le=\"+Inf\"} 3\n\
        cache_gcount 3\n\
        # EOF\n";
    assert_eq!(Format::detect(text), Format::OpenMetrics);
    let doc = parse_document(text, Format::OpenMetrics, NOW, &Limits::default()).unwrap();
    let names: Vec<_> = doc
        .series
        .iter()
        .map(|s| s.labels.metric_name().unwrap().to_string())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with("_created")), "{names:?}");
    assert_eq!(doc.series.len(), 8);
    // Float seconds become milliseconds.
    assert_eq!(
        one(&doc.series, "foo_total{}"),
        [Sample::new(1520879607789, 17.0)]
    );
    let unit = doc
        .metadata
        .iter()
        .find(|m| m.name == "acme_http_router_request_seconds")
        .unwrap();
    assert_eq!(
        (unit.kind, unit.unit.as_deref()),
        (MetricType::Summary, Some("seconds"))
    );
}

#[test]
fn created_of_a_gauge_family_is_kept() {
    let s = ok("# TYPE job_created gauge\njob_created 1.6e9\n# TYPE x gauge\nx_created 2\n");
    assert_eq!(s.len(), 2);
}

#[test]
fn eof_rules() {
    let e = err("a 1\n# EOF\nb 2\n# EOF\n");
    assert_eq!(e.reason(), "bad_exposition");
    assert_eq!(
        e.to_string(),
        "line 3, column 1: content after `# EOF` on line 2"
    );
    let e = parse_document("a 1\n", Format::OpenMetrics, NOW, &Limits::default()).unwrap_err();
    assert_eq!(e.to_string(), "line 2, column 1: missing `# EOF`");
    // In the text format `# EOF` in the middle is just a comment.
    assert_eq!(
        parse_document("# EOF\na 1\n", Format::Text, NOW, &Limits::default())
            .unwrap()
            .series
            .len(),
        1
    );
}

#[test]
fn syntax_errors_name_line_and_column() {
    let cases = [
        (
            "up 1\nfoo{a=\"1\" 2\n",
            "line 2, column 11: expected `,` or `}` after label value",
        ),
        (
            "foo{a=\"1} 2\n",
            "line 1, column 7: unterminated label value",
        ),
        (
            "foo{a=1} 2\n",
            "line 1, column 7: expected `\"` to open the value of label `a`",
        ),
        ("foo{=\"1\"} 2\n", "line 1, column 5: expected label name"),
        (
            "foo{a} 2\n",
            "line 1, column 6: expected `=` after label name `a`",
        ),
        ("foo\n", "line 1, column 4: expected value"),
        ("foo abc\n", "line 1, column 5: invalid value `abc`"),
        ("foo 1 12.5\n", "line 1, column 7: invalid timestamp `12.5`"),
        (
            "foo 1 2 3\n",
            "line 1, column 9: unexpected text after sample",
        ),
        ("9foo 1\n", "line 1, column 1: expected metric name"),
        (
            "{\"utf8.name\"} 1\n",
            "line 1, column 1: expected metric name",
        ),
        (
            "foo-bar 1\n",
            "line 1, column 4: expected space before value",
        ),
        (
            "# TYPE foo countr\n",
            "line 1, column 12: unknown metric type `countr`",
        ),
        (
            "# TYPE\n",
            "line 1, column 7: expected metric name after `# TYPE`",
        ),
        ("ünï{a=\"é\"} x\n", "line 1, column 1: expected metric name"),
        ("a{b=\"é\"} x\n", "line 1, column 10: invalid value `x`"),
    ];
    for (text, want) in cases {
        let e = err(text);
        assert_eq!(e.reason(), "bad_exposition");
        assert_eq!(e.to_string(), want, "{text:?}");
    }
}

#[test]
fn label_validation_and_duplicates() {
    assert_eq!(
        err("foo{a=\"1\",a=\"2\"} 1\n").reason(),
        "duplicate_label_name"
    );
    assert_eq!(
        err("foo{__name__=\"x\"} 1\n").reason(),
        "duplicate_label_name"
    );
    // The same series twice: merged, first value at a timestamp wins.
    let s = ok("a{x=\"1\"} 1 1000\na{x=\"1\"} 2 1000\na{x=\"1\"} 3 2000\n");
    assert_eq!(s.len(), 1);
    assert_eq!(
        s[0].samples,
        [Sample::new(1000, 1.0), Sample::new(2000, 3.0)]
    );
    // Empty label values mean "absent".
    assert_eq!(
        ok("a{x=\"\"} 1\n")[0].labels,
        Labels::from_pairs([("__name__", "a")]).unwrap()
    );
}

#[test]
fn limits_apply() {
    let l = Limits {
        max_series_per_request: 2,
        ..Limits::default()
    };
    assert_eq!(
        parse("a 1\nb 1\nc 1\n", NOW, &l).unwrap_err().reason(),
        "too_many_series"
    );
    let l = Limits {
        max_decompressed_bytes: 3,
        ..Limits::default()
    };
    assert_eq!(
        parse("a 1\n", NOW, &l).unwrap_err().reason(),
        "body_too_large"
    );
}

#[test]
fn content_types() {
    assert_eq!(
        Format::from_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        Some(Format::OpenMetrics)
    );
    assert_eq!(
        Format::from_content_type("text/plain; version=0.0.4"),
        Some(Format::Text)
    );
    assert_eq!(Format::from_content_type("application/json"), None);
}
