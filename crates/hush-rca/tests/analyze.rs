//! Behaviour of `analyze` on small generated estates: a chain, a fan-out, noise, changes, bad
//! input. Each estate is a graph plus series with a baseline hour and a fault injected at known
//! services.

use hush_rca::analyze::Target;
use hush_rca::explain::Culprit;
use hush_rca::{
    ChangeEvent, Incident, MetricKind, NodeKind, Provenance, Ranker, RcaConfig, RcaError, Series,
    SeriesKey, ServiceGraph, TimeRange, Verdict, analyze,
};

const STEP: i64 = 60;
const BASE: usize = 60;
const FAULT_AT: i64 = BASE as i64 * STEP;

/// Deterministic jitter in [-1, 1] so tests need no RNG crate.
fn jitter(i: usize, salt: usize) -> f64 {
    let x = (i * 7919 + salt * 104_729) % 1000;
    x as f64 / 500.0 - 1.0
}

/// Latency series: ~`level` ± 3 %, multiplied by `factor` from `onset` on.
fn latency(service: &str, level: f64, factor: f64, onset: i64, salt: usize) -> Series {
    let n = BASE + 10;
    let times: Vec<i64> = (0..n as i64).map(|i| i * STEP).collect();
    let values = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let v = level * (1.0 + 0.03 * jitter(i, salt));
            if *t >= onset { v * factor } else { v }
        })
        .collect();
    Series::new(
        SeriesKey::new(service, MetricKind::Latency, "latency p90"),
        times,
        values,
    )
}

fn chain() -> ServiceGraph {
    let mut g = ServiceGraph::new();
    g.add_call("web", "checkout", Provenance::Traces);
    g.add_call("checkout", "payments", Provenance::Traces);
    g.add_call("payments", "payments-db", Provenance::Config);
    g.add_call("web", "search", Provenance::Traces);
    g
}

fn incident(target: Option<&str>) -> Incident {
    Incident {
        target: target.map(|s| Target {
            service: s.to_owned(),
            kind: MetricKind::Latency,
            name: Some("latency p90".to_owned()),
        }),
        onset: FAULT_AT,
        baseline: TimeRange::new(0, FAULT_AT - 1),
        window: TimeRange::new(FAULT_AT, FAULT_AT + 9 * STEP),
    }
}

fn estate(db_factor: f64) -> Vec<Series> {
    // The db slows down first; each caller a minute later and a little less.
    vec![
        latency("payments-db", 0.02, db_factor, FAULT_AT, 1),
        latency(
            "payments",
            0.05,
            1.0 + (db_factor - 1.0) * 0.6,
            FAULT_AT + STEP,
            2,
        ),
        latency(
            "checkout",
            0.10,
            1.0 + (db_factor - 1.0) * 0.3,
            FAULT_AT + 2 * STEP,
            3,
        ),
        latency(
            "web",
            0.20,
            1.0 + (db_factor - 1.0) * 0.2,
            FAULT_AT + 3 * STEP,
            4,
        ),
        latency("search", 0.03, 1.0, FAULT_AT, 5),
    ]
}

fn services(cfg: &RcaConfig, series: &[Series], changes: &[ChangeEvent]) -> Vec<String> {
    let report = analyze(&chain(), series, changes, &incident(Some("web")), cfg).expect("analyze");
    report.hypotheses.into_iter().map(|h| h.service).collect()
}

#[test]
fn every_ranker_puts_the_deepest_abnormal_service_first() {
    for ranker in [
        Ranker::Traversal,
        Ranker::PageRank,
        Ranker::Robust,
        Ranker::Ensemble,
    ] {
        let cfg = RcaConfig {
            ranker,
            ..RcaConfig::default()
        };
        let got = services(&cfg, &estate(5.0), &[]);
        assert_eq!(
            got.first().map(String::as_str),
            Some("payments-db"),
            "{ranker:?}: {got:?}"
        );
        assert!(
            !got.contains(&"search".to_owned()),
            "{ranker:?}: healthy service ranked"
        );
    }
}

