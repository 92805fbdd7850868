//! Function calls: argument evaluation and dispatch to [`crate::functions`].

use hush_model::{Labels, METRIC_NAME};

use crate::QueryError;
use crate::eval::{Elem, Evaluator, StepValue, unique};
use crate::functions::{Func, date, go_max, go_min, histogram, labels, range, round};
use crate::plan::Node;

fn arg(args: &[Node], i: usize) -> Result<&Node, QueryError> {
    args.get(i)
        .ok_or_else(|| QueryError::Execution(format!("missing argument {}", i + 1)))
}

/// Parentheses do not change a value, but `timestamp` and `rate` look through them.
fn unparen(mut n: &Node) -> &Node {
    while let Node::Paren(inner) = n {
        n = inner;
    }
    n
}

fn drop_name(labels: &Labels) -> Labels {
    labels.without(&[METRIC_NAME])
}

impl<'a> Evaluator<'a> {
    pub(crate) fn call(
        &self,
        func: Func,
        args: &[Node],
        t: i64,
    ) -> Result<StepValue<'a>, QueryError> {
        if func.takes_range() {
            return self.range_call(func, args, t);
        }
        if let Some(f) = func.simple() {
            let v = self.vector(arg(args, 0)?, t)?;
            return vector(
                v.into_iter()
                    .map(|e| Elem {
                        labels: drop_name(&e.labels),
                        v: f(e.v),
                    })
                    .collect(),
            );
        }
        if func.is_date() {
            let input = match args.first() {
                Some(n) => self.vector(n, t)?,
                None => vec![Elem {
                    labels: Labels::empty(),
                    v: t as f64 / 1000.0,
                }],
            };
            let out = input.into_iter().map(|e| Elem {
                labels: drop_name(&e.labels),
                v: date::apply(func, e.v),
            });
            return vector(out.collect());
        }
        Ok(match func {
            Func::Pi => StepValue::Scalar(std::f64::consts::PI),
            Func::Time => StepValue::Scalar(t as f64 / 1000.0),
            Func::Vector => StepValue::Vector(vec![Elem {
                labels: Labels::empty(),
                v: self.scalar(arg(args, 0)?, t)?,
            }]),
            Func::Scalar => {
                let v = self.vector(arg(args, 0)?, t)?;
                StepValue::Scalar(if let [only] = v.as_slice() {
                    only.v
                } else {
                    f64::NAN
                })
            }
            Func::Timestamp => {
                // A selector's samples carry their own time; anything else is "now".
                let out: Vec<Elem> = match unparen(arg(args, 0)?) {
                    Node::Vector(sel) => self
                        .select_instant(sel, t)
                        .map(|(l, s)| Elem {
                            labels: drop_name(l),
                            v: s.t as f64 / 1000.0,
                        })
                        .collect(),
                    other => self
                        .vector(other, t)?
                        .into_iter()
                        .map(|e| Elem {
                            labels: drop_name(&e.labels),
                            v: t as f64 / 1000.0,
                        })
                        .collect(),
                };
                return vector(out);
            }
            Func::Absent => {
                let node = arg(args, 0)?;
                if self.vector(node, t)?.is_empty() {
                    let labels = match node {
                        Node::Vector(sel) => labels::absent_labels(&sel.matchers),
                        _ => Labels::empty(),
                    };
                    StepValue::Vector(vec![Elem { labels, v: 1.0 }])
                } else {
                    StepValue::Vector(Vec::new())
                }
            }
            Func::Round => {
                let v = self.vector(arg(args, 0)?, t)?;
                let to = match args.get(1) {
                    Some(n) => self.scalar(n, t)?,
                    None => 1.0,
                };
                return vector(
                    v.into_iter()
                        .map(|e| Elem {
                            labels: drop_name(&e.labels),
                            v: round(e.v, to),
                        })
                        .collect(),
                );
            }
            Func::Clamp | Func::ClampMin | Func::ClampMax => {
                let v = self.vector(arg(args, 0)?, t)?;
                let a = self.scalar(arg(args, 1)?, t)?;
                let (lo, hi) = match func {
                    Func::Clamp => (a, self.scalar(arg(args, 2)?, t)?),
                    Func::ClampMin => (a, f64::NAN),
                    _ => (f64::NAN, a),
                };
                if func == Func::Clamp && hi < lo {
                    return Ok(StepValue::Vector(Vec::new()));
                }
                let clamp = |x: f64| match func {
                    Func::Clamp => go_max(lo, go_min(hi, x)),
                    Func::ClampMin => go_max(lo, x),
                    _ => go_min(hi, x),
                };
                return vector(
                    v.into_iter()
                        .map(|e| Elem {
                            labels: drop_name(&e.labels),
                            v: clamp(e.v),
                        })
                        .collect(),
                );
            }
            Func::HistogramQuantile => {
                let q = self.scalar(arg(args, 0)?, t)?;
                let v = self.vector(arg(args, 1)?, t)?;
                return vector(histogram::histogram_quantile(q, v));
            }
            Func::LabelReplace => {
                let v = self.vector(arg(args, 0)?, t)?;
                let s: Vec<String> = (1..5)
                    .map(|i| self.string(arg(args, i)?, t))
                    .collect::<Result<_, _>>()?;
                return vector(labels::label_replace(v, &s[0], &s[1], &s[2], &s[3])?);
            }
            Func::LabelJoin => {
                let v = self.vector(arg(args, 0)?, t)?;
                let dst = self.string(arg(args, 1)?, t)?;
                let sep = self.string(arg(args, 2)?, t)?;
                let srcs = args
                    .iter()
                    .skip(3)
                    .map(|n| self.string(n, t))
                    .collect::<Result<Vec<_>, _>>()?;
                return vector(labels::label_join(v, &dst, &sep, &srcs)?);
            }
            Func::Sort | Func::SortDesc => {
                let mut v = self.vector(arg(args, 0)?, t)?;
                let desc = func == Func::SortDesc;
                // NaNs first in both directions, as Prometheus' heap sorts leave them.
                v.sort_by(|a, b| match (a.v.is_nan(), b.v.is_nan()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => std::cmp::Ordering::Less,
                    (false, true) => std::cmp::Ordering::Greater,
                    _ if desc => b.v.total_cmp(&a.v),
                    _ => a.v.total_cmp(&b.v),
                });
                StepValue::Vector(v)
            }
            other => {
                return Err(QueryError::unsupported(format!(
                    "function `{other:?}` in this position"
                )));
            }
        })
    }

    fn range_call(&self, func: Func, args: &[Node], t: i64) -> Result<StepValue<'a>, QueryError> {
        let (param, matrix_node) = match func {
            Func::QuantileOverTime => (self.scalar(arg(args, 0)?, t)?, arg(args, 1)?),
            Func::PredictLinear => (self.scalar(arg(args, 1)?, t)?, arg(args, 0)?),
            _ => (0.0, arg(args, 0)?),
        };
        let matrix_node = unparen(matrix_node);
        let StepValue::Matrix(series, window) = self.eval(matrix_node, t)? else {
            return Err(QueryError::Execution(
                "expected a range vector argument".into(),
            ));
        };
        if func == Func::AbsentOverTime {
            if !series.is_empty() {
                return Ok(StepValue::Vector(Vec::new()));
            }
            let labels = match matrix_node {
                Node::Matrix(sel) => labels::absent_labels(&sel.matchers),
                _ => Labels::empty(),
            };
            return Ok(StepValue::Vector(vec![Elem { labels, v: 1.0 }]));
        }
        // Input series are distinct; dropping the name can only merge two that differ by name.
        let one_name = series
            .windows(2)
            .all(|w| w[0].labels.metric_name() == w[1].labels.metric_name());
        let mut out = Vec::with_capacity(series.len());
        for s in &series {
            if let Some(v) = range::apply(func, &s.samples, window, param) {
                // last_over_time still is the metric it read; every other function is not.
                let labels = if func == Func::LastOverTime {
                    s.labels.as_ref().clone()
                } else {
                    drop_name(&s.labels)
                };
                out.push(Elem { labels, v });
            }
        }
        if one_name {
            Ok(StepValue::Vector(out))
        } else {
            vector(out)
        }
    }
}

fn vector<'a>(v: Vec<Elem>) -> Result<StepValue<'a>, QueryError> {
    Ok(StepValue::Vector(unique(v)?))
}
