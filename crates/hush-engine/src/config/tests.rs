use super::*;

fn parse(s: &str) -> Result<Config, ConfigError> {
    Config::parse(s, Path::new("hush.yaml"))
}

#[test]
fn empty_file_gives_defaults() {
    let c = parse("").unwrap();
    assert_eq!(c.listen.value.to_string(), "127.0.0.1:9650");
    assert_eq!(c.storage.retention.0.as_secs(), 15 * 86_400);
    assert!(c.check_exposure(false).is_ok());
}

#[test]
fn full_config_parses() {
    let c = parse(
        "listen: 127.0.0.1:9999\ndata_dir: /tmp/x\nstorage:\n  retention: 30d\n  fsync: 1s\nscrape_configs:\n  - job_name: node\n    scrape_interval: 5s\n    scrape_timeout: 2s\n    static_configs:\n      - targets: ['127.0.0.1:9100']\n        labels: {env: test}\n",
    )
    .unwrap();
    assert_eq!(
        c.scrape_configs[0].static_configs[0].targets[0].value,
        "127.0.0.1:9100"
    );
    assert!(matches!(c.storage.fsync.0, hush_store::FsyncPolicy::Interval(d) if d.as_secs() == 1));
}

#[test]
fn errors_carry_line_and_column() {
    let e = parse("listen: 127.0.0.1:9650\nstorage:\n  retention: 15q\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("hush.yaml:3:"), "{e}");
    assert!(e.contains("invalid duration `15q`"), "{e}");
    let e = parse("listen: 127.0.0.1:9650\nbogus: 1\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("hush.yaml:2:"), "{e}");
    assert!(e.contains("bogus"), "{e}");
    let e = parse("scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://x/metrics']\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("hush.yaml:4:"), "{e}");
}

#[test]
fn non_loopback_needs_tokens() {
    let c = parse("listen: 0.0.0.0:9650\n").unwrap();
    assert!(c.check_exposure(false).unwrap_err().contains("--insecure"));
    assert!(c.check_exposure(true).is_ok());
    let c = parse("listen: 0.0.0.0:9650\nauth:\n  tokens:\n    - {name: g, token: 0123456789abcdef0, role: read}\n").unwrap();
    assert!(c.check_exposure(false).is_ok());
    assert_eq!(format!("{:?}", c.auth.tokens[0].token), "<secret>");
}

#[test]
fn anomaly_alerts_are_off_by_default_and_checked() {
    let c = parse("").unwrap();
    assert!(!c.anomaly_alerts.enabled);
    assert_eq!(c.anomaly_alerts.hold.0.as_secs(), 600);
    let e = parse("anomaly_alerts:\n  min_score: 1.5\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("anomaly_alerts.min_score"), "{e}");
    let e = parse("anomaly_alerts:\n  hold: 0s\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("anomaly_alerts.hold"), "{e}");
}
