//! Declarations and tasks: the documents that are not invoices. A declaration
//! is the subject of customs events (seed 000's list with its IE529 / IE509 /
//! IE599 columns); a task is the subject of its reminders. Each list has a
//! status column per rule (or message type), search and pages; each document
//! page has every notification, delivery and attempt, with the same actions as
//! an invoice's.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use herald_core::status::{AggregateStatus, DeliveryState};
use herald_store::{HistoryEntry, HistoryFilter, SubjectListQuery};

use super::pages::{Badge, HoldLine, NoticeBlock, PAGE, Pager, Query, here, notice_block};
use super::{Console, Frame, Lang, Signed, internal, refusal, render, url_encode};

/// The message types of a customs declaration, in seed 000's order.
const CUSTOMS: [&str; 3] = ["IE529", "IE509", "IE599"];

pub struct SubjectLine {
    link: String,
    subject: String,
    title: String,
    customer: String,
    when: String,
    statuses: Vec<Badge>,
}

#[derive(askama::Template)]
#[template(path = "console/subjects.html")]
struct SubjectsPage {
    f: Frame,
    heading: &'static str,
    path: &'static str,
    hint: &'static str,
    first: &'static str,
    when: &'static str,
    search: String,
    columns: Vec<String>,
    rows: Vec<SubjectLine>,
    pager: Pager,
}

async fn history_of(console: &Console, subject: &str) -> anyhow::Result<Vec<HistoryEntry>> {
    Ok(console
        .app
        .store
        .history(&HistoryFilter {
            subject: Some(subject.to_owned()),
            limit: 1000,
            ..Default::default()
        })
        .await?)
}

/// The badge of a set of deliveries: none when there are none.
fn badge_of(t: Lang, entries: &[&HistoryEntry]) -> Badge {
    if entries.is_empty() {
        return Badge::none();
    }
    if entries
        .iter()
        .all(|e| e.notification.verdict == herald_store::VerdictKind::NotApplicable)
    {
        return Badge::of(t, "not_applicable");
    }
    let states: Vec<DeliveryState> = entries
        .iter()
        .flat_map(|e| e.deliveries.iter().map(|d| d.delivery.state))
        .collect();
    Badge::of(t, AggregateStatus::of(states).as_str())
}

/// Seed 000's columns for one declaration: each customs message type's notices.
fn customs_badges(console: &Console, t: Lang, entries: &[HistoryEntry]) -> Vec<(String, Badge)> {
    let columns = crate::documents::subject_columns(&console.app, entries);
    let type_of = |rule: &str| {
        console
            .app
            .config
            .rules
            .event
            .iter()
            .find(|r| r.id == rule)
            .map(|r| r.event_type.clone())
    };
    let mut labels: Vec<String> = CUSTOMS.iter().map(|s| (*s).to_owned()).collect();
    for c in &columns {
        if !labels.contains(&c.label) {
            labels.push(c.label.clone());
        }
    }
    labels
        .into_iter()
        .map(|label| {
            let of: Vec<&HistoryEntry> = entries
                .iter()
                .filter(|e| {
                    type_of(&e.notification.rule_id)
                        .is_some_and(|ty| ty.rsplit('.').next() == Some(label.as_str()))
                })
                .collect();
            let badge = badge_of(t, &of);
            (label, badge)
        })
        .collect()
}

