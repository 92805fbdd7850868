//! Guardrails checked before a run starts: maintenance windows, global and per-runbook/target
//! concurrency, hourly rate budgets, blast radius and cooldowns. Pure: the caller passes the
//! time and what has run.

use crate::runbook::Runbook;

const HOUR_MS: i64 = 3_600_000;

/// A run that started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub runbook: String,
    pub target: String,
    pub at: i64,
}

/// What the guardrails say about starting a run now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Not now, but later may do (a concurrency slot is taken): stays queued.
    Wait(String),
    /// Refused for good (a budget or window): the run is blocked with this reason.
    Block(String),
}

/// What is going on right now.
pub struct Situation<'a> {
    pub now: i64,
    /// Starts in the last hour or longer (older ones are ignored).
    pub history: &'a [Started],
    /// (runbook, target) of runs executing now.
    pub running: &'a [(String, String)],
    pub max_concurrent_runs: usize,
    pub maintenance: &'a [(i64, i64)],
}

/// Whether `rb` may start against `target`.
pub fn check(rb: &Runbook, target: &str, s: &Situation<'_>) -> Verdict {
    if let Some((_, end)) = s
        .maintenance
        .iter()
        .find(|(a, b)| (*a..*b).contains(&s.now))
    {
        return Verdict::Block(format!("maintenance window until {end} (epoch ms)"));
    }
    let l = &rb.limits;
    if s.running.len() >= s.max_concurrent_runs {
        return Verdict::Wait(format!(
            "{} runs executing, remediation.max_concurrent_runs is {}",
            s.running.len(),
            s.max_concurrent_runs
        ));
    }
    let mine = s.running.iter().filter(|(r, _)| r == &rb.name).count();
    if let Some(max) = l.max_concurrent
        && mine >= max
    {
        return Verdict::Wait(format!(
            "{mine} runs of this runbook executing, limit {max}"
        ));
    }
    let on_target = s
        .running
        .iter()
        .filter(|(r, t)| r == &rb.name && t == target)
        .count();
    if let Some(max) = l.max_concurrent_per_target
        && on_target >= max
    {
        return Verdict::Wait(format!(
            "{on_target} runs against `{target}` executing, limit {max}"
        ));
    }
    let recent: Vec<&Started> = s
        .history
        .iter()
        .filter(|h| h.runbook == rb.name && h.at > s.now - HOUR_MS)
        .collect();
    if let Some(max) = l.max_runs_per_hour
        && recent.len() >= max as usize
    {
        return Verdict::Block(format!(
            "rate limit: {} runs in the last hour, max_runs_per_hour is {max}",
            recent.len()
        ));
    }
    let recent_target: Vec<&&Started> = recent.iter().filter(|h| h.target == target).collect();
    if let Some(max) = l.max_runs_per_target_per_hour
        && recent_target.len() >= max as usize
    {
        return Verdict::Block(format!(
            "rate limit: {} runs against `{target}` in the last hour, max_runs_per_target_per_hour is {max}",
            recent_target.len()
        ));
    }
    if let Some(max) = l.max_targets_per_hour {
        let mut targets: Vec<&str> = recent.iter().map(|h| h.target.as_str()).collect();
        targets.sort_unstable();
        targets.dedup();
        if !targets.contains(&target) && targets.len() >= max {
            return Verdict::Block(format!(
                "blast radius: already acted on {} targets in the last hour, max_targets_per_hour is {max}",
                targets.len()
            ));
        }
    }
    if let Some(cd) = l.cooldown
        && let Some(last) = recent_target.iter().map(|h| h.at).max()
        && s.now - last < cd.as_ms()
    {
        return Verdict::Block(format!(
            "cooldown: last run against `{target}` started {} ms ago, cooldown is {} ms",
            s.now - last,
            cd.as_ms()
        ));
    }
    Verdict::Go
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::Runbook;
    use std::path::{Path, PathBuf};

    fn rb(limits: &str) -> Runbook {
        let text = format!(
            "name: r\nmode: auto\ntrigger: {{title_contains: x}}\nsteps:\n  - {{name: s, command: [/bin/true]}}\nlimits: {limits}\n"
        );
        Runbook::parse(&text, Path::new("r.yaml"), &[PathBuf::from("/bin/true")]).unwrap()
    }

    fn started(target: &str, at: i64) -> Started {
        Started {
            runbook: "r".into(),
            target: target.into(),
            at,
        }
    }

    fn sit<'a>(now: i64, history: &'a [Started], running: &'a [(String, String)]) -> Situation<'a> {
        Situation {
            now,
            history,
            running,
            max_concurrent_runs: 4,
            maintenance: &[],
        }
    }

    #[test]
    fn rate_budget_per_runbook_and_target() {
        let r = rb("{max_runs_per_hour: 2, max_runs_per_target_per_hour: 1}");
        let now = 10 * HOUR_MS;
        assert_eq!(check(&r, "a", &sit(now, &[], &[])), Verdict::Go);
        let h = [started("a", now - 1000)];
        assert!(
            matches!(check(&r, "a", &sit(now, &h, &[])), Verdict::Block(m) if m.contains("per_target"))
        );
        assert_eq!(check(&r, "b", &sit(now, &h, &[])), Verdict::Go);
        let h = [started("a", now - 1000), started("b", now - 500)];
        assert!(
            matches!(check(&r, "c", &sit(now, &h, &[])), Verdict::Block(m) if m.contains("max_runs_per_hour is 2"))
        );
        // An hour later the budget is back.
        assert_eq!(check(&r, "c", &sit(now + HOUR_MS, &h, &[])), Verdict::Go);
    }

    #[test]
    fn concurrency_waits_blast_radius_and_cooldown_block() {
        let r = rb("{max_concurrent: 1, max_targets_per_hour: 1, cooldown: 10m}");
        let now = 10 * HOUR_MS;
        let running = [("r".to_owned(), "a".to_owned())];
        assert!(matches!(
            check(&r, "b", &sit(now, &[], &running)),
            Verdict::Wait(_)
        ));
        let h = [started("a", now - 60_000)];
        assert!(
            matches!(check(&r, "b", &sit(now, &h, &[])), Verdict::Block(m) if m.contains("blast radius"))
        );
        assert!(
            matches!(check(&r, "a", &sit(now, &h, &[])), Verdict::Block(m) if m.contains("cooldown"))
        );
        assert_eq!(check(&r, "a", &sit(now + 600_000, &h, &[])), Verdict::Go);
    }

    #[test]
    fn maintenance_and_global_limit() {
        let r = rb("{}");
        let mut s = sit(500, &[], &[]);
        s.maintenance = &[(100, 1000)];
        assert!(matches!(check(&r, "a", &s), Verdict::Block(m) if m.contains("maintenance")));
        s.now = 1000;
        assert_eq!(check(&r, "a", &s), Verdict::Go);
        let running = [("x".to_owned(), "y".to_owned())];
        let mut s = sit(0, &[], &running);
        s.max_concurrent_runs = 1;
        assert!(matches!(check(&r, "a", &s), Verdict::Wait(_)));
    }
}
