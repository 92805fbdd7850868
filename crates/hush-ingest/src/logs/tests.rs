use super::*;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord as OtlpRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

const NOW: i64 = 1_763_900_000_000; // 2025-11-23

fn d() -> LogDefaults {
    LogDefaults {
        service: "dflt-svc".into(),
        host: "dflt-host".into(),
    }
}

fn s(v: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(v.into())),
    })
}

#[test]
fn otlp_protobuf_takes_service_host_level_and_time() {
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    KeyValue {
                        key: "service.name".into(),
                        value: s("checkout"),
                        ..Default::default()
                    },
                    KeyValue {
                        key: "host.name".into(),
                        value: s("node-7"),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    OtlpRecord {
                        time_unix_nano: 1_700_000_000_123_000_000,
                        severity_number: 17,
                        body: s("payment failed for order 42"),
                        ..Default::default()
                    },
                    OtlpRecord {
                        severity_text: "WARN".into(),
                        body: s("slow"),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let out = decode_logs_protobuf(&req.encode_to_vec(), NOW, &d(), &LogLimits::default()).unwrap();
    assert_eq!(out.records.len(), 2);
    let r = &out.records[0];
    assert_eq!(
        (r.time, r.service.as_str(), r.host.as_str(), r.level),
        (1_700_000_000_123, "checkout", "node-7", Level::Error)
    );
    assert_eq!(r.message, "payment failed for order 42");
    assert_eq!(
        (out.records[1].time, out.records[1].level),
        (NOW, Level::Warn)
    );
}

#[test]
fn otlp_json_without_resource_uses_defaults() {
    let body = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
        {"timeUnixNano":"1700000000000000000","body":{"stringValue":"ERROR disk full on /dev/sda1"}}]}]}]}"#;
    let out = decode_logs_json(body, NOW, &d(), &LogLimits::default()).unwrap();
    let r = &out.records[0];
    assert_eq!(
        (r.service.as_str(), r.host.as_str()),
        ("dflt-svc", "dflt-host")
    );
    assert_eq!((r.time, r.level), (1_700_000_000_000, Level::Error));
}

#[test]
fn otlp_garbage_is_refused_with_a_reason() {
    let e =
        decode_logs_protobuf(&[0xff, 0xff, 0xff], NOW, &d(), &LogLimits::default()).unwrap_err();
    assert_eq!(e.reason, LogReason::BadProtobuf);
    let e =
        decode_logs_json(b"{\"resourceLogs\": [", NOW, &d(), &LogLimits::default()).unwrap_err();
    assert_eq!(e.reason, LogReason::BadJson);
    let limits = LogLimits {
        max_body_bytes: 4,
        ..LogLimits::default()
    };
    let e = decode_logs_json(b"{}     ", NOW, &d(), &limits).unwrap_err();
    assert_eq!(e.reason, LogReason::BodyTooLarge);
}

#[test]
fn syslog_rfc5424_fields() {
    let line = b"<11>1 2025-11-23T10:00:00.500Z web-1 nginx 123 ID47 - upstream timed out";
    let out = decode_syslog(line, NOW, &d(), &LogLimits::default()).unwrap();
    let r = &out.records[0];
    assert_eq!((r.service.as_str(), r.host.as_str()), ("nginx", "web-1"));
    assert_eq!(r.level, Level::Error); // severity 3 (11 = user.err)
    assert_eq!(r.message, "upstream timed out");
    assert_eq!(r.time, 1_763_892_000_500);
    assert_eq!(out.lossy, Lossy::default());
}

#[test]
fn syslog_rfc3164_takes_the_year_of_now() {
    let line = b"<30>Nov 23 10:00:00 db-2 postgres[991]: checkpoint complete";
    let out = decode_syslog(line, NOW, &d(), &LogLimits::default()).unwrap();
    let r = &out.records[0];
    assert_eq!((r.service.as_str(), r.host.as_str()), ("postgres", "db-2"));
    assert_eq!(r.level, Level::Info);
    assert_eq!(r.message, "checkpoint complete");
    assert_eq!(r.time, 1_763_892_000_000);
}

