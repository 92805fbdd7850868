//! The audit chain: appends link, details are canonical, and tampering of every kind is named.

use hush_sql::{
    AuditBreak, BreakReason, GENESIS_HASH, NewAuditEntry, SqlError, SqlStore, entry_hash,
};
use serde_json::json;

use crate::Ctx;

fn entry(i: i64) -> NewAuditEntry {
    NewAuditEntry {
        at: 50_000 + i,
        actor: "token:ops".to_owned(),
        action: "runbook.approve".to_owned(),
        subject: format!("incident-{i}"),
        details: json!({"z": i, "a": {"y": "quote \" and\nnewline", "b": [3, 1]}}),
    }
}

async fn broken(store: &SqlStore) -> AuditBreak {
    match store.verify_audit_chain().await {
        Err(SqlError::AuditChainBroken(b)) => b,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

/// A batch chains exactly as the same entries appended one by one, and verifies.
async fn batch_append(store: &SqlStore, len: i64, head: &str) {
    let batch: Vec<_> = (100..103).map(entry).collect();
    let out = store.append_audits(&batch).await.unwrap();
    let mut prev = head.to_owned();
    for (k, e) in out.iter().enumerate() {
        assert_eq!(e.seq, len + 1 + k as i64);
        assert_eq!(e.prev_hash, prev);
        assert_eq!(
            e.hash,
            entry_hash(
                &prev, e.seq, e.at, &e.actor, &e.action, &e.subject, &e.details
            )
        );
        prev = e.hash.clone();
    }
    let stored = store.list_audit(len, 10).await.unwrap();
    assert_eq!(stored, out, "what was returned is what was stored");
    assert_eq!(store.verify_audit_chain().await.unwrap().len, len + 3);
    assert!(store.append_audits(&[]).await.unwrap().is_empty());
}

pub async fn check(store: &SqlStore, ctx: &Ctx) {
    let start = store.verify_audit_chain().await.unwrap();
    let mut last_hash = start.hash.clone();
    let mut appended = Vec::new();
    for i in 0..5 {
        let e = store.append_audit(&entry(i)).await.unwrap();
        assert_eq!(e.seq, start.len + 1 + i);
        assert_eq!(
            e.prev_hash, last_hash,
            "each entry chains from the one before"
        );
        last_hash = e.hash.clone();
        appended.push(e);
    }
    assert_eq!(
        appended[0].details, r#"{"a":{"b":[3,1],"y":"quote \" and\nnewline"},"z":0}"#,
        "details are stored as canonical JSON with sorted keys"
    );
    let head = store.verify_audit_chain().await.unwrap();
    assert_eq!(
        (head.len, head.hash.as_str()),
        (start.len + 5, last_hash.as_str())
    );
    let listed = store.list_audit(start.len, 3).await.unwrap();
    assert_eq!(listed, appended[..3]);
    let first = store.list_audit(0, 1).await.unwrap();
    assert_eq!(first[0].prev_hash, GENESIS_HASH);
    // Newest first, from the end and from a position.
    let newest = store.list_audit_before(i64::MAX, 2).await.unwrap();
    assert_eq!(newest, [appended[4].clone(), appended[3].clone()]);
    let older = store.list_audit_before(appended[3].seq, 2).await.unwrap();
    assert_eq!(older, [appended[2].clone(), appended[1].clone()]);
    assert!(store.list_audit_before(1, 10).await.unwrap().is_empty());
    // By subject: only that subject's entries, oldest first, ending with the one just appended.
    let about = store
        .list_audit_for(&appended[1].subject, 1000)
        .await
        .unwrap();
    assert!(about.iter().all(|e| e.subject == appended[1].subject));
    assert!(about.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(about.last(), Some(&appended[1]));

    batch_append(store, start.len + 5, &last_hash).await;
    tamper(store, ctx, &appended).await;
}

async fn tamper(store: &SqlStore, ctx: &Ctx, appended: &[hush_sql::AuditEntry]) {
    let victim = &appended[2];
    let seq = victim.seq.to_string();
    let edit = "UPDATE audit_log SET details = $1 WHERE seq = CAST($2 AS BIGINT)";

    // The table refuses edits outright…
    assert!(
        ctx.raw(edit, &["{}", &seq]).await.is_err(),
        "append-only trigger must refuse updates"
    );
    // …but someone with the database's keys can drop the guard; the chain still tells.
    let drops: &[&str] = match ctx.backend {
        hush_sql::Backend::Sqlite => &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
        ],
        hush_sql::Backend::Postgres => &["DROP TRIGGER audit_log_no_update ON audit_log"],
    };
    for sql in drops {
        ctx.raw(sql, &[]).await.unwrap();
    }

    // One changed byte of content.
    let altered = victim.details.replace("\"z\":2", "\"z\":3");
    assert_eq!(ctx.raw(edit, &[&altered, &seq]).await.unwrap(), 1);
    assert_eq!(
        broken(store).await,
        AuditBreak {
            seq: victim.seq,
            reason: BreakReason::ContentAltered
        }
    );
    ctx.raw(edit, &[&victim.details, &seq]).await.unwrap();
    store.verify_audit_chain().await.unwrap();

    // Content rewritten with a recomputed hash: the next entry's link names it.
    let rehash = entry_hash(
        &victim.prev_hash,
        victim.seq,
        victim.at,
        &victim.actor,
        &victim.action,
        "forged",
        &victim.details,
    );
    let rewrite = "UPDATE audit_log SET subject = $1, hash = $2 WHERE seq = CAST($3 AS BIGINT)";
    ctx.raw(rewrite, &["forged", &rehash, &seq]).await.unwrap();
    assert_eq!(
        broken(store).await,
        AuditBreak {
            seq: victim.seq,
            reason: BreakReason::Rewritten
        }
    );
    ctx.raw(rewrite, &[&victim.subject, &victim.hash, &seq])
        .await
        .unwrap();
    store.verify_audit_chain().await.unwrap();

    // A deleted entry leaves a gap.
    ctx.raw(
        "DELETE FROM audit_log WHERE seq = CAST($1 AS BIGINT)",
        &[&seq],
    )
    .await
    .unwrap();
    assert_eq!(
        broken(store).await,
        AuditBreak {
            seq: victim.seq,
            reason: BreakReason::Missing {
                found: victim.seq + 1
            }
        }
    );
}
