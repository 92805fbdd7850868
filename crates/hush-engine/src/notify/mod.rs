//! Notifications: one message per incident when it opens, an update when it grows (at most one
//! per `update_interval` per incident, so a storm is one update, not hundreds), and one when it
//! resolves; routed to channels by team, service and priority, rate-limited per channel, held
//! back by silences.
//!
//! The task listens to the incident events (`Incidents::subscribe`) and hands each message to
//! the channel's own sender task, so messages of one channel keep their order and a slow
//! channel delays no other.

mod send;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, watch};
use uuid::Uuid;

use crate::Engine;
use crate::config::{PromDuration, Secret};
use crate::incidents::IncidentEvent;

/// `incidents.notifications` in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    pub channels: Vec<ChannelConfig>,
    /// Which channels hear about which incidents; with none, every channel hears everything.
    pub routes: Vec<Route>,
    /// Most messages one channel sends per `rate_window`; past it messages are dropped and
    /// counted (an update later carries the news).
    pub rate_limit: usize,
    pub rate_window: PromDuration,
    /// Least time between two growth updates of one incident (the opening counts as one).
    pub update_interval: PromDuration,
    /// How long the opening message waits for the rest of a burst: alerts arriving together
    /// (one webhook call, an HA pair's copies) make one message, not an opening and an update.
    pub open_wait: PromDuration,
    pub silences: Vec<Silence>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            channels: Vec::new(),
            routes: Vec::new(),
            rate_limit: 60,
            rate_window: PromDuration::from_secs(60),
            update_interval: PromDuration::from_secs(60),
            open_wait: PromDuration(Duration::from_secs(2)),
            silences: Vec::new(),
        }
    }
}

/// One place messages go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "type", rename_all = "lowercase")]
pub enum ChannelConfig {
    /// A JSON document per message, POSTed to `url`.
    Webhook { name: String, url: Secret },
    /// A Slack-compatible incoming webhook (`{"text": …}`).
    Slack { name: String, url: Secret },
    /// Email over plain SMTP to `smtp` (`host:port`); updates thread under the first message.
    Email {
        name: String,
        smtp: String,
        from: String,
        to: Vec<String>,
    },
}

impl ChannelConfig {
    pub fn name(&self) -> &str {
        match self {
            Self::Webhook { name, .. } | Self::Slack { name, .. } | Self::Email { name, .. } => {
                name
            }
        }
    }
}

/// Sends incidents matching every given condition to `channels`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub channels: Vec<String>,
    /// Any of these teams; empty: any team.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Any of these services; empty: any service.
    #[serde(default)]
    pub services: Vec<String>,
    /// At least this urgent (`P3` keeps P1–P3); absent: any priority.
    #[serde(default)]
    pub priority: Option<String>,
}

/// Holds back notifications of incidents touching `service` or `team` between `starts` and
/// `ends` (epoch ms; absent: always). At least one of `service` and `team` is required.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Silence {
    #[serde(default)]
    pub id: Option<Uuid>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub starts: Option<i64>,
    #[serde(default)]
    pub ends: Option<i64>,
    #[serde(default)]
    pub comment: String,
}

impl Silence {
    fn covers(&self, ev: &IncidentEvent, now: i64) -> bool {
        let in_time = self.starts.is_none_or(|s| s <= now) && self.ends.is_none_or(|e| now < e);
        let svc = self
            .service
            .as_ref()
            .is_none_or(|s| ev.services.iter().any(|x| x == s));
        let team = self
            .team
            .as_ref()
            .is_none_or(|t| ev.teams.iter().any(|x| x == t));
        in_time && svc && team && (self.service.is_some() || self.team.is_some())
    }
}

/// Silences from the configuration and the API; the API's are kept in `silences.json` in the
/// data directory so a restart keeps them.
#[derive(Debug, Default)]
pub struct Silences {
    list: RwLock<Vec<Silence>>,
    file: Option<std::path::PathBuf>,
}

