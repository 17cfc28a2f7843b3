//! The web console (issue 7) in a real browser: Chromium driven through
//! ChromeDriver against a real `herald serve`. The screenshots of the main pages
//! in `docs/` are taken here, so they show the console as it is.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::browser::Browser;
use crate::support::*;

const PASSWORD: &str = "correct horse battery";

/// `herald user create LOGIN --role ROLE`, the password piped in.
fn create_user(ws: &Workspace, login: &str, role: &str, name: &str) {
    let mut child = Command::new(herald_bin())
        .args([
            "user",
            "create",
            login,
            "--role",
            role,
            "--name",
            name,
            "--password-stdin",
        ])
        .current_dir(ws.path())
        .env_remove("HERALD_CONFIG")
        .env_remove("HERALD_NOW")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run herald user create");
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ok(&out, &format!("user create {login} --role {role}"));
}

/// A workspace with the four basic customers, their November invoices planned and
/// sent (the new-invoice notices are in the outbox), and three console users.
fn office() -> Workspace {
    let ws = Workspace::new();
    ws.import_basics();
    ws.ok(&["run", "--now", "2026-11-02T10:00:00Z"]);
    create_user(&ws, "anna", "operator", "Anna Nowak");
    create_user(&ws, "piotr", "viewer", "Piotr Wiśniewski");
    create_user(&ws, "admin", "admin", "Administrator");
    ws
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The e-mails in the outbox addressed to `to`.
fn emails_to(ws: &Workspace, to: &str) -> usize {
    ws.emails()
        .iter()
        .filter(|p| {
            parse_eml(p)
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .is_some_and(|a| a == to)
        })
        .count()
}

#[test]
fn an_operator_signs_in_opens_an_invoice_and_resends_it_to_another_address() {
    let ws = office();
    let served = Served::start_with(&ws, &["--now", "2026-11-20T09:00:00Z"]);
    let base = format!("http://{}", served.address);
    runtime().block_on(async {
        let b = Browser::start().await;
        // Not signed in: the console sends the browser to the login page.
        b.goto(&format!("{base}/console/invoices")).await;
        b.wait_for("#login").await;
        assert!(
            b.url()
                .await
                .contains("/console/login?next=/console/invoices")
        );
        // A wrong password is said so, and nothing more.
        b.fill("#login", "anna").await;
        b.fill("#password", "not the password").await;
        b.click("#sign-in").await;
        assert_eq!(
            b.text_of("#error").await,
            "The login or the password is wrong."
        );
        b.screenshot("console-login.png").await;
        b.fill("#password", PASSWORD).await;
        b.click("#sign-in").await;
        // Back where the reader was going.
        b.wait_for("#invoices").await;
        assert!(b.text_of("#signed-in").await.contains("Anna Nowak"));

        // The dashboard: the service runs, today's counts, the queue.
        b.goto(&format!("{base}/console")).await;
        let service = b.text_of("#service").await;
        assert!(service.contains("running"), "{service}");
        let jobs = b.text_of("#jobs").await;
        assert!(
            jobs.contains("planner") && jobs.contains("dispatcher"),
            "{jobs}"
        );
        b.screenshot("console-dashboard.png").await;

        // The invoice list with a status column per rule; search finds by number.
        b.goto(&format!("{base}/console/invoices")).await;
        let list = b.text_of("#invoices").await;
        for number in [
            "FV/2026/11/001",
            "2026110002",
            "EMS-000003",
            "INV-2026-0004",
        ] {
            assert!(list.contains(number), "{number} missing from\n{list}");
        }
        let heads = b.text_of("#invoices thead").await.to_lowercase();
        assert!(heads.contains("new-invoice"), "{heads}");
        b.screenshot("console-invoices.png").await;
        b.fill("#search", "kowalski").await;
        b.click("#filter").await;
        b.wait_for_url("q=kowalski").await;
        b.wait_for("#invoices").await;
        let rows = b.find_all("#invoices tbody tr").await;
        assert_eq!(rows.len(), 1, "{}", b.text_of("#invoices").await);

        // The invoice: every notification, each delivery and its attempts.
        b.click("#invoices tbody a").await;
        b.wait_for("#number").await;
        assert_eq!(b.text_of("#number").await, "FV/2026/11/001");
        let notices = b.text_of("#notifications").await;
        assert!(
            notices.contains("new-invoice") && notices.contains("anna@kowalski.example.pl"),
            "{notices}"
        );
        assert!(notices.contains("sent"), "{notices}");
        b.screenshot("console-invoice.png").await;

        // Resend to another address: a new delivery, out at once.
        assert_eq!(emails_to(&ws, "ksiegowa@kowalski.example.pl"), 0);
        b.click("#notifications article:first-of-type details.resend-to summary")
            .await;
        b.fill(
            "#notifications article:first-of-type .resend-address",
            "ksiegowa@kowalski.example.pl",
        )
        .await;
        b.click("#notifications article:first-of-type .resend-to-button")
            .await;
        assert_eq!(
            b.wait_for("#said").await.text().await.unwrap(),
            "Queued: the dispatcher sends it at once."
        );
        eventually("the resent e-mail in the outbox", || {
            emails_to(&ws, "ksiegowa@kowalski.example.pl") == 1
        });
        // The page shows it: to whom, who asked, and that it went.
        let start = std::time::Instant::now();
        loop {
            b.client.refresh().await.unwrap();
            let text = b.text_of("#notifications").await;
            if text.contains("ksiegowa@kowalski.example.pl")
                && text.contains("asked by console:anna")
            {
                break;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "the resend is not on the page:\n{text}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }

        // The history: every delivery, filtered, and its CSV.
        b.goto(&format!("{base}/console/history")).await;
        let history = b.text_of("table.deliveries").await;
        assert!(
            history.contains("ksiegowa@kowalski.example.pl"),
            "{history}"
        );
        b.screenshot("console-history.png").await;
        b.goto(&format!("{base}/console/history?channel=email&customer=C2"))
            .await;
        let rows = b.find_all("table.deliveries tbody tr").await;
        assert!(!rows.is_empty(), "{}", b.text().await);
        for row in rows {
            let text = row.text().await.unwrap();
            assert!(text.contains("jan@novak.example.cz"), "not C2's: {text}");
        }

        // The console in Polish, dates and amounts as a Polish reader writes them.
        b.goto(&format!("{base}/console/invoices")).await;
        b.find("select[name=lang]")
            .await
            .select_by_value("pl")
            .await
            .unwrap();
        b.click("header.top form.inline button").await;
        b.wait_for("#invoices").await;
        let pl = b.text().await.to_lowercase();
        assert!(pl.contains("faktury") && pl.contains("do zapłaty"), "{pl}");
        assert!(pl.contains("02.11.2026") && pl.contains("1234,50"), "{pl}");
        b.close().await;
    });
    // The resend is in the store's history with who asked for it.
    let h = ws.ok(&["history", "--invoice", "I1"]);
    assert!(h.contains("ksiegowa@kowalski.example.pl"), "{h}");
}

#[test]
fn a_form_without_its_token_is_refused_and_a_viewer_cannot_resend() {
    let ws = office();
    let served = Served::start_with(&ws, &["--now", "2026-11-20T09:00:00Z"]);
    let base = format!("http://{}", served.address);
    let before = ws.emails().len();
    runtime().block_on(async {
        // An operator's form with its CSRF token changed: refused, nothing queued.
        let b = Browser::start().await;
        b.sign_in(&base, "anna", PASSWORD).await;
        b.goto(&format!("{base}/console/invoices/I1")).await;
        b.wait_for("#number").await;
        b.client
            .execute(
                "document.querySelectorAll('input[name=csrf]').forEach(i => i.value = 'forged')",
                vec![],
            )
            .await
            .unwrap();
        b.click("#notifications article:first-of-type button.resend")
            .await;
        let message = b.wait_for("#message").await.text().await.unwrap();
        assert!(message.contains("This form has expired"), "{message}");
        b.close().await;

        // A viewer sees the invoice but is offered no action, and a resend
        // posted with the viewer's own valid token is refused all the same.
        let v = Browser::start().await;
        v.sign_in(&base, "piotr", PASSWORD).await;
        v.goto(&format!("{base}/console/invoices/I1")).await;
        v.wait_for("#notifications").await;
        assert!(v.find_all("button.resend").await.is_empty());
        assert!(v.find_all("#pause-invoice").await.is_empty());
        let id = v
            .find("#notifications article")
            .await
            .attr("id")
            .await
            .unwrap()
            .unwrap()
            .trim_start_matches("notification-")
            .to_owned();
        v.client
            .execute(
                "const f = document.createElement('form'); f.method = 'post'; \
                 f.action = '/console/notifications/' + arguments[0] + '/resend'; \
                 const c = document.createElement('input'); c.name = 'csrf'; \
                 c.value = document.querySelector('input[name=csrf]').value; f.appendChild(c); \
                 document.body.appendChild(f); f.submit();",
                vec![serde_json::Value::String(id)],
            )
            .await
            .unwrap();
        let message = v.wait_for("#message").await.text().await.unwrap();
        assert!(message.contains("Your role cannot do this"), "{message}");
        v.close().await;
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(ws.emails().len(), before, "nothing was sent");
    let h = ws.ok(&["history", "--invoice", "I1"]);
    assert!(!h.contains("console:"), "no resend was recorded:\n{h}");
}

/// What a browser cannot show: the cookie's attributes, and a POST from another
/// site refused before its fields are read.
#[test]
fn sessions_are_http_only_same_site_cookies_and_another_site_cannot_post() {
    let ws = office();
    let served = Served::start(&ws);
    let (code, head, body) = served.request("GET", "/console/login", None, &[], "");
    assert_eq!(code, 200, "{body}");
    let login_cookie = head
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: herald_login=")
        })
        .unwrap_or_else(|| panic!("no login cookie:\n{head}"));
    assert!(
        login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"),
        "{login_cookie}"
    );
    assert!(
        head.contains("content-security-policy: default-src 'none'"),
        "{head}"
    );
    let csrf = login_cookie
        .split_once('=')
        .and_then(|(_, v)| v.split(';').next())
        .unwrap()
        .to_owned();

    let form = format!(
        "csrf={csrf}&next=%2Fconsole&login=anna&password={}",
        PASSWORD.replace(' ', "+")
    );
    let cookie = format!("herald_login={csrf}");
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    // From another site: refused whatever it carries.
    let mut foreign = headers.to_vec();
    foreign.push(("Origin", "http://evil.example"));
    let (code, _, body) = served.form("/console/login", &foreign, &form);
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("did not come from herald"), "{body}");
    // Without the login form's cookie: refused.
    let (code, _, _) = served.form(
        "/console/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    );
    assert_eq!(code, 403);
    // The real thing: a session cookie, HttpOnly, SameSite=Strict, Secure.
    let (code, head, _) = served.form("/console/login", &headers, &form);
    assert_eq!(code, 303, "{head}");
    let session = head
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: herald_session=")
        })
        .unwrap_or_else(|| panic!("no session cookie:\n{head}"));
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(session.contains(attr), "{attr} missing: {session}");
    }
    // Only the session secret's hash is stored: the cookie's value is nowhere in
    // the store's files.
    let secret = session
        .split_once('=')
        .and_then(|(_, v)| v.split(';').next())
        .unwrap()
        .to_owned();
    if !backend_is_postgres() {
        let db = std::fs::read(ws.path().join("herald.db")).unwrap();
        let wal = std::fs::read(ws.path().join("herald.db-wal")).unwrap_or_default();
        for bytes in [db, wal] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "the session secret is stored as it is"
            );
        }
    }
    let cookie = format!("herald_session={secret}");
    let (code, _, body) = served.request("GET", "/console", None, &[("Cookie", &cookie)], "");
    assert_eq!(code, 200);
    assert!(body.contains("Anna Nowak"), "{body}");
    // Signing out ends the session in the store, not only in the browser.
    let token = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let (code, _, _) = served.form(
        "/console/logout",
        &[
            ("Cookie", cookie.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("csrf={token}"),
    );
    assert_eq!(code, 303);
    let (code, head, _) = served.request("GET", "/console", None, &[("Cookie", &cookie)], "");
    assert_eq!(code, 303, "{head}");
    assert!(head.contains("location: /console/login"), "{head}");
}

/// Settings (seed 004: who changed what and when), the channel tests (seeds 002,
/// 003), a template checked before it is saved and previewed against real data,
/// and every change and test in the audit log, in a real browser; then the
/// settings outlive the server.
#[test]
fn an_admin_changes_settings_tests_the_channels_and_sees_it_all_in_the_audit_log() {
    let sink = SmtpSink::start();
    let ws = office();
    let config = ws.path().join("herald.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!(
            "{text}\n[[accounts]]\nname = \"office\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"biuro@example.pl\"\n",
            sink.port
        ),
    )
    .unwrap();
    let served = Served::start_with(&ws, &["--now", "2026-11-20T09:00:00Z"]);
    let base = format!("http://{}", served.address);
    runtime().block_on(async {
        let b = Browser::start().await;
        b.sign_in(&base, "admin", PASSWORD).await;
        b.goto(&format!("{base}/console/settings")).await;
        let sources = b.text_of("#sources").await;
        assert!(sources.contains("herald.toml"), "{sources}");
        assert!(b.text_of("#rules").await.contains("new-invoice"));
        b.screenshot("console-settings.png").await;

        // Pilot customers: an unknown one is refused, naming it; nothing changes.
        b.fill("#pilot-customers", "C1, NOPE").await;
        b.click("#save-pilot").await;
        let message = b.wait_for("#message").await.text().await.unwrap();
        assert!(
            message.contains("customer 'NOPE' does not exist"),
            "{message}"
        );
        b.goto(&format!("{base}/console/settings")).await;
        assert_eq!(b.text_of("#pilot-now").await, "none (pilot mode off)");
        b.fill("#pilot-customers", "C1").await;
        b.click("#save-pilot").await;
        assert_eq!(
            b.wait_for("#said").await.text().await.unwrap(),
            "Saved. It applies now, on every node within 10 seconds."
        );
        assert_eq!(b.text_of("#pilot-now").await, "C1");
        assert!(b.text_of("#pilot").await.contains("C1"), "the banner");
        let origin = b.text_of("#pilot-origin").await;
        assert!(origin.contains("changed by console:admin"), "{origin}");

        // Days off in the console, beside the file's calendar.
        b.fill("#days-off", "2026-12-24, 2026-12-31").await;
        b.click("#save-days-off").await;
        // The page before had said "Saved." too: wait for the new one's words.
        b.wait_for_text("#days-off-now", "2026-12-24, 2026-12-31")
            .await;

        // Test connection, then a test message, through the real SMTP server.
        b.click("#accounts .test-connection").await;
        let steps = b.wait_for("#steps").await.text().await.unwrap();
        assert!(steps.contains("connected to 127.0.0.1"), "{steps}");
        assert!(b.text_of("#result").await.contains("The test passed."));
        assert!(
            sink.messages().is_empty(),
            "a connection test sends nothing"
        );
        b.goto(&format!("{base}/console/settings")).await;
        b.fill("#accounts tbody tr:nth-child(2) .test-to", "it@example.com")
            .await;
        b.click("#accounts tbody tr:nth-child(2) .send-test").await;
        assert!(
            b.wait_for("#result")
                .await
                .text()
                .await
                .unwrap()
                .contains("The test passed."),
            "{}",
            b.text().await
        );
        eventually("the test message at the SMTP server", || {
            sink.messages().len() == 1
        });
        let received = std::fs::read_to_string(&sink.messages()[0]).unwrap();
        assert!(received.contains("herald: test message"), "{received}");
        // A test SMS, into the SMS outbox this workspace uses.
        b.goto(&format!("{base}/console/settings")).await;
        b.fill("#sms-to", "+48600100200").await;
        b.click("#send-test-sms").await;
        assert!(
            b.wait_for("#result")
                .await
                .text()
                .await
                .unwrap()
                .contains("The test passed.")
        );
        assert!(
            ws.sms().iter().any(|m| m.to_string().contains("test SMS")),
            "{:?}",
            ws.sms()
        );

        // A template with a mistake is refused before it is saved, and what
        // was typed is still there to fix.
        b.goto(&format!("{base}/console/settings/templates/new-invoice/en"))
            .await;
        let subject = b.text_of("#part-subject").await;
        assert!(subject.contains("invoice.number"), "{subject}");
        b.fill("#part-subject", "Invoice {{ invoice.numbr }}").await;
        b.click("#save-template").await;
        let failures = b.wait_for("#failures").await.text().await.unwrap();
        assert!(failures.contains("numbr"), "{failures}");
        assert_eq!(
            b.find("#part-subject")
                .await
                .prop("value")
                .await
                .unwrap()
                .unwrap(),
            "Invoice {{ invoice.numbr }}"
        );
        // Fixed, and previewed against customer C1's real invoice.
        b.fill(
            "#part-subject",
            "Your invoice {{ invoice.number }} is ready",
        )
        .await;
        b.fill("#preview-customer", "C1").await;
        b.click("#check").await;
        let subject = b.wait_for("#message-subject").await.text().await.unwrap();
        assert_eq!(subject, "Your invoice FV/2026/11/001 is ready");
        b.client
            .execute(
                "document.getElementById('preview-customer').scrollIntoView()",
                vec![],
            )
            .await
            .unwrap();
        b.screenshot("console-template.png").await;
        b.click("#save-template").await;
        b.wait_for("#said").await;

        // The preview shows it as it would be sent now.
        b.goto(&format!(
            "{base}/console/preview?rule=new-invoice&customer=C1&locale=en"
        ))
        .await;
        assert_eq!(
            b.wait_for("#message-subject").await.text().await.unwrap(),
            "Your invoice FV/2026/11/001 is ready"
        );
        assert!(
            b.text_of("#message-to")
                .await
                .contains("anna@kowalski.example.pl")
        );
        b.screenshot("console-preview.png").await;
        b.goto(&format!("{base}/console/next-run")).await;
        b.wait_for("#planned").await;

        // The audit log: every change and every test, by whom.
        b.goto(&format!("{base}/console/audit")).await;
        let audit = b.text_of("#audit").await;
        for expected in [
            "pilot.customers",
            "pilot customers: C1 (was none (pilot mode off))",
            "calendar.days_off",
            "settings.test_email",
            "settings.test_sms",
            "template.new-invoice.en.subject",
            "console:admin",
        ] {
            assert!(audit.contains(expected), "{expected} missing:\n{audit}");
        }
        assert!(!audit.contains("NOPE"), "a refused change is not logged");
        b.screenshot("console-audit.png").await;
        b.close().await;

        // A viewer sees the settings but can change nothing, and no audit log.
        let v = Browser::start().await;
        v.sign_in(&base, "piotr", PASSWORD).await;
        v.goto(&format!("{base}/console/settings")).await;
        v.wait_for("#pilot-now").await;
        assert!(v.find_all("#save-pilot").await.is_empty());
        assert!(v.find_all("#accounts .send-test").await.is_empty());
        v.goto(&format!("{base}/console/audit")).await;
        let message = v.wait_for("#message").await.text().await.unwrap();
        assert!(message.contains("Your role cannot do this"), "{message}");
        v.close().await;
    });
    // Stored, not remembered: a new process reads them from the store.
    drop(served);
    let status = ws.ok(&["status"]);
    assert!(status.contains("PILOT MODE: only C1"), "{status}");
    let preview = ws.ok(&[
        "preview",
        "new-invoice",
        "--customer",
        "C1",
        "--locale",
        "en",
    ]);
    assert!(
        preview.contains("Your invoice FV/2026/11/001 is ready"),
        "{preview}"
    );
}

