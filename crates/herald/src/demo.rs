//! `herald demo`: herald's main job on the embedded defaults, end to end. A fresh
//! workspace, a realistic dataset fed in day by day as a business system would
//! (invoices on their issue date, payments on their payment date), one run per
//! simulated day, then a summary. Deterministic: the same seed, the same output.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use herald_render::TemplateSet;
use herald_store::Store;
use jiff::ToSpan;
use jiff::civil::Date;

use crate::app::App;
use crate::clock::parse_now;
use crate::config::{Config, STARTER_CONFIG};
use crate::demo_data::demo_dataset;
use crate::jobs::{self, PlanOptions};
use herald_core::planner::local_date;

const MARKER: &str = "# herald demo workspace: `herald demo` deletes and recreates this folder.\n";

/// The first simulated day. Fixed, so the demo's output does not depend on the date.
pub fn demo_start() -> Date {
    jiff::civil::date(2026, 9, 1)
}

fn fresh_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let cfg = dir.join("herald.toml");
        let is_demo = std::fs::read_to_string(&cfg).is_ok_and(|s| s.starts_with(MARKER));
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !is_demo && !empty {
            bail!(crate::cli::InputError(format!(
                "{} exists and is not a herald demo workspace; choose another --dir",
                dir.display()
            )));
        }
        if is_demo {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("removing the old demo in {}", dir.display()))?;
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

/// The records dated in `(after, until]` (`after` `None`: everything up to `until`).
fn arriving<T: Clone>(
    items: &[T],
    date_of: impl Fn(&T) -> Date,
    after: Option<Date>,
    until: Date,
) -> Vec<T> {
    items
        .iter()
        .filter(|x| date_of(x) <= until && after.is_none_or(|a| date_of(x) > a))
        .cloned()
        .collect()
}

