//! Incidents: lifecycle stamps, partial updates, filters, alert membership.

use hush_sql::{
    AlertStatus, IncidentFilter, IncidentPatch, IncidentState, NewIncident, Priority, SqlError,
    SqlStore,
};
use serde_json::json;

fn incident(title: &str, priority: u8, opened_at: i64) -> NewIncident {
    NewIncident {
        title: title.to_owned(),
        priority: Priority::new(priority).unwrap(),
        opened_at,
        payload: json!({"services": ["checkout"], "team": "payments"}),
    }
}

pub async fn check(store: &SqlStore) {
    lifecycle(store).await;
    filters(store).await;
    updated_since(store).await;
    membership(store).await;
    batch_create(store).await;
}

/// A batch is stored under the ids given, open, in order; a bad one refuses all.
async fn batch_create(store: &SqlStore) {
    let ids: Vec<uuid::Uuid> = (0..1_205).map(|_| uuid::Uuid::now_v7()).collect();
    let batch: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            (
                *id,
                incident(&format!("batch {i}"), 4, 7_000_000 + i as i64),
            )
        })
        .collect();
    let rows = store.create_incidents(&batch).await.unwrap();
    assert_eq!(rows.len(), ids.len());
    for (k, r) in rows.iter().enumerate() {
        assert_eq!(r.id, ids[k]);
        assert_eq!(r.title, format!("batch {k}"));
        assert_eq!(r.state, IncidentState::Open);
        assert_eq!(
            (r.opened_at, r.updated_at),
            (7_000_000 + k as i64, 7_000_000 + k as i64)
        );
        assert_eq!(r.payload["team"], "payments");
    }
    assert_eq!(
        store.get_incident(ids[1_204]).await.unwrap().unwrap(),
        rows[1_204]
    );
    let bad = [
        (uuid::Uuid::now_v7(), incident("fine", 3, 1)),
        (uuid::Uuid::now_v7(), incident("", 3, 1)),
    ];
    assert!(matches!(
        store.create_incidents(&bad).await,
        Err(SqlError::Invalid { .. })
    ));
    assert!(store.get_incident(bad[0].0).await.unwrap().is_none());
    assert!(store.create_incidents(&[]).await.unwrap().is_empty());
}

