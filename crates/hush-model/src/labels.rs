use std::fmt;

/// The reserved label that holds a series' metric name.
pub const METRIC_NAME: &str = "__name__";

/// A stable 64-bit identity of a label set (xxh3 over its canonical encoding).
///
/// Stable across processes and versions: it is persisted in the write-ahead log and used to
/// shard series, so the encoding in [`Labels::series_id`] must never change.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct SeriesId(pub u64);

impl fmt::Display for SeriesId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// One name/value pair.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Label {
    pub name: String,
    pub value: String,
}

impl Label {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// Why a label set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("empty label name")]
    EmptyName,
    #[error("invalid label name `{0}`")]
    InvalidName(String),
    #[error("duplicate label name `{0}`")]
    DuplicateName(String),
    #[error("invalid metric name `{0}`")]
    InvalidMetricName(String),
}

/// Whether `name` matches Prometheus' label name grammar `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Metric names additionally allow `:` (recording rules use it).
fn is_valid_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// A set of labels identifying one series.
///
/// **Invariant:** sorted by name, names unique and valid, no empty values (an empty value means
/// "label absent", as in Prometheus). Only [`LabelsBuilder`] and [`Labels::from_pairs`] build one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize)]
pub struct Labels(Vec<Label>);

impl Labels {
    /// Builds a label set from pairs in any order, validating names.
    pub fn from_pairs<N, V>(pairs: impl IntoIterator<Item = (N, V)>) -> Result<Self, LabelError>
    where
        N: Into<String>,
        V: Into<String>,
    {
        let mut b = LabelsBuilder::default();
        for (n, v) in pairs {
            b.push(n, v);
        }
        b.build()
    }

    pub fn empty() -> Self {
        Self(Vec::new())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].value.as_str())
    }

    /// The value of `__name__`, if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Label> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// The stable identity of this label set.
    pub fn series_id(&self) -> SeriesId {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for l in &self.0 {
            // 0xff cannot occur in UTF-8, so it separates fields unambiguously.
            h.update(l.name.as_bytes());
            h.update(&[0xff]);
            h.update(l.value.as_bytes());
            h.update(&[0xff]);
        }
        SeriesId(h.digest())
    }

    /// A copy without the given label names (e.g. `__name__` after `rate`).
    pub fn without(&self, names: &[&str]) -> Self {
        Self(
            self.0
                .iter()
                .filter(|l| !names.contains(&l.name.as_str()))
                .cloned()
                .collect(),
        )
    }

    /// A copy keeping only the given label names.
    pub fn keep_only(&self, names: &[&str]) -> Self {
        Self(
            self.0
                .iter()
                .filter(|l| names.contains(&l.name.as_str()))
                .cloned()
                .collect(),
        )
    }

    /// A copy with `name` set to `value` (removed when `value` is empty). `name` must be valid.
    pub fn with(&self, name: &str, value: &str) -> Self {
        let mut v = self.0.clone();
        match v.binary_search_by(|l| l.name.as_str().cmp(name)) {
            Ok(i) if value.is_empty() => {
                v.remove(i);
            }
            Ok(i) => v[i].value = value.to_string(),
            Err(_) if value.is_empty() => {}
            Err(i) => v.insert(i, Label::new(name, value)),
        }
        Self(v)
    }

    /// Total bytes of names and values, used for size limits.
    pub fn byte_len(&self) -> usize {
        self.0.iter().map(|l| l.name.len() + l.value.len()).sum()
    }
}

impl fmt::Display for Labels {
    /// Prometheus' notation: `name{a="1", b="2"}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.metric_name() {
            f.write_str(n)?;
        }
        f.write_str("{")?;
        let mut first = true;
        for l in self.0.iter().filter(|l| l.name != METRIC_NAME) {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{}={:?}", l.name, l.value)?;
        }
        f.write_str("}")
    }
}

impl<'de> serde::Deserialize<'de> for Labels {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v: Vec<Label> = Vec::deserialize(d)?;
        Labels::from_pairs(v.into_iter().map(|l| (l.name, l.value)))
            .map_err(serde::de::Error::custom)
    }
}

