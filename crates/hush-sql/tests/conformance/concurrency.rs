//! Concurrent writers: racing re-sends of one alert, and two store instances (two nodes)
//! appending to one audit chain.

use hush_sql::{AlertStatus, NewAuditEntry, SqlStore, UpsertOutcome};
use serde_json::json;

use crate::Ctx;

pub async fn check(store: &SqlStore, ctx: &Ctx) {
    racing_resends(store).await;
    two_nodes_append(store, ctx).await;
}

async fn racing_resends(store: &SqlStore) {
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let a = crate::alerts::alert("fp-race", "Race", AlertStatus::Firing, 1_000 + i);
                store.upsert_alert(&a).await.unwrap().1
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let created = outcomes
        .iter()
        .filter(|o| **o == UpsertOutcome::Created)
        .count();
    assert_eq!(
        created, 1,
        "exactly one racer creates the row: {outcomes:?}"
    );
    let stored = store
        .get_alert_by_fingerprint("fp-race")
        .await
        .unwrap()
        .unwrap();
    let applied = outcomes
        .iter()
        .filter(|o| **o == UpsertOutcome::Updated)
        .count();
    assert_eq!(stored.resend_count, i64::try_from(applied).unwrap());
    assert_eq!(
        stored.last_seen, 1_015,
        "the newest copy wins whatever the arrival order"
    );
}

async fn two_nodes_append(store: &SqlStore, ctx: &Ctx) {
    let other = SqlStore::open(&ctx.url).await.unwrap();
    let before = store.verify_audit_chain().await.unwrap().len;
    let mut tasks = Vec::new();
    for node in [store.clone(), other.clone()] {
        for i in 0..20 {
            let node = node.clone();
            tasks.push(tokio::spawn(async move {
                let entry = NewAuditEntry {
                    at: i,
                    actor: "engine".to_owned(),
                    action: "race".to_owned(),
                    subject: format!("n{i}"),
                    details: json!({"i": i}),
                };
                node.append_audit(&entry).await.unwrap().seq
            }));
        }
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort_unstable();
    let expected: Vec<i64> = (before + 1..=before + 40).collect();
    assert_eq!(seqs, expected, "every append got its own position");
    assert_eq!(store.verify_audit_chain().await.unwrap().len, before + 40);
    other.close().await;
}
