//! The HTTP SMS gateway against wiremock on 127.0.0.1: the requests the presets
//! make, how answers become outcomes, and that the token never shows.

use std::time::{Duration, Instant};

use herald_channels::{
    GatewayBody, HttpMethod, Outcome, ResponseRules, Secret, SmsChannel, SmsGateway,
    SmsGatewaySettings, SmsMessage,
};
use herald_core::PhoneNumber;
use serde_json::json;
use wiremock::matchers::{basic_auth, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::instant;

const SMSAPI_TOKEN: &str = "smsapi-Tok3n-do-not-leak";
const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
const TWILIO_TOKEN: &str = "twilio-secret-7Q";
/// Polish with diacritics: UCS-2, 81 units, 2 segments.
const POLISH: &str =
    "Przypomnienie: FV/2026/11/001, 1 234,50 zł, termin 23.11. Zażółć gęślą jaźń & co.";

fn sms(body: &str, sender: Option<&str>) -> SmsMessage {
    SmsMessage {
        id: "msg-9".to_owned(),
        to: PhoneNumber::parse("+48 601 234 567").unwrap(),
        sender: sender.map(str::to_owned),
        body: body.to_owned(),
        date: instant(),
        metadata: serde_json::Map::new(),
    }
}

fn smsapi(server: &MockServer, sender: Option<&str>) -> SmsGateway {
    let mut s = SmsGatewaySettings::smsapi(Secret::new(SMSAPI_TOKEN), sender.map(str::to_owned))
        .with_base_url(&server.uri());
    s.token_env = Some("SMSAPI_TOKEN".to_owned());
    SmsGateway::new(s).unwrap()
}

fn twilio(server: &MockServer) -> SmsGateway {
    let s = SmsGatewaySettings::twilio(TWILIO_SID, Secret::new(TWILIO_TOKEN), "+15005550006")
        .with_base_url(&server.uri());
    SmsGateway::new(s).unwrap()
}

/// The form as any form decoder reads it (not herald's encoder run backwards).
fn form(req: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(&req.body).into_owned().collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let mut found = form.iter().filter(|(k, _)| k == name);
    let first = found.next().map(|(_, v)| v.as_str());
    assert!(found.next().is_none(), "{name} appears twice in {form:?}");
    first
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn smsapi_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "count": 1,
        "list": [{
            "id": "5F3A6C1B3738302D1B9E1C02",
            "points": 0.32,
            "number": "48601234567",
            "date_sent": 1763630130,
            "submitted_number": "48601234567",
            "status": "QUEUE"
        }]
    }))
}

#[tokio::test]
async fn smsapi_posts_the_documented_form_and_keeps_its_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sms.do"))
        .and(header("authorization", format!("Bearer {SMSAPI_TOKEN}")))
        .respond_with(smsapi_ok())
        .expect(1)
        .mount(&server)
        .await;
    let outcome = smsapi(&server, None)
        .send_sms(9, &sms(POLISH, Some("Przyklad")))
        .await;

    let Outcome::Delivered {
        provider_id,
        detail,
    } = &outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(provider_id.as_deref(), Some("5F3A6C1B3738302D1B9E1C02"));
    assert!(detail.contains("2 segments, UCS-2 (81 units)"), "{detail}");
    assert!(detail.contains("SMSAPI"), "{detail}");

    let reqs = requests(&server).await;
    let req = &reqs[0];
    assert_eq!(
        req.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    let f = form(req);
    assert_eq!(field(&f, "to"), Some("48601234567"));
    assert_eq!(field(&f, "message"), Some(POLISH));
    assert_eq!(field(&f, "from"), Some("Przyklad"));
    assert_eq!(field(&f, "encoding"), Some("utf-8"));
    assert_eq!(field(&f, "format"), Some("json"));
    // The delivery id, the same on every try, so SMSAPI refuses a repeat.
    assert_eq!(field(&f, "idx"), Some("9"));
    assert_eq!(field(&f, "check_idx"), Some("1"));
    assert_eq!(f.len(), 7, "{f:?}");
}

#[tokio::test]
async fn smsapi_without_any_sender_leaves_from_out_and_the_preset_sender_fills_in() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(smsapi_ok())
        .mount(&server)
        .await;
    assert!(
        smsapi(&server, None)
            .send_sms(1, &sms("Hello", None))
            .await
            .is_delivered()
    );
    assert!(
        smsapi(&server, Some("Biuro"))
            .send_sms(2, &sms("Hello", None))
            .await
            .is_delivered()
    );
    let reqs = requests(&server).await;
    let (first, second) = (form(&reqs[0]), form(&reqs[1]));
    assert_eq!(field(&first, "from"), None, "{first:?}");
    assert_eq!(field(&second, "from"), Some("Biuro"));
    assert_eq!(field(&second, "idx"), Some("2"));
}

