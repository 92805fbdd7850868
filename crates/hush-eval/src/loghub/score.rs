//! Grouping and parsing accuracy as defined by the Loghub benchmark (Zhu et al., "Tools and
//! Benchmarks for Automated Log Parsing", ICSE-SEIP 2019).

use std::collections::HashMap;
use std::hash::Hash;

/// Grouping accuracy: the fraction of lines whose predicted group holds exactly the lines
/// that share their true group.
pub fn grouping_accuracy<T: Hash + Eq, P: Hash + Eq>(truth: &[T], predicted: &[P]) -> f64 {
    if truth.is_empty() || truth.len() != predicted.len() {
        return 0.0;
    }
    let mut truth_sizes: HashMap<&T, usize> = HashMap::new();
    for t in truth {
        *truth_sizes.entry(t).or_default() += 1;
    }
    // For every predicted group: its size and the single true group it covers, if only one.
    let mut groups: HashMap<&P, (usize, Option<&T>, bool)> = HashMap::new();
    for (t, p) in truth.iter().zip(predicted) {
        let g = groups.entry(p).or_insert((0, Some(t), true));
        g.0 += 1;
        if g.1 != Some(t) {
            g.2 = false;
        }
    }
    let correct: usize = groups
        .values()
        .filter_map(|&(size, t, pure)| {
            let t = t?;
            (pure && truth_sizes.get(t) == Some(&size)).then_some(size)
        })
        .sum();
    correct as f64 / truth.len() as f64
}

/// Parsing accuracy: the fraction of lines whose template text equals the truth exactly.
pub fn parsing_accuracy<A: AsRef<str>, B: AsRef<str>>(truth: &[A], predicted: &[B]) -> f64 {
    if truth.is_empty() || truth.len() != predicted.len() {
        return 0.0;
    }
    let ok = truth
        .iter()
        .zip(predicted)
        .filter(|(t, p)| t.as_ref() == p.as_ref())
        .count();
    ok as f64 / truth.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_grouping_under_any_labels() {
        assert_eq!(grouping_accuracy(&["a", "a", "b"], &[7, 7, 9]), 1.0);
    }

    #[test]
    fn split_group_scores_zero_for_its_lines() {
        // Truth group `a` is split in two: its 2 lines are wrong, `b` is right.
        let ga = grouping_accuracy(&["a", "a", "b"], &[1, 2, 3]);
        assert!((ga - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn merged_groups_score_zero() {
        assert_eq!(grouping_accuracy(&["a", "b"], &[1, 1]), 0.0);
    }

    #[test]
    fn parsing_accuracy_is_exact_match() {
        assert_eq!(parsing_accuracy(&["x <*>", "y"], &["x <*>", "y <*>"]), 0.5);
        assert_eq!(parsing_accuracy::<&str, &str>(&[], &[]), 0.0);
    }
}