#[test]
fn normal_window_abstains() {
    let report = analyze(
        &chain(),
        &estate(1.0),
        &[],
        &incident(Some("web")),
        &RcaConfig::default(),
    )
    .expect("ok");
    assert!(matches!(report.verdict, Verdict::NoRootCause { .. }));
    assert!(report.hypotheses.is_empty());
    let report = analyze(
        &chain(),
        &estate(1.0),
        &[],
        &incident(None),
        &RcaConfig::default(),
    )
    .expect("ok");
    assert!(matches!(report.verdict, Verdict::NoRootCause { .. }));
}

#[test]
fn evidence_chain_runs_from_cause_to_symptom_in_time_order() {
    let report = analyze(
        &chain(),
        &estate(5.0),
        &[],
        &incident(Some("web")),
        &RcaConfig::default(),
    )
    .expect("ok");
    let top = &report.hypotheses[0];
    let services: Vec<&str> = top.evidence.iter().map(|e| e.service.as_str()).collect();
    assert_eq!(services, ["payments-db", "payments", "checkout", "web"]);
    assert!(
        top.evidence.windows(2).all(|w| w[0].at <= w[1].at),
        "{:?}",
        top.evidence
    );
    assert!(
        top.summary.starts_with("payments-db latency p90 rose"),
        "{}",
        top.summary
    );
    assert!(
        top.summary.contains(" → payments latency p90 rose"),
        "{}",
        top.summary
    );
    assert!(matches!(&top.culprit, Culprit::Series { key, .. } if key.service == "payments-db"));
    assert!(
        top.first_checks.iter().any(|c| c.contains("slow queries")),
        "{:?}",
        top.first_checks
    );
}

#[test]
fn recent_deploy_becomes_the_culprit_and_is_worded() {
    let deploy = ChangeEvent {
        service: "payments".to_owned(),
        kind: "deploy".to_owned(),
        description: "payments v1.8".to_owned(),
        author: None,
        at: FAULT_AT - 60,
    };
    // Fault in payments itself this time, with a deploy a minute earlier.
    let mut series = estate(1.0);
    series[1] = latency("payments", 0.05, 4.0, FAULT_AT, 2);
    series[2] = latency("checkout", 0.10, 2.0, FAULT_AT + STEP, 3);
    series[3] = latency("web", 0.20, 1.6, FAULT_AT + 2 * STEP, 4);
    let report = analyze(
        &chain(),
        &series,
        &[deploy],
        &incident(Some("web")),
        &RcaConfig::default(),
    )
    .expect("ok");
    let top = &report.hypotheses[0];
    assert_eq!(top.service, "payments");
    assert!(matches!(&top.culprit, Culprit::Change(c) if c.description == "payments v1.8"));
    assert!(
        top.summary.contains("payments v1.8 was deployed at 00:59"),
        "{}",
        top.summary
    );
}

#[test]
fn old_change_does_not_move_the_ranking() {
    let old = ChangeEvent {
        service: "search".to_owned(),
        kind: "config".to_owned(),
        description: "search cache ttl".to_owned(),
        author: Some("ops".to_owned()),
        at: FAULT_AT - 3 * 3600,
    };
    let got = services(&RcaConfig::default(), &estate(5.0), &[old]);
    assert_eq!(got.first().map(String::as_str), Some("payments-db"));
    assert!(!got.contains(&"search".to_owned()));
}

#[test]
fn inferred_nodes_yield_to_the_service_they_mirror() {
    let mut g = chain();
    g.add_service("lb_remote", NodeKind::Inferred);
    g.add_call("web", "lb_remote", Provenance::Traces);
    let mut series = estate(1.0);
    series[0] = latency("payments-db", 0.02, 4.0, FAULT_AT, 1);
    series.push(latency("lb_remote", 0.01, 10.0, FAULT_AT, 9));
    series[3] = latency("web", 0.20, 2.0, FAULT_AT, 4);
    series[2] = latency("checkout", 0.10, 2.0, FAULT_AT, 3);
    series[1] = latency("payments", 0.05, 3.0, FAULT_AT, 2);
    let report = analyze(
        &g,
        &series,
        &[],
        &incident(Some("web")),
        &RcaConfig::default(),
    )
    .expect("ok");
    assert_eq!(report.hypotheses[0].service, "payments-db");
}

