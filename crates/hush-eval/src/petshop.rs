//! `hush eval petshop`: top-1 / top-3 recall (AC@k) per scenario × target metric and specificity
//! on windows cut from normal data, following the PetShop paper's protocol (Hardt et al., 2023,
//! "The PetShop Dataset — Finding Causes of Performance Issues across Microservices").
//!
//! Per issue the ranker sees the scenario's normal data as baseline when the scenario has it
//! (`noissue/`), otherwise the issue file's rows up to the alert; the incident window is the ten
//! minutes after the alert. Specificity cuts the normal data at the paper's split points (half
//! way, then every tenth) and asks for a root cause of the target there: the right answer is none.

#[path = "petshop/load.rs"]
pub mod load;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use hush_rca::analyze::Target;
use hush_rca::{Incident, Ranker, RcaConfig, Series, ServiceGraph, TimeRange, Verdict, analyze};

use load::{TargetFile, load_graph, load_metrics, load_target, metric_kind};

/// Arguments of `hush eval petshop`.
#[derive(Debug, clap::Args)]
pub struct PetshopArgs {
    /// Dataset root (holds `dataset/<scenario>/`).
    #[arg(long, default_value = "../shared/datasets/petshop")]
    pub data: PathBuf,
    /// Ranking method.
    #[arg(long, value_enum, default_value = "traversal")]
    pub ranker: RankerArg,
    /// Baseline: the scenario's normal data when present (`auto`), or always the issue rows
    /// before the alert (`window`).
    #[arg(long, value_enum, default_value = "auto")]
    pub baseline: BaselineArg,
    /// Print every issue's top three and the best hypothesis' evidence.
    #[arg(long)]
    pub verbose: bool,
}

/// Ranker choice on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RankerArg {
    /// Explained-away traversal.
    Traversal,
    /// Personalised PageRank.
    Pagerank,
    /// Graph-free robust score.
    Robust,
    /// Rank fusion of traversal and PageRank.
    Ensemble,
}

/// Baseline choice on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BaselineArg {
    /// Normal data when the scenario has it, else the rows before the alert.
    Auto,
    /// Always the rows before the alert.
    Window,
}

/// How long after the alert departures are looked for, seconds (two 5-minute samples).
const HORIZON: i64 = 600;

/// An alert fires after the violation has begun: the last sample before it may already be
/// abnormal, so an in-file baseline stops one sampling period (5 minutes) earlier.
const LAG: i64 = 300;

#[derive(Default)]
struct Cell {
    top1: Vec<bool>,
    top3: Vec<bool>,
    specificity: Vec<bool>,
}

/// Runs the evaluation and prints the table.
pub fn run(args: PetshopArgs) -> anyhow::Result<()> {
    let cfg = RcaConfig {
        ranker: match args.ranker {
            RankerArg::Traversal => Ranker::Traversal,
            RankerArg::Pagerank => Ranker::PageRank,
            RankerArg::Robust => Ranker::Robust,
            RankerArg::Ensemble => Ranker::Ensemble,
        },
        ..RcaConfig::default()
    };
    let root = args.data.join("dataset");
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&root)
        .with_context(|| format!("failed to list `{}`", root.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("graph.csv").is_file())
        .collect();
    scenarios.sort();
    let mut cells: BTreeMap<(String, String), Cell> = BTreeMap::new();
    for dir in &scenarios {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        evaluate_scenario(dir, &name, &args, &cfg, &mut cells)?;
    }
    print_table(&cells);
    Ok(())
}

fn evaluate_scenario(
    dir: &Path,
    name: &str,
    args: &PetshopArgs,
    cfg: &RcaConfig,
    cells: &mut BTreeMap<(String, String), Cell>,
) -> anyhow::Result<()> {
    let graph = load_graph(&dir.join("graph.csv"))?;
    let normal_path = dir.join("noissue").join("metrics.csv");
    let normal = if normal_path.is_file() {
        Some(load_metrics(&normal_path)?)
    } else {
        None
    };
    let mut targets = BTreeMap::new();
    for split in ["train", "test"] {
        let Ok(entries) = std::fs::read_dir(dir.join(split)) else {
            continue;
        };
        let mut issues: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        issues.sort();
        for issue in issues.iter().filter(|p| p.join("target.json").is_file()) {
            let t = load_target(&issue.join("target.json"))?;
            let metrics = load_metrics(&issue.join("metrics.csv"))?;
            let use_normal = normal
                .as_ref()
                .filter(|_| args.baseline == BaselineArg::Auto);
            let names = rank_issue(&graph, &metrics, use_normal, &t, cfg, args.verbose)?;
            let hit = |k: usize| names.iter().take(k).any(|n| *n == t.root_cause.node);
            if args.verbose {
                println!(
                    "{name}/{split}/{} {} truth={} top3={:?}",
                    issue
                        .file_name()
                        .map(|f| f.to_string_lossy())
                        .unwrap_or_default(),
                    t.target.metric,
                    t.root_cause.node,
                    names.iter().take(3).collect::<Vec<_>>()
                );
            }
            let cell = cells
                .entry((name.to_owned(), t.target.metric.clone()))
                .or_default();
            cell.top1.push(hit(1));
            cell.top3.push(hit(3));
            targets.insert(t.target.metric.clone(), t.target.clone());
        }
    }
    if let Some(normal) = &normal {
        for (metric, spec) in &targets {
            let verdicts = specificity(&graph, normal, spec, args.baseline, cfg, args.verbose)?;
            let cell = cells.entry((name.to_owned(), metric.clone())).or_default();
            cell.specificity.extend(verdicts);
        }
    }
    Ok(())
}

