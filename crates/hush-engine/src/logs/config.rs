//! The `logs:` section of the configuration.

use crate::config::PromDuration;
use serde::Deserialize;
use std::net::SocketAddr;

/// Log ingestion, mining, raw-line retention and log anomalies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogsConfig {
    /// How long raw lines are kept (compressed segments under `data_dir/logs`).
    pub retention: PromDuration,
    /// How often closed minutes become `hush_log_template_count` samples, segments are sealed
    /// and the miner state is saved.
    pub flush_interval: PromDuration,
    /// Service for records whose source names none.
    pub default_service: String,
    /// Host for records whose source names none.
    pub default_host: String,
    /// The message field of `POST /api/v1/logs` JSON lines (`?message_field=` overrides it).
    pub json_message_field: String,
    /// Longer messages are cut (counted as `truncated`).
    pub max_message_bytes: usize,
    /// Most templates the miner keeps; the rarest are evicted past it (counted).
    pub max_templates: usize,
    /// Log anomalies kept for the API.
    pub max_anomalies: usize,
    /// A surge is a minute with at least this many lines of a template…
    pub surge_min_count: u64,
    /// …and more than this many times its learned per-minute rate…
    pub surge_factor: f64,
    /// …after the template has been watched for this many minutes.
    pub surge_min_minutes: u64,
    pub syslog: SyslogConfig,
    /// Files to tail (`docs/logs.md`, "Tailing files").
    pub files: Vec<FileSource>,
    /// How often tailed files are checked for new lines, rotation, truncation and new files.
    pub file_poll_interval: PromDuration,
}

/// One `logs.files` entry: the files a glob matches, and how to read them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSource {
    /// A glob (`*`, `?`, `[a-z]`, `**`), checked when the configuration loads.
    pub path: FileGlob,
    /// Service of the lines (JSON lines may name their own); `logs.default_service` if unset.
    #[serde(default)]
    pub service: Option<String>,
    /// Host of the lines; `logs.default_host` if unset.
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub format: FileFormat,
    /// The message field of JSON lines; `logs.json_message_field` if unset.
    #[serde(default)]
    pub message_field: Option<String>,
    /// Where to start in a file already there when the server first looks, with no saved
    /// position. Files that appear later are always read from their beginning.
    #[serde(default)]
    pub start_at: StartAt,
}

/// How a tailed file's lines are decoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// The whole line is the message; the level is inferred from the text.
    #[default]
    Plain,
    /// One JSON object per line, read like `POST /api/v1/logs`.
    Json,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartAt {
    #[default]
    Beginning,
    End,
}

/// A glob pattern, validated while deserialised so a bad one is reported at its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileGlob(pub String);

impl<'de> Deserialize<'de> for FileGlob {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Err(serde::de::Error::custom("a file path must not be empty"));
        }
        glob::Pattern::new(&s).map_err(|e| {
            serde::de::Error::custom(format!("bad glob `{s}`: {} at character {}", e.msg, e.pos))
        })?;
        Ok(Self(s))
    }
}

/// Syslog listeners (RFC 5424 and RFC 3164); each is off unless an address is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyslogConfig {
    pub udp: Option<SocketAddr>,
    pub tcp: Option<SocketAddr>,
    /// Largest message (one datagram or one TCP frame); larger frames are skipped and counted.
    pub max_frame_bytes: usize,
    /// Open TCP connections at most; more wait in the accept queue.
    pub max_connections: usize,
}

impl Default for SyslogConfig {
    fn default() -> Self {
        Self {
            udp: None,
            tcp: None,
            max_frame_bytes: 256 << 10,
            max_connections: 256,
        }
    }
}

impl Default for LogsConfig {
    fn default() -> Self {
        Self {
            retention: PromDuration::from_secs(7 * 86_400),
            flush_interval: PromDuration::from_secs(5),
            default_service: "unknown".into(),
            default_host: "unknown".into(),
            json_message_field: "message".into(),
            max_message_bytes: 64 << 10,
            max_templates: 10_000,
            max_anomalies: 1_000,
            surge_min_count: 10,
            surge_factor: 5.0,
            surge_min_minutes: 10,
            syslog: SyslogConfig::default(),
            files: Vec::new(),
            file_poll_interval: PromDuration::from_secs(1),
        }
    }
}

