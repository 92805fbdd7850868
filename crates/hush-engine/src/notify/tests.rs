use super::*;

fn event(services: &[&str], teams: &[&str], priority: &str) -> IncidentEvent {
    IncidentEvent {
        kind: "opened",
        incident: Uuid::nil(),
        state: "open".into(),
        priority: priority.into(),
        title: "t".into(),
        alerts: 1,
        services: services.iter().map(|s| s.to_string()).collect(),
        teams: teams.iter().map(|s| s.to_string()).collect(),
        at: 1_000,
    }
}

fn cfg(yaml: &str) -> NotifyConfig {
    serde_saphyr::from_str(yaml).unwrap()
}

const CHANNELS: &str = "channels:\n  - {type: webhook, name: all, url: 'http://127.0.0.1:1/a'}\n  - {type: slack, name: shop, url: 'http://127.0.0.1:1/b'}\n  - {type: email, name: pager, smtp: '127.0.0.1:25', from: 'hush@example.com', to: ['oncall@example.com']}\n";

#[test]
fn routes_by_team_service_and_priority() {
    let c = cfg(&format!(
        "{CHANNELS}routes:\n  - {{channels: [all]}}\n  - {{channels: [shop], teams: [shop]}}\n  - {{channels: [pager], services: [db], priority: P2}}\n"
    ));
    validate(&c).unwrap();
    assert_eq!(
        channels_for(&c, &event(&["api"], &["shop"], "P3")),
        ["all", "shop"]
    );
    assert_eq!(channels_for(&c, &event(&["db"], &["data"], "P3")), ["all"]);
    assert_eq!(
        channels_for(&c, &event(&["db"], &["data"], "P1")),
        ["all", "pager"]
    );
    // No routes: every channel.
    assert_eq!(
        channels_for(&cfg(CHANNELS), &event(&[], &[], "P5")).len(),
        3
    );
}

#[test]
fn bad_routes_are_refused() {
    let unknown = cfg(&format!("{CHANNELS}routes:\n  - {{channels: [nowhere]}}\n"));
    assert!(
        validate(&unknown)
            .unwrap_err()
            .to_string()
            .contains("nowhere")
    );
    let prio = cfg(&format!(
        "{CHANNELS}routes:\n  - {{channels: [all], priority: P9}}\n"
    ));
    assert!(validate(&prio).unwrap_err().to_string().contains("P9"));
}

#[test]
fn silences_cover_their_service_or_team_while_active() {
    let s = Silence {
        id: None,
        service: Some("db".into()),
        team: None,
        starts: Some(500),
        ends: Some(2_000),
        comment: String::new(),
    };
    assert!(s.covers(&event(&["db", "api"], &[], "P1"), 1_000));
    assert!(!s.covers(&event(&["api"], &[], "P1"), 1_000));
    assert!(!s.covers(&event(&["db"], &[], "P1"), 2_000), "ended");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("silences.json");
    let all = Silences::load(&[], f.clone()).unwrap();
    let everything = Silence {
        service: None,
        ..s.clone()
    };
    assert!(
        all.add(everything).is_err(),
        "a silence must name something"
    );
    let added = all.add(s).unwrap();
    assert!(all.silenced(&event(&["db"], &[], "P1"), 1_000));
    // Kept across a restart, and removable.
    let again = Silences::load(&[], f.clone()).unwrap();
    assert_eq!(again.list().len(), 1);
    assert!(again.remove(added.id.unwrap()).unwrap());
    assert!(Silences::load(&[], f).unwrap().list().is_empty());
}

#[test]
fn rate_limit_drops_openings_past_the_window_but_never_a_resolve() {
    let c = cfg(
        "channels:\n  - {type: webhook, name: hook, url: 'http://127.0.0.1:1/'}\nrate_limit: 2\nrate_window: 1h\nopen_wait: 0s\n",
    );
    let (tx, mut rx) = mpsc::channel(16);
    let senders = HashMap::from([("hook".to_string(), tx)]);
    let silences = Silences::default();
    let mut st = State::default();
    let ids: Vec<Uuid> = (1..=3u128).map(Uuid::from_u128).collect();
    for id in &ids {
        let ev = IncidentEvent {
            incident: *id,
            ..event(&["api"], &[], "P1")
        };
        handle(
            &silences,
            &c,
            &mut st,
            &senders,
            ev,
            Duration::from_secs(60),
        );
    }
    let resolve = IncidentEvent {
        kind: "resolved",
        incident: ids[0],
        ..event(&["api"], &[], "P1")
    };
    handle(
        &silences,
        &c,
        &mut st,
        &senders,
        resolve,
        Duration::from_secs(60),
    );
    let mut got = Vec::new();
    while let Ok(m) = rx.try_recv() {
        got.push((m.kind, m.incident.incident));
    }
    assert_eq!(
        got,
        [
            (MessageKind::Opened, ids[0]),
            (MessageKind::Opened, ids[1]),
            (MessageKind::Resolved, ids[0]),
        ],
        "the third opening is over the limit; the resolve still goes"
    );
}

#[test]
fn a_merged_incident_is_closed_and_a_split_one_updated() {
    let c = cfg(
        "channels:\n  - {type: webhook, name: hook, url: 'http://127.0.0.1:1/'}\nopen_wait: 0s\nupdate_interval: 0s\n",
    );
    let (tx, mut rx) = mpsc::channel(16);
    let senders = HashMap::from([("hook".to_string(), tx)]);
    let silences = Silences::default();
    let mut st = State::default();
    let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
    for (kind, incident) in [("opened", a), ("opened", b), ("split", b), ("merged", a)] {
        let ev = IncidentEvent {
            kind,
            incident,
            ..event(&["api"], &[], "P2")
        };
        handle(&silences, &c, &mut st, &senders, ev, Duration::ZERO);
    }
    let mut got = Vec::new();
    while let Ok(m) = rx.try_recv() {
        got.push((m.kind, m.incident.incident));
    }
    assert_eq!(
        got,
        [
            (MessageKind::Opened, a),
            (MessageKind::Opened, b),
            (MessageKind::Updated, b),
            (MessageKind::Resolved, a),
        ]
    );
}
