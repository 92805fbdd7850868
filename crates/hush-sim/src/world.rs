//! The latent state of the estate and how it evolves: the causal model behind every signal.
//!
//! A [`World`] advances one tick at a time from the shared [`TickNoise`] and the faults active
//! in it. The simulation keeps one real world (all faults) and counterfactual worlds (no fault;
//! each fault alone) fed the same noise; comparing them answers "would this alert have fired
//! but for that fault?", which is how the truth attributes alerts to incidents.
//!
//! Propagation: callers see each callee through a lagged view ([`crate::estate::Edge::lag_ms`]);
//! latency adds along calls, errors pass on in part ([`crate::estate::Edge::error_pass`]),
//! slow callees fill connection pools (Little's law) and trip timeouts, cache errors turn into
//! database load, failing consumers grow queues, and CPU demand on a node starves neighbours.

use std::collections::VecDeque;

use crate::estate::{Estate, ServiceKind};
use crate::fault::{Effect, Fault, FaultKind};
use crate::noise::{PEAK_RPS, TickNoise};
use crate::rng::lognormal_cdf;

/// Client timeout on internal calls, milliseconds.
pub const TIMEOUT_MS: f64 = 2_000.0;
/// Database connections per pool per instance.
pub const POOL_MAX: f64 = 20.0;
/// CPU cores per node.
pub const NODE_CORES: f64 = 8.0;
/// The two queues on RabbitMQ and their consumers.
pub const QUEUES: [(&str, &str); 2] = [
    ("orders", "order-worker"),
    ("notifications", "notifications"),
];

/// One instance's state after a tick.
#[derive(Debug, Clone, Default)]
pub struct InstState {
    pub up: bool,
    pub restarts: u32,
    /// When the kernel last OOM-killed it.
    pub last_oom_ms: Option<i64>,
    down_until: i64,
    /// Requests served per second.
    pub rps: f64,
    /// Median of the instance's own work, without downstream calls, milliseconds.
    pub own_ms: f64,
    /// Share of requests failing for the instance's own reasons (not its callees').
    pub own_err: f64,
    /// Median latency including downstream calls, milliseconds.
    pub median_ms: f64,
    /// Log-space spread of latency.
    pub sigma: f64,
    /// Share of requests failing.
    pub err: f64,
    /// Share of requests failing by timeout (a part of `err`).
    pub timeout_err: f64,
    /// CPU cores used.
    pub cpu: f64,
    /// Share of CPU demand not served (container limit or node contention).
    pub throttle: f64,
    pub mem: f64,
    leak: f64,
    /// Volume bytes used (stateful services).
    pub disk: f64,
    /// Database connections in use.
    pub pool_used: f64,
    pub packet_loss: f64,
    /// Requests waiting for a database connection (share).
    pub pool_wait: f64,
}

/// How callers see a service.
#[derive(Debug, Clone, Copy)]
pub struct SvcView {
    pub rps: f64,
    pub median_ms: f64,
    pub sigma: f64,
    pub err: f64,
    pub cert_expired: bool,
}

impl SvcView {
    /// The 99th percentile of a log-normal latency.
    pub fn p99_ms(&self) -> f64 {
        self.median_ms * (2.326 * self.sigma).exp()
    }
    fn mean_ms(&self) -> f64 {
        (self.median_ms * (self.sigma * self.sigma / 2.0).exp()).min(TIMEOUT_MS)
    }
}

/// One possible history of the estate.
#[derive(Debug, Clone)]
pub struct World {
    faults: Vec<Fault>,
    /// Time of the last tick, epoch ms.
    pub t_ms: i64,
    step_ms: i64,
    horizon_ms: i64,
    pub inst: Vec<Vec<InstState>>,
    pub view: Vec<SvcView>,
    hist: VecDeque<Vec<SvcView>>,
    /// Messages waiting per queue of [`QUEUES`].
    pub backlog: [f64; 2],
    /// Messages published per second per queue.
    pub published: [f64; 2],
    node_steal: Vec<f64>,
    /// CPU demand over capacity per node (above 1 means contention).
    pub node_util: Vec<f64>,
    /// Certificate expiry (epoch ms) of services probed over TLS.
    pub cert_not_after: Vec<Option<i64>>,
    consumed: [f64; 2],
    disk_free0: Vec<Vec<f64>>,
}

