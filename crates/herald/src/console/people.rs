//! Users and API tokens (admin): who may sign in to the console with which role,
//! and which systems may call the API. Everything here is audit-logged, as the
//! CLI's `herald user` and `herald token` are; a new token's text is shown once
//! and only its hash is kept.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_store::{ConsoleUser, Role, UserChange};

use super::pages::{back_to, here};
use super::{Console, Fields, Frame, Lang, Signed, internal, refusal, render, unprocessable};

struct UserLine {
    login: String,
    name: String,
    role: &'static str,
    locale: String,
    created: String,
    disabled: String,
    is_me: bool,
}

struct TokenLine {
    id: i64,
    name: String,
    scopes: String,
    created: String,
    last_used: String,
    revoked: String,
}

#[derive(askama::Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    f: Frame,
    users: Vec<UserLine>,
    tokens: Vec<TokenLine>,
    roles: [&'static str; 3],
}

pub async fn users(
    State(console): State<Arc<Console>>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Err(r) = signed.require(Role::Admin) {
        return r.into_response();
    }
    let f = Frame::new(&console, &signed, "users", here("/console/users", &raw));
    let store = &console.app.store;
    let (users, tokens) = match (store.console_users().await, store.tokens().await) {
        (Ok(u), Ok(t)) => (u, t),
        (Err(e), _) | (_, Err(e)) => return internal(e.into()),
    };
    let me = &signed.session.user.login;
    let page = UsersPage {
        users: users
            .iter()
            .map(|u| UserLine {
                login: u.login.clone(),
                name: u.name.clone(),
                role: u.role.as_str(),
                locale: u.locale.clone(),
                created: f.when(&u.created_at),
                disabled: u.disabled_at.map(|d| f.when(&d)).unwrap_or_default(),
                is_me: &u.login == me,
            })
            .collect(),
        tokens: tokens
            .iter()
            .map(|t| TokenLine {
                id: t.id,
                name: t.name.clone(),
                scopes: t.scopes.join(", "),
                created: f.when(&t.created_at),
                last_used: f.when_opt(&t.last_used_at),
                revoked: t.revoked_at.map(|r| f.when(&r)).unwrap_or_default(),
            })
            .collect(),
        roles: ["viewer", "operator", "admin"],
        f,
    };
    render(&page)
}

/// The form's `password`, checked as `herald user` checks it, and hashed off
/// the async threads (argon2 takes a while on purpose).
async fn new_password_hash(t: Lang, fields: &Fields, login: &str) -> Result<String, super::Answer> {
    let password = fields.get("password").to_owned();
    if let Err(e) = crate::users::check_new_password(&password, login) {
        return Err(unprocessable(t, &format!("{}: {e}", t.s("Password"))).into());
    }
    match tokio::task::spawn_blocking(move || crate::users::hash_password(&password)).await {
        Ok(Ok(h)) => Ok(h),
        Ok(Err(e)) => Err(internal(e).into()),
        Err(e) => Err(internal(anyhow::anyhow!("hashing the password: {e}")).into()),
    }
}

