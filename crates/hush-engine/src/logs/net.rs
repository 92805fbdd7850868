//! Syslog over UDP and TCP, and the flush schedule of the log pipeline (and the file tailer's
//! task).
//!
//! Sockets are bound when the engine opens (a port conflict fails start-up) and served from
//! [`start`]. A datagram is one message; a TCP stream is split by [`Framer`] (octet-counted or
//! newline framing, bounded). Refused frames are counted by reason and the connection goes on;
//! nothing a peer sends can stop a listener.

use super::SyslogConfig;
use crate::Engine;
use hush_ingest::logs::{Decoded, Frame, Framer, LogError, decode_syslog};
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub(crate) struct Bound {
    udp: Option<std::net::UdpSocket>,
    tcp: Option<std::net::TcpListener>,
}

pub(super) fn bind(cfg: &SyslogConfig) -> anyhow::Result<Bound> {
    let udp = match cfg.udp {
        Some(a) => {
            let s = std::net::UdpSocket::bind(a)
                .map_err(|e| anyhow::anyhow!("failed to bind logs.syslog.udp {a}: {e}"))?;
            s.set_nonblocking(true)?;
            Some(s)
        }
        None => None,
    };
    let tcp = match cfg.tcp {
        Some(a) => {
            let l = std::net::TcpListener::bind(a)
                .map_err(|e| anyhow::anyhow!("failed to bind logs.syslog.tcp {a}: {e}"))?;
            l.set_nonblocking(true)?;
            Some(l)
        }
        None => None,
    };
    Ok(Bound { udp, tcp })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn rejected(engine: &Engine, e: &LogError) {
    engine.logs.count(e.reason.as_str(), 1);
    engine.count_rejected_request(&format!("syslog_{}", e.reason.as_str()));
    tracing::debug!(error = %e, "syslog frame refused");
}

/// Starts the flush schedule and the configured syslog listeners.
pub fn start(engine: &Arc<Engine>, stop: &watch::Sender<bool>) -> Vec<JoinHandle<()>> {
    let mut tasks = vec![tokio::spawn(flusher(engine.clone(), stop.subscribe()))];
    if !engine.logs.config().files.is_empty() {
        tasks.push(tokio::spawn(super::files::run(
            engine.clone(),
            stop.subscribe(),
        )));
    }
    let Some(bound) = engine.logs.listeners.lock().take() else {
        return tasks;
    };
    if let Some(s) = bound.udp {
        match tokio::net::UdpSocket::from_std(s) {
            Ok(s) => tasks.push(tokio::spawn(udp(engine.clone(), s, stop.subscribe()))),
            Err(e) => tracing::error!(error = %e, "syslog udp listener failed"),
        }
    }
    if let Some(l) = bound.tcp {
        match tokio::net::TcpListener::from_std(l) {
            Ok(l) => tasks.push(tokio::spawn(tcp(engine.clone(), l, stop.subscribe()))),
            Err(e) => tracing::error!(error = %e, "syslog tcp listener failed"),
        }
    }
    tasks
}

/// Every `logs.flush_interval`: closed minutes into the store, segments sealed, state saved.
async fn flusher(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    let every = engine.logs.config().flush_interval.0;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        let e = engine.clone();
        let series = match tokio::task::spawn_blocking(move || e.logs.flush(now_ms())).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "log flush panicked");
                continue;
            }
        };
        if series.is_empty() {
            continue;
        }
        match engine.store.append(series).await {
            Ok(out) if out.rejected_total() > 0 => tracing::warn!(
                rejected = out.rejected_total(),
                "some log template counts were refused by the store"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "storing log template counts failed"),
        }
    }
}

fn ingest(engine: &Engine, frame: &[u8]) {
    let logs = &engine.logs;
    match decode_syslog(frame, now_ms(), &logs.defaults, &logs.limits) {
        Ok(d) => {
            logs.ingest(d, now_ms());
        }
        Err(e) => rejected(engine, &e),
    }
}

async fn udp(engine: Arc<Engine>, sock: tokio::net::UdpSocket, mut stop: watch::Receiver<bool>) {
    // The largest UDP payload: a longer datagram cannot arrive whole anyway.
    let mut buf = vec![0u8; 65_536];
    loop {
        let n = tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok((n, _)) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "syslog udp receive failed");
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        ingest(&engine, &buf[..n]);
    }
}

async fn tcp(
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    mut stop: watch::Receiver<bool>,
) {
    let max = engine.logs.config().syslog.max_connections;
    let mut conns = JoinSet::new();
    loop {
        // Past the connection cap new peers wait in the kernel's accept queue.
        while conns.len() >= max {
            tokio::select! {
                _ = conns.join_next() => {}
                _ = stop.changed() => {
                    conns.shutdown().await;
                    return;
                }
            }
        }
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    conns.spawn(connection(engine.clone(), stream, stop.clone()));
                }
                Err(e) => tracing::warn!(error = %e, "syslog tcp accept failed"),
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            _ = stop.changed() => {
                conns.shutdown().await;
                return;
            }
        }
    }
}

async fn connection(
    engine: Arc<Engine>,
    mut stream: tokio::net::TcpStream,
    mut stop: watch::Receiver<bool>,
) {
    let mut framer = Framer::new(engine.logs.limits.max_frame_bytes);
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = tokio::select! {
            // A read error ends the connection like a close does.
            r = stream.read(&mut buf) => r.unwrap_or(0),
            _ = stop.changed() => 0,
        };
        let frames = if n == 0 {
            framer.finish().into_iter().collect()
        } else {
            framer.push(&buf[..n])
        };
        let mut batch = Decoded::default();
        for f in frames {
            match f {
                Frame::Message(m) => {
                    match decode_syslog(&m, now_ms(), &engine.logs.defaults, &engine.logs.limits) {
                        Ok(d) => {
                            batch.lossy.add(d.lossy);
                            batch.records.extend(d.records);
                        }
                        Err(e) => rejected(&engine, &e),
                    }
                }
                Frame::Rejected(e) => rejected(&engine, &e),
            }
        }
        if !batch.records.is_empty() {
            engine.logs.ingest(batch, now_ms());
        }
        if n == 0 {
            return;
        }
    }
}