/// A poller sees an incident again when it changes, and not before.
async fn updated_since(store: &SqlStore) {
    let base = 5_000_000_i64;
    let a = store
        .create_incident(&incident("poll a", 3, base))
        .await
        .unwrap();
    let b = store
        .create_incident(&incident("poll b", 3, base + 10))
        .await
        .unwrap();
    let since = |t: i64| async move {
        let mut titles: Vec<String> = store
            .list_incidents(&IncidentFilter {
                updated_since: Some(t),
                opened_since: Some(base),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.title)
            .collect();
        titles.sort();
        titles
    };
    assert_eq!(since(base).await, ["poll a", "poll b"]);
    assert_eq!(since(base + 5).await, ["poll b"]);
    assert!(since(base + 11).await.is_empty());
    // Changing the older one brings it back, with its new time.
    let patch = IncidentPatch {
        title: Some("poll a2".to_owned()),
        ..Default::default()
    };
    let changed = store
        .update_incident(a.id, &patch, base + 50)
        .await
        .unwrap();
    assert_eq!(changed.updated_at, base + 50);
    assert_eq!(since(base + 11).await, ["poll a2"]);
    assert_eq!(b.updated_at, base + 10);
    // A poller pages in update order: the least recently updated first.
    let page = store
        .list_incidents(&IncidentFilter {
            updated_since: Some(base),
            opened_since: Some(base),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].title, "poll b");
}

async fn lifecycle(store: &SqlStore) {
    let created = store
        .create_incident(&incident("checkout slow", 2, 10_000))
        .await
        .unwrap();
    assert_eq!(created.state, IncidentState::Open);
    assert_eq!((created.opened_at, created.updated_at), (10_000, 10_000));
    assert_eq!((created.acknowledged_at, created.resolved_at), (None, None));
    assert_eq!(
        store.get_incident(created.id).await.unwrap().unwrap(),
        created
    );

    let ack = IncidentPatch {
        state: Some(IncidentState::Acknowledged),
        ..Default::default()
    };
    let acked = store
        .update_incident(created.id, &ack, 11_000)
        .await
        .unwrap();
    assert_eq!(
        (acked.state, acked.acknowledged_at, acked.updated_at),
        (IncidentState::Acknowledged, Some(11_000), 11_000)
    );
    // Acknowledging again keeps the first stamp.
    let again = store
        .update_incident(created.id, &ack, 11_500)
        .await
        .unwrap();
    assert_eq!(again.acknowledged_at, Some(11_000));

    // A patch touches only what it names.
    let bump = IncidentPatch {
        priority: Some(Priority::P1),
        ..Default::default()
    };
    let bumped = store
        .update_incident(created.id, &bump, 12_000)
        .await
        .unwrap();
    assert_eq!(
        (bumped.priority, bumped.state, &bumped.title),
        (Priority::P1, IncidentState::Acknowledged, &created.title)
    );
    assert_eq!(bumped.payload, created.payload);

    let resolve = IncidentPatch {
        state: Some(IncidentState::Resolved),
        title: Some("checkout slow: db pool exhausted".to_owned()),
        payload: Some(json!({"root_cause": "payments-db"})),
        ..Default::default()
    };
    let resolved = store
        .update_incident(created.id, &resolve, 13_000)
        .await
        .unwrap();
    assert_eq!(
        (resolved.state, resolved.resolved_at),
        (IncidentState::Resolved, Some(13_000))
    );
    assert_eq!(resolved.title, "checkout slow: db pool exhausted");
    assert_eq!(resolved.payload, json!({"root_cause": "payments-db"}));

    let reopen = IncidentPatch {
        state: Some(IncidentState::Open),
        ..Default::default()
    };
    let reopened = store
        .update_incident(created.id, &reopen, 14_000)
        .await
        .unwrap();
    assert_eq!(
        (reopened.state, reopened.resolved_at),
        (IncidentState::Open, None)
    );
    assert_eq!(reopened.acknowledged_at, Some(11_000));

    let missing = uuid::Uuid::now_v7();
    assert!(matches!(
        store.update_incident(missing, &reopen, 1).await,
        Err(SqlError::NotFound {
            entity: "incident",
            ..
        })
    ));
    assert!(store.get_incident(missing).await.unwrap().is_none());
    assert!(matches!(
        store.create_incident(&incident("", 3, 1)).await,
        Err(SqlError::Invalid { .. })
    ));
    assert!(Priority::new(0).is_none() && Priority::new(6).is_none());
}

async fn filters(store: &SqlStore) {
    let base = 500_000;
    let mut ids = Vec::new();
    for (i, p) in [3_u8, 1, 5, 2].into_iter().enumerate() {
        let i = i64::try_from(i).unwrap();
        ids.push(
            store
                .create_incident(&incident(&format!("filter {i}"), p, base + i * 100))
                .await
                .unwrap()
                .id,
        );
    }
    let resolve = IncidentPatch {
        state: Some(IncidentState::Resolved),
        ..Default::default()
    };
    store
        .update_incident(ids[1], &resolve, base + 1_000)
        .await
        .unwrap();

    let window = IncidentFilter {
        opened_since: Some(base),
        opened_before: Some(base + 1_000),
        ..Default::default()
    };
    let titles = |f: IncidentFilter| async move {
        store
            .list_incidents(&f)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.title)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        titles(window.clone()).await,
        ["filter 3", "filter 2", "filter 1", "filter 0"]
    );
    let open = IncidentFilter {
        state: Some(IncidentState::Open),
        ..window.clone()
    };
    assert_eq!(titles(open).await, ["filter 3", "filter 2", "filter 0"]);
    let urgent = IncidentFilter {
        at_least: Some(Priority::new(2).unwrap()),
        ..window.clone()
    };
    assert_eq!(titles(urgent).await, ["filter 3", "filter 1"]);
    let narrow = IncidentFilter {
        opened_since: Some(base + 100),
        opened_before: Some(base + 300),
        ..window.clone()
    };
    assert_eq!(titles(narrow).await, ["filter 2", "filter 1"]);
    assert_eq!(
        titles(IncidentFilter {
            limit: Some(1),
            ..window
        })
        .await,
        ["filter 3"]
    );
}

