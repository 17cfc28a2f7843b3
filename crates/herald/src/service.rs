//! `herald serve`: the planner on its schedule, the dispatcher, and the HTTP
//! endpoints, in one process, until SIGINT or SIGTERM.
//!
//! Each job is a loop on `select!` between its next turn and the stop signal, in
//! the manner of mini-redis: a stop is noticed between two runs, never in the
//! middle of a transaction. Every run is written down (`service_jobs`) as it
//! starts and ends, so `herald status` and `/readyz` can tell a service that runs
//! from one that stopped or keeps failing: reminders that stop silently are the
//! complaint herald must never earn.
//!
//! A stop: the HTTP server stops taking requests, the planner finishes its run,
//! the dispatcher leases nothing more, sends what its senders already hold, and
//! gives back what it leased and did not send (due again at once for the next
//! start). If that takes longer than `[service] shutdown_timeout`, the process
//! exits anyway: the leases it still holds run out and the next sender takes them.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::Context as _;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use herald_core::Clock;
use herald_core::schedule::Schedule;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use tokio::sync::{Notify, watch};

use crate::app::App;
use crate::jobs::{self, PlanOptions};

/// The rows of `service_jobs` the service writes.
pub const JOB_SERVICE: &str = "service";
pub const JOB_PLANNER: &str = "planner";
pub const JOB_DISPATCHER: &str = "dispatcher";

/// What the service shares with its jobs and handlers.
struct Service {
    app: Arc<App>,
    clock: Arc<dyn Clock>,
    holder: String,
    /// Wakes the dispatcher when a planning run has written new deliveries.
    planned: Arc<Notify>,
    tokens: crate::auth::Verifier,
    /// Work started by the API that runs on after the answer (`POST /api/v1/plan`),
    /// by id, for `GET /api/v1/jobs/{id}`.
    api_jobs: std::sync::Mutex<std::collections::BTreeMap<u64, ApiJob>>,
    /// Each token's bucket for `[service] rate_limit`: tokens left, last refill.
    buckets: std::sync::Mutex<std::collections::HashMap<i64, (f64, std::time::Instant)>>,
}

/// A job the API started, as `GET /api/v1/jobs/{id}` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
struct ApiJob {
    id: u64,
    kind: &'static str,
    /// running, done or failed
    state: &'static str,
    #[schema(value_type = String, format = DateTime)]
    started_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    finished_at: Option<Timestamp>,
    result: Option<serde_json::Value>,
    error: Option<String>,
}

/// Runs the service until `shutdown` resolves, then stops it as the module says.
pub async fn serve(
    app: Arc<App>,
    clock: Arc<dyn Clock>,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let settings = app.config.service.clone();
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: is another herald running? Stop it, or set another address in [service] listen",
                settings.listen
            )
        })?;
    let address = listener.local_addr()?;
    if crate::metrics::install().is_none() {
        tracing::warn!("another metrics recorder is installed: /metrics has no histograms");
    }
    let holder = jobs::node_name();
    let svc = Arc::new(Service {
        app: Arc::clone(&app),
        clock,
        holder,
        planned: Arc::new(Notify::new()),
        tokens: crate::auth::Verifier::default(),
        api_jobs: std::sync::Mutex::new(std::collections::BTreeMap::new()),
        buckets: std::sync::Mutex::new(std::collections::HashMap::new()),
    });
    let started = svc.clock.now();
    // Nodes that have run nothing for a week are gone for good: forget them.
    let forgotten = app
        .store
        .forget_nodes(started - SignedDuration::from_hours(24 * 7))
        .await?;
    if forgotten > 0 {
        tracing::info!(
            rows = forgotten,
            "forgot the job records of nodes silent for a week"
        );
    }
    app.store
        .job_started(
            JOB_SERVICE,
            SignedDuration::try_from(settings.send_every)?,
            &svc.holder,
            started,
        )
        .await?;
    tracing::info!(%address, holder = %svc.holder, "herald serve: listening");
    println!("herald serve: listening on http://{address} (stop with Ctrl-C or SIGTERM)");

    let (stop_tx, stop_rx) = watch::channel(false);
    let http = tokio::spawn({
        let console = Arc::new(crate::console::Console::new(
            Arc::clone(&app),
            Arc::clone(&svc.clock),
            Arc::clone(&svc.planned),
        ));
        let router = router(Arc::clone(&svc)).merge(crate::console::router(console));
        let mut stop = stop_rx.clone();
        async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await
        }
    });
    let planner = tokio::spawn(planner_loop(Arc::clone(&svc), stop_rx.clone()));
    let dispatcher = tokio::spawn(dispatcher_loop(Arc::clone(&svc), stop_rx.clone()));

    shutdown.await;
    tracing::info!("herald serve: stopping");
    println!(
        "herald serve: stopping; waiting up to {} s for messages in flight",
        settings.shutdown_timeout.as_secs()
    );
    app.stopping.store(true, Ordering::Relaxed);
    let _ = stop_tx.send(true);
    let all = async {
        let (p, d, h) = tokio::join!(planner, dispatcher, http);
        (p, d, h)
    };
    let clean = match tokio::time::timeout(settings.shutdown_timeout, all).await {
        Ok((p, d, h)) => {
            for (name, r) in [("planner", p), ("dispatcher", d)] {
                if let Err(e) = r {
                    tracing::error!(job = name, error = %e, "a job ended abnormally");
                }
            }
            if let Ok(Err(e)) = h {
                tracing::error!(error = %e, "the HTTP server ended with an error");
            }
            true
        }
        Err(_) => {
            tracing::warn!(
                "herald serve: gave up waiting after {} s; deliveries still leased are taken again when their leases run out",
                settings.shutdown_timeout.as_secs()
            );
            false
        }
    };
    let now = svc.clock.now();
    app.store
        .job_finished(JOB_SERVICE, &svc.holder, now, Ok(()))
        .await?;
    app.store.close().await;
    println!(
        "herald serve: stopped{}",
        if clean {
            ""
        } else {
            " (timed out waiting for messages in flight)"
        }
    );
    Ok(())
}

