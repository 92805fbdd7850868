//! Leader election for correlation and remediation: one node at a time runs the incident task
//! and the remediation controller, so incidents are not formed twice and an action never runs
//! twice.
//!
//! The leader holds the key `leader` in the shard lease bucket, with the shard leases' pattern:
//! claimed with `create`, renewed every `lease / 3` with `update` at the revision last written,
//! released with a delete at that revision. The leader stops acting at 80 % of the lease by its
//! own clock, counted from before the renewal it last sent, so it has stopped before the server
//! can expire the key and let another node claim it.
//!
//! A new leader rebuilds its correlator from the shared database (as a restart does), so open
//! incidents keep their ids and keep growing across a leader change.
//!
//! Alerts and incident changes reach the leader by NATS request/reply (`<name>.alerts.submit`,
//! `<name>.incidents.patch`, `<name>.incidents.regroup` for merges and splits) rather than through a JetStream stream: the client is answered
//! only after the leader stored them, with the same answer (incident ids, validation errors)
//! as in embedded mode, and nothing waits in a stream for a leader that may not come. Only the
//! leader subscribes; with no leader the request fails at once (no responders) and the client
//! gets 503 with `Retry-After`. A request whose answer is lost (timeout) may have been stored:
//! the client's retry is absorbed, because the correlator treats a re-sent episode as a
//! duplicate.

use super::Cluster;
use crate::Engine;
use crate::incidents::{Accepted, IncidentError, Patch};
use async_nats::jetstream::kv;
use futures_util::StreamExt;
use hush_correlate::Alert;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use uuid::Uuid;

/// The leader's key in the shard lease bucket (never a `shard-<n>` key).
pub(crate) const KEY: &str = "leader";

#[derive(serde::Serialize, serde::Deserialize)]
struct SubmitRequest {
    source: String,
    alerts: Vec<Alert>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PatchRequest {
    id: Uuid,
    patch: Patch,
    actor: String,
}

/// A merge or split an operator asked a follower for.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RegroupRequest {
    Merge {
        id: Uuid,
        into: Uuid,
        actor: String,
    },
    Split {
        id: Uuid,
        alerts: Vec<String>,
        actor: String,
    },
}

/// The leader's answer: the result, or the error as the API maps it.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Reply<T> {
    Ok(T),
    Invalid(String),
    NotFound(Uuid),
    Conflict(String),
    Unavailable,
    Internal(String),
}

impl<T> From<Result<T, IncidentError>> for Reply<T> {
    fn from(r: Result<T, IncidentError>) -> Self {
        match r {
            Ok(v) => Reply::Ok(v),
            Err(IncidentError::Invalid(m)) => Reply::Invalid(m),
            Err(IncidentError::NotFound(id)) => Reply::NotFound(id),
            Err(IncidentError::Conflict(m)) => Reply::Conflict(m),
            // The leader stepped down meanwhile: the client retries against the next one.
            Err(IncidentError::Unavailable | IncidentError::NoLeader) => Reply::Unavailable,
            Err(IncidentError::Internal(m)) => Reply::Internal(m),
        }
    }
}

impl<T> From<Reply<T>> for Result<T, IncidentError> {
    fn from(r: Reply<T>) -> Self {
        match r {
            Reply::Ok(v) => Ok(v),
            Reply::Invalid(m) => Err(IncidentError::Invalid(m)),
            Reply::NotFound(id) => Err(IncidentError::NotFound(id)),
            Reply::Conflict(m) => Err(IncidentError::Conflict(m)),
            Reply::Unavailable => Err(IncidentError::NoLeader),
            Reply::Internal(m) => Err(IncidentError::Internal(m)),
        }
    }
}

/// The sources alerts come from, so a forwarded name maps back to the same label.
fn source_name(s: &str) -> &'static str {
    match s {
        "alertmanager" => "alertmanager",
        "capacity" => "capacity",
        "anomaly" => "anomaly",
        _ => "api",
    }
}

