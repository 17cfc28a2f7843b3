//! One document as the people who ask about it see it: its status per rule (seed
//! 000's "show send statuses" columns), why a rule has said nothing about it yet,
//! and a rule's message rendered exactly as it would go out (preview).
//!
//! The CLI prints these and the API returns them as JSON; both go through here so
//! the two can never tell a different story about the same invoice.

use herald_core::message::RecipientInfo;
use herald_core::planner::{self, NoticeKind};
use herald_core::status::{AggregateStatus, DeliveryState};
use herald_core::values::{CustomerId, InvoiceId, Locale};
use herald_store::HistoryEntry;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::app::App;
use crate::jobs;

/// Why a question about a document has no answer. The CLI turns both into a
/// usage error; the API into 404 and 422.
#[derive(Debug)]
pub enum Refusal {
    /// The customer, invoice or rule does not exist.
    NotFound(String),
    /// It exists, but the question cannot be answered for it (a customer without
    /// invoices to preview a reminder with).
    Unanswerable(String),
    /// The store or a template failed.
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Refusal {
    fn from(e: anyhow::Error) -> Self {
        Refusal::Failed(e)
    }
}

impl From<herald_store::StoreError> for Refusal {
    fn from(e: herald_store::StoreError) -> Self {
        Refusal::Failed(e.into())
    }
}

impl From<Refusal> for anyhow::Error {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NotFound(m) | Refusal::Unanswerable(m) => crate::cli::InputError(m).into(),
            Refusal::Failed(e) => e,
        }
    }
}

/// One column of a subject's send statuses: an event type its notices answer and
/// the status of all their deliveries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectColumn {
    /// The event type, e.g. `customs.IE529`.
    pub event_type: String,
    /// The column's heading: the type's last part, e.g. `IE529`.
    pub label: String,
    #[schema(value_type = String)]
    pub status: AggregateStatus,
}

/// Seed 000's "show send statuses": one column per event type the subject's notices
/// answer (for a customs declaration always IE529, IE509 and IE599, in that order),
/// each the status of all its deliveries: a type with no notice is NotApplicable,
/// and PartiallySent when some recipients got it and others did not.
pub fn subject_columns(app: &App, entries: &[HistoryEntry]) -> Vec<SubjectColumn> {
    let type_of = |rule: &str| {
        app.config
            .rules
            .event
            .iter()
            .find(|r| r.id == rule)
            .map(|r| r.event_type.clone())
    };
    let mut columns: Vec<String> = Vec::new();
    if entries
        .iter()
        .any(|e| type_of(&e.notification.rule_id).is_some_and(|t| t.starts_with("customs.")))
    {
        columns.extend(["customs.IE529", "customs.IE509", "customs.IE599"].map(String::from));
    }
    for e in entries {
        if let Some(t) = type_of(&e.notification.rule_id)
            && !columns.contains(&t)
        {
            columns.push(t);
        }
    }
    columns
        .into_iter()
        .map(|t| {
            let states: Vec<DeliveryState> = entries
                .iter()
                .filter(|e| type_of(&e.notification.rule_id).as_deref() == Some(t.as_str()))
                .flat_map(|e| e.deliveries.iter().map(|d| d.delivery.state))
                .collect();
            SubjectColumn {
                label: t.rsplit('.').next().unwrap_or(&t).to_owned(),
                status: AggregateStatus::of(states),
                event_type: t,
            }
        })
        .collect()
}

/// One rule's word on one invoice.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleStatus {
    pub rule: String,
    /// The status of the rule's latest notice about the invoice (a dunning
    /// ladder's highest letter); `not_applicable` while there is none.
    #[schema(value_type = String)]
    pub status: AggregateStatus,
    /// The dunning level of that latest notice.
    pub level: Option<u32>,
    /// Every notice of the rule about the invoice, oldest first.
    pub notifications: Vec<i64>,
    /// When the next dunning reminder is due.
    #[schema(value_type = Option<String>, format = Date)]
    pub next_reminder_on: Option<Date>,
    /// Why the rule has no notice about the invoice, when it has none.
    pub why: Option<String>,
    /// The same, for a reader in another language (the console).
    #[serde(skip)]
    pub silence: Option<Silence>,
}

/// Why an invoice rule has said nothing about an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Silence {
    /// The rule is about unpaid invoices, and this one is paid.
    Paid,
    /// Its day has not been planned yet.
    NotYetPlanned(Date),
    /// Its day had passed before herald received the invoice.
    BeforeHerald(Date),
}

