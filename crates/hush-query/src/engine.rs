//! The public entry points: [`Engine::instant`] and [`Engine::range`].

use std::collections::HashMap;

use hush_model::{Labels, Sample, TimeSeries};

use crate::eval::{Evaluator, StepValue};
use crate::plan::{self, At, Node, Plan};
use crate::value::is_stale_marker;
use crate::{QueryError, Storage, Value};

/// Limits and semantics of an [`Engine`]. `Default` gives Prometheus' defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (Prometheus: 5 minutes).
    pub lookback_delta_ms: i64,
    /// Most samples a query may load, one intermediate value may hold, or a range query may
    /// answer with (Prometheus: 50 M). Stricter than Prometheus' peak count, since Hush loads a
    /// range query's data up front.
    pub max_samples: usize,
    /// Most points per series in a range query (Prometheus: 11,000).
    pub max_points_per_series: usize,
    /// Step of a subquery written without one, `x[1h:]` (Prometheus: the evaluation interval, 1 m).
    pub default_subquery_step_ms: i64,
    /// Windows exclude their start, `(t - range, t]`, as from Prometheus 3.0. The default,
    /// `false`, includes it, `[t - range, t]`, as Prometheus 2.x does.
    pub left_open_windows: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            max_points_per_series: 11_000,
            default_subquery_step_ms: 60 * 1000,
            left_open_windows: false,
        }
    }
}

/// Evaluates PromQL over a [`Storage`].
#[derive(Debug, Clone)]
pub struct Engine<S> {
    storage: S,
    options: EngineOptions,
}

impl<S: Storage> Engine<S> {
    /// An engine reading from `storage`.
    pub fn new(storage: S, options: EngineOptions) -> Self {
        Self { storage, options }
    }

    /// The storage this engine reads.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The options in force.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Evaluates `query` at `t_ms`, like Prometheus' `/api/v1/query`.
    pub fn instant(&self, query: &str, t_ms: i64) -> Result<Value, QueryError> {
        let plan = plan::plan(query)?;
        let data = self.load(&plan, t_ms, t_ms)?;
        let ev = self.evaluator(&data, t_ms, t_ms);
        Ok(match ev.eval(&plan.root, t_ms)? {
            StepValue::Scalar(v) => Value::Scalar(t_ms, v),
            StepValue::Str(s) => Value::String(t_ms, s),
            StepValue::Vector(v) => {
                let mut out: Vec<(Labels, Sample)> = v
                    .into_iter()
                    .map(|e| (e.labels, Sample::new(t_ms, e.v)))
                    .collect();
                if !keeps_order(&plan.root) {
                    out.sort_by(|a, b| a.0.cmp(&b.0));
                }
                Value::Vector(out)
            }
            StepValue::Matrix(m, _) => {
                let mut out: Vec<TimeSeries> = m
                    .into_iter()
                    .map(|s| TimeSeries::new(s.labels.into_owned(), s.samples.into_owned()))
                    .collect();
                out.sort_by(|a, b| a.labels.cmp(&b.labels));
                Value::Matrix(out)
            }
        })
    }