/// Declarations (seed 000's list with IE529 / IE509 / IE599 columns) and tasks
/// (seed 001), listed with a status column each, searched, and opened.
#[test]
fn declarations_and_tasks_have_lists_with_status_columns_and_pages() {
    let ws = office();
    ws.write(
        "customs.csv",
        "customer_id,role,name,email,phone,email_opt_in,sms_opt_in\n\
         C1,customs,Dział celny,clo@kowalski.example.pl,,true,false\n",
    );
    ws.ok(&["import", "contacts", "customs.csv"]);
    ws.write(
        "events.csv",
        "id,type,customer_id,subject,occurred_at\n\
         ev-1,customs.IE529,C1,26PL44302000012345,2026-11-23T08:42:00Z\n",
    );
    ws.ok(&["import", "events", "events.csv"]);
    ws.write(
        "operators.csv",
        "id,name,email,phone,locale\nop-ewa,Ewa Nowak,ewa@biuro.example.pl,+48600100200,pl\n",
    );
    ws.ok(&["import", "operators", "operators.csv"]);
    ws.write(
        "tasks.csv",
        "id,title,customer_id,operator_id,starts_at,time_zone,recurrence\n\
         T1,Przegląd deklaracji VAT,C1,op-ewa,2026-11-24 10:00,,\n\
         T2,Weekly call,C4,,2026-11-30 09:00,Europe/Dublin,weekly\n",
    );
    ws.ok(&["import", "tasks", "tasks.csv"]);
    ws.ok(&["run", "--now", "2026-11-23T09:30:00Z"]);
    let served = Served::start_with(&ws, &["--now", "2026-11-23T09:35:00Z"]);
    let base = format!("http://{}", served.address);
    runtime().block_on(async {
        let b = Browser::start().await;
        b.sign_in(&base, "anna", PASSWORD).await;
        b.goto(&format!("{base}/console/declarations")).await;
        let heads = b.text_of("#subjects thead").await;
        assert!(
            heads.contains("IE529") && heads.contains("IE509") && heads.contains("IE599"),
            "{heads}"
        );
        let row = b.text_of("#subjects tbody tr").await;
        assert!(row.contains("26PL44302000012345"), "{row}");
        let cells: Vec<String> = {
            let mut v = Vec::new();
            for c in b.find_all("#subjects tbody tr td.rule").await {
                v.push(c.text().await.unwrap());
            }
            v
        };
        assert_eq!(cells, ["sent", "—", "—"], "IE529 sent, nothing else yet");
        b.click("#subjects tbody a").await;
        b.wait_for("#number").await;
        assert_eq!(b.text_of("#number").await, "26PL44302000012345");
        let notices = b.text_of("#notifications").await;
        assert!(notices.contains("clo@kowalski.example.pl"), "{notices}");
        assert!(b.text_of("#events").await.contains("customs.IE529"));
        b.screenshot("console-declaration.png").await;
        // The customer's notices can be paused from here, and resumed.
        b.click("#holds details summary").await;
        b.click("#pause-customer").await;
        b.wait_for_text("#holds", "Reminders are paused").await;
        b.click("#resume-customer").await;
        b.wait_for("#pause-customer").await;
        assert!(b.find_all("#holds .hold").await.is_empty());

        b.goto(&format!("{base}/console/tasks")).await;
        let list = b.text_of("#subjects").await;
        assert!(list.contains("T1") && list.contains("T2"), "{list}");
        b.fill("#search", "vat").await;
        b.click("#filter").await;
        b.wait_for_url("q=vat").await;
        b.wait_for("#subjects").await;
        assert_eq!(b.find_all("#subjects tbody tr").await.len(), 1);
        b.screenshot("console-tasks.png").await;
        b.click("#subjects tbody a").await;
        b.wait_for("#number").await;
        assert_eq!(b.text_of("#number").await, "T1");
        // The client's reminder (a day before) has gone; the operator's (15
        // minutes before) is next.
        let facts = b.text_of("dl.facts").await;
        assert!(facts.contains("24 Nov 2026, 10:00"), "next start: {facts}");
        assert!(
            facts.contains("24 Nov 2026, 09:45"),
            "next reminder: {facts}"
        );
        let notices = b.text_of("#notifications").await;
        assert!(
            notices.contains("task-reminder") && notices.contains("+48601234567"),
            "{notices}"
        );
        // Its next reminder, previewed: the operator's, the client's having gone.
        b.goto(&format!(
            "{base}/console/preview?rule=task-reminder&subject=T1"
        ))
        .await;
        let to = b.wait_for("#message-to").await.text().await.unwrap();
        assert!(to.contains("Ewa Nowak <+48600100200>"), "{to}");
        b.close().await;
    });
}

