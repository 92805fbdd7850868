//! Errors of the mining crate; each carries the input that caused it.

/// A line format that cannot be compiled.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The format has no `<Content>` field, so nothing would be mined.
    #[error("line format `{format}` has no <Content> field")]
    NoContent {
        /// The offending format.
        format: String,
    },
    /// The same field name appears twice.
    #[error("line format `{format}` repeats field <{field}>")]
    DuplicateField {
        /// The offending format.
        format: String,
        /// The repeated field.
        field: String,
    },
    /// The format compiles to an expression that is too large.
    #[error("line format `{format}` is too long")]
    TooLong {
        /// The offending format.
        format: String,
    },
    /// The generated expression was rejected.
    #[error("line format `{format}` cannot be compiled: {reason}")]
    Regex {
        /// The offending format.
        format: String,
        /// Why it was rejected.
        reason: String,
    },
}

/// A miner configuration or saved state that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MinerError {
    /// A configuration value is out of range.
    #[error("invalid miner setting `{name}`: {reason}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A saved state refers to something it does not contain.
    #[error("inconsistent miner state: {reason}")]
    InvalidState {
        /// What is inconsistent.
        reason: String,
    },
}
