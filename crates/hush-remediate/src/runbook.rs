//! Runbooks: one YAML file each, checked into types that cannot hold an unsafe plan.
//!
//! Everything that decides *what* runs is fixed at load time: executables (which must be on the
//! allowlist), webhook URLs and methods. Incident data reaches a plan only through declared
//! parameters, and only as a whole argv element, a JSON string value or annotation text.
//! Errors name the file, line and column.

use crate::duration::Dur;
use crate::template::{Source, Template};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How far a runbook may go on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Shown to humans; never runs by itself.
    Suggest,
    /// Runs after an operator approves it.
    Approve,
    /// Runs alone when confidence reaches the threshold and the guardrails allow.
    Auto,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunbook {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    mode: Mode,
    #[serde(default = "default_threshold")]
    confidence_threshold: Spanned<f64>,
    trigger: Spanned<RawTrigger>,
    #[serde(default)]
    parameters: BTreeMap<String, Spanned<RawParam>>,
    #[serde(default)]
    target: Option<Spanned<String>>,
    #[serde(default)]
    preconditions: Vec<Spanned<String>>,
    steps: Vec<Spanned<RawStep>>,
    #[serde(default)]
    verification: Option<RawVerification>,
    #[serde(default)]
    rollback: Vec<Spanned<RawStep>>,
    #[serde(default)]
    limits: Limits,
}

