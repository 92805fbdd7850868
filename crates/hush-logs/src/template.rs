//! Templates, their ids and how they render.

use serde::{Deserialize, Serialize};

use crate::mask::WILDCARD;

/// A template's id. Stable for the miner's lifetime and across saved states: a template keeps
/// its id when it generalises, and when two templates merge the older id survives (the other
/// becomes an alias, see [`crate::Miner::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TemplateId(pub u64);

impl std::fmt::Display for TemplateId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "T{}", self.0)
    }
}

/// One constant position of a template: the word, or `<*>` once lines disagreed on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Token {
    /// A word every line of the template has here (it may contain a masked `key=<*>` part).
    Const(Box<str>),
    /// A position where lines differed.
    Wild,
}

/// A mined template with its counts and history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// Stable id.
    pub id: TemplateId,
    /// The constant positions.
    pub tokens: Vec<Token>,
    /// `gaps[i]` says whether a run of variables was seen before `tokens[i]` (the last entry:
    /// after the last token). Always `tokens.len() + 1` long.
    pub gaps: Vec<bool>,
    /// How each variable run is written in [`Self::text`], from the first line that had it:
    /// its punctuation kept (`(<*>)`, `[<*>]`, `<*>,`) and `<*>:<*>` for an address with a
    /// port. Empty entries (or a short vector, from older states) mean a plain `<*>`.
    #[serde(default)]
    pub gap_text: Vec<String>,
    /// Lines matched, including those of templates merged into this one.
    pub count: u64,
    /// Sequence number (lines seen by the miner) of the first line.
    pub first_seen: u64,
    /// Sequence number of the latest line.
    pub last_seen: u64,
    /// Earlier texts of this template, oldest first (bounded by the configuration).
    pub history: Vec<String>,
    /// Ids of templates merged into this one (bounded by the configuration).
    pub merged: Vec<TemplateId>,
}

impl Template {
    /// The template text: words and `<*>` joined by single spaces.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let mut push = |s: &str| {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(s);
        };
        for (i, tok) in self.tokens.iter().enumerate() {
            if self.gaps[i] {
                push(self.gap_text(i));
            }
            match tok {
                Token::Const(c) => push(c),
                Token::Wild => push(WILDCARD),
            }
        }
        if self.gaps[self.tokens.len()] {
            push(self.gap_text(self.tokens.len()));
        }
        out
    }

    /// How the variable run before token `i` is written.
    pub(crate) fn gap_text(&self, i: usize) -> &str {
        match self.gap_text.get(i) {
            Some(s) if !s.is_empty() => s,
            _ => WILDCARD,
        }
    }

    /// Number of parameters a line of this template yields (one per `<*>` in [`Self::text`]).
    pub fn arity(&self) -> usize {
        let toks = self
            .tokens
            .iter()
            .map(|t| match t {
                Token::Wild => 1,
                Token::Const(c) => c.matches(WILDCARD).count(),
            })
            .sum::<usize>();
        let gaps = (0..self.gaps.len())
            .filter(|&i| self.gaps[i])
            .map(|i| self.gap_text(i).matches(WILDCARD).count())
            .sum::<usize>();
        toks + gaps
    }
}
