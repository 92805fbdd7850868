//! Offline tools that the `hush` binary exposes as subcommands: file-to-file backtests
//! (`hush detect`, `hush logs parse`, `hush forecast`) and scoring against public benchmarks
//! (`hush eval ...`).
//!
//! Each module owns one command family and exposes a `clap::Args` struct plus a `run` function.
//! The algorithms live in the pure crates; this crate only reads files, drives them and scores.
//! **Invariant:** nothing here is used by `hush serve`.

pub mod correlate;
pub mod detect;
pub mod forecast;
pub mod loghub;
pub mod logs;
pub mod m4;
pub mod nab;
pub mod petshop;
pub mod progress;
pub mod simulate;