#[test]
fn syslog_invalid_utf8_is_lossy_and_counted() {
    let mut line = b"<11>1 2025-11-23T10:00:00Z h app - - bad byte ".to_vec();
    line.extend_from_slice(&[0xff, 0xfe]);
    let out = decode_syslog(&line, NOW, &d(), &LogLimits::default()).unwrap();
    assert_eq!(out.lossy.invalid_utf8, 1);
    assert!(
        out.records[0]
            .message
            .ends_with("bad byte \u{fffd}\u{fffd}")
    );
}

#[test]
fn syslog_bad_frames_are_refused_with_reasons() {
    let l = LogLimits {
        max_frame_bytes: 100,
        ..LogLimits::default()
    };
    assert_eq!(
        decode_syslog(b" \n\0", NOW, &d(), &l).unwrap_err().reason,
        LogReason::EmptyFrame
    );
    assert_eq!(
        decode_syslog(&[b'x'; 101], NOW, &d(), &l)
            .unwrap_err()
            .reason,
        LogReason::FrameTooLarge
    );
}

#[test]
fn syslog_headerless_text_is_kept_whole() {
    let out = decode_syslog(&[0x01, 0x02, b'z'], NOW, &d(), &LogLimits::default()).unwrap();
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].service, "dflt-svc");
}

#[test]
fn long_messages_are_cut_at_a_char_boundary() {
    let l = LogLimits {
        max_message_bytes: 5,
        ..LogLimits::default()
    };
    let body = "{\"message\":\"abcdé€x\"}\n";
    let out = decode_json_lines(body.as_bytes(), "message", NOW, &d(), &l).unwrap();
    assert_eq!(out.records[0].message, "abcd");
    assert_eq!(out.lossy.truncated, 1);
}

fn messages(frames: &[Frame]) -> Vec<String> {
    frames
        .iter()
        .map(|f| match f {
            Frame::Message(m) => String::from_utf8_lossy(m).into_owned(),
            Frame::Rejected(e) => format!("!{}", e.reason.as_str()),
        })
        .collect()
}

#[test]
fn framer_splits_octet_counted_and_newline_frames_across_reads() {
    let mut f = Framer::new(1024);
    let mut got = f.push(b"11 <13>1 hello5 wo");
    got.extend(f.push(b"rld<13>plain line\r\n\n3"));
    got.extend(f.push(b" abc"));
    got.extend(f.push(b"tail without newline"));
    got.extend(f.finish());
    assert_eq!(
        messages(&got),
        [
            "<13>1 hello",
            "world",
            "<13>plain line",
            "abc",
            "tail without newline"
        ]
    );
}

#[test]
fn framer_skips_oversized_frames_and_resumes() {
    let mut f = Framer::new(8);
    let mut got = f.push(b"20 0123456789");
    got.extend(f.push(b"0123456789ok 1\n"));
    got.extend(f.push(b"xxxxxxxxxxxxxxxxxxxxx"));
    got.extend(f.push(b"yyyy\nfine\n2 ab"));
    assert_eq!(
        messages(&got),
        ["!frame_too_large", "ok 1", "!frame_too_large", "fine", "ab"]
    );
    // Memory stays bounded while an endless line streams in.
    for _ in 0..1000 {
        f.push(b"zzzzzzzzzzzzzzzz");
        assert!(f.buffered() <= 8 + 16);
    }
}

#[test]
fn framer_reports_a_truncated_octet_frame() {
    let mut f = Framer::new(1024);
    assert!(f.push(b"50 <13>1 cut short").is_empty());
    assert_eq!(
        messages(&f.finish().into_iter().collect::<Vec<_>>()),
        ["!bad_frame"]
    );
}

#[test]
fn json_lines_with_a_configured_field() {
    let body = b"{\"text\":\"user 7 logged in\",\"service\":\"auth\",\"level\":\"warn\",\"ts\":1700000000}\n\n{\"msg\":\"fallback\",\"time\":\"2023-11-14T22:13:20Z\"}";
    let out = decode_json_lines(body, "text", NOW, &d(), &LogLimits::default()).unwrap();
    assert_eq!(out.records.len(), 2);
    let r = &out.records[0];
    assert_eq!(
        (r.message.as_str(), r.service.as_str(), r.level, r.time),
        ("user 7 logged in", "auth", Level::Warn, 1_700_000_000_000)
    );
    assert_eq!(out.records[1].time, 1_700_000_000_000);
    assert_eq!(out.records[1].host, "dflt-host");
}