fn combine(a: f64, b: f64) -> f64 {
    1.0 - (1.0 - a.clamp(0.0, 1.0)) * (1.0 - b.clamp(0.0, 1.0))
}

impl World {
    /// A healthy world at `start_ms` in which `faults` will happen.
    pub fn new(
        estate: &Estate,
        faults: Vec<Fault>,
        start_ms: i64,
        step_ms: i64,
        horizon_ms: i64,
    ) -> Self {
        let inst: Vec<Vec<InstState>> = estate
            .services
            .iter()
            .map(|s| {
                let used0 = match s.kind {
                    ServiceKind::Database => 0.58,
                    ServiceKind::Queue => 0.22,
                    _ => 0.15,
                };
                (0..s.instances.len())
                    .map(|_| InstState {
                        up: true,
                        disk: s.disk_capacity * used0,
                        mem: s.mem_base,
                        ..Default::default()
                    })
                    .collect()
            })
            .collect();
        let disk_free0 = estate
            .services
            .iter()
            .zip(&inst)
            .map(|(s, is)| is.iter().map(|i| s.disk_capacity - i.disk).collect())
            .collect();
        let view = estate
            .services
            .iter()
            .map(|s| SvcView {
                rps: 0.0,
                median_ms: s.median_ms,
                sigma: s.sigma,
                err: 0.0,
                cert_expired: false,
            })
            .collect();
        let cert_not_after = estate
            .services
            .iter()
            .map(|s| {
                matches!(s.name.as_str(), "gateway" | "payments")
                    .then_some(start_ms + 41 * 86_400_000)
            })
            .collect();
        Self {
            faults,
            t_ms: 0,
            step_ms,
            horizon_ms,
            inst,
            view,
            hist: VecDeque::new(),
            backlog: [0.0; 2],
            published: [0.0; 2],
            node_steal: vec![0.0; estate.nodes.len()],
            node_util: vec![0.0; estate.nodes.len()],
            cert_not_after,
            consumed: [0.0; 2],
            disk_free0,
        }
    }

