//! The remote_write decoder. The first byte picks the layer: 0 feeds the bytes as a snappy
//! block, 1 as the protobuf inside it, 2 compresses them first so valid snappy reaches protobuf.
#![no_main]

use hush_ingest::{Limits, remote_write};
use libfuzzer_sys::fuzz_target;

#[path = "check.rs"]
mod check;

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    // Small limits so the limit paths are reached by small inputs too.
    let limits = Limits {
        max_series_per_request: 200,
        max_samples_per_request: 400,
        max_labels_per_series: 16,
        max_label_name_len: 64,
        max_label_value_len: 128,
        ..Limits::default()
    };
    let out = match mode % 3 {
        0 => remote_write::decode(rest, &limits),
        1 => remote_write::decode_protobuf(rest, &limits),
        _ => match snap::raw::Encoder::new().compress_vec(rest) {
            Ok(body) => remote_write::decode(&body, &limits),
            Err(_) => return,
        },
    };
    if let Ok(out) = out {
        check::check(&out, &limits);
        // What decodes must survive a round trip unchanged.
        let again = remote_write::decode(&remote_write::encode(&out), &limits).expect("re-decode");
        assert_eq!(again.len(), out.len());
        for (a, b) in again.iter().zip(&out) {
            assert_eq!(a.labels, b.labels);
            assert!(
                a.samples
                    .iter()
                    .zip(&b.samples)
                    .all(|(x, y)| x.t == y.t && x.v.to_bits() == y.v.to_bits())
            );
        }
    }
});
