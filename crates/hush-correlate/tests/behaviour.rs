//! Behaviour of the correlator as the engine and the replay see it: alerts in with the time,
//! changes out.

use std::collections::BTreeMap;

use hush_correlate::{
    Alert, AlertStatus, Change, CoOccurrence, Config, Correlator, GroupRule, IncidentState,
    Priority, Rules, ServiceSpec, Topology, TopologyFile, preview,
};

const MIN: i64 = 60_000;
const T0: i64 = 1_772_442_000_000;

fn spec(name: &str, kind: &str, team: &str, crit: &str, deps: &[&str]) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        kind: kind.into(),
        team: team.into(),
        criticality: Some(crit.into()),
        depends_on: deps.iter().map(|d| (*d).to_string()).collect(),
    }
}

fn shop() -> Topology {
    Topology::new(&TopologyFile {
        services: vec![
            spec("gateway", "gateway", "edge", "critical", &["frontend"]),
            spec("frontend", "web", "web", "critical", &["catalog", "cart"]),
            spec("catalog", "api", "catalog", "high", &["postgres"]),
            spec("cart", "api", "checkout", "high", &["redis"]),
            spec("postgres", "database", "platform", "critical", &[]),
            spec("redis", "cache", "platform", "high", &[]),
            spec("reporting", "batch", "data", "low", &[]),
        ],
    })
    .unwrap()
}

fn alert(name: &str, service: &str, severity: &str, at: i64) -> Alert {
    let mut l = BTreeMap::new();
    l.insert("alertname".to_string(), name.to_string());
    l.insert("service".to_string(), service.to_string());
    l.insert("severity".to_string(), severity.to_string());
    l.insert("namespace".to_string(), "shop".to_string());
    Alert::firing(l, at)
}

fn resolved(mut a: Alert, at: i64) -> Alert {
    a.status = AlertStatus::Resolved;
    a.ends_at = Some(at);
    a.received_at = at;
    a
}

fn correlator(cfg: Config) -> Correlator {
    Correlator::new(cfg, shop(), CoOccurrence::default()).unwrap()
}

#[test]
fn a_cascade_up_the_graph_is_one_incident_and_noise_elsewhere_is_not() {
    let mut c = correlator(Config::default());
    let a = c
        .ingest(alert("SlowQueries", "postgres", "critical", T0), T0)
        .unwrap();
    assert!(matches!(a.changes[..], [Change::Opened { .. }]));
    let b = c
        .ingest(
            alert("HighLatency", "catalog", "warning", T0 + MIN),
            T0 + MIN,
        )
        .unwrap();
    let g = c
        .ingest(
            alert("HighErrorRate", "gateway", "critical", T0 + 3 * MIN),
            T0 + 3 * MIN,
        )
        .unwrap();
    assert_eq!(a.incident, b.incident);
    assert_eq!(
        a.incident, g.incident,
        "gateway reaches postgres through frontend and catalog"
    );
    assert!(matches!(
        g.changes[..],
        [Change::Grew { alerts: 3, .. }, ..]
    ));
    let n = c
        .ingest(
            alert("KubeJobFailed", "reporting", "warning", T0 + 4 * MIN),
            T0 + 4 * MIN,
        )
        .unwrap();
    assert_ne!(
        n.incident, a.incident,
        "reporting calls nothing in the incident"
    );
    let inc = c.incident(a.incident).unwrap();
    assert_eq!(inc.priority, Priority::P1);
    assert!(
        inc.reasons
            .iter()
            .any(|r| r.contains("entry point affected: gateway, frontend")),
        "{:?}",
        inc.reasons
    );
}

