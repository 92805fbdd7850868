//! Hush's PromQL evaluator.
//!
//! Parses a query with `promql-parser`, converts it into a plan (rejecting what Hush does not
//! evaluate with [`QueryError::Unsupported`] before reading any data), loads each selector's
//! samples once through the [`Storage`] trait, and evaluates the plan step by step with
//! Prometheus 2.x semantics: lookback, stale markers, `rate` extrapolation, vector matching.
//!
//! What is evaluated:
//! - selectors with `=`, `!=`, `=~`, `!~`; range vectors; `offset` (also negative); `@` with
//!   a time, `start()` or `end()`; subqueries `x[1h:1m]`;
//! - `rate irate increase delta idelta resets changes deriv predict_linear`, the
//!   `*_over_time` family (`avg sum min max count last stddev stdvar quantile present absent`);
//! - aggregations `sum avg min max count group stddev stdvar topk bottomk quantile count_values`
//!   with `by` / `without`;
//! - `+ - * / % ^`, comparisons with and without `bool`, `and or unless`, vector matching with
//!   `on` / `ignoring` / `group_left` / `group_right`; unary minus; number and string literals;
//! - `abs ceil floor round exp ln log2 log10 sqrt sgn clamp clamp_min clamp_max scalar vector time
//!   timestamp histogram_quantile label_replace label_join absent sort sort_desc`, trigonometry,
//!   `pi`, and the calendar functions (`hour`, `day_of_week`, …).
//!
//! Everything else (native histograms, `holt_winters`-style smoothing, `limitk`, functions newer
//! than Prometheus 2.x, `or` inside braces, `fill` modifiers) is [`QueryError::Unsupported`].
//!
//! **Invariant:** no IO beyond [`Storage::select`], no async, no clock: the evaluation time is an
//! argument. The store implements [`Storage`]; the HTTP API renders [`Value`].
//!
//! ```
//! use hush_model::{Labels, Sample, TimeSeries};
//! use hush_query::{Engine, EngineOptions, MemoryStorage, Value};
//!
//! let mut storage = MemoryStorage::new();
//! let labels = Labels::from_pairs([("__name__", "up"), ("job", "node")]).unwrap();
//! storage.add(TimeSeries::new(labels, vec![Sample::new(0, 1.0)]));
//! let engine = Engine::new(storage, EngineOptions::default());
//! let Value::Vector(v) = engine.instant("sum by (job) (up)", 60_000).unwrap() else { panic!() };
//! assert_eq!(v[0].1.v, 1.0);
//! ```

mod aggregate;
mod binary;
mod call;
mod engine;
mod error;
mod eval;
mod functions;
mod plan;
mod storage;
mod value;

pub use engine::{Engine, EngineOptions};
pub use error::QueryError;
pub use storage::{MemoryStorage, Storage, StorageError};
pub use value::{STALE_NAN_BITS, Value, format_sample_value, is_stale_marker, timestamp_seconds};
