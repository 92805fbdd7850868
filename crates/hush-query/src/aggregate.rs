//! Aggregation operators (`sum`, `avg`, `topk`, …) with `by` / `without` grouping.

use std::collections::HashMap;

use hush_model::{Labels, METRIC_NAME, is_valid_label_name};

use crate::QueryError;
use crate::eval::Elem;
use crate::functions::quantile;
use crate::plan::{AggOp, Grouping};
use crate::value::format_sample_value;

/// The evaluated parameter of `topk`, `bottomk`, `quantile` (a number) or `count_values` (a label).
#[derive(Debug, Clone)]
pub(crate) enum Param {
    None,
    Number(f64),
    Label(String),
}

/// Aggregates `input` per group. Group order follows first appearance; within a `topk` group the
/// order is by value, descending (ascending for `bottomk`), NaNs last.
pub(crate) fn aggregate(
    op: AggOp,
    input: Vec<Elem>,
    grouping: &Grouping,
    param: Param,
) -> Result<Vec<Elem>, QueryError> {
    let value_label = match (&param, op) {
        (Param::Label(l), AggOp::CountValues) => {
            if !is_valid_label_name(l) {
                return Err(QueryError::Execution(format!("invalid label name {l:?}")));
            }
            Some(l.clone())
        }
        _ => None,
    };
    let number = match param {
        Param::Number(n) => n,
        _ => f64::NAN,
    };
    let k = match op {
        AggOp::TopK | AggOp::BottomK => {
            if number.is_nan() || number > i64::MAX as f64 || number < i64::MIN as f64 {
                return Err(QueryError::Execution(format!(
                    "scalar value {number} overflows int64"
                )));
            }
            if number < 1.0 {
                return Ok(Vec::new());
            }
            number as usize
        }
        _ => 0,
    };

    let mut input = input;
    if let Some(l) = &value_label {
        for e in &mut input {
            e.labels = e.labels.with(l, &format_sample_value(e.v));
        }
    }
    // Group by borrowed label values first; a group's label set is built once, not per element.
    let mut group_labels: Vec<Labels> = Vec::new();
    let mut slots: Vec<usize> = Vec::with_capacity(input.len());
    {
        let mut index: HashMap<Vec<&str>, usize> = HashMap::new();
        for e in &input {
            let key = borrowed_key(&e.labels, grouping, value_label.as_deref());
            let next = group_labels.len();
            let slot = *index.entry(key).or_insert(next);
            if slot == next {
                group_labels.push(group_key(&e.labels, grouping, value_label.as_deref()));
            }
            slots.push(slot);
        }
    }
    let mut members: Vec<Vec<Elem>> = vec![Vec::new(); group_labels.len()];
    for (e, slot) in input.into_iter().zip(slots) {
        if let Some(m) = members.get_mut(slot) {
            m.push(e);
        }
    }
    let groups = group_labels.into_iter().zip(members);

    let mut out = Vec::new();
    for (labels, members) in groups {
        match op {
            AggOp::TopK | AggOp::BottomK => out.extend(top(members, k, op == AggOp::TopK)),
            _ => out.push(Elem {
                labels,
                v: reduce(op, &members, number),
            }),
        }
    }
    Ok(out)
}

/// The grouping identity of `labels` without allocating strings: for `by`, the values of the
/// listed names (absent reads as empty, as in Prometheus); for `without`, the remaining pairs.
fn borrowed_key<'l>(
    labels: &'l Labels,
    grouping: &'l Grouping,
    value_label: Option<&'l str>,
) -> Vec<&'l str> {
    match grouping {
        Grouping::By(names) => {
            let mut key: Vec<&str> = names.iter().map(|n| labels.get(n).unwrap_or("")).collect();
            if let Some(l) = value_label {
                key.push(labels.get(l).unwrap_or(""));
            }
            key
        }
        Grouping::Without(names) => labels
            .iter()
            .filter(|l| l.name != METRIC_NAME && !names.contains(&l.name))
            .flat_map(|l| [l.name.as_str(), l.value.as_str()])
            .collect(),
    }
}

