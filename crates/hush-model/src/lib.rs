//! The vocabulary every Hush crate speaks: label sets, matchers, samples, series and ids.
//!
//! This crate owns plain data and its invariants (a [`Labels`] is always sorted, its names are
//! valid and unique). It does no IO and knows nothing of wire formats or storage layouts.

mod labels;
mod matcher;
mod sample;

pub use labels::{
    Label, LabelError, Labels, LabelsBuilder, METRIC_NAME, SeriesId, is_valid_label_name,
};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use sample::{Sample, TimeSeries, Timestamp};
