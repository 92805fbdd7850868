//! Log lines in the formats the components really write: nginx-style access logs at the
//! gateway, logfmt access logs in the services, application logs with Java, Python and Go
//! error shapes (stack traces included), and PostgreSQL's stderr log.
//!
//! Access logs are sampled (1 in 400 successes, 1 in 20 failures) to keep files readable;
//! application and database logs are written as the component would.

use chrono::DateTime;

use crate::estate::{Estate, ServiceKind};
use crate::logtext;
use crate::rng::SimRng;
use crate::world::World;

/// Where a line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogSource {
    Access,
    App,
    Postgres,
    Redis,
    Rabbitmq,
}

/// Severity as the line states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

/// One log record: the raw line (possibly multi-line) and where and when it was written.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogRecord {
    /// Epoch ms.
    pub time_ms: i64,
    pub service: String,
    pub instance: String,
    pub source: LogSource,
    pub level: Level,
    /// The text exactly as the component writes it.
    pub message: String,
}

/// Writes the logs of the real world.
#[derive(Debug)]
pub struct LogGen {
    rng: SimRng,
    was_up: Vec<Vec<bool>>,
}

/// `02/Mar/2026:10:00:00 +0000`, the nginx time format.
fn nginx_time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map_or_else(String::new, |d| {
        d.format("%d/%b/%Y:%H:%M:%S +0000").to_string()
    })
}

/// `2026-03-02 10:00:00.123 UTC`, PostgreSQL's `%m`.
fn pg_time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map_or_else(String::new, |d| {
        d.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string()
    })
}

impl LogGen {
    /// A generator for `estate`.
    pub fn new(seed: u64, estate: &Estate) -> Self {
        Self {
            rng: SimRng::stream(seed, "logs"),
            was_up: estate
                .services
                .iter()
                .map(|s| vec![true; s.instances.len()])
                .collect(),
        }
    }