impl std::fmt::Display for Silence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Silence::Paid => write!(f, "not applicable: the invoice is paid"),
            Silence::NotYetPlanned(d) => write!(f, "not yet planned: due on {d}"),
            Silence::BeforeHerald(d) => write!(
                f,
                "not applicable: history, its time ({d}) had passed before herald received the invoice"
            ),
        }
    }
}

/// An invoice's statuses, one per enabled invoice and dunning rule.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoiceStatuses {
    pub invoice: String,
    pub number: String,
    pub customer: String,
    /// What is still owed, in the invoice's currency.
    pub balance: String,
    pub currency: String,
    pub rules: Vec<RuleStatus>,
}

/// The invoice's status per rule, from its history (`entries`: the store's
/// history filtered by the invoice).
pub async fn invoice_statuses(
    app: &App,
    id: &InvoiceId,
    entries: &[HistoryEntry],
) -> Result<InvoiceStatuses, Refusal> {
    let Some(view) = app.store.invoice(id).await? else {
        return Err(Refusal::NotFound(format!(
            "there is no invoice '{id}'; import it first (herald import invoices, or POST /api/v1/invoices)"
        )));
    };
    let silent = rules_without_notice(app, &view, entries).await?;
    let mut rules = Vec::new();
    let invoice_rules = app.config.rules.invoice.iter().filter(|r| r.enabled);
    let dunning_rules = app.config.rules.dunning.iter().filter(|d| d.enabled);
    for rule in invoice_rules
        .map(|r| r.id.as_str())
        .chain(dunning_rules.map(|d| d.id.as_str()))
    {
        let mine: Vec<&HistoryEntry> = entries
            .iter()
            .filter(|e| e.notification.rule_id == rule)
            .collect();
        let latest = mine
            .iter()
            .max_by_key(|e| (e.notification.fire_at, e.notification.id));
        rules.push(RuleStatus {
            rule: rule.to_owned(),
            status: latest.map_or(AggregateStatus::NotApplicable, |e| {
                AggregateStatus::of(e.deliveries.iter().map(|d| d.delivery.state))
            }),
            level: latest.and_then(|e| e.notification.level),
            notifications: mine.iter().map(|e| e.notification.id).collect(),
            next_reminder_on: latest.and_then(|e| e.next_reminder_on),
            why: silent
                .iter()
                .find(|(r, _)| r == rule)
                .map(|(_, why)| why.to_string()),
            silence: silent.iter().find(|(r, _)| r == rule).map(|(_, why)| *why),
        });
    }
    Ok(InvoiceStatuses {
        invoice: view.invoice.id.to_string(),
        number: view.invoice.number.clone(),
        customer: view.invoice.customer_id.to_string(),
        balance: view.balance().to_string(),
        currency: view.invoice.currency.to_string(),
        rules,
    })
}

/// For each enabled invoice rule with no notification about the invoice, why not.
/// Nothing is stored for these (see `herald_core::planner`), so it is derived: a
/// trigger that fell in a run's window while herald knew the invoice always has a
/// stored notification, even a NotApplicable one.
pub async fn rules_without_notice(
    app: &App,
    view: &planner::InvoiceView,
    entries: &[HistoryEntry],
) -> anyhow::Result<Vec<(String, Silence)>> {
    // What the planner has looked at so far, not the wall clock: a trigger after
    // the watermark has simply not been planned yet.
    let tz = app.config.tenant.time_zone.time_zone();
    let planned_until = app
        .store
        .planner_state()
        .await?
        .watermark
        .map(|w| planner::local_date(w, &tz));
    let mut out = Vec::new();
    for rule in app.config.rules.invoice.iter().filter(|r| r.enabled) {
        if entries.iter().any(|e| e.notification.rule_id == rule.id) {
            continue;
        }
        let date = rule.trigger_date(&view.invoice);
        let why = if rule.condition == herald_core::rules::Condition::Unpaid
            && view.balance().is_zero()
        {
            Silence::Paid
        } else if planned_until.is_none_or(|p| date >= p) {
            Silence::NotYetPlanned(date)
        } else {
            Silence::BeforeHerald(date)
        };
        out.push((rule.id.clone(), why));
    }
    Ok(out)
}

/// Who a previewed message would go to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PreviewRecipient {
    pub name: String,
    pub address: String,
    pub channel: String,
}

