//! Prometheus' side of alerting: pending → firing → resolved per rule target, plus alerts
//! unrelated to any fault (a failed cron job, a flaky probe, a throttled sidecar), which real
//! estates always have.

use std::collections::BTreeMap;

use crate::alertmanager::AlertEvent;
use crate::estate::Estate;
use crate::rng::SimRng;
use crate::rules::Candidate;

#[derive(Debug, Clone, Default)]
struct RuleState {
    pending_since: Option<i64>,
    firing_since: Option<i64>,
}

/// A transition of one alert, with the incident the truth assigns it (`None`: noise).
#[derive(Debug, Clone)]
pub struct Transition {
    pub event: AlertEvent,
    pub incident: Option<String>,
    /// True when it starts an episode (fires), false when it resolves.
    pub fired: bool,
}

/// The state of every rule target of the real world.
#[derive(Debug, Default)]
pub struct RuleEngine {
    states: Vec<RuleState>,
    incidents: Vec<Option<String>>,
}

impl RuleEngine {
    /// Advances with this tick's candidates; `attribute(i)` names the incident of candidate `i`
    /// when it starts firing.
    pub fn step(
        &mut self,
        t: i64,
        cands: &[Candidate],
        mut attribute: impl FnMut(usize) -> Option<String>,
    ) -> Vec<Transition> {
        self.states.resize(cands.len(), RuleState::default());
        self.incidents.resize(cands.len(), None);
        let mut out = Vec::new();
        for (i, c) in cands.iter().enumerate() {
            let st = &mut self.states[i];
            if c.violated {
                if st.firing_since.is_some() {
                    continue;
                }
                let since = *st.pending_since.get_or_insert(t);
                if t - since >= c.for_ms {
                    st.firing_since = Some(t);
                    let incident = attribute(i);
                    self.incidents[i].clone_from(&incident);
                    let event = AlertEvent {
                        labels: c.labels.clone(),
                        annotations: c.annotations.clone(),
                        starts_ms: t,
                        ends_ms: None,
                    };
                    out.push(Transition {
                        event,
                        incident,
                        fired: true,
                    });
                }
            } else {
                st.pending_since = None;
                if let Some(s) = st.firing_since.take() {
                    let event = AlertEvent {
                        labels: c.labels.clone(),
                        annotations: c.annotations.clone(),
                        starts_ms: s,
                        ends_ms: Some(t),
                    };
                    out.push(Transition {
                        event,
                        incident: self.incidents[i].take(),
                        fired: false,
                    });
                }
            }
        }
        out
    }
}

#[derive(Debug)]
struct Template {
    labels: Vec<(&'static str, String)>,
    summary: &'static str,
    flaps: bool,
}

#[derive(Debug)]
struct Episode {
    template: usize,
    start: i64,
    end: i64,
}

/// Alerts no fault explains, arriving about every 25 minutes; some flap.
#[derive(Debug)]
pub struct NoiseAlerts {
    rng: SimRng,
    templates: Vec<Template>,
    scheduled: Vec<Episode>,
    firing: BTreeMap<usize, i64>,
}

impl NoiseAlerts {
    /// Noise alerts about pods and nodes of `estate`.
    pub fn new(seed: u64, estate: &Estate) -> Self {
        let pod = |s: &str| {
            estate
                .index(s)
                .map(|i| estate.services[i].instances[0].name.clone())
                .unwrap_or_default()
        };
        let s = |x: &str| x.to_string();
        let ts = vec![
            Template {
                labels: vec![
                    ("alertname", s("KubeJobFailed")),
                    ("service", s("reporting")),
                    ("team", s("data")),
                    ("job_name", s("nightly-export")),
                    ("severity", s("warning")),
                ],
                summary: "job nightly-export failed to complete",
                flaps: false,
            },
            Template {
                labels: vec![
                    ("alertname", s("CPUThrottlingHigh")),
                    ("service", s("recommendations")),
                    ("team", s("discovery")),
                    ("container", s("istio-proxy")),
                    ("instance", pod("recommendations")),
                    ("severity", s("info")),
                ],
                summary: "the istio-proxy sidecar is throttled",
                flaps: true,
            },
            Template {
                labels: vec![
                    ("alertname", s("BlackboxProbeFailed")),
                    ("service", s("status-page")),
                    ("team", s("edge")),
                    ("instance", s("https://status.shop.example")),
                    ("severity", s("warning")),
                ],
                summary: "probe of the status page failed",
                flaps: true,
            },
            Template {
                labels: vec![
                    ("alertname", s("KubeHpaMaxedOut")),
                    ("service", s("frontend")),
                    ("team", s("web")),
                    ("horizontalpodautoscaler", s("frontend")),
                    ("severity", s("warning")),
                ],
                summary: "HPA frontend has run at max replicas",
                flaps: false,
            },
            Template {
                labels: vec![
                    ("alertname", s("NodeClockSkewDetected")),
                    ("node", s("node-5")),
                    ("severity", s("warning")),
                ],
                summary: "clock on node-5 is out of sync",
                flaps: false,
            },
            Template {
                labels: vec![
                    ("alertname", s("PrometheusNotificationQueueRunningFull")),
                    ("service", s("prometheus")),
                    ("team", s("platform")),
                    ("severity", s("warning")),
                ],
                summary: "alert notification queue predicted to run full",
                flaps: false,
            },
            Template {
                labels: vec![
                    ("alertname", s("KubeDeploymentReplicasMismatch")),
                    ("service", s("search")),
                    ("team", s("catalog")),
                    ("deployment", s("search")),
                    ("severity", s("warning")),
                ],
                summary: "deployment search has not matched its replicas",
                flaps: false,
            },
            Template {
                labels: vec![
                    ("alertname", s("TLSHandshakeErrors")),
                    ("service", s("gateway")),
                    ("team", s("edge")),
                    ("instance", pod("gateway")),
                    ("severity", s("info")),
                ],
                summary: "bots failing TLS handshakes at the edge",
                flaps: true,
            },
        ];
        Self {
            rng: SimRng::stream(seed, "alert-noise"),
            templates: ts,
            scheduled: Vec::new(),
            firing: BTreeMap::new(),
        }
    }

