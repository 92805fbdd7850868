use crate::Labels;

/// How a [`Matcher`] compares a label's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`, fully anchored as in Prometheus
    Regex,
    /// `!~`, fully anchored as in Prometheus
    NotRegex,
}

/// Why a matcher could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid regex `{pattern}` for label `{name}`: {reason}")]
pub struct MatcherError {
    pub name: String,
    pub pattern: String,
    pub reason: String,
}

/// One label matcher of a series selector, e.g. `job=~"node|api"`.
///
/// A missing label has the value `""`, so `foo=""` matches series without `foo`, exactly as in
/// Prometheus.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    regex: Option<regex::Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let name = name.into();
        let value = value.into();
        let regex = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(
                regex::Regex::new(&format!("^(?s:{value})$")).map_err(|e| MatcherError {
                    name: name.clone(),
                    pattern: value.clone(),
                    reason: e.to_string(),
                })?,
            ),
            _ => None,
        };
        Ok(Self {
            name,
            op,
            value,
            regex,
        })
    }

    /// `name="value"`; cannot fail.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
            regex: None,
        }
    }

    /// Whether a label value (`""` when absent) satisfies this matcher.
    pub fn matches_value(&self, v: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Equal, _) => v == self.value,
            (MatchOp::NotEqual, _) => v != self.value,
            (MatchOp::Regex, Some(r)) => r.is_match(v),
            (MatchOp::NotRegex, Some(r)) => !r.is_match(v),
            // Unreachable by construction; treat as no match rather than panic.
            (MatchOp::Regex | MatchOp::NotRegex, None) => false,
        }
    }

    /// Whether this matcher accepts the empty string, i.e. also series lacking the label.
    pub fn matches_empty(&self) -> bool {
        self.matches_value("")
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.matches_value(labels.get(&self.name).unwrap_or(""))
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.op {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        };
        write!(f, "{}{}{:?}", self.name, op, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops() {
        let l = Labels::from_pairs([("job", "node"), ("env", "prod")]).unwrap();
        assert!(Matcher::equal("job", "node").matches(&l));
        assert!(
            !Matcher::new(MatchOp::NotEqual, "job", "node")
                .unwrap()
                .matches(&l)
        );
        assert!(
            Matcher::new(MatchOp::Regex, "job", "no.*")
                .unwrap()
                .matches(&l)
        );
        // anchored: a partial match is no match
        assert!(
            !Matcher::new(MatchOp::Regex, "job", "od")
                .unwrap()
                .matches(&l)
        );
        assert!(
            Matcher::new(MatchOp::NotRegex, "job", "api|db")
                .unwrap()
                .matches(&l)
        );
        // missing label reads as ""
        assert!(Matcher::equal("zone", "").matches(&l));
        assert!(
            !Matcher::new(MatchOp::Regex, "zone", ".+")
                .unwrap()
                .matches(&l)
        );
    }

    #[test]
    fn bad_regex_is_an_error() {
        let e = Matcher::new(MatchOp::Regex, "job", "(").unwrap_err();
        assert_eq!(e.name, "job");
    }
}