impl Cluster {
    /// Whether this node leads correlation and remediation now.
    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::Acquire)
    }

    /// Hands alerts to the leader and returns its answer once it stored them. A request too
    /// large for one NATS message is sent in parts, in order.
    pub async fn forward_alerts(
        &self,
        alerts: Vec<Alert>,
        source: &str,
    ) -> Result<Vec<Accepted>, IncidentError> {
        let mut parts = VecDeque::from([alerts]);
        let mut out = Vec::new();
        while let Some(part) = parts.pop_front() {
            let body = serde_json::to_vec(&SubmitRequest {
                source: source.to_string(),
                alerts: part,
            })
            .map_err(|e| IncidentError::Internal(e.to_string()))?;
            if body.len() > self.max_message {
                // Decoded again rather than kept, so the common small request is not cloned.
                let mut req: SubmitRequest = serde_json::from_slice(&body)
                    .map_err(|e| IncidentError::Internal(e.to_string()))?;
                if req.alerts.len() <= 1 {
                    return Err(IncidentError::Invalid(format!(
                        "an alert of {} bytes exceeds the cluster's message size ({} bytes)",
                        body.len(),
                        self.max_message
                    )));
                }
                let second = req.alerts.split_off(req.alerts.len() / 2);
                parts.push_front(second);
                parts.push_front(req.alerts);
                continue;
            }
            let accepted: Vec<Accepted> = self.request(self.config.alerts_subject(), body).await?;
            out.extend(accepted);
        }
        Ok(out)
    }

    /// Hands an operator's change to the leader; returns the changed incident's id.
    pub async fn forward_patch(
        &self,
        id: Uuid,
        patch: Patch,
        actor: String,
    ) -> Result<Uuid, IncidentError> {
        let body = serde_json::to_vec(&PatchRequest { id, patch, actor })
            .map_err(|e| IncidentError::Internal(e.to_string()))?;
        self.request(self.config.patch_subject(), body).await
    }

    /// Hands a merge or split to the leader; returns the ids of the incident operated on and
    /// of the other one (the merge's target, the split's new incident).
    pub(crate) async fn forward_regroup(
        &self,
        req: RegroupRequest,
    ) -> Result<(Uuid, Uuid), IncidentError> {
        let body = serde_json::to_vec(&req).map_err(|e| IncidentError::Internal(e.to_string()))?;
        self.request(self.config.regroup_subject(), body).await
    }

    async fn request<T: serde::de::DeserializeOwned>(
        &self,
        subject: String,
        body: Vec<u8>,
    ) -> Result<T, IncidentError> {
        use async_nats::RequestErrorKind as K;
        let req = async_nats::Request::new()
            .payload(body.into())
            .timeout(Some(self.config.publish_timeout.0));
        let msg = self
            .client
            .send_request(subject, req)
            .await
            .map_err(|e| match e.kind() {
                K::NoResponders => IncidentError::NoLeader,
                // Timed out or cut off: the leader may be changing; the client retries.
                _ => {
                    tracing::warn!(error = %e, "forwarding to the leader failed");
                    IncidentError::NoLeader
                }
            })?;
        let reply: Reply<T> = serde_json::from_slice(&msg.payload)
            .map_err(|e| IncidentError::Internal(format!("undecodable leader answer: {e}")))?;
        reply.into()
    }
}

/// A leadership this node holds: the lease revision and the task acting on it.
struct Term {
    revision: u64,
    /// `Some(deadline)` while the lease holds; `None` ends the term.
    lease: watch::Sender<Option<Instant>>,
    task: JoinHandle<()>,
}

impl Drop for Term {
    /// The election task aborted must not leave a leader acting without a lease.
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs until `stop`: claims the leadership when it is free, renews it while held, and
/// releases it at the end.
pub async fn run(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    let Some(cluster) = engine.cluster.clone() else {
        return;
    };
    // Until this node leads, nothing may wait in the local incident queue.
    if let Some(mut rx) = engine.incidents.take_receiver() {
        crate::incidents::close_queue(&mut rx);
    }
    let c = &cluster.config;
    let value = bytes::Bytes::from(format!("{} {}", c.node_id, cluster.incarnation));
    let hold_for = c.lease.0.mul_f64(0.8);
    let mut term: Option<Term> = None;
    let mut tick = tokio::time::interval(c.renew_interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        if let Some(t) = term.as_mut() {
            let sent = Instant::now();
            let lost = match cluster.leases.update(KEY, value.clone(), t.revision).await {
                Ok(rev) => {
                    t.revision = rev;
                    let _ = t.lease.send(Some(sent + hold_for));
                    false
                }
                Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                    tracing::warn!("leadership lost to another node");
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e, "renewing the leadership failed");
                    t.lease.borrow().is_none_or(|d| d <= Instant::now())
                }
            };
            if lost {
                if let Some(t) = term.take() {
                    end(t).await;
                }
            } else if term.as_ref().is_some_and(|t| t.task.is_finished())
                && let Some(t) = term.take()
            {
                // The term ended on its own (its deadline passed while renewals failed): hand
                // the lease back so a leader that acts is elected, here or elsewhere.
                release(&cluster, t).await;
            }
            continue;
        }
        let sent = Instant::now();
        match cluster.leases.create(KEY, value.clone()).await {
            Ok(revision) => {
                tracing::info!("leading correlation and remediation");
                let (tx, rx) = watch::channel(Some(sent + hold_for));
                let task = tokio::spawn(lead(engine.clone(), cluster.clone(), rx));
                term = Some(Term {
                    revision,
                    lease: tx,
                    task,
                });
            }
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {}
            Err(e) => tracing::warn!(error = %e, "claiming the leadership failed"),
        }
    }
    if let Some(t) = term.take() {
        release(&cluster, t).await;
    }
}

