//! Distributed traces: sampled requests walked down the call graph, one span per service hop
//! (plus client spans for database, cache and queue calls, which are not instrumented
//! themselves), and their OTLP/JSON encoding.

use serde_json::{Value, json};

use crate::estate::{Estate, ServiceKind};
use crate::rng::SimRng;
use crate::world::World;

/// What a span stands for, as OTLP numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    Server = 2,
    Client = 3,
    Producer = 4,
    Consumer = 5,
}

/// One span.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Span {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub name: String,
    pub kind: SpanKind,
    pub service: String,
    pub instance: String,
    pub start_ns: i64,
    pub end_ns: i64,
    pub error: bool,
    pub attributes: Vec<(String, String)>,
}

/// Samples traces from the real world.
#[derive(Debug)]
pub struct TraceGen {
    rng: SimRng,
}

struct Walk<'a> {
    estate: &'a Estate,
    world: &'a World,
    rng: &'a mut SimRng,
    trace: String,
    spans: Vec<Span>,
}

impl Walk<'_> {
    fn id(&mut self) -> String {
        format!("{:016x}", self.rng.next_u64())
    }

    /// A server span of service `s` starting at `start_ns`; returns (end_ns, failed).
    fn serve(
        &mut self,
        s: usize,
        parent: Option<String>,
        start_ns: i64,
        name: String,
        kind: SpanKind,
    ) -> (i64, bool) {
        let svc = &self.estate.services[s];
        let up: Vec<usize> = (0..svc.instances.len())
            .filter(|&i| self.world.inst[s][i].up)
            .collect();
        if up.is_empty() {
            return (start_ns + 1_000_000, true);
        }
        let i = *self.rng.pick(&up);
        let st = &self.world.inst[s][i];
        let span_id = self.id();
        let own = st.own_ms * (st.sigma * self.rng.normal()).exp();
        let mut t = start_ns + (own * 0.3 * 1e6) as i64;
        let mut failed = self.rng.chance(st.own_err);
        let mut attributes = vec![("http.route".to_string(), name.clone())];
        for e in &svc.depends_on {
            let calls = e.calls.floor() as usize + usize::from(self.rng.chance(e.calls.fract()));
            for _ in 0..calls.min(3) {
                let callee = &self.estate.services[e.to];
                let child_failed = if callee.kind.is_stateful() {
                    self.client(s, i, e.to, &span_id, &mut t)
                } else if self.world.view[e.to].cert_expired {
                    attributes.push((
                        "exception.message".into(),
                        format!("x509: certificate has expired ({})", callee.name),
                    ));
                    true
                } else {
                    let (end, f) = self.serve(
                        e.to,
                        Some(span_id.clone()),
                        t,
                        format!("{} {}", "POST", callee.name),
                        SpanKind::Server,
                    );
                    t = end;
                    f
                };
                failed |= child_failed && self.rng.chance(e.error_pass);
            }
        }
        let end = t + (own * 0.7 * 1e6) as i64;
        attributes.push((
            "http.response.status_code".into(),
            if failed { "500" } else { "200" }.into(),
        ));
        self.spans.push(Span {
            trace_id: self.trace.clone(),
            span_id,
            parent_span_id: parent,
            name,
            kind,
            service: svc.name.clone(),
            instance: svc.instances[i].name.clone(),
            start_ns,
            end_ns: end,
            error: failed,
            attributes,
        });
        (end, failed)
    }

    /// A client span for a call from instance `i` of `s` to a datastore `to`.
    fn client(&mut self, s: usize, i: usize, to: usize, parent: &str, t: &mut i64) -> bool {
        let callee = &self.estate.services[to];
        let v = self.world.view[to];
        let dur = (v.median_ms * (v.sigma * self.rng.normal()).exp()).min(2_000.0);
        let failed = self.rng.chance(v.err);
        let (name, system) = match callee.kind {
            ServiceKind::Database => ("SELECT shop", "postgresql"),
            ServiceKind::Cache => ("GET", "redis"),
            _ => ("orders publish", "rabbitmq"),
        };
        let span_id = self.id();
        self.spans.push(Span {
            trace_id: self.trace.clone(),
            span_id,
            parent_span_id: Some(parent.to_string()),
            name: name.to_string(),
            kind: if callee.kind == ServiceKind::Queue {
                SpanKind::Producer
            } else {
                SpanKind::Client
            },
            service: self.estate.services[s].name.clone(),
            instance: self.estate.services[s].instances[i].name.clone(),
            start_ns: *t,
            end_ns: *t + (dur * 1e6) as i64,
            error: failed,
            attributes: vec![
                ("db.system".into(), system.into()),
                ("peer.service".into(), callee.name.clone()),
            ],
        });
        *t += (dur * 1e6) as i64;
        failed
    }
}

