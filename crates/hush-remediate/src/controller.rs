//! [`Remediator`]: runs and the decisions between them.
//!
//! A run is created when an open incident first matches a runbook, with its parameters bound
//! and its confidence computed; its mode and the confidence decide whether it is only suggested,
//! waits for approval, or is queued. Queued runs start when the guardrails allow. A run checks
//! its preconditions, executes its steps, waits for its verification and rolls back when a step
//! or the verification fails. Each of these is an audit entry.
//!
//! Runs live in memory; the audit chain is their durable record, and on start the controller
//! reads it back so an incident is not acted on twice and past outcomes keep counting.

use crate::action::{self, Env, Outcome, Planned};
use crate::config::RemediationConfig;
use crate::guard::{self, Started, Verdict};
use crate::runbook::{Mode, Runbook, RunbookSet, Step};
use crate::template::IncidentView;
use crate::trigger::{self, Confidence, Record};
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use uuid::Uuid;

/// Evaluates PromQL for preconditions and verification; the engine implements it on its store.
pub trait MetricQuery: Send + Sync {
    /// Whether `expr` holds at `t_ms`: a non-empty vector, or a non-zero scalar.
    fn holds(&self, expr: &str, t_ms: i64) -> Result<bool, String>;
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Shown to humans only (suggest mode).
    Suggested,
    /// Waiting for an operator.
    PendingApproval,
    /// Approved or automatic, waiting for the guardrails.
    Queued,
    Running,
    /// Steps ran and the verification held.
    Succeeded,
    /// A precondition did not hold, or a step or verification failed with nothing to roll back.
    Failed,
    /// A step or the verification failed and the rollback ran.
    RolledBack,
    /// A step or the verification failed and a rollback step failed too.
    RollbackFailed,
    /// The guardrails or the parameters refused it.
    Blocked,
    /// Stopped by the kill switch.
    Cancelled,
}

impl RunState {
    fn is_final(self) -> bool {
        !matches!(
            self,
            Self::Suggested | Self::PendingApproval | Self::Queued | Self::Running
        )
    }
}

/// One record of what a run did.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    /// `precondition`, `step`, `verification` or `rollback`.
    pub phase: &'static str,
    pub name: String,
    pub planned: Option<Planned>,
    pub outcome: Outcome,
    pub at: i64,
}

/// A runbook applied to an incident.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub id: Uuid,
    pub runbook: String,
    pub mode: Mode,
    pub incident: Uuid,
    /// The title, cut to 200 characters.
    pub incident_title: String,
    pub state: RunState,
    /// Why it is in its state (blocked, cancelled, failed), when there is a why.
    pub reason: Option<String>,
    pub confidence: Confidence,
    pub params: BTreeMap<String, String>,
    pub target: String,
    pub signature: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub approved_by: Option<String>,
    pub log: Vec<StepRecord>,
    /// The runbook as it was when the run was created: a reload does not change an approved plan.
    #[serde(skip)]
    runbook_def: Arc<Runbook>,
}

/// A runbook that applies to an incident, with how confident we are in it.
#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    pub runbook: String,
    pub mode: Mode,
    pub confidence: Confidence,
    /// Past runs of this runbook on incidents with the same signature.
    pub record: Record,
}

