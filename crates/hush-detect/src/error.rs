//! Errors of the detection crate.

/// Why a configuration or a restored state was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DetectError {
    /// A configuration field is outside its allowed range.
    #[error("invalid detector setting `{field}`: {reason}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Rows of a multivariate batch do not all have the expected number of columns.
    #[error("row {row} has {got} values, expected {expected}")]
    DimensionMismatch {
        /// Index of the offending row.
        row: usize,
        /// Columns found.
        got: usize,
        /// Columns expected.
        expected: usize,
    },
    /// A multivariate model was asked to fit on no rows.
    #[error("cannot fit `{model}` on an empty batch")]
    EmptyBatch {
        /// The model asked.
        model: &'static str,
    },
}
