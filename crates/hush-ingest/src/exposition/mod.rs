//! The Prometheus text format 0.0.4 and OpenMetrics 1.0, parsed by hand.
//!
//! Handled: comments, `# HELP`/`# TYPE`/`# UNIT`, every OpenMetrics type, escaped label values
//! (`\\`, `\"`, `\n`; other escapes are kept verbatim like Prometheus does), label values holding
//! `}` or `,`, trailing commas in label sets, optional timestamps (integer milliseconds in the
//! text format, float seconds in OpenMetrics), `NaN`/`+Inf`/`-Inf`, exemplars (skipped), CRLF line
//! ends and OpenMetrics' `# EOF` (nothing but blank lines may follow it).
//!
//! `_created` samples of counters, histograms, summaries and gauge histograms are skipped: they
//! carry a start time, not a measurement, and would otherwise become series of epoch seconds. Samples naming the same series twice are merged; at a repeated timestamp the first
//! wins. UTF-8 metric names in quotes (`{"my.metric"}`) are refused: Hush's label names follow
//! the classic grammar.

mod line;

use crate::IngestError;
use crate::limits::Limits;
use crate::series::SeriesSet;
use hush_model::{METRIC_NAME, TimeSeries};
use line::{Cursor, LineError};
use std::collections::HashMap;

/// Which dialect a document is in; it decides how timestamps are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4: timestamps in integer milliseconds.
    Text,
    /// OpenMetrics 1.0: timestamps in float seconds, ends with `# EOF`.
    OpenMetrics,
}

impl Format {
    /// OpenMetrics when the last non-blank line is `# EOF` (OpenMetrics requires it), else text.
    pub fn detect(text: &str) -> Format {
        match text.trim_end().rsplit('\n').next() {
            Some(last) if last.trim() == "# EOF" => Format::OpenMetrics,
            _ => Format::Text,
        }
    }

    /// The format a scrape's `Content-Type` announces, if it names one.
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Some(Format::OpenMetrics)
        } else if media.eq_ignore_ascii_case("text/plain") {
            Some(Format::Text)
        } else {
            None
        }
    }
}

/// A metric family's declared type (`untyped` is read as [`MetricType::Unknown`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    Unknown,
}

impl MetricType {
    fn parse(s: &str) -> Option<MetricType> {
        Some(match s {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "summary" => MetricType::Summary,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            "untyped" | "unknown" => MetricType::Unknown,
            _ => return None,
        })
    }

    /// Whether the family's `_created` samples are start times rather than values.
    fn has_created(self) -> bool {
        matches!(
            self,
            MetricType::Counter
                | MetricType::Histogram
                | MetricType::Summary
                | MetricType::GaugeHistogram
        )
    }
}

/// What `# HELP`, `# TYPE` and `# UNIT` said about one metric family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub name: String,
    pub kind: MetricType,
    pub help: Option<String>,
    pub unit: Option<String>,
}

/// A parsed document: its series and the families' metadata in order of first mention.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exposition {
    pub series: Vec<TimeSeries>,
    pub metadata: Vec<Metadata>,
}

/// Parses a scrape body, detecting the format with [`Format::detect`]; samples without a
/// timestamp get `default_ts_ms`.
pub fn parse(
    text: &str,
    default_ts_ms: i64,
    limits: &Limits,
) -> Result<Vec<TimeSeries>, IngestError> {
    Ok(parse_document(text, Format::detect(text), default_ts_ms, limits)?.series)
}

