//! Cluster mode against real NATS JetStream servers this test starts on loopback: several Hush
//! engines in one process, each with its own data directory, writing through the HTTP router.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use hush_engine::Engine;
use hush_engine::cluster::wire::shard_of;
use hush_engine::config::Config;
use hush_model::{Labels, Matcher, Sample, TimeSeries};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tower::ServiceExt;

/// A `nats-server` with JetStream on a free loopback port, killed on drop.
struct Nats {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Nats {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server must be installed (Debian package `nats-server`)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Node {
    engine: Arc<Engine>,
    tasks: Vec<JoinHandle<()>>,
    app: Router,
    _dir: tempfile::TempDir,
}

const SHARDS: u32 = 6;
const LEASE_S: u64 = 3;

async fn node(id: &str, nats: &Nats, extra: &str) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "data_dir: {}\ncluster:\n  nats: ['{}']\n  node_id: {id}\n  shards: {SHARDS}\n  lease: {LEASE_S}s\n  query_timeout: 1s\n{extra}",
        dir.path().display(),
        nats.url
    );
    let config = Config::parse(&yaml, Path::new("test.yaml")).unwrap();
    let engine = tokio::task::spawn_blocking(move || Engine::open(config))
        .await
        .unwrap()
        .unwrap();
    let tasks = engine.start();
    let app = hush_api::router(engine.clone());
    Node {
        engine,
        tasks,
        app,
        _dir: dir,
    }
}

impl Node {
    fn owned(&self) -> Vec<u32> {
        self.engine.cluster.as_ref().unwrap().owned()
    }

    /// Stops like SIGKILL would as far as the cluster can tell: no more renewals, no more
    /// consumption, no release, connection gone.
    fn crash(self) {
        for t in &self.tasks {
            t.abort();
        }
    }

    async fn stop(self) {
        self.engine.shutdown(self.tasks).await;
    }

    async fn write(&self, series: &[TimeSeries]) -> (StatusCode, Option<String>) {
        let req = Request::post("/api/v1/write")
            .header("content-type", "application/x-protobuf")
            .header("content-encoding", "snappy")
            .body(Body::from(hush_ingest::encode_remote_write(series)))
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let retry = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        (resp.status(), retry)
    }

