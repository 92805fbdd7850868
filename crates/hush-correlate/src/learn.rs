//! Co-occurrence learned from past incidents: which kinds of alert (`alertname@service`) have
//! been in the same incident before, and which have always stood alone.
//!
//! The counts are the association statistics of Moogsoft-style and BigPanda-style correlators
//! in their simplest form: for a kind `a` seen in `n(a)` past incidents, `n(a, b) / n(a)` is
//! how often an incident with `a` also held `b`. A kind that keeps arriving alone (a flaky
//! probe) learns a low affinity to everything and stops being pulled into real incidents.
//!
//! Operators' merges and splits are verdicts on pairs of kinds ("these belong together", "these
//! do not"). They are kept apart from the counts and decide a pair outright: an explicit
//! judgement outranks what the correlator inferred from its own groupings, as user rules outrank
//! learned grouping. The incidents they leave behind are learned as usual when they resolve.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

/// Past incidents a kind must be seen in before its affinity is trusted at all.
const MIN_SUPPORT: u32 = 2;
/// Most distinct kinds kept; beyond it new kinds are not learned (old knowledge is kept).
const MAX_KINDS: usize = 100_000;
/// Most pairs with an operator's verdict kept; beyond it new pairs are not recorded.
const MAX_VERDICTS: usize = 100_000;
/// Most kinds on either side of one merge or split whose pairs are recorded: an incident of
/// hundreds of kinds says little about any one pair, and its pairs would crowd out the rest.
const MAX_VERDICT_SIDE: usize = 64;
/// Most recent activity durations remembered per kind: enough for a quantile, and old
/// behaviour ages out when a kind changes.
const DURATION_HISTORY: usize = 32;

/// Operators' decisions about one pair of kinds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Verdict {
    /// Merges that put the two together.
    together: u32,
    /// Splits that took one away from the other.
    apart: u32,
}

/// Learned co-occurrence of alert kinds, and operators' verdicts on pairs of them
/// ([`CoOccurrence::together`], [`CoOccurrence::apart`]). Serialisable, to survive restarts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(into = "Saved", try_from = "Saved")]
pub struct CoOccurrence {
    ids: HashMap<String, u32>,
    seen: Vec<u32>,
    /// Per kind: past incidents holding it together with at least one other kind.
    grouped: Vec<u32>,
    joint: HashMap<(u32, u32), u32>,
    verdicts: HashMap<(u32, u32), Verdict>,
    /// Per kind: how long its alerts' recent activities lasted, in seconds, oldest first (an
    /// activity runs from an alert's first firing until it stops firing; a new episode while
    /// the previous one still fires continues it).
    durations: HashMap<u32, VecDeque<u32>>,
}

fn pair(a: u32, b: u32) -> (u32, u32) {
    if a < b { (a, b) } else { (b, a) }
}

impl CoOccurrence {
    /// The id of `kind`, creating it when there is room.
    pub(crate) fn intern(&mut self, kind: &str) -> Option<u32> {
        if let Some(&id) = self.ids.get(kind) {
            return Some(id);
        }
        if self.ids.len() >= MAX_KINDS {
            return None;
        }
        let id = u32::try_from(self.seen.len()).ok()?;
        self.ids.insert(kind.to_string(), id);
        self.seen.push(0);
        self.grouped.push(0);
        Some(id)
    }

    /// Learns one past incident from the kinds of its alerts (duplicates are ignored).
    pub fn learn<S: AsRef<str>>(&mut self, kinds: &[S]) {
        let mut ids: Vec<u32> = kinds
            .iter()
            .filter_map(|k| self.intern(k.as_ref()))
            .collect();
        self.learn_ids(&mut ids);
    }