    /// The faults that happen in this world.
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }

    /// How callers saw service `s` `lag_ms` ago.
    fn lagged(&self, s: usize, lag_ms: i64) -> SvcView {
        let k = (lag_ms / self.step_ms).max(1) as usize;
        match self.hist.len().checked_sub(k) {
            Some(i) => self.hist[i][s],
            None => self.hist.front().map_or(self.view[s], |h| h[s]),
        }
    }

    fn effect(&self, estate: &Estate, s: usize, i: usize, t: i64) -> Effect {
        let mut e = Effect::default();
        for f in self.faults.iter().filter(|f| f.service == s) {
            let svc = &estate.services[s];
            e.merge(&f.effect(
                i,
                t,
                self.horizon_ms,
                svc.mem_limit - svc.mem_base,
                self.disk_free0[s][i],
            ));
        }
        e
    }

    /// Advances to the tick at `t` with the shared `noise`.
    pub fn advance(&mut self, estate: &Estate, t: i64, noise: &TickNoise) {
        self.t_ms = t;
        let n = estate.services.len();
        let dt = self.step_ms as f64 / 1000.0;
        let effects: Vec<Vec<Effect>> = (0..n)
            .map(|s| {
                (0..estate.services[s].instances.len())
                    .map(|i| self.effect(estate, s, i, t))
                    .collect()
            })
            .collect();
        for f in &self.faults {
            if f.kind == FaultKind::CertExpiry && t >= f.start_ms - self.horizon_ms {
                // The certificate was issued long ago for exactly this date; renewal at the end.
                self.cert_not_after[f.service] = Some(if t < f.end_ms {
                    f.start_ms
                } else {
                    f.end_ms + 90 * 86_400_000
                });
            }
        }
        let cert_expired: Vec<bool> = effects
            .iter()
            .map(|es| es.iter().any(|e| e.cert_expired))
            .collect();

        // 1. Load, callers first. A caller's extra database calls come from its cache's errors.
        let mut rps = vec![0.0; n];
        let mut order = estate.callees_first();
        order.reverse();
        for &s in &order {
            let svc = &estate.services[s];
            rps[s] += match svc.kind {
                ServiceKind::Gateway => PEAK_RPS * noise.traffic,
                ServiceKind::Worker => QUEUES
                    .iter()
                    .position(|q| q.1 == svc.name)
                    .map_or(0.0, |q| self.consumed[q]),
                ServiceKind::Batch => 1.0,
                _ => 0.0,
            };
            if cert_expired[s] {
                // Handshakes fail before requests arrive: only health checks get through.
                rps[s] *= 0.02;
            }
            let cache_err = svc
                .depends_on
                .iter()
                .find(|e| estate.services[e.to].kind == ServiceKind::Cache)
                .map_or(0.0, |e| e.calls * self.lagged(e.to, e.lag_ms).err);
            for e in &svc.depends_on {
                let extra = if estate.services[e.to].kind == ServiceKind::Database {
                    0.6 * cache_err
                } else {
                    0.0
                };
                rps[e.to] += rps[s] * (e.calls + extra);
            }
        }

        // 2. Queues: checkout publishes one message per order to each queue.
        let checkout = estate.index("checkout").unwrap_or(0);
        let pub_rate = rps[checkout] * (1.0 - self.view[checkout].err);
        for (q, (_, consumer)) in QUEUES.iter().enumerate() {
            self.published[q] = pub_rate;
            let c = estate.index(consumer).unwrap_or(0);
            let up = self.inst[c].iter().filter(|i| i.up).count() as f64;
            let v = self.view[c];
            // Four concurrent handlers per pod; failed messages are requeued, not consumed.
            let capacity = up * 4.0 * 1000.0 / v.mean_ms().max(1.0);
            let served = capacity.min(pub_rate + self.backlog[q] / dt);
            self.consumed[q] = served;
            self.backlog[q] = (self.backlog[q] + (pub_rate - served * (1.0 - v.err)) * dt).max(0.0);
        }

        // 3. Each instance.
        let mut node_demand = vec![0.0; estate.nodes.len()];
        for s in 0..n {
            let svc = &estate.services[s];
            let deps: Vec<SvcView> = svc
                .depends_on
                .iter()
                .map(|e| self.lagged(e.to, e.lag_ms))
                .collect();
            let up_share: f64 = (0..svc.instances.len())
                .filter(|&i| self.inst[s][i].up)
                .map(|i| noise.share[s][i])
                .sum();
            for (i, &e) in effects[s].iter().enumerate() {
                let node = estate
                    .nodes
                    .iter()
                    .position(|x| *x == svc.instances[i].node)
                    .unwrap_or(0);
                let st = &mut self.inst[s][i];
                if !st.up && t >= st.down_until {
                    st.up = true;
                }
                let share = if st.up && up_share > 0.0 {
                    noise.share[s][i] / up_share
                } else {
                    0.0
                };
                st.rps = rps[s] * share;
                st.packet_loss = e.packet_loss;
                let steal = self.node_steal[node];
                let gc = ((st.mem / svc.mem_limit - 0.85) / 0.15).clamp(0.0, 1.0);
                let demand = 0.03
                    + st.rps * svc.cpu_ms_per_req / 1000.0 * (1.0 + 0.5 * st.err)
                    + e.cpu_add
                    + 0.4 * gc;
                let throttle = combine((1.0 - svc.cpu_limit / demand).max(0.0), steal);
                let rho = (demand / svc.cpu_limit).min(1.0);
                let queueing = 1.0 + 4.0 * ((rho - 0.75).max(0.0) / 0.25).powi(2);
                let mut own = svc.median_ms
                    * noise.latency[s][i]
                    * e.latency_mult
                    * (1.0 + 4.0 * gc * gc)
                    * queueing
                    * (1.0 + 3.0 * throttle);
                let disk_full = svc.disk_capacity > 0.0 && st.disk >= svc.disk_capacity;
                if disk_full {
                    own *= 3.0;
                }
                let mut down_ms = 0.0;
                let mut err = combine(svc.base_error * noise.error[s][i], e.error_add);
                let mut tmo = 0.0;
                let mut pool_used = 0.0;
                let mut pool_wait: f64 = 0.0;
                for (edge, &v) in svc.depends_on.iter().zip(&deps) {
                    let calls = edge.calls.min(3.0);
                    down_ms += 0.7 * calls * v.mean_ms();
                    let fail = if v.cert_expired { 1.0 } else { v.err };
                    err = combine(err, (1.0 - (1.0 - fail).powf(calls)) * edge.error_pass);
                    let late = 1.0 - lognormal_cdf(TIMEOUT_MS, v.median_ms, v.sigma);
                    let late = 1.0 - (1.0 - late).powf(calls);
                    tmo = combine(tmo, late * edge.error_pass);
                    if estate.services[edge.to].kind == ServiceKind::Database {
                        // Little's law: connections busy = call rate × time each is held.
                        let busy = st.rps * edge.calls * v.mean_ms() / 1000.0 * 1.3;
                        pool_used = busy.min(POOL_MAX);
                        pool_wait = pool_wait.max((1.0 - POOL_MAX / busy.max(1e-9)).max(0.0));
                    }
                }
                down_ms += pool_wait * 3_000.0;
                err = combine(combine(err, tmo), pool_wait * 0.7);
                if disk_full {
                    err = combine(err, 0.85);
                }
                let loss = e.packet_loss;
                err = combine(err, loss * 0.45);
                st.own_ms = own * (1.0 + 6.0 * loss);
                st.own_err = combine(
                    combine(svc.base_error * noise.error[s][i], e.error_add),
                    loss * 0.45,
                );
                if disk_full {
                    st.own_err = combine(st.own_err, 0.85);
                }
                st.median_ms = (own + down_ms) * (1.0 + 6.0 * loss);
                st.sigma = (svc.sigma + 0.5 * loss + 0.25 * gc + 0.15 * pool_wait).min(1.6);
                st.err = err.min(1.0);
                st.timeout_err = tmo.min(st.err);
                st.pool_used = pool_used;
                st.pool_wait = pool_wait;
                st.throttle = throttle;
                st.cpu = if st.up {
                    demand.min(svc.cpu_limit) * (1.0 - steal)
                } else {
                    0.0
                };
                node_demand[node] += demand.min(svc.cpu_limit);
                // Memory: a floor, a load-driven part, and the leak; at the limit the kernel
                // kills the pod, which restarts clean 45 seconds later.
                st.leak += e.leak_bytes_per_s * dt;
                st.mem = svc.mem_base * (1.0 + 0.12 * (st.rps / 50.0).min(1.0)) + st.leak;
                if st.up && st.mem >= svc.mem_limit {
                    st.up = false;
                    st.down_until = t + 45_000;
                    st.restarts += 1;
                    st.last_oom_ms = Some(t);
                    st.leak = 0.0;
                    st.mem = svc.mem_base;
                }
                if svc.disk_capacity > 0.0 {
                    let growth = 2_000.0 * st.rps.min(500.0) + e.disk_bytes_per_s;
                    st.disk = (st.disk + growth * dt).min(svc.disk_capacity);
                }
                if !st.up {
                    st.rps = 0.0;
                }
            }
        }
        self.node_util = node_demand.iter().map(|d| d / NODE_CORES).collect();
        self.node_steal = node_demand
            .iter()
            .map(|d| ((d - NODE_CORES) / d).max(0.0))
            .collect();

        // 4. What callers will see of each service.
        for (s, &expired) in cert_expired.iter().enumerate() {
            let is = &self.inst[s];
            let total: f64 = is.iter().filter(|i| i.up).map(|i| i.rps).sum();
            let w = |f: &dyn Fn(&InstState) -> f64| {
                if total > 0.0 {
                    is.iter()
                        .filter(|i| i.up)
                        .map(|i| i.rps * f(i))
                        .sum::<f64>()
                        / total
                } else {
                    is.iter().map(f).sum::<f64>() / is.len() as f64
                }
            };
            let up = is.iter().filter(|i| i.up).count() as f64 / is.len() as f64;
            self.view[s] = SvcView {
                rps: total,
                median_ms: w(&|i| i.median_ms),
                sigma: w(&|i| i.sigma),
                // Calls routed to a pod that just died fail until the endpoints update.
                err: combine(w(&|i| i.err), (1.0 - up) * 0.3),
                cert_expired: expired,
            };
        }
        self.hist.push_back(self.view.clone());
        if self.hist.len() > 8 {
            self.hist.pop_front();
        }
    }
}
