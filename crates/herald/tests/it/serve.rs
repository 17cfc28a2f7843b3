//! `herald serve` (issue 5, point 1) as an operator runs it: a process that plans
//! and sends on its own, answers /healthz and /readyz, shows in `herald status`,
//! and stops cleanly on SIGTERM.

use std::time::Duration;

use crate::support::*;

#[test]
fn the_service_plans_and_sends_on_its_own_answers_health_and_stops_on_sigterm() {
    let ws = Workspace::new();
    ws.set_config("send_every = \"10s\"", "send_every = \"1s\"");
    ws.import_basics();
    let before = status_json(&ws);
    assert_eq!(before["service"]["running"], false, "{before}");

    let served = Served::start(&ws);
    let (code, body) = served.get("/healthz");
    assert_eq!((code, body.trim()), (200, "ok"));
    // The planner runs at start, the dispatcher every second.
    eventually("a planner run and two dispatcher runs", || {
        let st = status_json(&ws);
        let jobs = st["service"]["jobs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let runs = |name: &str| {
            jobs.iter()
                .find(|j| j["job"] == name)
                .and_then(|j| j["runs"].as_i64())
                .unwrap_or(0)
        };
        runs("planner") >= 1 && runs("dispatcher") >= 2
    });
    let st = status_json(&ws);
    assert_eq!(st["service"]["running"], true, "{st}");
    assert!(st["service"]["queue_due"].is_i64(), "{st}");
    assert!(st["last_run"].is_object(), "the service planned: {st}");
    let (code, body) = served.get("/readyz");
    assert_eq!(code, 200, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["ready"], true);
    let text = ws.ok(&["status"]);
    assert!(text.contains("service: running since"), "{text}");

    let (status, took, out) = served.stop();
    assert!(status.success(), "exit {status:?}\n{out}");
    assert!(took < Duration::from_secs(10), "the stop took {took:?}");
    assert!(out.contains("herald serve: stopped"), "{out}");
    let after = ws.ok(&["status"]);
    assert!(after.contains("service: stopped at"), "{after}");
    // A second service on a busy port is refused with what to do.
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = blocker.local_addr().unwrap().to_string();
    let out = ws.herald(&["serve", "--listen", &port]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(
            "is another herald running? Stop it, or set another address in [service] listen"
        ),
        "{}",
        stderr(&out)
    );
}

/// Issue 5, point 3: without a valid token 401, with the wrong scope 403; a
/// revoked token stops at once; the stored hash never shows.
#[test]
fn the_api_wants_a_token_with_the_right_scope_and_a_revoked_one_stops_working() {
    let ws = Workspace::new();
    let create = |name: &str, scope: &str| {
        let out = ws.herald(&["token", "create", "--name", name, "--scope", scope]);
        assert_ok(&out, "token create");
        assert!(stderr(&out).contains("shown this once"), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let reader = create("dashboard", "read");
    let erp = create("erp", "ingest");
    assert!(reader.starts_with("hrd_") && reader.len() > 64, "{reader}");
    let bad = ws.herald(&["token", "create", "--name", "x", "--scope", "write"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("'write' is not a scope: use ingest, read or admin"));

    let served = Served::start(&ws);
    let (code, head, body) = served.get_with("/api/v1/status", None);
    assert_eq!(code, 401, "{body}");
    assert!(
        head.to_lowercase().contains("www-authenticate: bearer"),
        "{head}"
    );
    assert!(body.contains("herald token create"), "{body}");
    // The same id with one hex digit of the secret changed.
    let last = if reader.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &reader[..reader.len() - 1]);
    assert_eq!(served.get_with("/api/v1/status", Some(&wrong)).0, 401);
    assert_eq!(served.get_with("/api/v1/status", Some("hrd_999_00")).0, 401);
    let (code, _, body) = served.get_with("/api/v1/status", Some(&erp));
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("needs 'read'"), "{body}");
    eventually("the service's first dispatcher run", || {
        status_json(&ws)["service"]["running"] == true
    });
    for _ in 0..2 {
        let (code, _, body) = served.get_with("/api/v1/status", Some(&reader));
        assert_eq!(code, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["service"]["running"], true, "{body}");
        assert!(!body.contains("argon2"), "{body}");
    }
    assert_eq!(served.get_with("/api/v2/nothing", Some(&reader)).0, 404);
    // /metrics, for Prometheus with the read token.
    assert_eq!(served.get_with("/metrics", None).0, 401);
    let (code, head, text) = served.get_with("/metrics", Some(&reader));
    assert_eq!(code, 200, "{text}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    assert!(text.contains("\nherald_queue_due "), "{text}");
    assert!(
        text.contains("herald_job_last_success_timestamp_seconds{job=\"planner\",node=\"herald-"),
        "{text}"
    );
    assert!(text.contains("herald_plan_seconds_bucket"), "{text}");

    let id = reader.split('_').nth(1).unwrap().to_owned();
    ws.ok(&["token", "revoke", &id]);
    assert_eq!(served.get_with("/api/v1/status", Some(&reader)).0, 401);
    let list = ws.ok(&["token", "list"]);
    assert!(list.contains("REVOKED") && list.contains("erp"), "{list}");
    assert!(
        !list.contains(&reader[20..]),
        "a token list never shows a secret"
    );
    let (status, _, _) = served.stop();
    assert!(status.success());
}

/// The rule of every e-mail in the outbox (its X-Herald-Rule header).
fn rules_sent(ws: &Workspace) -> Vec<String> {
    ws.emails()
        .iter()
        .filter_map(|p| {
            let raw = std::fs::read_to_string(p).ok()?;
            raw.lines()
                .find_map(|l| l.strip_prefix("X-Herald-Rule: "))
                .map(|r| r.trim().to_owned())
        })
        .collect()
}

/// Issue 5, point 5: a service stopped for days catches up when it starts again:
/// what fell due meanwhile goes out (within each rule's max_delay), nothing that
/// went out before goes again.
#[test]
fn the_service_catches_up_after_being_stopped_for_eleven_days() {
    let ws = Workspace::new();
    ws.import_basics();
    // Monday 2 November, 10:00 in Warsaw: the invoices' new-invoice notices (08:00).
    let first = Served::start_with(&ws, &["--now", "2026-11-02T09:00:00Z"]);
    let count = |rule: &str| rules_sent(&ws).iter().filter(|r| *r == rule).count();
    eventually("the new-invoice notices", || count("new-invoice") == 4);
    let (status, _, _) = first.stop();
    assert!(status.success());
    assert_eq!(count("due-soon"), 0);

    // Stopped until Friday 13 November, 12:00: due-soon (three days before the
    // 16th, at 08:00) fell due four hours ago.
    let second = Served::start_with(&ws, &["--now", "2026-11-13T11:00:00Z"]);
    eventually("the due-soon notices", || count("due-soon") == 4);
    let (status, _, log) = second.stop();
    assert!(status.success());
    // Each run and each delivery is in the service's log by id.
    assert!(log.contains("planner run") && log.contains("run="), "{log}");
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("delivery=")
                && l.contains("rule=due-soon")
                && l.contains("sent"))
            .count(),
        4,
        "{log}"
    );
    assert_eq!(count("new-invoice"), 4, "nothing went out twice");
    let h = ws.ok(&["history", "--invoice", "I1"]);
    assert!(h.contains("due-soon I1") && h.contains("sent"), "{h}");
}