/// A rule's message for a customer, rendered as it would be sent, without
/// recording or sending anything.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub rule: String,
    pub template: String,
    /// The language it was rendered in (the customer's, unless asked otherwise;
    /// the tenant's when the template lacks it).
    pub locale: String,
    pub level: Option<u32>,
    /// The invoices the message is about.
    pub invoices: Vec<String>,
    /// Empty when no contact of the customer can be reached by the rule.
    pub to: Vec<PreviewRecipient>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The SMS text, when the template has one.
    pub sms: Option<String>,
    /// The files the e-mail would carry: the invoices' and the event's.
    pub attachments: Vec<String>,
}

/// What to preview: a rule, and what it is for.
#[derive(Debug, Clone)]
pub struct PreviewRequest<'a> {
    pub rule: &'a str,
    /// Whom it is for; an event rule takes its event's customer when not given.
    pub customer: Option<CustomerId>,
    /// An invoice rule's invoice (default: the customer's latest open one).
    pub invoice: Option<&'a str>,
    /// An event rule's subject (a declaration number): its latest event about it.
    pub subject: Option<&'a str>,
    /// Render in this language instead of the recipient's.
    pub locale: Option<Locale>,
    pub now: Timestamp,
}

/// Renders a rule as of `now`: an invoice rule about one invoice; a dunning rule
/// about every invoice overdue on that day, at the level the oldest of them has
/// reached; an event rule for the latest event of its type it would answer (of
/// the customer, about the subject).
pub async fn preview(app: &App, req: &PreviewRequest<'_>) -> Result<Preview, Refusal> {
    preview_with(app, req, &app.templates(), None).await
}