/// The planner: once at start (catching up whatever came due while the service
/// was down), then at every firing of `[service] plan`. After each run the
/// dispatcher is woken for what it planned.
async fn planner_loop(svc: Arc<Service>, mut stop: watch::Receiver<bool>) {
    let app = &svc.app;
    let tz = app.config.tenant.time_zone.time_zone();
    let schedule = match Schedule::parse(&app.config.service.plan) {
        Ok(s) => s,
        Err(e) => {
            // Checked when the config was loaded; kept honest all the same.
            tracing::error!(error = %e, "the planner's schedule does not parse; the planner does not run");
            return;
        }
    };
    loop {
        let started = svc.clock.now();
        // How long until the run after the next: what "late" means for this job.
        let next = schedule.next_after(started, &tz);
        let every = next
            .and_then(|n| {
                schedule
                    .next_after(n, &tz)
                    .map(|m| m.duration_since(started))
            })
            .unwrap_or(SignedDuration::from_hours(24));
        let t0 = std::time::Instant::now();
        let result = run_job(&svc, JOB_PLANNER, every, || async {
            let Some(report) = jobs::plan_unless_busy(
                app,
                svc.clock.now(),
                &PlanOptions {
                    dry_run: false,
                    only_customer: None,
                    only_rule: None,
                },
            )
            .await?
            else {
                tracing::info!("planner: another node is planning; this turn is left to it");
                return Ok(());
            };
            tracing::info!(
                run = report.run_id,
                planned = report.planned,
                new = report.inserted,
                "planner run"
            );
            Ok(())
        })
        .await;
        crate::metrics::record_plan(t0.elapsed().as_secs_f64());
        if result {
            svc.planned.notify_one();
        }
        let Some(next) = schedule.next_after(svc.clock.now(), &tz) else {
            tracing::warn!("the planner's schedule never fires again; the planner stops");
            return;
        };
        let wait = svc.clock.now().duration_since(next).unsigned_abs();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// The dispatcher: sends what is due every `[service] send_every`, and at once
/// after a planning run.
async fn dispatcher_loop(svc: Arc<Service>, mut stop: watch::Receiver<bool>) {
    let app = &svc.app;
    let every = app.config.service.send_every;
    let allowed = SignedDuration::try_from(every).unwrap_or(SignedDuration::from_secs(10));
    loop {
        run_job(&svc, JOB_DISPATCHER, allowed, || async {
            let report = jobs::send(app, svc.clock.now()).await?;
            if report.sent + report.failed + report.retrying + report.cancelled > 0 {
                tracing::info!(
                    sent = report.sent,
                    retrying = report.retrying,
                    failed = report.failed,
                    cancelled = report.cancelled,
                    released = report.released,
                    lost_leases = report.lost_leases,
                    "dispatcher run"
                );
            }
            Ok(())
        })
        .await;
        if *stop.borrow() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = svc.planned.notified() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Runs one turn of `job`, writing down its start and how it ended. A failed
/// turn is logged and recorded, and the job goes on at its next turn. Returns
/// whether it succeeded.
async fn run_job<F, Fut>(svc: &Service, job: &str, every: SignedDuration, turn: F) -> bool
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let store = &svc.app.store;
    if let Err(e) = store
        .job_started(job, every, &svc.holder, svc.clock.now())
        .await
    {
        tracing::error!(job, error = %e, "cannot record the job's start");
    }
    let result = turn().await;
    let text = result.as_ref().err().map(|e| format!("{e:#}"));
    if let Some(e) = &text {
        tracing::error!(job, error = %e, "job failed; it runs again at its next turn");
    }
    if let Err(e) = store
        .job_finished(
            job,
            &svc.holder,
            svc.clock.now(),
            text.as_deref().map_or(Ok(()), Err),
        )
        .await
    {
        tracing::error!(job, error = %e, "cannot record how the job ended");
    }
    text.is_none()
}

fn router(svc: Arc<Service>) -> axum::Router {
    axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/status", get(api_status))
        .route(
            "/api/v1/openapi.json",
            get(|| async { Json(<ApiDoc as utoipa::OpenApi>::openapi()) }),
        )
        .merge(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url(
            "/api/docs/openapi.json",
            <ApiDoc as utoipa::OpenApi>::openapi(),
        ))
        .route("/metrics", get(metrics))
        .route("/api/v1/notifications", get(api_notifications))
        .route(
            "/api/v1/notifications/{id}/resend",
            axum::routing::post(api_resend),
        )
        .route(
            "/api/v1/notifications/{id}/cancel",
            axum::routing::post(api_cancel),
        )
        .route("/api/v1/plan", axum::routing::post(api_plan))
        .route("/api/v1/holds", get(api_holds))
        .route("/api/v1/preview", get(api_preview))
        .route("/api/v1/customers/{id}/history", get(api_customer_history))
        .route("/api/v1/invoices/{id}/statuses", get(api_invoice_statuses))
        .route(
            "/api/v1/subjects/{subject}/statuses",
            get(api_subject_statuses),
        )
        .route("/api/v1/{on}/{id}/pause", axum::routing::post(api_pause))
        .route("/api/v1/{on}/{id}/resume", axum::routing::post(api_resume))
        .route("/api/v1/jobs/{id}", get(api_job))
        .route(
            "/api/v1/{kind}",
            axum::routing::post(api_ingest)
                .layer(axum::extract::DefaultBodyLimit::max(INGEST_BODY_LIMIT)),
        )
        .fallback(not_found)
        // Nothing herald accepts comes near this; a bigger body is refused
        // before it is read (batch ingest will set its own limit).
        .layer(axum::extract::DefaultBodyLimit::max(1 << 20))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&svc),
            time_limit,
        ))
        .with_state(svc)
}

/// Answers 503 for a request that takes longer than `[service] request_timeout`
/// (the work it started is dropped with it).
async fn time_limit(
    State(svc): State<Arc<Service>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let limit = svc.app.config.service.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the request took longer than {} s ([service] request_timeout); send smaller batches or try again",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
}

/// Every error's body: one sentence saying what is wrong and what to do.
#[derive(Serialize, utoipa::ToSchema)]
struct ErrorBody {
    error: String,
}

/// The OpenAPI 3.1 document of the API, generated from the handlers' annotations.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "herald", description = "herald's HTTP API: ingest records and events, read notifications and deliveries, act on them. Every /api/v1 endpoint wants `Authorization: Bearer <token>` (`herald token create`)."),
    paths(healthz, readyz, metrics, api_status, api_notifications, api_ingest, api_plan, api_job, api_resend, api_holds, api_pause, api_resume, api_cancel, api_preview, api_customer_history, api_invoice_statuses, api_subject_statuses),
    modifiers(&BearerAuth),
    tags((name = "ingest"), (name = "read"), (name = "act"), (name = "operations"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token: `herald token create --scope …`"))
                    .build(),
            ),
        );
    }
}

/// An API error as JSON: `{"error": "…"}`, the sentence saying what to do.
struct ApiError(StatusCode, String);

impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        let mut r = (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response();
        if self.0 == StatusCode::TOO_MANY_REQUESTS {
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        if self.0 == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"herald\""),
            );
        }
        r
    }
}

impl From<crate::documents::Refusal> for ApiError {
    fn from(r: crate::documents::Refusal) -> Self {
        use crate::documents::Refusal;
        match r {
            Refusal::NotFound(m) => ApiError(StatusCode::NOT_FOUND, m),
            Refusal::Unanswerable(m) => ApiError(StatusCode::UNPROCESSABLE_ENTITY, m),
            Refusal::Failed(e) => e.into(),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        tracing::error!(error = %format!("{e:#}"), "API request failed");
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}"))
    }
}

/// The token of the request, if it may do `need`; 401 or 403 otherwise.
async fn authorize(
    svc: &Service,
    headers: &axum::http::HeaderMap,
    need: crate::auth::Scope,
) -> Result<herald_store::ApiToken, ApiError> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").map(str::trim));
    let token = svc
        .tokens
        .check(&svc.app.store, bearer, need, svc.clock.now())
        .await
        .map_err(|r| match r {
            crate::auth::Refusal::Unauthenticated(m) => ApiError(StatusCode::UNAUTHORIZED, m),
            crate::auth::Refusal::Forbidden(m) => ApiError(StatusCode::FORBIDDEN, m),
        })?;
    // A token bucket per token: `rate_limit` a second, bursts of twice that.
    let rate = f64::from(svc.app.config.service.rate_limit);
    let allowed = svc.buckets.lock().map_or(true, |mut b| {
        let now = std::time::Instant::now();
        let (left, at) = b.entry(token.id).or_insert((rate * 2.0, now));
        *left = (*left + now.duration_since(*at).as_secs_f64() * rate).min(rate * 2.0);
        *at = now;
        if *left >= 1.0 {
            *left -= 1.0;
            true
        } else {
            false
        }
    });
    if !allowed {
        return Err(ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "more than {rate} requests a second with this token ([service] rate_limit); wait a second and send again"
            ),
        ));
    }
    Ok(token)
}

