//! Log decoders: OTLP/HTTP logs (protobuf and JSON), syslog (RFC 5424 and RFC 3164, with TCP
//! framing), JSON lines and plain text lines, each turning input into [`LogRecord`]s.
//!
//! Every record gets a `service` and a `host`: from OTLP resource attributes (`service.name`,
//! `host.name`), the syslog APP-NAME and HOSTNAME, JSON fields, or else the caller's
//! [`LogDefaults`]. Bytes that are not UTF-8 are decoded lossily (U+FFFD), messages longer than
//! [`LogLimits::max_message_bytes`] are cut at a character boundary; both are counted in
//! [`Lossy`] rather than refused. What cannot be decoded at all is a [`LogError`] whose
//! [`LogReason`] is a stable short name the server counts.
//!
//! Like the metric decoders these do no IO, keep no clock (the caller passes "now" for records
//! without a timestamp) and reject a request whole, so a refused request stores nothing.

mod framing;
mod jsonl;
mod otlp;
mod plain;
mod syslog;

#[cfg(test)]
mod tests;

pub use framing::{Frame, Framer};
pub use jsonl::{decode_json_line, decode_json_lines};
pub use otlp::{decode_logs_json, decode_logs_protobuf};
pub use plain::decode_plain_line;
pub use syslog::decode_syslog;

/// A record's severity, a closed set shared by every source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
    /// The source said nothing and the text gave no hint.
    Unknown,
}

impl Level {
    /// Every level, for parsing query parameters and pre-registering counters.
    pub const ALL: [Level; 7] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
        Level::Unknown,
    ];

    /// A stable lowercase name (a label value of `hush_log_template_count`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
            Level::Unknown => "unknown",
        }
    }

    /// Error or worse: what a new template must be to count as a new error pattern.
    pub const fn is_error(self) -> bool {
        matches!(self, Level::Error | Level::Fatal)
    }

    /// Parses a level name as loggers write it (`ERROR`, `err`, `warning`, `CRITICAL`, `E`…).
    pub fn parse(s: &str) -> Option<Level> {
        let s = s.trim();
        let l = s.to_ascii_lowercase();
        Some(match l.as_str() {
            "trace" | "finest" | "finer" | "t" => Level::Trace,
            "debug" | "fine" | "d" | "verbose" => Level::Debug,
            "info" | "information" | "informational" | "notice" | "i" | "config" => Level::Info,
            "warn" | "warning" | "w" => Level::Warn,
            "error" | "err" | "e" | "severe" => Level::Error,
            "fatal" | "critical" | "crit" | "alert" | "emerg" | "emergency" | "panic" | "f" => {
                Level::Fatal
            }
            _ => return None,
        })
    }

    /// A level from the message text when the source gave none: the first level word among the
    /// first few tokens (`2024-01-01 ERROR Foo failed`, `[WARN] x`).
    pub fn infer(message: &str) -> Level {
        for tok in message.split_ascii_whitespace().take(6) {
            let bracketed = tok.starts_with('[') || tok.starts_with('<');
            let t = tok.trim_matches(|c: char| !c.is_ascii_alphabetic());
            // Short or lowercase words are too ambiguous in free text ("e", "error rate"),
            // unless bracketed as loggers do (`[error]`).
            let shouted = t.len() >= 4 && t.bytes().all(|b| b.is_ascii_uppercase());
            if (shouted || bracketed && t.len() >= 4)
                && let Some(l) = Level::parse(t)
            {
                return l;
            }
        }
        Level::Unknown
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One decoded log line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// Milliseconds since the Unix epoch (the source's, else the caller's "now").
    pub time: i64,
    pub service: String,
    pub host: String,
    pub level: Level,
    pub message: String,
}

/// Service and host for records whose source names none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogDefaults {
    pub service: String,
    pub host: String,
}

impl Default for LogDefaults {
    fn default() -> Self {
        Self {
            service: "unknown".into(),
            host: "unknown".into(),
        }
    }
}

/// Size bounds for log input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLimits {
    /// Largest request body (after decompression) a decoder accepts.
    pub max_body_bytes: usize,
    /// Longest message kept; longer ones are cut (counted in [`Lossy::truncated`]).
    pub max_message_bytes: usize,
    /// Most records in one request.
    pub max_records: usize,
    /// Largest syslog frame (one message) on a TCP stream or in a datagram.
    pub max_frame_bytes: usize,
}

