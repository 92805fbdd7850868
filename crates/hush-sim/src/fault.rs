//! Faults: what goes wrong, where, when, and its direct effect on the faulty component.
//!
//! A fault only changes its own service (or one instance, or a node's neighbours through CPU
//! contention); everything its callers feel is emergent in [`crate::world`], through lagged
//! dependency views, connection pools, queues and timeouts.

/// The closed set of fault kinds the scenarios inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Queries on the database become slow (a bad plan, storage latency).
    DbSlowdown,
    /// One instance leaks memory until it is OOM-killed, then leaks again.
    MemoryLeak,
    /// A new version goes out and starts failing requests.
    BadDeploy,
    /// A volume fills up (WAL archiving broken) until writes fail.
    DiskFill,
    /// The cache stops answering; callers fall back to the database.
    CacheFailure,
    /// One instance loses packets.
    NetworkLoss,
    /// A batch job saturates a node's CPU and starves the pods beside it.
    NoisyNeighbour,
    /// A TLS certificate expires and clients refuse to connect.
    CertExpiry,
}

impl FaultKind {
    /// The metric that shows the fault first at its source (the truth's root-cause metric).
    pub fn root_metric(self) -> &'static str {
        match self {
            Self::DbSlowdown => "pg_stat_activity_max_tx_duration",
            Self::MemoryLeak => "process_resident_memory_bytes",
            Self::BadDeploy => "http_requests_total",
            Self::DiskFill => "kubelet_volume_stats_used_bytes",
            Self::CacheFailure => "redis_errors_total",
            Self::NetworkLoss => "container_network_receive_packets_dropped_total",
            Self::NoisyNeighbour => "process_cpu_seconds_total",
            Self::CertExpiry => "probe_ssl_earliest_cert_expiry",
        }
    }
}

/// One injected fault.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Fault {
    /// The incident id the truth uses for it (`inc-1`, …).
    pub id: String,
    pub kind: FaultKind,
    /// Index of the faulty service in the estate.
    pub service: usize,
    /// The faulty instance when only one is affected.
    pub instance: Option<usize>,
    /// When it starts, epoch ms.
    pub start_ms: i64,
    /// When it is repaired (rollback, restart, renewal), epoch ms.
    pub end_ms: i64,
    /// How hard it hits, around 1.0.
    pub severity: f64,
    /// Time to reach full strength.
    pub ramp_ms: i64,
}

/// What a fault does to one instance at one moment. Neutral values mean "no effect".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effect {
    pub latency_mult: f64,
    pub error_add: f64,
    pub cpu_add: f64,
    pub leak_bytes_per_s: f64,
    pub disk_bytes_per_s: f64,
    pub packet_loss: f64,
    /// Clients refuse this service's certificate.
    pub cert_expired: bool,
}

impl Default for Effect {
    fn default() -> Self {
        Self {
            latency_mult: 1.0,
            error_add: 0.0,
            cpu_add: 0.0,
            leak_bytes_per_s: 0.0,
            disk_bytes_per_s: 0.0,
            packet_loss: 0.0,
            cert_expired: false,
        }
    }
}

impl Effect {
    /// Combines two effects on the same instance.
    pub fn merge(&mut self, o: &Effect) {
        self.latency_mult *= o.latency_mult;
        self.error_add = 1.0 - (1.0 - self.error_add) * (1.0 - o.error_add);
        self.cpu_add += o.cpu_add;
        self.leak_bytes_per_s += o.leak_bytes_per_s;
        self.disk_bytes_per_s += o.disk_bytes_per_s;
        self.packet_loss = 1.0 - (1.0 - self.packet_loss) * (1.0 - o.packet_loss);
        self.cert_expired |= o.cert_expired;
    }
}

impl Fault {
    /// Whether the fault is active at `t_ms`.
    pub fn active(&self, t_ms: i64) -> bool {
        t_ms >= self.start_ms && t_ms < self.end_ms
    }