/// Issue 5, point 2: records arrive through the API with the import's validation:
/// all or nothing, every problem with a JSON pointer; the same request with the
/// same Idempotency-Key answers the same; ingest needs the ingest scope.
#[test]
fn records_posted_to_the_api_are_validated_like_an_import_and_written_once() {
    let ws = Workspace::new();
    let token = |scope: &str| {
        let out = ws.herald(&["token", "create", "--name", scope, "--scope", scope]);
        assert_ok(&out, "token create");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let (erp, reader) = (token("ingest"), token("read"));
    let served = Served::start(&ws);
    let customers = r#"[
      {"id": "C1", "name": "Kowalski i Wspólnicy sp. z o.o.", "locale": "pl", "time_zone": "Europe/Warsaw"},
      {"id": "C2", "name": "Novák s.r.o.", "locale": "cs"}
    ]"#;
    assert_eq!(
        served
            .post("/api/v1/customers", Some(&reader), &[], customers)
            .0,
        403
    );
    assert_eq!(
        served.post("/api/v1/customers", None, &[], customers).0,
        401
    );
    let (code, _, body) = served.post("/api/v1/customers", Some(&erp), &[], customers);
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["received"].as_u64(), v["inserted"].as_u64()),
        (Some(2), Some(2)),
        "{body}"
    );

    // One bad record refuses the whole request, every problem named by pointer.
    let invoices = r#"[
      {"id": "I1", "number": "FV/1", "customer_id": "C1", "issue_date": "2026-11-02", "due_date": "2026-11-16", "currency": "PLN", "amount": "100.00"},
      {"id": "I2", "number": "FV/2", "customer_id": "C9", "issue_date": "2026-11-02", "due_date": "2026-11-16", "currency": "PLN", "amount": "100.00"},
      {"id": "I3", "number": "FV/3", "customer_id": "C1", "issue_date": "2026-11-02", "due_date": "2026-11-16", "currency": "PLN", "amount": "ten"}
    ]"#;
    let (code, _, body) = served.post("/api/v1/invoices", Some(&erp), &[], invoices);
    assert_eq!(code, 422, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let pointers: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, vec!["/1/customer_id", "/2/amount"], "{body}");
    assert!(
        v["error"].as_str().unwrap().contains("nothing was written"),
        "{body}"
    );
    let counts = status_json(&ws);
    assert!(
        counts["by_state"].as_object().unwrap().is_empty(),
        "{counts}"
    );
    let listed = ws.herald(&["history", "--invoice", "I1"]);
    assert!(
        stderr(&listed).contains("there is no invoice 'I1'"),
        "nothing of the refused request was written: {}",
        all_output(&listed)
    );

    // Unknown fields, wrong types, bad JSON, a wrong kind.
    let (code, _, body) = served.post(
        "/api/v1/customers",
        Some(&erp),
        &[],
        r#"{"id": "C3", "name": "X", "colour": "red"}"#,
    );
    assert_eq!(code, 422, "{body}");
    assert!(
        body.contains("/0/colour") && body.contains("unknown field"),
        "{body}"
    );
    let (code, _, body) = served.post("/api/v1/customers", Some(&erp), &[], "{\"id\": ");
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("not JSON"), "{body}");
    let (code, _, body) = served.post("/api/v1/customers", Some(&erp), &[], "[1, 2]");
    assert_eq!(code, 422, "{body}");
    assert!(
        body.contains("/0: every record must be a JSON object"),
        "{body}"
    );
    assert_eq!(served.post("/api/v1/bananas", Some(&erp), &[], "[]").0, 404);
    let many = format!("[{}]", vec!["{}"; 10_001].join(","));
    assert_eq!(
        served.post("/api/v1/customers", Some(&erp), &[], &many).0,
        413
    );

    // The same request and key again: the first answer, replayed, nothing written
    // twice; the key with another request is refused.
    let good = r#"[{"id": "I1", "number": "FV/1", "customer_id": "C1", "issue_date": "2026-11-02", "due_date": "2026-11-16", "currency": "PLN", "amount": "100.00"}]"#;
    let key = [("Idempotency-Key", "erp-batch-1")];
    let (code, _, first) = served.post("/api/v1/invoices", Some(&erp), &key, good);
    assert_eq!(code, 200, "{first}");
    let (code, head, again) = served.post("/api/v1/invoices", Some(&erp), &key, good);
    assert_eq!(code, 200);
    assert_eq!(again, first);
    assert!(
        head.to_lowercase().contains("idempotent-replayed: true"),
        "{head}"
    );
    let other = good.replace("100.00", "200.00");
    let (code, _, body) = served.post("/api/v1/invoices", Some(&erp), &key, &other);
    assert_eq!(code, 422, "{body}");
    assert!(body.contains("was used for another request"), "{body}");
    // Without a key, a re-sent record is an upsert: unchanged.
    let (_, _, body) = served.post("/api/v1/invoices", Some(&erp), &[], good);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["unchanged"].as_u64(), Some(1), "{body}");
    let (status, _, _) = served.stop();
    assert!(status.success());
}