/// Parses a document in a known format, keeping metadata. Errors name the line and column
/// (1-based, in characters).
pub fn parse_document(
    text: &str,
    format: Format,
    default_ts_ms: i64,
    limits: &Limits,
) -> Result<Exposition, IngestError> {
    limits.check_size(text.len() as u64)?;
    let om = format == Format::OpenMetrics;
    let mut set = SeriesSet::new(limits);
    let mut meta: Vec<Metadata> = Vec::new();
    let mut meta_index: HashMap<String, usize> = HashMap::new();
    // The family the last metadata line named; samples following it belong to it.
    let mut family: Option<usize> = None;
    let mut eof_at: Option<usize> = None;

    for (i, raw) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let mut cur = Cursor::new(line, 0);
        cur.skip_ws();
        if cur.at_end() {
            continue;
        }
        if let Some(eof) = eof_at {
            return Err(error(
                line,
                line_no,
                cur.pos(),
                format!("content after `# EOF` on line {eof}"),
            ));
        }
        if cur.rest().starts_with('#') {
            let Some(m) = comment(&mut cur).map_err(|e| error(line, line_no, e.pos, e.message))?
            else {
                continue;
            };
            match m {
                Meta::Eof if om => eof_at = Some(line_no),
                Meta::Eof => {}
                Meta::Family {
                    keyword,
                    name,
                    text,
                } => {
                    let idx = *meta_index.entry(name.to_string()).or_insert_with(|| {
                        meta.push(Metadata {
                            name: name.to_string(),
                            kind: MetricType::Unknown,
                            help: None,
                            unit: None,
                        });
                        meta.len() - 1
                    });
                    let m = &mut meta[idx];
                    match keyword {
                        "HELP" => m.help = Some(unescape_help(text)),
                        "UNIT" => m.unit = Some(text.to_string()),
                        _ => {
                            m.kind = MetricType::parse(text).ok_or_else(|| {
                                error(
                                    line,
                                    line_no,
                                    offset(line, text),
                                    format!("unknown metric type `{text}`"),
                                )
                            })?
                        }
                    }
                    family = Some(idx);
                }
            }
            continue;
        }
        let s = cur
            .sample(om)
            .map_err(|e| error(line, line_no, e.pos, e.message))?;
        if let Some(f) = family.map(|i| &meta[i])
            && f.kind.has_created()
            && s.name.strip_suffix("_created") == Some(f.name.as_str())
        {
            continue;
        }
        let mut pairs = Vec::with_capacity(s.labels.len() + 1);
        pairs.push((METRIC_NAME.to_string(), s.name.to_string()));
        pairs.extend(s.labels);
        set.push_pairs(pairs, s.timestamp.unwrap_or(default_ts_ms), s.value)
            .map_err(|e| e.at_line(line_no))?;
    }
    if om && eof_at.is_none() {
        // A missing `# EOF` is how a truncated OpenMetrics body shows.
        let last = text.split('\n').count();
        return Err(IngestError::BadExposition {
            line: last,
            column: 1,
            message: "missing `# EOF`".into(),
        });
    }
    Ok(Exposition {
        series: set.finish(),
        metadata: meta,
    })
}

/// A metadata comment.
enum Meta<'a> {
    Eof,
    Family {
        keyword: &'a str,
        name: &'a str,
        text: &'a str,
    },
}

/// Reads a `#` line: `Some` for `# EOF` and `# HELP|TYPE|UNIT name text`, `None` for others.
fn comment<'a>(cur: &mut Cursor<'a>) -> Result<Option<Meta<'a>>, LineError> {
    let rest = cur.rest();
    if rest.trim_end() == "# EOF" {
        return Ok(Some(Meta::Eof));
    }
    let mut c = Cursor::new(rest, 1);
    c.skip_ws();
    let keyword = c.token();
    if !matches!(keyword, "HELP" | "TYPE" | "UNIT") || (!c.skip_ws() && !c.at_end()) {
        return Ok(None);
    }
    let at = cur.pos() + c.pos();
    let name = c.name(true);
    if name.is_empty() {
        return Err(LineError {
            pos: at,
            message: format!("expected metric name after `# {keyword}`"),
        });
    }
    let after = c.pos();
    c.skip_ws();
    if c.pos() == after && !c.at_end() {
        return Err(LineError {
            pos: cur.pos() + after,
            message: "expected space after metric name".into(),
        });
    }
    Ok(Some(Meta::Family {
        keyword,
        name,
        text: c.rest().trim_end(),
    }))
}

/// HELP text escapes `\\` and `\n` (and `\"` in OpenMetrics).
fn unescape_help(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(n @ ('\\' | '"'))) => {
                out.push(n);
                chars.next();
            }
            ('\\', Some('n')) => {
                out.push('\n');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// The byte offset of `part` within `line` (`part` is a subslice of it).
fn offset(line: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(line.as_ptr() as usize)
}

/// A syntax error at a byte offset of `line`, reported with a 1-based character column.
fn error(line: &str, line_no: usize, pos: usize, message: String) -> IngestError {
    let pos = pos.min(line.len());
    let column = line.char_indices().take_while(|&(i, _)| i < pos).count() + 1;
    IngestError::BadExposition {
        line: line_no,
        column,
        message,
    }
}

#[cfg(test)]
mod tests;
