//! One syslog message (RFC 5424 or RFC 3164) to a [`LogRecord`].
//!
//! Parsing is `syslog_loose`'s (the lenient parser inside Vector), tried as RFC 5424 first, then
//! RFC 3164. A message without a parseable header is kept whole as the message (counted in
//! [`Lossy::unparsed_header`]) rather than dropped: a line from a misconfigured sender is still
//! worth mining.

use super::{Decoded, Level, LogDefaults, LogError, LogLimits, LogReason, LogRecord, Lossy, cut};
use chrono::{Datelike, TimeZone, Utc};
use syslog_loose::{SyslogSeverity, Variant};

/// Decodes one syslog frame (a datagram, or one frame of a TCP stream; see
/// [`super::Framer`]).
pub fn decode_syslog(
    frame: &[u8],
    now_ms: i64,
    defaults: &LogDefaults,
    limits: &LogLimits,
) -> Result<Decoded, LogError> {
    if frame.len() > limits.max_frame_bytes {
        return Err(LogError::new(
            LogReason::FrameTooLarge,
            format!(
                "syslog frame of {} bytes exceeds the limit of {} bytes",
                frame.len(),
                limits.max_frame_bytes
            ),
        ));
    }
    let trimmed = frame
        .trim_ascii()
        .strip_suffix(b"\0")
        .unwrap_or(frame.trim_ascii());
    if trimmed.is_empty() {
        return Err(LogError::new(LogReason::EmptyFrame, "empty syslog frame"));
    }
    let mut lossy = Lossy::default();
    let text = match std::str::from_utf8(trimmed) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => {
            lossy.invalid_utf8 += 1;
            String::from_utf8_lossy(trimmed)
        }
    };
    // A header without a year (RFC 3164) takes the year of "now", so decoding needs no clock.
    let year = Utc
        .timestamp_millis_opt(now_ms)
        .single()
        .map_or(1970, |t| t.year());
    let parsed =
        syslog_loose::parse_message_with_year_exact_tz(&text, |_| year, Some(Utc), Variant::Either);
    let record = match parsed {
        Ok(m) => {
            let message = m.msg.trim();
            let level = match m.severity {
                Some(SyslogSeverity::SEV_EMERG | SyslogSeverity::SEV_ALERT) => Level::Fatal,
                Some(SyslogSeverity::SEV_CRIT | SyslogSeverity::SEV_ERR) => Level::Error,
                Some(SyslogSeverity::SEV_WARNING) => Level::Warn,
                Some(SyslogSeverity::SEV_NOTICE | SyslogSeverity::SEV_INFO) => Level::Info,
                Some(SyslogSeverity::SEV_DEBUG) => Level::Debug,
                None => Level::infer(message),
            };
            let name = |s: Option<&str>, default: &str| match s {
                Some(v) if !v.is_empty() && v != "-" => super::name(v),
                _ => default.to_string(),
            };
            LogRecord {
                time: m.timestamp.map_or(now_ms, |t| t.timestamp_millis()),
                service: name(m.appname, &defaults.service),
                host: name(m.hostname, &defaults.host),
                level,
                message: cut(message.to_string(), limits.max_message_bytes, &mut lossy),
            }
        }
        Err(_) => {
            lossy.unparsed_header += 1;
            LogRecord {
                time: now_ms,
                service: defaults.service.clone(),
                host: defaults.host.clone(),
                level: Level::infer(&text),
                message: cut(text.into_owned(), limits.max_message_bytes, &mut lossy),
            }
        }
    };
    Ok(Decoded {
        records: vec![record],
        lossy,
    })
}
