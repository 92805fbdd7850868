//! The OTLP metrics decoder: an even first byte feeds protobuf, an odd one OTLP/JSON.
#![no_main]

use hush_ingest::{Limits, otlp};
use libfuzzer_sys::fuzz_target;

#[path = "check.rs"]
mod check;

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_series_per_request: 500,
        max_samples_per_request: 1000,
        ..Limits::default()
    };
    let out = if mode % 2 == 0 {
        otlp::decode_metrics_protobuf(rest, &limits)
    } else {
        otlp::decode_metrics_json(rest, &limits)
    };
    if let Ok(out) = out {
        check::check(&out, &limits);
    }
});
