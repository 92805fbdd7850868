//! The correlator: alerts in one at a time with the current time, changes out.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};

use crate::alert::{Alert, AlertStatus, Limits, Millis};
use crate::error::{AlertError, OperatorError, RuleError};
use crate::features::{Features, Rarity};
use crate::incident::{Change, Incident, IncidentId, IncidentState};
use crate::learn::CoOccurrence;
use crate::rules::Rules;
use crate::score::score;
use crate::topology::Topology;
use crate::triage::{Priority, triage};

/// Labels naming one machine or pod: alerts sharing one are candidates for the same incident
/// even when the topology does not know their service.
const ENTITY_LABELS: [&str; 4] = ["instance", "pod", "node", "host"];
/// Up to this many open incidents every one is scored; past it only those the indexes find.
const SCAN_ALL_BELOW: usize = 64;
/// Most incidents taken from one index entry (a service or an entity) as candidates for an
/// alert, the most recently opened first: a storm of alerts that never group would otherwise
/// make every alert score against all the open incidents of its service, so the cost per alert
/// would grow without bound.
const CANDIDATES_PER_KEY: usize = 256;

/// Tuning of the correlator. The defaults are the ones measured in `docs/correlation.md`.
#[derive(Debug, Clone)]
pub struct Config {
    pub limits: Limits,
    pub rules: Rules,
    /// Least score for an alert to join an incident rather than open its own.
    pub threshold: f32,
    /// Time constant of the decay of time proximity since an incident last grew.
    pub tau_ms: Millis,
    /// Time proximity never falls below this while the incident is firing …
    pub firing_floor: f32,
    /// … unless it has not grown for this long.
    pub max_gap_ms: Millis,
    /// Weight of label similarity relative to topology proximity.
    pub label_weight: f32,
    /// Weight of summary-word similarity, added to the relatedness.
    pub text_weight: f32,
    /// Score multiplier for a kind that never co-occurred with the incident's kinds …
    pub learned_floor: f32,
    /// … and for one that always did.
    pub learned_ceiling: f32,
    /// An incident resolves this long after its last alert resolved.
    pub grace_ms: Millis,
    /// Episodes of one alert within `flap_window_ms` that make it flapping.
    pub flap_count: usize,
    pub flap_window_ms: Millis,
    /// Learn co-occurrence from every incident that resolves.
    pub learn_online: bool,
    /// An alert firing again within this long of its incident resolving reopens it: a leak
    /// that kills a pod every hour is one problem, not one a cycle.
    pub reopen_ms: Millis,
    /// Resolved incidents are forgotten this long after resolving (at least `reopen_ms`).
    pub retain_ms: Millis,
    /// Holding back incidents of transient alerts.
    pub pause: Pause,
}

/// Pausing transient alerts (as PagerDuty's auto-pause of incident notifications): a new
/// incident whose first alert is of a kind (`alertname@service`) that, over its recent history,
/// stopped firing by itself within a few minutes is held pending (nobody is told) for that
/// long. If everything in it stopped firing by then it resolves without ever opening: the
/// alerts are recorded, nobody is notified. If anything still fires, or an alert of a kind that
/// is not paused joins it, it opens then. An alert joining an incident already open is never
/// held. The history is learned online from every alert's activity (first firing until it
/// stops; a new episode while the previous one fires continues it), never from outcomes of
/// incidents. User pause rules (`Rules::pause`) force or forbid holding whatever history says.
#[derive(Debug, Clone)]
pub struct Pause {
    /// Hold alerts whose history says they are transient (pause rules apply either way).
    pub enabled: bool,
    /// Longest hold: a kind that needs more is not transient.
    pub max_window_ms: Millis,
    /// Share of a kind's recent activities that must have ended within its hold.
    pub quantile: f32,
    /// Activities of a kind remembered before its history is trusted.
    pub min_history: usize,
    /// Added to the quantile: a resolve reaches the correlator a little after the alert stops
    /// (Alertmanager sends it with the group's next notification).
    pub margin_ms: Millis,
}