async fn not_found() -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        "no such endpoint; the API is under /api/v1".into(),
    )
}

/// `GET /metrics` (scope read: Prometheus sends it as `authorization` with
/// `type: Bearer`): Prometheus's text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the read scope", body = ErrorBody)),
    security(("bearer" = [])))]
async fn metrics(
    State(svc): State<Arc<Service>>,
    headers: axum::http::HeaderMap,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String), ApiError> {
    authorize(&svc, &headers, crate::auth::Scope::Read).await?;
    let text = crate::metrics::render(&svc.app, svc.clock.now()).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}

/// `GET /api/v1/notifications` (scope read): notifications with their deliveries
/// and attempts, filtered by `customer`, `invoice`, `subject`, `rule`, `state` (a
/// delivery state), `from` and `until` (fire time, RFC 3339), a page of `limit`
/// (100, at most 1,000) in id order after the cursor `after`; `next` is the cursor
/// of the following page, `null` on the last.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "read",
    params(
        ("customer" = Option<String>, Query, description = "Only this customer's notifications"),
        ("invoice" = Option<String>, Query, description = "Only notifications about this invoice"),
        ("subject" = Option<String>, Query, description = "What they are about: a declaration number, a task id"),
        ("rule" = Option<String>, Query, description = "Only this rule's"),
        ("state" = Option<String>, Query, description = "With a delivery in this state: pending, sending, retrying, sent, failed, not_applicable, cancelled"),
        ("from" = Option<String>, Query, description = "Fire time at or after (RFC 3339)"),
        ("until" = Option<String>, Query, description = "Fire time before (RFC 3339)"),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000 (100)"),
    ),
    responses((status = 200, description = "`{items: [history entries], next: cursor | null}`; an entry is what `herald history --json` prints (docs/json.md)", body = serde_json::Value),
              (status = 400, description = "A bad parameter", body = ErrorBody),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the read scope", body = ErrorBody)),
    security(("bearer" = [])))]
async fn api_notifications(
    State(svc): State<Arc<Service>>,
    headers: axum::http::HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&svc, &headers, crate::auth::Scope::Read).await?;
    let bad = |m: String| ApiError(StatusCode::BAD_REQUEST, m);
    let mut filter = herald_store::HistoryFilter {
        limit: 100,
        after_id: Some(0),
        ..Default::default()
    };
    for pair in query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v).map_err(|e| bad(format!("{k}: {e}")))?;
        let time = |v: &str| {
            v.parse::<Timestamp>()
                .map_err(|e| bad(format!("{k}: '{v}' is not an RFC 3339 instant: {e}")))
        };
        match k {
            "customer" => {
                filter.customer = Some(
                    herald_core::CustomerId::parse(&v)
                        .map_err(|e| bad(format!("customer: {}", e.0)))?,
                )
            }
            "invoice" => {
                filter.invoice = Some(
                    herald_core::InvoiceId::parse(&v)
                        .map_err(|e| bad(format!("invoice: {}", e.0)))?,
                )
            }
            "subject" => filter.subject = Some(v),
            "rule" => filter.rule = Some(v),
            "state" => {
                v.parse::<herald_core::status::DeliveryState>()
                    .map_err(|e| bad(format!("state: {e}")))?;
                filter.state = Some(v);
            }
            "from" => filter.from = Some(time(&v)?),
            "until" => filter.until = Some(time(&v)?),
            "after" => filter.after_id = Some(page_cursor(&v)?),
            "limit" => filter.limit = page_limit(&v)?,
            other => {
                return Err(bad(format!(
                    "unknown parameter '{other}': use customer, invoice, subject, rule, state, from, until, after, limit"
                )));
            }
        }
    }
    let entries = svc
        .app
        .store
        .history(&filter)
        .await
        .map_err(anyhow::Error::from)?;
    let next = (entries.len() == filter.limit as usize)
        .then(|| entries.last().map(|e| e.notification.id.to_string()))
        .flatten();
    Ok(Json(serde_json::json!({ "items": entries, "next": next })))
}

#[derive(serde::Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ResendRequest {
    /// Another address (e-mail, or a phone number in E.164 for an SMS).
    to: Option<String>,
    /// The name to greet at `to`.
    name: Option<String>,
    /// Another template.
    template: Option<String>,
}

/// `POST /api/v1/notifications/{id}/resend` (scope admin): a new delivery of the
/// notification, to its first recipient or to `to`, optionally with another
/// template; audit-logged with the token's name. 202: the dispatcher sends it at
/// once.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/resend", tag = "act",
    params(("id" = i64, Path, description = "The notification")),
    request_body(content = ResendRequest, description = "Each field optional; an empty body resends to the first recipient"),
    responses((status = 202, description = "`{notification_id, delivery_id}`: queued and sent at once", body = serde_json::Value),
              (status = 404, description = "No such notification", body = ErrorBody),
              (status = 422, description = "A bad address or an unknown template", body = ErrorBody),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the admin scope", body = ErrorBody)),
    security(("bearer" = [])))]
async fn api_resend(
    State(svc): State<Arc<Service>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    body: ActBody,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let token = authorize(&svc, &headers, crate::auth::Scope::Admin).await?;
    let id = id_in_path::<i64>(&id, "notification")?;
    let body = read_body(body)?;
    let req: ResendRequest = json_body_or_default(
        &body,
        "send {\"to\": …, \"name\": …, \"template\": …}, each optional",
    )?;
    let app = &svc.app;
    if app
        .store
        .notification(id)
        .await
        .map_err(anyhow::Error::from)?
        .is_none()
    {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("there is no notification {id}"),
        ));
    }
    let to = match &req.to {
        Some(a) if a.contains('@') => Some(
            herald_core::EmailAddress::parse(a)
                .map_err(|e| ApiError(StatusCode::UNPROCESSABLE_ENTITY, format!("/to: {e}")))?
                .to_string(),
        ),
        Some(p) => Some(
            herald_core::PhoneNumber::parse(p)
                .map_err(|e| ApiError(StatusCode::UNPROCESSABLE_ENTITY, format!("/to: {e}")))?
                .to_string(),
        ),
        None => None,
    };
    if let Some(t) = &req.template
        && !app.templates().has(t)
    {
        return Err(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "/template: there is no template '{t}'; templates: {}",
                app.templates().names().join(", ")
            ),
        ));
    }
    let actor = format!("api:{}", token.name);
    let delivery = app
        .store
        .resend(
            id,
            to.map(|a| (a, req.name.clone().unwrap_or_default())),
            req.template.clone(),
            &actor,
            svc.clock.now(),
        )
        .await
        .map_err(anyhow::Error::from)?;
    svc.planned.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "notification_id": id, "delivery_id": delivery })),
    ))
}

