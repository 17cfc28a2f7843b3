//! The two jobs of seed 003: generate messages (plan) and send messages (send).
//! Both are safe to run any number of times, on any schedule, concurrently.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context as _;
use herald_channels::{
    Attachment, EmailMessage, Mailbox, Outcome, SmsMessage, load_attachment, message_id_for,
};
use herald_core::digest::DigestPeriods;
use herald_core::message::{
    CustomerInfo, InvoiceLine, MessageContext, RecipientInfo, TaskInfo, TenantInfo,
};
use herald_core::planner::{
    self, CustomerBook, InvoiceView, NoticeKind, PlanSettings, PlannedDelivery,
    PlannedNotification, Verdict, Window, local_date,
};
use herald_core::rules::{ChannelKind, Condition, DigestFor};
use herald_core::values::{CustomerId, Locale, Totals};
use herald_core::{EmailAddress, InvoiceId, PhoneNumber};
use herald_store::{AttemptOutcome, CandidateQuery, LeaseRequest, LeasedDelivery, RunStats};
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

use crate::app::{Account, App};

#[derive(Debug, Default, Clone, Serialize)]
pub struct PlanReport {
    pub run_id: Option<i64>,
    pub window_after: Option<Timestamp>,
    pub window_until: Option<Timestamp>,
    pub customers: usize,
    pub planned: usize,
    pub inserted: u64,
    pub existing: u64,
    /// In a dry run: what would be recorded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub would_plan: Vec<PlannedNotification>,
}

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub dry_run: bool,
    pub only_customer: Option<CustomerId>,
    /// A dry run of one rule ("what would this rule send tonight"): only its
    /// notices are listed and counted. Planning for real always runs every rule,
    /// since the watermark moves for all of them at once.
    pub only_rule: Option<String>,
}

/// The tenant's settings, with every operator (recipients by operator role).
pub async fn settings(app: &App) -> anyhow::Result<PlanSettings> {
    let mut staff: Vec<herald_core::records::Operator> =
        app.store.operators().await?.into_values().collect();
    staff.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(PlanSettings {
        time_zone: app.config.tenant.time_zone.time_zone(),
        default_locale: app.config.tenant.locale,
        staff,
    })
}

/// What the store must look at for the window: triggers whose date falls in it
/// (shifted by each rule's offset), changed invoices, and open invoices whose
/// dunning step may be due.
fn candidate_query(app: &App, window: Window, since_seq: i64) -> CandidateQuery {
    let tz = app.config.tenant.time_zone.time_zone();
    let today = local_date(window.until, &tz);
    // A trigger fires at its rule's time of day on its own date in the tenant's
    // zone, so a fire time in (after, until] has its date in [date(after),
    // date(until)]: the store needs no more, and an empty window needs no ranges.
    let from = window
        .after
        .map(|a| local_date(a, &tz))
        .unwrap_or(jiff::civil::Date::MIN);
    let to = today;
    let empty = window.after.is_some_and(|a| a >= window.until);
    let mut q = CandidateQuery {
        since_seq,
        issue_dates: None,
        due_dates: Vec::new(),
        dunning_due_on_or_before: None,
        dunning_first_from: None,
        today,
    };
    for r in app
        .config
        .rules
        .invoice
        .iter()
        .filter(|r| r.enabled && !empty)
    {
        match r.trigger {
            herald_core::rules::InvoiceTrigger::Issued => q.issue_dates = Some((from, to)),
            herald_core::rules::InvoiceTrigger::Batch => {}
            herald_core::rules::InvoiceTrigger::DueDate { offset_days } => {
                let shift = i64::from(-offset_days).days();
                q.due_dates.push(herald_store::DueDates {
                    from: from.saturating_add(shift),
                    to: to.saturating_add(shift),
                    open_only: r.condition == herald_core::rules::Condition::Unpaid,
                });
            }
        }
    }
    if let Some(min_after) = app
        .config
        .rules
        .dunning
        .iter()
        .filter(|d| d.enabled)
        .map(|d| d.first_after_days())
        .min()
    {
        q.dunning_due_on_or_before = Some(today.saturating_sub(i64::from(min_after).days()));
        // A first letter falls due when due date + the first level's days enters
        // the window; later steps are found through the store's dunning progress.
        q.dunning_first_from = window
            .after
            .map(|a| local_date(a, &tz).saturating_sub(i64::from(min_after).days()));
    }
    q
}

/// Why a plan limited to one rule cannot run; each caller words it its own way.
pub enum OnlyRuleRefusal {
    /// A real run plans every rule, since the watermark moves for all at once.
    NeedsDryRun,
    /// No rule has that id; `rules` lists those there are.
    Unknown { rules: String },
}

/// Checks [`PlanOptions::only_rule`] before a run: the API refuses at once, not
/// from inside the background job.
pub fn only_rule_refusal(app: &App, rule: &str, dry_run: bool) -> Option<OnlyRuleRefusal> {
    if !dry_run {
        return Some(OnlyRuleRefusal::NeedsDryRun);
    }
    let rules = &app.config.rules;
    (!rules.all_ids().any(|id| id == rule)).then(|| OnlyRuleRefusal::Unknown {
        rules: rules.all_ids().collect::<Vec<_>>().join(", "),
    })
}

/// Plans every notification due up to `now`. Customers are loaded and planned in
/// chunks so memory stays flat; each chunk is recorded in one transaction.
pub async fn plan(app: &App, now: Timestamp, opts: &PlanOptions) -> anyhow::Result<PlanReport> {
    if opts.dry_run {
        return plan_now(app, now, opts).await;
    }
    // Nodes sharing a store plan one at a time: wait for one that is planning.
    let lock = app.store.job_lock(PLANNER_LOCK).await?;
    let report = plan_now(app, now, opts).await;
    lock.release().await?;
    report
}

/// [`plan`], unless another node of a shared store is planning right now: then
/// `None` at once (the service's planner; the other node's run covers this one).
pub async fn plan_unless_busy(
    app: &App,
    now: Timestamp,
    opts: &PlanOptions,
) -> anyhow::Result<Option<PlanReport>> {
    let Some(lock) = app.store.try_job_lock(PLANNER_LOCK).await? else {
        return Ok(None);
    };
    let report = plan_now(app, now, opts).await;
    lock.release().await?;
    report.map(Some)
}

/// This process's name in the store, for its leases and job records:
/// "herald-PID@HOST", so that nodes on several machines, and two on one, differ.
pub fn node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("herald-{}@{host}", std::process::id())
}

/// The lock that keeps nodes from planning at once; see [`herald_store::Store::try_job_lock`].
const PLANNER_LOCK: &str = "planner";

async fn plan_now(app: &App, now: Timestamp, opts: &PlanOptions) -> anyhow::Result<PlanReport> {
    if let Some(rule) = &opts.only_rule {
        let refusal = match only_rule_refusal(app, rule, opts.dry_run) {
            None => None,
            Some(OnlyRuleRefusal::NeedsDryRun) => Some(format!(
                "one rule ('{rule}') can only be planned in a dry run: a real run plans every rule, so add --dry-run"
            )),
            Some(OnlyRuleRefusal::Unknown { rules }) => Some(format!(
                "there is no rule '{rule}' in {}; rules: {rules}",
                app.config.path.display()
            )),
        };
        if let Some(m) = refusal {
            return Err(crate::cli::InputError(m).into());
        }
    }
    let state = app.store.planner_state().await?;
    // A `now` at or before the watermark plans an empty window: only what changed.
    let window = Window {
        after: state.watermark.map(|w| w.min(now)),
        until: now,
    };
    let q = candidate_query(app, window, state.last_seq);
    let settings = settings(app).await?;
    let started = std::time::Instant::now();
    let mut customers = app.store.candidate_customers(&q).await?;
    tracing::debug!(elapsed = ?started.elapsed(), customers = customers.len(), "plan: candidates");
    let (mut t_load, mut t_plan, mut t_record) = (
        std::time::Duration::ZERO,
        std::time::Duration::ZERO,
        std::time::Duration::ZERO,
    );
    if let Some(only) = &opts.only_customer {
        customers.retain(|c| c == only);
    }
    let mut report = PlanReport {
        window_after: window.after,
        window_until: Some(window.until),
        customers: customers.len(),
        ..Default::default()
    };
    let run_id = if opts.dry_run {
        None
    } else {
        Some(
            app.store
                .begin_run(now, window, state.last_seq, state.max_seq)
                .await?,
        )
    };
    report.run_id = run_id;
    // Books are loaded 1,000 customers at a time (memory stays flat); what they
    // plan is recorded 20,000 notifications at a time: each write transaction
    // dirties pages all over the tables it writes, and fewer, larger ones share them.
    //
    // Loading and recording run side by side: while SQLite's writer thread records
    // one batch, the next is read on a reader connection (WAL lets both run) and
    // parsed and planned on ours. One batch waits at most, so memory stays flat.
    let (batches, mut planned) = tokio::sync::mpsc::channel::<Vec<PlannedNotification>>(1);
    let chunks: Vec<&[CustomerId]> = customers.chunks(1000).collect();
    let load_and_plan = async {
        let mut pending: Vec<PlannedNotification> = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let t = std::time::Instant::now();
            let books = app.store.load_books(chunk, &q).await?;
            t_load += t.elapsed();
            let t = std::time::Instant::now();
            pending.extend(
                books
                    .iter()
                    .flat_map(|b| planner::plan_customer(&app.config.rules, &settings, window, b)),
            );
            t_plan += t.elapsed();
            if pending.len() < 20_000 && i + 1 < chunks.len() {
                continue;
            }
            if batches.send(std::mem::take(&mut pending)).await.is_err() {
                break; // recording failed; its error is the one reported
            }
        }
        let mut more = task_reminders(app, &settings, window, opts).await?;
        more.extend(event_notices(app, &settings, window, state.last_seq, opts).await?);
        if !more.is_empty() {
            let _ = batches.send(more).await;
        }
        drop(batches);
        anyhow::Ok(())
    };
    let record = async {
        while let Some(notes) = planned.recv().await {
            let t = std::time::Instant::now();
            record_batch(app, run_id, now, notes, opts, &mut report).await?;
            t_record += t.elapsed();
        }
        anyhow::Ok(())
    };
    tokio::try_join!(load_and_plan, record)?;
    // The RESEND overviews list what dunning letters have reminded, this run's
    // included: they are planned once everything else is recorded.
    let mut overviews = summary_letters(app, &settings, window, opts).await?;
    overviews.extend(scheduled_batches(app, &settings, window, opts).await?);
    overviews.extend(digests(app, &settings, window, opts).await?);
    if !overviews.is_empty() {
        record_batch(app, run_id, now, overviews, opts, &mut report).await?;
    }
    tracing::debug!(?t_load, ?t_plan, ?t_record, total = ?started.elapsed(), "plan: chunks done");
    if let Some(id) = run_id {
        // A run limited to one customer must not advance the watermark: the others
        // have not been looked at.
        let advance = opts.only_customer.is_none().then_some(now);
        let last_seq = if opts.only_customer.is_none() {
            state.max_seq
        } else {
            state.last_seq
        };
        app.store
            .finish_run(
                id,
                now,
                RunStats {
                    books: report.customers as u64,
                    planned: report.planned as u64,
                    inserted: report.inserted,
                    existing: report.existing,
                },
                advance,
                last_seq,
            )
            .await?;
    }
    Ok(report)
}

