//! Executors behind one [`Action`] trait. Every action can say exactly what it would do
//! ([`Action::dry_run`]) without doing it; the run path executes that same rendered value, so a
//! dry-run cannot drift from what runs.

use crate::runbook::{Step, StepKind};
use crate::template::Template;
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

/// What an action will do, fully rendered: the dry-run output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Planned {
    /// `program` executed directly (no shell) with `args` as its argv after the program.
    Command {
        program: PathBuf,
        args: Vec<String>,
        timeout_ms: u64,
    },
    /// One HTTP request.
    Webhook {
        method: String,
        url: String,
        headers: BTreeMap<String, String>,
        body: Option<serde_json::Value>,
        timeout_ms: u64,
    },
    /// A note appended to the incident's `annotations`.
    Annotate { incident: uuid::Uuid, text: String },
    /// One Kubernetes API call.
    Kubernetes {
        action: crate::kubernetes::Verb,
        namespace: String,
        name: String,
        replicas: Option<i32>,
        /// The request it makes.
        request: String,
        timeout_ms: u64,
    },
}

/// What running an action did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub ok: bool,
    /// One line for humans.
    pub summary: String,
    /// Captured output (stdout/stderr, HTTP status and body).
    pub output: serde_json::Value,
}

/// What executors share.
#[derive(Clone)]
pub struct Env {
    pub http: reqwest::Client,
    pub db: hush_sql::SqlStore,
    pub max_output_bytes: usize,
    /// Who annotations are attributed to.
    pub actor: String,
    /// Where Kubernetes actions go.
    pub kube: crate::kubernetes::KubeSettings,
}

type BoxFut<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// An executor. `dry_run` is required: nothing runs that cannot first be shown.
pub trait Action: Send + Sync {
    /// Exactly what [`Action::run`] would do; has no effect.
    fn dry_run(&self) -> Planned;
    /// Does it.
    fn run<'a>(&'a self, env: &'a Env) -> BoxFut<'a>;
}

/// Renders a runbook step with bound parameters into its action.
pub fn render(
    step: &Step,
    params: &BTreeMap<String, String>,
    incident: uuid::Uuid,
) -> Box<dyn Action> {
    match &step.kind {
        StepKind::Command { program, args } => Box::new(CommandAction {
            program: program.clone(),
            args: args.iter().map(|a| a.render(params)).collect(),
            timeout: step.timeout,
        }),
        StepKind::Webhook {
            method,
            url,
            headers,
            body,
        } => Box::new(WebhookAction {
            method: method.clone(),
            url: url.clone(),
            headers: headers.clone(),
            body: body.as_ref().map(|b| render_json(b, params)),
            timeout: step.timeout,
        }),
        StepKind::Annotate { text } => Box::new(AnnotateAction {
            incident,
            text: text.render(params),
        }),
        StepKind::Kubernetes {
            verb,
            namespace,
            name,
            replicas,
        } => Box::new(crate::kubernetes::KubeAction {
            verb: *verb,
            namespace: namespace.render(params),
            name: name.render(params),
            replicas: *replicas,
            timeout: step.timeout,
        }),
    }
}

/// `v` with every string value rendered as a template. Values stay JSON strings, so incident
/// data cannot add keys or change the document's shape.
fn render_json(v: &serde_json::Value, params: &BTreeMap<String, String>) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => match Template::parse(s) {
            Ok(t) => Value::String(t.render(params)),
            Err(_) => Value::String(s.clone()),
        },
        Value::Array(a) => Value::Array(a.iter().map(|x| render_json(x, params)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), render_json(x, params)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Keeps at most `max` bytes of `b`, cut on a character boundary, marking the cut.
fn clip(b: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(b);
    if s.len() <= max {
        return s.into_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} bytes cut]", &s[..end], s.len() - end)
}

/// An allowlisted executable, run directly with an argv vector: no shell ever parses it.
pub struct CommandAction {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub timeout: Duration,
}

impl Action for CommandAction {
    fn dry_run(&self) -> Planned {
        Planned::Command {
            program: self.program.clone(),
            args: self.args.clone(),
            timeout_ms: ms(self.timeout),
        }
    }

