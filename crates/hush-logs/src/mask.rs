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

/// The text of a masked variable in templates.
pub const WILDCARD: &str = "<*>";

/// One token of a line after masking: plain offsets into the content, so masking builds no
/// string (a constant with a masked part is read as [`Word`]). Offsets are `u32`, which keeps a
/// piece at 20 bytes rather than 48: pieces are written for every token of every line, and
/// held for whole blocks of lines when masked ahead ([`MAX_LINE`] bounds a line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Piece {
    /// Whether this token is wholly a variable.
    pub gap: bool,
    /// Whether `vs..ve` is set.
    masked: bool,
    /// Byte range of the whole token within the content.
    start: u32,
    end: u32,
    /// Byte range of the masked part within the content: the `<*>` of its [`Word`], or for a
    /// gap the variable itself.
    vs: u32,
    ve: u32,
}

/// Bytes of a line that are masked: the rest of a longer line is ignored. Four gigabytes,
/// far beyond any message a server accepts.
pub(crate) const MAX_LINE: usize = u32::MAX as usize;

impl Piece {
    /// A piece; every offset is at most [`MAX_LINE`] (lines are cut to it).
    #[inline]
    fn new(gap: bool, span: (usize, usize), var: Option<(usize, usize)>) -> Self {
        let (vs, ve) = var.unwrap_or((0, 0));
        Self {
            gap,
            masked: var.is_some(),
            start: span.0 as u32,
            end: span.1 as u32,
            vs: vs as u32,
            ve: ve as u32,
        }
    }

    /// Byte range of the whole token within the content.
    #[inline]
    pub(crate) fn span(&self) -> (usize, usize) {
        (self.start as usize, self.end as usize)
    }

    /// Byte range of the masked part, if any.
    #[inline]
    pub(crate) fn var(&self) -> Option<(usize, usize)> {
        self.masked.then_some((self.vs as usize, self.ve as usize))
    }

    /// Whether the constant word of this piece (not a gap) reads `s`: [`Word::is`] without
    /// building the word, for a plain word (most of them) a length check and [`same`].
    #[inline]
    pub(crate) fn is(&self, content: &[u8], s: &str) -> bool {
        if self.masked && !self.gap {
            return self.word(content).is(s);
        }
        let (a, b) = self.span();
        s.len() == b.wrapping_sub(a) && content.get(a..b).is_some_and(|w| same(s.as_bytes(), w))
    }

    /// The constant word of a piece that is not a gap: its text with `<*>` in place of the
    /// masked part.
    #[inline]
    pub(crate) fn word<'a>(&self, content: &'a [u8]) -> Word<'a> {
        let (s, e) = self.span();
        if self.masked && !self.gap {
            let (vs, ve) = (self.vs as usize, self.ve as usize);
            Word {
                pre: &content[s..vs],
                post: Some(&content[ve..e]),
            }
        } else {
            Word {
                pre: &content[s..e],
                post: None,
            }
        }
    }
}

/// A line's constant word, borrowed from the line: `pre`, or `pre<*>post` when a part of it
/// is masked (`key=<*>,`). Compared with a template's words without being built. Bytes of
/// valid UTF-8 (pieces end at ASCII bytes), kept as bytes so slicing checks no char boundary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Word<'a> {
    pub pre: &'a [u8],
    pub post: Option<&'a [u8]>,
}

impl Word<'_> {
    /// Whether the word reads `s`. Inlined: called for every word of every line the shape
    /// cache answers, a call cost more than the comparison (six registers saved and restored).
    #[inline]
    pub(crate) fn is(&self, s: &str) -> bool {
        let s = s.as_bytes();
        let pre = self.pre;
        match self.post {
            None => same(s, pre),
            Some(post) => {
                s.len() == pre.len() + WILDCARD.len() + post.len()
                    && s.starts_with(pre)
                    && s[pre.len()..].starts_with(WILDCARD.as_bytes())
                    && s.ends_with(post)
            }
        }
    }

    /// The word as an owned string.
    pub(crate) fn to_boxed(self) -> Box<str> {
        let mut text = Vec::with_capacity(self.pre.len() + WILDCARD.len() + 8);
        text.extend_from_slice(self.pre);
        if let Some(post) = self.post {
            text.extend_from_slice(WILDCARD.as_bytes());
            text.extend_from_slice(post);
        }
        match String::from_utf8(text) {
            Ok(text) => text.into_boxed_str(),
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into(),
        }
    }
}

