//! What a detector says about a point besides its score.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The shape of a departure from normal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// One or a few points far above the band.
    Spike,
    /// One or a few points far below the band.
    Dip,
    /// The recent mean left the band and stays out.
    LevelShift,
    /// The recent slope departs from the learned one (reserved: the current detector reports
    /// slow drifts as level shifts).
    TrendChange,
    /// The noise around the baseline grew.
    VarianceChange,
    /// The value departs from its seasonal profile although it is within its usual range.
    SeasonalityBreak,
    /// The value stopped moving for longer than ever before.
    Flatline,
    /// No value arrived for this point.
    MissingData,
}

impl Kind {
    /// Stable lowercase name, as written in CSV and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Spike => "spike",
            Kind::Dip => "dip",
            Kind::LevelShift => "level_shift",
            Kind::TrendChange => "trend_change",
            Kind::VarianceChange => "variance_change",
            Kind::SeasonalityBreak => "seasonality_break",
            Kind::Flatline => "flatline",
            Kind::MissingData => "missing_data",
        }
    }
}

/// Which expected value the point was compared with.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Baseline {
    /// Still learning: nothing to compare with.
    WarmingUp,
    /// A robust moving level (no season found).
    Level,
    /// A robust moving level plus a seasonal profile of `period` points.
    Seasonal {
        /// Season length in points.
        period: usize,
    },
}

impl fmt::Display for Baseline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Baseline::WarmingUp => f.write_str("warming up"),
            Baseline::Level => f.write_str("moving level"),
            Baseline::Seasonal { period } => write!(f, "seasonal profile, period {period}"),
        }
    }
}

/// Why a point scored as it did.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The shape of the departure.
    pub kind: Kind,
    /// How far outside normal, in robust standard deviations of the series' noise
    /// (for a variance change: the ratio of recent to usual noise; for a flatline: the run
    /// length in points).
    pub deviation: f64,
    /// What the point was compared with.
    pub baseline: Baseline,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::MissingData => f.write_str("missing_data"),
            Kind::Flatline => write!(f, "flatline: unchanged for {:.0} points", self.deviation),
            Kind::VarianceChange => {
                write!(
                    f,
                    "variance_change: noise {:.1}x usual ({})",
                    self.deviation, self.baseline
                )
            }
            k => write!(
                f,
                "{}: {:.1} sigma from expected ({})",
                k.as_str(),
                self.deviation,
                self.baseline
            ),
        }
    }
}
