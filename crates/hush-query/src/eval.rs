//! Evaluates a plan at one instant over data the engine loaded beforehand.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use hush_model::{Labels, METRIC_NAME, Sample, TimeSeries};

use crate::QueryError;
use crate::aggregate::{self, Param};
use crate::binary;
use crate::functions::range::Window;
use crate::plan::{At, Node, Selector};
use crate::value::is_stale_marker;

/// One element of an instant vector. Its time is always the evaluation time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Elem {
    pub labels: Labels,
    pub v: f64,
}

/// One series of a range vector: borrowed from the loaded data, or owned (subqueries).
#[derive(Debug, Clone)]
pub(crate) struct RangeSeries<'a> {
    pub labels: Cow<'a, Labels>,
    pub samples: Cow<'a, [Sample]>,
}

/// The value of a node at one instant.
#[derive(Debug)]
pub(crate) enum StepValue<'a> {
    Scalar(f64),
    Vector(Vec<Elem>),
    Matrix(Vec<RangeSeries<'a>>, Window),
    Str(String),
}

impl StepValue<'_> {
    fn kind(&self) -> &'static str {
        match self {
            StepValue::Scalar(_) => "scalar",
            StepValue::Vector(_) => "instant vector",
            StepValue::Matrix(..) => "range vector",
            StepValue::Str(_) => "string",
        }
    }
}

/// Everything an evaluation reads: loaded series per selector id and the engine's settings.
pub(crate) struct Evaluator<'a> {
    /// Series per selector id; stale markers already removed for matrix selectors.
    pub data: &'a [Vec<TimeSeries>],
    pub lookback_ms: i64,
    /// The query's start and end, which `@ start()` and `@ end()` refer to.
    pub start_ms: i64,
    pub end_ms: i64,
    pub subquery_step_ms: i64,
    /// Prometheus 3 windows `(t - range, t]`; Prometheus 2 (the default) uses `[t - range, t]`.
    pub left_open: bool,
    pub max_samples: usize,
}

