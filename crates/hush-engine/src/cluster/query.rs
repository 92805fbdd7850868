//! Query fan-out: a node answering a query gathers the selected series from the owner of every
//! shard, so any node answers for the whole cluster.
//!
//! The asking node publishes one request (`<name>.query.select`: the matchers and the time
//! range) with a reply inbox; every node answers with the series of the shards it owns now,
//! in parts that fit a NATS message (`Hush-Part`, `Hush-Parts`, `Hush-Owned` headers). The
//! asker keeps, per shard, the answer of the first node that delivered all its parts, and
//! stops as soon as every shard is covered. Only owners answer for a shard, so a series whose
//! history a new owner replayed is not counted twice with what the old owner still holds.
//! A shard nobody answered for within `cluster.query_timeout` makes the result partial, and
//! the answer says which shards are missing (a Prometheus API `warnings` entry) rather than
//! being silently incomplete.
//!
//! Series and label lists ask for labels only, so owners send no samples for them.
//! Only the selection is distributed; the evaluator runs on the asking node. Pushing
//! aggregations down to the owners is not done yet.

use super::{Cluster, wire};
use crate::Engine;
use futures_util::StreamExt;
use hush_model::{Labels, MatchOp, Matcher, TimeSeries};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::watch;

const NODE_HEADER: &str = "Hush-Node";
const PART_HEADER: &str = "Hush-Part";
const PARTS_HEADER: &str = "Hush-Parts";
const OWNED_HEADER: &str = "Hush-Owned";
const ERROR_HEADER: &str = "Hush-Error";

#[derive(serde::Serialize, serde::Deserialize)]
struct SelectRequest {
    /// (name, op, value), op as in PromQL.
    matchers: Vec<(String, String, String)>,
    start: i64,
    end: i64,
    /// Only the series' labels (`/api/v1/series`, label lists): owners send no samples.
    #[serde(default)]
    labels_only: bool,
}

fn op_name(op: MatchOp) -> &'static str {
    match op {
        MatchOp::Equal => "=",
        MatchOp::NotEqual => "!=",
        MatchOp::Regex => "=~",
        MatchOp::NotRegex => "!~",
    }
}

fn op_of(s: &str) -> Option<MatchOp> {
    Some(match s {
        "=" => MatchOp::Equal,
        "!=" => MatchOp::NotEqual,
        "=~" => MatchOp::Regex,
        "!~" => MatchOp::NotRegex,
        _ => return None,
    })
}

/// What a fan-out gathered: the series, and a warning per missing part of the answer.
pub struct Gathered {
    pub series: Vec<TimeSeries>,
    pub warnings: Vec<String>,
}

/// One node's answer being assembled.
#[derive(Default)]
struct Answer {
    owned: Vec<u32>,
    parts: Option<usize>,
    got: BTreeMap<usize, Vec<TimeSeries>>,
}

impl Cluster {
    /// The series matching `matchers` in `[start, end]` across the cluster, each from its
    /// shard's owner; shards no owner answered for are named in the warnings.
    pub async fn select(&self, matchers: &[Matcher], start: i64, end: i64) -> Gathered {
        self.gather(matchers, start, end, false).await
    }

    /// As [`Cluster::select`], labels only: every series comes without samples.
    pub async fn series(&self, matchers: &[Matcher], start: i64, end: i64) -> Gathered {
        self.gather(matchers, start, end, true).await
    }

