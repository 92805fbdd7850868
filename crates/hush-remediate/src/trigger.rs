//! Does a runbook apply to an incident, and how confident are we that it will fix it.
//!
//! Confidence = 0.7 × match quality + 0.3 × track record. Match quality is how specific the
//! criteria that matched are (an alert name or root cause says more than a word in the title).
//! The track record is the share of past runs of this runbook on incidents with the same
//! signature (root cause service and alert names) that were verified, with a Laplace prior so
//! an untried runbook starts at 0.5. Each part comes with a reason a human can read.

use crate::runbook::Trigger;
use crate::template::IncidentView;
use serde::Serialize;

/// How much each kind of criterion says about the incident.
const W_ALERTS: f64 = 0.3;
const W_ROOT_CAUSE: f64 = 0.3;
const W_LABELS: f64 = 0.2;
const W_TITLE: f64 = 0.1;
const W_PRIORITY: f64 = 0.1;

/// A matched trigger: the criteria that held, and their weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    /// 0 to 1.
    pub quality: f64,
    pub reasons: Vec<String>,
}

/// `Some` when every criterion of `t` holds for `i`.
pub fn matches(t: &Trigger, i: &IncidentView) -> Option<Match> {
    let mut quality = 0.0;
    let mut reasons = Vec::new();
    if let Some(want) = &t.title_contains {
        if !i.title.to_lowercase().contains(want) {
            return None;
        }
        quality += W_TITLE / 2.0;
        reasons.push(format!("title contains `{want}`"));
    }
    if let Some(re) = &t.title_regex {
        if !re.is_match(&i.title) {
            return None;
        }
        quality += W_TITLE / 2.0;
        reasons.push(format!("title matches /{}/", re.as_str()));
    }
    if !t.labels.is_empty() {
        for (k, v) in &t.labels {
            if i.labels.get(k) != Some(v) {
                return None;
            }
        }
        quality += W_LABELS;
        reasons.push(format!("labels match {:?}", t.labels));
    }
    if let Some(p) = t.priority_at_least {
        if i.priority > p {
            return None;
        }
        quality += W_PRIORITY;
        reasons.push(format!("priority P{} is at least P{p}", i.priority));
    }
    if let Some(s) = &t.root_cause_service {
        if i.root_cause_service.as_ref() != Some(s) {
            return None;
        }
        quality += W_ROOT_CAUSE;
        reasons.push(format!("root cause is `{s}`"));
    }
    if !t.alert_names.is_empty() {
        let hit: Vec<&String> = t
            .alert_names
            .iter()
            .filter(|a| i.alert_names.contains(a))
            .collect();
        if hit.is_empty() {
            return None;
        }
        quality += W_ALERTS;
        reasons.push(format!("alerts {hit:?} are firing"));
    }
    Some(Match {
        quality: f64::min(quality, 1.0),
        reasons,
    })
}

/// Past verified and failed runs of one runbook on similar incidents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Record {
    pub succeeded: u32,
    pub failed: u32,
}

/// Confidence with the reasons behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confidence {
    /// 0 to 1.
    pub score: f64,
    pub reasons: Vec<String>,
}

/// Combines a match with the record on similar incidents.
pub fn confidence(m: &Match, record: Record) -> Confidence {
    let n = f64::from(record.succeeded) + f64::from(record.failed);
    let history = (f64::from(record.succeeded) + 1.0) / (n + 2.0);
    let score = 0.7 * m.quality + 0.3 * history;
    let mut reasons: Vec<String> = m.reasons.iter().map(|r| format!("trigger: {r}")).collect();
    reasons.push(format!("match quality {:.2} (weight 0.7)", m.quality));
    reasons.push(if n == 0.0 {
        "no recorded outcome on similar incidents: track record 0.50 (weight 0.3)".to_owned()
    } else {
        format!(
            "{} of {} past runs on similar incidents verified: track record {history:.2} (weight 0.3)",
            record.succeeded, n
        )
    });
    Confidence {
        score: (score * 1000.0).round() / 1000.0,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn trigger() -> Trigger {
        Trigger {
            title_contains: None,
            title_regex: None,
            labels: BTreeMap::new(),
            priority_at_least: None,
            root_cause_service: None,
            alert_names: Vec::new(),
        }
    }

    fn incident() -> IncidentView {
        IncidentView {
            id: uuid::Uuid::nil(),
            title: "Checkout ERRORS rising".into(),
            priority: 2,
            labels: BTreeMap::from([("service".into(), "checkout".into())]),
            root_cause_service: Some("db".into()),
            alert_names: vec!["HighErrorRate".into()],
        }
    }

    #[test]
    fn every_criterion_must_hold() {
        let i = incident();
        let mut t = trigger();
        t.title_contains = Some("errors".into());
        assert!(matches(&t, &i).is_some());
        t.priority_at_least = Some(1);
        assert!(matches(&t, &i).is_none(), "P2 is not at least P1");
        t.priority_at_least = Some(3);
        t.labels.insert("service".into(), "payments".into());
        assert!(matches(&t, &i).is_none());
        t.labels.insert("service".into(), "checkout".into());
        t.root_cause_service = Some("cache".into());
        assert!(matches(&t, &i).is_none());
        t.root_cause_service = Some("db".into());
        t.alert_names = vec!["Other".into()];
        assert!(matches(&t, &i).is_none());
        t.alert_names.push("HighErrorRate".into());
        let m = matches(&t, &i).unwrap();
        assert!((m.quality - 0.95).abs() < 1e-9, "{m:?}");
        assert_eq!(m.reasons.len(), 5);
    }

    #[test]
    fn specific_matches_and_good_records_raise_confidence() {
        let i = incident();
        let mut vague = trigger();
        vague.title_contains = Some("errors".into());
        let mut specific = trigger();
        specific.root_cause_service = Some("db".into());
        specific.alert_names = vec!["HighErrorRate".into()];
        let v = confidence(&matches(&vague, &i).unwrap(), Record::default());
        let s = confidence(&matches(&specific, &i).unwrap(), Record::default());
        assert!(s.score > v.score, "{s:?} vs {v:?}");
        let m = matches(&specific, &i).unwrap();
        let good = confidence(
            &m,
            Record {
                succeeded: 8,
                failed: 0,
            },
        );
        let bad = confidence(
            &m,
            Record {
                succeeded: 0,
                failed: 8,
            },
        );
        assert!(good.score > s.score && s.score > bad.score);
        assert!(
            good.reasons.iter().any(|r| r.contains("8 of 8")),
            "{good:?}"
        );
    }
}
