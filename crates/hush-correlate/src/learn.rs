//! Co-occurrence learned from past incidents: which kinds of alert (`alertname@service`) have
//! been in the same incident before, and which have always stood alone.
//!
//! The counts are the association statistics of Moogsoft-style and BigPanda-style correlators
//! in their simplest form: for a kind `a` seen in `n(a)` past incidents, `n(a, b) / n(a)` is
//! how often an incident with `a` also held `b`. A kind that keeps arriving alone (a flaky
//! probe) learns a low affinity to everything and stops being pulled into real incidents.

use std::collections::HashMap;

/// Past incidents a kind must be seen in before its affinity is trusted at all.
const MIN_SUPPORT: u32 = 2;
/// Most distinct kinds kept; beyond it new kinds are not learned (old knowledge is kept).
const MAX_KINDS: usize = 100_000;

/// Learned co-occurrence of alert kinds. Cheap to clone; merge and split decisions of operators
/// are learned the same way as resolved incidents, through [`CoOccurrence::learn`].
#[derive(Debug, Clone, Default)]
pub struct CoOccurrence {
    ids: HashMap<String, u32>,
    seen: Vec<u32>,
    /// Per kind: past incidents holding it together with at least one other kind.
    grouped: Vec<u32>,
    joint: HashMap<(u32, u32), u32>,
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
    pub(crate) fn affinity(&self, a: u32, group: &[u32]) -> Option<(f32, f32)> {
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
                    let key = if a < b { (a, b) } else { (b, a) };
                    self.joint.get(&key).copied().unwrap_or(0)
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
}
