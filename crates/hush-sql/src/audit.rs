//! The `audit_log` table: an append-only hash chain of every decision and action.
//!
//! Entry `n` stores `hash = SHA-256(prev_hash ‖ "\n" ‖ canonical content)` where `prev_hash` is
//! entry `n-1`'s hash (64 zeros for the first) and the canonical content is the JSON array
//! `[seq, at, actor, action, subject, details]` with object keys sorted. Changing any stored byte
//! breaks the chain at that entry. Deleting the newest entries cannot be seen from inside the
//! table; callers that need that anchor the head hash elsewhere ([`ChainHead`]).

use sha2::{Digest, Sha256};

use crate::error::{OpContext, SqlError};
use crate::store::{Pool, SqlStore};

/// The hash the first entry chains from.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry before it is appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    /// When it happened, epoch ms.
    pub at: i64,
    /// Who or what acted (`token:ops`, `engine`, `runbook:restart-api`).
    pub actor: String,
    /// What was done (`runbook.approve`, `action.run`, `incident.merge`).
    pub action: String,
    /// What it was done to (an incident id, a runbook name).
    pub subject: String,
    /// Inputs, outputs, result, reasons.
    pub details: serde_json::Value,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Position in the chain, from 1 with no gaps.
    pub seq: i64,
    /// When it happened, epoch ms.
    pub at: i64,
    /// Who or what acted.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub subject: String,
    /// The canonical JSON text of the details, exactly as hashed.
    pub details: String,
    /// The previous entry's hash (hex).
    pub prev_hash: String,
    /// This entry's hash (hex).
    pub hash: String,
}

/// The end of a verified chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// Entries in the chain.
    pub len: i64,
    /// The newest entry's hash ([`GENESIS_HASH`] when empty).
    pub hash: String,
}

/// Where and why verification failed: the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditBreak {
    /// The first entry that does not verify (for a gap, the missing position).
    pub seq: i64,
    /// What is wrong with it.
    pub reason: BreakReason,
}

