//! The exposition parser, in auto-detected format and as OpenMetrics.
#![no_main]

use hush_ingest::{Limits, NonFinite, exposition};
use libfuzzer_sys::fuzz_target;

#[path = "check.rs"]
mod check;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits {
        max_series_per_request: 200,
        max_samples_per_request: 400,
        ..Limits::default()
    };
    if let Ok(out) = exposition::parse(text, 1_700_000_000_000, &limits) {
        check::check(&out, &limits);
    }
    let dropping = Limits {
        non_finite: NonFinite::Drop,
        ..limits
    };
    if let Ok(doc) = exposition::parse_document(text, exposition::Format::OpenMetrics, 0, &dropping)
    {
        check::check(&doc.series, &dropping);
    }
});
