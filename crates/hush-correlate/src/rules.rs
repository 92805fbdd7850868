//! User grouping rules. They always win over learned grouping: an alert a rule matches goes
//! where the rule says, and no learned score moves it.

use std::collections::{BTreeMap, HashSet};

use crate::alert::{Alert, Millis};
use crate::error::RuleError;

fn default_window() -> Millis {
    30 * 60_000
}

fn one() -> usize {
    1
}

/// One rule: alerts matching `matchers` and equal on `group_by` form one incident, as long as
/// each arrives within `window_ms` of the previous one; the incident opens (notifies) only
/// once `open_after` distinct alerts are in it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GroupRule {
    /// Unique name, shown in incidents and previews.
    pub name: String,
    /// Label equalities an alert must satisfy; an empty value matches an absent label.
    #[serde(default)]
    pub matchers: BTreeMap<String, String>,
    /// Labels whose values split the matched alerts into groups; empty: one group.
    #[serde(default)]
    pub group_by: Vec<String>,
    /// Longest quiet gap inside one group.
    #[serde(default = "default_window")]
    pub window_ms: Millis,
    /// Distinct alerts needed before the incident opens.
    #[serde(default = "one")]
    pub open_after: usize,
}

impl GroupRule {
    /// A rule grouping the alerts that match `matchers` by `group_by`, with the defaults.
    pub fn new(name: &str, matchers: &[(&str, &str)], group_by: &[&str]) -> Self {
        Self {
            name: name.to_string(),
            matchers: matchers
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            group_by: group_by.iter().map(|g| (*g).to_string()).collect(),
            window_ms: default_window(),
            open_after: 1,
        }
    }

    /// Whether the rule applies to `alert`.
    pub fn matches(&self, alert: &Alert) -> bool {
        self.matchers
            .iter()
            .all(|(k, v)| alert.labels.get(k).map_or("", String::as_str) == v)
    }

    /// The group `alert` falls in under this rule.
    pub(crate) fn group_key(&self, alert: &Alert) -> String {
        let mut key = self.name.clone();
        for g in &self.group_by {
            key.push('\u{1f}');
            key.push_str(alert.labels.get(g).map_or("", String::as_str));
        }
        key
    }
}

/// A user's decision on pausing alerts (see `Pause` in the correlator's configuration):
/// alerts matching `matchers` are always held for `windowMs` before their incident opens
/// (`pause: true`), or never held whatever their history says (`pause: false`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PauseRule {
    /// Label equalities an alert must satisfy; an empty value matches an absent label.
    #[serde(default)]
    pub matchers: BTreeMap<String, String>,
    /// Hold (true) or never hold (false).
    pub pause: bool,
    /// How long to hold; absent: the configured longest pause.
    #[serde(default)]
    pub window_ms: Option<Millis>,
}

impl PauseRule {
    /// Whether the rule applies to `alert`.
    pub fn matches(&self, alert: &Alert) -> bool {
        self.matchers
            .iter()
            .all(|(k, v)| alert.labels.get(k).map_or("", String::as_str) == v)
    }
}

/// The user's rules, in precedence order (the first matching rule decides), and the global
/// constraints on learned grouping.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rules {
    #[serde(default)]
    pub rules: Vec<GroupRule>,
    /// Never put alerts of two teams in one incident.
    #[serde(default)]
    pub never_across_teams: bool,
    /// Pausing decided by the user, first match wins; it outranks what history says.
    #[serde(default)]
    pub pause: Vec<PauseRule>,
}

impl Rules {
    /// Checks names are present and unique and windows positive.
    pub fn validate(&self) -> Result<(), RuleError> {
        let mut names = HashSet::new();
        for (i, r) in self.rules.iter().enumerate() {
            if r.name.is_empty() {
                return Err(RuleError::EmptyName(i));
            }
            if !names.insert(r.name.as_str()) {
                return Err(RuleError::DuplicateRule(r.name.clone()));
            }
            if r.window_ms <= 0 {
                return Err(RuleError::BadWindow {
                    rule: r.name.clone(),
                    window_ms: r.window_ms,
                });
            }
        }
        for (i, r) in self.pause.iter().enumerate() {
            if let Some(w) = r.window_ms.filter(|w| *w <= 0) {
                return Err(RuleError::BadWindow {
                    rule: format!("pause rule number {i}"),
                    window_ms: w,
                });
            }
        }
        Ok(())
    }

    /// The first pause rule matching `alert`.
    pub fn pause_for(&self, alert: &Alert) -> Option<&PauseRule> {
        self.pause.iter().find(|r| r.matches(alert))
    }

    /// The first rule matching `alert`.
    pub fn rule_for(&self, alert: &Alert) -> Option<&GroupRule> {
        self.rules.iter().find(|r| r.matches(alert))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_match_wins_and_absent_labels_match_empty() {
        let mut l = BTreeMap::new();
        l.insert("alertname".to_string(), "DiskFull".to_string());
        let a = Alert::firing(l, 0);
        let rules = Rules {
            rules: vec![
                GroupRule::new("no-team", &[("team", "")], &["alertname"]),
                GroupRule::new("disk", &[("alertname", "DiskFull")], &[]),
            ],
            never_across_teams: false,
            pause: Vec::new(),
        };
        assert_eq!(rules.rule_for(&a).unwrap().name, "no-team");
        assert_eq!(rules.rules[0].group_key(&a), "no-team\u{1f}DiskFull");
        let dup = Rules {
            rules: vec![GroupRule::new("x", &[], &[]), GroupRule::new("x", &[], &[])],
            never_across_teams: false,
            pause: Vec::new(),
        };
        assert_eq!(dup.validate(), Err(RuleError::DuplicateRule("x".into())));
    }
}
