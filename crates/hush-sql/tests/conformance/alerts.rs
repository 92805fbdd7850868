//! Alerts: upsert semantics (create, re-send, stale copy, resolve, re-fire), lookups, filters.

use std::collections::BTreeMap;

use hush_model::Labels;
use hush_sql::{AlertFilter, AlertStatus, NewAlert, SqlError, SqlStore, UpsertOutcome};

pub fn alert(fingerprint: &str, name: &str, status: AlertStatus, received_at: i64) -> NewAlert {
    NewAlert {
        fingerprint: fingerprint.to_owned(),
        source: "alertmanager".to_owned(),
        name: name.to_owned(),
        labels: Labels::from_pairs([("alertname", name), ("service", "checkout")]).unwrap(),
        annotations: BTreeMap::from([("summary".to_owned(), format!("{name} is \"bad\"\n"))]),
        severity: "critical".to_owned(),
        status,
        starts_at: 1_000,
        ends_at: None,
        received_at,
    }
}

pub async fn check(store: &SqlStore) {
    upsert_semantics(store).await;
    batch_upsert(store).await;
    lookups_and_filters(store).await;
}

/// A batch is stored as the same upserts one by one would be, in one transaction.
async fn batch_upsert(store: &SqlStore) {
    let batch = [
        alert("fp-batch-a", "A", AlertStatus::Firing, 2_000),
        alert("fp-batch-b", "B", AlertStatus::Firing, 2_000),
        // A re-send of the first within the same batch.
        alert("fp-batch-a", "A", AlertStatus::Firing, 2_500),
        // An older copy within the same batch: stale.
        alert("fp-batch-b", "B", AlertStatus::Resolved, 1_500),
    ];
    let out = store.upsert_alerts(&batch).await.unwrap();
    let outcomes: Vec<_> = out.iter().map(|(_, o)| *o).collect();
    assert_eq!(
        outcomes,
        [
            UpsertOutcome::Created,
            UpsertOutcome::Created,
            UpsertOutcome::Updated,
            UpsertOutcome::Stale
        ]
    );
    assert_eq!(out[0].0.id, out[2].0.id);
    assert_eq!(out[2].0.resend_count, 1);
    assert_eq!(
        out[3].0.status,
        AlertStatus::Firing,
        "the stale copy changed nothing"
    );
    let stored = store
        .get_alert_by_fingerprint("fp-batch-a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.last_seen, 2_500);

    // One bad alert refuses the whole batch before anything is written.
    let bad = [
        alert("fp-batch-c", "C", AlertStatus::Firing, 3_000),
        alert("", "X", AlertStatus::Firing, 3_000),
    ];
    assert!(matches!(
        store.upsert_alerts(&bad).await,
        Err(SqlError::Invalid { .. })
    ));
    assert!(
        store
            .get_alert_by_fingerprint("fp-batch-c")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.upsert_alerts(&[]).await.unwrap().is_empty());

    // Larger than one multi-row statement: every row stored once, outcomes in input order.
    let many: Vec<_> = (0..1_234)
        .map(|i| alert(&format!("fp-many-{i}"), "M", AlertStatus::Firing, 4_000 + i))
        .collect();
    let out = store.upsert_alerts(&many).await.unwrap();
    assert_eq!(out.len(), many.len());
    for (i, (a, o)) in out.iter().enumerate() {
        assert_eq!(a.fingerprint, format!("fp-many-{i}"));
        assert_eq!(a.last_seen, 4_000 + i as i64);
        assert_eq!(*o, UpsertOutcome::Created);
    }
}

async fn upsert_semantics(store: &SqlStore) {
    let first = alert("fp-up", "HighLatency", AlertStatus::Firing, 2_000);
    let (created, outcome) = store.upsert_alert(&first).await.unwrap();
    assert_eq!(outcome, UpsertOutcome::Created);
    assert_eq!((created.first_seen, created.last_seen), (2_000, 2_000));
    assert_eq!((created.resend_count, created.flap_count), (0, 0));
    assert_eq!(created.labels, first.labels);
    assert_eq!(created.annotations, first.annotations);
    assert_eq!(created.status, AlertStatus::Firing);

    // A re-send updates the same row.
    let mut resend = alert("fp-up", "HighLatency", AlertStatus::Firing, 3_000);
    resend.severity = "warning".to_owned();
    resend.starts_at = 1_500;
    let (updated, outcome) = store.upsert_alert(&resend).await.unwrap();
    assert_eq!(outcome, UpsertOutcome::Updated);
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.resend_count, 1);
    assert_eq!(updated.flap_count, 0);
    assert_eq!(updated.severity, "warning");
    assert_eq!((updated.first_seen, updated.last_seen), (2_000, 3_000));
    assert_eq!(
        updated.starts_at, 1_000,
        "a re-send keeps the episode's start"
    );

    // An older copy arriving late changes nothing.
    let (stale, outcome) = store
        .upsert_alert(&alert("fp-up", "Old", AlertStatus::Resolved, 2_500))
        .await
        .unwrap();
    assert_eq!(outcome, UpsertOutcome::Stale);
    assert_eq!(stale, updated);

    // Resolve, then fire again: two flaps and a new episode start.
    let mut resolve = alert("fp-up", "HighLatency", AlertStatus::Resolved, 4_000);
    resolve.ends_at = Some(3_900);
    let (resolved, _) = store.upsert_alert(&resolve).await.unwrap();
    assert_eq!(
        (resolved.status, resolved.ends_at, resolved.flap_count),
        (AlertStatus::Resolved, Some(3_900), 1)
    );
    assert_eq!(resolved.starts_at, 1_000);
    let mut refire = alert("fp-up", "HighLatency", AlertStatus::Firing, 5_000);
    refire.starts_at = 4_800;
    let (refired, _) = store.upsert_alert(&refire).await.unwrap();
    assert_eq!(
        (refired.status, refired.ends_at, refired.flap_count),
        (AlertStatus::Firing, None, 2)
    );
    assert_eq!(refired.starts_at, 4_800);
    assert_eq!(refired.resend_count, 3);

    let empty = alert("", "X", AlertStatus::Firing, 1);
    assert!(matches!(
        store.upsert_alert(&empty).await,
        Err(SqlError::Invalid { .. })
    ));
}