/// Whether two short byte strings are equal, without a call to `memcmp`: words are a few
/// bytes long, and this runs for every word of every line that hits the shape cache. Up to 16
/// bytes are compared as two overlapping integers.
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or([0; 8]));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or([0; 4]));
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// Byte classes, looked up in one table instead of scanning lists on every byte.
const LEAD: u16 = 1;
const TRAIL: u16 = 2;
const NUMERIC: u16 = 4;
const DELIM: u16 = 8;
const DIGIT: u16 = 16;
/// `/`, `@`, `:`: a token without them is no path, URL, e-mail or host:port.
const SPECIAL: u16 = 32;
const EQUALS: u16 = 64;
const HEX: u16 = 128;
/// ASCII whitespace: token boundaries.
const SPACE: u16 = 256;
/// `*`: only a token holding one can contain a literal `<*>`.
const STAR: u16 = 512;
/// `/`, `@`, `:` apart: the address and path rules each need one of them, so a token without
/// it skips that rule's scan.
const SLASH: u16 = 1024;
const AT: u16 = 2048;
const COLON: u16 = 4096;

const fn classes() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if b.is_ascii_hexdigit() {
            t[i] |= NUMERIC;
        }
        if b.is_ascii_digit() {
            t[i] |= DIGIT;
        }
        if b.is_ascii_whitespace() {
            t[i] |= SPACE;
        }
        if b.is_ascii_hexdigit() {
            t[i] |= HEX;
        }
        i += 1;
    }
    t = mark(t, b"([{<\"'", LEAD);
    t = mark(t, b")]}>\"',;:.!?", TRAIL);
    // Characters that may appear in a number, hex string, address, UUID, date or time.
    t = mark(t, b".:/-_+,", NUMERIC);
    // Characters that separate the segments of a mixed token.
    t = mark(t, b",:;=()[]{}<>\"'|@#*.", DELIM);
    t = mark(t, b"/@:", SPECIAL);
    t = mark(t, b"=", EQUALS);
    t = mark(t, b"*", STAR);
    t = mark(t, b"/", SLASH);
    t = mark(t, b"@", AT);
    t = mark(t, b":", COLON);
    t
}

const fn mark(mut t: [u16; 256], bytes: &[u8], class: u16) -> [u16; 256] {
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] |= class;
        i += 1;
    }
    t
}

static CLASS: [u16; 256] = classes();

fn is(b: u8, class: u16) -> bool {
    CLASS[b as usize] & class != 0
}
const UNITS: &[&str] = &[
    "b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "byte", "bytes", "ms", "us", "ns", "sec",
    "secs", "second", "seconds", "min", "mins", "minute", "minutes", "hr", "hrs", "hour", "hours",
    "day", "days",
];

/// Splits `content` into masked pieces; tokens past `max_tokens` become one final gap so
/// that a huge line costs no more than a long one.
#[cfg(test)]
pub(crate) fn pieces(content: &str, max_tokens: usize) -> Vec<Piece> {
    let mut out = Vec::new();
    pieces_into(
        content,
        max_tokens,
        &mut out,
        &mut Vec::new(),
        &mut Vec::new(),
    );
    out
}

