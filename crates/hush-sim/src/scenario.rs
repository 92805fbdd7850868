//! The scenario catalogue: which faults each scenario injects, where and when.

use crate::estate::Estate;
use crate::fault::{Fault, FaultKind};
use crate::rng::SimRng;

/// A named scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    DbSlowdown,
    MemoryLeak,
    BadDeploy,
    DiskFill,
    CacheFailure,
    NetworkLoss,
    NoisyNeighbour,
    CertExpiry,
    TwoFaults,
    Noise,
}

/// An unknown scenario name; the message lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scenario `{name}`; known scenarios: {known}")]
pub struct UnknownScenario {
    pub name: String,
    pub known: String,
}

impl Scenario {
    /// Every scenario, in the order `--list` shows them.
    pub const ALL: [Scenario; 10] = [
        Self::DbSlowdown,
        Self::MemoryLeak,
        Self::BadDeploy,
        Self::DiskFill,
        Self::CacheFailure,
        Self::NetworkLoss,
        Self::NoisyNeighbour,
        Self::CertExpiry,
        Self::TwoFaults,
        Self::Noise,
    ];

    /// The name used on the command line and in `truth.json`.
    pub fn name(self) -> &'static str {
        match self {
            Self::DbSlowdown => "db-slowdown",
            Self::MemoryLeak => "memory-leak",
            Self::BadDeploy => "bad-deploy",
            Self::DiskFill => "disk-fill",
            Self::CacheFailure => "cache-failure",
            Self::NetworkLoss => "network-loss",
            Self::NoisyNeighbour => "noisy-neighbour",
            Self::CertExpiry => "cert-expiry",
            Self::TwoFaults => "two-faults",
            Self::Noise => "noise",
        }
    }

    /// One line for `--list`.
    pub fn description(self) -> &'static str {
        match self {
            Self::DbSlowdown => {
                "postgres queries slow down; callers' pools fill, latency and timeouts climb the graph"
            }
            Self::MemoryLeak => {
                "one cart pod leaks memory until it is OOM-killed, restarts and leaks again"
            }
            Self::BadDeploy => {
                "checkout v-next rolls out and fails a fifth of requests; rolled back later"
            }
            Self::DiskFill => {
                "WAL archiving breaks on postgres-0; its volume fills until writes fail"
            }
            Self::CacheFailure => {
                "redis stops answering; cache users slow down and fall back to postgres"
            }
            Self::NetworkLoss => {
                "one inventory pod drops packets; part of checkout's calls retry and fail"
            }
            Self::NoisyNeighbour => {
                "a reporting batch job saturates its node and starves the pods beside it"
            }
            Self::CertExpiry => {
                "the payments TLS certificate expires; checkout's calls to payments fail"
            }
            Self::TwoFaults => {
                "a bad notifications deploy and packet loss on inventory, at overlapping times"
            }
            Self::Noise => {
                "no fault: seasonality, bursts, blips, harmless deploys and noise alerts only"
            }
        }
    }

    /// The scenario called `name`.
    pub fn parse(name: &str) -> Result<Self, UnknownScenario> {
        Self::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| UnknownScenario {
                name: name.to_string(),
                known: Self::ALL.map(Self::name).join(", "),
            })
    }

    /// The faults of this scenario for a run starting at `start_ms` whose nominal length is
    /// `horizon_ms`. Start times and severities vary with the seed; places do not (except which
    /// pod), so a scenario always means the same story.
    pub fn faults(self, estate: &Estate, seed: u64, start_ms: i64, horizon_ms: i64) -> Vec<Fault> {
        let mut rng = SimRng::stream(seed, "scenario");
        let h = horizon_ms as f64;
        let svc = |n: &str| {
            estate
                .index(n)
                .expect("scenario names a service of the shop")
        };
        let mut out = Vec::new();
        let mut add = |rng: &mut SimRng,
                       kind: FaultKind,
                       service: usize,
                       instance: Option<usize>,
                       from: f64,
                       len: f64,
                       ramp_ms: i64| {
            let start = start_ms + (h * (from + 0.08 * rng.unit())) as i64;
            let end = if len >= 1.0 {
                start_ms + horizon_ms * 10
            } else {
                start + (h * (len + 0.08 * rng.unit())) as i64
            };
            out.push(Fault {
                id: format!("inc-{}", out.len() + 1),
                kind,
                service,
                instance,
                start_ms: start,
                end_ms: end,
                severity: rng.uniform(0.8, 1.25),
                ramp_ms,
            });
        };
        let pod = |rng: &mut SimRng, s: usize| Some(rng.below(estate.services[s].instances.len()));
        match self {
            Self::DbSlowdown => add(
                &mut rng,
                FaultKind::DbSlowdown,
                svc("postgres"),
                None,
                0.30,
                0.30,
                240_000,
            ),
            Self::MemoryLeak => {
                let p = pod(&mut rng, svc("cart"));
                add(
                    &mut rng,
                    FaultKind::MemoryLeak,
                    svc("cart"),
                    p,
                    0.05,
                    1.0,
                    0,
                )
            }
            Self::BadDeploy => add(
                &mut rng,
                FaultKind::BadDeploy,
                svc("checkout"),
                None,
                0.30,
                0.30,
                0,
            ),
            Self::DiskFill => add(
                &mut rng,
                FaultKind::DiskFill,
                svc("postgres"),
                Some(0),
                0.10,
                1.0,
                0,
            ),
            Self::CacheFailure => add(
                &mut rng,
                FaultKind::CacheFailure,
                svc("redis"),
                None,
                0.30,
                0.25,
                60_000,
            ),
            Self::NetworkLoss => {
                let p = pod(&mut rng, svc("inventory"));
                add(
                    &mut rng,
                    FaultKind::NetworkLoss,
                    svc("inventory"),
                    p,
                    0.30,
                    0.30,
                    120_000,
                )
            }
            Self::NoisyNeighbour => add(
                &mut rng,
                FaultKind::NoisyNeighbour,
                svc("reporting"),
                Some(0),
                0.30,
                0.30,
                90_000,
            ),
            Self::CertExpiry => add(
                &mut rng,
                FaultKind::CertExpiry,
                svc("payments"),
                None,
                0.35,
                0.25,
                0,
            ),
            Self::TwoFaults => {
                add(
                    &mut rng,
                    FaultKind::BadDeploy,
                    svc("notifications"),
                    None,
                    0.25,
                    0.35,
                    0,
                );
                let p = pod(&mut rng, svc("inventory"));
                add(
                    &mut rng,
                    FaultKind::NetworkLoss,
                    svc("inventory"),
                    p,
                    0.40,
                    0.30,
                    120_000,
                );
            }
            Self::Noise => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_lists_all() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::parse(s.name()), Ok(s));
        }
        let e = Scenario::parse("nope").unwrap_err();
        assert!(e.to_string().contains("db-slowdown") && e.to_string().contains("noise"));
    }

    #[test]
    fn faults_fall_inside_the_horizon() {
        let e = Estate::shop();
        let h = 7_200_000;
        for s in Scenario::ALL {
            for seed in 0..5 {
                for f in s.faults(&e, seed, 0, h) {
                    assert!(f.start_ms > 0 && f.start_ms < h / 2, "{s:?} {f:?}");
                    assert!(f.end_ms > f.start_ms);
                }
            }
        }
        assert!(Scenario::Noise.faults(&e, 1, 0, h).is_empty());
        assert_eq!(Scenario::TwoFaults.faults(&e, 1, 0, h).len(), 2);
    }
}
