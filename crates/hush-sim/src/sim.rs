//! The stepping simulation: one tick of simulated time in, every signal of that tick out.

use hush_model::TimeSeries;

use crate::alertmanager::{Alertmanager, Notification, fingerprint};
use crate::alerts::{NoiseAlerts, RuleEngine};
use crate::changes::{Change, ChangeKind, Changes};
use crate::estate::Estate;
use crate::fault::{Fault, FaultKind};
use crate::logs::{LogGen, LogRecord};
use crate::metrics::Scraper;
use crate::noise::NoiseGen;
use crate::rules::{self, Candidate};
use crate::scenario::Scenario;
use crate::time::rfc3339;
use crate::traces::{Span, TraceGen};
use crate::truth::{Affected, AlertTruth, IncidentTruth, RootCause, Truth};
use crate::world::World;

/// Why a simulation could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("invalid step `{0}` ms: it must be between 1 second and 1 hour")]
    InvalidStep(i64),
    #[error("invalid horizon `{0}` ms: it must be at least 10 minutes")]
    InvalidHorizon(i64),
}

/// How to run a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimConfig {
    pub seed: u64,
    pub scenario: Scenario,
    /// Simulated time of the first tick, epoch ms.
    pub start_ms: i64,
    /// Simulated time between ticks (the scrape interval).
    pub step_ms: i64,
    /// Nominal length of the run: faults are placed within it. The simulation can be stepped
    /// past it; afterwards only background remains (and faults that outlast it).
    pub horizon_ms: i64,
}

impl SimConfig {
    /// A 15-second scrape interval and a two-hour horizon.
    pub fn new(seed: u64, scenario: Scenario, start_ms: i64) -> Self {
        Self {
            seed,
            scenario,
            start_ms,
            step_ms: 15_000,
            horizon_ms: 7_200_000,
        }
    }
}

/// Everything the estate emitted in one tick, i.e. in `(t_ms - step_ms, t_ms]`.
#[derive(Debug, Clone)]
pub struct Tick {
    pub t_ms: i64,
    /// One sample per series, taken at `t_ms`.
    pub metrics: Vec<TimeSeries>,
    pub logs: Vec<LogRecord>,
    pub spans: Vec<Span>,
    /// Webhooks Alertmanager sent during the tick.
    pub alerts: Vec<Notification>,
    pub changes: Vec<Change>,
}

/// A running simulation. Deterministic: the same config gives the same ticks.
#[derive(Debug)]
pub struct Simulation {
    cfg: SimConfig,
    estate: Estate,
    faults: Vec<Fault>,
    k: i64,
    noise: NoiseGen,
    real: World,
    none: World,
    only: Vec<World>,
    scraper: Scraper,
    logs: LogGen,
    traces: TraceGen,
    changes: Changes,
    rules: RuleEngine,
    noise_alerts: NoiseAlerts,
    am: Alertmanager,
    truth: Truth,
}

impl Simulation {
    /// A simulation of `scenario` from `start_ms`, ticking every `step_ms`, two-hour horizon.
    pub fn new(
        seed: u64,
        scenario: Scenario,
        start_ms: i64,
        step_ms: i64,
    ) -> Result<Self, SimError> {
        Self::with_config(SimConfig {
            step_ms,
            ..SimConfig::new(seed, scenario, start_ms)
        })
    }