#[test]
fn resends_are_duplicates_and_resolve_plus_grace_resolves() {
    let mut c = correlator(Config::default());
    let a = alert("SlowQueries", "postgres", "critical", T0);
    let first = c.ingest(a.clone(), T0).unwrap();
    let again = c.ingest(a.clone(), T0 + 5 * MIN).unwrap();
    assert!(again.duplicate && again.changes.is_empty());
    assert_eq!(c.incident(first.incident).unwrap().alerts, 1);
    c.ingest(resolved(a, T0 + 10 * MIN), T0 + 10 * MIN).unwrap();
    assert!(
        c.advance(T0 + 14 * MIN).is_empty(),
        "still within the grace period"
    );
    let ch = c.advance(T0 + 15 * MIN);
    assert_eq!(
        ch,
        vec![Change::Resolved {
            incident: first.incident,
            at: T0 + 15 * MIN
        }]
    );
    assert_eq!(
        c.incident(first.incident).unwrap().state,
        IncidentState::Resolved
    );
}

#[test]
fn an_alert_firing_again_within_grace_keeps_its_incident_and_flapping_is_folded() {
    let mut c = correlator(Config::default());
    let mut id = None;
    let mut flagged = false;
    for k in 0..4 {
        let start = T0 + k * 4 * MIN;
        let o = c
            .ingest(alert("ProbeFailed", "reporting", "warning", start), start)
            .unwrap();
        id.get_or_insert(o.incident);
        assert_eq!(
            Some(o.incident),
            id,
            "episode {k} folds into the first incident"
        );
        flagged |= o
            .changes
            .iter()
            .any(|ch| matches!(ch, Change::Flapping { .. }));
        assert!(
            !o.changes.iter().any(|ch| matches!(ch, Change::Grew { .. })),
            "a flap is no growth"
        );
        c.ingest(
            resolved(
                alert("ProbeFailed", "reporting", "warning", start),
                start + 2 * MIN,
            ),
            start + 2 * MIN,
        )
        .unwrap();
    }
    assert!(flagged);
    let inc = c.incident(id.unwrap()).unwrap();
    assert_eq!((inc.alerts, inc.fingerprints.len()), (4, 1));
    assert!(inc.reasons.iter().any(|r| r.contains("flapping")));
}

#[test]
fn firing_alerts_expire_at_an_unrenewed_ends_at() {
    let mut c = correlator(Config::default());
    let mut a = alert("SlowQueries", "postgres", "critical", T0);
    a.ends_at = Some(T0 + 4 * MIN);
    let o = c.ingest(a, T0).unwrap();
    let ch = c.advance(T0 + 9 * MIN);
    assert_eq!(
        ch,
        vec![Change::Resolved {
            incident: o.incident,
            at: T0 + 9 * MIN
        }]
    );
}

#[test]
fn rules_win_over_learned_grouping_and_hold_back_until_n_alerts() {
    let mut rule = GroupRule::new("disks", &[("alertname", "DiskFull")], &["service"]);
    rule.open_after = 2;
    let cfg = Config {
        rules: Rules {
            rules: vec![rule],
            never_across_teams: false,
            pause: Vec::new(),
        },
        ..Config::default()
    };
    let mut c = correlator(cfg);
    let slow = c
        .ingest(alert("SlowQueries", "postgres", "critical", T0), T0)
        .unwrap();
    let d1 = c
        .ingest(alert("DiskFull", "postgres", "warning", T0 + MIN), T0 + MIN)
        .unwrap();
    assert_ne!(
        d1.incident, slow.incident,
        "the rule keeps disks apart despite the same service"
    );
    assert!(d1.changes.is_empty(), "one alert is below open_after");
    let mut other = alert("DiskFull", "postgres", "critical", T0 + 2 * MIN);
    other.labels.insert("instance".into(), "postgres-1".into());
    other.fingerprint = hush_correlate::fingerprint(&other.labels);
    let d2 = c.ingest(other, T0 + 2 * MIN).unwrap();
    assert_eq!(d2.incident, d1.incident);
    assert!(matches!(d2.changes[..], [Change::Opened { .. }]));
    let redis = c
        .ingest(
            alert("DiskFull", "redis", "warning", T0 + 3 * MIN),
            T0 + 3 * MIN,
        )
        .unwrap();
    assert_ne!(redis.incident, d1.incident, "grouped by service");
}

