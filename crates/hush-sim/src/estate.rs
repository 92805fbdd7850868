//! The simulated estate: an online shop of 18 services, their instances, nodes and call graph.
//!
//! The estate is fixed (it does not depend on the seed) so that a topology file written once
//! stays true for every run; the seed only drives traffic, noise and the faults.

use std::fmt::Write as _;

/// What a service is; decides which metrics it exposes and how it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// The edge proxy that receives every request.
    Gateway,
    /// Server-side rendering of the shop pages.
    Web,
    /// An internal HTTP API.
    Api,
    /// Consumes messages from the queue.
    Worker,
    /// Scheduled batch jobs.
    Batch,
    /// PostgreSQL.
    Database,
    /// Redis.
    Cache,
    /// RabbitMQ.
    Queue,
}

impl ServiceKind {
    /// The name used in the topology file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gateway => "gateway",
            Self::Web => "web",
            Self::Api => "api",
            Self::Worker => "worker",
            Self::Batch => "batch",
            Self::Database => "database",
            Self::Cache => "cache",
            Self::Queue => "queue",
        }
    }

    /// Whether it serves HTTP and so exposes `http_requests_total` and friends.
    pub fn is_http(self) -> bool {
        matches!(self, Self::Gateway | Self::Web | Self::Api)
    }

    /// Whether it runs as a StatefulSet with a volume (pods named `name-0`, disk metrics).
    pub fn is_stateful(self) -> bool {
        matches!(self, Self::Database | Self::Cache | Self::Queue)
    }
}

/// One call edge: the caller makes `calls` requests to `to` per request it serves.
#[derive(Debug, Clone)]
pub struct Edge {
    /// Index of the callee in [`Estate::services`].
    pub to: usize,
    /// Calls per request served by the caller.
    pub calls: f64,
    /// How long a callee's trouble takes to show in the caller (pools fill, retries pile up).
    pub lag_ms: i64,
    /// Share of the callee's errors the caller passes on (the rest is absorbed by retries and
    /// fallbacks): the partial impact real estates show.
    pub error_pass: f64,
}

/// One running copy of a service.
#[derive(Debug, Clone)]
pub struct Instance {
    /// The pod name, used as the `instance` label.
    pub name: String,
    /// The node it runs on.
    pub node: String,
}

/// A service of the estate with its nominal behaviour.
#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub kind: ServiceKind,
    pub team: String,
    /// `critical`, `high`, `medium` or `low`.
    pub criticality: &'static str,
    pub instances: Vec<Instance>,
    pub depends_on: Vec<Edge>,
    /// Median of the service's own work per request, milliseconds.
    pub median_ms: f64,
    /// Log-space spread of its own latency.
    pub sigma: f64,
    /// Share of requests failing on a good day.
    pub base_error: f64,
    /// CPU milliseconds spent per request.
    pub cpu_ms_per_req: f64,
    /// CPU cores each instance may use.
    pub cpu_limit: f64,
    /// Resident memory of an idle instance, bytes.
    pub mem_base: f64,
    /// Container memory limit, bytes.
    pub mem_limit: f64,
    /// Volume capacity per instance for stateful services, bytes.
    pub disk_capacity: f64,
    /// The version running at the start.
    pub version: String,
    /// The p99 latency the team promises, milliseconds (alerting threshold).
    pub slo_p99_ms: f64,
}

impl Service {
    /// Whether this service calls `to`.
    pub fn calls(&self, to: usize) -> bool {
        self.depends_on.iter().any(|e| e.to == to)
    }
}

/// The whole estate.
#[derive(Debug, Clone)]
pub struct Estate {
    pub services: Vec<Service>,
    /// Node names, `node-1` …
    pub nodes: Vec<String>,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

struct Spec {
    name: &'static str,
    kind: ServiceKind,
    team: &'static str,
    crit: &'static str,
    n: usize,
    deps: &'static [(&'static str, f64)],
    median_ms: f64,
    cpu_ms: f64,
    mem_mib: f64,
    limit_mib: f64,
}