    fn event(&self, i: usize, start: i64, end: Option<i64>) -> AlertEvent {
        let Template {
            labels, summary, ..
        } = &self.templates[i];
        let mut l: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect();
        l.insert("namespace".into(), "shop".into());
        let mut a = BTreeMap::new();
        a.insert("summary".to_string(), (*summary).to_string());
        AlertEvent {
            labels: l,
            annotations: a,
            starts_ms: start,
            ends_ms: end,
        }
    }

    /// Noise transitions in `(t - step, t]`.
    pub fn step(&mut self, t: i64, step_ms: i64) -> Vec<Transition> {
        let minutes = step_ms as f64 / 60_000.0;
        if self.rng.chance(minutes / 25.0) {
            let i = self.rng.below(self.templates.len());
            let busy =
                self.firing.contains_key(&i) || self.scheduled.iter().any(|e| e.template == i);
            if !busy {
                if self.templates[i].flaps {
                    // Flapping: 3–6 short episodes a few minutes apart.
                    let mut at = t;
                    for _ in 0..3 + self.rng.below(4) {
                        let on = (self.rng.uniform(1.0, 4.0) * 60_000.0) as i64;
                        self.scheduled.push(Episode {
                            template: i,
                            start: at,
                            end: at + on,
                        });
                        at += on + (self.rng.uniform(1.0, 3.5) * 60_000.0) as i64;
                    }
                } else {
                    let len = (self.rng.exponential(12.0).max(2.0) * 60_000.0) as i64;
                    self.scheduled.push(Episode {
                        template: i,
                        start: t,
                        end: t + len,
                    });
                }
            }
        }
        let mut out = Vec::new();
        let mut keep = Vec::new();
        for e in std::mem::take(&mut self.scheduled) {
            if e.start <= t && !self.firing.contains_key(&e.template) && e.end > t {
                self.firing.insert(e.template, t);
                out.push(Transition {
                    event: self.event(e.template, t, None),
                    incident: None,
                    fired: true,
                });
                keep.push(e);
            } else if e.end <= t {
                if let Some(s) = self.firing.remove(&e.template) {
                    out.push(Transition {
                        event: self.event(e.template, s, Some(t)),
                        incident: None,
                        fired: false,
                    });
                }
            } else {
                keep.push(e);
            }
        }
        self.scheduled = keep;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(violated: bool) -> Candidate {
        let mut labels = BTreeMap::new();
        labels.insert("alertname".to_string(), "X".to_string());
        Candidate {
            labels,
            annotations: BTreeMap::new(),
            for_ms: 60_000,
            violated,
        }
    }

    #[test]
    fn pending_then_firing_then_resolved() {
        let mut r = RuleEngine::default();
        assert!(r.step(0, &[cand(true)], |_| None).is_empty());
        assert!(r.step(30_000, &[cand(true)], |_| None).is_empty());
        let f = r.step(60_000, &[cand(true)], |_| Some("inc-1".into()));
        assert_eq!(f.len(), 1);
        assert!(f[0].fired && f[0].event.starts_ms == 60_000);
        assert!(r.step(75_000, &[cand(true)], |_| None).is_empty());
        let e = r.step(90_000, &[cand(false)], |_| None);
        assert_eq!(e[0].event.ends_ms, Some(90_000));
        assert_eq!(e[0].incident.as_deref(), Some("inc-1"));
    }

    #[test]
    fn a_blip_shorter_than_for_never_fires() {
        let mut r = RuleEngine::default();
        r.step(0, &[cand(true)], |_| None);
        r.step(15_000, &[cand(false)], |_| None);
        assert!(r.step(60_000, &[cand(true)], |_| None).is_empty());
    }

    #[test]
    fn noise_alerts_fire_and_resolve() {
        let e = Estate::shop();
        let mut n = NoiseAlerts::new(1, &e);
        let (mut fired, mut resolved) = (0, 0);
        let mut open = BTreeMap::new();
        for k in 0..(12 * 3600 / 15) {
            for tr in n.step(k * 15_000, 15_000) {
                assert!(tr.incident.is_none());
                let name = tr.event.labels["alertname"].clone();
                if tr.fired {
                    fired += 1;
                    open.insert(name, tr.event.starts_ms);
                } else {
                    resolved += 1;
                    assert_eq!(
                        open.remove(&name),
                        Some(tr.event.starts_ms),
                        "a resolve names its episode"
                    );
                }
            }
        }
        assert!(fired >= 10, "{fired}");
        assert!(resolved + 1 >= fired);
    }
}
