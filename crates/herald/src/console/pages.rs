//! The console's pages and the actions their forms post.
//!
//! Each handler reads what it shows from the store, turns it into strings in the
//! reader's language and time zone here, in Rust, and hands the template nothing
//! but text and lists: the templates stay markup, and what a page says is tested
//! with the code that says it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use herald_core::rules::ChannelKind;
use herald_core::status::{AggregateStatus, DeliveryState};
use herald_core::{CustomerId, InvoiceId};
use herald_store::{
    DeliveryListQuery, DeliveryListRow, HistoryFilter, HoldOn, InvoiceListQuery, InvoiceStanding,
};
use jiff::Timestamp;

use super::{Console, Fields, Frame, Lang, Signed, internal, query_pairs, refusal, render};

/// Rows on one page of a list.
pub(super) const PAGE: u32 = 50;

/// The sentence a redirect's `said=` code stands for: what the last action did.
pub(super) fn said(code: &str) -> Option<&'static str> {
    Some(match code {
        "resent" => "Queued: the dispatcher sends it at once.",
        "cancelled" => "Cancelled.",
        "paused" => "Paused.",
        "resumed" => "Resumed.",
        "nothing" => "Nothing was waiting to be cancelled.",
        "saved" => "Saved. It applies now, on every node within 10 seconds.",
        "queued" => {
            "Queued in the background: the dispatcher is sending them; they appear here as they go."
        }
        _ => return None,
    })
}

/// A request's query as a lookup, with the page's path kept for links.
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    pub(super) fn new(raw: Option<&str>) -> Query {
        Query(query_pairs(raw))
    }

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// The query again without `page` and `said`, for the pager's and the
    /// export's links.
    fn without_page(&self) -> String {
        self.0
            .iter()
            .filter(|(k, v)| k != "page" && k != "said" && !v.is_empty())
            .map(|(k, v)| format!("{}={}", super::url_encode(k), super::url_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn page(&self) -> u64 {
        self.get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1)
    }
}

pub(super) fn here(path: &str, raw: &Option<String>) -> String {
    match raw {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_owned(),
    }
}

/// A state or status as the console shows it: the word in the reader's language
/// and the CSS class that colours it.
#[derive(Debug, Clone)]
pub struct Badge {
    pub label: String,
    pub class: &'static str,
}

impl Badge {
    pub(super) fn of(t: Lang, code: &'static str) -> Badge {
        let class = match code {
            "sent" => "ok",
            "failed" => "bad",
            "partially_sent" | "retrying" => "warn",
            "pending" | "sending" => "wait",
            _ => "quiet",
        };
        Badge {
            // `not_applicable` is a code; a reader sees "not applicable".
            label: t.s(code).replace('_', " "),
            class,
        }
    }

    pub(super) fn none() -> Badge {
        Badge {
            label: "—".to_owned(),
            class: "none",
        }
    }
}

/// Pages of a list: where the reader is and the links around.
#[derive(Debug, Clone)]
pub struct Pager {
    pub page: u64,
    pub pages: u64,
    pub total: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    pub(super) fn new(t: Lang, path: &str, q: &Query, total: u64) -> Pager {
        let page = q.page();
        let pages = total.div_ceil(u64::from(PAGE)).max(1);
        let rest = q.without_page();
        let link = |p: u64| {
            if rest.is_empty() {
                format!("{path}?page={p}")
            } else {
                format!("{path}?{rest}&page={p}")
            }
        };
        Pager {
            page,
            pages,
            total: t.count(i64::try_from(total).unwrap_or(i64::MAX)),
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }

    pub(super) fn offset(q: &Query) -> u64 {
        (q.page() - 1) * u64::from(PAGE)
    }
}

// ---------------------------------------------------------------- dashboard

#[derive(askama::Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    f: Frame,
    running: bool,
    since: String,
    nodes: Vec<NodeLine>,
    jobs: Vec<JobLine>,
    problems: Vec<String>,
    queue_due: String,
    today: Vec<(Badge, String)>,
    failures: Vec<DeliveryLine>,
    failures_total: String,
}

struct NodeLine {
    name: String,
    state: Badge,
    started: String,
    last_seen: String,
}

struct JobLine {
    node: String,
    job: String,
    last_run: String,
    last_ok: String,
    next_run: String,
    runs: String,
    failures: String,
    last_error: String,
    late: bool,
}

pub async fn dashboard(
    State(console): State<Arc<Console>>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Response {
    let f = Frame::new(&console, &signed, "dashboard", here("/console", &raw));
    match dashboard_page(&console, f).await {
        Ok(p) => render(&p),
        Err(e) => internal(e),
    }
}

async fn dashboard_page(console: &Console, f: Frame) -> anyhow::Result<DashboardPage> {
    let app = &console.app;
    let now = console.clock.now();
    let t = f.t;
    let state = crate::service::service_state(app, now).await?;
    let tz = console.tz();
    let schedule = herald_core::schedule::Schedule::parse(&app.config.service.plan).ok();
    let jobs = state
        .jobs
        .iter()
        .filter(|j| {
            state
                .nodes
                .iter()
                .any(|n| n.name == j.holder && n.state == "running")
        })
        .map(|j| {
            let next = if j.job == crate::service::JOB_PLANNER {
                schedule.as_ref().and_then(|s| s.next_after(now, &tz))
            } else {
                j.last_started.map(|s| s + j.every).map(|n| n.max(now))
            };
            JobLine {
                node: j.holder.clone(),
                job: t.s(job_word(&j.job)).to_owned(),
                last_run: f.when_opt(&j.last_started),
                last_ok: f.when_opt(&j.last_ok),
                next_run: f.when_opt(&next),
                runs: t.count(j.runs),
                failures: t.count(j.failures),
                last_error: j.last_error.clone().unwrap_or_default(),
                late: j.overdue(now).is_some(),
            }
        })
        .collect();
    let nodes = state
        .nodes
        .iter()
        .map(|n| NodeLine {
            name: n.name.clone(),
            state: Badge {
                label: t.s(node_word(n.state)).to_owned(),
                class: match n.state {
                    "running" => "ok",
                    "stopped" => "quiet",
                    _ => "bad",
                },
            },
            started: f.when_opt(&n.started_at),
            last_seen: f.when_opt(&n.last_seen),
        })
        .collect();
    let midnight = now
        .to_zoned(tz.clone())
        .start_of_day()
        .map(|z| z.timestamp())
        .unwrap_or(now);
    let today = app
        .store
        .delivery_states_since(midnight)
        .await?
        .into_iter()
        .map(|(s, n)| (Badge::of(t, s.as_str()), t.count(n)))
        .collect();
    let (failed, failures_total) = app
        .store
        .delivery_list(&DeliveryListQuery {
            state: Some(DeliveryState::Failed),
            limit: 10,
            ..Default::default()
        })
        .await?;
    Ok(DashboardPage {
        running: state.running,
        since: f.when_opt(&state.started_at),
        nodes,
        jobs,
        problems: state.problems,
        queue_due: t.count(state.queue_due),
        today,
        failures: failed.iter().map(|r| DeliveryLine::of(&f, r)).collect(),
        failures_total: t.count(i64::try_from(failures_total).unwrap_or(i64::MAX)),
        f,
    })
}

fn job_word(job: &str) -> &'static str {
    match job {
        crate::service::JOB_PLANNER => "planner",
        crate::service::JOB_DISPATCHER => "dispatcher",
        _ => "Service",
    }
}

fn node_word(state: &str) -> &'static str {
    match state {
        "running" => "running",
        "stopped" => "stopped",
        _ => "silent",
    }
}