#[rustfmt::skip]
const SPECS: &[Spec] = &[
    Spec { name: "gateway", kind: ServiceKind::Gateway, team: "edge", crit: "critical", n: 3, deps: &[("frontend", 1.0)], median_ms: 2.0, cpu_ms: 0.6, mem_mib: 120.0, limit_mib: 512.0 },
    Spec { name: "frontend", kind: ServiceKind::Web, team: "web", crit: "critical", n: 4, deps: &[("catalog", 2.0), ("search", 0.3), ("recommendations", 0.6), ("cart", 0.5), ("checkout", 0.08), ("users", 0.7)], median_ms: 12.0, cpu_ms: 4.0, mem_mib: 380.0, limit_mib: 1024.0 },
    Spec { name: "catalog", kind: ServiceKind::Api, team: "catalog", crit: "high", n: 3, deps: &[("redis", 3.0), ("postgres", 0.4)], median_ms: 4.0, cpu_ms: 1.5, mem_mib: 420.0, limit_mib: 1024.0 },
    Spec { name: "search", kind: ServiceKind::Api, team: "catalog", crit: "medium", n: 3, deps: &[("catalog", 0.5), ("redis", 1.0)], median_ms: 18.0, cpu_ms: 6.0, mem_mib: 700.0, limit_mib: 1536.0 },
    Spec { name: "recommendations", kind: ServiceKind::Api, team: "discovery", crit: "low", n: 2, deps: &[("catalog", 1.0), ("redis", 1.0)], median_ms: 15.0, cpu_ms: 5.0, mem_mib: 600.0, limit_mib: 1536.0 },
    Spec { name: "cart", kind: ServiceKind::Api, team: "checkout", crit: "high", n: 3, deps: &[("redis", 2.0), ("users", 0.2)], median_ms: 3.0, cpu_ms: 1.0, mem_mib: 300.0, limit_mib: 1024.0 },
    Spec { name: "checkout", kind: ServiceKind::Api, team: "checkout", crit: "critical", n: 3, deps: &[("cart", 1.0), ("payments", 1.0), ("inventory", 1.5), ("shipping", 1.0), ("users", 1.0), ("rabbitmq", 2.0)], median_ms: 25.0, cpu_ms: 8.0, mem_mib: 450.0, limit_mib: 1024.0 },
    Spec { name: "payments", kind: ServiceKind::Api, team: "payments", crit: "critical", n: 3, deps: &[("postgres", 2.0), ("fraud", 1.0)], median_ms: 60.0, cpu_ms: 5.0, mem_mib: 500.0, limit_mib: 1024.0 },
    Spec { name: "fraud", kind: ServiceKind::Api, team: "payments", crit: "high", n: 2, deps: &[("redis", 2.0)], median_ms: 20.0, cpu_ms: 9.0, mem_mib: 650.0, limit_mib: 1536.0 },
    Spec { name: "inventory", kind: ServiceKind::Api, team: "fulfilment", crit: "high", n: 3, deps: &[("postgres", 1.5)], median_ms: 5.0, cpu_ms: 1.5, mem_mib: 350.0, limit_mib: 1024.0 },
    Spec { name: "shipping", kind: ServiceKind::Api, team: "fulfilment", crit: "medium", n: 2, deps: &[("postgres", 1.0)], median_ms: 8.0, cpu_ms: 2.0, mem_mib: 320.0, limit_mib: 1024.0 },
    Spec { name: "users", kind: ServiceKind::Api, team: "identity", crit: "critical", n: 3, deps: &[("postgres", 0.3), ("redis", 1.0)], median_ms: 3.0, cpu_ms: 1.2, mem_mib: 330.0, limit_mib: 1024.0 },
    Spec { name: "notifications", kind: ServiceKind::Worker, team: "engagement", crit: "low", n: 2, deps: &[("rabbitmq", 1.0)], median_ms: 40.0, cpu_ms: 3.0, mem_mib: 280.0, limit_mib: 768.0 },
    Spec { name: "order-worker", kind: ServiceKind::Worker, team: "fulfilment", crit: "high", n: 2, deps: &[("rabbitmq", 1.0), ("postgres", 3.0), ("inventory", 1.0)], median_ms: 30.0, cpu_ms: 4.0, mem_mib: 310.0, limit_mib: 768.0 },
    Spec { name: "reporting", kind: ServiceKind::Batch, team: "data", crit: "low", n: 2, deps: &[("postgres", 1.0)], median_ms: 500.0, cpu_ms: 50.0, mem_mib: 900.0, limit_mib: 4096.0 },
    Spec { name: "postgres", kind: ServiceKind::Database, team: "platform", crit: "critical", n: 2, deps: &[], median_ms: 1.5, cpu_ms: 0.5, mem_mib: 2048.0, limit_mib: 8192.0 },
    Spec { name: "redis", kind: ServiceKind::Cache, team: "platform", crit: "high", n: 3, deps: &[], median_ms: 0.3, cpu_ms: 0.05, mem_mib: 900.0, limit_mib: 2048.0 },
    Spec { name: "rabbitmq", kind: ServiceKind::Queue, team: "platform", crit: "high", n: 3, deps: &[], median_ms: 1.0, cpu_ms: 0.3, mem_mib: 600.0, limit_mib: 2048.0 },
];