#[test]
fn never_across_teams_splits_a_cascade_by_owner() {
    let cfg = Config {
        rules: Rules {
            rules: vec![],
            never_across_teams: true,
            pause: Vec::new(),
        },
        ..Config::default()
    };
    let mut c = correlator(cfg);
    let a = c
        .ingest(alert("SlowQueries", "postgres", "critical", T0), T0)
        .unwrap();
    let b = c
        .ingest(
            alert("HighLatency", "catalog", "warning", T0 + MIN),
            T0 + MIN,
        )
        .unwrap();
    assert_ne!(a.incident, b.incident);
}

#[test]
fn learned_co_occurrence_keeps_a_lonely_alert_out() {
    let mut learned = CoOccurrence::default();
    for _ in 0..10 {
        learned.learn(&["SlowQueries@postgres", "HighLatency@catalog"]);
        learned.learn(&["CPUThrottlingHigh@catalog"]);
    }
    let mut cold = correlator(Config::default());
    let mut warm = Correlator::new(Config::default(), shop(), learned).unwrap();
    for c in [&mut cold, &mut warm] {
        c.ingest(alert("SlowQueries", "postgres", "critical", T0), T0)
            .unwrap();
        c.ingest(
            alert("HighLatency", "catalog", "warning", T0 + MIN),
            T0 + MIN,
        )
        .unwrap();
    }
    let at = T0 + 2 * MIN;
    let x = cold
        .ingest(alert("CPUThrottlingHigh", "catalog", "info", at), at)
        .unwrap();
    let y = warm
        .ingest(alert("CPUThrottlingHigh", "catalog", "info", at), at)
        .unwrap();
    assert_eq!(x.incident.0, 1, "cold, topology alone pulls it in");
    assert_ne!(y.incident.0, 1, "learned: it has always stood alone");
}

#[test]
fn preview_reports_what_a_rule_would_have_done() {
    let alerts: Vec<Alert> = (0..6)
        .map(|k| {
            let mut a = alert("DiskFull", "postgres", "warning", T0 + k * MIN);
            a.labels.insert("instance".into(), format!("pg-{}", k % 2));
            a.fingerprint = hush_correlate::fingerprint(&a.labels);
            a
        })
        .collect();
    let mut rule = GroupRule::new("per-instance", &[("alertname", "DiskFull")], &["instance"]);
    rule.open_after = 4;
    let proposed = Rules {
        rules: vec![rule],
        never_across_teams: false,
        pause: Vec::new(),
    };
    let p = preview(
        &Config::default(),
        &shop(),
        &CoOccurrence::default(),
        &Rules::default(),
        &proposed,
        &alerts,
    )
    .unwrap();
    assert_eq!(p.opened_before, 1);
    assert_eq!(p.opened_after, 0, "two alerts per group never reach four");
    assert_eq!(p.rules[0].incidents, 2);
    assert_eq!(p.rules[0].held_back, 2);
    assert_eq!(p.rules[0].alerts, 6, "six episodes of two alerts");
}

#[test]
fn absurd_input_is_refused_or_absorbed_without_panic() {
    let mut c = correlator(Config::default());
    let many: BTreeMap<String, String> =
        (0..10_000).map(|i| (format!("l{i}"), "v".into())).collect();
    let err = c.ingest(Alert::firing(many, T0), T0).unwrap_err();
    assert!(err.to_string().contains("10000 labels"));
    for t in [i64::MIN, i64::MAX, 0, -1] {
        let mut a = alert("X", "postgres", "critical", t);
        a.ends_at = Some(t);
        c.ingest(a.clone(), t).unwrap();
        c.ingest(resolved(a, t), t).unwrap();
    }
    c.advance(i64::MAX);
    c.advance(i64::MIN);
}