#[test]
fn bad_input_is_an_error_that_names_it() {
    let cfg = RcaConfig::default();
    let err = analyze(&chain(), &estate(5.0), &[], &incident(Some("nope")), &cfg).unwrap_err();
    assert_eq!(err, RcaError::UnknownTarget("nope".to_owned()));
    let mut series = estate(5.0);
    series.push(latency("ghost", 1.0, 1.0, 0, 7));
    let err = analyze(&chain(), &series, &[], &incident(Some("web")), &cfg).unwrap_err();
    assert!(err.to_string().contains("`ghost`"), "{err}");
    let mut inc = incident(Some("web"));
    inc.window = TimeRange::new(10, 5);
    assert!(matches!(
        analyze(&chain(), &estate(5.0), &[], &inc, &cfg),
        Err(RcaError::BadRange { .. })
    ));
    let mut ragged = estate(5.0);
    ragged[0].values.pop();
    assert!(matches!(
        analyze(&chain(), &ragged, &[], &incident(Some("web")), &cfg),
        Err(RcaError::RaggedSeries(_))
    ));
    let bad = RcaConfig {
        restart: 2.0,
        ..cfg
    };
    assert!(matches!(
        analyze(&chain(), &estate(5.0), &[], &incident(Some("web")), &bad),
        Err(RcaError::InvalidConfig(_))
    ));
}

#[test]
fn hostile_values_do_not_panic() {
    let mut series = estate(5.0);
    series[0].values = vec![f64::NAN; series[0].times.len()];
    series[1].values.iter_mut().for_each(|v| *v = f64::INFINITY);
    series[2]
        .values
        .iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = if i % 2 == 0 { 1e308 } else { -1e308 });
    series[3].times.reverse();
    for ranker in [
        Ranker::Traversal,
        Ranker::PageRank,
        Ranker::Robust,
        Ranker::Ensemble,
    ] {
        let cfg = RcaConfig {
            ranker,
            ..RcaConfig::default()
        };
        let _ = analyze(&chain(), &series, &[], &incident(Some("web")), &cfg);
        let _ = analyze(&chain(), &[], &[], &incident(None), &cfg);
        let _ = analyze(&ServiceGraph::new(), &[], &[], &incident(None), &cfg);
    }
}

/// A series of any kind: `level`, or `to` from `onset` until `until`, up to 1 % below (so a
/// share of 1 stays a share).
fn shaped(
    service: &str,
    kind: MetricKind,
    name: &str,
    (level, to): (f64, f64),
    (onset, until): (i64, i64),
    salt: usize,
) -> Series {
    let n = BASE + 10;
    let times: Vec<i64> = (0..n as i64).map(|i| i * STEP).collect();
    let values = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let v = if *t >= onset && *t < until { to } else { level };
            v * (1.0 - 0.005 * (1.0 + jitter(i, salt)))
        })
        .collect();
    Series::new(SeriesKey::new(service, kind, name), times, values)
}

fn no_target() -> Incident {
    Incident {
        target: None,
        ..incident(None)
    }
}

#[test]
fn a_callee_failing_first_explains_a_caller_whose_latency_moved_far_more_in_spreads() {
    // A cache rejects commands (a share: a few spreads of a tight ratio), and its caller's latency
    // rises a hundredfold (hundreds of spreads). Spreads of different signals are not comparable;
    // the cache departed first and was still failing when the caller moved, so it is the cause.
    let mut g = ServiceGraph::new();
    g.add_call("web", "api", Provenance::Config);
    g.add_call("api", "cache", Provenance::Config);
    let end = FAULT_AT + 100 * STEP;
    let series = vec![
        shaped(
            "cache",
            MetricKind::Availability,
            "commands served",
            (1.0, 0.7),
            (FAULT_AT, end),
            1,
        ),
        shaped(
            "api",
            MetricKind::Latency,
            "mean latency",
            (0.01, 1.0),
            (FAULT_AT + STEP, end),
            2,
        ),
        shaped(
            "web",
            MetricKind::Latency,
            "mean latency",
            (0.05, 1.2),
            (FAULT_AT + STEP, end),
            3,
        ),
    ];
    let report = analyze(&g, &series, &[], &no_target(), &RcaConfig::default()).unwrap();
    let got: Vec<&str> = report
        .hypotheses
        .iter()
        .map(|h| h.service.as_str())
        .collect();
    assert_eq!(got.first(), Some(&"cache"), "{got:?}");

    // The same callee blip, over minutes before the caller moved, explains nothing.
    let series = vec![
        shaped(
            "cache",
            MetricKind::Availability,
            "commands served",
            (1.0, 0.7),
            (FAULT_AT, FAULT_AT + STEP),
            1,
        ),
        shaped(
            "api",
            MetricKind::Latency,
            "mean latency",
            (0.01, 1.0),
            (FAULT_AT + 8 * STEP, end),
            2,
        ),
    ];
    let report = analyze(&g, &series, &[], &no_target(), &RcaConfig::default()).unwrap();
    assert_eq!(
        report.hypotheses[0].service, "api",
        "{:?}",
        report.hypotheses
    );
}