impl<'a> Evaluator<'a> {
    pub(crate) fn eval(&self, node: &Node, t: i64) -> Result<StepValue<'a>, QueryError> {
        let value = match node {
            Node::Number(v) => StepValue::Scalar(*v),
            Node::Str(s) => StepValue::Str(s.clone()),
            Node::Paren(inner) => self.eval(inner, t)?,
            Node::Vector(sel) => StepValue::Vector(
                self.select_instant(sel, t)
                    .map(|(s, smp)| Elem {
                        labels: s.clone(),
                        v: smp.v,
                    })
                    .collect(),
            ),
            Node::Matrix(sel) => self.select_range(sel, t),
            Node::Subquery {
                expr,
                range_ms,
                step_ms,
                offset_ms,
                at,
            } => self.subquery(expr, *range_ms, *step_ms, *offset_ms, *at, t)?,
            Node::Neg(inner) => match self.eval(inner, t)? {
                StepValue::Scalar(v) => StepValue::Scalar(-v),
                StepValue::Vector(vec) => StepValue::Vector(unique(
                    vec.into_iter()
                        .map(|e| Elem {
                            labels: e.labels.without(&[METRIC_NAME]),
                            v: -e.v,
                        })
                        .collect(),
                )?),
                other => return Err(type_error("unary minus", &other)),
            },
            Node::Call { func, args } => self.call(*func, args, t)?,
            Node::Agg {
                op,
                expr,
                param,
                grouping,
            } => {
                let param = match param.as_deref().map(|p| self.eval(p, t)).transpose()? {
                    None => Param::None,
                    Some(StepValue::Scalar(v)) => Param::Number(v),
                    Some(StepValue::Str(s)) => Param::Label(s),
                    Some(other) => return Err(type_error("aggregation parameter", &other)),
                };
                let input = self.vector(expr, t)?;
                StepValue::Vector(aggregate::aggregate(*op, input, grouping, param)?)
            }
            Node::Binary {
                op,
                lhs,
                rhs,
                matching,
                return_bool,
            } => {
                let (l, r) = (self.eval(lhs, t)?, self.eval(rhs, t)?);
                match (l, r) {
                    (StepValue::Scalar(a), StepValue::Scalar(b)) => {
                        StepValue::Scalar(binary::scalar_scalar(*op, a, b))
                    }
                    (StepValue::Vector(v), StepValue::Scalar(s)) => StepValue::Vector(unique(
                        binary::vector_scalar(*op, v, s, false, *return_bool),
                    )?),
                    (StepValue::Scalar(s), StepValue::Vector(v)) => StepValue::Vector(unique(
                        binary::vector_scalar(*op, v, s, true, *return_bool),
                    )?),
                    (StepValue::Vector(a), StepValue::Vector(b)) if op.is_set() => {
                        StepValue::Vector(binary::set_op(*op, a, b, matching))
                    }
                    (StepValue::Vector(a), StepValue::Vector(b)) => {
                        StepValue::Vector(binary::vector_vector(*op, a, b, matching, *return_bool)?)
                    }
                    (l, _) => return Err(type_error("binary operator", &l)),
                }
            }
        };
        self.check_size(&value)?;
        Ok(value)
    }

    /// Evaluates a node that must yield an instant vector.
    pub(crate) fn vector(&self, node: &Node, t: i64) -> Result<Vec<Elem>, QueryError> {
        match self.eval(node, t)? {
            StepValue::Vector(v) => Ok(v),
            other => Err(type_error("an instant vector argument", &other)),
        }
    }

    /// Evaluates a node that must yield a scalar.
    pub(crate) fn scalar(&self, node: &Node, t: i64) -> Result<f64, QueryError> {
        match self.eval(node, t)? {
            StepValue::Scalar(v) => Ok(v),
            other => Err(type_error("a scalar argument", &other)),
        }
    }

    /// Evaluates a node that must yield a string.
    pub(crate) fn string(&self, node: &Node, t: i64) -> Result<String, QueryError> {
        match self.eval(node, t)? {
            StepValue::Str(s) => Ok(s),
            other => Err(type_error("a string argument", &other)),
        }
    }

    fn check_size(&self, v: &StepValue<'_>) -> Result<(), QueryError> {
        let n = match v {
            StepValue::Vector(v) => v.len(),
            StepValue::Matrix(m, _) => m.iter().map(|s| s.samples.len()).sum(),
            _ => 1,
        };
        if n > self.max_samples {
            Err(QueryError::TooManySamples {
                limit: self.max_samples,
            })
        } else {
            Ok(())
        }
    }

    pub(crate) fn at_time(&self, at: Option<At>, t: i64) -> i64 {
        match at {
            None => t,
            Some(At::Time(x)) => x,
            Some(At::Start) => self.start_ms,
            Some(At::End) => self.end_ms,
        }
    }

    /// The latest sample of each series within the lookback window, unless it is a stale marker.
    pub(crate) fn select_instant<'s>(
        &'s self,
        sel: &Selector,
        t: i64,
    ) -> impl Iterator<Item = (&'a Labels, Sample)> + 's {
        let ref_t = self.at_time(sel.at, t).saturating_sub(sel.offset_ms);
        let floor = ref_t.saturating_sub(self.lookback_ms);
        let left_open = self.left_open;
        let series: &'a [TimeSeries] = self.data.get(sel.id).map_or(&[], Vec::as_slice);
        series.iter().filter_map(move |s| {
            let idx = s.samples.partition_point(|x| x.t <= ref_t);
            let latest = *s.samples.get(idx.checked_sub(1)?)?;
            let fresh = if left_open {
                latest.t > floor
            } else {
                latest.t >= floor
            };
            (fresh && !is_stale_marker(latest.v)).then_some((&s.labels, latest))
        })
    }

    fn select_range(&self, sel: &Selector, t: i64) -> StepValue<'a> {
        let end = self.at_time(sel.at, t).saturating_sub(sel.offset_ms);
        let start = end.saturating_sub(sel.range_ms.unwrap_or(0));
        let series: &'a [TimeSeries] = self.data.get(sel.id).map_or(&[], Vec::as_slice);
        let out = series
            .iter()
            .filter_map(|s| {
                let a = if self.left_open {
                    s.samples.partition_point(|x| x.t <= start)
                } else {
                    s.samples.partition_point(|x| x.t < start)
                };
                let b = s.samples.partition_point(|x| x.t <= end);
                let samples = s.samples.get(a..b).filter(|w| !w.is_empty())?;
                Some(RangeSeries {
                    labels: Cow::Borrowed(&s.labels),
                    samples: Cow::Borrowed(samples),
                })
            })
            .collect();
        StepValue::Matrix(
            out,
            Window {
                start,
                end,
                eval_t: t,
            },
        )
    }

    fn subquery(
        &self,
        expr: &Node,
        range_ms: i64,
        step_ms: Option<i64>,
        offset_ms: i64,
        at: Option<At>,
        t: i64,
    ) -> Result<StepValue<'a>, QueryError> {
        let step = step_ms.unwrap_or(self.subquery_step_ms);
        if step <= 0 {
            return Err(QueryError::InvalidQuery(
                "subquery step must be positive".into(),
            ));
        }
        let end = self.at_time(at, t).saturating_sub(offset_ms);
        let start = end.saturating_sub(range_ms);
        if (range_ms / step) as u64 > self.max_samples as u64 {
            return Err(QueryError::TooManySamples {
                limit: self.max_samples,
            });
        }
        // Inner steps are the multiples of `step` inside the window, as in Prometheus.
        let mut ts = start.div_euclid(step).saturating_mul(step);
        if ts < start || (self.left_open && ts == start) {
            ts = ts.saturating_add(step);
        }
        let mut order: Vec<Labels> = Vec::new();
        let mut points: HashMap<Labels, Vec<Sample>> = HashMap::new();
        let mut push = |labels: Labels, s: Sample| {
            points
                .entry(labels)
                .or_insert_with_key(|k| {
                    order.push(k.clone());
                    Vec::new()
                })
                .push(s)
        };
        while ts <= end {
            match self.eval(expr, ts)? {
                StepValue::Scalar(v) => push(Labels::empty(), Sample::new(ts, v)),
                StepValue::Vector(vec) => vec
                    .into_iter()
                    .for_each(|e| push(e.labels, Sample::new(ts, e.v))),
                other => return Err(type_error("subquery", &other)),
            }
            match ts.checked_add(step) {
                Some(next) => ts = next,
                None => break,
            }
        }
        let out = order
            .into_iter()
            .filter_map(|labels| {
                let samples = points.remove(&labels)?;
                Some(RangeSeries {
                    labels: Cow::Owned(labels),
                    samples: Cow::Owned(samples),
                })
            })
            .collect();
        Ok(StepValue::Matrix(
            out,
            Window {
                start,
                end,
                eval_t: t,
            },
        ))
    }
}

/// Fails if two elements share a label set, as happens when dropping `__name__` merges series.
pub(crate) fn unique(v: Vec<Elem>) -> Result<Vec<Elem>, QueryError> {
    let mut seen = HashSet::with_capacity(v.len());
    if v.iter().all(|e| seen.insert(&e.labels)) {
        Ok(v)
    } else {
        Err(QueryError::Execution(
            "vector cannot contain metrics with the same labelset".into(),
        ))
    }
}

fn type_error(context: &str, got: &StepValue<'_>) -> QueryError {
    QueryError::Execution(format!("unexpected {} for {context}", got.kind()))
}
