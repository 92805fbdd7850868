//! The scraper: one task per target, pulling Prometheus text or OpenMetrics on a fixed
//! interval and storing the samples with `job`/`instance` labels, plus `up` and
//! `scrape_duration_seconds` per target, as Prometheus does.

use crate::Engine;
use crate::config::ScrapeConfig;
use hush_model::{Labels, Sample, TimeSeries};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// One target of one job.
#[derive(Debug, Clone)]
pub struct Target {
    pub job: String,
    pub url: String,
    /// `job`, `instance` and the static labels, attached to every scraped series.
    pub labels: Labels,
    pub interval: Duration,
    pub timeout: Duration,
}

/// Expands a job's static configs into targets.
pub fn targets(sc: &ScrapeConfig) -> Vec<Target> {
    let mut out = Vec::new();
    for st in &sc.static_configs {
        for t in &st.targets {
            let mut pairs: Vec<(String, String)> = st
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            pairs.retain(|(k, _)| k != "job" && k != "instance");
            pairs.push(("job".into(), sc.job_name.clone()));
            pairs.push(("instance".into(), t.value.clone()));
            let Ok(labels) = Labels::from_pairs(pairs) else {
                tracing::warn!(job = %sc.job_name, target = %t.value, "invalid static labels; target skipped");
                continue;
            };
            out.push(Target {
                job: sc.job_name.clone(),
                url: format!("{}://{}{}", sc.scheme, t.value, sc.metrics_path),
                labels,
                interval: sc.scrape_interval.0,
                timeout: sc.scrape_timeout.0,
            });
        }
    }
    out
}

/// Attaches target labels; a scraped label that collides is kept as `exported_<name>`.
fn attach(series: &mut [TimeSeries], target: &Labels) {
    for ts in series {
        let mut l = ts.labels.clone();
        for tl in target.iter() {
            if let Some(v) = l.get(&tl.name).map(str::to_string)
                && v != tl.value
            {
                l = l.with(&format!("exported_{}", tl.name), &v);
            }
            l = l.with(&tl.name, &tl.value);
        }
        ts.labels = l;
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Runs one target until `stop` changes.
pub async fn run_target(engine: Arc<Engine>, target: Target, mut stop: watch::Receiver<bool>) {
    let client = match reqwest::Client::builder().timeout(target.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(url = %target.url, error = %e, "cannot build http client; target not scraped");
            return;
        }
    };
    // Spread targets over the interval so they do not all fire at once.
    let offset = target.labels.series_id().0 % target.interval.as_millis().max(1) as u64;
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_millis(offset),
        target.interval,
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut limits = engine.limits.clone();
    limits.non_finite = hush_ingest::NonFinite::Drop;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let started = Instant::now();
        let ts = now_ms();
        let result = scrape_once(&client, &target, ts, &limits).await;
        let took = started.elapsed().as_secs_f64();
        let (mut series, up) = match result {
            Ok(s) => (s, 1.0),
            Err(e) => {
                tracing::debug!(url = %target.url, error = %e, "scrape failed");
                (Vec::new(), 0.0)
            }
        };
        let scraped = series.len() as f64;
        attach(&mut series, &target.labels);
        for (name, v) in [
            ("up", up),
            ("scrape_duration_seconds", took),
            ("scrape_samples_scraped", scraped),
        ] {
            series.push(TimeSeries::new(
                target.labels.with("__name__", name),
                vec![Sample::new(ts, v)],
            ));
        }
        if let Err(e) = engine.ingest(series, "scrape").await {
            tracing::warn!(url = %target.url, error = %e, "storing scrape failed");
        }
    }
}

async fn scrape_once(
    client: &reqwest::Client,
    target: &Target,
    ts: i64,
    limits: &hush_ingest::Limits,
) -> anyhow::Result<Vec<TimeSeries>> {
    let resp = client
        .get(&target.url)
        .header(
            "Accept",
            "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4",
        )
        .send()
        .await?
        .error_for_status()?;
    let body = resp.text().await?;
    Ok(hush_ingest::parse_exposition(&body, ts, limits)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_labels_are_exported() {
        let target = Labels::from_pairs([("job", "node"), ("instance", "h:1")]).unwrap();
        let mut s = vec![TimeSeries::new(
            Labels::from_pairs([("__name__", "x"), ("job", "other")]).unwrap(),
            vec![],
        )];
        attach(&mut s, &target);
        assert_eq!(s[0].labels.get("job"), Some("node"));
        assert_eq!(s[0].labels.get("exported_job"), Some("other"));
        assert_eq!(s[0].labels.get("instance"), Some("h:1"));
    }
}
