//! Series selectors written in PromQL (`up{job="node"}`), as config and API parameters use them.

use hush_model::{MatchOp, Matcher};

/// Parses a series selector into matchers; errors say what is wrong with the text.
pub fn parse(s: &str) -> Result<Vec<Matcher>, String> {
    let expr =
        promql_parser::parser::parse(s).map_err(|e| format!("invalid selector `{s}`: {e}"))?;
    let promql_parser::parser::Expr::VectorSelector(vs) = expr else {
        return Err(format!("`{s}` is not a series selector"));
    };
    let mut out = Vec::new();
    if let Some(name) = vs.name {
        out.push(Matcher::equal("__name__", name));
    }
    for m in vs.matchers.matchers {
        let op = match m.op {
            promql_parser::label::MatchOp::Equal => MatchOp::Equal,
            promql_parser::label::MatchOp::NotEqual => MatchOp::NotEqual,
            promql_parser::label::MatchOp::Re(_) => MatchOp::Regex,
            promql_parser::label::MatchOp::NotRe(_) => MatchOp::NotRegex,
        };
        out.push(Matcher::new(op, m.name, m.value).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn selectors() {
        assert_eq!(
            super::parse(r#"up{job=~"n.*",instance!="a"}"#)
                .unwrap()
                .len(),
            3
        );
        assert!(super::parse("rate(x[5m])").is_err());
        assert!(super::parse("{").is_err());
    }
}
