//! NAB's scoring rules as pure functions (Lavin & Ahmad 2015, "Evaluating Real-time Anomaly
//! Detection Algorithms — the Numenta Anomaly Benchmark"; the reference is `nab/sweeper.py`).
//!
//! A file is turned once into a list of [`ScoredRow`]s (the reward each row would earn if it were
//! a detection); thresholds are then applied to those rows, so sweeping every threshold over the
//! corpus is a sort plus one pass.

/// Cost weights of one NAB profile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Profile {
    /// Name as in NAB's `profiles.json`.
    pub name: &'static str,
    /// Weight of a true positive.
    pub a_tp: f64,
    /// Weight of a false positive.
    pub a_fp: f64,
    /// Weight of a missed window.
    pub a_fn: f64,
}

/// The three published profiles.
pub const PROFILES: [Profile; 3] = [
    Profile {
        name: "standard",
        a_tp: 1.0,
        a_fp: 0.11,
        a_fn: 1.0,
    },
    Profile {
        name: "reward_low_FP_rate",
        a_tp: 1.0,
        a_fp: 0.22,
        a_fn: 1.0,
    },
    Profile {
        name: "reward_low_FN_rate",
        a_tp: 1.0,
        a_fp: 0.11,
        a_fn: 2.0,
    },
];

/// NAB's `scaledSigmoid`: 1 at the window start, 0 around its end, -1 far after it.
pub fn scaled_sigmoid(y: f64) -> f64 {
    if y > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * y).exp()) - 1.0
    }
}

/// Number of leading rows that are never scored.
pub fn probation_len(rows: usize) -> usize {
    // NAB: min(floor(0.15 * n), 0.15 * 5000).
    ((rows as f64 * 0.15).floor() as usize).min(750)
}

/// Where a scored row stands relative to the labelled windows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Place {
    /// Inside window `window` (index within the file); `sigmoid` is the unweighted TP reward.
    Window { window: usize, sigmoid: f64 },
    /// Outside every window; `sigmoid` is the unweighted (negative) FP reward.
    Outside { sigmoid: f64 },
}

/// One row after the probationary period, with its detector score and place.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoredRow {
    /// Row index in the file.
    pub index: usize,
    /// Detector score (or 0/1 decision).
    pub score: f64,
    /// Window membership and reward shape.
    pub place: Place,
}

/// Places every row of a file of `rows` rows with windows given as inclusive row ranges
/// (sorted, non-overlapping), and drops the probationary rows.
pub fn place_rows(scores: &[f64], windows: &[(usize, usize)]) -> Vec<ScoredRow> {
    let n = scores.len();
    let probation = probation_len(n);
    let max_tp = scaled_sigmoid(-1.0);
    let mut out = Vec::with_capacity(n.saturating_sub(probation));
    let mut next = 0usize;
    let mut current: Option<usize> = None;
    let mut prev: Option<(usize, usize)> = None; // (right index, width)
    for (i, &score) in scores.iter().enumerate() {
        if current.is_none() && next < windows.len() && windows[next].0 == i {
            current = Some(next);
            next += 1;
        }
        let place = match current {
            Some(w) => {
                let (left, right) = windows[w];
                let width = (right - left + 1) as f64;
                let pos = -((right as f64) - (i as f64) + 1.0) / width;
                Place::Window {
                    window: w,
                    sigmoid: scaled_sigmoid(pos) / max_tp,
                }
            }
            None => {
                let sigmoid = match prev {
                    None => -1.0,
                    Some((right, width)) => {
                        let denom = width as f64 - 1.0;
                        let past = (i as f64 - right as f64).abs() / denom;
                        scaled_sigmoid(past)
                    }
                };
                Place::Outside { sigmoid }
            }
        };
        if i >= probation {
            out.push(ScoredRow {
                index: i,
                score,
                place,
            });
        }
        if let Some(w) = current
            && windows[w].1 == i
        {
            prev = Some((windows[w].1, windows[w].1 - windows[w].0 + 1));
            current = None;
        }
    }
    out
}

/// Raw score and confusion counts of one or more files at one threshold.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tally {
    /// Summed weighted reward.
    pub raw: f64,
    /// Windows detected.
    pub tp: usize,
    /// Detections outside windows.
    pub fp: usize,
    /// Windows missed.
    pub fn_: usize,
}

impl Tally {
    /// Adds another tally.
    pub fn add(&mut self, other: Tally) {
        self.raw += other.raw;
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
    }
}

/// Scores one file at `threshold`: the earliest detection of a window earns the TP reward,
/// every detection outside windows the FP reward, every undetected window `-a_fn`.
pub fn score_file(rows: &[ScoredRow], n_windows: usize, threshold: f64, p: &Profile) -> Tally {
    let mut best: Vec<Option<f64>> = vec![None; n_windows];
    let mut t = Tally::default();
    for r in rows.iter().filter(|r| r.score >= threshold) {
        match r.place {
            Place::Window { window, sigmoid } => {
                if best[window].is_none() {
                    best[window] = Some(sigmoid * p.a_tp);
                }
            }
            Place::Outside { sigmoid } => {
                t.raw += sigmoid * p.a_fp;
                t.fp += 1;
            }
        }
    }
    for b in best {
        match b {
            Some(v) => {
                t.raw += v;
                t.tp += 1;
            }
            None => {
                t.raw -= p.a_fn;
                t.fn_ += 1;
            }
        }
    }
    t
}

