//! Alerting rules, as a team would write them in Prometheus, evaluated on a world's state.
//!
//! Every world yields the same candidates in the same order (one per rule and target); only
//! `violated` differs, which is what makes the counterfactual attribution in
//! [`crate::alerts`] a simple lookup.

use std::collections::BTreeMap;

use crate::estate::{Estate, ServiceKind};
use crate::world::{POOL_MAX, QUEUES, World};

/// One rule instance for one target.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Labels of the alert it would raise (sorted).
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// How long the condition must hold before the alert fires.
    pub for_ms: i64,
    pub violated: bool,
}

struct Builder<'a> {
    out: Vec<Candidate>,
    estate: &'a Estate,
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        name: &str,
        severity: &str,
        service: Option<usize>,
        extra: &[(&str, &str)],
        for_ms: i64,
        violated: bool,
        summary: String,
    ) {
        let mut labels = BTreeMap::new();
        labels.insert("alertname".to_string(), name.to_string());
        labels.insert("severity".to_string(), severity.to_string());
        labels.insert("namespace".to_string(), "shop".to_string());
        if let Some(s) = service {
            let svc = &self.estate.services[s];
            labels.insert("service".to_string(), svc.name.clone());
            labels.insert("team".to_string(), svc.team.clone());
        }
        for (k, v) in extra {
            labels.insert((*k).to_string(), (*v).to_string());
        }
        let mut annotations = BTreeMap::new();
        annotations.insert("summary".to_string(), summary);
        annotations.insert(
            "runbook_url".to_string(),
            format!(
                "https://runbooks.shop.example/alerts/{}",
                name.to_lowercase()
            ),
        );
        self.out.push(Candidate {
            labels,
            annotations,
            for_ms,
            violated,
        });
    }
}

const MIN: i64 = 60_000;

