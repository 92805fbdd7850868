//! `hush logs parse`: mine a log file into templates, file to file.
//!
//! The file is read twice: the first pass learns the templates, the second writes every line
//! with its template's final (most general) text and the parameters extracted against it, so
//! the output matches what the miner knows at the end. Standard input is kept in memory
//! instead of being read twice.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use hush_logs::{LineFormat, Miner, MinerConfig, MinerState, TemplateId};

use crate::progress;

/// Arguments of `hush logs parse`.
#[derive(Debug, clap::Args)]
pub struct ParseArgs {
    /// Log file to read, `-` for standard input.
    #[arg(long)]
    pub input: String,
    /// Line format, e.g. `<Date> <Time> <Level> <Component>: <Content>`; without it the whole
    /// line is mined.
    #[arg(long)]
    pub format: Option<String>,
    /// CSV to write: `LineId,EventId,EventTemplate,ParameterList`.
    #[arg(long)]
    pub output: PathBuf,
    /// Also write `EventId,EventTemplate,Occurrences` here.
    #[arg(long)]
    pub templates: Option<PathBuf>,
    /// Miner state (JSON): loaded if the file exists, saved after mining, so ids carry over
    /// between runs.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Miner similarity threshold.
    #[arg(long)]
    pub similarity: Option<f64>,
    /// Cap on templates kept (rarest evicted past it).
    #[arg(long)]
    pub max_templates: Option<usize>,
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseSummary {
    /// Lines read.
    pub lines: u64,
    /// Lines that did not match `--format` (mined whole).
    pub unmatched: u64,
    /// Templates at the end.
    pub templates: usize,
    /// Templates evicted by the cap.
    pub evicted: u64,
}

/// Runs the command and prints a summary to standard error.
pub fn run(args: ParseArgs) -> Result<()> {
    let s = parse(&args)?;
    eprintln!(
        "{} lines, {} templates, {} lines not matching the format (mined whole), {} templates evicted",
        s.lines, s.templates, s.unmatched, s.evicted
    );
    Ok(())
}

/// Mines `args.input` into `args.output`.
pub fn parse(args: &ParseArgs) -> Result<ParseSummary> {
    let format = args.format.as_deref().map(LineFormat::new).transpose()?;
    let mut miner = match &args.state {
        Some(p) if p.exists() => {
            let f =
                File::open(p).with_context(|| format!("failed to open state `{}`", p.display()))?;
            let state: MinerState = serde_json::from_reader(BufReader::new(f))
                .with_context(|| format!("failed to read state `{}`", p.display()))?;
            Miner::from_state(state)?
        }
        _ => {
            let mut config = MinerConfig::default();
            if let Some(s) = args.similarity {
                config.similarity = s;
            }
            if let Some(m) = args.max_templates {
                config.max_templates = m;
            }
            Miner::new(config)?
        }
    };
    let stdin_lines = if args.input == "-" {
        let mut buf = Vec::new();
        std::io::stdin().lock().read_to_end(&mut buf)?;
        Some(buf)
    } else {
        None
    };
    let content = |line: &str| -> Option<String> {
        let f = format.as_ref()?;
        f.split(line).map(|s| s.content.to_string())
    };

    // Pass 1: learn.
    let mut ids: Vec<TemplateId> = Vec::new();
    let mut unmatched = 0u64;
    for_each_line(&args.input, stdin_lines.as_deref(), "mining", |line| {
        let c = content(line);
        if format.is_some() && c.is_none() {
            unmatched += 1;
        }
        ids.push(miner.add(c.as_deref().unwrap_or(line)).id);
    })?;

    // Pass 2: write with final templates.
    let out = File::create(&args.output)
        .with_context(|| format!("failed to create `{}`", args.output.display()))?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(out));
    w.write_record(["LineId", "EventId", "EventTemplate", "ParameterList"])?;
    let mut n = 0usize;
    let mut failed: Option<anyhow::Error> = None;
    for_each_line(&args.input, stdin_lines.as_deref(), "writing", |line| {
        let Some(&id) = ids.get(n) else { return };
        n += 1;
        let c = content(line);
        let c = c.as_deref().unwrap_or(line);
        let id = miner.resolve(id);
        let (text, params) = match miner.template(id) {
            Some(t) => (t.text(), miner.params_of(id, c).unwrap_or_default()),
            None => (String::new(), Vec::new()), // evicted by the cap
        };
        let params = serde_json::to_string(&params).unwrap_or_default();
        if let Err(e) = w.write_record([&n.to_string(), &id.to_string(), &text, &params]) {
            failed.get_or_insert(e.into());
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    w.flush()?;

    if let Some(p) = &args.templates {
        let mut tw = csv::Writer::from_path(p)
            .with_context(|| format!("failed to create `{}`", p.display()))?;
        tw.write_record(["EventId", "EventTemplate", "Occurrences"])?;
        let mut ts: Vec<_> = miner.templates().collect();
        ts.sort_by_key(|t| t.id);
        for t in ts {
            tw.write_record([t.id.to_string(), t.text(), t.count.to_string()])?;
        }
        tw.flush()?;
    }
    if let Some(p) = &args.state {
        let f =
            File::create(p).with_context(|| format!("failed to create state `{}`", p.display()))?;
        let mut f = std::io::BufWriter::new(f);
        serde_json::to_writer(&mut f, &miner.state())?;
        f.flush()?;
    }
    let stats = miner.stats();
    Ok(ParseSummary {
        lines: ids.len() as u64,
        unmatched,
        templates: miner.len(),
        evicted: stats.evicted,
    })
}

/// Calls `f` on every line (lossily decoded, trailing `\r` removed) of the file or buffer.
fn for_each_line(
    input: &str,
    buffered: Option<&[u8]>,
    what: &str,
    mut f: impl FnMut(&str),
) -> Result<()> {
    let (reader, len): (Box<dyn BufRead + '_>, u64) = match buffered {
        Some(b) => (Box::new(b), b.len() as u64),
        None => {
            let file = File::open(input).with_context(|| format!("failed to open `{input}`"))?;
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            (Box::new(BufReader::with_capacity(1 << 20, file)), len)
        }
    };
    let bar = progress::bar(len, what);
    let mut reader = reader;
    let mut buf = Vec::with_capacity(4096);
    let mut done = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("failed to read `{input}`"))?;
        if n == 0 {
            break;
        }
        done += n as u64;
        if done & 0xFFFF < n as u64 {
            bar.set_position(done);
        }
        let mut line = &buf[..];
        if let Some(l) = line.strip_suffix(b"\n") {
            line = l;
        }
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        f(&String::from_utf8_lossy(line));
    }
    bar.finish_and_clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &std::path::Path, input: &str, format: Option<&str>) -> ParseArgs {
        ParseArgs {
            input: input.to_string(),
            format: format.map(str::to_string),
            output: dir.join("out.csv"),
            templates: Some(dir.join("templates.csv")),
            state: Some(dir.join("state.json")),
            similarity: None,
            max_templates: None,
        }
    }