fn target_of(spec: &load::TargetSpec) -> Target {
    Target {
        service: spec.node.clone(),
        kind: metric_kind(&spec.metric),
        name: Some(format!("{} {}", spec.metric, spec.agg)),
    }
}

/// Ranks one issue; returns service names best first (empty = no root cause).
fn rank_issue(
    graph: &ServiceGraph,
    metrics: &[Series],
    normal: Option<&Vec<Series>>,
    t: &TargetFile,
    cfg: &RcaConfig,
    verbose: bool,
) -> anyhow::Result<Vec<String>> {
    let onset = t.target.timestamp;
    let first = metrics
        .iter()
        .filter_map(|s| s.times.first())
        .min()
        .copied()
        .unwrap_or(onset);
    let (series, baseline) = match normal {
        Some(normal) => {
            let lo = normal
                .iter()
                .filter_map(|s| s.times.first())
                .min()
                .copied()
                .unwrap_or(0);
            let hi = normal
                .iter()
                .filter_map(|s| s.times.last())
                .max()
                .copied()
                .unwrap_or(0);
            (join(normal, metrics), TimeRange::new(lo, hi))
        }
        None => (metrics.to_vec(), TimeRange::new(first, onset - LAG)),
    };
    let incident = Incident {
        target: Some(target_of(&t.target)),
        onset,
        baseline,
        window: TimeRange::new(onset + 1, onset + HORIZON),
    };
    let report = analyze(graph, &series, &[], &incident, cfg)?;
    if verbose {
        match (&report.verdict, report.hypotheses.first()) {
            (Verdict::NoRootCause { reason }, _) => println!("    no root cause: {reason}"),
            (_, Some(h)) => println!("    {}", h.summary),
            _ => {}
        }
    }
    Ok(report.hypotheses.into_iter().map(|h| h.service).collect())
}

/// Baseline series followed by incident series of the same key.
fn join(normal: &[Series], issue: &[Series]) -> Vec<Series> {
    issue
        .iter()
        .map(|s| {
            let mut out = s.clone();
            if let Some(n) = normal.iter().find(|n| n.key == s.key) {
                out.times = n.times.iter().chain(&s.times).copied().collect();
                out.values = n.values.iter().chain(&s.values).copied().collect();
            }
            out
        })
        .collect()
}

/// One verdict per split of the normal data: `true` when no root cause was named.
fn specificity(
    graph: &ServiceGraph,
    normal: &[Series],
    spec: &load::TargetSpec,
    baseline: BaselineArg,
    cfg: &RcaConfig,
    verbose: bool,
) -> anyhow::Result<Vec<bool>> {
    let times = normal.first().map(|s| s.times.clone()).unwrap_or_default();
    let n = times.len();
    let step = (n / 10).max(1);
    let mut out = Vec::new();
    let mut split = n / 2;
    while split + 3 < n {
        // Mirror an issue file: the alert falls after the second row of the cut.
        let onset = times[split + 1];
        let base = match baseline {
            BaselineArg::Auto => TimeRange::new(times[0], times[split - 1]),
            BaselineArg::Window => TimeRange::new(times[split], onset - LAG),
        };
        let incident = Incident {
            target: Some(target_of(spec)),
            onset,
            baseline: base,
            window: TimeRange::new(onset + 1, onset + HORIZON),
        };
        let report = analyze(graph, normal, &[], &incident, cfg)?;
        if verbose {
            let what = match &report.verdict {
                Verdict::NoRootCause { reason } => format!("no root cause: {reason}"),
                Verdict::Ranked => format!(
                    "named {:?}",
                    report
                        .hypotheses
                        .iter()
                        .take(3)
                        .map(|h| &h.service)
                        .collect::<Vec<_>>()
                ),
            };
            println!("normal split {split} {}: {what}", spec.metric);
        }
        out.push(matches!(report.verdict, Verdict::NoRootCause { .. }));
        split += step;
    }
    Ok(out)
}

fn mean(v: &[bool]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().filter(|b| **b).count() as f64 / v.len() as f64)
}

fn print_table(cells: &BTreeMap<(String, String), Cell>) {
    println!(
        "{:<20} {:<13} {:>3} {:>6} {:>6} {:>12}",
        "scenario", "target", "n", "AC@1", "AC@3", "specificity"
    );
    let fmt = |v: Option<f64>| {
        v.map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "-".to_owned())
    };
    let (mut a1, mut a3, mut sp) = (Vec::new(), Vec::new(), Vec::new());
    for ((scenario, metric), c) in cells {
        let (t1, t3, s) = (mean(&c.top1), mean(&c.top3), mean(&c.specificity));
        a1.extend(t1);
        a3.extend(t3);
        sp.extend(s);
        let spec = s
            .map(|x| format!("{x:.3} ({})", c.specificity.len()))
            .unwrap_or_else(|| "-".to_owned());
        println!(
            "{scenario:<20} {metric:<13} {:>3} {:>6} {:>6} {spec:>12}",
            c.top1.len(),
            fmt(t1),
            fmt(t3)
        );
    }
    let avg = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    println!(
        "{:<20} {:<13} {:>3} {:>6} {:>6} {:>12}",
        "average",
        "(cells)",
        a1.len(),
        fmt(avg(&a1)),
        fmt(avg(&a3)),
        fmt(avg(&sp))
    );
}