pub async fn run_demo(dir: &Path, days: u32, seed: u64) -> anyhow::Result<ExitCode> {
    fresh_dir(dir)?;
    let cfg_path = dir.join("herald.toml");
    std::fs::write(&cfg_path, format!("{MARKER}{STARTER_CONFIG}"))?;
    let config = Config::load(&cfg_path, &BTreeMap::new())?;
    TemplateSet::write_builtin(&config.templates_dir)?;
    Store::open(&config.store_url).await?;
    let app = App::open(config).await?;
    let tz = app.config.tenant.time_zone.time_zone();

    let start = demo_start();
    let data = demo_dataset(seed, start, days);
    app.store.upsert_customers(&data.customers).await?;
    app.store.upsert_contacts(&data.contacts).await?;
    app.store.upsert_operators(&data.operators).await?;
    app.store.upsert_tasks(&data.tasks).await?;
    app.store.upsert_relations(&data.relations).await?;
    // The customs messages' files, as the customs system would hand them over.
    let customs_dir = dir.join("customs");
    std::fs::create_dir_all(&customs_dir)?;
    let mut events = data.events.clone();
    for e in &mut events {
        if let Some(name) = &e.attachment {
            let path = customs_dir.join(name);
            std::fs::write(
                &path,
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{kind}><MRN>{mrn}</MRN><Date>{at}</Date></{kind}>\n",
                    kind = e.kind.trim_start_matches("customs."),
                    mrn = e.subject.as_deref().unwrap_or_default(),
                    at = e.occurred_at
                ),
            )?;
            e.attachment = Some(path.display().to_string());
        }
    }
    println!(
        "herald demo: {} customers, {} contacts, {} invoices, {} payments, {} tasks; simulating {days} days from {start}: a run every hour from 07:00 to 19:00 (task reminders) and one at the end of each day",
        data.customers.len(),
        data.contacts.len(),
        data.invoices.len(),
        data.payments.len(),
        data.tasks.len()
    );

    let mut totals = jobs::SendReport::default();
    let mut runs = 0;
    let mut yesterday: Option<Date> = None;
    for day in 0..days {
        let today = start.saturating_add(i64::from(day).days());
        // What the business system sends on this day: what happened since the last
        // simulated day (on the first day, everything before it).
        let inv = arriving(&data.invoices, |i| i.issue_date, yesterday, today);
        if !inv.is_empty() {
            app.store.upsert_invoices(&inv).await?;
        }
        let pay = arriving(&data.payments, |p| p.date, yesterday, today);
        if !pay.is_empty() {
            app.store.upsert_payments(&pay).await?;
        }
        let ev = arriving(
            &events,
            |e| local_date(e.occurred_at, &tz),
            yesterday,
            today,
        );
        if !ev.is_empty() {
            app.store.upsert_events(&ev).await?;
        }
        yesterday = Some(today);
        // The service runs through the working day (task reminders go out at the
        // hour they are due, within their max_delay), and once at the end of it.
        let mut times: Vec<jiff::Timestamp> = (7..=19)
            .filter_map(|h| today.at(h, 0, 0, 0).to_zoned(tz.clone()).ok())
            .map(|z| z.timestamp())
            .collect();
        times.push(parse_now(&today.to_string(), &tz).map_err(anyhow::Error::msg)?);
        for now in times {
            let (_, s) = daily_run(&app, now).await?;
            totals.sent += s.sent;
            totals.cancelled += s.cancelled;
            totals.failed += s.failed;
            runs += 1;
        }
    }
    // Seed 004's batch sending, at the end: every invoice of the first month once.
    let last = start.saturating_add(i64::from(days.saturating_sub(1)).days());
    let now = parse_now(&last.to_string(), &tz).map_err(anyhow::Error::msg)?;
    let batch = app
        .config
        .rules
        .invoice
        .iter()
        .find(|r| r.trigger == herald_core::rules::InvoiceTrigger::Batch && r.enabled)
        .cloned();
    let batch_line = match batch {
        Some(rule) => {
            let (from, to) = (start.first_of_month(), start.last_of_month());
            let q = jobs::queue_invoices(&app, &rule, from, to, now).await?;
            let s = jobs::send(&app, now).await?;
            totals.sent += s.sent;
            Some(format!(
                "send-invoices --period {}: queued {} invoices ({} deliveries), {} sent by the next send.",
                from.strftime("%Y-%m"),
                q.queued,
                q.deliveries,
                s.sent
            ))
        }
        None => None,
    };
    // A second pass over the last day: a re-run must change nothing.
    let (again, again_sent) = daily_run(&app, now).await?;

    let status = app.store.status().await?;
    println!();
    println!(
        "{:<27} {:>8} {:>6} {:>11} {:>6} {:>10} {:>7} {:>8}",
        "rule", "notices", "n/a", "deliveries", "sent", "cancelled", "failed", "pending"
    );
    for (rule, verdicts) in &status.notifications_by_rule {
        let states = status.by_rule.get(rule).cloned().unwrap_or_default();
        let get = |k: &str| states.get(k).copied().unwrap_or(0);
        let notices: i64 = verdicts.values().sum();
        let deliveries: i64 = states
            .iter()
            .filter(|(s, _)| s.as_str() != "not_applicable")
            .map(|(_, n)| n)
            .sum();
        println!(
            "{:<27} {:>8} {:>6} {:>11} {:>6} {:>10} {:>7} {:>8}",
            rule,
            notices,
            verdicts.get("not_applicable").copied().unwrap_or(0),
            deliveries,
            get("sent"),
            get("cancelled"),
            get("failed"),
            get("pending") + get("retrying") + get("sending")
        );
    }
    println!();
    println!(
        "notices: what herald decided; n/a: recorded with the reason and not sent (too late, nobody to tell,"
    );
    println!(
        "generate-only); deliveries: one per recipient and channel. `herald history` shows every reason."
    );
    println!();
    println!(
        "{runs} runs; {} messages delivered, {} cancelled at send time (an invoice paid, a task moved meanwhile), {} failed.",
        totals.sent, totals.cancelled, totals.failed
    );
    if let Some(line) = &batch_line {
        println!("{line}");
    }
    println!(
        "Re-running the last day created {} notifications and sent {} messages (a re-run is a no-op).",
        again.inserted, again_sent.sent
    );
    println!();
    println!(
        "E-mails (.eml, open them in any mail client): {}",
        app.config.outbox_dir.join("email").display()
    );
    println!(
        "SMS (one JSON file each, as a gateway would get them): {}",
        app.config.sms_dir.join("sms").display()
    );
    // The binary that runs now, so the hint works after `cargo run` too.
    let exe =
        std::env::current_exe().map_or_else(|_| "herald".to_owned(), |p| p.display().to_string());
    let cfg = dir.join("herald.toml");
    println!("Workspace: {} — try:", dir.display());
    println!("  {exe} --config {} status", cfg.display());
    println!(
        "  {exe} --config {} history --customer {}",
        cfg.display(),
        data.customers[0].id
    );
    println!(
        "  {exe} --config {} history --rule operators-summary   # the managers' digest of approvals",
        cfg.display()
    );
    if let Some(mrn) = data
        .events
        .iter()
        .find(|e| e.kind.starts_with("customs."))
        .and_then(|e| e.subject.as_deref())
    {
        println!(
            "  {exe} --config {} history --subject {mrn}   # a customs declaration's statuses",
            cfg.display()
        );
    }
    println!("The web console on this data, as of the demo's last day:");
    println!(
        "  {exe} --config {} user create admin --role admin",
        cfg.display()
    );
    println!(
        "  {exe} --config {} serve --now {last}   # then open http://{}/console",
        cfg.display(),
        config_listen(&cfg)
    );
    Ok(ExitCode::SUCCESS)
}

/// Where `herald serve` will listen for this workspace.
fn config_listen(cfg: &Path) -> String {
    Config::load(cfg, &BTreeMap::new())
        .map(|c| c.service.listen.to_string())
        .unwrap_or_else(|_| "127.0.0.1:8025".to_owned())
}

/// One day's job as the service runs it: plan, then send.
async fn daily_run(
    app: &std::sync::Arc<crate::app::App>,
    now: jiff::Timestamp,
) -> anyhow::Result<(jobs::PlanReport, jobs::SendReport)> {
    let planned = jobs::plan(
        app,
        now,
        &PlanOptions {
            dry_run: false,
            only_customer: None,
            only_rule: None,
        },
    )
    .await?;
    Ok((planned, jobs::send(app, now).await?))
}
