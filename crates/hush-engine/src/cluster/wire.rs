//! What travels through the stream: series split by shard, each shard's share encoded as a
//! remote_write body (protobuf in a snappy block) small enough for one NATS message.
//!
//! remote_write is reused on purpose: it is already Hush's deliberate wire type for samples,
//! keeps stale markers and `-0.0` bit-exact, and any Prometheus tool can read a message.

use hush_ingest::{Limits, NonFinite};
use hush_model::{Labels, TimeSeries};

/// The shard of a series: its stable series id (xxh3 of the sorted labels, persisted and never
/// re-encoded) modulo the shard count, so every node sends a series to the same shard.
pub fn shard_of(labels: &Labels, shards: u32) -> u32 {
    (labels.series_id().0 % u64::from(shards.max(1))) as u32
}

/// Groups series by shard, keeping each series' samples together.
pub fn partition(series: Vec<TimeSeries>, shards: u32) -> Vec<(u32, Vec<TimeSeries>)> {
    let mut by: std::collections::BTreeMap<u32, Vec<TimeSeries>> = Default::default();
    for ts in series {
        if ts.samples.is_empty() {
            continue;
        }
        by.entry(shard_of(&ts.labels, shards)).or_default().push(ts);
    }
    by.into_iter().collect()
}

/// A series too large for one message even alone with one sample.
#[derive(Debug, thiserror::Error)]
#[error("series {labels} does not fit in a message of {max} bytes")]
pub struct TooLarge {
    pub labels: String,
    pub max: usize,
}

/// Protobuf bytes a series costs at most before compression (labels, 11 bytes per sample and
/// framing), to cut batches without encoding twice.
fn estimate(ts: &TimeSeries) -> usize {
    16 + ts
        .labels
        .iter()
        .map(|l| l.name.len() + l.value.len() + 8)
        .sum::<usize>()
        + ts.samples.len() * 22
}

/// Encodes one shard's series into message bodies of at most `max` bytes each.
pub fn encode(series: Vec<TimeSeries>, max: usize) -> Result<Vec<Vec<u8>>, TooLarge> {
    // Snappy expands incompressible input by at most n/6 + 32, so 3/4 of the limit in raw
    // protobuf always fits; the check after encoding is the guarantee.
    let budget = max / 4 * 3;
    let mut out = Vec::new();
    let mut group: Vec<TimeSeries> = Vec::new();
    let mut size = 0;
    for ts in series {
        for part in split_series(ts, budget) {
            let e = estimate(&part);
            if !group.is_empty() && size + e > budget {
                push_encoded(std::mem::take(&mut group), max, &mut out)?;
                size = 0;
            }
            size += e;
            group.push(part);
        }
    }
    if !group.is_empty() {
        push_encoded(group, max, &mut out)?;
    }
    Ok(out)
}

/// Cuts a series whose samples alone exceed the budget into several with the same labels.
fn split_series(ts: TimeSeries, budget: usize) -> Vec<TimeSeries> {
    let label_cost = estimate(&TimeSeries::new(ts.labels.clone(), Vec::new()));
    let per = (budget.saturating_sub(label_cost) / 22).max(1);
    if ts.samples.len() <= per {
        return vec![ts];
    }
    ts.samples
        .chunks(per)
        .map(|c| TimeSeries::new(ts.labels.clone(), c.to_vec()))
        .collect()
}

fn push_encoded(
    group: Vec<TimeSeries>,
    max: usize,
    out: &mut Vec<Vec<u8>>,
) -> Result<(), TooLarge> {
    let body = hush_ingest::encode_remote_write(&group);
    if body.len() <= max {
        out.push(body);
        return Ok(());
    }
    // The estimate was wrong (it should not be): halve until each part fits.
    if group.len() == 1 {
        let ts = &group[0];
        if ts.samples.len() <= 1 {
            return Err(TooLarge {
                labels: ts.labels.to_string(),
                max,
            });
        }
        let (a, b) = ts.samples.split_at(ts.samples.len() / 2);
        push_encoded(
            vec![TimeSeries::new(ts.labels.clone(), a.to_vec())],
            max,
            out,
        )?;
        return push_encoded(
            vec![TimeSeries::new(ts.labels.clone(), b.to_vec())],
            max,
            out,
        );
    }
    let mut a = group;
    let b = a.split_off(a.len() / 2);
    push_encoded(a, max, out)?;
    push_encoded(b, max, out)
}

