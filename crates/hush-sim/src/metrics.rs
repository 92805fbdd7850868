//! Prometheus metrics as exporters would expose them, scraped once per tick from the real world.
//!
//! Counters are cumulative and integral (requests are counted, not estimated); latency is a
//! classic histogram with Prometheus' default buckets over a heavy-tailed mixture: a log-normal
//! body plus a 1 % tail six times slower (retries, GC, cold caches).

use hush_model::{Labels, LabelsBuilder, Sample, TimeSeries};

use crate::estate::{Estate, ServiceKind};
use crate::rng::{SimRng, lognormal_cdf};
use crate::world::{POOL_MAX, QUEUES, World};

/// Prometheus' default histogram buckets, seconds.
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const CODES: [&str; 5] = ["200", "404", "500", "503", "504"];
const TAIL_SHARE: f64 = 0.01;
const TAIL_FACTOR: f64 = 6.0;

/// Share of requests at or under `le_ms` for the heavy-tailed latency mixture.
pub fn latency_cdf(le_ms: f64, median_ms: f64, sigma: f64) -> f64 {
    (1.0 - TAIL_SHARE) * lognormal_cdf(le_ms, median_ms, sigma)
        + TAIL_SHARE * lognormal_cdf(le_ms, median_ms * TAIL_FACTOR, sigma + 0.3)
}

/// Mean of the same mixture, milliseconds.
pub fn latency_mean(median_ms: f64, sigma: f64) -> f64 {
    (1.0 - TAIL_SHARE) * median_ms * (sigma * sigma / 2.0).exp()
        + TAIL_SHARE * median_ms * TAIL_FACTOR * ((sigma + 0.3).powi(2) / 2.0).exp()
}

#[derive(Debug, Clone, Default)]
struct Counters {
    codes: [f64; 5],
    buckets: [f64; 11],
    sum: f64,
    count: f64,
    cpu: f64,
    periods: f64,
    throttled: f64,
    rx: f64,
    dropped: f64,
    db_commit: f64,
    db_rollback: f64,
    hits: f64,
    misses: f64,
    redis_errors: f64,
}

/// Cumulative counter state and the label sets, built once.
#[derive(Debug)]
pub struct Scraper {
    rng: SimRng,
    counters: Vec<Vec<Counters>>,
    queue: [[f64; 2]; 2],
}

/// Builds the series of one scrape.
struct Out<'a> {
    t: i64,
    series: &'a mut Vec<TimeSeries>,
}

impl Out<'_> {
    fn push(&mut self, name: &str, base: &[(&str, &str)], extra: &[(&str, &str)], v: f64) {
        let mut b = LabelsBuilder::with_capacity(base.len() + extra.len() + 1);
        b.push("__name__", name);
        for (k, val) in base.iter().chain(extra) {
            b.push(*k, *val);
        }
        let labels = b.build().unwrap_or_else(|_| Labels::empty());
        self.series
            .push(TimeSeries::new(labels, vec![Sample::new(self.t, v)]));
    }
}

/// Rounds `x` up or down at random with the right expectation, so counts stay integral.
fn round_random(x: f64, rng: &mut SimRng) -> f64 {
    let f = x.floor();
    f + if rng.chance(x - f) { 1.0 } else { 0.0 }
}

impl Scraper {
    /// A scraper whose counters start at zero (fresh processes).
    pub fn new(seed: u64, estate: &Estate) -> Self {
        let counters = estate
            .services
            .iter()
            .map(|s| vec![Counters::default(); s.instances.len()])
            .collect();
        Self {
            rng: SimRng::stream(seed, "metrics"),
            counters,
            queue: [[0.0; 2]; 2],
        }
    }