/// As [`preview`], rendering with `templates` and, when given, the template
/// `template` instead of the rule's: how the console shows a template edit
/// against real data before it is saved.
pub async fn preview_with(
    app: &App,
    req: &PreviewRequest<'_>,
    templates: &herald_render::TemplateSet,
    template: Option<&str>,
) -> Result<Preview, Refusal> {
    let chosen_template = template;
    if let Some(r) = app.config.rules.task.iter().find(|r| r.id == req.rule) {
        return preview_task(app, r, req, templates, chosen_template).await;
    }
    if let Some(r) = app.config.rules.digest.iter().find(|r| r.id == req.rule) {
        return preview_digest(app, r, req, templates, chosen_template).await;
    }
    let (rule, invoice, now) = (req.rule, req.invoice, req.now);
    let today = planner::local_date(now, &app.config.tenant.time_zone.time_zone());
    let mut event = None;
    let event_rule = app.config.rules.event.iter().find(|r| r.id == rule);
    if let Some(r) = event_rule {
        let recent = app
            .store
            .recent_events(
                &r.event_type,
                req.customer.as_ref().map(CustomerId::as_str),
                req.subject,
                200,
            )
            .await?;
        let Some(e) = recent
            .into_iter()
            .find(|e| herald_core::events::matches(r, e))
        else {
            return Err(Refusal::NotFound(format!(
                "no {} event{}{} that rule '{rule}' answers has reached herald; preview it once one has (herald import events, or POST /api/v1/events)",
                r.event_type,
                req.customer
                    .as_ref()
                    .map(|c| format!(" of customer '{c}'"))
                    .unwrap_or_default(),
                req.subject
                    .map(|s| format!(" about '{s}'"))
                    .unwrap_or_default(),
            )));
        };
        event = Some(e);
    }
    let customer = match (&req.customer, &event) {
        (Some(c), _) => c.clone(),
        (None, Some(e)) => e.customer_id.clone().ok_or_else(|| {
            Refusal::Unanswerable(format!(
                "event {} concerns no customer: rule '{rule}' writes to the office; a preview renders a notice to a customer",
                e.id
            ))
        })?,
        (None, None) => {
            return Err(Refusal::Unanswerable(format!(
                "name the customer to preview rule '{rule}' for"
            )));
        }
    };
    let customer = &customer;
    let Some(book) = jobs::book_for(app, customer).await? else {
        return Err(Refusal::NotFound(format!(
            "customer '{customer}' does not exist; import it first"
        )));
    };
    let settings = jobs::settings(app).await?;
    let (kind, template, level, audience, invoices) = if let Some(r) = event_rule {
        (
            NoticeKind::Event,
            r.template.clone(),
            None,
            r.audience.clone(),
            Vec::new(),
        )
    } else if let Some(r) = app.config.rules.invoice.iter().find(|r| r.id == rule) {
        let chosen = match invoice {
            Some(id) => book
                .invoices
                .iter()
                .find(|v| v.invoice.id.as_str() == id)
                .cloned()
                .ok_or_else(|| {
                    Refusal::NotFound(format!(
                        "invoice '{id}' is not an invoice of customer '{customer}'"
                    ))
                })?,
            None => book
                .invoices
                .iter()
                .filter(|v| v.balance() > rust_decimal::Decimal::ZERO)
                .max_by_key(|v| v.invoice.issue_date)
                .or_else(|| book.invoices.iter().max_by_key(|v| v.invoice.issue_date))
                .cloned()
                .ok_or_else(|| {
                    Refusal::Unanswerable(format!(
                        "customer '{customer}' has no invoices to preview with; import one first"
                    ))
                })?,
        };
        (
            NoticeKind::Invoice,
            r.template.clone(),
            None,
            r.audience.clone(),
            vec![chosen],
        )
    } else if let Some(d) = app.config.rules.dunning.iter().find(|d| d.id == rule) {
        let overdue: Vec<_> = book
            .invoices
            .iter()
            .filter(|v| v.balance() > rust_decimal::Decimal::ZERO && v.invoice.due_date < today)
            .cloned()
            .collect();
        if overdue.is_empty() {
            return Err(Refusal::Unanswerable(format!(
                "customer '{customer}' has no overdue invoice on {today}; a dunning letter would list nothing (preview as of a later day with now)"
            )));
        }
        let max_days = overdue
            .iter()
            .map(|v| planner::days_between(v.invoice.due_date, today))
            .max()
            .unwrap_or(0);
        let lvl = d
            .levels
            .iter()
            .rev()
            .find(|l| i64::from(l.after_days) <= max_days)
            .unwrap_or(&d.levels[0]);
        (
            NoticeKind::Dunning,
            lvl.template.clone(),
            Some(lvl.level),
            d.audience.clone(),
            overdue,
        )
    } else if let Some(r) = app.config.rules.summary.iter().find(|r| r.id == rule) {
        // Seed 003's RESEND: the overview the rule sends at its next firing.
        let schedule = herald_core::schedule::Schedule::parse(&r.schedule)
            .map_err(|e| Refusal::Failed(anyhow::anyhow!("rule '{rule}': schedule: {e}")))?;
        let at = schedule.next_after(now, &settings.time_zone).unwrap_or(now);
        let Some(planned) = planner::plan_summary(r, &book, &settings, at) else {
            return Err(Refusal::Unanswerable(format!(
                "customer '{customer}' owes nothing a dunning letter has reminded, so rule '{rule}' sends them nothing"
            )));
        };
        let invoices = book
            .invoices
            .iter()
            .filter(|v| planned.invoice_ids.contains(&v.invoice.id))
            .cloned()
            .collect();
        (
            NoticeKind::Dunning,
            r.template.clone(),
            None,
            r.audience.clone(),
            invoices,
        )
    } else {
        let rules = &app.config.rules;
        return Err(Refusal::NotFound(format!(
            "there is no rule '{rule}' in {}; rules: {}",
            app.config.path.display(),
            rules.all_ids().collect::<Vec<_>>().join(", ")
        )));
    };
    let template = chosen_template.map_or(template, str::to_owned);
    let deliveries = planner::recipients(&audience, &book, &settings);
    let locale = req
        .locale
        .or(book.customer.locale)
        .unwrap_or(app.config.tenant.locale);
    let recipient = addressee(&deliveries);
    let notice = jobs::Notice {
        rule,
        template: &template,
        kind,
        level,
    };
    let mut ctx = jobs::context_for(
        app,
        &notice,
        Some(&book.customer),
        recipient,
        locale,
        &invoices,
        now,
    );
    if let Some(e) = &event {
        ctx.event = Some(jobs::event_info(app, e, &app.store.operators().await?));
    }
    let r = templates
        .render(&template, locale, app.config.tenant.locale, &ctx)
        .map_err(anyhow::Error::from)?;
    let file_name = |p: &str| {
        std::path::Path::new(p)
            .file_name()
            .map_or_else(|| p.to_owned(), |n| n.to_string_lossy().into_owned())
    };
    let attachments = invoices
        .iter()
        .filter_map(|v| v.invoice.attachment.as_deref())
        .chain(event.as_ref().and_then(|e| e.attachment.as_deref()))
        .map(file_name)
        .collect();
    Ok(Preview {
        rule: rule.to_owned(),
        template,
        locale: r.locale.to_string(),
        level,
        invoices: invoices.iter().map(|v| v.invoice.id.to_string()).collect(),
        to: recipients_listed(&deliveries),
        subject: r.subject,
        text: r.text,
        html: r.html,
        sms: r.sms,
        attachments,
    })
}

