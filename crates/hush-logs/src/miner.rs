//! The online miner: a Drain-style search (He et al., "Drain: An Online Log Parsing Approach
//! with Fixed Depth Tree", ICWS 2017) over masked lines, with templates keyed by their number
//! of constant words and first word, that generalise in place, merge when they become equal,
//! and are evicted (rarest first) past a cap.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::MinerError;
use crate::mask::{Piece, WILDCARD, pieces};
use crate::template::{Template, TemplateId, Token};

/// Miner settings. One configuration serves every log source; nothing here is per system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MinerConfig {
    /// Fraction of constant positions a line must share with a template to join it (0..=1).
    pub similarity: f64,
    /// Templates kept; past it the rarest tenth is evicted.
    pub max_templates: usize,
    /// Tokens looked at per line; the rest of a longer line is one variable.
    pub max_tokens: usize,
    /// Earlier texts and merged ids remembered per template.
    pub history: usize,
}

impl Default for MinerConfig {
    fn default() -> Self {
        Self {
            similarity: 0.5,
            max_templates: 10_000,
            max_tokens: 256,
            history: 8,
        }
    }
}

impl MinerConfig {
    /// Checks every value is in range.
    pub fn validate(&self) -> Result<(), MinerError> {
        let bad = |name, reason: &str| {
            Err(MinerError::InvalidConfig {
                name,
                reason: reason.into(),
            })
        };
        if !(0.0..=1.0).contains(&self.similarity) {
            return bad("similarity", "must be within 0..=1");
        }
        if self.max_templates == 0 {
            return bad("max_templates", "must be at least 1");
        }
        if self.max_tokens < 2 {
            return bad("max_tokens", "must be at least 2");
        }
        Ok(())
    }
}

/// What learning a line did to its template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// The line started a new template.
    Created,
    /// The template became more general (its text changed; the id did not).
    Generalised,
    /// The template already covered the line.
    Unchanged,
}

/// The outcome of [`Miner::add`] for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineMatch<'a> {
    /// The line's template.
    pub id: TemplateId,
    /// What happened to that template.
    pub change: Change,
    /// The text behind each `<*>` of the template, in order, borrowed from the line (empty
    /// where the template has a variable this line lacks).
    pub params: Vec<&'a str>,
}

/// Counters over the miner's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinerStats {
    /// Lines learned.
    pub lines: u64,
    /// Templates created.
    pub created: u64,
    /// Templates merged into an older one.
    pub merged: u64,
    /// Templates evicted by the cap.
    pub evicted: u64,
}

/// Everything a [`Miner`] needs to resume: the wire and storage form of its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinerState {
    /// Format version of this structure.
    pub version: u32,
    /// The configuration in force.
    pub config: MinerConfig,
    /// The next id to hand out.
    pub next_id: u64,
    /// Counters.
    pub stats: MinerStats,
    /// The templates.
    pub templates: Vec<Template>,
}

const STATE_VERSION: u32 = 1;

/// An online template miner. Feed it lines' content with [`Miner::add`].
#[derive(Debug, Clone)]
pub struct Miner {
    config: MinerConfig,
    templates: Vec<Template>,
    index: HashMap<TemplateId, usize>,
    buckets: HashMap<u64, Vec<TemplateId>>,
    aliases: HashMap<TemplateId, TemplateId>,
    next_id: u64,
    stats: MinerStats,
}

impl Default for Miner {
    fn default() -> Self {
        Self::with_valid(MinerConfig::default())
    }
}

impl Miner {
    /// A miner with `config`, rejected if out of range.
    pub fn new(config: MinerConfig) -> Result<Self, MinerError> {
        config.validate()?;
        Ok(Self::with_valid(config))
    }