fn default_threshold() -> Spanned<f64> {
    Spanned {
        value: 0.8,
        referenced: Location::UNKNOWN,
        defined: Location::UNKNOWN,
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawTrigger {
    title_contains: Option<String>,
    title_regex: Option<Spanned<String>>,
    labels: BTreeMap<String, String>,
    priority_at_least: Option<Spanned<u8>>,
    root_cause_service: Option<String>,
    alert_names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    from: Spanned<String>,
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    pattern: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: String,
    #[serde(default)]
    command: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    webhook: Option<RawWebhook>,
    #[serde(default)]
    annotate: Option<Spanned<String>>,
    #[serde(default)]
    kubernetes: Option<Spanned<RawKube>>,
    #[serde(default)]
    timeout: Option<Dur>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKube {
    action: crate::kubernetes::Verb,
    #[serde(default)]
    namespace: Option<Spanned<String>>,
    name: Spanned<String>,
    #[serde(default)]
    replicas: Option<i32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: Spanned<String>,
    #[serde(default = "default_method")]
    method: Spanned<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<serde_json::Value>,
}

fn default_method() -> Spanned<String> {
    Spanned {
        value: "POST".into(),
        referenced: Location::UNKNOWN,
        defined: Location::UNKNOWN,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerification {
    query: Spanned<String>,
    within: Dur,
    #[serde(default)]
    interval: Option<Dur>,
}

/// Per-runbook guardrails; unset means unlimited.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Runs started in any hour.
    pub max_runs_per_hour: Option<u32>,
    /// Runs started against one target in any hour.
    pub max_runs_per_target_per_hour: Option<u32>,
    /// Runs of this runbook executing at once.
    pub max_concurrent: Option<usize>,
    /// Runs against one target executing at once.
    pub max_concurrent_per_target: Option<usize>,
    /// Blast radius: distinct targets this runbook may act on in any hour.
    pub max_targets_per_hour: Option<usize>,
    /// Quiet time after a run starts before the next one against the same target.
    #[serde(skip_serializing)]
    pub cooldown: Option<Dur>,
}

/// What an incident must look like for a runbook to apply. Every given criterion must hold.
#[derive(Debug, Clone)]
pub struct Trigger {
    /// Lower-cased substring of the title.
    pub title_contains: Option<String>,
    pub title_regex: Option<regex::Regex>,
    pub labels: BTreeMap<String, String>,
    /// At least this urgent (2 admits P1 and P2).
    pub priority_at_least: Option<u8>,
    pub root_cause_service: Option<String>,
    /// Any of these alert names present.
    pub alert_names: Vec<String>,
}

/// A declared parameter.
#[derive(Debug, Clone)]
pub struct Param {
    pub source: Source,
    pub default: Option<String>,
    /// Must match the whole value, else the run is blocked.
    pub pattern: Option<regex::Regex>,
}

/// What a step does; rendered into an [`crate::action::Action`] per run.
#[derive(Debug, Clone)]
pub enum StepKind {
    /// An allowlisted executable; each argument is literal text or exactly one parameter.
    Command {
        program: PathBuf,
        args: Vec<Template>,
    },
    /// An HTTP request; string values in the JSON body may hold parameters.
    Webhook {
        method: reqwest::Method,
        url: reqwest::Url,
        headers: BTreeMap<String, String>,
        body: Option<serde_json::Value>,
    },
    /// A note appended to the incident.
    Annotate { text: Template },
    /// A Kubernetes API call; namespace and name are literal or exactly one parameter.
    Kubernetes {
        verb: crate::kubernetes::Verb,
        namespace: Template,
        name: Template,
        replicas: Option<i32>,
    },
}

/// One step of a plan.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub kind: StepKind,
    pub timeout: Duration,
}

/// The query that must hold within `within` after the steps for the run to count as a fix.
#[derive(Debug, Clone)]
pub struct Verification {
    pub query: String,
    pub within: Duration,
    pub interval: Duration,
}

/// A validated runbook.
#[derive(Debug, Clone)]
pub struct Runbook {
    pub name: String,
    pub description: String,
    pub file: PathBuf,
    pub mode: Mode,
    pub confidence_threshold: f64,
    pub trigger: Trigger,
    pub params: BTreeMap<String, Param>,
    /// What per-target limits key on (rendered from parameters); the runbook name if unset.
    pub target: Option<Template>,
    pub preconditions: Vec<String>,
    pub steps: Vec<Step>,
    pub verification: Option<Verification>,
    pub rollback: Vec<Step>,
    pub limits: Limits,
}

/// A runbook that could not be loaded, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoadError {
    pub file: String,
    /// 0 when the problem has no single position (an unreadable file, a duplicate name).
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for LoadError {}

const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(30);

struct Ctx<'a> {
    file: &'a Path,
}

impl Ctx<'_> {
    fn at(&self, loc: &Location, message: impl Into<String>) -> LoadError {
        LoadError {
            file: self.file.display().to_string(),
            line: loc.line(),
            column: loc.column(),
            message: message.into(),
        }
    }
}

fn loc<T>(s: &Spanned<T>) -> &Location {
    // `referenced` is where the value is written (for an alias, where it is used).
    if s.referenced == Location::UNKNOWN {
        &s.defined
    } else {
        &s.referenced
    }
}

impl Runbook {
    /// Parses and checks one runbook; `file` names it in errors.
    pub fn parse(text: &str, file: &Path, allowed: &[PathBuf]) -> Result<Self, LoadError> {
        let ctx = Ctx { file };
        let raw: RawRunbook = serde_saphyr::from_str(text).map_err(|e| {
            let message = e.to_string().lines().next().unwrap_or("").trim().to_owned();
            match e.location() {
                Some(l) => ctx.at(&l, message),
                None => LoadError {
                    file: file.display().to_string(),
                    line: 0,
                    column: 0,
                    message,
                },
            }
        })?;
        let name = raw.name.value.trim().to_owned();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(ctx.at(
                loc(&raw.name),
                format!("runbook name `{name}` must be non-empty [A-Za-z0-9._-]"),
            ));
        }
        let th = raw.confidence_threshold.value;
        if !(0.0..=1.0).contains(&th) {
            return Err(ctx.at(
                loc(&raw.confidence_threshold),
                format!("confidence_threshold must be in [0, 1], got {th}"),
            ));
        }
        let trigger = check_trigger(&ctx, &raw.trigger)?;
        let mut params = BTreeMap::new();
        for (pname, p) in &raw.parameters {
            if Template::parse(&format!("{{{{{pname}}}}}")).is_err() {
                return Err(ctx.at(loc(p), format!("bad parameter name `{pname}`")));
            }
            let source =
                Source::parse(&p.value.from.value).map_err(|m| ctx.at(loc(&p.value.from), m))?;
            let pattern = match &p.value.pattern {
                // Anchored, so a pattern always constrains the whole value.
                Some(pat) => Some(
                    regex::Regex::new(&format!("^(?:{})$", pat.value))
                        .map_err(|e| ctx.at(loc(pat), format!("bad pattern: {e}")))?,
                ),
                None => None,
            };
            params.insert(
                pname.clone(),
                Param {
                    source,
                    default: p.value.default.clone(),
                    pattern,
                },
            );
        }
        let declared = |t: &Template, at: &Location| -> Result<(), LoadError> {
            for n in t.params() {
                if !params.contains_key(n) {
                    return Err(ctx.at(at, format!("`{{{{{n}}}}}` is not a declared parameter")));
                }
            }
            Ok(())
        };
        let target = match &raw.target {
            Some(t) => {
                let tpl = Template::parse(&t.value).map_err(|m| ctx.at(loc(t), m))?;
                declared(&tpl, loc(t))?;
                Some(tpl)
            }
            None => None,
        };
        let mut preconditions = Vec::new();
        for q in &raw.preconditions {
            check_promql(&ctx, q)?;
            preconditions.push(q.value.clone());
        }
        if raw.steps.is_empty() {
            return Err(ctx.at(loc(&raw.name), "a runbook needs at least one step"));
        }
        let steps = raw
            .steps
            .iter()
            .map(|s| check_step(&ctx, s, allowed, &declared))
            .collect::<Result<Vec<_>, _>>()?;
        let rollback = raw
            .rollback
            .iter()
            .map(|s| check_step(&ctx, s, allowed, &declared))
            .collect::<Result<Vec<_>, _>>()?;
        let verification = match &raw.verification {
            Some(v) => {
                check_promql(&ctx, &v.query)?;
                if v.within.0.is_zero() {
                    return Err(ctx.at(loc(&v.query), "verification.within must be positive"));
                }
                Some(Verification {
                    query: v.query.value.clone(),
                    within: v.within.0,
                    interval: v
                        .interval
                        .map(|d| d.0)
                        .unwrap_or(Duration::from_millis(500))
                        .max(Duration::from_millis(50)),
                })
            }
            None => None,
        };
        Ok(Self {
            name,
            description: raw.description,
            file: file.to_path_buf(),
            mode: raw.mode,
            confidence_threshold: th,
            trigger,
            params,
            target,
            preconditions,
            steps,
            verification,
            rollback,
            limits: raw.limits,
        })
    }
}