    pub(crate) fn learn_ids(&mut self, ids: &mut Vec<u32>) {
        ids.sort_unstable();
        ids.dedup();
        for &a in ids.iter() {
            if let Some(s) = self.seen.get_mut(a as usize) {
                *s = s.saturating_add(1);
            }
            if ids.len() > 1
                && let Some(g) = self.grouped.get_mut(a as usize)
            {
                *g = g.saturating_add(1);
            }
        }
        // Incidents with thousands of kinds would cost a quadratic number of pairs and teach
        // little: every kind is "related" in them.
        if ids.len() > 64 {
            return;
        }
        for (i, &a) in ids.iter().enumerate() {
            for &b in &ids[i + 1..] {
                let c = self.joint.entry((a, b)).or_insert(0);
                *c = c.saturating_add(1);
            }
        }
    }

    /// An operator merged incidents holding kinds `a` and `b`: every kind of one belongs with
    /// every kind of the other.
    pub fn together<S: AsRef<str>>(&mut self, a: &[S], b: &[S]) {
        let (a, b) = (self.intern_all(a), self.intern_all(b));
        self.verdict_ids(&a, &b, true);
    }

    /// An operator split alerts of kinds `a` off an incident whose other alerts are of kinds
    /// `b`: none of one belongs with any of the other. A kind on both sides is left out.
    pub fn apart<S: AsRef<str>>(&mut self, a: &[S], b: &[S]) {
        let (a, b) = (self.intern_all(a), self.intern_all(b));
        self.verdict_ids(&a, &b, false);
    }

    /// Records that an alert of `kind` fired for `ms` before it stopped.
    pub fn observe_duration(&mut self, kind: &str, ms: i64) {
        if let Some(id) = self.intern(kind) {
            self.observe_duration_id(id, ms);
        }
    }

    pub(crate) fn observe_duration_id(&mut self, id: u32, ms: i64) {
        if id as usize >= self.seen.len() {
            return;
        }
        let secs = u32::try_from(ms.max(0) / 1000).unwrap_or(u32::MAX);
        let h = self.durations.entry(id).or_default();
        if h.len() >= DURATION_HISTORY {
            h.pop_front();
        }
        h.push_back(secs);
    }

    /// Takes every kind's duration history from `other` (kept whole where this one has none,
    /// appended where both have some): durations learned by replaying past alerts, added to
    /// co-occurrence learned elsewhere.
    pub fn adopt_durations(&mut self, other: &CoOccurrence) {
        let mut names: Vec<(&String, &u32)> = other.ids.iter().collect();
        names.sort_by_key(|(_, id)| **id);
        for (name, id) in names {
            if let Some(h) = other.durations.get(id) {
                for &s in h {
                    self.observe_duration(name, i64::from(s).saturating_mul(1000));
                }
            }
        }
    }

    /// How many activities of `kind` are remembered, and the `q`-quantile of their durations
    /// in ms (nearest rank); `None` when none are.
    pub fn duration_quantile(&self, kind: &str, q: f32) -> Option<(usize, i64)> {
        self.duration_quantile_id(*self.ids.get(kind)?, q)
    }

    pub(crate) fn duration_quantile_id(&self, id: u32, q: f32) -> Option<(usize, i64)> {
        let h = self.durations.get(&id).filter(|h| !h.is_empty())?;
        let mut v: Vec<u32> = h.iter().copied().collect();
        v.sort_unstable();
        let rank = (q.clamp(0.0, 1.0) * v.len() as f32).ceil() as usize;
        let s = v[rank.clamp(1, v.len()) - 1];
        Some((v.len(), i64::from(s) * 1000))
    }

    fn intern_all<S: AsRef<str>>(&mut self, kinds: &[S]) -> Vec<u32> {
        kinds
            .iter()
            .filter_map(|k| self.intern(k.as_ref()))
            .collect()
    }

