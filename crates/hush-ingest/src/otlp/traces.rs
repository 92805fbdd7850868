//! OTLP traces (`ExportTraceServiceRequest`, protobuf or OTLP/JSON) reduced to what a service
//! graph needs: for each span its ids, its parent, the service that emitted it, when it ran and
//! whether it failed. Attributes other than `service.name` (resource) and `peer.service` (span)
//! are not kept: Hush does not store traces, it derives caller → callee edges from them.
//!
//! Validation is all-or-nothing like the metric decoders: a trace id that is not 16 bytes, a span
//! id that is not 8, a parent id that is neither empty nor 8 bytes, or a span that ends before it
//! starts rejects the request, naming the span. A resource without `service.name` is attributed
//! to `unknown_service`, as the OpenTelemetry SDKs do.

use super::names::value_string;
use crate::IngestError;
use crate::limits::Limits;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message;

pub use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// What the span represents, as OTLP's `SpanKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl SpanKind {
    fn from_i32(k: i32) -> Self {
        match k {
            1 => Self::Internal,
            2 => Self::Server,
            3 => Self::Client,
            4 => Self::Producer,
            5 => Self::Consumer,
            _ => Self::Unspecified,
        }
    }
}

/// One span, reduced.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRecord {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    /// `None` for a root span.
    pub parent_span_id: Option<[u8; 8]>,
    /// The resource's `service.name`.
    pub service: String,
    pub kind: SpanKind,
    /// The `peer.service` attribute: the callee of a client span when it is not instrumented.
    pub peer_service: Option<String>,
    pub start_ns: u64,
    pub end_ns: u64,
    /// Status code `ERROR`.
    pub error: bool,
}

impl SpanRecord {
    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.end_ns.saturating_sub(self.start_ns) as f64 / 1e9
    }
}

/// Decodes a protobuf `ExportTraceServiceRequest` body (`application/x-protobuf`).
pub fn decode_traces_protobuf(
    body: &[u8],
    limits: &Limits,
) -> Result<Vec<SpanRecord>, IngestError> {
    limits.check_size(body.len() as u64)?;
    let req = ExportTraceServiceRequest::decode(body)
        .map_err(|e| IngestError::BadProtobuf(e.to_string()))?;
    spans(&req, limits)
}

/// Decodes an OTLP/JSON `ExportTraceServiceRequest` body (`application/json`; ids in hex).
pub fn decode_traces_json(body: &[u8], limits: &Limits) -> Result<Vec<SpanRecord>, IngestError> {
    limits.check_size(body.len() as u64)?;
    let req: ExportTraceServiceRequest =
        serde_json::from_slice(body).map_err(|e| super::json_error(&e))?;
    spans(&req, limits)
}

/// Reduces an already decoded request. Spans count against `max_samples_per_request`.
pub fn spans(
    req: &ExportTraceServiceRequest,
    limits: &Limits,
) -> Result<Vec<SpanRecord>, IngestError> {
    let total: usize = req
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    if total > limits.max_samples_per_request {
        return Err(IngestError::TooManySamples {
            count: total,
            limit: limits.max_samples_per_request,
        });
    }
    let mut out = Vec::with_capacity(total);
    for rs in &req.resource_spans {
        let attrs = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes);
        let service = match attribute(attrs, "service.name") {
            Some(s) if !s.is_empty() => s,
            _ => "unknown_service".to_string(),
        };
        check_len(&service, "service.name", limits)?;
        for ss in &rs.scope_spans {
            for span in &ss.spans {
                let name = || crate::limits::truncate(span.name.clone());
                let bad = |message: String| IngestError::BadSpan {
                    span: name(),
                    message,
                };
                let trace_id: [u8; 16] = span.trace_id.as_slice().try_into().map_err(|_| {
                    bad(format!(
                        "trace id has {} bytes, expected 16",
                        span.trace_id.len()
                    ))
                })?;
                let span_id: [u8; 8] = span.span_id.as_slice().try_into().map_err(|_| {
                    bad(format!(
                        "span id has {} bytes, expected 8",
                        span.span_id.len()
                    ))
                })?;
                let parent_span_id = match span.parent_span_id.len() {
                    0 => None,
                    8 => span.parent_span_id.as_slice().try_into().ok(),
                    n => {
                        return Err(bad(format!(
                            "parent span id has {n} bytes, expected 0 or 8"
                        )));
                    }
                };
                if span.end_time_unix_nano < span.start_time_unix_nano {
                    return Err(bad(format!(
                        "ends ({}) before it starts ({})",
                        span.end_time_unix_nano, span.start_time_unix_nano
                    )));
                }
                let peer_service =
                    attribute(&span.attributes, "peer.service").filter(|p| !p.is_empty());
                if let Some(p) = &peer_service {
                    check_len(p, "peer.service", limits)?;
                }
                out.push(SpanRecord {
                    trace_id,
                    span_id,
                    parent_span_id,
                    service: service.clone(),
                    kind: SpanKind::from_i32(span.kind),
                    peer_service,
                    start_ns: span.start_time_unix_nano,
                    end_ns: span.end_time_unix_nano,
                    error: span
                        .status
                        .as_ref()
                        .is_some_and(|s| s.code == StatusCode::Error as i32),
                });
            }
        }
    }
    Ok(out)
}

