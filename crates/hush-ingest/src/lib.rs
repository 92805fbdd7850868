//! Hush's metric decoders, kept apart from transports.
//!
//! This crate turns request bodies and files into validated [`TimeSeries`]:
//!
//! | input | entry point |
//! |---|---|
//! | Prometheus remote_write 1.0 (snappy + protobuf) | [`remote_write::decode`] |
//! | Prometheus text format 0.0.4 / OpenMetrics 1.0 | [`exposition::parse`], [`exposition::parse_document`] |
//! | OTLP metrics, protobuf / JSON / already decoded | [`otlp::decode_metrics_protobuf`], [`otlp::decode_metrics_json`], [`otlp::convert`] |
//! | Alertmanager webhook / generic JSON alerts | [`alerts::decode_alertmanager`], [`alerts::decode_generic`] |
//! | `timestamp,value` CSV for `hush import` | [`csv::parse`], [`csv::parse_reader`] |
//! | logs: OTLP, syslog (RFC 5424/3164, TCP framing), JSON lines | [`logs`] |
//!
//! Every decoder applies the same [`Limits`] and validation and is **all-or-nothing**: it returns
//! every series of a request or an [`IngestError`], whose [`IngestError::reason`] is a stable short
//! string (`too_many_series`, `non_finite_value`, `bad_snappy`, …) that the server counts and maps
//! to HTTP; [`Reason::limit`] names the limit a rejection refers to. NaN and infinite values are
//! refused (or dropped, per [`NonFinite`]) except Prometheus' stale marker, which is kept bit-exact.
//!
//! ```
//! use hush_ingest::{Limits, exposition, remote_write};
//!
//! let limits = Limits::default();
//! let scraped = exposition::parse("# TYPE up gauge\nup{job=\"node\"} 1\n", 1_700_000_000_000, &limits)?;
//! let body = remote_write::encode(&scraped);
//! assert_eq!(remote_write::decode(&body, &limits)?, scraped);
//!
//! let err = exposition::parse("up{job=\"node} 1\n", 0, &limits).unwrap_err();
//! assert_eq!(err.reason(), "bad_exposition");
//! assert_eq!(err.to_string(), "line 1, column 8: unterminated label value");
//! # Ok::<(), hush_ingest::IngestError>(())
//! ```
//!
//! **Invariant:** no HTTP, no async runtime, no IO beyond a caller's `BufRead`, no clock (the
//! caller passes "now" where a format needs a default timestamp), and no panic reachable from
//! input (fuzzed: see `fuzz/` at the repository root).

mod error;
mod limits;
mod series;

pub mod alerts;
pub mod csv;
pub mod exposition;
pub mod logs;
pub mod otlp;
pub mod remote_write;

pub use error::{IngestError, Reason};
pub use exposition::parse as parse_exposition;
pub use hush_model::TimeSeries;
pub use limits::{Limits, NonFinite, STALE_NAN_BITS, is_stale_marker, stale_marker};
pub use remote_write::{decode as decode_remote_write, encode as encode_remote_write};
