//! The predictive alert decision: raise when exhaustion enters the horizon, resolve when the
//! trend turns. Pure: the caller keeps whether the alert is firing and passes it back in.

use hush_model::Timestamp;

use super::{DAY_MS, Exhaustion};

/// When predictive alerts fire and clear.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertPolicy {
    /// Raise when the central exhaustion estimate falls within this many ms of now.
    pub horizon: i64,
    /// Resolve only once the estimate is beyond `horizon * clear_factor` (or gone), so an
    /// estimate wobbling around the horizon does not flap.
    pub clear_factor: f64,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        Self {
            horizon: 7 * DAY_MS,
            clear_factor: 1.5,
        }
    }
}

/// What a predictive alert should do after a new estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertTransition {
    /// Start firing: exhaustion is inside the horizon.
    Raise,
    /// Keep firing.
    Hold,
    /// Stop firing: the trend turned and exhaustion left the horizon.
    Resolve,
    /// Nothing to say.
    Quiet,
}

impl AlertTransition {
    /// Whether the alert fires after this transition.
    pub fn firing(self) -> bool {
        matches!(self, Self::Raise | Self::Hold)
    }
}

/// Decides the next state of a predictive alert from the latest estimate.
pub fn predictive_alert(
    estimate: &Exhaustion,
    now: Timestamp,
    policy: &AlertPolicy,
    firing: bool,
) -> AlertTransition {
    let left = estimate.eta.map(|t| t.saturating_sub(now));
    let inside = left.is_some_and(|ms| ms <= policy.horizon);
    let clear_at = (policy.horizon as f64 * policy.clear_factor.max(1.0)) as i64;
    let beyond = left.is_none_or(|ms| ms > clear_at);
    match (firing, inside, beyond) {
        (false, true, _) => AlertTransition::Raise,
        (false, false, _) => AlertTransition::Quiet,
        (true, _, true) => AlertTransition::Resolve,
        (true, _, false) => AlertTransition::Hold,
    }
}
