//! Logs into a running server from real senders — util-linux `logger` and rsyslog over UDP and
//! TCP, the Python OpenTelemetry SDK over OTLP/HTTP, JSON lines — found again through the API
//! with their templates; a surge raising a log anomaly; bad input refused or repaired, counted,
//! with the server still serving.

mod support;

use serde_json::{Value as J, json};
use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("free udp port")
}

struct Server {
    _proc: Proc,
    port: u16,
    udp: u16,
    tcp: u16,
}

fn start(dir: &Path, extra: &str) -> Server {
    let (port, udp, tcp) = (free_port(), free_udp_port(), free_port());
    let cfg = format!(
        "logs:\n  flush_interval: 1s\n  syslog:\n    udp: 127.0.0.1:{udp}\n    tcp: 127.0.0.1:{tcp}\n{extra}"
    );
    let p = hush(dir, port, &cfg);
    Server {
        _proc: p,
        port,
        udp,
        tcp,
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn get(port: u16, path: &str) -> J {
    rt().block_on(async {
        let r = reqwest::get(format!("http://127.0.0.1:{port}{path}"))
            .await
            .unwrap();
        let status = r.status();
        let body: J = r.json().await.unwrap();
        assert!(status.is_success(), "GET {path}: {status} {body}");
        body
    })
}

fn post(port: u16, path: &str, ct: &str, body: Vec<u8>) -> (u16, J) {
    rt().block_on(async {
        let r = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}{path}"))
            .header("Content-Type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(J::Null))
    })
}

/// Polls `GET path` until `data` has at least `n` entries.
fn wait_for(port: u16, path: &str, n: usize) -> Vec<J> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let data = get(port, path)["data"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if data.len() >= n {
            return data;
        }
        assert!(
            Instant::now() < deadline,
            "{path}: {} of {n} entries after 30s: {data:?}",
            data.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The lines of `service` and the template they share, which must read `template`.
fn check_lines_and_template(port: u16, service: &str, n: usize, template: &str) {
    let lines = wait_for(
        port,
        &format!("/api/v1/logs?service={service}&limit=1000"),
        n,
    );
    assert_eq!(lines.len(), n, "{lines:?}");
    let templates = get(port, &format!("/api/v1/log-templates?service={service}"))["data"]
        .as_array()
        .cloned()
        .unwrap();
    let t = templates
        .iter()
        .find(|t| t["template"] == template)
        .unwrap_or_else(|| panic!("no template `{template}` for {service}: {templates:?}"));
    assert_eq!(t["services"][service], n as u64, "{t}");
    for l in &lines {
        assert_eq!(l["template_id"], t["id"], "{l}");
    }
    // The template filter finds the same lines.
    let by_template = get(
        port,
        &format!(
            "/api/v1/logs?template={}&limit=1000",
            t["id"].as_str().unwrap()
        ),
    )["data"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(by_template, n);
}

#[test]
fn logger_over_udp_and_tcp_with_both_framings() {
    let logger = require_binary("logger", "bsdutils");
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), "");
    let send = |args: &[&str], msg: &str| {
        let st = Command::new(&logger)
            .args(["--server", "127.0.0.1"])
            .args(args)
            .arg(msg)
            .status()
            .unwrap();
        assert!(st.success());
    };
    let (udp, tcp) = (s.udp.to_string(), s.tcp.to_string());
    for i in 0..6 {
        send(
            &[
                "--udp",
                "--port",
                &udp,
                "--rfc5424",
                "-t",
                "billing",
                "-p",
                "user.err",
            ],
            &format!("invoice {i} could not be rendered"),
        );
        send(
            &["--udp", "--port", &udp, "--rfc3164", "-t", "legacy"],
            &format!("cron job {} finished", 100 + i),
        );
        send(
            &["--tcp", "--port", &tcp, "--octet-count", "-t", "shipping"],
            &format!("parcel {} handed to carrier", 7000 + i),
        );
        send(
            &["--tcp", "--port", &tcp, "-t", "auth"],
            &format!("session {} expired", 31 + i),
        );
    }
    check_lines_and_template(s.port, "billing", 6, "invoice <*> could not be rendered");
    check_lines_and_template(s.port, "legacy", 6, "cron job <*> finished");
    check_lines_and_template(s.port, "shipping", 6, "parcel <*> handed to carrier");
    check_lines_and_template(s.port, "auth", 6, "session <*> expired");
    let err = get(s.port, "/api/v1/logs?service=billing&level=error")["data"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(err, 6, "user.err maps to level error");
    // A new error-level template is a log anomaly.
    let a = get(
        s.port,
        "/api/v1/log-anomalies?service=billing&kind=new_error_template",
    );
    assert_eq!(a["data"].as_array().unwrap().len(), 1, "{a}");
}

#[test]
fn rsyslog_forwards_over_tcp_and_udp() {
    let rsyslogd = require_binary("rsyslogd", "rsyslog");
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), "");
    let work = dir.path().join("rsyslog");
    std::fs::create_dir_all(&work).unwrap();
    let (in_tcp, in_udp) = (free_port(), free_port());
    let conf = format!(
        r#"global(workDirectory="{work}")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="{in_tcp}" ruleset="viatcp")
input(type="imtcp" address="127.0.0.1" port="{in_udp}" ruleset="viaudp")
ruleset(name="viatcp") {{
  action(type="omfwd" target="127.0.0.1" port="{tcp}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
}}
ruleset(name="viaudp") {{
  action(type="omfwd" target="127.0.0.1" port="{udp}" protocol="udp")
}}
"#,
        work = work.display(),
        tcp = s.tcp,
        udp = s.udp,
    );
    let conf_path = work.join("rsyslog.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let _rsyslog = spawn(
        Command::new(&rsyslogd)
            .arg("-n")
            .arg("-f")
            .arg(&conf_path)
            .arg("-i")
            .arg(work.join("rsyslog.pid")),
        &dir.path().join("rsyslog.log"),
    );
    let connect = |port: u16| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(c) = TcpStream::connect(("127.0.0.1", port)) {
                return c;
            }
            assert!(
                Instant::now() < deadline,
                "rsyslog did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let mut a = connect(in_tcp);
    let mut b = connect(in_udp);
    for i in 0..5 {
        writeln!(a, "<11>1 - web-3 orders - - - payment {i} declined by bank").unwrap();
        writeln!(b, "<14>1 - web-4 search - - - query took {} ms", 10 + i).unwrap();
    }
    a.flush().unwrap();
    b.flush().unwrap();
    check_lines_and_template(s.port, "orders", 5, "payment <*> declined by bank");
    check_lines_and_template(s.port, "search", 5, "query took <*>");
    let l = &get(s.port, "/api/v1/logs?service=orders&limit=1")["data"][0];
    assert_eq!(
        (l["host"].as_str(), l["level"].as_str()),
        (Some("web-3"), Some("error"))
    );
}

#[test]
fn python_opentelemetry_sdk_sends_logs() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), "");
    let script = format!(
        r#"
import logging
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk.resources import Resource

provider = LoggerProvider(resource=Resource.create({{"service.name": "cart", "host.name": "pod-9"}}))
provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint="http://127.0.0.1:{port}/v1/logs")))
log = logging.getLogger("cart")
log.setLevel(logging.INFO)
log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=provider))
for i in range(8):
    log.warning("cart %d abandoned after %d items", 500 + i, i + 1)
