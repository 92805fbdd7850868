//! The read boundary between the evaluator and whatever holds the samples.

use hush_model::{Matcher, Sample, TimeSeries};

/// Why a [`Storage`] could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("storage failed: {0}")]
pub struct StorageError(pub String);

/// Where the evaluator reads series from. The store implements it.
///
/// `select` returns every series whose labels satisfy all `matchers`, each with its samples in
/// `[start_ms, end_ms]` (both ends inclusive), ascending by time. Stale markers (NaN with bits
/// [`STALE_NAN_BITS`](crate::STALE_NAN_BITS)) must be returned as stored: the evaluator needs them
/// to end a series. Series without samples in the range may be omitted.
pub trait Storage {
    /// Series matching all `matchers`, with their samples in `[start_ms, end_ms]`.
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<TimeSeries>, StorageError>;
}

impl<S: Storage + ?Sized> Storage for &S {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<TimeSeries>, StorageError> {
        (**self).select(matchers, start_ms, end_ms)
    }
}

impl<S: Storage + ?Sized> Storage for std::sync::Arc<S> {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<TimeSeries>, StorageError> {
        (**self).select(matchers, start_ms, end_ms)
    }
}

impl<S: Storage + ?Sized> Storage for Box<S> {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<TimeSeries>, StorageError> {
        (**self).select(matchers, start_ms, end_ms)
    }
}

/// A vector of series held in memory, for tests, benchmarks and small imports.
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    series: Vec<TimeSeries>,
}

impl MemoryStorage {
    /// An empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a series; its samples are sorted by time so callers may push them in any order.
    /// Samples of a label set already present are merged into that series.
    pub fn add(&mut self, mut series: TimeSeries) {
        let target = match self.series.iter_mut().find(|s| s.labels == series.labels) {
            Some(existing) => {
                existing.samples.append(&mut series.samples);
                existing
            }
            None => {
                self.series.push(series);
                let last = self.series.len() - 1;
                &mut self.series[last]
            }
        };
        target.samples.sort_by_key(|x| x.t);
    }

    /// All series held, in insertion order.
    pub fn series(&self) -> &[TimeSeries] {
        &self.series
    }
}

impl Storage for MemoryStorage {
    fn select(
        &self,
        matchers: &[Matcher],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<TimeSeries>, StorageError> {
        let mut out = Vec::new();
        for s in &self.series {
            if !matchers.iter().all(|m| m.matches(&s.labels)) {
                continue;
            }
            let lo = s.samples.partition_point(|x| x.t < start_ms);
            let hi = s.samples.partition_point(|x| x.t <= end_ms);
            let samples: Vec<Sample> = s.samples.get(lo..hi).unwrap_or_default().to_vec();
            if !samples.is_empty() {
                out.push(TimeSeries::new(s.labels.clone(), samples));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hush_model::{Labels, MatchOp};

    #[test]
    fn select_filters_by_matchers_and_inclusive_range() {
        let mut st = MemoryStorage::new();
        let a = Labels::from_pairs([("__name__", "x"), ("job", "a")]).unwrap();
        let b = Labels::from_pairs([("__name__", "x"), ("job", "b")]).unwrap();
        st.add(TimeSeries::new(
            a.clone(),
            vec![
                Sample::new(30, 3.0),
                Sample::new(10, 1.0),
                Sample::new(20, 2.0),
            ],
        ));
        st.add(TimeSeries::new(b, vec![Sample::new(10, 1.0)]));
        let m = [
            Matcher::equal("__name__", "x"),
            Matcher::new(MatchOp::Regex, "job", "a").unwrap(),
        ];
        let got = st.select(&m, 10, 20).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].labels, a);
        assert_eq!(
            got[0].samples,
            vec![Sample::new(10, 1.0), Sample::new(20, 2.0)]
        );
        // a range with no samples omits the series
        assert!(st.select(&m, 40, 50).unwrap().is_empty());
    }
}
