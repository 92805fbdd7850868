//! The online miner: a Drain-style search (He et al., "Drain: An Online Log Parsing Approach
//! with Fixed Depth Tree", ICWS 2017) over masked lines, with templates keyed by their number
//! of constant words and first word, that generalise in place, merge when they become equal,
//! and are evicted (rarest first) past a cap.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::MinerError;
use crate::mask::{Piece, pieces_into};
use crate::template::{Template, TemplateId, Token};

/// Miner settings. One configuration serves every log source; nothing here is per system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MinerConfig {
    /// Fraction of constant positions sibling templates must share to be merged (0..=1).
    pub similarity: f64,
    /// Distinct words seen at a position before it is taken for a variable (at least 2).
    pub min_variants: usize,
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
            similarity: 0.6,
            min_variants: 5,
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
        if self.min_variants < 2 {
            return bad("min_variants", "must be at least 2");
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
    index: IntMap<TemplateId, usize>,
    by_len: IntMap<usize, Vec<TemplateId>>,
    cache: IntMap<u64, TemplateId>,
    aliases: IntMap<TemplateId, TemplateId>,
    scratch: Scratch,
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
            index: IntMap::default(),
            by_len: IntMap::default(),
            cache: IntMap::default(),
            aliases: IntMap::default(),
            scratch: Scratch::default(),
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
        // Buffers are reused from line to line: no allocation for a line that fits a template.
        let mut pieces: Vec<Piece<'a>> = recycle(std::mem::take(&mut self.scratch.pieces));
        pieces_into(content, self.config.max_tokens, &mut pieces);
        let mut consts: Vec<&str> = recycle(std::mem::take(&mut self.scratch.consts));
        let mut gaps = std::mem::take(&mut self.scratch.gaps);
        shape_into(&pieces, &mut consts, &mut gaps);
        let hash = shape_hash(&consts);
        let (found, cached) = self.find_hashed(&consts, hash);
        let (id, change) = match found {
            Some(i) => {
                let t = &mut self.templates[i];
                t.count += 1;
                t.last_seen = seq;
                let id = t.id;
                if widen_gaps(t, &gaps, self.config.history) {
                    (id, Change::Generalised)
                } else {
                    (id, Change::Unchanged)
                }
            }
            None => match self.siblings(&consts) {
                Some((family, wild)) => (
                    self.fold(family, &wild, &consts, &gaps, seq),
                    Change::Generalised,
                ),
                None => (self.create(&consts, gaps.clone(), seq), Change::Created),
            },
        };
        if !cached {
            self.remember(hash, id);
        }
        let params = match self.index.get(&id) {
            Some(&i) => params(&self.templates[i], &pieces, content),
            None => Vec::new(),
        };
        self.scratch.consts = recycle(consts);
        self.scratch.pieces = recycle(pieces);
        self.scratch.gaps = gaps;
        LineMatch { id, change, params }
    }

    /// The template `content` would join, without learning anything.
    pub fn find(&self, content: &str) -> Option<TemplateId> {
        let mut pieces = Vec::new();
        pieces_into(content, self.config.max_tokens, &mut pieces);
        let (mut consts, mut gaps) = (Vec::new(), Vec::new());
        shape_into(&pieces, &mut consts, &mut gaps);
        self.find_consts(&consts).map(|i| self.templates[i].id)
    }

    /// The parameters of `content` under template `id` (following merges), without learning.
    /// Use it to re-extract parameters against a template's final, most general form.
    pub fn params_of<'a>(&self, id: TemplateId, content: &'a str) -> Option<Vec<&'a str>> {
        let &i = self.index.get(&self.resolve(id))?;
        let mut pieces = Vec::new();
        pieces_into(content, self.config.max_tokens, &mut pieces);
        Some(params(&self.templates[i], &pieces, content))
    }

    /// The index of the most specific template covering a line's constant words.
    fn find_consts(&self, consts: &[&str]) -> Option<usize> {
        self.find_hashed(consts, shape_hash(consts)).0
    }

    /// [`Self::find_consts`] with the shape's hash known; also says whether the shape cache
    /// answered.
    fn find_hashed(&self, consts: &[&str], hash: u64) -> (Option<usize>, bool) {
        if let Some(id) = self.cache.get(&hash)
            && let Some(&i) = self.index.get(&self.resolve(*id))
            && covers(&self.templates[i].tokens, consts)
        {
            return (Some(i), true);
        }
        let mut best: Option<(usize, usize)> = None; // (wildcards, index)
        for id in self.by_len.get(&consts.len()).into_iter().flatten() {
            let Some(&i) = self.index.get(id) else {
                continue;
            };
            let t = &self.templates[i];
            if covers(&t.tokens, consts) {
                let wild = t.tokens.iter().filter(|t| **t == Token::Wild).count();
                if best.is_none_or(|(w, _)| wild < w) {
                    best = Some((wild, i));
                }
            }
        }
        (best.map(|(_, i)| i), false)
    }

    /// Templates that differ from the line only at a few positions, where enough distinct words
    /// have been seen to call those positions variable: the ids to merge, oldest first, and the
    /// positions to make `<*>`.
    fn siblings(&self, consts: &[&str]) -> Option<(Vec<TemplateId>, Vec<usize>)> {
        let n = consts.len();
        // Siblings must share at least `similarity` of their words, and at least one.
        let max_diff = (((n as f64) * (1.0 - self.config.similarity)).floor() as usize)
            .min(n.saturating_sub(1));
        let mut families: HashMap<Vec<usize>, Vec<usize>> = HashMap::new();
        for id in self.by_len.get(&n).into_iter().flatten() {
            let Some(&i) = self.index.get(id) else {
                continue;
            };
            let diff: Vec<usize> = self.templates[i]
                .tokens
                .iter()
                .zip(consts)
                .enumerate()
                .filter(|(_, (t, c))| matches!(t, Token::Const(s) if **s != ***c))
                .map(|(p, _)| p)
                .collect();
            let shared = self.templates[i]
                .tokens
                .iter()
                .filter(|t| matches!(t, Token::Const(_)))
                .count()
                - diff.len();
            if !diff.is_empty() && diff.len() <= max_diff && shared > 0 {
                families.entry(diff).or_default().push(i);
            }
        }
        let mut best: Option<(usize, usize, Vec<usize>, Vec<usize>)> = None;
        for (diff, members) in families {
            let varied = diff.iter().all(|&p| {
                let mut words: Vec<&str> = members
                    .iter()
                    .filter_map(|&i| match &self.templates[i].tokens[p] {
                        Token::Const(s) => Some(&**s),
                        Token::Wild => None,
                    })
                    .collect();
                words.push(consts[p]);
                words.sort_unstable();
                words.dedup();
                words.len() >= self.config.min_variants
            });
            if !varied {
                continue;
            }
            let better = best.as_ref().is_none_or(|(d, m, _, _)| {
                diff.len() < *d || diff.len() == *d && members.len() > *m
            });
            if better {
                best = Some((diff.len(), members.len(), diff, members));
            }
        }
        let (_, _, diff, members) = best?;
        let mut ids: Vec<TemplateId> = members.iter().map(|&i| self.templates[i].id).collect();
        ids.sort_unstable();
        Some((ids, diff))
    }

    /// Merges `family` (oldest first) into its oldest member, with `wild` positions made `<*>`,
    /// adds the line to it, and absorbs every other template the result now covers.
    fn fold(
        &mut self,
        family: Vec<TemplateId>,
        wild: &[usize],
        consts: &[&str],
        gaps: &[bool],
        seq: u64,
    ) -> TemplateId {
        let keep = family[0];
        let Some(&i) = self.index.get(&keep) else {
            return self.create(consts, gaps.to_vec(), seq);
        };
        let history = self.config.history;
        let t = &mut self.templates[i];
        let before = t.text();
        for &p in wild {
            if let Some(tok) = t.tokens.get_mut(p) {
                *tok = Token::Wild;
            }
        }
        for (have, line) in t.gaps.iter_mut().zip(gaps) {
            *have |= *line;
        }
        t.count += 1;
        t.last_seen = seq;
        push_history(t, before, history);
        for &gone in &family[1..] {
            self.merge(keep, gone);
        }
        // Templates the widened one now covers are the same event.
        let tokens = self.templates[self.index[&keep]].tokens.clone();
        let covered: Vec<TemplateId> = self
            .by_len
            .get(&tokens.len())
            .into_iter()
            .flatten()
            .copied()
            .filter(|&other| {
                other != keep
                    && self.index.get(&other).is_some_and(|&j| {
                        let o = &self.templates[j].tokens;
                        tokens
                            .iter()
                            .zip(o)
                            .all(|(a, b)| *a == Token::Wild || a == b)
                    })
            })
            .collect();
        let mut keep = keep;
        for other in covered {
            if other < keep {
                // The older id survives: move the widened tokens onto it.
                let j = self.index[&other];
                self.templates[j].tokens = tokens.clone();
                self.merge(other, keep);
                keep = other;
            } else {
                self.merge(keep, other);
            }
        }
        keep
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
        self.file(&t);
        self.index.insert(id, self.templates.len());
        self.templates.push(t);
        if self.templates.len() > self.config.max_templates {
            self.evict(id);
        }
        id
    }

    /// Caches the line shape's template so the next identical shape is found in one lookup.
    fn remember(&mut self, hash: u64, id: TemplateId) {
        if self.cache.len() >= self.config.max_templates.saturating_mul(8).max(1024) {
            self.cache.clear();
        }
        self.cache.insert(hash, id);
    }

    /// Folds template `gone` into `keep`; `gone`'s id becomes an alias of `keep`.
    fn merge(&mut self, keep: TemplateId, gone: TemplateId) {
        if keep == gone || !self.index.contains_key(&keep) {
            return;
        }
        let Some(old) = self.remove(gone) else { return };
        self.stats.merged += 1;
        let cap = self.config.history;
        for to in self.aliases.values_mut() {
            if *to == gone {
                *to = keep;
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
        for (a, b) in t.tokens.iter_mut().zip(&old.tokens) {
            if a != b {
                *a = Token::Wild;
            }
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
        let gone: std::collections::HashSet<TemplateId> =
            order[..excess].iter().map(|o| o.2).collect();
        for &id in &gone {
            self.remove(id);
            self.stats.evicted += 1;
        }
        self.aliases.retain(|_, to| !gone.contains(to));
        for list in self.by_len.values_mut() {
            list.retain(|id| !gone.contains(id));
        }
        self.by_len.retain(|_, l| !l.is_empty());
    }

    fn file(&mut self, t: &Template) {
        self.by_len.entry(t.tokens.len()).or_default().push(t.id);
    }

    fn remove(&mut self, id: TemplateId) -> Option<Template> {
        let i = self.index.remove(&id)?;
        let t = self.templates.swap_remove(i);
        if let Some(moved) = self.templates.get(i) {
            self.index.insert(moved.id, i);
        }
        if let Some(list) = self.by_len.get_mut(&t.tokens.len()) {
            list.retain(|x| *x != id);
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
            m.file(&t);
            m.index.insert(t.id, m.templates.len());
            m.templates.push(t);
        }
        Ok(m)
    }
}

/// The constant words of a line and where its variable runs are (into cleared buffers).
fn shape_into<'p>(pieces: &'p [Piece<'_>], consts: &mut Vec<&'p str>, gaps: &mut Vec<bool>) {
    consts.clear();
    gaps.clear();
    gaps.push(false);
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
}

/// Empties `v` and hands its allocation to a vector of the same layout but another lifetime
/// (the standard library collects a mapped `IntoIter` in place), so per-line buffers that
/// borrow the line can be kept between lines.
fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

/// Per-line buffers kept between lines; always empty between calls.
#[derive(Debug, Clone, Default)]
struct Scratch {
    pieces: Vec<Piece<'static>>,
    consts: Vec<&'static str>,
    gaps: Vec<bool>,
}

/// Adds the line's variable runs to `t`; returns whether its text changed.
fn widen_gaps(t: &mut Template, gaps: &[bool], history: usize) -> bool {
    if !t.gaps.iter().zip(gaps).any(|(have, line)| *line && !*have) {
        return false;
    }
    let before = t.text();
    for (have, line) in t.gaps.iter_mut().zip(gaps) {
        *have |= *line;
    }
    push_history(t, before, history);
    true
}

fn push_history(t: &mut Template, before: String, history: usize) {
    if history > 0 && t.text() != before {
        if t.history.len() >= history {
            t.history.remove(0);
        }
        t.history.push(before);
    }
}

/// Whether a template's tokens accept a line's constant words.
fn covers(tokens: &[Token], consts: &[&str]) -> bool {
    tokens.len() == consts.len()
        && tokens.iter().zip(consts).all(|(t, c)| match t {
            Token::Wild => true,
            Token::Const(s) => **s == **c,
        })
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
            let (vs, ve) = p.var.unwrap_or(p.span);
            run = Some(run.map_or((vs, ve), |(s, _)| (s, ve)));
            continue;
        }
        flush(&mut out, &mut run, ci);
        match t.tokens.get(ci) {
            Some(Token::Wild) => out.push(&content[p.span.0..p.span.1]),
            // A constant covering this piece has the piece's text, so one `<*>` per masked part.
            Some(Token::Const(_)) => out.extend(p.var.map(|(s, e)| &content[s..e])),
            None => {}
        }
        ci += 1;
    }
    flush(&mut out, &mut run, ci);
    out
}

/// A map keyed by integers (ids, lengths, hashes): no need for SipHash's flood resistance,
/// the keys are not chosen by the input's author (shape hashes are verified on use).
type IntMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IntHasher>>;

/// Multiplicative hashing of one integer (Fibonacci hashing).
#[derive(Default)]
struct IntHasher(u64);

impl std::hash::Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A hash of the constant words (with their count and boundaries), eight bytes at a time:
/// the key of the shape cache. Hits are verified, so collisions only cost a search.
fn shape_hash(consts: &[&str]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h: u64 = consts.len() as u64;
    for c in consts {
        let bytes = c.as_bytes();
        let mut chunks = bytes.chunks_exact(8);
        for ch in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(ch);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        let mut w = [0u8; 8];
        let rest = chunks.remainder();
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w) ^ (bytes.len() as u64) << 56).wrapping_mul(K);
    }
    h ^ (h >> 29)
}