fn group_key(labels: &Labels, grouping: &Grouping, value_label: Option<&str>) -> Labels {
    match grouping {
        Grouping::By(names) => {
            let mut keep: Vec<&str> = names.iter().map(String::as_str).collect();
            keep.extend(value_label);
            labels.keep_only(&keep)
        }
        Grouping::Without(names) => {
            let mut drop: Vec<&str> = names.iter().map(String::as_str).collect();
            drop.push(METRIC_NAME);
            labels.without(&drop)
        }
    }
}

fn reduce(op: AggOp, members: &[Elem], param: f64) -> f64 {
    let first = members.first().map_or(f64::NAN, |e| e.v);
    match op {
        AggOp::Sum => members.iter().map(|e| e.v).sum(),
        AggOp::Count | AggOp::CountValues => members.len() as f64,
        AggOp::Group => 1.0,
        AggOp::Min => members
            .iter()
            .fold(first, |m, e| if m > e.v || m.is_nan() { e.v } else { m }),
        AggOp::Max => members
            .iter()
            .fold(first, |m, e| if m < e.v || m.is_nan() { e.v } else { m }),
        AggOp::Avg => {
            // Incremental mean, so that large values do not overflow to ±Inf.
            let mut mean = first;
            for (i, e) in members.iter().enumerate().skip(1) {
                let n = (i + 1) as f64;
                if mean.is_infinite() {
                    if e.v.is_infinite() && (mean > 0.0) == (e.v > 0.0) {
                        continue;
                    }
                    if !e.v.is_infinite() && !e.v.is_nan() {
                        continue;
                    }
                }
                mean += e.v / n - mean / n;
            }
            mean
        }
        AggOp::Stddev | AggOp::Stdvar => {
            let (mut n, mut mean, mut m2) = (0.0, 0.0, 0.0);
            for e in members {
                n += 1.0;
                let delta = e.v - mean;
                mean += delta / n;
                m2 += delta * (e.v - mean);
            }
            let var = m2 / n;
            if op == AggOp::Stddev { var.sqrt() } else { var }
        }
        AggOp::Quantile => {
            let mut vals: Vec<f64> = members.iter().map(|e| e.v).collect();
            quantile(param, &mut vals)
        }
        AggOp::TopK | AggOp::BottomK => f64::NAN,
    }
}

