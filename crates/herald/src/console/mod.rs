//! The web console: herald's pages for the people who watch and act on
//! notifications, served by `herald serve` under `/console`.
//!
//! Server-rendered with askama (the pages are checked when herald compiles), plain
//! HTML forms, no script and nothing fetched from elsewhere: the one stylesheet is
//! compiled into the binary. So the console works offline, behind a strict
//! Content-Security-Policy, and on any browser.
//!
//! Who may do what:
//! - a session cookie (random, HttpOnly, SameSite=Strict, Secure unless turned
//!   off) names a row of `console_sessions` by its SHA-256; a copy of the store
//!   signs no one in;
//! - every form carries the session's CSRF token (the sign-in form a token of its
//!   own, in a cookie: double submit), and a POST whose `Origin` is another site
//!   is refused before it is read;
//! - roles: a viewer sees, an operator also resends, pauses and cancels, an
//!   admin also changes settings. What a role may not do, the page does not
//!   offer, and the handler refuses anyway.

mod i18n;
mod pages;
mod people;
mod preview;
mod settings;
mod subjects;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use herald_core::Clock;
use herald_store::{ConsoleSession, Role};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest as _, Sha256};
use tokio::sync::Notify;

use crate::app::App;
pub(crate) use i18n::Lang;

const SESSION_COOKIE: &str = "herald_session";
const LOGIN_COOKIE: &str = "herald_login";
const LANG_COOKIE: &str = "herald_lang";

/// Failed sign-ins a login may have in `LOCKOUT` before it is refused.
const MAX_FAILURES: u32 = 10;
const LOCKOUT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// What the console's handlers share.
pub struct Console {
    pub app: Arc<App>,
    pub clock: Arc<dyn Clock>,
    /// Wakes the dispatcher: a resend from the console goes out at once.
    pub wake_dispatcher: Arc<Notify>,
    /// Failed sign-ins per login: count and the first failure's time.
    failures: Mutex<HashMap<String, (u32, std::time::Instant)>>,
}

impl Console {
    pub fn new(app: Arc<App>, clock: Arc<dyn Clock>, wake_dispatcher: Arc<Notify>) -> Console {
        Console {
            app,
            clock,
            wake_dispatcher,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn tz(&self) -> jiff::tz::TimeZone {
        self.app.config.tenant.time_zone.time_zone()
    }

    /// A `Set-Cookie` value, Secure as `[console] secure_cookies` says.
    fn cookie(&self, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
        set_cookie(name, value, max_age, self.app.config.console.secure_cookies)
    }
}

/// The console's routes, with its state; `herald serve` merges them beside the API.
pub fn router(console: Arc<Console>) -> axum::Router {
    axum::Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(pages::dashboard))
        .route("/console/", get(|| async { Redirect::to("/console") }))
        .route("/console/login", get(login_page).post(sign_in))
        .route("/console/logout", post(sign_out))
        .route("/console/language", post(change_language))
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/invoices", get(pages::invoices))
        .route("/console/invoices/send", post(pages::send_invoices))
        .route("/console/invoices/{id}", get(pages::invoice))
        .route("/console/declarations", get(subjects::declarations))
        .route(
            "/console/declarations/{subject}",
            get(subjects::declaration),
        )
        .route("/console/tasks", get(subjects::tasks))
        .route("/console/tasks/{id}", get(subjects::task))
        .route("/console/history", get(pages::history))
        .route("/console/history.csv", get(pages::history_csv))
        .route("/console/notifications/{id}/resend", post(pages::resend))
        .route("/console/notifications/{id}/cancel", post(pages::cancel))
        .route("/console/holds", post(pages::hold))
        .route("/console/preview", get(preview::preview))
        .route("/console/next-run", get(preview::next_run))
        .route("/console/settings", get(settings::settings))
        .route("/console/settings/pilot", post(settings::save_pilot))
        .route("/console/settings/days-off", post(settings::save_days_off))
        .route(
            "/console/settings/templates/{name}/{locale}",
            get(settings::template).post(settings::save_template),
        )
        .route("/console/settings/test-email", post(settings::test_email))
        .route("/console/settings/test-sms", post(settings::test_sms))
        .route("/console/audit", get(settings::audit))
        .route(
            "/console/users",
            get(people::users).post(people::change_user),
        )
        .route("/console/tokens", post(people::change_token))
        .route("/console/{*rest}", get(pages::not_found))
        .layer(axum::extract::DefaultBodyLimit::max(64 << 10))
        .layer(axum::middleware::from_fn(guard))
        .with_state(console)
}

/// Headers every page gets, and the cross-site check of every POST.
async fn guard(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if req.method() == axum::http::Method::POST && !same_origin(req.headers()) {
        return refusal(
            StatusCode::FORBIDDEN,
            Lang::from_headers(req.headers()),
            "Not allowed",
            "This form has expired or did not come from herald's console. Reload the page and try again.",
        );
    }
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    // A page that shows a message sets its own, a little wider (see `preview`).
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    r
}

/// A POST with no `Origin` (an old browser, curl) passes on its CSRF token alone;
/// one whose `Origin` is not the host it was sent to is another site's form.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

impl Lang {
    /// The language of a request with no session: the `herald_lang` cookie, else
    /// the browser's `Accept-Language`.
    fn from_headers(headers: &HeaderMap) -> Lang {
        if let Some(code) = cookie(headers, LANG_COOKIE) {
            return Lang::parse(&code);
        }
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Lang::En, Lang::from_accept)
    }
}

