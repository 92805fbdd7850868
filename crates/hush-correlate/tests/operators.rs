//! Operators' merges and splits: the correlator's own state follows them, and they are learned.

use std::collections::BTreeMap;

use hush_correlate::{
    Alert, AlertStatus, Change, CoOccurrence, Config, Correlator, IncidentId, IncidentState,
    OperatorError, Placement, ServiceSpec, Topology, TopologyFile,
};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const T0: i64 = 1_772_442_000_000;

fn spec(name: &str, team: &str, deps: &[&str]) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        kind: "service".into(),
        team: team.into(),
        criticality: Some("high".into()),
        depends_on: deps.iter().map(|d| (*d).to_string()).collect(),
    }
}

/// gateway → frontend → catalog → postgres, and reporting on its own.
fn shop() -> Topology {
    Topology::new(&TopologyFile {
        services: vec![
            spec("gateway", "edge", &["frontend"]),
            spec("frontend", "web", &["catalog"]),
            spec("catalog", "catalog", &["postgres"]),
            spec("postgres", "platform", &[]),
            spec("reporting", "data", &[]),
        ],
    })
    .unwrap()
}

fn correlator() -> Correlator {
    Correlator::new(Config::default(), shop(), CoOccurrence::default()).unwrap()
}

/// An alert of `name` on `service`; `tag` makes another alert (fingerprint) of the same kind.
fn alert(name: &str, service: &str, tag: &str, at: i64) -> Alert {
    let mut l = BTreeMap::new();
    l.insert("alertname".to_string(), name.to_string());
    l.insert("service".to_string(), service.to_string());
    l.insert("severity".to_string(), "critical".to_string());
    l.insert("tag".to_string(), format!("{name}-{tag}"));
    Alert::firing(l, at)
}

fn resolved(mut a: Alert, at: i64) -> Alert {
    a.status = AlertStatus::Resolved;
    a.ends_at = Some(at);
    a.received_at = at;
    a
}

fn fps(c: &Correlator, id: IncidentId) -> Vec<String> {
    c.incident(id)
        .unwrap()
        .fingerprints
        .iter()
        .cloned()
        .collect()
}

#[test]
fn a_merge_moves_the_alerts_and_their_later_episodes() {
    let mut c = correlator();
    let db = alert("SlowQueries", "postgres", "1", T0);
    let job = alert("KubeJobFailed", "reporting", "1", T0 + MIN);
    let a = c.ingest(db.clone(), T0).unwrap().incident;
    let b = c.ingest(job.clone(), T0 + MIN).unwrap().incident;
    assert_ne!(a, b, "unrelated services open two incidents");

    assert_eq!(
        c.merge(b, b, T0 + 2 * MIN),
        Err(OperatorError::SameIncident)
    );
    assert_eq!(
        c.merge(b, IncidentId(99), T0 + 2 * MIN),
        Err(OperatorError::UnknownIncident(IncidentId(99)))
    );
    let changes = c.merge(b, a, T0 + 2 * MIN).unwrap();
    assert!(
        changes
            .iter()
            .all(|ch| !matches!(ch, Change::Resolved { .. })),
        "{changes:?}"
    );
    let mut both = vec![db.fingerprint.clone(), job.fingerprint.clone()];
    both.sort();
    assert_eq!(fps(&c, a), both);
    let into = c.incident(a).unwrap();
    assert_eq!(into.alerts, 2);
    assert!(into.services.contains("reporting") && into.services.contains("postgres"));
    let gone = c.incident(b).unwrap();
    assert_eq!(gone.state, IncidentState::Resolved);
    assert!(gone.fingerprints.is_empty());
    assert_eq!(
        c.merge(a, b, T0 + 3 * MIN),
        Err(OperatorError::Resolved(b)),
        "nothing merges into a merged incident"
    );

    // A re-send and a new episode of the merged alert both go to the target.
    let o = c.ingest(job.clone(), T0 + 4 * MIN).unwrap();
    assert!(o.duplicate);
    assert_eq!(o.incident, a);
    c.ingest(resolved(job.clone(), T0 + 5 * MIN), T0 + 5 * MIN)
        .unwrap();
    let again = alert("KubeJobFailed", "reporting", "1", T0 + 6 * MIN);
    assert_eq!(c.ingest(again, T0 + 6 * MIN).unwrap().incident, a);
    // The target resolves when all its alerts did, the merged incident is forgotten.
    let db_end = resolved(db, T0 + 7 * MIN);
    c.ingest(db_end, T0 + 7 * MIN).unwrap();
    let job_end = resolved(
        alert("KubeJobFailed", "reporting", "1", T0 + 6 * MIN),
        T0 + 8 * MIN,
    );
    c.ingest(job_end, T0 + 8 * MIN).unwrap();
    let ch = c.advance(T0 + 20 * MIN);
    assert_eq!(
        ch,
        vec![Change::Resolved {
            incident: a,
            at: T0 + 13 * MIN
        }]
    );
    c.advance(T0 + 3 * HOUR);
    assert!(c.incident(b).is_none() && c.incident(a).is_none());
}

