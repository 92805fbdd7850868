//! Per-service signals for root-cause analysis, derived from each tick's scrape.
//!
//! The simulator emits what exporters expose (cumulative counters per pod, histograms, gauges);
//! the ranker wants one series per service and signal. Counters become per-second rates
//! (restarts reset them), pods are folded into their service (sums for traffic and failures,
//! max for saturation so a single sick pod still shows), and a bounded window of ticks is kept.

use hush_model::TimeSeries;
use hush_rca::{MetricKind, Series, SeriesKey};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// How a pod's values fold into one service value.
#[derive(Clone, Copy)]
enum Fold {
    Sum,
    Max,
    Mean,
}

/// Per tick and service: named raw quantities before the final ratios.
#[derive(Default)]
struct Acc {
    values: BTreeMap<&'static str, (f64, usize, Fold)>,
}

impl Acc {
    fn add(&mut self, name: &'static str, v: f64, fold: Fold) {
        if !v.is_finite() {
            return;
        }
        let e = self.values.entry(name).or_insert((
            match fold {
                Fold::Max => f64::NEG_INFINITY,
                _ => 0.0,
            },
            0,
            fold,
        ));
        e.0 = match fold {
            Fold::Max => e.0.max(v),
            _ => e.0 + v,
        };
        e.1 += 1;
    }

    fn get(&self, name: &str) -> Option<f64> {
        self.values.get(name).map(|&(v, n, fold)| match fold {
            Fold::Mean if n > 0 => v / n as f64,
            _ => v,
        })
    }
}

/// The signals kept per service, as (key, kind, display name). Units are chosen so that a
/// cause and its effects move by comparable amounts (seconds, shares): without a target the
/// ranker compares raw moves across signals to decide what explains what. Failures are shares
/// of success (availability), never raw counts: a count that is zero at rest has no spread, so
/// a single error would look infinitely abnormal; a share has a floor of half a percent.
/// Connection-pool usage is left out for the same reason (it rounds to zero at rest).
const OUTPUTS: [(&str, MetricKind, &str); 12] = [
    ("requests", MetricKind::Throughput, "request rate"),
    ("success", MetricKind::Availability, "success ratio"),
    ("latency", MetricKind::Latency, "mean latency"),
    ("cpu", MetricKind::Saturation, "cpu"),
    ("memory", MetricKind::Saturation, "memory share of limit"),
    (
        "unthrottled",
        MetricKind::Availability,
        "cpu periods not throttled",
    ),
    ("received", MetricKind::Availability, "packets received"),
    ("up", MetricKind::Availability, "pods up"),
    ("tx", MetricKind::Latency, "longest transaction"),
    ("served", MetricKind::Availability, "commands served"),
    ("disk", MetricKind::Saturation, "volume used share"),
    ("probe", MetricKind::Availability, "probe success"),
];

/// A rolling window of per-service signals.
pub struct Signals {
    capacity: usize,
    /// Tick times, Unix seconds.
    times: VecDeque<i64>,
    /// Per (service, output index): values aligned with `times`.
    values: HashMap<(String, usize), VecDeque<f64>>,
    /// Last cumulative value and time of every counter series, keyed by its labels.
    last: HashMap<String, (i64, f64)>,
    /// Nodes each service's pods ran on at the latest scrape (`kube_pod_info{node}`).
    nodes: HashMap<String, BTreeSet<String>>,
}