#[tokio::test]
async fn smsapi_error_sent_with_http_200_is_permanent_with_its_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "error": 13,
            "message": "No correct phone numbers"
        })))
        .mount(&server)
        .await;
    let outcome = smsapi(&server, None).send_sms(9, &sms(POLISH, None)).await;
    let Outcome::Permanent { detail } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(detail.contains("code 13"), "{detail}");
    assert!(detail.contains("No correct phone numbers"), "{detail}");
    assert!(detail.contains("+48601234567"), "{detail}");
    assert!(
        detail.contains("check the contact's phone number"),
        "{detail}"
    );
}

#[tokio::test]
async fn smsapi_codes_override_the_http_status() {
    let server = MockServer::start().await;
    let gateway = smsapi(&server, None);
    let answer = |code: u32, message: &str| {
        ResponseTemplate::new(200).set_body_json(json!({"error": code, "message": message}))
    };

    // An idx sent before: the earlier try went out.
    Mock::given(method("POST"))
        .respond_with(answer(53, "Not unique idx"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let outcome = gateway.send_sms(9, &sms("Hello", None)).await;
    let Outcome::Delivered {
        provider_id,
        detail,
    } = &outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(provider_id, &None);
    assert!(detail.contains("not sent again"), "{detail}");

    // Too many requests at once: worth another try.
    Mock::given(method("POST"))
        .respond_with(answer(202, "Too many simultaneous requests"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let outcome = gateway.send_sms(9, &sms("Hello", None)).await;
    assert!(
        matches!(&outcome, Outcome::Transient { detail } if detail.contains("code 202")),
        "{outcome:?}"
    );

    // A wrong token: permanent, and the detail says where the token comes from.
    Mock::given(method("POST"))
        .respond_with(answer(101, "Authorization failed"))
        .mount(&server)
        .await;
    let outcome = gateway.send_sms(9, &sms("Hello", None)).await;
    let Outcome::Permanent { detail } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(detail.contains("SMSAPI_TOKEN"), "{detail}");
    assert!(detail.contains("Authorization failed"), "{detail}");
}

#[tokio::test]
async fn twilio_posts_basic_auth_and_its_form_and_keeps_the_sid() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
        )))
        .and(basic_auth(TWILIO_SID, TWILIO_TOKEN))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
            "status": "queued",
            "error_code": null,
            "error_message": null,
            "num_segments": "1"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = twilio(&server)
        .send_sms(4, &sms("Invoice FV/1 is due.", None))
        .await;
    let Outcome::Delivered {
        provider_id,
        detail,
    } = &outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        provider_id.as_deref(),
        Some("SM1f0e8ae6ade43cb3c0ce4525424e404f")
    );
    assert!(detail.contains("1 segment, GSM-7"), "{detail}");

    let reqs = requests(&server).await;
    // base64("AC0123456789abcdef0123456789abcdef:twilio-secret-7Q"), worked out apart.
    assert_eq!(
        reqs[0].headers.get("authorization").unwrap(),
        "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0d2lsaW8tc2VjcmV0LTdR"
    );
    let f = form(&reqs[0]);
    assert_eq!(field(&f, "To"), Some("+48601234567"));
    assert_eq!(field(&f, "From"), Some("+15005550006"));
    assert_eq!(field(&f, "Body"), Some("Invoice FV/1 is due."));
    assert_eq!(f.len(), 3, "{f:?}");
}

#[tokio::test]
async fn twilio_4xx_is_permanent_with_code_and_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": 21211,
            "message": "The 'To' number +48601234567 is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400
        })))
        .mount(&server)
        .await;
    let outcome = twilio(&server).send_sms(4, &sms("Hi", Some("Biuro"))).await;
    let Outcome::Permanent { detail } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(detail.contains("HTTP 400"), "{detail}");
    assert!(detail.contains("code 21211"), "{detail}");
    assert!(detail.contains("is not a valid phone number"), "{detail}");
    // The message's own sender wins over the preset's.
    assert_eq!(
        field(&form(&requests(&server).await[0]), "From"),
        Some("Biuro")
    );
}