/// A task rule's next reminder of a task (the one named by `subject`, else the
/// customer's next), planned by the planner's own `plan_task` so the preview
/// goes to whom and when the real one will: the client's side first, then the
/// operator's.
async fn preview_task(
    app: &App,
    rule: &herald_core::rules::TaskRule,
    req: &PreviewRequest<'_>,
    templates: &herald_render::TemplateSet,
    chosen_template: Option<&str>,
) -> Result<Preview, Refusal> {
    let now = req.now;
    let tasks = match (req.subject, &req.customer) {
        (Some(id), _) => {
            let id = herald_core::TaskId::parse(id)
                .map_err(|e| Refusal::NotFound(format!("task '{id}': {}", e.0)))?;
            let task = app
                .store
                .tasks(std::slice::from_ref(&id))
                .await?
                .remove(&id);
            vec![task.ok_or_else(|| {
                Refusal::NotFound(format!("there is no task '{id}'; import it first"))
            })?]
        }
        (None, Some(c)) => app.store.tasks_of(c).await?,
        (None, None) => {
            return Err(Refusal::Unanswerable(format!(
                "name the task (subject) or the customer to preview rule '{}' for",
                rule.id
            )));
        }
    };
    let settings = jobs::settings(app).await?;
    let operators = app.store.operators().await?;
    // The earliest reminder to come of any of these tasks, a month at a time for
    // a year (the planner looks back at most a month from a window's end).
    let mut next: Option<(
        herald_core::planner::PlannedNotification,
        &herald_core::tasks::Task,
    )> = None;
    for task in &tasks {
        let Some(book) = jobs::book_for(app, &task.customer_id).await? else {
            continue;
        };
        let doer = task.operator_id.as_ref().and_then(|o| operators.get(o));
        for month in 0..13 {
            let window = planner::Window {
                after: Some(now + jiff::SignedDuration::from_hours(24 * 30 * month)),
                until: now + jiff::SignedDuration::from_hours(24 * 30 * (month + 1)),
            };
            let planned = herald_core::tasks::plan_task(rule, task, &book, doer, &settings, window);
            if let Some(first) = planned.into_iter().min_by_key(|p| p.fire_at) {
                if next.as_ref().is_none_or(|(n, _)| first.fire_at < n.fire_at) {
                    next = Some((first, task));
                }
                break;
            }
        }
    }
    let Some((planned, task)) = next else {
        return Err(Refusal::Unanswerable(format!(
            "rule '{}' has no reminder to send in the coming year for {}; a task that is over has none: check its start and recurrence (herald import tasks)",
            rule.id,
            req.subject
                .map(|s| format!("task '{s}'"))
                .or_else(|| req
                    .customer
                    .as_ref()
                    .map(|c| format!("the tasks of customer '{c}'")))
                .unwrap_or_default()
        )));
    };
    let Some(book) = jobs::book_for(app, &task.customer_id).await? else {
        return Err(Refusal::NotFound(format!(
            "customer '{}' does not exist; import it first",
            task.customer_id
        )));
    };
    let tz = task
        .time_zone
        .as_ref()
        .or(book.customer.time_zone.as_ref())
        .unwrap_or(&app.config.tenant.time_zone)
        .time_zone();
    let occurs_at = planned.occurs_at.unwrap_or(planned.fire_at);
    let occurrence = task
        .occurrences(
            &tz,
            occurs_at - jiff::SignedDuration::from_nanos(1),
            occurs_at,
            1,
        )
        .pop();
    let local = occurrence.map_or_else(|| occurs_at.to_zoned(tz.clone()).datetime(), |o| o.local);
    let info = herald_core::message::TaskInfo {
        id: task.id.to_string(),
        title: task.title.clone(),
        date: local.date(),
        time: local.strftime("%H:%M").to_string(),
        time_zone: tz.iana_name().unwrap_or("UTC").to_owned(),
        operator: task
            .operator_id
            .as_ref()
            .and_then(|o| operators.get(o))
            .map(|o| o.name.clone()),
    };
    render_planned(
        app,
        &planned,
        Some(&book.customer),
        req,
        templates,
        chosen_template,
        |ctx| ctx.task = Some(info),
    )
}

/// Whom a preview is written to: the first recipient, as the first delivery gets it.
fn addressee(deliveries: &[herald_core::planner::PlannedDelivery]) -> RecipientInfo {
    deliveries.first().map_or(
        RecipientInfo {
            name: String::new(),
            address: "(nobody)".into(),
        },
        |d| RecipientInfo {
            name: d.name.clone(),
            address: d.address.clone(),
        },
    )
}

