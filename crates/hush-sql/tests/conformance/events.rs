//! Events: round trip, every filter, both orders.

use hush_model::Labels;
use hush_sql::{EventFilter, EventKind, NewEvent, SqlError, SqlStore};
use serde_json::json;

fn event(kind: EventKind, service: &str, at: i64, score: Option<f64>) -> NewEvent {
    NewEvent {
        kind,
        service: Some(service.to_owned()),
        series: Labels::from_pairs([("__name__", "http_latency_p99"), ("service", service)])
            .unwrap(),
        at,
        score,
        payload: json!({"why": "p99 rose 4.2σ", "nested": {"b": [1, 2.5, null], "a": true}}),
    }
}

pub async fn check(store: &SqlStore) {
    let t0 = 1_000_000;
    let stored = store
        .insert_event(&event(EventKind::Anomaly, "ev-api", t0, Some(4.2)))
        .await
        .unwrap();
    store
        .insert_event(&event(EventKind::Anomaly, "ev-db", t0 + 10, Some(1.5)))
        .await
        .unwrap();
    let mut deploy = event(EventKind::Change, "ev-api", t0 + 20, None);
    deploy.series = Labels::empty();
    deploy.payload = json!({"version": "v1.8", "author": "ci"});
    store.insert_event(&deploy).await.unwrap();
    store
        .insert_event(&event(EventKind::Forecast, "ev-db", t0 + 30, Some(0.9)))
        .await
        .unwrap();
    store
        .insert_event(&event(EventKind::Anomaly, "ev-api", t0 + 40, Some(7.0)))
        .await
        .unwrap();
    let mut unscoped = event(EventKind::Change, "x", t0 + 50, None);
    unscoped.service = None;
    store.insert_event(&unscoped).await.unwrap();

    let in_range = EventFilter {
        from: Some(t0),
        to: Some(t0 + 1_000),
        ..Default::default()
    };
    let list = |f: EventFilter| async move { store.list_events(&f).await.unwrap() };
    let times = |v: Vec<hush_sql::Event>| v.into_iter().map(|e| e.at - t0).collect::<Vec<_>>();

    let all = list(in_range.clone()).await;
    assert_eq!(all.len(), 6);
    assert_eq!(all[0], stored, "round trip keeps every field");
    assert_eq!(all[2].series, Labels::empty());
    assert_eq!(all[5].service, None);
    assert_eq!(
        times(all),
        [0, 10, 20, 30, 40, 50],
        "oldest first by default"
    );

    let newest = list(EventFilter {
        newest_first: true,
        limit: Some(2),
        ..in_range.clone()
    })
    .await;
    assert_eq!(times(newest), [50, 40]);
    let anomalies = list(EventFilter {
        kind: Some(EventKind::Anomaly),
        ..in_range.clone()
    })
    .await;
    assert_eq!(times(anomalies), [0, 10, 40]);
    let api = list(EventFilter {
        service: Some("ev-api".to_owned()),
        ..in_range.clone()
    })
    .await;
    assert_eq!(times(api), [0, 20, 40]);
    let api_anomalies = list(EventFilter {
        service: Some("ev-api".to_owned()),
        kind: Some(EventKind::Anomaly),
        ..in_range.clone()
    })
    .await;
    assert_eq!(times(api_anomalies), [0, 40]);
    let window = list(EventFilter {
        from: Some(t0 + 10),
        to: Some(t0 + 30),
        ..Default::default()
    })
    .await;
    assert_eq!(times(window), [10, 20], "from is inclusive, to exclusive");
    let strong = list(EventFilter {
        min_score: Some(1.5),
        ..in_range.clone()
    })
    .await;
    assert_eq!(
        times(strong),
        [0, 10, 40],
        "events without a score never pass a score filter"
    );
    let limited = list(EventFilter {
        limit: Some(3),
        ..in_range
    })
    .await;
    assert_eq!(times(limited), [0, 10, 20]);

    let nan = event(EventKind::Anomaly, "ev-api", t0, Some(f64::NAN));
    assert!(matches!(
        store.insert_event(&nan).await,
        Err(SqlError::Invalid { .. })
    ));
}
