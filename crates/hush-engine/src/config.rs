//! Configuration: the YAML file's shape (with defaults), parsing with line and column in every
//! error, and the checks that need more than one field.
//!
//! Each leaf type validates itself while being deserialised, so a bad value is reported at its
//! own position in the file. Every key is documented in `docs/configuration.md`.

use serde::Deserialize;
use serde_saphyr::Spanned;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use crate::duration::PromDuration;

/// The whole file. Unknown keys are errors: a typo must not silently fall back to a default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub listen: Spanned<SocketAddr>,
    pub data_dir: PathBuf,
    pub storage: StorageConfig,
    pub limits: LimitsConfig,
    pub auth: AuthConfig,
    pub tls: Option<TlsConfig>,
    pub scrape_configs: Vec<ScrapeConfig>,
    pub detection: DetectionConfig,
    /// Hush's own metric and log anomalies as alerts into incidents.
    pub anomaly_alerts: crate::anomaly_alerts::AnomalyAlertsConfig,
    pub database: DatabaseConfig,
    /// The service dependency graph (`services: [{name, type, team, criticality, dependsOn}]`),
    /// shared by correlation and RCA.
    pub topology_file: Option<PathBuf>,
    /// Log ingestion and mining (`docs/logs.md`).
    pub logs: crate::logs::LogsConfig,
    /// Live correlation of alerts into incidents.
    pub incidents: crate::incidents::IncidentsConfig,
    /// Runbooks, executors and guardrails (see docs/remediation.md).
    pub remediation: hush_remediate::RemediationConfig,
    /// Capacity resources, forecasts of their exhaustion and predictive alerts.
    pub capacity: crate::capacity::CapacitySettings,
    /// Cluster mode on NATS JetStream (docs/cluster.md); absent means embedded mode.
    pub cluster: Option<crate::cluster::ClusterConfig>,
}

/// The SQL database that holds alerts, incidents, events and the audit trail.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH?mode=rwc` or `postgres://user@host/db`; unset means the embedded SQLite
    /// file `hush.db` in the data directory.
    pub url: Option<String>,
}

impl DatabaseConfig {
    /// The URL to open for a data directory: the configured one, else embedded SQLite.
    pub fn url_for(&self, data_dir: &Path) -> String {
        match &self.url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}?mode=rwc", data_dir.join("hush.db").display()),
        }
    }
}

/// Live anomaly detection on ingested series.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectionConfig {
    pub enabled: bool,
    /// PromQL series selectors; empty means every series.
    pub series: Vec<String>,
    /// Detector sensitivity in (0, 1]; higher alerts more.
    pub sensitivity: Option<f64>,
    /// Most series scored at once (each detector holds up to tens of KiB of state).
    pub max_series: usize,
    /// Anomalies kept for the API.
    pub max_anomalies: usize,
    /// Store `hush_anomaly_score` and the expected band as series.
    pub write_series: bool,
}

impl Default for DetectionConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            series: Vec::new(),
            sensitivity: None,
            max_series: 10_000,
            max_anomalies: 10_000,
            write_series: true,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: spanned(SocketAddr::from(([127, 0, 0, 1], 9650))),
            data_dir: PathBuf::from("./hush-data"),
            storage: StorageConfig::default(),
            limits: LimitsConfig::default(),
            auth: AuthConfig::default(),
            tls: None,
            scrape_configs: Vec::new(),
            detection: DetectionConfig::default(),
            anomaly_alerts: Default::default(),
            database: DatabaseConfig::default(),
            topology_file: None,
            logs: crate::logs::LogsConfig::default(),
            incidents: Default::default(),
            remediation: hush_remediate::RemediationConfig::default(),
            capacity: Default::default(),
            cluster: None,
        }
    }
}

fn spanned<T>(value: T) -> Spanned<T> {
    Spanned {
        value,
        referenced: serde_saphyr::Location::UNKNOWN,
        defined: serde_saphyr::Location::UNKNOWN,
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub retention: PromDuration,
    pub out_of_order_window: PromDuration,
    /// `always`, `never`, or a duration such as `1s` (sync at that interval).
    pub fsync: FsyncSetting,
    pub max_series: usize,
    /// How often the head is flushed into a block.
    pub flush_interval: PromDuration,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            retention: PromDuration::from_secs(15 * 86_400),
            out_of_order_window: PromDuration::from_secs(600),
            fsync: FsyncSetting(hush_store::FsyncPolicy::Always),
            max_series: 1_000_000,
            flush_interval: PromDuration::from_secs(2 * 3600),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct FsyncSetting(pub hush_store::FsyncPolicy);

impl<'de> Deserialize<'de> for FsyncSetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "always" => Ok(Self(hush_store::FsyncPolicy::Always)),
            "never" => Ok(Self(hush_store::FsyncPolicy::Never)),
            other => other
                .parse::<PromDuration>()
                .map(|d| Self(hush_store::FsyncPolicy::Interval(d.0)))
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "fsync must be `always`, `never` or a duration, got `{other}`"
                    ))
                }),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub max_body_bytes: usize,
    pub max_series_per_request: usize,
    pub max_samples_per_request: usize,
    pub max_labels_per_series: usize,
    pub max_label_name_length: usize,
    pub max_label_value_length: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let l = hush_ingest::Limits::default();
        Self {
            max_body_bytes: 16 << 20,
            max_series_per_request: l.max_series_per_request,
            max_samples_per_request: l.max_samples_per_request,
            max_labels_per_series: l.max_labels_per_series,
            max_label_name_length: l.max_label_name_len,
            max_label_value_length: l.max_label_value_len,
        }
    }
}

