//! `histogram_quantile` over classic (`le`-labelled) buckets, following Prometheus'
//! `bucketQuantile`: linear interpolation inside the bucket holding the rank.

use std::collections::HashMap;

use hush_model::{Labels, METRIC_NAME};

use crate::eval::Elem;

const BUCKET_LABEL: &str = "le";

#[derive(Debug, Clone, Copy)]
struct Bucket {
    upper: f64,
    count: f64,
}

/// One output element per bucket group (labels without `le` and `__name__`).
/// Elements without a parseable `le` are skipped, as in Prometheus.
pub(crate) fn histogram_quantile(q: f64, input: Vec<Elem>) -> Vec<Elem> {
    let mut order: Vec<Labels> = Vec::new();
    let mut groups: HashMap<Labels, Vec<Bucket>> = HashMap::new();
    for e in input {
        let Some(upper) = e.labels.get(BUCKET_LABEL).and_then(parse_go_float) else {
            continue;
        };
        let key = e.labels.without(&[METRIC_NAME, BUCKET_LABEL]);
        let entry = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            Vec::new()
        });
        entry.push(Bucket { upper, count: e.v });
    }
    order
        .into_iter()
        .filter_map(|labels| {
            let buckets = groups.remove(&labels)?;
            Some(Elem {
                labels,
                v: bucket_quantile(q, buckets),
            })
        })
        .collect()
}

/// Parses a bucket bound the way Go's `strconv.ParseFloat` accepts the common spellings.
fn parse_go_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

fn bucket_quantile(q: f64, mut buckets: Vec<Bucket>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| {
        a.upper
            .partial_cmp(&b.upper)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    match buckets.last() {
        Some(b) if b.upper == f64::INFINITY => {}
        _ => return f64::NAN,
    }
    // Buckets with the same bound (e.g. `1` and `1.0`) are one bucket.
    let mut merged: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets {
        match merged.last_mut() {
            Some(last) if last.upper == b.upper => last.count += b.count,
            _ => merged.push(b),
        }
    }
    // Counts must not decrease with the bound; a smaller one is a scrape artefact.
    let mut max = f64::NEG_INFINITY;
    for b in &mut merged {
        if b.count > max {
            max = b.count;
        } else if b.count < max {
            b.count = max;
        }
    }
    let n = merged.len();
    if n < 2 {
        return f64::NAN;
    }
    let observations = merged[n - 1].count;
    if observations == 0.0 {
        return f64::NAN;
    }
    let rank = q * observations;
    let b = merged[..n - 1].partition_point(|x| x.count < rank || x.count.is_nan());
    if b == n - 1 {
        return merged[n - 2].upper;
    }
    if b == 0 && merged[0].upper <= 0.0 {
        return merged[0].upper;
    }
    let (mut start, end, mut count, mut rank) = (0.0, merged[b].upper, merged[b].count, rank);
    if b > 0 {
        start = merged[b - 1].upper;
        count -= merged[b - 1].count;
        rank -= merged[b - 1].count;
    }
    start + (end - start) * (rank / count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(le: &str, v: f64) -> Elem {
        Elem {
            labels: Labels::from_pairs([("__name__", "h_bucket"), ("job", "a"), ("le", le)])
                .unwrap(),
            v,
        }
    }

    #[test]
    fn interpolates_inside_the_bucket() {
        // 100 observations: 50 <= 0.1, 90 <= 0.5, 100 <= +Inf.
        let input = vec![
            bucket("0.1", 50.0),
            bucket("0.5", 90.0),
            bucket("+Inf", 100.0),
        ];
        let out = histogram_quantile(0.5, input.clone());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].labels, Labels::from_pairs([("job", "a")]).unwrap());
        // rank 50 is reached in the first bucket: 0 + 0.1 * 50/50
        assert!((out[0].v - 0.1).abs() < 1e-12);
        // rank 70: bucket (0.1, 0.5], 20 of its 40 -> 0.1 + 0.4 * 0.5 = 0.3
        assert!((histogram_quantile(0.7, input.clone())[0].v - 0.3).abs() < 1e-12);
        // rank 95 lands in +Inf: answer is the highest finite bound
        assert_eq!(histogram_quantile(0.95, input)[0].v, 0.5);
    }

    #[test]
    fn edge_cases() {
        assert!(
            histogram_quantile(0.5, vec![bucket("1", 1.0)])[0]
                .v
                .is_nan(),
            "no +Inf bucket"
        );
        assert!(
            histogram_quantile(0.5, vec![bucket("1", 0.0), bucket("+Inf", 0.0)])[0]
                .v
                .is_nan()
        );
        assert_eq!(
            histogram_quantile(-0.1, vec![bucket("+Inf", 1.0)])[0].v,
            f64::NEG_INFINITY
        );
        assert_eq!(
            histogram_quantile(1.1, vec![bucket("+Inf", 1.0)])[0].v,
            f64::INFINITY
        );
        assert!(histogram_quantile(0.5, vec![bucket("nope", 1.0)]).is_empty());
        // non-monotonic counts are raised: (0.1:10, 0.2:8->10, +Inf:20), rank 10 -> 0.1
        let out = histogram_quantile(
            0.5,
            vec![
                bucket("0.1", 10.0),
                bucket("0.2", 8.0),
                bucket("+Inf", 20.0),
            ],
        );
        assert!((out[0].v - 0.1).abs() < 1e-12);
    }
}
