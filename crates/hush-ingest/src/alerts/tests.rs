use super::*;

const NOW: i64 = 1_800_000_000_000; // 2027-01-15

/// A real Alertmanager 0.28 webhook body (one firing, one resolved alert).
const WEBHOOK: &str = r#"{
  "receiver": "hush", "status": "firing", "version": "4",
  "groupKey": "{}:{alertname=\"HighLatency\"}", "truncatedAlerts": 0,
  "groupLabels": {"alertname": "HighLatency"}, "commonLabels": {}, "commonAnnotations": {},
  "externalURL": "http://am:9093",
  "alerts": [
    {"status": "firing", "labels": {"alertname": "HighLatency", "service": "api"},
     "annotations": {"summary": "p99 over 1s"}, "startsAt": "2027-01-15T08:00:00.123Z",
     "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph",
     "fingerprint": "1a2b3c4d5e6f7a8b"},
    {"status": "resolved", "labels": {"alertname": "DiskFull", "instance": "db-1"},
     "annotations": {}, "startsAt": "2027-01-15T07:00:00Z",
     "endsAt": "2027-01-15T07:30:00Z", "generatorURL": "", "fingerprint": "ffff000011112222"}
  ]
}"#;

#[test]
fn decodes_an_alertmanager_webhook() {
    let a = decode_alertmanager(WEBHOOK.as_bytes(), NOW, &AlertLimits::default()).unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].fingerprint, "1a2b3c4d5e6f7a8b");
    assert_eq!(a[0].status, AlertStatus::Firing);
    assert_eq!(a[0].labels["service"], "api");
    assert_eq!(a[0].annotations["summary"], "p99 over 1s");
    assert_eq!(
        a[0].starts_at,
        1_800_000_000_000 - 1_800_000_000_000 % 86_400_000 + 8 * 3_600_000 + 123
    );
    assert_eq!(a[0].ends_at, None, "the zero time is no end");
    assert_eq!(a[0].received_at, NOW);
    assert_eq!(a[1].status, AlertStatus::Resolved);
    assert_eq!(a[1].ends_at, Some(a[1].starts_at + 30 * 60_000));
}

#[test]
fn firing_ends_at_from_alertmanager_is_ignored_but_kept_for_the_generic_api() {
    let body = r#"{"alerts":[{"status":"firing","labels":{"alertname":"X"},
        "startsAt":"2027-01-15T08:00:00Z","endsAt":"2027-01-15T08:05:00Z"}]}"#;
    let am = decode_alertmanager(body.as_bytes(), NOW, &AlertLimits::default()).unwrap();
    assert_eq!(am[0].ends_at, None);
    let g = decode_generic(body.as_bytes(), NOW, &AlertLimits::default()).unwrap();
    assert!(g[0].ends_at.is_some());
}

#[test]
fn generic_defaults_status_start_and_fingerprint() {
    let body = r#"[{"labels":{"alertname":"X","service":"web"}}]"#;
    let a = decode_generic(body.as_bytes(), NOW, &AlertLimits::default()).unwrap();
    assert_eq!(a[0].status, AlertStatus::Firing);
    assert_eq!(a[0].starts_at, NOW);
    assert_eq!(a[0].fingerprint, fingerprint(&a[0].labels));
    // The same labels in another order give the same fingerprint.
    let other = r#"{"alerts":[{"labels":{"service":"web","alertname":"X"}}]}"#;
    let b = decode_generic(other.as_bytes(), NOW, &AlertLimits::default()).unwrap();
    assert_eq!(a[0].fingerprint, b[0].fingerprint);
}

fn err(body: &str, generic: bool) -> AlertDecodeError {
    let l = AlertLimits::default();
    let r = if generic {
        decode_generic(body.as_bytes(), NOW, &l)
    } else {
        decode_alertmanager(body.as_bytes(), NOW, &l)
    };
    r.expect_err(body)
}

#[test]
fn bad_input_is_named() {
    let cases: Vec<(&str, bool, &str, &str)> = vec![
        ("{\"alerts\": [", false, "bad_json", "invalid JSON"),
        ("{}", false, "missing_field", "missing field `alerts`"),
        (
            r#"{"version":"3","alerts":[]}"#,
            false,
            "unsupported_version",
            "`3`",
        ),
        (
            r#"{"alerts":[{"labels":{"a":"b"},"startsAt":"2027-01-15T08:00:00Z"}]}"#,
            false,
            "missing_field",
            "alert 0: missing field `status`",
        ),
        (
            r#"{"alerts":[{"status":"firing","startsAt":"2027-01-15T08:00:00Z"}]}"#,
            false,
            "missing_field",
            "alert 0: missing field `labels`",
        ),
        (
            r#"{"alerts":[{"status":"firing","labels":{"a":"b"}}]}"#,
            false,
            "missing_field",
            "`startsAt`",
        ),
        (
            r#"[{"labels":{"a":"b"},"status":"on fire"}]"#,
            true,
            "bad_status",
            "`on fire`",
        ),
        (
            r#"[{"labels":{"a":"b"},"startsAt":"yesterday"}]"#,
            true,
            "bad_timestamp",
            "not an RFC 3339",
        ),
        (
            r#"[{"labels":{"a":"b"},"startsAt":"1969-07-20T20:17:00Z"}]"#,
            true,
            "bad_timestamp",
            "before the year 2000",
        ),
        (
            r#"[{"labels":{"a":"b"},"startsAt":"9999-12-31T23:59:59Z"}]"#,
            true,
            "bad_timestamp",
            "in the future",
        ),
        (
            r#"[{"labels":{"a":"b"},"status":"resolved","startsAt":"2027-01-15T08:00:00Z","endsAt":"2027-01-15T07:00:00Z"}]"#,
            true,
            "bad_timestamp",
            "before `startsAt`",
        ),
        (
            r#"[{"labels":{"a":"b"}},{"labels":{"bad-name":"x"}}]"#,
            true,
            "invalid_label_name",
            "alert 1: invalid label name `bad-name`",
        ),
        (r#"[{"labels":{}}]"#, true, "empty_labels", "alert 0"),
    ];
    for (body, generic, reason, needle) in cases {
        let e = err(body, generic);
        assert_eq!(e.reason(), reason, "{body}: {e}");
        assert!(
            e.to_string().contains(needle),
            "{body}: `{e}` lacks `{needle}`"
        );
    }
}

#[test]
fn limits_refuse_huge_alerts() {
    let labels: Vec<String> = (0..10_000).map(|i| format!("\"l{i}\":\"v\"")).collect();
    let body = format!("[{{\"labels\":{{{}}}}}]", labels.join(","));
    let e = err(&body, true);
    assert_eq!(e.reason(), "too_many_labels");
    assert!(e.to_string().contains("10000 labels"), "{e}");

    let long = "v".repeat(5000);
    let e = err(&format!("[{{\"labels\":{{\"a\":\"{long}\"}}}}]"), true);
    assert_eq!(e.reason(), "label_too_long");

    let limits = AlertLimits {
        max_alerts: 2,
        ..AlertLimits::default()
    };
    let three = r#"[{"labels":{"a":"1"}},{"labels":{"a":"2"}},{"labels":{"a":"3"}}]"#;
    let e = decode_generic(three.as_bytes(), NOW, &limits).unwrap_err();
    assert_eq!(e.reason(), "too_many_alerts");
}