    pub(crate) fn verdict_ids(&mut self, a: &[u32], b: &[u32], together: bool) {
        let side = |x: &[u32], other: &[u32]| {
            let mut v: Vec<u32> = x
                .iter()
                .copied()
                .filter(|k| together || !other.contains(k))
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let (a, b) = (side(a, b), side(b, a));
        if a.len() > MAX_VERDICT_SIDE || b.len() > MAX_VERDICT_SIDE {
            return;
        }
        for &x in &a {
            for &y in &b {
                if x == y {
                    continue;
                }
                let key = pair(x, y);
                if !self.verdicts.contains_key(&key) && self.verdicts.len() >= MAX_VERDICTS {
                    continue;
                }
                let v = self.verdicts.entry(key).or_default();
                if together {
                    v.together = v.together.saturating_add(1);
                } else {
                    v.apart = v.apart.saturating_add(1);
                }
            }
        }
    }

    /// Number of past incidents learned that held `kind`.
    pub fn support(&self, kind: &str) -> u32 {
        self.ids
            .get(kind)
            .and_then(|&i| self.seen.get(i as usize))
            .copied()
            .unwrap_or(0)
    }

    /// How often an incident holding `kind` also held `other`, in [0, 1].
    pub fn affinity_of(&self, kind: &str, other: &str) -> f32 {
        match (self.ids.get(kind), self.ids.get(other)) {
            (Some(&a), Some(&b)) => self.affinity(a, &[b]).map_or(0.0, |(p, _)| p),
            _ => 0.0,
        }
    }

    /// Affinity of kind `a` to a group of kinds, and the confidence in it: `None` while `a` has
    /// too little history to judge. The affinity is the larger of how often `a` shared an
    /// incident with one of the group's kinds and how often it shared one with anything: a
    /// symptom seen in many kinds of incident (errors at the front end) is no less likely to
    /// belong because this particular pairing is new; a kind that always stood alone is.
    /// An operator's verdict on `a` and a kind of the group decides with full confidence: the
    /// share of merges among the decisions on that pair, the most favourable pair if several.
    pub(crate) fn affinity(&self, a: u32, group: &[u32]) -> Option<(f32, f32)> {
        if !self.verdicts.is_empty() {
            let judged = group
                .iter()
                .filter(|&&b| b != a)
                .filter_map(|&b| self.verdicts.get(&pair(a, b)))
                .map(|v| v.together as f32 / (v.together as f32 + v.apart as f32).max(1.0))
                .fold(None, |best: Option<f32>, p| {
                    Some(best.map_or(p, |b| b.max(p)))
                });
            if let Some(p) = judged {
                return Some((p, 1.0));
            }
        }
        let n = self.seen.get(a as usize).copied().unwrap_or(0);
        if n < MIN_SUPPORT {
            return None;
        }
        let best = group
            .iter()
            .map(|&b| {
                if b == a {
                    n
                } else {
                    self.joint.get(&pair(a, b)).copied().unwrap_or(0)
                }
            })
            .max()
            .unwrap_or(0);
        let grouped = self.grouped.get(a as usize).copied().unwrap_or(0);
        let p = (best.max(grouped) as f32 / n as f32).min(1.0);
        let confidence = n as f32 / (n as f32 + 2.0);
        Some((p, confidence))
    }
}

/// The stored form: kinds by id, per-kind counts, and pairs as `[a, b, n]` lists (JSON has no
/// tuple keys). Read back only if every id is in range, so a damaged file cannot index out of
/// bounds later.
#[derive(Serialize, Deserialize)]
struct Saved {
    kinds: Vec<String>,
    seen: Vec<u32>,
    grouped: Vec<u32>,
    joint: Vec<[u32; 3]>,
    #[serde(default)]
    verdicts: Vec<[u32; 4]>,
    /// `[kind, seconds…]`: recent activity durations per kind.
    #[serde(default)]
    durations: Vec<Vec<u32>>,
}

impl From<CoOccurrence> for Saved {
    fn from(c: CoOccurrence) -> Self {
        let mut kinds = vec![String::new(); c.seen.len()];
        for (k, id) in c.ids {
            if let Some(slot) = kinds.get_mut(id as usize) {
                *slot = k;
            }
        }
        let mut joint: Vec<[u32; 3]> = c.joint.into_iter().map(|((a, b), n)| [a, b, n]).collect();
        joint.sort_unstable();
        let mut verdicts: Vec<[u32; 4]> = c
            .verdicts
            .into_iter()
            .map(|((a, b), v)| [a, b, v.together, v.apart])
            .collect();
        verdicts.sort_unstable();
        let mut durations: Vec<Vec<u32>> = c
            .durations
            .into_iter()
            .map(|(k, h)| std::iter::once(k).chain(h).collect())
            .collect();
        durations.sort_unstable();
        Saved {
            kinds,
            seen: c.seen,
            grouped: c.grouped,
            joint,
            verdicts,
            durations,
        }
    }
}

impl TryFrom<Saved> for CoOccurrence {
    type Error = String;

