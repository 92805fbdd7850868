//! Loading one Loghub-2k system: raw lines, their published line format and ground truth.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The line format of each Loghub system, as published with the benchmark's configuration
/// (logpai/logparser), written in our syntax (brackets are literal). This is the benchmark's
/// input format, not a parsing rule: the miner sees only `Content`. The five systems withheld
/// from development are listed so they can be scored unchanged.
pub const FORMATS: &[(&str, &str)] = &[
    (
        "Android",
        "<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>",
    ),
    ("Apache", "[<Time>] [<Level>] <Content>"),
    (
        "BGL",
        "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>",
    ),
    (
        "Hadoop",
        "<Date> <Time> <Level> [<Process>] <Component>: <Content>",
    ),
    ("HDFS", "<Date> <Time> <Pid> <Level> <Component>: <Content>"),
    ("HealthApp", "<Time>|<Component>|<Pid>|<Content>"),
    (
        "HPC",
        "<LogId> <Node> <Component> <State> <Time> <Flag> <Content>",
    ),
    (
        "Linux",
        "<Month> <Date> <Time> <Level> <Component>([<PID>])?: <Content>",
    ),
    (
        "Mac",
        "<Month>  <Date> <Time> <User> <Component>[<PID>]( (<Address>))?: <Content>",
    ),
    (
        "OpenSSH",
        "<Date> <Day> <Time> <Component> sshd[<Pid>]: <Content>",
    ),
    (
        "OpenStack",
        "<Logrecord> <Date> <Time> <Pid> <Level> <Component> [<ADDR>] <Content>",
    ),
    ("Proxifier", "[<Time>] <Program> - <Content>"),
    ("Spark", "<Date> <Time> <Level> <Component>: <Content>"),
    (
        "Thunderbird",
        "<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> <Component>([<PID>])?: <Content>",
    ),
    (
        "Windows",
        "<Date> <Time>, <Level>                  <Component>    <Content>",
    ),
    (
        "Zookeeper",
        "<Date> <Time> - <Level>  [<Node>:<Component>@<Id>] - <Content>",
    ),
];

/// The published format of `system`, if known.
pub fn format_of(system: &str) -> Option<&'static str> {
    FORMATS.iter().find(|(s, _)| *s == system).map(|(_, f)| *f)
}

/// One system's files, loaded.
#[derive(Debug)]
pub struct System {
    /// Folder name, e.g. `HDFS`.
    pub name: String,
    /// Raw lines (trailing `\r` removed), lossily decoded.
    pub lines: Vec<String>,
    /// Ground truth for grouping: `Content` and `EventId` per line (original files).
    pub truth: Truth,
    /// Ground truth for templates (Loghub-2.0 files), when present.
    pub truth_v2: Option<Truth>,
}

/// One ground-truth file, in line order.
#[derive(Debug, Default)]
pub struct Truth {
    /// `Content` column.
    pub content: Vec<String>,
    /// `EventId` column.
    pub event: Vec<String>,
    /// `EventTemplate` column.
    pub template: Vec<String>,
}

/// The systems under `data` (folders holding `<name>_2k.log`), sorted by name.
pub fn systems(data: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in
        std::fs::read_dir(data).with_context(|| format!("failed to list `{}`", data.display()))?
    {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().join(format!("{name}_2k.log")).is_file() {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// Loads system `name` from `data`.
pub fn load(data: &Path, name: &str) -> Result<System> {
    let dir = data.join(name);
    let raw = std::fs::read(dir.join(format!("{name}_2k.log")))
        .with_context(|| format!("failed to read the log of `{name}`"))?;
    let lines = split_lines(&String::from_utf8_lossy(&raw));
    let truth = read_truth(&dir.join(format!("{name}_2k.log_structured.csv")))?;
    let v2 = dir
        .join("loghub2")
        .join(format!("{name}_2k.log_structured_corrected.csv"));
    let truth_v2 = if v2.is_file() {
        Some(read_truth(&v2)?)
    } else {
        None
    };
    Ok(System {
        name: name.to_string(),
        lines,
        truth,
        truth_v2,
    })
}

/// Splits text into lines, dropping a trailing `\r` and a final empty line.
pub fn split_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect();
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

fn read_truth(path: &PathBuf) -> Result<Truth> {
    let mut rdr = csv::Reader::from_path(path)
        .with_context(|| format!("failed to open `{}`", path.display()))?;
    let headers = rdr.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("`{}` has no `{name}` column", path.display()))
    };
    let (c, e, t) = (col("Content")?, col("EventId")?, col("EventTemplate")?);
    let mut truth = Truth::default();
    for rec in rdr.records() {
        let rec = rec.with_context(|| format!("bad record in `{}`", path.display()))?;
        truth
            .content
            .push(rec.get(c).unwrap_or_default().to_string());
        truth.event.push(rec.get(e).unwrap_or_default().to_string());
        truth
            .template
            .push(rec.get(t).unwrap_or_default().to_string());
    }
    Ok(truth)
}