pub async fn declarations(
    State(console): State<Arc<Console>>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::new(raw.as_deref());
    let f = Frame::new(
        &console,
        &signed,
        "declarations",
        here("/console/declarations", &raw),
    );
    let t = f.t;
    let (rows, total) = match console
        .app
        .store
        .event_subjects(&SubjectListQuery {
            type_prefix: "customs.".to_owned(),
            search: q.get("q").map(str::to_owned),
            limit: PAGE,
            offset: Pager::offset(&q),
        })
        .await
    {
        Ok(r) => r,
        Err(e) => return internal(e.into()),
    };
    let mut lines = Vec::with_capacity(rows.len());
    for r in &rows {
        let entries = match history_of(&console, &r.subject).await {
            Ok(e) => e,
            Err(e) => return internal(e),
        };
        lines.push(SubjectLine {
            link: format!("/console/declarations/{}", url_encode(&r.subject)),
            subject: r.subject.clone(),
            title: String::new(),
            customer: if r.customer_name.is_empty() {
                r.customer_id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            } else {
                r.customer_name.clone()
            },
            when: f.when(&r.last_at),
            statuses: customs_badges(&console, t, &entries)
                .into_iter()
                .take(CUSTOMS.len())
                .map(|(_, b)| b)
                .collect(),
        });
    }
    let page = SubjectsPage {
        heading: "Declarations",
        path: "/console/declarations",
        hint: "number or customer",
        first: "Declaration",
        when: "Last event",
        search: q.get("q").unwrap_or("").to_owned(),
        columns: CUSTOMS.iter().map(|s| (*s).to_owned()).collect(),
        rows: lines,
        pager: Pager::new(t, "/console/declarations", &q, total),
        f,
    };
    render(&page)
}

fn task_rule_ids(console: &Console) -> Vec<String> {
    console
        .app
        .config
        .rules
        .task
        .iter()
        .map(|r| r.id.to_string())
        .collect()
}

pub async fn tasks(
    State(console): State<Arc<Console>>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::new(raw.as_deref());
    let f = Frame::new(&console, &signed, "tasks", here("/console/tasks", &raw));
    let t = f.t;
    let app = &console.app;
    let mut all = match app.store.all_tasks().await {
        Ok(a) => a,
        Err(e) => return internal(e.into()),
    };
    let names = match app
        .store
        .customers(
            &all.iter()
                .map(|x| x.customer_id.clone())
                .collect::<Vec<_>>(),
        )
        .await
    {
        Ok(n) => n,
        Err(e) => return internal(e.into()),
    };
    let name_of = |c: &herald_core::CustomerId| {
        names
            .get(c)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| c.to_string())
    };
    if let Some(s) = q.get("q").map(str::to_lowercase) {
        all.retain(|x| {
            x.id.as_str().to_lowercase().contains(&s)
                || x.title.to_lowercase().contains(&s)
                || x.customer_id.as_str().to_lowercase().contains(&s)
                || name_of(&x.customer_id).to_lowercase().contains(&s)
        });
    }
    all.sort_by(|a, b| a.starts_at.cmp(&b.starts_at).then(a.id.cmp(&b.id)));
    let total = all.len() as u64;
    let rules = task_rule_ids(&console);
    let mut lines = Vec::new();
    for task in all
        .iter()
        .skip(usize::try_from(Pager::offset(&q)).unwrap_or(usize::MAX))
        .take(PAGE as usize)
    {
        let entries = match history_of(&console, task.id.as_str()).await {
            Ok(e) => e,
            Err(e) => return internal(e),
        };
        lines.push(SubjectLine {
            link: format!("/console/tasks/{}", url_encode(task.id.as_str())),
            subject: task.id.to_string(),
            title: task.title.clone(),
            customer: name_of(&task.customer_id),
            when: format!(
                "{} ({})",
                task.starts_at.strftime("%Y-%m-%d %H:%M"),
                task.recurrence_text
            ),
            statuses: rules
                .iter()
                .map(|rule| {
                    // The latest reminder of each rule decides its column.
                    let latest: Vec<&HistoryEntry> = entries
                        .iter()
                        .filter(|e| &e.notification.rule_id == rule)
                        .max_by_key(|e| e.notification.fire_at)
                        .into_iter()
                        .collect();
                    badge_of(t, &latest)
                })
                .collect(),
        });
    }
    let page = SubjectsPage {
        heading: "Tasks",
        path: "/console/tasks",
        hint: "title, id or customer",
        first: "Task",
        when: "Starts",
        search: q.get("q").unwrap_or("").to_owned(),
        columns: rules,
        rows: lines,
        pager: Pager::new(t, "/console/tasks", &q, total),
        f,
    };
    render(&page)
}