    fn try_from(s: Saved) -> Result<Self, String> {
        let n = s.kinds.len();
        if s.seen.len() != n || s.grouped.len() != n {
            return Err(format!(
                "{n} kinds but {} seen and {} grouped counts",
                s.seen.len(),
                s.grouped.len()
            ));
        }
        if n > MAX_KINDS {
            return Err(format!("{n} kinds, more than the limit of {MAX_KINDS}"));
        }
        let mut ids = HashMap::with_capacity(n);
        for (i, k) in s.kinds.into_iter().enumerate() {
            if ids.insert(k, i as u32).is_some() {
                return Err(format!("kind number {i} is listed twice"));
            }
        }
        let check = |a: u32, b: u32| {
            if (a as usize) < n && (b as usize) < n && a != b {
                Ok(pair(a, b))
            } else {
                Err(format!("pair ({a}, {b}) names no two distinct kinds"))
            }
        };
        let mut joint = HashMap::with_capacity(s.joint.len());
        for [a, b, c] in s.joint {
            joint.insert(check(a, b)?, c);
        }
        let mut verdicts = HashMap::with_capacity(s.verdicts.len());
        for [a, b, together, apart] in s.verdicts.into_iter().take(MAX_VERDICTS) {
            verdicts.insert(check(a, b)?, Verdict { together, apart });
        }
        let mut durations = HashMap::with_capacity(s.durations.len());
        for d in s.durations {
            let Some((&k, h)) = d.split_first() else {
                return Err("an empty duration history".into());
            };
            if k as usize >= n {
                return Err(format!("durations of kind {k}, which is not listed"));
            }
            let skip = h.len().saturating_sub(DURATION_HISTORY);
            durations.insert(k, h[skip..].iter().copied().collect());
        }
        Ok(CoOccurrence {
            ids,
            seen: s.seen,
            grouped: s.grouped,
            joint,
            verdicts,
            durations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lonely_kinds_learn_low_affinity() {
        let mut c = CoOccurrence::default();
        for _ in 0..5 {
            c.learn(&["HighErrorRate@api", "SlowQueries@db"]);
            c.learn(&["ProbeFailed@status"]);
        }
        assert_eq!(c.affinity_of("HighErrorRate@api", "SlowQueries@db"), 1.0);
        assert_eq!(c.affinity_of("ProbeFailed@status", "SlowQueries@db"), 0.0);
        assert_eq!(c.support("ProbeFailed@status"), 5);
        assert_eq!(c.support("Unknown@x"), 0);
        // A kind grouped with others before is not lonely, even with a new partner.
        c.learn(&["HighErrorRate@api", "Other@x"]);
        let (a, b) = (c.ids["HighErrorRate@api"], c.ids["ProbeFailed@status"]);
        assert_eq!(c.affinity(a, &[b]).map(|x| x.0), Some(1.0));
    }

    #[test]
    fn an_operators_verdict_decides_a_pair() {
        let mut c = CoOccurrence::default();
        for _ in 0..5 {
            c.learn(&["HighLatency@api", "SlowQueries@db"]);
        }
        let (a, b) = (c.ids["HighLatency@api"], c.ids["SlowQueries@db"]);
        assert_eq!(c.affinity(a, &[b]), Some((1.0, 5.0 / 7.0)));
        // A split outweighs any number of incidents the correlator formed itself …
        c.apart(&["SlowQueries@db"], &["HighLatency@api"]);
        assert_eq!(c.affinity(a, &[b]), Some((0.0, 1.0)));
        // … and a merge after it takes it half back.
        c.together(&["SlowQueries@db"], &["HighLatency@api"]);
        assert_eq!(c.affinity(b, &[a]), Some((0.5, 1.0)));
        // A kind on both sides of a split went both ways: it says nothing about any pair.
        c.apart(&["X@x", "HighLatency@api"], &["HighLatency@api"]);
        let x = c.ids["X@x"];
        assert_eq!(c.affinity(x, &[a]), None);
        assert_eq!(c.verdicts.len(), 1);
        // Before any support, a merge alone is enough to be trusted.
        c.together(&["New@n"], &["Other@o"]);
        let (n, o) = (c.ids["New@n"], c.ids["Other@o"]);
        assert_eq!(c.affinity(n, &[o]), Some((1.0, 1.0)));
    }

    #[test]
    fn durations_keep_the_recent_history_and_give_quantiles() {
        let mut c = CoOccurrence::default();
        assert_eq!(c.duration_quantile("A@a", 0.9), None);
        for m in 1..=10 {
            c.observe_duration("A@a", m * 60_000);
        }
        assert_eq!(c.duration_quantile("A@a", 0.9), Some((10, 9 * 60_000)));
        assert_eq!(c.duration_quantile("A@a", 0.5), Some((10, 5 * 60_000)));
        for _ in 0..DURATION_HISTORY {
            c.observe_duration("A@a", 3_600_000);
        }
        assert_eq!(
            c.duration_quantile("A@a", 0.1),
            Some((DURATION_HISTORY, 3_600_000)),
            "old behaviour ages out"
        );
        let mut d = CoOccurrence::default();
        d.learn(&["B@b"]);
        d.adopt_durations(&c);
        assert_eq!(
            d.duration_quantile("A@a", 0.5),
            Some((DURATION_HISTORY, 3_600_000))
        );
        assert_eq!(d.support("B@b"), 1, "co-occurrence is left alone");
    }

    #[test]
    fn the_stored_form_reads_back_and_refuses_damage() {
        let mut c = CoOccurrence::default();
        c.learn(&["A@a", "B@b"]);
        c.learn(&["C@c"]);
        c.apart(&["C@c"], &["A@a"]);
        c.observe_duration("C@c", 300_000);
        c.observe_duration("C@c", 90_000);
        let json = serde_json::to_string(&c).unwrap();
        let back: CoOccurrence = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        for bad in [
            r#"{"kinds":["a"],"seen":[1,2],"grouped":[1],"joint":[]}"#,
            r#"{"kinds":["a","b"],"seen":[1,1],"grouped":[1,1],"joint":[[0,7,1]]}"#,
            r#"{"kinds":["a","a"],"seen":[1,1],"grouped":[1,1],"joint":[]}"#,
            r#"{"kinds":["a","b"],"seen":[1,1],"grouped":[1,1],"joint":[],"verdicts":[[1,1,1,0]]}"#,
            r#"{"kinds":["a"],"seen":[1],"grouped":[1],"joint":[],"durations":[[3,60]]}"#,
            r#"{"kinds":["a"],"seen":[1],"grouped":[1],"joint":[],"durations":[[]]}"#,
        ] {
            assert!(serde_json::from_str::<CoOccurrence>(bad).is_err(), "{bad}");
        }
    }
}