#[tokio::test]
async fn an_unknown_4xx_is_permanent_and_401_points_at_the_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422).set_body_string("unprocessable"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": "Authorization failed", "error": "invalid_token"
        })))
        .mount(&server)
        .await;
    let gateway = smsapi(&server, None);
    let outcome = gateway.send_sms(1, &sms("Hi", None)).await;
    assert!(
        matches!(&outcome, Outcome::Permanent { detail } if detail.contains("HTTP 422") && detail.contains("unprocessable")),
        "{outcome:?}"
    );
    let outcome = gateway.send_sms(1, &sms("Hi", None)).await;
    let Outcome::Permanent { detail } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(detail.contains("HTTP 401"), "{detail}");
    assert!(detail.contains("SMSAPI_TOKEN"), "{detail}");
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "30")
                .set_body_json(json!({"code": 20429, "message": "Too Many Requests"})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>maintenance</html>"))
        .mount(&server)
        .await;
    let gateway = twilio(&server);
    let outcome = gateway.send_sms(1, &sms("Hi", None)).await;
    let Outcome::Transient { detail } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(detail.contains("HTTP 429"), "{detail}");
    assert!(detail.contains("wait 30 s"), "{detail}");
    let outcome = gateway.send_sms(1, &sms("Hi", None)).await;
    let Outcome::Transient { detail } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(detail.contains("HTTP 503"), "{detail}");
    assert!(detail.contains("maintenance"), "{detail}");
}

#[tokio::test]
async fn no_answer_within_the_timeout_is_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(smsapi_ok().set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let mut s =
        SmsGatewaySettings::smsapi(Secret::new(SMSAPI_TOKEN), None).with_base_url(&server.uri());
    s.timeout = Duration::from_millis(300);
    let gateway = SmsGateway::new(s).unwrap();
    let started = Instant::now();
    let outcome = gateway.send_sms(1, &sms("Hi", None)).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let Outcome::Transient { detail } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(detail.contains("did not answer within 0.3 s"), "{detail}");
    // SMSAPI got the idx, so the detail can promise no double send.
    assert!(detail.contains("refuses the repeat"), "{detail}");
}

/// A port nothing listens on: bound, then let go.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    let s = SmsGatewaySettings::twilio(TWILIO_SID, Secret::new(TWILIO_TOKEN), "+15005550006")
        .with_base_url(&format!("http://127.0.0.1:{}", closed_port()));
    let outcome = SmsGateway::new(s)
        .unwrap()
        .send_sms(1, &sms("Hi", None))
        .await;
    let Outcome::Transient { detail } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(detail.contains("cannot reach Twilio"), "{detail}");
    assert!(detail.to_lowercase().contains("refused"), "{detail}");
}

/// A gateway that takes the token in the query and a header: the worst case for
/// leaks, since errors like to quote URLs.
fn leaky_settings(base: &str) -> SmsGatewaySettings {
    let mut s = SmsGatewaySettings::new(
        "Leaky",
        HttpMethod::Post,
        format!("{base}/send?key={{token}}&to={{to}}"),
    );
    s.headers = vec![("X-Api-Key".into(), "{token}".into())];
    s.body = GatewayBody::Form(vec![("text".into(), "{text}".into())]);
    s.token = Some(Secret::new("leak/me+now"));
    s.response.provider_id = Some("/echo".into());
    s.timeout = Duration::from_millis(300);
    s
}

