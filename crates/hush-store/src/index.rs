//! The series index: label set ↔ internal reference, and postings lists for `=` matchers.

use crate::head::HeadData;
use hush_model::{Labels, MatchOp, Matcher, SeriesId};
use std::collections::HashMap;
use std::sync::Arc;

/// One known series: its identity and whatever the head holds for it.
#[derive(Debug)]
pub(crate) struct MemSeries {
    pub id: SeriesId,
    pub labels: Labels,
    pub head: HeadData,
}

/// Internal reference: position in [`Index::series`]. Never reused within a process.
pub(crate) type SeriesRef = u32;

#[derive(Debug, Default)]
pub(crate) struct Index {
    pub series: Vec<Option<MemSeries>>,
    pub by_id: HashMap<SeriesId, SeriesRef>,
    /// name → value → refs (ascending, since refs only grow).
    postings: HashMap<Arc<str>, HashMap<Arc<str>, Vec<SeriesRef>>>,
    pub live: usize,
}

impl Index {
    pub(crate) fn get_or_create(&mut self, id: SeriesId, labels: &Labels) -> (SeriesRef, bool) {
        if let Some(&r) = self.by_id.get(&id) {
            return (r, false);
        }
        let r = self.series.len() as SeriesRef;
        for l in labels.iter() {
            let values = self.postings.entry(Arc::from(l.name.as_str())).or_default();
            values
                .entry(Arc::from(l.value.as_str()))
                .or_default()
                .push(r);
        }
        self.series.push(Some(MemSeries {
            id,
            labels: labels.clone(),
            head: HeadData::default(),
        }));
        self.by_id.insert(id, r);
        self.live += 1;
        (r, true)
    }

    pub(crate) fn get_mut(&mut self, r: SeriesRef) -> Option<&mut MemSeries> {
        self.series.get_mut(r as usize).and_then(Option::as_mut)
    }

    pub(crate) fn remove(&mut self, r: SeriesRef) {
        let Some(Some(s)) = self.series.get_mut(r as usize).map(Option::take) else {
            return;
        };
        self.by_id.remove(&s.id);
        for l in s.labels.iter() {
            if let Some(values) = self.postings.get_mut(l.name.as_str()) {
                if let Some(list) = values.get_mut(l.value.as_str()) {
                    list.retain(|&x| x != r);
                    if list.is_empty() {
                        values.remove(l.value.as_str());
                    }
                }
                if values.is_empty() {
                    self.postings.remove(l.name.as_str());
                }
            }
        }
        self.live -= 1;
    }

    /// Refs of the series that satisfy every matcher, ascending.
    pub(crate) fn select(&self, matchers: &[Matcher]) -> Vec<SeriesRef> {
        // Narrow with the postings of `name="value"` matchers (value non-empty), then filter.
        let mut candidates: Option<Vec<SeriesRef>> = None;
        for m in matchers
            .iter()
            .filter(|m| m.op == MatchOp::Equal && !m.value.is_empty())
        {
            let list = self
                .postings
                .get(m.name.as_str())
                .and_then(|v| v.get(m.value.as_str()))
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            candidates = Some(match candidates {
                None => list.to_vec(),
                Some(c) => intersect(&c, list),
            });
        }
        let iter: Box<dyn Iterator<Item = SeriesRef>> = match candidates {
            Some(c) => Box::new(c.into_iter()),
            None => Box::new(0..self.series.len() as SeriesRef),
        };
        iter.filter(|&r| match self.series.get(r as usize) {
            Some(Some(s)) => matchers.iter().all(|m| m.matches(&s.labels)),
            _ => false,
        })
        .collect()
    }

    pub(crate) fn label_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.postings.keys().map(|k| k.to_string()).collect();
        v.sort();
        v
    }

    pub(crate) fn label_values(&self, name: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .postings
            .get(name)
            .map(|m| m.keys().map(|k| k.to_string()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }
}

fn intersect(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx() -> Index {
        let mut i = Index::default();
        for (job, inst) in [("node", "a"), ("node", "b"), ("api", "a")] {
            let l =
                Labels::from_pairs([("__name__", "up"), ("job", job), ("instance", inst)]).unwrap();
            i.get_or_create(l.series_id(), &l);
        }
        i
    }

    #[test]
    fn select_with_each_operator() {
        let i = idx();
        let m = |op, n: &str, v: &str| Matcher::new(op, n, v).unwrap();
        assert_eq!(i.select(&[m(MatchOp::Equal, "job", "node")]), [0, 1]);
        assert_eq!(
            i.select(&[
                m(MatchOp::Equal, "job", "node"),
                m(MatchOp::Equal, "instance", "a")
            ]),
            [0]
        );
        assert_eq!(i.select(&[m(MatchOp::NotEqual, "job", "node")]), [2]);
        assert_eq!(i.select(&[m(MatchOp::Regex, "job", "n.*|api")]), [0, 1, 2]);
        assert_eq!(i.select(&[m(MatchOp::NotRegex, "instance", "a")]), [1]);
        assert!(i.select(&[m(MatchOp::Equal, "job", "nope")]).is_empty());
        assert_eq!(i.label_values("job"), ["api", "node"]);
    }

    #[test]
    fn remove_cleans_postings() {
        let mut i = idx();
        i.remove(2);
        assert_eq!(i.label_values("job"), ["node"]);
        assert_eq!(i.live, 2);
        assert!(i.select(&[Matcher::equal("job", "api")]).is_empty());
    }
}
