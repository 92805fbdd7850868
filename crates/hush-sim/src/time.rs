//! Timestamps as the wire formats spell them.

use chrono::{DateTime, SecondsFormat};

/// RFC 3339 in UTC with milliseconds, e.g. `2026-03-02T10:00:00.000Z`.
pub fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |d| d.to_rfc3339_opts(SecondsFormat::Millis, true),
    )
}

/// `2026-03-02 10:00:00`, the timestamp layout of NAB-style CSV files (`timestamp,value`).
pub fn csv_time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |d| d.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

/// The zero time Alertmanager sends as `endsAt` of a firing alert.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_millis() {
        assert_eq!(
            super::rfc3339(1_772_409_600_123),
            "2026-03-02T00:00:00.123Z"
        );
    }
}
