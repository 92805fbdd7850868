//! Line formats: `<Field>` placeholders, literal text, optional `(...)?` parts.
//!
//! A format such as `<Date> <Time> <Level> <Component>: <Content>` is compiled once into an
//! anchored regular expression in which every field takes the shortest text that lets the rest
//! of the line match, a run of spaces matches one or more whitespace characters, and the last
//! field (normally `<Content>`) takes what remains. This is the splitting rule of the Loghub
//! benchmark configuration, so the extracted `Content` equals the published one.

use regex::Regex;

use crate::error::FormatError;

/// The field that holds the message to mine.
pub const CONTENT_FIELD: &str = "Content";

/// A compiled line format.
#[derive(Debug, Clone)]
pub struct LineFormat {
    source: String,
    fields: Vec<String>,
    content_group: usize,
    regex: Regex,
}

/// The fields of one line split by a [`LineFormat`], borrowed from the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitLine<'a> {
    /// `(field name, value)` in format order; absent optional fields are left out.
    pub fields: Vec<(&'a str, &'a str)>,
    /// The `<Content>` field.
    pub content: &'a str,
}

impl LineFormat {
    /// Compiles `format`. It must contain a `<Content>` field and no field twice.
    pub fn new(format: &str) -> Result<Self, FormatError> {
        let mut fields = Vec::new();
        let chars: Vec<char> = format.chars().collect();
        let body = compile(&chars, 0, chars.len(), &mut fields, format)?;
        let content_group = fields
            .iter()
            .position(|f| f == CONTENT_FIELD)
            .ok_or_else(|| FormatError::NoContent {
                format: format.to_string(),
            })?;
        for (i, f) in fields.iter().enumerate() {
            if fields[..i].contains(f) {
                return Err(FormatError::DuplicateField {
                    format: format.to_string(),
                    field: f.clone(),
                });
            }
        }
        let regex = Regex::new(&format!("^(?s:{body})$")).map_err(|e| FormatError::Regex {
            format: format.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            source: format.to_string(),
            fields,
            content_group,
            regex,
        })
    }

    /// The format text this was compiled from.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The field names in format order.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Splits `line` (surrounding whitespace ignored), or `None` when it does not match.
    pub fn split<'a>(&'a self, line: &'a str) -> Option<SplitLine<'a>> {
        let line = line.trim();
        let caps = self.regex.captures(line)?;
        let mut fields = Vec::with_capacity(self.fields.len());
        let mut content = "";
        for (i, name) in self.fields.iter().enumerate() {
            if let Some(m) = caps.get(i + 1) {
                fields.push((name.as_str(), m.as_str()));
                if i == self.content_group {
                    content = m.as_str();
                }
            }
        }
        Some(SplitLine { fields, content })
    }
}

/// Translates `chars[start..end]` into regex syntax, collecting field names in order.
fn compile(
    chars: &[char],
    start: usize,
    end: usize,
    fields: &mut Vec<String>,
    format: &str,
) -> Result<String, FormatError> {
    let mut out = String::new();
    let mut i = start;
    while i < end {
        let c = chars[i];
        if c == '<'
            && let Some(close) = (i + 1..end).find(|&j| chars[j] == '>')
        {
            let name: String = chars[i + 1..close].iter().collect();
            if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                // Every field is lazy: with the closing `$` the last one still takes the
                // rest of the line, and the benchmark's splitting rule is reproduced.
                out.push_str("(.*?)");
                fields.push(name);
                i = close + 1;
                continue;
            }
        }
        if c == ' ' {
            while i < end && chars[i] == ' ' {
                i += 1;
            }
            out.push_str(r"\s+");
            continue;
        }
        if c == '('
            && let Some(close) = matching_paren(chars, i, end)
            && close + 1 < end
            && chars[close + 1] == '?'
        {
            let inner = compile(chars, i + 1, close, fields, format)?;
            out.push_str("(?:");
            out.push_str(&inner);
            out.push_str(")?");
            i = close + 2;
            continue;
        }
        let mut buf = [0u8; 4];
        out.push_str(&regex::escape(c.encode_utf8(&mut buf)));
        i += 1;
    }
    if out.len() > 64 * 1024 {
        return Err(FormatError::TooLong {
            format: format.to_string(),
        });
    }
    Ok(out)
}

/// The index of the `)` closing the `(` at `open`, counting nested parentheses.
fn matching_paren(chars: &[char], open: usize, end: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, &c) in chars.iter().enumerate().take(end).skip(open) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_fields_and_content() {
        let f = LineFormat::new("<Date> <Time> <Level> <Component>: <Content>").unwrap();
        let s = f
            .split("17/06/09 20:10:40 INFO executor.Executor: Running task 0.0: x")
            .unwrap();
        assert_eq!(s.content, "Running task 0.0: x");
        assert_eq!(s.fields[3], ("Component", "executor.Executor"));
    }

    #[test]
    fn runs_of_spaces_match_one_or_more() {
        let f = LineFormat::new("<A>  <B> <Content>").unwrap();
        assert_eq!(f.split("a b   c d").unwrap().content, "c d");
    }

    #[test]
    fn optional_part_with_literal_parentheses() {
        let f = LineFormat::new("<Component>[<PID>]( (<Address>))?: <Content>").unwrap();
        let with = f.split("kernel[0] (0x1): hello").unwrap();
        assert_eq!(with.content, "hello");
        assert!(with.fields.contains(&("Address", "0x1")));
        let without = f.split("kernel[0]: hello: world").unwrap();
        assert_eq!(without.content, "hello: world");
        assert!(!without.fields.iter().any(|(n, _)| *n == "Address"));
    }

    #[test]
    fn non_matching_line_is_none() {
        let f = LineFormat::new("[<Time>] <Content>").unwrap();
        assert!(f.split("no brackets here").is_none());
    }

    #[test]
    fn rejects_format_without_content_or_with_duplicates() {
        assert!(matches!(
            LineFormat::new("<A> <B>"),
            Err(FormatError::NoContent { .. })
        ));
        assert!(matches!(
            LineFormat::new("<A> <A> <Content>"),
            Err(FormatError::DuplicateField { .. })
        ));
    }

    #[test]
    fn regex_metacharacters_are_literal() {
        let f = LineFormat::new("<A>.*+ <Content>").unwrap();
        assert_eq!(f.split("x.*+ y").unwrap().content, "y");
        assert!(f.split("xz y").is_none());
    }
}
