//! The channels: generic webhook, Slack-compatible incoming webhook, email over SMTP.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Email, Tokio1Executor};
use serde_json::json;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{ChannelConfig, Message, MessageKind};
use crate::Engine;

/// Attempts per message before it is given up (logged).
const ATTEMPTS: u32 = 3;

/// Sends the messages of one channel in order until the queue closes.
pub(super) async fn worker(
    c: ChannelConfig,
    mut rx: mpsc::Receiver<Message>,
    _engine: Arc<Engine>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    // Email threads: the Message-ID of each incident's first email.
    let mut threads: HashMap<Uuid, String> = HashMap::new();
    while let Some(m) = rx.recv().await {
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            let r = match &c {
                ChannelConfig::Webhook { url, .. } => {
                    post(
                        &http,
                        url.expose(),
                        &serde_json::to_value(&m).unwrap_or_default(),
                    )
                    .await
                }
                ChannelConfig::Slack { url, .. } => {
                    post(&http, url.expose(), &json!({ "text": text(&m) })).await
                }
                ChannelConfig::Email { smtp, from, to, .. } => {
                    email(smtp, from, to, &m, &mut threads).await
                }
            };
            match r {
                Ok(()) => break,
                Err(e) if attempt == ATTEMPTS => {
                    tracing::error!(channel = c.name(), incident = %m.incident.incident, error = %e, "notification failed");
                }
                Err(_) => {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        }
        if m.kind == MessageKind::Resolved {
            threads.remove(&m.incident.incident);
        }
    }
}

async fn post(http: &reqwest::Client, url: &str, body: &serde_json::Value) -> Result<(), String> {
    let r = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status().is_success() {
        Ok(())
    } else {
        Err(format!("receiver answered {}", r.status()))
    }
}

/// One line for chat: what happened, priority, title, size.
pub(super) fn text(m: &Message) -> String {
    let i = &m.incident;
    let what = match m.kind {
        MessageKind::Opened => "opened",
        MessageKind::Updated => "updated",
        MessageKind::Resolved => "resolved",
    };
    format!(
        "[{}] {} incident {what}: {} ({} alert{}, services: {}) id {}",
        i.priority,
        i.state,
        i.title,
        i.alerts,
        if i.alerts == 1 { "" } else { "s" },
        if i.services.is_empty() {
            "unknown".to_string()
        } else {
            i.services.join(", ")
        },
        i.incident
    )
}

async fn email(
    smtp: &str,
    from: &str,
    to: &[String],
    m: &Message,
    threads: &mut HashMap<Uuid, String>,
) -> Result<(), String> {
    let (host, port) = smtp
        .rsplit_once(':')
        .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h, p)))
        .ok_or_else(|| format!("`smtp` is `{smtp}`; expected host:port"))?;
    let id = m.incident.incident;
    let domain = from.rsplit_once('@').map_or("hush.invalid", |(_, d)| d);
    let message_id = format!("<{id}.{}@{domain}>", m.sequence);
    let mut b = Email::builder()
        .from(
            from.parse()
                .map_err(|e| format!("bad `from` address: {e}"))?,
        )
        .subject(format!(
            "[Hush {}] {}",
            m.incident.priority, m.incident.title
        ))
        .message_id(Some(message_id.clone()));
    for t in to {
        b = b.to(t
            .parse()
            .map_err(|e| format!("bad `to` address `{t}`: {e}"))?);
    }
    // Updates and the resolve thread under the first message in mail clients.
    if let Some(first) = threads.get(&id) {
        b = b.in_reply_to(first.clone()).references(first.clone());
    }
    let mail = b
        .header(ContentType::TEXT_PLAIN)
        .body(text(m))
        .map_err(|e| e.to_string())?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .timeout(Some(Duration::from_secs(10)))
        .build();
    transport.send(mail).await.map_err(|e| e.to_string())?;
    threads.entry(id).or_insert(message_id);
    Ok(())
}