#[derive(serde::Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PlanRequest {
    /// List what would be planned and change nothing.
    #[serde(default)]
    dry_run: bool,
    /// Plan as of this instant (RFC 3339) instead of now: a dry run "tonight".
    #[schema(value_type = Option<String>, format = DateTime)]
    now: Option<Timestamp>,
    /// With `dry_run`: list only this rule's notices ("what would it send tonight").
    rule: Option<String>,
    /// Plan for this customer only (the watermark does not move).
    customer: Option<String>,
}

static API_JOB_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// `POST /api/v1/plan` (scope admin): runs the planner now, in the background
/// (seed 004's "send in background"); 202 with the job to poll. With
/// `{"dry_run": true, "now": "…"}`, what would be planned then, changing nothing.
#[utoipa::path(post, path = "/api/v1/plan", tag = "act",
    request_body(content = PlanRequest, description = "Each field optional"),
    responses((status = 202, description = "`{job, poll}`: the planner runs in the background", body = serde_json::Value),
              (status = 422, description = "A bad body", body = ErrorBody),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the admin scope", body = ErrorBody)),
    security(("bearer" = [])))]
async fn api_plan(
    State(svc): State<Arc<Service>>,
    headers: axum::http::HeaderMap,
    body: ActBody,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    authorize(&svc, &headers, crate::auth::Scope::Admin).await?;
    let body = read_body(body)?;
    let req: PlanRequest = json_body_or_default(
        &body,
        "send {\"dry_run\": true|false, \"now\": \"2026-11-23T18:00:00Z\", \"rule\": …, \"customer\": …}, each optional",
    )?;
    let unprocessable = |m: String| ApiError(StatusCode::UNPROCESSABLE_ENTITY, m);
    let only_customer = req
        .customer
        .as_deref()
        .map(|c| {
            herald_core::CustomerId::parse(c)
                .map_err(|e| unprocessable(format!("/customer: {}", e.0)))
        })
        .transpose()?;
    if let Some(rule) = &req.rule {
        match jobs::only_rule_refusal(&svc.app, rule, req.dry_run) {
            None => {}
            Some(jobs::OnlyRuleRefusal::NeedsDryRun) => {
                return Err(unprocessable(format!(
                    "/rule: one rule ('{rule}') can only be planned in a dry run; add \"dry_run\": true"
                )));
            }
            Some(jobs::OnlyRuleRefusal::Unknown { rules }) => {
                return Err(unprocessable(format!(
                    "/rule: there is no rule '{rule}'; rules: {rules}"
                )));
            }
        }
    }
    let id = API_JOB_IDS.fetch_add(1, Ordering::Relaxed);
    let started = svc.clock.now();
    let job = ApiJob {
        id,
        kind: if req.dry_run { "dry-run" } else { "plan" },
        state: "running",
        started_at: started,
        finished_at: None,
        result: None,
        error: None,
    };
    if let Ok(mut jobs) = svc.api_jobs.lock() {
        // Keep the last hundred.
        while jobs.len() >= 100 {
            jobs.pop_first();
        }
        jobs.insert(id, job);
    }
    let task_svc = Arc::clone(&svc);
    tokio::spawn(async move {
        let svc = task_svc;
        let now = req.now.unwrap_or_else(|| svc.clock.now());
        let result = jobs::plan(
            &svc.app,
            now,
            &PlanOptions {
                dry_run: req.dry_run,
                only_customer,
                only_rule: req.rule,
            },
        )
        .await;
        if result.is_ok() && !req.dry_run {
            svc.planned.notify_one();
        }
        if let Ok(mut jobs) = svc.api_jobs.lock()
            && let Some(j) = jobs.get_mut(&id)
        {
            j.finished_at = Some(svc.clock.now());
            match result {
                Ok(report) => {
                    j.state = "done";
                    j.result = serde_json::to_value(&report).ok();
                }
                Err(e) => {
                    j.state = "failed";
                    j.error = Some(format!("{e:#}"));
                }
            }
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "job": id, "poll": format!("/api/v1/jobs/{id}") })),
    ))
}

/// `GET /api/v1/jobs/{id}` (scope read): a job the API started: running, done
/// (with its result) or failed (with why).
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "act",
    params(("id" = u64, Path, description = "The job, from `POST /api/v1/plan`")),
    responses((status = 200, description = "running, done (with its result) or failed (with why)", body = ApiJob),
              (status = 404, description = "No such job", body = ErrorBody),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the read scope", body = ErrorBody)),
    security(("bearer" = [])))]
async fn api_job(
    State(svc): State<Arc<Service>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Json<ApiJob>, ApiError> {
    authorize(&svc, &headers, crate::auth::Scope::Read).await?;
    let id = id_in_path::<u64>(&id, "job")?;
    svc.api_jobs
        .lock()
        .ok()
        .and_then(|j| j.get(&id).cloned())
        .map(Json)
        .ok_or_else(|| {
            ApiError(
                StatusCode::NOT_FOUND,
                format!(
                    "there is no job {id} (jobs are kept while the service runs, the last hundred)"
                ),
            )
        })
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CancelRequest {
    /// Why, for the history.
    reason: String,
}

/// `POST /api/v1/notifications/{id}/cancel` (scope admin): cancels what of the
/// notification still waits to be sent, with the reason; audit-logged.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/cancel", tag = "act",
    params(("id" = i64, Path, description = "The notification")),
    request_body = CancelRequest,
    responses((status = 200, description = "`{notification_id, cancelled}`: how many deliveries", body = serde_json::Value),
              (status = 404, description = "No such notification", body = ErrorBody),
              (status = 409, description = "Nothing waits to be sent", body = ErrorBody),
              (status = 422, description = "A bad body", body = ErrorBody),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the admin scope", body = ErrorBody)),
    security(("bearer" = [])))]
async fn api_cancel(
    State(svc): State<Arc<Service>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    body: ActBody,
) -> Result<Json<serde_json::Value>, ApiError> {
    let token = authorize(&svc, &headers, crate::auth::Scope::Admin).await?;
    let id = id_in_path::<i64>(&id, "notification")?;
    let body = read_body(body)?;
    let req: CancelRequest = json_body(&body, "send {\"reason\": \"…\"}")?;
    match svc
        .app
        .store
        .cancel_notification(
            id,
            &req.reason,
            &format!("api:{}", token.name),
            svc.clock.now(),
        )
        .await
        .map_err(anyhow::Error::from)?
    {
        None => Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("there is no notification {id}"),
        )),
        Some(0) => Err(ApiError(
            StatusCode::CONFLICT,
            format!(
                "notification {id} has nothing waiting to be sent (sent, failed or cancelled already)"
            ),
        )),
        Some(n) => Ok(Json(
            serde_json::json!({ "notification_id": id, "cancelled": n }),
        )),
    }
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PauseRequest {
    /// Why: "dispute", "promise to pay by 2026-12-05".
    reason: String,
    /// When the hold ends by itself (RFC 3339); none: until resumed.
    #[schema(value_type = Option<String>, format = DateTime)]
    until: Option<Timestamp>,
}

fn hold_on(on: &str) -> Result<herald_store::HoldOn, ApiError> {
    match on {
        "customers" => Ok(herald_store::HoldOn::Customer),
        "invoices" => Ok(herald_store::HoldOn::Invoice),
        other => Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no such endpoint: '{other}' cannot be paused; customers and invoices can"),
        )),
    }
}

