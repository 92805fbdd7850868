//! The per-series streaming detector.

use serde::{Deserialize, Serialize};

use crate::calibrate::TailCalibrator;
use crate::{Baseline, Config, DetectError, Explanation, Kind, season};

/// `E|X| = sigma * sqrt(2/pi)` for a normal: converts a mean absolute deviation to a sigma.
const MAD_TO_SIGMA: f64 = 1.253_314_137_315_500_3;
/// Standardised residuals are capped before they enter running sums, so one absurd value
/// cannot dominate a window (or overflow it).
const Z_CAP: f64 = 1e6;
/// Number of calibrated features (point, level, variance).
const FEATURES: usize = 3;

/// The expected value and the dynamic threshold around it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// What the baseline expected.
    pub expected: f64,
    /// Lowest value that would not alert as a dip.
    pub lower: f64,
    /// Highest value that would not alert as a spike.
    pub upper: f64,
}

/// What the detector says about one point.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Calibrated anomaly score in `[0, 1)`: `1 - 4^(-log10(1/p) / score_decades)`, where `p` is
    /// the tail probability of the point under this series' own history (0.75 at
    /// `p = 10^-score_decades`).
    pub score: f64,
    /// Whether the point is reported as an anomaly (score over the threshold, outside the
    /// refractory period of a previous alert).
    pub anomaly: bool,
    /// Expected value and band; `None` while warming up or for a missing point.
    pub band: Option<Band>,
    /// Why; `None` while warming up.
    pub explanation: Option<Explanation>,
}

impl Outcome {
    fn silent() -> Self {
        Self {
            score: 0.0,
            anomaly: false,
            band: None,
            explanation: None,
        }
    }
}

/// An operator's verdict on a point, fed back to adapt the series' model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The alert was noise: points scoring like it should not alert again.
    FalsePositive,
    /// The alert was right: nothing to change beyond undoing earlier loosening.
    TruePositive,
    /// A real problem was not flagged: points scoring like it should alert.
    Missed,
}

/// A streaming univariate detector for one series. Feed points in order with
/// [`Detector::step`]; the result for a point depends only on that point and earlier ones.
/// The whole struct is the model state: serialise it to survive a restart.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Detector {
    cfg: Config,
    /// Points seen, missing ones included (they keep the seasonal phase).
    seen: u64,
    /// Non-missing points seen.
    values: u64,
    /// First points (NaN for missing), kept until the season is decided, then dropped.
    #[serde(with = "crate::nonfinite::vec")]
    buffer: Vec<f64>,
    active: bool,
    season_decided: bool,
    period: usize,
    season: Vec<f32>,
    #[serde(with = "crate::nonfinite")]
    season_lo: f64,
    #[serde(with = "crate::nonfinite")]
    season_hi: f64,
    level: f64,
    mad: f64,
    short_mad: f64,
    recent: Vec<f64>,
    recent_pos: usize,
    recent_sum: f64,
    #[serde(with = "crate::nonfinite")]
    last_value: f64,
    run: u64,
    longest_run: u64,
    /// The current run of equal values has already been reported (one run, one alert).
    #[serde(default)]
    run_reported: bool,
    since_alert: u64,
    peak: f64,
    cal: Vec<TailCalibrator>,
    /// Decision threshold on the score, moved by feedback.
    threshold: f64,
    /// [`tail_at`] of `threshold`, for the band.
    threshold_tail: f64,
    rates: Rates,
}

fn alpha(half_life: f64) -> f64 {
    1.0 - 0.5f64.powf(1.0 / half_life)
}

/// Smoothing factors derived once from the config (powers are the costliest part of a step).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
struct Rates {
    short: f64,
    level: f64,
    season: f64,
    scale: f64,
}

impl Rates {
    fn of(cfg: &Config) -> Self {
        Self {
            short: alpha(cfg.level_window as f64),
            level: alpha(cfg.level_half_life),
            season: alpha(cfg.season_half_life),
            scale: alpha(cfg.scale_half_life),
        }
    }
}

/// Per-feature tail probability at which a point reaches `threshold` (inverse of the score map).
fn tail_at(threshold: f64, score_decades: f64) -> f64 {
    let novelty = -(1.0 - threshold).max(1e-12).log(4.0) * score_decades;
    10f64.powf(-novelty) / FEATURES as f64
}

