//! The `remediation:` section of the server configuration.

use crate::duration::Dur;
use serde::Deserialize;
use std::path::PathBuf;

/// Remediation settings. Remediation runs only when `runbooks_dir` is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemediationConfig {
    /// Directory of runbook files (`*.yaml`, `*.yml`), reloaded when a file changes.
    pub runbooks_dir: Option<PathBuf>,
    /// Absolute paths of the only executables command steps may run.
    pub allowed_commands: Vec<PathBuf>,
    /// Start with every run stopped; toggled at run time through the API.
    pub kill_switch: bool,
    /// How often new and updated incidents are looked for (and runbooks checked for changes).
    pub poll_interval: Dur,
    /// Most runs executing at once across all runbooks.
    pub max_concurrent_runs: usize,
    /// Longest value a parameter may take from an incident, in bytes; longer values block the run.
    pub max_param_bytes: usize,
    /// Most bytes of each command's stdout and stderr kept in the run and the audit log.
    pub max_output_bytes: usize,
    /// Periods (RFC 3339 `start`/`end`) during which no run starts; suggestions still appear.
    pub maintenance_windows: Vec<MaintenanceWindow>,
    /// Where Kubernetes steps send their requests.
    pub kubernetes: crate::kubernetes::KubeSettings,
}

impl Default for RemediationConfig {
    fn default() -> Self {
        Self {
            runbooks_dir: None,
            allowed_commands: Vec::new(),
            kill_switch: false,
            poll_interval: Dur::secs(2),
            max_concurrent_runs: 4,
            max_param_bytes: 4096,
            max_output_bytes: 64 * 1024,
            maintenance_windows: Vec::new(),
            kubernetes: crate::kubernetes::KubeSettings::default(),
        }
    }
}

/// A period in which runs are held back.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceWindow {
    /// RFC 3339 start, inclusive.
    pub start: String,
    /// RFC 3339 end, exclusive.
    pub end: String,
}

impl MaintenanceWindow {
    /// Start and end in epoch ms.
    pub fn bounds(&self) -> Result<(i64, i64), String> {
        let p = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.timestamp_millis())
                .map_err(|e| format!("maintenance window time `{s}`: {e}"))
        };
        let (a, b) = (p(&self.start)?, p(&self.end)?);
        if b <= a {
            return Err(format!(
                "maintenance window ends (`{}`) before it starts (`{}`)",
                self.end, self.start
            ));
        }
        Ok((a, b))
    }
}

impl RemediationConfig {
    /// Checks what serde cannot: absolute allowlist paths, positive limits, window bounds.
    pub fn check(&self) -> Result<(), String> {
        for c in &self.allowed_commands {
            if !c.is_absolute() {
                return Err(format!(
                    "remediation.allowed_commands: `{}` is not an absolute path",
                    c.display()
                ));
            }
        }
        if self.max_concurrent_runs == 0 {
            return Err("remediation.max_concurrent_runs must be at least 1".into());
        }
        if self.poll_interval.0.is_zero() {
            return Err("remediation.poll_interval must be positive".into());
        }
        for w in &self.maintenance_windows {
            w.bounds()
                .map_err(|e| format!("remediation.maintenance_windows: {e}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Result<RemediationConfig, String> {
        let c: RemediationConfig = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        c.check().map(|_| c)
    }

    #[test]
    fn settings_are_checked() {
        let c =
            cfg("runbooks_dir: rb\nallowed_commands: [/bin/echo]\npoll_interval: 500ms\n").unwrap();
        assert_eq!(c.poll_interval.0, std::time::Duration::from_millis(500));
        assert!(
            cfg("allowed_commands: [echo]\n")
                .unwrap_err()
                .contains("not an absolute path")
        );
        assert!(
            cfg("max_concurrent_runs: 0\n")
                .unwrap_err()
                .contains("at least 1")
        );
        assert!(cfg("poll_interval: 0s\n").unwrap_err().contains("positive"));
        assert!(cfg("bogus: 1\n").is_err());
        let w =
            "maintenance_windows: [{start: '2026-01-02T00:00:00Z', end: '2026-01-01T00:00:00Z'}]\n";
        assert!(cfg(w).unwrap_err().contains("before it starts"));
        let w = "maintenance_windows: [{start: 'soon', end: '2026-01-01T00:00:00Z'}]\n";
        assert!(cfg(w).unwrap_err().contains("`soon`"));
        let w = "maintenance_windows: [{start: '2026-01-01T00:00:00Z', end: '2026-01-01T01:00:00+00:00'}]\n";
        let c = cfg(w).unwrap();
        assert_eq!(
            c.maintenance_windows[0].bounds().unwrap().1
                - c.maintenance_windows[0].bounds().unwrap().0,
            3_600_000
        );
    }
}