/// `100 * (raw - null) / (perfect - null)` with perfect = `a_tp * windows`, null = `-a_fn * windows`.
pub fn normalise(raw: f64, n_windows: usize, p: &Profile) -> f64 {
    let perfect = p.a_tp * n_windows as f64;
    let null = -p.a_fn * n_windows as f64;
    if perfect == null {
        0.0
    } else {
        100.0 * (raw - null) / (perfect - null)
    }
}

/// A corpus-wide threshold sweep: the threshold with the best raw score, and that tally.
/// `files` are (rows, number of windows). Every distinct score is tried, as NAB does.
pub fn best_threshold(files: &[(Vec<ScoredRow>, usize)], p: &Profile) -> (f64, Tally) {
    // Incremental sweep: lower the threshold one distinct score at a time; a window's reward is
    // the best (earliest) sigmoid among its detections, which is the max over detected rows.
    let mut offsets = Vec::with_capacity(files.len());
    let mut total_windows = 0usize;
    for (_, w) in files {
        offsets.push(total_windows);
        total_windows += w;
    }
    let mut points: Vec<(f64, Place, usize)> = Vec::new();
    for (f, (rows, _)) in files.iter().enumerate() {
        points.extend(rows.iter().map(|r| (r.score, r.place, offsets[f])));
    }
    points.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut win_best: Vec<Option<f64>> = vec![None; total_windows];
    let mut tally = Tally {
        raw: -p.a_fn * total_windows as f64,
        tp: 0,
        fp: 0,
        fn_: total_windows,
    };
    let mut best = (f64::INFINITY, tally);
    let mut i = 0;
    while i < points.len() {
        let s = points[i].0;
        while i < points.len() && points[i].0 == s {
            let (_, place, off) = points[i];
            match place {
                Place::Window { window, sigmoid } => {
                    let v = sigmoid * p.a_tp;
                    let slot = &mut win_best[off + window];
                    match *slot {
                        None => {
                            tally.raw += v + p.a_fn;
                            tally.tp += 1;
                            tally.fn_ -= 1;
                            *slot = Some(v);
                        }
                        Some(old) if v > old => {
                            tally.raw += v - old;
                            *slot = Some(v);
                        }
                        Some(_) => {}
                    }
                }
                Place::Outside { sigmoid } => {
                    tally.raw += sigmoid * p.a_fp;
                    tally.fp += 1;
                }
            }
            i += 1;
        }
        if tally.raw > best.1.raw {
            best = (s, tally);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const STD: Profile = PROFILES[0];

    /// 100 rows: probation is the first 15, one window on rows 40..=49.
    fn file(detect_at: &[usize]) -> Vec<ScoredRow> {
        let mut s = vec![0.0; 100];
        for &i in detect_at {
            s[i] = 1.0;
        }
        place_rows(&s, &[(40, 49)])
    }

    #[test]
    fn probation_is_fifteen_percent_capped_at_750() {
        assert_eq!(probation_len(100), 15);
        assert_eq!(probation_len(10_000), 750);
        assert_eq!(file(&[]).len(), 85);
    }

    #[test]
    fn detection_at_window_start_earns_full_reward() {
        let t = score_file(&file(&[40]), 1, 0.5, &STD);
        assert!((t.raw - 1.0).abs() < 1e-9, "{t:?}");
        assert_eq!((t.tp, t.fp, t.fn_), (1, 0, 0));
    }

    #[test]
    fn only_the_earliest_detection_in_a_window_counts() {
        let early = score_file(&file(&[42]), 1, 0.5, &STD).raw;
        let both = score_file(&file(&[42, 48]), 1, 0.5, &STD).raw;
        let late = score_file(&file(&[48]), 1, 0.5, &STD).raw;
        assert_eq!(early, both);
        assert!(late < early && late > 0.0);
    }

    #[test]
    fn missed_window_costs_a_fn_and_early_false_positive_costs_a_fp() {
        let t = score_file(&file(&[20]), 1, 0.5, &STD);
        assert!((t.raw - (-1.0 - 0.11)).abs() < 1e-9, "{t:?}");
        let low_fn = score_file(&file(&[]), 1, 0.5, &PROFILES[2]);
        assert_eq!(low_fn.raw, -2.0);
    }

    #[test]
    fn false_positive_just_after_a_window_is_cheap() {
        let just_after = score_file(&file(&[40, 50]), 1, 0.5, &STD).raw - 1.0;
        let far_after = score_file(&file(&[40, 95]), 1, 0.5, &STD).raw - 1.0;
        assert!(just_after > far_after, "{just_after} {far_after}");
        assert!((far_after + 0.11).abs() < 1e-9);
    }

    #[test]
    fn detections_in_probation_are_ignored() {
        assert_eq!(score_file(&file(&[3]), 1, 0.5, &STD).fp, 0);
    }

    #[test]
    fn normalisation_maps_null_to_zero_and_perfect_to_hundred() {
        assert_eq!(normalise(-81.0, 81, &STD), 0.0);
        assert_eq!(normalise(81.0, 81, &STD), 100.0);
    }

    #[test]
    fn sweep_finds_the_threshold_that_separates() {
        let mut s = vec![0.1; 100];
        s[41] = 0.9;
        s[70] = 0.5;
        let rows = place_rows(&s, &[(40, 49)]);
        let (thr, t) = best_threshold(&[(rows, 1)], &STD);
        assert_eq!(thr, 0.9);
        assert_eq!((t.tp, t.fp), (1, 0));
    }
}