fn attribute(kvs: &[KeyValue], key: &str) -> Option<String> {
    kvs.iter()
        .find(|kv| kv.key == key)
        .map(|kv| value_string(kv.value.as_ref()))
}

/// Service names become label values of the edge series, so they obey the label limit.
fn check_len(value: &str, what: &str, limits: &Limits) -> Result<(), IngestError> {
    if value.len() > limits.max_label_value_len {
        return Err(IngestError::LabelValueTooLong {
            series: format!("{what}=\"{}\"", crate::limits::truncate(value.to_string())),
            name: what.to_string(),
            len: value.len(),
            limit: limits.max_label_value_len,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

    fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            }),
            ..Default::default()
        }
    }

    fn span(id: u8, parent: Option<u8>, error: bool) -> Span {
        Span {
            trace_id: vec![7; 16],
            span_id: vec![id; 8],
            parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
            name: format!("op{id}"),
            kind: 2,
            start_time_unix_nano: 1_000_000_000,
            end_time_unix_nano: 1_250_000_000,
            status: error.then(|| Status {
                message: "boom".into(),
                code: StatusCode::Error as i32,
            }),
            ..Default::default()
        }
    }

    fn request(service: Option<&str>, spans: Vec<Span>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: service
                        .map(|s| vec![kv("service.name", s)])
                        .unwrap_or_default(),
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn protobuf_spans_keep_service_parent_status_and_duration() {
        let body = request(
            Some("checkout"),
            vec![span(1, None, false), span(2, Some(1), true)],
        )
        .encode_to_vec();
        let out = decode_traces_protobuf(&body, &Limits::default()).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].service, "checkout");
        assert_eq!(out[0].parent_span_id, None);
        assert_eq!(out[1].parent_span_id, Some([1; 8]));
        assert_eq!(out[1].kind, SpanKind::Server);
        assert!(out[1].error && !out[0].error);
        assert!((out[1].duration_s() - 0.25).abs() < 1e-9);
    }

    #[test]
    fn json_spans_use_hex_ids() {
        let body = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
            "scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1112131415161718",
            "parentSpanId":"2122232425262728","name":"GET","kind":3,"startTimeUnixNano":"5","endTimeUnixNano":"9",
            "attributes":[{"key":"peer.service","value":{"stringValue":"redis"}}],"status":{"code":2}}]}]}]}"#;
        let out = decode_traces_json(body.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(out.len(), 1);
        let s = &out[0];
        assert_eq!(s.trace_id[0], 1);
        assert_eq!(s.trace_id[15], 0x10);
        assert_eq!(s.span_id, [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]);
        assert_eq!(s.parent_span_id.map(|p| p[0]), Some(0x21));
        assert_eq!(s.kind, SpanKind::Client);
        assert_eq!(s.peer_service.as_deref(), Some("redis"));
        assert!(s.error);
        assert_eq!((s.start_ns, s.end_ns), (5, 9));
    }

    #[test]
    fn missing_service_name_is_unknown_service() {
        let body = request(None, vec![span(1, None, false)]).encode_to_vec();
        let out = decode_traces_protobuf(&body, &Limits::default()).unwrap();
        assert_eq!(out[0].service, "unknown_service");
    }

    #[test]
    fn malformed_spans_reject_the_request_naming_the_span() {
        let mut short = span(1, None, false);
        short.span_id = vec![1; 3];
        let body = request(Some("a"), vec![span(2, None, false), short]).encode_to_vec();
        let e = decode_traces_protobuf(&body, &Limits::default()).unwrap_err();
        assert_eq!(e.reason(), "bad_otlp");
        assert_eq!(e.to_string(), "span `op1`: span id has 3 bytes, expected 8");

        let mut backwards = span(3, Some(1), false);
        backwards.end_time_unix_nano = 1;
        let body = request(Some("a"), vec![backwards]).encode_to_vec();
        let e = decode_traces_protobuf(&body, &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("ends (1) before it starts"), "{e}");

        let mut parent = span(4, None, false);
        parent.parent_span_id = vec![1; 5];
        let body = request(Some("a"), vec![parent]).encode_to_vec();
        let e = decode_traces_protobuf(&body, &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("parent span id has 5 bytes"), "{e}");

        let e = decode_traces_json(b"{\"resourceSpans\": 3}", &Limits::default()).unwrap_err();
        assert_eq!(e.reason(), "bad_json");
        let e = decode_traces_protobuf(&[0xff, 0xff, 0xff], &Limits::default()).unwrap_err();
        assert_eq!(e.reason(), "bad_protobuf");
    }

    #[test]
    fn span_count_and_service_name_obey_limits() {
        let limits = Limits {
            max_samples_per_request: 2,
            max_label_value_len: 8,
            ..Limits::default()
        };
        let spans = (1..=3).map(|i| span(i, None, false)).collect();
        let body = request(Some("a"), spans).encode_to_vec();
        let e = decode_traces_protobuf(&body, &limits).unwrap_err();
        assert_eq!(e.reason(), "too_many_samples");
        let body = request(Some("a-very-long-service"), vec![span(1, None, false)]).encode_to_vec();
        let e = decode_traces_protobuf(&body, &limits).unwrap_err();
        assert_eq!(e.reason(), "label_value_too_long");
    }
}
