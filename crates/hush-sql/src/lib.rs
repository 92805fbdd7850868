//! Hush's relational store: alerts, events (anomalies, changes, forecasts), incidents with their
//! member alerts, and the tamper-evident audit chain.
//!
//! One async API, [`SqlStore`], over SQLite (the embedded default: one file, WAL) or PostgreSQL
//! (shared by several nodes), chosen by the URL. Each query is written once in the SQL both
//! dialects accept; the schema lives in one migration directory per dialect, embedded in the
//! binary and applied on open.
//!
//! Storage conventions: ids are UUID v7 (time-ordered, made by the application so both dialects
//! agree and an id exists before its row), stored as hyphenated text; the audit chain alone uses
//! integer positions, because its order is its meaning. Times are epoch milliseconds (`i64`) given
//! by the caller — the store never reads a clock except to mint ids. JSON documents are JSONB on
//! PostgreSQL and text on SQLite.
//!
//! This crate does not own series samples (the time-series store does), nor decide anything:
//! correlation, triage and remediation write through it.

mod alerts;
mod audit;
mod error;
mod events;
mod incidents;
mod membership;
mod sql;
mod store;

pub use alerts::{Alert, AlertFilter, AlertStatus, NewAlert, UpsertOutcome};
pub use audit::{
    AuditBreak, AuditEntry, BreakReason, ChainHead, GENESIS_HASH, NewAuditEntry, entry_hash,
};
pub use error::{ErrorKind, SqlError};
pub use events::{Event, EventFilter, EventKind, NewEvent};
pub use incidents::{
    Incident, IncidentFilter, IncidentPatch, IncidentState, NewIncident, Priority,
};
pub use sql::DEFAULT_LIMIT;
pub use store::{Backend, SqlStore, StoreOptions, backend_of};