/// Ends the term, then deletes the lease so another node leads at once rather than after it
/// expires.
async fn release(cluster: &Cluster, t: Term) {
    let revision = t.revision;
    end(t).await;
    if let Err(e) = cluster
        .leases
        .delete_expect_revision(KEY, Some(revision))
        .await
    {
        tracing::warn!(error = %e, "releasing the leadership failed; it expires by itself");
    }
}

async fn end(mut t: Term) {
    let _ = t.lease.send(None);
    // Remediation gives running steps a bounded time; this bounds the rest.
    if tokio::time::timeout(Duration::from_secs(30), &mut t.task)
        .await
        .is_err()
    {
        tracing::warn!("the leader's tasks did not stop in time");
    }
}

/// The leader's work for one term: the incident task, the remediation controller and the
/// answers to forwarded requests, until the lease's deadline passes or the term is ended.
async fn lead(
    engine: Arc<Engine>,
    cluster: Arc<Cluster>,
    mut lease: watch::Receiver<Option<Instant>>,
) {
    let subs = async {
        let a = cluster
            .client
            .subscribe(cluster.config.alerts_subject())
            .await?;
        let p = cluster
            .client
            .subscribe(cluster.config.patch_subject())
            .await?;
        let g = cluster
            .client
            .subscribe(cluster.config.regroup_subject())
            .await?;
        Ok::<_, async_nats::SubscribeError>((a, p, g))
    };
    let (mut alerts, mut patches, mut regroups) = match subs.await {
        Ok(s) => s,
        Err(e) => {
            // The term ends; the election loop hands the lease back.
            tracing::warn!(error = %e, "subscribing to forwarded requests failed");
            return;
        }
    };
    let mut rx = engine.incidents.open_term();
    let (stop_tx, stop_rx) = watch::channel(false);
    // Runs other leaders made are in the shared audit log; without them this node would act
    // on their incidents again. Unread, remediation sits this term out rather than guess.
    let resumed = match &engine.remediation {
        Some(r) => r.resume().await.map_err(|e| {
            tracing::error!(error = %e, "remediation does not run this term: reading the audit log failed");
        }),
        None => Ok(()),
    };
    let remediation = resumed
        .is_ok()
        .then(|| tokio::spawn(crate::remediation::run(engine.clone(), stop_rx.clone())));
    cluster.leader.store(true, Ordering::Release);
    let mut answering = tokio::task::JoinSet::new();
    let mut stopped_at = None;
    let mut finished = false;
    {
        let incidents = crate::incidents::serve(engine.clone(), &mut rx, stop_rx);
        tokio::pin!(incidents);
        loop {
            let deadline = *lease.borrow();
            let Some(deadline) = deadline.filter(|d| Instant::now() < *d) else {
                break;
            };
            tokio::select! {
                () = &mut incidents => {
                    finished = true;
                    break;
                }
                _ = tokio::time::sleep_until(deadline) => break,
                r = lease.changed() => if r.is_err() { break },
                Some(m) = alerts.next() => {
                    answering.spawn(answer_submit(engine.clone(), cluster.client.clone(), m));
                }
                Some(m) = patches.next() => {
                    answering.spawn(answer_patch(engine.clone(), cluster.client.clone(), m));
                }
                Some(m) = regroups.next() => {
                    answering.spawn(answer_regroup(engine.clone(), cluster.client.clone(), m));
                }
            }
            while answering.try_join_next().is_some() {}
        }
        // Acting stops now: no new requests, the incident task finishes the batch in hand.
        cluster.leader.store(false, Ordering::Release);
        let _ = alerts.unsubscribe().await;
        let _ = patches.unsubscribe().await;
        let _ = regroups.unsubscribe().await;
        let _ = stop_tx.send(true);
        let end = deadline_or_now(&lease) + cluster.config.lease.0.mul_f64(0.1);
        if !finished && tokio::time::timeout_at(end, &mut incidents).await.is_err() {
            // Past 90 % of the lease: dropped mid-batch rather than overlapping the next
            // leader; its senders are told to retry.
            stopped_at = Some(Instant::now());
        }
    }
    if stopped_at.is_some() {
        tracing::warn!("the incident task was stopped in the middle of a batch");
    }
    crate::incidents::close_queue(&mut rx);
    let drain = async { while answering.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
    answering.abort_all();
    if let Some(r) = remediation {
        let _ = r.await;
    }
    tracing::info!("no longer leading correlation and remediation");
}

fn deadline_or_now(lease: &watch::Receiver<Option<Instant>>) -> Instant {
    let now = Instant::now();
    lease.borrow().map_or(now, |d| d.max(now))
}

async fn answer_submit(engine: Arc<Engine>, client: async_nats::Client, m: async_nats::Message) {
    let Some(reply) = m.reply else {
        return;
    };
    let r: Reply<Vec<Accepted>> = match serde_json::from_slice::<SubmitRequest>(&m.payload) {
        Ok(req) => engine
            .incidents
            .submit(req.alerts, source_name(&req.source))
            .await
            .into(),
        Err(e) => Reply::Invalid(format!("undecodable forwarded alerts: {e}")),
    };
    respond(&client, reply, &r).await;
}

async fn answer_patch(engine: Arc<Engine>, client: async_nats::Client, m: async_nats::Message) {
    let Some(reply) = m.reply else {
        return;
    };
    let r: Reply<Uuid> = match serde_json::from_slice::<PatchRequest>(&m.payload) {
        Ok(req) => engine
            .incidents
            .patch(req.id, req.patch, req.actor)
            .await
            .map(|i| i.id)
            .into(),
        Err(e) => Reply::Invalid(format!("undecodable forwarded change: {e}")),
    };
    respond(&client, reply, &r).await;
}

async fn answer_regroup(engine: Arc<Engine>, client: async_nats::Client, m: async_nats::Message) {
    let Some(reply) = m.reply else {
        return;
    };
    let r: Reply<(Uuid, Uuid)> = match serde_json::from_slice::<RegroupRequest>(&m.payload) {
        Ok(RegroupRequest::Merge { id, into, actor }) => {
            engine.incidents.merge(id, into, actor).await
        }
        Ok(RegroupRequest::Split { id, alerts, actor }) => {
            engine.incidents.split(id, alerts, actor).await
        }
        Err(e) => Err(IncidentError::Invalid(format!(
            "undecodable forwarded merge or split: {e}"
        ))),
    }
    .map(|r| (r.incident.id, r.other.id))
    .into();
    respond(&client, reply, &r).await;
}

async fn respond<T: serde::Serialize>(
    client: &async_nats::Client,
    to: async_nats::Subject,
    r: &Reply<T>,
) {
    match serde_json::to_vec(r) {
        Ok(body) => {
            if let Err(e) = client.publish(to, body.into()).await {
                tracing::warn!(error = %e, "answering a forwarded request failed");
            }
        }
        Err(e) => tracing::warn!(error = %e, "encoding an answer failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_round_trip_errors() {
        let r: Reply<Vec<Accepted>> = Err(IncidentError::Invalid("bad".into())).into();
        let back: Reply<Vec<Accepted>> =
            serde_json::from_slice(&serde_json::to_vec(&r).unwrap()).unwrap();
        let back: Result<Vec<Accepted>, IncidentError> = back.into();
        assert!(matches!(back, Err(IncidentError::Invalid(m)) if m == "bad"));
        let r: Reply<Uuid> = Err(IncidentError::Unavailable).into();
        let back: Result<Uuid, IncidentError> = r.into();
        assert!(matches!(back, Err(IncidentError::NoLeader)));
        assert_eq!(source_name("alertmanager"), "alertmanager");
        assert_eq!(source_name("anything"), "api");
    }
}
