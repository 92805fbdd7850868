//! Behaviour of whole runs: determinism, truth, propagation and the shape of the signals.

use hush_sim::{FaultKind, Scenario, SimConfig, Simulation, Tick, Truth};

/// 2026-03-02T09:00:00Z, a Monday morning.
const START: i64 = 1_772_442_000_000;

struct Run {
    ticks: Vec<Tick>,
    truth: Truth,
}

fn run(scenario: Scenario, seed: u64) -> Run {
    run_with_step(scenario, seed, 30_000)
}

/// Two simulated hours at the given scrape interval.
fn run_with_step(scenario: Scenario, seed: u64, step_ms: i64) -> Run {
    let cfg = SimConfig {
        step_ms,
        ..SimConfig::new(seed, scenario, START)
    };
    let mut sim = Simulation::with_config(cfg).unwrap();
    let ticks = (0..7_200_000 / step_ms).map(|_| sim.step()).collect();
    Run {
        ticks,
        truth: sim.truth().clone(),
    }
}

fn digest(r: &Run) -> String {
    let mut s = String::new();
    for t in &r.ticks {
        for m in &t.metrics {
            s.push_str(&format!("{}{:?}", m.labels, m.samples));
        }
        s.push_str(&format!(
            "{:?}{:?}{:?}{:?}",
            t.logs, t.spans, t.alerts, t.changes
        ));
    }
    s
}

#[test]
fn same_seed_same_run_other_seed_other_run() {
    let a = run(Scenario::BadDeploy, 11);
    let b = run(Scenario::BadDeploy, 11);
    assert!(digest(&a) == digest(&b));
    assert_eq!(a.truth, b.truth);
    assert!(digest(&run(Scenario::BadDeploy, 12)) != digest(&a));
}

#[test]
fn every_fault_raises_alerts_attributed_to_it_and_reaches_its_root_first() {
    for s in Scenario::ALL.into_iter().filter(|s| *s != Scenario::Noise) {
        let r = run_with_step(s, 5, 60_000);
        assert!(!r.truth.incidents.is_empty());
        for inc in &r.truth.incidents {
            let mine: Vec<_> = r
                .truth
                .alerts
                .iter()
                .filter(|a| a.incident.as_deref() == Some(inc.id.as_str()))
                .collect();
            assert!(!mine.is_empty(), "{s:?}: no alert for {}", inc.id);
            if inc.kind != FaultKind::CertExpiry {
                // Only a certificate warns ahead of its fault.
                assert!(
                    mine.iter().all(|a| a.starts_at_ms >= inc.start_ms),
                    "{s:?}: alert before the fault"
                );
            }
            assert_eq!(
                inc.affected.first().map(|a| a.service.as_str()),
                Some(inc.root_cause.service.as_str()),
                "{s:?}"
            );
        }
    }
}

#[test]
fn the_noise_scenario_has_no_incident_and_only_noise_alerts() {
    let r = run(Scenario::Noise, 5);
    assert!(r.truth.incidents.is_empty());
    assert!(r.truth.alerts.iter().all(|a| a.incident.is_none()));
}

#[test]
fn a_database_slowdown_climbs_the_graph_with_delays() {
    let r = run(Scenario::DbSlowdown, 2);
    let inc = &r.truth.incidents[0];
    let since = |name: &str| {
        inc.affected
            .iter()
            .find(|a| a.service == name)
            .map(|a| a.since_ms)
    };
    let (db, catalog, gateway) = (
        since("postgres").unwrap(),
        since("catalog").unwrap(),
        since("gateway").unwrap(),
    );
    assert!(
        db < catalog && catalog < gateway,
        "{db} {catalog} {gateway}"
    );
    assert!(
        inc.affected.len() >= 6,
        "partial but wide impact: {:?}",
        inc.affected
    );
}