/// Issue 5, point 2: notifications read through the API, filtered and paged by
/// cursor, with their deliveries; bad parameters are refused with the reason.
#[test]
fn notifications_are_read_through_the_api_a_page_at_a_time() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.ok(&["run", "--now", "2026-11-02"]);
    let out = ws.herald(&["token", "create", "--name", "crm", "--scope", "read"]);
    let reader = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    // As of the end of that day: the service plans nothing more.
    let served = Served::start_with(&ws, &["--now", "2026-11-02T22:59:59Z"]);
    let page = |query: &str| -> serde_json::Value {
        let (code, _, body) =
            served.get_with(&format!("/api/v1/notifications{query}"), Some(&reader));
        assert_eq!(code, 200, "{query}: {body}");
        serde_json::from_str(&body).unwrap()
    };
    let first = page("?limit=3");
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{first}");
    let next = first["next"].as_str().expect("a next cursor").to_owned();
    let second = page(&format!("?limit=3&after={next}"));
    let rest = second["items"].as_array().unwrap();
    assert_eq!(rest.len(), 1, "four new-invoice notices in all: {second}");
    assert!(second["next"].is_null());
    let mut ids: Vec<i64> = items
        .iter()
        .chain(rest)
        .map(|e| e["notification"]["id"].as_i64().unwrap())
        .collect();
    let in_order = ids.clone();
    ids.sort();
    ids.dedup();
    assert_eq!(ids, in_order, "pages in id order, no repeats");

    let c1 = page("?customer=C1&state=sent&rule=new-invoice");
    let c1 = c1["items"].as_array().unwrap();
    assert_eq!(c1.len(), 1);
    assert_eq!(c1[0]["notification"]["customer_id"], "C1");
    assert_eq!(c1[0]["deliveries"][0]["state"], "sent");
    assert!(c1[0]["deliveries"][0]["attempt_log"][0]["detail"].is_string());
    assert_eq!(page("?state=failed")["items"].as_array().unwrap().len(), 0);
    assert_eq!(
        page("?from=2026-11-03T00:00:00Z")["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    for (query, says) in [
        ("?limit=0", "give 1 to 1000"),
        ("?colour=red", "unknown parameter 'colour'"),
        ("?from=yesterday", "is not an RFC 3339 instant"),
        ("?state=lost", "state:"),
        ("?after=abc", "is not a cursor"),
    ] {
        let (code, _, body) =
            served.get_with(&format!("/api/v1/notifications{query}"), Some(&reader));
        assert_eq!(code, 400, "{query}: {body}");
        assert!(body.contains(says), "{query}: {body}");
    }
    assert_eq!(served.get_with("/api/v1/notifications", None).0, 401);
    let (status, _, _) = served.stop();
    assert!(status.success());
}

