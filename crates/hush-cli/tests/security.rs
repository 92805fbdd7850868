//! The security baseline: tokens with roles, refusal to expose an open API, HTTPS.

mod support;

use std::process::Command;
use support::*;

const READ: &str = "read-token-0123456789";
const WRITE: &str = "write-token-0123456789";

#[test]
fn tokens_roles_and_tls() {
    let dir = tempfile::tempdir().unwrap();
    // A self-signed certificate for 127.0.0.1.
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let ok = Command::new(require_binary("openssl", "openssl"))
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let port = free_port();
    let config = format!(
        "auth:\n  tokens:\n    - {{name: grafana, token: {READ}, role: read}}\n    - {{name: prom, token: {WRITE}, role: write}}\ntls:\n  cert_file: {}\n  key_file: {}\n",
        cert.display(),
        key.display()
    );
    std::fs::write(dir.path().join("hush.yaml"), &config).unwrap();
    let _server = spawn(
        Command::new(env!("CARGO_BIN_EXE_hush"))
            .args(["serve", "--config"])
            .arg(dir.path().join("hush.yaml"))
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--listen", &format!("127.0.0.1:{port}")]),
        &dir.path().join("hush.log"),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::builder()
            .tls_danger_accept_invalid_certs(true)
            .build()
            .unwrap();
        let base = format!("https://127.0.0.1:{port}");
        let mut ready = false;
        for _ in 0..100 {
            if c.get(format!("{base}/-/ready"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                ready = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(ready, "https server did not come up");
        let query = format!("{base}/api/v1/query?query=1");
        assert_eq!(c.get(&query).send().await.unwrap().status().as_u16(), 401);
        assert_eq!(
            c.get(&query)
                .bearer_auth("wrong-token-0123456789")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            401
        );
        assert_eq!(
            c.get(&query)
                .bearer_auth(READ)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            200
        );
        // A write token includes read; a read token may not write.
        assert_eq!(
            c.get(&query)
                .bearer_auth(WRITE)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            200
        );
        let w = c
            .post(format!("{base}/api/v1/write"))
            .bearer_auth(READ)
            .body(vec![])
            .send()
            .await
            .unwrap();
        assert_eq!(w.status().as_u16(), 403);
        assert!(w.text().await.unwrap().contains("needs Write"));
        // Plain HTTP on the TLS port is not served.
        let plain = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/-/ready"))
            .send()
            .await;
        assert!(plain.is_err() || !plain.unwrap().status().is_success());
    });
}

#[test]
fn refuses_open_api_beyond_loopback() {
    let out = Command::new(env!("CARGO_BIN_EXE_hush"))
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to listen on non-loopback address") && err.contains("--insecure"),
        "{err}"
    );
}

#[test]
fn config_check_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    std::fs::write(
        &f,
        "listen: 127.0.0.1:9650\nstorage:\n  retention: fortnight\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hush"))
        .args(["config", "check"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml:3:") && err.contains("invalid duration `fortnight`"),
        "{err}"
    );
}

#[test]
fn import_reports_malformed_exposition_with_line_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.prom");
    std::fs::write(&f, "ok_metric 1\nbroken{a=\"1\" 2\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hush"))
        .arg("import")
        .arg(&f)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.prom") && err.contains("line 2"), "{err}");
    // A good file imports, and a CSV error names the file and line.
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "timestamp,value\n1700000000,1\n1700000060,2\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hush"))
        .arg("import")
        .arg(&good)
        .args(["--metric", "m", "--label", "env=test", "--data-dir"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 samples stored"));
    std::fs::write(&good, "timestamp,value\n1700000000,1\n1700000060,abc\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hush"))
        .arg("import")
        .arg(&good)
        .args(["--metric", "m", "--data-dir"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("good.csv") && err.contains("line 3"),
        "{err}"
    );
}
