//! Caller → callee edges derived from trace spans, with call, error and latency statistics kept
//! as series in the store.
//!
//! A span whose parent was emitted by another service is one call from the parent's service to
//! the span's. Exporters batch per process, so a parent often arrives in a different request than
//! its children: recent spans are remembered in a bounded map (oldest forgotten first), and a
//! child whose parent is not known yet waits in a bounded list until the parent arrives.
//!
//! Series written per edge, at the time the spans are received (Hush's own clock, so an edge's
//! counters only ever grow):
//! - `hush_edge_calls_total{caller,callee}` and `hush_edge_errors_total{caller,callee}` —
//!   cumulative counters since the server started;
//! - `hush_edge_latency_seconds{caller,callee,quantile="0.5"|"0.9"|"0.99"}` over the edge's last
//!   [`RECENT`] calls, with `hush_edge_latency_seconds_sum` and `_count` (a Prometheus summary).

use hush_ingest::otlp::traces::SpanRecord;
use hush_model::{Labels, Sample, TimeSeries};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Spans remembered for parents that arrive later (and children waiting for theirs): about
/// 100 MB at worst, and minutes of traffic at the sampling rates traces are usually sent with.
pub const RECENT_SPANS: usize = 200_000;

/// Calls per edge kept for the latency quantiles.
pub const RECENT: usize = 1024;

type SpanKey = ([u8; 16], [u8; 8]);

/// One observed call.
#[derive(Debug, Clone)]
struct Call {
    callee: String,
    duration_s: f64,
    error: bool,
}

/// Statistics of one edge.
#[derive(Debug, Clone, Default)]
struct Stats {
    calls: u64,
    errors: u64,
    latency_sum: f64,
    recent: VecDeque<f64>,
    first_seen_ms: i64,
    last_seen_ms: i64,
}

/// One edge as the topology API shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EdgeView {
    pub caller: String,
    pub callee: String,
    pub calls: u64,
    pub errors: u64,
    /// Errors over calls since the server started.
    pub error_rate: f64,
    /// Median and 99th percentile of the last calls, seconds.
    pub latency_p50: f64,
    pub latency_p99: f64,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
}

#[derive(Default)]
struct Inner {
    /// Recent spans' services, and their arrival order for eviction.
    spans: HashMap<SpanKey, String>,
    order: VecDeque<SpanKey>,
    /// Children whose parent is not known yet, by parent.
    waiting: HashMap<SpanKey, Vec<Call>>,
    waiting_order: VecDeque<SpanKey>,
    edges: BTreeMap<(String, String), Stats>,
}

/// The edges seen in traces so far.
pub struct TraceEdges {
    capacity: usize,
    inner: Mutex<Inner>,
}

impl TraceEdges {
    /// Remembers up to `capacity` recent spans and as many children waiting for their parent.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Takes one request's spans; returns the updated series of every edge they touched.
    pub fn observe(&self, spans: &[SpanRecord], now_ms: i64) -> Vec<TimeSeries> {
        let mut g = self.inner.lock();
        // Every span of the request is known before children are resolved, so order inside a
        // request does not matter.
        for s in spans {
            g.remember(s.trace_id, s.span_id, &s.service);
        }
        let mut touched: Vec<(String, String)> = Vec::new();
        for s in spans {
            let key = (s.trace_id, s.span_id);
            // Children that arrived before this span.
            if let Some(children) = g.waiting.remove(&key) {
                for c in children {
                    g.record(&s.service, c, now_ms, &mut touched);
                }
            }
            let Some(parent) = s.parent_span_id else {
                continue;
            };
            let call = Call {
                callee: s.service.clone(),
                duration_s: s.duration_s(),
                error: s.error,
            };
            let pkey = (s.trace_id, parent);
            match g.spans.get(&pkey).cloned() {
                Some(caller) => g.record(&caller, call, now_ms, &mut touched),
                None => g.wait(pkey, call, self.capacity),
            }
        }
        g.evict(self.capacity);
        touched.sort();
        touched.dedup();
        touched
            .iter()
            .filter_map(|k| g.edges.get(k).map(|st| series(&k.0, &k.1, st, now_ms)))
            .flatten()
            .collect()
    }