/// The value of cookie `name`.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn random_hex() -> Result<String, Answer> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        Answer::from(internal(anyhow::anyhow!(
            "no randomness for a session: {e}; check the machine's entropy source"
        )))
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares without stopping at the first difference, so the time taken says
/// nothing about how much of a guessed token was right.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or(HeaderValue::from_static(""))
}

/// A signed-in request: its session (with its user) and the user's language.
pub struct Signed {
    pub session: ConsoleSession,
    pub lang: Lang,
}

impl Signed {
    /// Whether the user's role allows `need`; the refusal page otherwise.
    pub fn require(&self, need: Role) -> Result<(), Answer> {
        if self.session.user.role.allows(need) {
            Ok(())
        } else {
            Err(refusal(
                StatusCode::FORBIDDEN,
                self.lang,
                "Not allowed",
                "Your role cannot do this; ask an administrator.",
            )
            .into())
        }
    }

    /// An admin's form from this session; the refusal page otherwise.
    pub fn admin_form(&self, fields: &Fields) -> Result<(), Answer> {
        self.check_form(fields)
            .and_then(|()| self.require(Role::Admin))
    }

    /// An operator's (or an admin's) form from this session; the refusal page otherwise.
    pub fn operator_form(&self, fields: &Fields) -> Result<(), Answer> {
        self.check_form(fields)
            .and_then(|()| self.require(Role::Operator))
    }

    /// Who the history and the audit log say did it.
    pub fn actor(&self) -> String {
        format!("console:{}", self.session.user.login)
    }

    /// Whether a form carried this session's CSRF token; the refusal page otherwise.
    pub fn check_form(&self, fields: &Fields) -> Result<(), Answer> {
        if same_secret(fields.get("csrf"), &self.session.csrf) {
            Ok(())
        } else {
            Err(refusal(
                StatusCode::FORBIDDEN,
                self.lang,
                "Not allowed",
                "This form has expired or did not come from herald's console. Reload the page and try again.",
            )
            .into())
        }
    }
}

/// A page given instead of the one asked for: a refusal, or a failure. Boxed,
/// because a `Response` is large and these travel in `Result`s.
pub struct Answer(Box<Response>);

impl From<Response> for Answer {
    fn from(r: Response) -> Answer {
        Answer(Box::new(r))
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl FromRequestParts<Arc<Console>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        console: &Arc<Console>,
    ) -> Result<Signed, Response> {
        let to_login = || {
            let next = parts
                .uri
                .path_and_query()
                .map_or("/console", |p| p.as_str());
            Redirect::to(&format!("/console/login?next={}", url_encode(next))).into_response()
        };
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let now = console.clock.now();
        let hash = sha256_hex(&secret);
        let session = console
            .app
            .store
            .console_session(&hash, now)
            .await
            .map_err(|e| internal(e.into()))?;
        let Some(session) = session else {
            return Err(to_login());
        };
        // Keep it alive, writing at most once a minute.
        if now.duration_since(session.last_seen_at) >= SignedDuration::from_mins(1) {
            let idle = SignedDuration::try_from(console.app.config.console.session_idle)
                .unwrap_or(SignedDuration::from_hours(8));
            console
                .app
                .store
                .touch_console_session(&hash, now, now + idle)
                .await
                .map_err(|e| internal(e.into()))?;
        }
        let lang = Lang::parse(&session.user.locale);
        Ok(Signed { session, lang })
    }
}

/// A form's fields. Every console form is read this way, so a missing or extra
/// field is the handler's to judge, never a bare 422 from the extractor.
pub struct Fields(HashMap<String, String>);