/// The notices rules send on events (seeds 000, 002, 004): every event that
/// reached herald since the last run, whenever it happened, and every one whose
/// notice falls in the window (a rule with a delay), over at most 31 days back.
async fn event_notices(
    app: &App,
    settings: &PlanSettings,
    window: Window,
    since_seq: i64,
    opts: &PlanOptions,
) -> anyhow::Result<Vec<PlannedNotification>> {
    let rules: Vec<&herald_core::rules::EventRule> = app
        .config
        .rules
        .event
        .iter()
        .filter(|r| r.enabled)
        .collect();
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let after = window_start(window, herald_core::tasks::LOOKBACK);
    let mut types: Vec<&str> = rules.iter().map(|r| r.event_type.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    let mut events = app
        .store
        .events_to_plan(since_seq, after, window.until, &types)
        .await?;
    if let Some(only) = &opts.only_customer {
        events.retain(|(e, _)| e.customer_id.as_ref().is_none_or(|c| c == only));
    }
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let (office, per_customer): (Vec<_>, Vec<_>) = rules
        .into_iter()
        .partition(|r| herald_core::events::is_office_rule(r));
    let mut out = Vec::new();
    if !office.is_empty() && opts.only_customer.is_none() {
        // Once per event, whoever it concerns: the office is told, not a customer.
        let mut named: Vec<CustomerId> = events
            .iter()
            .filter_map(|(e, _)| e.customer_id.clone())
            .collect();
        named.sort();
        named.dedup();
        let customers = app.store.customers(&named).await?;
        for (event, new) in &events {
            let customer = event.customer_id.as_ref().and_then(|c| customers.get(c));
            for rule in &office {
                out.extend(herald_core::events::plan_office_event(
                    rule, event, *new, customer, settings, window,
                ));
            }
        }
    }
    // An event for no customer reaches every customer only through a rule that
    // writes to customers and answers it.
    let broadcast = events.iter().any(|(e, _)| {
        e.customer_id.is_none()
            && per_customer
                .iter()
                .any(|r| herald_core::events::matches(r, e))
    });
    let mut customers: Vec<CustomerId> = if broadcast {
        match &opts.only_customer {
            Some(only) => vec![only.clone()],
            None => app
                .store
                .all_customer_ids(u64::MAX)
                .await?
                .unwrap_or_default()
                .into_iter()
                .collect(),
        }
    } else {
        events
            .iter()
            .filter_map(|(e, _)| e.customer_id.clone())
            .collect()
    };
    if per_customer.is_empty() {
        customers.clear();
    }
    customers.sort();
    customers.dedup();
    // A broadcast reaches every customer: their books are read a chunk at a time.
    for chunk in customers.chunks(1000) {
        let books = app.store.contact_books(chunk).await?;
        for (event, new) in &events {
            let books_for: Vec<&CustomerBook> = match &event.customer_id {
                Some(c) => books.get(c).into_iter().collect(),
                None => chunk.iter().filter_map(|c| books.get(c)).collect(),
            };
            for book in books_for {
                for rule in &per_customer {
                    out.extend(herald_core::events::plan_event(
                        rule, event, *new, book, settings, window,
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Digests on a schedule (seed 002): at the last firing in the window, at most a
/// day old, each operator's activity since the firing before, counted from
/// events. They concern no customer, so a run for one customer plans none.
async fn digests(
    app: &App,
    settings: &PlanSettings,
    window: Window,
    opts: &PlanOptions,
) -> anyhow::Result<Vec<PlannedNotification>> {
    let rules: Vec<&herald_core::rules::DigestRule> = app
        .config
        .rules
        .digest
        .iter()
        .filter(|r| r.enabled)
        .collect();
    if rules.is_empty() || opts.only_customer.is_some() {
        return Ok(Vec::new());
    }
    let mut staff: Vec<herald_core::records::Operator> =
        app.store.operators().await?.into_values().collect();
    staff.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = Vec::new();
    for rule in rules {
        let Some(at) = last_firing(&rule.schedule, window, settings)? else {
            continue;
        };
        out.extend(digests_at(app, rule, at, settings, &staff).await?);
    }
    Ok(out)
}

/// A digest rule's notices for its firing at `at`: each operator's activity (or
/// the office's) since the firing before. The planner plans these; a preview
/// renders one of them.
pub async fn digests_at(
    app: &App,
    rule: &herald_core::rules::DigestRule,
    at: Timestamp,
    settings: &PlanSettings,
    staff: &[herald_core::records::Operator],
) -> anyhow::Result<Vec<PlannedNotification>> {
    let schedule =
        herald_core::schedule::Schedule::parse(&rule.schedule).map_err(anyhow::Error::msg)?;
    let previous = schedule
        .previous_before(at, &settings.time_zone)
        .unwrap_or_else(|| {
            at.checked_sub(jiff::SignedDuration::from_hours(24))
                .unwrap_or(at)
        });
    let periods = DigestPeriods::new(previous, at, &settings.time_zone);
    let counts = app.store.activity(&rule.event_type, &periods).await?;
    // An operator's own digest goes to the operators the rule's `to` names by
    // role, or to every operator when it names none.
    let roles: Vec<&str> = rule
        .audience
        .to
        .iter()
        .filter_map(|s| match s {
            herald_core::rules::RecipientSpec::OperatorRole(r) => Some(r.as_str()),
            _ => None,
        })
        .collect();
    let activity: Vec<herald_core::digest::OperatorActivity> = staff
        .iter()
        .filter(|o| {
            rule.digest_for == DigestFor::Office
                || roles.is_empty()
                || o.roles
                    .iter()
                    .any(|r| roles.iter().any(|w| w.eq_ignore_ascii_case(r)))
        })
        .map(|o| herald_core::digest::OperatorActivity {
            operator: o.clone(),
            counts: counts.get(&o.id).cloned().unwrap_or_default(),
        })
        .collect();
    Ok(herald_core::digest::plan_digest(
        rule, &periods, &activity, settings,
    ))
}

/// Batch rules with a schedule (seed 004): at the schedule's last firing in the
/// window, at most a day old, every invoice of the month before the firing is
/// queued, once, as `send-invoices` would.
async fn scheduled_batches(
    app: &App,
    settings: &PlanSettings,
    window: Window,
    opts: &PlanOptions,
) -> anyhow::Result<Vec<PlannedNotification>> {
    let mut out = Vec::new();
    for (id, schedule) in &app.config.batch_schedules {
        let Some(rule) = app
            .config
            .rules
            .invoice
            .iter()
            .find(|r| &r.id == id && r.enabled)
        else {
            continue;
        };
        let Some(at) = last_firing(schedule, window, settings)? else {
            continue;
        };
        let month = local_date(at, &settings.time_zone)
            .first_of_month()
            .yesterday()?;
        let (from, to) = (month.first_of_month(), month.last_of_month());
        let q = CandidateQuery {
            since_seq: i64::MAX,
            issue_dates: Some((from, to)),
            due_dates: Vec::new(),
            dunning_due_on_or_before: None,
            dunning_first_from: None,
            today: to,
        };
        let mut customers = app.store.candidate_customers(&q).await?;
        if let Some(only) = &opts.only_customer {
            customers.retain(|c| c == only);
        }
        for chunk in customers.chunks(1000) {
            for book in app.store.load_books(chunk, &q).await? {
                out.extend(planner::plan_batch(rule, &book, settings, from, to, at));
            }
        }
    }
    Ok(out)
}

/// Where a run looks back from: the window's start, but never further than `back`
/// before its end (a first run, or one after a long stop).
fn window_start(window: Window, back: jiff::SignedDuration) -> Timestamp {
    let oldest = window.until.checked_sub(back).unwrap_or(window.until);
    window.after.map_or(oldest, |a| a.max(oldest))
}

/// A schedule's last firing in the window, if it is at most a day old: what a
/// scheduled job does now; firings missed by more wait for the next.
fn last_firing(
    schedule: &str,
    window: Window,
    settings: &PlanSettings,
) -> anyhow::Result<Option<Timestamp>> {
    let schedule = herald_core::schedule::Schedule::parse(schedule).map_err(anyhow::Error::msg)?;
    let after = window_start(window, jiff::SignedDuration::from_hours(24));
    Ok(schedule
        .firings(after, window.until, &settings.time_zone, 100_000)
        .pop())
}

/// Records a batch of planned notices in the run (or, in a dry run, lists those
/// that would be new).
async fn record_batch(
    app: &App,
    run_id: Option<i64>,
    now: Timestamp,
    mut notes: Vec<PlannedNotification>,
    opts: &PlanOptions,
    report: &mut PlanReport,
) -> anyhow::Result<()> {
    if let Some(rule) = &opts.only_rule {
        notes.retain(|n| &n.rule_id == rule);
    }
    report.planned += notes.len();
    match run_id {
        Some(id) => {
            // Notices overdue from an earlier day are due from the start of today
            // and go out in the order they were planned (see record_plan_due_from).
            let today = now
                .to_zoned(app.config.tenant.time_zone.time_zone())
                .start_of_day()
                .map_or(now, |z| z.timestamp());
            let stats = app
                .store
                .record_plan_due_from(id, now, Some(today), &notes)
                .await?;
            report.inserted += stats.inserted;
            report.existing += stats.existing;
        }
        None => {
            let keys: Vec<String> = notes.iter().map(|n| n.dedupe_key.clone()).collect();
            let existing = app.store.existing_keys(&keys).await?;
            for n in notes {
                if existing.contains(&n.dedupe_key) {
                    report.existing += 1;
                } else {
                    report.inserted += 1;
                    report.would_plan.push(n);
                }
            }
        }
    }
    Ok(())
}

/// Seed 003's RESEND overviews whose schedule fires in the window: the last firing
/// only (a run after a long stop writes one overview, not one per missed day), and
/// only one at most a day old (an overview lists what is owed now; one missed by
/// more waits for the next firing), to every customer owing on reminded invoices.
async fn summary_letters(
    app: &App,
    settings: &PlanSettings,
    window: Window,
    opts: &PlanOptions,
) -> anyhow::Result<Vec<PlannedNotification>> {
    let mut due = Vec::new();
    for rule in app.config.rules.summary.iter().filter(|r| r.enabled) {
        if let Some(at) = last_firing(&rule.schedule, window, settings)? {
            due.push((rule, at));
        }
    }
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let mut customers = app.store.customers_with_reminded_debt().await?;
    if let Some(only) = &opts.only_customer {
        customers.retain(|c| c == only);
    }
    let mut out = Vec::new();
    for chunk in customers.chunks(1000) {
        for book in app.store.books_with_open_invoices(chunk).await? {
            for (rule, at) in &due {
                out.extend(planner::plan_summary(rule, &book, settings, *at));
            }
        }
    }
    Ok(out)
}

/// The task reminders due in the window (seed 001). Every task is looked at: tasks
/// are few next to invoices, and a task's occurrences come from its recurrence,
/// not from a change in the store.
async fn task_reminders(
    app: &App,
    settings: &PlanSettings,
    window: Window,
    opts: &PlanOptions,
) -> anyhow::Result<Vec<PlannedNotification>> {
    let rules: Vec<&herald_core::rules::TaskRule> =
        app.config.rules.task.iter().filter(|r| r.enabled).collect();
    if rules.is_empty() || window.after.is_some_and(|a| a >= window.until) {
        return Ok(Vec::new());
    }
    let mut tasks = app.store.all_tasks().await?;
    if let Some(only) = &opts.only_customer {
        tasks.retain(|t| &t.customer_id == only);
    }
    if tasks.is_empty() {
        return Ok(Vec::new());
    }
    let mut customers: Vec<CustomerId> = tasks.iter().map(|t| t.customer_id.clone()).collect();
    customers.sort();
    customers.dedup();
    let books = app.store.contact_books(&customers).await?;
    let operators = app.store.operators().await?;
    let mut out = Vec::new();
    for task in &tasks {
        let Some(book) = books.get(&task.customer_id) else {
            continue;
        };
        let doer = task.operator_id.as_ref().and_then(|o| operators.get(o));
        for rule in &rules {
            out.extend(herald_core::tasks::plan_task(
                rule, task, book, doer, settings, window,
            ));
        }
    }
    Ok(out)
}

/// What `send-invoices` queued.
#[derive(Debug, Default, Clone, Serialize)]
pub struct QueuedInvoices {
    pub queued: u64,
    pub deliveries: u64,
    /// Already queued or sent by this rule (a re-run, an overlapping period).
    pub existing: u64,
    /// Recorded as NotApplicable: no billing contact with an opt-in.
    pub nobody: u64,
}

/// Seed 004's batch sending: one notice by `rule` for every invoice issued in
/// `[from, to]`, recorded as a planning run of its own and due at once. Sending
/// is left to `send` (or the service), so this returns as soon as the work is
/// queued.
pub async fn queue_invoices(
    app: &App,
    rule: &herald_core::rules::InvoiceRule,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
    now: Timestamp,
) -> anyhow::Result<QueuedInvoices> {
    let settings = settings(app).await?;
    let q = CandidateQuery {
        since_seq: i64::MAX,
        issue_dates: Some((from, to)),
        due_dates: Vec::new(),
        dunning_due_on_or_before: None,
        dunning_first_from: None,
        today: to,
    };
    let customers = app.store.candidate_customers(&q).await?;
    let state = app.store.planner_state().await?;
    let run = app
        .store
        .begin_run(
            now,
            Window {
                after: None,
                until: now,
            },
            state.last_seq,
            state.last_seq,
        )
        .await?;
    let mut out = QueuedInvoices::default();
    let mut planned = 0u64;
    for chunk in customers.chunks(1000) {
        let books = app.store.load_books(chunk, &q).await?;
        let notes: Vec<PlannedNotification> = books
            .iter()
            .flat_map(|b| planner::plan_batch(rule, b, &settings, from, to, now))
            .collect();
        planned += notes.len() as u64;
        let keys: Vec<String> = notes.iter().map(|n| n.dedupe_key.clone()).collect();
        let before = app.store.existing_keys(&keys).await?;
        for n in notes.iter().filter(|n| !before.contains(&n.dedupe_key)) {
            match n.verdict {
                Verdict::Deliver => {
                    out.queued += 1;
                    out.deliveries += n.deliveries.len() as u64;
                }
                Verdict::NotApplicable(_) => out.nobody += 1,
            }
        }
        let stats = app.store.record_plan(run, now, &notes).await?;
        out.existing += stats.existing;
    }
    app.store
        .finish_run(
            run,
            now,
            RunStats {
                books: customers.len() as u64,
                planned,
                inserted: out.queued + out.nobody,
                existing: out.existing,
            },
            None,
            state.last_seq,
        )
        .await?;
    Ok(out)
}

/// How a delivery held by pilot mode is marked; also how the hold is found again.
const PILOT_REASON_PREFIX: &str = "pilot:";

#[derive(Debug, Default, Clone, Serialize)]
pub struct SendReport {
    pub sent: u64,
    pub retrying: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Held by an account limit (messages a day) until the next day.
    pub deferred: u64,
    /// Of the failed: how many go on over another channel (`channel_fallback`).
    pub fell_back: u64,
    /// Waiting for the business calendar: outside the send window or a day off.
    pub postponed: u64,
    /// Waiting because of pilot mode.
    pub held_for_pilot: u64,
    /// Failed deliveries reported to the admin addresses in a digest this run.
    pub alerted: u64,
    /// Leased but not sent because the service stopped: due again at once.
    pub released: u64,
    /// Tried, but meanwhile another node had taken the delivery over (this node's
    /// lease ran out first): that node's outcome is the one stored. A lease
    /// conflict; it stays near zero while `[dispatch] lease` is longer than a send.
    pub lost_leases: u64,
}

/// Sends every delivery that is due at `now`, through the outbox only.
///
/// Three stages run side by side, as tasks of their own so they use every core:
/// a feeder has due deliveries leased a chunk at a time and reads their invoices
/// and customers; `concurrency` senders each take the next delivery, check and
/// render it and hand it to its channel; a writer, on a connection of its own,
/// leases for the feeder and stores the outcomes.
///
/// Each sender waits until its outcome is stored before it takes the next
/// delivery, so at any moment at most `concurrency` messages have left without
/// their outcome being stored: a crash re-sends at most that many, each with the
/// same Message-ID. Outcomes that arrive together are written in one transaction
/// (a group commit), so the store keeps up with many senders; a channel's own
/// limit on connections (`connections` of an SMTP account) is separate, so senders
/// waiting for their commit do not hold a connection.
pub async fn send(app: &Arc<App>, now: Timestamp) -> anyhow::Result<SendReport> {
    let mut report = SendReport::default();
    let holder = node_name();
    if let Err(e) = app.refresh_settings().await {
        tracing::warn!(error = %format!("{e:#}"), "the console's settings were not read again; the last ones read apply");
    }
    let live = app.live();
    let pilot = (!live.pilot.is_empty()).then(|| live.pilot.clone());
    let ids: Vec<String> = live.pilot.iter().map(|c| c.to_string()).collect();
    if live.pilot.is_empty() {
        app.store.clear_hold(PILOT_REASON_PREFIX).await?;
    } else {
        report.held_for_pilot = app
            .store
            .hold_reason(
                &live.pilot,
                &format!("{PILOT_REASON_PREFIX} only customers {} receive messages until pilot mode ends", ids.join(", ")),
            )
            .await?;
    }
    let budgets = Arc::new(Allowances::load(app, now).await?);
    let concurrency = app.config.concurrency.max(1) as usize;
    // A chunk is leased and read together; the feeder stays at most about two
    // chunks ahead of the senders, so a lease ([dispatch] lease) never runs out while
    // its delivery waits, and "just before sending" (invariant 3) still holds.
    let chunk = (app.config.batch as usize).min(concurrency * 8).max(16);
    let (jobs_tx, jobs_rx) = tokio::sync::mpsc::channel::<Job>(chunk);
    let jobs_rx = Arc::new(tokio::sync::Mutex::new(jobs_rx));
    let (to_writer, from_senders) = tokio::sync::mpsc::channel::<ToWriter>(concurrency * 2);
    let outbox = app.store.outbox_writer().await?;

    let writer = tokio::spawn({
        let holder = holder.clone();
        async move { write_outbox(outbox, &holder, now, from_senders).await }
    });
    let feeder = tokio::spawn({
        let app = Arc::clone(app);
        let lease = LeaseRequest {
            now,
            limit: chunk as u32,
            holder: holder.clone(),
            lease_for: app.config.lease,
            only_customers: pilot,
        };
        let to_writer = to_writer.clone();
        let budgets = Arc::clone(&budgets);
        async move { feed(&app, lease, budgets, &to_writer, jobs_tx).await }
    });
    let senders: Vec<_> = (0..concurrency)
        .map(|_| {
            let app = Arc::clone(app);
            let jobs = Arc::clone(&jobs_rx);
            let to_writer = to_writer.clone();
            tokio::spawn(async move { sender(&app, now, &jobs, &to_writer).await })
        })
        .collect();
    drop(to_writer);
    drop(jobs_rx);
    let mut failure = None;
    for s in senders {
        match s.await.context("a sender stopped")? {
            Ok(r) => report.add(&r),
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    // The senders are done, so their end of the queue is closed: a feeder still
    // waiting for room stops. What it leased and nobody sent is taken again when
    // its lease runs out.
    let fed = feeder.await.context("the feeder stopped")?;
    report.lost_leases = writer.await.context("the store writer stopped")?;
    // What this run reserved of the accounts' daily limits and did not send
    // goes back, for the other nodes and the next run.
    budgets.finish().await?;
    if app.stopping.load(std::sync::atomic::Ordering::Relaxed) {
        report.released = app.store.release_leases(&holder, now).await?;
    }
    if let Some(e) = failure {
        return Err(e);
    }
    fed?;
    report.alerted = alert_failures(app, now).await?;
    Ok(report)
}

/// How many failures a digest lists one by one; the rest are counted per rule.
const ALERT_LISTED: u32 = 50;

/// The operator alert: when deliveries failed since the last digest and the last is
/// at least `alerts.every` old, one e-mail to the admin addresses lists them (not one
/// per failure). Returns how many failures it reported. A digest that cannot be sent
/// is recorded as such and covers nothing, so the next run tries again.
async fn alert_failures(app: &App, now: Timestamp) -> anyhow::Result<u64> {
    let alerts = &app.config.alerts;
    if alerts.to.is_empty() {
        return Ok(0);
    }
    let last = app.store.last_alert().await?;
    if let Some(l) = last
        && l.at.checked_add(alerts.every).is_ok_and(|next| next > now)
    {
        return Ok(0);
    }
    let failures = app
        .store
        .failures_after(last.map_or(i64::MIN, |l| l.covered_upto), ALERT_LISTED)
        .await?;
    if failures.total == 0 {
        return Ok(0);
    }
    let id = app.store.next_alert_id().await?;
    let msg = alert_message(app, id, &failures, last.map(|l| l.at), now);
    // Alerts are not deliveries: they get negative ids where a channel names what
    // it writes by id (the file outbox), so they never collide with one.
    let chain = app.account_chain(None);
    let (sent, detail) = match send_through(-id, &chain, None, |account, _| EmailMessage {
        from: account.from.clone(),
        ..msg.clone()
    })
    .await
    {
        Through::Sent(_, _, detail) => (true, detail),
        Through::Transient(detail) | Through::Permanent(detail) | Through::OverLimit(detail) => {
            (false, detail)
        }
    };
    app.store
        .record_alert(now, failures.upto, failures.total, sent, &detail)
        .await?;
    if !sent {
        tracing::warn!(
            detail,
            "the failure alert could not be sent; the next run tries again"
        );
    }
    Ok(if sent { failures.total } else { 0 })
}

fn alert_message(
    app: &App,
    id: i64,
    f: &herald_store::Failures,
    since: Option<Timestamp>,
    now: Timestamp,
) -> EmailMessage {
    let tz = app.config.tenant.time_zone.time_zone();
    let local = |t: Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    let mut text = format!(
        "{} deliver{} failed{} and will not be retried.\n\nBy rule:\n",
        f.total,
        if f.total == 1 { "y" } else { "ies" },
        since.map_or(String::new(), |s| format!(" since {}", local(s)))
    );
    for (rule, n) in &f.by_rule {
        text.push_str(&format!("  {rule:<20} {n}\n"));
    }
    text.push_str(&format!(
        "\n{}:\n",
        if f.total as usize > f.first.len() {
            format!("The first {}", f.first.len())
        } else {
            "Each of them".to_owned()
        }
    ));
    for d in &f.first {
        text.push_str(&format!(
            "  #{} {} {} {} {} {}: {}\n",
            d.delivery_id,
            local(d.failed_at),
            d.rule_id,
            d.customer_id
                .as_ref()
                .map_or_else(|| "to the office".to_owned(), |c| format!("customer {c}")),
            d.channel,
            d.address,
            d.reason
        ));
    }
    text.push_str(
        "\n`herald history --customer ID` shows each one with every attempt; `herald resend NOTIFICATION [--to ADDRESS]` sends one again once the cause is fixed.\n",
    );
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let from = Mailbox::new(app.config.from_name.clone(), app.config.from.clone());
    EmailMessage {
        message_id: format!("herald-alert-{id}@{}", from.domain()),
        date: now,
        from,
        reply_to: None,
        to: app
            .config
            .alerts
            .to
            .iter()
            .map(|a| Mailbox {
                name: None,
                address: a.clone(),
            })
            .collect(),
        subject: format!(
            "herald: {} deliver{} failed ({})",
            f.total,
            if f.total == 1 { "y" } else { "ies" },
            app.config.tenant.name
        ),
        html: format!("<!DOCTYPE html><html><body><pre>{escaped}</pre></body></html>"),
        text,
        attachments: Vec::new(),
        read_receipt_to: None,
        headers: vec![("X-Herald-Alert".to_owned(), id.to_string())],
    }
}

impl SendReport {
    fn add(&mut self, other: &SendReport) {
        self.sent += other.sent;
        self.retrying += other.retrying;
        self.failed += other.failed;
        self.cancelled += other.cancelled;
        self.deferred += other.deferred;
        self.fell_back += other.fell_back;
        self.postponed += other.postponed;
    }

    fn count(&mut self, outcome: &AttemptOutcome) {
        match outcome {
            AttemptOutcome::Sent { .. } => self.sent += 1,
            AttemptOutcome::Retry { .. } => self.retrying += 1,
            AttemptOutcome::Failed { .. } => self.failed += 1,
            AttemptOutcome::FailedOver { .. } => {
                self.failed += 1;
                self.fell_back += 1;
            }
            AttemptOutcome::Cancelled { .. } => self.cancelled += 1,
            AttemptOutcome::Deferred { .. } => self.deferred += 1,
            AttemptOutcome::Postponed { .. } => self.postponed += 1,
        }
    }
}

/// A leased delivery and the current data it is checked and rendered against.
struct Job {
    delivery: LeasedDelivery,
    fresh: Arc<Fresh>,
}

/// What the writer is asked to do, and how it answers.
enum ToWriter {
    /// Store a sender's outcome; the sender waits for the answer.
    Outcome(
        i64,
        AttemptOutcome,
        tokio::sync::oneshot::Sender<Result<(), String>>,
    ),
    /// Lease the next chunk for the feeder.
    Lease(
        LeaseRequest,
        tokio::sync::oneshot::Sender<Result<Vec<LeasedDelivery>, String>>,
    ),
}

/// Has due deliveries leased a chunk at a time and reads each chunk's invoices and
/// customers (a few queries per chunk instead of a few per message), until
/// nothing is due. Retries scheduled for later than `now` are not taken again.
async fn feed(
    app: &App,
    lease: LeaseRequest,
    budgets: Arc<Allowances>,
    to_writer: &tokio::sync::mpsc::Sender<ToWriter>,
    jobs: tokio::sync::mpsc::Sender<Job>,
) -> anyhow::Result<()> {
    let stopped = || anyhow::anyhow!("the store writer stopped");
    let started = std::time::Instant::now();
    loop {
        if app.stopping.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(());
        }
        // A lease runs from when it is taken, not from the run's start: other
        // nodes judge it by their clocks, and a long run's late leases would
        // otherwise look expired to them the moment they were taken.
        let mut req = lease.clone();
        req.now = jiff::SignedDuration::try_from(started.elapsed())
            .ok()
            .and_then(|d| lease.now.checked_add(d).ok())
            .unwrap_or(lease.now);
        let (reply, leased) = tokio::sync::oneshot::channel();
        to_writer
            .send(ToWriter::Lease(req, reply))
            .await
            .map_err(|_| stopped())?;
        let leased = leased
            .await
            .map_err(|_| stopped())?
            .map_err(|e| anyhow::anyhow!("leasing deliveries: {e}"))?;
        if leased.is_empty() {
            return Ok(());
        }
        let mut ids: Vec<InvoiceId> = leased.iter().flat_map(|d| d.invoice_ids.clone()).collect();
        ids.sort();
        ids.dedup();
        let invoices: HashMap<InvoiceId, InvoiceView> = app
            .store
            .invoices(&ids)
            .await?
            .into_iter()
            .map(|v| (v.invoice.id.clone(), v))
            .collect();
        let mut customer_ids: Vec<CustomerId> = leased
            .iter()
            .filter_map(|d| d.notification.customer_id.clone())
            .collect();
        customer_ids.sort();
        customer_ids.dedup();
        let customers = app.store.customers(&customer_ids).await?;
        let task_ids: Vec<herald_core::TaskId> = leased
            .iter()
            .filter(|d| d.notification.kind == NoticeKind::Task)
            .filter_map(|d| d.notification.subject.as_deref())
            .filter_map(|s| herald_core::TaskId::parse(s).ok())
            .collect();
        let tasks = if task_ids.is_empty() {
            HashMap::new()
        } else {
            app.store.tasks(&task_ids).await?
        };
        // Task, event and digest notices name operators; invoice letters do not.
        let operators = if leased.iter().all(|d| {
            matches!(
                d.notification.kind,
                NoticeKind::Invoice | NoticeKind::Dunning
            )
        }) {
            HashMap::new()
        } else {
            app.store.operators().await?
        };
        let event_ids: Vec<herald_core::EventId> = leased
            .iter()
            .filter_map(|d| d.notification.event_id.as_deref())
            .filter_map(|s| herald_core::EventId::parse(s).ok())
            .collect();
        let events = if event_ids.is_empty() {
            HashMap::new()
        } else {
            app.store.events(&event_ids).await?
        };
        let holds = {
            let c: Vec<&str> = customer_ids.iter().map(|c| c.as_str()).collect();
            let i: Vec<&str> = ids.iter().map(|i| i.as_str()).collect();
            app.store
                .holds_on(&c, &i, lease.now)
                .await?
                .into_iter()
                .map(|h| ((h.on, h.id.clone()), h))
                .collect()
        };
        let fresh = Arc::new(Fresh {
            invoices,
            customers,
            tasks,
            operators,
            events,
            holds,
            budgets: Arc::clone(&budgets),
        });
        for delivery in leased {
            let job = Job {
                delivery,
                fresh: Arc::clone(&fresh),
            };
            if jobs.send(job).await.is_err() {
                return Ok(()); // the senders stopped; their error is the one reported
            }
        }
    }
}

/// One of `concurrency` senders: takes the next delivery, delivers it, and waits
/// until its outcome is stored before taking another.
async fn sender(
    app: &App,
    now: Timestamp,
    jobs: &tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Job>>,
    to_writer: &tokio::sync::mpsc::Sender<ToWriter>,
) -> anyhow::Result<SendReport> {
    let mut report = SendReport::default();
    let stopped = || anyhow::anyhow!("the store writer stopped");
    loop {
        let Some(job) = jobs.lock().await.recv().await else {
            return Ok(report);
        };
        if app.stopping.load(std::sync::atomic::Ordering::Relaxed) {
            // Leased, not sent: `release_leases` gives it back when the run ends.
            continue;
        }
        let outcome = deliver(app, &job.delivery, &job.fresh, now).await;
        let (done, written) = tokio::sync::oneshot::channel();
        to_writer
            .send(ToWriter::Outcome(
                job.delivery.delivery.id,
                outcome.clone(),
                done,
            ))
            .await
            .map_err(|_| stopped())?;
        written
            .await
            .map_err(|_| stopped())?
            .map_err(|e| anyhow::anyhow!("recording an attempt: {e}"))?;
        report.count(&outcome);
    }
}

/// Serves the feeder's leases and stores the senders' outcomes: every outcome
/// waiting is written in one transaction, and each sender is told when its
/// outcome is safe.
async fn write_outbox(
    mut outbox: herald_store::OutboxWriter,
    holder: &str,
    now: Timestamp,
    mut requests: tokio::sync::mpsc::Receiver<ToWriter>,
) -> u64 {
    let mut lost = 0;
    let mut next = requests.recv().await;
    while let Some(request) = next.take() {
        match request {
            ToWriter::Lease(req, reply) => {
                let _ = reply.send(outbox.lease_due(&req).await.map_err(|e| e.to_string()));
                next = requests.recv().await;
            }
            ToWriter::Outcome(id, outcome, done) => {
                let mut rows = vec![(id, outcome)];
                let mut waiting = vec![done];
                // Everything already queued joins this commit; a lease request
                // found on the way is served right after it.
                while let Ok(more) = requests.try_recv() {
                    match more {
                        ToWriter::Outcome(id, outcome, done) => {
                            rows.push((id, outcome));
                            waiting.push(done);
                        }
                        lease => {
                            next = Some(lease);
                            break;
                        }
                    }
                }
                let result = outbox
                    .record(holder, now, &rows)
                    .await
                    .map(|recorded| {
                        lost += recorded.iter().filter(|r| !**r).count() as u64;
                    })
                    .map_err(|e| e.to_string());
                for done in waiting {
                    let _ = done.send(result.clone());
                }
                if next.is_none() {
                    next = requests.recv().await;
                }
            }
        }
    }
    lost
}

/// What a chunk of deliveries is checked and rendered against.
struct Fresh {
    invoices: HashMap<InvoiceId, InvoiceView>,
    customers: HashMap<CustomerId, herald_core::records::Customer>,
    /// The tasks the chunk's reminders are about, and every operator (for the
    /// task's operator's name); empty when the chunk has no task reminder.
    tasks: HashMap<herald_core::TaskId, herald_core::tasks::Task>,
    operators: HashMap<herald_core::OperatorId, herald_core::records::Operator>,
    /// The events the chunk's notices answer.
    events: HashMap<herald_core::EventId, herald_core::events::Event>,
    /// Holds in force on the chunk's customers and invoices (a dispute, a promise
    /// to pay), by what they are on.
    holds: HashMap<(herald_store::HoldOn, String), herald_store::Hold>,
    budgets: Arc<Allowances>,
}

/// The accounts' limits (a provider's 500 a day, 10 a second), kept in the store so
/// that nodes sharing it keep to them together: each node reserves a few messages
/// at a time ([`herald_store::Store::reserve_allowance`]) and gives back what it did
/// not send when its run ends. A day runs from midnight in the tenant's time zone
/// and starts from what the store shows sent that day, so a limit also holds
/// across runs and restarts. A killed node strands at most [`RESERVE`] of a day.
struct Allowances {
    store: herald_store::Store,
    today: Timestamp,
    tomorrow: Timestamp,
    /// By account name (`None`: the shared account); only accounts with a limit.
    limits: HashMap<Option<String>, Limits>,
}

struct Limits {
    daily: Option<u32>,
    per_second: Option<u32>,
    /// Of today's allowance: reserved by this run and not yet used.
    day_held: tokio::sync::Mutex<u32>,
    /// The second (Unix seconds) reserved for, and how many of it are left.
    second_held: tokio::sync::Mutex<(i64, u32)>,
}

/// Messages reserved at a time: a busy node asks the store once per this many.
const RESERVE: u32 = 16;

/// What an account's limits say about one more message.
enum Allowance {
    Granted,
    /// Today's limit (the number) is used up.
    UsedUp(u32),
}

impl Allowances {
    async fn load(app: &App, now: Timestamp) -> anyhow::Result<Allowances> {
        let tz = app.config.tenant.time_zone.time_zone();
        let today = local_date(now, &tz);
        let limits = std::iter::once(&app.shared)
            .chain(app.accounts.values())
            .filter(|a| a.daily_limit.is_some() || a.per_second.is_some())
            .map(|a| {
                (
                    a.name.clone(),
                    Limits {
                        daily: a.daily_limit,
                        per_second: a.per_second.filter(|r| *r > 0),
                        day_held: tokio::sync::Mutex::new(0),
                        second_held: tokio::sync::Mutex::new((i64::MIN, 0)),
                    },
                )
            })
            .collect();
        Ok(Allowances {
            store: app.store.clone(),
            today: today.to_zoned(tz.clone())?.timestamp(),
            tomorrow: today.tomorrow()?.to_zoned(tz)?.timestamp(),
            limits,
        })
    }

    /// Takes one message of the account's allowance for today, and waits for its
    /// turn under the account's rate (messages a second, all nodes together).
    async fn take(&self, account: &Account) -> anyhow::Result<Allowance> {
        let Some(limits) = self.limits.get(&account.name) else {
            return Ok(Allowance::Granted);
        };
        if let Some(limit) = limits.daily {
            let mut held = limits.day_held.lock().await;
            if *held == 0 {
                *held = self
                    .store
                    .reserve_allowance(account.name.as_deref(), "day", self.today, limit, RESERVE)
                    .await?;
            }
            if *held == 0 {
                return Ok(Allowance::UsedUp(limit));
            }
            *held -= 1;
        }
        if let Some(rate) = limits.per_second {
            self.pace(account, limits, rate).await?;
        }
        Ok(Allowance::Granted)
    }

    /// Waits for a second with room left under `rate` (the wall clock's seconds:
    /// every node counts the same ones).
    async fn pace(&self, account: &Account, limits: &Limits, rate: u32) -> anyhow::Result<()> {
        use herald_core::clock::Clock as _;
        loop {
            let now = crate::clock::SystemClock.now().as_millisecond();
            let second = now.div_euclid(1000);
            let mut held = limits.second_held.lock().await;
            if held.0 != second {
                let starts = Timestamp::from_second(second)?;
                let got = self
                    .store
                    .reserve_allowance(
                        account.name.as_deref(),
                        "second",
                        starts,
                        rate,
                        rate.min(RESERVE),
                    )
                    .await?;
                *held = (second, got);
            }
            if held.1 > 0 {
                held.1 -= 1;
                return Ok(());
            }
            drop(held);
            let wait = u64::try_from((second + 1) * 1000 - now).unwrap_or(1).max(1);
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
        }
    }

    /// Returns a message [`Allowances::take`] took and that did not go out.
    async fn give_back(&self, account: &Account) {
        if let Some(limits) = self.limits.get(&account.name)
            && limits.daily.is_some()
        {
            *limits.day_held.lock().await += 1;
        }
    }

    /// Gives the store back what this run reserved of today and did not use.
    async fn finish(&self) -> anyhow::Result<()> {
        for (name, limits) in &self.limits {
            let held = std::mem::take(&mut *limits.day_held.lock().await);
            self.store
                .return_allowance(name.as_deref(), "day", self.today, held)
                .await?;
        }
        Ok(())
    }
}

/// The rule condition a stored notification is re-checked against at send time.
fn condition_of(app: &App, rule_id: &str, kind: NoticeKind) -> Condition {
    match kind {
        NoticeKind::Dunning => Condition::Unpaid,
        NoticeKind::Task | NoticeKind::Event | NoticeKind::Digest => Condition::Always,
        NoticeKind::Invoice => app
            .config
            .rules
            .invoice
            .iter()
            .find(|r| r.id == rule_id)
            .map_or(Condition::Unpaid, |r| r.condition),
    }
}

fn tenant_info(app: &App) -> TenantInfo {
    let t = &app.config.tenant;
    TenantInfo {
        name: t.name.clone(),
        email: t.email.clone(),
        phone: t.phone.clone(),
        bank_account: t.bank_account.clone(),
    }
}

/// Which message is being composed: the rule, its template and what it is about.
pub struct Notice<'a> {
    pub rule: &'a str,
    pub template: &'a str,
    pub kind: NoticeKind,
    pub level: Option<u32>,
}

/// Builds the context a template sees from current data: a letter lists only the
/// invoices still owing at this moment.
pub fn context_for(
    app: &App,
    notice: &Notice<'_>,
    customer: Option<&herald_core::records::Customer>,
    recipient: RecipientInfo,
    locale: Locale,
    invoices: &[InvoiceView],
    now: Timestamp,
) -> MessageContext {
    let today = local_date(now, &app.config.tenant.time_zone.time_zone());
    let lines: Vec<InvoiceLine> = invoices
        .iter()
        .map(|v| InvoiceLine::new(&v.invoice, v.paid, today))
        .collect();
    let (invoice, invoices) = match notice.kind {
        NoticeKind::Invoice => (lines.into_iter().next(), Vec::new()),
        NoticeKind::Task | NoticeKind::Event | NoticeKind::Digest => (None, Vec::new()),
        NoticeKind::Dunning => {
            let mut open: Vec<InvoiceLine> = lines
                .into_iter()
                .filter(|l| !l.balance.amount.is_zero())
                .collect();
            open.sort_by(|a, b| a.due_date.cmp(&b.due_date).then(a.number.cmp(&b.number)));
            (None, open)
        }
    };
    let mut totals = Totals::default();
    for l in &invoices {
        totals.add(l.balance);
    }
    MessageContext {
        rule: notice.rule.to_owned(),
        template: notice.template.to_owned(),
        locale,
        today,
        tenant: tenant_info(app),
        customer: customer.map(|c| CustomerInfo {
            id: c.id.to_string(),
            name: c.name.clone(),
        }),
        recipient,
        invoice,
        invoices,
        totals,
        level: notice.level,
        task: None,
        event: None,
        digest: None,
    }
}

/// The task a reminder is about, as it is now, at the occurrence reminded; or why
/// the reminder is cancelled (the task was removed, or moved so that this
/// occurrence no longer exists: the moved one has reminders of its own).
fn task_now(
    app: &App,
    n: &herald_store::NotificationRow,
    customer: Option<&herald_core::records::Customer>,
    fresh: &Fresh,
) -> Result<TaskInfo, String> {
    let id = n.subject.as_deref().unwrap_or_default();
    let task = herald_core::TaskId::parse(id)
        .ok()
        .and_then(|id| fresh.tasks.get(&id))
        .ok_or_else(|| format!("the task {id} is no longer in the store"))?;
    let tz = task
        .time_zone
        .as_ref()
        .or(customer.and_then(|c| c.time_zone.as_ref()))
        .unwrap_or(&app.config.tenant.time_zone)
        .time_zone();
    let at = n
        .occurs_at
        .ok_or_else(|| format!("the reminder of task {id} has no occurrence"))?;
    let before = at
        .checked_sub(jiff::SignedDuration::from_nanos(1))
        .unwrap_or(at);
    let Some(occ) = task.occurrences(&tz, before, at, 1).pop() else {
        return Err(format!(
            "the task {id} was moved: it no longer starts at {}",
            at.to_zoned(tz).strftime("%Y-%m-%d %H:%M")
        ));
    };
    Ok(TaskInfo {
        id: task.id.to_string(),
        title: task.title.clone(),
        date: occ.local.date(),
        time: occ.local.strftime("%H:%M").to_string(),
        time_zone: tz.iana_name().unwrap_or("UTC").to_owned(),
        operator: task
            .operator_id
            .as_ref()
            .and_then(|o| fresh.operators.get(o))
            .map(|o| o.name.clone()),
    })
}

/// What a digest tells, counted now over the period it was planned for (from
/// the firing before to its own): the same letter however late it goes out, or
/// why it is cancelled (its rule was removed from herald.toml).
async fn digest_now(
    app: &App,
    n: &herald_store::NotificationRow,
    fresh: &Fresh,
) -> anyhow::Result<Result<herald_core::message::DigestInfo, String>> {
    let Some(rule) = app.config.rules.digest.iter().find(|r| r.id == n.rule_id) else {
        return Ok(Err(format!(
            "the digest rule '{}' is no longer in herald.toml",
            n.rule_id
        )));
    };
    digest_info(
        app,
        rule,
        n.occurs_at.unwrap_or(n.fire_at),
        n.fire_at,
        n.subject.as_deref(),
        &fresh.operators,
    )
    .await
}

/// What a digest of `rule` for the period `[from, until)` tells: the operator
/// `subject`'s activity (an operator's own digest) or every operator's (the
/// office's), counted now; or why there is nothing to tell.
pub async fn digest_info(
    app: &App,
    rule: &herald_core::rules::DigestRule,
    from: Timestamp,
    until: Timestamp,
    subject: Option<&str>,
    staff: &HashMap<herald_core::OperatorId, herald_core::records::Operator>,
) -> anyhow::Result<Result<herald_core::message::DigestInfo, String>> {
    let tz = app.config.tenant.time_zone.time_zone();
    let periods = DigestPeriods::new(from, until, &tz);
    let counts = app.store.activity(&rule.event_type, &periods).await?;
    let mut operators: Vec<&herald_core::records::Operator> = match (rule.digest_for, subject) {
        (DigestFor::EachOperator, Some(id)) => {
            staff.values().filter(|o| o.id.as_str() == id).collect()
        }
        (DigestFor::EachOperator, None) => Vec::new(),
        (DigestFor::Office, _) => staff.values().collect(),
    };
    if operators.is_empty() {
        return Ok(Err(format!(
            "the operator {} is no longer in the store",
            subject.unwrap_or("-")
        )));
    }
    operators.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let mut total = herald_core::message::ActivityCounts::default();
    let lines = operators
        .into_iter()
        .map(|o| {
            let c = counts.get(&o.id).cloned().unwrap_or_default();
            total.period += c.period;
            total.day += c.day;
            total.week += c.week;
            total.month += c.month;
            herald_core::message::ActivityLine {
                id: o.id.to_string(),
                name: o.name.clone(),
                counts: c,
            }
        })
        .collect();
    let from = periods.period_from.to_zoned(tz.clone());
    let to = periods.until.to_zoned(tz);
    Ok(Ok(herald_core::message::DigestInfo {
        kind: rule.event_type.clone(),
        from_date: from.date(),
        from_time: from.strftime("%H:%M").to_string(),
        to_date: to.date(),
        to_time: to.strftime("%H:%M").to_string(),
        operators: lines,
        total,
    }))
}

async fn deliver(app: &App, d: &LeasedDelivery, fresh: &Fresh, now: Timestamp) -> AttemptOutcome {
    let t0 = std::time::Instant::now();
    let outcome = match try_deliver(app, d, fresh, now).await {
        Ok(o) => o,
        // A problem of ours (store read, missing customer) is worth another try.
        Err(e) => retry_or_fail(app, d, now, format!("{e:#}")),
    };
    let label = match &outcome {
        AttemptOutcome::Sent { .. } => "sent",
        AttemptOutcome::Retry { .. } => "retrying",
        AttemptOutcome::Failed { .. } | AttemptOutcome::FailedOver { .. } => "failed",
        AttemptOutcome::Cancelled { .. } => "cancelled",
        AttemptOutcome::Deferred { .. } => "deferred",
        AttemptOutcome::Postponed { .. } => "postponed",
    };
    crate::metrics::record_send(
        d.delivery.channel.as_str(),
        label,
        t0.elapsed().as_secs_f64(),
    );
    // Every delivery traceable by id in the service's log (`herald serve`).
    tracing::info!(
        delivery = d.delivery.id,
        notification = d.notification.id,
        rule = %d.notification.rule_id,
        channel = d.delivery.channel.as_str(),
        outcome = label,
        "delivery"
    );
    match outcome {
        AttemptOutcome::Failed { detail } => match fallback_for(app, d).await {
            Some(next) => AttemptOutcome::FailedOver {
                detail: format!(
                    "{detail}; the notice goes on by {} to {}",
                    match next.channel {
                        ChannelKind::Email => "e-mail",
                        ChannelKind::Sms => "SMS",
                        ChannelKind::Webhook => "webhook",
                    },
                    next.address
                ),
                next,
            },
            None => AttemptOutcome::Failed { detail },
        },
        other => other,
    }
}

/// The delivery a failed one is followed by when its rule has `channel_fallback`:
/// the same contact, on their next channel, as the customer's contacts are now.
async fn fallback_for(app: &App, d: &LeasedDelivery) -> Option<PlannedDelivery> {
    let n = &d.notification;
    let audience = app.config.rules.audience(&n.rule_id)?;
    if !audience.channel_fallback {
        return None;
    }
    let book = match app.store.book(n.customer_id.as_ref()?).await {
        Ok(b) => b?,
        Err(e) => {
            tracing::warn!(delivery = d.delivery.id, error = %e, "no channel fallback: the customer's contacts could not be read");
            return None;
        }
    };
    let failed = PlannedDelivery {
        channel: d.delivery.channel,
        name: d.delivery.name.clone(),
        address: d.delivery.address.clone(),
        locale: d.delivery.locale,
    };
    planner::channel_fallback(audience, &book, &failed)
}

fn retry_or_fail(app: &App, d: &LeasedDelivery, now: Timestamp, detail: String) -> AttemptOutcome {
    let attempt = d.delivery.attempts + 1;
    if attempt >= i64::from(app.config.max_attempts) {
        AttemptOutcome::Failed {
            detail: format!("{detail} (gave up after {attempt} attempts)"),
        }
    } else {
        let wait = backoff(app.config.retry_after, attempt, d.delivery.id);
        AttemptOutcome::Retry {
            at: now.checked_add(wait).unwrap_or(now),
            detail,
        }
    }
}

/// How long a delivery waits before attempt `attempt + 1`: `retry_after` doubled for
/// every attempt after the first, plus up to a quarter more. The extra (jitter) keeps
/// the deliveries that failed together, when a server went down, from all coming
/// back at the same second when it is back; it is derived from the delivery id, not
/// drawn, so a run is reproducible.
fn backoff(first: jiff::SignedDuration, attempt: i64, delivery_id: i64) -> jiff::SignedDuration {
    let factor = 1i32 << (attempt - 1).clamp(0, 20);
    let wait = first.checked_mul(factor).unwrap_or(first);
    let spread = (delivery_id as u64 ^ (attempt as u64).rotate_left(32))
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        >> 54; // 0..1024
    let extra_ms = wait.as_millis() * i128::from(spread) / 4096;
    let extra = jiff::SignedDuration::from_millis(i64::try_from(extra_ms).unwrap_or(0));
    wait.checked_add(extra).unwrap_or(wait)
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use jiff::SignedDuration;

    #[test]
    fn backoff_doubles_per_attempt_with_up_to_a_quarter_more_spread_over_deliveries() {
        let first = SignedDuration::from_mins(1);
        for attempt in 1..=5i64 {
            let base = first * (1 << (attempt - 1));
            let waits: Vec<SignedDuration> =
                (1..=200).map(|id| backoff(first, attempt, id)).collect();
            for w in &waits {
                assert!(
                    *w >= base && *w < base + base / 4,
                    "attempt {attempt}: {w:?}"
                );
            }
            let mut distinct = waits.clone();
            distinct.sort();
            distinct.dedup();
            assert!(
                distinct.len() > 150,
                "attempt {attempt}: only {} distinct waits",
                distinct.len()
            );
        }
        assert_eq!(backoff(first, 2, 7), backoff(first, 2, 7), "reproducible");
    }
}

/// An event as its templates see it: its time in the tenant's zone, the name of
/// the operator it names.
pub fn event_info(
    app: &App,
    e: &herald_core::events::Event,
    operators: &std::collections::HashMap<
        herald_core::values::OperatorId,
        herald_core::records::Operator,
    >,
) -> herald_core::message::EventInfo {
    let local = e
        .occurred_at
        .to_zoned(app.config.tenant.time_zone.time_zone());
    herald_core::message::EventInfo {
        id: e.id.to_string(),
        kind: e.kind.clone(),
        subject: e.subject.clone(),
        date: local.date(),
        time: local.strftime("%H:%M").to_string(),
        payload: e.payload.clone(),
        operator: e
            .operator_id
            .as_ref()
            .and_then(|o| operators.get(o))
            .map(|o| o.name.clone()),
    }
}

async fn try_deliver(
    app: &App,
    d: &LeasedDelivery,
    fresh: &Fresh,
    now: Timestamp,
) -> anyhow::Result<AttemptOutcome> {
    let n = &d.notification;
    let kind = n.kind;
    // A hold (a dispute, a promise to pay) on the customer cancels the notice; on
    // an invoice, leaves it out of the letter, and a letter with nothing left is
    // cancelled (invariant 3).
    use herald_store::HoldOn;
    if let Some(h) = n
        .customer_id
        .as_ref()
        .and_then(|c| fresh.holds.get(&(HoldOn::Customer, c.to_string())))
    {
        return Ok(AttemptOutcome::Cancelled {
            reason: h.cancel_reason(),
        });
    }
    let held: Vec<&herald_store::Hold> = d
        .invoice_ids
        .iter()
        .filter_map(|id| fresh.holds.get(&(HoldOn::Invoice, id.to_string())))
        .collect();
    if !held.is_empty() && held.len() == d.invoice_ids.len() {
        return Ok(AttemptOutcome::Cancelled {
            reason: held[0].cancel_reason(),
        });
    }
    let invoices: Vec<InvoiceView> = d
        .invoice_ids
        .iter()
        .filter(|id| !fresh.holds.contains_key(&(HoldOn::Invoice, id.to_string())))
        .filter_map(|id| fresh.invoices.get(id).cloned())
        .collect();
    let balances: Vec<_> = invoices
        .iter()
        .map(|v| (v.invoice.id.clone(), v.balance()))
        .collect();
    // Invariant 3: the payment is checked again just before sending.
    if let Some(reason) =
        planner::cancel_reason(condition_of(app, &n.rule_id, kind), kind, &balances)
    {
        return Ok(AttemptOutcome::Cancelled { reason });
    }
    let customer = match &n.customer_id {
        Some(id) => Some(
            fresh
                .customers
                .get(id)
                .with_context(|| format!("customer {id} is no longer in the store"))?,
        ),
        None => None,
    };
    let task = match kind {
        NoticeKind::Task => match task_now(app, n, customer, fresh) {
            Ok(t) => Some(t),
            Err(reason) => return Ok(AttemptOutcome::Cancelled { reason }),
        },
        _ => None,
    };
    let event = match kind {
        NoticeKind::Event => {
            let id = n.event_id.as_deref().unwrap_or_default();
            match herald_core::EventId::parse(id)
                .ok()
                .and_then(|id| fresh.events.get(&id))
            {
                Some(e) => Some(e),
                None => {
                    return Ok(AttemptOutcome::Cancelled {
                        reason: format!("the event {id} is no longer in the store"),
                    });
                }
            }
        }
        _ => None,
    };
    if let Some(at) = calendar_holds(app, d, customer, now) {
        let tz = customer_zone(app, customer);
        return Ok(AttemptOutcome::Postponed {
            at,
            reason: format!(
                "outside the send window or on a day off ({}); it goes out at {}",
                tz.iana_name().unwrap_or("tenant time zone"),
                at.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M %Z")
            ),
        });
    }
    let locale = d.delivery.locale;
    let template = d
        .delivery
        .template_override
        .clone()
        .unwrap_or_else(|| n.template.clone());
    let recipient = RecipientInfo {
        name: d.delivery.name.clone(),
        address: d.delivery.address.clone(),
    };
    let notice = Notice {
        rule: &n.rule_id,
        template: &template,
        kind,
        level: n.level,
    };
    let mut ctx = context_for(app, &notice, customer, recipient, locale, &invoices, now);
    if kind == NoticeKind::Digest {
        match digest_now(app, n, fresh).await? {
            Ok(info) => ctx.digest = Some(info),
            Err(reason) => return Ok(AttemptOutcome::Cancelled { reason }),
        }
    }
    ctx.task = task;
    ctx.event = event.map(|e| event_info(app, e, &fresh.operators));
    let parts = match d.delivery.channel {
        ChannelKind::Email => herald_render::Parts::Email,
        ChannelKind::Sms => herald_render::Parts::Sms,
        ChannelKind::Webhook => herald_render::Parts::Email,
    };
    let rendered =
        match app
            .templates()
            .render_parts(&template, locale, app.config.tenant.locale, &ctx, parts)
        {
            Ok(r) => r,
            // A template that does not render will not render on the next try either.
            Err(e) => {
                return Ok(AttemptOutcome::Failed {
                    detail: format!("template: {e}"),
                });
            }
        };
    let headers = vec![
        ("X-Herald-Notification".to_owned(), n.id.to_string()),
        ("X-Herald-Delivery".to_owned(), d.delivery.id.to_string()),
        ("X-Herald-Rule".to_owned(), n.rule_id.clone()),
    ];
    let outcome = match d.delivery.channel {
        ChannelKind::Webhook => {
            let Some(hook) = app.webhooks.get(&d.delivery.address) else {
                return Ok(AttemptOutcome::Failed {
                    detail: format!(
                        "webhook '{}' is no longer in herald.toml; add it back under [[webhooks]] and resend",
                        d.delivery.address
                    ),
                });
            };
            let payload = WebhookPayload {
                event: "notification",
                delivery_id: d.delivery.id,
                notification_id: n.id,
                dedupe_key: &n.dedupe_key,
                rule: &n.rule_id,
                customer_id: n.customer_id.as_ref().map(|c| c.as_str()),
                subject: &rendered.subject,
                text: &rendered.text,
                data: &ctx,
            };
            let body = serde_json::to_string(&payload).context("encoding the webhook payload")?;
            hook.post(d.delivery.id, &body, now.as_second()).await
        }
        ChannelKind::Sms => {
            let to = match PhoneNumber::parse(&d.delivery.address) {
                Ok(p) => p,
                Err(e) => {
                    return Ok(AttemptOutcome::Failed {
                        detail: format!("recipient: {e}"),
                    });
                }
            };
            let mut metadata = serde_json::Map::new();
            metadata.insert("notification".into(), n.id.into());
            metadata.insert("rule".into(), n.rule_id.clone().into());
            let msg = SmsMessage {
                id: d.delivery.id.to_string(),
                to,
                sender: app.config.sms_sender.clone(),
                body: rendered
                    .sms
                    .clone()
                    .unwrap_or_else(|| rendered.text.clone()),
                date: now,
                metadata,
            };
            app.sms.send_sms(d.delivery.id, &msg).await
        }
        ChannelKind::Email => {
            let to = match EmailAddress::parse(&d.delivery.address) {
                Ok(a) => a,
                Err(e) => {
                    return Ok(AttemptOutcome::Failed {
                        detail: format!("recipient: {e}"),
                    });
                }
            };
            let mut attachments: Vec<Attachment> = Vec::new();
            let attach_event = app
                .config
                .rules
                .event
                .iter()
                .any(|r| r.id == n.rule_id && r.attach);
            if let Some(path) = event.and_then(|e| e.attachment.as_ref())
                && attach_event
            {
                match load_attachment(std::path::Path::new(path)) {
                    Ok(a) => attachments.push(a),
                    Err(e) => return Ok(retry_or_fail(app, d, now, format!("attachment: {e}"))),
                }
            }
            if kind == NoticeKind::Invoice {
                for v in &invoices {
                    if let Some(path) = &v.invoice.attachment {
                        match load_attachment(std::path::Path::new(path)) {
                            Ok(a) => attachments.push(a),
                            Err(e) => {
                                return Ok(retry_or_fail(app, d, now, format!("attachment: {e}")));
                            }
                        }
                    }
                }
            }
            let message = |account: &Account, message_id: &str| {
                let reply_to = account.reply_to.clone();
                let receipts_to = reply_to
                    .clone()
                    .unwrap_or_else(|| account.from.address.clone());
                EmailMessage {
                    message_id: message_id.to_owned(),
                    date: now,
                    from: account.from.clone(),
                    reply_to: reply_to.map(|a| Mailbox {
                        name: None,
                        address: a,
                    }),
                    to: vec![Mailbox {
                        name: (!d.delivery.name.is_empty()).then(|| d.delivery.name.clone()),
                        address: to.clone(),
                    }],
                    subject: rendered.subject.clone(),
                    text: rendered.text.clone(),
                    html: rendered.html.clone(),
                    attachments: attachments.clone(),
                    read_receipt_to: app.config.read_receipt.then_some(Mailbox {
                        name: None,
                        address: receipts_to,
                    }),
                    headers: headers.clone(),
                }
            };
            let chain = app.account_chain(app.config.account_for(&n.rule_id, None));
            return Ok(
                match send_through(d.delivery.id, &chain, Some(&fresh.budgets), message).await {
                    Through::Sent(account, provider_id, detail) => AttemptOutcome::Sent {
                        provider_id,
                        detail,
                        account,
                    },
                    Through::Transient(detail) => retry_or_fail(app, d, now, detail),
                    Through::Permanent(detail) => AttemptOutcome::Failed { detail },
                    Through::OverLimit(reason) => AttemptOutcome::Deferred {
                        at: fresh.budgets.tomorrow,
                        reason,
                    },
                },
            );
        }
    };
    Ok(match outcome {
        Outcome::Delivered {
            provider_id,
            detail,
        } => AttemptOutcome::Sent {
            provider_id,
            detail,
            account: None,
        },
        Outcome::Transient { detail } => retry_or_fail(app, d, now, detail),
        Outcome::Permanent { detail } => AttemptOutcome::Failed { detail },
    })
}

/// The reader's time zone: the customer's, else the tenant's (the office's, for a
/// notice about no customer).
fn customer_zone(
    app: &App,
    customer: Option<&herald_core::records::Customer>,
) -> jiff::tz::TimeZone {
    customer
        .and_then(|c| c.time_zone.as_ref())
        .unwrap_or(&app.config.tenant.time_zone)
        .time_zone()
}

/// When the business calendar lets this delivery go, if not now: people are not
/// messaged at night or on holidays unless the rule says so (`calendar = false`);
/// systems (webhooks) always are.
fn calendar_holds(
    app: &App,
    d: &LeasedDelivery,
    customer: Option<&herald_core::records::Customer>,
    now: Timestamp,
) -> Option<Timestamp> {
    let live = app.live();
    let cal = live.calendar.as_ref()?;
    if d.delivery.channel == ChannelKind::Webhook
        || app
            .config
            .rules_off_calendar
            .contains(&d.notification.rule_id)
    {
        return None;
    }
    let at = cal.next_allowed(now, &customer_zone(app, customer));
    (at > now).then_some(at)
}

/// Where an e-mail got to on its accounts.
enum Through {
    /// Sent through this account (`None`: the shared one).
    Sent(Option<String>, Option<String>, String),
    /// No account could take it for now; why, for each.
    Transient(String),
    /// Refused for good: a bad address is bad for every account.
    Permanent(String),
    /// Every account that could have sent it has used up today's limit.
    OverLimit(String),
}

/// Tries an e-mail on each account of `chain` in turn until one sends it: an
/// account that cannot take it for now (unreachable, timing out, 4xx) or has used up
/// its daily limit passes it to the next, each writing as itself. The Message-ID
/// stays the first account's, so a copy that went out twice through two accounts is
/// still known as one.
async fn send_through(
    delivery_id: i64,
    chain: &[&Account],
    budgets: Option<&Allowances>,
    message: impl Fn(&Account, &str) -> EmailMessage,
) -> Through {
    let message_id = message_id_for(delivery_id, chain[0].from.domain());
    let mut why: Vec<String> = Vec::new();
    let mut over_limit = true;
    for account in chain {
        if let Some(b) = budgets {
            match b.take(account).await {
                Ok(Allowance::Granted) => {}
                Ok(Allowance::UsedUp(limit)) => {
                    why.push(format!(
                        "{} reached its daily limit of {limit} messages",
                        account.label()
                    ));
                    continue;
                }
                Err(e) => {
                    // Not sent: whether the account may send is not known.
                    over_limit = false;
                    why.push(format!(
                        "{}'s limits cannot be checked in the store: {e:#}",
                        account.label()
                    ));
                    continue;
                }
            }
        }
        over_limit = false;
        let msg = message(account, &message_id);
        match account.channel.send_email(delivery_id, &msg).await {
            Outcome::Delivered {
                provider_id,
                detail,
            } => {
                let detail = if why.is_empty() {
                    detail
                } else {
                    format!("{detail}, through {} ({})", account.label(), why.join("; "))
                };
                return Through::Sent(account.name.clone(), provider_id, detail);
            }
            Outcome::Transient { detail } => {
                if let Some(b) = budgets {
                    b.give_back(account).await;
                }
                why.push(if chain.len() > 1 {
                    format!("{}: {detail}", account.label())
                } else {
                    detail
                });
            }
            Outcome::Permanent { detail } => return Through::Permanent(detail),
        }
    }
    if over_limit {
        Through::OverLimit(format!("{}; it goes out after midnight", why.join("; ")))
    } else {
        Through::Transient(why.join("; "))
    }
}

/// What a webhook receives (docs/json.md): the notice as text, and the data its
/// template saw, for systems that want to show or process it themselves.
#[derive(Serialize)]
struct WebhookPayload<'a> {
    event: &'static str,
    delivery_id: i64,
    notification_id: i64,
    dedupe_key: &'a str,
    rule: &'a str,
    customer_id: Option<&'a str>,
    subject: &'a str,
    text: &'a str,
    data: &'a MessageContext,
}

/// A verdict in words for listings.
pub fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::Deliver => "deliver".into(),
        Verdict::NotApplicable(r) => format!("not applicable: {r}"),
    }
}

/// A customer's book for previews: its contacts and every invoice, current.
pub async fn book_for(app: &App, customer: &CustomerId) -> anyhow::Result<Option<CustomerBook>> {
    Ok(app.store.book(customer).await?)
}
