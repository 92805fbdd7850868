//! A simulated online shop that misbehaves on cue, and knows exactly how.
//!
//! `hush-sim` owns the estate (18 services, their pods, nodes and call graph), a causal model
//! of its load and health, the fault scenarios, and the signals an operator would collect:
//! Prometheus metrics, logs, traces, Alertmanager notifications and change events, plus the
//! ground truth of every run (which faults, where, when, and which alerts they caused).
//! [`Simulation`] steps it in simulated time, so `hush demo` can feed a live server at any
//! speed-up and `hush simulate` can write files.
//!
//! **Invariant:** hush-sim imports none of Hush's detection, log-mining, correlation or RCA
//! crates, so the truth is independent of what is being tested.
//! **Invariant:** no clock and no IO: simulated time is an argument, randomness comes from the
//! seed, and the same seed gives the same bytes.

pub mod alertmanager;
pub mod alerts;
pub mod changes;
pub mod estate;
pub mod fault;
pub mod logs;
mod logtext;
pub mod metrics;
pub mod noise;
pub mod rng;
pub mod rules;
pub mod scenario;
mod sim;
pub mod time;
pub mod traces;
pub mod truth;
pub mod world;

pub use alertmanager::{AmAlert, Notification, Webhook};
pub use changes::{Change, ChangeKind};
pub use estate::{Estate, Service, ServiceKind};
pub use fault::{Fault, FaultKind};
pub use logs::{Level, LogRecord, LogSource};
pub use scenario::{Scenario, UnknownScenario};
pub use sim::{SimConfig, SimError, Simulation, Tick};
pub use traces::{Span, SpanKind, to_otlp_json};
pub use truth::{AlertTruth, IncidentTruth, RootCause, Truth};