#[test]
fn a_split_opens_a_new_incident_that_keeps_its_alerts() {
    let mut c = correlator();
    let db = alert("SlowQueries", "postgres", "1", T0);
    let cat = alert("HighLatency", "catalog", "1", T0 + MIN);
    let gw = alert("HighErrorRate", "gateway", "1", T0 + 2 * MIN);
    let id = c.ingest(db.clone(), T0).unwrap().incident;
    for a in [&cat, &gw] {
        let at = a.received_at;
        assert_eq!(c.ingest(a.clone(), at).unwrap().incident, id);
    }
    let members = vec![db.clone(), cat.clone(), gw.clone()];
    let now = T0 + 3 * MIN;
    let err = |c: &mut Correlator, off: &[&str]| {
        let off: Vec<String> = off.iter().map(|s| s.to_string()).collect();
        c.split(id, &off, &members, now).unwrap_err()
    };
    assert_eq!(err(&mut c, &[]), OperatorError::NothingToSplit);
    assert_eq!(
        err(
            &mut c,
            &[&db.fingerprint, &cat.fingerprint, &gw.fingerprint]
        ),
        OperatorError::SplitsAll(id)
    );
    assert!(matches!(
        err(&mut c, &["nope"]),
        OperatorError::UnknownAlert { fingerprint, .. } if fingerprint == "nope"
    ));
    assert_eq!(fps(&c, id).len(), 3, "a refused split changes nothing");

    let (new, changes) = c
        .split(id, std::slice::from_ref(&gw.fingerprint), &members, now)
        .unwrap();
    assert_ne!(new, id);
    assert!(
        changes
            .iter()
            .any(|ch| matches!(ch, Change::Opened { incident, .. } if *incident == new)),
        "{changes:?}"
    );
    assert_eq!(fps(&c, new), vec![gw.fingerprint.clone()]);
    let rest = c.incident(id).unwrap();
    assert_eq!(rest.fingerprints.len(), 2);
    assert_eq!(rest.alerts, 2);
    assert!(!rest.services.contains("gateway"));
    let split = c.incident(new).unwrap();
    assert_eq!(split.state, IncidentState::Open);
    assert_eq!(
        split.services.iter().collect::<Vec<_>>(),
        vec!["gateway"],
        "rebuilt from the alert"
    );
    assert!(split.is_firing());

    // A re-send, then another episode of the split-off alert: the new incident, not the old.
    assert_eq!(c.ingest(gw.clone(), now + MIN).unwrap().incident, new);
    c.ingest(resolved(gw, now + 2 * MIN), now + 2 * MIN)
        .unwrap();
    let again = alert("HighErrorRate", "gateway", "1", now + 3 * MIN);
    assert_eq!(c.ingest(again, now + 3 * MIN).unwrap().incident, new);
    // A split-off incident whose alerts all resolve resolves after grace, like any other.
    let end = resolved(
        alert("HighErrorRate", "gateway", "1", now + 3 * MIN),
        now + 4 * MIN,
    );
    c.ingest(end, now + 4 * MIN).unwrap();
    let ch = c.advance(now + 10 * MIN);
    assert!(
        ch.contains(&Change::Resolved {
            incident: new,
            at: now + 9 * MIN
        }),
        "{ch:?}"
    );
    assert_eq!(c.incident(id).unwrap().state, IncidentState::Open);
}