impl LimitsConfig {
    pub fn ingest_limits(&self) -> hush_ingest::Limits {
        hush_ingest::Limits {
            max_series_per_request: self.max_series_per_request,
            max_samples_per_request: self.max_samples_per_request,
            max_labels_per_series: self.max_labels_per_series,
            max_label_name_len: self.max_label_name_length,
            max_label_value_len: self.max_label_value_length,
            max_decompressed_bytes: self.max_body_bytes.saturating_mul(8),
            ..hush_ingest::Limits::default()
        }
    }
}

/// API roles, each including the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Read,
    Write,
    Operator,
    Admin,
}

/// A secret that never appears in logs or debug output.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    pub name: String,
    pub token: Secret,
    pub role: Role,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub tokens: Vec<TokenConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeConfig {
    pub job_name: String,
    #[serde(default = "default_scrape_interval")]
    pub scrape_interval: PromDuration,
    #[serde(default = "default_scrape_timeout")]
    pub scrape_timeout: PromDuration,
    #[serde(default = "default_metrics_path")]
    pub metrics_path: String,
    #[serde(default = "default_scheme")]
    pub scheme: String,
    #[serde(default)]
    pub static_configs: Vec<StaticConfig>,
}

fn default_scrape_interval() -> PromDuration {
    PromDuration::from_secs(15)
}
fn default_scrape_timeout() -> PromDuration {
    PromDuration::from_secs(10)
}
fn default_metrics_path() -> String {
    "/metrics".into()
}
fn default_scheme() -> String {
    "http".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    pub targets: Vec<Spanned<String>>,
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

/// A configuration problem, located in the file when possible.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("failed to read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    At {
        path: PathBuf,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Reads and checks a file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and checks YAML text; `path` only names the source in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        // An empty file is a valid config: every default applies.
        let cfg: Config = if text.trim().is_empty() {
            Config::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| match e.location() {
                Some(loc) => ConfigError::At {
                    path: path.into(),
                    line: loc.line(),
                    column: loc.column(),
                    message: first_line(&e.to_string()),
                },
                None => ConfigError::Invalid {
                    path: path.into(),
                    message: e.to_string(),
                },
            })?
        };
        cfg.check(path)?;
        Ok(cfg)
    }

    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let at = |s: &serde_saphyr::Location, message: String| ConfigError::At {
            path: path.into(),
            line: s.line(),
            column: s.column(),
            message,
        };
        let mut jobs = std::collections::BTreeSet::new();
        for sc in &self.scrape_configs {
            if !jobs.insert(sc.job_name.as_str()) {
                return Err(ConfigError::Invalid {
                    path: path.into(),
                    message: format!("duplicate job_name `{}`", sc.job_name),
                });
            }
            if sc.scrape_timeout.0 > sc.scrape_interval.0 {
                return Err(ConfigError::Invalid {
                    path: path.into(),
                    message: format!(
                        "job `{}`: scrape_timeout is longer than scrape_interval",
                        sc.job_name
                    ),
                });
            }
            if sc.scheme != "http" && sc.scheme != "https" {
                return Err(ConfigError::Invalid {
                    path: path.into(),
                    message: format!("job `{}`: scheme must be http or https", sc.job_name),
                });
            }
            for t in sc.static_configs.iter().flat_map(|s| &s.targets) {
                if t.value.is_empty() || t.value.contains('/') || !t.value.contains(':') {
                    return Err(at(
                        &t.referenced,
                        format!("target `{}` must be host:port", t.value),
                    ));
                }
            }
        }
        for sel in &self.detection.series {
            crate::selector::parse(sel).map_err(|message| ConfigError::Invalid {
                path: path.into(),
                message: format!("detection.series: {message}"),
            })?;
        }
        self.capacity
            .check()
            .map_err(|message| ConfigError::Invalid {
                path: path.into(),
                message,
            })?;
        if let Some(s) = self.detection.sensitivity
            && !(s > 0.0 && s <= 1.0)
        {
            return Err(ConfigError::Invalid {
                path: path.into(),
                message: format!("detection.sensitivity must be in (0, 1], got {s}"),
            });
        }
        self.logs.check().map_err(|message| ConfigError::Invalid {
            path: path.into(),
            message,
        })?;
        self.anomaly_alerts
            .check()
            .map_err(|message| ConfigError::Invalid {
                path: path.into(),
                message,
            })?;
        self.remediation
            .check()
            .map_err(|message| ConfigError::Invalid {
                path: path.into(),
                message,
            })?;
        if let Some(c) = &self.cluster {
            c.check().map_err(|message| ConfigError::Invalid {
                path: path.into(),
                message,
            })?;
        }
        let mut names = std::collections::BTreeSet::new();
        for t in &self.auth.tokens {
            if t.token.expose().len() < 16 {
                return Err(ConfigError::Invalid {
                    path: path.into(),
                    message: format!("token `{}` is shorter than 16 characters", t.name),
                });
            }
            if !names.insert(t.name.as_str()) {
                return Err(ConfigError::Invalid {
                    path: path.into(),
                    message: format!("duplicate token name `{}`", t.name),
                });
            }
        }
        Ok(())
    }

    /// Whether `listen` may be used: non-loopback addresses need tokens (or an explicit opt-out).
    pub fn check_exposure(&self, insecure: bool) -> Result<(), String> {
        let addr = self.listen.value;
        if addr.ip().is_loopback() || !self.auth.tokens.is_empty() || insecure {
            return Ok(());
        }
        Err(format!(
            "refusing to listen on non-loopback address {addr} without API tokens; configure auth.tokens or pass --insecure"
        ))
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_string()
}

#[cfg(test)]
mod tests;