// ---------------------------------------------------------------- invoices

#[derive(askama::Template)]
#[template(path = "console/invoices.html")]
struct InvoicesPage {
    f: Frame,
    search: String,
    standing: String,
    rules: Vec<String>,
    /// The rules that send a period's invoices (seed 004), for the batch form.
    batch_rules: Vec<String>,
    /// Last month, the batch form's default.
    last_month: String,
    rows: Vec<InvoiceLine>,
    pager: Pager,
}

struct InvoiceLine {
    link: String,
    number: String,
    customer: String,
    issued: String,
    due: String,
    amount: String,
    balance: String,
    overdue: bool,
    statuses: Vec<(Badge, String)>,
}

/// The invoice and dunning rules that speak about invoices, in the config's order:
/// the list's status columns (seed 000's IE529 / IE509 / IE599 columns).
fn invoice_rule_ids(console: &Console) -> Vec<String> {
    let rules = &console.app.config.rules;
    rules
        .invoice
        .iter()
        .filter(|r| r.enabled)
        .map(|r| r.id.clone())
        .chain(
            rules
                .dunning
                .iter()
                .filter(|d| d.enabled)
                .map(|d| d.id.clone()),
        )
        .collect()
}

pub async fn invoices(
    State(console): State<Arc<Console>>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::new(raw.as_deref());
    let f = Frame::new(
        &console,
        &signed,
        "invoices",
        here("/console/invoices", &raw),
    );
    match invoices_page(&console, f, &q).await {
        Ok(p) => render(&p),
        Err(e) => internal(e),
    }
}

