//! `label_replace`, `label_join`, and the labels `absent` invents for a missing series.

use hush_model::{METRIC_NAME, MatchOp, Matcher, is_valid_label_name};

use crate::QueryError;
use crate::eval::Elem;

/// `label_replace(v, dst, replacement, src, regex)`: where the anchored `regex` matches the value
/// of `src`, set `dst` to the expanded `replacement` (`$1`, `${name}`); an empty result removes
/// `dst`. Elements whose `src` does not match pass unchanged.
pub(crate) fn label_replace(
    input: Vec<Elem>,
    dst: &str,
    replacement: &str,
    src: &str,
    regex: &str,
) -> Result<Vec<Elem>, QueryError> {
    let re = regex::Regex::new(&format!("^(?:{regex})$")).map_err(|_| {
        QueryError::InvalidQuery(format!(
            "invalid regular expression in label_replace(): {regex}"
        ))
    })?;
    if !is_valid_label_name(dst) {
        return Err(QueryError::InvalidQuery(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    Ok(input
        .into_iter()
        .map(|mut e| {
            let value = e.labels.get(src).unwrap_or("");
            if let Some(caps) = re.captures(value) {
                let mut res = String::new();
                caps.expand(replacement, &mut res);
                e.labels = e.labels.with(dst, &res);
            }
            e
        })
        .collect())
}

/// `label_join(v, dst, separator, src...)`: `dst` becomes the values of `src` joined.
pub(crate) fn label_join(
    input: Vec<Elem>,
    dst: &str,
    sep: &str,
    srcs: &[String],
) -> Result<Vec<Elem>, QueryError> {
    if !is_valid_label_name(dst) {
        return Err(QueryError::InvalidQuery(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    if let Some(bad) = srcs.iter().find(|s| !is_valid_label_name(s)) {
        return Err(QueryError::InvalidQuery(format!(
            "invalid source label name in label_join(): {bad}"
        )));
    }
    Ok(input
        .into_iter()
        .map(|mut e| {
            let joined: Vec<&str> = srcs.iter().map(|s| e.labels.get(s).unwrap_or("")).collect();
            e.labels = e.labels.with(dst, &joined.join(sep));
            e
        })
        .collect())
}

/// The label set `absent(sel)` answers with: each label an `=` matcher pins exactly once;
/// labels with other matchers, or pinned twice, are left out.
pub(crate) fn absent_labels(matchers: &[Matcher]) -> hush_model::Labels {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut dropped: Vec<&str> = Vec::new();
    for m in matchers.iter().filter(|m| m.name != METRIC_NAME) {
        if m.op == MatchOp::Equal && !pairs.iter().any(|(n, _)| *n == m.name) {
            pairs.push((&m.name, &m.value));
        } else {
            dropped.push(&m.name);
        }
    }
    pairs.retain(|(n, _)| !dropped.contains(n));
    // Names came from the parser's grammar, so this cannot fail; fall back to no labels anyway.
    hush_model::Labels::from_pairs(pairs).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hush_model::Labels;

    fn elem(pairs: &[(&str, &str)]) -> Elem {
        Elem {
            labels: Labels::from_pairs(pairs.iter().copied()).unwrap(),
            v: 1.0,
        }
    }

    #[test]
    fn replace_expands_groups_and_keeps_unmatched() {
        let input = vec![
            elem(&[("instance", "host-1:9100")]),
            elem(&[("instance", "other")]),
        ];
        let out = label_replace(input, "host", "$1", "instance", "(.*):.*").unwrap();
        assert_eq!(out[0].labels.get("host"), Some("host-1"));
        assert_eq!(out[1].labels.get("host"), None);
        // empty replacement deletes dst
        let out = label_replace(vec![elem(&[("a", "x"), ("b", "y")])], "b", "", "a", "x").unwrap();
        assert_eq!(out[0].labels.get("b"), None);
        assert!(label_replace(vec![], "1bad", "", "a", "x").is_err());
        assert!(label_replace(vec![], "ok", "", "a", "(").is_err());
    }

    #[test]
    fn join_concatenates_sources() {
        let out = label_join(
            vec![elem(&[("a", "1"), ("b", "2")])],
            "c",
            "-",
            &["a".into(), "b".into(), "z".into()],
        );
        assert_eq!(out.unwrap()[0].labels.get("c"), Some("1-2-"));
    }

    #[test]
    fn absent_keeps_single_equalities() {
        let m = vec![
            Matcher::equal("__name__", "up"),
            Matcher::equal("job", "a"),
            Matcher::equal("x", "1"),
            Matcher::equal("x", "2"),
            Matcher::new(MatchOp::Regex, "y", "z").unwrap(),
        ];
        assert_eq!(
            absent_labels(&m),
            Labels::from_pairs([("job", "a")]).unwrap()
        );
    }
}