/// `POST /api/v1/{customers|invoices}/{id}/pause` (scope admin): holds the
/// customer's or invoice's notices (a dispute, a promise to pay): cancelled at
/// send time with the reason until resumed or `until`; audit-logged.
#[utoipa::path(post, path = "/api/v1/{on}/{id}/pause", tag = "act",
    params(("on" = String, Path, description = "customers or invoices"), ("id" = String, Path, description = "The customer's or invoice's id")),
    request_body = PauseRequest,
    responses((status = 200, description = "The hold", body = serde_json::Value),
              (status = 404, description = "No such customer or invoice", body = ErrorBody),
              (status = 422, description = "A bad body", body = ErrorBody),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the admin scope", body = ErrorBody)),
    security(("bearer" = [])))]
async fn api_pause(
    State(svc): State<Arc<Service>>,
    axum::extract::Path((on, id)): axum::extract::Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: ActBody,
) -> Result<Json<serde_json::Value>, ApiError> {
    let token = authorize(&svc, &headers, crate::auth::Scope::Admin).await?;
    let body = read_body(body)?;
    let on = hold_on(&on)?;
    let req: PauseRequest = json_body(
        &body,
        "send {\"reason\": \"dispute\", \"until\": \"2026-12-05T00:00:00Z\"} (until optional)",
    )?;
    if req.reason.trim().is_empty() {
        return Err(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/reason: say why, for the history".into(),
        ));
    }
    let actor = format!("api:{}", token.name);
    if !svc
        .app
        .store
        .pause(on, &id, &req.reason, req.until, &actor, svc.clock.now())
        .await
        .map_err(anyhow::Error::from)?
    {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("there is no {} '{id}'", on.as_str()),
        ));
    }
    Ok(Json(serde_json::json!({
        "on": on.as_str(), "id": id, "reason": req.reason, "until": req.until, "actor": actor
    })))
}

/// `POST /api/v1/{customers|invoices}/{id}/resume` (scope admin): ends a hold.
#[utoipa::path(post, path = "/api/v1/{on}/{id}/resume", tag = "act",
    params(("on" = String, Path, description = "customers or invoices"), ("id" = String, Path, description = "The customer's or invoice's id")),
    responses((status = 200, description = "Resumed", body = serde_json::Value),
              (status = 404, description = "Not on hold", body = ErrorBody),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the admin scope", body = ErrorBody)),
    security(("bearer" = [])))]
async fn api_resume(
    State(svc): State<Arc<Service>>,
    axum::extract::Path((on, id)): axum::extract::Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let token = authorize(&svc, &headers, crate::auth::Scope::Admin).await?;
    let on = hold_on(&on)?;
    let actor = format!("api:{}", token.name);
    if !svc
        .app
        .store
        .resume(on, &id, &actor, svc.clock.now())
        .await
        .map_err(anyhow::Error::from)?
    {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("{} '{id}' is not on hold", on.as_str()),
        ));
    }
    svc.planned.notify_one();
    Ok(Json(
        serde_json::json!({ "on": on.as_str(), "id": id, "resumed": true }),
    ))
}

/// A query string as name → value, each name at most once and among `allowed`;
/// otherwise 400 naming the parameter and the ones there are.
fn query_params(
    query: Option<&str>,
    allowed: &[&str],
) -> Result<std::collections::BTreeMap<String, String>, ApiError> {
    let bad = |m: String| ApiError(StatusCode::BAD_REQUEST, m);
    let mut out = std::collections::BTreeMap::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if !allowed.contains(&k) {
            return Err(bad(format!(
                "unknown parameter '{k}': use {}",
                allowed.join(", ")
            )));
        }
        let v = percent_decode(v).map_err(|e| bad(format!("{k}: {e}")))?;
        if out.insert(k.to_owned(), v).is_some() {
            return Err(bad(format!("{k}: given twice; give it once")));
        }
    }
    Ok(out)
}

/// A page size: 1 to 1,000.
fn page_limit(v: &str) -> Result<u32, ApiError> {
    v.parse::<u32>()
        .ok()
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("limit: '{v}': give 1 to 1000"),
            )
        })
}

/// The `next` cursor of a previous page: the last notification id it held.
fn page_cursor(v: &str) -> Result<i64, ApiError> {
    v.parse().map_err(|_| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("after: '{v}' is not a cursor; pass the `next` of the previous page"),
        )
    })
}

/// `GET /api/v1/preview` (scope read): a rule's message for a customer rendered
/// exactly as it would be sent, in the recipient's language, recording and
/// sending nothing.
#[utoipa::path(get, path = "/api/v1/preview", tag = "read",
    params(
        ("rule" = String, Query, description = "An invoice, dunning or event rule, e.g. due-soon, dunning, customs-ie529"),
        ("customer" = Option<String>, Query, description = "The customer it is for (an event rule: its event's customer when not given)"),
        ("invoice" = Option<String>, Query, description = "For an invoice rule: the invoice (default: the customer's latest open one)"),
        ("subject" = Option<String>, Query, description = "For an event rule: the latest event of its type about this subject (a declaration number); for a task rule: the task id (default: the customer's next reminder); for a digest rule: the operator (default: the first digest it sends)"),
        ("locale" = Option<String>, Query, description = "Render in this language instead of the customer's"),
        ("now" = Option<String>, Query, description = "As of this instant (RFC 3339): a dunning letter lists what is overdue then"),
    ),
    responses((status = 200, description = "The rendered message and who it would go to", body = crate::documents::Preview),
              (status = 400, description = "A missing or bad parameter", body = ErrorBody),
              (status = 404, description = "No such rule, customer, invoice of the customer, or event for an event rule", body = ErrorBody),
              (status = 422, description = "Nothing to preview with (no invoice; nothing overdue for a dunning letter; no reminder ahead for a task rule; no digest or overview ahead)", body = ErrorBody),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the read scope", body = ErrorBody)),
    security(("bearer" = [])))]
async fn api_preview(
    State(svc): State<Arc<Service>>,
    headers: axum::http::HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<crate::documents::Preview>, ApiError> {
    authorize(&svc, &headers, crate::auth::Scope::Read).await?;
    let q = query_params(
        query.as_deref(),
        &["rule", "customer", "invoice", "subject", "locale", "now"],
    )?;
    let bad = |m: String| ApiError(StatusCode::BAD_REQUEST, m);
    let rule = q.get("rule").ok_or_else(|| {
        bad("rule: missing; name the rule to preview, e.g. ?rule=due-soon&customer=C1".into())
    })?;
    let digest = svc
        .app
        .config
        .rules
        .digest
        .iter()
        .any(|r| r.id == rule.as_str());
    if !digest && !q.contains_key("customer") && !q.contains_key("subject") {
        return Err(bad(
            "customer: missing; name the customer (or, for an event or task rule, the subject), e.g. ?rule=due-soon&customer=C1".into(),
        ));
    }
    let customer = q
        .get("customer")
        .map(|c| herald_core::CustomerId::parse(c).map_err(|e| bad(format!("customer: {}", e.0))))
        .transpose()?;
    let locale = q
        .get("locale")
        .map(|l| herald_core::values::Locale::parse(l).map_err(|e| bad(format!("locale: {}", e.0))))
        .transpose()?;
    let now = match q.get("now") {
        Some(v) => v
            .parse::<Timestamp>()
            .map_err(|e| bad(format!("now: '{v}' is not an RFC 3339 instant: {e}")))?,
        None => svc.clock.now(),
    };
    let preview = crate::documents::preview(
        &svc.app,
        &crate::documents::PreviewRequest {
            rule,
            customer,
            invoice: q.get("invoice").map(String::as_str),
            subject: q.get("subject").map(String::as_str),
            locale,
            now,
        },
    )
    .await?;
    Ok(Json(preview))
}

/// `GET /api/v1/customers/{id}/history` (scope read): the customer, its holds and
/// its notifications with every delivery and attempt, in the order they were
/// planned, a page of `limit` (100, at most 1,000) after the cursor `after`.
#[utoipa::path(get, path = "/api/v1/customers/{id}/history", tag = "read",
    params(
        ("id" = String, Path, description = "The customer"),
        ("after" = Option<String>, Query, description = "The `next` cursor of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 1000 (100)"),
    ),
    responses((status = 200, description = "`{customer, holds, items: [history entries], next: cursor | null}`", body = serde_json::Value),
              (status = 400, description = "A bad parameter", body = ErrorBody),
              (status = 404, description = "No such customer", body = ErrorBody),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the read scope", body = ErrorBody)),
    security(("bearer" = [])))]