provider.shutdown()
"#,
        port = s.port
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python3 failed (pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_lines_and_template(s.port, "cart", 8, "cart <*> abandoned after <*> items");
    let l = &get(s.port, "/api/v1/logs?service=cart&limit=1")["data"][0];
    assert_eq!(
        (l["host"].as_str(), l["level"].as_str()),
        (Some("pod-9"), Some("warn"))
    );
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn a_surge_of_a_known_error_template_is_a_log_anomaly_and_counts_are_series() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), "anomaly_alerts:\n  enabled: true\n");
    // Forty minutes of two timeouts a minute, then a minute with 120: sent as JSON lines with
    // their own timestamps so the test does not wait forty minutes.
    let now = now_ms() / 60_000 * 60_000;
    let mut body = String::new();
    for m in (3..43).rev() {
        for i in 0..2 {
            let t = now - m * 60_000 + i * 1000;
            body.push_str(
                &json!({"ts": t, "service": "payments", "level": "error",
                "text": format!("gateway timeout after {} ms for order {}", 3000 + i, m * 10 + i)})
                .to_string(),
            );
            body.push('\n');
        }
    }
    for i in 0..120 {
        let t = now - 2 * 60_000 + i * 100;
        body.push_str(
            &json!({"ts": t, "service": "payments", "level": "error",
            "text": format!("gateway timeout after {} ms for order {}", 5000 + i, 9000 + i)})
            .to_string(),
        );
        body.push('\n');
    }
    let (status, r) = post(
        s.port,
        "/api/v1/logs?message_field=text",
        "application/x-ndjson",
        body.into_bytes(),
    );
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["data"]["accepted"], 200);
    let a = wait_for(s.port, "/api/v1/log-anomalies?kind=surge", 1);
    assert_eq!(a.len(), 1, "only the surging minute: {a:?}");
    let a = &a[0];
    assert_eq!(a["service"], "payments");
    assert_eq!(a["count"], 120);
    assert_eq!(a["template"], "gateway timeout after <*> for order <*>");
    assert!(a["expected_per_minute"].as_f64().unwrap() < 3.0, "{a}");
    assert!(!a["examples"].as_array().unwrap().is_empty());
    assert!(
        a["examples"][0]
            .as_str()
            .unwrap()
            .starts_with("gateway timeout after 5"),
        "{a}"
    );
    // The per-minute counts are series PromQL reads.
    let q = format!(
        "/api/v1/query?query=hush_log_template_count%7Bservice%3D%22payments%22%7D&time={}",
        (now - 2 * 60_000) as f64 / 1000.0
    );
    let v = get(s.port, &q);
    let res = v["data"]["result"].as_array().unwrap();
    assert_eq!(res.len(), 1, "{v}");
    assert_eq!(res[0]["metric"]["level"], "error");
    assert_eq!(res[0]["value"][1], "120");
    // The surge became an alert of the incident pipeline; the template's first error line,
    // forty minutes old when seen, pages no one.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let alerts = loop {
        let j = get(s.port, "/api/v1/alerts?source=anomaly");
        let list = j["data"]
            .as_array()
            .unwrap_or_else(|| panic!("{j}"))
            .clone();
        if !list.is_empty() {
            break list;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no log anomaly alerts: {j}"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    let by_name = |n: &str| {
        alerts
            .iter()
            .find(|a| a["name"] == n)
            .unwrap_or_else(|| panic!("no {n}: {alerts:?}"))
    };
    let surge = by_name("HushLogSurge");
    assert_eq!(surge["status"], "firing", "{surge}");
    assert_eq!(surge["labels"]["service"], "payments", "{surge}");
    assert_eq!(
        surge["annotations"]["template"],
        "gateway timeout after <*> for order <*>"
    );
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let j = get(s.port, "/api/v1/incidents");
    let list = j["data"].as_array().unwrap_or_else(|| panic!("{j}"));
    assert!(
        list.iter()
            .any(|i| i["title"].as_str().unwrap_or("").contains("HushLogSurge")),
        "no incident for the surge: {j}"
    );
}

