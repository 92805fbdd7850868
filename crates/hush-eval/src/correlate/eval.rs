//! `hush eval correlation`: drives the simulator over many seeds, replays each run's alerts
//! through the correlator and scores the grouping against the run's truth.
//!
//! Scored per distinct alert episode (fingerprint + startsAt) that reached the correlator:
//! B-cubed precision, recall and F1 against the true incident; a noise episode (truth: no
//! incident) counts as its own cluster together with the other episodes of the same
//! fingerprint in that run, since folding a flapping alert is what the correlator should do.
//! *Noise merged* is the share of noise episodes placed in an incident holding an episode of a
//! real one; *compression* is `1 - incidents opened / alert notifications received` (an
//! incident held by a pause that never opened notified nobody and does not count; its alerts
//! are still scored as grouped).
//! Each run is scored three times: cold (nothing learned), with co-occurrence learned from the
//! truth of separate training seeds, which the test seeds never overlap, and the same with
//! transient alerts paused, their durations learned by replaying the training seeds' alerts
//! (no truth). The pause's cost is how much later each true incident was first notified than
//! without it, and any true incident never notified.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Result;
use hush_correlate::{
    Alert, Change, CoOccurrence, Config, Correlator, IncidentId, Pause, Topology, TopologyFile,
};
use hush_sim::{Scenario, SimConfig, Simulation};
use serde_json::json;

use super::bcubed::BCubed;
use super::decode;
use crate::simulate::parse_duration_ms;

/// Arguments of `hush eval correlation`.
#[derive(Debug, Clone, clap::Args)]
pub struct CorrelationArgs {
    /// Number of test seeds per scenario.
    #[arg(long, default_value_t = 10)]
    pub seeds: u64,
    /// First test seed.
    #[arg(long, default_value_t = 1)]
    pub first_seed: u64,
    /// Number of training seeds per scenario, for learned co-occurrence (0: cold only).
    #[arg(long, default_value_t = 5)]
    pub train_seeds: u64,
    /// First training seed; training seeds must not overlap the test seeds.
    #[arg(long, default_value_t = 1001)]
    pub train_first_seed: u64,
    /// Simulated length of each run.
    #[arg(long, default_value = "2h", value_parser = parse_duration_ms)]
    pub duration: i64,
    /// Print every noise alert merged into a real incident, and every real alert split off.
    #[arg(long)]
    pub explain: bool,
    /// Comma-separated scenario names, or `all`.
    #[arg(long, default_value = "all")]
    pub scenarios: String,
    /// Longest pause of a transient alert (the paused row).
    #[arg(long, default_value = "10m", value_parser = parse_duration_ms)]
    pub pause_max: i64,
    /// Share of a kind's past activities that must end within its pause.
    #[arg(long, default_value_t = 0.9)]
    pub pause_quantile: f32,
}

/// One simulated run, ready to replay.
struct Run {
    alerts: Vec<Alert>,
    /// (fingerprint, startsAt ms) → true cluster.
    truth: HashMap<(String, i64), String>,
    true_incidents: usize,
    /// End of the simulated run.
    end: i64,
}

const START_MS: i64 = 1_772_442_000_000; // 2026-03-02T09:00:00Z, a Monday morning

fn simulate(scenario: Scenario, seed: u64, duration: i64) -> Result<Run> {
    let cfg = SimConfig {
        seed,
        scenario,
        start_ms: START_MS,
        step_ms: 15_000,
        horizon_ms: duration,
    };
    let mut sim = Simulation::with_config(cfg)?;
    let mut alerts = Vec::new();
    let end = START_MS.saturating_add(duration);
    for _ in 0..duration / cfg.step_ms {
        let tick = sim.step();
        for n in &tick.alerts {
            for a in &n.payload.alerts {
                // Through the same decoder as `hush correlate`, so the replay is the CLI's.
                let mut v = serde_json::to_value(a)?;
                v["receivedAt"] = json!(hush_sim::time::rfc3339(n.sent_ms));
                alerts.push(
                    decode::alert_line(&v.to_string())
                        .map_err(anyhow::Error::msg)?
                        .alert,
                );
            }
        }
    }
    let t = sim.truth();
    let truth = t
        .alerts
        .iter()
        .map(|a| {
            let c = a
                .incident
                .clone()
                .unwrap_or_else(|| format!("noise:{}", a.fingerprint));
            ((a.fingerprint.clone(), a.starts_at_ms), c)
        })
        .collect();
    Ok(Run {
        alerts,
        truth,
        true_incidents: t.incidents.len(),
        end,
    })
}

