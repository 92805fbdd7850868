//! Hush's metric decoders, kept apart from transports.
//!
//! This crate turns request bodies and files into validated [`TimeSeries`]: Prometheus
//! remote_write 1.0 ([`remote_write`]), the Prometheus text format and OpenMetrics
//! ([`exposition`]), OTLP metrics in protobuf and JSON ([`otlp`]) and `timestamp,value` CSV
//! ([`csv`]). Every decoder applies the same [`Limits`] and validation and is all-or-nothing:
//! it returns every series of a request or an [`IngestError`] whose [`IngestError::reason`] is a
//! stable short string the server counts and maps to HTTP.
//!
//! **Invariant:** no HTTP, no async runtime, no IO beyond an optional `BufRead`, no clock (the
//! caller passes "now" where a format needs a default timestamp), and no panic reachable from
//! input.

mod error;
mod limits;
mod series;

pub mod csv;
pub mod exposition;
pub mod otlp;
pub mod remote_write;

pub use error::{IngestError, Reason};
pub use exposition::parse as parse_exposition;
pub use hush_model::TimeSeries;
pub use limits::{Limits, NonFinite, STALE_NAN_BITS, is_stale_marker, stale_marker};
pub use remote_write::{decode as decode_remote_write, encode as encode_remote_write};
