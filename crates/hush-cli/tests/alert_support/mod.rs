//! Helpers for the alert and notification suites: a local webhook receiver (a real axum
//! server) and a local SMTP server (Python's aiosmtpd, writing a maildir).

#![allow(dead_code)]

use serde_json::Value as J;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{Proc, free_port, spawn};

/// Every request a [`Receiver`] got: (path, JSON body).
pub type Received = Arc<Mutex<Vec<(String, J)>>>;

/// An HTTP server on 127.0.0.1 that records every POST and answers 200.
pub struct Receiver {
    pub port: u16,
    pub got: Received,
    _rt: tokio::runtime::Runtime,
}

impl Receiver {
    pub fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let got: Received = Arc::default();
        let g = got.clone();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let app =
            axum::Router::new().fallback(move |uri: axum::http::Uri, body: axum::body::Bytes| {
                let g = g.clone();
                async move {
                    let j: J = serde_json::from_slice(&body).unwrap_or(J::Null);
                    g.lock().unwrap().push((uri.path().to_string(), j));
                    "ok"
                }
            });
        rt.spawn(async move { axum::serve(listener, app).await });
        Self { port, got, _rt: rt }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Bodies received on `path` so far.
    pub fn on(&self, path: &str) -> Vec<J> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, j)| j.clone())
            .collect()
    }
}

/// An SMTP server (aiosmtpd) storing every message in a maildir.
pub struct Smtp {
    pub port: u16,
    pub maildir: PathBuf,
    _proc: Proc,
}

impl Smtp {
    pub fn start(dir: &Path) -> Self {
        let ok = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "Python's aiosmtpd is missing: `pip install aiosmtpd` (.ci/run does)"
        );
        let port = free_port();
        let maildir = dir.join("maildir");
        let proc = spawn(
            Command::new("python3")
                .args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{port}"))
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(&maildir),
            &dir.join("smtp.log"),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            port,
            maildir,
            _proc: proc,
        }
    }

    /// Every message delivered so far, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<(std::time::SystemTime, String)> = ["new", "cur"]
            .iter()
            .filter_map(|d| std::fs::read_dir(self.maildir.join(d)).ok())
            .flatten()
            .flatten()
            .filter_map(|e| {
                let t = e.metadata().ok()?.modified().ok()?;
                Some((t, std::fs::read_to_string(e.path()).ok()?))
            })
            .collect();
        files.sort_by_key(|(t, _)| *t);
        files.into_iter().map(|(_, m)| m).collect()
    }
}

/// Polls `f` until it returns true or `timeout` passes.
pub fn eventually(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