    #[test]
    fn writes_final_templates_counts_unmatched_lines_and_keeps_ids_across_runs() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("in.log");
        let lines = b"2024-01-01 10:00:00 INFO conn: opened 10.0.0.1:80\r\n\
                     2024-01-01 10:00:01 INFO conn: opened 10.0.0.2:81\n\
                     garbage without the header\n\
                     2024-01-01 10:00:02 WARN conn: closed \xff after 3 ms\n";
        std::fs::write(&log, lines).unwrap();
        let a = args(
            dir.path(),
            log.to_str().unwrap(),
            Some("<Date> <Time> <Level> <Component>: <Content>"),
        );
        let s = parse(&a).unwrap();
        assert_eq!(s.lines, 4);
        assert_eq!(s.unmatched, 1);
        let out = std::fs::read_to_string(&a.output).unwrap();
        let rows: Vec<&str> = out.lines().collect();
        assert_eq!(rows[0], "LineId,EventId,EventTemplate,ParameterList");
        assert!(rows[1].starts_with("1,T1,opened <*>:<*>,"), "{}", rows[1]);
        assert!(rows[2].starts_with("2,T1,opened <*>:<*>,"), "{}", rows[2]);
        assert!(
            rows[3].starts_with("3,T2,garbage without the header,"),
            "{}",
            rows[3]
        );
        assert!(rows[4].starts_with("4,T3,closed"), "{}", rows[4]);
        // A second run resumes the saved state: the same lines get the same ids.
        let again = parse(&a).unwrap();
        assert_eq!(again.templates, s.templates);
        assert_eq!(std::fs::read_to_string(&a.output).unwrap(), out);
    }
}
