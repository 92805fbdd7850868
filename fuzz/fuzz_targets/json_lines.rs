//! The JSON-lines decoder, with the message field named by the first byte.
#![no_main]

use hush_ingest::logs::{LogDefaults, LogLimits, decode_json_lines};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let field = ["message", "msg", "text", "log"][usize::from(*mode) % 4];
    let limits = LogLimits {
        max_message_bytes: 100,
        max_records: 50,
        ..LogLimits::default()
    };
    if let Ok(out) = decode_json_lines(rest, field, 0, &LogDefaults::default(), &limits) {
        assert!(out.records.len() <= limits.max_records);
        for r in &out.records {
            assert!(r.message.len() <= limits.max_message_bytes);
        }
    }
});