impl Fields {
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", |v| v.as_str())
    }

    /// A field's trimmed value, `None` when empty.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name).trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for Fields {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Fields, Response> {
        let lang = Lang::from_headers(req.headers());
        match axum::extract::Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(axum::extract::Form(pairs)) => Ok(Fields(pairs.into_iter().collect())),
            Err(e) => Err(refusal(
                StatusCode::BAD_REQUEST,
                lang,
                "Bad request",
                &e.body_text(),
            )),
        }
    }
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A query string's pairs, decoded (`+` is a space, as forms send it).
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && let Some(h) = s.get(i + 1..i + 3)
                && let Ok(v) = u8::from_str_radix(h, 16)
            {
                out.push(v);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Where a sign-in may send the browser on: a console page, never another site.
fn safe_next(next: &str) -> &str {
    if next.starts_with("/console") && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/console"
    }
}

#[derive(askama::Template)]
#[template(path = "console/message.html")]
struct MessagePage {
    t: Lang,
    title: &'static str,
    message: String,
}

/// A page that says what went wrong and what to do; `message` is translated
/// when the table has it.
pub fn refusal(status: StatusCode, t: Lang, title: &'static str, message: &str) -> Response {
    let message = i18n::PHRASES
        .iter()
        .find(|(en, _)| *en == message)
        .map_or_else(|| message.to_owned(), |(en, _)| t.s(en).to_owned());
    (status, render(&MessagePage { t, title, message })).into_response()
}

/// A form whose fields do not hold: what is wrong and what to do.
pub fn unprocessable(t: Lang, message: &str) -> Response {
    refusal(StatusCode::UNPROCESSABLE_ENTITY, t, "Bad request", message)
}

/// A failure of herald's own, logged in full; the page says it briefly.
pub fn internal(e: anyhow::Error) -> Response {
    tracing::error!(error = %format!("{e:#}"), "console request failed");
    refusal(
        StatusCode::INTERNAL_SERVER_ERROR,
        Lang::En,
        "Something went wrong",
        &format!("{e:#}"),
    )
}

/// A rendered page; a template that fails to render is herald's bug, said so.
pub fn render<T: askama::Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => axum::response::Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("this page did not render ({e}); please report it with herald's version"),
            )
                .into_response()
        }
    }
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/console.css"),
    )
        .into_response()
}

#[derive(askama::Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    t: Lang,
    csrf: String,
    next: String,
    login: String,
    error: Option<&'static str>,
    /// Plain HTTP to another machine with secure cookies: signing in cannot work.
    insecure: bool,
    no_users: bool,
    languages: [Lang; 2],
}

fn over_plain_http_from_afar(console: &Console, headers: &HeaderMap) -> bool {
    if !console.app.config.console.secure_cookies {
        return false;
    }
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let local = name == "localhost" || name.starts_with("127.") || name == "[::1]";
    !https && !local
}

async fn login_form(
    console: &Console,
    headers: &HeaderMap,
    t: Lang,
    next: String,
    login: String,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let csrf = match random_hex() {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let no_users = console
        .app
        .store
        .console_users()
        .await
        .map(|u| u.is_empty())
        .unwrap_or(false);
    let page = LoginPage {
        t,
        csrf: csrf.clone(),
        next,
        login,
        error,
        insecure: over_plain_http_from_afar(console, headers),
        no_users,
        languages: Lang::ALL,
    };
    let mut r = (status, render(&page)).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        console.cookie(LOGIN_COOKIE, &csrf, Some(3600)),
    );
    r
}

async fn login_page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let pairs = query_pairs(query.as_deref());
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let chosen = get("lang").map(|l| Lang::parse(&l));
    let t = chosen.unwrap_or_else(|| Lang::from_headers(&headers));
    let next = safe_next(&get("next").unwrap_or_default()).to_owned();
    let mut r = login_form(
        &console,
        &headers,
        t,
        next,
        String::new(),
        None,
        StatusCode::OK,
    )
    .await;
    if let Some(lang) = chosen {
        r.headers_mut().append(
            header::SET_COOKIE,
            console.cookie(LANG_COOKIE, lang.code(), Some(365 * 86400)),
        );
    }
    r
}