impl Default for Pause {
    fn default() -> Self {
        Self {
            enabled: false,
            max_window_ms: 10 * 60_000,
            quantile: 0.9,
            min_history: 5,
            margin_ms: 60_000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            rules: Rules::default(),
            threshold: 0.45,
            tau_ms: 10 * 60_000,
            firing_floor: 0.5,
            max_gap_ms: 2 * 3_600_000,
            label_weight: 0.8,
            text_weight: 0.15,
            learned_floor: 0.3,
            learned_ceiling: 1.2,
            grace_ms: 5 * 60_000,
            flap_count: 3,
            flap_window_ms: 30 * 60_000,
            learn_online: true,
            reopen_ms: 3_600_000,
            retain_ms: 3_600_000,
            pause: Pause::default(),
        }
    }
}

/// What happened to one alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The incident the alert's episode belongs to.
    pub incident: IncidentId,
    /// That incident's priority now.
    pub priority: Priority,
    /// A re-send of an episode already seen.
    pub duplicate: bool,
    /// The alert is flapping.
    pub flapping: bool,
    /// Everything that changed, including incidents resolved by the passage of time.
    pub changes: Vec<Change>,
}

/// Where a new alert episode goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Wherever grouping (rules, then scores) puts it: live alerts.
    Auto,
    /// Into this incident while it is not resolved (else as `Auto`): rebuilding incidents from
    /// a store whose grouping operators may have changed by merging and splitting.
    Join(IncidentId),
    /// Into a new incident of its own (its rule's, if one matches): the first alert of a stored
    /// incident being rebuilt.
    New,
}

#[derive(Debug, Clone)]
struct AlertState {
    starts_at: Millis,
    incident: IncidentId,
    firing: bool,
    /// Starts of recent episodes, for flapping.
    episodes: VecDeque<Millis>,
    flapping: bool,
    /// Its kind, for the duration history.
    kind: Option<u32>,
    /// When its current activity began (episodes following each other without a pause in
    /// firing are one activity).
    active_since: Millis,
}

/// Groups alerts into incidents. Deterministic: the same alerts at the same times give the
/// same incidents. Cloning takes a snapshot (for previews and what-ifs).
#[derive(Debug, Clone)]
pub struct Correlator {
    cfg: Config,
    topo: Topology,
    co: CoOccurrence,
    rarity: Rarity,
    now: Millis,
    next_id: u64,
    incidents: BTreeMap<IncidentId, Incident>,
    alerts: HashMap<String, AlertState>,
    by_service: HashMap<usize, Vec<IncidentId>>,
    by_entity: HashMap<String, Vec<IncidentId>>,
    rule_groups: HashMap<String, IncidentId>,
    /// (time, fingerprint, starts_at): firing alerts whose `ends_at` passes then.
    expiries: BinaryHeap<Reverse<(Millis, String, Millis)>>,
    /// (time, incident): quiet incidents to resolve, resolved ones to forget.
    due: BinaryHeap<Reverse<(Millis, IncidentId)>>,
}