/// Two alerts arriving as in `round` (the second `gap` after the first), then resolving and
/// forgotten: whether they shared an incident.
fn round(
    c: &mut Correlator,
    at: i64,
    first: (&str, &str),
    second: (&str, &str),
    gap: i64,
) -> (bool, IncidentId, IncidentId, Vec<Alert>) {
    let tag = at.to_string();
    let a = alert(first.0, first.1, &tag, at);
    let b = alert(second.0, second.1, &tag, at + gap);
    let ia = c.ingest(a.clone(), at).unwrap().incident;
    let ib = c.ingest(b.clone(), at + gap).unwrap().incident;
    (ia == ib, ia, ib, vec![a, b])
}

fn finish(c: &mut Correlator, alerts: &[Alert], at: i64) {
    for a in alerts {
        c.ingest(resolved(a.clone(), at), at).unwrap();
    }
    c.advance(at + 3 * HOUR);
}

#[test]
fn after_a_split_the_same_kinds_arriving_again_are_not_grouped() {
    let db = ("SlowQueries", "postgres");
    let cat = ("HighLatency", "catalog");
    let (mut split, mut control) = (correlator(), correlator());
    let mut t = T0;
    for (n, c) in [&mut split, &mut control].into_iter().enumerate() {
        let (together, id, _, alerts) = round(c, t, db, cat, MIN);
        assert!(together, "a direct dependency groups them cold");
        if n == 0 {
            c.split(id, &[alerts[1].fingerprint.clone()], &alerts, t + 2 * MIN)
                .unwrap();
        }
        finish(c, &alerts, t + 3 * MIN);
    }
    t += 4 * HOUR;
    let (again, ..) = round(&mut split, t, db, cat, MIN);
    assert!(!again, "the operator said these kinds are not one problem");
    let (cold, ..) = round(&mut control, t, db, cat, MIN);
    assert!(cold, "without the split they still group");
    // Other alerts of the same kinds, not only the ones split: the verdict is on kinds.
    assert_eq!(
        split
            .learned()
            .affinity_of("HighLatency@catalog", "SlowQueries@postgres"),
        0.0
    );
}

#[test]
fn after_a_merge_the_same_kinds_arriving_again_are_grouped() {
    // Two hops apart (frontend → catalog → postgres) and five minutes apart: just below the
    // threshold cold (0.7 × e^-0.5 ≈ 0.42 < 0.45).
    let db = ("SlowQueries", "postgres");
    let web = ("HighErrorRate", "frontend");
    let (mut merged, mut control) = (correlator(), correlator());
    let t = T0;
    for (n, c) in [&mut merged, &mut control].into_iter().enumerate() {
        let (together, a, b, alerts) = round(c, t, db, web, 5 * MIN);
        assert!(
            !together,
            "cold, two hops and five minutes apart stay apart"
        );
        if n == 0 {
            c.merge(b, a, t + 6 * MIN).unwrap();
        }
        finish(c, &alerts, t + 7 * MIN);
    }
    let t = t + 4 * HOUR;
    let (again, ..) = round(&mut merged, t, db, web, 5 * MIN);
    assert!(again, "the operator said these kinds are one problem");
    let (cold, ..) = round(&mut control, t, db, web, 5 * MIN);
    assert!(!cold, "without the merge they stay apart");
}

#[test]
fn a_placement_rebuilds_a_stored_grouping() {
    // As a restart does: the stored incidents say which alerts belong together, whatever the
    // scores say.
    let mut c = correlator();
    let db = alert("SlowQueries", "postgres", "1", T0);
    let cat = alert("HighLatency", "catalog", "1", T0 + MIN);
    let job = alert("KubeJobFailed", "reporting", "1", T0 + 2 * MIN);
    let a = c.ingest_placed(db, T0, Placement::New).unwrap().incident;
    let b = c
        .ingest_placed(cat, T0 + MIN, Placement::New)
        .unwrap()
        .incident;
    assert_ne!(a, b, "split apart before, apart again");
    let j = c
        .ingest_placed(job, T0 + 2 * MIN, Placement::Join(a))
        .unwrap()
        .incident;
    assert_eq!(j, a, "merged before, together again");
    // Joining an incident that does not exist falls back to grouping.
    let other = alert("HighErrorRate", "gateway", "1", T0 + 3 * MIN);
    let o = c
        .ingest_placed(other, T0 + 3 * MIN, Placement::Join(IncidentId(77)))
        .unwrap();
    assert!(c.incident(o.incident).is_some());
}