impl Detector {
    /// A fresh detector; fails if the config is invalid.
    pub fn new(cfg: Config) -> Result<Self, DetectError> {
        cfg.validate()?;
        let threshold = cfg.alert_score();
        let cal = (0..FEATURES)
            .map(|_| TailCalibrator::new(cfg.history_half_life))
            .collect();
        Ok(Self {
            recent: vec![0.0; cfg.level_window],
            buffer: Vec::new(),
            seen: 0,
            values: 0,
            active: false,
            season_decided: false,
            period: 0,
            season: Vec::new(),
            season_lo: 0.0,
            season_hi: 0.0,
            level: 0.0,
            mad: 0.0,
            short_mad: 0.0,
            recent_pos: 0,
            recent_sum: 0.0,
            last_value: f64::NAN,
            run: 0,
            longest_run: 0,
            run_reported: false,
            since_alert: u64::MAX,
            peak: 0.0,
            cal,
            threshold,
            threshold_tail: tail_at(threshold, cfg.score_decades),
            rates: Rates::of(&cfg),
            cfg,
        })
    }

    /// The settings in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The season length in use, once decided (0: none).
    pub fn period(&self) -> usize {
        self.period
    }

    /// The current decision threshold on the score (the config's, moved by feedback).
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Scores the next point and learns from it. `None` (or a non-finite value) is a missing
    /// point: it is reported as such and does not move the model.
    pub fn step(&mut self, value: Option<f64>) -> Outcome {
        let idx = self.seen;
        self.seen += 1;
        let Some(x) = value.filter(|v| v.is_finite()) else {
            if !self.season_decided {
                self.buffer.push(f64::NAN);
            }
            return self.missing();
        };
        self.values += 1;
        if !self.season_decided {
            self.buffer.push(x);
        }
        if !self.active {
            if self.values >= self.cfg.warmup as u64 {
                self.activate();
            }
            return Outcome::silent();
        }
        let out = self.score_and_learn(idx, x, true);
        if !self.season_decided && self.buffer.len() >= self.season_target() {
            self.decide_season();
        }
        out
    }

    /// Adapts the decision threshold to an operator's verdict on a point that scored `score`.
    /// A false positive raises the threshold just above that score (the same pattern stops
    /// alerting); a miss lowers it just below (the same pattern starts alerting). The threshold
    /// stays within `[0.05, 0.999999]`.
    pub fn feedback(&mut self, verdict: Verdict, score: f64) {
        let score = if score.is_finite() {
            score.clamp(0.0, 1.0)
        } else {
            return;
        };
        self.threshold = match verdict {
            Verdict::FalsePositive => self.threshold.max(score + 0.01),
            Verdict::Missed => self.threshold.min(score - 0.01),
            Verdict::TruePositive => self.threshold.min(self.cfg.alert_score().max(score)),
        }
        .clamp(0.05, 0.999_999);
        self.threshold_tail = tail_at(self.threshold, self.cfg.score_decades);
    }

    fn season_target(&self) -> usize {
        match self.cfg.period {
            Some(p) => (2 * p).max(self.cfg.warmup),
            None => self.cfg.season_buffer,
        }
    }

    fn missing(&self) -> Outcome {
        let explanation = self.active.then(|| Explanation {
            kind: Kind::MissingData,
            deviation: 0.0,
            baseline: self.baseline(),
        });
        Outcome {
            explanation,
            ..Outcome::silent()
        }
    }

    fn baseline(&self) -> Baseline {
        match (self.active, self.period) {
            (false, _) => Baseline::WarmingUp,
            (true, 0) => Baseline::Level,
            (true, period) => Baseline::Seasonal { period },
        }
    }

    /// Leaves warm-up: robust level and scale from the buffer, then replays it silently so the
    /// calibrators start with a history.
    fn activate(&mut self) {
        self.active = true;
        if self.cfg.season_buffer == 0 && self.cfg.period.is_none() {
            self.season_decided = true;
        }
        self.reset_from_buffer(0);
        if !self.season_decided && self.buffer.len() >= self.season_target() {
            self.decide_season();
        }
        if self.season_decided {
            self.buffer = Vec::new();
        }
    }

    fn decide_season(&mut self) {
        let finite: Vec<f64> = self
            .buffer
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        let period = match self.cfg.period {
            Some(p) => Some(p),
            None => season::detect_period(&finite, self.cfg.min_season_acf),
        };
        self.season_decided = true;
        if let Some(p) = period {
            self.reset_from_buffer(p);
        }
        self.buffer = Vec::new();
    }

