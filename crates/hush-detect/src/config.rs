//! Detector settings: one plain, serialisable struct, validated once into a [`Config`].

use serde::{Deserialize, Serialize};

use crate::DetectError;

/// Settings of a univariate [`crate::Detector`]. The defaults are the ones measured on NAB
/// (see `docs/detection.md`); one configuration serves every series.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// How readily the detector alerts, in `[0, 1]`: the decision threshold on the score is
    /// `1 - sensitivity / 2`, so 0.5 alerts at score 0.75, 1.0 at score 0.5.
    pub sensitivity: f64,
    /// Points learned silently before any score is emitted.
    pub warmup: usize,
    /// Season length in points; `None` detects it from the first points.
    pub period: Option<usize>,
    /// Points buffered to detect a season (periods up to half of it are found); 0 disables
    /// detection.
    pub season_buffer: usize,
    /// Smallest autocorrelation at the season lag that counts as a season.
    pub min_season_acf: f64,
    /// Seasonal slots either side of the current one that may serve as the expected value
    /// (tolerates cycles that jitter in time).
    pub phase_tolerance: usize,
    /// Half-life, in points, of the level baseline.
    pub level_half_life: f64,
    /// Half-life, in cycles, of each seasonal slot.
    pub season_half_life: f64,
    /// Half-life, in points, of the noise scale.
    pub scale_half_life: f64,
    /// Residuals beyond this many scales are clipped before they move the baseline, so a
    /// spike does not drag the expected value with it.
    pub clip: f64,
    /// Factor on the tail probability of a single-point deviation (1: no penalty).
    pub spike_penalty: f64,
    /// Points averaged to look for a level shift.
    pub level_window: usize,
    /// Each standardised residual is winsorised at this many scales before it enters the
    /// level window's mean, so one spike cannot pass for a level shift (a lone point adds at
    /// most `level_z_cap / sqrt(level_window)` to the level test); a real shift of a few
    /// scales passes untouched.
    pub level_z_cap: f64,
    /// Half-life, in points, of the history that calibrates scores.
    pub history_half_life: f64,
    /// Power of the tail beyond the largest deviation seen (larger: records matter more).
    pub tail_exponent: f64,
    /// Tail probability 10^-`score_decades` maps to score 0.75 (each further `score_decades`
    /// decades quarter the distance to 1).
    pub score_decades: f64,
    /// After an alert, further alerts are held back for this many points (one event, one alert).
    pub refractory: usize,
    /// After an alert, a new one needs a tail probability rarer than the last alert's, less
    /// this many decades per point since (a fading record instead of a hard hold-off).
    pub peak_fade: f64,
    /// A run of identical values this long, and longer than any seen before, is a flatline.
    pub flatline_min: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            sensitivity: 0.5,
            warmup: 150,
            period: None,
            season_buffer: 600,
            min_season_acf: 0.5,
            phase_tolerance: 0,
            level_half_life: 200.0,
            season_half_life: 3.0,
            scale_half_life: 2000.0,
            clip: 2.5,
            spike_penalty: 1.0,
            level_window: 6,
            level_z_cap: 8.0,
            history_half_life: 5000.0,
            tail_exponent: 2.0,
            score_decades: 2.25,
            refractory: 100,
            flatline_min: 30,
            peak_fade: 0.003,
        }
    }
}

fn check(ok: bool, field: &'static str, reason: &str) -> Result<(), DetectError> {
    if ok {
        Ok(())
    } else {
        Err(DetectError::InvalidConfig {
            field,
            reason: reason.to_string(),
        })
    }
}

impl Config {
    /// Checks every field; a detector is only built from a validated config.
    pub fn validate(&self) -> Result<(), DetectError> {
        check(
            (0.0..=1.0).contains(&self.sensitivity),
            "sensitivity",
            "must be in [0, 1]",
        )?;
        check(self.warmup >= 10, "warmup", "must be at least 10 points")?;
        if let Some(p) = self.period {
            check(
                (2..=100_000).contains(&p),
                "period",
                "must be in 2..=100000 points",
            )?;
        }
        check(
            self.season_buffer <= 100_000,
            "season_buffer",
            "must be at most 100000",
        )?;
        check(
            (0.0..=1.0).contains(&self.min_season_acf),
            "min_season_acf",
            "must be in [0, 1]",
        )?;
        for (v, f) in [
            (self.level_half_life, "level_half_life"),
            (self.season_half_life, "season_half_life"),
            (self.scale_half_life, "scale_half_life"),
            (self.history_half_life, "history_half_life"),
        ] {
            check(v.is_finite() && v >= 1.0, f, "must be a finite number >= 1")?;
        }
        check(
            self.clip.is_finite() && self.clip >= 1.0,
            "clip",
            "must be >= 1",
        )?;
        check(
            (1..=1000).contains(&self.level_window),
            "level_window",
            "must be in 1..=1000",
        )?;
        check(
            self.level_z_cap.is_finite() && self.level_z_cap > 0.0,
            "level_z_cap",
            "must be a finite number > 0",
        )?;
        check(
            self.tail_exponent.is_finite() && self.tail_exponent > 0.0,
            "tail_exponent",
            "must be > 0",
        )?;
        check(
            self.score_decades.is_finite() && self.score_decades >= 1.0,
            "score_decades",
            "must be >= 1",
        )?;
        check(
            self.peak_fade.is_finite() && self.peak_fade > 0.0,
            "peak_fade",
            "must be > 0",
        )?;
        check(
            self.spike_penalty.is_finite() && self.spike_penalty >= 1.0,
            "spike_penalty",
            "must be >= 1",
        )?;
        check(self.flatline_min >= 2, "flatline_min", "must be at least 2")?;
        Ok(())
    }

    /// The score at or above which a point is an anomaly.
    pub fn alert_score(&self) -> f64 {
        1.0 - self.sensitivity / 2.0
    }
}
