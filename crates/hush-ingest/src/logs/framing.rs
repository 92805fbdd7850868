//! Syslog over TCP: splitting a byte stream into messages (RFC 6587).
//!
//! A frame is either **octet-counted** (`MSG-LEN SP SYSLOG-MSG`, chosen when the frame starts
//! with a digit) or **newline-terminated** (anything else). The framer holds at most
//! `max_frame_bytes` plus a read's worth of input: an oversized newline frame is skipped up to
//! its newline, an oversized octet count skips exactly that many bytes, and both are reported
//! as [`Frame::Rejected`] so the caller can count them and carry on with the next frame.
//! Written by hand because the framing is a few dozen lines and no maintained crate offers it
//! apart from a whole pipeline (Vector).

use super::{LogError, LogReason};

/// One unit out of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete message (without its length prefix or trailing newline).
    Message(Vec<u8>),
    /// A frame that was skipped, and why.
    Rejected(LogError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    /// Not skipping.
    None,
    /// Dropping bytes up to the next newline.
    ToNewline,
    /// Dropping this many more bytes.
    Bytes(usize),
}

/// An incremental RFC 6587 framer: feed it bytes as they arrive, take frames out.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    max: usize,
    skip: Skip,
    /// Bytes of an unfinished newline frame already searched for `\n`, so a peer trickling
    /// a long line byte by byte costs linear, not quadratic, time.
    scanned: usize,
}

/// Longest octet count prefix accepted (digits); longer is a framing error.
const MAX_LEN_DIGITS: usize = 10;

impl Framer {
    pub fn new(max_frame_bytes: usize) -> Self {
        Self {
            buf: Vec::new(),
            max: max_frame_bytes.max(1),
            skip: Skip::None,
            scanned: 0,
        }
    }

    /// Appends received bytes and returns the frames they complete.
    pub fn push(&mut self, data: &[u8]) -> Vec<Frame> {
        self.buf.extend_from_slice(data);
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            match self.skip {
                Skip::ToNewline => match self.buf[pos..].iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        pos += i + 1;
                        self.skip = Skip::None;
                    }
                    None => {
                        pos = self.buf.len();
                        break;
                    }
                },
                Skip::Bytes(n) => {
                    let avail = self.buf.len() - pos;
                    if avail >= n {
                        pos += n;
                        self.skip = Skip::None;
                    } else {
                        self.skip = Skip::Bytes(n - avail);
                        pos = self.buf.len();
                        break;
                    }
                }
                Skip::None => match self.next(pos) {
                    Some((frame, next)) => {
                        pos = next;
                        if let Some(f) = frame {
                            out.push(f);
                        }
                    }
                    None => break,
                },
            }
        }
        self.buf.drain(..pos);
        // An unterminated newline frame longer than the limit is rejected now and its rest
        // skipped, so memory stays bounded whatever the peer sends.
        if self.skip == Skip::None && self.buf.len() > self.max && octet_prefix(&self.buf).is_none()
        {
            out.push(too_large(self.buf.len(), self.max, "newline-terminated"));
            self.buf.clear();
            self.scanned = 0;
            self.skip = Skip::ToNewline;
        }
        out
    }

    /// Bytes held, waiting for the rest of a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Whatever is left when the peer closes: an unterminated newline frame is a message; a
    /// partial octet-counted frame is a framing error.
    pub fn finish(&mut self) -> Option<Frame> {
        let rest = std::mem::take(&mut self.buf);
        self.scanned = 0;
        let skipping = self.skip != Skip::None;
        self.skip = Skip::None;
        if skipping || rest.trim_ascii().is_empty() {
            return None;
        }
        if starts_with_digit(&rest) && octet_prefix(&rest).is_some() {
            return Some(Frame::Rejected(LogError::new(
                LogReason::BadFrame,
                "connection closed inside an octet-counted frame",
            )));
        }
        Some(Frame::Message(rest))
    }

    /// The frame starting at `pos`: `Some((frame, next_pos))`, or `None` when more bytes are
    /// needed.
    fn next(&mut self, pos: usize) -> Option<(Option<Frame>, usize)> {
        let rest = &self.buf[pos..];
        // Stray newlines between frames (some senders add them after octet-counted frames).
        let lead = rest
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        if lead > 0 {
            return Some((None, pos + lead));
        }
        if rest.is_empty() {
            return None;
        }
        if starts_with_digit(rest) {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == rest.len() && digits <= MAX_LEN_DIGITS {
                return None;
            }
            if digits > MAX_LEN_DIGITS || rest[digits] != b' ' {
                // Not an octet count after all: a newline frame that starts with a digit.
                return self.newline_frame(pos);
            }
            let len = std::str::from_utf8(&rest[..digits])
                .ok()
                .and_then(|s| s.parse::<usize>().ok());
            let Some(len) = len.filter(|&n| n > 0) else {
                // `0 ` is an empty frame: skip the prefix.
                return Some((
                    Some(Frame::Rejected(LogError::new(
                        LogReason::EmptyFrame,
                        "octet-counted frame of length 0",
                    ))),
                    pos + digits + 1,
                ));
            };
            let start = pos + digits + 1;
            if len > self.max {
                self.skip = Skip::Bytes(len);
                return Some((Some(too_large(len, self.max, "octet-counted")), start));
            }
            if self.buf.len() - start < len {
                return None;
            }
            let msg = self.buf[start..start + len].to_vec();
            return Some((Some(Frame::Message(msg)), start + len));
        }
        self.newline_frame(pos)
    }

    fn newline_frame(&mut self, pos: usize) -> Option<(Option<Frame>, usize)> {
        let rest = &self.buf[pos..];
        // Only a frame at the start of the buffer can have been searched by an earlier push.
        let from = if pos == 0 {
            self.scanned.min(rest.len())
        } else {
            0
        };
        let Some(i) = rest[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| i + from)
        else {
            self.scanned = rest.len();
            return None;
        };
        self.scanned = 0;
        if i > self.max {
            return Some((
                Some(too_large(i, self.max, "newline-terminated")),
                pos + i + 1,
            ));
        }
        let mut msg = &rest[..i];
        if let Some(m) = msg.strip_suffix(b"\r") {
            msg = m;
        }
        Some((Some(Frame::Message(msg.to_vec())), pos + i + 1))
    }
}

fn starts_with_digit(b: &[u8]) -> bool {
    b.first().is_some_and(u8::is_ascii_digit)
}

/// The octet count at the start of `b`, if it is one (`digits SP`).
fn octet_prefix(b: &[u8]) -> Option<usize> {
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > MAX_LEN_DIGITS || b.get(digits) != Some(&b' ') {
        return None;
    }
    std::str::from_utf8(&b[..digits]).ok()?.parse().ok()
}

fn too_large(len: usize, max: usize, kind: &str) -> Frame {
    Frame::Rejected(LogError::new(
        LogReason::FrameTooLarge,
        format!("{kind} syslog frame of {len} bytes exceeds the limit of {max} bytes"),
    ))
}
