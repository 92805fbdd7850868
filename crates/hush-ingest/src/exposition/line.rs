//! Tokenising one line of exposition text. Positions are byte offsets into the line; the caller
//! turns them into 1-based character columns only when reporting an error.

/// A problem at a byte offset of the current line.
#[derive(Debug)]
pub(super) struct LineError {
    pub(super) pos: usize,
    pub(super) message: String,
}

type Result<T> = std::result::Result<T, LineError>;

/// A sample line: `name{labels} value [timestamp] [# exemplar]`.
#[derive(Debug)]
pub(super) struct SampleLine<'a> {
    pub(super) name: &'a str,
    pub(super) labels: Vec<(String, String)>,
    pub(super) value: f64,
    /// Milliseconds, already converted from OpenMetrics' float seconds.
    pub(super) timestamp: Option<i64>,
}

/// A cursor over one line.
pub(super) struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(s: &'a str, pos: usize) -> Self {
        Self { s, pos }
    }

    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T> {
        Err(LineError {
            pos: self.pos,
            message: message.into(),
        })
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// Skips spaces and tabs; whether any were skipped.
    pub(super) fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// The rest of the line from the cursor.
    pub(super) fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    /// A name: `[a-zA-Z_:][a-zA-Z0-9_:]*` for metrics, without `:` for labels. May be empty.
    pub(super) fn name(&mut self, metric: bool) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            let ok = b.is_ascii_alphabetic()
                || b == b'_'
                || (metric && b == b':')
                || (self.pos > start && b.is_ascii_digit());
            if !ok {
                break;
            }
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// A run of non-blank characters.
    pub(super) fn token(&mut self) -> &'a str {
        let start = self.pos;
        while !matches!(self.peek(), None | Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// A double-quoted label value after its opening quote, unescaping `\\`, `\"` and `\n`.
    /// Other escapes are kept verbatim, as Prometheus does.
    fn quoted(&mut self) -> Result<String> {
        let bytes = self.s.as_bytes();
        let start = self.pos;
        let mut out: Option<String> = None;
        let mut chunk = start;
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b'"' => {
                    let tail = &self.s[chunk..self.pos];
                    self.pos += 1;
                    return Ok(match out {
                        Some(mut o) => {
                            o.push_str(tail);
                            o
                        }
                        None => tail.to_string(),
                    });
                }
                b'\\' => {
                    let o = out.get_or_insert_with(String::new);
                    o.push_str(&self.s[chunk..self.pos]);
                    match bytes.get(self.pos + 1) {
                        Some(b'\\') => o.push('\\'),
                        Some(b'"') => o.push('"'),
                        Some(b'n') => o.push('\n'),
                        // Keep the backslash; the escaped character is copied with the next chunk.
                        Some(_) => {
                            o.push('\\');
                            self.pos += 1;
                            chunk = self.pos;
                            continue;
                        }
                        None => break,
                    }
                    self.pos += 2;
                    chunk = self.pos;
                }
                _ => self.pos += 1,
            }
        }
        Err(LineError {
            pos: start.saturating_sub(1),
            message: "unterminated label value".into(),
        })
    }

    /// `{name="value", ...}` after the opening brace; a trailing comma is allowed.
    fn label_set(&mut self, out: &mut Vec<(String, String)>) -> Result<()> {
        loop {
            self.skip_ws();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(());
            }
            let name = self.name(false);
            if name.is_empty() {
                return self.error("expected label name");
            }
            self.skip_ws();
            if self.peek() != Some(b'=') {
                return self.error(format!("expected `=` after label name `{name}`"));
            }
            self.pos += 1;
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return self.error(format!("expected `\"` to open the value of label `{name}`"));
            }
            self.pos += 1;
            let value = self.quoted()?;
            out.push((name.to_string(), value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                _ => return self.error("expected `,` or `}` after label value"),
            }
        }
    }

    /// Parses a whole sample line from the cursor (which sits on the metric name).
    pub(super) fn sample(&mut self, open_metrics: bool) -> Result<SampleLine<'a>> {
        let name = self.name(true);
        if name.is_empty() {
            return self.error("expected metric name");
        }
        let mut labels = Vec::new();
        if self.peek() == Some(b'{') {
            self.pos += 1;
            self.label_set(&mut labels)?;
        }
        if !self.skip_ws() {
            return if self.at_end() {
                self.error("expected value")
            } else {
                self.error("expected space before value")
            };
        }
        let at = self.pos;
        let tok = self.token();
        let value = parse_value(tok).ok_or(LineError {
            pos: at,
            message: format!("invalid value `{tok}`"),
        })?;
        self.skip_ws();
        let mut timestamp = None;
        if !self.at_end() && self.peek() != Some(b'#') {
            let at = self.pos;
            let tok = self.token();
            let ts = if open_metrics {
                seconds_to_ms(tok)
            } else {
                tok.parse::<i64>().ok()
            };
            timestamp = Some(ts.ok_or(LineError {
                pos: at,
                message: format!("invalid timestamp `{tok}`"),
            })?);
            self.skip_ws();
        }
        // An exemplar (`# {labels} value [timestamp]`) is skipped: Hush stores no exemplars.
        if !self.at_end() && self.peek() != Some(b'#') {
            return self.error("unexpected text after sample");
        }
        Ok(SampleLine {
            name,
            labels,
            value,
            timestamp,
        })
    }
}

/// Go's `strconv.ParseFloat` spellings that matter here: decimals, exponents, `NaN`, `±Inf`.
fn parse_value(tok: &str) -> Option<f64> {
    tok.parse::<f64>().ok()
}

/// OpenMetrics timestamps are float seconds; Hush keeps integer milliseconds.
fn seconds_to_ms(tok: &str) -> Option<i64> {
    let s = tok.parse::<f64>().ok()?;
    let ms = (s * 1000.0).round();
    // i64::MAX as f64 rounds up to 2^63, so compare with a strict bound.
    (ms.is_finite() && ms >= i64::MIN as f64 && ms < i64::MAX as f64).then_some(ms as i64)
}