#[derive(askama::Template)]
#[template(path = "console/subject.html")]
struct SubjectPage {
    f: Frame,
    kind: &'static str,
    list: &'static str,
    list_name: &'static str,
    subject: String,
    facts: Vec<(&'static str, String)>,
    columns: Vec<(String, Badge)>,
    events: Vec<(String, String, String)>,
    notices: Vec<NoticeBlock>,
    templates: Vec<String>,
    back: String,
    /// The customer's id, for pausing and resuming their notices.
    customer_id: String,
    customer_paused: bool,
    holds: Vec<HoldLine>,
}

/// The holds on a customer, as the page lists them.
async fn customer_holds(
    console: &Console,
    f: &Frame,
    customer: Option<&herald_core::CustomerId>,
) -> anyhow::Result<Vec<HoldLine>> {
    let Some(c) = customer else {
        return Ok(Vec::new());
    };
    let holds = console
        .app
        .store
        .holds_on(&[c.as_str()], &[], console.clock.now())
        .await?;
    Ok(holds
        .iter()
        .map(|h| HoldLine {
            on: f.s("this customer").to_owned(),
            reason: h.reason.clone(),
            until: f.when_opt(&h.until),
            actor: h.actor.clone(),
            since: f.when(&h.created_at),
        })
        .collect())
}

pub async fn declaration(
    State(console): State<Arc<Console>>,
    signed: Signed,
    Path(subject): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let path = format!("/console/declarations/{}", url_encode(&subject));
    let f = Frame::new(&console, &signed, "declarations", here(&path, &raw));
    let t = f.t;
    let app = &console.app;
    let mut events = Vec::new();
    for ty in app
        .config
        .rules
        .event
        .iter()
        .map(|r| r.event_type.as_str())
        .filter(|ty| ty.starts_with("customs."))
        .collect::<std::collections::BTreeSet<_>>()
    {
        match app.store.recent_events(ty, None, Some(&subject), 100).await {
            Ok(e) => events.extend(e),
            Err(e) => return internal(e.into()),
        }
    }
    let entries = match history_of(&console, &subject).await {
        Ok(e) => e,
        Err(e) => return internal(e),
    };
    if events.is_empty() && entries.is_empty() {
        return refusal(
            StatusCode::NOT_FOUND,
            t,
            "Not found",
            &format!(
                "herald has heard of no declaration '{subject}'. Its events may not have been imported yet."
            ),
        );
    }
    events.sort_by_key(|e| std::cmp::Reverse(e.occurred_at));
    let customer = events
        .iter()
        .find_map(|e| e.customer_id.clone())
        .or_else(|| {
            entries
                .iter()
                .find_map(|e| e.notification.customer_id.clone())
        });
    let mut facts = Vec::new();
    if let Some(c) = &customer {
        let name = app
            .store
            .customers(std::slice::from_ref(c))
            .await
            .ok()
            .and_then(|mut m| m.remove(c))
            .map(|c| c.name)
            .unwrap_or_default();
        facts.push(("Customer", format!("{name} ({c})")));
    }
    let holds = match customer_holds(&console, &f, customer.as_ref()).await {
        Ok(h) => h,
        Err(e) => return internal(e),
    };
    let mut notices: Vec<NoticeBlock> = entries.iter().map(|e| notice_block(&f, e)).collect();
    notices.reverse();
    let page = SubjectPage {
        customer_id: customer
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        customer_paused: !holds.is_empty(),
        holds,
        kind: "Declaration",
        list: "/console/declarations",
        list_name: "Declarations",
        subject,
        facts,
        columns: customs_badges(&console, t, &entries),
        events: events
            .iter()
            .map(|e| {
                (
                    f.when(&e.occurred_at),
                    e.kind.clone(),
                    e.attachment.clone().unwrap_or_default(),
                )
            })
            .collect(),
        notices,
        templates: app.templates().names(),
        back: path,
        f,
    };
    render(&page)
}

pub async fn task(
    State(console): State<Arc<Console>>,
    signed: Signed,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let path = format!("/console/tasks/{}", url_encode(&id));
    let f = Frame::new(&console, &signed, "tasks", here(&path, &raw));
    let t = f.t;
    let app = &console.app;
    let Ok(task_id) = id.parse::<herald_core::TaskId>() else {
        return refusal(
            StatusCode::NOT_FOUND,
            t,
            "Not found",
            &format!("'{id}' is not a task id"),
        );
    };
    let task = match app.store.tasks(std::slice::from_ref(&task_id)).await {
        Ok(mut m) => m.remove(&task_id),
        Err(e) => return internal(e.into()),
    };
    let Some(task) = task else {
        return refusal(
            StatusCode::NOT_FOUND,
            t,
            "Not found",
            &format!("There is no task '{id}'. It may not have been imported yet."),
        );
    };
    let entries = match history_of(&console, task.id.as_str()).await {
        Ok(e) => e,
        Err(e) => return internal(e),
    };
    let customer = match app
        .store
        .customers(std::slice::from_ref(&task.customer_id))
        .await
    {
        Ok(mut m) => m.remove(&task.customer_id),
        Err(e) => return internal(e.into()),
    };
    let name = customer
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    // The task's own zone, else its customer's, else the office's: as the planner.
    let tz = task
        .time_zone
        .as_ref()
        .or(customer.as_ref().and_then(|c| c.time_zone.as_ref()))
        .map_or_else(|| console.tz(), |z| z.time_zone());
    let now = console.clock.now();
    let next = task
        .occurrences(
            &tz,
            now,
            now + jiff::SignedDuration::from_hours(24 * 400),
            1,
        )
        .into_iter()
        .next();
    // The next reminder: the earliest still to come of each side's, before the
    // next start.
    let next_reminder = next.and_then(|o| {
        app.config
            .rules
            .task
            .iter()
            .filter(|r| r.enabled)
            .flat_map(|r| [r.client.as_ref(), r.operator.as_ref()])
            .flatten()
            .filter_map(|a| {
                let day = o
                    .local
                    .checked_sub(jiff::Span::new().days(i64::from(a.before_days)))
                    .ok()?;
                let at = day.to_zoned(tz.clone()).ok()?.timestamp() - a.before;
                (at > now).then_some(at)
            })
            .min()
    });
    let facts = vec![
        ("Title", task.title.clone()),
        ("Customer", format!("{name} ({})", task.customer_id)),
        (
            "Starts",
            task.starts_at.strftime("%Y-%m-%d %H:%M").to_string(),
        ),
        ("Repeats", task.recurrence_text.clone()),
        ("Next start", f.when_opt(&next.map(|o| o.at))),
        ("Next reminder", f.when_opt(&next_reminder)),
        (
            "Operator",
            task.operator_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_else(|| "—".to_owned()),
        ),
    ];
    let columns = task_rule_ids(&console)
        .into_iter()
        .map(|rule| {
            let latest: Vec<&HistoryEntry> = entries
                .iter()
                .filter(|e| e.notification.rule_id == rule)
                .max_by_key(|e| e.notification.fire_at)
                .into_iter()
                .collect();
            let badge = badge_of(t, &latest);
            (rule, badge)
        })
        .collect();
    let holds = match customer_holds(&console, &f, Some(&task.customer_id)).await {
        Ok(h) => h,
        Err(e) => return internal(e),
    };
    let mut notices: Vec<NoticeBlock> = entries.iter().map(|e| notice_block(&f, e)).collect();
    notices.reverse();
    let page = SubjectPage {
        customer_id: task.customer_id.to_string(),
        customer_paused: !holds.is_empty(),
        holds,
        kind: "Task",
        list: "/console/tasks",
        list_name: "Tasks",
        subject: task.id.to_string(),
        facts,
        columns,
        events: Vec::new(),
        notices,
        templates: app.templates().names(),
        back: path,
        f,
    };
    render(&page)
}