    async fn gather(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        labels_only: bool,
    ) -> Gathered {
        let req = SelectRequest {
            matchers: matchers
                .iter()
                .map(|m| (m.name.clone(), op_name(m.op).to_string(), m.value.clone()))
                .collect(),
            start,
            end,
            labels_only,
        };
        let all: BTreeSet<u32> = (0..self.config.shards).collect();
        let missing_all = |why: String| Gathered {
            series: Vec::new(),
            warnings: vec![format!(
                "partial result: no shard answered ({why}); {} shards missing",
                all.len()
            )],
        };
        let body = match serde_json::to_vec(&req) {
            Ok(b) => b,
            Err(e) => return missing_all(e.to_string()),
        };
        let inbox = self.client.new_inbox();
        let mut sub = match self.client.subscribe(inbox.clone()).await {
            Ok(s) => s,
            Err(e) => return missing_all(e.to_string()),
        };
        if let Err(e) = self
            .client
            .publish_with_reply(self.config.query_subject(), inbox, body.into())
            .await
        {
            return missing_all(e.to_string());
        }
        let mut answers: HashMap<String, Answer> = HashMap::new();
        // Shard → the node whose complete answer covers it.
        let mut covered: BTreeMap<u32, String> = BTreeMap::new();
        let mut warnings = Vec::new();
        let deadline = tokio::time::Instant::now() + self.config.query_timeout.0;
        while covered.len() < all.len() {
            let msg = tokio::select! {
                m = sub.next() => match m { Some(m) => m, None => break },
                _ = tokio::time::sleep_until(deadline) => break,
            };
            let Some(h) = msg.headers.as_ref() else {
                continue;
            };
            let get = |k: &str| h.get(k).map(|v| v.as_str().to_string());
            let Some(node) = get(NODE_HEADER) else {
                continue;
            };
            if let Some(e) = get(ERROR_HEADER) {
                warnings.push(format!("node {node} could not answer: {e}"));
                continue;
            }
            let part: usize = get(PART_HEADER).and_then(|p| p.parse().ok()).unwrap_or(0);
            let parts: usize = get(PARTS_HEADER).and_then(|p| p.parse().ok()).unwrap_or(1);
            let owned: Vec<u32> = get(OWNED_HEADER)
                .unwrap_or_default()
                .split(',')
                .filter_map(|s| s.parse().ok())
                .collect();
            let series = if msg.payload.is_empty() {
                Vec::new()
            } else {
                let decoded = if labels_only {
                    serde_json::from_slice::<Vec<Labels>>(&msg.payload)
                        .map(|ls| {
                            ls.into_iter()
                                .map(|l| TimeSeries::new(l, Vec::new()))
                                .collect()
                        })
                        .map_err(|e| e.to_string())
                } else {
                    wire::decode(&msg.payload).map_err(|e| e.to_string())
                };
                match decoded {
                    Ok(s) => s,
                    Err(e) => {
                        warnings.push(format!("undecodable answer from node {node}: {e}"));
                        continue;
                    }
                }
            };
            let a = answers.entry(node.clone()).or_default();
            a.owned = owned;
            a.parts = Some(parts);
            a.got.insert(part, series);
            if a.got.len() == parts {
                for s in &a.owned {
                    covered.entry(*s).or_insert_with(|| node.clone());
                }
            }
        }
        let _ = sub.unsubscribe().await;
        let mut series = Vec::new();
        for (node, a) in answers {
            if a.parts != Some(a.got.len()) {
                continue;
            }
            for ts in a.got.into_values().flatten() {
                let shard = wire::shard_of(&ts.labels, self.config.shards);
                // A shard two nodes claimed while it moved is taken from one of them only.
                if covered.get(&shard) == Some(&node) {
                    series.push(ts);
                }
            }
        }
        let missing: Vec<u32> = all
            .iter()
            .filter(|s| !covered.contains_key(s))
            .copied()
            .collect();
        if !missing.is_empty() {
            warnings.push(format!(
                "partial result: shards {missing:?} of {} had no owner answering within {:?} (owner down or moving)",
                all.len(),
                self.config.query_timeout.0
            ));
        }
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        Gathered { series, warnings }
    }
}

/// Answers other nodes' selections with the series of the shards this node owns, until `stop`.
pub(crate) async fn serve(engine: Arc<Engine>, mut stop: watch::Receiver<bool>) {
    let Some(cluster) = engine.cluster.clone() else {
        return;
    };
    let mut sub = match cluster
        .client
        .subscribe(cluster.config.query_subject())
        .await
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "subscribing to queries failed; this node's shards cannot be queried from others");
            return;
        }
    };
    let mut answering = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            m = sub.next() => match m {
                Some(m) => { answering.spawn(answer(engine.clone(), cluster.clone(), m)); }
                None => break,
            },
            _ = stop.changed() => break,
        }
        while answering.try_join_next().is_some() {}
    }
    let _ = sub.unsubscribe().await;
    answering.abort_all();
}

/// Label sets as JSON arrays in bodies of at most `max` bytes (remote_write drops series
/// without samples, so labels-only answers travel as JSON).
fn encode_labels(labels: &[Labels], max: usize) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut group: Vec<&Labels> = Vec::new();
    let mut size = 2;
    for l in labels {
        // JSON quoting may double a value's bytes; the length check below is the guarantee.
        let e = 8 + l
            .iter()
            .map(|x| 2 * (x.name.len() + x.value.len()) + 8)
            .sum::<usize>();
        if !group.is_empty() && size + e > max {
            out.push(serde_json::to_vec(&group).map_err(|e| e.to_string())?);
            group.clear();
            size = 2;
        }
        size += e;
        group.push(l);
    }
    if !group.is_empty() {
        out.push(serde_json::to_vec(&group).map_err(|e| e.to_string())?);
    }
    match out.iter().find(|b| b.len() > max) {
        Some(b) => Err(format!(
            "a label set does not fit in a message ({} bytes)",
            b.len()
        )),
        None => Ok(out),
    }
}