impl LogsConfig {
    /// Range checks the deserialiser cannot express.
    pub fn check(&self) -> Result<(), String> {
        if self.flush_interval.0.is_zero() {
            return Err("logs.flush_interval must be positive".into());
        }
        if self.default_service.is_empty() || self.default_host.is_empty() {
            return Err("logs.default_service and logs.default_host must not be empty".into());
        }
        if self.max_message_bytes < 64 {
            return Err("logs.max_message_bytes must be at least 64".into());
        }
        if self.max_templates == 0 {
            return Err("logs.max_templates must be at least 1".into());
        }
        if !(self.surge_factor > 1.0 && self.surge_factor.is_finite()) {
            return Err(format!(
                "logs.surge_factor must be greater than 1, got {}",
                self.surge_factor
            ));
        }
        if self.syslog.max_frame_bytes < 64 || self.syslog.max_connections == 0 {
            return Err(
                "logs.syslog.max_frame_bytes must be at least 64 and max_connections at least 1"
                    .into(),
            );
        }
        if self.file_poll_interval.0 < std::time::Duration::from_millis(10) {
            return Err("logs.file_poll_interval must be at least 10ms".into());
        }
        let mut paths = std::collections::BTreeSet::new();
        for f in &self.files {
            if !paths.insert(f.path.0.as_str()) {
                return Err(format!("logs.files: path `{}` is listed twice", f.path.0));
            }
            for (what, v) in [
                ("service", &f.service),
                ("host", &f.host),
                ("message_field", &f.message_field),
            ] {
                if v.as_deref().is_some_and(str::is_empty) {
                    return Err(format!(
                        "logs.files `{}`: {what} must not be empty",
                        f.path.0
                    ));
                }
            }
            if f.format == FileFormat::Plain && f.message_field.is_some() {
                return Err(format!(
                    "logs.files `{}`: message_field applies to format json only",
                    f.path.0
                ));
            }
        }
        Ok(())
    }

    pub fn limits(&self, max_body_bytes: usize) -> hush_ingest::logs::LogLimits {
        hush_ingest::logs::LogLimits {
            max_body_bytes,
            max_message_bytes: self.max_message_bytes,
            max_frame_bytes: self.syslog.max_frame_bytes,
            ..hush_ingest::logs::LogLimits::default()
        }
    }

    pub fn defaults(&self) -> hush_ingest::logs::LogDefaults {
        hush_ingest::logs::LogDefaults {
            service: self.default_service.clone(),
            host: self.default_host.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    fn parse(s: &str) -> Result<Config, String> {
        Config::parse(s, Path::new("hush.yaml")).map_err(|e| e.to_string())
    }

    #[test]
    fn logs_section_parses_and_is_off_by_default() {
        let c = parse("").unwrap();
        assert!(c.logs.syslog.udp.is_none() && c.logs.syslog.tcp.is_none());
        let c = parse(
            "logs:\n  retention: 3d\n  json_message_field: msg\n  syslog:\n    udp: 127.0.0.1:5514\n    tcp: 127.0.0.1:5515\n",
        )
        .unwrap();
        assert_eq!(c.logs.retention.0.as_secs(), 3 * 86_400);
        assert_eq!(c.logs.json_message_field, "msg");
        assert_eq!(c.logs.syslog.tcp.unwrap().port(), 5515);
    }

    #[test]
    fn bad_logs_values_are_named() {
        let e = parse("logs:\n  surge_factor: 0.5\n").unwrap_err();
        assert!(
            e.contains("logs.surge_factor must be greater than 1"),
            "{e}"
        );
        let e = parse("logs:\n  syslog:\n    udp: nowhere\n").unwrap_err();
        assert!(e.starts_with("hush.yaml:3:"), "{e}");
        let e = parse("logs:\n  sylog: {}\n").unwrap_err();
        assert!(e.contains("sylog"), "{e}");
    }

    #[test]
    fn file_sources_parse_and_bad_ones_are_named() {
        let c = parse(
            "logs:\n  file_poll_interval: 250ms\n  files:\n    - path: /var/log/app/*.log\n      service: app\n    - {path: '/srv/*/events.jsonl', format: json, message_field: msg, start_at: end}\n",
        )
        .unwrap();
        let f = &c.logs.files;
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].path.0.as_str(), f[0].service.as_deref(), f[0].format),
            ("/var/log/app/*.log", Some("app"), super::FileFormat::Plain)
        );
        assert_eq!(f[0].start_at, super::StartAt::Beginning);
        assert_eq!(
            (f[1].format, f[1].start_at, f[1].message_field.as_deref()),
            (super::FileFormat::Json, super::StartAt::End, Some("msg"))
        );
        assert_eq!(c.logs.file_poll_interval.0.as_millis(), 250);
        // A bad glob, format or key is reported at its line.
        let e = parse("logs:\n  files:\n    - path: '/var/log/[a.log'\n").unwrap_err();
        assert!(
            e.starts_with("hush.yaml:3:") && e.contains("bad glob"),
            "{e}"
        );
        let e = parse("logs:\n  files:\n    - path: /a.log\n      format: xml\n").unwrap_err();
        assert!(e.starts_with("hush.yaml:4:"), "{e}");
        let e = parse("logs:\n  files:\n    - path: /a.log\n      sevice: x\n").unwrap_err();
        assert!(e.contains("sevice"), "{e}");
        let e = parse("logs:\n  files:\n    - path: /a.log\n    - path: /a.log\n").unwrap_err();
        assert!(e.contains("listed twice"), "{e}");
        let e = parse("logs:\n  files:\n    - {path: /a.log, message_field: m}\n").unwrap_err();
        assert!(e.contains("format json only"), "{e}");
    }
}
