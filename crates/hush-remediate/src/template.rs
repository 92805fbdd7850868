//! The incident as a runbook sees it, parameters bound from it, and the one template form:
//! `{{name}}`, replaced by a parameter's value.
//!
//! Hand-written rather than a template engine: runbooks need substitution only, and a smaller
//! language is easier to prove safe — no filters, loops or expressions can be smuggled in
//! through incident data, because values are never parsed again after substitution.

use std::collections::BTreeMap;

/// What a runbook can see of an incident.
///
/// The incident's columns, plus these conventional keys of its JSON payload (written by the
/// alert → incident pipeline): `labels` (object of strings), `root_cause.service` or
/// `root_cause_service` (string), and `alerts` (array of names, or of objects with `name` or
/// `alertname`) or `alert_names` (array of strings).
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentView {
    pub id: uuid::Uuid,
    pub title: String,
    /// 1 (most urgent) to 5.
    pub priority: u8,
    pub labels: BTreeMap<String, String>,
    pub root_cause_service: Option<String>,
    pub alert_names: Vec<String>,
}

impl IncidentView {
    /// Reads an incident row and its payload conventions.
    pub fn from_incident(i: &hush_sql::Incident) -> Self {
        let p = &i.payload;
        let labels = p
            .get("labels")
            .and_then(|l| l.as_object())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let root_cause_service = p
            .pointer("/root_cause/service")
            .or_else(|| p.get("root_cause_service"))
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let mut alert_names: Vec<String> = Vec::new();
        for list in [p.get("alerts"), p.get("alert_names")]
            .into_iter()
            .flatten()
        {
            for a in list.as_array().into_iter().flatten() {
                let name = a
                    .as_str()
                    .or_else(|| a.get("name").and_then(|v| v.as_str()))
                    .or_else(|| a.get("alertname").and_then(|v| v.as_str()));
                if let Some(n) = name {
                    alert_names.push(n.to_owned());
                }
            }
        }
        alert_names.sort();
        alert_names.dedup();
        Self {
            id: i.id,
            title: i.title.clone(),
            priority: i.priority.level(),
            labels,
            root_cause_service,
            alert_names,
        }
    }

    /// What "a similar incident" means for recorded outcomes: same root cause, same alerts.
    pub fn signature(&self) -> String {
        format!(
            "{}|{}",
            self.root_cause_service.as_deref().unwrap_or("-"),
            self.alert_names.join(",")
        )
    }
}

/// Where a parameter's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Id,
    Title,
    Priority,
    RootCauseService,
    Label(String),
    /// Alert names joined by commas.
    AlertNames,
}

impl Source {
    /// Parses `incident.id`, `incident.title`, `incident.priority`, `incident.root_cause_service`,
    /// `incident.alert_names` or `incident.labels.<name>`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "incident.id" => Ok(Self::Id),
            "incident.title" => Ok(Self::Title),
            "incident.priority" => Ok(Self::Priority),
            "incident.root_cause_service" => Ok(Self::RootCauseService),
            "incident.alert_names" => Ok(Self::AlertNames),
            other => match other.strip_prefix("incident.labels.") {
                Some(name) if !name.is_empty() => Ok(Self::Label(name.to_owned())),
                _ => Err(format!(
                    "unknown parameter source `{other}` (expected incident.id, incident.title, \
                     incident.priority, incident.root_cause_service, incident.alert_names or \
                     incident.labels.<name>)"
                )),
            },
        }
    }

    /// The value in `incident`, if it has one.
    pub fn read(&self, incident: &IncidentView) -> Option<String> {
        match self {
            Self::Id => Some(incident.id.to_string()),
            Self::Title => Some(incident.title.clone()),
            Self::Priority => Some(format!("P{}", incident.priority)),
            Self::RootCauseService => incident.root_cause_service.clone(),
            Self::Label(n) => incident.labels.get(n).cloned(),
            Self::AlertNames => {
                (!incident.alert_names.is_empty()).then(|| incident.alert_names.join(","))
            }
        }
    }
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Param(String),
}

/// A string with `{{name}}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(pub Vec<Piece>);

impl Template {
    /// Parses `s`; a `{{` without `}}` or an empty name is an error.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut rest = s;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("`{{{{` without `}}}}` in `{s}`"))?;
            let name = after[..close].trim();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(format!("bad parameter name `{name}` in `{s}`"));
            }
            pieces.push(Piece::Param(name.to_owned()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        Ok(Self(pieces))
    }

    /// Names used, in order.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Piece::Param(n) => Some(n.as_str()),
            Piece::Text(_) => None,
        })
    }

    /// Whether the whole template is one placeholder (the only form allowed in argv elements).
    pub fn is_whole_param(&self) -> bool {
        matches!(self.0.as_slice(), [Piece::Param(_)])
    }

    /// Whether it has no placeholder.
    pub fn is_literal(&self) -> bool {
        self.params().next().is_none()
    }

    /// Substitutes `values`; a missing name renders empty (validation rules that out at load).
    pub fn render(&self, values: &BTreeMap<String, String>) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Param(n) => out.push_str(values.get(n).map(String::as_str).unwrap_or("")),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_parse_and_render() {
        let t = Template::parse("restart {{ service }} now").unwrap();
        assert_eq!(t.params().collect::<Vec<_>>(), ["service"]);
        assert!(!t.is_whole_param());
        let v = BTreeMap::from([("service".to_owned(), "api".to_owned())]);
        assert_eq!(t.render(&v), "restart api now");
        assert!(Template::parse("{{service}}").unwrap().is_whole_param());
        assert!(Template::parse("plain").unwrap().is_literal());
        assert!(Template::parse("{{oops").is_err());
        assert!(Template::parse("{{}}").is_err());
        assert!(Template::parse("{{a b}}").is_err());
    }

    #[test]
    fn a_value_is_never_expanded_again() {
        // A value that looks like a placeholder stays text.
        let t = Template::parse("{{a}}").unwrap();
        let v = BTreeMap::from([
            ("a".to_owned(), "{{b}}".to_owned()),
            ("b".to_owned(), "secret".to_owned()),
        ]);
        assert_eq!(t.render(&v), "{{b}}");
    }

    #[test]
    fn incident_payload_conventions() {
        let inc = hush_sql::Incident {
            id: uuid::Uuid::nil(),
            state: hush_sql::IncidentState::Open,
            priority: hush_sql::Priority::new(2).unwrap(),
            title: "t".into(),
            opened_at: 0,
            acknowledged_at: None,
            resolved_at: None,
            updated_at: 0,
            payload: json!({
                "labels": {"service": "api", "n": 3},
                "root_cause": {"service": "db"},
                "alerts": ["B", {"name": "A"}, {"alertname": "C"}, 7],
            }),
        };
        let v = IncidentView::from_incident(&inc);
        assert_eq!(v.labels.len(), 1);
        assert_eq!(v.root_cause_service.as_deref(), Some("db"));
        assert_eq!(v.alert_names, ["A", "B", "C"]);
        assert_eq!(v.signature(), "db|A,B,C");
        assert_eq!(
            Source::parse("incident.priority")
                .unwrap()
                .read(&v)
                .unwrap(),
            "P2"
        );
        assert_eq!(
            Source::parse("incident.labels.service")
                .unwrap()
                .read(&v)
                .unwrap(),
            "api"
        );
        assert!(Source::parse("incident.labels.").is_err());
        assert!(Source::parse("env.HOME").is_err());
    }
}
