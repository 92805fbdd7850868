//! Capacity planning: when a resource reaches its limit, with a range, a risk grade and how
//! much to add.
//!
//! The estimate comes from [`trend::fit`]: a seasonal profile plus a line through the current
//! regime. The central date is when the expected path (line plus profile, so a daily peak
//! counts) first reaches the limit; the range is when the upper and the lower band of that
//! path first reach it. Everything is in grid steps internally and in Unix milliseconds at
//! the boundary; `now` is always an argument.

mod alert;
mod grid;
mod pair;
pub mod trend;

pub use alert::{AlertPolicy, AlertTransition, predictive_alert};
pub use grid::{Grid, MAX_GRID, infer_step, regularize};
pub use pair::{LimitPairing, paired_usage, pairing_for};

use hush_model::Timestamp;

use crate::error::{ForecastError, Result};
use crate::interval::z_for_level;
use crate::prepare::prepare;

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// How capacity estimates are made.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityConfig {
    /// Length of the usage cycle in ms (a day by default); ignored until two cycles are seen.
    pub season: i64,
    /// Coverage of the exhaustion range, e.g. 0.8 for "2.5 to 4.1 days" holding 80 % of the time.
    pub level: f64,
    /// How far ahead to look for exhaustion, in ms.
    pub lookahead: i64,
    /// Risk thresholds in days: critical, high, medium (the alert horizon), low.
    pub risk_days: [f64; 4],
    /// Fraction of the limit to keep free when recommending how much to add.
    pub headroom: f64,
}

impl Default for CapacityConfig {
    fn default() -> Self {
        Self {
            season: DAY_MS,
            level: 0.8,
            lookahead: 365 * DAY_MS,
            risk_days: [1.0, 3.0, 7.0, 30.0],
            headroom: 0.1,
        }
    }
}

/// How urgent an exhaustion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Risk {
    /// No exhaustion within the lookahead.
    None,
    /// Beyond the medium threshold (default 7 to 30 days).
    Low,
    /// Within the alert horizon (default 3 to 7 days).
    Medium,
    /// Within days (default 1 to 3).
    High,
    /// Within a day, or already at the limit.
    Critical,
}

/// When a resource is expected to reach its limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Exhaustion {
    /// The limit the usage is compared with.
    pub limit: f64,
    /// Last observed usage.
    pub current: f64,
    /// Trend growth per day in the current regime (negative when shrinking).
    pub growth_per_day: f64,
    /// Central estimate of the time the limit is reached, if within the lookahead.
    pub eta: Option<Timestamp>,
    /// Earliest plausible time (upper band reaches the limit).
    pub earliest: Option<Timestamp>,
    /// Latest plausible time (lower band reaches the limit); `None` if it may never happen.
    pub latest: Option<Timestamp>,
    /// Urgency, graded on the earliest plausible time.
    pub risk: Risk,
    /// Start of the regime the trend was fitted on: data before it were judged obsolete.
    pub regime_start: Timestamp,
    /// The fitted model, for recommendations and plots.
    pub fit: trend::TrendFit,
    grid_start: Timestamp,
    step: i64,
    z: f64,
}

fn days(ms: i64) -> f64 {
    ms as f64 / DAY_MS as f64
}

impl Exhaustion {
    /// Days from `now` to the central estimate.
    pub fn days_left(&self, now: Timestamp) -> Option<f64> {
        self.eta.map(|t| days(t - now).max(0.0))
    }

    /// A one-line summary: `full in 3.2 days (2.5–4.1)`, `full now`, or `not full within 365 days`.
    pub fn describe(&self, now: Timestamp) -> String {
        if self.current >= self.limit {
            return "full now".to_string();
        }
        let d = |t: Option<Timestamp>| t.map(|t| format!("{:.1}", days(t - now).max(0.0)));
        match (d(self.eta), d(self.earliest), d(self.latest)) {
            (Some(e), Some(lo), Some(hi)) => format!("full in {e} days ({lo}–{hi})"),
            (Some(e), Some(lo), None) => format!("full in {e} days ({lo}–never)"),
            (None, Some(lo), _) => format!("not expected full, but possibly in {lo} days"),
            _ => "not expected full".to_string(),
        }
    }

    /// The model behind the estimate: `line+profile(288)` (a line through the current regime
    /// plus an additive profile of that many steps), or `line` without a season.
    pub fn model_name(&self) -> String {
        match self.fit.profile.len() {
            0 => "line".to_string(),
            p => format!("line+profile({p})"),
        }
    }

    /// How much to add to the limit so the upper band stays below it, with the configured
    /// headroom free, until `safe_until`. Zero when the current limit already suffices.
    pub fn recommend(&self, safe_until: Timestamp, headroom: f64) -> Recommendation {
        let last = self.fit.origin + self.fit.points - 1;
        let steps = ((safe_until - self.grid_start) / self.step).max(last as i64) as usize;
        let steps = steps.min(last + MAX_GRID);
        let peak = (last..=steps)
            .map(|t| self.fit.mean_at(t) + self.z * self.fit.sd_at(t))
            .fold(f64::NEG_INFINITY, f64::max);
        let needed = peak / (1.0 - headroom.clamp(0.0, 0.9));
        Recommendation {
            safe_until,
            needed_limit: needed,
            add: (needed - self.limit).max(0.0),
        }
    }
}