    /// Accounts for the last `dt` seconds of `world` and returns one sample per series at `t`.
    pub fn scrape(
        &mut self,
        estate: &Estate,
        world: &World,
        versions: &[Vec<String>],
        t: i64,
        dt: f64,
    ) -> Vec<TimeSeries> {
        let mut series = Vec::with_capacity(2048);
        let mut out = Out {
            t,
            series: &mut series,
        };
        let ns = ("namespace", "shop");
        for (s, svc) in estate.services.iter().enumerate() {
            let has_pool = svc
                .depends_on
                .iter()
                .any(|e| estate.services[e.to].kind == ServiceKind::Database);
            for (i, inst) in svc.instances.iter().enumerate() {
                let st = &world.inst[s][i];
                let base = [
                    ("job", svc.name.as_str()),
                    ("service", svc.name.as_str()),
                    ("instance", inst.name.as_str()),
                    ns,
                ];
                out.push(
                    "kube_pod_info",
                    &[
                        ("namespace", "shop"),
                        ("pod", &inst.name),
                        ("node", &inst.node),
                        ("service", &svc.name),
                    ],
                    &[],
                    1.0,
                );
                let c = &mut self.counters[s][i];
                out.push(
                    "kube_pod_container_status_restarts_total",
                    &base,
                    &[],
                    f64::from(st.restarts),
                );
                out.push("up", &base, &[], if st.up { 1.0 } else { 0.0 });
                if !st.up {
                    // A dead target exposes nothing but `up`; counters restart from zero.
                    *c = Counters::default();
                    continue;
                }
                let n = self.rng.poisson(st.rps * dt) as f64;
                c.cpu += st.cpu * dt;
                c.periods += 10.0 * dt;
                c.throttled += round_random(10.0 * dt * st.throttle, &mut self.rng);
                let packets = n * 12.0 + 40.0 * dt;
                c.rx += packets.round();
                c.dropped += round_random(packets * st.packet_loss, &mut self.rng);
                out.push(
                    "process_cpu_seconds_total",
                    &base,
                    &[],
                    (c.cpu * 100.0).round() / 100.0,
                );
                out.push(
                    "process_resident_memory_bytes",
                    &base,
                    &[],
                    (st.mem / 4096.0).round() * 4096.0,
                );
                out.push(
                    "container_spec_memory_limit_bytes",
                    &base,
                    &[],
                    svc.mem_limit,
                );
                out.push("container_cpu_cfs_periods_total", &base, &[], c.periods);
                out.push(
                    "container_cpu_cfs_throttled_periods_total",
                    &base,
                    &[],
                    c.throttled,
                );
                out.push("container_network_receive_packets_total", &base, &[], c.rx);
                out.push(
                    "container_network_receive_packets_dropped_total",
                    &base,
                    &[],
                    c.dropped,
                );
                if svc.kind.is_http() || svc.kind == ServiceKind::Worker {
                    out.push(
                        "app_build_info",
                        &base,
                        &[("version", versions[s][i].as_str())],
                        1.0,
                    );
                }
                if svc.kind.is_http() || svc.kind == ServiceKind::Worker {
                    let err_other = (st.err - st.timeout_err).max(0.0);
                    let p = [0.0, 0.012, err_other * 0.7, err_other * 0.3, st.timeout_err];
                    let mut rest = n;
                    for k in (1..5).rev() {
                        let x = round_random(n * p[k], &mut self.rng).min(rest);
                        c.codes[k] += x;
                        rest -= x;
                    }
                    c.codes[0] += rest;
                    let mut prev = 0.0;
                    for (b, le) in BUCKETS.iter().enumerate() {
                        let cum = (n * latency_cdf(le * 1000.0, st.median_ms, st.sigma))
                            .round()
                            .max(prev);
                        c.buckets[b] += cum;
                        prev = cum;
                    }
                    c.count += n;
                    c.sum += n * latency_mean(st.median_ms, st.sigma) / 1000.0;
                    let (family, code_label) = if svc.kind == ServiceKind::Worker {
                        ("messages_processed", "result")
                    } else {
                        ("http_requests", "code")
                    };
                    for (k, code) in CODES.iter().enumerate() {
                        if svc.kind == ServiceKind::Worker && k > 0 {
                            continue;
                        }
                        let v = if svc.kind == ServiceKind::Worker {
                            c.codes[0]
                        } else {
                            c.codes[k]
                        };
                        let label = if svc.kind == ServiceKind::Worker {
                            "success"
                        } else {
                            code
                        };
                        out.push(&format!("{family}_total"), &base, &[(code_label, label)], v);
                    }
                    if svc.kind == ServiceKind::Worker {
                        out.push(
                            "messages_processed_total",
                            &base,
                            &[("result", "error")],
                            c.codes[2..].iter().sum(),
                        );
                    }
                    let hist = if svc.kind == ServiceKind::Worker {
                        "message_processing_duration_seconds"
                    } else {
                        "http_request_duration_seconds"
                    };
                    for (b, le) in BUCKETS.iter().enumerate() {
                        out.push(
                            &format!("{hist}_bucket"),
                            &base,
                            &[("le", &le.to_string())],
                            c.buckets[b],
                        );
                    }
                    out.push(&format!("{hist}_bucket"), &base, &[("le", "+Inf")], c.count);
                    out.push(
                        &format!("{hist}_sum"),
                        &base,
                        &[],
                        (c.sum * 1000.0).round() / 1000.0,
                    );
                    out.push(&format!("{hist}_count"), &base, &[], c.count);
                }
                if has_pool {
                    let used = st.pool_used.round();
                    out.push(
                        "db_client_connections_usage",
                        &base,
                        &[("pool_name", "shop"), ("state", "used")],
                        used,
                    );
                    out.push(
                        "db_client_connections_usage",
                        &base,
                        &[("pool_name", "shop"), ("state", "idle")],
                        POOL_MAX - used,
                    );
                    out.push(
                        "db_client_connections_max",
                        &base,
                        &[("pool_name", "shop")],
                        POOL_MAX,
                    );
                    out.push(
                        "db_client_connections_pending_requests",
                        &base,
                        &[("pool_name", "shop")],
                        (st.pool_wait * st.rps).round(),
                    );
                }
                match svc.kind {
                    ServiceKind::Database => {
                        c.db_commit += round_random(n * (1.0 - st.err), &mut self.rng);
                        c.db_rollback += round_random(n * st.err, &mut self.rng);
                        let db = [("datname", "shop")];
                        out.push("pg_up", &base, &[], 1.0);
                        out.push("pg_stat_database_xact_commit", &base, &db, c.db_commit);
                        out.push("pg_stat_database_xact_rollback", &base, &db, c.db_rollback);
                        let active =
                            (st.rps * latency_mean(st.median_ms, st.sigma) / 1000.0).round();
                        out.push(
                            "pg_stat_activity_count",
                            &base,
                            &[("state", "active")],
                            active,
                        );
                        // The longest running transaction: far out in the tail of the latency.
                        let max_tx = st.median_ms * (3.0 * st.sigma).exp() / 1000.0
                            * self.rng.uniform(0.8, 1.5);
                        out.push(
                            "pg_stat_activity_max_tx_duration",
                            &base,
                            &[("state", "active")],
                            (max_tx * 1000.0).round() / 1000.0,
                        );
                    }
                    ServiceKind::Cache => {
                        let miss = (0.06 + st.err).min(1.0);
                        c.hits += round_random(n * (1.0 - miss), &mut self.rng);
                        c.misses += round_random(n * miss, &mut self.rng);
                        c.redis_errors += round_random(n * st.err, &mut self.rng);
                        out.push("redis_up", &base, &[], 1.0);
                        out.push("redis_commands_processed_total", &base, &[], c.count_or(n));
                        out.push("redis_keyspace_hits_total", &base, &[], c.hits);
                        out.push("redis_keyspace_misses_total", &base, &[], c.misses);
                        out.push("redis_errors_total", &base, &[], c.redis_errors);
                        out.push(
                            "redis_memory_used_bytes",
                            &base,
                            &[],
                            (st.mem * 0.8 / 4096.0).round() * 4096.0,
                        );
                    }
                    ServiceKind::Queue if i == 0 => {
                        // Queue leaders live on the first node of the cluster.
                        for (q, (name, _)) in QUEUES.iter().enumerate() {
                            self.queue[q][0] +=
                                round_random(world.published[q] * dt, &mut self.rng);
                            self.queue[q][1] =
                                (self.queue[q][0] - world.backlog[q].round()).max(self.queue[q][1]);
                            let ql = [("queue", *name), ("vhost", "/")];
                            out.push(
                                "rabbitmq_queue_messages_ready",
                                &base,
                                &ql,
                                world.backlog[q].round(),
                            );
                            out.push(
                                "rabbitmq_queue_messages_published_total",
                                &base,
                                &ql,
                                self.queue[q][0],
                            );
                            out.push(
                                "rabbitmq_queue_messages_delivered_total",
                                &base,
                                &ql,
                                self.queue[q][1],
                            );
                        }
                    }
                    _ => {}
                }
                if svc.disk_capacity > 0.0 {
                    let pvc = format!("data-{}", inst.name);
                    let pl = [("persistentvolumeclaim", pvc.as_str())];
                    out.push(
                        "kubelet_volume_stats_used_bytes",
                        &base,
                        &pl,
                        (st.disk / 4096.0).round() * 4096.0,
                    );
                    out.push(
                        "kubelet_volume_stats_capacity_bytes",
                        &base,
                        &pl,
                        svc.disk_capacity,
                    );
                }
            }
            if let Some(na) = world.cert_not_after[s] {
                let target = format!("https://{}.shop.svc:8443", svc.name);
                let bl = [
                    ("job", "blackbox"),
                    ("instance", target.as_str()),
                    ("service", svc.name.as_str()),
                    ns,
                ];
                out.push(
                    "probe_ssl_earliest_cert_expiry",
                    &bl,
                    &[],
                    (na / 1000) as f64,
                );
                out.push("probe_success", &bl, &[], if na > t { 1.0 } else { 0.0 });
            }
        }
        for (k, node) in estate.nodes.iter().enumerate() {
            let u = (world.node_util[k].min(1.0) * 1000.0).round() / 1000.0;
            out.push(
                "instance:node_cpu_utilisation:rate5m",
                &[("job", "node-exporter"), ("node", node.as_str())],
                &[],
                u,
            );
        }
        series
    }
}

impl Counters {
    fn count_or(&mut self, n: f64) -> f64 {
        self.count += n;
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_heavy() {
        // p99.9 of the mixture is far beyond the body's.
        let body = lognormal_cdf(60.0, 10.0, 0.5);
        let mix = latency_cdf(60.0, 10.0, 0.5);
        assert!(body > 0.99 && mix < body);
        assert!(latency_mean(10.0, 0.5) > 10.0 * (0.125f64).exp());
        let mut prev = 0.0;
        for le in BUCKETS {
            let f = latency_cdf(le * 1000.0, 10.0, 0.5);
            assert!(f >= prev);
            prev = f;
        }
    }
}
