//! Plain text lines, as read from a log file: the whole line is the message.

use super::{Level, LogDefaults, LogLimits, LogRecord, Lossy, cut};

/// One line (without its `\n`) as a record: a trailing `\r` is dropped, bytes that are not
/// UTF-8 are replaced (counted), a long line is cut (counted) and the level is inferred from
/// the text. A blank line is `None`.
pub fn decode_plain_line(
    raw: &[u8],
    now_ms: i64,
    defaults: &LogDefaults,
    limits: &LogLimits,
    lossy: &mut Lossy,
) -> Option<LogRecord> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    if raw.trim_ascii().is_empty() {
        return None;
    }
    let message = match std::str::from_utf8(raw) {
        Ok(s) => s.to_string(),
        Err(_) => {
            lossy.invalid_utf8 += 1;
            String::from_utf8_lossy(raw).into_owned()
        }
    };
    let message = cut(message, limits.max_message_bytes, lossy);
    Some(LogRecord {
        time: now_ms,
        service: defaults.service.clone(),
        host: defaults.host.clone(),
        level: Level::infer(&message),
        message,
    })
}
