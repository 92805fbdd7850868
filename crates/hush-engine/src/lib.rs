//! Hush's runtime: it owns the store, the scrapers and the maintenance schedule, and is the
//! only crate that spawns tasks. The HTTP layer (`hush-api`) calls into [`Engine`].
//!
//! **Invariant:** every task it starts listens to one stop signal, and [`Engine::shutdown`]
//! waits for them before the final WAL sync.

pub mod anomaly_alerts;
pub mod capacity;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod detection;
mod duration;
mod engine;
pub mod incidents;
pub mod logs;
pub mod metrics;
pub mod notify;
pub mod rca;
pub mod remediation;
pub mod scrape;
pub mod selector;
pub mod topology;
pub mod trace_edges;

pub use engine::Engine;
