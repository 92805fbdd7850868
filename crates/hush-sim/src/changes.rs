//! Change events: deploys, rollbacks, config changes and feature flags, as a CD system records
//! them, and the version each pod runs.
//!
//! Most changes are harmless background (the suspects RCA must learn to clear); scenarios add
//! the guilty ones (the bad deploy, the config change that broke WAL archiving).

use crate::estate::{Estate, ServiceKind};
use crate::fault::{Fault, FaultKind};
use crate::rng::SimRng;

/// What kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Deploy,
    Rollback,
    Config,
    FeatureFlag,
}

/// One change event (the body of `POST /api/v1/changes`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub id: String,
    /// When it was applied, epoch ms.
    pub time_ms: i64,
    pub service: String,
    pub kind: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    pub author: String,
    pub description: String,
}

#[derive(Debug)]
struct Rollout {
    service: usize,
    version: String,
    start_ms: i64,
}

/// Emits changes and tracks versions per pod.
#[derive(Debug)]
pub struct Changes {
    rng: SimRng,
    seq: u32,
    /// Version per service, per instance.
    pub versions: Vec<Vec<String>>,
    rollouts: Vec<Rollout>,
}

/// Spacing of a rolling update: one more pod every 40 seconds (as [`Fault::effect`] assumes).
pub const ROLL_STEP_MS: i64 = 40_000;

fn bump(v: &str, minor: bool) -> String {
    let parts: Vec<u32> = v
        .trim_start_matches('v')
        .split('.')
        .filter_map(|p| p.parse().ok())
        .collect();
    match (parts.as_slice(), minor) {
        ([a, b, _], true) => format!("v{a}.{}.0", b + 1),
        ([a, b, c], false) => format!("v{a}.{b}.{}", c + 1),
        _ => format!("{v}-1"),
    }
}

const FLAGS: [&str; 5] = [
    "new-search-ranking",
    "one-click-checkout",
    "recs-v2-model",
    "free-shipping-banner",
    "async-inventory-check",
];
const CONFIGS: [&str; 4] = [
    "raised HTTP client timeout from 2s to 3s",
    "rotated database credentials",
    "increased log sampling to 5%",
    "changed cache TTL from 300s to 600s",
];

impl Changes {
    /// Every pod on its service's initial version.
    pub fn new(seed: u64, estate: &Estate) -> Self {
        let versions = estate
            .services
            .iter()
            .map(|s| vec![s.version.clone(); s.instances.len()])
            .collect();
        Self {
            rng: SimRng::stream(seed, "changes"),
            seq: 0,
            versions,
            rollouts: Vec::new(),
        }
    }

    fn make(
        &mut self,
        t: i64,
        estate: &Estate,
        s: usize,
        kind: ChangeKind,
        version: Option<String>,
        desc: String,
    ) -> Change {
        self.seq += 1;
        let svc = &estate.services[s];
        let previous_version = version.as_ref().map(|_| self.versions[s][0].clone());
        if let Some(v) = &version {
            self.rollouts.push(Rollout {
                service: s,
                version: v.clone(),
                start_ms: t,
            });
        }
        Change {
            id: format!("chg-{:04}", self.seq),
            time_ms: t,
            service: svc.name.clone(),
            kind,
            version,
            previous_version,
            author: if kind == ChangeKind::Config && svc.kind.is_stateful() {
                "platform-automation".into()
            } else {
                format!("deploy-bot/{}", svc.team)
            },
            description: desc,
        }
    }