/// Learns alert durations by replaying `run`'s alerts (no truth) through a correlator, as a
/// server would have while they arrived.
fn learn_durations(co: &mut CoOccurrence, run: &Run, topo: &Topology) -> Result<()> {
    let mut c = Correlator::new(Config::default(), topo.clone(), CoOccurrence::default())?;
    for a in &run.alerts {
        c.ingest(a.clone(), a.received_at)?;
    }
    co.adopt_durations(c.learned());
    Ok(())
}

/// Learns co-occurrence from the truth of `run`: each true incident, and each noise alert on
/// its own, as an operator confirming the grouping would have taught it.
fn learn(co: &mut CoOccurrence, run: &Run) {
    let mut groups: BTreeMap<&str, HashSet<String>> = BTreeMap::new();
    for a in &run.alerts {
        if let Some(c) = run.truth.get(&(a.fingerprint.clone(), a.starts_at)) {
            groups.entry(c.as_str()).or_default().insert(a.kind());
        }
    }
    for kinds in groups.values() {
        let v: Vec<&String> = kinds.iter().collect();
        co.learn(&v);
    }
}

/// Scores of one or more runs.
#[derive(Debug, Clone, Default)]
struct Tally {
    runs: usize,
    notifications: usize,
    true_incidents: usize,
    incidents: usize,
    /// Distinct true clusters (incidents and noise alerts) among the alerts seen: the fewest
    /// incidents a perfect grouping would open.
    clusters: usize,
    noise: usize,
    noise_merged: usize,
    b3: BCubed,
    /// Per true incident: when it was first notified (an incident holding one of its alerts
    /// open), `None` if never; keyed by run and incident.
    notified: BTreeMap<(usize, String), Option<i64>>,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.runs += o.runs;
        self.notifications += o.notifications;
        self.true_incidents += o.true_incidents;
        self.incidents += o.incidents;
        self.clusters += o.clusters;
        self.noise += o.noise;
        self.noise_merged += o.noise_merged;
        self.b3.add(&o.b3);
        let base = self.runs - o.runs;
        for ((r, t), v) in &o.notified {
            self.notified.insert((base + r, t.clone()), *v);
        }
    }

    fn row(&self, name: &str) -> String {
        let merged = if self.noise == 0 {
            0.0
        } else {
            self.noise_merged as f64 / self.noise as f64
        };
        let ratio = |x: usize| {
            if self.notifications == 0 {
                0.0
            } else {
                1.0 - x as f64 / self.notifications as f64
            }
        };
        let (compression, ideal) = (ratio(self.incidents), ratio(self.clusters));
        format!(
            "{name:<16} {:>4} {:>6} {:>6} {:>5} {:>5} {:>6.3} {:>6.3} {:>6.3} {:>5}/{:<5} {:>6.1}% {:>6.1}% {:>6.1}%",
            self.runs,
            self.notifications,
            self.b3.items,
            self.true_incidents,
            self.incidents,
            self.b3.precision(),
            self.b3.recall(),
            self.b3.f1(),
            self.noise_merged,
            self.noise,
            100.0 * merged,
            100.0 * compression,
            100.0 * ideal
        )
    }
}