async fn answer(engine: Arc<Engine>, cluster: Arc<Cluster>, m: async_nats::Message) {
    let Some(reply) = m.reply else {
        return;
    };
    let node = cluster.config.node_id.clone();
    // Ownership is read before the store, so what is returned is at least what the owner
    // held when it claimed the shards; shards still replaying their history are not answered.
    let owned = cluster.answerable();
    let owned_header = owned
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let result = match serde_json::from_slice::<SelectRequest>(&m.payload) {
        Ok(req) => {
            let matchers: Result<Vec<Matcher>, String> = req
                .matchers
                .into_iter()
                .map(|(n, op, v)| {
                    let op = op_of(&op).ok_or_else(|| format!("unknown matcher op `{op}`"))?;
                    Matcher::new(op, n, v).map_err(|e| e.to_string())
                })
                .collect();
            match matchers {
                Ok(ms) => {
                    let store = engine.store.clone();
                    let shards = cluster.config.shards;
                    let own: BTreeSet<u32> = owned.iter().copied().collect();
                    let max = cluster.max_message;
                    tokio::task::spawn_blocking(move || {
                        if req.labels_only {
                            let mut labels = store
                                .series(&ms, req.start, req.end)
                                .map_err(|e| e.to_string())?;
                            labels.retain(|l| own.contains(&wire::shard_of(l, shards)));
                            return encode_labels(&labels, max);
                        }
                        let mut series = store
                            .select(&ms, req.start, req.end)
                            .map_err(|e| e.to_string())?;
                        series.retain(|ts| own.contains(&wire::shard_of(&ts.labels, shards)));
                        wire::encode(series, max).map_err(|e| e.to_string())
                    })
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()))
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(format!("undecodable selection: {e}")),
    };
    let send = |part: usize, parts: usize, body: Vec<u8>, error: Option<&str>| {
        let mut h = async_nats::HeaderMap::new();
        h.insert(NODE_HEADER, node.as_str());
        h.insert(PART_HEADER, part.to_string().as_str());
        h.insert(PARTS_HEADER, parts.to_string().as_str());
        h.insert(OWNED_HEADER, owned_header.as_str());
        if let Some(e) = error {
            h.insert(ERROR_HEADER, e);
        }
        let client = cluster.client.clone();
        let reply = reply.clone();
        async move { client.publish_with_headers(reply, h, body.into()).await }
    };
    let sent = match result {
        Ok(bodies) if bodies.is_empty() => send(0, 1, Vec::new(), None).await,
        Ok(bodies) => {
            let n = bodies.len();
            let mut r = Ok(());
            for (i, b) in bodies.into_iter().enumerate() {
                r = send(i, n, b, None).await;
                if r.is_err() {
                    break;
                }
            }
            r
        }
        Err(e) => {
            // Header values cannot hold line breaks.
            let e = e.replace(['\r', '\n'], " ");
            send(0, 1, Vec::new(), Some(&e)).await
        }
    };
    if let Err(e) = sent {
        tracing::warn!(error = %e, "answering a query failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_answers_split_to_fit_and_read_back_whole() {
        let labels: Vec<Labels> = (0..200)
            .map(|i| {
                Labels::from_pairs([("__name__", "m".to_string()), ("i", format!("{i:040}"))])
                    .unwrap()
            })
            .collect();
        let bodies = encode_labels(&labels, 1024).unwrap();
        assert!(bodies.len() > 1);
        assert!(bodies.iter().all(|b| b.len() <= 1024));
        let back: Vec<Labels> = bodies
            .iter()
            .flat_map(|b| serde_json::from_slice::<Vec<Labels>>(b).unwrap())
            .collect();
        assert_eq!(back, labels);
        // One label set larger than a message is an error, not a truncated answer.
        let huge = Labels::from_pairs([("big", "x".repeat(2000))]).unwrap();
        assert!(encode_labels(&[huge], 1024).is_err());
        assert!(encode_labels(&[], 1024).unwrap().is_empty());
    }
}
