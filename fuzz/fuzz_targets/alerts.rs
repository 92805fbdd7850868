//! The alert decoders: first byte even feeds the Alertmanager webhook decoder, odd the generic
//! schema. A successful decode must hold the limits and carry a fingerprint and a believable
//! start.
#![no_main]

use hush_ingest::alerts::{AlertLimits, decode_alertmanager, decode_generic};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_800_000_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let limits = AlertLimits {
        max_alerts: 50,
        max_labels: 16,
        ..AlertLimits::default()
    };
    let out = if mode % 2 == 0 {
        decode_alertmanager(rest, NOW, &limits)
    } else {
        decode_generic(rest, NOW, &limits)
    };
    match out {
        Ok(alerts) => {
            assert!(alerts.len() <= limits.max_alerts);
            for a in &alerts {
                assert!(!a.labels.is_empty() && a.labels.len() <= limits.max_labels);
                assert!(!a.fingerprint.is_empty());
                assert!(a.starts_at >= 946_684_800_000 && a.starts_at <= NOW + 86_400_000);
                assert!(hush_model::Labels::from_pairs(a.labels.clone()).is_ok());
            }
        }
        // Every refusal names its kind.
        Err(e) => assert!(!e.reason().is_empty() && !e.to_string().is_empty()),
    }
});