async fn invoices_page(console: &Console, f: Frame, q: &Query) -> anyhow::Result<InvoicesPage> {
    let t = f.t;
    let now = console.clock.now();
    let today = now.to_zoned(console.tz()).date();
    let standing = match q.get("standing") {
        Some("open") => Some(InvoiceStanding::Open),
        Some("paid") => Some(InvoiceStanding::Paid),
        Some("overdue") => Some(InvoiceStanding::Overdue),
        _ => None,
    };
    let customer = q
        .get("customer")
        .map(|c| c.parse::<CustomerId>())
        .transpose()
        .map_err(|e| anyhow::anyhow!("customer: {e}"))?;
    let (rows, total) = console
        .app
        .store
        .invoice_list(&InvoiceListQuery {
            search: q.get("q").map(str::to_owned),
            customer,
            standing,
            today,
            limit: PAGE,
            offset: Pager::offset(q),
        })
        .await?;
    let ids: Vec<InvoiceId> = rows.iter().map(|r| r.view.invoice.id.clone()).collect();
    let notices = console.app.store.invoice_notices(&ids).await?;
    // The latest notice of each rule about each invoice decides its column; they
    // come oldest first, so the last one written wins.
    let mut latest: BTreeMap<(&InvoiceId, &str), &herald_store::InvoiceNotice> = BTreeMap::new();
    for n in &notices {
        latest.insert((&n.invoice, n.rule.as_str()), n);
    }
    let rules = invoice_rule_ids(console);
    let lines = rows
        .iter()
        .map(|r| {
            let inv = &r.view.invoice;
            let statuses = rules
                .iter()
                .map(|rule| match latest.get(&(&inv.id, rule.as_str())) {
                    Some(n) => (
                        notice_badge(t, n.verdict.as_str(), &n.states),
                        n.level
                            .map(|l| format!("{} {l}", t.s("Level")))
                            .unwrap_or_default(),
                    ),
                    None => (Badge::none(), String::new()),
                })
                .collect();
            InvoiceLine {
                link: format!("/console/invoices/{}", super::url_encode(inv.id.as_str())),
                number: inv.number.clone(),
                customer: if r.customer_name.is_empty() {
                    inv.customer_id.to_string()
                } else {
                    r.customer_name.clone()
                },
                issued: t.date(inv.issue_date),
                due: t.date(inv.due_date),
                amount: t.money(&inv.total()),
                balance: t.money(&herald_core::Money::new(r.view.balance(), inv.currency)),
                overdue: !r.view.balance().is_zero() && inv.due_date < today,
                statuses,
            }
        })
        .collect();
    let last_month = today
        .first_of_month()
        .yesterday()
        .map(|d| d.strftime("%Y-%m").to_string())
        .unwrap_or_default();
    Ok(InvoicesPage {
        batch_rules: batch_rules(console)
            .iter()
            .map(|r| r.id.to_string())
            .collect(),
        last_month,
        search: q.get("q").unwrap_or("").to_owned(),
        standing: q.get("standing").unwrap_or("").to_owned(),
        rules,
        rows: lines,
        pager: Pager::new(t, "/console/invoices", q, total),
        f,
    })
}

/// Why a rule has said nothing about an invoice, in the reader's language.
fn silence_in(t: Lang, why: crate::documents::Silence) -> String {
    use crate::documents::Silence;
    match why {
        Silence::Paid => t.s("not applicable: the invoice is paid").to_owned(),
        Silence::NotYetPlanned(d) => format!("{} {}", t.s("not yet planned: due on"), t.date(d)),
        Silence::BeforeHerald(d) => format!(
            "{} ({}) {}",
            t.s("not applicable: its day"),
            t.date(d),
            t.s("had passed before herald received the invoice")
        ),
    }
}

fn notice_badge(t: Lang, verdict: &str, states: &[DeliveryState]) -> Badge {
    if verdict == "not_applicable" {
        return Badge::of(t, "not_applicable");
    }
    Badge::of(t, AggregateStatus::of(states.iter().copied()).as_str())
}

// ---------------------------------------------------------------- one invoice

#[derive(askama::Template)]
#[template(path = "console/invoice.html")]
struct InvoicePage {
    f: Frame,
    id: String,
    number: String,
    customer_id: String,
    customer: String,
    issued: String,
    due: String,
    amount: String,
    balance: String,
    next_reminder: String,
    holds: Vec<HoldLine>,
    invoice_paused: bool,
    customer_paused: bool,
    statuses: Vec<StatusLine>,
    notices: Vec<NoticeBlock>,
    templates: Vec<String>,
    back: String,
}

