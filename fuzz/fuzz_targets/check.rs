//! Invariants every successful decode must hold, shared by the targets.

use hush_ingest::{Limits, TimeSeries, is_stale_marker};

pub fn check(out: &[TimeSeries], limits: &Limits) {
    assert!(out.len() <= limits.max_series_per_request);
    let mut samples = 0;
    for s in out {
        assert!(
            s.labels.metric_name().is_some(),
            "series without a name: {:?}",
            s.labels
        );
        assert!(s.labels.len() <= limits.max_labels_per_series);
        assert!(!s.samples.is_empty());
        for l in s.labels.iter() {
            assert!(
                l.name.len() <= limits.max_label_name_len
                    && l.value.len() <= limits.max_label_value_len
            );
        }
        for p in &s.samples {
            assert!(
                p.v.is_finite() || is_stale_marker(p.v),
                "non-finite value passed: {}",
                p.v
            );
        }
        samples += s.samples.len();
    }
    assert!(samples <= limits.max_samples_per_request);
}