/// Creates a user, or changes one: role, password, disabled.
pub async fn change_user(
    State(console): State<Arc<Console>>,
    signed: Signed,
    fields: Fields,
) -> Response {
    if let Err(r) = signed.admin_form(&fields) {
        return r.into_response();
    }
    let t = signed.lang;
    let store = &console.app.store;
    let now = console.clock.now();
    let login = fields.get("login").trim().to_owned();
    let action = fields.get("action");
    if action == "create" {
        if let Err(e) = crate::users::check_login(&login) {
            return unprocessable(t, &format!("{}: {e}", t.s("Login")));
        }
        let role = match Role::parse(fields.get("role")) {
            Ok(r) => r,
            Err(e) => return unprocessable(t, &format!("{}: {e}", t.s("Role"))),
        };
        match store.console_user(&login).await {
            Ok(Some(_)) => {
                return unprocessable(
                    t,
                    &format!("{}: '{login}' {}", t.s("Login"), t.s("is taken already")),
                );
            }
            Ok(None) => {}
            Err(e) => return internal(e.into()),
        }
        let hash = match new_password_hash(t, &fields, &login).await {
            Ok(h) => h,
            Err(r) => return r.into_response(),
        };
        let user = ConsoleUser {
            id: 0,
            login: login.clone(),
            name: fields.opt("name").unwrap_or_else(|| login.clone()),
            role,
            password_hash: hash,
            locale: Lang::parse(fields.get("locale")).code().to_owned(),
            created_at: now,
            disabled_at: None,
        };
        if let Err(e) = store.create_console_user(&user, &signed.actor()).await {
            return internal(e.into());
        }
        return back_to(&fields, "saved");
    }
    // Not one's own role or access: an admin who locks themselves out needs
    // another admin, or the command line, to get back in.
    if login == signed.session.user.login && matches!(action, "role" | "disable") {
        return unprocessable(t, t.s("You cannot change your own role or disable yourself; ask another admin, or use herald user on the server."));
    }
    let change = match action {
        "role" => match Role::parse(fields.get("role")) {
            Ok(r) => UserChange {
                role: Some(r),
                ..Default::default()
            },
            Err(e) => return unprocessable(t, &format!("{}: {e}", t.s("Role"))),
        },
        "disable" => UserChange {
            disabled: Some(true),
            ..Default::default()
        },
        "enable" => UserChange {
            disabled: Some(false),
            ..Default::default()
        },
        "password" => match new_password_hash(t, &fields, &login).await {
            Ok(h) => UserChange {
                password_hash: Some(h),
                ..Default::default()
            },
            Err(r) => return r.into_response(),
        },
        other => return unprocessable(t, &format!("action: '{other}' is not known here")),
    };
    match store
        .change_console_user(&login, &change, &signed.actor(), now)
        .await
    {
        Ok(true) => back_to(&fields, "saved"),
        Ok(false) => refusal(
            StatusCode::NOT_FOUND,
            t,
            "Not found",
            &format!("there is no console user '{login}'"),
        ),
        Err(e) => internal(e.into()),
    }
}

#[derive(askama::Template)]
#[template(path = "console/token.html")]
struct NewTokenPage {
    f: Frame,
    id: i64,
    name: String,
    scopes: String,
    text: String,
}

/// Creates an API token and shows its text, once; or revokes one.
pub async fn change_token(
    State(console): State<Arc<Console>>,
    signed: Signed,
    fields: Fields,
) -> Response {
    if let Err(r) = signed.admin_form(&fields) {
        return r.into_response();
    }
    let t = signed.lang;
    let store = &console.app.store;
    let now = console.clock.now();
    if fields.get("action") == "revoke" {
        let Ok(id) = fields.get("id").parse::<i64>() else {
            return unprocessable(t, &format!("id: '{}' is not a token id", fields.get("id")));
        };
        return match store.revoke_token(id, now).await {
            Ok(true) => {
                if let Err(e) = store
                    .audit(
                        now,
                        &signed.actor(),
                        "token.revoke",
                        &format!("token {id}"),
                        "",
                    )
                    .await
                {
                    return internal(e.into());
                }
                back_to(&fields, "saved")
            }
            Ok(false) => unprocessable(t, &format!("there is no active token {id}")),
            Err(e) => internal(e.into()),
        };
    }
    let Some(name) = fields.opt("name") else {
        return unprocessable(
            t,
            &format!(
                "{}: {}",
                t.s("Name"),
                t.s("say which system will use it, e.g. ERP")
            ),
        );
    };
    let mut scopes: Vec<String> = Vec::new();
    for s in ["ingest", "read", "admin"] {
        if fields.get(&format!("scope_{s}")) == "on" {
            scopes.push(s.to_owned());
        }
    }
    if scopes.is_empty() {
        return unprocessable(t, t.s("Choose at least one scope."));
    }
    let new = match crate::auth::new_secret() {
        Ok(n) => n,
        Err(e) => return internal(e),
    };
    let id = match store.create_token(&name, &scopes, &new.hash, now).await {
        Ok(id) => id,
        Err(e) => return internal(e.into()),
    };
    if let Err(e) = store
        .audit(
            now,
            &signed.actor(),
            "token.create",
            &format!("token {id}"),
            &format!("{name}: {}", scopes.join(",")),
        )
        .await
    {
        return internal(e.into());
    }
    tracing::info!(token = id, %name, actor = %signed.actor(), "API token created in the console");
    let f = Frame::new(&console, &signed, "users", "/console/users".to_owned());
    render(&NewTokenPage {
        f,
        id,
        name,
        scopes: scopes.join(", "),
        text: crate::auth::token_text(id, &new.text_without_id),
    })
}
