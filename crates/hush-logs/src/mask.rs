//! Tokenising and masking one line's content.
//!
//! A line is split on ASCII whitespace. Each token is classified by its shape alone — no
//! per-system expressions — as one of:
//! - a **variable** (a *gap*): anything holding a digit (numbers, hex, IPs, host:port, UUIDs,
//!   timestamps, durations, sizes, ids), URLs, absolute paths and e-mail addresses, plus a unit
//!   word (`KB`, `ms`, `sec`, …) right after a numeric variable. Punctuation around the
//!   variable (`(`, `)`, `,`, …) goes with it;
//! - a **constant**, possibly with a masked part: `key=value` keeps `key=` and masks the value;
//! - a plain **constant** word.
//!
//! Gaps do not count towards a template's length: a run of variables of any length is one
//! `<*>`. That is what lets `1190 bytes sent` and `1190 bytes (1.16 KB) sent` share a template,
//! which a fixed token count (as in Drain) cannot do.

use std::borrow::Cow;

/// The text of a masked variable in templates.
pub const WILDCARD: &str = "<*>";

/// One token of a line after masking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Piece<'a> {
    /// Constant text, with `<*>` in place of a masked part; empty for gaps.
    pub text: Cow<'a, str>,
    /// Whether this token is wholly a variable.
    pub gap: bool,
    /// Byte range of the whole token within the content.
    pub span: (usize, usize),
    /// Byte range of the variable part within the content (empty when there is none).
    pub var: (usize, usize),
}

const LEAD: &[u8] = b"([{<\"'";
const TRAIL: &[u8] = b")]}>\"',;:.!?";
const UNITS: &[&str] = &[
    "b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "byte", "bytes", "ms", "us", "ns", "sec",
    "secs", "second", "seconds", "min", "mins", "minute", "minutes", "hr", "hrs", "hour", "hours",
    "day", "days",
];

/// Splits `content` into masked pieces; tokens past `max_tokens` become one final gap so
/// that a huge line costs no more than a long one.
pub(crate) fn pieces(content: &str, max_tokens: usize) -> Vec<Piece<'_>> {
    let bytes = content.as_bytes();
    let mut out: Vec<Piece<'_>> = Vec::with_capacity(16);
    let mut i = 0;
    let mut prev_numeric = false;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        if out.len() + 1 >= max_tokens {
            let end = content.trim_end().len();
            let end = end.max(i);
            out.push(Piece {
                text: Cow::Borrowed(""),
                gap: true,
                span: (i, end),
                var: (i, end),
            });
            break;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        // Token boundaries are ASCII bytes, so `start..i` is on char boundaries.
        let (piece, numeric) = classify(content, start, i, prev_numeric);
        prev_numeric = numeric;
        out.push(piece);
    }
    out
}

/// Classifies the token `content[start..end]`; the flag says whether it was a numeric
/// variable (so a unit word after it joins it).
fn classify(content: &str, start: usize, end: usize, prev_numeric: bool) -> (Piece<'_>, bool) {
    let tok = &content.as_bytes()[start..end];
    let lead = tok.iter().take_while(|b| LEAD.contains(b)).count();
    let trail = tok[lead..]
        .iter()
        .rev()
        .take_while(|b| TRAIL.contains(b))
        .count();
    let (cs, ce) = (start + lead, end - trail);
    let core = &content.as_bytes()[cs..ce];
    let gap = |numeric| {
        let piece = Piece {
            text: Cow::Borrowed(""),
            gap: true,
            span: (start, end),
            var: (cs, ce),
        };
        (piece, numeric)
    };
    if core.is_empty() {
        return (constant(content, start, end), false);
    }
    if core.iter().any(u8::is_ascii_digit) {
        if let Some(k) = key_of(core) {
            return (partial(content, start, end, cs + k + 1, ce), false);
        }
        return gap(true);
    }
    if prev_numeric && is_unit(core) {
        return gap(false);
    }
    if let Some(k) = key_of(core) {
        return (partial(content, start, end, cs + k + 1, ce), false);
    }
    if contains(core, b"://") || is_path(core) || is_email(core) {
        return gap(false);
    }
    (constant(content, start, end), false)
}