/// Collects pairs and validates them once in [`LabelsBuilder::build`].
#[derive(Debug, Default, Clone)]
pub struct LabelsBuilder(Vec<Label>);

impl LabelsBuilder {
    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.0.push(Label::new(name, value));
        self
    }

    pub fn build(mut self) -> Result<Labels, LabelError> {
        for l in &self.0 {
            if l.name.is_empty() {
                return Err(LabelError::EmptyName);
            }
            if !is_valid_label_name(&l.name) {
                return Err(LabelError::InvalidName(l.name.clone()));
            }
            if l.name == METRIC_NAME && !l.value.is_empty() && !is_valid_metric_name(&l.value) {
                return Err(LabelError::InvalidMetricName(l.value.clone()));
            }
        }
        self.0.sort_by(|a, b| a.name.cmp(&b.name));
        for w in self.0.windows(2) {
            if w[0].name == w[1].name {
                return Err(LabelError::DuplicateName(w[0].name.clone()));
            }
        }
        self.0.retain(|l| !l.value.is_empty());
        Ok(Labels(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_lookup() {
        let l =
            Labels::from_pairs([("job", "node"), ("__name__", "up"), ("instance", "a:1")]).unwrap();
        let names: Vec<_> = l.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["__name__", "instance", "job"]);
        assert_eq!(l.get("job"), Some("node"));
        assert_eq!(l.get("nope"), None);
        assert_eq!(l.metric_name(), Some("up"));
        assert_eq!(l.to_string(), r#"up{instance="a:1", job="node"}"#);
    }

    #[test]
    fn rejects_bad_names() {
        assert_eq!(Labels::from_pairs([("", "x")]), Err(LabelError::EmptyName));
        assert_eq!(
            Labels::from_pairs([("a-b", "x")]),
            Err(LabelError::InvalidName("a-b".into()))
        );
        assert_eq!(
            Labels::from_pairs([("1a", "x")]),
            Err(LabelError::InvalidName("1a".into()))
        );
        assert_eq!(
            Labels::from_pairs([("a", "x"), ("a", "y")]),
            Err(LabelError::DuplicateName("a".into()))
        );
        assert_eq!(
            Labels::from_pairs([("__name__", "bad metric")]),
            Err(LabelError::InvalidMetricName("bad metric".into()))
        );
    }

    #[test]
    fn empty_values_are_absent() {
        let a = Labels::from_pairs([("a", "1"), ("b", "")]).unwrap();
        let b = Labels::from_pairs([("a", "1")]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.series_id(), b.series_id());
    }

    #[test]
    fn series_id_is_order_independent_and_distinguishes_boundaries() {
        let a = Labels::from_pairs([("a", "1"), ("b", "2")]).unwrap();
        let b = Labels::from_pairs([("b", "2"), ("a", "1")]).unwrap();
        assert_eq!(a.series_id(), b.series_id());
        let c = Labels::from_pairs([("a", "12")]).unwrap();
        let d = Labels::from_pairs([("a", "1"), ("b", "2")]).unwrap();
        assert_ne!(c.series_id(), d.series_id());
        // Pinned: the id is persisted, so its encoding must never drift.
        assert_eq!(
            Labels::from_pairs([("__name__", "up")])
                .unwrap()
                .series_id()
                .0,
            {
                let mut h = xxhash_rust::xxh3::Xxh3::new();
                h.update(b"__name__\xffup\xff");
                h.digest()
            }
        );
    }

    #[test]
    fn with_and_without() {
        let l = Labels::from_pairs([("__name__", "x"), ("a", "1")]).unwrap();
        assert_eq!(l.without(&[METRIC_NAME]).len(), 1);
        assert_eq!(l.with("b", "2").get("b"), Some("2"));
        assert_eq!(l.with("a", "").get("a"), None);
        assert_eq!(l.keep_only(&["a"]).as_slice(), &[Label::new("a", "1")]);
    }

    proptest::proptest! {
        #[test]
        fn builder_never_panics(pairs in proptest::collection::vec((".{0,6}", ".{0,6}"), 0..8)) {
            let _ = Labels::from_pairs(pairs);
        }
    }
}