async fn api_customer_history(
    State(svc): State<Arc<Service>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&svc, &headers, crate::auth::Scope::Read).await?;
    let q = query_params(query.as_deref(), &["after", "limit"])?;
    let customer = herald_core::CustomerId::parse(&id)
        .map_err(|e| ApiError(StatusCode::NOT_FOUND, format!("customer id {}", e.0)))?;
    let store = &svc.app.store;
    let Some((record, contacts)) = store
        .customer(&customer)
        .await
        .map_err(anyhow::Error::from)?
    else {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("there is no customer '{id}'; import it first (POST /api/v1/customers)"),
        ));
    };
    let limit = q.get("limit").map_or(Ok(100), |v| page_limit(v))?;
    let after = q.get("after").map_or(Ok(0), |v| page_cursor(v))?;
    let entries = store
        .history(&herald_store::HistoryFilter {
            customer: Some(customer.clone()),
            after_id: Some(after),
            limit,
            ..Default::default()
        })
        .await
        .map_err(anyhow::Error::from)?;
    let next = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.notification.id.to_string()))
        .flatten();
    let holds = store
        .holds_on(&[customer.as_str()], &[], svc.clock.now())
        .await
        .map_err(anyhow::Error::from)?;
    Ok(Json(serde_json::json!({
        "customer": record,
        "contacts": contacts,
        "holds": holds,
        "items": entries,
        "next": next,
    })))
}

/// `GET /api/v1/invoices/{id}/statuses` (scope read): the invoice's status per
/// rule (seed 000's "show send statuses"): the latest notice's status, every
/// notice, the next reminder, and why a rule has said nothing yet.
#[utoipa::path(get, path = "/api/v1/invoices/{id}/statuses", tag = "read",
    params(("id" = String, Path, description = "The invoice")),
    responses((status = 200, description = "One status per enabled invoice and dunning rule", body = crate::documents::InvoiceStatuses),
              (status = 404, description = "No such invoice", body = ErrorBody),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the read scope", body = ErrorBody)),
    security(("bearer" = [])))]
async fn api_invoice_statuses(
    State(svc): State<Arc<Service>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<crate::documents::InvoiceStatuses>, ApiError> {
    authorize(&svc, &headers, crate::auth::Scope::Read).await?;
    query_params(query.as_deref(), &[])?;
    let invoice = herald_core::InvoiceId::parse(&id)
        .map_err(|e| ApiError(StatusCode::NOT_FOUND, format!("invoice id {}", e.0)))?;
    let entries = svc
        .app
        .store
        .history(&herald_store::HistoryFilter {
            invoice: Some(invoice.clone()),
            limit: 10_000,
            ..Default::default()
        })
        .await
        .map_err(anyhow::Error::from)?;
    Ok(Json(
        crate::documents::invoice_statuses(&svc.app, &invoice, &entries).await?,
    ))
}

/// `GET /api/v1/subjects/{subject}/statuses` (scope read): what a subject's
/// notices (a customs declaration, a task) answered, one column per event type:
/// for a declaration IE529, IE509 and IE599 (seed 000), each not_applicable,
/// pending, sent, partially_sent, failed or cancelled.
#[utoipa::path(get, path = "/api/v1/subjects/{subject}/statuses", tag = "read",
    params(("subject" = String, Path, description = "A declaration number, a task id")),
    responses((status = 200, description = "`{subject, columns: [{event_type, label, status}], notifications: [ids]}`", body = serde_json::Value),
              (status = 404, description = "No notice is about this subject", body = ErrorBody),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the read scope", body = ErrorBody)),
    security(("bearer" = [])))]