    fn with_valid(config: MinerConfig) -> Self {
        Self {
            config,
            templates: Vec::new(),
            index: HashMap::new(),
            buckets: HashMap::new(),
            aliases: HashMap::new(),
            next_id: 1,
            stats: MinerStats::default(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &MinerConfig {
        &self.config
    }

    /// Lifetime counters.
    pub fn stats(&self) -> MinerStats {
        self.stats
    }

    /// Number of live templates.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// Whether no template has been learned.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// The live templates, in no particular order.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.templates.iter()
    }

    /// The live template `id` refers to, following merges.
    pub fn template(&self, id: TemplateId) -> Option<&Template> {
        self.index
            .get(&self.resolve(id))
            .map(|&i| &self.templates[i])
    }

    /// The id that `id` is known by now: itself, or the template it was merged into.
    pub fn resolve(&self, id: TemplateId) -> TemplateId {
        self.aliases.get(&id).copied().unwrap_or(id)
    }

    /// Learns one line's content and returns its template and parameters.
    pub fn add<'a>(&mut self, content: &'a str) -> LineMatch<'a> {
        self.stats.lines += 1;
        let seq = self.stats.lines;
        let pieces = pieces(content, self.config.max_tokens);
        let (consts, gaps) = shape(&pieces);
        let (id, change) = match self.best(&consts) {
            Some(i) => {
                let t = &mut self.templates[i];
                t.count += 1;
                t.last_seen = seq;
                let id = t.id;
                if generalise(t, &consts, &gaps, self.config.history) {
                    (self.after_change(id), Change::Generalised)
                } else {
                    (id, Change::Unchanged)
                }
            }
            None => (self.create(&consts, gaps, seq), Change::Created),
        };
        let params = match self.index.get(&id) {
            Some(&i) => params(&self.templates[i], &pieces, content),
            None => Vec::new(),
        };
        LineMatch { id, change, params }
    }

    /// The template `content` would join, without learning anything.
    pub fn find(&self, content: &str) -> Option<TemplateId> {
        let pieces = pieces(content, self.config.max_tokens);
        let (consts, _) = shape(&pieces);
        self.best(&consts).map(|i| self.templates[i].id)
    }

