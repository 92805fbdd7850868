//! Binary operators between scalars and vectors, with Prometheus' vector matching.

use std::collections::{HashMap, HashSet};

use hush_model::{Labels, METRIC_NAME};

use crate::QueryError;
use crate::eval::Elem;
use crate::plan::{BinOp, Card, Matching};

/// Applies `op` to two numbers. The flag says whether a comparison held (always true for
/// arithmetic); a comparison's value is its left operand, as Prometheus filters with it.
pub(crate) fn apply(op: BinOp, l: f64, r: f64) -> (f64, bool) {
    match op {
        BinOp::Add => (l + r, true),
        BinOp::Sub => (l - r, true),
        BinOp::Mul => (l * r, true),
        BinOp::Div => (l / r, true),
        // Rust's `%` on floats is C's fmod, as Go's math.Mod: the sign follows the dividend.
        BinOp::Mod => (l % r, true),
        BinOp::Pow => (l.powf(r), true),
        BinOp::Eq => (l, l == r),
        BinOp::Ne => (l, l != r),
        BinOp::Gt => (l, l > r),
        BinOp::Lt => (l, l < r),
        BinOp::Ge => (l, l >= r),
        BinOp::Le => (l, l <= r),
        BinOp::And | BinOp::Or | BinOp::Unless => (f64::NAN, false),
    }
}

/// Arithmetic results are no longer the named metric.
fn drops_name(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Pow
    )
}

/// Between two scalars; comparisons need `bool` (the parser insists) and answer 0 or 1.
pub(crate) fn scalar_scalar(op: BinOp, l: f64, r: f64) -> f64 {
    let (v, keep) = apply(op, l, r);
    if op.is_comparison() {
        f64::from(u8::from(keep))
    } else {
        v
    }
}

/// Between a vector and a scalar, on either side.
pub(crate) fn vector_scalar(
    op: BinOp,
    vec: Vec<Elem>,
    s: f64,
    scalar_left: bool,
    return_bool: bool,
) -> Vec<Elem> {
    let mut out = Vec::with_capacity(vec.len());
    for mut e in vec {
        let (l, r) = if scalar_left { (s, e.v) } else { (e.v, s) };
        let (mut v, mut keep) = apply(op, l, r);
        if op.is_comparison() && scalar_left {
            // A filter always keeps the vector's value, whichever side it is on.
            v = r;
        }
        if return_bool {
            v = f64::from(u8::from(keep));
            keep = true;
        }
        if !keep {
            continue;
        }
        if drops_name(op) || return_bool {
            e.labels = e.labels.without(&[METRIC_NAME]);
        }
        e.v = v;
        out.push(e);
    }
    out
}

/// The labels two elements must share to match.
fn signature(labels: &Labels, m: &Matching) -> Labels {
    let names: Vec<&str> = m.labels.iter().map(String::as_str).collect();
    if m.on {
        labels.keep_only(&names)
    } else {
        let mut drop = names;
        drop.push(METRIC_NAME);
        labels.without(&drop)
    }
}

/// `and`, `or`, `unless`: element selection by signature; values and labels pass unchanged.
pub(crate) fn set_op(op: BinOp, lhs: Vec<Elem>, rhs: Vec<Elem>, m: &Matching) -> Vec<Elem> {
    match op {
        BinOp::And | BinOp::Unless => {
            let right: HashSet<Labels> = rhs.iter().map(|e| signature(&e.labels, m)).collect();
            let want = op == BinOp::And;
            lhs.into_iter()
                .filter(|e| right.contains(&signature(&e.labels, m)) == want)
                .collect()
        }
        _ => {
            let left: HashSet<Labels> = lhs.iter().map(|e| signature(&e.labels, m)).collect();
            let mut out = lhs;
            out.extend(
                rhs.into_iter()
                    .filter(|e| !left.contains(&signature(&e.labels, m))),
            );
            out
        }
    }
}

/// Arithmetic and comparisons between two vectors: one-to-one, or many-to-one / one-to-many
/// with `group_left` / `group_right`.
pub(crate) fn vector_vector(
    op: BinOp,
    lhs: Vec<Elem>,
    rhs: Vec<Elem>,
    m: &Matching,
    return_bool: bool,
) -> Result<Vec<Elem>, QueryError> {
    // Put the "many" side on the left; operands are swapped back before applying `op`.
    let swapped = m.card == Card::OneToMany;
    let (many, one) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
    let mut one_by_sig: HashMap<Labels, Elem> = HashMap::with_capacity(one.len());
    for e in one {
        let sig = signature(&e.labels, m);
        if let Some(dup) = one_by_sig.get(&sig) {
            let side = if swapped { "left" } else { "right" };
            return Err(QueryError::Execution(format!(
                "found duplicate series for the match group {sig} on the {side} hand-side of the operation: \
                 [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                e.labels, dup.labels
            )));
        }
        one_by_sig.insert(sig, e);
    }
    let mut matched: HashMap<Labels, HashSet<Labels>> = HashMap::new();
    let mut out = Vec::new();
    for e in many {
        let sig = signature(&e.labels, m);
        let Some(other) = one_by_sig.get(&sig) else {
            continue;
        };
        let (l, r) = if swapped {
            (other.v, e.v)
        } else {
            (e.v, other.v)
        };
        let (mut v, keep) = apply(op, l, r);
        if return_bool {
            v = f64::from(u8::from(keep));
        } else if !keep {
            continue;
        }
        let mut labels = result_labels(&e.labels, &other.labels, op, m);
        if return_bool {
            labels = labels.without(&[METRIC_NAME]);
        }
        let inserted = matched.entry(sig).or_default();
        if m.card == Card::OneToOne {
            if !inserted.is_empty() {
                return Err(QueryError::Execution(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
                ));
            }
        } else if inserted.contains(&labels) {
            return Err(QueryError::Execution(
                "multiple matches for labels: grouping labels must ensure unique matches".into(),
            ));
        }
        inserted.insert(labels.clone());
        out.push(Elem { labels, v });
    }
    Ok(out)
}

fn result_labels(many: &Labels, one: &Labels, op: BinOp, m: &Matching) -> Labels {
    let mut labels = if drops_name(op) {
        many.without(&[METRIC_NAME])
    } else {
        many.clone()
    };
    if m.card == Card::OneToOne {
        let names: Vec<&str> = m.labels.iter().map(String::as_str).collect();
        labels = if m.on {
            labels.keep_only(&names)
        } else {
            labels.without(&names)
        };
    }
    for name in &m.include {
        // `with` removes the label when the "one" side lacks it, as Prometheus does.
        labels = labels.with(name, one.get(name).unwrap_or(""));
    }
    labels
}
