//! `/metrics` in Prometheus's text format.
//!
//! Counts that live in the store (deliveries by channel and state, the queue, each
//! job's last success) are read from it at every scrape, so they are true after a
//! restart and across processes; what only this process sees (how long each send
//! and each planning run took) is recorded as it happens, in histograms.

use std::sync::OnceLock;

use jiff::Timestamp;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::app::App;

/// The process's recorder, installed once: the first `herald serve` in a process
/// installs it (tests start several services in one process only through the
/// binary, never in-process).
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder if nothing else did; `None` when another recorder is set.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    30.0, 60.0,
                ])
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// Seconds a delivery attempt took, by channel and outcome.
pub fn record_send(channel: &'static str, outcome: &'static str, seconds: f64) {
    metrics::histogram!("herald_send_seconds", "channel" => channel, "outcome" => outcome)
        .record(seconds);
}

/// Seconds a planning run took.
pub fn record_plan(seconds: f64) {
    metrics::histogram!("herald_plan_seconds").record(seconds);
}

/// The whole scrape: gauges from the store, then the recorder's histograms.
pub async fn render(app: &App, now: Timestamp) -> anyhow::Result<String> {
    let (counts, due) = app.store.delivery_counts(now).await?;
    let jobs = app.store.service_jobs().await?;
    let mut out = String::new();
    out.push_str("# HELP herald_deliveries Deliveries in the store by channel and state.\n");
    out.push_str("# TYPE herald_deliveries gauge\n");
    for (channel, state, n) in &counts {
        out.push_str(&format!(
            "herald_deliveries{{channel=\"{channel}\",state=\"{state}\"}} {n}\n"
        ));
    }
    out.push_str(
        "# HELP herald_queue_due Deliveries due now and not yet taken by a sender.\n# TYPE herald_queue_due gauge\n",
    );
    out.push_str(&format!("herald_queue_due {due}\n"));
    out.push_str("# HELP herald_job_last_success_timestamp_seconds When each job of the service last succeeded, per node.\n# TYPE herald_job_last_success_timestamp_seconds gauge\n");
    for j in &jobs {
        if let Some(ok) = j.last_ok {
            out.push_str(&format!(
                "herald_job_last_success_timestamp_seconds{{job=\"{}\",node=\"{}\"}} {}\n",
                j.job,
                j.holder,
                ok.as_millisecond() as f64 / 1000.0
            ));
        }
    }
    out.push_str("# HELP herald_job_failures_total Failed runs of each job of the service, per node.\n# TYPE herald_job_failures_total counter\n");
    for j in &jobs {
        out.push_str(&format!(
            "herald_job_failures_total{{job=\"{}\",node=\"{}\"}} {}\n",
            j.job, j.holder, j.failures
        ));
    }
    if let Some(h) = HANDLE.get().and_then(Option::as_ref) {
        out.push_str(&h.render());
    }
    Ok(out)
}