impl Signals {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(2),
            times: VecDeque::new(),
            values: HashMap::new(),
            last: HashMap::new(),
            nodes: HashMap::new(),
        }
    }

    /// Folds one tick's scrape into the window.
    pub fn push(&mut self, t_ms: i64, metrics: &[TimeSeries]) {
        let mut acc: HashMap<String, Acc> = HashMap::new();
        // Memory and volume limits arrive as separate series; pair them per pod.
        let mut mem: HashMap<String, (f64, f64)> = HashMap::new();
        let mut vol: HashMap<String, (f64, f64)> = HashMap::new();
        let mut nodes: HashMap<String, BTreeSet<String>> = HashMap::new();
        for ts in metrics {
            if ts.labels.metric_name() == Some("kube_pod_info")
                && let (Some(svc), Some(node)) = (ts.labels.get("service"), ts.labels.get("node"))
            {
                nodes
                    .entry(svc.to_string())
                    .or_default()
                    .insert(node.to_string());
            }
            let (Some(name), Some(service), Some(s)) = (
                ts.labels.metric_name(),
                ts.labels.get("service"),
                ts.samples.last(),
            ) else {
                continue;
            };
            let a = acc.entry(service.to_string()).or_default();
            let pod = ts.labels.get("instance").unwrap_or("").to_string();
            let rate = |me: &mut Self| me.rate(ts, s.t, s.v);
            match name {
                "http_requests_total" | "messages_processed_total" => {
                    let r = rate(self);
                    let failed = ts.labels.get("code").is_some_and(|c| c.starts_with('5'))
                        || ts.labels.get("result") == Some("error");
                    a.add("req", r, Fold::Sum);
                    if failed {
                        a.add("err", r, Fold::Sum);
                    }
                }
                // A database's transactions are its requests; rollbacks are its failures.
                "pg_stat_database_xact_commit" => a.add("req", rate(self), Fold::Sum),
                "pg_stat_database_xact_rollback" => {
                    let r = rate(self);
                    a.add("req", r, Fold::Sum);
                    a.add("err", r, Fold::Sum);
                }
                // The blackbox exporter's verdict: the endpoint answered (TLS handshake included).
                "probe_success" => a.add("probe", s.v, Fold::Mean),
                "http_request_duration_seconds_sum" | "message_processing_duration_seconds_sum" => {
                    let r = rate(self);
                    a.add("lat_sum", r, Fold::Sum);
                }
                "http_request_duration_seconds_count"
                | "message_processing_duration_seconds_count" => {
                    let r = rate(self);
                    a.add("lat_count", r, Fold::Sum);
                }
                "process_cpu_seconds_total" => a.add("cpu", rate(self), Fold::Max),
                "container_cpu_cfs_periods_total" => a.add("periods", rate(self), Fold::Sum),
                "container_cpu_cfs_throttled_periods_total" => {
                    a.add("throttled", rate(self), Fold::Sum)
                }
                "container_network_receive_packets_total" => a.add("rx", rate(self), Fold::Sum),
                "container_network_receive_packets_dropped_total" => {
                    a.add("dropped", rate(self), Fold::Sum)
                }
                "up" => a.add("up", s.v, Fold::Mean),
                "pg_stat_activity_max_tx_duration" => a.add("tx", s.v, Fold::Max),
                "redis_commands_processed_total" => a.add("commands", rate(self), Fold::Sum),
                "redis_errors_total" => a.add("redis_errors", rate(self), Fold::Sum),
                "process_resident_memory_bytes" => {
                    mem.entry(format!("{service}\u{0}{pod}")).or_default().0 = s.v
                }
                "container_spec_memory_limit_bytes" => {
                    mem.entry(format!("{service}\u{0}{pod}")).or_default().1 = s.v
                }
                "kubelet_volume_stats_used_bytes" => {
                    vol.entry(format!("{service}\u{0}{pod}")).or_default().0 = s.v
                }
                "kubelet_volume_stats_capacity_bytes" => {
                    vol.entry(format!("{service}\u{0}{pod}")).or_default().1 = s.v
                }
                _ => {}
            }
        }
        for (map, out) in [(mem, "memory"), (vol, "disk")] {
            for (k, (used, limit)) in map {
                let service = k.split('\u{0}').next().unwrap_or_default().to_string();
                if limit > 0.0 {
                    acc.entry(service)
                        .or_default()
                        .add(out, used / limit, Fold::Max);
                }
            }
        }
        if !nodes.is_empty() {
            self.nodes = nodes;
        }
        self.append(t_ms / 1000, acc);
    }

    /// Services with a pod on `node`.
    pub fn on_node(&self, node: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .nodes
            .iter()
            .filter(|(_, ns)| ns.contains(node))
            .map(|(s, _)| s.clone())
            .collect();
        out.sort();
        out
    }

    /// Pairs of services with pods on the same node, each pair once (a < b).
    pub fn colocated(&self) -> Vec<(String, String)> {
        let mut out = BTreeSet::new();
        for (a, na) in &self.nodes {
            for (b, nb) in &self.nodes {
                if a < b && na.intersection(nb).next().is_some() {
                    out.insert((a.clone(), b.clone()));
                }
            }
        }
        out.into_iter().collect()
    }

    /// Per-second increase of a counter since its previous scrape; a drop is a restart, so
    /// the new value is the whole increase.
    fn rate(&mut self, ts: &TimeSeries, t_ms: i64, v: f64) -> f64 {
        let key = format!("{:?}", ts.labels);
        let prev = self.last.insert(key, (t_ms, v));
        match prev {
            Some((pt, pv)) if t_ms > pt => {
                let inc = if v >= pv { v - pv } else { v };
                inc * 1000.0 / (t_ms - pt) as f64
            }
            _ => f64::NAN,
        }
    }

    fn append(&mut self, t_s: i64, acc: HashMap<String, Acc>) {
        if self.times.len() == self.capacity {
            self.times.pop_front();
            for v in self.values.values_mut() {
                v.pop_front();
            }
        }
        self.times.push_back(t_s);
        let len = self.times.len();
        for (service, a) in &acc {
            let ratio = |num: Option<f64>, den: Option<f64>| match (num, den) {
                (Some(n), Some(d)) if d > 0.0 => n / d,
                (None, Some(d)) if d > 0.0 => 0.0,
                _ => f64::NAN,
            };
            let share_ok = |bad: &str, all: &str| 1.0 - ratio(a.get(bad), a.get(all));
            let derived = |name: &str| match name {
                "requests" => a.get("req").unwrap_or(f64::NAN),
                "success" => share_ok("err", "req"),
                "latency" => ratio(a.get("lat_sum"), a.get("lat_count")),
                "unthrottled" => share_ok("throttled", "periods"),
                "received" => share_ok("dropped", "rx"),
                "served" => share_ok("redis_errors", "commands"),
                other => a.get(other).unwrap_or(f64::NAN),
            };
            for (i, (name, _, _)) in OUTPUTS.iter().enumerate() {
                let v = derived(name);
                if v.is_nan() && !self.values.contains_key(&(service.clone(), i)) {
                    continue;
                }
                let col = self.values.entry((service.clone(), i)).or_default();
                // A series first seen now is missing before.
                while col.len() + 1 < len {
                    col.push_back(f64::NAN);
                }
                col.push_back(v);
            }
        }
        // Services that emitted nothing this tick (all pods down) still advance.
        for col in self.values.values_mut() {
            while col.len() < len {
                col.push_back(f64::NAN);
            }
        }
    }

    /// Time of the first tick kept, Unix seconds.
    pub fn first_time(&self) -> Option<i64> {
        self.times.front().copied()
    }

    /// Every kept series of the given services (all services when `only` is empty).
    pub fn series(&self, only: &[&str]) -> Vec<Series> {
        let times: Vec<i64> = self.times.iter().copied().collect();
        let mut out: Vec<Series> = self
            .values
            .iter()
            .filter(|((svc, _), _)| only.is_empty() || only.contains(&svc.as_str()))
            .filter(|(_, col)| col.iter().any(|v| v.is_finite()))
            .map(|((svc, i), col)| {
                let (_, kind, display) = OUTPUTS[*i];
                Series::new(
                    SeriesKey::new(svc.clone(), kind, display),
                    times.clone(),
                    col.iter().copied().collect(),
                )
            })
            .collect();
        // Stable order, so a run is repeatable.
        out.sort_by_key(|s| s.key.to_string());
        out
    }
}