    /// Lines written in `(t - step_ms, t]`, sorted by time.
    pub fn step(
        &mut self,
        estate: &Estate,
        world: &World,
        versions: &[Vec<String>],
        t: i64,
        step_ms: i64,
    ) -> Vec<LogRecord> {
        let dt = step_ms as f64 / 1000.0;
        let mut out = Vec::new();
        for (s, svc) in estate.services.iter().enumerate() {
            let lang = logtext::lang(&svc.name);
            for (i, inst) in svc.instances.iter().enumerate() {
                let st = &world.inst[s][i];
                let rng = &mut self.rng;
                let at = |rng: &mut SimRng| t - step_ms + 1 + rng.below(step_ms as usize) as i64;
                let mut push = |time_ms: i64, source: LogSource, level: Level, message: String| {
                    out.push(LogRecord {
                        time_ms,
                        service: svc.name.clone(),
                        instance: inst.name.clone(),
                        source,
                        level,
                        message,
                    });
                };
                if !st.up {
                    if self.was_up[s][i] {
                        let msg = logtext::app_line(
                            lang,
                            t,
                            Level::Error,
                            &svc.name,
                            "received SIGKILL (OOMKilled), shutting down",
                        );
                        push(t - step_ms + 1, LogSource::App, Level::Fatal, msg);
                    }
                    self.was_up[s][i] = false;
                    continue;
                }
                if !self.was_up[s][i] {
                    let msg = logtext::app_line(
                        lang,
                        t,
                        Level::Info,
                        &svc.name,
                        &format!("starting {} {} on :8080", svc.name, versions[s][i]),
                    );
                    push(t, LogSource::App, Level::Info, msg);
                    self.was_up[s][i] = true;
                }
                // Access logs.
                if svc.kind.is_http() {
                    let ok = rng.poisson(st.rps * dt * (1.0 - st.err) / 400.0);
                    let bad = rng.poisson(st.rps * dt * st.err / 20.0).min(40);
                    for k in 0..ok + bad {
                        let failed = k >= ok;
                        let ms = at(rng);
                        let (method, path) = logtext::route(&svc.name, rng);
                        let status = if !failed {
                            if rng.chance(0.012) { 404 } else { 200 }
                        } else if rng.chance(st.timeout_err / st.err.max(1e-9)) {
                            504
                        } else if rng.chance(0.7) {
                            500
                        } else {
                            503
                        };
                        let dur = st.median_ms * (st.sigma * rng.normal()).exp();
                        let bytes = if failed { 162 } else { 400 + rng.below(12_000) };
                        let level = if failed { Level::Error } else { Level::Info };
                        let line = if svc.kind == ServiceKind::Gateway {
                            let ip = format!(
                                "{}.{}",
                                rng.pick(&["203.0.113", "198.51.100", "192.0.2"]),
                                1 + rng.below(254)
                            );
                            format!(
                                "{ip} - - [{}] \"{method} {path} HTTP/1.1\" {status} {bytes} \"-\" \"{}\" rt={:.3} upstream=frontend",
                                nginx_time(ms),
                                rng.pick(&logtext::USER_AGENTS),
                                dur / 1000.0
                            )
                        } else {
                            format!(
                                "ts={} level={} msg=\"request\" method={method} path={path} status={status} duration_ms={dur:.1} bytes={bytes} trace_id={:016x}{:016x}",
                                crate::time::rfc3339(ms),
                                if failed { "error" } else { "info" },
                                rng.next_u64(),
                                rng.next_u64()
                            )
                        };
                        push(ms, LogSource::Access, level, line);
                    }
                }
                // Application errors, explained by what is going on.
                if !svc.kind.is_stateful() {
                    let n = rng.poisson(st.rps.max(1.0) * dt * st.err / 60.0).min(6);
                    for _ in 0..n {
                        let ms = at(rng);
                        let cause = logtext::error_cause(estate, world, s, i, versions, rng);
                        let msg = logtext::app_error(lang, ms, &svc.name, &cause, rng);
                        push(ms, LogSource::App, Level::Error, msg);
                    }
                    if st.packet_loss > 0.0 && rng.chance(st.packet_loss * 2.0) {
                        let ms = at(rng);
                        let msg = logtext::app_line(
                            lang,
                            ms,
                            Level::Warn,
                            &svc.name,
                            "read tcp 10.42.3.17:8080: connection reset by peer; retrying",
                        );
                        push(ms, LogSource::App, Level::Warn, msg);
                    }
                    let gc = (st.mem / svc.mem_limit - 0.85) / 0.15;
                    if gc > 0.0 && rng.chance(0.3) {
                        let ms = at(rng);
                        let text = format!(
                            "GC overhead high: {:.0}% of time in collection, heap {:.0} MiB",
                            10.0 + 60.0 * gc.min(1.0),
                            st.mem / 1_048_576.0
                        );
                        push(
                            ms,
                            LogSource::App,
                            Level::Warn,
                            logtext::app_line(lang, ms, Level::Warn, &svc.name, &text),
                        );
                    }
                    if rng.chance(dt / 90.0) {
                        let ms = at(rng);
                        let text = logtext::routine(&svc.name, rng);
                        push(
                            ms,
                            LogSource::App,
                            Level::Info,
                            logtext::app_line(lang, ms, Level::Info, &svc.name, &text),
                        );
                    }
                }
                match svc.kind {
                    ServiceKind::Database => {
                        let lines = logtext::postgres_lines(
                            world,
                            s,
                            i,
                            svc.disk_capacity,
                            t,
                            step_ms,
                            rng,
                        );
                        // Times in line order, so "checkpoint starting" precedes "complete".
                        let mut times: Vec<i64> = lines.iter().map(|_| at(rng)).collect();
                        times.sort_unstable();
                        for ((level, text), ms) in lines.into_iter().zip(times) {
                            let pid = 1000 + rng.below(30_000);
                            let tag = match level {
                                Level::Fatal => "PANIC",
                                Level::Error => "ERROR",
                                Level::Warn => "WARNING",
                                _ => "LOG",
                            };
                            push(
                                ms,
                                LogSource::Postgres,
                                level,
                                format!("{} [{pid}] {tag}:  {text}", pg_time(ms)),
                            );
                        }
                    }
                    ServiceKind::Cache if st.err > 0.05 && rng.chance(0.5) => {
                        let ms = at(rng);
                        let d = DateTime::from_timestamp_millis(ms).map_or_else(String::new, |d| {
                            d.format("%d %b %Y %H:%M:%S%.3f").to_string()
                        });
                        let line = format!(
                            "1:M {d} # Error accepting a client connection: max number of clients reached (maxclients 10000)"
                        );
                        push(ms, LogSource::Redis, Level::Error, line);
                    }
                    ServiceKind::Queue
                        if i == 0
                            && world.backlog.iter().any(|b| *b > 2_000.0)
                            && rng.chance(0.2) =>
                    {
                        let ms = at(rng);
                        let line = format!(
                            "{} [warning] <0.812.0> queue 'notifications' in vhost '/': {} messages ready, consumers not keeping up",
                            pg_time(ms).trim_end_matches(" UTC"),
                            world.backlog[1].round()
                        );
                        push(ms, LogSource::Rabbitmq, Level::Warn, line);
                    }
                    _ => {}
                }
            }
        }
        out.sort_by(|a, b| {
            a.time_ms
                .cmp(&b.time_ms)
                .then_with(|| a.instance.cmp(&b.instance))
        });
        out
    }
}