fn check_promql(ctx: &Ctx<'_>, q: &Spanned<String>) -> Result<(), LoadError> {
    promql_parser::parser::parse(&q.value)
        .map(|_| ())
        .map_err(|e| ctx.at(loc(q), format!("invalid PromQL `{}`: {e}", q.value)))
}

fn check_trigger(ctx: &Ctx<'_>, t: &Spanned<RawTrigger>) -> Result<Trigger, LoadError> {
    let r = &t.value;
    let title_regex = match &r.title_regex {
        Some(s) => Some(
            regex::Regex::new(&s.value)
                .map_err(|e| ctx.at(loc(s), format!("bad title_regex: {e}")))?,
        ),
        None => None,
    };
    let priority_at_least = match &r.priority_at_least {
        Some(p) if !(1..=5).contains(&p.value) => {
            return Err(ctx.at(loc(p), "priority_at_least must be 1 to 5"));
        }
        Some(p) => Some(p.value),
        None => None,
    };
    let trigger = Trigger {
        title_contains: r.title_contains.as_ref().map(|s| s.to_lowercase()),
        title_regex,
        labels: r.labels.clone(),
        priority_at_least,
        root_cause_service: r.root_cause_service.clone(),
        alert_names: r.alert_names.clone(),
    };
    // A trigger with no criterion would match every incident.
    if trigger.title_contains.is_none()
        && trigger.title_regex.is_none()
        && trigger.labels.is_empty()
        && trigger.priority_at_least.is_none()
        && trigger.root_cause_service.is_none()
        && trigger.alert_names.is_empty()
    {
        return Err(ctx.at(loc(t), "trigger needs at least one criterion"));
    }
    Ok(trigger)
}

