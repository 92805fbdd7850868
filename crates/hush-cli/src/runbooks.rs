//! Runbook checks for `hush config check`: the same loading `serve` does, without starting.

use anyhow::bail;

/// Loads the runbooks a configuration names, as `serve` would; every refusal is reported.
pub fn check(cfg: &hush_engine::config::Config) -> anyhow::Result<()> {
    let r = &cfg.remediation;
    let Some(dir) = &r.runbooks_dir else {
        return Ok(());
    };
    let set = hush_remediate::RunbookSet::load_dir(dir, &r.allowed_commands);
    for e in &set.errors {
        eprintln!("{e}");
    }
    match set.errors.len() {
        0 => Ok(()),
        n => bail!("{n} runbook(s) refused"),
    }
}