/// [`pieces`] appended to a caller's vectors, so their allocations are reused line after line
/// (or hold a block of lines); in the same pass, the line's shape: its constant words, and
/// `gaps[i]` saying whether a variable run comes before `words[i]` (the last entry: after the
/// last word). All three are only appended to; `max_tokens` counts this line's pieces.
pub(crate) fn pieces_into<'a>(
    content: &'a str,
    max_tokens: usize,
    out: &mut Vec<Piece>,
    words: &mut Vec<Word<'a>>,
    gaps: &mut Vec<bool>,
) {
    let content = match content.len() {
        0..=MAX_LINE => content,
        // Offsets are `u32` (see `Piece`); the cut falls on a character boundary.
        _ => {
            &content[..(0..=MAX_LINE)
                .rev()
                .find(|&n| content.is_char_boundary(n))
                .unwrap_or(0)]
        }
    };
    let first = out.len();
    let bytes = content.as_bytes();
    let mut i = 0;
    let mut prev_numeric = false;
    // Whether a variable run has come since the last word (pushed with the next word).
    let mut gap = false;
    while i < bytes.len() {
        while i < bytes.len() && is(bytes[i], SPACE) {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        if out.len() - first + 1 >= max_tokens {
            let end = content.trim_end().len();
            let end = end.max(i);
            out.push(Piece::new(true, (i, end), Some((i, end))));
            gap = true;
            break;
        }
        let start = i;
        // The token's end and the classes of its bytes in one byte loop: one table lookup per
        // byte serves both, where finding the end first and then classifying read every byte
        // twice, with a loop set-up and tail each time.
        let (mut any, mut all) = (0u16, NUMERIC | HEX);
        while let Some(&b) = bytes.get(i) {
            let c = CLASS[b as usize];
            if c & SPACE != 0 {
                break;
            }
            any |= c;
            all &= c;
            i += 1;
        }
        let tok = &bytes[start..i];
        if plain(tok, prev_numeric, (any, all)) {
            // The commonest token, a plain word, without building and re-reading a piece.
            prev_numeric = false;
            words.push(Word {
                pre: tok,
                post: None,
            });
            gaps.push(gap);
            gap = false;
            out.push(constant(start, i));
            continue;
        }
        // Token boundaries are ASCII bytes, so `start..i` is on char boundaries.
        let (piece, numeric) = classify(content, start, i, prev_numeric, (any, all));
        prev_numeric = numeric;
        if piece.gap {
            gap = true;
        } else {
            words.push(piece.word(bytes));
            gaps.push(gap);
            gap = false;
        }
        out.push(piece);
    }
    gaps.push(gap);
}

/// Classifies the token `content[start..end]`; the flag says whether it was a numeric
/// variable (so a unit word after it joins it).
fn classify(
    content: &str,
    start: usize,
    end: usize,
    prev_numeric: bool,
    (any, all): (u16, u16),
) -> (Piece, bool) {
    let tok = &content.as_bytes()[start..end];
    // Fast paths for the commonest tokens, with the outcome of the general rules below.
    if plain(tok, prev_numeric, (any, all)) {
        return (constant(start, end), false);
    }
    if any & (DIGIT | STAR) == DIGIT
        && all & NUMERIC != 0
        && !is(tok[0], LEAD)
        && !is(tok[tok.len() - 1], TRAIL)
    {
        // A bare number, address, id, date or time.
        return (Piece::new(true, (start, end), Some((start, end))), true);
    }
    if any & (DIGIT | EQUALS | STAR) == 0 && !special_inside(tok, any) {
        // A word, perhaps with punctuation around it (`sent,`, `(TID`, `status:`,
        // `data_thread()`): a constant unless its core is a unit after a number or a long
        // hex word, which only the core can tell.
        if !prev_numeric && tok.len() < 8 {
            return (constant(start, end), false);
        }
        let lead = tok.iter().take_while(|&&b| is(b, LEAD)).count();
        let trail = tok[lead..]
            .iter()
            .rev()
            .take_while(|&&b| is(b, TRAIL))
            .count();
        let (cs, ce) = (start + lead, end - trail);
        let core = &content.as_bytes()[cs..ce];
        let gap = |numeric| {
            let piece = Piece::new(true, (start, end), Some((cs, ce)));
            (piece, numeric)
        };
        if core.is_empty() {
            return (constant(start, end), false);
        }
        if prev_numeric && is_unit(core) {
            return gap(false);
        }
        if core.len() >= 8 && core.iter().all(|&b| is(b, HEX)) {
            return gap(true);
        }
        return (constant(start, end), false);
    }
    classify_general(content, start, end, prev_numeric, (any, all))
}

/// Whether the token, of byte classes `any` and `all`, is a plain word: a constant as it is.
fn plain(tok: &[u8], prev_numeric: bool, (any, all): (u16, u16)) -> bool {
    any & (LEAD | TRAIL | DIGIT | SPECIAL | EQUALS | STAR) == 0
        && !(prev_numeric && is_unit(tok))
        && !(tok.len() >= 8 && all & HEX != 0)
}

/// Whether a `/`, `@` or `:` stands anywhere but as the token's last byte (`status:` names a
/// field; `a:b`, `x/y` and `a@b` may be addresses or paths).
fn special_inside(tok: &[u8], any: u16) -> bool {
    any & SPECIAL != 0
        && match tok.split_last() {
            Some((b':', rest)) => rest.iter().any(|&b| is(b, SPECIAL)),
            _ => true,
        }
}

/// [`classify`] without its fast paths. Kept out of line so that the token loop of
/// [`pieces_into`], which runs for every byte, keeps its state in registers.
#[inline(never)]
fn classify_general(
    content: &str,
    start: usize,
    end: usize,
    prev_numeric: bool,
    (mut any, mut all): (u16, u16),
) -> (Piece, bool) {
    let tok = &content.as_bytes()[start..end];
    let lead = tok.iter().take_while(|&&b| is(b, LEAD)).count();
    let trail = tok[lead..]
        .iter()
        .rev()
        .take_while(|&&b| is(b, TRAIL))
        .count();
    let (cs, ce) = (start + lead, end - trail);
    let core = &content.as_bytes()[cs..ce];
    let gap = |numeric| {
        let piece = Piece::new(true, (start, end), Some((cs, ce)));
        (piece, numeric)
    };
    if any & STAR != 0 && contains(tok, b"<*>") {
        // A literal `<*>` in the input is treated as the variable it stands for, so every
        // `<*>` of a template text has a parameter.
        let var = Some((start, end));
        return (Piece::new(true, (start, end), var), false);
    }
    if core.is_empty() {
        return (constant(start, end), false);
    }
    if lead + trail > 0 {
        // The token's classes include its punctuation; the core's are needed.
        (any, all) = (0, NUMERIC | HEX);
        for &b in core {
            let c = CLASS[b as usize];
            any |= c;
            all &= c;
        }
    }
    let digit = any & DIGIT != 0;
    if digit && all & NUMERIC != 0 {
        // Numbers, hex, IPs (v4, v6, with port), UUIDs, MACs, dates and times.
        return gap(true);
    }
    // Each rule is tried only if the core holds the byte it needs.
    if any & (COLON | SLASH) == COLON | SLASH && contains(core, b"://")
        || any & (SLASH | COLON) != 0 && is_path(core)
        || any & AT != 0 && is_email(core)
        || any & COLON != 0 && is_host_port(core)
    {
        return gap(digit);
    }
    if !digit {
        if prev_numeric && is_unit(core) {
            return gap(false);
        }
        if core.len() >= 8 && all & HEX != 0 {
            // `ffffffff`, `deadbeef`: a hex value that happens to have no digit.
            return gap(true);
        }
        if any & EQUALS == 0 {
            return (constant(start, end), false);
        }
    }
    segments(content, (start, end), (lead, trail), any & EQUALS != 0)
}

/// A token with a masked part. `key=value` keeps `key=` and masks the value whatever it is
/// (`tag="AudioMix",` → `tag=<*>,`, `Surface(name=x)` → `Surface(name=<*>)`); otherwise a
/// token holding a numeric segment is `key:<*>` when a word key precedes the value
/// (`index:0` → `index:<*>`) and a variable as a whole when not (`LOCAL(0)`, `node-224`).
/// Words with a lone digit (`IPv6`, `en0`) stay constant.
/// `lead` and `trail` count the token's punctuation before and after its core.
fn segments(
    content: &str,
    (start, end): (usize, usize),
    (lead, trail): (usize, usize),
    has_equals: bool,
) -> (Piece, bool) {
    let bytes = content.as_bytes();
    let value_end = end - trail;
    // Looked for only when the token holds one: the search is a byte loop over the token.
    if has_equals
        && let Some(eq) = bytes[start..value_end]
            .iter()
            .position(|&b| b == b'=')
            .map(|k| start + k)
        && eq + 1 < value_end
        && is_key(&bytes[start..eq])
    {
        return (masked_value(start, end, eq + 1, value_end), false);
    }
    let mut first_var = None;
    let mut i = start;
    while i < end {
        if is(bytes[i], DELIM) {
            i += 1;
            continue;
        }
        let s = i;
        while i < end && !is(bytes[i], DELIM) {
            i += 1;
        }
        if is_variable_segment(&bytes[s..i]) {
            first_var = Some(s);
            break;
        }
    }
    let Some(first_var) = first_var else {
        return (constant(start, end), false);
    };
    // The key: text up to the last `:` before the first variable.
    let colon = bytes[start..first_var]
        .iter()
        .rposition(|&b| b == b':')
        .map(|k| start + k);
    if let Some(c) = colon
        && is_key(&bytes[start..c])
    {
        return (masked_value(start, end, c + 1, value_end.max(c + 1)), false);
    }
    let var = (start + lead, value_end.max(start + lead));
    (Piece::new(true, (start, end), Some(var)), true)
}

/// Whether the text before `=` or `:` ends in a key: a word without digits (after the last
/// separator, so `Surface(name` qualifies).
fn is_key(before: &[u8]) -> bool {
    let key_start = before
        .iter()
        .rposition(|&b| is(b, DELIM))
        .map_or(0, |k| k + 1);
    let key = &before[key_start..];
    key.iter().any(u8::is_ascii_alphabetic) && !before.iter().any(u8::is_ascii_digit)
}

/// The token `start..end` with `vs..ve` masked (read as `<*>`).
fn masked_value(start: usize, end: usize, vs: usize, ve: usize) -> Piece {
    Piece::new(false, (start, end), Some((vs, ve)))
}

/// A segment is a variable when it is numeric or an id: it starts with a digit, holds two or
/// more digits, has a digit next to a separator (`rdd_2`, `root7_local`), or is a long hex
/// string. Words with a single trailing digit (`IPv6`, `en0`, `u0`) stay constant.
fn is_variable_segment(seg: &[u8]) -> bool {
    let digits = seg.iter().filter(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return false;
    }
    let first_alnum = seg.iter().find(|b| b.is_ascii_alphanumeric());
    let after_separator = seg.windows(2).any(|w| {
        !w[0].is_ascii_alphanumeric() && w[1].is_ascii_digit()
            || w[0].is_ascii_digit() && !w[1].is_ascii_alphanumeric()
    });
    first_alnum.is_some_and(u8::is_ascii_digit)
        || digits >= 2
        || after_separator
        || seg.len() >= 6 && seg.iter().all(u8::is_ascii_hexdigit)
}

fn constant(start: usize, end: usize) -> Piece {
    Piece::new(false, (start, end), None)
}

/// `name.domain:port`: a dotted host name and a numeric port.
fn is_host_port(core: &[u8]) -> bool {
    let Some(colon) = core.iter().rposition(|&b| b == b':') else {
        return false;
    };
    let (host, port) = (&core[..colon], &core[colon + 1..]);
    !port.is_empty()
        && port.iter().all(u8::is_ascii_digit)
        && host.contains(&b'.')
        && host
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn is_unit(core: &[u8]) -> bool {
    // The units' first letters, either case: most words after a number stop here.
    const FIRST: [bool; 256] = {
        let mut t = [false; 256];
        let mut i = 0;
        while i < UNITS.len() {
            let b = UNITS[i].as_bytes()[0];
            t[b as usize] = true;
            t[b.to_ascii_uppercase() as usize] = true;
            i += 1;
        }
        t
    };
    if core.len() > 7 || !core.first().is_some_and(|&b| FIRST[b as usize]) {
        return false;
    }
    // The word lowercased into one integer, compared with the units' in one `match`.
    let mut w = 0u64;
    for &b in core {
        w = w << 8 | u64::from(b.to_ascii_lowercase());
    }
    const fn pack(s: &[u8]) -> u64 {
        let mut w = 0u64;
        let mut i = 0;
        while i < s.len() {
            w = w << 8 | s[i] as u64;
            i += 1;
        }
        w
    }
    const PACKED: [u64; UNITS.len()] = {
        let mut out = [0u64; UNITS.len()];
        let mut i = 0;
        while i < UNITS.len() {
            out[i] = pack(UNITS[i].as_bytes());
            i += 1;
        }
        out
    };
    PACKED.contains(&w)
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

/// Whether `hay` holds the three bytes `needle`. Byte by byte: windows compared as slices cost
/// several times more, and this runs for every token holding a `:`, `/` or `@`.
fn contains(hay: &[u8], needle: &[u8; 3]) -> bool {
    let [a, b, c] = *needle;
    hay.windows(3).any(|w| w[0] == a && w[1] == b && w[2] == c)
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
                    p.word(s.as_bytes()).to_boxed().into_string()
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
    fn mixed_tokens_keep_their_words() {
        assert_eq!(
            shape("state=RUNNING size=5, index:0 deny(1) IPv6 en0 rdd_2_0"),
            [
                "state=<*>",
                "size=<*>,",
                "index:<*>",
                "<*>",
                "IPv6",
                "en0",
                "<*>"
            ]
        );
        let p = &pieces("size=42", 8)[0];
        assert_eq!(p.var(), Some((5, 7)));
    }

    #[test]
    fn addresses_and_ids_are_whole_variables() {
        let line = "2607:f140:6000:8:c6b3:1ff:fecd:467f 10.0.0.1:80 blk_-695 123e4567-e89b-12d3-a456-426614174000";
        assert_eq!(shape(line), ["<*>", "<*>", "<*>", "<*>"]);
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
    fn fast_paths_agree_with_the_general_rules() {
        let alphabet = b"aZf09.:/-_=,()[]<>*@'xbmsK \t\x0e\xc3\xa9";
        // A deterministic walk over short tokens of the characters the rules look at.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = 1 + (seed % 12) as usize;
            let mut tok = Vec::with_capacity(len);
            let mut r = seed;
            for _ in 0..len {
                let b = alphabet[(r % alphabet.len() as u64) as usize];
                if !b.is_ascii_whitespace() {
                    tok.push(b);
                }
                r /= alphabet.len() as u64;
                if r == 0 {
                    r = seed.rotate_left(29);
                }
            }
            let tok = String::from_utf8_lossy(&tok).into_owned();
            check_fast_paths(&tok);
        }
        for tok in [
            "ffffffff",
            "deadbeef,",
            "KB",
            "ms",
            "(1.16",
            "KB)",
            "10.0.0.1:80",
            "12,",
            "-",
            "<*>",
            "a<*>b",
            "x=<*>",
            "=",
            "é9",
            "0xff",
            "abc",
        ] {
            check_fast_paths(tok);
        }
    }

    /// The token's piece is the same whether the fast paths answer or not.
    fn check_fast_paths(tok: &str) {
        if tok.is_empty() {
            return;
        }
        let (mut any, mut all) = (0u16, NUMERIC | HEX);
        for &b in tok.as_bytes() {
            any |= CLASS[b as usize];
            all &= CLASS[b as usize];
        }
        for prev in [false, true] {
            assert_eq!(
                classify(tok, 0, tok.len(), prev, (any, all)),
                classify_general(tok, 0, tok.len(), prev, (any, all)),
                "{tok:?}"
            );
        }
    }

    #[test]
    fn short_comparison_agrees_with_slices() {
        let words: Vec<Vec<u8>> = (0..20)
            .flat_map(|n| {
                let base: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
                let mut variants = vec![base.clone()];
                for k in 0..n {
                    let mut v = base.clone();
                    v[k] = b'Z';
                    variants.push(v);
                }
                variants
            })
            .collect();
        for a in &words {
            for b in &words {
                assert_eq!(same(a, b), a == b, "{a:?} {b:?}");
            }
        }
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
