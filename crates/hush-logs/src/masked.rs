//! Lines tokenised and masked ahead of mining.
//!
//! Masking a line (splitting it into pieces, finding its constant words and its shape hash)
//! depends on nothing but the line and `max_tokens`; only learning it depends on the lines
//! before. [`MaskedLines`] holds that per-line work for a block of lines, so it can be done on
//! other threads while the miner learns earlier blocks in order ([`crate::mask_ahead`]).
//! [`crate::Miner::learn_masked`] and [`crate::Miner::add_masked`] then give exactly what
//! [`crate::Miner::learn`] and [`crate::Miner::add`] give for the same lines.

use crate::line::{recycle, shape_hash};
use crate::mask::{Piece, Word, pieces_into};
use crate::types::MinerConfig;

/// Where one line's results lie in the block's vectors.
#[derive(Debug, Clone)]
struct Line {
    /// The line's content within the block's text.
    text: (usize, usize),
    /// Its pieces within `pieces` and its gap flags within `gaps`.
    pieces: (usize, usize),
    gaps: (usize, usize),
    /// The shape hash of its constant words.
    hash: u64,
}

/// A block of lines, each tokenised and masked, owning its text. Build it on any thread with
/// [`MaskedLines::from_text`] or [`MaskedLines::push`]; learn its lines in order with
/// [`crate::Miner::learn_masked`] or [`crate::Miner::add_masked`].
#[derive(Debug, Clone)]
pub struct MaskedLines {
    max_tokens: usize,
    text: String,
    lines: Vec<Line>,
    pieces: Vec<Piece>,
    gaps: Vec<bool>,
    /// The words of the line being masked, for its hash: kept for the allocation.
    scratch: Vec<Word<'static>>,
}

impl MaskedLines {
    /// An empty block for a miner configured with `config` (masking depends on its
    /// `max_tokens`; a miner with another value masks the lines again when learning them).
    pub fn new(config: &MinerConfig) -> Self {
        Self {
            max_tokens: config.max_tokens,
            text: String::new(),
            lines: Vec::new(),
            pieces: Vec::new(),
            gaps: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Masks every line of `text`, which the block takes over without copying: the lines are
    /// separated by `\n`, trailing `\r`s are dropped from each, and a last line without `\n`
    /// counts only if it is not empty.
    pub fn from_text(config: &MinerConfig, text: String) -> Self {
        let mut block = Self::new(config);
        block.refill(text);
        block
    }

    /// Empties the block and masks the lines of `text` as [`MaskedLines::from_text`] does,
    /// keeping the block's allocations.
    pub fn refill(&mut self, text: String) {
        self.clear();
        // About 75 bytes and 14 pieces a line in common logs: grow at most once or twice.
        self.lines.reserve(text.len() / 64 + 1);
        self.pieces.reserve(text.len() / 5 + 1);
        self.gaps.reserve(text.len() / 6 + 1);
        let mut start = 0;
        let n = text.len();
        while start < n {
            let end = memchr::memchr(b'\n', &text.as_bytes()[start..]).map_or(n, |k| start + k);
            let content = text[start..end].trim_end_matches('\r');
            self.mask(&text, start, start + content.len());
            start = end + 1;
        }
        self.text = text;
    }

    /// Empties the block, keeping its allocations.
    pub fn clear(&mut self) {
        self.text.clear();
        self.lines.clear();
        self.pieces.clear();
        self.gaps.clear();
    }

    /// Takes the block's text out as it is, emptying the block, to reuse its allocation.
    pub fn take_text(&mut self) -> String {
        let text = std::mem::take(&mut self.text);
        self.clear();
        text
    }

    /// Masks one line's content, copied into the block.
    pub fn push(&mut self, content: &str) {
        let start = self.text.len();
        let mut text = std::mem::take(&mut self.text);
        text.push_str(content);
        self.mask(&text, start, text.len());
        self.text = text;
    }

    /// Masks `text[start..end]` as the next line.
    fn mask(&mut self, text: &str, start: usize, end: usize) {
        let content = &text[start..end];
        let (p0, g0) = (self.pieces.len(), self.gaps.len());
        let mut words: Vec<Word<'_>> = recycle(std::mem::take(&mut self.scratch));
        pieces_into(
            content,
            self.max_tokens,
            &mut self.pieces,
            &mut words,
            &mut self.gaps,
        );
        let hash = shape_hash(&words);
        self.scratch = recycle(words);
        self.lines.push(Line {
            text: (start, end),
            pieces: (p0, self.pieces.len()),
            gaps: (g0, self.gaps.len()),
            hash,
        });
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether there is no line.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The content of line `k`.
    pub fn line(&self, k: usize) -> Option<&str> {
        let l = self.lines.get(k)?;
        Some(&self.text[l.text.0..l.text.1])
    }

    /// Line `k`'s content, pieces, gap flags and shape hash, if it was masked with
    /// `max_tokens`.
    pub(crate) fn get(&self, k: usize, max_tokens: usize) -> Option<Masked<'_>> {
        let l = self.lines.get(k)?;
        let content = &self.text[l.text.0..l.text.1];
        if max_tokens != self.max_tokens {
            return Some(Masked::Content(content));
        }
        Some(Masked::Done {
            content,
            pieces: &self.pieces[l.pieces.0..l.pieces.1],
            gaps: &self.gaps[l.gaps.0..l.gaps.1],
            hash: l.hash,
        })
    }
}

/// One line of a [`MaskedLines`], as the miner takes it.
pub(crate) enum Masked<'a> {
    /// Masked for the miner's `max_tokens`.
    Done {
        content: &'a str,
        pieces: &'a [Piece],
        gaps: &'a [bool],
        hash: u64,
    },
    /// Masked for another `max_tokens`: to be masked again.
    Content(&'a str),
}
