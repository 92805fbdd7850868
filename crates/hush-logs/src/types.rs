//! The miner's public value types: its configuration, what learning a line returns, its
//! counters and its saved state.

use serde::{Deserialize, Serialize};

use crate::error::MinerError;
use crate::template::{Template, TemplateId};

/// Miner settings. One configuration serves every log source; nothing here is per system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MinerConfig {
    /// Fraction of constant positions sibling templates must share to be merged (0..=1).
    pub similarity: f64,
    /// Distinct words seen at a position before it is taken for a variable (at least 2).
    pub min_variants: usize,
    /// Templates kept; past it the rarest tenth is evicted.
    pub max_templates: usize,
    /// Tokens looked at per line; the rest of a longer line is one variable.
    pub max_tokens: usize,
    /// Earlier texts and merged ids remembered per template.
    pub history: usize,
}

impl Default for MinerConfig {
    fn default() -> Self {
        Self {
            similarity: 0.6,
            min_variants: 5,
            max_templates: 10_000,
            max_tokens: 256,
            history: 8,
        }
    }
}

impl MinerConfig {
    /// Checks every value is in range.
    pub fn validate(&self) -> Result<(), MinerError> {
        let bad = |name, reason: &str| {
            Err(MinerError::InvalidConfig {
                name,
                reason: reason.into(),
            })
        };
        if !(0.0..=1.0).contains(&self.similarity) {
            return bad("similarity", "must be within 0..=1");
        }
        if self.min_variants < 2 {
            return bad("min_variants", "must be at least 2");
        }
        if self.max_templates == 0 {
            return bad("max_templates", "must be at least 1");
        }
        if self.max_tokens < 2 {
            return bad("max_tokens", "must be at least 2");
        }
        Ok(())
    }
}

/// What learning a line did to its template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// The line started a new template.
    Created,
    /// The template became more general (its text changed; the id did not).
    Generalised,
    /// The template already covered the line.
    Unchanged,
}

/// The outcome of [`Miner::add`] for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineMatch<'a> {
    /// The line's template.
    pub id: TemplateId,
    /// What happened to that template.
    pub change: Change,
    /// The text behind each `<*>` of the template, in order, borrowed from the line (empty
    /// where the template has a variable this line lacks).
    pub params: Vec<&'a str>,
}

/// Counters over the miner's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinerStats {
    /// Lines learned.
    pub lines: u64,
    /// Templates created.
    pub created: u64,
    /// Templates merged into an older one.
    pub merged: u64,
    /// Templates evicted by the cap.
    pub evicted: u64,
}

/// Everything a [`Miner`] needs to resume: the wire and storage form of its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinerState {
    /// Format version of this structure.
    pub version: u32,
    /// The configuration in force.
    pub config: MinerConfig,
    /// The next id to hand out.
    pub next_id: u64,
    /// Counters.
    pub stats: MinerStats,
    /// The templates.
    pub templates: Vec<Template>,
}

/// Version of [`MinerState`] written by this build.
pub(crate) const STATE_VERSION: u32 = 1;