async fn membership(store: &SqlStore) {
    let inc = store
        .create_incident(&incident("members", 3, 900_000))
        .await
        .unwrap();
    let other = store
        .create_incident(&incident("members 2", 3, 900_001))
        .await
        .unwrap();
    let a = store
        .upsert_alert(&crate::alerts::alert("fp-m-a", "A", AlertStatus::Firing, 1))
        .await
        .unwrap()
        .0;
    let b = store
        .upsert_alert(&crate::alerts::alert("fp-m-b", "B", AlertStatus::Firing, 1))
        .await
        .unwrap()
        .0;

    assert!(store.attach_alert(inc.id, b.id, 20).await.unwrap());
    assert!(store.attach_alert(inc.id, a.id, 30).await.unwrap());
    assert!(
        !store.attach_alert(inc.id, a.id, 40).await.unwrap(),
        "attaching twice is a no-op"
    );
    assert!(store.attach_alert(other.id, a.id, 50).await.unwrap());

    let members: Vec<_> = store
        .incident_alerts(inc.id)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.fingerprint)
        .collect();
    assert_eq!(members, ["fp-m-b", "fp-m-a"], "in the order they joined");
    assert_eq!(
        store.alert_incidents(a.id).await.unwrap(),
        [inc.id, other.id]
    );

    let nobody = uuid::Uuid::now_v7();
    assert!(matches!(
        store.attach_alert(inc.id, nobody, 1).await,
        Err(SqlError::NotFound {
            entity: "alert",
            ..
        })
    ));
    assert!(matches!(
        store.attach_alert(nobody, a.id, 1).await,
        Err(SqlError::NotFound {
            entity: "incident",
            ..
        })
    ));

    // Batched attachment: new pairs counted, known ones left alone, all or nothing.
    let c = store
        .upsert_alert(&crate::alerts::alert("fp-m-c", "C", AlertStatus::Firing, 1))
        .await
        .unwrap()
        .0;
    assert_eq!(
        store
            .attach_alerts(&[
                (other.id, b.id, 60),
                (other.id, a.id, 61),
                (other.id, c.id, 62)
            ])
            .await
            .unwrap(),
        2
    );
    assert!(
        store
            .attach_alerts(&[(inc.id, c.id, 70), (inc.id, nobody, 71)])
            .await
            .is_err()
    );
    assert!(
        !store.alert_incidents(c.id).await.unwrap().contains(&inc.id),
        "a failed batch attaches nothing"
    );
    assert_eq!(store.attach_alerts(&[]).await.unwrap(), 0);

    assert!(store.detach_alert(inc.id, a.id).await.unwrap());
    assert!(!store.detach_alert(inc.id, a.id).await.unwrap());
    assert_eq!(store.incident_alerts(inc.id).await.unwrap().len(), 1);
    assert_eq!(store.alert_incidents(a.id).await.unwrap(), [other.id]);
    // Batched removal: members counted, non-members ignored, other incidents untouched.
    assert_eq!(
        store
            .detach_alerts(other.id, &[b.id, c.id, nobody])
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.detach_alerts(other.id, &[]).await.unwrap(), 0);
    assert_eq!(store.alert_incidents(a.id).await.unwrap(), [other.id]);
    assert_eq!(store.incident_alerts(other.id).await.unwrap().len(), 1);
}
