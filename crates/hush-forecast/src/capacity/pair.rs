//! Pairing a usage series with the series that bounds it, as node_exporter and friends expose
//! them: free and size, used and maximum.

use hush_model::Sample;

/// How a metric relates to the one that holds its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitPairing {
    /// Name of the metric holding the limit (the size, the total, the maximum).
    pub limit_metric: &'static str,
    /// True when the metric counts what is free, so usage is `limit - value`.
    pub measures_free: bool,
}

/// Known pairs; the first element is the metric a capacity query starts from.
const PAIRS: &[(&str, LimitPairing)] = &[
    (
        "node_filesystem_avail_bytes",
        LimitPairing {
            limit_metric: "node_filesystem_size_bytes",
            measures_free: true,
        },
    ),
    (
        "node_filesystem_files_free",
        LimitPairing {
            limit_metric: "node_filesystem_files",
            measures_free: true,
        },
    ),
    (
        "node_memory_MemAvailable_bytes",
        LimitPairing {
            limit_metric: "node_memory_MemTotal_bytes",
            measures_free: true,
        },
    ),
    (
        "process_open_fds",
        LimitPairing {
            limit_metric: "process_max_fds",
            measures_free: false,
        },
    ),
    (
        "pg_stat_activity_count",
        LimitPairing {
            limit_metric: "pg_settings_max_connections",
            measures_free: false,
        },
    ),
    (
        "hikaricp_connections_active",
        LimitPairing {
            limit_metric: "hikaricp_connections_max",
            measures_free: false,
        },
    ),
];

/// The limit series for a metric name, if it is one of the known pairs.
pub fn pairing_for(metric: &str) -> Option<LimitPairing> {
    PAIRS.iter().find(|(m, _)| *m == metric).map(|(_, p)| *p)
}

/// Usage samples and the latest limit from a metric and its limit series (e.g. free bytes and
/// size). Samples are matched on equal timestamps; unmatched ones are dropped. Returns `None`
/// when no timestamp matches.
pub fn paired_usage(
    metric: &[Sample],
    limit: &[Sample],
    pairing: LimitPairing,
) -> Option<(Vec<Sample>, f64)> {
    let mut limits: Vec<Sample> = limit.iter().copied().filter(|s| s.v.is_finite()).collect();
    limits.sort_by_key(|s| s.t);
    let mut usage = Vec::with_capacity(metric.len());
    for s in metric {
        if let Ok(i) = limits.binary_search_by_key(&s.t, |l| l.t) {
            let v = if pairing.measures_free {
                limits[i].v - s.v
            } else {
                s.v
            };
            usage.push(Sample::new(s.t, v));
        }
    }
    usage.sort_by_key(|s| s.t);
    let latest = limits.last()?.v;
    (!usage.is_empty()).then_some((usage, latest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_bytes_become_usage_against_size() {
        let p = pairing_for("node_filesystem_avail_bytes").unwrap();
        let avail = [
            Sample::new(0, 70.0),
            Sample::new(10, 60.0),
            Sample::new(20, 55.0),
        ];
        let size = [Sample::new(0, 100.0), Sample::new(10, 100.0)];
        let (used, limit) = paired_usage(&avail, &size, p).unwrap();
        assert_eq!(used, vec![Sample::new(0, 30.0), Sample::new(10, 40.0)]);
        assert_eq!(limit, 100.0);
        assert!(pairing_for("up").is_none());
    }
}
