//! In-memory state of one series since the last flush: full chunks, the open chunk, and
//! out-of-order samples waiting to be merged.

use crate::chunk::XorChunk;
use hush_model::Sample;

/// Samples per head chunk before it is sealed (as in Prometheus: ~30 min at 15 s).
const HEAD_CHUNK_SAMPLES: usize = 120;

/// Why a sample was refused; each has a stable name used in metrics and HTTP errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// Older than the newest sample by more than the out-of-order window.
    TooOld,
    /// Same timestamp as a stored sample, different value.
    DuplicateTimestamp,
    /// Older than the retention period.
    OutOfRetention,
    /// Would create a series beyond the active series limit.
    SeriesLimit,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooOld => "too_old",
            Self::DuplicateTimestamp => "duplicate_timestamp",
            Self::OutOfRetention => "out_of_retention",
            Self::SeriesLimit => "series_limit",
        }
    }
    pub const ALL: [RejectReason; 4] = [
        Self::TooOld,
        Self::DuplicateTimestamp,
        Self::OutOfRetention,
        Self::SeriesLimit,
    ];
}

/// What happened to one sample offered to the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Appended {
    Stored,
    /// Identical to a sample already held (a client retry): nothing to do.
    Duplicate,
    Rejected(RejectReason),
}

#[derive(Debug, Default)]
pub(crate) struct HeadData {
    sealed: Vec<XorChunk>,
    open: XorChunk,
    ooo: Vec<Sample>,
}

impl HeadData {
    pub(crate) fn is_empty(&self) -> bool {
        self.open.is_empty() && self.sealed.is_empty() && self.ooo.is_empty()
    }

    pub(crate) fn max_t(&self) -> Option<i64> {
        let c = if !self.open.is_empty() {
            Some(&self.open)
        } else {
            self.sealed.last()
        };
        let in_order = c.map(|c| c.max_t());
        let ooo = self.ooo.last().map(|s| s.t);
        in_order.max(ooo)
    }

