//! B-cubed precision and recall of a clustering against the truth (Bagga and Baldwin, 1998;
//! Amigó et al., 2009): for every item, the share of its predicted cluster that truly belongs
//! with it (precision) and the share of its true cluster that was predicted with it (recall),
//! averaged over items.

use std::collections::HashMap;
use std::hash::Hash;

/// Sums of per-item B-cubed precision and recall, so runs can be pooled before averaging.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BCubed {
    pub items: usize,
    pub precision_sum: f64,
    pub recall_sum: f64,
}

impl BCubed {
    /// Scores `items`, each a (predicted cluster, true cluster) pair.
    pub fn score<P: Eq + Hash + Clone, T: Eq + Hash + Clone>(items: &[(P, T)]) -> Self {
        let mut pred: HashMap<P, usize> = HashMap::new();
        let mut truth: HashMap<T, usize> = HashMap::new();
        let mut both: HashMap<(P, T), usize> = HashMap::new();
        for (p, t) in items {
            *pred.entry(p.clone()).or_default() += 1;
            *truth.entry(t.clone()).or_default() += 1;
            *both.entry((p.clone(), t.clone())).or_default() += 1;
        }
        let mut s = Self {
            items: items.len(),
            ..Self::default()
        };
        for (p, t) in items {
            let b = both[&(p.clone(), t.clone())] as f64;
            s.precision_sum += b / pred[p] as f64;
            s.recall_sum += b / truth[t] as f64;
        }
        s
    }

    /// Pools two scores.
    pub fn add(&mut self, o: &Self) {
        self.items += o.items;
        self.precision_sum += o.precision_sum;
        self.recall_sum += o.recall_sum;
    }

    pub fn precision(&self) -> f64 {
        if self.items == 0 {
            1.0
        } else {
            self.precision_sum / self.items as f64
        }
    }

    pub fn recall(&self) -> f64 {
        if self.items == 0 {
            1.0
        } else {
            self.recall_sum / self.items as f64
        }
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_split_and_merge() {
        let perfect = BCubed::score(&[(1, 'a'), (1, 'a'), (2, 'b')]);
        assert_eq!(perfect.f1(), 1.0);
        // Everything in one cluster: recall 1, precision (2/3·2 + 1/3)/3 = 5/9.
        let merged = BCubed::score(&[(1, 'a'), (1, 'a'), (1, 'b')]);
        assert!((merged.precision() - 5.0 / 9.0).abs() < 1e-12);
        assert_eq!(merged.recall(), 1.0);
        // Everything apart: precision 1, recall (1/2·2 + 1)/3 = 2/3.
        let split = BCubed::score(&[(1, 'a'), (2, 'a'), (3, 'b')]);
        assert!((split.recall() - 2.0 / 3.0).abs() < 1e-12);
    }
}
