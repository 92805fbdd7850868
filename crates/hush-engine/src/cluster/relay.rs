//! The leader's incident events on every node: the leader alone runs the incident task, so
//! without this a live stream (`GET /api/v1/incidents/stream`) opened on another node stayed
//! silent. Each node publishes what its own task emits (only the leader's emits anything) on
//! `<name>.incidents.events` and feeds what arrives there into its live stream, its own events
//! included, so every node's stream has the same order. Core NATS, not JetStream: the stream is
//! for whoever listens now, as in embedded mode; notifications stay on the leader.

use crate::Engine;
use crate::incidents::{EVENT_KINDS, IncidentEvent};
use futures_util::StreamExt;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// [`IncidentEvent`] as read back: the kind arrives as text.
#[derive(serde::Deserialize)]
struct Wire {
    kind: String,
    incident: uuid::Uuid,
    state: String,
    priority: String,
    title: String,
    alerts: usize,
    services: Vec<String>,
    teams: Vec<String>,
    at: i64,
}

fn decode(bytes: &[u8]) -> Option<IncidentEvent> {
    let w: Wire = serde_json::from_slice(bytes).ok()?;
    let kind = EVENT_KINDS.iter().find(|k| **k == w.kind)?;
    Some(IncidentEvent {
        kind,
        incident: w.incident,
        state: w.state,
        priority: w.priority,
        title: w.title,
        alerts: w.alerts,
        services: w.services,
        teams: w.teams,
        at: w.at,
    })
}

pub(crate) async fn run(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    let Some(cluster) = engine.cluster.clone() else {
        return;
    };
    let subject = cluster.config.events_subject();
    let mut sub = match cluster.client.subscribe(subject.clone()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "subscribing to incident events failed; this node's live stream shows only its own");
            return;
        }
    };
    let live = engine.incidents.relay_to().clone();
    let mut own = engine.incidents.subscribe();
    loop {
        tokio::select! {
            m = sub.next() => match m {
                Some(m) => match decode(&m.payload) {
                    Some(ev) => { let _ = live.send(ev); }
                    None => tracing::warn!("dropping an undecodable incident event"),
                },
                None => break,
            },
            ev = own.recv() => match ev {
                Ok(ev) => {
                    let body = serde_json::to_vec(&ev).unwrap_or_default();
                    if let Err(e) = cluster.client.publish(subject.clone(), body.into()).await {
                        tracing::warn!(error = %e, "relaying an incident event failed");
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "incident events came faster than they were relayed");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = stop.changed() => break,
        }
    }
    let _ = sub.unsubscribe().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_reads_back_as_it_was_sent() {
        let ev = IncidentEvent {
            kind: "grew",
            incident: uuid::Uuid::from_u128(7),
            state: "open".into(),
            priority: "P2".into(),
            title: "checkout errors".into(),
            alerts: 3,
            services: vec!["checkout".into()],
            teams: vec!["shop".into()],
            at: 1_700_000_000_000,
        };
        let back = decode(&serde_json::to_vec(&ev).unwrap()).unwrap();
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&ev).unwrap()
        );
        assert!(decode(br#"{"kind":"exploded"}"#).is_none());
        assert!(decode(b"\xff").is_none());
    }
}