#[test]
fn bad_input_is_refused_or_repaired_counted_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), "  max_message_bytes: 65536\n");
    // HTTP: refused whole with a 4xx naming the problem.
    let (st, r) = post(s.port, "/v1/logs", "application/x-protobuf", vec![0xff; 64]);
    assert_eq!(st, 400, "{r}");
    assert!(
        r["error"].as_str().unwrap().starts_with("bad_protobuf"),
        "{r}"
    );
    let (st, r) = post(
        s.port,
        "/v1/logs",
        "application/json",
        b"{\"resourceLogs\":[".to_vec(),
    );
    assert_eq!(st, 400, "{r}");
    let (st, r) = post(
        s.port,
        "/api/v1/logs",
        "application/x-ndjson",
        b"{\"message\":\"fine\"}\n{\"other\":1}\n".to_vec(),
    );
    assert_eq!(st, 400, "{r}");
    assert!(r["error"].as_str().unwrap().contains("line 2"), "{r}");
    let (st, _) = post(s.port, "/v1/logs", "text/plain", b"x".to_vec());
    assert_eq!(st, 415);
    // Invalid UTF-8 and a 1 MiB line over HTTP: decoded lossily and cut, counted.
    let mut body = b"{\"message\":\"utf8 \xff\xfe broken\",\"service\":\"bad\"}\n".to_vec();
    body.extend_from_slice(
        format!(
            "{{\"message\":\"{}\",\"service\":\"bad\"}}\n",
            "A".repeat(1 << 20)
        )
        .as_bytes(),
    );
    let (st, r) = post(s.port, "/api/v1/logs", "application/x-ndjson", body);
    assert_eq!(st, 200, "{r}");

    // Syslog over TCP: garbage, invalid UTF-8, a 1 MiB line, an oversized octet count and a
    // truncated frame, then a good line on the same connection.
    let mut c = TcpStream::connect(("127.0.0.1", s.tcp)).unwrap();
    let mut garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    garbage.retain(|b| *b != b'\n');
    garbage.push(b'\n');
    c.write_all(&garbage).unwrap();
    c.write_all(b"<11>1 - h tcpbad - - - bytes \xc3\x28 here\n")
        .unwrap();
    c.write_all(&vec![b'B'; 1 << 20]).unwrap();
    c.write_all(b"\n").unwrap();
    c.write_all(b"999999999 <11>1 - h tcpbad - - - never\n")
        .unwrap();
    drop(c);
    let mut c = TcpStream::connect(("127.0.0.1", s.tcp)).unwrap();
    c.write_all(b"<11>1 - h tcpbad - - - after the storm 1\n")
        .unwrap();
    c.write_all(b"40 <11>1 - h tcpbad - - - cut").unwrap();
    drop(c);
    // Syslog over UDP: an empty datagram, binary garbage, and a good one.
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    u.send_to(b"", ("127.0.0.1", s.udp)).unwrap();
    u.send_to(&garbage[..1000], ("127.0.0.1", s.udp)).unwrap();
    u.send_to(
        b"<11>1 - h udpbad - - - after the storm 2",
        ("127.0.0.1", s.udp),
    )
    .unwrap();

    wait_for(s.port, "/api/v1/logs?service=udpbad", 1);
    let tcp_lines = wait_for(s.port, "/api/v1/logs?service=tcpbad", 2);
    assert!(
        tcp_lines
            .iter()
            .any(|l| l["message"] == "bytes \u{fffd}( here"),
        "{tcp_lines:?}"
    );
    let stats = wait_stats(
        s.port,
        &[
            "frame_too_large",
            "bad_frame",
            "invalid_utf8",
            "truncated",
            "empty_frame",
        ],
    );
    let reasons = &stats["reasons"];
    // The 1 MiB syslog line and the 999999999-byte octet count.
    assert!(reasons["frame_too_large"].as_u64().unwrap() >= 2, "{stats}");
    assert!(reasons["invalid_utf8"].as_u64().unwrap() >= 2, "{stats}");
    assert_eq!(reasons["truncated"], 1, "{stats}");
    assert_eq!(reasons["bad_frame"], 1, "{stats}");
    // The cut line kept exactly the configured bytes.
    let long = get(s.port, "/api/v1/logs?service=bad&q=AAAA&limit=1");
    assert_eq!(long["data"][0]["message"].as_str().unwrap().len(), 65536);
    // Still serving, and the self-metrics count the refusals.
    wait_http(
        &format!("http://127.0.0.1:{}/-/ready", s.port),
        Duration::from_secs(5),
    );
}

