//! Collects samples into one [`TimeSeries`] per distinct label set, enforcing the limits.

use crate::IngestError;
use crate::limits::{Budget, Limits};
use hush_model::{Labels, Sample, SeriesId, TimeSeries};
use std::collections::{HashMap, HashSet};

/// Groups samples by label set in first-seen order.
///
/// Text formats and OTLP may name the same series on several lines or data points; grouping gives
/// callers one series each. A second sample at an already-seen timestamp is dropped (the first
/// wins), like Prometheus' "duplicate sample for timestamp".
#[derive(Debug)]
pub(crate) struct SeriesSet<'a> {
    limits: &'a Limits,
    budget: Budget<'a>,
    index: HashMap<SeriesId, usize>,
    /// (series slot, timestamp) of series holding more than one sample, to find duplicate
    /// timestamps in O(1) without paying for it on the usual one-sample series.
    seen: HashSet<(usize, i64)>,
    series: Vec<TimeSeries>,
}

impl<'a> SeriesSet<'a> {
    pub(crate) fn new(limits: &'a Limits) -> Self {
        Self {
            limits,
            budget: Budget::new(limits),
            index: HashMap::new(),
            seen: HashSet::new(),
            series: Vec::new(),
        }
    }

    /// Validates and adds label pairs with one sample.
    pub(crate) fn push_pairs(
        &mut self,
        pairs: Vec<(String, String)>,
        t: i64,
        v: f64,
    ) -> Result<(), IngestError> {
        let labels = self.limits.labels(pairs)?;
        self.push(labels, t, v)
    }

    /// Adds one sample to an already validated label set.
    pub(crate) fn push(&mut self, labels: Labels, t: i64, v: f64) -> Result<(), IngestError> {
        if !self.limits.check_value(&labels, t, v)? {
            return Ok(());
        }
        let id = labels.series_id();
        let slot = match self.index.get(&id) {
            // A 64-bit hash collision is astronomically unlikely; on one, the series is kept apart.
            Some(&i) if self.series[i].labels == labels => i,
            _ => {
                self.budget.add_series(1)?;
                self.series
                    .push(TimeSeries::new(labels, Vec::with_capacity(1)));
                self.index.entry(id).or_insert(self.series.len() - 1);
                self.series.len() - 1
            }
        };
        let samples = &mut self.series[slot].samples;
        if let [only] = samples.as_slice() {
            self.seen.insert((slot, only.t));
        }
        if !samples.is_empty() && !self.seen.insert((slot, t)) {
            return Ok(());
        }
        self.budget.add_samples(1)?;
        samples.push(Sample::new(t, v));
        Ok(())
    }

    pub(crate) fn finish(self) -> Vec<TimeSeries> {
        self.series
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NonFinite;

    fn labels(name: &str) -> Labels {
        Labels::from_pairs([("__name__", name)]).unwrap()
    }

    #[test]
    fn groups_by_label_set_and_drops_duplicate_timestamps() {
        let l = Limits::default();
        let mut s = SeriesSet::new(&l);
        s.push(labels("a"), 1, 1.0).unwrap();
        s.push(labels("b"), 1, 2.0).unwrap();
        s.push(labels("a"), 2, 3.0).unwrap();
        s.push(labels("a"), 2, 4.0).unwrap();
        let out = s.finish();
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0].samples,
            vec![Sample::new(1, 1.0), Sample::new(2, 3.0)]
        );
    }

    #[test]
    fn dropped_non_finite_values_create_no_series() {
        let l = Limits {
            non_finite: NonFinite::Drop,
            ..Limits::default()
        };
        let mut s = SeriesSet::new(&l);
        s.push(labels("a"), 1, f64::NAN).unwrap();
        assert!(s.finish().is_empty());
    }

    #[test]
    fn counts_series_and_samples() {
        let l = Limits {
            max_series_per_request: 1,
            max_samples_per_request: 2,
            ..Limits::default()
        };
        let mut s = SeriesSet::new(&l);
        s.push(labels("a"), 1, 1.0).unwrap();
        assert_eq!(
            s.push(labels("b"), 1, 1.0).unwrap_err().reason(),
            "too_many_series"
        );
        s.push(labels("a"), 2, 1.0).unwrap();
        assert_eq!(
            s.push(labels("a"), 3, 1.0).unwrap_err().reason(),
            "too_many_samples"
        );
    }
}
