//! The OTLP logs decoder: an even first byte feeds protobuf, an odd one OTLP/JSON.
#![no_main]

use hush_ingest::logs::{LogDefaults, LogLimits, decode_logs_json, decode_logs_protobuf};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let limits = LogLimits {
        max_message_bytes: 100,
        max_records: 50,
        ..LogLimits::default()
    };
    let d = LogDefaults::default();
    let out = if mode % 2 == 0 {
        decode_logs_protobuf(rest, 0, &d, &limits)
    } else {
        decode_logs_json(rest, 0, &d, &limits)
    };
    if let Ok(out) = out {
        assert!(out.records.len() <= limits.max_records);
        for r in &out.records {
            assert!(r.message.len() <= limits.max_message_bytes);
            assert!(!r.service.is_empty() && !r.host.is_empty());
        }
    }
});