/// Why an entry does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreakReason {
    /// Its content does not hash to its stored hash: the entry was altered.
    #[error("content does not match its hash")]
    ContentAltered,
    /// It was rewritten together with its hash: the next entry still chains from the original.
    #[error("entry was rewritten: the next entry chains from a different hash")]
    Rewritten,
    /// The position is missing: an entry was deleted.
    #[error("entry is missing (next stored entry is {found})")]
    Missing {
        /// The next position actually stored.
        found: i64,
    },
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    subject: String,
    details: String,
    prev_hash: String,
    hash: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        Self {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            action: r.action,
            subject: r.subject,
            details: r.details,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// `value` with object keys sorted at every level, whatever map order serde_json was built with.
fn canonical(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The chain hash of an entry (hex), from its stored fields.
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    subject: &str,
    details: &str,
) -> String {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let content = format!(
        "[{seq},{at},{},{},{},{details}]",
        quote(actor),
        quote(action),
        quote(subject)
    );
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(content.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const LAST: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
const INSERT: &str = "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const PAGE: &str = "SELECT seq, at, actor, action, subject, details, prev_hash, hash \
     FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2";

const PAGE_BACK: &str = "SELECT seq, at, actor, action, subject, details, prev_hash, hash \
     FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT $2";

const BY_SUBJECT: &str = "SELECT seq, at, actor, action, subject, details, prev_hash, hash \
     FROM audit_log WHERE subject = $1 ORDER BY seq LIMIT $2";

/// Rows read per round trip while verifying.
const VERIFY_PAGE: i64 = 1000;

impl SqlStore {
    /// Appends `entries` to the chain in order, in one transaction: one read of the head and
    /// one insert per 1,000 entries, for writers that produce entries in bursts.
    pub async fn append_audits(
        &self,
        entries: &[NewAuditEntry],
    ) -> Result<Vec<AuditEntry>, SqlError> {
        const ROWS: usize = 1_000;
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let details: Vec<String> = entries
            .iter()
            .map(|e| canonical(&e.details).to_string())
            .collect();
        macro_rules! append_all {
            ($tx:ident) => {{
                let last: Option<(i64, String)> = sqlx::query_as(LAST)
                    .fetch_optional(&mut *$tx)
                    .await
                    .op("read audit head")?;
                let (mut seq, mut prev) = last.unwrap_or((0, GENESIS_HASH.to_owned()));
                let mut out = Vec::with_capacity(entries.len());
                for (e, d) in entries.iter().zip(&details) {
                    seq += 1;
                    let hash = entry_hash(&prev, seq, e.at, &e.actor, &e.action, &e.subject, d);
                    out.push(AuditEntry {
                        seq,
                        at: e.at,
                        actor: e.actor.clone(),
                        action: e.action.clone(),
                        subject: e.subject.clone(),
                        details: d.clone(),
                        prev_hash: std::mem::replace(&mut prev, hash.clone()),
                        hash,
                    });
                }
                for chunk in out.chunks(ROWS) {
                    let mut sql = String::from(
                        "INSERT INTO audit_log (seq, at, actor, action, subject, details, \
                         prev_hash, hash) VALUES ",
                    );
                    for i in 0..chunk.len() {
                        let b = 8 * i;
                        if i > 0 {
                            sql.push_str(", ");
                        }
                        sql.push('(');
                        for k in 1..=8 {
                            if k > 1 {
                                sql.push_str(", ");
                            }
                            sql.push_str(&format!("${}", b + k));
                        }
                        sql.push(')');
                    }
                    // Only placeholders are generated; every value is bound.
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for a in chunk {
                        q = q
                            .bind(a.seq)
                            .bind(a.at)
                            .bind(&a.actor)
                            .bind(&a.action)
                            .bind(&a.subject)
                            .bind(&a.details)
                            .bind(&a.prev_hash)
                            .bind(&a.hash);
                    }
                    q.execute(&mut *$tx).await.op("append audit entries")?;
                }
                $tx.commit().await.op("commit audit entries")?;
                out
            }};
        }
        // Serialised against other appenders exactly as `append_audit` is.
        let out = match &self.inner.pool {
            Pool::Sqlite(pool) => {
                let mut tx = pool
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .op("begin audit append")?;
                append_all!(tx)
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await.op("begin audit append")?;
                sqlx::query("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await
                    .op("lock audit log")?;
                append_all!(tx)
            }
        };
        Ok(out)
    }

    /// Appends `entry` to the chain and returns it with its position and hash.
    pub async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, SqlError> {
        let details = canonical(&entry.details).to_string();
        // Appends are serialised by a write lock taken before reading the head, so two writers
        // (even in two processes) never chain from the same entry. The dialects differ here only.
        macro_rules! append {
            ($tx:ident) => {{
                let last: Option<(i64, String)> = sqlx::query_as(LAST)
                    .fetch_optional(&mut *$tx)
                    .await
                    .op("read audit head")?;
                let (prev_seq, prev_hash) = last.unwrap_or((0, GENESIS_HASH.to_owned()));
                let seq = prev_seq + 1;
                let hash = entry_hash(
                    &prev_hash,
                    seq,
                    entry.at,
                    &entry.actor,
                    &entry.action,
                    &entry.subject,
                    &details,
                );
                sqlx::query(INSERT)
                    .bind(seq)
                    .bind(entry.at)
                    .bind(&entry.actor)
                    .bind(&entry.action)
                    .bind(&entry.subject)
                    .bind(&details)
                    .bind(&prev_hash)
                    .bind(&hash)
                    .execute(&mut *$tx)
                    .await
                    .op("append audit entry")?;
                $tx.commit().await.op("commit audit entry")?;
                (seq, prev_hash, hash)
            }};
        }
        let (seq, prev_hash, hash) = match &self.inner.pool {
            Pool::Sqlite(pool) => {
                // IMMEDIATE takes the write lock up front (waiting out the busy timeout) instead
                // of failing when a read transaction later tries to write.
                let mut tx = pool
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .op("begin audit append")?;
                append!(tx)
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await.op("begin audit append")?;
                // Blocks other appenders, not readers.
                sqlx::query("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await
                    .op("lock audit log")?;
                append!(tx)
            }
        };
        Ok(AuditEntry {
            seq,
            at: entry.at,
            actor: entry.actor.clone(),
            action: entry.action.clone(),
            subject: entry.subject.clone(),
            details,
            prev_hash,
            hash,
        })
    }

    /// Up to `limit` entries after position `after` (0 for the start), in chain order.
    pub async fn list_audit(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>, SqlError> {
        let rows = crate::store::with_pool!(self, pool => sqlx::query_as::<_, AuditRow>(PAGE)
            .bind(after).bind(i64::from(limit)).fetch_all(pool).await)
        .op("list audit entries")?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// Up to `limit` entries before position `before`, newest first: what a person reading the
    /// log wants first. `i64::MAX` starts at the newest entry.
    pub async fn list_audit_before(
        &self,
        before: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, SqlError> {
        let rows = crate::store::with_pool!(self, pool => sqlx::query_as::<_, AuditRow>(PAGE_BACK)
            .bind(before).bind(i64::from(limit)).fetch_all(pool).await)
        .op("list audit entries")?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// Up to `limit` entries about `subject` (an incident's timeline), oldest first.
    pub async fn list_audit_for(
        &self,
        subject: &str,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, SqlError> {
        let rows = crate::store::with_pool!(self, pool => sqlx::query_as::<_, AuditRow>(BY_SUBJECT)
            .bind(subject).bind(i64::from(limit)).fetch_all(pool).await)
        .op("list audit entries of a subject")?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// Walks the whole chain; the first entry that does not verify is reported as
    /// [`SqlError::AuditChainBroken`].
    pub async fn verify_audit_chain(&self) -> Result<ChainHead, SqlError> {
        let mut head = ChainHead {
            len: 0,
            hash: GENESIS_HASH.to_owned(),
        };
        loop {
            let page = crate::store::with_pool!(self, pool => sqlx::query_as::<_, AuditRow>(PAGE)
                .bind(head.len).bind(VERIFY_PAGE).fetch_all(pool).await)
            .op("read audit entries")?;
            if page.is_empty() {
                return Ok(head);
            }
            let full = i64::try_from(page.len()).unwrap_or(i64::MAX) == VERIFY_PAGE;
            for row in &page {
                let expected = head.len + 1;
                let broken = |reason| {
                    SqlError::AuditChainBroken(AuditBreak {
                        seq: row.seq,
                        reason,
                    })
                };
                if row.seq != expected {
                    return Err(SqlError::AuditChainBroken(AuditBreak {
                        seq: expected,
                        reason: BreakReason::Missing { found: row.seq },
                    }));
                }
                let hash = entry_hash(
                    &row.prev_hash,
                    row.seq,
                    row.at,
                    &row.actor,
                    &row.action,
                    &row.subject,
                    &row.details,
                );
                if hash != row.hash {
                    return Err(broken(BreakReason::ContentAltered));
                }
                // This entry is intact (its hash covers its prev_hash), so a link that does not
                // match means the entry before it was rewritten along with its hash.
                if row.prev_hash != head.hash {
                    return Err(SqlError::AuditChainBroken(AuditBreak {
                        seq: head.len,
                        reason: BreakReason::Rewritten,
                    }));
                }
                head = ChainHead {
                    len: row.seq,
                    hash: row.hash.clone(),
                };
            }
            if !full {
                return Ok(head);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn canonical_form_sorts_keys_at_every_level() {
        let a = json!({"b": 1, "a": {"d": [{"z": 1, "y": 2}], "c": null}});
        assert_eq!(
            canonical(&a).to_string(),
            r#"{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}"#
        );
    }

    #[test]
    fn hash_covers_every_field_and_the_link() {
        let base = entry_hash(GENESIS_HASH, 1, 10, "a", "b", "c", "{}");
        assert_eq!(base.len(), 64);
        assert_eq!(base, entry_hash(GENESIS_HASH, 1, 10, "a", "b", "c", "{}"));
        let variants = [
            entry_hash(&base, 1, 10, "a", "b", "c", "{}"),
            entry_hash(GENESIS_HASH, 2, 10, "a", "b", "c", "{}"),
            entry_hash(GENESIS_HASH, 1, 11, "a", "b", "c", "{}"),
            entry_hash(GENESIS_HASH, 1, 10, "x", "b", "c", "{}"),
            entry_hash(GENESIS_HASH, 1, 10, "a", "x", "c", "{}"),
            entry_hash(GENESIS_HASH, 1, 10, "a", "b", "x", "{}"),
            entry_hash(GENESIS_HASH, 1, 10, "a", "b", "c", "[]"),
            // Quoting keeps field boundaries: moving a character across fields changes the hash.
            entry_hash(GENESIS_HASH, 1, 10, "a\",\"b", "", "c", "{}"),
        ];
        for v in variants {
            assert_ne!(v, base);
        }
    }
}