#[test]
fn a_callers_latency_is_explained_by_its_abnormal_callees_together() {
    // The front end calls three services in turn; each adds a third of its latency rise, so no
    // single callee moved half as much as the caller, but together they explain it.
    let mut g = ServiceGraph::new();
    for c in ["a", "b", "c"] {
        g.add_call("front", c, Provenance::Config);
        g.add_call(c, "db", Provenance::Config);
    }
    let end = FAULT_AT + 100 * STEP;
    let lat = |s: &str, level: f64, to: f64, salt| {
        shaped(
            s,
            MetricKind::Latency,
            "mean latency",
            (level, to),
            (FAULT_AT, end),
            salt,
        )
    };
    let series = vec![
        lat("db", 0.005, 0.3, 1),
        lat("a", 0.01, 0.31, 2),
        lat("b", 0.01, 0.31, 3),
        lat("c", 0.01, 0.31, 4),
        lat("front", 0.05, 0.95, 5),
    ];
    let report = analyze(&g, &series, &[], &no_target(), &RcaConfig::default()).unwrap();
    assert_eq!(
        report.hypotheses[0].service, "db",
        "{:?}",
        report.hypotheses
    );
}

#[test]
fn a_callees_traffic_falling_never_explains_its_caller() {
    // Clients stop reaching a service (its certificate expired): its probe fails, and the service
    // it calls sees its traffic vanish at the same moment. Load flows down the call graph, so
    // the callee's traffic is a consequence, not the cause.
    let mut g = ServiceGraph::new();
    g.add_call("payments", "fraud", Provenance::Config);
    let end = FAULT_AT + 100 * STEP;
    let series = vec![
        shaped(
            "payments",
            MetricKind::Availability,
            "probe success",
            (1.0, 0.0),
            (FAULT_AT, end),
            1,
        ),
        shaped(
            "fraud",
            MetricKind::Throughput,
            "request rate",
            (16.0, 0.1),
            (FAULT_AT, end),
            2,
        ),
    ];
    let report = analyze(&g, &series, &[], &no_target(), &RcaConfig::default()).unwrap();
    assert_eq!(
        report.hypotheses[0].service, "payments",
        "{:?}",
        report.hypotheses
    );
    assert!(
        report.hypotheses[0].score > 100.0,
        "{:?}",
        report.hypotheses
    );
}

