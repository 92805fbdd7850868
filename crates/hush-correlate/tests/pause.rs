//! Pausing transient alerts: incidents of alerts whose history says they stop by themselves
//! within minutes are held, and open only if something still fires when the pause ends.

use std::collections::BTreeMap;

use hush_correlate::{
    Alert, AlertStatus, Change, CoOccurrence, Config, Correlator, IncidentState, Pause, PauseRule,
    Rules, ServiceSpec, Topology, TopologyFile,
};

const MIN: i64 = 60_000;
const T0: i64 = 1_772_442_000_000;

fn topo() -> Topology {
    let spec = |name: &str, deps: &[&str]| ServiceSpec {
        name: name.into(),
        kind: "api".into(),
        team: "t".into(),
        criticality: Some("high".into()),
        depends_on: deps.iter().map(|d| (*d).to_string()).collect(),
    };
    Topology::new(&TopologyFile {
        services: vec![
            spec("gateway", &["cart"]),
            spec("cart", &[]),
            spec("status-page", &[]),
        ],
    })
    .unwrap()
}

fn alert(name: &str, service: &str, at: i64) -> Alert {
    let mut l = BTreeMap::new();
    l.insert("alertname".to_string(), name.to_string());
    l.insert("service".to_string(), service.to_string());
    Alert::firing(l, at)
}

fn resolved(mut a: Alert, at: i64) -> Alert {
    a.status = AlertStatus::Resolved;
    a.ends_at = Some(at);
    a.received_at = at;
    a
}

fn pausing() -> Config {
    Config {
        pause: Pause {
            enabled: true,
            ..Pause::default()
        },
        ..Config::default()
    }
}

/// History: `ProbeFailed@status-page` always stopped within 3 minutes, `HighErrorRate@cart`
/// fired for half an hour.
fn history() -> CoOccurrence {
    let mut co = CoOccurrence::default();
    for _ in 0..8 {
        co.observe_duration("ProbeFailed@status-page", 3 * MIN);
        co.observe_duration("HighErrorRate@cart", 30 * MIN);
    }
    co
}

fn opened(changes: &[Change]) -> usize {
    changes
        .iter()
        .filter(|c| matches!(c, Change::Opened { .. }))
        .count()
}

/// Feeds `alerts` (sorted by time) and ticks every 15 s until `until`; the opened incidents.
fn run(c: &mut Correlator, alerts: &[Alert], until: i64) -> Vec<(i64, Change)> {
    let mut out = Vec::new();
    let mut t = T0;
    let mut next = alerts.iter().peekable();
    while t <= until {
        while let Some(a) = next.next_if(|a| a.received_at <= t) {
            let o = c.ingest(a.clone(), a.received_at).unwrap();
            out.extend(o.changes.into_iter().map(|ch| (a.received_at, ch)));
        }
        out.extend(c.advance(t).into_iter().map(|ch| (t, ch)));
        t += 15_000;
    }
    out
}

#[test]
fn a_transient_alert_that_stops_within_its_pause_opens_nothing() {
    let probe = alert("ProbeFailed", "status-page", T0);
    let alerts = [probe.clone(), resolved(probe.clone(), T0 + 3 * MIN)];
    let mut c = Correlator::new(pausing(), topo(), history()).unwrap();
    let changes = run(&mut c, &alerts, T0 + 60 * MIN);
    assert!(
        changes.is_empty(),
        "paused and resolved: nothing to tell, {changes:?}"
    );
    let inc = c.incidents().next().expect("the alert is still grouped");
    assert_eq!(inc.state, IncidentState::Resolved);
    // Without pausing the same alerts open an incident at once.
    let mut plain = Correlator::new(Config::default(), topo(), history()).unwrap();
    let changes = run(&mut plain, &alerts, T0 + 60 * MIN);
    assert_eq!(changes.first().map(|(t, _)| *t), Some(T0));
    assert_eq!(
        opened(&changes.into_iter().map(|x| x.1).collect::<Vec<_>>()),
        1
    );
}

#[test]
fn a_transient_alert_still_firing_when_its_pause_ends_opens_then() {
    let probe = alert("ProbeFailed", "status-page", T0);
    let mut c = Correlator::new(pausing(), topo(), history()).unwrap();
    let changes = run(&mut c, &[probe], T0 + 30 * MIN);
    let opens: Vec<i64> = changes
        .iter()
        .filter(|(_, c)| matches!(c, Change::Opened { .. }))
        .map(|(t, _)| *t)
        .collect();
    // Pause: the 90th percentile of its history (3 min) plus a minute's margin.
    assert_eq!(opens, vec![T0 + 4 * MIN]);
}