    /// Every edge seen, ordered by caller then callee.
    pub fn edges(&self) -> Vec<EdgeView> {
        let g = self.inner.lock();
        g.edges
            .iter()
            .map(|((caller, callee), st)| EdgeView {
                caller: caller.clone(),
                callee: callee.clone(),
                calls: st.calls,
                errors: st.errors,
                error_rate: if st.calls > 0 {
                    st.errors as f64 / st.calls as f64
                } else {
                    0.0
                },
                latency_p50: quantile(&st.recent, 0.5),
                latency_p99: quantile(&st.recent, 0.99),
                first_seen_ms: st.first_seen_ms,
                last_seen_ms: st.last_seen_ms,
            })
            .collect()
    }

    /// Children still waiting for a parent (for tests and self-monitoring).
    pub fn waiting(&self) -> usize {
        self.inner.lock().waiting.values().map(Vec::len).sum()
    }
}

impl Inner {
    fn remember(&mut self, trace: [u8; 16], span: [u8; 8], service: &str) {
        let key = (trace, span);
        if self.spans.insert(key, service.to_string()).is_none() {
            self.order.push_back(key);
        }
    }

    /// Forgets the oldest spans beyond `cap`; run after a request is resolved, so a request's
    /// own spans can always find each other.
    fn evict(&mut self, cap: usize) {
        while self.order.len() > cap {
            if let Some(old) = self.order.pop_front() {
                self.spans.remove(&old);
            }
        }
    }

    fn wait(&mut self, parent: SpanKey, call: Call, cap: usize) {
        let list = self.waiting.entry(parent).or_default();
        if list.is_empty() {
            self.waiting_order.push_back(parent);
        }
        list.push(call);
        // Bounded by parents; a parent that never comes is forgotten with its children.
        while self.waiting_order.len() > cap {
            if let Some(old) = self.waiting_order.pop_front() {
                self.waiting.remove(&old);
            }
        }
    }

    fn record(&mut self, caller: &str, c: Call, now_ms: i64, touched: &mut Vec<(String, String)>) {
        // Calls inside one service are not edges of the service graph.
        if caller == c.callee {
            return;
        }
        let key = (caller.to_string(), c.callee);
        let st = self.edges.entry(key.clone()).or_default();
        if st.calls == 0 {
            st.first_seen_ms = now_ms;
        }
        st.calls += 1;
        st.errors += u64::from(c.error);
        st.latency_sum += c.duration_s;
        st.recent.push_back(c.duration_s);
        if st.recent.len() > RECENT {
            st.recent.pop_front();
        }
        st.last_seen_ms = now_ms;
        touched.push(key);
    }
}