async fn lookups_and_filters(store: &SqlStore) {
    let mut ids = Vec::new();
    for i in 0..6_i64 {
        let status = if i % 2 == 0 {
            AlertStatus::Firing
        } else {
            AlertStatus::Resolved
        };
        let mut a = alert(
            &format!("fp-list-{i}"),
            &format!("List{}", i % 3),
            status,
            100_000 + i * 10,
        );
        a.source = "lister".to_owned();
        a.severity = if i < 3 { "critical" } else { "info" }.to_owned();
        ids.push(store.upsert_alert(&a).await.unwrap().0.id);
    }
    let got = store.get_alert(ids[2]).await.unwrap().unwrap();
    assert_eq!(got.fingerprint, "fp-list-2");
    let by_fp = store
        .get_alert_by_fingerprint("fp-list-2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_fp, got);
    assert!(
        store
            .get_alert(uuid::Uuid::now_v7())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_alert_by_fingerprint("nope")
            .await
            .unwrap()
            .is_none()
    );

    let source = Some("lister".to_owned());
    let list = |f: AlertFilter| async move { store.list_alerts(&f).await.unwrap() };
    let fps = |v: Vec<hush_sql::Alert>| v.into_iter().map(|a| a.fingerprint).collect::<Vec<_>>();

    // Newest last_seen first.
    let all = fps(list(AlertFilter {
        source: source.clone(),
        ..Default::default()
    })
    .await);
    assert_eq!(
        all,
        [
            "fp-list-5",
            "fp-list-4",
            "fp-list-3",
            "fp-list-2",
            "fp-list-1",
            "fp-list-0"
        ]
    );
    let firing = fps(list(AlertFilter {
        source: source.clone(),
        status: Some(AlertStatus::Firing),
        ..Default::default()
    })
    .await);
    assert_eq!(firing, ["fp-list-4", "fp-list-2", "fp-list-0"]);
    let named = fps(list(AlertFilter {
        name: Some("List1".to_owned()),
        ..Default::default()
    })
    .await);
    assert_eq!(named, ["fp-list-4", "fp-list-1"]);
    let severe = fps(list(AlertFilter {
        source: source.clone(),
        severity: Some("info".to_owned()),
        ..Default::default()
    })
    .await);
    assert_eq!(severe, ["fp-list-5", "fp-list-4", "fp-list-3"]);
    let window = fps(list(AlertFilter {
        seen_since: Some(100_010),
        seen_before: Some(100_040),
        ..Default::default()
    })
    .await);
    assert_eq!(window, ["fp-list-3", "fp-list-2", "fp-list-1"]);
    let limited = fps(list(AlertFilter {
        source: source.clone(),
        limit: Some(2),
        ..Default::default()
    })
    .await);
    assert_eq!(limited, ["fp-list-5", "fp-list-4"]);
    let combined = fps(list(AlertFilter {
        source,
        status: Some(AlertStatus::Resolved),
        severity: Some("critical".to_owned()),
        ..Default::default()
    })
    .await);
    assert_eq!(combined, ["fp-list-1"]);
}