/// Users and API tokens from the console: a new operator signs in; a new token
/// works against the API until it is revoked; both are in the audit log, and
/// an admin cannot lock themselves out.
#[test]
fn an_admin_adds_a_user_and_an_api_token_then_revokes_the_token() {
    let ws = office();
    let served = Served::start(&ws);
    let base = format!("http://{}", served.address);
    let token = runtime().block_on(async {
        let b = Browser::start().await;
        b.sign_in(&base, "admin", PASSWORD).await;
        b.goto(&format!("{base}/console/users")).await;
        assert!(
            b.find_all("#user-admin .disable").await.is_empty(),
            "no button to disable oneself"
        );
        b.click("#new-user summary").await;
        b.fill("#new-login", "ewa").await;
        b.fill("#new-name", "Ewa Nowak").await;
        b.find("#new-role")
            .await
            .select_by_value("operator")
            .await
            .unwrap();
        b.fill("#new-password", "ewa's long password").await;
        b.click("#create-user").await;
        b.wait_for("#said").await;
        let users = b.text_of("#users").await;
        assert!(users.contains("Ewa Nowak"), "{users}");
        b.click("#new-token summary").await;
        b.fill("#token-name", "ERP").await;
        b.click("#scope-read").await;
        b.click("#create-token").await;
        let token = b.wait_for("#token-text").await.text().await.unwrap();
        assert!(token.starts_with("hrd_"), "{token}");
        b.goto(&format!("{base}/console/users")).await;
        b.screenshot("console-users.png").await;
        b.close().await;

        let e = Browser::start().await;
        e.sign_in(&base, "ewa", "ewa's long password").await;
        assert!(e.text_of("#signed-in").await.contains("Ewa Nowak"));
        // An operator has no users page.
        e.goto(&format!("{base}/console/users")).await;
        let message = e.wait_for("#message").await.text().await.unwrap();
        assert!(message.contains("Your role cannot do this"), "{message}");
        e.close().await;
        token
    });
    let (code, _, body) = served.get_with("/api/v1/notifications", Some(&token));
    assert_eq!(code, 200, "{body}");
    runtime().block_on(async {
        let b = Browser::start().await;
        b.sign_in(&base, "admin", PASSWORD).await;
        b.goto(&format!("{base}/console/users")).await;
        b.click("#tokens .revoke").await;
        b.wait_for("#said").await;
        b.goto(&format!("{base}/console/audit")).await;
        let audit = b.text_of("#audit").await;
        for expected in ["user.create", "token.create", "token.revoke", "ERP: read"] {
            assert!(audit.contains(expected), "{expected} missing:\n{audit}");
        }
        assert!(!audit.contains(&token), "the token's text is not logged");
        // An admin cannot disable themselves, even by a hand-made form.
        b.client
            .execute(
                "const f = document.createElement('form'); f.method = 'post'; \
                 f.action = '/console/users'; \
                 for (const [k, v] of [['csrf', document.querySelector('input[name=csrf]').value], \
                   ['login', 'admin'], ['action', 'disable']]) { \
                   const i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i); } \
                 document.body.appendChild(f); f.submit();",
                vec![],
            )
            .await
            .unwrap();
        let message = b.wait_for("#message").await.text().await.unwrap();
        assert!(message.contains("You cannot change your own role"), "{message}");
        b.close().await;
    });
    let (code, _, _) = served.get_with("/api/v1/notifications", Some(&token));
    assert_eq!(code, 401, "a revoked token is refused");
    let list = ws.ok(&["user", "list"]);
    assert!(list.contains("ewa\tEwa Nowak\toperator"), "{list}");
    assert!(!list.contains("disabled"), "{list}");
}