    fn reset_from_buffer(&mut self, period: usize) {
        let buf = std::mem::take(&mut self.buffer);
        let finite: Vec<f64> = buf.iter().copied().filter(|v| v.is_finite()).collect();
        self.period = period;
        self.season = if period > 0 {
            // Phase is the point index modulo the period; missing points keep their slot.
            let filled: Vec<f64> = buf
                .iter()
                .map(|v| if v.is_finite() { *v } else { 0.0 })
                .collect();
            season::initial_profile(&filled, period)
                .into_iter()
                .map(|v| v as f32)
                .collect()
        } else {
            Vec::new()
        };
        self.season_lo = self
            .season
            .iter()
            .fold(f64::INFINITY, |a, &b| a.min(b as f64));
        self.season_hi = self
            .season
            .iter()
            .fold(f64::NEG_INFINITY, |a, &b| a.max(b as f64));
        let deseason: Vec<f64> = buf
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, v)| v - self.season_at(i as u64))
            .collect();
        self.level = median(&deseason).unwrap_or(0.0);
        self.mad = deseason.iter().map(|v| (v - self.level).abs()).sum::<f64>()
            / deseason.len().max(1) as f64;
        self.short_mad = self.mad;
        self.recent.iter_mut().for_each(|v| *v = 0.0);
        self.recent_sum = 0.0;
        self.cal = (0..FEATURES)
            .map(|_| TailCalibrator::new(self.cfg.history_half_life))
            .collect();
        self.run = 0;
        self.run_reported = false;
        self.longest_run = 0;
        self.last_value = f64::NAN;
        drop(finite);
        for (i, v) in buf.iter().enumerate() {
            if v.is_finite() {
                self.score_and_learn(i as u64, *v, false);
            }
        }
        self.buffer = buf;
    }

    fn season_at(&self, idx: u64) -> f64 {
        if self.period == 0 {
            return 0.0;
        }
        self.season
            .get((idx % self.period as u64) as usize)
            .map_or(0.0, |&v| v as f64)
    }

    /// The seasonal value within `phase_tolerance` slots of `idx` closest to `target`: a cycle
    /// whose edges jitter by a point or two (a square wave, a batch job that starts a little
    /// late) is not a seasonality break.
    fn season_near(&self, idx: u64, slot: usize, target: f64) -> f64 {
        if self.period == 0 {
            return 0.0;
        }
        let p = self.period as u64;
        let w = (self.cfg.phase_tolerance as u64).min(p / 2);
        let mut best = self.season.get(slot).map_or(0.0, |&v| v as f64);
        for d in 1..=w {
            for j in [idx + d, idx + p * (1 + w) - d] {
                let s = self.season_at(j);
                if (s - target).abs() < (best - target).abs() {
                    best = s;
                }
            }
        }
        best
    }

    fn sigma(&self) -> f64 {
        // Below a millionth of the series' magnitude, a deviation is rounding, not behaviour
        // (the seasonal profile is stored in f32).
        let magnitude = self
            .level
            .abs()
            .max(self.season_hi - self.season_lo)
            .max(1e-9);
        let floor = 1e-6 * magnitude;
        (self.mad * MAD_TO_SIGMA).max(floor)
    }

    fn score_and_learn(&mut self, idx: u64, x: f64, emit: bool) -> Outcome {
        // The seasonal slot of this point, found once (a division) for reading and learning.
        let slot = if self.period > 0 {
            (idx % self.period as u64) as usize
        } else {
            0
        };
        let seasonal = self.season_near(idx, slot, x - self.level);
        let expected = self.level + seasonal;
        let sigma = self.sigma();
        let r = x - expected;
        let z = (r / sigma).clamp(-Z_CAP, Z_CAP);

        // Level: the mean standardised residual of the last `level_window` points, as a z.
        // Each residual is winsorised first: a lone spike is the point test's business, and
        // left whole it would also fire the level test and fill its history with spikes,
        // making real shifts look ordinary.
        let k = self.recent.len().max(1);
        let zc = z.clamp(-self.cfg.level_z_cap, self.cfg.level_z_cap);
        if let Some(slot) = self.recent.get_mut(self.recent_pos) {
            self.recent_sum += zc - *slot;
            *slot = zc;
        }
        self.recent_pos += 1;
        if self.recent_pos >= k {
            self.recent_pos = 0;
        }
        let zl = self.recent_sum / (k as f64).sqrt();

        // Variance: recent absolute residuals against the usual ones.
        let a_short = self.rates.short;
        self.short_mad += a_short * (r.abs().min(Z_CAP * sigma) - self.short_mad);
        let fv = self.short_mad / (self.mad * MAD_TO_SIGMA).max(sigma);

        // The band is the single-point bound as it stood before this point: computed after the
        // point is recorded, an outlier would widen the band that is meant to show it.
        let feats = [z.abs(), zl.abs(), fv];
        if !emit {
            // A silent replay (warm-up, a season found) only trains the model: the band, the
            // tail probabilities and the score would be thrown away.
            for (c, f) in self.cal.iter_mut().zip(feats) {
                c.observe(f);
            }
            self.peak = (self.peak - self.cfg.peak_fade).max(0.0);
            self.note_run(x);
            self.learn(slot, r, sigma);
            return Outcome::silent();
        }
        let p_thr = self.threshold_tail;
        let half = self.cal.first().map_or(f64::INFINITY, |c| {
            c.quantile_for_tail(p_thr, self.cfg.tail_exponent)
        }) * sigma;
        let mut p = [1.0f64; FEATURES];
        for (i, f) in feats.iter().enumerate() {
            if let Some(c) = self.cal.get_mut(i) {
                p[i] = c.tail_then_observe(*f, self.cfg.tail_exponent);
            }
        }
        // A lone point needs more evidence than a sustained departure: single outliers are the
        // commonest benign event in operational series.
        p[0] = (p[0] * self.cfg.spike_penalty).min(1.0);
        let (best, pmin) = p
            .iter()
            .copied()
            .enumerate()
            .fold((0, 1.0), |a, b| if b.1 < a.1 { b } else { a });
        let p_all = (pmin * FEATURES as f64).min(1.0);
        // Saturates smoothly, so even very rare points keep their order (and a false-positive
        // verdict on one can still move the threshold above it). An ordinary point (p = 1,
        // about a third of them) scores 0 without the two transcendental calls.
        let (novelty, mut score) = if p_all >= 1.0 {
            (0.0, 0.0)
        } else {
            let novelty = -p_all.log10();
            let score = (1.0 - 4f64.powf(-novelty / self.cfg.score_decades)).clamp(0.0, 1.0);
            (novelty, score)
        };
        // The last alert's novelty, fading: a new alert must be more surprising than what was
        // just reported, so one event raises one alert and a bigger one still gets through.
        let peak = self.peak;
        self.peak = (self.peak - self.cfg.peak_fade).max(0.0);

        // Flatline: a run of equal values longer than any before, in a series that moves.
        self.note_run(x);
        let flat = self.run >= self.cfg.flatline_min as u64
            && !self.run_reported
            && self.run > self.longest_run
            && self.mad > 0.0
            && self.longest_run > 0;

        self.learn(slot, r, sigma);

        let mut kind = match best {
            0 if z >= 0.0 => Kind::Spike,
            0 => Kind::Dip,
            1 => Kind::LevelShift,
            _ => Kind::VarianceChange,
        };
        let mut deviation = match best {
            0 => z.abs(),
            1 => zl.abs() / (k as f64).sqrt(),
            _ => fv,
        };
        if flat && score < self.threshold {
            score = self.threshold;
            kind = Kind::Flatline;
            deviation = self.run as f64;
        } else if self.period > 0 && best == 0 {
            // Within the range the season normally spans, but not at this phase.
            let in_range = x >= self.level + self.season_lo && x <= self.level + self.season_hi;
            if in_range {
                kind = Kind::SeasonalityBreak;
            }
        }
        self.since_alert = self.since_alert.saturating_add(1);
        let anomaly = score >= self.threshold
            && self.since_alert > self.cfg.refractory as u64
            && (novelty > peak || kind == Kind::Flatline);
        if anomaly {
            self.since_alert = 0;
            self.run_reported |= kind == Kind::Flatline;
            self.peak = novelty;
        }
        Outcome {
            score,
            anomaly,
            band: Some(Band {
                expected,
                lower: expected - half,
                upper: expected + half,
            }),
            explanation: Some(Explanation {
                kind,
                deviation,
                baseline: self.baseline(),
            }),
        }
    }

    /// Extends or restarts the current run of equal values.
    fn note_run(&mut self, x: f64) {
        if x == self.last_value {
            self.run += 1;
        } else {
            self.longest_run = self.longest_run.max(self.run);
            self.run = 1;
            self.run_reported = false;
        }
        self.last_value = x;
    }

    fn learn(&mut self, slot: usize, r: f64, sigma: f64) {
        let lim = self.cfg.clip * sigma;
        let rc = r.clamp(-lim, lim);
        let a_l = self.rates.level;
        self.level += a_l * rc;
        if self.period > 0 {
            let a_s = self.rates.season;
            if let Some(s) = self.season.get_mut(slot) {
                let v = *s as f64 + a_s * (1.0 - a_l) * rc;
                *s = v as f32;
                self.season_lo = self.season_lo.min(v);
                self.season_hi = self.season_hi.max(v);
            }
        }
        self.mad += self.rates.scale * (r.abs().min(lim) - self.mad);
    }
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    Some(if s.len().is_multiple_of(2) {
        (s[m - 1] + s[m]) / 2.0
    } else {
        s[m]
    })
}
