//! `hush simulate`: runs a scenario of the simulated shop and writes every signal and the
//! ground truth as files (layout in `docs/simulator.md`).
//!
//! The output for a seed is byte-identical across runs: the simulation is deterministic, maps
//! are ordered, and nothing here reads the clock.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hush_model::{Labels, Sample};
use hush_sim::time::{csv_time, rfc3339};
use hush_sim::{Scenario, SimConfig, Simulation, to_otlp_json};
use serde_json::json;

/// Arguments of `hush simulate`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Scenario name, or `all` for every scenario (each in its own folder).
    #[arg(long, default_value = "all")]
    pub scenario: String,
    /// Seed of the run; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated length, e.g. `2h`, `90m`, `1h30m`. Faults are placed within it.
    #[arg(long, default_value = "2h", value_parser = parse_duration_ms)]
    pub duration: i64,
    /// Scrape interval, e.g. `15s`.
    #[arg(long, default_value = "15s", value_parser = parse_duration_ms)]
    pub step: i64,
    /// Simulated start time, RFC 3339 (default: a Monday morning).
    #[arg(long, default_value = "2026-03-02T09:00:00Z", value_parser = parse_time_ms)]
    pub start: i64,
    /// Output folder (created if missing).
    #[arg(long, visible_alias = "output", required_unless_present = "list")]
    pub out: Option<PathBuf>,
    /// Also write `metrics.om`, OpenMetrics text with timestamps (for `promtool tsdb
    /// create-blocks-from openmetrics`); large.
    #[arg(long)]
    pub openmetrics: bool,
    /// List the scenarios and exit.
    #[arg(long)]
    pub list: bool,
}

/// Parses `2h`, `90m`, `1h30m`, `45s`, `1d` into milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let mut total = 0i64;
    let mut num = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            _ => {
                return Err(format!(
                    "invalid duration `{s}`: unknown unit `{c}` (use s, m, h or d)"
                ));
            }
        };
        let n: i64 = num
            .parse()
            .map_err(|_| format!("invalid duration `{s}`: a number must precede `{c}`"))?;
        total += n * unit;
        num.clear();
    }
    if !num.is_empty() || total <= 0 {
        return Err(format!(
            "invalid duration `{s}`: expected e.g. 2h, 90m or 1h30m"
        ));
    }
    Ok(total)
}

fn parse_time_ms(s: &str) -> Result<i64, String> {
    chrono_free_rfc3339(s)
        .ok_or_else(|| format!("invalid time `{s}`: expected RFC 3339, e.g. 2026-03-02T09:00:00Z"))
}

/// RFC 3339 `YYYY-MM-DDTHH:MM:SSZ` (UTC only) to epoch ms, without pulling a date crate in.
fn chrono_free_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d, hh, mm, ss) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000)
}

/// Runs `hush simulate`.
pub fn run(args: SimulateArgs) -> Result<()> {
    if args.list {
        for s in Scenario::ALL {
            println!("{:<16} {}", s.name(), s.description());
        }
        return Ok(());
    }
    let Some(out) = args.out.clone() else {
        bail!("--out is required")
    };
    let scenarios: Vec<Scenario> = if args.scenario == "all" {
        Scenario::ALL.to_vec()
    } else {
        vec![Scenario::parse(&args.scenario)?]
    };
    for s in &scenarios {
        let dir = if scenarios.len() > 1 {
            out.join(s.name())
        } else {
            out.clone()
        };
        let cfg = SimConfig {
            seed: args.seed,
            scenario: *s,
            start_ms: args.start,
            step_ms: args.step,
            horizon_ms: args.duration,
        };
        write_run(cfg, &dir, args.openmetrics).with_context(|| {
            format!("failed to simulate `{}` into `{}`", s.name(), dir.display())
        })?;
        eprintln!("{}: wrote {}", s.name(), dir.display());
    }
    Ok(())
}

fn create(dir: &Path, name: &str) -> Result<BufWriter<File>> {
    let p = dir.join(name);
    Ok(BufWriter::new(File::create(&p).with_context(|| {
        format!("failed to create `{}`", p.display())
    })?))
}

