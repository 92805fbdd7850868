//! Remediation: match an incident to a runbook, decide whether to suggest, ask for approval or
//! act alone, run its steps through executors with a mandatory dry-run, verify the fix, roll back
//! when it did not work, and append every decision and action to the audit chain.
//!
//! - [`runbook`]: the YAML format, validated with file:line:column errors (commands outside the
//!   allowlist are refused here, at load time).
//! - [`template`]: the incident as seen by a runbook, and parameters bound from it.
//! - [`trigger`]: matching and confidence (match quality plus recorded outcomes, with reasons).
//! - [`action`]: the [`action::Action`] trait and its executors (command, webhook, annotate);
//!   [`kubernetes`]: rollout restart, scale, delete pod, cordon through the API server.
//! - [`guard`]: kill switch, rate/concurrency limits, blast radius, cooldowns, maintenance.
//! - [`controller`]: [`Remediator`], the state of runs and the decisions between them.
//!
//! **Invariant:** incident data never reaches a shell and never chooses an executable or a URL:
//! it only fills whole argv elements, JSON string values and annotation text.
//! **Invariant:** this crate spawns no tasks; the engine drives [`Remediator::tick`] and runs
//! [`Remediator::execute`] on its own tasks.

pub mod action;
pub mod config;
pub mod controller;
pub mod duration;
pub mod guard;
pub mod kubernetes;
pub mod runbook;
pub mod template;
pub mod trigger;

pub use config::RemediationConfig;
pub use controller::{MetricQuery, Remediator, Run, RunState};
pub use runbook::{LoadError, Runbook, RunbookSet};