#[test]
fn a_downstream_blip_before_a_callers_deploy_does_not_explain_the_caller() {
    // A GC pause slows payments for four minutes; three minutes in, checkout is deployed and
    // from then on fails a fifth of its requests. Payments departed first and was still slow when
    // checkout departed, but checkout stayed normal for minutes of it and failed only after its
    // own deploy: the deploy is the cause, not the blip.
    let mut g = ServiceGraph::new();
    g.add_call("web", "checkout", Provenance::Config);
    g.add_call("checkout", "payments", Provenance::Config);
    let end = FAULT_AT + 100 * STEP;
    let deployed = FAULT_AT + 3 * STEP - 10;
    let series = |checkout_from: i64| {
        vec![
            shaped(
                "payments",
                MetricKind::Latency,
                "mean latency",
                (0.05, 0.15),
                (FAULT_AT, FAULT_AT + 4 * STEP),
                1,
            ),
            shaped(
                "checkout",
                MetricKind::Availability,
                "success ratio",
                (0.995, 0.78),
                (checkout_from, end),
                2,
            ),
        ]
    };
    let deploy = ChangeEvent {
        service: "checkout".to_owned(),
        kind: "deploy".to_owned(),
        description: "deploy checkout v2.4.1".to_owned(),
        author: None,
        at: deployed,
    };
    let report = analyze(
        &g,
        &series(FAULT_AT + 3 * STEP),
        std::slice::from_ref(&deploy),
        &no_target(),
        &RcaConfig::default(),
    )
    .unwrap();
    let top = &report.hypotheses[0];
    assert_eq!(top.service, "checkout", "{:?}", report.hypotheses);
    assert!(
        matches!(&top.culprit, Culprit::Change(c) if c.description == deploy.description),
        "{:?}",
        top.culprit
    );

    // Without the deploy, the same timing is a slow callee failing its caller's requests.
    let report = analyze(
        &g,
        &series(FAULT_AT + 3 * STEP),
        &[],
        &no_target(),
        &RcaConfig::default(),
    )
    .unwrap();
    assert_eq!(
        report.hypotheses[0].service, "payments",
        "{:?}",
        report.hypotheses
    );

    // A deploy within a scrape of the callee's onset cannot tell the two apart: checkout,
    // failing as payments slowed, is still payments' victim.
    let early = ChangeEvent {
        at: FAULT_AT + 30,
        ..deploy
    };
    let report = analyze(
        &g,
        &series(FAULT_AT + STEP),
        &[early],
        &no_target(),
        &RcaConfig::default(),
    )
    .unwrap();
    assert_eq!(
        report.hypotheses[0].service, "payments",
        "{:?}",
        report.hypotheses
    );
}

#[test]
fn a_caller_failing_within_a_scrape_of_its_own_deploy_is_explained_by_it() {
    // Checkout is deployed and fails a fifth of its requests from the next scrape on. Payments,
    // which it calls, blips around the same moment — but not across the deploy: either its
    // blip was over before the deploy took effect, or it began only with checkout's failures,
    // after the deploy. Either way the deploy is the nearer antecedent, and checkout the cause.
    let mut g = ServiceGraph::new();
    g.add_call("web", "checkout", Provenance::Config);
    g.add_call("checkout", "payments", Provenance::Config);
    let end = FAULT_AT + 100 * STEP;
    let deploy = ChangeEvent {
        service: "checkout".to_owned(),
        kind: "deploy".to_owned(),
        description: "deploy checkout v2.4.1".to_owned(),
        author: None,
        at: FAULT_AT + 30,
    };
    let series = |payments: (i64, i64)| {
        vec![
            shaped(
                "payments",
                MetricKind::Latency,
                "mean latency",
                (0.05, 0.15),
                payments,
                1,
            ),
            shaped(
                "checkout",
                MetricKind::Availability,
                "success ratio",
                (0.995, 0.78),
                (FAULT_AT + STEP, end),
                2,
            ),
        ]
    };
    let over_before = (FAULT_AT, FAULT_AT + STEP);
    let with_checkout = (FAULT_AT + STEP, FAULT_AT + 3 * STEP);
    for blip in [over_before, with_checkout] {
        let report = analyze(
            &g,
            &series(blip),
            std::slice::from_ref(&deploy),
            &no_target(),
            &RcaConfig::default(),
        )
        .unwrap();
        let top = &report.hypotheses[0];
        assert_eq!(top.service, "checkout", "{blip:?}: {:?}", report.hypotheses);
        assert!(
            matches!(&top.culprit, Culprit::Change(c) if c.description == deploy.description),
            "{blip:?}: {:?}",
            top.culprit
        );
    }

    // Without the deploy, payments slowing as checkout fails is the cause.
    let report = analyze(
        &g,
        &series(with_checkout),
        &[],
        &no_target(),
        &RcaConfig::default(),
    )
    .unwrap();
    assert_eq!(
        report.hypotheses[0].service, "payments",
        "{:?}",
        report.hypotheses
    );
}