#[test]
fn a_bad_deploy_is_a_change_then_errors_then_a_rollback() {
    let r = run(Scenario::BadDeploy, 3);
    let inc = &r.truth.incidents[0];
    let change = inc
        .root_cause
        .change
        .clone()
        .expect("the deploy is the root cause's change");
    let deploy = r
        .ticks
        .iter()
        .flat_map(|t| &t.changes)
        .find(|c| c.id == change)
        .unwrap();
    assert_eq!(deploy.service, "checkout");
    let first_error = r
        .truth
        .alerts
        .iter()
        .find(|a| a.alertname == "HighErrorRate" && a.service.as_deref() == Some("checkout"))
        .unwrap();
    assert!(deploy.time_ms < first_error.starts_at_ms);
    let rollback = r
        .ticks
        .iter()
        .flat_map(|t| &t.changes)
        .find(|c| c.service == "checkout" && c.kind == hush_sim::ChangeKind::Rollback);
    assert!(rollback.is_some_and(|c| Some(c.time_ms) == inc.end_ms));
    let resolved = r.ticks.iter().flat_map(|t| &t.alerts).any(|n| {
        n.payload
            .alerts
            .iter()
            .any(|a| a.status == "resolved" && a.labels["service"] == "checkout")
    });
    assert!(resolved, "the rollback resolves the alert");
}

#[test]
fn a_memory_leak_grows_until_the_pod_is_killed() {
    let r = run(Scenario::MemoryLeak, 4);
    let pod = r.truth.incidents[0].root_cause.instance.clone().unwrap();
    let mem: Vec<f64> = r
        .ticks
        .iter()
        .filter_map(|t| {
            t.metrics
                .iter()
                .find(|m| {
                    m.labels.metric_name() == Some("process_resident_memory_bytes")
                        && m.labels.get("instance") == Some(pod.as_str())
                })
                .map(|m| m.samples[0].v)
        })
        .collect();
    let peak = mem.iter().cloned().fold(0.0, f64::max);
    assert!(peak > 2.5 * mem[0], "memory grows: {} → {peak}", mem[0]);
    assert!(mem.len() < r.ticks.len(), "the pod was down for a while");
    assert!(
        r.truth
            .alerts
            .iter()
            .any(|a| a.alertname == "ContainerOOMKilled")
    );
    assert!(
        r.truth
            .alerts
            .iter()
            .any(|a| a.alertname == "ContainerMemoryNearLimit"),
        "warned before the kill"
    );
}

#[test]
fn traffic_follows_the_day() {
    // One tick per hour over a day: the gateway's request counter grows faster in the evening.
    let cfg = SimConfig {
        step_ms: 3_600_000,
        horizon_ms: 86_400_000,
        ..SimConfig::new(1, Scenario::Noise, START - 9 * 3_600_000)
    };
    let mut sim = Simulation::with_config(cfg).unwrap();
    let mut per_hour = Vec::new();
    let mut prev = 0.0;
    for _ in 0..24 {
        let t = sim.step();
        let total: f64 = t
            .metrics
            .iter()
            .filter(|m| {
                m.labels.metric_name() == Some("http_requests_total")
                    && m.labels.get("service") == Some("gateway")
            })
            .map(|m| m.samples[0].v)
            .sum();
        per_hour.push(total - prev);
        prev = total;
    }
    assert!(
        per_hour[20] > 2.5 * per_hour[4],
        "evening {} vs night {}",
        per_hour[20],
        per_hour[4]
    );
}

#[test]
fn every_fired_alert_reaches_alertmanager_webhooks() {
    let r = run(Scenario::CacheFailure, 6);
    let sent: std::collections::BTreeSet<(String, String)> = r
        .ticks
        .iter()
        .flat_map(|t| &t.alerts)
        .flat_map(|n| {
            n.payload
                .alerts
                .iter()
                .map(|a| (a.fingerprint.clone(), a.starts_at.clone()))
        })
        .collect();
    let end = START + 240 * 30_000 - 60_000;
    for a in r.truth.alerts.iter().filter(|a| a.starts_at_ms < end) {
        // As in Alertmanager, a flapping alert's episode that a newer one replaces before the
        // group is flushed is never notified; the newer one is.
        let replaced = r
            .truth
            .alerts
            .iter()
            .any(|b| b.fingerprint == a.fingerprint && b.starts_at_ms > a.starts_at_ms);
        assert!(
            replaced || sent.contains(&(a.fingerprint.clone(), a.starts_at.clone())),
            "{a:?} never sent"
        );
    }
}