/// Seed 004's "send in background": a month's invoices queued from the console,
/// said so at once, sent by the service, and queued only once however often
/// the button is pressed.
#[test]
fn an_operator_sends_a_months_invoices_in_the_background_once() {
    let ws = office();
    // The e-mails a rule sent, by the header every message carries.
    let sent_by = |rule: &str| {
        ws.emails()
            .iter()
            .filter(|p| {
                std::fs::read_to_string(p)
                    .unwrap_or_default()
                    .contains(&format!("X-Herald-Rule: {rule}"))
            })
            .count()
    };
    assert_eq!(sent_by("invoice-batch"), 0);
    let served = Served::start_with(&ws, &["--now", "2026-12-02T09:00:00Z"]);
    let base = format!("http://{}", served.address);
    runtime().block_on(async {
        let b = Browser::start().await;
        b.sign_in(&base, "anna", PASSWORD).await;
        for _ in 0..2 {
            b.goto(&format!("{base}/console/invoices")).await;
            b.click("#send-period summary").await;
            assert_eq!(
                b.find("#batch-month")
                    .await
                    .prop("value")
                    .await
                    .unwrap()
                    .unwrap(),
                "2026-11"
            );
            b.click("#send-month").await;
            b.wait_for_url("said=queued").await;
            assert!(
                b.text_of("#said")
                    .await
                    .starts_with("Queued in the background"),
                "{}",
                b.text().await
            );
        }
        b.close().await;
    });
    eventually("the November invoices sent", || {
        sent_by("invoice-batch") >= 4
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        sent_by("invoice-batch"),
        4,
        "each invoice once, pressed twice"
    );
    let history = ws.ok(&["history", "--rule", "invoice-batch"]);
    assert!(history.contains("anna@kowalski.example.pl"), "{history}");
}