#[test]
fn a_change_is_a_suspect_only_where_the_fault_could_have_travelled_from() {
    // Cart's pods fail. Changes went out minutes before elsewhere: on recommendations (a
    // sibling under web), on order-worker (unconnected), on postgres (behind users, which stayed
    // normal). None of them departed, and no service that departed calls them: a fault travels
    // up the call graph through services that show it, so none is a suspect, however close in
    // time.
    let mut g = ServiceGraph::new();
    g.add_call("web", "cart", Provenance::Config);
    g.add_call("web", "recommendations", Provenance::Config);
    g.add_call("cart", "redis", Provenance::Config);
    g.add_call("cart", "users", Provenance::Config);
    g.add_call("users", "postgres", Provenance::Config);
    g.add_call("order-worker", "inventory", Provenance::Config);
    let end = FAULT_AT + 100 * STEP;
    let pods = |from: i64| {
        vec![shaped(
            "cart",
            MetricKind::Availability,
            "pods up",
            (1.0, 0.667),
            (from, end),
            1,
        )]
    };
    let change = |service: &str, at: i64| ChangeEvent {
        service: service.to_owned(),
        kind: "config".to_owned(),
        description: format!("{service}: rotated credentials"),
        author: None,
        at,
    };
    let unrelated = [
        change("recommendations", FAULT_AT - 60),
        change("order-worker", FAULT_AT - 30),
        change("postgres", FAULT_AT - 120),
    ];
    let ranked = |series: &[Series], changes: &[ChangeEvent]| -> Vec<String> {
        analyze(&g, series, changes, &no_target(), &RcaConfig::default())
            .unwrap()
            .hypotheses
            .into_iter()
            .map(|h| h.service)
            .collect()
    };
    assert_eq!(ranked(&pods(FAULT_AT), &unrelated), ["cart"]);

    // A silent callee of the failing service, changed just before it failed, may be the cause
    // (a database whose clients see the errors): it stays a suspect…
    let redis = change("redis", FAULT_AT - 120);
    let got = ranked(&pods(FAULT_AT), std::slice::from_ref(&redis));
    assert!(got.contains(&"redis".to_owned()), "{got:?}");
    // …but not when the change came after cart had already failed.
    let late = change("redis", FAULT_AT + 2 * STEP);
    assert_eq!(ranked(&pods(FAULT_AT), &[late]), ["cart"]);

    // With nothing departed, nothing is named: a change alone is no root cause.
    let report = analyze(
        &g,
        &pods(end),
        &[unrelated.as_slice(), &[redis]].concat(),
        &no_target(),
        &RcaConfig::default(),
    )
    .unwrap();
    assert!(
        matches!(report.verdict, Verdict::NoRootCause { .. }),
        "{:?}",
        report.hypotheses
    );
}

#[test]
fn a_callee_departing_after_its_caller_was_already_failing_explains_nothing() {
    // A cart pod leaks memory: cart's CPU climbs from the start (garbage collection), and minutes
    // later its pods are killed. In between, the cache it calls shows a little more CPU (cart's
    // retries). The cache departed before cart's pods fell, but cart was already departing
    // further, and still is: what the cache showed came after, so it explains nothing.
    let mut g = ServiceGraph::new();
    g.add_call("cart", "redis", Provenance::Config);
    let end = FAULT_AT + 100 * STEP;
    let series = |redis_to: f64| {
        vec![
            shaped(
                "cart",
                MetricKind::Saturation,
                "cpu",
                (0.07, 0.45),
                (FAULT_AT, end),
                1,
            ),
            shaped(
                "cart",
                MetricKind::Availability,
                "pods up",
                (1.0, 0.667),
                (FAULT_AT + 6 * STEP, end),
                2,
            ),
            shaped(
                "redis",
                MetricKind::Saturation,
                "cpu",
                (0.07, redis_to),
                (FAULT_AT + 2 * STEP, FAULT_AT + 5 * STEP),
                3,
            ),
        ]
    };
    let top = |s: &[Series]| {
        analyze(&g, s, &[], &no_target(), &RcaConfig::default())
            .unwrap()
            .hypotheses
            .into_iter()
            .map(|h| h.service)
            .collect::<Vec<_>>()
    };
    assert_eq!(top(&series(0.11)).first().map(String::as_str), Some("cart"));

    // A callee departing further than anything its caller showed before it still explains the
    // caller: the caller's earlier, smaller move is no sign it failed on its own.
    assert_eq!(top(&series(1.5)).first().map(String::as_str), Some("redis"));
}
