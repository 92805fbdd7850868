//! Isolation forest (Liu, Ting & Zhou 2008) across one service's metrics: finds points where
//! each metric looks ordinary but the combination is not. Written here rather than taken from a
//! crate because the maintained ones fix the number of dimensions at compile time.

use serde::{Deserialize, Serialize};

use crate::DetectError;

/// Settings of an [`IsolationForest`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ForestConfig {
    /// Number of trees.
    pub trees: usize,
    /// Rows drawn (without replacement) to grow each tree.
    pub sample_size: usize,
    /// Seed of the generator: the same seed and rows give the same forest.
    pub seed: u64,
}

impl Default for ForestConfig {
    fn default() -> Self {
        Self {
            trees: 100,
            sample_size: 256,
            seed: 0x5eed,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
enum Node {
    Split {
        dim: usize,
        value: f64,
        left: usize,
        right: usize,
    },
    Leaf {
        size: usize,
    },
}

/// A fitted forest over rows of `dims` values.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct IsolationForest {
    dims: usize,
    sample_size: usize,
    trees: Vec<Vec<Node>>,
}

/// SplitMix64: tiny, seedable, good enough to pick split dimensions and values.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Average path length of an unsuccessful search in a binary search tree of `n` items.
fn c(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + 0.577_215_664_901_532_9) - 2.0 * (n - 1.0) / n
        }
    }
}

impl IsolationForest {
    /// Grows a forest on `rows`, each of the same length.
    pub fn fit(rows: &[Vec<f64>], cfg: &ForestConfig) -> Result<Self, DetectError> {
        let dims = rows.first().map(Vec::len).ok_or(DetectError::EmptyBatch {
            model: "isolation_forest",
        })?;
        if let Some((row, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != dims) {
            return Err(DetectError::DimensionMismatch {
                row,
                got: r.len(),
                expected: dims,
            });
        }
        if cfg.trees == 0 || cfg.sample_size < 2 {
            return Err(DetectError::InvalidConfig {
                field: "trees",
                reason: "need at least one tree and a sample of two rows".to_string(),
            });
        }
        let mut rng = Rng(cfg.seed);
        let sample_size = cfg.sample_size.min(rows.len());
        let depth_limit = (sample_size.max(2) as f64).log2().ceil() as usize;
        let mut idx: Vec<usize> = (0..rows.len()).collect();
        let trees = (0..cfg.trees)
            .map(|_| {
                // Partial Fisher-Yates: the first `sample_size` indices become the sample.
                for i in 0..sample_size {
                    let j = i + rng.below(idx.len() - i);
                    idx.swap(i, j);
                }
                let mut sample = idx[..sample_size].to_vec();
                let mut nodes = Vec::new();
                grow(
                    rows,
                    &mut sample,
                    0,
                    depth_limit,
                    dims,
                    &mut rng,
                    &mut nodes,
                );
                nodes
            })
            .collect();
        Ok(Self {
            dims,
            sample_size,
            trees,
        })
    }

    /// Anomaly score in `(0, 1)`: about 0.5 or less for ordinary rows, towards 1 for rows that
    /// are isolated in few cuts.
    pub fn score(&self, row: &[f64]) -> Result<f64, DetectError> {
        if row.len() != self.dims {
            return Err(DetectError::DimensionMismatch {
                row: 0,
                got: row.len(),
                expected: self.dims,
            });
        }
        let total: f64 = self.trees.iter().map(|t| path_length(t, row)).sum();
        let mean = total / self.trees.len().max(1) as f64;
        let norm = c(self.sample_size).max(f64::MIN_POSITIVE);
        Ok(2f64.powf(-mean / norm))
    }
}

fn grow(
    rows: &[Vec<f64>],
    sample: &mut [usize],
    depth: usize,
    limit: usize,
    dims: usize,
    rng: &mut Rng,
    nodes: &mut Vec<Node>,
) -> usize {
    let me = nodes.len();
    nodes.push(Node::Leaf { size: sample.len() });
    if sample.len() <= 1 || depth >= limit {
        return me;
    }
    // Try a few dimensions for one that still varies within this node.
    for _ in 0..dims.max(1) * 2 {
        let dim = rng.below(dims);
        let (lo, hi) = sample
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &i| {
                let v = rows[i][dim];
                (lo.min(v), hi.max(v))
            });
        if hi <= lo || !lo.is_finite() || !hi.is_finite() {
            continue;
        }
        let value = lo + rng.unit() * (hi - lo);
        let mut split = 0;
        for k in 0..sample.len() {
            if rows[sample[k]][dim] < value {
                sample.swap(k, split);
                split += 1;
            }
        }
        if split == 0 || split == sample.len() {
            continue;
        }
        let (l, r) = sample.split_at_mut(split);
        let left = grow(rows, l, depth + 1, limit, dims, rng, nodes);
        let right = grow(rows, r, depth + 1, limit, dims, rng, nodes);
        nodes[me] = Node::Split {
            dim,
            value,
            left,
            right,
        };
        return me;
    }
    me
}

fn path_length(nodes: &[Node], row: &[f64]) -> f64 {
    let (mut at, mut depth) = (0usize, 0.0);
    while let Some(node) = nodes.get(at) {
        match node {
            Node::Leaf { size } => return depth + c(*size),
            Node::Split {
                dim,
                value,
                left,
                right,
            } => {
                at = if row.get(*dim).is_some_and(|v| v < value) {
                    *left
                } else {
                    *right
                };
                depth += 1.0;
            }
        }
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    fn correlated(n: usize) -> Vec<Vec<f64>> {
        let mut rng = Rng(7);
        (0..n)
            .map(|_| {
                let x = rng.unit() * 100.0;
                vec![x, 2.0 * x + rng.unit() * 5.0]
            })
            .collect()
    }

    #[test]
    fn the_wrong_combination_of_ordinary_values_scores_high() {
        let f = IsolationForest::fit(&correlated(2000), &ForestConfig::default()).expect("fit");
        let normal = f.score(&[50.0, 102.0]).expect("score");
        // Both values are within their usual ranges, but never together.
        let odd = f.score(&[90.0, 20.0]).expect("score");
        assert!(odd > 0.6 && normal < 0.5, "odd {odd} normal {normal}");
    }

    #[test]
    fn same_seed_same_forest() {
        let rows = correlated(500);
        let a = IsolationForest::fit(&rows, &ForestConfig::default()).expect("fit");
        let b = IsolationForest::fit(&rows, &ForestConfig::default()).expect("fit");
        assert_eq!(a, b);
    }

    #[test]
    fn ragged_rows_and_wrong_widths_are_errors() {
        let rows = vec![vec![1.0, 2.0], vec![1.0]];
        assert_eq!(
            IsolationForest::fit(&rows, &ForestConfig::default()),
            Err(DetectError::DimensionMismatch {
                row: 1,
                got: 1,
                expected: 2
            })
        );
        assert!(IsolationForest::fit(&[], &ForestConfig::default()).is_err());
        let f = IsolationForest::fit(&correlated(50), &ForestConfig::default()).expect("fit");
        assert!(f.score(&[1.0]).is_err());
    }
}
