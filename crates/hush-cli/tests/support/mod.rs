//! Helpers for end-to-end tests: free ports, child processes that die with the test, and
//! polling until something answers.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// reqwest is built without a default TLS provider; tests install the same one as the server.
pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn free_port() -> u16 {
    init();
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A child process killed (SIGKILL) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn spawn(cmd: &mut Command, log: &Path) -> Proc {
    let out = std::fs::File::create(log).expect("log file");
    let err = out.try_clone().expect("log file");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("failed to start {cmd:?}: {e}"));
    Proc(child)
}

/// Starts `hush serve` with `config` (YAML) in `dir`, returning once it is ready.
pub fn hush(dir: &Path, port: u16, config: &str) -> Proc {
    let cfg = dir.join("hush.yaml");
    std::fs::write(&cfg, config).expect("write config");
    let p = spawn(
        Command::new(env!("CARGO_BIN_EXE_hush"))
            .arg("serve")
            .arg("--config")
            .arg(&cfg)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}")),
        &dir.join(format!("hush-{}.log", Instant::now().elapsed().as_nanos())),
    );
    wait_http(
        &format!("http://127.0.0.1:{port}/-/ready"),
        Duration::from_secs(30),
    );
    p
}

/// Polls `url` until it answers 200.
pub fn wait_http(url: &str, timeout: Duration) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let deadline = Instant::now() + timeout;
    rt.block_on(async {
        let c = reqwest::Client::new();
        loop {
            if let Ok(r) = c.get(url).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{url} did not become ready within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
}

/// Finds a binary on PATH or fails the test with what to install.
pub fn require_binary(name: &str, package: &str) -> String {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p.to_string_lossy().into_owned();
        }
    }
    panic!("`{name}` not found on PATH: install the Debian package `{package}` (.ci/run does)");
}

/// A cluster node's `GET /api/v1/cluster/status` data, `None` while it cannot answer.
pub async fn status(c: &reqwest::Client, port: u16) -> Option<serde_json::Value> {
    let r = c
        .get(format!("http://127.0.0.1:{port}/api/v1/cluster/status"))
        .send()
        .await
        .ok()?;
    r.status().is_success().then_some(())?;
    Some(r.json::<serde_json::Value>().await.ok()?["data"].clone())
}

/// Owners of every shard when each has one, else `None`.
pub fn owners(status: &serde_json::Value) -> Option<Vec<String>> {
    status["shard_owners"]
        .as_array()?
        .iter()
        .map(|s| s["owner"].as_str().map(str::to_string))
        .collect()
}
