//! Root-cause analysis for Hush: given a service dependency graph, the series observed on each
//! service, recent change events and an incident (a target symptom and a time), rank the services
//! most likely to have caused it and say why.
//!
//! Pipeline, one module per step:
//! - [`graph`]: services and caller→callee edges, each edge remembering where it was learnt
//!   (configuration, traces, metric labels), so merged topologies stay auditable.
//! - [`departure`]: per-series robust departure (median and IQR of a baseline window against the
//!   incident window, BARO-style) and the time each series first left its normal band.
//! - [`rank`]: rankers over the anomalous subgraph reachable from the symptom: an explained-away
//!   traversal, personalised PageRank (random walk with restart) and a graph-free robust scorer,
//!   plus a rank-fusion ensemble; change events are suspects with a time-proximity boost.
//! - [`explain`]: the evidence chain from a hypothesis to the symptom in plain words, and first
//!   checks for that kind of component.
//! - [`analyze`]: the one entry point, [`analyze::analyze`], that ties the steps together and
//!   abstains ("no root cause") when the symptom is not abnormal.
//!
//! **Invariant:** hush-rca does no IO, no clock, no async. Time arrives as Unix seconds in the
//! inputs; trace ingestion, topology storage and HTTP live in other crates.

pub mod analyze;
pub mod change;
pub mod departure;
pub mod error;
pub mod explain;
pub mod graph;
pub mod ppr;
pub mod rank;
pub mod series;
mod timefmt;

pub use analyze::{Hypothesis, Incident, RcaConfig, RcaReport, Verdict, analyze};
pub use change::ChangeEvent;
pub use departure::{Departure, DepartureConfig, TimeRange};
pub use error::RcaError;
pub use graph::{CallEdge, NodeKind, Provenance, ServiceGraph};
pub use rank::Ranker;
pub use series::{MetricKind, Series, SeriesKey};