    /// The parameters of `content` under template `id` (following merges), without learning.
    /// Use it to re-extract parameters against a template's final, most general form.
    pub fn params_of<'a>(&self, id: TemplateId, content: &'a str) -> Option<Vec<&'a str>> {
        let &i = self.index.get(&self.resolve(id))?;
        let pieces = pieces(content, self.config.max_tokens);
        Some(params(&self.templates[i], &pieces, content))
    }

    /// The index of the most similar template at or above the threshold.
    fn best(&self, consts: &[&str]) -> Option<usize> {
        let n = consts.len();
        let mut best: Option<(usize, usize, usize)> = None; // (equal, -wild as count, index)
        for key in [
            bucket_key(n, consts.first().copied()),
            bucket_key(n, Some(WILDCARD)),
        ] {
            for id in self.buckets.get(&key).into_iter().flatten() {
                let Some(&i) = self.index.get(id) else {
                    continue;
                };
                let t = &self.templates[i];
                if t.tokens.len() != n {
                    continue;
                }
                let (mut equal, mut wild) = (0, 0);
                for (tok, c) in t.tokens.iter().zip(consts) {
                    match tok {
                        Token::Wild => wild += 1,
                        Token::Const(s) if **s == **c => equal += 1,
                        Token::Const(_) => {}
                    }
                }
                let better = match best {
                    None => true,
                    Some((e, w, _)) => equal > e || equal == e && wild < w,
                };
                if better {
                    best = Some((equal, wild, i));
                }
            }
            if n == 0 {
                break;
            }
        }
        let (equal, wild, i) = best?;
        let sim = if n == 0 {
            1.0
        } else {
            (equal + wild) as f64 / n as f64
        };
        (sim >= self.config.similarity && (equal > 0 || n == 0 || wild == n)).then_some(i)
    }

    fn create(&mut self, consts: &[&str], gaps: Vec<bool>, seq: u64) -> TemplateId {
        let id = TemplateId(self.next_id);
        self.next_id += 1;
        self.stats.created += 1;
        let tokens = consts.iter().map(|c| Token::Const((*c).into())).collect();
        let t = Template {
            id,
            tokens,
            gaps,
            count: 1,
            first_seen: seq,
            last_seen: seq,
            history: Vec::new(),
            merged: Vec::new(),
        };
        self.buckets.entry(template_key(&t)).or_default().push(id);
        self.index.insert(id, self.templates.len());
        self.templates.push(t);
        if self.templates.len() > self.config.max_templates {
            self.evict(id);
        }
        id
    }

    /// Re-files a template whose text changed and merges it with an identical one.
    fn after_change(&mut self, id: TemplateId) -> TemplateId {
        self.unfile(id);
        let i = self.index[&id];
        let key = template_key(&self.templates[i]);
        let twin = self
            .buckets
            .get(&key)
            .into_iter()
            .flatten()
            .copied()
            .find(|other| {
                self.index
                    .get(other)
                    .is_some_and(|&j| self.templates[j].tokens == self.templates[i].tokens)
            });
        match twin {
            Some(other) => {
                let (keep, gone) = if other < id { (other, id) } else { (id, other) };
                if keep == id {
                    self.unfile(other);
                    self.buckets.entry(key).or_default().push(id);
                }
                self.merge(keep, gone);
                keep
            }
            None => {
                self.buckets.entry(key).or_default().push(id);
                id
            }
        }
    }

    /// Folds template `gone` (already out of the buckets) into `keep`.
    fn merge(&mut self, keep: TemplateId, gone: TemplateId) {
        let Some(old) = self.remove(gone) else { return };
        self.stats.merged += 1;
        let cap = self.config.history;
        for (&from, to) in self.aliases.iter_mut() {
            if *to == gone {
                *to = keep;
                let _ = from;
            }
        }
        self.aliases.insert(gone, keep);
        let i = self.index[&keep];
        let t = &mut self.templates[i];
        t.count += old.count;
        t.first_seen = t.first_seen.min(old.first_seen);
        t.last_seen = t.last_seen.max(old.last_seen);
        for (g, o) in t.gaps.iter_mut().zip(&old.gaps) {
            *g |= *o;
        }
        t.merged.push(gone);
        t.merged.extend(old.merged);
        let mut dropped = Vec::new();
        if t.merged.len() > cap {
            dropped = t.merged.drain(..t.merged.len() - cap).collect();
        }
        for d in dropped {
            self.aliases.remove(&d);
        }
    }

    /// Drops the rarest tenth of the templates (least recently seen first among equals), but
    /// never `keep`, the one just created.
    fn evict(&mut self, keep: TemplateId) {
        let target = self.config.max_templates - self.config.max_templates.div_ceil(10);
        let mut order: Vec<(u64, u64, TemplateId)> = self
            .templates
            .iter()
            .filter(|t| t.id != keep)
            .map(|t| (t.count, t.last_seen, t.id))
            .collect();
        let excess = self
            .templates
            .len()
            .saturating_sub(target.max(1))
            .min(order.len());
        if excess == 0 {
            return;
        }
        order.select_nth_unstable(excess - 1);
        for &(_, _, id) in &order[..excess] {
            self.unfile(id);
            self.remove(id);
            self.aliases.retain(|_, to| *to != id);
            self.stats.evicted += 1;
        }
    }

    fn unfile(&mut self, id: TemplateId) {
        for list in self.buckets.values_mut() {
            if let Some(p) = list.iter().position(|x| *x == id) {
                list.swap_remove(p);
                break;
            }
        }
        self.buckets.retain(|_, l| !l.is_empty());
    }

    fn remove(&mut self, id: TemplateId) -> Option<Template> {
        let i = self.index.remove(&id)?;
        let t = self.templates.swap_remove(i);
        if let Some(moved) = self.templates.get(i) {
            self.index.insert(moved.id, i);
        }
        Some(t)
    }

    /// The state to persist; [`Miner::from_state`] resumes from it.
    pub fn state(&self) -> MinerState {
        let mut templates = self.templates.clone();
        templates.sort_by_key(|t| t.id);
        MinerState {
            version: STATE_VERSION,
            config: self.config.clone(),
            next_id: self.next_id,
            stats: self.stats,
            templates,
        }
    }

    /// Resumes from a saved state, checking it is consistent.
    pub fn from_state(state: MinerState) -> Result<Self, MinerError> {
        let bad = |reason: String| Err(MinerError::InvalidState { reason });
        if state.version != STATE_VERSION {
            return bad(format!("unsupported version {}", state.version));
        }
        state.config.validate()?;
        let mut m = Self::with_valid(state.config);
        m.next_id = state.next_id;
        m.stats = state.stats;
        for t in state.templates {
            if t.gaps.len() != t.tokens.len() + 1 {
                return bad(format!(
                    "template {} has {} gaps for {} tokens",
                    t.id,
                    t.gaps.len(),
                    t.tokens.len()
                ));
            }
            if t.id.0 >= m.next_id || m.index.contains_key(&t.id) {
                return bad(format!(
                    "template id {} is duplicated or not below next_id",
                    t.id
                ));
            }
            for &g in &t.merged {
                m.aliases.insert(g, t.id);
            }
            m.buckets.entry(template_key(&t)).or_default().push(t.id);
            m.index.insert(t.id, m.templates.len());
            m.templates.push(t);
        }
        Ok(m)
    }
}