fn top(mut members: Vec<Elem>, k: usize, largest: bool) -> Vec<Elem> {
    members.sort_by(|a, b| {
        use std::cmp::Ordering::*;
        match (a.v.is_nan(), b.v.is_nan()) {
            (true, true) => Equal,
            (true, false) => Greater,
            (false, true) => Less,
            (false, false) if largest => b.v.partial_cmp(&a.v).unwrap_or(Equal),
            (false, false) => a.v.partial_cmp(&b.v).unwrap_or(Equal),
        }
    });
    members.truncate(k);
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(job: &str, inst: &str, v: f64) -> Elem {
        Elem {
            labels: Labels::from_pairs([("__name__", "m"), ("job", job), ("instance", inst)])
                .unwrap(),
            v,
        }
    }

    fn input() -> Vec<Elem> {
        vec![
            e("a", "1", 1.0),
            e("a", "2", 3.0),
            e("b", "1", 10.0),
            e("b", "2", f64::NAN),
            e("b", "3", 20.0),
        ]
    }

    fn by(names: &[&str]) -> Grouping {
        Grouping::By(names.iter().map(|s| s.to_string()).collect())
    }

    fn values(out: &[Elem]) -> Vec<f64> {
        out.iter().map(|e| e.v).collect()
    }

    #[test]
    fn sum_by_and_without() {
        let out = aggregate(
            AggOp::Sum,
            input()[..3].to_vec(),
            &by(&["job"]),
            Param::None,
        )
        .unwrap();
        assert_eq!(out[0].labels, Labels::from_pairs([("job", "a")]).unwrap());
        assert_eq!(values(&out), vec![4.0, 10.0]);
        let out = aggregate(
            AggOp::Sum,
            input()[..3].to_vec(),
            &Grouping::Without(vec!["instance".into()]),
            Param::None,
        );
        // without drops __name__ too
        assert_eq!(
            out.unwrap()[1].labels,
            Labels::from_pairs([("job", "b")]).unwrap()
        );
        let out = aggregate(AggOp::Sum, input()[..3].to_vec(), &by(&[]), Param::None).unwrap();
        assert_eq!(out[0].labels, Labels::empty());
        assert_eq!(out[0].v, 14.0);
    }

    #[test]
    fn min_max_avg_count_group() {
        let g = by(&["job"]);
        let run = |op| values(&aggregate(op, input(), &g, Param::None).unwrap());
        assert_eq!(run(AggOp::Min), vec![1.0, 10.0]);
        assert_eq!(run(AggOp::Max), vec![3.0, 20.0]);
        assert_eq!(run(AggOp::Count), vec![2.0, 3.0]);
        assert_eq!(run(AggOp::Group), vec![1.0, 1.0]);
        let avg = run(AggOp::Avg);
        assert_eq!(avg[0], 2.0);
        assert!(avg[1].is_nan());
    }

    #[test]
    fn stddev_stdvar() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let input: Vec<Elem> = xs
            .iter()
            .enumerate()
            .map(|(i, &v)| e("a", &i.to_string(), v))
            .collect();
        assert_eq!(
            aggregate(AggOp::Stdvar, input.clone(), &by(&[]), Param::None).unwrap()[0].v,
            4.0
        );
        assert_eq!(
            aggregate(AggOp::Stddev, input, &by(&[]), Param::None).unwrap()[0].v,
            2.0
        );
    }

    #[test]
    fn topk_bottomk_keep_labels_and_order() {
        let out = aggregate(AggOp::TopK, input(), &by(&["job"]), Param::Number(2.0)).unwrap();
        assert_eq!(values(&out), vec![3.0, 1.0, 20.0, 10.0]);
        assert_eq!(out[0].labels.metric_name(), Some("m"));
        let out = aggregate(AggOp::BottomK, input(), &by(&[]), Param::Number(2.0)).unwrap();
        assert_eq!(values(&out), vec![1.0, 3.0]);
        assert!(
            aggregate(AggOp::TopK, input(), &by(&[]), Param::Number(0.0))
                .unwrap()
                .is_empty()
        );
        assert!(aggregate(AggOp::TopK, input(), &by(&[]), Param::Number(f64::NAN)).is_err());
        // NaN is the last choice
        let out = aggregate(AggOp::TopK, input(), &by(&["job"]), Param::Number(3.0)).unwrap();
        assert!(out[4].v.is_nan());
    }

    #[test]
    fn quantile_and_count_values() {
        let out = aggregate(
            AggOp::Quantile,
            input()[..3].to_vec(),
            &by(&[]),
            Param::Number(0.5),
        )
        .unwrap();
        assert_eq!(out[0].v, 3.0);
        let input = vec![e("a", "1", 1.0), e("a", "2", 1.0), e("b", "1", 2.5)];
        let out = aggregate(
            AggOp::CountValues,
            input,
            &by(&[]),
            Param::Label("val".into()),
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].labels, Labels::from_pairs([("val", "1")]).unwrap());
        assert_eq!(out[0].v, 2.0);
        assert_eq!(out[1].labels, Labels::from_pairs([("val", "2.5")]).unwrap());
        assert!(
            aggregate(
                AggOp::CountValues,
                vec![],
                &by(&[]),
                Param::Label("1x".into())
            )
            .is_err()
        );
    }
}