async fn api_subject_statuses(
    State(svc): State<Arc<Service>>,
    axum::extract::Path(subject): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&svc, &headers, crate::auth::Scope::Read).await?;
    query_params(query.as_deref(), &[])?;
    let entries = svc
        .app
        .store
        .history(&herald_store::HistoryFilter {
            subject: Some(subject.clone()),
            limit: 10_000,
            ..Default::default()
        })
        .await
        .map_err(anyhow::Error::from)?;
    if entries.is_empty() {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!(
                "no notice is about '{subject}' (yet): check the number, or whether its events reached herald"
            ),
        ));
    }
    Ok(Json(serde_json::json!({
        "subject": subject,
        "columns": crate::documents::subject_columns(&svc.app, &entries),
        "notifications": entries.iter().map(|e| e.notification.id).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/holds` (scope read): every hold.
#[utoipa::path(get, path = "/api/v1/holds", tag = "read",
    responses((status = 200, description = "`[{on, id, reason, until, actor, created_at}]`", body = serde_json::Value),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the read scope", body = ErrorBody)),
    security(("bearer" = [])))]
async fn api_holds(
    State(svc): State<Arc<Service>>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Vec<herald_store::Hold>>, ApiError> {
    authorize(&svc, &headers, crate::auth::Scope::Read).await?;
    Ok(Json(
        svc.app.store.holds().await.map_err(anyhow::Error::from)?,
    ))
}

/// An act's body, read before the handler runs: a rejection (too big, broken
/// off) is kept so the handler can answer it as JSON after the token check.
type ActBody = Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>;

fn read_body(body: ActBody) -> Result<axum::body::Bytes, ApiError> {
    body.map_err(|e| {
        ApiError(
            e.status(),
            format!(
                "the body could not be read ({e}); an act's body is a few fields, at most 1 MiB"
            ),
        )
    })
}

/// A numeric id from the path; anything else names nothing there is (404),
/// answered after the token check like every other refusal.
fn id_in_path<T: std::str::FromStr>(id: &str, what: &str) -> Result<T, ApiError> {
    id.parse().map_err(|_| {
        ApiError(
            StatusCode::NOT_FOUND,
            format!("there is no {what} '{id}': {what} ids are numbers"),
        )
    })
}

/// An act's JSON body, or 422 saying what is wrong and, in `hint`, what to send.
/// Text that is not JSON at all gets 400, as for ingest; JSON of the wrong shape
/// (an unknown field, a wrong type) 422.
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8], hint: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let code = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError(code, format!("{e}; {hint}"))
    })
}

/// [`json_body`] for a body whose fields are all optional: an empty one is the
/// defaults.
fn json_body_or_default<T: serde::de::DeserializeOwned + Default>(
    body: &[u8],
    hint: &str,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        json_body(body, hint)
    }
}

/// `%XX` and `+` in a query value.
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("'{s}' has a bad %-escape"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("'{s}' is not UTF-8"))
}

/// At most this many records in one ingest request.
pub const INGEST_MAX_ITEMS: usize = 10_000;
/// An ingest body's size limit: 10,000 records of a few hundred bytes each fit.
const INGEST_BODY_LIMIT: usize = 32 << 20;

/// `POST /api/v1/{kind}` (scope ingest): upserts records of one kind
/// (customers, contacts, operators, relations, invoices, payments, tasks,
/// events), one JSON object or an array of up to 10,000, with the same fields and
/// the same validation as `herald import`. All or nothing: one bad record and
/// nothing is written; the answer lists every problem with a JSON pointer into
/// the body (`/3/amount`). Upserts are idempotent on the records' ids; with an
/// `Idempotency-Key` header, the same request again gets the first answer.
#[utoipa::path(post, path = "/api/v1/{kind}", tag = "ingest",
    params(("kind" = String, Path, description = "customers, contacts, operators, relations, invoices, payments, tasks or events"),
           ("Idempotency-Key" = Option<String>, Header, description = "The same key and request again get the first answer")),
    request_body(content = serde_json::Value, description = "One record or an array of up to 10,000, with the fields of the import files (README, Import files)"),
    responses((status = 200, description = "`{kind, received, inserted, updated, unchanged, warnings}`", body = serde_json::Value),
              (status = 400, description = "The body is not JSON", body = ErrorBody),
              (status = 413, description = "More than 10,000 records or 32 MiB", body = ErrorBody),
              (status = 422, description = "Nothing written: `{error, errors: [{pointer, reason}]}`", body = serde_json::Value),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the ingest scope", body = ErrorBody),
              (status = 404, description = "Not a kind of record", body = ErrorBody)),
    security(("bearer" = [])))]
async fn api_ingest(
    State(svc): State<Arc<Service>>,
    axum::extract::Path(kind): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse as _;
    let token = authorize(&svc, &headers, crate::auth::Scope::Ingest).await?;
    let kind: crate::import::RecordKind = kind
        .parse()
        .map_err(|e: String| ApiError(StatusCode::NOT_FOUND, format!("no such endpoint: {e}")))?;
    let body = body.map_err(|e| {
        ApiError(
            e.status(),
            format!(
                "the body could not be read ({e}); send at most {INGEST_MAX_ITEMS} records and {} MiB per request",
                INGEST_BODY_LIMIT >> 20
            ),
        )
    })?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let request_hash = {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(b"POST /api/v1/");
        h.update(kind.as_str().as_bytes());
        h.update(b"\n");
        h.update(&body);
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    if let Some(key) = &key
        && let Some(answer) = svc
            .app
            .store
            .idempotent_answer(token.id, key)
            .await
            .map_err(anyhow::Error::from)?
    {
        if answer.request != request_hash {
            return Err(ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "the Idempotency-Key '{key}' was used for another request; use a new key for a new request"
                ),
            ));
        }
        let mut r = (
            StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK),
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            answer.body,
        )
            .into_response();
        r.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
        return Ok(r);
    }
    let (status, answer) = ingest(&svc.app, kind, &body).await?;
    let text = answer.to_string();
    if let Some(key) = &key {
        svc.app
            .store
            .keep_idempotent_answer(
                token.id,
                key,
                &herald_store::IdempotentAnswer {
                    request: request_hash,
                    status: status.as_u16(),
                    body: text.clone(),
                },
                svc.clock.now(),
            )
            .await
            .map_err(anyhow::Error::from)?;
    }
    Ok((
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        text,
    )
        .into_response())
}

/// The work of an ingest request: the body's records through the import's
/// validation and upsert, read in place (record `i` is the import's line `i + 1`,
/// so a problem's place becomes the JSON pointer `/i`). 200 with the counts, or
/// 422 with every problem.
async fn ingest(
    app: &App,
    kind: crate::import::RecordKind,
    body: &[u8],
) -> Result<(StatusCode, serde_json::Value), ApiError> {
    let t = std::time::Instant::now();
    // One object or an array of them; anything else is refused as a whole.
    let not_json = |e: serde_json::Error| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON ({e}); send one object or an array of objects"),
        )
    };
    let objects: Vec<serde_json::Map<String, serde_json::Value>> = match serde_json::from_slice::<
        serde_json::Value,
    >(body)
    .map_err(not_json)?
    {
        serde_json::Value::Array(items) => {
            if items.len() > INGEST_MAX_ITEMS {
                return Err(ApiError(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "{} records in one request; send at most {INGEST_MAX_ITEMS} per request",
                        items.len()
                    ),
                ));
            }
            let mut objects = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                match item {
                    serde_json::Value::Object(o) => objects.push(o),
                    _ => {
                        return Err(ApiError(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            format!("/{i}: every record must be a JSON object"),
                        ));
                    }
                }
            }
            objects
        }
        serde_json::Value::Object(o) => vec![o],
        _ => {
            return Err(ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the body must be one JSON object or an array of objects".into(),
            ));
        }
    };
    tracing::debug!(elapsed = ?t.elapsed(), records = objects.len(), "ingest: the body read");
    let name = std::path::Path::new("the request");
    let records = crate::import::Records::Objects {
        name,
        objects: &objects,
    };
    let here = name.display().to_string();
    let pointer = |line: u64, column: &str| {
        let i = line.saturating_sub(1);
        if column.is_empty() {
            format!("/{i}")
        } else {
            format!("/{i}/{column}")
        }
    };
    let known = crate::import::load_known(
        &app.store,
        kind,
        records,
        crate::import::KnownScope::Referenced,
    )
    .await?;
    tracing::debug!(elapsed = ?t.elapsed(), "ingest: the records' customers and invoices read");
    let report = crate::import::parse_records(
        kind,
        records,
        &known,
        &crate::import::ImportOptions::default(),
        None,
    )
    .map_err(|e| {
        let (at, text) = match &e {
            crate::import::ImportError::UnknownColumns { line, unknown, .. } => (
                pointer(*line, unknown.first().map_or("", String::as_str)),
                format!(
                    "unknown field{} {}; the fields of {} are: {}",
                    if unknown.len() == 1 { "" } else { "s" },
                    unknown.join(", "),
                    kind.as_str(),
                    kind.header()
                ),
            ),
            crate::import::ImportError::Malformed { line, reason, .. } => {
                (pointer(*line, ""), reason.clone())
            }
            other => (
                String::new(),
                other.to_string().replace(&here, "the request"),
            ),
        };
        ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            if at.is_empty() {
                text
            } else {
                format!("{at}: {text}")
            },
        )
    })?;
    let problems = |list: &[crate::import::RowProblem]| -> Vec<serde_json::Value> {
        list.iter()
            .map(|p| serde_json::json!({ "pointer": pointer(p.line, &p.column), "reason": p.reason }))
            .collect()
    };
    if !report.errors.is_empty() {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            serde_json::json!({
                "error": format!(
                    "{} problem(s) in {} record(s); nothing was written. Fix the records named and send the request again.",
                    report.errors.len(),
                    report.rows_read
                ),
                "errors": problems(&report.errors),
            }),
        ));
    }
    tracing::debug!(elapsed = ?t.elapsed(), "ingest: parsed and validated");
    let counts = crate::import::write(&app.store, &report.parsed).await?;
    tracing::debug!(elapsed = ?t.elapsed(), "ingest: written");
    Ok((
        StatusCode::OK,
        serde_json::json!({
            "kind": kind.as_str(),
            "received": report.rows_read,
            "inserted": counts.inserted,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "warnings": problems(&report.warnings),
        }),
    ))
}

/// `GET /api/v1/status` (scope read): what `herald status --json` prints.
#[utoipa::path(get, path = "/api/v1/status", tag = "read",
    responses((status = 200, description = "What `herald status --json` prints (docs/json.md)", body = serde_json::Value),
              (status = 401, description = "No valid token", body = ErrorBody),
              (status = 403, description = "The token lacks the read scope", body = ErrorBody)),
    security(("bearer" = [])))]
async fn api_status(
    State(svc): State<Arc<Service>>,
    headers: axum::http::HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&svc, &headers, crate::auth::Scope::Read).await?;
    Ok(Json(status_json(&svc.app, svc.clock.now()).await?))
}

/// What `herald status --json` and `GET /api/v1/status` answer: the store's
/// counts and, under `service`, the service as last recorded.
pub async fn status_json(app: &App, now: Timestamp) -> anyhow::Result<serde_json::Value> {
    let mut v = serde_json::to_value(app.store.status().await?)?;
    v["service"] = serde_json::to_value(service_state(app, now).await?)?;
    Ok(v)
}

/// Alive: the process answers. Nothing about the store, so a slow disk does not
/// get a working service restarted.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process answers", content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok\n"
}

#[derive(Serialize, utoipa::ToSchema)]
struct Readiness {
    ready: bool,
    /// What is wrong, one sentence each; empty when ready.
    problems: Vec<String>,
}

/// Ready: the store answers and every job of the service ran recently enough
/// (see `ServiceJob::overdue`). 503 with the reasons otherwise.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready", body = Readiness),
              (status = 503, description = "Not ready, with the reasons", body = Readiness)))]
async fn readyz(State(svc): State<Arc<Service>>) -> (StatusCode, Json<Readiness>) {
    let problems = readiness_problems(&svc.app, &svc.holder, svc.clock.now()).await;
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            ready: problems.is_empty(),
            problems,
        }),
    )
}

/// What keeps this node from being ready at `now`: the store does not answer, or
/// one of its jobs is overdue. (Another node's trouble is its own /readyz's.)
pub async fn readiness_problems(app: &App, holder: &str, now: Timestamp) -> Vec<String> {
    if let Err(e) = app.store.ping().await {
        return vec![format!("the store does not answer: {e}")];
    }
    match app.store.service_jobs().await {
        Ok(jobs) => jobs
            .iter()
            .filter(|j| j.job != JOB_SERVICE && j.holder == holder)
            .filter_map(|j| j.overdue(now))
            .collect(),
        Err(e) => vec![format!("the service's job records cannot be read: {e}")],
    }
}

/// `herald serve` as the store saw it last: every node, whether it runs, each
/// job's last run on each node, and what is wrong (a job no running node has
/// succeeded at for longer than it should).
#[derive(Debug, Serialize)]
pub struct ServiceState {
    /// Some node started and not stopped, whose dispatcher ran recently.
    pub running: bool,
    /// When a node last started and, if every node stopped cleanly, the last stop.
    pub started_at: Option<jiff::Timestamp>,
    pub stopped_at: Option<jiff::Timestamp>,
    /// Every node the store has heard of this week, running ones first.
    pub nodes: Vec<NodeState>,
    /// Each job on each node.
    pub jobs: Vec<herald_store::ServiceJob>,
    /// Deliveries due now and not yet taken by a sender.
    pub queue_due: i64,
    pub problems: Vec<String>,
}

/// One `herald serve` process as the store saw it last.
#[derive(Debug, Serialize)]
pub struct NodeState {
    /// "herald-PID@HOST".
    pub name: String,
    /// `running`: its dispatcher ran recently; `stopped`: it stopped cleanly;
    /// `silent`: started, never stopped, and not heard of since (killed, or its
    /// machine is down): its leases are taken over when they run out.
    pub state: &'static str,
    pub started_at: Option<jiff::Timestamp>,
    pub stopped_at: Option<jiff::Timestamp>,
    /// The last start or end of any of its jobs.
    pub last_seen: Option<jiff::Timestamp>,
}

pub async fn service_state(app: &App, now: jiff::Timestamp) -> anyhow::Result<ServiceState> {
    let jobs = app.store.service_jobs().await?;
    let mut nodes: Vec<NodeState> = Vec::new();
    for j in &jobs {
        if nodes.last().is_none_or(|n| n.name != j.holder) {
            nodes.push(NodeState {
                name: j.holder.clone(),
                state: "silent",
                started_at: None,
                stopped_at: None,
                last_seen: None,
            });
        }
        let Some(node) = nodes.last_mut() else {
            continue;
        };
        node.last_seen = node.last_seen.max(j.last_finished.max(j.last_started));
        if j.job == JOB_SERVICE {
            node.started_at = j.last_started;
            node.stopped_at = j
                .last_finished
                .filter(|f| j.last_started.is_none_or(|st| *f >= st));
        }
    }
    for node in &mut nodes {
        let dispatcher_fresh = jobs
            .iter()
            .any(|j| j.holder == node.name && j.job == JOB_DISPATCHER && j.overdue(now).is_none());
        node.state = match (node.stopped_at, dispatcher_fresh) {
            (Some(_), _) => "stopped",
            (None, true) => "running",
            (None, false) => "silent",
        };
    }
    // Running nodes first, then the most recently seen.
    nodes.sort_by_key(|n| (n.state != "running", std::cmp::Reverse(n.last_seen)));
    let live = |holder: &str| {
        nodes
            .iter()
            .any(|n| n.name == holder && n.stopped_at.is_none())
    };
    // A job is overdue when no node that is meant to run succeeds at it: one
    // node killed while others carry on is no problem of the service's (the
    // node list shows it).
    let mut problems = Vec::new();
    for job in [JOB_PLANNER, JOB_DISPATCHER] {
        let rows: Vec<&herald_store::ServiceJob> = jobs
            .iter()
            .filter(|j| j.job == job && live(&j.holder))
            .collect();
        if !rows.is_empty() && rows.iter().all(|j| j.overdue(now).is_some()) {
            let latest = rows
                .iter()
                .max_by_key(|j| j.last_ok.or(j.last_started))
                .and_then(|j| j.overdue(now));
            problems.extend(latest);
        }
    }
    let running = nodes.iter().any(|n| n.state == "running");
    let started_at = nodes.iter().filter_map(|n| n.started_at).max();
    let stopped_at = if nodes.iter().all(|n| n.stopped_at.is_some()) {
        nodes.iter().filter_map(|n| n.stopped_at).max()
    } else {
        None
    };
    Ok(ServiceState {
        running,
        started_at,
        stopped_at,
        nodes,
        jobs: jobs.into_iter().filter(|j| j.job != JOB_SERVICE).collect(),
        queue_due: app.store.queue_depth(now).await?,
        problems,
    })
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (systemd, docker stop).
pub async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stop with Ctrl-C");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