    /// A simulation with every setting explicit.
    pub fn with_config(cfg: SimConfig) -> Result<Self, SimError> {
        if !(1_000..=3_600_000).contains(&cfg.step_ms) {
            return Err(SimError::InvalidStep(cfg.step_ms));
        }
        if cfg.horizon_ms < 600_000 {
            return Err(SimError::InvalidHorizon(cfg.horizon_ms));
        }
        let estate = Estate::shop();
        let faults = cfg
            .scenario
            .faults(&estate, cfg.seed, cfg.start_ms, cfg.horizon_ms);
        let world =
            |fs: Vec<Fault>| World::new(&estate, fs, cfg.start_ms, cfg.step_ms, cfg.horizon_ms);
        let real = world(faults.clone());
        let none = world(Vec::new());
        let only = if faults.len() > 1 {
            faults.iter().map(|f| world(vec![f.clone()])).collect()
        } else {
            Vec::new()
        };
        let incidents = faults
            .iter()
            .map(|f| incident_truth(&estate, f, &cfg))
            .collect();
        let truth = Truth {
            scenario: cfg.scenario.name().to_string(),
            seed: cfg.seed,
            start_ms: cfg.start_ms,
            step_ms: cfg.step_ms,
            horizon_ms: cfg.horizon_ms,
            incidents,
            alerts: Vec::new(),
        };
        Ok(Self {
            noise: NoiseGen::new(cfg.seed, &estate, cfg.step_ms),
            scraper: Scraper::new(cfg.seed, &estate),
            logs: LogGen::new(cfg.seed, &estate),
            traces: TraceGen::new(cfg.seed),
            changes: Changes::new(cfg.seed, &estate),
            noise_alerts: NoiseAlerts::new(cfg.seed, &estate),
            rules: RuleEngine::default(),
            am: Alertmanager::default(),
            cfg,
            estate,
            faults,
            k: 0,
            real,
            none,
            only,
            truth,
        })
    }

    /// The estate being simulated.
    pub fn estate(&self) -> &Estate {
        &self.estate
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The injected faults.
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }

    /// The truth so far: every incident (including ones not started yet) and the alert
    /// episodes fired up to the last tick.
    pub fn truth(&self) -> &Truth {
        &self.truth
    }

    /// Time of the next tick, epoch ms.
    pub fn next_tick_ms(&self) -> i64 {
        self.cfg.start_ms + self.k * self.cfg.step_ms
    }

    /// Advances one step and returns what the estate emitted.
    pub fn step(&mut self) -> Tick {
        let t = self.next_tick_ms();
        let step = self.cfg.step_ms;
        self.k += 1;
        let noise = self.noise.next(t);
        self.real.advance(&self.estate, t, &noise);
        self.none.advance(&self.estate, t, &noise);
        for w in &mut self.only {
            w.advance(&self.estate, t, &noise);
        }
        let changes = self.changes.tick(&self.estate, &self.faults, t - step, t);
        for c in &changes {
            self.link_change(c);
        }
        let dt = step as f64 / 1000.0;
        let metrics = self
            .scraper
            .scrape(&self.estate, &self.real, &self.changes.versions, t, dt);
        let logs = self
            .logs
            .step(&self.estate, &self.real, &self.changes.versions, t, step);
        let spans = self.traces.step(&self.estate, &self.real, t, step);
        self.track_affected(t);

        let cands = rules::evaluate(&self.estate, &self.real, t);
        let mut cf: Option<(Vec<Candidate>, Vec<Vec<Candidate>>)> = None;
        let (estate, none, only, faults) = (&self.estate, &self.none, &self.only, &self.faults);
        let attribute = |i: usize| {
            let (n, o) = cf.get_or_insert_with(|| {
                (
                    rules::evaluate(estate, none, t),
                    only.iter().map(|w| rules::evaluate(estate, w, t)).collect(),
                )
            });
            if n[i].violated || faults.is_empty() {
                return None;
            }
            if faults.len() == 1 {
                return Some(faults[0].id.clone());
            }
            if let Some((f, _)) = faults.iter().zip(o.iter()).find(|(_, c)| c[i].violated) {
                return Some(f.id.clone());
            }
            // Only the faults together explain it: credit the latest to have started.
            faults
                .iter()
                .filter(|f| f.start_ms <= t)
                .max_by_key(|f| f.start_ms)
                .map(|f| f.id.clone())
        };
        let mut transitions = self.rules.step(t, &cands, attribute);
        transitions.extend(self.noise_alerts.step(t, step));
        for tr in transitions {
            if tr.fired {
                self.truth.alerts.push(AlertTruth {
                    fingerprint: fingerprint(&tr.event.labels),
                    starts_at: rfc3339(tr.event.starts_ms),
                    starts_at_ms: tr.event.starts_ms,
                    alertname: tr
                        .event
                        .labels
                        .get("alertname")
                        .cloned()
                        .unwrap_or_default(),
                    service: tr.event.labels.get("service").cloned(),
                    incident: tr.incident,
                });
            }
            self.am.receive(tr.event, t);
        }
        let alerts = self.am.flush(t);
        Tick {
            t_ms: t,
            metrics,
            logs,
            spans,
            alerts,
            changes,
        }
    }

