//! Per-line work shared by the miner's operations: a line's shape, matching it against a
//! template, extracting its parameters, and the hashing behind the shape cache.

use std::collections::HashMap;

use crate::mask::{Piece, Word};
use crate::template::{Template, Token};

/// Empties `v` and hands its allocation to a vector of the same layout but another lifetime
/// (the standard library collects a mapped `IntoIter` in place), so per-line buffers that
/// borrow the line can be kept between lines.
pub(crate) fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

/// Per-line buffers kept between lines; always empty between calls.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    pub(crate) pieces: Vec<Piece>,
    pub(crate) consts: Vec<Word<'static>>,
    pub(crate) gaps: Vec<bool>,
}

/// Adds the line's variable runs to `t`; returns whether its text changed.
pub(crate) fn widen_gaps(t: &mut Template, gaps: &[bool], history: usize) -> bool {
    if !t.gaps.iter().zip(gaps).any(|(have, line)| *line && !*have) {
        return false;
    }
    let before = t.text();
    for (have, line) in t.gaps.iter_mut().zip(gaps) {
        *have |= *line;
    }
    push_history(t, before, history);
    true
}

pub(crate) fn push_history(t: &mut Template, before: String, history: usize) {
    if history > 0 && t.text() != before {
        if t.history.len() >= history {
            t.history.remove(0);
        }
        t.history.push(before);
    }
}

/// Whether a template's tokens accept a line's constant words.
pub(crate) fn covers(tokens: &[Token], consts: &[Word<'_>]) -> bool {
    tokens.len() == consts.len()
        && tokens.iter().zip(consts).all(|(t, c)| match t {
            Token::Wild => true,
            Token::Const(s) => c.is(s),
        })
}

/// [`covers`] with the line's words read from its pieces (those that are not gaps, `words` of
/// them) rather than built first.
pub(crate) fn covers_pieces(
    tokens: &[Token],
    pieces: &[Piece],
    words: usize,
    content: &[u8],
) -> bool {
    if tokens.len() != words {
        return false;
    }
    let mut tokens = tokens.iter();
    for p in pieces {
        if p.gap {
            continue;
        }
        match tokens.next() {
            Some(Token::Wild) => {}
            Some(Token::Const(s)) => {
                if !p.is(content, s) {
                    return false;
                }
            }
            None => return false,
        }
    }
    true
}

/// The parameters of a line under template `t`, aligned with the `<*>` of [`Template::text`].
pub(crate) fn params<'a>(t: &Template, pieces: &[Piece], content: &'a str) -> Vec<&'a str> {
    // About one parameter per piece at most (two for an address with a port): one allocation.
    let mut out = Vec::with_capacity(pieces.len() + 1);
    let mut run: Option<(usize, usize)> = None;
    let mut ci = 0;
    let flush = |out: &mut Vec<&'a str>, run: &mut Option<(usize, usize)>, ci: usize| {
        if t.gaps.get(ci).copied().unwrap_or(false) {
            let text = run.map_or("", |(s, e)| &content[s..e]);
            // `<*>:<*>`, possibly inside punctuation (`(<*>:<*>)`).
            let written = t.gap_text(ci);
            if host_port(written) {
                // Written `<*>:<*>`: the address and the port.
                let (host, port) = text.rsplit_once(':').unwrap_or((text, ""));
                out.push(host);
                out.push(port);
            } else {
                out.push(text);
            }
        }
        *run = None;
    };
    for p in pieces {
        if p.gap {
            let (vs, ve) = p.var().unwrap_or(p.span());
            run = Some(run.map_or((vs, ve), |(s, _)| (s, ve)));
            continue;
        }
        flush(&mut out, &mut run, ci);
        match t.tokens.get(ci) {
            Some(Token::Wild) => {
                let (s, e) = p.span();
                out.push(&content[s..e]);
            }
            // A constant covering this piece has the piece's text, so one `<*>` per masked part.
            Some(Token::Const(_)) => {
                if let Some((s, e)) = p.var() {
                    out.push(&content[s..e]);
                }
            }
            None => {}
        }
        ci += 1;
    }
    flush(&mut out, &mut run, ci);
    out
}

/// A map keyed by integers (ids, lengths, hashes): no need for SipHash's flood resistance,
/// the keys are not chosen by the input's author (shape hashes are verified on use).
pub(crate) type IntMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IntHasher>>;

/// Multiplicative hashing of one integer (Fibonacci hashing).
#[derive(Default)]
pub(crate) struct IntHasher(u64);