impl Silences {
    pub(crate) fn load(config: &[Silence], file: std::path::PathBuf) -> anyhow::Result<Self> {
        let mut list: Vec<Silence> = config.to_vec();
        if let Ok(text) = std::fs::read_to_string(&file) {
            let stored: Vec<Silence> = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("invalid `{}`: {e}", file.display()))?;
            list.extend(stored);
        }
        Ok(Self {
            list: RwLock::new(list),
            file: Some(file),
        })
    }

    pub fn list(&self) -> Vec<Silence> {
        self.list.read().clone()
    }

    /// Adds a silence (given an id) and writes the API's silences out.
    pub fn add(&self, mut s: Silence) -> Result<Silence, String> {
        if s.service.is_none() && s.team.is_none() {
            return Err("a silence needs `service` or `team`".into());
        }
        if let (Some(a), Some(b)) = (s.starts, s.ends)
            && b <= a
        {
            return Err("`ends` must be after `starts`".into());
        }
        s.id = Some(Uuid::now_v7());
        let mut l = self.list.write();
        l.push(s.clone());
        self.save(&l)?;
        Ok(s)
    }

    /// Removes an API silence; `false` if there is none with that id.
    pub fn remove(&self, id: Uuid) -> Result<bool, String> {
        let mut l = self.list.write();
        let before = l.len();
        l.retain(|s| s.id != Some(id));
        let removed = l.len() != before;
        if removed {
            self.save(&l)?;
        }
        Ok(removed)
    }

    fn save(&self, l: &[Silence]) -> Result<(), String> {
        let Some(f) = &self.file else { return Ok(()) };
        let api: Vec<&Silence> = l.iter().filter(|s| s.id.is_some()).collect();
        let text = serde_json::to_string_pretty(&api).map_err(|e| e.to_string())?;
        let tmp = f.with_extension("json.tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, f))
            .map_err(|e| format!("failed to write `{}`: {e}", f.display()))
    }

    fn silenced(&self, ev: &IncidentEvent, now: i64) -> bool {
        self.list.read().iter().any(|s| s.covers(ev, now))
    }
}

/// What a message says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    Opened,
    Updated,
    Resolved,
}

/// One notification about one incident.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub kind: MessageKind,
    pub incident: IncidentEvent,
    /// 1 for the first message about the incident, then 2, 3, … on this channel.
    pub sequence: u32,
}

fn priority_level(p: &str) -> Option<u8> {
    p.strip_prefix(['P', 'p'])?
        .parse()
        .ok()
        .filter(|n| (1..=5).contains(n))
}

/// Checks the configuration before anything starts.
pub(crate) fn validate(cfg: &NotifyConfig) -> anyhow::Result<()> {
    let mut names = std::collections::HashSet::new();
    for c in &cfg.channels {
        if !names.insert(c.name()) {
            anyhow::bail!("notification channel `{}` is defined twice", c.name());
        }
    }
    for r in &cfg.routes {
        for c in &r.channels {
            if !names.contains(c.as_str()) {
                anyhow::bail!("a notification route names channel `{c}`, which is not defined");
            }
        }
        if let Some(p) = &r.priority
            && priority_level(p).is_none()
        {
            anyhow::bail!("a notification route has priority `{p}`; expected P1 to P5");
        }
    }
    Ok(())
}

/// Per-channel sliding window of send times: the whole rate limiter (a crate would add a
/// dependency for ten lines).
#[derive(Default)]
struct Window {
    sent: VecDeque<Instant>,
}

#[derive(Default)]
struct State {
    /// Per incident: messages sent per channel, and when the last growth update went out.
    sequence: HashMap<(Uuid, String), u32>,
    last_update: HashMap<Uuid, Instant>,
    /// Growth held back by `update_interval`, sent when it passes.
    held: BTreeMap<Uuid, IncidentEvent>,
    /// Openings waiting out `open_wait`, with when they opened; growth meanwhile folds in.
    opening: BTreeMap<Uuid, (IncidentEvent, Instant)>,
    windows: HashMap<String, Window>,
}

/// Runs until `stop`: turns incident events into messages.
pub(crate) async fn run(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    let cfg = engine.config.incidents.notifications.clone();
    if cfg.channels.is_empty() {
        return;
    }
    let mut events = engine.incidents.subscribe();
    let mut senders: HashMap<String, mpsc::Sender<Message>> = HashMap::new();
    let mut workers = Vec::new();
    for c in &cfg.channels {
        let (tx, rx) = mpsc::channel(1024);
        senders.insert(c.name().to_string(), tx);
        workers.push(tokio::spawn(send::worker(c.clone(), rx, engine.clone())));
    }
    let mut st = State {
        sequence: HashMap::new(),
        last_update: HashMap::new(),
        held: BTreeMap::new(),
        opening: BTreeMap::new(),
        windows: HashMap::new(),
    };
    let interval = cfg.update_interval.0;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Ok(ev) => handle(&engine.silences, &cfg, &mut st, &senders, ev, interval),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "notifications fell behind incident events");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = tick.tick() => {
                let ready: Vec<Uuid> = st.opening.iter()
                    .filter(|(_, (_, t))| t.elapsed() >= cfg.open_wait.0)
                    .map(|(id, _)| *id)
                    .collect();
                for id in ready {
                    if let Some((ev, _)) = st.opening.remove(&id) {
                        dispatch(&engine.silences, &cfg, &mut st, &senders, MessageKind::Opened, ev);
                    }
                }
                let due: Vec<Uuid> = st.held.keys().copied().filter(|id| {
                    st.last_update.get(id).is_none_or(|t| t.elapsed() >= interval)
                }).collect();
                for id in due {
                    if let Some(ev) = st.held.remove(&id) {
                        dispatch(&engine.silences, &cfg, &mut st, &senders, MessageKind::Updated, ev);
                    }
                }
            }
            _ = stop.changed() => break,
        }
    }
    drop(senders);
    for w in workers {
        let _ = w.await;
    }
}

