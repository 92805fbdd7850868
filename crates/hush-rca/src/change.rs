//! Change events (deploys, configuration changes, feature flags, scaling) as suspects.

use serde::Serialize;

/// One change applied to a service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeEvent {
    /// Service the change was applied to.
    pub service: String,
    /// Kind of change: `"deploy"`, `"config"`, `"feature_flag"`, `"scaling"`, …
    pub kind: String,
    /// Short description, for example the new version (`"payments v1.8"`).
    pub description: String,
    /// Who made the change, when known.
    pub author: Option<String>,
    /// When the change took effect, Unix seconds.
    pub at: i64,
}

/// How close in time a change is to the symptom's onset, in `[0, 1]`: 1 just before onset,
/// decaying with half-life `half_life` seconds; changes after the incident window or before the
/// look-back get 0. A change shortly after onset still counts a little (clock skew, slow rollout).
pub(crate) fn proximity(change_at: i64, onset: i64, lookback: i64, half_life: i64) -> f64 {
    let lead = onset - change_at;
    if lead > lookback || lead < -half_life || half_life <= 0 {
        return 0.0;
    }
    let lead = lead.max(0) as f64;
    (-(lead / half_life as f64) * std::f64::consts::LN_2).exp()
}

#[cfg(test)]
mod tests {
    use super::proximity;

    #[test]
    fn proximity_decays_and_cuts_off() {
        assert!((proximity(100, 100, 3600, 600) - 1.0).abs() < 1e-12);
        assert!((proximity(-500, 100, 3600, 600) - 0.5).abs() < 1e-12);
        assert_eq!(proximity(100 - 4000, 100, 3600, 600), 0.0);
        assert_eq!(proximity(100 + 700, 100, 3600, 600), 0.0);
        assert!(proximity(100 + 300, 100, 3600, 600) > 0.99);
    }
}