    /// Changes applied in `(t_prev, t]`, and pod versions updated to `t`.
    pub fn tick(&mut self, estate: &Estate, faults: &[Fault], t_prev: i64, t: i64) -> Vec<Change> {
        let mut out = Vec::new();
        let within = |x: i64| x > t_prev && x <= t;
        for f in faults {
            let name = &estate.services[f.service].name;
            match f.kind {
                FaultKind::BadDeploy if within(f.start_ms) => {
                    let v = bump(&self.versions[f.service][0], true);
                    let c = self.make(
                        f.start_ms,
                        estate,
                        f.service,
                        ChangeKind::Deploy,
                        Some(v.clone()),
                        format!("deploy {name} {v}"),
                    );
                    out.push(c);
                }
                FaultKind::BadDeploy if within(f.end_ms) => {
                    let v = estate.services[f.service].version.clone();
                    let c = self.make(
                        f.end_ms,
                        estate,
                        f.service,
                        ChangeKind::Rollback,
                        Some(v.clone()),
                        format!("roll back {name} to {v}"),
                    );
                    out.push(c);
                }
                FaultKind::DiskFill if within(f.start_ms) => {
                    let d = "archive_command now ships WAL to the new backup bucket".to_string();
                    out.push(self.make(f.start_ms, estate, f.service, ChangeKind::Config, None, d));
                }
                FaultKind::CertExpiry if within(f.end_ms) => {
                    let d = format!("renewed and rotated the TLS certificate of {name}");
                    out.push(self.make(f.end_ms, estate, f.service, ChangeKind::Config, None, d));
                }
                _ => {}
            }
        }
        // Background: about one harmless change every 40 minutes.
        let minutes = (t - t_prev) as f64 / 60_000.0;
        if self.rng.chance(minutes / 40.0) {
            let apps: Vec<usize> = (0..estate.services.len())
                .filter(|&s| estate.services[s].kind != ServiceKind::Batch)
                .collect();
            let s = *self.rng.pick(&apps);
            let name = estate.services[s].name.clone();
            let at = t_prev + 1 + self.rng.below((t - t_prev) as usize) as i64;
            let c = match self.rng.below(10) {
                0..=4 if !estate.services[s].kind.is_stateful() => {
                    let v = bump(&self.versions[s][0], false);
                    self.make(
                        at,
                        estate,
                        s,
                        ChangeKind::Deploy,
                        Some(v.clone()),
                        format!("deploy {name} {v}"),
                    )
                }
                5 | 6 => {
                    let flag = *self.rng.pick(&FLAGS);
                    let on = if self.rng.chance(0.7) {
                        "enabled"
                    } else {
                        "disabled"
                    };
                    self.make(
                        at,
                        estate,
                        s,
                        ChangeKind::FeatureFlag,
                        None,
                        format!("{on} feature flag {flag} for 10% of users"),
                    )
                }
                _ => {
                    let cfg = *self.rng.pick(&CONFIGS);
                    self.make(at, estate, s, ChangeKind::Config, None, cfg.to_string())
                }
            };
            out.push(c);
        }
        out.sort_by_key(|c| c.time_ms);
        for r in &self.rollouts {
            for (i, v) in self.versions[r.service].iter_mut().enumerate() {
                if t >= r.start_ms + i as i64 * ROLL_STEP_MS {
                    v.clone_from(&r.version);
                }
            }
        }
        let n = |r: &Rollout| estate.services[r.service].instances.len() as i64;
        self.rollouts
            .retain(|r| t < r.start_ms + n(r) * ROLL_STEP_MS);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_bump() {
        assert_eq!(bump("v2.14.3", true), "v2.15.0");
        assert_eq!(bump("v2.14.3", false), "v2.14.4");
    }

    #[test]
    fn a_bad_deploy_is_announced_and_rolls_out_pod_by_pod() {
        let e = Estate::shop();
        let s = e.index("checkout").unwrap();
        let f = Fault {
            id: "inc-1".into(),
            kind: FaultKind::BadDeploy,
            service: s,
            instance: None,
            start_ms: 100_000,
            end_ms: 900_000,
            severity: 1.0,
            ramp_ms: 0,
        };
        let mut c = Changes::new(1, &e);
        let old = c.versions[s][0].clone();
        let first = c.tick(&e, std::slice::from_ref(&f), 90_000, 105_000);
        let deploy = first.iter().find(|c| c.service == "checkout").unwrap();
        assert_eq!(deploy.kind, ChangeKind::Deploy);
        assert_eq!(deploy.time_ms, 100_000);
        assert_eq!(deploy.previous_version.as_deref(), Some(old.as_str()));
        assert_ne!(c.versions[s][0], old);
        assert_eq!(c.versions[s][2], old, "the third pod rolls 80 s later");
        c.tick(&e, std::slice::from_ref(&f), 105_000, 200_000);
        assert!(c.versions[s].iter().all(|v| v != &old));
    }
}
