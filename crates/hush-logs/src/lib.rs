//! Log template mining: turn each log line into a template (`<*>` for its variables), a stable
//! template id and the line's parameters.
//!
//! - [`mask`](crate::WILDCARD) — generic masking of variables by their shape (numbers, hex,
//!   IPs and host:port, UUIDs, paths, URLs, e-mails, durations and sizes, timestamps,
//!   `key=value` values). There are no per-system expressions.
//! - [`Miner`] — an online, Drain-style miner whose templates generalise as lines arrive, keep
//!   their id, merge when they become equal, and are capped in number (rarest evicted, counted).
//!   Its state ([`MinerState`]) is serialisable so templates survive restarts.
//! - [`LineFormat`] — splits a raw line into header fields and the `<Content>` to mine.
//! - [`MaskedLines`] and [`mask_ahead`] — lines masked ahead of learning, on other threads
//!   if wanted; [`Miner::learn_masked`] then gives what [`Miner::learn`] gives.
//!
//! **Invariant:** hush-logs does no IO, no clock, no async (`mask_ahead` runs scoped threads,
//! and any IO is its caller's iterator's). Callers pass text in (lossily
//! decoded from bytes with `String::from_utf8_lossy` if need be) and get values back; no input can
//! make it panic.

mod ahead;
mod error;
mod format;
mod line;
mod mask;
mod masked;
mod miner;
mod template;
mod types;

pub use ahead::mask_ahead;
pub use error::{FormatError, MinerError};
pub use format::{CONTENT_FIELD, LineFormat, SplitLine};
pub use mask::WILDCARD;
pub use masked::MaskedLines;
pub use miner::Miner;
pub use template::{Template, TemplateId, Token};
pub use types::{Change, LineMatch, MinerConfig, MinerState, MinerStats};