    /// Evaluates `query` at every step from `start_ms` to `end_ms`, like `/api/v1/query_range`.
    /// Always answers with a [`Value::Matrix`] sorted by labels.
    pub fn range(
        &self,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Value, QueryError> {
        if step_ms <= 0 {
            return Err(QueryError::InvalidQuery(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if end_ms < start_ms {
            return Err(QueryError::InvalidQuery(
                "end timestamp must not be before start time".into(),
            ));
        }
        // As Prometheus: the number of step *intervals* is limited, so the limit plus one points pass.
        let intervals = end_ms.abs_diff(start_ms) / step_ms.unsigned_abs();
        if intervals > self.options.max_points_per_series as u64 {
            return Err(QueryError::InvalidQuery(format!(
                "exceeded maximum resolution of {} points per timeseries. Try decreasing the query resolution (?step=XX)",
                self.options.max_points_per_series
            )));
        }
        let plan = plan::plan(query)?;
        match result_kind(&plan.root) {
            Kind::Matrix => return Err(range_type_error("range vector")),
            Kind::Str => return Err(range_type_error("string")),
            Kind::Other => {}
        }
        let data = self.load(&plan, start_ms, end_ms)?;
        let ev = self.evaluator(&data, start_ms, end_ms);
        let mut order: Vec<Labels> = Vec::new();
        let mut series: HashMap<Labels, Vec<Sample>> = HashMap::new();
        let mut total = 0usize;
        let mut t = start_ms;
        while t <= end_ms {
            let elems = match ev.eval(&plan.root, t)? {
                StepValue::Scalar(v) => vec![(Labels::empty(), v)],
                StepValue::Vector(v) => v.into_iter().map(|e| (e.labels, e.v)).collect(),
                _ => return Err(range_type_error("range vector")),
            };
            total += elems.len();
            if total > self.options.max_samples {
                return Err(QueryError::TooManySamples {
                    limit: self.options.max_samples,
                });
            }
            for (labels, v) in elems {
                series
                    .entry(labels)
                    .or_insert_with_key(|k| {
                        order.push(k.clone());
                        Vec::new()
                    })
                    .push(Sample::new(t, v));
            }
            match t.checked_add(step_ms) {
                Some(next) => t = next,
                None => break,
            }
        }
        let mut out: Vec<TimeSeries> = order
            .into_iter()
            .filter_map(|l| series.remove(&l).map(|s| TimeSeries::new(l, s)))
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(Value::Matrix(out))
    }

    fn evaluator<'a>(
        &self,
        data: &'a [Vec<TimeSeries>],
        start_ms: i64,
        end_ms: i64,
    ) -> Evaluator<'a> {
        Evaluator {
            data,
            lookback_ms: self.options.lookback_delta_ms,
            start_ms,
            end_ms,
            subquery_step_ms: self.options.default_subquery_step_ms,
            left_open: self.options.left_open_windows,
            max_samples: self.options.max_samples,
        }
    }

    /// Reads, once per selector, every sample any step can need.
    fn load(
        &self,
        plan: &Plan,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Vec<TimeSeries>>, QueryError> {
        let mut windows: Vec<Option<(i64, i64)>> = vec![None; plan.selectors.len()];
        let ctx = Bounds {
            lookback: self.options.lookback_delta_ms,
            start: start_ms,
            end: end_ms,
        };
        ctx.collect(&plan.root, start_ms, end_ms, &mut windows);
        let mut data = Vec::with_capacity(plan.selectors.len());
        let mut total = 0usize;
        for (sel, window) in plan.selectors.iter().zip(windows) {
            let Some((lo, hi)) = window else {
                data.push(Vec::new());
                continue;
            };
            let mut series = self.storage.select(&sel.matchers, lo, hi)?;
            if sel.range_ms.is_some() {
                // Range vectors never see stale markers; only instant selectors need them.
                for s in &mut series {
                    s.samples.retain(|x| !is_stale_marker(x.v));
                }
            }
            total = total.saturating_add(series.iter().map(|s| s.samples.len()).sum());
            if total > self.options.max_samples {
                return Err(QueryError::TooManySamples {
                    limit: self.options.max_samples,
                });
            }
            data.push(series);
        }
        Ok(data)
    }
}

/// Computes the time span each selector reads, across all steps.
struct Bounds {
    lookback: i64,
    start: i64,
    end: i64,
}

impl Bounds {
    fn resolve(&self, at: Option<At>, lo: i64, hi: i64) -> (i64, i64) {
        match at {
            None => (lo, hi),
            Some(At::Time(x)) => (x, x),
            Some(At::Start) => (self.start, self.start),
            Some(At::End) => (self.end, self.end),
        }
    }

    fn collect(&self, node: &Node, lo: i64, hi: i64, out: &mut [Option<(i64, i64)>]) {
        match node {
            Node::Vector(sel) | Node::Matrix(sel) => {
                let (a, b) = self.resolve(sel.at, lo, hi);
                let back = sel.range_ms.unwrap_or(self.lookback);
                let w = (
                    a.saturating_sub(sel.offset_ms).saturating_sub(back),
                    b.saturating_sub(sel.offset_ms),
                );
                if let Some(slot) = out.get_mut(sel.id) {
                    *slot = Some(match *slot {
                        None => w,
                        Some((x, y)) => (x.min(w.0), y.max(w.1)),
                    });
                }
            }
            Node::Subquery {
                expr,
                range_ms,
                offset_ms,
                at,
                ..
            } => {
                let (a, b) = self.resolve(*at, lo, hi);
                let inner_hi = b.saturating_sub(*offset_ms);
                self.collect(
                    expr,
                    a.saturating_sub(*offset_ms).saturating_sub(*range_ms),
                    inner_hi,
                    out,
                );
            }
            Node::Number(_) | Node::Str(_) => {}
            Node::Paren(e) | Node::Neg(e) => self.collect(e, lo, hi, out),
            Node::Call { args, .. } => args.iter().for_each(|a| self.collect(a, lo, hi, out)),
            Node::Agg { expr, param, .. } => {
                self.collect(expr, lo, hi, out);
                if let Some(p) = param {
                    self.collect(p, lo, hi, out);
                }
            }
            Node::Binary { lhs, rhs, .. } => {
                self.collect(lhs, lo, hi, out);
                self.collect(rhs, lo, hi, out);
            }
        }
    }
}

enum Kind {
    Matrix,
    Str,
    Other,
}

fn result_kind(n: &Node) -> Kind {
    match n {
        Node::Paren(e) => result_kind(e),
        Node::Matrix(_) | Node::Subquery { .. } => Kind::Matrix,
        Node::Str(_) => Kind::Str,
        _ => Kind::Other,
    }
}

fn range_type_error(got: &str) -> QueryError {
    QueryError::InvalidQuery(format!(
        "invalid expression type {got:?} for range query, must be Scalar or instant Vector"
    ))
}

/// `topk`, `bottomk` and `sort*` define the order of an instant result; others are sorted by labels.
fn keeps_order(n: &Node) -> bool {
    use crate::functions::Func;
    use crate::plan::AggOp;
    match n {
        Node::Paren(e) => keeps_order(e),
        Node::Agg {
            op: AggOp::TopK | AggOp::BottomK,
            ..
        } => true,
        Node::Call {
            func: Func::Sort | Func::SortDesc,
            ..
        } => true,
        _ => false,
    }
}