fn handle(
    silences: &Silences,
    cfg: &NotifyConfig,
    st: &mut State,
    senders: &HashMap<String, mpsc::Sender<Message>>,
    ev: IncidentEvent,
    interval: Duration,
) {
    let kind = match ev.kind {
        "opened" => MessageKind::Opened,
        // Merged into another incident: over as a problem of its own; the other one grew.
        "resolved" | "merged" => MessageKind::Resolved,
        "grew" | "reprioritised" | "reopened" | "split" => MessageKind::Updated,
        _ => return,
    };
    if let Some((pending, _)) = st.opening.get_mut(&ev.incident) {
        match kind {
            // Still waiting to announce it: the opening will say the latest.
            MessageKind::Updated => {
                *pending = IncidentEvent {
                    kind: "opened",
                    ..ev
                };
                return;
            }
            // Over before it was announced: announce it, then its end.
            MessageKind::Resolved => {
                if let Some((open, _)) = st.opening.remove(&ev.incident) {
                    dispatch(silences, cfg, st, senders, MessageKind::Opened, open);
                }
            }
            MessageKind::Opened => {}
        }
    }
    match kind {
        MessageKind::Updated => {
            if !st.sequence.keys().any(|(id, _)| *id == ev.incident) {
                // Nothing was sent about it (silenced or routed nowhere when it opened).
                return;
            }
            let now = Instant::now();
            let ready = st
                .last_update
                .get(&ev.incident)
                .is_none_or(|t| now.duration_since(*t) >= interval);
            if ready {
                st.held.remove(&ev.incident);
                dispatch(silences, cfg, st, senders, kind, ev);
            } else {
                st.held.insert(ev.incident, ev);
            }
        }
        MessageKind::Resolved => {
            // The resolve says it all; a held update would only arrive after it.
            st.held.remove(&ev.incident);
            dispatch(silences, cfg, st, senders, kind, ev);
        }
        MessageKind::Opened if cfg.open_wait.0.is_zero() => {
            dispatch(silences, cfg, st, senders, kind, ev)
        }
        MessageKind::Opened => {
            st.opening.insert(ev.incident, (ev, Instant::now()));
        }
    }
}

fn dispatch(
    silences: &Silences,
    cfg: &NotifyConfig,
    st: &mut State,
    senders: &HashMap<String, mpsc::Sender<Message>>,
    kind: MessageKind,
    ev: IncidentEvent,
) {
    let now_ms = ev.at;
    if kind == MessageKind::Opened && silences.silenced(&ev, now_ms) {
        return;
    }
    if kind != MessageKind::Resolved {
        st.last_update.insert(ev.incident, Instant::now());
    }
    for channel in channels_for(cfg, &ev) {
        let key = (ev.incident, channel.to_string());
        // Updates and resolves go only where the opening went.
        if kind != MessageKind::Opened && !st.sequence.contains_key(&key) {
            continue;
        }
        let w = st
            .windows
            .entry(channel.to_string())
            .or_insert_with(|| Window {
                sent: VecDeque::new(),
            });
        let now = Instant::now();
        while w
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) > cfg.rate_window.0)
        {
            w.sent.pop_front();
        }
        if w.sent.len() >= cfg.rate_limit && kind != MessageKind::Resolved {
            tracing::warn!(channel, incident = %ev.incident, "notification rate limit reached; message dropped");
            continue;
        }
        w.sent.push_back(now);
        let seq = st.sequence.entry(key).or_insert(0);
        *seq += 1;
        let msg = Message {
            kind,
            incident: ev.clone(),
            sequence: *seq,
        };
        if let Some(tx) = senders.get(channel)
            && tx.try_send(msg).is_err()
        {
            tracing::warn!(channel, "notification queue full; message dropped");
        }
    }
    if kind == MessageKind::Resolved {
        st.sequence.retain(|(id, _), _| *id != ev.incident);
        st.last_update.remove(&ev.incident);
    }
}

/// The channels an incident goes to.
fn channels_for<'a>(cfg: &'a NotifyConfig, ev: &IncidentEvent) -> Vec<&'a str> {
    if cfg.routes.is_empty() {
        return cfg.channels.iter().map(ChannelConfig::name).collect();
    }
    let level = priority_level(&ev.priority).unwrap_or(5);
    let mut out: Vec<&str> = Vec::new();
    for r in &cfg.routes {
        let team = r.teams.is_empty() || r.teams.iter().any(|t| ev.teams.contains(t));
        let svc = r.services.is_empty() || r.services.iter().any(|s| ev.services.contains(s));
        let prio = r
            .priority
            .as_deref()
            .and_then(priority_level)
            .is_none_or(|p| level <= p);
        if team && svc && prio {
            for c in &r.channels {
                if !out.contains(&c.as_str()) {
                    out.push(c);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