/// FNV-1a, for stable pseudo-random pod suffixes independent of the seed.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn pod_suffix(h: u64, len: usize) -> String {
    // Kubernetes' alphabet for generated names: no vowels, no confusable digits.
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..len)
        .map(|i| ALPHABET[((h >> (i * 5)) % ALPHABET.len() as u64) as usize] as char)
        .collect()
}

impl Estate {
    /// The online shop every scenario runs on.
    pub fn shop() -> Self {
        let nodes: Vec<String> = (1..=6).map(|i| format!("node-{i}")).collect();
        let index = |n: &str| {
            SPECS
                .iter()
                .position(|s| s.name == n)
                .expect("dependency names a service")
        };
        let mut slot = 0usize;
        let services = SPECS
            .iter()
            .map(|s| {
                let rs = pod_suffix(fnv(s.name), 9);
                let instances = (0..s.n)
                    .map(|i| {
                        let name = if s.kind.is_stateful() {
                            format!("{}-{i}", s.name)
                        } else {
                            format!(
                                "{}-{}-{}",
                                s.name,
                                &rs[..9],
                                pod_suffix(fnv(&format!("{}{i}", s.name)), 5)
                            )
                        };
                        slot += 1;
                        // Spread pods over nodes; reporting lands on node-3 with its neighbours.
                        let node = nodes[(slot * 7 + i) % nodes.len()].clone();
                        Instance { name, node }
                    })
                    .collect();
                let depends_on = s
                    .deps
                    .iter()
                    .map(|&(to, calls)| {
                        let h = fnv(&format!("{}->{to}", s.name));
                        // Callers fall back to the database when the cache fails, so they pass
                        // on only a little of its errors.
                        let absorb = if to == "redis" { 0.25 } else { 1.0 };
                        Edge {
                            to: index(to),
                            calls,
                            // 15 to 60 seconds: a pool fills or a retry storm builds before the
                            // caller's own metrics move.
                            lag_ms: 15_000 + (h % 4) as i64 * 15_000,
                            error_pass: (0.45 + (h >> 8) as f64 % 40.0 / 100.0) * absorb,
                        }
                    })
                    .collect();
                let http = s.kind.is_http();
                Service {
                    name: s.name.to_string(),
                    kind: s.kind,
                    team: s.team.to_string(),
                    criticality: s.crit,
                    instances,
                    depends_on,
                    median_ms: s.median_ms,
                    sigma: if http { 0.55 } else { 0.7 },
                    base_error: if http { 0.0015 } else { 0.0005 },
                    cpu_ms_per_req: s.cpu_ms,
                    cpu_limit: match s.kind {
                        ServiceKind::Database => 4.0,
                        // Batch jobs run without a CPU limit in this shop, which is what makes
                        // them noisy neighbours.
                        ServiceKind::Batch => 16.0,
                        _ => 2.0,
                    },
                    mem_base: s.mem_mib * MIB,
                    mem_limit: s.limit_mib * MIB,
                    disk_capacity: match s.kind {
                        ServiceKind::Database => 100.0 * GIB,
                        ServiceKind::Queue => 20.0 * GIB,
                        ServiceKind::Cache => 10.0 * GIB,
                        _ => 0.0,
                    },
                    version: format!(
                        "v{}.{}.{}",
                        1 + fnv(s.name) % 3,
                        fnv(s.name) / 3 % 20,
                        fnv(s.name) / 60 % 9
                    ),
                    slo_p99_ms: 0.0,
                }
            })
            .collect();
        let mut estate = Self { services, nodes };
        estate.set_slos();
        estate
    }