fn replay(
    run: &Run,
    topo: &Topology,
    learned: &CoOccurrence,
    cfg: &Config,
    explain: bool,
) -> Result<Tally> {
    let mut c = Correlator::new(cfg.clone(), topo.clone(), learned.clone())?;
    let mut placed: BTreeMap<(String, i64), IncidentId> = BTreeMap::new();
    let mut arrived: BTreeMap<(String, i64), i64> = BTreeMap::new();
    let mut opened: HashMap<IncidentId, i64> = HashMap::new();
    let mut note = |changes: &[Change], at: i64| {
        for ch in changes {
            if let Change::Opened { incident, .. } = ch {
                opened.entry(*incident).or_insert(at);
            }
        }
    };
    // Time passes as on a server ticking every 15 s, so pauses end when they are due.
    const TICK_MS: i64 = 15_000;
    let mut clock = run.alerts.first().map_or(run.end, |a| a.received_at);
    for a in &run.alerts {
        while clock.saturating_add(TICK_MS) < a.received_at {
            clock += TICK_MS;
            note(&c.advance(clock), clock);
        }
        let key = (a.fingerprint.clone(), a.starts_at);
        let o = c.ingest(a.clone(), a.received_at)?;
        note(&o.changes, a.received_at);
        arrived.entry(key.clone()).or_insert(a.received_at);
        placed.entry(key).or_insert(o.incident);
    }
    let stop = clock.max(run.end).saturating_add(3_600_000);
    while clock < stop {
        clock += TICK_MS;
        note(&c.advance(clock), clock);
    }
    let mut notified: BTreeMap<(usize, String), Option<i64>> = BTreeMap::new();
    for (k, id) in &placed {
        let Some(t) = run.truth.get(k).filter(|t| !t.starts_with("noise:")) else {
            continue;
        };
        let at = opened.get(id).map(|o| (*o).max(arrived[k]));
        let e = notified.entry((0, t.clone())).or_insert(None);
        *e = match (*e, at) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
    }
    let items: Vec<(IncidentId, String)> = placed
        .iter()
        .map(|(k, id)| {
            (
                *id,
                run.truth
                    .get(k)
                    .cloned()
                    .unwrap_or_else(|| format!("unknown:{}:{}", k.0, k.1)),
            )
        })
        .collect();
    let real: HashSet<IncidentId> = items
        .iter()
        .filter(|(_, t)| !t.starts_with("noise:"))
        .map(|(p, _)| *p)
        .collect();
    let noise: Vec<&(IncidentId, String)> = items
        .iter()
        .filter(|(_, t)| t.starts_with("noise:"))
        .collect();
    if explain {
        let kinds: HashMap<&str, String> = run
            .alerts
            .iter()
            .map(|a| (a.fingerprint.as_str(), a.kind()))
            .collect();
        for ((fp, at), id) in &placed {
            let t = &run.truth[&(fp.clone(), *at)];
            let k = &kinds[fp.as_str()];
            if t.starts_with("noise:") && real.contains(id) {
                println!(
                    "  merged noise {k} at {} into {id}",
                    hush_sim::time::rfc3339(*at)
                );
            }
        }
        let mut by_true: BTreeMap<&str, BTreeMap<IncidentId, Vec<&str>>> = BTreeMap::new();
        for ((fp, at), id) in &placed {
            let t = &run.truth[&(fp.clone(), *at)];
            if !t.starts_with("noise:") {
                by_true
                    .entry(t)
                    .or_default()
                    .entry(*id)
                    .or_default()
                    .push(&kinds[fp.as_str()]);
            }
        }
        for (t, parts) in by_true.iter().filter(|(_, p)| p.len() > 1) {
            println!("  {t} split: {parts:?}");
        }
    }
    Ok(Tally {
        runs: 1,
        notifications: run.alerts.len(),
        true_incidents: run.true_incidents,
        incidents: placed
            .values()
            .collect::<HashSet<_>>()
            .into_iter()
            .filter(|id| opened.contains_key(id))
            .count(),
        clusters: items.iter().map(|(_, t)| t).collect::<HashSet<_>>().len(),
        noise: noise.len(),
        noise_merged: noise.iter().filter(|(p, _)| real.contains(p)).count(),
        b3: BCubed::score(&items),
        notified,
    })
}