    /// An instant query through this node's API: the one value of its result (`None` when
    /// the result is empty), and the warnings.
    async fn query(&self, q: &str, at_s: i64) -> (Option<f64>, Vec<String>) {
        let uri = format!(
            "/api/v1/query?query={}&time={at_s}",
            q.bytes()
                .map(|b| if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                })
                .collect::<String>()
        );
        let resp = self
            .app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let value = v["data"]["result"][0]["value"][1]
            .as_str()
            .map(|x| x.parse().unwrap());
        let warnings = v["warnings"]
            .as_array()
            .map(|w| w.iter().map(|x| x.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        (value, warnings)
    }

    /// GET `uri` through this node's API: the `data` and the warnings.
    async fn get(&self, uri: &str) -> (serde_json::Value, Vec<String>) {
        let resp = self
            .app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{uri}");
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let warnings = v["warnings"]
            .as_array()
            .map(|w| w.iter().map(|x| x.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        (v["data"].clone(), warnings)
    }

    /// Stored samples of metric `m` per series index.
    fn stored(&self) -> BTreeMap<usize, Vec<Sample>> {
        self.engine
            .store
            .select(&[Matcher::equal("__name__", "m")], i64::MIN, i64::MAX)
            .unwrap()
            .into_iter()
            .map(|ts| (ts.labels.get("i").unwrap().parse().unwrap(), ts.samples))
            .collect()
    }
}

fn labels(i: usize) -> Labels {
    Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]).unwrap()
}

fn series(i: usize, ts: std::ops::Range<i64>) -> TimeSeries {
    TimeSeries::new(
        labels(i),
        ts.map(|t| Sample::new(1_700_000_000_000 + t * 1000, (i * 1000) as f64 + t as f64))
            .collect(),
    )
}

async fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

/// Every shard owned by exactly one of `nodes`, spread as evenly as the count allows.
fn balanced(nodes: &[&Node]) -> bool {
    let mut all: Vec<u32> = nodes.iter().flat_map(|n| n.owned()).collect();
    all.sort();
    let fair = SHARDS.div_ceil(nodes.len() as u32) as usize;
    all == (0..SHARDS).collect::<Vec<_>>() && nodes.iter().all(|n| n.owned().len() <= fair)
}

/// Each series `0..n` is on its shard's owner with exactly the samples of `ts`, and nowhere
/// else among `nodes`.
fn placed(nodes: &[&Node], n: usize, ts: std::ops::Range<i64>) -> bool {
    type View = (Vec<u32>, BTreeMap<usize, Vec<Sample>>);
    let stored: Vec<View> = nodes.iter().map(|n| (n.owned(), n.stored())).collect();
    (0..n).all(|i| {
        let shard = shard_of(&labels(i), SHARDS);
        let want = series(i, ts.clone()).samples;
        stored.iter().all(|(owned, s)| {
            if owned.contains(&shard) {
                s.get(&i) == Some(&want)
            } else {
                !s.contains_key(&i)
            }
        })
    })
}

const N: usize = 60;
/// `series` time 0, in seconds.
const T0_S: i64 = 1_700_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_to_any_node_land_once_on_the_owner_and_a_stopped_node_hands_over() {
    let nats = Nats::start();
    let (a, b, c) = (
        node("a", &nats, "").await,
        node("b", &nats, "").await,
        node("c", &nats, "").await,
    );
    let took = wait_for(
        "shards to spread over three nodes",
        Duration::from_secs(30),
        || balanced(&[&a, &b, &c]),
    )
    .await;
    eprintln!("three nodes balanced {SHARDS} shards in {took:?}");

    // Each node receives a third of the series, most of which belong to other nodes.
    let nodes = [&a, &b, &c];
    for (k, n) in nodes.iter().enumerate() {
        let batch: Vec<_> = (0..N)
            .filter(|i| i % 3 == k)
            .map(|i| series(i, 0..5))
            .collect();
        assert_eq!(n.write(&batch).await.0, StatusCode::NO_CONTENT);
    }
    let took = wait_for("samples on their owners", Duration::from_secs(20), || {
        placed(&nodes, N, 0..5)
    })
    .await;
    eprintln!("remote_write to queryable on the owner: {took:?}");

    // A client retry of the whole request changes nothing.
    let all: Vec<_> = (0..N).map(|i| series(i, 0..5)).collect();
    assert_eq!(a.write(&all).await.0, StatusCode::NO_CONTENT);
    let cluster = a.engine.cluster.clone().unwrap();
    wait_for("the retry to be consumed", Duration::from_secs(20), || {
        (0..SHARDS).all(|s| cluster.lag(s) == Some(0))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(placed(&nodes, N, 0..5), "a retried write was counted twice");

    let status = cluster.status().await.unwrap();
    assert_eq!(status.nodes.len(), 3);
    assert!(
        status
            .shard_owners
            .iter()
            .all(|s| s.owner.is_some() && s.lag == Some(0))
    );
    assert!(status.render().contains("shard"));

    // Any node answers for the whole cluster, each sample once: every shard's owner is asked.
    for n in nodes {
        let (samples, warnings) = n.query("sum(count_over_time(m[1h]))", T0_S + 60).await;
        assert_eq!(samples, Some((5 * N) as f64), "{warnings:?}");
        assert!(warnings.is_empty(), "{warnings:?}");
        let (series, _) = n.query("count(count_over_time(m[1h]))", T0_S + 60).await;
        assert_eq!(series, Some(N as f64));
        // Series and label lists too, though each node stores only its own shards' series.
        let (series, warnings) = n.get("/api/v1/series?match[]=m").await;
        assert_eq!(series.as_array().unwrap().len(), N, "{warnings:?}");
        assert!(n.stored().len() < N);
        let (names, warnings) = n.get("/api/v1/labels").await;
        assert_eq!(names, serde_json::json!(["__name__", "i"]), "{warnings:?}");
        let (values, _) = n.get("/api/v1/label/i/values?match[]=m").await;
        let mut want: Vec<String> = (0..N).map(|i| i.to_string()).collect();
        want.sort();
        assert_eq!(values, serde_json::json!(want));
        let (values, _) = n.get("/api/v1/label/__name__/values").await;
        assert_eq!(values, serde_json::json!(["m"]));
    }

    // A graceful stop releases the leases: the others take them well within one lease.
    let gone = c.owned();
    let stopped = Instant::now();
    c.stop().await;
    wait_for(
        "the stopped node's shards to move",
        Duration::from_secs(20),
        || balanced(&[&a, &b]),
    )
    .await;
    let took = stopped.elapsed();
    eprintln!("graceful hand-over of shards {gone:?}: {took:?}");
    assert!(
        took < Duration::from_secs(LEASE_S * 2),
        "hand-over took {took:?}"
    );

    // The new owners replayed the shard history: every series is whole on its owner.
    let more: Vec<_> = (0..N).map(|i| series(i, 5..8)).collect();
    assert_eq!(b.write(&more).await.0, StatusCode::NO_CONTENT);
    wait_for(
        "all samples on the two remaining owners",
        Duration::from_secs(30),
        || placed(&[&a, &b], N, 0..8),
    )
    .await;
    let (samples, warnings) = b.query("sum(count_over_time(m[1h]))", T0_S + 60).await;
    assert_eq!(samples, Some((8 * N) as f64), "{warnings:?}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crashed_node_loses_its_shards_within_the_lease_and_nothing_acknowledged_is_lost() {
    let nats = Nats::start();
    let (a, b, c) = (
        node("a", &nats, "").await,
        node("b", &nats, "").await,
        node("c", &nats, "").await,
    );
    wait_for("shards to spread", Duration::from_secs(30), || {
        balanced(&[&a, &b, &c])
    })
    .await;
    let all: Vec<_> = (0..N).map(|i| series(i, 0..5)).collect();
    assert_eq!(c.write(&all).await.0, StatusCode::NO_CONTENT);
    wait_for("first samples placed", Duration::from_secs(20), || {
        placed(&[&a, &b, &c], N, 0..5)
    })
    .await;

    let lost = c.owned();
    let crashed = Instant::now();
    c.crash();
    // Until its shards move, a query misses what only the dead node holds, and says so.
    let (samples, warnings) = a.query("sum(count_over_time(m[1h]))", T0_S + 60).await;
    let held_by_c = (0..N)
        .filter(|i| lost.contains(&shard_of(&labels(*i), SHARDS)))
        .count();
    assert_eq!(samples, Some((5 * (N - held_by_c)) as f64), "{warnings:?}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with(&format!("partial result: shards {lost:?}")),
        "{warnings:?}"
    );
    // Writes go on during the move, every one acknowledged by the stream.
    let mut acked = 5;
    while !balanced(&[&a, &b]) {
        let batch: Vec<_> = (0..N).map(|i| series(i, acked..acked + 1)).collect();
        let (status, _) = if acked % 2 == 0 {
            a.write(&batch).await
        } else {
            b.write(&batch).await
        };
        assert_eq!(status, StatusCode::NO_CONTENT);
        acked += 1;
        assert!(
            crashed.elapsed() < Duration::from_secs(30),
            "shards never moved"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let moved = crashed.elapsed();
    eprintln!("shards {lost:?} of the crashed node moved in {moved:?} (lease {LEASE_S}s)");
    // Expiry on the server, at most one lease after the last renewal; the survivors wake
    // just after it. The slack is for a loaded machine.
    assert!(
        moved < Duration::from_secs(LEASE_S) + Duration::from_secs(2),
        "took {moved:?}"
    );
    wait_for(
        "every acknowledged sample on the new owners",
        Duration::from_secs(30),
        || placed(&[&a, &b], N, 0..acked),
    )
    .await;
    // Every acknowledged sample is queryable exactly once, from either survivor.
    for n in [&a, &b] {
        let (samples, warnings) = n.query("sum(count_over_time(m[1h]))", T0_S + 600).await;
        assert_eq!(samples, Some((acked as usize * N) as f64), "{warnings:?}");
        assert!(warnings.is_empty(), "{warnings:?}");
    }
    a.stop().await;
    b.stop().await;
}

/// Series `i` as a steady but noisy level near 100, one point per second at points `ts`.
fn steady(i: usize, ts: std::ops::Range<i64>) -> TimeSeries {
    TimeSeries::new(
        labels(i),
        ts.map(|t| {
            let n = ((t as u64) ^ ((i as u64) << 32))
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((n >> 33) % 1000) as f64 / 1000.0;
            Sample::new(T0_S * 1000 + t * 1000, 100.0 + 5.0 * noise)
        })
        .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_owner_resumes_the_detectors_of_the_last_one() {
    let nats = Nats::start();
    // History as short as the lease allows: by the takeover the stream holds nothing the new
    // owner could learn from, so only the checkpoint can make it recognise a spike.
    let extra = "  history: 3s\ndetection:\n  enabled: true\n";
    let a = node("a", &nats, extra).await;
    wait_for(
        "one node to own every shard",
        Duration::from_secs(30),
        || a.owned().len() == SHARDS as usize,
    )
    .await;
    const SERIES: usize = 4;
    const POINTS: i64 = 400; // warm-up is 150
    let all: Vec<_> = (0..SERIES).map(|i| steady(i, 0..POINTS)).collect();
    assert_eq!(a.write(&all).await.0, StatusCode::NO_CONTENT);
    wait_for(
        "the history stored and scored",
        Duration::from_secs(20),
        || {
            let s = a.stored();
            s.len() == SERIES && s.values().all(|v| v.len() == POINTS as usize)
        },
    )
    .await;
    let a_engine = a.engine.clone();
    a.stop().await;
    // The stop handed every shard back and saved the detectors of the four series first.
    assert!(a_engine.metrics.cluster_detectors_saved.get() >= SERIES as u64);
    tokio::time::sleep(Duration::from_secs(5)).await;

    let b = node("b", &nats, extra).await;
    wait_for(
        "the new node to own every shard",
        Duration::from_secs(30),
        || b.owned().len() == SHARDS as usize,
    )
    .await;
    wait_for("the detectors taken over", Duration::from_secs(20), || {
        b.engine.metrics.cluster_detectors_restored.get() == SERIES as u64
    })
    .await;
    assert!(
        b.stored().is_empty(),
        "the history should have aged out of the stream"
    );
    // The next second: a spike on series 0, the others as before.
    let mut next: Vec<_> = (0..SERIES).map(|i| steady(i, POINTS..POINTS + 1)).collect();
    next[0].samples[0].v = 300.0;
    assert_eq!(b.write(&next).await.0, StatusCode::NO_CONTENT);
    let detection = b.engine.detection.as_ref().unwrap();
    wait_for("the new point scored", Duration::from_secs(20), || {
        b.stored().values().filter(|v| v.len() == 1).count() == SERIES
    })
    .await;
    let found = detection.since(1);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].labels.get("i"), Some("0"));
    assert_eq!(found[0].value, 300.0);
    let expected = found[0].expected.unwrap();
    assert!(
        (95.0..=110.0).contains(&expected),
        "the expected value should be the level learned on the old owner: {expected}"
    );
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lagging_shard_answers_429_and_a_missing_stream_503_with_retry_after() {
    let mut nats = Nats::start();
    // A long lease: the crashed node keeps its shards, so they only pile up.
    let extra = "  max_lag: 3\n";
    let a = node("a", &nats, &format!("{extra}  history: 1h\n")).await;
    let b = node("b", &nats, extra).await;
    wait_for("shards to spread", Duration::from_secs(30), || {
        balanced(&[&a, &b])
    })
    .await;
    let stuck = b.owned()[0];
    b.crash();
    let i = (0..)
        .find(|&i| shard_of(&labels(i), SHARDS) == stuck)
        .unwrap();
    let mut refused = None;
    for t in 0..40 {
        let (status, retry) = a.write(&[series(i, t..t + 1)]).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((t, retry));
            break;
        }
        assert_eq!(status, StatusCode::NO_CONTENT);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (t, retry) = refused.expect("a lagging shard never refused writes");
    assert!(t >= 3, "refused before the lag bound: after {t} writes");
    assert!(retry.is_some_and(|s| s.parse::<u32>().unwrap() > 0));

    // JetStream gone: refused with 503, nothing stored, the client keeps its samples.
    let mine = a.owned()[0];
    let j = (0..)
        .find(|&i| shard_of(&labels(i), SHARDS) == mine)
        .unwrap();
    nats.kill();
    let (status, retry) = loop {
        let r = a.write(&[series(j, 100..101)]).await;
        if r.0 != StatusCode::NO_CONTENT {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(retry.is_some());
    assert!(
        !a.stored()
            .get(&j)
            .is_some_and(|s| s.iter().any(|s| s.t == series(j, 100..101).samples[0].t))
    );
    drop(a);
}

/// A fresh schema in the shared PostgreSQL (`HUSH_TEST_POSTGRES_URL`), so runs never see each
/// other's rows; `None` when `HUSH_SKIP_POSTGRES=1`.
fn postgres_schema() -> Option<String> {
    if std::env::var("HUSH_SKIP_POSTGRES").as_deref() == Ok("1") {
        return None;
    }
    let base = std::env::var("HUSH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let schema = format!("hush_leader_{}_{nanos}", std::process::id());
    let out = Command::new("psql")
        .args([&base, "-q", "-c", &format!("CREATE SCHEMA {schema}")])
        .output()
        .expect("psql must be installed to create the test schema");
    assert!(
        out.status.success(),
        "PostgreSQL at {base} refused a schema ({}); start it, point HUSH_TEST_POSTGRES_URL at \
         one, or set HUSH_SKIP_POSTGRES=1 to skip on purpose",
        String::from_utf8_lossy(&out.stderr)
    );
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options[search_path]={schema}"))
}

/// RFC 3339 for a Unix time in seconds (UTC), from the civil-from-days algorithm.
fn rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// One episode start for the test's alerts: recent, so they are close in time, and the same
/// on every send, so a re-send is the same episode.
fn starts() -> &'static str {
    static S: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        rfc3339(now as i64 - 30)
    })
}

impl Node {
    fn leads(&self) -> bool {
        self.engine.cluster.as_ref().unwrap().is_leader()
    }

    fn id(&self) -> String {
        self.engine.cluster.as_ref().unwrap().config.node_id.clone()
    }

    async fn call(&self, req: Request<Body>) -> (StatusCode, Option<String>, serde_json::Value) {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let retry = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            retry,
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Posts one alert of the `checkout` service; the answer's status and incident id.
    async fn alert(&self, name: &str) -> (StatusCode, Option<String>, Option<String>) {
        let body = serde_json::json!([{
            // Only the name differs (it is no evidence either way), so they share one cause.
            "labels": {"alertname": name, "service": "checkout", "namespace": "shop"},
            "startsAt": starts(),
        }]);
        let req = Request::post("/api/v1/alerts")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, retry, v) = self.call(req).await;
        let incident = v["data"]["alerts"][0]["incident"]
            .as_str()
            .map(str::to_string);
        (
            status,
            retry.or(v["error"].as_str().map(str::to_string)),
            incident,
        )
    }

    async fn incidents(&self) -> Vec<serde_json::Value> {
        let (status, _, v) = self
            .call(
                Request::get("/api/v1/incidents")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v["data"].as_array().cloned().unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_leader_correlates_alerts_from_every_node_and_a_new_one_keeps_the_incident() {
    let Some(url) = postgres_schema() else {
        eprintln!("skipped: HUSH_SKIP_POSTGRES=1");
        return;
    };
    let nats = Nats::start();
    // The service graph makes alerts of one service related (labels every alert shares are no
    // evidence to the correlator).
    let topo = tempfile::tempdir().unwrap();
    let topo_file = topo.path().join("topology.yaml");
    std::fs::write(
        &topo_file,
        "services:\n  - {name: checkout, team: shop, dependsOn: [payments]}\n  - {name: payments, team: shop}\n",
    )
    .unwrap();
    let db = format!(
        "database:\n  url: '{url}'\ntopology_file: {}\n",
        topo_file.display()
    );
    let nodes = vec![
        node("a", &nats, &db).await,
        node("b", &nats, &db).await,
        node("c", &nats, &db).await,
    ];
    let took = wait_for("a leader", Duration::from_secs(10), || {
        nodes.iter().filter(|n| n.leads()).count() == 1
    })
    .await;
    eprintln!("leader elected {took:?} after start");
    let leader = nodes.iter().position(Node::leads).unwrap();
    let follower = (leader + 1) % nodes.len();

    // The status names the leader, on any node.
    let (status, _, v) = nodes[follower]
        .call(
            Request::get("/api/v1/cluster/status")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v["data"]["leader"].as_str(),
        Some(nodes[leader].id().as_str()),
        "{v}"
    );

    // A follower's live stream shows the leader's events; its own task (what notifications
    // follow) emits none.
    let mut live = nodes[follower].engine.incidents.subscribe_live();
    let mut own = nodes[follower].engine.incidents.subscribe();

    // Alerts posted to every node form one incident, stored once.
    let mut ids = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let (status, why, incident) = n.alert(&format!("i-{i}")).await;
        assert_eq!(status, StatusCode::OK, "node {}: {why:?}", n.id());
        ids.push(incident.expect("the alert joined an open incident"));
    }
    assert!(ids.iter().all(|i| *i == ids[0]), "one incident: {ids:?}");
    // A re-send through another node is a duplicate, not a second alert.
    let (status, _, again) = nodes[follower].alert("i-0").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again.as_deref(), Some(ids[0].as_str()));
    for n in &nodes {
        let list = n.incidents().await;
        assert_eq!(list.len(), 1, "one incident seen from {}: {list:?}", n.id());
        assert_eq!(list[0]["id"].as_str(), Some(ids[0].as_str()));
    }
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let ev = tokio::time::timeout(Duration::from_secs(5), live.recv())
            .await
            .expect("the leader's events reach a follower's live stream")
            .unwrap();
        assert_eq!(ev.incident.to_string(), ids[0]);
        kinds.push(ev.kind);
    }
    assert_eq!(kinds, ["opened", "grew", "grew"]);
    assert!(matches!(
        own.try_recv(),
        Err(tokio::sync::broadcast::error::TryRecvError::Empty)
    ));

    // The leader dies without a word; another node leads within the lease.
    let mut nodes = nodes;
    let dead = nodes.remove(leader);
    let dead_id = dead.id();
    dead.crash();
    let took = wait_for("a new leader", Duration::from_secs(2 * LEASE_S + 2), || {
        nodes.iter().filter(|n| n.leads()).count() == 1
    })
    .await;
    eprintln!("new leader {took:?} after the old one died");
    assert!(
        took <= Duration::from_secs(LEASE_S)
            + Duration::from_secs(LEASE_S) / 3
            + Duration::from_secs(1),
        "leadership moved in {took:?}"
    );
    let new = nodes.iter().position(Node::leads).unwrap();
    assert_ne!(nodes[new].id(), dead_id);

    // The open incident keeps growing under the new leader, through either survivor.
    for (i, n) in nodes.iter().enumerate() {
        let start = Instant::now();
        let incident = loop {
            let (status, why, incident) = n.alert(&format!("j-{i}")).await;
            if status == StatusCode::OK {
                break incident;
            }
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{why:?}");
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "still 503: {why:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(incident.as_deref(), Some(ids[0].as_str()), "same incident");
    }
    let list = nodes[0].incidents().await;
    assert_eq!(list.len(), 1, "{list:?}");
    let (_, _, alerts) = nodes[0]
        .call(
            Request::get(format!("/api/v1/incidents/{}", ids[0]))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    // Three alerts before the change, two after; the re-send counted on its alert.
    assert_eq!(alerts["data"]["alerts"], 5, "{alerts}");

    // A split and a merge asked of a follower are made by the leader.
    let f = nodes.iter().position(|n| !n.leads()).unwrap();
    let post = |path: String, body: serde_json::Value| {
        Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let (_, _, a) = nodes[f]
        .call(
            Request::get("/api/v1/alerts?name=j-0")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let fp = a["data"][0]["fingerprint"].as_str().unwrap().to_string();
    let (status, _, v) = nodes[f]
        .call(post(
            format!("/api/v1/incidents/{}/split", ids[0]),
            serde_json::json!({ "alerts": [fp] }),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let split = v["data"]["new"]["id"].as_str().unwrap().to_string();
    assert_ne!(split, ids[0]);
    assert_eq!(v["data"]["incident"]["id"].as_str(), Some(ids[0].as_str()));
    assert_eq!(nodes[0].incidents().await.len(), 2);
    let (status, _, v) = nodes[f]
        .call(post(
            format!("/api/v1/incidents/{split}/merge"),
            serde_json::json!({ "into": ids[0] }),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["into"]["id"].as_str(), Some(ids[0].as_str()));
    assert_eq!(v["data"]["merged"]["id"].as_str(), Some(split.as_str()));
    // Errors come back as in embedded mode.
    let (status, _, v) = nodes[f]
        .call(post(
            format!("/api/v1/incidents/{split}/merge"),
            serde_json::json!({ "into": split }),
        ))
        .await;
    assert!(status.is_client_error(), "{status} {v}");
    for n in nodes {
        n.stop().await;
    }
}
