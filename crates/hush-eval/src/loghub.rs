//! `hush eval loghub`: grouping accuracy (GA) and parsing accuracy (PA) of the miner on the
//! Loghub-2k benchmark, per system and averaged, with one miner configuration for all systems.
//!
//! GA is scored against the original ground truth (`<System>_2k.log_structured.csv`), as in
//! the published comparisons with Drain and Brain; PA against the Loghub-2.0 corrected
//! templates (`loghub2/`), where a system has them.

pub mod data;
pub mod score;

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use hush_logs::{LineFormat, Miner, MinerConfig, TemplateId};

use data::{System, format_of};
use score::{grouping_accuracy, parsing_accuracy};

/// Arguments of `hush eval loghub`.
#[derive(Debug, clap::Args)]
pub struct LoghubArgs {
    /// Folder holding one sub-folder per system (`<System>/<System>_2k.log`, ...).
    #[arg(long, default_value = "../shared/datasets/loghub_2k")]
    pub data: PathBuf,
    /// Only these systems (repeatable); all found under `--data` by default.
    #[arg(long = "system")]
    pub systems: Vec<String>,
    /// Miner similarity threshold (one value for every system).
    #[arg(long)]
    pub similarity: Option<f64>,
    /// Distinct words at a position before it is generalised (one value for every system).
    #[arg(long)]
    pub min_variants: Option<usize>,
    /// Write `<System>_result.csv` (line, truth, prediction) here for error analysis.
    #[arg(long)]
    pub dump: Option<PathBuf>,
}

/// The scores of one system.
#[derive(Debug, Clone)]
pub struct SystemScore {
    /// System name.
    pub name: String,
    /// Grouping accuracy against the original ground truth.
    pub ga: f64,
    /// Parsing accuracy against the Loghub-2.0 templates, when present.
    pub pa: Option<f64>,
    /// Templates found.
    pub templates: usize,
    /// Distinct true templates.
    pub truth_templates: usize,
    /// Lines whose `Content` differs from the ground truth's (format splitting errors).
    pub content_mismatches: usize,
}

/// Runs the benchmark and prints a table.
pub fn run(args: LoghubArgs) -> Result<()> {
    let mut config = MinerConfig::default();
    if let Some(s) = args.similarity {
        config.similarity = s;
    }
    if let Some(k) = args.min_variants {
        config.min_variants = k;
    }
    let names = if args.systems.is_empty() {
        data::systems(&args.data)?
    } else {
        args.systems.clone()
    };
    if names.is_empty() {
        bail!("no Loghub system found under `{}`", args.data.display());
    }
    let mut scores = Vec::new();
    for name in &names {
        let sys = data::load(&args.data, name)?;
        scores.push(evaluate(&sys, &config, args.dump.as_ref())?);
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<12} {:>6} {:>6} {:>10} {:>8}",
        "system", "GA", "PA", "templates", "truth"
    )?;
    for s in &scores {
        let pa = s.pa.map_or("-".to_string(), |p| format!("{p:.3}"));
        writeln!(
            out,
            "{:<12} {:>6.3} {:>6} {:>10} {:>8}",
            s.name, s.ga, pa, s.templates, s.truth_templates
        )?;
        if s.content_mismatches > 0 {
            writeln!(
                out,
                "  warning: {} lines split differently from the ground truth",
                s.content_mismatches
            )?;
        }
    }
    let ga = scores.iter().map(|s| s.ga).sum::<f64>() / scores.len() as f64;
    let pas: Vec<f64> = scores.iter().filter_map(|s| s.pa).collect();
    let pa = if pas.is_empty() {
        f64::NAN
    } else {
        pas.iter().sum::<f64>() / pas.len() as f64
    };
    writeln!(
        out,
        "{:<12} {:>6.3} {:>6.3}   ({} systems; PA over {})",
        "average",
        ga,
        pa,
        scores.len(),
        pas.len()
    )?;
    Ok(())
}

/// Splits, mines and scores one system.
pub fn evaluate(sys: &System, config: &MinerConfig, dump: Option<&PathBuf>) -> Result<SystemScore> {
    let format =
        format_of(&sys.name).with_context(|| format!("no line format known for `{}`", sys.name))?;
    let format = LineFormat::new(format)?;
    let mut miner = Miner::new(config.clone())?;
    let mut mismatches = 0;
    let mut ids: Vec<TemplateId> = Vec::with_capacity(sys.lines.len());
    for (i, line) in sys.lines.iter().enumerate() {
        let content = format.split(line).map_or(line.as_str(), |s| s.content);
        if sys.truth.content.get(i).is_none_or(|c| c != content) {
            mismatches += 1;
        }
        ids.push(miner.add(content).id);
    }
    let ids: Vec<TemplateId> = ids.into_iter().map(|id| miner.resolve(id)).collect();
    let texts: Vec<String> = ids
        .iter()
        .map(|&id| miner.template(id).map(|t| t.text()).unwrap_or_default())
        .collect();
    let n = ids.len().min(sys.truth.event.len());
    let ga = grouping_accuracy(&sys.truth.event[..n], &ids[..n]);
    let pa = sys.truth_v2.as_ref().map(|t| {
        parsing_accuracy(
            &t.template[..n.min(t.template.len())],
            &texts[..n.min(t.template.len())],
        )
    });
    if let Some(dir) = dump {
        std::fs::create_dir_all(dir)?;
        let mut w = csv::Writer::from_path(dir.join(format!("{}_result.csv", sys.name)))?;
        w.write_record([
            "LineId",
            "TruthId",
            "TruthTemplate",
            "Id",
            "Template",
            "Content",
        ])?;
        for i in 0..n {
            let id = ids[i].to_string();
            let line_id = (i + 1).to_string();
            let rec = [
                &line_id,
                &sys.truth.event[i],
                &sys.truth.template[i],
                &id,
                &texts[i],
                &sys.truth.content[i],
            ];
            w.write_record(rec)?;
        }
        w.flush()?;
    }
    let mut truth_ids: Vec<&String> = sys.truth.event.iter().collect();
    truth_ids.sort();
    truth_ids.dedup();
    Ok(SystemScore {
        name: sys.name.clone(),
        ga,
        pa,
        templates: miner.len(),
        truth_templates: truth_ids.len(),
        content_mismatches: mismatches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The development data: `HUSH_LOGHUB_DATA`, or `../shared/datasets/loghub_2k` beside the
    /// checkout (tests are skipped when neither exists).
    fn data() -> Option<PathBuf> {
        let p = std::env::var_os("HUSH_LOGHUB_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/loghub_2k")
            });
        p.is_dir().then_some(p)
    }

    #[test]
    fn formats_reproduce_the_published_content_column() {
        let Some(dir) = data() else { return };
        for name in data::systems(&dir).unwrap() {
            let sys = data::load(&dir, &name).unwrap();
            let score = evaluate(&sys, &MinerConfig::default(), None).unwrap();
            assert_eq!(score.content_mismatches, 0, "{name}");
            assert_eq!(sys.lines.len(), 2000, "{name}");
        }
    }

    #[test]
    fn every_development_system_scores_well() {
        let Some(dir) = data() else { return };
        let mut total = 0.0;
        let names = data::systems(&dir).unwrap();
        for name in &names {
            let sys = data::load(&dir, name).unwrap();
            total += evaluate(&sys, &MinerConfig::default(), None).unwrap().ga;
        }
        assert!(
            total / names.len() as f64 >= 0.95,
            "average GA {}",
            total / names.len() as f64
        );
    }
}