#[test]
fn json_lines_refuse_the_request_naming_the_line() {
    let e = decode_json_lines(
        b"{\"message\":\"ok\"}\n{\"nope\":1}\n",
        "message",
        NOW,
        &d(),
        &LogLimits::default(),
    )
    .unwrap_err();
    assert_eq!(e.reason, LogReason::MissingMessage);
    assert!(e.to_string().contains("line 2"), "{e}");
    let e = decode_json_lines(b"[1]\n", "message", NOW, &d(), &LogLimits::default()).unwrap_err();
    assert_eq!(e.reason, LogReason::BadJson);
}

#[test]
fn plain_lines_are_whole_messages_repaired_not_refused() {
    let mut lossy = Lossy::default();
    let limits = LogLimits {
        max_message_bytes: 8,
        ..LogLimits::default()
    };
    assert_eq!(
        decode_plain_line(b"  \r", NOW, &d(), &limits, &mut lossy),
        None
    );
    let r = decode_plain_line(
        b"ERROR disk\xff full\r",
        NOW,
        &d(),
        &LogLimits::default(),
        &mut lossy,
    )
    .unwrap();
    assert_eq!(
        (r.message.as_str(), r.level, r.time),
        ("ERROR disk\u{fffd} full", Level::Error, NOW)
    );
    assert_eq!(r.service, d().service);
    let r = decode_plain_line(
        "ab\u{e9}\u{e9}\u{e9}\u{e9}".as_bytes(),
        NOW,
        &d(),
        &limits,
        &mut lossy,
    )
    .unwrap();
    assert_eq!(r.message, "ab\u{e9}\u{e9}\u{e9}");
    assert_eq!((lossy.invalid_utf8, lossy.truncated), (1, 1));
}

#[test]
fn one_json_line_errors_leave_the_place_to_the_caller() {
    let mut lossy = Lossy::default();
    let lim = LogLimits::default();
    assert_eq!(
        decode_json_line(b" ", "message", NOW, &d(), &lim, &mut lossy),
        Ok(None)
    );
    let e = decode_json_line(b"{\"x\":1}", "message", NOW, &d(), &lim, &mut lossy).unwrap_err();
    assert_eq!(e.message, ": no `message` field");
    let e = decode_json_line(b"{oops", "message", NOW, &d(), &lim, &mut lossy).unwrap_err();
    assert!(e.message.starts_with(" column 2: "), "{e}");
    let r = decode_json_line(b"{\"msg\":\"hi\"}", "message", NOW, &d(), &lim, &mut lossy)
        .unwrap()
        .unwrap();
    assert_eq!(r.message, "hi");
}

#[test]
fn level_inference_needs_a_shouted_or_bracketed_word() {
    assert_eq!(
        Level::infer("2024-01-01 12:00:00 ERROR db down"),
        Level::Error
    );
    assert_eq!(Level::infer("[warn] disk 91% full"), Level::Warn);
    assert_eq!(Level::infer("the error rate is fine"), Level::Unknown);
}

#[test]
fn framer_handles_a_line_trickled_byte_by_byte() {
    let mut f = Framer::new(1 << 20);
    let line: Vec<u8> = (0..50_000).map(|i| b'a' + (i % 26) as u8).collect();
    let mut got = Vec::new();
    for b in line.iter().chain(b"\n5 hello") {
        got.extend(f.push(std::slice::from_ref(b)));
    }
    let want = [Frame::Message(line), Frame::Message(b"hello".to_vec())];
    assert!(
        got == want,
        "{:?}",
        messages(&got).iter().map(String::len).collect::<Vec<_>>()
    );
    assert_eq!(f.finish(), None);
}

#[test]
fn service_and_host_names_are_bounded() {
    let body = format!(
        "{{\"message\":\"m\",\"service\":\"{}\",\"host\":\"h{}\"}}",
        "s".repeat(5000),
        "é".repeat(3000)
    );
    let out =
        decode_json_lines(body.as_bytes(), "message", NOW, &d(), &LogLimits::default()).unwrap();
    assert_eq!(out.records[0].service.len(), MAX_NAME_BYTES);
    // "h" then two-byte characters: the cut falls back to a character boundary.
    assert_eq!(out.records[0].host.len(), MAX_NAME_BYTES - 1);
}