impl Default for LogLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 << 20,
            max_message_bytes: 64 << 10,
            max_records: 100_000,
            max_frame_bytes: 256 << 10,
        }
    }
}

/// What a decoder repaired instead of refusing, for the server's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lossy {
    /// Records with bytes that were not UTF-8 (replaced by U+FFFD).
    pub invalid_utf8: u64,
    /// Messages cut to `max_message_bytes`.
    pub truncated: u64,
    /// Syslog messages without a parseable header, kept whole as the message.
    pub unparsed_header: u64,
}

impl Lossy {
    pub fn add(&mut self, o: Lossy) {
        self.invalid_utf8 += o.invalid_utf8;
        self.truncated += o.truncated;
        self.unparsed_header += o.unparsed_header;
    }

    /// `(reason, count)` pairs with stable names.
    pub fn counts(&self) -> [(&'static str, u64); 3] {
        [
            ("invalid_utf8", self.invalid_utf8),
            ("truncated", self.truncated),
            ("unparsed_header", self.unparsed_header),
        ]
    }
}

/// Records of one request and what was repaired on the way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decoded {
    pub records: Vec<LogRecord>,
    pub lossy: Lossy,
}

/// Why log input was refused, as a closed set with stable short names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogReason {
    /// The body is larger than `max_body_bytes`.
    BodyTooLarge,
    /// More records than `max_records`.
    TooManyRecords,
    /// The protobuf message does not decode.
    BadProtobuf,
    /// The JSON document or a JSON line does not decode.
    BadJson,
    /// A JSON line has no message field.
    MissingMessage,
    /// An empty syslog frame or datagram.
    EmptyFrame,
    /// A syslog frame longer than `max_frame_bytes`.
    FrameTooLarge,
    /// An octet count that is not a number, or a stream that ended inside a frame.
    BadFrame,
}

impl LogReason {
    pub const ALL: [LogReason; 8] = [
        LogReason::BodyTooLarge,
        LogReason::TooManyRecords,
        LogReason::BadProtobuf,
        LogReason::BadJson,
        LogReason::MissingMessage,
        LogReason::EmptyFrame,
        LogReason::FrameTooLarge,
        LogReason::BadFrame,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            LogReason::BodyTooLarge => "body_too_large",
            LogReason::TooManyRecords => "too_many_records",
            LogReason::BadProtobuf => "bad_protobuf",
            LogReason::BadJson => "bad_json",
            LogReason::MissingMessage => "missing_message",
            LogReason::EmptyFrame => "empty_frame",
            LogReason::FrameTooLarge => "frame_too_large",
            LogReason::BadFrame => "bad_frame",
        }
    }
}

/// Log input that was refused, with a message naming the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", reason.as_str())]
pub struct LogError {
    pub reason: LogReason,
    pub message: String,
}

impl LogError {
    pub(crate) fn new(reason: LogReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// Cuts an owned string to at most `max` bytes at a character boundary.
pub(crate) fn cut(mut s: String, max: usize, lossy: &mut Lossy) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        lossy.truncated += 1;
    }
    s
}

/// Longest service or host name kept: they become label values and map keys.
pub const MAX_NAME_BYTES: usize = 256;

/// A service or host name cut to [`MAX_NAME_BYTES`] at a character boundary.
pub(crate) fn name(s: &str) -> String {
    let mut end = s.len().min(MAX_NAME_BYTES);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

pub(crate) fn check_body(len: usize, limits: &LogLimits) -> Result<(), LogError> {
    if len > limits.max_body_bytes {
        return Err(LogError::new(
            LogReason::BodyTooLarge,
            format!(
                "body of {len} bytes exceeds the limit of {} bytes",
                limits.max_body_bytes
            ),
        ));
    }
    Ok(())
}

pub(crate) fn check_records(n: usize, limits: &LogLimits) -> Result<(), LogError> {
    if n > limits.max_records {
        return Err(LogError::new(
            LogReason::TooManyRecords,
            format!("more than {} records in one request", limits.max_records),
        ));
    }
    Ok(())
}