#[tokio::test]
async fn the_token_never_shows_in_outcomes_or_debug_output() {
    const TOKEN: &str = "leak/me+now";
    let encoded = ["leak%2Fme%2Bnow", "leak%2Fme+now"];
    let no_token = |text: &str| {
        assert!(!text.contains(TOKEN), "{text}");
        for e in encoded {
            assert!(!text.contains(e), "{text}");
        }
    };
    let server = MockServer::start().await;
    // The first answer echoes the key back as the message id, the second in an error.
    Mock::given(method("POST"))
        .and(header("x-api-key", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"echo": TOKEN})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_string(format!("key {TOKEN} (leak%2Fme%2Bnow) is not allowed")),
        )
        .mount(&server)
        .await;
    let settings = leaky_settings(&server.uri());
    no_token(&format!("{settings:?}"));
    let gateway = SmsGateway::new(settings).unwrap();
    no_token(&format!("{gateway:?}"));

    let delivered = gateway.send_sms(1, &sms("Hi", None)).await;
    assert!(delivered.is_delivered(), "{delivered:?}");
    no_token(&format!("{delivered:?}"));
    let refused = gateway.send_sms(1, &sms("Hi", None)).await;
    assert!(matches!(refused, Outcome::Permanent { .. }), "{refused:?}");
    no_token(&format!("{refused:?}"));
    // The key did go out: the request really carried it.
    let reqs = requests(&server).await;
    assert_eq!(
        reqs[0]
            .url
            .query_pairs()
            .find(|(k, _)| k == "key")
            .unwrap()
            .1,
        TOKEN
    );

    let unreachable = SmsGateway::new(leaky_settings(&format!(
        "http://127.0.0.1:{}",
        closed_port()
    )))
    .unwrap()
    .send_sms(1, &sms("Hi", None))
    .await;
    assert!(
        matches!(unreachable, Outcome::Transient { .. }),
        "{unreachable:?}"
    );
    no_token(&format!("{unreachable:?}"));

    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&slow)
        .await;
    let timed_out = SmsGateway::new(leaky_settings(&slow.uri()))
        .unwrap()
        .send_sms(1, &sms("Hi", None))
        .await;
    assert!(
        matches!(timed_out, Outcome::Transient { .. }),
        "{timed_out:?}"
    );
    no_token(&format!("{timed_out:?}"));
}

#[tokio::test]
async fn a_message_over_max_segments_is_refused_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(smsapi_ok())
        .mount(&server)
        .await;
    let gateway = smsapi(&server, None);
    // 6 UCS-2 segments hold 6 × 67 = 402 units; 403 need a seventh.
    let at_limit = format!("ł{}", "a".repeat(401));
    let over = format!("ł{}", "a".repeat(402));

    let outcome = gateway.send_sms(1, &sms(&over, None)).await;
    let Outcome::Permanent { detail } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(detail.contains("needs 7 segments"), "{detail}");
    assert!(detail.contains("max_segments = 6"), "{detail}");
    assert!(detail.contains("UCS-2"), "{detail}");
    assert!(detail.contains("'ł'"), "{detail}");
    assert!(requests(&server).await.is_empty());

    let outcome = gateway.send_sms(2, &sms(&at_limit, None)).await;
    assert!(
        matches!(&outcome, Outcome::Delivered { detail, .. } if detail.contains("6 segments, UCS-2 (402 units)")),
        "{outcome:?}"
    );
    assert_eq!(requests(&server).await.len(), 1);
}

fn json_gateway(server: &MockServer) -> SmsGateway {
    let mut s = SmsGatewaySettings::new(
        "Acme SMS",
        HttpMethod::Post,
        format!("{}/v1/accounts/{{account}}/messages", server.uri()),
    );
    s.headers = vec![
        ("X-Api-Key".into(), "{token}".into()),
        ("X-Request-Id".into(), "herald-{id}".into()),
    ];
    s.body = GatewayBody::Json(json!({
        "to": "{to}",
        "text": "{text}",
        "sender": "{sender}",
        "meta": {"ref": "{{delivery}} {id}", "tags": ["sms", "{to_digits}"]},
        "priority": 1,
        "flash": false
    }));
    s.token = Some(Secret::new("acme-key"));
    s.account = Some("acct 7/x".into());
    s.response = ResponseRules {
        success_if: Some("/data/id".into()),
        failure_if: Some("/error".into()),
        provider_id: Some("/data/id".into()),
        error_code: Some("/error/code".into()),
        error_message: Some("/error/text".into()),
        codes: Vec::new(),
    };
    SmsGateway::new(s).unwrap()
}

#[tokio::test]
async fn a_json_gateway_escapes_the_text_and_sends_its_headers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/accounts/acct%207%2Fx/messages"))
        .and(header("x-api-key", "acme-key"))
        .and(header("x-request-id", "herald-31"))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"data": {"id": 7001}})))
        .expect(1)
        .mount(&server)
        .await;
    let text = "He said \"pay {now}\",\nthen left\\ \t tab; ąę";
    let outcome = json_gateway(&server).send_sms(31, &sms(text, None)).await;
    assert!(
        matches!(&outcome, Outcome::Delivered { provider_id: Some(id), .. } if id == "7001"),
        "{outcome:?}"
    );
    let reqs = requests(&server).await;
    let body: serde_json::Value = serde_json::from_slice(&reqs[0].body).unwrap();
    // The text arrives as it was written; the unset sender is left out.
    assert_eq!(
        body,
        json!({
            "to": "+48601234567",
            "text": text,
            "meta": {"ref": "{delivery} 31", "tags": ["sms", "48601234567"]},
            "priority": 1,
            "flash": false
        })
    );
}

