//! The online miner.
//!
//! A line is masked (see `mask`) into constant words and variable runs ("gaps"). It joins the
//! most specific template whose constant positions all agree with its words (positions already
//! generalised to `<*>` accept any word); a shape cache makes that one hash lookup for lines
//! seen before. A line that fits no template is compared with its *siblings*: templates with the
//! same number of words that differ from it at a few positions only (at most `1 - similarity`
//! of them, as in Drain's similarity threshold — He et al., "Drain: An Online Log Parsing
//! Approach with Fixed Depth Tree", ICWS 2017). Only when those positions have shown at least
//! `min_variants` distinct words are the siblings folded into the oldest one with `<*>` there —
//! frequent alternatives such as `Started`/`Stopped` stay apart, many user names do not. This
//! follows Brain's observation that constants are the words that recur while variables vary
//! (Yu et al., "Brain: Log Parsing with Bidirectional Parallel Tree", IEEE TSC 2023), applied
//! online. Merged ids become aliases of the survivor; past `max_templates` the rarest tenth is
//! evicted and counted.

use crate::error::MinerError;
use crate::line::{
    IntMap, Scratch, covers, covers_pieces, note_gap_text, params, push_history, recycle,
    shape_hash, widen_gaps,
};
use crate::mask::{Piece, Word, pieces_into};
use crate::masked::{Masked, MaskedLines};
use crate::template::{Template, TemplateId, Token};
use crate::types::{Change, LineMatch, MinerConfig, MinerState, MinerStats, STATE_VERSION};
use std::collections::BTreeMap;

