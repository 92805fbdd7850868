//! The incidents as the demo shows them: the server's incidents with the simulator's truth.

use serde::Serialize;
use std::sync::{Mutex, MutexGuard};

/// One incident with its named root cause.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub id: String,
    /// When its first alert arrived, RFC 3339 in simulated time.
    pub opened: String,
    pub opened_ms: i64,
    pub priority: String,
    pub state: String,
    pub services: Vec<String>,
    pub alerts: usize,
    /// The top suspect, `None` while the ranker abstains.
    pub root_cause: Option<String>,
    /// The chain from the suspect to the symptom in one line.
    pub summary: Option<String>,
    pub evidence: Vec<String>,
    /// The top suspects in rank order.
    pub ranked: Vec<String>,
    /// The simulator's root cause for the fault most of its alerts belong to; `None` for noise.
    pub truth: Option<String>,
    /// `right`, `wrong`, `noise` or `abstained`.
    pub verdict: String,
}

/// Incidents in the order they opened.
#[derive(Default)]
pub struct Board {
    views: Mutex<Vec<View>>,
}

impl Board {
    /// The list; a panic elsewhere while holding the lock leaves data that is still readable.
    pub fn lock(&self) -> MutexGuard<'_, Vec<View>> {
        self.views.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn upsert(&self, v: View) {
        let mut views = self.lock();
        match views.iter_mut().find(|o| o.id == v.id) {
            Some(o) => *o = v,
            None => views.push(v),
        }
    }

    pub fn snapshot(&self) -> Vec<View> {
        self.lock().clone()
    }
}