impl std::hash::Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A hash of the constant words (with their count and boundaries), eight bytes at a time:
/// the key of the shape cache. Hits are verified, so collisions only cost a search.
pub(crate) fn shape_hash(consts: &[Word<'_>]) -> u64 {
    let mut h: u64 = consts.len() as u64;
    for c in consts {
        h = mix(h, c.pre);
        if let Some(post) = c.post {
            // A masked part: its position and the text after it.
            h = mix(h.wrapping_add(1), post);
        }
    }
    h ^ (h >> 29)
}

fn mix(mut h: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let n = bytes.len();
    let mut chunks = bytes.chunks_exact(8);
    for ch in &mut chunks {
        h = (h.rotate_left(5) ^ load8(ch, 0)).wrapping_mul(K);
    }
    // The tail is read with a few overlapping loads rather than copied into a zeroed buffer
    // (a call to memcpy and a stalled reload, for every word of every line). Together with
    // the length they still determine every byte.
    let rest = chunks.remainder();
    let r = rest.len();
    let tail = match r {
        0 => 0,
        1..=3 => u64::from(rest[0]) | u64::from(rest[r / 2]) << 8 | u64::from(rest[r - 1]) << 16,
        _ => u64::from(load4(rest, 0)) | u64::from(load4(rest, r - 4)) << 32,
    };
    (h.rotate_left(5) ^ tail ^ (n as u64) << 56).wrapping_mul(K)
}

fn load8(s: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or([0; 8]))
}

fn load4(s: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or([0; 4]))
}

/// How an address with a port is written.
const HOST_PORT: &str = "<*>:<*>";

/// Whether a variable run's text holds [`HOST_PORT`]. Runs for every variable run of every
/// line with parameters: windows are rejected on their middle byte, where `str::contains` set
/// up a substring searcher each time.
fn host_port(written: &str) -> bool {
    written
        .as_bytes()
        .windows(HOST_PORT.len())
        .any(|w| w[3] == b':' && w[..3] == *b"<*>" && w[4..] == *b"<*>")
}

/// Records how this line writes each variable run that `t` has no text for yet.
pub(crate) fn note_gap_text(t: &mut Template, pieces: &[Piece], content: &str) {
    if t.gap_text.len() != t.gaps.len() {
        t.gap_text.resize(t.gaps.len(), String::new());
    }
    if !t
        .gaps
        .iter()
        .zip(&t.gap_text)
        .any(|(g, s)| *g && s.is_empty())
    {
        return;
    }
    let mut ci = 0;
    let mut run: Option<(usize, usize)> = None;
    let set = |t: &mut Template, ci: usize, run: (usize, usize)| {
        if t.gaps.get(ci) == Some(&true) && t.gap_text.get(ci).is_some_and(String::is_empty) {
            t.gap_text[ci] = render_gap(&pieces[run.0], &pieces[run.1], run.0 == run.1, content);
        }
    };
    for (k, p) in pieces.iter().enumerate() {
        if p.gap {
            run = Some(run.map_or((k, k), |(f, _)| (f, k)));
            continue;
        }
        if let Some(r) = run.take() {
            set(t, ci, r);
        }
        ci += 1;
    }
    if let Some(r) = run {
        set(t, ci, r);
    }
}

/// A run of variable tokens as a template writes it: the punctuation before the first and
/// after the last kept around one `<*>` (`<*>:<*>` for a lone address with a port).
fn render_gap(first: &Piece, last: &Piece, single: bool, content: &str) -> String {
    let (vs, _) = first.var().unwrap_or(first.span());
    let (_, ve) = last.var().unwrap_or(last.span());
    let (lead, trail) = (&content[first.span().0..vs], &content[ve..last.span().1]);
    let core = &content[vs..ve];
    let port = core.rsplit_once(':').filter(|(host, port)| {
        !host.is_empty()
            && !host.contains(':')
            && !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
    });
    let mid = if single && port.is_some() {
        HOST_PORT
    } else {
        crate::mask::WILDCARD
    };
    format!("{lead}{mid}{trail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_agrees_with_substring_search() {
        for s in [
            "",
            "<*>",
            "<*>:<*>",
            "(<*>:<*>)",
            "<*>:<*>,",
            "<*>:",
            ":<*>",
            "<*><*>:<*>",
            "<*>:<*",
            "<*>;<*>",
            "[<*>:<*>]:",
            "é<*>:<*>é",
        ] {
            assert_eq!(host_port(s), s.contains(HOST_PORT), "{s:?}");
        }
    }
}
