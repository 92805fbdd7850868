//! Hush's embedded time-series store: no external service, one directory on disk.
//!
//! - **Index**: label set → series, with postings for fast `=` matching ([`Store::select`]).
//! - **Head**: recent samples per series in Gorilla-compressed chunks ([`chunk`]), plus a small
//!   sorted buffer for out-of-order samples inside a configurable window.
//! - **WAL**: every append is logged (group-committed, fsynced before acknowledgement by default)
//!   and replayed at open, so acknowledged samples survive `kill -9`.
//! - **Blocks**: [`Store::flush`] turns the head into an immutable block file and deletes the WAL
//!   it covers; [`Store::compact`] merges a day's blocks and applies retention.
//!
//! **Invariant:** a sample is in exactly one of: the head (and the WAL), a block being written
//! (and the WAL), or a block. Queries read all three from one consistent snapshot.
//! **Invariant:** the store never spawns async tasks; the engine schedules maintenance.

mod bits;
mod block;
pub mod chunk;
mod codec;
mod db;
mod error;
mod head;
mod index;
mod sealed;
mod wal;

pub use block::BlockMeta;
pub use db::{AppendOutcome, MaintenanceReport, Options, Stats, Store};
pub use error::StoreError;
pub use head::RejectReason;
pub use wal::FsyncPolicy;