fn check_step(
    ctx: &Ctx<'_>,
    s: &Spanned<RawStep>,
    allowed: &[PathBuf],
    declared: &dyn Fn(&Template, &Location) -> Result<(), LoadError>,
) -> Result<Step, LoadError> {
    let r = &s.value;
    let given = usize::from(r.command.is_some())
        + usize::from(r.webhook.is_some())
        + usize::from(r.annotate.is_some())
        + usize::from(r.kubernetes.is_some());
    if given != 1 {
        return Err(ctx.at(
            loc(s),
            format!(
                "step `{}` needs exactly one of command, webhook, annotate, kubernetes",
                r.name
            ),
        ));
    }
    let kind = if let Some(argv) = &r.command {
        let Some((program, args)) = argv.split_first() else {
            return Err(ctx.at(loc(s), format!("step `{}`: empty command", r.name)));
        };
        let path = PathBuf::from(&program.value);
        if !allowed.iter().any(|a| a == &path) {
            return Err(ctx.at(
                loc(program),
                format!(
                    "command `{}` is not in remediation.allowed_commands",
                    program.value
                ),
            ));
        }
        let mut targs = Vec::new();
        for a in args {
            let t = Template::parse(&a.value).map_err(|m| ctx.at(loc(a), m))?;
            // Whole elements only: a value can never be spliced into another argument (such as
            // `--file=../{{x}}`) and change how the program reads it.
            if !t.is_literal() && !t.is_whole_param() {
                return Err(ctx.at(
                    loc(a),
                    format!(
                        "argument `{}` mixes text and a parameter; a parameter must be a whole argument",
                        a.value
                    ),
                ));
            }
            declared(&t, loc(a))?;
            targs.push(t);
        }
        StepKind::Command {
            program: path,
            args: targs,
        }
    } else if let Some(w) = &r.webhook {
        if w.url.value.contains("{{") {
            return Err(ctx.at(loc(&w.url), "webhook url cannot hold parameters"));
        }
        let url = reqwest::Url::parse(&w.url.value)
            .map_err(|e| ctx.at(loc(&w.url), format!("bad url `{}`: {e}", w.url.value)))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(ctx.at(loc(&w.url), "webhook url must be http or https"));
        }
        let method = reqwest::Method::from_bytes(w.method.value.to_uppercase().as_bytes())
            .map_err(|_| ctx.at(loc(&w.method), format!("bad method `{}`", w.method.value)))?;
        if let Some(body) = &w.body {
            let mut err = None;
            visit_strings(body, &mut |s| {
                if err.is_none() {
                    err = Template::parse(s)
                        .map_err(|m| ctx.at(loc(&w.url), m))
                        .and_then(|t| declared(&t, loc(&w.url)))
                        .err();
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
        }
        StepKind::Webhook {
            method,
            url,
            headers: w.headers.clone(),
            body: w.body.clone(),
        }
    } else if let Some(k) = &r.kubernetes {
        use crate::kubernetes::Verb;
        let whole = |v: &Spanned<String>| -> Result<Template, LoadError> {
            let t = Template::parse(&v.value).map_err(|m| ctx.at(loc(v), m))?;
            if !t.is_literal() && !t.is_whole_param() {
                return Err(ctx.at(loc(v), "a parameter must be the whole value"));
            }
            declared(&t, loc(v))?;
            Ok(t)
        };
        let namespace = match (&k.value.namespace, k.value.action) {
            (Some(ns), Verb::Cordon) => {
                return Err(ctx.at(loc(ns), "cordon acts on a node: no namespace"));
            }
            (Some(ns), _) => whole(ns)?,
            (None, Verb::Cordon) => Template(Vec::new()),
            (None, _) => Template::parse("default").map_err(|m| ctx.at(loc(k), m))?,
        };
        match (k.value.action, k.value.replicas) {
            (Verb::Scale, None) => return Err(ctx.at(loc(k), "scale needs replicas")),
            (Verb::Scale, Some(n)) if n < 0 => {
                return Err(ctx.at(loc(k), "replicas must not be negative"));
            }
            (Verb::Scale, _) | (_, None) => {}
            (_, Some(_)) => return Err(ctx.at(loc(k), "only scale takes replicas")),
        }
        StepKind::Kubernetes {
            verb: k.value.action,
            namespace,
            name: whole(&k.value.name)?,
            replicas: k.value.replicas,
        }
    } else if let Some(a) = &r.annotate {
        let t = Template::parse(&a.value).map_err(|m| ctx.at(loc(a), m))?;
        declared(&t, loc(a))?;
        StepKind::Annotate { text: t }
    } else {
        unreachable!("exactly one kind was checked above")
    };
    Ok(Step {
        name: r.name.clone(),
        kind,
        timeout: r.timeout.map(|d| d.0).unwrap_or(DEFAULT_STEP_TIMEOUT),
    })
}

/// Calls `f` on every string value (not keys) in `v`.
pub(crate) fn visit_strings(v: &serde_json::Value, f: &mut dyn FnMut(&str)) {
    match v {
        serde_json::Value::String(s) => f(s),
        serde_json::Value::Array(a) => a.iter().for_each(|x| visit_strings(x, f)),
        serde_json::Value::Object(m) => m.values().for_each(|x| visit_strings(x, f)),
        _ => {}
    }
}

/// The runbooks of a directory, and the files that failed.
#[derive(Debug, Clone, Default)]
pub struct RunbookSet {
    pub runbooks: Vec<Arc<Runbook>>,
    pub errors: Vec<LoadError>,
    signature: Vec<(PathBuf, Option<SystemTime>, u64)>,
}

impl RunbookSet {
    /// Loads every `*.yaml`/`*.yml` in `dir` (sorted by file name).
    pub fn load_dir(dir: &Path, allowed: &[PathBuf]) -> Self {
        let mut set = Self {
            signature: signature(dir),
            ..Self::default()
        };
        if let Err(e) = std::fs::read_dir(dir) {
            set.errors.push(LoadError {
                file: dir.display().to_string(),
                line: 0,
                column: 0,
                message: format!("cannot read runbooks directory: {e}"),
            });
            return set;
        }
        let mut names = BTreeSet::new();
        for (path, _, _) in set.signature.clone() {
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    set.errors.push(LoadError {
                        file: path.display().to_string(),
                        line: 0,
                        column: 0,
                        message: format!("cannot read: {e}"),
                    });
                    continue;
                }
            };
            match Runbook::parse(&text, &path, allowed) {
                Ok(rb) if !names.insert(rb.name.clone()) => set.errors.push(LoadError {
                    file: path.display().to_string(),
                    line: 0,
                    column: 0,
                    message: format!("duplicate runbook name `{}`", rb.name),
                }),
                Ok(rb) => set.runbooks.push(Arc::new(rb)),
                Err(e) => set.errors.push(e),
            }
        }
        set
    }

    /// Whether the directory's files changed (added, removed, modified) since this was loaded.
    pub fn is_stale(&self, dir: &Path) -> bool {
        signature(dir) != self.signature
    }

    /// This load's errors and file list with `old`'s runbooks: a broken edit keeps what worked.
    pub fn with_runbooks_of(mut self, old: &RunbookSet) -> Self {
        self.runbooks = old.runbooks.clone();
        self
    }

    /// The runbook named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Runbook>> {
        self.runbooks.iter().find(|r| r.name == name)
    }
}

fn signature(dir: &Path) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .map(|p| {
            let m = std::fs::metadata(&p).ok();
            let modified = m.as_ref().and_then(|m| m.modified().ok());
            let len = m.map(|m| m.len()).unwrap_or(0);
            (p, modified, len)
        })
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests;
