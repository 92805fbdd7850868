//! Traces in, service graph out: spans sent by the OpenTelemetry Python SDK across three services
//! become caller→callee edges in `/api/v1/topology`, merged with the topology file; change events
//! go in and come back out of `/api/v1/changes`.

mod support;

use serde_json::{Value as J, json};
use std::process::Command;
use support::*;

/// Three services, each with its own tracer provider and exporter (as three processes would
/// have): frontend → checkout → payments, the payments call failing. Each span is exported when
/// it ends, so children reach the server in earlier requests than their parents.
const SCRIPT: &str = r#"
import sys
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

endpoint = sys.argv[1]
providers = {}
def tracer(name):
    p = TracerProvider(resource=Resource.create({"service.name": name}))
    p.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    providers[name] = p
    return p.get_tracer("hush-test")

frontend, checkout, payments = tracer("frontend"), tracer("checkout"), tracer("payments")
for i in range(5):
    with frontend.start_as_current_span("GET /checkout", kind=SpanKind.SERVER):
        with frontend.start_as_current_span("POST checkout", kind=SpanKind.CLIENT):
            with checkout.start_as_current_span("POST /orders", kind=SpanKind.SERVER):
                with payments.start_as_current_span("POST /charge", kind=SpanKind.SERVER) as s:
                    if i < 2:
                        s.set_status(Status(StatusCode.ERROR, "card declined"))
for p in providers.values():
    p.shutdown()
"#;

fn python() -> String {
    let py = ["python3", "python"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok())
        .expect("python3 not found");
    let ok = Command::new(py)
        .args([
            "-c",
            "import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http.trace_exporter",
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the OpenTelemetry SDK is missing: pip install opentelemetry-sdk \
         opentelemetry-exporter-otlp-proto-http (.ci/run does)"
    );
    py.to_string()
}

fn get(rt: &tokio::runtime::Runtime, url: &str) -> J {
    rt.block_on(async {
        let r = reqwest::get(url).await.unwrap();
        assert!(r.status().is_success(), "{url}: {}", r.status());
        r.json::<J>().await.unwrap()
    })
}

fn post(rt: &tokio::runtime::Runtime, url: &str, ct: &str, body: Vec<u8>) -> (u16, String) {
    rt.block_on(async {
        let r = reqwest::Client::new()
            .post(url)
            .header("Content-Type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

#[test]
fn python_sdk_traces_become_topology_edges() {
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    let topo = dir.path().join("topology.yaml");
    std::fs::write(
        &topo,
        "services:\n  - {name: frontend, type: web, dependsOn: [checkout]}\n  - {name: checkout, type: api}\n  - {name: users, type: api}\n",
    )
    .unwrap();
    let port = free_port();
    let _server = hush(
        dir.path(),
        port,
        &format!("topology_file: {}\n", topo.display()),
    );
    let base = format!("http://127.0.0.1:{port}");
    let out = Command::new(&py)
        .args(["-c", SCRIPT, &format!("{base}/v1/traces")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let topo = get(&rt, &format!("{base}/api/v1/topology"));
    let edges = topo["data"]["edges"].as_array().unwrap();
    let edge = |a: &str, b: &str| {
        edges
            .iter()
            .find(|e| e["caller"] == a && e["callee"] == b)
            .unwrap_or_else(|| panic!("no edge {a} → {b} in {topo}"))
    };
    // Declared and traced; traced only. Calls inside a service are no edges.
    assert_eq!(
        edge("frontend", "checkout")["provenance"],
        json!(["config", "traces"])
    );
    let pay = edge("checkout", "payments");
    assert_eq!(pay["provenance"], json!(["traces"]));
    assert_eq!(pay["traces"]["calls"], 5);
    assert_eq!(pay["traces"]["errors"], 2);
    assert_eq!(edge("frontend", "checkout")["traces"]["calls"], 5);
    assert_eq!(edges.len(), 2, "{topo}");
    let nodes = topo["data"]["nodes"].as_array().unwrap();
    let node = |n: &str| nodes.iter().find(|x| x["name"] == n).unwrap().clone();
    assert_eq!(node("payments")["health"], "failing", "{topo}");
    assert_eq!(node("checkout")["health"], "ok");
    assert_eq!(node("users")["type"], "api");

    // The edge series are queryable.
    let q = get(
        &rt,
        &format!("{base}/api/v1/query?query=hush_edge_errors_total%7Bcaller%3D%22checkout%22%7D"),
    );
    let r = &q["data"]["result"][0];
    assert_eq!(r["metric"]["callee"], "payments", "{q}");
    assert_eq!(r["value"][1], "2");

    // A malformed span is refused whole, naming it.
    let bad = json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0102", "name": "broken"}]}]}]});
    let (code, text) = post(
        &rt,
        &format!("{base}/v1/traces"),
        "application/json",
        bad.to_string().into_bytes(),
    );
    assert_eq!(code, 400, "{text}");
    assert!(
        text.contains("span `broken`: span id has 2 bytes"),
        "{text}"
    );
}

#[test]
fn changes_are_stored_listed_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = hush(dir.path(), port, "");
    let base = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!("{base}/api/v1/changes");
    let change = json!({"service": "payments", "kind": "deploy", "version": "v1.8",
        "time": "2026-03-02T10:01:00Z", "author": "ana", "description": "new fraud rules"});
    let (code, text) = post(
        &rt,
        &url,
        "application/json",
        change.to_string().into_bytes(),
    );
    assert_eq!(code, 201, "{text}");
    let flag = json!({"service": "cart", "kind": "feature_flag", "time": 1772445700});
    let (code, text) = post(&rt, &url, "application/json", flag.to_string().into_bytes());
    assert_eq!(code, 201, "{text}");
    for (body, want) in [
        (
            json!({"service": "cart", "kind": "reboot"}),
            "`kind` is `reboot`",
        ),
        (
            json!({"service": " ", "kind": "deploy"}),
            "`service` is empty",
        ),
        (
            json!({"service": "cart", "kind": "deploy", "time": "yesterday"}),
            "`time` `yesterday`",
        ),
        (
            json!({"service": "cart", "kind": "deploy", "colour": "red"}),
            "unknown field `colour`",
        ),
    ] {
        let (code, text) = post(&rt, &url, "application/json", body.to_string().into_bytes());
        assert_eq!(code, 400, "{body}: {text}");
        assert!(text.contains(want), "{body}: {text}");
    }
    let all = get(&rt, &url);
    let list = all["data"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{all}");
    assert_eq!(list[0]["service"], "payments");
    assert_eq!(list[0]["version"], "v1.8");
    assert_eq!(list[0]["author"], "ana");
    assert_eq!(list[0]["time"], 1_772_445_660.0);
    assert_eq!(list[1]["kind"], "feature_flag");
    let only = get(&rt, &format!("{url}?service=cart"));
    assert_eq!(only["data"].as_array().unwrap().len(), 1, "{only}");
    let (code, _) = post(&rt, &format!("{url}?x"), "application/json", b"{".to_vec());
    assert_eq!(code, 400);
}