    /// SLOs follow the nominal end-to-end latency: a service promises a p99 of roughly three
    /// times what it takes on a good day, including what it waits for downstream.
    fn set_slos(&mut self) {
        let order = self.callees_first();
        let mut e2e = vec![0.0; self.services.len()];
        for &i in &order {
            let s = &self.services[i];
            let down: f64 = s
                .depends_on
                .iter()
                .map(|e| e.calls.min(1.0) * e2e[e.to])
                .sum();
            e2e[i] = s.median_ms + down;
        }
        for (s, t) in self.services.iter_mut().zip(e2e) {
            s.slo_p99_ms = ((t * 4.0 + 25.0) / 25.0).ceil() * 25.0;
        }
    }

    /// Index of the service named `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
    }

    /// Services that call `to`.
    pub fn callers(&self, to: usize) -> impl Iterator<Item = usize> + '_ {
        self.services
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.calls(to))
            .map(|(i, _)| i)
    }

    /// Service indices with every callee before its callers (leaves first).
    pub fn callees_first(&self) -> Vec<usize> {
        fn visit(e: &Estate, i: usize, seen: &mut [bool], out: &mut Vec<usize>) {
            if seen[i] {
                return;
            }
            seen[i] = true;
            for d in &e.services[i].depends_on {
                visit(e, d.to, seen, out);
            }
            out.push(i);
        }
        let mut seen = vec![false; self.services.len()];
        let mut out = Vec::new();
        for i in 0..self.services.len() {
            visit(self, i, &mut seen, &mut out);
        }
        out
    }

    /// The topology file Hush reads: `services: [{name, type, team, criticality, dependsOn}]`.
    pub fn topology_yaml(&self) -> String {
        let mut y = String::from(
            "# The simulated online shop (hush-sim). Edges point from caller to callee.\nservices:\n",
        );
        for s in &self.services {
            let deps: Vec<&str> = s
                .depends_on
                .iter()
                .map(|e| self.services[e.to].name.as_str())
                .collect();
            let _ = writeln!(y, "  - name: {}", s.name);
            let _ = writeln!(y, "    type: {}", s.kind.as_str());
            let _ = writeln!(y, "    team: {}", s.team);
            let _ = writeln!(y, "    criticality: {}", s.criticality);
            let _ = writeln!(y, "    dependsOn: [{}]", deps.join(", "));
        }
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_is_a_dag_of_the_promised_size() {
        let e = Estate::shop();
        assert!((12..=20).contains(&e.services.len()));
        assert!(
            e.services
                .iter()
                .all(|s| (2..=5).contains(&s.instances.len()))
        );
        let order = e.callees_first();
        let pos = |i: usize| order.iter().position(|&x| x == i).unwrap();
        for (i, s) in e.services.iter().enumerate() {
            for d in &s.depends_on {
                assert!(
                    pos(d.to) < pos(i),
                    "{} before {}",
                    e.services[d.to].name,
                    s.name
                );
            }
        }
    }

    #[test]
    fn names_are_unique_and_stable() {
        let e = Estate::shop();
        let mut pods: Vec<&str> = e
            .services
            .iter()
            .flat_map(|s| s.instances.iter().map(|i| i.name.as_str()))
            .collect();
        let n = pods.len();
        pods.sort();
        pods.dedup();
        assert_eq!(pods.len(), n);
        assert_eq!(
            e.services[e.index("postgres").unwrap()].instances[0].name,
            "postgres-0"
        );
        assert_eq!(Estate::shop().topology_yaml(), e.topology_yaml());
    }

    #[test]
    fn topology_lists_every_edge() {
        let y = Estate::shop().topology_yaml();
        assert!(y.contains(
            "  - name: checkout\n    type: api\n    team: checkout\n    criticality: critical\n"
        ));
        assert!(y.contains("dependsOn: [cart, payments, inventory, shipping, users, rabbitmq]"));
        assert!(y.contains("  - name: postgres\n    type: database"));
    }
}