#[test]
fn a_lasting_alert_is_not_held_and_ends_a_pause_it_joins() {
    let mut c = Correlator::new(pausing(), topo(), history()).unwrap();
    let o = c.ingest(alert("HighErrorRate", "cart", T0), T0).unwrap();
    assert_eq!(
        opened(&o.changes),
        1,
        "no history of stopping quickly: opens at once"
    );

    // A transient alert of the gateway opens a held incident; a lasting alert of the same
    // problem joins it and it opens at once.
    let mut co = history();
    for _ in 0..8 {
        co.observe_duration("HighLatency@gateway", 2 * MIN);
    }
    let mut c = Correlator::new(pausing(), topo(), co).unwrap();
    let o = c.ingest(alert("HighLatency", "gateway", T0), T0).unwrap();
    assert_eq!(opened(&o.changes), 0, "held");
    let held = o.incident;
    assert_eq!(c.incident(held).unwrap().hold_until, Some(T0 + 3 * MIN));
    let o = c
        .ingest(alert("HighErrorRate", "cart", T0 + MIN), T0 + MIN)
        .unwrap();
    assert_eq!(o.incident, held);
    assert_eq!(opened(&o.changes), 1, "a lasting alert ends the pause");

    // An open incident takes a transient alert without holding anything.
    let o = c
        .ingest(
            alert("ProbeFailed", "status-page", T0 + 2 * MIN),
            T0 + 2 * MIN,
        )
        .unwrap();
    if o.incident == held {
        assert!(c.incident(held).unwrap().hold_until.is_none());
    }
}

#[test]
fn too_little_history_or_too_long_a_pause_holds_nothing() {
    let mut co = CoOccurrence::default();
    for _ in 0..4 {
        co.observe_duration("ProbeFailed@status-page", MIN);
    }
    for _ in 0..8 {
        co.observe_duration("DiskSlow@cart", 20 * MIN);
    }
    let mut c = Correlator::new(pausing(), topo(), co).unwrap();
    let o = c
        .ingest(alert("ProbeFailed", "status-page", T0), T0)
        .unwrap();
    assert_eq!(opened(&o.changes), 1, "4 past activities are too few");
    let o = c.ingest(alert("DiskSlow", "cart", T0), T0).unwrap();
    assert_eq!(opened(&o.changes), 1, "20 minutes exceed the longest pause");
    // Disabled: history is ignored.
    let mut c = Correlator::new(Config::default(), topo(), history()).unwrap();
    let o = c
        .ingest(alert("ProbeFailed", "status-page", T0), T0)
        .unwrap();
    assert_eq!(opened(&o.changes), 1);
}

#[test]
fn rules_force_or_forbid_pausing() {
    let rule = |name: &str, pause: bool, window_ms: Option<i64>| PauseRule {
        matchers: [("alertname".to_string(), name.to_string())].into(),
        pause,
        window_ms,
    };
    let cfg = Config {
        rules: Rules {
            pause: vec![
                rule("ProbeFailed", false, None),
                rule("Deploying", true, Some(5 * MIN)),
            ],
            ..Rules::default()
        },
        ..pausing()
    };
    let mut c = Correlator::new(cfg, topo(), history()).unwrap();
    let o = c
        .ingest(alert("ProbeFailed", "status-page", T0), T0)
        .unwrap();
    assert_eq!(opened(&o.changes), 1, "forbidden: history says transient");
    let o = c.ingest(alert("Deploying", "cart", T0), T0).unwrap();
    assert_eq!(opened(&o.changes), 0, "forced: no history at all");
    assert_eq!(
        c.incident(o.incident).unwrap().hold_until,
        Some(T0 + 5 * MIN)
    );
    let bad = Rules {
        pause: vec![rule("X", true, Some(0))],
        ..Rules::default()
    };
    assert!(bad.validate().is_err());
}

#[test]
fn the_correlator_learns_how_long_alerts_fire_and_pauses_from_it() {
    // Five short activities of the probe, each resolved after two minutes, are learned online;
    // the sixth is then held.
    let mut c = Correlator::new(pausing(), topo(), CoOccurrence::default()).unwrap();
    let mut alerts = Vec::new();
    for k in 0..5 {
        let at = T0 + k * 20 * MIN;
        let a = alert("ProbeFailed", "status-page", at);
        alerts.push(a.clone());
        alerts.push(resolved(a, at + 2 * MIN));
    }
    let changes = run(&mut c, &alerts, T0 + 100 * MIN);
    assert_eq!(
        opened(&changes.into_iter().map(|x| x.1).collect::<Vec<_>>()),
        1
    );
    assert_eq!(
        c.learned()
            .duration_quantile("ProbeFailed@status-page", 0.9),
        Some((5, 2 * MIN))
    );
    let at = T0 + 200 * MIN;
    let o = c
        .ingest(alert("ProbeFailed", "status-page", at), at)
        .unwrap();
    assert_eq!(opened(&o.changes), 0, "held for {} ms", 3 * MIN);
}