/// Every recipient a preview lists.
fn recipients_listed(
    deliveries: &[herald_core::planner::PlannedDelivery],
) -> Vec<PreviewRecipient> {
    deliveries
        .iter()
        .map(|d| PreviewRecipient {
            name: d.name.clone(),
            address: d.address.clone(),
            channel: d.channel.as_str().to_owned(),
        })
        .collect()
}

/// Renders a notice the planner's own code planned (a task reminder, a digest)
/// as its first recipient would get it, listing every recipient.
fn render_planned(
    app: &App,
    planned: &herald_core::planner::PlannedNotification,
    customer: Option<&herald_core::records::Customer>,
    req: &PreviewRequest<'_>,
    templates: &herald_render::TemplateSet,
    chosen_template: Option<&str>,
    fill: impl FnOnce(&mut herald_core::message::MessageContext),
) -> Result<Preview, Refusal> {
    let template = chosen_template.map_or_else(|| planned.template.clone(), str::to_owned);
    let locale = req
        .locale
        .or(planned.deliveries.first().map(|d| d.locale))
        .unwrap_or(app.config.tenant.locale);
    let recipient = addressee(&planned.deliveries);
    let notice = jobs::Notice {
        rule: planned.rule_id.as_str(),
        template: &template,
        kind: planned.kind,
        level: planned.level,
    };
    let mut ctx = jobs::context_for(app, &notice, customer, recipient, locale, &[], req.now);
    fill(&mut ctx);
    let r = templates
        .render(&template, locale, app.config.tenant.locale, &ctx)
        .map_err(anyhow::Error::from)?;
    Ok(Preview {
        rule: planned.rule_id.to_string(),
        template,
        locale: r.locale.to_string(),
        level: planned.level,
        invoices: Vec::new(),
        to: recipients_listed(&planned.deliveries),
        subject: r.subject,
        text: r.text,
        html: r.html,
        sms: r.sms,
        attachments: Vec::new(),
    })
}

/// A digest rule's next digest (seed 002): the operator `subject`'s own, or the
/// first the rule sends, as of its next firing, counted from events as they are now.
async fn preview_digest(
    app: &App,
    rule: &herald_core::rules::DigestRule,
    req: &PreviewRequest<'_>,
    templates: &herald_render::TemplateSet,
    chosen_template: Option<&str>,
) -> Result<Preview, Refusal> {
    let settings = jobs::settings(app).await?;
    let schedule = herald_core::schedule::Schedule::parse(&rule.schedule)
        .map_err(|e| Refusal::Failed(anyhow::anyhow!("rule '{}': schedule: {e}", rule.id)))?;
    let Some(at) = schedule.next_after(req.now, &settings.time_zone) else {
        return Err(Refusal::Unanswerable(format!(
            "rule '{}' does not fire again: its schedule is '{}'",
            rule.id, rule.schedule
        )));
    };
    let mut staff: Vec<herald_core::records::Operator> =
        app.store.operators().await?.into_values().collect();
    staff.sort_by(|a, b| a.id.cmp(&b.id));
    let planned = jobs::digests_at(app, rule, at, &settings, &staff).await?;
    let when = at
        .to_zoned(settings.time_zone.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string();
    let chosen = match req.subject {
        Some(op) => planned.iter().find(|p| p.subject.as_deref() == Some(op)),
        None => planned.first(),
    };
    let Some(planned) = chosen else {
        return Err(Refusal::Unanswerable(match req.subject {
            Some(op) => format!(
                "rule '{}' sends operator '{op}' nothing at {when}: it does not write to them, or they have nothing new and send_empty is off",
                rule.id
            ),
            None => format!(
                "rule '{}' sends nothing at {when}: nothing new since its last digest, and send_empty is off",
                rule.id
            ),
        }));
    };
    let operators = staff.into_iter().map(|o| (o.id.clone(), o)).collect();
    let info = match jobs::digest_info(
        app,
        rule,
        planned.occurs_at.unwrap_or(planned.fire_at),
        planned.fire_at,
        planned.subject.as_deref(),
        &operators,
    )
    .await?
    {
        Ok(info) => info,
        Err(why) => return Err(Refusal::Unanswerable(why)),
    };
    render_planned(app, planned, None, req, templates, chosen_template, |ctx| {
        ctx.digest = Some(info)
    })
}