#[tokio::test]
async fn a_2xx_that_says_error_or_lacks_the_id_is_permanent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "error": {"code": "E_BALANCE", "text": "balance too low"}
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("<html>Welcome to the hotel wifi</html>", "text/html"),
        )
        .mount(&server)
        .await;
    let gateway = json_gateway(&server);
    let outcome = gateway.send_sms(1, &sms("Hi", None)).await;
    assert!(
        matches!(&outcome, Outcome::Permanent { detail } if detail.contains("code E_BALANCE: balance too low")),
        "{outcome:?}"
    );
    let outcome = gateway.send_sms(1, &sms("Hi", None)).await;
    assert!(
        matches!(&outcome, Outcome::Permanent { detail } if detail.contains("without /data/id") && detail.contains("hotel wifi")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_get_gateway_percent_encodes_values_in_the_url() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/send"))
        .respond_with(ResponseTemplate::new(200).set_body_string("OK 123"))
        .expect(1)
        .mount(&server)
        .await;
    let s = SmsGatewaySettings::new(
        "Plain",
        HttpMethod::Get,
        format!(
            "{}/api/send?to={{to}}&msg={{text}}&from={{sender}}",
            server.uri()
        ),
    );
    let text = "a&b=c +1 100% zł #x";
    let outcome = SmsGateway::new(s)
        .unwrap()
        .send_sms(1, &sms(text, Some("Biuro")))
        .await;
    assert!(
        matches!(
            &outcome,
            Outcome::Delivered {
                provider_id: None,
                ..
            }
        ),
        "{outcome:?}"
    );
    let reqs = requests(&server).await;
    let query: Vec<(String, String)> = reqs[0].url.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        vec![
            ("to".to_owned(), "+48601234567".to_owned()),
            ("msg".to_owned(), text.to_owned()),
            ("from".to_owned(), "Biuro".to_owned()),
        ]
    );
    assert!(reqs[0].body.is_empty());
}

#[tokio::test]
async fn a_line_break_bound_for_a_header_is_refused_without_sending() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let mut s = SmsGatewaySettings::new("Hdr", HttpMethod::Post, server.uri());
    s.headers = vec![("X-Text".into(), "{text}".into())];
    let outcome = SmsGateway::new(s)
        .unwrap()
        .send_sms(1, &sms("two\r\nX-Evil: 1", None))
        .await;
    assert!(
        matches!(&outcome, Outcome::Permanent { detail } if detail.contains("header x-text")),
        "{outcome:?}"
    );
    assert!(requests(&server).await.is_empty());
}

#[test]
fn mistakes_in_the_settings_are_refused_when_the_gateway_is_made() {
    let err = |s: SmsGatewaySettings| SmsGateway::new(s).unwrap_err().to_string();

    let typo = SmsGatewaySettings::new("G", HttpMethod::Get, "https://h.example/?to={recipent}");
    let text = err(typo);
    assert!(text.contains("{recipent} in the url"), "{text}");

    let mut no_token = SmsGatewaySettings::new("G", HttpMethod::Post, "https://h.example/");
    no_token.headers = vec![("Authorization".into(), "Bearer {token}".into())];
    let text = err(no_token);
    assert!(
        text.contains("header authorization uses {token} but no token"),
        "{text}"
    );

    let mut no_account =
        SmsGatewaySettings::twilio(TWILIO_SID, Secret::new(TWILIO_TOKEN), "+15005550006");
    no_account.account = None;
    assert!(err(no_account).contains("{account}"));

    let text = err(SmsGatewaySettings::new(
        "G",
        HttpMethod::Get,
        "ftp://h.example/",
    ));
    assert!(text.contains("not usable as an http(s) URL"), "{text}");

    let mut bad_header = SmsGatewaySettings::new("G", HttpMethod::Get, "https://h.example/");
    bad_header.headers = vec![("X Key".into(), "1".into())];
    assert!(err(bad_header).contains("'X Key' cannot be an HTTP header name"));

    let mut json = SmsGatewaySettings::new("G", HttpMethod::Post, "https://h.example/");
    json.body = GatewayBody::Json(json!({"a": ["{txt}"]}));
    assert!(err(json).contains("{txt} in the JSON body"));
}