    fn link_change(&mut self, c: &Change) {
        for (f, inc) in self.faults.iter().zip(self.truth.incidents.iter_mut()) {
            let caused = matches!(
                (f.kind, c.kind),
                (FaultKind::BadDeploy, ChangeKind::Deploy)
                    | (FaultKind::DiskFill, ChangeKind::Config)
            );
            if caused && c.time_ms == f.start_ms && c.service == inc.root_cause.service {
                inc.root_cause.change = Some(c.id.clone());
            }
        }
    }

    /// Records services whose signals depart from the no-fault world, per fault.
    fn track_affected(&mut self, t: i64) {
        for (k, f) in self.faults.iter().enumerate() {
            if t < f.start_ms {
                continue;
            }
            let w = if self.only.is_empty() {
                &self.real
            } else {
                &self.only[k]
            };
            let inc = &mut self.truth.incidents[k];
            for (s, svc) in self.estate.services.iter().enumerate() {
                if inc.affected.iter().any(|a| a.service == svc.name) {
                    continue;
                }
                let (a, b) = (w.view[s], self.none.view[s]);
                let departed = s == f.service
                    || a.err - b.err > 0.02
                    || a.p99_ms() > 1.3 * b.p99_ms()
                    || (b.rps > 1.0 && a.rps < 0.5 * b.rps)
                    || w.inst[s].iter().any(|i| !i.up);
                if departed {
                    inc.affected.push(Affected {
                        service: svc.name.clone(),
                        since_ms: t,
                    });
                }
            }
        }
    }
}

fn incident_truth(estate: &Estate, f: &Fault, cfg: &SimConfig) -> IncidentTruth {
    let svc = &estate.services[f.service];
    let instance = f.instance.map(|i| svc.instances[i].name.clone());
    let node = (f.kind == FaultKind::NoisyNeighbour)
        .then(|| svc.instances[f.instance.unwrap_or(0)].node.clone());
    let where_ = instance.clone().unwrap_or_else(|| svc.name.clone());
    let description = match f.kind {
        FaultKind::DbSlowdown => format!("queries on {where_} slow down"),
        FaultKind::MemoryLeak => format!("{where_} leaks memory until OOM-killed"),
        FaultKind::BadDeploy => format!("a new version of {where_} fails requests"),
        FaultKind::DiskFill => format!("the volume of {where_} fills up"),
        FaultKind::CacheFailure => format!("{where_} stops answering"),
        FaultKind::NetworkLoss => format!("{where_} drops packets"),
        FaultKind::NoisyNeighbour => format!(
            "a batch job on {where_} saturates {}",
            node.as_deref().unwrap_or("its node")
        ),
        FaultKind::CertExpiry => format!("the TLS certificate of {where_} expires"),
    };
    // Workers count messages, not HTTP requests.
    let metric = match (f.kind, svc.kind) {
        (FaultKind::BadDeploy, crate::estate::ServiceKind::Worker) => "messages_processed_total",
        (k, _) => k.root_metric(),
    };
    IncidentTruth {
        id: f.id.clone(),
        kind: f.kind,
        root_cause: RootCause {
            service: svc.name.clone(),
            instance,
            node,
            metric: metric.to_string(),
            change: None,
        },
        start_ms: f.start_ms,
        end_ms: (f.end_ms <= cfg.start_ms + cfg.horizon_ms).then_some(f.end_ms),
        description,
        affected: Vec::new(),
    }
}
