//! The syslog decoder and the TCP framer: the first byte picks the chunk size the stream is fed
//! in, so frames split across reads at every position.
#![no_main]

use hush_ingest::logs::{Frame, Framer, LogDefaults, LogLimits, decode_syslog};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_763_900_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((chunk, rest)) = data.split_first() else {
        return;
    };
    let limits = LogLimits {
        max_message_bytes: 200,
        max_frame_bytes: 300,
        ..LogLimits::default()
    };
    let defaults = LogDefaults::default();
    let check = |frame: &[u8]| {
        if let Ok(d) = decode_syslog(frame, NOW, &defaults, &limits) {
            assert_eq!(d.records.len(), 1);
            let r = &d.records[0];
            assert!(r.message.len() <= limits.max_message_bytes);
            assert!(!r.service.is_empty() && !r.host.is_empty());
        }
    };
    // As one datagram.
    check(rest);
    // As a TCP stream.
    let mut framer = Framer::new(limits.max_frame_bytes);
    let step = usize::from(*chunk).max(1);
    let mut out = Vec::new();
    for piece in rest.chunks(step) {
        out.extend(framer.push(piece));
        assert!(framer.buffered() <= limits.max_frame_bytes + 16 + step);
    }
    out.extend(framer.finish());
    let mut bytes = 0;
    for f in out {
        if let Frame::Message(m) = f {
            assert!(m.len() <= limits.max_frame_bytes);
            bytes += m.len();
            check(&m);
        }
    }
    assert!(bytes <= rest.len());
});