pub(super) struct HoldLine {
    pub(super) on: String,
    pub(super) reason: String,
    pub(super) until: String,
    pub(super) actor: String,
    pub(super) since: String,
}

struct StatusLine {
    rule: String,
    status: Badge,
    level: String,
    next: String,
    why: String,
}

pub(super) struct NoticeBlock {
    pub(super) id: i64,
    pub(super) rule: String,
    pub(super) level: String,
    pub(super) template: String,
    pub(super) planned_for: String,
    pub(super) status: Badge,
    pub(super) reason: String,
    pub(super) deliveries: Vec<DeliveryBlock>,
    pub(super) cancellable: bool,
    pub(super) resendable: bool,
}

pub(super) struct DeliveryBlock {
    pub(super) id: i64,
    pub(super) channel: String,
    pub(super) recipient: String,
    pub(super) state: Badge,
    pub(super) reason: String,
    pub(super) sent: String,
    pub(super) note: String,
    pub(super) attempts: Vec<AttemptLine>,
}

pub(super) struct AttemptLine {
    pub(super) at: String,
    pub(super) outcome: String,
    pub(super) detail: String,
}

pub async fn invoice(
    State(console): State<Arc<Console>>,
    signed: Signed,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let path = format!("/console/invoices/{}", super::url_encode(&id));
    let t = signed.lang;
    let f = Frame::new(&console, &signed, "invoices", here(&path, &raw));
    let Ok(id) = id.parse::<InvoiceId>() else {
        return refusal(
            StatusCode::NOT_FOUND,
            t,
            "Not found",
            &format!("'{id}' is not an invoice id"),
        );
    };
    match invoice_page(&console, f, &id, path).await {
        Ok(Some(p)) => render(&p),
        Ok(None) => refusal(
            StatusCode::NOT_FOUND,
            t,
            "Not found",
            &format!("There is no invoice '{id}'. It may not have been imported yet."),
        ),
        Err(e) => internal(e),
    }
}

async fn invoice_page(
    console: &Console,
    f: Frame,
    id: &InvoiceId,
    back: String,
) -> anyhow::Result<Option<InvoicePage>> {
    let app = &console.app;
    let t = f.t;
    let now = console.clock.now();
    let Some(view) = app.store.invoice(id).await? else {
        return Ok(None);
    };
    let inv = &view.invoice;
    let customer = app
        .store
        .customers(std::slice::from_ref(&inv.customer_id))
        .await?
        .remove(&inv.customer_id);
    let entries = app
        .store
        .history(&HistoryFilter {
            invoice: Some(id.clone()),
            limit: 1000,
            ..Default::default()
        })
        .await?;
    let statuses = crate::documents::invoice_statuses(app, id, &entries)
        .await
        .map_err(anyhow::Error::from)?;
    let holds = app
        .store
        .holds_on(&[inv.customer_id.as_str()], &[inv.id.as_str()], now)
        .await?;
    let next_reminder = statuses
        .rules
        .iter()
        .filter_map(|r| r.next_reminder_on)
        .min();
    let status_lines = statuses
        .rules
        .iter()
        .map(|r| StatusLine {
            rule: r.rule.clone(),
            status: if r.notifications.is_empty() {
                Badge::none()
            } else {
                Badge::of(t, r.status.as_str())
            },
            level: r.level.map(|l| l.to_string()).unwrap_or_default(),
            next: r.next_reminder_on.map(|d| t.date(d)).unwrap_or_default(),
            why: r.silence.map(|w| silence_in(t, w)).unwrap_or_default(),
        })
        .collect();
    let mut notices: Vec<NoticeBlock> = entries.iter().map(|e| notice_block(&f, e)).collect();
    notices.reverse();
    Ok(Some(InvoicePage {
        id: inv.id.to_string(),
        number: inv.number.clone(),
        customer_id: inv.customer_id.to_string(),
        customer: customer.map(|c| c.name).unwrap_or_default(),
        issued: t.date(inv.issue_date),
        due: t.date(inv.due_date),
        amount: t.money(&inv.total()),
        balance: t.money(&herald_core::Money::new(view.balance(), inv.currency)),
        next_reminder: next_reminder
            .map(|d| t.date(d))
            .unwrap_or_else(|| "—".into()),
        invoice_paused: holds.iter().any(|h| h.on == HoldOn::Invoice),
        customer_paused: holds.iter().any(|h| h.on == HoldOn::Customer),
        holds: holds
            .iter()
            .map(|h| HoldLine {
                on: t
                    .s(match h.on {
                        HoldOn::Invoice => "this invoice",
                        HoldOn::Customer => "this customer",
                    })
                    .to_owned(),
                reason: h.reason.clone(),
                until: f.when_opt(&h.until),
                actor: h.actor.clone(),
                since: f.when(&h.created_at),
            })
            .collect(),
        statuses: status_lines,
        notices,
        templates: app.templates().names(),
        back,
        f,
    }))
}