/// Runs `hush eval correlation`.
pub fn run(args: CorrelationArgs) -> Result<()> {
    let scenarios: Vec<Scenario> = if args.scenarios == "all" {
        Scenario::ALL.to_vec()
    } else {
        args.scenarios
            .split(',')
            .map(|s| Scenario::parse(s.trim()))
            .collect::<Result<_, _>>()?
    };
    let test = args.first_seed..args.first_seed.saturating_add(args.seeds);
    let train = args.train_first_seed..args.train_first_seed.saturating_add(args.train_seeds);
    if test.clone().any(|s| train.contains(&s)) {
        anyhow::bail!("training seeds {train:?} overlap test seeds {test:?}");
    }
    let topo_yaml = hush_sim::Estate::shop().topology_yaml();
    let file: TopologyFile = serde_saphyr::from_str(&topo_yaml)?;
    let topo = Topology::new(&file)?;

    let total = scenarios.len() as u64 * (args.seeds + args.train_seeds);
    let bar = crate::progress::bar(total, "simulating");
    let mut learned = CoOccurrence::default();
    for &s in &scenarios {
        for seed in train.clone() {
            let run = simulate(s, seed, args.duration)?;
            learn(&mut learned, &run);
            learn_durations(&mut learned, &run, &topo)?;
            bar.inc(1);
        }
    }
    let cold = CoOccurrence::default();
    let plain = Config::default();
    let paused = Config {
        pause: Pause {
            enabled: true,
            max_window_ms: args.pause_max,
            quantile: args.pause_quantile,
            ..Pause::default()
        },
        ..Config::default()
    };
    let mut by: Vec<(&str, Tally, Tally, Tally)> = Vec::new();
    for &s in &scenarios {
        let (mut a, mut b, mut p) = (Tally::default(), Tally::default(), Tally::default());
        for seed in test.clone() {
            let run = simulate(s, seed, args.duration)?;
            a.add(&replay(&run, &topo, &cold, &plain, false)?);
            if args.explain {
                println!("{} seed {seed}", s.name());
            }
            b.add(&replay(&run, &topo, &learned, &plain, args.explain)?);
            p.add(&replay(&run, &topo, &learned, &paused, false)?);
            bar.inc(1);
        }
        by.push((s.name(), a, b, p));
    }
    bar.finish_and_clear();
    let header = format!(
        "{:<16} {:>4} {:>6} {:>6} {:>5} {:>5} {:>6} {:>6} {:>6} {:>11} {:>7} {:>7} {:>7}",
        "scenario",
        "runs",
        "notif",
        "alerts",
        "true",
        "inc",
        "B3 P",
        "B3 R",
        "B3 F1",
        "noise mrg",
        "noise%",
        "compr",
        "ideal"
    );
    for (k, title) in [
        "cold (nothing learned)",
        "learned (co-occurrence from training seeds)",
        "learned, transient alerts paused (durations from training seeds' alerts)",
    ]
    .into_iter()
    .enumerate()
    {
        if k >= 1 && args.train_seeds == 0 {
            continue;
        }
        let pick = |x: &(&str, Tally, Tally, Tally)| match k {
            0 => x.1.clone(),
            1 => x.2.clone(),
            _ => x.3.clone(),
        };
        println!(
            "\n{title}: test seeds {}..={}, {} per run",
            test.start,
            test.end.saturating_sub(1),
            hush_sim::time::csv_time(START_MS)
        );
        println!("{header}");
        let mut all = Tally::default();
        for x in &by {
            println!("{}", pick(x).row(x.0));
            all.add(&pick(x));
        }
        println!("{}", all.row("ALL"));
    }
    if args.train_seeds > 0 {
        println!("\ncost of pausing: first notification of each true incident, paused vs learned");
        let mut all_delays: Vec<i64> = Vec::new();
        let mut all_lost = 0;
        for (name, _, b, p) in &by {
            let (mut delays, mut lost) = (Vec::new(), 0);
            for (k, before) in &b.notified {
                match (before, p.notified.get(k).copied().flatten()) {
                    (Some(x), Some(y)) => delays.push(y - x),
                    (Some(_), None) => lost += 1,
                    _ => {}
                }
            }
            println!("{}", delay_row(name, &mut delays, lost));
            all_delays.extend(delays);
            all_lost += lost;
        }
        println!("{}", delay_row("ALL", &mut all_delays, all_lost));
    }
    Ok(())
}

fn delay_row(name: &str, d: &mut [i64], lost: usize) -> String {
    d.sort_unstable();
    let q = |p: f64| {
        if d.is_empty() {
            0.0
        } else {
            d[((d.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
        }
    };
    let delayed = d.iter().filter(|x| **x > 0).count();
    format!(
        "{name:<16} notified {:>4}  delayed {:>3}  extra delay p50 {:>5.0}s p90 {:>5.0}s max {:>5.0}s  never notified {lost}",
        d.len(),
        delayed,
        q(0.5),
        q(0.9),
        q(1.0)
    )
}