impl TraceGen {
    /// A generator seeded for one run.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: SimRng::stream(seed, "traces"),
        }
    }

    /// Traces started in `(t - step_ms, t]`: about 1 in 2000 requests at the gateway and 1 in
    /// 200 messages at the workers.
    pub fn step(&mut self, estate: &Estate, world: &World, t: i64, step_ms: i64) -> Vec<Span> {
        let dt = step_ms as f64 / 1000.0;
        let mut spans = Vec::new();
        for (s, svc) in estate.services.iter().enumerate() {
            let rate = match svc.kind {
                ServiceKind::Gateway => 1.0 / 2000.0,
                ServiceKind::Worker => 1.0 / 200.0,
                _ => continue,
            };
            let n = self.rng.poisson(world.view[s].rps * dt * rate).min(20);
            for _ in 0..n {
                let trace = format!("{:016x}{:016x}", self.rng.next_u64(), self.rng.next_u64());
                let start =
                    (t - step_ms) * 1_000_000 + (self.rng.unit() * step_ms as f64 * 1e6) as i64;
                let mut w = Walk {
                    estate,
                    world,
                    rng: &mut self.rng,
                    trace,
                    spans: Vec::new(),
                };
                let (name, kind) = if svc.kind == ServiceKind::Worker {
                    ("process message".to_string(), SpanKind::Consumer)
                } else {
                    ("GET /".to_string(), SpanKind::Server)
                };
                w.serve(s, None, start, name, kind);
                spans.append(&mut w.spans);
            }
        }
        spans
    }
}

fn attr(k: &str, v: &str) -> Value {
    json!({"key": k, "value": {"stringValue": v}})
}

/// An OTLP/JSON `ExportTraceServiceRequest` for `spans`, one resource per pod, as
/// `POST /v1/traces` takes it and the OpenTelemetry collector's file exporter writes it.
pub fn to_otlp_json(spans: &[Span]) -> Value {
    let mut by_pod: std::collections::BTreeMap<(&str, &str), Vec<&Span>> =
        std::collections::BTreeMap::new();
    for s in spans {
        by_pod
            .entry((s.service.as_str(), s.instance.as_str()))
            .or_default()
            .push(s);
    }
    let resource_spans: Vec<Value> = by_pod
        .into_iter()
        .map(|((service, pod), spans)| {
            let spans: Vec<Value> = spans
                .iter()
                .map(|s| {
                    let mut v = json!({
                        "traceId": s.trace_id,
                        "spanId": s.span_id,
                        "name": s.name,
                        "kind": s.kind as u8,
                        "startTimeUnixNano": s.start_ns.to_string(),
                        "endTimeUnixNano": s.end_ns.to_string(),
                        "attributes": s.attributes.iter().map(|(k, v)| attr(k, v)).collect::<Vec<_>>(),
                        "status": if s.error { json!({"code": 2}) } else { json!({"code": 1}) },
                    });
                    if let Some(p) = &s.parent_span_id {
                        v["parentSpanId"] = json!(p);
                    }
                    v
                })
                .collect();
            json!({
                "resource": {"attributes": [attr("service.name", service), attr("service.namespace", "shop"), attr("k8s.pod.name", pod), attr("service.instance.id", pod)]},
                "scopeSpans": [{"scope": {"name": "hush-sim"}, "spans": spans}],
            })
        })
        .collect();
    json!({ "resourceSpans": resource_spans })
}