/// An online template miner. Feed it lines' content with [`Miner::add`].
#[derive(Debug, Clone)]
pub struct Miner {
    config: MinerConfig,
    templates: Vec<Template>,
    index: IntMap<TemplateId, usize>,
    by_len: IntMap<usize, Vec<TemplateId>>,
    /// Shape hash → template id and the slot it had in `templates` (checked on use).
    cache: IntMap<u64, (TemplateId, usize)>,
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
        self.add_inner(content, true)
    }

    /// Learns one line's content like [`Miner::add`], without extracting its parameters:
    /// for callers that keep only the template id (about a fifth less work per line).
    pub fn learn(&mut self, content: &str) -> (TemplateId, Change) {
        let m = self.add_inner(content, false);
        (m.id, m.change)
    }

    fn add_inner<'a>(&mut self, content: &'a str, with_params: bool) -> LineMatch<'a> {
        // Buffers are reused from line to line: no allocation for a line that fits a template.
        let mut pieces = std::mem::take(&mut self.scratch.pieces);
        let mut consts: Vec<Word<'a>> = recycle(std::mem::take(&mut self.scratch.consts));
        let mut gaps = std::mem::take(&mut self.scratch.gaps);
        pieces.clear();
        gaps.clear();
        pieces_into(
            content,
            self.config.max_tokens,
            &mut pieces,
            &mut consts,
            &mut gaps,
        );
        let hash = shape_hash(&consts);
        let m = self.mine(content, &pieces, Some(&consts), &gaps, hash, with_params);
        self.scratch.consts = recycle(consts);
        self.scratch.pieces = pieces;
        self.scratch.gaps = gaps;
        m
    }

    /// Learns line `k` of a block masked ahead (see [`MaskedLines`]), exactly as
    /// [`Miner::learn`] would learn its content; `None` if the block has no line `k`.
    pub fn learn_masked(&mut self, lines: &MaskedLines, k: usize) -> Option<(TemplateId, Change)> {
        let m = self.add_masked_inner(lines, k, false)?;
        Some((m.id, m.change))
    }

    /// Learns line `k` of a block masked ahead and returns its template and parameters,
    /// exactly as [`Miner::add`] would; `None` if the block has no line `k`.
    pub fn add_masked<'a>(&mut self, lines: &'a MaskedLines, k: usize) -> Option<LineMatch<'a>> {
        self.add_masked_inner(lines, k, true)
    }

    fn add_masked_inner<'a>(
        &mut self,
        lines: &'a MaskedLines,
        k: usize,
        with_params: bool,
    ) -> Option<LineMatch<'a>> {
        Some(match lines.get(k, self.config.max_tokens)? {
            Masked::Done {
                content,
                pieces,
                gaps,
                hash,
            } => self.mine(content, pieces, None, gaps, hash, with_params),
            Masked::Content(content) => self.add_inner(content, with_params),
        })
    }

    /// Learns a masked line: its template is found, generalised or created. `consts` are its
    /// constant words, or `None` to read them from its pieces (those that are not gaps) —
    /// which, for a line masked ahead, is cheaper than building them when the shape cache
    /// answers, as it does for almost every line.
    fn mine<'a>(
        &mut self,
        content: &'a str,
        pieces: &[Piece],
        consts: Option<&[Word<'_>]>,
        gaps: &[bool],
        hash: u64,
        with_params: bool,
    ) -> LineMatch<'a> {
        self.stats.lines += 1;
        let seq = self.stats.lines;
        let bytes = content.as_bytes();
        let cached = self.cached(hash, |tokens| match consts {
            Some(consts) => covers(tokens, consts),
            // A line has one gap flag more than it has words.
            None => covers_pieces(tokens, pieces, gaps.len() - 1, bytes),
        });
        let (id, change, slot) = match cached {
            Some(i) => self.count(i, gaps, seq),
            None => {
                let mut built: Vec<Word<'a>> = Vec::new();
                let consts = match consts {
                    Some(consts) => consts,
                    None => {
                        built = recycle(std::mem::take(&mut self.scratch.consts));
                        built.extend(pieces.iter().filter(|p| !p.gap).map(|p| p.word(bytes)));
                        &built
                    }
                };
                let found = match self.search(consts) {
                    Some(i) => self.count(i, gaps, seq),
                    None => {
                        let (id, change) = match self.siblings(consts) {
                            Some((family, wild)) => (
                                self.fold(family, &wild, consts, gaps, seq),
                                Change::Generalised,
                            ),
                            None => (self.create(consts, gaps.to_vec(), seq), Change::Created),
                        };
                        (id, change, self.index.get(&id).copied())
                    }
                };
                if built.capacity() > 0 {
                    self.scratch.consts = recycle(built);
                }
                if let Some(i) = found.2 {
                    self.remember(hash, found.0, i);
                }
                found
            }
        };
        let params = match slot {
            Some(i) => {
                note_gap_text(&mut self.templates[i], pieces, content);
                if with_params {
                    params(&self.templates[i], pieces, content)
                } else {
                    Vec::new()
                }
            }
            None => Vec::new(),
        };
        LineMatch { id, change, params }
    }

    /// Counts a line into template `i`, widening its variable runs to the line's.
    fn count(&mut self, i: usize, gaps: &[bool], seq: u64) -> (TemplateId, Change, Option<usize>) {
        let t = &mut self.templates[i];
        t.count += 1;
        t.last_seen = seq;
        let change = if widen_gaps(t, gaps, self.config.history) {
            Change::Generalised
        } else {
            Change::Unchanged
        };
        (t.id, change, Some(i))
    }

    /// The template `content` would join, without learning anything.
    pub fn find(&self, content: &str) -> Option<TemplateId> {
        let (mut pieces, mut consts, mut gaps) = (Vec::new(), Vec::new(), Vec::new());
        pieces_into(
            content,
            self.config.max_tokens,
            &mut pieces,
            &mut consts,
            &mut gaps,
        );
        self.find_consts(&consts).map(|i| self.templates[i].id)
    }

    /// The parameters of `content` under template `id` (following merges), without learning.
    /// Use it to re-extract parameters against a template's final, most general form.
    pub fn params_of<'a>(&self, id: TemplateId, content: &'a str) -> Option<Vec<&'a str>> {
        let &i = self.index.get(&self.resolve(id))?;
        let mut pieces = Vec::new();
        let (mut consts, mut gaps) = (Vec::new(), Vec::new());
        pieces_into(
            content,
            self.config.max_tokens,
            &mut pieces,
            &mut consts,
            &mut gaps,
        );
        Some(params(&self.templates[i], &pieces, content))
    }

    /// The index of the most specific template covering a line's constant words.
    fn find_consts(&self, consts: &[Word<'_>]) -> Option<usize> {
        self.cached(shape_hash(consts), |tokens| covers(tokens, consts))
            .or_else(|| self.search(consts))
    }

    /// The template the shape cache holds for a line's shape hash, if `covers` says it covers
    /// the line.
    fn cached(&self, hash: u64, covers: impl FnOnce(&[Token]) -> bool) -> Option<usize> {
        let &(id, slot) = self.cache.get(&hash)?;
        // Ids are never reused: the template still in its slot is the one cached.
        let i = match self.templates.get(slot) {
            Some(t) if t.id == id => Some(slot),
            _ => self.index.get(&self.resolve(id)).copied(),
        }?;
        covers(&self.templates[i].tokens).then_some(i)
    }

    /// The most specific template covering a line's constant words, searched for among those
    /// of its length.
    fn search(&self, consts: &[Word<'_>]) -> Option<usize> {
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
        best.map(|(_, i)| i)
    }

    /// Templates that differ from the line only at a few positions, where enough distinct words
    /// have been seen to call those positions variable: the ids to merge, oldest first, and the
    /// positions to make `<*>`.
    fn siblings(&self, consts: &[Word<'_>]) -> Option<(Vec<TemplateId>, Vec<usize>)> {
        let n = consts.len();
        // Siblings must share at least `similarity` of their words, and at least one.
        let max_diff = (((n as f64) * (1.0 - self.config.similarity)).floor() as usize)
            .min(n.saturating_sub(1));
        // Ordered, so that among equally good families the choice does not depend on a hash
        // seed (it did, with a `HashMap`): the one with the earliest differing positions wins.
        let mut families: BTreeMap<Vec<usize>, Vec<usize>> = BTreeMap::new();
        for id in self.by_len.get(&n).into_iter().flatten() {
            let Some(&i) = self.index.get(id) else {
                continue;
            };
            let tokens = &self.templates[i].tokens;
            // Counted first, stopping early: most templates of the length differ in too many
            // positions, and need no vector of them.
            let (mut differ, mut constant) = (0, 0);
            for (t, c) in tokens.iter().zip(consts) {
                if let Token::Const(s) = t {
                    constant += 1;
                    if !c.is(s) {
                        differ += 1;
                        if differ > max_diff {
                            break;
                        }
                    }
                }
            }
            if differ == 0 || differ > max_diff || constant == differ {
                continue;
            }
            let diff: Vec<usize> = tokens
                .iter()
                .zip(consts)
                .enumerate()
                .filter(|(_, (t, c))| matches!(t, Token::Const(s) if !c.is(s)))
                .map(|(p, _)| p)
                .collect();
            families.entry(diff).or_default().push(i);
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
                words.sort_unstable();
                words.dedup();
                let line_word_new = !words.iter().any(|w| consts[p].is(w));
                words.len() + usize::from(line_word_new) >= self.config.min_variants
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
        consts: &[Word<'_>],
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

    fn create(&mut self, consts: &[Word<'_>], gaps: Vec<bool>, seq: u64) -> TemplateId {
        let id = TemplateId(self.next_id);
        self.next_id += 1;
        self.stats.created += 1;
        let tokens = consts.iter().map(|c| Token::Const(c.to_boxed())).collect();
        let t = Template {
            id,
            tokens,
            gaps,
            gap_text: Vec::new(),
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
    fn remember(&mut self, hash: u64, id: TemplateId, slot: usize) {
        if self.cache.len() >= self.config.max_templates.saturating_mul(8).max(1024) {
            self.cache.clear();
        }
        self.cache.insert(hash, (id, slot));
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
        t.gap_text.resize(t.gaps.len(), String::new());
        for (mine, theirs) in t.gap_text.iter_mut().zip(old.gap_text) {
            if mine.is_empty() {
                *mine = theirs;
            }
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