/// Issue 5, point 2 (act): a dry run of the planner "as of" another moment, in
/// the background with a job to poll, changes nothing; a resend to another
/// address goes out at once and is audit-logged with the token's name.
#[test]
fn the_api_runs_a_dry_plan_in_the_background_and_resends_a_notice() {
    let ws = Workspace::new();
    ws.import_basics();
    let token = |scope: &str| {
        let out = ws.herald(&[
            "token",
            "create",
            "--name",
            &format!("{scope}-token"),
            "--scope",
            scope,
        ]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let (admin, reader) = (token("admin"), token("read"));
    let served = Served::start_with(&ws, &["--now", "2026-11-02T22:59:59Z"]);
    let count = |rule: &str| rules_sent(&ws).iter().filter(|r| *r == rule).count();
    eventually("the day's new-invoice notices", || {
        count("new-invoice") == 4
    });
    let notices_before = status_json(&ws)["notifications"].clone();

    let (code, _, body) = served.post(
        "/api/v1/plan",
        Some(&admin),
        &[],
        r#"{"dry_run": true, "now": "2026-11-13T12:00:00Z"}"#,
    );
    assert_eq!(code, 202, "{body}");
    let job: serde_json::Value = serde_json::from_str(&body).unwrap();
    let poll = job["poll"].as_str().unwrap().to_owned();
    let mut done = serde_json::Value::Null;
    eventually("the dry run to finish", || {
        let (code, _, body) = served.get_with(&poll, Some(&reader));
        assert_eq!(code, 200, "{body}");
        done = serde_json::from_str(&body).unwrap();
        done["state"] != "running"
    });
    assert_eq!(done["state"], "done", "{done}");
    let would: Vec<&str> = done["result"]["would_plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        would.iter().filter(|r| **r == "due-soon").count(),
        4,
        "{done}"
    );
    assert_eq!(
        status_json(&ws)["notifications"],
        notices_before,
        "a dry run writes nothing"
    );
    assert_eq!(served.post("/api/v1/plan", Some(&reader), &[], "").0, 403);
    assert_eq!(
        served
            .post("/api/v1/plan", Some(&admin), &[], r#"{"dryrun": true}"#)
            .0,
        422
    );
    assert_eq!(served.get_with("/api/v1/jobs/999999", Some(&reader)).0, 404);

    // Resend the first notice to the office's address.
    let (_, _, body) = served.get_with("/api/v1/notifications?limit=1", Some(&reader));
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = list["items"][0]["notification"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/notifications/{id}/resend");
    let (code, _, body) = served.post(
        &path,
        Some(&admin),
        &[],
        r#"{"to": "archiwum@biuro.example"}"#,
    );
    assert_eq!(code, 202, "{body}");
    eventually("the resent e-mail", || {
        ws.emails().iter().any(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("archiwum_at_biuro.example"))
        })
    });
    let (code, _, body) = served.post(&path, Some(&admin), &[], r#"{"to": "not an address"}"#);
    assert_eq!(code, 422, "{body}");
    assert!(body.contains("/to"), "{body}");
    assert_eq!(
        served
            .post("/api/v1/notifications/999999/resend", Some(&admin), &[], "")
            .0,
        404
    );
    assert_eq!(served.post(&path, Some(&reader), &[], "").0, 403);
    let (status, _, _) = served.stop();
    assert!(status.success());
    // The new delivery names who asked for it.
    let history = ws.ok(&["history", "--json", "--limit", "0"]);
    assert!(
        history.contains("\"actor\": \"api:admin-token\""),
        "{history}"
    );
}

/// Issue 5, point 3: a token that sends faster than `[service] rate_limit` is
/// told to wait (429, Retry-After), and served again once it does.
#[test]
fn a_token_over_its_rate_limit_is_told_to_wait() {
    let ws = Workspace::new();
    ws.set_config("rate_limit = 100 ", "rate_limit = 5 ");
    let out = ws.herald(&["token", "create", "--name", "busy", "--scope", "read"]);
    let reader = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let served = Served::start(&ws);
    let answers: Vec<(u16, String, String)> = (0..30)
        .map(|_| served.get_with("/api/v1/status", Some(&reader)))
        .collect();
    let ok = answers.iter().filter(|a| a.0 == 200).count();
    assert!(ok >= 10, "a burst of twice the rate is allowed: {ok} of 30");
    let (_, head, body) = answers
        .iter()
        .find(|a| a.0 == 429)
        .expect("30 requests at once exceed 5 a second with bursts of 10");
    assert!(head.to_lowercase().contains("retry-after: 1"), "{head}");
    assert!(body.contains("rate_limit"), "{body}");
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(served.get_with("/api/v1/status", Some(&reader)).0, 200);
    // /healthz is not an API call: never limited.
    assert!((0..20).all(|_| served.get("/healthz").0 == 200));
    let (status, _, _) = served.stop();
    assert!(status.success());
}

/// Issue 5, point 2: the OpenAPI document is generated from the handlers, every
/// route is in it and every route in it answers; Swagger UI serves it.
#[test]
fn the_openapi_document_lists_every_route_and_every_listed_route_answers() {
    let ws = Workspace::new();
    let out = ws.herald(&["token", "create", "--name", "docs", "--scope", "admin"]);
    let admin = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let served = Served::start(&ws);
    let (code, _, body) = served.get_with("/api/v1/openapi.json", None);
    assert_eq!(code, 200, "{body}");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    // The routes herald serves; a new one must be added here and documented.
    let mut served_routes: Vec<(String, String)> = [
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/api/v1/status"),
        ("GET", "/api/v1/notifications"),
        ("POST", "/api/v1/notifications/{id}/resend"),
        ("POST", "/api/v1/plan"),
        ("GET", "/api/v1/jobs/{id}"),
        ("POST", "/api/v1/{kind}"),
        ("GET", "/api/v1/holds"),
        ("POST", "/api/v1/{on}/{id}/pause"),
        ("POST", "/api/v1/{on}/{id}/resume"),
        ("POST", "/api/v1/notifications/{id}/cancel"),
        ("GET", "/api/v1/preview"),
        ("GET", "/api/v1/customers/{id}/history"),
        ("GET", "/api/v1/invoices/{id}/statuses"),
        ("GET", "/api/v1/subjects/{subject}/statuses"),
    ]
    .iter()
    .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
    .collect();
    served_routes.sort();
    assert_eq!(documented, served_routes);
    for (method, path) in &documented {
        let concrete = path
            .replace("{id}", "1")
            .replace("{kind}", "customers")
            .replace("{subject}", "S1")
            .replace("{on}", "customers");
        let (code, _, body) = if method == "GET" {
            served.get_with(&concrete, Some(&admin))
        } else {
            served.post(&concrete, Some(&admin), &[], "[]")
        };
        assert!(
            code != 405 && !body.contains("no such endpoint; the API is under"),
            "{method} {concrete}: {code} {body}"
        );
    }
    let (code, _, page) = served.get_with("/api/docs/", None);
    assert_eq!(code, 200, "{page}");
    assert!(page.to_lowercase().contains("swagger"), "{page}");
    let (status, _, _) = served.stop();
    assert!(status.success());
}

/// Seed 003 / issue 5 (act): a dispute or a promise to pay holds notices: they are
/// cancelled at send time with the reason, through the CLI or the API, until
/// resumed; a hold on one invoice leaves the customer's other notices alone.
#[test]
fn a_hold_on_an_invoice_or_a_customer_cancels_their_notices_until_resumed() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.ok(&["pause", "--invoice", "I1", "--reason", "spór o kwotę"]);
    let bad = ws.herald(&["pause", "--customer", "C9", "--reason", "x"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("there is no customer 'C9'"),
        "{}",
        stderr(&bad)
    );
    assert!(
        ws.ok(&["holds"])
            .contains("invoice I1: spór o kwotę (by cli")
    );
    ws.ok(&["run", "--now", "2026-11-02"]);
    let h = ws.ok(&["history", "--invoice", "I1"]);
    assert!(
        h.contains("paused: invoice I1 is on hold (spór o kwotę), set by cli"),
        "{h}"
    );
    assert_eq!(
        rules_sent(&ws).len(),
        3,
        "the other three customers' new-invoice notices"
    );
    ws.ok(&["resume", "--invoice", "I1"]);
    let again = ws.herald(&["resume", "--invoice", "I1"]);
    assert_eq!(again.status.code(), Some(2));

    // Through the API: a customer on hold until a date.
    let out = ws.herald(&["token", "create", "--name", "crm", "--scope", "admin"]);
    let admin = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let served = Served::start_with(&ws, &["--now", "2026-11-02T22:59:59Z"]);
    let (code, _, body) = served.post(
        "/api/v1/customers/C2/pause",
        Some(&admin),
        &[],
        r#"{"reason": "promise to pay", "until": "2026-11-20T00:00:00Z"}"#,
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("api:crm"), "{body}");
    let (_, _, holds) = served.get_with("/api/v1/holds", Some(&admin));
    assert!(
        holds.contains("promise to pay") && holds.contains("\"on\":\"customer\""),
        "{holds}"
    );
    assert_eq!(
        served
            .post(
                "/api/v1/customers/C9/pause",
                Some(&admin),
                &[],
                r#"{"reason": "x"}"#
            )
            .0,
        404
    );
    assert_eq!(
        served
            .post(
                "/api/v1/customers/C2/pause",
                Some(&admin),
                &[],
                r#"{"reason": " "}"#
            )
            .0,
        422
    );
    assert_eq!(
        served
            .post("/api/v1/tasks/T1/pause", Some(&admin), &[], "{}")
            .0,
        404
    );
    let (code, _, body) = served.post("/api/v1/customers/C2/resume", Some(&admin), &[], "");
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        served
            .post("/api/v1/customers/C2/resume", Some(&admin), &[], "")
            .0,
        404
    );
    let (status, _, _) = served.stop();
    assert!(status.success());
}

/// A notification cancelled before it went out, from the CLI or the API, stays
/// cancelled with the reason; one with nothing left to send is refused.
#[test]
fn a_waiting_notification_is_cancelled_with_its_reason() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.ok(&["plan", "--now", "2026-11-02"]);
    let h: serde_json::Value =
        serde_json::from_str(&ws.ok(&["history", "--json", "--limit", "0"])).unwrap();
    let ids: Vec<i64> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["notification"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 4);
    ws.ok(&[
        "cancel",
        &ids[0].to_string(),
        "--reason",
        "wystawiona omyłkowo",
    ]);
    let again = ws.herald(&["cancel", &ids[0].to_string(), "--reason", "x"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("nothing waiting to be sent"),
        "{}",
        stderr(&again)
    );

    let out = ws.herald(&["token", "create", "--name", "erp", "--scope", "admin"]);
    let admin = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    // As of the end of that day, the service sends what was not cancelled.
    let served = Served::start_with(&ws, &["--now", "2026-11-02T22:59:59Z"]);
    let path = format!("/api/v1/notifications/{}/cancel", ids[1]);
    let (code, _, body) = served.post(&path, Some(&admin), &[], r#"{"reason": "duplicate"}"#);
    // The dispatcher may have sent it already: then there is nothing to cancel.
    assert!(code == 200 || code == 409, "{code} {body}");
    let cancelled_by_api = code == 200;
    assert_eq!(served.post(&path, Some(&admin), &[], "{}").0, 422);
    assert_eq!(
        served
            .post(
                "/api/v1/notifications/999999/cancel",
                Some(&admin),
                &[],
                r#"{"reason": "x"}"#
            )
            .0,
        404
    );
    let expected = if cancelled_by_api { 2 } else { 3 };
    eventually("the rest sent", || rules_sent(&ws).len() == expected);
    let (status, _, _) = served.stop();
    assert!(status.success());
    let h = ws.ok(&["history", "--customer", "C1"]);
    assert!(h.contains("cancelled by cli: wystawiona omyłkowo"), "{h}");
}

/// Issue 5, point 2 (read and act): one invoice's statuses per rule, a customs
/// declaration's IE529/IE509/IE599 columns (seed 000), a customer's history with
/// its holds, a rule previewed exactly as it was sent, and a dry run of one rule.
#[test]
fn a_document_s_statuses_a_preview_and_a_customer_s_history_through_the_api() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.write(
        "customs.csv",
        "customer_id,role,name,email,phone,email_opt_in,sms_opt_in\n\
         C1,customs,Dział celny,clo@kowalski.example.pl,,true,false\n",
    );
    ws.ok(&["import", "contacts", "customs.csv"]);
    ws.write(
        "events.json",
        r#"[{"id": "ev-1", "type": "customs.IE529", "customer_id": "C1", "subject": "26PL44302000012345",
             "occurred_at": "2026-11-02T09:42:00+01:00"}]"#,
    );
    ws.ok(&["import", "events", "events.json"]);
    ws.ok(&["run", "--now", "2026-11-02"]);
    let (reader, admin) = (token(&ws, "read", "read"), token(&ws, "admin", "admin"));
    let served = Served::start_with(&ws, &["--now", "2026-11-02T22:59:59Z"]);
    let get = |path: &str| -> (u16, serde_json::Value) {
        let (code, _, body) = served.get_with(path, Some(&reader));
        let json = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{path}: {code} answered no JSON ({e}): {body}"));
        (code, json)
    };

    // One invoice, every rule: sent, not yet planned, not applicable.
    let (code, st) = get("/api/v1/invoices/I1/statuses");
    assert_eq!(code, 200, "{st}");
    assert_eq!(st["customer"], "C1");
    assert_eq!(st["balance"], "1234.50", "{st}");
    let rule = |id: &str| {
        st["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == id)
            .unwrap_or_else(|| panic!("no status for rule {id}: {st}"))
            .clone()
    };
    assert_eq!(rule("new-invoice")["status"], "sent", "{st}");
    assert_eq!(
        rule("new-invoice")["notifications"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(rule("due-soon")["status"], "not_applicable");
    assert!(
        rule("due-soon")["why"]
            .as_str()
            .is_some_and(|w| w.starts_with("not yet planned: due on 2026-11-13")),
        "{st}"
    );
    assert_eq!(rule("dunning")["status"], "not_applicable");
    let (code, body) = get("/api/v1/invoices/NOPE/statuses");
    assert_eq!(code, 404, "{body}");
    assert!(body["error"].as_str().unwrap().contains("import it first"));

    // Seed 000's columns for a declaration.
    let (code, sub) = get("/api/v1/subjects/26PL44302000012345/statuses");
    assert_eq!(code, 200, "{sub}");
    let columns: Vec<(String, String)> = sub["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["label"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        columns,
        [
            ("IE529".to_owned(), "sent".to_owned()),
            ("IE509".to_owned(), "not_applicable".to_owned()),
            ("IE599".to_owned(), "not_applicable".to_owned())
        ]
    );
    assert_eq!(get("/api/v1/subjects/26PL000/statuses").0, 404);

    // A customer's history, and its hold once paused.
    let (code, h) = get("/api/v1/customers/C1/history");
    assert_eq!(code, 200, "{h}");
    assert_eq!(h["customer"]["name"], "Kowalski i Wspólnicy sp. z o.o.");
    let rules: Vec<&str> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["notification"]["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["new-invoice", "customs-ie529"], "{h}");
    assert!(
        h["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["notification"]["customer_id"] == "C1")
    );
    assert_eq!(h["holds"].as_array().unwrap().len(), 0);
    let (code, _, body) = served.post(
        "/api/v1/customers/C1/pause",
        Some(&admin),
        &[],
        r#"{"reason": "spór o kwotę"}"#,
    );
    assert_eq!(code, 200, "{body}");
    let (_, h) = get("/api/v1/customers/C1/history?limit=1");
    assert_eq!(h["holds"][0]["reason"], "spór o kwotę", "{h}");
    assert_eq!(h["items"].as_array().unwrap().len(), 1);
    let next = h["next"].as_str().expect("a next page").to_owned();
    let (_, h2) = get(&format!(
        "/api/v1/customers/C1/history?limit=1&after={next}"
    ));
    assert_eq!(h2["items"].as_array().unwrap().len(), 1, "{h2}");
    assert_ne!(
        h2["items"][0]["notification"]["id"],
        h["items"][0]["notification"]["id"]
    );
    assert_eq!(get("/api/v1/customers/C9/history").0, 404);
    assert_eq!(get("/api/v1/customers/C1/history?limit=0").0, 400);

    // A preview is the message as it went out: the same subject as the e-mail sent.
    let (code, p) = get("/api/v1/preview?rule=new-invoice&customer=C1&invoice=I1");
    assert_eq!(code, 200, "{p}");
    assert_eq!(p["locale"], "pl");
    assert_eq!(p["to"][0]["address"], "anna@kowalski.example.pl", "{p}");
    let sent = ws
        .emails()
        .into_iter()
        .map(|e| parse_eml(&e))
        .find(|m| {
            m.to()
                .and_then(|t| t.first())
                .and_then(|a| a.address())
                .is_some_and(|a| a == "anna@kowalski.example.pl")
        })
        .expect("the new-invoice e-mail to C1");
    assert_eq!(p["subject"].as_str(), sent.subject(), "{p}");
    assert!(p["html"].as_str().unwrap().contains("FV/2026/11/001"));
    let (_, en) = get("/api/v1/preview?rule=new-invoice&customer=C1&locale=en");
    assert_eq!(en["locale"], "en");
    assert_ne!(en["subject"], p["subject"]);
    // A dunning letter as of a day when I1 is overdue lists it, at its level.
    let (code, d) = get("/api/v1/preview?rule=dunning&customer=C1&now=2026-12-20T10:00:00Z");
    assert_eq!(code, 200, "{d}");
    assert_eq!(d["invoices"], serde_json::json!(["I1"]));
    assert!(d["level"].as_u64().is_some_and(|l| l >= 1), "{d}");
    for (query, code, says) in [
        ("?rule=nope&customer=C1", 404, "there is no rule 'nope'"),
        (
            "?rule=dunning&customer=C1",
            422,
            "no overdue invoice on 2026-11-02",
        ),
        (
            "?rule=task-reminder&customer=C1",
            422,
            "no reminder to send in the coming year for the tasks of customer 'C1'",
        ),
        ("?rule=operators-summary", 422, "sends nothing at"),
        (
            "?rule=customs-ie599&customer=C1",
            404,
            "no customs.IE599 event of customer 'C1'",
        ),
        (
            "?rule=new-invoice&customer=C9",
            404,
            "customer 'C9' does not exist",
        ),
        (
            "?rule=new-invoice&customer=C1&invoice=I2",
            404,
            "not an invoice of customer 'C1'",
        ),
        ("?customer=C1", 400, "rule: missing"),
        ("?rule=new-invoice", 400, "customer: missing"),
        ("?rule=new-invoice&customer=C1&locale=xx-", 400, "locale:"),
        ("?rule=new-invoice&customer=C1&now=tomorrow", 400, "now:"),
        (
            "?rule=new-invoice&rule=dunning&customer=C1",
            400,
            "given twice",
        ),
        (
            "?rule=new-invoice&customer=C1&colour=red",
            400,
            "unknown parameter 'colour'",
        ),
    ] {
        let (got, body) = get(&format!("/api/v1/preview{query}"));
        assert_eq!(got, code, "{query}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(says),
            "{query}: {body}"
        );
    }

    // An event rule previewed for a declaration: its latest event, to the
    // customer's customs contact, as the forwarded message went out.
    let (code, c) = get("/api/v1/preview?rule=customs-ie529&subject=26PL44302000012345");
    assert_eq!(code, 200, "{c}");
    assert_eq!(c["to"][0]["address"], "clo@kowalski.example.pl", "{c}");
    let forwarded = ws
        .emails()
        .into_iter()
        .map(|e| parse_eml(&e))
        .find(|m| {
            m.subject()
                .is_some_and(|s| s.contains("26PL44302000012345"))
        })
        .expect("the IE529 e-mail");
    assert_eq!(c["subject"].as_str(), forwarded.subject(), "{c}");

    // What would one rule send on the 13th: only its notices.
    let (code, _, body) = served.post(
        "/api/v1/plan",
        Some(&admin),
        &[],
        r#"{"dry_run": true, "now": "2026-11-13T12:00:00Z", "rule": "due-soon"}"#,
    );
    assert_eq!(code, 202, "{body}");
    let poll = serde_json::from_str::<serde_json::Value>(&body).unwrap()["poll"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut done = serde_json::Value::Null;
    eventually("the dry run of due-soon", || {
        done = get(&poll).1;
        done["state"] != "running"
    });
    let would: Vec<&str> = done["result"]["would_plan"]
        .as_array()
        .unwrap_or_else(|| panic!("{done}"))
        .iter()
        .map(|n| n["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(would, ["due-soon"; 4], "{done}");
    for (body, says) in [
        (r#"{"rule": "due-soon"}"#, "only be planned in a dry run"),
        (
            r#"{"dry_run": true, "rule": "nope"}"#,
            "there is no rule 'nope'",
        ),
        (r#"{"dry_run": true, "customer": ""}"#, "/customer"),
    ] {
        let (code, _, answer) = served.post("/api/v1/plan", Some(&admin), &[], body);
        assert_eq!(code, 422, "{body}: {answer}");
        assert!(answer.contains(says), "{body}: {answer}");
    }
    let (status, _, _) = served.stop();
    assert!(status.success());
}

/// Issue 5, point 5: every endpoint's error cases, for every route the OpenAPI
/// document lists (so a new route is covered as soon as it is documented): no
/// token 401, a token without the documented scope 403; and for each body an
/// act takes: not JSON 400, an unknown field 422, a wrong type 422, too big 413.
/// Each refusal is JSON with an `error` that says what to do.
#[test]
fn every_documented_endpoint_refuses_what_it_must_with_a_reason() {
    let ws = Workspace::new();
    ws.import_basics();
    // Notification 1 exists, so an act on it gets as far as reading its body.
    ws.ok(&["run", "--now", "2026-11-02"]);
    let tokens: std::collections::BTreeMap<&str, String> = ["read", "ingest", "admin"]
        .into_iter()
        .map(|s| (s, token(&ws, s, s)))
        .collect();
    let served = Served::start(&ws);
    let (_, _, body) = served.get_with("/api/v1/openapi.json", None);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    let error_of = |what: &str, code: u16, body: &str| -> String {
        let json: serde_json::Value = serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("{what}: {code} answered no JSON ({e}): {body}"));
        json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: {code} without an error: {body}"))
            .to_owned()
    };
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let id = if path.contains("/notifications/") {
                "1"
            } else {
                "C1"
            };
            let concrete = path
                .replace("{id}", id)
                .replace("{kind}", "customers")
                .replace("{on}", "customers")
                .replace("{subject}", "S1");
            let send = |token: Option<&str>, body: &str| {
                if method == "get" {
                    served.get_with(&concrete, token)
                } else {
                    served.post(&concrete, token, &[], body)
                }
            };
            let what = format!("{method} {path}");
            let Some(scope) = op["responses"]["403"]["description"]
                .as_str()
                .and_then(|d| d.strip_prefix("The token lacks the "))
                .and_then(|d| d.strip_suffix(" scope"))
            else {
                // Unauthenticated by design: health checks and the document itself.
                assert!(
                    ["/healthz", "/readyz"].contains(&path.as_str()),
                    "{what} documents no scope"
                );
                continue;
            };
            let (code, head, body) = send(None, "{}");
            assert_eq!(code, 401, "{what} without a token: {body}");
            assert!(
                head.to_lowercase().contains("www-authenticate: bearer"),
                "{what}: {head}"
            );
            assert!(
                error_of(&what, code, &body).contains("herald token create"),
                "{what}: {body}"
            );
            let (code, _, body) = send(Some("not-a-token"), "{}");
            assert_eq!(code, 401, "{what} with a made-up token: {body}");
            let other = if scope == "read" { "ingest" } else { "read" };
            let (code, _, body) = send(Some(&tokens[other]), "{}");
            assert_eq!(code, 403, "{what} with a {other} token: {body}");
            assert!(
                error_of(&what, code, &body).contains(scope),
                "{what}: {body}"
            );
            checked += 1;

            let Some(content) = op["requestBody"]["content"]["application/json"].as_object() else {
                continue;
            };
            let mine = tokens[scope].as_str();
            let (code, _, body) = send(Some(mine), r#"{"oops"#);
            assert_eq!(code, 400, "{what} with text that is not JSON: {body}");
            error_of(&what, code, &body);
            // A field of the documented shape, and one that is not in it.
            let (unknown, wrong) = match content["schema"]["$ref"].as_str() {
                Some(r) => {
                    let name = r.rsplit('/').next().unwrap();
                    let schema = &doc["components"]["schemas"][name];
                    let field = schema["properties"]
                        .as_object()
                        .and_then(|p| p.keys().next())
                        .unwrap_or_else(|| panic!("{what}: {name} has no properties"));
                    (
                        r#"{"colour": "red"}"#.to_owned(),
                        format!(r#"{{"{field}": [[1]]}}"#),
                    )
                }
                None => (
                    r#"[{"id": "C9", "name": "N", "colour": "red"}]"#.to_owned(),
                    r#"[{"id": [[1]], "name": "N"}]"#.to_owned(),
                ),
            };
            for (case, body_sent) in [("an unknown field", &unknown), ("a wrong type", &wrong)] {
                let (code, _, body) = send(Some(mine), body_sent);
                assert_eq!(code, 422, "{what} with {case} {body_sent}: {body}");
                error_of(&what, code, &body);
            }
            let limit = if path == "/api/v1/{kind}" {
                32 << 20
            } else {
                1 << 20
            };
            let big = format!("[{}]", " ".repeat(limit));
            let (code, _, body) = send(Some(mine), &big);
            assert_eq!(code, 413, "{what} with {} bytes: {body}", big.len());
            assert!(
                error_of(&what, code, &body).contains("MiB"),
                "{what}: {body}"
            );
        }
    }
    assert!(checked >= 15, "only {checked} routes checked");
    let (status, _, _) = served.stop();
    assert!(status.success());
}

/// Issue 5, point 5: the whole way through the API alone, as an ERP would use
/// it: records in, the planner run on request, the dispatcher delivering to the
/// outbox, and the statuses read back; a second plan sends nothing again.
#[test]
fn an_erp_feeds_herald_through_the_api_and_reads_back_what_was_sent() {
    let ws = Workspace::new();
    let erp = token(&ws, "erp", "admin");
    // Late on 2 November: the invoices below were issued that day.
    let served = Served::start_with(&ws, &["--now", "2026-11-02T20:00:00Z"]);
    for (kind, body) in [
        (
            "customers",
            r#"[{"id": "C1", "name": "Kowalski i Wspólnicy sp. z o.o.", "locale": "pl", "time_zone": "Europe/Warsaw"},
                {"id": "C2", "name": "Harbour Logistics Ltd", "locale": "en", "time_zone": "Europe/Dublin"}]"#,
        ),
        (
            "contacts",
            r#"[{"customer_id": "C1", "role": "billing", "name": "Anna Kowalska", "email": "anna@kowalski.example.pl", "email_opt_in": true, "sms_opt_in": false},
                {"customer_id": "C2", "role": "billing", "name": "Mary Byrne", "email": "mary@harbour.example.ie", "email_opt_in": true, "sms_opt_in": false}]"#,
        ),
        (
            "invoices",
            r#"[{"id": "I1", "number": "FV/2026/11/001", "customer_id": "C1", "issue_date": "2026-11-02", "due_date": "2026-11-16", "currency": "PLN", "amount": "1234.50"},
                {"id": "I2", "number": "INV-2026-0002", "customer_id": "C2", "issue_date": "2026-11-02", "due_date": "2026-11-16", "currency": "EUR", "amount": 99.9}]"#,
        ),
    ] {
        let (code, _, answer) = served.post(&format!("/api/v1/{kind}"), Some(&erp), &[], body);
        assert_eq!(code, 200, "{kind}: {answer}");
    }
    let plan = |served: &Served| -> serde_json::Value {
        let (code, _, body) = served.post("/api/v1/plan", Some(&erp), &[], "");
        assert_eq!(code, 202, "{body}");
        let poll = serde_json::from_str::<serde_json::Value>(&body).unwrap()["poll"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut job = serde_json::Value::Null;
        eventually("the planning job", || {
            let (_, _, body) = served.get_with(&poll, Some(&erp));
            job = serde_json::from_str(&body).unwrap();
            job["state"] != "running"
        });
        assert_eq!(job["state"], "done", "{job}");
        job
    };
    let job = plan(&served);
    assert_eq!(
        job["result"]["inserted"], 2,
        "two new-invoice notices: {job}"
    );
    let statuses = |id: &str| -> serde_json::Value {
        let (code, _, body) =
            served.get_with(&format!("/api/v1/invoices/{id}/statuses"), Some(&erp));
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    };
    let status_of = |st: &serde_json::Value, rule: &str| {
        st["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == rule)
            .map(|r| r["status"].as_str().unwrap().to_owned())
    };
    eventually("both notices sent", || {
        ["I1", "I2"]
            .iter()
            .all(|id| status_of(&statuses(id), "new-invoice").as_deref() == Some("sent"))
    });
    let (_, _, body) = served.get_with("/api/v1/notifications?invoice=I2", Some(&erp));
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    let delivery = &list["items"][0]["deliveries"][0];
    assert_eq!(delivery["address"], "mary@harbour.example.ie", "{list}");
    assert_eq!(delivery["locale"], "en");
    let file = delivery["provider_id"].as_str().unwrap();
    let sent = parse_eml(&ws.path().join(file));
    assert!(
        sent.subject().unwrap().contains("INV-2026-0002"),
        "{:?}",
        sent.subject()
    );
    // Planning again writes nothing new and sends nothing again.
    let again = plan(&served);
    assert_eq!(again["result"]["inserted"], 0, "{again}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(ws.emails().len(), 2);
    let (status, _, _) = served.stop();
    assert!(status.success());
}

/// Issue 5, point 3: no secret in any response. The SMS gateway's token (from the
/// environment) and the API token's own secret appear in no answer of any
/// documented GET route, in no error, and not in the service's log, also after
/// an SMS failed and its error was recorded.
#[test]
fn no_answer_and_no_log_line_shows_a_secret() {
    const SMS_TOKEN: &str = "smsapi-secret-5b1c9e";
    let ws = Workspace::new();
    ws.set_config(
        "kind = \"file\"                      # writes each SMS as a JSON file",
        // A gateway that refuses connections: the failure is recorded with its reason.
        "kind = \"http\"\npreset = \"smsapi\"\ntoken_env = \"TEST_SMSAPI_TOKEN\"\nbase_url = \"http://127.0.0.1:9\"\ntimeout = \"2s\"",
    );
    ws.set_config(
        "channels = [\"email\"]  ",
        "channels = [\"sms\", \"email\"]  ",
    );
    ws.import_basics();
    let token = token(&ws, "ops", "admin");
    // The part after the id is the secret; the id alone is not.
    let secret = token.rsplit('_').next().unwrap().to_owned();
    assert!(secret.len() >= 16, "{token}");
    let served = Served::start_env(
        &ws,
        &["--now", "2026-11-02T22:59:59Z"],
        &[("TEST_SMSAPI_TOKEN", SMS_TOKEN)],
    );
    eventually("the SMS attempt recorded", || {
        let (_, _, body) = served.get_with("/api/v1/notifications?state=retrying", Some(&token));
        body.contains("attempt_log") && body.contains("127.0.0.1:9")
    });
    let (_, _, body) = served.get_with("/api/v1/openapi.json", None);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut answers = Vec::new();
    for path in doc["paths"].as_object().unwrap().keys() {
        let concrete = path.replace("{id}", "C1").replace("{subject}", "S1");
        if doc["paths"][path]["get"].is_object() {
            answers.push((concrete.clone(), served.get_with(&concrete, Some(&token))));
        }
    }
    for path in [
        "/api/v1/invoices/I1/statuses",
        "/api/v1/notifications?state=retrying",
        "/api/v1/preview?rule=new-invoice&customer=C1",
    ] {
        answers.push((path.to_owned(), served.get_with(path, Some(&token))));
    }
    answers.push((
        "a bad token".to_owned(),
        served.get_with("/api/v1/status", Some(&format!("{token}x"))),
    ));
    for (what, (code, head, body)) in &answers {
        for s in [SMS_TOKEN, secret.as_str()] {
            assert!(
                !head.contains(s) && !body.contains(s),
                "{what} ({code}) shows a secret: {head}\n{body}"
            );
        }
    }
    let status = ws.ok(&["status", "--json"]);
    assert!(!status.contains(SMS_TOKEN));
    let (exit, _, log) = served.stop();
    assert!(exit.success());
    assert!(
        log.contains("delivery="),
        "the log has the deliveries: {log}"
    );
    for s in [SMS_TOKEN, secret.as_str()] {
        assert!(!log.contains(s), "the service log shows a secret: {log}");
    }
}