/// What to provision to stay safe until a given time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recommendation {
    /// The time the recommendation covers.
    pub safe_until: Timestamp,
    /// The limit that keeps usage (upper band) under it with headroom.
    pub needed_limit: f64,
    /// `needed_limit - limit`, or zero.
    pub add: f64,
}

/// First step in `from..=to` where `f(t) >= limit`.
fn first_crossing(from: usize, to: usize, limit: f64, f: impl Fn(usize) -> f64) -> Option<usize> {
    (from..=to).find(|&t| f(t) >= limit)
}

/// Estimates when `grid` (usage on a regular grid, NaN for gaps) reaches `limit`.
///
/// # Errors
/// [`ForecastError::InvalidLimit`] for a non-finite limit, [`ForecastError::InvalidLevel`],
/// [`ForecastError::NoData`] / [`ForecastError::TooShort`] with fewer than 3 finite values.
pub fn time_to_exhaustion(
    grid: &Grid,
    limit: f64,
    now: Timestamp,
    config: &CapacityConfig,
) -> Result<Exhaustion> {
    if !limit.is_finite() {
        return Err(ForecastError::InvalidLimit(limit));
    }
    if !(config.level > 0.0 && config.level < 1.0) {
        return Err(ForecastError::InvalidLevel(config.level));
    }
    if grid.step <= 0 {
        return Err(ForecastError::InvalidStep(grid.step));
    }
    let prepared = prepare(&grid.values)?;
    let lead = grid.values.iter().position(|v| v.is_finite()).unwrap_or(0);
    let y = &prepared.values;
    if y.len() < 3 {
        return Err(ForecastError::TooShort {
            observed: y.len(),
            min: 3,
        });
    }
    let start = grid.time_at(lead);
    let period = usize::try_from(config.season / grid.step).unwrap_or(0);
    let fit = trend::fit(y, period);
    let z = z_for_level(config.level);
    let last = y.len() - 1;
    let current = y[last];
    let step_of = |t: Timestamp| ((t - start) / grid.step).max(0) as usize;
    let horizon = step_of(now.saturating_add(config.lookahead)).clamp(last, last + MAX_GRID);
    let at = |t: usize| start + grid.step * t as i64;
    let (eta, earliest, latest) = if current >= limit {
        (Some(now), Some(now), Some(now))
    } else {
        (
            first_crossing(last + 1, horizon, limit, |t| fit.mean_at(t)).map(at),
            first_crossing(last + 1, horizon, limit, |t| {
                fit.mean_at(t) + z * fit.sd_at(t)
            })
            .map(at),
            first_crossing(last + 1, horizon, limit, |t| {
                fit.mean_at(t) - z * fit.sd_at(t)
            })
            .map(at),
        )
    };
    let risk = match earliest {
        None => Risk::None,
        Some(t) => {
            let d = days(t - now);
            let [c, h, m, l] = config.risk_days;
            if d <= c {
                Risk::Critical
            } else if d <= h {
                Risk::High
            } else if d <= m {
                Risk::Medium
            } else if d <= l {
                Risk::Low
            } else {
                Risk::None
            }
        }
    };
    Ok(Exhaustion {
        limit,
        current,
        growth_per_day: fit.slope * DAY_MS as f64 / grid.step as f64,
        eta,
        earliest,
        latest,
        risk,
        regime_start: at(fit.origin),
        fit,
        grid_start: start,
        step: grid.step,
        z,
    })
}

/// How well the capacity model forecasts this series: fitted without the last cycle (a fifth
/// of the history when that is shorter) and scored on it by mean absolute error scaled by the
/// mean absolute one-step change (MASE with lag 1). `None` when the history is too short to
/// hold anything out or never moves.
pub fn backtest_mase(grid: &Grid, config: &CapacityConfig) -> Option<f64> {
    let y = prepare(&grid.values).ok()?.values;
    let period = usize::try_from(config.season / grid.step.max(1)).unwrap_or(0);
    let hold = period.max(1).min(y.len() / 5);
    if hold == 0 || y.len() - hold < 3 {
        return None;
    }
    let (train, test) = y.split_at(y.len() - hold);
    let scale =
        train.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (train.len() - 1) as f64;
    if scale <= 0.0 {
        return None;
    }
    let fit = trend::fit(train, period);
    let mae = test
        .iter()
        .enumerate()
        .map(|(i, v)| (v - fit.mean_at(train.len() + i)).abs())
        .sum::<f64>()
        / hold as f64;
    Some(mae / scale)
}

/// Like [`time_to_exhaustion`] for a resource that runs out by falling to `floor` (free bytes
/// reaching zero): the series and the floor are mirrored, so growth means shrinking.
///
/// # Errors
/// As [`time_to_exhaustion`].
pub fn time_to_floor(
    grid: &Grid,
    floor: f64,
    now: Timestamp,
    config: &CapacityConfig,
) -> Result<Exhaustion> {
    let mirrored = Grid {
        values: grid.values.iter().map(|v| -v).collect(),
        ..grid.clone()
    };
    time_to_exhaustion(&mirrored, -floor, now, config)
}

#[cfg(test)]
mod tests;