    /// Strength in `[0, 1]`: a linear ramp from the start, zero outside the fault.
    pub fn strength(&self, t_ms: i64) -> f64 {
        if !self.active(t_ms) {
            return 0.0;
        }
        ((t_ms - self.start_ms) as f64 / self.ramp_ms.max(1) as f64).clamp(0.0, 1.0)
    }

    /// Whether instance `inst` of the faulty service is hit.
    pub fn hits(&self, inst: usize) -> bool {
        self.instance.is_none_or(|i| i == inst)
    }

    /// The direct effect on instance `inst` of the faulty service at `t_ms`.
    ///
    /// `mem_headroom` is the bytes between that instance's base memory and its limit, used to
    /// size a leak; `disk_free` the free bytes of its volume at fault start, to size a fill.
    pub fn effect(
        &self,
        inst: usize,
        t_ms: i64,
        horizon_ms: i64,
        mem_headroom: f64,
        disk_free: f64,
    ) -> Effect {
        let mut e = Effect::default();
        let s = self.strength(t_ms);
        if s <= 0.0 || !self.hits(inst) {
            return e;
        }
        let sev = self.severity;
        match self.kind {
            FaultKind::DbSlowdown => {
                e.latency_mult = 1.0 + 110.0 * sev * s;
                e.cpu_add = 1.2 * s;
                e.error_add = 0.01 * s;
            }
            FaultKind::MemoryLeak => {
                // Sized to hit the limit after about 40 % of the horizon: slow enough that a
                // forecast sees it long before the OOM kill.
                e.leak_bytes_per_s = mem_headroom / (0.4 * horizon_ms as f64 / 1000.0) * sev;
            }
            FaultKind::BadDeploy => {
                // Rolling update: one more pod on the new version every 40 seconds.
                let since = t_ms - self.start_ms - inst as i64 * 40_000;
                if since >= 0 {
                    e.error_add = (0.22 * sev).min(0.9);
                    e.latency_mult = 1.25;
                    e.cpu_add = 0.1;
                }
            }
            FaultKind::DiskFill => {
                // Full after about 55 % of the horizon.
                e.disk_bytes_per_s = disk_free / (0.55 * horizon_ms as f64 / 1000.0) * sev.max(0.8);
            }
            FaultKind::CacheFailure => {
                e.error_add = 0.3 * s;
                e.latency_mult = 1.0 + 300.0 * s;
                e.cpu_add = 0.3 * s;
            }
            FaultKind::NetworkLoss => {
                e.packet_loss = (0.3 * sev * s).min(0.8);
            }
            FaultKind::NoisyNeighbour => {
                e.cpu_add = 11.0 * sev * s;
            }
            FaultKind::CertExpiry => e.cert_expired = true,
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(kind: FaultKind) -> Fault {
        Fault {
            id: "inc-1".into(),
            kind,
            service: 0,
            instance: Some(1),
            start_ms: 1000,
            end_ms: 5000,
            severity: 1.0,
            ramp_ms: 1000,
        }
    }

    #[test]
    fn faults_ramp_and_stop() {
        let f = fault(FaultKind::DbSlowdown);
        assert_eq!(f.strength(999), 0.0);
        assert_eq!(f.strength(1500), 0.5);
        assert_eq!(f.strength(4999), 1.0);
        assert_eq!(f.strength(5000), 0.0);
        assert_eq!(f.effect(1, 500, 10_000, 1.0, 1.0), Effect::default());
    }

    #[test]
    fn single_instance_faults_spare_the_others() {
        let f = fault(FaultKind::NetworkLoss);
        assert!(f.effect(1, 3000, 10_000, 1.0, 1.0).packet_loss > 0.2);
        assert_eq!(f.effect(0, 3000, 10_000, 1.0, 1.0), Effect::default());
    }

    #[test]
    fn effects_merge_without_exceeding_certainty() {
        let mut a = Effect {
            error_add: 0.8,
            latency_mult: 2.0,
            ..Effect::default()
        };
        a.merge(&Effect {
            error_add: 0.8,
            latency_mult: 3.0,
            ..Effect::default()
        });
        assert!((a.error_add - 0.96).abs() < 1e-12);
        assert_eq!(a.latency_mult, 6.0);
    }
}