    fn run<'a>(&'a self, env: &'a Env) -> BoxFut<'a> {
        Box::pin(async move {
            let mut cmd = tokio::process::Command::new(&self.program);
            cmd.args(&self.args)
                // A known environment: the server's variables (tokens, URLs) are not the
                // command's business, and PATH cannot be steered.
                .env_clear()
                .env("PATH", "/usr/local/bin:/usr/bin:/bin")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                // Dropping the future on timeout kills the child instead of leaving it behind.
                .kill_on_drop(true);
            let child = match cmd.spawn() {
                Ok(c) => c,
                Err(e) => {
                    return Outcome {
                        ok: false,
                        summary: format!("failed to start `{}`: {e}", self.program.display()),
                        output: serde_json::Value::Null,
                    };
                }
            };
            match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
                Err(_) => Outcome {
                    ok: false,
                    summary: format!(
                        "`{}` timed out after {} ms and was killed",
                        self.program.display(),
                        ms(self.timeout)
                    ),
                    output: serde_json::Value::Null,
                },
                Ok(Err(e)) => Outcome {
                    ok: false,
                    summary: format!("failed to wait for `{}`: {e}", self.program.display()),
                    output: serde_json::Value::Null,
                },
                Ok(Ok(out)) => Outcome {
                    ok: out.status.success(),
                    summary: format!("`{}` exited with {}", self.program.display(), out.status),
                    output: serde_json::json!({
                        "exit_code": out.status.code(),
                        "stdout": clip(&out.stdout, env.max_output_bytes),
                        "stderr": clip(&out.stderr, env.max_output_bytes),
                    }),
                },
            }
        })
    }
}

/// An HTTP request to a URL fixed in the runbook (also how tickets are opened).
pub struct WebhookAction {
    pub method: reqwest::Method,
    pub url: reqwest::Url,
    pub headers: BTreeMap<String, String>,
    pub body: Option<serde_json::Value>,
    pub timeout: Duration,
}

impl Action for WebhookAction {
    fn dry_run(&self) -> Planned {
        Planned::Webhook {
            method: self.method.to_string(),
            url: self.url.to_string(),
            headers: self.headers.clone(),
            body: self.body.clone(),
            timeout_ms: ms(self.timeout),
        }
    }

    fn run<'a>(&'a self, env: &'a Env) -> BoxFut<'a> {
        Box::pin(async move {
            let mut req = env
                .http
                .request(self.method.clone(), self.url.clone())
                .timeout(self.timeout);
            for (k, v) in &self.headers {
                req = req.header(k, v);
            }
            if let Some(b) = &self.body {
                req = req.json(b);
            }
            match req.send().await {
                Err(e) => Outcome {
                    ok: false,
                    summary: format!("{} {} failed: {e}", self.method, self.url),
                    output: serde_json::Value::Null,
                },
                Ok(resp) => {
                    let status = resp.status();
                    let body = resp.bytes().await.unwrap_or_default();
                    Outcome {
                        ok: status.is_success(),
                        summary: format!("{} {} answered {status}", self.method, self.url),
                        output: serde_json::json!({
                            "status": status.as_u16(),
                            "body": clip(&body, env.max_output_bytes),
                        }),
                    }
                }
            }
        })
    }
}

/// Appends a note to the incident's payload (`annotations: [{at, by, text}]`).
pub struct AnnotateAction {
    pub incident: uuid::Uuid,
    pub text: String,
}

impl Action for AnnotateAction {
    fn dry_run(&self) -> Planned {
        Planned::Annotate {
            incident: self.incident,
            text: self.text.clone(),
        }
    }

    fn run<'a>(&'a self, env: &'a Env) -> BoxFut<'a> {
        Box::pin(async move {
            let fail = |summary: String| Outcome {
                ok: false,
                summary,
                output: serde_json::Value::Null,
            };
            let inc = match env.db.get_incident(self.incident).await {
                Ok(Some(i)) => i,
                Ok(None) => return fail(format!("incident `{}` is gone", self.incident)),
                Err(e) => return fail(format!("failed to read incident: {e}")),
            };
            let mut payload = inc.payload;
            if !payload.is_object() {
                payload = serde_json::json!({});
            }
            let at = crate::controller::now_ms();
            let note = serde_json::json!({"at": at, "by": env.actor, "text": self.text});
            match payload
                .get_mut("annotations")
                .and_then(|a| a.as_array_mut())
            {
                Some(list) => list.push(note),
                None => payload["annotations"] = serde_json::json!([note]),
            }
            let patch = hush_sql::IncidentPatch {
                payload: Some(payload),
                ..Default::default()
            };
            match env.db.update_incident(self.incident, &patch, at).await {
                Ok(_) => Outcome {
                    ok: true,
                    summary: format!("annotated incident `{}`", self.incident),
                    output: serde_json::Value::Null,
                },
                Err(e) => fail(format!("failed to annotate incident: {e}")),
            }
        })
    }
}