/// Simulates one run and writes its files into `dir`.
pub fn write_run(cfg: SimConfig, dir: &Path, openmetrics: bool) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("failed to create `{}`", dir.display()))?;
    let mut sim = Simulation::with_config(cfg)?;
    fs::write(dir.join("topology.yaml"), sim.estate().topology_yaml())?;
    let mut logs = create(dir, "logs.jsonl")?;
    let mut traces = create(dir, "traces.jsonl")?;
    let mut webhooks = create(dir, "webhooks.jsonl")?;
    let mut alerts = create(dir, "alerts.jsonl")?;
    let mut changes = create(dir, "changes.jsonl")?;
    let mut series: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
    let ticks = cfg.horizon_ms / cfg.step_ms;
    let bar = crate::progress::bar(ticks as u64, cfg.scenario.name());
    for _ in 0..ticks {
        let tick = sim.step();
        for ts in tick.metrics {
            series.entry(ts.labels).or_default().extend(ts.samples);
        }
        for l in &tick.logs {
            let v = json!({"time": rfc3339(l.time_ms), "service": l.service, "instance": l.instance, "source": l.source, "level": l.level, "message": l.message});
            writeln!(logs, "{v}")?;
        }
        if !tick.spans.is_empty() {
            writeln!(traces, "{}", to_otlp_json(&tick.spans))?;
        }
        for n in &tick.alerts {
            writeln!(
                webhooks,
                "{}",
                json!({"sentAt": rfc3339(n.sent_ms), "webhook": n.payload})
            )?;
            for a in &n.payload.alerts {
                let mut v = serde_json::to_value(a)?;
                v["receivedAt"] = json!(rfc3339(n.sent_ms));
                writeln!(alerts, "{v}")?;
            }
        }
        for c in &tick.changes {
            let mut v = serde_json::to_value(c)?;
            v["time"] = json!(rfc3339(c.time_ms));
            writeln!(changes, "{v}")?;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    for mut w in [logs, traces, webhooks, alerts, changes] {
        w.flush()?;
    }
    write_metrics_csv(dir, &series)?;
    if openmetrics {
        write_openmetrics(dir, &series)?;
    }
    fs::write(
        dir.join("truth.json"),
        serde_json::to_string_pretty(sim.truth())? + "\n",
    )?;
    Ok(())
}

/// One CSV per series (`timestamp,value`, NAB's layout, so `hush detect` reads it as is) under
/// `metrics/<metric name>/<series id>.csv`, and `metrics/index.csv` naming each file's series.
fn write_metrics_csv(dir: &Path, series: &BTreeMap<Labels, Vec<Sample>>) -> Result<()> {
    let root = dir.join("metrics");
    fs::create_dir_all(&root)?;
    let mut index = create(&root, "index.csv")?;
    writeln!(index, "file,series")?;
    for (labels, samples) in series {
        let name = labels.metric_name().unwrap_or("unnamed");
        let sub = root.join(name);
        fs::create_dir_all(&sub)?;
        let file = format!("{name}/{}.csv", labels.series_id());
        let mut w = create(&root, &file)?;
        writeln!(w, "timestamp,value")?;
        for s in samples {
            writeln!(w, "{},{}", csv_time(s.t), s.v)?;
        }
        w.flush()?;
        writeln!(
            index,
            "{file},\"{}\"",
            labels.to_string().replace('"', "\"\"")
        )?;
    }
    index.flush()?;
    Ok(())
}

/// The series of one metric family.
type Family<'a> = Vec<(&'a Labels, &'a Vec<Sample>)>;

/// OpenMetrics text with timestamps, families contiguous as the format requires.
fn write_openmetrics(dir: &Path, series: &BTreeMap<Labels, Vec<Sample>>) -> Result<()> {
    let family = |name: &str| -> (String, &'static str) {
        for h in [
            "http_request_duration_seconds",
            "message_processing_duration_seconds",
        ] {
            if name.starts_with(h) {
                return (h.to_string(), "histogram");
            }
        }
        match name.strip_suffix("_total") {
            Some(f) => (f.to_string(), "counter"),
            None => (name.to_string(), "gauge"),
        }
    };
    let mut fams: BTreeMap<(String, &str), Family<'_>> = BTreeMap::new();
    for (l, s) in series {
        fams.entry(family(l.metric_name().unwrap_or("unnamed")))
            .or_default()
            .push((l, s));
    }
    let mut w = create(dir, "metrics.om")?;
    for ((fam, kind), members) in fams {
        writeln!(w, "# TYPE {fam} {kind}")?;
        for (labels, samples) in members {
            let name = labels.metric_name().unwrap_or("unnamed");
            let inner: Vec<String> = labels
                .iter()
                .filter(|l| l.name != "__name__")
                .map(|l| format!("{}=\"{}\"", l.name, l.value))
                .collect();
            for s in samples {
                writeln!(
                    w,
                    "{name}{{{}}} {} {}.{:03}",
                    inner.join(","),
                    s.v,
                    s.t.div_euclid(1000),
                    s.t.rem_euclid(1000)
                )?;
            }
        }
    }
    writeln!(w, "# EOF")?;
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.insert(
                        p.strip_prefix(dir).unwrap().to_path_buf(),
                        fs::read(&p).unwrap(),
                    );
                }
            }
        }
        out
    }

    fn args(out: &Path, scenario: &str, seed: u64) -> SimulateArgs {
        SimulateArgs {
            scenario: scenario.into(),
            seed,
            duration: 30 * 60_000,
            step: 15_000,
            start: parse_time_ms("2026-03-02T09:00:00Z").unwrap(),
            out: Some(out.to_path_buf()),
            openmetrics: true,
            list: false,
        }
    }

    #[test]
    fn output_is_byte_identical_for_a_seed() {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        run(args(a.path(), "bad-deploy", 7)).unwrap();
        run(args(b.path(), "bad-deploy", 7)).unwrap();
        let (ta, tb) = (read_tree(a.path()), read_tree(b.path()));
        assert!(
            ta.len() > 500,
            "one file per series plus the rest: {}",
            ta.len()
        );
        assert!(ta == tb, "two runs with one seed differ");
        run(args(c.path(), "bad-deploy", 8)).unwrap();
        assert!(read_tree(c.path()) != ta, "another seed gives other data");
    }

    #[test]
    fn writes_every_file_and_the_truth_names_the_deploy() {
        let d = tempfile::tempdir().unwrap();
        run(args(d.path(), "bad-deploy", 3)).unwrap();
        for f in [
            "topology.yaml",
            "logs.jsonl",
            "traces.jsonl",
            "webhooks.jsonl",
            "alerts.jsonl",
            "changes.jsonl",
            "truth.json",
            "metrics.om",
            "metrics/index.csv",
        ] {
            assert!(d.path().join(f).exists(), "{f} missing");
        }
        let truth: serde_json::Value =
            serde_json::from_slice(&fs::read(d.path().join("truth.json")).unwrap()).unwrap();
        let inc = &truth["incidents"][0];
        assert_eq!(inc["rootCause"]["service"], "checkout");
        let change = inc["rootCause"]["change"].as_str().unwrap().to_string();
        let changes = fs::read_to_string(d.path().join("changes.jsonl")).unwrap();
        assert!(
            changes
                .lines()
                .any(|l| l.contains(&change) && l.contains("\"deploy\""))
        );
        // Every alert line is an Alertmanager alert with the time Hush would receive it.
        let alerts = fs::read_to_string(d.path().join("alerts.jsonl")).unwrap();
        let first: serde_json::Value =
            serde_json::from_str(alerts.lines().next().unwrap()).unwrap();
        for k in [
            "status",
            "labels",
            "annotations",
            "startsAt",
            "endsAt",
            "fingerprint",
            "receivedAt",
        ] {
            assert!(first.get(k).is_some(), "{k} missing in {first}");
        }
        let csv = fs::read_to_string(
            d.path()
                .join("metrics/up")
                .read_dir()
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path(),
        )
        .unwrap();
        assert!(
            csv.starts_with("timestamp,value\n2026-03-02 09:00:00,1\n"),
            "{}",
            &csv[..60]
        );
        let om = fs::read_to_string(d.path().join("metrics.om")).unwrap();
        assert!(om.contains("# TYPE http_requests counter\n") && om.ends_with("# EOF\n"));
    }

    #[test]
    fn parses_durations_and_times() {
        assert_eq!(parse_duration_ms("2h"), Ok(7_200_000));
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert!(
            parse_duration_ms("2x")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_duration_ms("90").is_err());
        assert_eq!(parse_time_ms("2026-03-02T00:00:00Z"), Ok(1_772_409_600_000));
        assert_eq!(parse_time_ms("1970-01-01T00:00:00Z"), Ok(0));
        assert!(parse_time_ms("yesterday").is_err());
    }

    #[test]
    fn unknown_scenario_lists_the_known_ones() {
        let d = tempfile::tempdir().unwrap();
        let e = run(args(d.path(), "meteor", 1)).unwrap_err().to_string();
        assert!(e.contains("meteor") && e.contains("db-slowdown"), "{e}");
    }
}