/// Evaluates every rule on `world` at `t`.
pub fn evaluate(estate: &Estate, world: &World, t: i64) -> Vec<Candidate> {
    let mut b = Builder {
        out: Vec::with_capacity(256),
        estate,
    };
    for (s, svc) in estate.services.iter().enumerate() {
        let v = world.view[s];
        let name = svc.name.as_str();
        if svc.kind.is_http() || svc.kind == ServiceKind::Worker {
            let sev = if svc.criticality == "critical" {
                "critical"
            } else {
                "warning"
            };
            b.add(
                "HighErrorRate",
                sev,
                Some(s),
                &[],
                2 * MIN,
                v.err > 0.05,
                format!("{name}: {:.1}% of requests fail", v.err * 100.0),
            );
        }
        if svc.kind.is_http() {
            let p99 = v.p99_ms();
            let msg = format!(
                "{name}: p99 latency {p99:.0} ms over its {:.0} ms objective",
                svc.slo_p99_ms
            );
            b.add(
                "HighLatency",
                "warning",
                Some(s),
                &[],
                5 * MIN,
                p99 > svc.slo_p99_ms,
                msg,
            );
        }
        match svc.kind {
            ServiceKind::Database => {
                let p99 = v.p99_ms();
                b.add(
                    "PostgresSlowQueries",
                    "critical",
                    Some(s),
                    &[],
                    2 * MIN,
                    p99 > 250.0,
                    format!("postgres p99 query time {p99:.0} ms"),
                );
            }
            ServiceKind::Cache => {
                b.add(
                    "RedisErrors",
                    "critical",
                    Some(s),
                    &[],
                    MIN,
                    v.err > 0.05,
                    format!("redis rejects {:.0}% of commands", v.err * 100.0),
                );
            }
            ServiceKind::Queue => {
                for (q, (queue, consumer)) in QUEUES.iter().enumerate() {
                    let n = world.backlog[q];
                    let msg = format!("{n:.0} messages waiting in {queue} for {consumer}");
                    b.add(
                        "RabbitmqQueueBacklog",
                        "warning",
                        Some(s),
                        &[("queue", queue)],
                        5 * MIN,
                        n > 2_000.0,
                        msg,
                    );
                }
            }
            _ => {}
        }
        let uses_db = svc
            .depends_on
            .iter()
            .any(|e| estate.services[e.to].kind == ServiceKind::Database);
        if uses_db {
            let used = world.inst[s]
                .iter()
                .map(|i| i.pool_used)
                .fold(0.0, f64::max);
            let msg = format!("{name}: {used:.0} of {POOL_MAX:.0} database connections in use");
            b.add(
                "DBConnectionPoolSaturated",
                "warning",
                Some(s),
                &[],
                2 * MIN,
                used >= 0.9 * POOL_MAX,
                msg,
            );
        }
        for (i, inst) in svc.instances.iter().enumerate() {
            let st = &world.inst[s][i];
            let pod = [("instance", inst.name.as_str())];
            b.add(
                "TargetDown",
                "warning",
                Some(s),
                &pod,
                MIN,
                !st.up,
                format!("{} is not answering scrapes", inst.name),
            );
            let ratio = st.mem / svc.mem_limit;
            let msg = format!(
                "{} uses {:.0}% of its memory limit",
                inst.name,
                ratio * 100.0
            );
            b.add(
                "ContainerMemoryNearLimit",
                "warning",
                Some(s),
                &pod,
                5 * MIN,
                st.up && ratio > 0.85,
                msg,
            );
            let oom = st.last_oom_ms.is_some_and(|o| t - o < 10 * MIN);
            b.add(
                "ContainerOOMKilled",
                "warning",
                Some(s),
                &pod,
                0,
                oom,
                format!("{} was OOM-killed", inst.name),
            );
            let msg = format!(
                "{} is throttled {:.0}% of CPU periods",
                inst.name,
                st.throttle * 100.0
            );
            b.add(
                "CPUThrottlingHigh",
                "info",
                Some(s),
                &pod,
                5 * MIN,
                st.up && st.throttle > 0.25,
                msg,
            );
            let msg = format!(
                "{} drops {:.0}% of received packets",
                inst.name,
                st.packet_loss * 100.0
            );
            b.add(
                "HighPacketLoss",
                "warning",
                Some(s),
                &pod,
                2 * MIN,
                st.packet_loss > 0.05,
                msg,
            );
            if svc.disk_capacity > 0.0 {
                let pvc = format!("data-{}", inst.name);
                let used = st.disk / svc.disk_capacity;
                let l = [
                    ("instance", inst.name.as_str()),
                    ("persistentvolumeclaim", pvc.as_str()),
                ];
                let msg = format!("volume {pvc} is {:.1}% full", used * 100.0);
                b.add(
                    "KubePersistentVolumeFillingUp",
                    "warning",
                    Some(s),
                    &l,
                    MIN,
                    used > 0.85,
                    msg.clone(),
                );
                b.add(
                    "KubePersistentVolumeFillingUp",
                    "critical",
                    Some(s),
                    &l,
                    MIN,
                    used > 0.97,
                    msg,
                );
            }
        }
        if let Some(na) = world.cert_not_after[s] {
            let left_h = (na - t) as f64 / 3_600_000.0;
            let target = format!("https://{name}.shop.svc:8443");
            let l = [("instance", target.as_str())];
            let msg = format!("the certificate of {target} expires in {left_h:.1} h");
            b.add(
                "SSLCertExpiringSoon",
                "warning",
                Some(s),
                &l,
                0,
                left_h > 0.0 && left_h < 7.0 * 24.0,
                msg,
            );
            b.add(
                "SSLCertExpired",
                "critical",
                Some(s),
                &l,
                0,
                left_h <= 0.0,
                format!("the certificate of {target} has expired"),
            );
        }
    }
    for (k, node) in estate.nodes.iter().enumerate() {
        let u = world.node_util[k];
        let msg = format!("{node}: CPU demand at {:.0}% of capacity", u * 100.0);
        b.add(
            "NodeCPUSaturated",
            "warning",
            None,
            &[("node", node.as_str())],
            5 * MIN,
            u > 0.95,
            msg,
        );
    }
    b.out
}