fn constant(content: &str, start: usize, end: usize) -> Piece<'_> {
    Piece {
        text: Cow::Borrowed(&content[start..end]),
        gap: false,
        span: (start, end),
        var: (start, start),
    }
}

/// A constant whose `vs..ve` part is masked, e.g. `size=<*>,`.
fn partial(content: &str, start: usize, end: usize, vs: usize, ve: usize) -> Piece<'_> {
    let mut text = String::with_capacity(end - start - (ve - vs) + WILDCARD.len());
    text.push_str(&content[start..vs]);
    text.push_str(WILDCARD);
    text.push_str(&content[ve..end]);
    Piece {
        text: Cow::Owned(text),
        gap: false,
        span: (start, end),
        var: (vs, ve),
    }
}

/// The index of `=` in `key=value` when the key is a plain identifier and the value is not
/// empty.
fn key_of(core: &[u8]) -> Option<usize> {
    let k = core.iter().position(|&b| b == b'=')?;
    let key = &core[..k];
    let ident = |b: &u8| b.is_ascii_alphabetic() || matches!(b, b'_' | b'-' | b'.');
    (k > 0 && k + 1 < core.len() && key.iter().all(ident)).then_some(k)
}

fn is_unit(core: &[u8]) -> bool {
    core.len() <= 7
        && UNITS
            .iter()
            .any(|u| u.as_bytes().eq_ignore_ascii_case(core))
}

fn is_path(core: &[u8]) -> bool {
    let rooted = core.first() == Some(&b'/') || core.starts_with(b"~/") || core.starts_with(b"./");
    rooted && core.iter().filter(|&&b| b == b'/').count() >= 2
        || core.len() > 2 && core[1] == b':' && core[2] == b'\\' && core[0].is_ascii_alphabetic()
}

fn is_email(core: &[u8]) -> bool {
    match core.iter().position(|&b| b == b'@') {
        Some(at) if at > 0 => core[at + 1..].contains(&b'.') && !core[at + 1..].ends_with(b"."),
        _ => false,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(s: &str) -> Vec<String> {
        pieces(s, 64)
            .into_iter()
            .map(|p| {
                if p.gap {
                    WILDCARD.to_string()
                } else {
                    p.text.into_owned()
                }
            })
            .collect()
    }

    #[test]
    fn masks_generic_variables() {
        let line = "conn 10.0.0.1:80 id 3f2a-11 took 12ms at /var/log/x.log from a@b.com via https://x.io/a";
        assert_eq!(
            shape(line),
            [
                "conn", "<*>", "id", "<*>", "took", "<*>", "at", "<*>", "from", "<*>", "via", "<*>"
            ]
        );
    }

    #[test]
    fn key_value_keeps_key() {
        assert_eq!(shape("state=RUNNING size=5,"), ["state=<*>", "size=<*>,"]);
        let p = &pieces("size=42", 8)[0];
        assert_eq!(&"size=42"[p.var.0..p.var.1], "42");
    }

    #[test]
    fn unit_joins_numeric_variable() {
        assert_eq!(
            shape("1190 bytes (1.16 KB) sent"),
            ["<*>", "<*>", "<*>", "<*>", "sent"]
        );
        assert_eq!(shape("lifetime <1 sec"), ["lifetime", "<*>", "<*>"]);
        assert_eq!(shape("bytes sent"), ["bytes", "sent"]);
    }

    #[test]
    fn punctuation_only_token_is_constant() {
        assert_eq!(shape("a - b"), ["a", "-", "b"]);
    }

    #[test]
    fn long_lines_are_capped() {
        let line = "w ".repeat(1000);
        let p = pieces(&line, 10);
        assert_eq!(p.len(), 10);
        assert!(p[9].gap);
    }
}