pub(super) fn notice_block(f: &Frame, e: &herald_store::HistoryEntry) -> NoticeBlock {
    let t = f.t;
    let n = &e.notification;
    let states: Vec<DeliveryState> = e.deliveries.iter().map(|d| d.delivery.state).collect();
    let status = if n.verdict == herald_store::VerdictKind::NotApplicable {
        Badge::of(t, "not_applicable")
    } else {
        Badge::of(t, AggregateStatus::of(states.iter().copied()).as_str())
    };
    NoticeBlock {
        id: n.id,
        rule: n.rule_id.clone(),
        level: n.level.map(|l| l.to_string()).unwrap_or_default(),
        template: n.template.clone(),
        planned_for: f.when(&n.fire_at),
        status,
        reason: n.reason.clone().unwrap_or_default(),
        cancellable: states.iter().any(|s| s.is_open()),
        resendable: !e.deliveries.is_empty(),
        deliveries: e
            .deliveries
            .iter()
            .map(|d| {
                let row = &d.delivery;
                let mut note = Vec::new();
                if let Some(of) = row.resend_of {
                    note.push(format!("{} #{of}", t.s("resend of")));
                }
                if let Some(a) = &row.actor {
                    note.push(format!("{} {a}", t.s("asked by")));
                }
                if let Some(tpl) = &row.template_override {
                    note.push(format!("{}: {tpl}", t.s("Template")));
                }
                DeliveryBlock {
                    id: row.id,
                    channel: t.s(channel_word(row.channel)).to_owned(),
                    recipient: recipient(&row.name, &row.address),
                    state: Badge::of(t, row.state.as_str()),
                    reason: row.reason.clone().unwrap_or_default(),
                    sent: f.when_opt(&row.sent_at),
                    note: note.join(", "),
                    attempts: d
                        .attempt_log
                        .iter()
                        .map(|a| AttemptLine {
                            at: f.when(&a.at),
                            outcome: a.outcome.as_str().to_owned(),
                            detail: a.detail.clone(),
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

fn channel_word(c: ChannelKind) -> &'static str {
    match c {
        ChannelKind::Email => "e-mail",
        ChannelKind::Sms => "sms",
        ChannelKind::Webhook => "webhook",
    }
}

fn recipient(name: &str, address: &str) -> String {
    if name.is_empty() || name == address {
        address.to_owned()
    } else {
        format!("{name} <{address}>")
    }
}

// ---------------------------------------------------------------- history

#[derive(askama::Template)]
#[template(path = "console/history.html")]
struct HistoryPage {
    f: Frame,
    rules: Vec<String>,
    rule: String,
    channel: String,
    state: String,
    states: Vec<(&'static str, String)>,
    customer: String,
    from: String,
    until: String,
    rows: Vec<DeliveryLine>,
    pager: Pager,
    csv: String,
    error: Option<String>,
}

/// One delivery on a list.
pub struct DeliveryLine {
    pub id: i64,
    pub when: String,
    pub rule: String,
    pub channel: String,
    pub recipient: String,
    pub state: Badge,
    pub about: String,
    pub link: Option<String>,
    pub response: String,
}

impl DeliveryLine {
    fn of(f: &Frame, r: &DeliveryListRow) -> DeliveryLine {
        let d = &r.delivery;
        let about = match (&r.invoice_id, &r.subject, &r.customer_id) {
            (Some(i), _, _) if r.invoices > 1 => format!("{i} (+{})", r.invoices - 1),
            (Some(i), _, _) => i.to_string(),
            (None, Some(s), _) => s.clone(),
            (None, None, Some(c)) => c.to_string(),
            _ => String::new(),
        };
        DeliveryLine {
            id: d.id,
            when: f.when(&d.sent_at.unwrap_or(d.updated_at)),
            rule: r.rule_id.clone(),
            channel: f.t.s(channel_word(d.channel)).to_owned(),
            recipient: recipient(&d.name, &d.address),
            state: Badge::of(f.t, d.state.as_str()),
            link: r
                .invoice_id
                .as_ref()
                .map(|i| format!("/console/invoices/{}", super::url_encode(i.as_str()))),
            about,
            response: d
                .reason
                .clone()
                .or_else(|| r.last_response.clone())
                .unwrap_or_default(),
        }
    }
}

/// The history's filters, read from the query; an error names the field.
fn delivery_query(console: &Console, q: &Query) -> Result<DeliveryListQuery, String> {
    let tz = console.tz();
    let day = |field: &str| -> Result<Option<Timestamp>, String> {
        q.get(field)
            .map(|v| {
                v.parse::<jiff::civil::Date>()
                    .map_err(|_| format!("{field}: '{v}' is not a date; use YYYY-MM-DD"))
                    .and_then(|d| {
                        d.to_zoned(tz.clone())
                            .map(|z| z.timestamp())
                            .map_err(|e| format!("{field}: {e}"))
                    })
            })
            .transpose()
    };
    let until = day("until")?.map(|u| u + jiff::SignedDuration::from_hours(24));
    Ok(DeliveryListQuery {
        rule: q.get("rule").map(str::to_owned),
        channel: match q.get("channel") {
            None => None,
            Some("email") => Some(ChannelKind::Email),
            Some("sms") => Some(ChannelKind::Sms),
            Some("webhook") => Some(ChannelKind::Webhook),
            Some(other) => return Err(format!("channel: '{other}' is not email, sms or webhook")),
        },
        state: q.get("state").map(str::parse).transpose()?,
        customer: q
            .get("customer")
            .map(|c| {
                c.parse::<CustomerId>()
                    .map_err(|e| format!("customer: {e}"))
            })
            .transpose()?,
        from: day("from")?,
        until,
        before_id: None,
        limit: PAGE,
        offset: Pager::offset(q),
    })
}

pub async fn history(
    State(console): State<Arc<Console>>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::new(raw.as_deref());
    let f = Frame::new(&console, &signed, "history", here("/console/history", &raw));
    let t = f.t;
    let (rows, total, error) = match delivery_query(&console, &q) {
        Ok(dq) => match console.app.store.delivery_list(&dq).await {
            Ok((rows, total)) => (rows, total, None),
            Err(e) => return internal(e.into()),
        },
        Err(e) => (Vec::new(), 0, Some(e)),
    };
    let mut rules: Vec<String> = console
        .app
        .config
        .rules
        .all_ids()
        .map(str::to_owned)
        .collect();
    rules.sort();
    let rest = q.without_page();
    let page = HistoryPage {
        rules,
        rule: q.get("rule").unwrap_or("").to_owned(),
        channel: q.get("channel").unwrap_or("").to_owned(),
        state: q.get("state").unwrap_or("").to_owned(),
        states: DeliveryState::ALL
            .iter()
            .map(|s| (s.as_str(), t.s(s.as_str()).to_owned()))
            .collect(),
        customer: q.get("customer").unwrap_or("").to_owned(),
        from: q.get("from").unwrap_or("").to_owned(),
        until: q.get("until").unwrap_or("").to_owned(),
        rows: rows.iter().map(|r| DeliveryLine::of(&f, r)).collect(),
        pager: Pager::new(t, "/console/history", &q, total),
        csv: if rest.is_empty() {
            "/console/history.csv".to_owned()
        } else {
            format!("/console/history.csv?{rest}")
        },
        error,
        f,
    };
    render(&page)
}

/// Every delivery the filters match, as CSV, newest first: read from the store a
/// thousand at a time, so a long history costs no more memory than a short one.
pub async fn history_csv(
    State(console): State<Arc<Console>>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::new(raw.as_deref());
    let mut dq = match delivery_query(&console, &q) {
        Ok(dq) => dq,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, signed.lang, "Bad request", &e),
    };
    dq.offset = 0;
    dq.limit = 1000;
    dq.before_id = Some(i64::MAX);
    let tz = console.tz();
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "delivery_id",
        "notification_id",
        "rule",
        "customer",
        "invoice",
        "invoices",
        "subject",
        "channel",
        "name",
        "address",
        "state",
        "attempts",
        "created_at",
        "sent_at",
        "reason",
        "last_response",
        "resend_of",
        "actor",
    ];
    if let Err(e) = out.write_record(header) {
        return internal(e.into());
    }
    let local = |t: Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M:%S %Z")
            .to_string()
    };
    loop {
        let rows = match console.app.store.delivery_list(&dq).await {
            Ok((rows, _)) => rows,
            Err(e) => return internal(e.into()),
        };
        let Some(last) = rows.last() else { break };
        dq.before_id = Some(last.delivery.id);
        for r in &rows {
            let d = &r.delivery;
            let record = [
                d.id.to_string(),
                d.notification_id.to_string(),
                r.rule_id.clone(),
                r.customer_id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                r.invoice_id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                r.invoices.to_string(),
                r.subject.clone().unwrap_or_default(),
                d.channel.as_str().to_owned(),
                d.name.clone(),
                d.address.clone(),
                d.state.as_str().to_owned(),
                d.attempts.to_string(),
                local(d.created_at),
                d.sent_at.map(local).unwrap_or_default(),
                d.reason.clone().unwrap_or_default(),
                r.last_response.clone().unwrap_or_default(),
                d.resend_of.map(|i| i.to_string()).unwrap_or_default(),
                d.actor.clone().unwrap_or_default(),
            ];
            if let Err(e) = out.write_record(&record) {
                return internal(e.into());
            }
        }
        if rows.len() < 1000 {
            break;
        }
    }
    let body = match out.into_inner() {
        Ok(b) => b,
        Err(e) => return internal(anyhow::anyhow!("writing the CSV: {e}")),
    };
    let name = format!(
        "herald-history-{}.csv",
        console.clock.now().to_zoned(tz).strftime("%Y-%m-%d")
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

// ---------------------------------------------------------------- actions

/// Where an action sends the browser back to, with what it did.
pub(super) fn back_to(fields: &Fields, said: &str) -> Response {
    let back = super::safe_next(fields.get("back"));
    let sep = if back.contains('?') { '&' } else { '?' };
    // Drop an earlier `said`, so the page says only the latest.
    let back = back
        .split_once("said=")
        .map_or(back, |(before, _)| before.trim_end_matches(['&', '?']));
    let sep = if back.contains('?') { '&' } else { sep };
    Redirect::to(&format!("{back}{sep}said={said}")).into_response()
}

/// Resend a notification: to its first recipient, or to the address typed in
/// (an e-mail address or a phone number), with the rule's template or another.
pub async fn resend(
    State(console): State<Arc<Console>>,
    signed: Signed,
    Path(id): Path<i64>,
    fields: Fields,
) -> Response {
    if let Err(r) = signed.operator_form(&fields) {
        return r.into_response();
    }
    let t = signed.lang;
    let app = &console.app;
    let to = match fields.opt("to") {
        None => None,
        Some(a) if a.contains('@') => match herald_core::EmailAddress::parse(&a) {
            Ok(e) => Some(e.to_string()),
            Err(e) => {
                return refusal(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    t,
                    "Bad request",
                    &format!("{}: {e}", t.s("Address")),
                );
            }
        },
        Some(p) => match herald_core::PhoneNumber::parse(&p) {
            Ok(n) => Some(n.to_string()),
            Err(e) => {
                return refusal(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    t,
                    "Bad request",
                    &format!("{}: {e}", t.s("Address")),
                );
            }
        },
    };
    let template = fields.opt("template");
    if let Some(tpl) = &template
        && !app.templates().has(tpl)
    {
        return refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            t,
            "Bad request",
            &format!(
                "there is no template '{tpl}'; templates: {}",
                app.templates().names().join(", ")
            ),
        );
    }
    let actor = signed.actor();
    match app
        .store
        .resend(
            id,
            to.map(|a| (a, fields.opt("name").unwrap_or_default())),
            template,
            &actor,
            console.clock.now(),
        )
        .await
    {
        Ok(delivery) => {
            tracing::info!(notification = id, delivery, %actor, "resend from the console");
            console.wake_dispatcher.notify_one();
            back_to(&fields, "resent")
        }
        Err(herald_store::StoreError::NoSuchNotification(_)) => refusal(
            StatusCode::NOT_FOUND,
            t,
            "Not found",
            &format!("there is no notification {id}"),
        ),
        Err(herald_store::StoreError::NothingToResend(_)) => refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            t,
            "Bad request",
            "This notification was never addressed to anyone: type an address to resend it to.",
        ),
        Err(e) => internal(e.into()),
    }
}

/// Cancel what of a notification has not gone out yet.
pub async fn cancel(
    State(console): State<Arc<Console>>,
    signed: Signed,
    Path(id): Path<i64>,
    fields: Fields,
) -> Response {
    if let Err(r) = signed.operator_form(&fields) {
        return r.into_response();
    }
    let actor = signed.actor();
    let reason = fields
        .opt("reason")
        .unwrap_or_else(|| format!("cancelled by {actor}"));
    match console
        .app
        .store
        .cancel_notification(id, &reason, &actor, console.clock.now())
        .await
    {
        Ok(Some(0)) => back_to(&fields, "nothing"),
        Ok(Some(_)) => back_to(&fields, "cancelled"),
        Ok(None) => refusal(
            StatusCode::NOT_FOUND,
            signed.lang,
            "Not found",
            &format!("there is no notification {id}"),
        ),
        Err(e) => internal(e.into()),
    }
}

/// The enabled rules that send a period's invoices (`on = "invoice.batch"`).
fn batch_rules(console: &Console) -> Vec<&herald_core::rules::InvoiceRule> {
    console
        .app
        .config
        .rules
        .invoice
        .iter()
        .filter(|r| r.enabled && r.trigger == herald_core::rules::InvoiceTrigger::Batch)
        .collect()
}

/// Seed 004's "send in background": every invoice of a month, queued once by a
/// batch rule (as `herald send-invoices`), the dispatcher woken, and the page
/// says so; the history, filtered to that rule, shows them go.
pub async fn send_invoices(
    State(console): State<Arc<Console>>,
    signed: Signed,
    fields: Fields,
) -> Response {
    if let Err(r) = signed.operator_form(&fields) {
        return r.into_response();
    }
    let t = signed.lang;
    let rules = batch_rules(&console);
    let Some(rule) = rules.iter().find(|r| r.id == fields.get("rule")) else {
        return super::unprocessable(
            t,
            &format!(
                "rule: '{}' is not a batch rule; the batch rules are: {}",
                fields.get("rule"),
                rules
                    .iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    };
    let month = fields.get("month").trim();
    let Some(first) = month
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i16>().ok()?, m.parse::<i8>().ok()?)))
        .and_then(|(y, m)| jiff::civil::Date::new(y, m, 1).ok())
    else {
        return super::unprocessable(
            t,
            &format!("{}: '{month}' is not a month like 2026-11", t.s("Month")),
        );
    };
    let now = console.clock.now();
    let queued =
        match crate::jobs::queue_invoices(&console.app, rule, first, first.last_of_month(), now)
            .await
        {
            Ok(q) => q,
            Err(e) => return internal(e),
        };
    let detail = format!(
        "{month}: {} invoices queued ({} deliveries), {} queued before, {} with nobody to send to",
        queued.queued, queued.deliveries, queued.existing, queued.nobody
    );
    if let Err(e) = console
        .app
        .store
        .audit(
            now,
            &signed.actor(),
            "invoices.queue",
            rule.id.as_str(),
            &detail,
        )
        .await
    {
        return internal(e.into());
    }
    tracing::info!(actor = %signed.actor(), rule = %rule.id, "{detail}");
    console.wake_dispatcher.notify_one();
    Redirect::to(&format!(
        "/console/history?rule={}&said=queued",
        super::url_encode(rule.id.as_str())
    ))
    .into_response()
}

/// Pause or resume the reminders about an invoice or a customer.
pub async fn hold(State(console): State<Arc<Console>>, signed: Signed, fields: Fields) -> Response {
    if let Err(r) = signed.operator_form(&fields) {
        return r.into_response();
    }
    let t = signed.lang;
    let on = match fields.get("on") {
        "invoice" => HoldOn::Invoice,
        "customer" => HoldOn::Customer,
        other => {
            return refusal(
                StatusCode::BAD_REQUEST,
                t,
                "Bad request",
                &format!("on: '{other}' is neither invoice nor customer"),
            );
        }
    };
    let Some(id) = fields.opt("id") else {
        return refusal(
            StatusCode::BAD_REQUEST,
            t,
            "Bad request",
            "id: say which invoice or customer",
        );
    };
    let actor = signed.actor();
    let now = console.clock.now();
    let store = &console.app.store;
    let result = match fields.get("action") {
        "pause" => {
            let until = match fields.opt("until") {
                None => None,
                Some(d) => match d
                    .parse::<jiff::civil::Date>()
                    .ok()
                    .and_then(|d| d.to_zoned(console.tz()).ok().map(|z| z.timestamp()))
                {
                    Some(u) if u > now => Some(u),
                    _ => {
                        return refusal(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            t,
                            "Bad request",
                            &format!(
                                "{}: '{d}' is not a date after today; use YYYY-MM-DD or leave it empty",
                                t.s("until")
                            ),
                        );
                    }
                },
            };
            let reason = fields
                .opt("reason")
                .unwrap_or_else(|| format!("paused by {actor}"));
            store
                .pause(on, &id, &reason, until, &actor, now)
                .await
                .map(|_| "paused")
        }
        "resume" => store.resume(on, &id, &actor, now).await.map(|_| "resumed"),
        other => {
            return refusal(
                StatusCode::BAD_REQUEST,
                t,
                "Bad request",
                &format!("action: '{other}' is neither pause nor resume"),
            );
        }
    };
    match result {
        Ok(said) => back_to(&fields, said),
        Err(e) => internal(e.into()),
    }
}

/// A console path that is no page.
pub async fn not_found(signed: Signed) -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        signed.lang,
        "Not found",
        "There is no such page in the console.",
    )
}
