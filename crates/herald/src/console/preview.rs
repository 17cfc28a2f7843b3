//! Preview: any rule for any customer or document, rendered exactly as it would
//! be sent; and the dry run, "what will be sent in the next run".
//!
//! The HTML part is shown in an `<iframe sandbox srcdoc>`: no script runs, no
//! form posts, and it has no origin, so a template cannot reach the console.
//! A message's own inline styles and images must show as the recipient sees
//! them, so the pages that show one allow inline styles and images from
//! anywhere; scripts stay forbidden, and every other page keeps the strict policy.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use herald_core::planner::Verdict;

use super::pages::{Query, here};
use super::{Console, Frame, Signed, internal, render};
use crate::documents::{Preview, PreviewRequest, Refusal};

/// A rendered message as a page shows it.
pub struct Shown {
    pub template: String,
    pub locale: String,
    pub level: String,
    pub invoices: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sms: Option<String>,
    pub attachments: Vec<String>,
}

impl Shown {
    pub fn of(p: &Preview) -> Shown {
        Shown {
            template: p.template.clone(),
            locale: p.locale.clone(),
            level: p.level.map(|l| l.to_string()).unwrap_or_default(),
            invoices: p.invoices.join(", "),
            to: p
                .to
                .iter()
                .map(|r| {
                    let who = if r.name.is_empty() {
                        r.address.clone()
                    } else {
                        format!("{} <{}>", r.name, r.address)
                    };
                    format!("{} ({})", who, r.channel)
                })
                .collect(),
            subject: p.subject.clone(),
            text: p.text.clone(),
            html: p.html.clone(),
            sms: p.sms.clone(),
            attachments: p.attachments.clone(),
        }
    }
}

/// Why a preview could not be made, for the page; a failure of herald's own is
/// logged in full.
pub fn refusal_text(r: Refusal) -> String {
    match r {
        Refusal::NotFound(m) | Refusal::Unanswerable(m) => m,
        Refusal::Failed(e) => {
            tracing::warn!(error = %format!("{e:#}"), "console preview failed");
            format!("{e:#}")
        }
    }
}

/// The policy of a page that shows a message: the console's, plus the message's
/// inline styles and images, which its sandboxed frame inherits.
pub fn allow_message_styles(r: &mut Response) {
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; form-action 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
}

#[derive(askama::Template)]
#[template(path = "console/preview.html")]
struct PreviewPage {
    f: Frame,
    rules: Vec<String>,
    rule: String,
    customer: String,
    invoice: String,
    subject: String,
    locale: String,
    shown: Option<Shown>,
    error: Option<String>,
}

pub async fn preview(
    State(console): State<Arc<Console>>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Query::new(raw.as_deref());
    let f = Frame::new(&console, &signed, "preview", here("/console/preview", &raw));
    let t = f.t;
    let app = &console.app;
    let rules: Vec<String> = app.config.rules.all_ids().map(str::to_owned).collect();
    let (mut shown, mut error) = (None, None);
    if let Some(rule) = q.get("rule") {
        let customer = match q.get("customer").map(str::parse::<herald_core::CustomerId>) {
            None => Ok(None),
            Some(Ok(c)) => Ok(Some(c)),
            Some(Err(e)) => Err(format!("{}: {e}", t.s("Customer"))),
        };
        let locale = match q.get("locale").map(herald_core::Locale::parse) {
            None => Ok(None),
            Some(Ok(l)) => Ok(Some(l)),
            Some(Err(e)) => Err(format!("{}: {}", t.s("Language"), e.0)),
        };
        match (customer, locale) {
            (Ok(customer), Ok(locale)) => {
                let req = PreviewRequest {
                    rule,
                    customer,
                    invoice: q.get("invoice"),
                    subject: q.get("subject"),
                    locale,
                    now: console.clock.now(),
                };
                match crate::documents::preview(app, &req).await {
                    Ok(p) => shown = Some(Shown::of(&p)),
                    Err(e) => error = Some(refusal_text(e)),
                }
            }
            (Err(e), _) | (_, Err(e)) => error = Some(e),
        }
    }
    let page = PreviewPage {
        rule: q.get("rule").unwrap_or("").to_owned(),
        customer: q.get("customer").unwrap_or("").to_owned(),
        invoice: q.get("invoice").unwrap_or("").to_owned(),
        subject: q.get("subject").unwrap_or("").to_owned(),
        locale: q.get("locale").unwrap_or("").to_owned(),
        rules,
        shown,
        error,
        f,
    };
    let mut r = render(&page).into_response();
    allow_message_styles(&mut r);
    r
}

struct PlannedLine {
    rule: String,
    customer: String,
    about: String,
    level: String,
    template: String,
    at: String,
    to: String,
    verdict: String,
    preview: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "console/next_run.html")]
struct NextRunPage {
    f: Frame,
    planned: String,
    existing: String,
    rows: Vec<PlannedLine>,
    window: String,
}

/// "What will be sent in the next run": the planner's dry run as of now, which
/// records nothing and sends nothing.
pub async fn next_run(
    State(console): State<Arc<Console>>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Response {
    let f = Frame::new(
        &console,
        &signed,
        "preview",
        here("/console/next-run", &raw),
    );
    let t = f.t;
    let now = console.clock.now();
    let report = match crate::jobs::plan(
        &console.app,
        now,
        &crate::jobs::PlanOptions {
            dry_run: true,
            ..Default::default()
        },
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let rows = report
        .would_plan
        .iter()
        .map(|n| {
            let customer = n
                .customer_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let about = if n.invoice_ids.is_empty() {
                n.subject.clone().unwrap_or_default()
            } else {
                n.invoice_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let preview = n.customer_id.as_ref().map(|c| {
                let mut link = format!(
                    "/console/preview?rule={}&customer={}",
                    super::url_encode(n.rule_id.as_str()),
                    super::url_encode(c.as_str())
                );
                if n.invoice_ids.len() == 1 {
                    link.push_str(&format!(
                        "&invoice={}",
                        super::url_encode(n.invoice_ids[0].as_str())
                    ));
                }
                link
            });
            PlannedLine {
                rule: n.rule_id.to_string(),
                customer,
                about,
                level: n.level.map(|l| l.to_string()).unwrap_or_default(),
                template: n.template.clone(),
                at: f.when(&n.fire_at),
                to: n
                    .deliveries
                    .iter()
                    .map(|d| d.address.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                verdict: match &n.verdict {
                    Verdict::Deliver => t.s("will be sent").to_owned(),
                    Verdict::NotApplicable(why) => format!("{}: {why}", t.s("not sent")),
                },
                preview,
            }
        })
        .collect();
    let window = match (report.window_after, report.window_until) {
        (Some(a), Some(u)) => format!("{} – {}", f.when(&a), f.when(&u)),
        (None, Some(u)) => format!("… – {}", f.when(&u)),
        _ => "—".to_owned(),
    };
    let page = NextRunPage {
        planned: t.count(i64::try_from(report.planned).unwrap_or(i64::MAX)),
        existing: t.count(i64::try_from(report.existing).unwrap_or(i64::MAX)),
        rows,
        window,
        f,
    };
    render(&page)
}