/// Why a request about a run was refused.
#[derive(Debug, thiserror::Error)]
pub enum RemediationError {
    #[error("no run `{0}`")]
    NotFound(Uuid),
    #[error("{0}")]
    Conflict(String),
    #[error("the kill switch is engaged: no run may start")]
    KillSwitch,
    #[error("failed to write the audit log: {0}")]
    Audit(String),
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Most finished runs kept in memory; older ones remain in the audit log.
const MAX_FINISHED_RUNS: usize = 10_000;

struct State {
    runbooks: RunbookSet,
    runs: BTreeMap<Uuid, Run>,
    /// (incident, runbook) pairs that already have a run, so updates do not re-trigger.
    seen: HashSet<(Uuid, String)>,
    history: Vec<Started>,
    records: HashMap<(String, String), Record>,
    watermark: i64,
}

/// The remediation controller.
pub struct Remediator {
    cfg: RemediationConfig,
    db: hush_sql::SqlStore,
    query: Arc<dyn MetricQuery>,
    http: reqwest::Client,
    maintenance: Vec<(i64, i64)>,
    kill: AtomicBool,
    state: Mutex<State>,
    /// Woken when a run is approved, so it starts without waiting for the next poll.
    pub wake: tokio::sync::Notify,
}

fn clip_chars(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

impl Remediator {
    /// Loads the runbooks (any error refuses to start, naming file and line) and reads past
    /// runs back from the audit log.
    pub async fn open(
        cfg: RemediationConfig,
        db: hush_sql::SqlStore,
        query: Arc<dyn MetricQuery>,
    ) -> Result<Self, String> {
        cfg.check()?;
        let dir = cfg
            .runbooks_dir
            .clone()
            .ok_or("remediation.runbooks_dir is not set")?;
        let runbooks = RunbookSet::load_dir(&dir, &cfg.allowed_commands);
        if let Some(e) = runbooks.errors.first() {
            return Err(format!("runbook refused: {e}"));
        }
        let maintenance = cfg
            .maintenance_windows
            .iter()
            .map(|w| w.bounds())
            .collect::<Result<Vec<_>, _>>()?;
        // reqwest is built without a default TLS provider and panics building a client without
        // one; the server installs ring at start-up, this makes the library safe on its own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("failed to build the HTTP client: {e}"))?;
        let me = Self {
            kill: AtomicBool::new(cfg.kill_switch),
            cfg,
            db,
            query,
            http,
            maintenance,
            state: Mutex::new(State {
                runbooks,
                runs: BTreeMap::new(),
                seen: HashSet::new(),
                history: Vec::new(),
                records: HashMap::new(),
                watermark: 0,
            }),
            wake: tokio::sync::Notify::new(),
        };
        me.restore().await?;
        Ok(me)
    }

    /// Forgets what it read from the audit log and reads it all again. A node that becomes the
    /// cluster's leader calls it before acting: the runs other leaders made meanwhile are in
    /// the shared audit log, and without them it would run their runbooks a second time.
    pub async fn resume(&self) -> Result<(), String> {
        {
            let mut st = self.state.lock();
            st.seen.clear();
            st.history.clear();
            st.records.clear();
        }
        self.restore().await
    }

    /// Reads `remediation.*` audit entries back: pairs already handled, starts for the rate
    /// budgets, outcomes for confidence, and the last kill switch setting.
    async fn restore(&self) -> Result<(), String> {
        let mut after = 0;
        loop {
            let page = self
                .db
                .list_audit(after, 1000)
                .await
                .map_err(|e| format!("failed to read the audit log: {e}"))?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let mut st = self.state.lock();
            for e in &page {
                if !e.action.starts_with("remediation.") {
                    continue;
                }
                let d: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
                let s = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
                match e.action.as_str() {
                    "remediation.run.created" => {
                        if let Ok(id) = s("incident").parse() {
                            st.seen.insert((id, s("runbook")));
                        }
                    }
                    "remediation.run.started" => st.history.push(Started {
                        runbook: s("runbook"),
                        target: s("target"),
                        at: e.at,
                    }),
                    "remediation.run.finished" => {
                        let r = st
                            .records
                            .entry((s("runbook"), s("signature")))
                            .or_default();
                        match s("result").as_str() {
                            "succeeded" => r.succeeded += 1,
                            "failed" | "rolled_back" | "rollback_failed" => r.failed += 1,
                            _ => {}
                        }
                    }
                    "remediation.kill_switch" => {
                        let on = d.get("engaged").and_then(|v| v.as_bool()).unwrap_or(false);
                        self.kill
                            .store(on || self.cfg.kill_switch, Ordering::SeqCst);
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    async fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        details: serde_json::Value,
    ) -> Result<(), RemediationError> {
        let entry = hush_sql::NewAuditEntry {
            at: now_ms(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            details,
        };
        self.db.append_audit(&entry).await.map(|_| ()).map_err(|e| {
            tracing::error!(error = %e, action, "audit append failed");
            RemediationError::Audit(e.to_string())
        })
    }

    /// Whether the kill switch is engaged.
    pub fn kill_switch(&self) -> bool {
        self.kill.load(Ordering::SeqCst)
    }

    /// Engages or releases the kill switch; engaging cancels every queued and pending run.
    pub async fn set_kill_switch(
        &self,
        engaged: bool,
        who: &str,
    ) -> Result<Vec<Uuid>, RemediationError> {
        self.kill.store(engaged, Ordering::SeqCst);
        let mut cancelled = Vec::new();
        if engaged {
            let now = now_ms();
            let mut st = self.state.lock();
            for r in st.runs.values_mut() {
                if matches!(r.state, RunState::Queued | RunState::PendingApproval) {
                    r.state = RunState::Cancelled;
                    r.reason = Some(format!("kill switch engaged by {who}"));
                    r.updated_at = now;
                    cancelled.push(r.id);
                }
            }
        }
        self.audit(
            who,
            "remediation.kill_switch",
            "remediation",
            serde_json::json!({"engaged": engaged, "cancelled": cancelled}),
        )
        .await?;
        Ok(cancelled)
    }

    /// Loaded runbooks and the files that failed to load.
    pub fn runbooks(&self) -> (Vec<Arc<Runbook>>, Vec<crate::runbook::LoadError>) {
        let st = self.state.lock();
        (st.runbooks.runbooks.clone(), st.runbooks.errors.clone())
    }

    /// Every run in memory, newest first.
    pub fn runs(&self) -> Vec<Run> {
        let st = self.state.lock();
        st.runs.values().rev().cloned().collect()
    }

    /// One run.
    pub fn run(&self, id: Uuid) -> Option<Run> {
        self.state.lock().runs.get(&id).cloned()
    }

    /// The runbooks that apply to `incident`, most confident first, with their record on
    /// similar incidents: "what fixed this last time".
    pub fn rank(&self, incident: &hush_sql::Incident) -> Vec<Ranked> {
        let view = IncidentView::from_incident(incident);
        let st = self.state.lock();
        let mut out: Vec<Ranked> = st
            .runbooks
            .runbooks
            .iter()
            .filter_map(|rb| {
                let m = trigger::matches(&rb.trigger, &view)?;
                let record = st
                    .records
                    .get(&(rb.name.clone(), view.signature()))
                    .copied()
                    .unwrap_or_default();
                Some(Ranked {
                    runbook: rb.name.clone(),
                    mode: rb.mode,
                    confidence: trigger::confidence(&m, record),
                    record,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.confidence
                .score
                .total_cmp(&a.confidence.score)
                .then_with(|| a.runbook.cmp(&b.runbook))
        });
        out
    }

    /// One poll: reload changed runbooks, create runs for new incidents, and pick the queued
    /// runs the guardrails let start now (returned already marked running, for the caller to
    /// [`Remediator::execute`]).
    pub async fn tick(&self, now: i64) -> Vec<Uuid> {
        self.reload_if_changed().await;
        if let Err(e) = self.discover(now).await {
            tracing::warn!(error = %e, "remediation: polling incidents failed");
        }
        self.start_queued(now).await
    }

    async fn reload_if_changed(&self) {
        let Some(dir) = self.cfg.runbooks_dir.as_deref() else {
            return;
        };
        if !self.state.lock().runbooks.is_stale(dir) {
            return;
        }
        let fresh = RunbookSet::load_dir(dir, &self.cfg.allowed_commands);
        let names: Vec<String> = fresh.runbooks.iter().map(|r| r.name.clone()).collect();
        let errors: Vec<String> = fresh.errors.iter().map(|e| e.to_string()).collect();
        {
            let mut st = self.state.lock();
            // A broken edit keeps the runbooks that were working; its errors are shown.
            st.runbooks = if fresh.errors.is_empty() {
                fresh
            } else {
                fresh.with_runbooks_of(&st.runbooks)
            };
        }
        for e in &errors {
            tracing::warn!(error = %e, "runbook refused");
        }
        let _ = self
            .audit(
                "engine",
                "remediation.runbooks.reloaded",
                "runbooks",
                serde_json::json!({"loaded": names, "errors": errors}),
            )
            .await;
    }

    async fn discover(&self, now: i64) -> Result<(), String> {
        const PAGE: u32 = 500;
        let mut incidents = Vec::new();
        // Pages in update order; `updated_since` is inclusive, so rows updated in the same
        // millisecond as the last one are read again and skipped by `seen`.
        let mut since = self.state.lock().watermark;
        loop {
            let page = self
                .db
                .list_incidents(&hush_sql::IncidentFilter {
                    updated_since: Some(since),
                    limit: Some(PAGE),
                    ..Default::default()
                })
                .await
                .map_err(|e| e.to_string())?;
            let full = page.len() == PAGE as usize;
            let last = page.last().map(|i| i.updated_at);
            incidents.extend(page);
            match last {
                Some(t) if full && t > since => since = t,
                _ => break,
            }
        }
        let mut created = Vec::new();
        {
            let mut st = self.state.lock();
            for inc in &incidents {
                st.watermark = st.watermark.max(inc.updated_at);
                if inc.state == hush_sql::IncidentState::Resolved {
                    continue;
                }
                let view = IncidentView::from_incident(inc);
                let rbs = st.runbooks.runbooks.clone();
                for rb in rbs {
                    let key = (inc.id, rb.name.clone());
                    if st.seen.contains(&key) {
                        continue;
                    }
                    let Some(m) = trigger::matches(&rb.trigger, &view) else {
                        continue;
                    };
                    st.seen.insert(key);
                    let record = st
                        .records
                        .get(&(rb.name.clone(), view.signature()))
                        .copied()
                        .unwrap_or_default();
                    let run = self.new_run(&rb, &view, &m, record, now);
                    created.push(run.clone());
                    st.runs.insert(run.id, run);
                }
            }
            prune(&mut st.runs);
        }
        for run in created {
            let _ = self
                .audit(
                    "engine",
                    "remediation.run.created",
                    &run.id.to_string(),
                    serde_json::json!({
                        "incident": run.incident,
                        "runbook": run.runbook,
                        "mode": run.mode,
                        "state": run.state,
                        "reason": run.reason,
                        "confidence": run.confidence,
                        "params": run.params,
                        "target": run.target,
                        "signature": run.signature,
                    }),
                )
                .await;
        }
        Ok(())
    }

    fn new_run(
        &self,
        rb: &Arc<Runbook>,
        view: &IncidentView,
        m: &trigger::Match,
        record: Record,
        now: i64,
    ) -> Run {
        let confidence = trigger::confidence(m, record);
        let mut run = Run {
            id: Uuid::now_v7(),
            runbook: rb.name.clone(),
            mode: rb.mode,
            incident: view.id,
            incident_title: clip_chars(&view.title, 200),
            state: RunState::Suggested,
            reason: None,
            confidence,
            params: BTreeMap::new(),
            target: rb.name.clone(),
            signature: view.signature(),
            created_at: now,
            updated_at: now,
            approved_by: None,
            log: Vec::new(),
            runbook_def: rb.clone(),
        };
        match bind(rb, view, self.cfg.max_param_bytes) {
            Ok(params) => {
                run.target = rb
                    .target
                    .as_ref()
                    .map(|t| t.render(&params))
                    .unwrap_or_else(|| rb.name.clone());
                run.params = params;
            }
            Err(reason) => {
                run.state = RunState::Blocked;
                run.reason = Some(reason);
                return run;
            }
        }
        let threshold = rb.confidence_threshold;
        (run.state, run.reason) = match rb.mode {
            Mode::Suggest => (RunState::Suggested, None),
            Mode::Approve => (RunState::PendingApproval, None),
            Mode::Auto if self.kill_switch() => {
                (RunState::Cancelled, Some("kill switch engaged".to_owned()))
            }
            Mode::Auto if run.confidence.score >= threshold => (RunState::Queued, None),
            Mode::Auto => (
                RunState::PendingApproval,
                Some(format!(
                    "confidence {:.3} is below the threshold {threshold}: approval needed",
                    run.confidence.score
                )),
            ),
        };
        run
    }

    async fn start_queued(&self, now: i64) -> Vec<Uuid> {
        let mut go = Vec::new();
        let mut blocked = Vec::new();
        {
            let mut st = self.state.lock();
            if self.kill_switch() {
                return go;
            }
            let queued: Vec<Uuid> = st
                .runs
                .values()
                .filter(|r| r.state == RunState::Queued)
                .map(|r| r.id)
                .collect();
            for id in queued {
                let running: Vec<(String, String)> = st
                    .runs
                    .values()
                    .filter(|r| r.state == RunState::Running)
                    .map(|r| (r.runbook.clone(), r.target.clone()))
                    .collect();
                let (rb, target) = {
                    let r = &st.runs[&id];
                    (r.runbook_def.clone(), r.target.clone())
                };
                let verdict = guard::check(
                    &rb,
                    &target,
                    &guard::Situation {
                        now,
                        history: &st.history,
                        running: &running,
                        max_concurrent_runs: self.cfg.max_concurrent_runs,
                        maintenance: &self.maintenance,
                    },
                );
                match verdict {
                    Verdict::Wait(_) => {}
                    Verdict::Go => {
                        st.history.push(Started {
                            runbook: rb.name.clone(),
                            target,
                            at: now,
                        });
                        if let Some(r) = st.runs.get_mut(&id) {
                            r.state = RunState::Running;
                            r.updated_at = now;
                        }
                        go.push(id);
                    }
                    Verdict::Block(reason) => {
                        if let Some(r) = st.runs.get_mut(&id) {
                            r.state = RunState::Blocked;
                            r.reason = Some(reason.clone());
                            r.updated_at = now;
                        }
                        blocked.push((id, rb.name.clone(), reason));
                    }
                }
            }
            let horizon = now - 3_600_000;
            st.history.retain(|h| h.at > horizon);
        }
        for (id, runbook, reason) in blocked {
            let _ = self
                .audit(
                    "engine",
                    "remediation.run.blocked",
                    &id.to_string(),
                    serde_json::json!({"runbook": runbook, "reason": reason}),
                )
                .await;
        }
        go
    }

    /// An operator approves a pending run: it is queued and starts when the guardrails allow.
    pub async fn approve(&self, id: Uuid, who: &str) -> Result<Run, RemediationError> {
        if self.kill_switch() {
            return Err(RemediationError::KillSwitch);
        }
        let run = {
            let mut st = self.state.lock();
            let r = st.runs.get_mut(&id).ok_or(RemediationError::NotFound(id))?;
            if r.state != RunState::PendingApproval {
                return Err(RemediationError::Conflict(format!(
                    "run `{id}` is {:?}, only a run pending approval can be approved",
                    r.state
                )));
            }
            r.state = RunState::Queued;
            r.approved_by = Some(who.to_owned());
            r.updated_at = now_ms();
            r.clone()
        };
        self.audit(
            who,
            "remediation.run.approved",
            &id.to_string(),
            serde_json::json!({"runbook": run.runbook, "incident": run.incident,
                               "confidence": run.confidence.score}),
        )
        .await?;
        self.wake.notify_one();
        Ok(run)
    }

    /// Exactly what the run would execute now, with the guardrails' and preconditions' answers;
    /// runs nothing.
    pub async fn dry_run(
        &self,
        id: Uuid,
        who: &str,
    ) -> Result<serde_json::Value, RemediationError> {
        let now = now_ms();
        let (run, verdict) = {
            let st = self.state.lock();
            let run = st
                .runs
                .get(&id)
                .ok_or(RemediationError::NotFound(id))?
                .clone();
            let running: Vec<(String, String)> = st
                .runs
                .values()
                .filter(|r| r.state == RunState::Running)
                .map(|r| (r.runbook.clone(), r.target.clone()))
                .collect();
            let v = guard::check(
                &run.runbook_def,
                &run.target,
                &guard::Situation {
                    now,
                    history: &st.history,
                    running: &running,
                    max_concurrent_runs: self.cfg.max_concurrent_runs,
                    maintenance: &self.maintenance,
                },
            );
            (run, v)
        };
        let rb = &run.runbook_def;
        let plan = |steps: &[Step]| -> Vec<serde_json::Value> {
            steps
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "name": s.name,
                        "action": action::render(s, &run.params, run.incident).dry_run(),
                    })
                })
                .collect()
        };
        let preconditions: Vec<serde_json::Value> = rb
            .preconditions
            .iter()
            .map(|q| {
                let holds = self.query.holds(q, now);
                serde_json::json!({"query": q, "holds": holds.as_ref().ok(), "error": holds.err()})
            })
            .collect();
        let guardrails = match (&verdict, self.kill_switch()) {
            (_, true) => serde_json::json!({"allowed": false, "reason": "kill switch engaged"}),
            (Verdict::Go, _) => serde_json::json!({"allowed": true}),
            (Verdict::Wait(r) | Verdict::Block(r), _) => {
                serde_json::json!({"allowed": false, "reason": r})
            }
        };
        let out = serde_json::json!({
            "run": run.id,
            "runbook": run.runbook,
            "state": run.state,
            "blocked_reason": if run.state == RunState::Blocked { run.reason.clone() } else { None },
            "params": run.params,
            "target": run.target,
            "preconditions": preconditions,
            "steps": plan(&rb.steps),
            "verification": rb.verification.as_ref().map(|v| serde_json::json!({
                "query": v.query, "within_ms": v.within.as_millis() as u64})),
            "rollback": plan(&rb.rollback),
            "guardrails": guardrails,
        });
        self.audit(who, "remediation.run.dry_run", &id.to_string(), out.clone())
            .await?;
        Ok(out)
    }

    fn update(&self, id: Uuid, f: impl FnOnce(&mut Run)) -> Option<Run> {
        let mut st = self.state.lock();
        let r = st.runs.get_mut(&id)?;
        f(r);
        r.updated_at = now_ms();
        Some(r.clone())
    }

    /// Executes a run returned by [`Remediator::tick`]: preconditions, steps, verification,
    /// rollback, each recorded in the run and appended to the audit log.
    pub async fn execute(&self, id: Uuid) {
        let Some(run) = self.run(id) else { return };
        let rb = run.runbook_def.clone();
        let actor = format!("runbook:{}", rb.name);
        let subject = id.to_string();
        let env = Env {
            http: self.http.clone(),
            db: self.db.clone(),
            max_output_bytes: self.cfg.max_output_bytes,
            actor: actor.clone(),
            kube: self.cfg.kubernetes.clone(),
        };
        let started = self
            .audit(
                &actor,
                "remediation.run.started",
                &subject,
                serde_json::json!({"runbook": rb.name, "target": run.target,
                    "incident": run.incident, "params": run.params,
                    "approved_by": run.approved_by}),
            )
            .await;
        if let Err(e) = started {
            // Nothing acts unless its start is on the record.
            return self
                .finish(id, &run, RunState::Failed, Some(e.to_string()))
                .await;
        }
        for q in &rb.preconditions {
            let holds = self.query.holds(q, now_ms());
            let ok = holds == Ok(true);
            let outcome = Outcome {
                ok,
                summary: match &holds {
                    Ok(true) => format!("`{q}` holds"),
                    Ok(false) => format!("`{q}` does not hold"),
                    Err(e) => format!("`{q}` failed: {e}"),
                },
                output: serde_json::Value::Null,
            };
            self.record(id, &actor, "precondition", q, None, outcome.clone())
                .await;
            if !ok {
                return self
                    .finish(id, &run, RunState::Failed, Some(outcome.summary))
                    .await;
            }
        }
        for step in &rb.steps {
            if self.kill_switch() {
                return self
                    .finish(
                        id,
                        &run,
                        RunState::Cancelled,
                        Some("kill switch engaged".into()),
                    )
                    .await;
            }
            let a = action::render(step, &run.params, run.incident);
            let outcome = a.run(&env).await;
            let ok = outcome.ok;
            let summary = outcome.summary.clone();
            self.record(id, &actor, "step", &step.name, Some(a.dry_run()), outcome)
                .await;
            if !ok {
                let why = format!("step `{}` failed: {summary}", step.name);
                return self.rollback(id, &run, &env, &actor, why).await;
            }
        }
        if let Some(v) = &rb.verification {
            let deadline = tokio::time::Instant::now() + v.within;
            let mut last = Err("not evaluated".to_owned());
            loop {
                last = match self.query.holds(&v.query, now_ms()) {
                    Ok(true) => Ok(true),
                    other => other.or(last),
                };
                if last == Ok(true) || tokio::time::Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep(v.interval).await;
            }
            let ok = last == Ok(true);
            let outcome = Outcome {
                ok,
                summary: if ok {
                    format!("`{}` holds", v.query)
                } else {
                    format!(
                        "`{}` did not hold within {} ms",
                        v.query,
                        v.within.as_millis()
                    )
                },
                output: serde_json::Value::Null,
            };
            let summary = outcome.summary.clone();
            self.record(id, &actor, "verification", &v.query, None, outcome)
                .await;
            if !ok {
                return self
                    .rollback(
                        id,
                        &run,
                        &env,
                        &actor,
                        format!("verification failed: {summary}"),
                    )
                    .await;
            }
        }
        self.finish(id, &run, RunState::Succeeded, None).await;
    }

    async fn rollback(&self, id: Uuid, run: &Run, env: &Env, actor: &str, why: String) {
        let rb = &run.runbook_def;
        if rb.rollback.is_empty() {
            return self.finish(id, run, RunState::Failed, Some(why)).await;
        }
        let mut all_ok = true;
        for step in &rb.rollback {
            let a = action::render(step, &run.params, run.incident);
            let outcome = a.run(env).await;
            all_ok &= outcome.ok;
            self.record(
                id,
                actor,
                "rollback",
                &step.name,
                Some(a.dry_run()),
                outcome,
            )
            .await;
        }
        let state = if all_ok {
            RunState::RolledBack
        } else {
            RunState::RollbackFailed
        };
        self.finish(id, run, state, Some(why)).await;
    }

    async fn record(
        &self,
        id: Uuid,
        actor: &str,
        phase: &'static str,
        name: &str,
        planned: Option<Planned>,
        outcome: Outcome,
    ) {
        let rec = StepRecord {
            phase,
            name: name.to_owned(),
            planned,
            outcome,
            at: now_ms(),
        };
        let details = serde_json::to_value(&rec).unwrap_or_default();
        self.update(id, |r| r.log.push(rec));
        let _ = self
            .audit(
                actor,
                &format!("remediation.{phase}"),
                &id.to_string(),
                details,
            )
            .await;
    }

    async fn finish(&self, id: Uuid, run: &Run, state: RunState, reason: Option<String>) {
        debug_assert!(state.is_final());
        self.update(id, |r| {
            r.state = state;
            r.reason = reason.clone();
        });
        let result = serde_json::to_value(state).unwrap_or_default();
        {
            let mut st = self.state.lock();
            let rec = st
                .records
                .entry((run.runbook.clone(), run.signature.clone()))
                .or_default();
            match state {
                RunState::Succeeded => rec.succeeded += 1,
                RunState::Failed | RunState::RolledBack | RunState::RollbackFailed => {
                    rec.failed += 1
                }
                _ => {}
            }
        }
        let _ = self
            .audit(
                &format!("runbook:{}", run.runbook),
                "remediation.run.finished",
                &id.to_string(),
                serde_json::json!({"runbook": run.runbook, "signature": run.signature,
                    "incident": run.incident, "result": result, "reason": reason}),
            )
            .await;
    }
}

/// Binds a runbook's parameters from an incident. Values are checked, never altered: too long,
/// NUL bytes (argv cannot carry them) or a pattern mismatch refuse the run.
pub fn bind(
    rb: &Runbook,
    view: &IncidentView,
    max_bytes: usize,
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (name, p) in &rb.params {
        let value = p
            .source
            .read(view)
            .or_else(|| p.default.clone())
            .ok_or_else(|| format!("parameter `{name}`: the incident has no {:?}", p.source))?;
        if value.len() > max_bytes {
            return Err(format!(
                "parameter `{name}` is {} bytes, remediation.max_param_bytes is {max_bytes}",
                value.len()
            ));
        }
        if value.contains('\0') {
            return Err(format!("parameter `{name}` contains a NUL byte"));
        }
        if let Some(re) = &p.pattern
            && !re.is_match(&value)
        {
            return Err(format!(
                "parameter `{name}` value `{}` does not match /{}/",
                clip_chars(&value, 64),
                re.as_str()
            ));
        }
        out.insert(name.clone(), value);
    }
    Ok(out)
}

fn prune(runs: &mut BTreeMap<Uuid, Run>) {
    let finished: Vec<Uuid> = runs
        .values()
        .filter(|r| r.state.is_final())
        .map(|r| r.id)
        .collect();
    if finished.len() > MAX_FINISHED_RUNS {
        // Ids are UUID v7, so map order is creation order: the oldest go first.
        for id in &finished[..finished.len() - MAX_FINISHED_RUNS] {
            runs.remove(id);
        }
    }
}

#[cfg(test)]
mod tests;