fn wait_stats(port: u16, reasons: &[&str]) -> J {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let st = get(port, "/api/v1/log-stats")["data"].clone();
        if reasons.iter().all(|r| st["reasons"][*r].as_u64().is_some()) {
            return st;
        }
        assert!(
            Instant::now() < deadline,
            "reasons {reasons:?} not all counted: {st}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn templates_and_raw_lines_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..5)
        .map(|i| {
            json!({"message": format!("worker {i} restarted"), "service": "jobs"}).to_string()
                + "\n"
        })
        .collect();
    let id = {
        let s = start(dir.path(), "");
        let (st, r) = post(
            s.port,
            "/api/v1/logs",
            "application/x-ndjson",
            lines.into_bytes(),
        );
        assert_eq!(st, 200, "{r}");
        let t = get(s.port, "/api/v1/log-templates?service=jobs")["data"][0].clone();
        assert_eq!(t["template"], "worker <*> restarted");
        // SIGTERM: a clean shutdown seals the open segment and saves the miner.
        let pid = s._proc.0.id();
        assert!(
            Command::new("kill")
                .arg(pid.to_string())
                .status()
                .unwrap()
                .success()
        );
        let mut s = s;
        s._proc.0.wait().unwrap();
        t["id"].clone()
    };
    let s = start(dir.path(), "");
    let t = get(s.port, "/api/v1/log-templates?service=jobs")["data"][0].clone();
    assert_eq!(
        (t["id"].clone(), t["count"].clone()),
        (id.clone(), json!(5))
    );
    assert_eq!(
        get(s.port, "/api/v1/logs?service=jobs")["data"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    // A new line of the same shape joins the same template.
    let (st, _) = post(
        s.port,
        "/api/v1/logs",
        "application/x-ndjson",
        b"{\"message\":\"worker 77 restarted\",\"service\":\"jobs\"}".to_vec(),
    );
    assert_eq!(st, 200);
    let t = get(s.port, "/api/v1/log-templates?service=jobs")["data"][0].clone();
    assert_eq!((t["id"].clone(), t["count"].clone()), (id, json!(6)));
}

/// Stops a server as an operator would (SIGTERM) and waits for it to exit.
fn stop_server(mut s: Server) {
    let pid = s._proc.0.id();
    assert!(
        Command::new("kill")
            .arg(pid.to_string())
            .status()
            .unwrap()
            .success()
    );
    s._proc.0.wait().unwrap();
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// Messages of the tailed service through `GET /api/v1/logs`, oldest first, once `n` are there.
fn tailed(port: u16, n: usize) -> Vec<String> {
    let mut v: Vec<String> = wait_for(port, "/api/v1/logs?service=tailed&limit=1000", n)
        .iter()
        .map(|l| l["message"].as_str().unwrap().to_string())
        .collect();
    v.reverse();
    v
}

#[test]
fn tailed_files_follow_appends_rotation_truncation_new_files_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("varlog");
    std::fs::create_dir(&logs).unwrap();
    let app = logs.join("app.log");
    let extra = format!(
        "  file_poll_interval: 100ms\n  files:\n    - {{path: '{}/*.log', service: tailed}}\n",
        logs.display()
    );
    append(
        &app,
        "request 1 served in 12 ms\nrequest 2 served in 7 ms\n",
    );
    let s = start(dir.path(), &extra);
    assert_eq!(tailed(s.port, 2).len(), 2);

    // Rotation by rename: the writer still holds the old file and writes once more.
    let mut old = std::fs::OpenOptions::new().append(true).open(&app).unwrap();
    std::fs::rename(&app, logs.join("app.log.1")).unwrap();
    old.write_all(b"request 3 served in 9 ms\n").unwrap();
    append(&app, "request 4 served in 3 ms\n");
    // copytruncate on the new file, then a file the glob did not match before.
    let got = tailed(s.port, 4);
    assert_eq!(
        got[2..],
        ["request 3 served in 9 ms", "request 4 served in 3 ms"]
    );
    std::fs::copy(&app, logs.join("app.log.2")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&app)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&app, "request 5 served in 4 ms\n");
    tailed(s.port, 5);
    append(&logs.join("worker.log"), "request 6 served in 8 ms\n");
    tailed(s.port, 6);
    // A line without its newline yet is not taken.
    append(&app, "request 7 served in 1");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(tailed(s.port, 6).len(), 6);
    let st = get(s.port, "/api/v1/log-stats")["data"].clone();
    assert_eq!(st["reasons"]["file_truncated"], 1, "{st}");
    stop_server(s);

    // Written while the server is down: read after the restart, and nothing twice.
    append(&app, "1 ms\nrequest 8 served in 2 ms\n");
    let s = start(dir.path(), &extra);
    let got = tailed(s.port, 8);
    std::thread::sleep(Duration::from_millis(500));
    let again = tailed(s.port, 8);
    let want: Vec<String> = [12, 7, 9, 3, 4, 8, 11, 2]
        .iter()
        .enumerate()
        .map(|(i, ms)| format!("request {} served in {ms} ms", i + 1))
        .collect();
    assert_eq!(again, want, "exactly once, in order");
    assert_eq!(got, want);
    let t = get(s.port, "/api/v1/log-templates?service=tailed")["data"][0].clone();
    // `ms` after a number is a unit, part of the variable.
    assert_eq!(t["template"], "request <*> served in <*>", "{t}");
    assert_eq!(t["services"]["tailed"], 8, "{t}");
    let st = get(s.port, "/api/v1/log-stats")["data"].clone();
    assert_eq!(st["files"].as_array().unwrap().len(), 3, "{st}");
}
