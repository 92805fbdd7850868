//! Store behaviour through its public API: durability across reopen, flush and compaction,
//! out-of-order handling, retention and selection.

use hush_model::{Labels, MatchOp, Matcher, Sample, TimeSeries};
use hush_store::{Options, RejectReason, Store};

fn labels(job: &str, inst: &str) -> Labels {
    Labels::from_pairs([("__name__", "x"), ("job", job), ("instance", inst)]).unwrap()
}

fn series(job: &str, inst: &str, pts: &[(i64, f64)]) -> TimeSeries {
    TimeSeries::new(
        labels(job, inst),
        pts.iter().map(|&(t, v)| Sample::new(t, v)).collect(),
    )
}

fn all(store: &Store) -> Vec<TimeSeries> {
    let mut v = store
        .select(&[Matcher::equal("__name__", "x")], i64::MIN, i64::MAX)
        .unwrap();
    v.sort_by(|a, b| a.labels.cmp(&b.labels));
    v
}

const H: i64 = 3_600_000;

#[test]
fn survives_reopen_flush_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    {
        let store = Store::open(dir.path(), Options::default()).unwrap();
        // Three flushes' worth of data within one day, then a later day so the first is "done".
        for part in 0..3i64 {
            let pts: Vec<(i64, f64)> = (0..240)
                .map(|i| (part * 8 * H + i * 15_000, (part * 1000 + i) as f64))
                .collect();
            expected.extend(pts.iter().copied());
            let o = store
                .append_blocking(vec![series("node", "a", &pts)])
                .unwrap();
            assert_eq!(o.stored, 240);
            store.flush().unwrap();
        }
        let tail: Vec<(i64, f64)> = (0..10).map(|i| (50 * H + i * 15_000, i as f64)).collect();
        expected.extend(tail.iter().copied());
        store
            .append_blocking(vec![series("node", "a", &tail)])
            .unwrap();
        assert_eq!(store.stats().blocks, 3);
        let r = store.compact().unwrap();
        assert_eq!(r.blocks_merged, 3);
        assert_eq!(store.stats().blocks, 1);
        assert_eq!(all(&store)[0].samples.len(), expected.len());
    }
    // Reopen: blocks plus the WAL tail, nothing lost, nothing doubled.
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let got = all(&store);
    assert_eq!(got.len(), 1);
    let got: Vec<(i64, f64)> = got[0].samples.iter().map(|s| (s.t, s.v)).collect();
    assert_eq!(got, expected);
}

#[test]
fn out_of_order_window_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    store
        .append_blocking(vec![series("a", "1", &[(20 * 60_000, 1.0)])])
        .unwrap();
    // 5 minutes late: inside the default 10-minute window.
    let o = store
        .append_blocking(vec![series("a", "1", &[(15 * 60_000, 2.0)])])
        .unwrap();
    assert_eq!(o.stored, 1);
    // 15 minutes late: too old.
    let o = store
        .append_blocking(vec![series("a", "1", &[(5 * 60_000, 3.0)])])
        .unwrap();
    assert_eq!(o.rejected.get(&RejectReason::TooOld), Some(&1));
    let (l, s, why) = o.first_rejection.unwrap();
    assert_eq!(
        (l, s.t, why),
        (labels("a", "1"), 5 * 60_000, RejectReason::TooOld)
    );
    // A retry of the same sample is fine; a conflicting value is not.
    let o = store
        .append_blocking(vec![series("a", "1", &[(20 * 60_000, 1.0)])])
        .unwrap();
    assert_eq!((o.stored, o.duplicates), (0, 1));
    let o = store
        .append_blocking(vec![series("a", "1", &[(20 * 60_000, 9.0)])])
        .unwrap();
    assert_eq!(o.rejected.get(&RejectReason::DuplicateTimestamp), Some(&1));
    let stats = store.stats();
    assert!(stats.rejected.contains(&("too_old", 1)));
    assert!(stats.rejected.contains(&("duplicate_timestamp", 1)));
    assert_eq!(
        all(&store)[0]
            .samples
            .iter()
            .map(|s| s.v)
            .collect::<Vec<_>>(),
        [2.0, 1.0]
    );
}

#[test]
fn selection_and_label_api() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    store
        .append_blocking(vec![
            series("node", "a", &[(1000, 1.0), (2000, 2.0)]),
            series("node", "b", &[(1000, 3.0)]),
            series("api", "a", &[(5000, 4.0)]),
        ])
        .unwrap();
    let m = |op, n: &str, v: &str| Matcher::new(op, n, v).unwrap();
    let got = store
        .select(
            &[
                m(MatchOp::Equal, "job", "node"),
                m(MatchOp::NotEqual, "instance", "b"),
            ],
            0,
            10_000,
        )
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].samples.len(), 2);
    // Time range is inclusive at both ends and omits series without samples in it.
    let got = store
        .select(&[m(MatchOp::Regex, "job", ".+")], 2000, 5000)
        .unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(
        store
            .series(&[m(MatchOp::Equal, "job", "api")], 0, 4999)
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        store
            .series(&[m(MatchOp::Equal, "job", "api")], 0, 5000)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.label_names(&[]), ["__name__", "instance", "job"]);
    assert_eq!(
        store.label_values("instance", &[m(MatchOp::Equal, "job", "api")]),
        ["a"]
    );
    assert_eq!(store.label_values("job", &[]), ["api", "node"]);
}

#[test]
fn series_limit_and_retention() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        max_series: 2,
        retention: std::time::Duration::from_secs(3600),
        ..Options::default()
    };
    let store = Store::open(dir.path(), opts).unwrap();
    let o = store
        .append_blocking(vec![
            series("a", "1", &[(H, 1.0)]),
            series("a", "2", &[(H, 1.0)]),
            series("a", "3", &[(H, 1.0)]),
        ])
        .unwrap();
    assert_eq!(o.stored, 2);
    assert_eq!(o.rejected.get(&RejectReason::SeriesLimit), Some(&1));
    store.flush().unwrap();
    // Data time moves 3 hours on: the first block expires and its series are forgotten.
    store
        .append_blocking(vec![series("a", "1", &[(4 * H, 2.0)])])
        .unwrap();
    let o = store
        .append_blocking(vec![series("a", "1", &[(2 * H, 2.0)])])
        .unwrap();
    assert_eq!(o.rejected.get(&RejectReason::OutOfRetention), Some(&1));
    let r = store.compact().unwrap();
    assert_eq!(r.blocks_dropped, 1);
    assert_eq!(r.series_dropped, 1);
    assert_eq!(all(&store).len(), 1);
}

#[test]
fn torn_wal_tail_is_cut_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), Options::default()).unwrap();
        store
            .append_blocking(vec![series("a", "1", &[(1000, 1.0)])])
            .unwrap();
    }
    // Simulate a crash mid-write: garbage appended to the newest segment.
    let wal = dir.path().join("wal");
    let newest = std::fs::read_dir(&wal)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .max()
        .unwrap();
    let mut bytes = std::fs::read(&newest).unwrap();
    bytes.extend_from_slice(&[0x10, 0, 0, 0, 1, 2, 3]);
    std::fs::write(&newest, bytes).unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    assert_eq!(all(&store)[0].samples, vec![Sample::new(1000, 1.0)]);
}

#[test]
fn second_opener_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _a = Store::open(dir.path(), Options::default()).unwrap();
    let e = Store::open(dir.path(), Options::default()).err().unwrap();
    assert!(e.to_string().contains("in use by another process"), "{e}");
}