/// The constant words of a line and where its variable runs are.
fn shape<'p>(pieces: &'p [Piece<'_>]) -> (Vec<&'p str>, Vec<bool>) {
    let mut consts = Vec::with_capacity(pieces.len());
    let mut gaps = vec![false];
    for p in pieces {
        if p.gap {
            if let Some(last) = gaps.last_mut() {
                *last = true;
            }
        } else {
            consts.push(&*p.text);
            gaps.push(false);
        }
    }
    (consts, gaps)
}

/// Widens `t` to cover a line; returns whether its text changed (recording the old text).
fn generalise(t: &mut Template, consts: &[&str], gaps: &[bool], history: usize) -> bool {
    let differs = t
        .tokens
        .iter()
        .zip(consts)
        .any(|(tok, c)| matches!(tok, Token::Const(s) if **s != **c))
        || t.gaps.iter().zip(gaps).any(|(have, line)| *line && !*have);
    if !differs {
        return false;
    }
    let before = t.text();
    for (tok, c) in t.tokens.iter_mut().zip(consts) {
        if matches!(tok, Token::Const(s) if **s != **c) {
            *tok = Token::Wild;
        }
    }
    for (have, line) in t.gaps.iter_mut().zip(gaps) {
        *have |= *line;
    }
    if history > 0 {
        if t.history.len() >= history {
            t.history.remove(0);
        }
        t.history.push(before);
    }
    true
}

/// The parameters of a line under template `t`, aligned with the `<*>` of [`Template::text`].
fn params<'a>(t: &Template, pieces: &[Piece<'_>], content: &'a str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut run: Option<(usize, usize)> = None;
    let mut ci = 0;
    let flush = |out: &mut Vec<&'a str>, run: &mut Option<(usize, usize)>, ci: usize| {
        if t.gaps.get(ci).copied().unwrap_or(false) {
            out.push(run.map_or("", |(s, e)| &content[s..e]));
        }
        *run = None;
    };
    for p in pieces {
        if p.gap {
            run = Some(run.map_or(p.var, |(s, _)| (s, p.var.1)));
            continue;
        }
        flush(&mut out, &mut run, ci);
        match t.tokens.get(ci) {
            Some(Token::Wild) => out.push(&content[p.span.0..p.span.1]),
            Some(Token::Const(c)) => {
                for _ in 0..c.matches(WILDCARD).count() {
                    out.push(&content[p.var.0..p.var.1]);
                }
            }
            None => {}
        }
        ci += 1;
    }
    flush(&mut out, &mut run, ci);
    out
}

fn bucket_key(n: usize, first: Option<&str>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ n as u64;
    for &b in first.unwrap_or("").as_bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn template_key(t: &Template) -> u64 {
    match t.tokens.first() {
        None => bucket_key(0, None),
        Some(Token::Wild) => bucket_key(t.tokens.len(), Some(WILDCARD)),
        Some(Token::Const(c)) => bucket_key(t.tokens.len(), Some(c)),
    }
}