fn quantile(values: &VecDeque<f64>, q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v: Vec<f64> = values.iter().copied().collect();
    v.sort_unstable_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

fn series(caller: &str, callee: &str, st: &Stats, t: i64) -> Vec<TimeSeries> {
    let one = |name: &str, extra: Option<(&str, &str)>, v: f64| {
        let mut pairs = vec![("__name__", name), ("caller", caller), ("callee", callee)];
        pairs.extend(extra);
        // Names are fixed and valid; service names were checked against the label limits by
        // the decoder, so this cannot fail for input that reached here.
        Labels::from_pairs(pairs)
            .ok()
            .map(|l| TimeSeries::new(l, vec![Sample::new(t, v)]))
    };
    let mut out = vec![
        one("hush_edge_calls_total", None, st.calls as f64),
        one("hush_edge_errors_total", None, st.errors as f64),
        one("hush_edge_latency_seconds_sum", None, st.latency_sum),
        one("hush_edge_latency_seconds_count", None, st.calls as f64),
    ];
    for (q, label) in [(0.5, "0.5"), (0.9, "0.9"), (0.99, "0.99")] {
        out.push(one(
            "hush_edge_latency_seconds",
            Some(("quantile", label)),
            quantile(&st.recent, q),
        ));
    }
    out.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hush_ingest::otlp::traces::SpanKind;

    fn span(
        trace: u8,
        id: u8,
        parent: Option<u8>,
        service: &str,
        ms: u64,
        error: bool,
    ) -> SpanRecord {
        SpanRecord {
            trace_id: [trace; 16],
            span_id: [id; 8],
            parent_span_id: parent.map(|p| [p; 8]),
            service: service.into(),
            kind: SpanKind::Server,
            peer_service: None,
            start_ns: 0,
            end_ns: ms * 1_000_000,
            error,
        }
    }

    fn value(series: &[TimeSeries], name: &str, caller: &str, callee: &str) -> Option<f64> {
        series
            .iter()
            .find(|s| {
                s.labels.metric_name() == Some(name)
                    && s.labels.get("caller") == Some(caller)
                    && s.labels.get("callee") == Some(callee)
                    && s.labels.get("quantile").is_none()
            })
            .map(|s| s.samples[0].v)
    }

    #[test]
    fn cross_service_parent_links_become_edges_with_counts() {
        let t = TraceEdges::new(100);
        let out = t.observe(
            &[
                span(1, 1, None, "frontend", 50, false),
                span(1, 2, Some(1), "frontend", 40, false), // inside frontend: no edge
                span(1, 3, Some(2), "checkout", 30, true),
                span(1, 4, Some(3), "payments", 10, false),
            ],
            1000,
        );
        let edges = t.edges();
        let pairs: Vec<_> = edges
            .iter()
            .map(|e| (e.caller.as_str(), e.callee.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![("checkout", "payments"), ("frontend", "checkout")]
        );
        assert_eq!(edges[1].errors, 1);
        assert_eq!(edges[1].error_rate, 1.0);
        assert!((edges[1].latency_p50 - 0.03).abs() < 1e-9);
        assert_eq!(
            value(&out, "hush_edge_calls_total", "frontend", "checkout"),
            Some(1.0)
        );
        assert_eq!(
            value(&out, "hush_edge_errors_total", "checkout", "payments"),
            Some(0.0)
        );
        assert!(out.iter().all(|s| s.samples[0].t == 1000));
    }

    #[test]
    fn a_parent_arriving_later_resolves_its_waiting_children() {
        let t = TraceEdges::new(100);
        let out = t.observe(&[span(9, 2, Some(1), "cart", 5, false)], 1);
        assert!(out.is_empty());
        assert_eq!(t.waiting(), 1);
        let out = t.observe(&[span(9, 1, None, "frontend", 20, false)], 2);
        assert_eq!(t.waiting(), 0);
        assert_eq!(
            value(&out, "hush_edge_calls_total", "frontend", "cart"),
            Some(1.0)
        );
        // A second call on the edge counts on.
        t.observe(&[span(9, 3, Some(1), "cart", 7, false)], 3);
        assert_eq!(t.edges()[0].calls, 2);
    }

    #[test]
    fn memory_is_bounded_oldest_first() {
        let t = TraceEdges::new(3);
        for i in 0..10u8 {
            t.observe(&[span(i, 1, None, "a", 1, false)], i64::from(i));
            t.observe(&[span(i, 5, Some(7), "b", 1, false)], i64::from(i));
        }
        let g = t.inner.lock();
        assert!(g.spans.len() <= 3 && g.order.len() <= 3);
        assert!(g.waiting.len() <= 3);
        drop(g);
        // The oldest span is forgotten: its late child no longer makes an edge.
        t.observe(&[span(0, 2, Some(1), "c", 1, false)], 20);
        assert!(t.edges().is_empty());
        // A recent one is still known.
        t.observe(&[span(9, 2, Some(1), "c", 1, false)], 21);
        assert_eq!(t.edges().len(), 1);
    }
}
