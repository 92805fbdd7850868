//! Personalised PageRank (random walk with restart) over a small weighted digraph.
//!
//! petgraph's `page_rank` teleports uniformly and ignores weights, while RCA needs the walker to
//! restart at anomalous services in proportion to their anomaly and to follow edges in proportion
//! to the anomaly of where they lead (MicroRCA — Wu et al., NOMS 2020; MonitorRank — Kim et al.,
//! SIGMETRICS 2013). This is a dense power iteration: the anomalous subgraph has tens of nodes.

/// Stationary distribution of the walk that, at each step, restarts with probability `restart` at
/// a node drawn from `teleport`, and otherwise follows row `u` of `weights` (row-normalised; a row
/// of zeros sends the walker to the teleport distribution). Returns one value per node summing to
/// 1, or all zeros when `teleport` has no positive mass.
pub fn personalised_pagerank(
    weights: &[Vec<f64>],
    teleport: &[f64],
    restart: f64,
    iterations: usize,
) -> Vec<f64> {
    let n = teleport.len();
    let mass: f64 = teleport.iter().filter(|v| v.is_finite() && **v > 0.0).sum();
    if n == 0 || mass <= 0.0 || weights.len() != n {
        return vec![0.0; n];
    }
    let p: Vec<f64> = teleport
        .iter()
        .map(|v| {
            if v.is_finite() && *v > 0.0 {
                v / mass
            } else {
                0.0
            }
        })
        .collect();
    let rows: Vec<f64> = weights
        .iter()
        .map(|r| r.iter().filter(|v| v.is_finite() && **v > 0.0).sum())
        .collect();
    let restart = restart.clamp(0.0, 1.0);
    let mut pi = p.clone();
    let mut next = vec![0.0; n];
    for _ in 0..iterations {
        next.iter_mut()
            .zip(&p)
            .for_each(|(x, pv)| *x = restart * pv);
        for u in 0..n {
            let flow = (1.0 - restart) * pi[u];
            if rows[u] <= 0.0 {
                next.iter_mut().zip(&p).for_each(|(x, pv)| *x += flow * pv);
                continue;
            }
            for (v, w) in weights[u].iter().enumerate().take(n) {
                if w.is_finite() && *w > 0.0 {
                    next[v] += flow * w / rows[u];
                }
            }
        }
        let delta: f64 = pi.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut pi, &mut next);
        if delta < 1e-12 {
            break;
        }
    }
    pi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_drains_into_a_sink_chain_end() {
        // a → b → c, c loops on itself: the walker ends at c.
        let w = vec![
            vec![0.0, 1.0, 0.0],
            vec![0.0, 0.0, 1.0],
            vec![0.0, 0.0, 1.0],
        ];
        let pi = personalised_pagerank(&w, &[1.0, 1.0, 1.0], 0.15, 200);
        assert!((pi.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(pi[2] > pi[1] && pi[1] > pi[0], "{pi:?}");
    }

    #[test]
    fn degenerate_inputs_give_zeros() {
        assert_eq!(personalised_pagerank(&[], &[], 0.15, 10), Vec::<f64>::new());
        let pi = personalised_pagerank(&[vec![0.0]], &[0.0], 0.15, 10);
        assert_eq!(pi, vec![0.0]);
        let pi = personalised_pagerank(&[vec![f64::NAN]], &[f64::NAN], 0.15, 10);
        assert_eq!(pi, vec![0.0]);
    }
}