impl Correlator {
    /// A correlator over `topo` with `cfg`, knowing the co-occurrence `learned` so far.
    pub fn new(cfg: Config, topo: Topology, learned: CoOccurrence) -> Result<Self, RuleError> {
        cfg.rules.validate()?;
        Ok(Self {
            cfg,
            topo,
            co: learned,
            rarity: Rarity::default(),
            now: Millis::MIN,
            next_id: 1,
            incidents: BTreeMap::new(),
            alerts: HashMap::new(),
            by_service: HashMap::new(),
            by_entity: HashMap::new(),
            rule_groups: HashMap::new(),
            expiries: BinaryHeap::new(),
            due: BinaryHeap::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The co-occurrence learned so far (to persist, or to seed another correlator).
    pub fn learned(&self) -> &CoOccurrence {
        &self.co
    }

    /// An incident still remembered.
    pub fn incident(&self, id: IncidentId) -> Option<&Incident> {
        self.incidents.get(&id)
    }

    /// Incidents still remembered (open, pending and recently resolved), oldest first.
    pub fn incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.values()
    }

    /// Incidents not yet resolved.
    pub fn open_incidents(&self) -> usize {
        self.incidents
            .values()
            .filter(|i| i.state != IncidentState::Resolved)
            .count()
    }

    /// Takes in one alert received at `now`. A refused alert changes nothing.
    pub fn ingest(&mut self, alert: Alert, now: Millis) -> Result<Outcome, AlertError> {
        self.ingest_placed(alert, now, Placement::Auto)
    }

    /// As [`Correlator::ingest`], with a new episode placed as `placement` says. Another
    /// episode of an alert whose incident is still open folds into it whatever `placement` says.
    pub fn ingest_placed(
        &mut self,
        mut alert: Alert,
        now: Millis,
        placement: Placement,
    ) -> Result<Outcome, AlertError> {
        alert.validate(&self.cfg.limits)?;
        let mut changes = self.advance(now);
        let now = self.now;
        let fp = alert.fingerprint.clone();
        let firing = !alert.is_over(now);
        if let Some(at) = alert
            .ends_at
            .filter(|_| firing && alert.status == AlertStatus::Firing)
            && at > alert.starts_at
        {
            self.expiries
                .push(Reverse((at, fp.clone(), alert.starts_at)));
        }

        // A re-send or the resolve of an episode already placed.
        if let Some(st) = self.alerts.get_mut(&fp)
            && st.starts_at == alert.starts_at
            && self.incidents.contains_key(&st.incident)
        {
            let (id, flapping) = (st.incident, st.flapping);
            if !firing && st.firing {
                st.firing = false;
                let (kind, since) = (st.kind, st.active_since);
                self.stopped(kind, since, now);
                self.quieten(id, &fp, now);
            }
            return Ok(self.outcome(id, true, flapping, changes));
        }

        // A new episode: flapping is counted per fingerprint across episodes.
        let window = self.cfg.flap_window_ms;
        let flap_count = self.cfg.flap_count;
        let (prev, flapping, newly_flapping) = match self.alerts.get_mut(&fp) {
            Some(st) => {
                st.episodes.push_back(alert.starts_at);
                while st
                    .episodes
                    .front()
                    .is_some_and(|&s| alert.starts_at.saturating_sub(s) > window)
                {
                    st.episodes.pop_front();
                }
                let was = st.flapping;
                st.flapping = st.episodes.len() >= flap_count;
                (Some(st.incident), st.flapping, st.flapping && !was)
            }
            None => (None, false, false),
        };
        let features = Features::of(&alert, &self.topo);
        let kind = self.co.intern(&features.kind);
        // A new episode of an alert whose incident is open, or resolved recently, folds into
        // it (reopening it).
        let reopen = self.cfg.reopen_ms;
        let folded = prev.filter(|id| {
            self.incidents.get(id).is_some_and(|i| {
                i.state != IncidentState::Resolved
                    || i.resolved_at
                        .is_some_and(|r| now.saturating_sub(r) <= reopen)
            })
        });
        let mut rehold = false;
        if let Some(inc) = folded.and_then(|id| self.incidents.get_mut(&id))
            && inc.state == IncidentState::Resolved
        {
            inc.resolved_at = None;
            if inc.announced {
                inc.state = IncidentState::Open;
                changes.push(Change::Reopened { incident: inc.id });
            } else {
                // Never told anyone (paused, or short of its rule's `open_after`): it starts
                // over as pending, and opens as a new incident would.
                inc.state = IncidentState::Pending;
                rehold = true;
            }
        }
        let joinable = |id: &IncidentId| {
            self.incidents
                .get(id)
                .is_some_and(|i| i.state != IncidentState::Resolved)
        };
        let id = match (folded, placement) {
            (Some(id), _) => id,
            (None, Placement::Join(id)) if joinable(&id) => id,
            (None, Placement::New) => self.place_new(&alert, now),
            (None, _) => self.place(&alert, &features, kind, now),
        };
        if placement == Placement::Auto {
            let window = self.pause_window(&alert, kind);
            if let Some(inc) = self.incidents.get_mut(&id)
                && inc.state == IncidentState::Pending
            {
                match window {
                    Some(w) if inc.fingerprints.is_empty() || rehold => {
                        let until = now.saturating_add(w);
                        inc.hold_until = Some(until);
                        self.due.push(Reverse((until, id)));
                    }
                    Some(_) => {}
                    // An alert that is not transient ends the pause.
                    None => inc.hold_until = None,
                }
            }
        }
        self.rarity.observe(&features);
        let (episodes, active_since) = match self.alerts.remove(&fp) {
            Some(st) => (st.episodes, if st.firing { st.active_since } else { now }),
            None => (VecDeque::from([alert.starts_at]), now),
        };
        self.alerts.insert(
            fp.clone(),
            AlertState {
                starts_at: alert.starts_at,
                incident: id,
                firing,
                episodes,
                flapping,
                kind,
                active_since,
            },
        );
        // Another episode of an alert already in the incident is no growth to announce.
        let quiet = flapping || folded.is_some();
        self.join(id, &alert, &features, kind, now, quiet, &mut changes);
        if newly_flapping {
            if let Some(inc) = self.incidents.get_mut(&id) {
                inc.flapping.insert(fp.clone());
            }
            changes.push(Change::Flapping {
                incident: id,
                fingerprint: fp.clone(),
            });
        }
        if !firing {
            self.stopped(kind, active_since, now);
            self.quieten(id, &fp, now);
        }
        Ok(self.outcome(id, false, flapping, changes))
    }

    /// Moves time to `now` (never backwards): expires unrenewed alerts, resolves incidents
    /// whose grace period ended, forgets old resolved incidents.
    pub fn advance(&mut self, now: Millis) -> Vec<Change> {
        self.now = self.now.max(now);
        let now = self.now;
        let mut changes = Vec::new();
        while let Some(Reverse((at, _, _))) = self.expiries.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, fp, starts))) = self.expiries.pop() else {
                break;
            };
            if let Some(st) = self.alerts.get_mut(&fp)
                && st.starts_at == starts
                && st.firing
            {
                st.firing = false;
                let (id, kind, since) = (st.incident, st.kind, st.active_since);
                self.stopped(kind, since, at);
                self.quieten(id, &fp, at);
            }
        }
        while let Some(Reverse((at, _))) = self.due.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, id))) = self.due.pop() else {
                break;
            };
            self.settle(id, at, &mut changes);
        }
        changes
    }

    /// Records that an alert of `kind`, firing since `since`, stopped at `at`.
    fn stopped(&mut self, kind: Option<u32>, since: Millis, at: Millis) {
        if self.cfg.learn_online
            && let Some(k) = kind
        {
            self.co.observe_duration_id(k, at.saturating_sub(since));
        }
    }

    /// How long a new incident starting with `alert` is held, if at all: a pause rule decides
    /// if one matches, else the kind's history (when pausing is enabled).
    fn pause_window(&self, alert: &Alert, kind: Option<u32>) -> Option<Millis> {
        if let Some(r) = self.cfg.rules.pause_for(alert) {
            return r
                .pause
                .then(|| r.window_ms.unwrap_or(self.cfg.pause.max_window_ms));
        }
        let p = &self.cfg.pause;
        if !p.enabled {
            return None;
        }
        let (n, q) = self.co.duration_quantile_id(kind?, p.quantile)?;
        let w = q.saturating_add(p.margin_ms);
        (n >= p.min_history && w <= p.max_window_ms).then_some(w)
    }

    fn open_after(&self, inc: &Incident) -> usize {
        inc.rule
            .as_ref()
            .and_then(|r| self.cfg.rules.rules.iter().find(|x| &x.name == r))
            .map_or(1, |r| r.open_after.max(1))
    }

    fn outcome(
        &self,
        id: IncidentId,
        duplicate: bool,
        flapping: bool,
        changes: Vec<Change>,
    ) -> Outcome {
        Outcome {
            incident: id,
            priority: self.incidents.get(&id).map_or(Priority::P5, |i| i.priority),
            duplicate,
            flapping,
            changes,
        }
    }

    /// Decides the incident of a new episode: its rule's group, the best-scoring open
    /// incident, or a new one.
    fn place(&mut self, alert: &Alert, f: &Features, kind: Option<u32>, now: Millis) -> IncidentId {
        if let Some(rule) = self.cfg.rules.rule_for(alert) {
            let key = rule.group_key(alert);
            let window = rule.window_ms;
            let name = rule.name.clone();
            if let Some(&id) = self.rule_groups.get(&key)
                && self.incidents.get(&id).is_some_and(|i| {
                    i.state != IncidentState::Resolved && now.saturating_sub(i.grew_at) <= window
                })
            {
                return id;
            }
            let id = self.create(now, Some(name));
            self.rule_groups.insert(key, id);
            return id;
        }
        let mut cands: Vec<IncidentId> = Vec::new();
        let open = self.incidents.len();
        if open <= SCAN_ALL_BELOW {
            cands.extend(self.incidents.keys().copied());
        } else {
            if let Some(s) = f.service {
                for &(j, _) in self.topo.near(s) {
                    if let Some(v) = self.by_service.get(&j) {
                        cands.extend(v.iter().rev().take(CANDIDATES_PER_KEY));
                    }
                }
            }
            for k in ENTITY_LABELS {
                if let Some(v) = alert.label(k)
                    && let Some(ids) = self.by_entity.get(&format!("{k}={v}"))
                {
                    cands.extend(ids.iter().rev().take(CANDIDATES_PER_KEY));
                }
            }
            cands.sort_unstable();
            cands.dedup();
        }
        let mut best: Option<(f32, IncidentId)> = None;
        for id in cands {
            let Some(inc) = self.incidents.get(&id) else {
                continue;
            };
            if inc.state == IncidentState::Resolved || inc.rule.is_some() {
                continue;
            }
            if self.cfg.rules.never_across_teams
                && let Some(t) = &f.team
                && inc.teams.iter().any(|x| x != t)
            {
                continue;
            }
            let s = score(
                f,
                kind,
                inc,
                now,
                &self.cfg,
                &self.topo,
                &self.rarity,
                &self.co,
            );
            if s.total >= self.cfg.threshold && best.is_none_or(|(b, _)| s.total > b) {
                best = Some((s.total, id));
            }
        }
        match best {
            Some((_, id)) => id,
            None => self.create(now, None),
        }
    }

    /// A new incident for `alert`, its rule's if one matches (the rule's group then points at
    /// it).
    fn place_new(&mut self, alert: &Alert, now: Millis) -> IncidentId {
        match self.cfg.rules.rule_for(alert) {
            Some(rule) => {
                let key = rule.group_key(alert);
                let name = rule.name.clone();
                let id = self.create(now, Some(name));
                self.rule_groups.insert(key, id);
                id
            }
            None => self.create(now, None),
        }
    }

    fn create(&mut self, now: Millis, rule: Option<String>) -> IncidentId {
        let id = IncidentId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        self.incidents.insert(id, Incident::new(id, now, rule));
        id
    }

    /// Adds an episode to incident `id`, updates indexes and triage, and reports it.
    #[allow(clippy::too_many_arguments)]
    fn join(
        &mut self,
        id: IncidentId,
        alert: &Alert,
        f: &Features,
        kind: Option<u32>,
        now: Millis,
        quiet: bool,
        changes: &mut Vec<Change>,
    ) {
        let open_after = self.incidents.get(&id).map_or(1, |i| self.open_after(i));
        let Some(inc) = self.incidents.get_mut(&id) else {
            return;
        };
        let new_service = f.service.filter(|s| !inc.service_idx.contains(s));
        let service_name = f
            .kind
            .split_once('@')
            .map(|(_, s)| s)
            .filter(|s| !s.is_empty());
        inc.absorb(
            &alert.fingerprint,
            f,
            &alert.labels,
            kind,
            service_name,
            now,
        );
        if let Some(s) = new_service {
            self.by_service.entry(s).or_default().push(id);
        }
        for k in ENTITY_LABELS {
            if let Some(v) = alert.label(k) {
                let ids = self.by_entity.entry(format!("{k}={v}")).or_default();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        let t = triage(inc, &self.topo);
        let before = inc.priority;
        inc.priority = t.priority;
        inc.reasons = t.reasons;
        match inc.state {
            IncidentState::Pending
                if inc.fingerprints.len() >= open_after
                    && inc.hold_until.is_none_or(|h| now >= h) =>
            {
                inc.state = IncidentState::Open;
                inc.hold_until = None;
                inc.announced = true;
                changes.push(Change::Opened {
                    incident: id,
                    priority: inc.priority,
                });
            }
            IncidentState::Open => {
                if !quiet {
                    changes.push(Change::Grew {
                        incident: id,
                        fingerprint: alert.fingerprint.clone(),
                        alerts: inc.alerts,
                    });
                }
                if before != inc.priority {
                    changes.push(Change::Reprioritised {
                        incident: id,
                        from: before,
                        to: inc.priority,
                    });
                }
            }
            _ => {}
        }
    }

    /// Marks an alert of incident `id` resolved at `at`; the incident resolves after grace.
    fn quieten(&mut self, id: IncidentId, fp: &str, at: Millis) {
        let Some(inc) = self.incidents.get_mut(&id) else {
            return;
        };
        inc.firing.remove(fp);
        if inc.firing.is_empty() {
            inc.quiet_since = Some(at);
            self.due
                .push(Reverse((at.saturating_add(self.cfg.grace_ms), id)));
        }
    }

    /// Resolves or forgets incident `id` if it is still due at `at`.
    fn settle(&mut self, id: IncidentId, at: Millis, changes: &mut Vec<Change>) {
        let open_after = self.incidents.get(&id).map_or(1, |i| self.open_after(i));
        let Some(inc) = self.incidents.get_mut(&id) else {
            return;
        };
        // A pause ended: what still fires opens the incident; what stopped stays unannounced
        // and resolves quietly after grace.
        if inc.state == IncidentState::Pending && inc.hold_until.is_some_and(|h| h <= at) {
            inc.hold_until = None;
            if inc.is_firing() && inc.fingerprints.len() >= open_after {
                inc.state = IncidentState::Open;
                inc.announced = true;
                changes.push(Change::Opened {
                    incident: id,
                    priority: inc.priority,
                });
            }
        }
        match inc.state {
            IncidentState::Resolved => {
                let keep = self.cfg.retain_ms.max(self.cfg.reopen_ms);
                if inc
                    .resolved_at
                    .is_some_and(|r| r.saturating_add(keep) <= at)
                {
                    self.forget(id);
                }
            }
            _ => {
                let due = inc.quiet_since.map(|q| q.saturating_add(self.cfg.grace_ms));
                if inc.is_firing() || due.is_none_or(|d| d > at) {
                    return;
                }
                let was_open = inc.state == IncidentState::Open;
                inc.state = IncidentState::Resolved;
                inc.resolved_at = Some(at);
                if was_open {
                    changes.push(Change::Resolved { incident: id, at });
                }
                if self.cfg.learn_online {
                    let mut kinds = inc.kinds.clone();
                    self.co.learn_ids(&mut kinds);
                }
                let keep = self.cfg.retain_ms.max(self.cfg.reopen_ms);
                self.due.push(Reverse((at.saturating_add(keep), id)));
            }
        }
    }

    /// An operator's merge: every alert of `from` moves into `into`, later episodes of those
    /// alerts and its rule group follow them there, and `from` resolves at `now` (emptied: no
    /// `Resolved` change is reported for it, the caller records the merge). The kinds of the two
    /// are learned as belonging together. Returns what else changed (`into`'s priority, and
    /// incidents time resolved meanwhile).
    pub fn merge(
        &mut self,
        from: IncidentId,
        into: IncidentId,
        now: Millis,
    ) -> Result<Vec<Change>, OperatorError> {
        if from == into {
            return Err(OperatorError::SameIncident);
        }
        for id in [from, into] {
            match self.incidents.get(&id) {
                None => return Err(OperatorError::UnknownIncident(id)),
                Some(i) if i.state == IncidentState::Resolved => {
                    return Err(OperatorError::Resolved(id));
                }
                Some(_) => {}
            }
        }
        let mut changes = self.advance(now);
        let now = self.now;
        // Time may just have resolved one of them.
        for id in [from, into] {
            if self
                .incidents
                .get(&id)
                .is_none_or(|i| i.state == IncidentState::Resolved)
            {
                return Err(OperatorError::Resolved(id));
            }
        }
        let (Some(mut src), Some(mut dst)) =
            (self.incidents.remove(&from), self.incidents.remove(&into))
        else {
            return Err(OperatorError::UnknownIncident(from));
        };
        self.co.verdict_ids(&src.kinds, &dst.kinds, true);
        self.unindex(from, &src);
        self.unindex(into, &dst);
        for fp in &src.fingerprints {
            if let Some(st) = self.alerts.get_mut(fp)
                && st.incident == from
            {
                st.incident = into;
            }
        }
        for v in self.rule_groups.values_mut() {
            if *v == from {
                *v = into;
            }
        }
        let before = dst.priority;
        dst.absorb_incident(&mut src);
        if let Some(q) = dst.quiet_since {
            self.due
                .push(Reverse((q.saturating_add(self.cfg.grace_ms), into)));
        }
        let t = triage(&dst, &self.topo);
        dst.priority = t.priority;
        dst.reasons = t.reasons;
        if dst.state == IncidentState::Pending {
            dst.state = IncidentState::Open;
            dst.hold_until = None;
            dst.announced = true;
            changes.push(Change::Opened {
                incident: into,
                priority: dst.priority,
            });
        } else if before != dst.priority {
            changes.push(Change::Reprioritised {
                incident: into,
                from: before,
                to: dst.priority,
            });
        }
        src.state = IncidentState::Resolved;
        src.resolved_at = Some(now);
        let keep = self.cfg.retain_ms.max(self.cfg.reopen_ms);
        self.due.push(Reverse((now.saturating_add(keep), from)));
        self.incidents.insert(from, src);
        self.incidents.insert(into, dst);
        self.index(into);
        Ok(changes)
    }

    /// An operator's split: the alerts `off` (fingerprints) leave incident `id` and form a new
    /// incident, open at once; later episodes of them go to the new incident. `members` are the
    /// incident's alerts as stored — the correlator keeps only what grouping needs, not labels,
    /// so both parts are rebuilt from them (a fingerprint without its alert keeps its place but
    /// adds nothing to similarity). The kinds split off are learned as not belonging with the
    /// kinds that stay. Returns the new incident and the changes: its opening, `id`'s new
    /// priority, incidents time resolved meanwhile.
    pub fn split(
        &mut self,
        id: IncidentId,
        off: &[String],
        members: &[Alert],
        now: Millis,
    ) -> Result<(IncidentId, Vec<Change>), OperatorError> {
        let off: BTreeSet<&str> = off.iter().map(String::as_str).collect();
        {
            let inc = self
                .incidents
                .get(&id)
                .ok_or(OperatorError::UnknownIncident(id))?;
            if inc.state == IncidentState::Resolved {
                return Err(OperatorError::Resolved(id));
            }
            if off.is_empty() {
                return Err(OperatorError::NothingToSplit);
            }
            if let Some(fp) = off.iter().find(|fp| !inc.fingerprints.contains(**fp)) {
                return Err(OperatorError::UnknownAlert {
                    fingerprint: (*fp).to_string(),
                    incident: id,
                });
            }
            if off.len() >= inc.fingerprints.len() {
                return Err(OperatorError::SplitsAll(id));
            }
        }
        let mut changes = self.advance(now);
        let now = self.now;
        let Some(old) = self.incidents.remove(&id) else {
            return Err(OperatorError::UnknownIncident(id));
        };
        if old.state == IncidentState::Resolved {
            self.incidents.insert(id, old);
            return Err(OperatorError::Resolved(id));
        }
        self.unindex(id, &old);
        let nid = IncidentId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        let first = members
            .iter()
            .filter(|a| off.contains(a.fingerprint.as_str()))
            .map(|a| a.received_at.min(now))
            .min()
            .unwrap_or(now);
        let mut rest = Incident::new(id, old.started_at, old.rule.clone());
        let mut new = Incident::new(nid, first, None);
        let (mut off_kinds, mut rest_kinds) = (Vec::new(), Vec::new());
        let mut done: BTreeSet<&str> = BTreeSet::new();
        for a in members {
            let fp = a.fingerprint.as_str();
            if !old.fingerprints.contains(fp) || !done.insert(fp) {
                continue;
            }
            let f = Features::of(a, &self.topo);
            let kind = self.co.intern(&f.kind);
            let service = f
                .kind
                .split_once('@')
                .map(|(_, s)| s)
                .filter(|s| !s.is_empty());
            let (part, kinds) = if off.contains(fp) {
                (&mut new, &mut off_kinds)
            } else {
                (&mut rest, &mut rest_kinds)
            };
            part.absorb(fp, &f, &a.labels, kind, service, a.received_at.min(now));
            kinds.extend(kind);
        }
        self.co.verdict_ids(&off_kinds, &rest_kinds, false);
        // What only the old incident knew: members without stored alerts, firing, flapping,
        // how many episodes it counted.
        for fp in &old.fingerprints {
            let part = if off.contains(fp.as_str()) {
                &mut new
            } else {
                &mut rest
            };
            part.fingerprints.insert(fp.clone());
        }
        for part in [&mut rest, &mut new] {
            part.firing = old
                .firing
                .iter()
                .filter(|fp| part.fingerprints.contains(*fp))
                .cloned()
                .collect();
            part.flapping = old
                .flapping
                .intersection(&part.fingerprints)
                .cloned()
                .collect();
            part.quiet_since = if part.is_firing() {
                None
            } else {
                Some(old.quiet_since.unwrap_or(now))
            };
            let t = triage(part, &self.topo);
            part.priority = t.priority;
            part.reasons = t.reasons;
        }
        rest.grew_at = old.grew_at;
        rest.alerts = old
            .alerts
            .saturating_sub(off.len())
            .max(rest.fingerprints.len());
        new.alerts = off.len();
        rest.state = old.state;
        rest.hold_until = old.hold_until;
        rest.announced = old.announced;
        new.state = IncidentState::Open;
        new.announced = true;
        for fp in &off {
            if let Some(st) = self.alerts.get_mut(*fp)
                && st.incident == id
            {
                st.incident = nid;
            }
        }
        for part in [&rest, &new] {
            if let Some(q) = part.quiet_since {
                self.due
                    .push(Reverse((q.saturating_add(self.cfg.grace_ms), part.id)));
            }
        }
        changes.push(Change::Opened {
            incident: nid,
            priority: new.priority,
        });
        if rest.priority != old.priority && rest.state == IncidentState::Open {
            changes.push(Change::Reprioritised {
                incident: id,
                from: old.priority,
                to: rest.priority,
            });
        }
        self.incidents.insert(id, rest);
        self.incidents.insert(nid, new);
        self.index(id);
        self.index(nid);
        Ok((nid, changes))
    }

    /// Adds incident `id` to the candidate indexes under its services and instances.
    fn index(&mut self, id: IncidentId) {
        let Some(inc) = self.incidents.get(&id) else {
            return;
        };
        for s in &inc.service_idx {
            let v = self.by_service.entry(*s).or_default();
            if !v.contains(&id) {
                v.push(id);
            }
        }
        for k in ENTITY_LABELS {
            for v in &inc.instances {
                let ids = self.by_entity.entry(format!("{k}={v}")).or_default();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }

    /// Removes incident `id` (held as `inc`) from the candidate indexes.
    fn unindex(&mut self, id: IncidentId, inc: &Incident) {
        for s in &inc.service_idx {
            if let Some(v) = self.by_service.get_mut(s) {
                v.retain(|x| *x != id);
                if v.is_empty() {
                    self.by_service.remove(s);
                }
            }
        }
        for k in ENTITY_LABELS {
            for v in &inc.instances {
                let key = format!("{k}={v}");
                if let Some(ids) = self.by_entity.get_mut(&key) {
                    ids.retain(|x| *x != id);
                    if ids.is_empty() {
                        self.by_entity.remove(&key);
                    }
                }
            }
        }
    }

    /// Drops a resolved incident and everything that points at it.
    fn forget(&mut self, id: IncidentId) {
        let Some(inc) = self.incidents.remove(&id) else {
            return;
        };
        self.unindex(id, &inc);
        self.rule_groups.retain(|_, x| *x != id);
        for fp in &inc.fingerprints {
            if self
                .alerts
                .get(fp)
                .is_some_and(|st| st.incident == id && !st.firing)
            {
                self.alerts.remove(fp);
            }
        }
    }
}