/// Decodes a message body. The receiving node validated the samples against its own limits
/// already; the owner only refuses what is not well-formed, so one node's stricter limits can
/// never turn an acknowledged message into one no owner accepts.
pub fn decode(body: &[u8]) -> Result<Vec<TimeSeries>, hush_ingest::IngestError> {
    let limits = Limits {
        max_series_per_request: usize::MAX,
        max_samples_per_request: usize::MAX,
        max_labels_per_series: usize::MAX,
        max_label_name_len: usize::MAX,
        max_label_value_len: usize::MAX,
        max_decompressed_bytes: 256 << 20,
        non_finite: NonFinite::Drop,
    };
    hush_ingest::decode_remote_write(body, &limits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hush_model::Sample;

    fn series(i: usize, samples: usize) -> TimeSeries {
        let labels = Labels::from_pairs([
            ("__name__", "m".to_string()),
            ("i", i.to_string()),
            ("pad", "x".repeat(40)),
        ])
        .unwrap();
        TimeSeries::new(
            labels,
            (0..samples)
                .map(|t| Sample::new(t as i64 * 1000, (t * i) as f64 + 0.5))
                .collect(),
        )
    }

    #[test]
    fn shard_is_stable_and_spread() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "node")]).unwrap();
        // The persisted series id decides: the same labels, the same shard, on every node.
        assert_eq!(shard_of(&l, 16), (l.series_id().0 % 16) as u32);
        let same = Labels::from_pairs([("job", "node"), ("__name__", "up")]).unwrap();
        assert_eq!(shard_of(&same, 16), shard_of(&l, 16));
        assert_eq!(shard_of(&l, 1), 0);
        let mut counts = [0usize; 8];
        for i in 0..8000 {
            counts[shard_of(&series(i, 0).labels, 8) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c > 800), "{counts:?}");
    }

    #[test]
    fn partition_groups_by_shard_and_drops_empty_series() {
        let input: Vec<_> = (0..50)
            .map(|i| series(i, if i == 7 { 0 } else { 2 }))
            .collect();
        let parts = partition(input, 4);
        let total: usize = parts.iter().map(|(_, s)| s.len()).sum();
        assert_eq!(total, 49);
        for (shard, ss) in &parts {
            assert!(ss.iter().all(|s| shard_of(&s.labels, 4) == *shard));
        }
    }

    #[test]
    fn encode_respects_the_message_size_and_round_trips() {
        let mut input: Vec<_> = (0..300).map(|i| series(i, 20)).collect();
        input.push(series(1000, 5000)); // one series larger than a message on its own
        let max = 16 * 1024;
        let bodies = encode(input.clone(), max).unwrap();
        assert!(bodies.len() > 2);
        assert!(bodies.iter().all(|b| b.len() <= max));
        let mut back: Vec<TimeSeries> = bodies.iter().flat_map(|b| decode(b).unwrap()).collect();
        // Parts of one series come back as several series with the same labels, in order.
        let mut merged: Vec<TimeSeries> = Vec::new();
        for ts in back.drain(..) {
            match merged.last_mut() {
                Some(last) if last.labels == ts.labels => last.samples.extend(ts.samples),
                _ => merged.push(ts),
            }
        }
        assert_eq!(merged, input);
    }

    #[test]
    fn stale_markers_survive() {
        let stale = hush_ingest::stale_marker();
        let ts = TimeSeries::new(
            series(1, 0).labels,
            vec![Sample::new(5, stale), Sample::new(6, -0.0)],
        );
        let back = decode(&encode(vec![ts], 1 << 20).unwrap()[0]).unwrap();
        assert!(hush_ingest::is_stale_marker(back[0].samples[0].v));
        assert!(back[0].samples[1].v.is_sign_negative());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode(b"\xff\x00garbage").is_err());
    }
}