async fn sign_in(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    let t = Lang::from_headers(&headers);
    let next = safe_next(fields.get("next")).to_owned();
    let login = fields.get("login").trim().to_owned();
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(fields.get("csrf"), &expected) {
        return refusal(
            StatusCode::FORBIDDEN,
            t,
            "Not allowed",
            "This form has expired or did not come from herald's console. Reload the page and try again.",
        );
    }
    let locked = console.failures.lock().is_ok_and(|mut f| {
        f.retain(|_, (_, first)| first.elapsed() < LOCKOUT);
        f.get(&login).is_some_and(|(n, _)| *n >= MAX_FAILURES)
    });
    if locked {
        tracing::warn!(%login, "console sign-in refused: too many failures");
        return login_form(
            &console,
            &headers,
            t,
            next,
            login,
            Some("Too many failed sign-ins for this login: wait 15 minutes and try again, or ask an administrator to set a new password (herald user password LOGIN)."),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let user = match console.app.store.console_user(&login).await {
        Ok(u) => u.filter(|u| u.disabled_at.is_none()),
        Err(e) => return internal(e.into()),
    };
    let password = fields.get("password").to_owned();
    // An unknown login is checked against a hash all the same, so the time taken
    // does not tell which logins exist.
    let hash = user.as_ref().map_or_else(
        || crate::users::decoy_hash().to_owned(),
        |u| u.password_hash.clone(),
    );
    let ok = tokio::task::spawn_blocking(move || crate::users::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|_| ok) else {
        if let Ok(mut f) = console.failures.lock() {
            let e = f
                .entry(login.clone())
                .or_insert((0, std::time::Instant::now()));
            e.0 += 1;
        }
        tracing::info!(%login, "console sign-in failed");
        return login_form(
            &console,
            &headers,
            t,
            next,
            login,
            Some("The login or the password is wrong."),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    };
    if let Ok(mut f) = console.failures.lock() {
        f.remove(&login);
    }
    let (secret, csrf) = match (random_hex(), random_hex()) {
        (Ok(s), Ok(c)) => (s, c),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    let now = console.clock.now();
    let idle = SignedDuration::try_from(console.app.config.console.session_idle)
        .unwrap_or(SignedDuration::from_hours(8));
    if let Err(e) = console
        .app
        .store
        .create_console_session(&sha256_hex(&secret), user.id, &csrf, now, now + idle)
        .await
    {
        return internal(e.into());
    }
    tracing::info!(login = %user.login, role = %user.role, "console sign-in");
    let mut r = Redirect::to(&next).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        console.cookie(SESSION_COOKIE, &secret, None),
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        console.cookie(LOGIN_COOKIE, "", Some(0)),
    );
    r
}

async fn sign_out(State(console): State<Arc<Console>>, signed: Signed, fields: Fields) -> Response {
    if let Err(r) = signed.check_form(&fields) {
        return r.into_response();
    }
    if let Err(e) = console
        .app
        .store
        .end_console_session(&signed.session.id_hash)
        .await
    {
        return internal(e.into());
    }
    let mut r = Redirect::to("/console/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        console.cookie(SESSION_COOKIE, "", Some(0)),
    );
    r
}

async fn change_language(
    State(console): State<Arc<Console>>,
    signed: Signed,
    fields: Fields,
) -> Response {
    if let Err(r) = signed.check_form(&fields) {
        return r.into_response();
    }
    let lang = Lang::parse(fields.get("lang"));
    let change = herald_store::UserChange {
        locale: Some(lang.code().to_owned()),
        ..Default::default()
    };
    let login = &signed.session.user.login;
    if let Err(e) = console
        .app
        .store
        .change_console_user(
            login,
            &change,
            &format!("console:{login}"),
            console.clock.now(),
        )
        .await
    {
        return internal(e.into());
    }
    Redirect::to(safe_next(fields.get("next"))).into_response()
}

/// What every signed-in page shows around its content.
pub struct Frame {
    pub t: Lang,
    pub tz: jiff::tz::TimeZone,
    /// Which menu entry is this page's.
    pub nav: &'static str,
    pub user_name: String,
    pub role: Role,
    pub csrf: String,
    /// This page's path and query, for the language switch to come back to.
    pub here: String,
    /// The pilot customers, when pilot mode is on.
    pub pilot: Vec<String>,
    /// A sentence saying what the last action did.
    pub said: Option<&'static str>,
}

impl Frame {
    pub fn new(console: &Console, signed: &Signed, nav: &'static str, here: String) -> Frame {
        let said = query_pairs(here.split_once('?').map(|(_, q)| q))
            .into_iter()
            .find(|(k, _)| k == "said")
            .and_then(|(_, v)| pages::said(&v));
        Frame {
            t: signed.lang,
            tz: console.tz(),
            nav,
            user_name: signed.session.user.name.clone(),
            role: signed.session.user.role,
            csrf: signed.session.csrf.clone(),
            here,
            pilot: console
                .app
                .live()
                .pilot
                .iter()
                .map(ToString::to_string)
                .collect(),
            said,
        }
    }

    pub fn s(&self, english: &'static str) -> &'static str {
        self.t.s(english)
    }

    pub fn when(&self, at: &Timestamp) -> String {
        self.t.when(*at, &self.tz)
    }

    pub fn when_opt(&self, at: &Option<Timestamp>) -> String {
        at.map_or_else(|| "—".to_owned(), |a| self.t.when(a, &self.tz))
    }

    pub fn can_act(&self) -> bool {
        self.role.allows(Role::Operator)
    }

    pub fn is_admin(&self) -> bool {
        self.role.allows(Role::Admin)
    }

    pub fn languages(&self) -> [Lang; 2] {
        Lang::ALL
    }
}
