//! Writes seed corpora for the `fuzz/` targets: `cargo run -p hush-ingest --example fuzz_seeds -- fuzz/corpus`.
//!
//! Each seed starts with the mode byte its target reads (see `fuzz/fuzz_targets`).

use hush_ingest::{exposition, remote_write};
use std::path::Path;

#[path = "../benches/support/node_exporter.rs"]
mod node_exporter;

const OPEN_METRICS: &str = "# TYPE foo counter\n# UNIT foo seconds\n# HELP foo Help \\\\ \\n text.\n\
foo_total{a=\"x\\\"y\",b=\"}\",} 17.0 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67\n\
foo_created 1520430000.123\n# TYPE s summary\ns{quantile=\"0.5\"} NaN\ns_sum +Inf\ns_count -Inf\n\
# TYPE d stateset\nd{d=\"a\"} 1\n# TYPE i info\ni_info{v=\"1\"} 1\n# EOF\n";

const OTLP_JSON: &str = r#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}},{"key":"host.arch","value":{"arrayValue":{"values":[{"intValue":"3"},{"boolValue":true}]}}}]},"scopeMetrics":[{"metrics":[{"name":"a.b","unit":"By/s","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{"asInt":"5","timeUnixNano":"1544712660300000000","attributes":[{"key":"k","value":{"doubleValue":1.5}}]}]}},{"name":"h","unit":"s","histogram":{"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"1544712660300000000","count":"3","sum":2,"bucketCounts":["1","2"],"explicitBounds":[1]}]}},{"name":"e","exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"1","count":"4","scale":3,"zeroCount":"1","positive":{"offset":-2,"bucketCounts":["1","2"]},"negative":{"bucketCounts":["1"]}}]}},{"name":"q","summary":{"dataPoints":[{"timeUnixNano":"1","count":"2","sum":1,"quantileValues":[{"quantile":0.5,"value":0.4}]}]}},{"name":"g","gauge":{"dataPoints":[{"asDouble":1,"timeUnixNano":"1","flags":1}]}}]}]}]}"#;

const OTLP_TRACES_JSON: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"frontend"}}]},"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1112131415161718","name":"GET /","kind":2,"startTimeUnixNano":"1544712660300000000","endTimeUnixNano":"1544712660400000000"},{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"2122232425262728","parentSpanId":"1112131415161718","name":"POST","kind":3,"startTimeUnixNano":"1544712660310000000","endTimeUnixNano":"1544712660390000000","attributes":[{"key":"peer.service","value":{"stringValue":"checkout"}}],"status":{"code":2,"message":"boom"}}]}]},{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"3132333435363738","parentSpanId":"2122232425262728","name":"POST /orders","kind":2,"startTimeUnixNano":"1544712660320000000","endTimeUnixNano":"1544712660380000000"}]}]}]}"#;

fn write(
    dir: &Path,
    target: &str,
    name: &str,
    mode: Option<u8>,
    body: &[u8],
) -> std::io::Result<()> {
    let d = dir.join(target);
    std::fs::create_dir_all(&d)?;
    let mut bytes = mode.map(|m| vec![m]).unwrap_or_default();
    bytes.extend_from_slice(body);
    std::fs::write(d.join(name), bytes)
}

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/corpus".into());
    let dir = Path::new(&dir);
    let small = node_exporter::batch(1, 1_700_000_000_000)
        .into_iter()
        .take(12)
        .collect::<Vec<_>>();
    let full = node_exporter::batch(2, 1_700_000_000_000);
    for (name, batch) in [("small", &small), ("full", &full)] {
        write(
            dir,
            "remote_write",
            &format!("{name}_snappy"),
            Some(0),
            &remote_write::encode(batch),
        )?;
        write(
            dir,
            "remote_write",
            &format!("{name}_protobuf"),
            Some(1),
            &remote_write::encode_protobuf(batch),
        )?;
        write(
            dir,
            "remote_write",
            &format!("{name}_compress_here"),
            Some(2),
            &remote_write::encode_protobuf(batch),
        )?;
    }
    let text = node_exporter::exposition_text();
    assert!(exposition::parse(&text, 0, &Default::default()).is_ok());
    write(dir, "exposition", "node_exporter", None, text.as_bytes())?;
    write(
        dir,
        "exposition",
        "open_metrics",
        None,
        OPEN_METRICS.as_bytes(),
    )?;
    write(
        dir,
        "exposition",
        "escapes",
        None,
        b"m{a=\"\\\\\",b=\"\\n\",c=\"\\t\"} 1 2\r\n# HELP m x\n",
    )?;
    let json = OTLP_JSON.as_bytes();
    assert!(hush_ingest::otlp::decode_metrics_json(json, &Default::default()).is_ok());
    write(dir, "otlp_metrics", "json", Some(1), json)?;
    let req: hush_ingest::otlp::ExportMetricsServiceRequest = serde_json::from_str(OTLP_JSON)?;
    write(
        dir,
        "otlp_metrics",
        "protobuf",
        Some(0),
        &prost::Message::encode_to_vec(&req),
    )?;
    let traces = OTLP_TRACES_JSON.as_bytes();
    assert!(
        hush_ingest::otlp::traces::decode_traces_json(traces, &Default::default())
            .is_ok_and(|s| s.len() == 3)
    );
    write(dir, "otlp_traces", "json", Some(1), traces)?;
    let req: hush_ingest::otlp::traces::ExportTraceServiceRequest =
        serde_json::from_str(OTLP_TRACES_JSON)?;
    write(
        dir,
        "otlp_traces",
        "protobuf",
        Some(0),
        &prost::Message::encode_to_vec(&req),
    )?;
    println!("seeds written under {}", dir.display());
    Ok(())
}
