//! The OTLP traces decoder: an even first byte feeds protobuf, an odd one OTLP/JSON.
#![no_main]

use hush_ingest::{Limits, otlp::traces};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_samples_per_request: 1000,
        max_label_value_len: 64,
        ..Limits::default()
    };
    let out = if mode % 2 == 0 {
        traces::decode_traces_protobuf(rest, &limits)
    } else {
        traces::decode_traces_json(rest, &limits)
    };
    // What a successful decode promises: limits held, no span ending before it starts, every
    // span attributed to a named service.
    if let Ok(spans) = out {
        assert!(spans.len() <= limits.max_samples_per_request);
        for s in &spans {
            assert!(s.end_ns >= s.start_ns);
            assert!(!s.service.is_empty() && s.service.len() <= limits.max_label_value_len);
            assert!(
                s.peer_service
                    .as_ref()
                    .is_none_or(|p| !p.is_empty() && p.len() <= 64)
            );
            assert!(s.duration_s() >= 0.0);
        }
    }
});