    pub(crate) fn min_t(&self) -> Option<i64> {
        let c = self.sealed.first().or(if self.open.is_empty() {
            None
        } else {
            Some(&self.open)
        });
        let a = c.map(|c| c.min_t());
        let b = self.ooo.first().map(|s| s.t);
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn last_in_order(&self) -> Option<(i64, u64)> {
        let c = if !self.open.is_empty() {
            &self.open
        } else {
            self.sealed.last()?
        };
        c.iter().last().map(|s| (s.t, s.v.to_bits()))
    }

    /// The bits of the in-order sample at `t`, if one is held (decodes one chunk at most).
    fn in_order_at(&self, t: i64) -> Option<u64> {
        let i = self.sealed.partition_point(|c| c.max_t() < t);
        let chunk = match self.sealed.get(i) {
            Some(c) => c,
            None if !self.open.is_empty() => &self.open,
            None => return None,
        };
        if chunk.is_empty() || chunk.min_t() > t {
            return None;
        }
        chunk
            .iter()
            .take_while(|s| s.t <= t)
            .find(|s| s.t == t)
            .map(|s| s.v.to_bits())
    }

    /// `accept_before`: the oldest timestamp still accepted out of order.
    pub(crate) fn append(&mut self, t: i64, v: f64, accept_before: i64) -> Appended {
        let last_t = if !self.open.is_empty() {
            Some(self.open.max_t())
        } else {
            self.sealed.last().map(|c| c.max_t())
        };
        match last_t {
            Some(last) if t == last => {
                return match self.last_in_order() {
                    Some((_, bits)) if bits == v.to_bits() => Appended::Duplicate,
                    _ => Appended::Rejected(RejectReason::DuplicateTimestamp),
                };
            }
            Some(last) if t < last => {
                // A late copy of a sample already held in order (a client's retry, a stream
                // re-delivery) is a duplicate, even beyond the out-of-order window; a late
                // different value at that timestamp conflicts. Without this check it would sit
                // in the out-of-order buffer, hidden by the in-order sample on every read.
                if let Some(held) = self.in_order_at(t) {
                    return if held == v.to_bits() {
                        Appended::Duplicate
                    } else {
                        Appended::Rejected(RejectReason::DuplicateTimestamp)
                    };
                }
                if t < accept_before {
                    return Appended::Rejected(RejectReason::TooOld);
                }
                return match self.ooo.binary_search_by(|s| s.t.cmp(&t)) {
                    Ok(i) if self.ooo[i].v.to_bits() == v.to_bits() => Appended::Duplicate,
                    Ok(_) => Appended::Rejected(RejectReason::DuplicateTimestamp),
                    Err(i) => {
                        self.ooo.insert(i, Sample::new(t, v));
                        Appended::Stored
                    }
                };
            }
            _ => {}
        }
        self.open.append(t, v);
        if self.open.len() >= HEAD_CHUNK_SAMPLES {
            let mut full = std::mem::take(&mut self.open);
            full.shrink();
            self.sealed.push(full);
        }
        Appended::Stored
    }

    /// Samples in `[start, end]`, sorted, one per timestamp (in-order data wins over a late
    /// duplicate that arrived out of order).
    pub(crate) fn read(&self, start: i64, end: i64, out: &mut Vec<Sample>) {
        let from = out.len();
        for c in self.sealed.iter().chain(std::iter::once(&self.open)) {
            if c.is_empty() || c.max_t() < start || c.min_t() > end {
                continue;
            }
            out.extend(c.iter().filter(|s| s.t >= start && s.t <= end));
        }
        if self.ooo.iter().any(|s| s.t >= start && s.t <= end) {
            out.extend(self.ooo.iter().filter(|s| s.t >= start && s.t <= end));
            let mut tail = out.split_off(from);
            tail.sort_by_key(|s| s.t); // stable: in-order samples were pushed first and win
            tail.dedup_by_key(|s| s.t);
            out.append(&mut tail);
        }
    }

    pub(crate) fn take(&mut self) -> HeadData {
        std::mem::take(self)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.sealed
            .iter()
            .map(|c| c.heap_bytes() + std::mem::size_of::<XorChunk>())
            .sum::<usize>()
            + self.open.heap_bytes()
            + self.ooo.capacity() * std::mem::size_of::<Sample>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(h: &HeadData) -> Vec<(i64, f64)> {
        let mut v = Vec::new();
        h.read(i64::MIN, i64::MAX, &mut v);
        v.into_iter().map(|s| (s.t, s.v)).collect()
    }

    #[test]
    fn in_order_out_of_order_and_duplicates() {
        let mut h = HeadData::default();
        for t in 0..300 {
            assert_eq!(h.append(t * 10, t as f64, i64::MIN), Appended::Stored);
        }
        assert_eq!(h.append(2990, 299.0, i64::MIN), Appended::Duplicate);
        assert_eq!(
            h.append(2990, 1.0, i64::MIN),
            Appended::Rejected(RejectReason::DuplicateTimestamp)
        );
        assert_eq!(h.append(2985, 7.0, 2000), Appended::Stored);
        assert_eq!(h.append(2985, 7.0, 2000), Appended::Duplicate);
        assert_eq!(
            h.append(1005, 7.0, 2000),
            Appended::Rejected(RejectReason::TooOld)
        );
        let all = read_all(&h);
        assert_eq!(all.len(), 301);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(all[299], (2985, 7.0));
        assert_eq!(h.max_t(), Some(2990));
        assert_eq!(h.min_t(), Some(0));
    }

    #[test]
    fn late_copies_of_in_order_samples_are_duplicates() {
        let mut h = HeadData::default();
        for t in 0..300 {
            assert_eq!(h.append(t * 10, t as f64, i64::MIN), Appended::Stored);
        }
        // Within the window, in a sealed chunk and in the open one.
        assert_eq!(h.append(2900, 290.0, 2000), Appended::Duplicate);
        assert_eq!(h.append(500, 50.0, i64::MIN), Appended::Duplicate);
        // Beyond the window: still a duplicate, not `too_old`.
        assert_eq!(h.append(10, 1.0, 2000), Appended::Duplicate);
        assert_eq!(
            h.append(2900, 1.0, 2000),
            Appended::Rejected(RejectReason::DuplicateTimestamp)
        );
        // A timestamp between two held samples is still a real late sample.
        assert_eq!(h.append(2905, 1.0, 2000), Appended::Stored);
        assert_eq!(read_all(&h).len(), 301);
    }

    #[test]
    fn range_read_filters() {
        let mut h = HeadData::default();
        for t in 0..10 {
            h.append(t, t as f64, i64::MIN);
        }
        let mut v = Vec::new();
        h.read(3, 5, &mut v);
        assert_eq!(v.iter().map(|s| s.t).collect::<Vec<_>>(), [3, 4, 5]);
    }
}
