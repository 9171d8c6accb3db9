//! Ingest over real HTTP against a real SQLite file: signatures per provider, rotation,
//! timestamps, duplicates, limits, and the JSON error body.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

const GITHUB: &str = r#"
[[sources]]
name = "gh"
provider = "github"
secrets = ["new-secret", "It's a Secret to Everybody"]
"#;

async fn post(
    server: &TestServer,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(server.url(path))
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.unwrap()
}

async fn accepted(response: reqwest::Response) -> (String, bool) {
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let body: Value = response.json().await.unwrap();
    (
        body["id"].as_str().unwrap().to_owned(),
        body["duplicate"].as_bool().unwrap(),
    )
}

#[tokio::test]
async fn github_signatures() {
    let server = TestServer::start(GITHUB).await;
    let body = b"{\"zen\":\"Keep it logically awesome.\"}";
    let good = hmac_sha256_hex(b"It's a Secret to Everybody", body);
    let sig = |s: &str| ("x-hub-signature-256", format!("sha256={s}"));

    // Valid, with the second (older) secret: rotation.
    let (id, dup) = accepted(
        post(
            &server,
            "/in/gh",
            &[
                sig(&good),
                ("x-github-event", "ping".into()),
                ("x-github-delivery", "d1".into()),
            ],
            body,
        )
        .await,
    )
    .await;
    assert!(!dup);
    let stored = server
        .store
        .event(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.body, body);
    assert_eq!(stored.event_type.as_deref(), Some("ping"));
    assert_eq!(stored.dedup_key.as_deref(), Some("d1"));
    assert_eq!(stored.verification.secret_index, Some(1));
    assert_eq!(stored.verification.status, "verified");

    // Tampered body, wrong secret, missing and malformed signatures.
    assert_eq!(
        error_code(
            post(&server, "/in/gh", &[sig(&good)], b"{\"zen\":\"tampered\"}").await,
            401
        )
        .await,
        "invalid_signature"
    );
    let wrong = hmac_sha256_hex(b"not the secret", body);
    assert_eq!(
        error_code(post(&server, "/in/gh", &[sig(&wrong)], body).await, 401).await,
        "invalid_signature"
    );
    assert_eq!(
        error_code(post(&server, "/in/gh", &[], body).await, 401).await,
        "missing_signature"
    );
    assert_eq!(
        error_code(post(&server, "/in/gh", &[sig("zz")], body).await, 401).await,
        "malformed_signature"
    );
    // A prefix of the right signature is refused (wrong length), never compared as a prefix.
    assert_eq!(
        error_code(
            post(&server, "/in/gh", &[sig(&good[..32])], body).await,
            401
        )
        .await,
        "malformed_signature"
    );

    // Legacy SHA-1 header alone is still accepted.
    let legacy = hmac_sha1_hex(b"new-secret", body);
    let (_, dup) = accepted(
        post(
            &server,
            "/in/gh",
            &[("x-hub-signature", format!("sha1={legacy}"))],
            body,
        )
        .await,
    )
    .await;
    assert!(!dup);
}

#[tokio::test]
async fn error_messages_never_reveal_the_expected_signature() {
    let server = TestServer::start(GITHUB).await;
    let body = b"payload";
    let expected = [
        hmac_sha256_hex(b"new-secret", body),
        hmac_sha256_hex(b"It's a Secret to Everybody", body),
    ];
    let response = post(
        &server,
        "/in/gh",
        &[("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))],
        body,
    )
    .await;
    let text = response.text().await.unwrap();
    for secret_or_sig in ["new-secret", "It's a Secret", &expected[0], &expected[1]] {
        assert!(!text.contains(secret_or_sig), "{text}");
    }
}

#[tokio::test]
async fn duplicates_answer_the_first_id_and_store_nothing() {
    let server = TestServer::start(GITHUB).await;
    let body = b"{}";
    let headers = [
        (
            "x-hub-signature-256",
            format!("sha256={}", hmac_sha256_hex(b"new-secret", body)),
        ),
        (
            "x-github-delivery",
            "72d3162e-cc78-11e3-81ab-4c9367dc0958".to_owned(),
        ),
    ];
    let (first, dup) = accepted(post(&server, "/in/gh", &headers, body).await).await;
    assert!(!dup);
    for _ in 0..3 {
        let (id, dup) = accepted(post(&server, "/in/gh", &headers, body).await).await;
        assert_eq!((id.as_str(), dup), (first.as_str(), true));
    }
    let page = server
        .store
        .list_events(hookgate_store::EventQuery {
            limit: 10,
            before_seq: None,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
}

#[tokio::test]
async fn stripe_signatures_and_timestamps() {
    let server = TestServer::start(
        "[[sources]]\nname = \"stripe\"\nprovider = \"stripe\"\nsecrets = [\"whsec_test_secret\"]\ntolerance = \"5m\"",
    )
    .await;
    let body: &'static [u8] =
        br#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","type":"invoice.paid","object":"event"}"#;
    // Stripe keys the HMAC with the whole whsec_ string.
    let signed = |t: i64, key: &[u8]| {
        format!(
            "t={t},v1={},v0=ignored",
            hmac_sha256_hex(
                key,
                format!("{t}.{}", std::str::from_utf8(body).unwrap()).as_bytes()
            )
        )
    };
    let header = |v: String| [("stripe-signature", v)];

    let (id, _) = accepted(
        post(
            &server,
            "/in/stripe",
            &header(signed(now(), b"whsec_test_secret")),
            body,
        )
        .await,
    )
    .await;
    let stored = server
        .store
        .event(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.event_type.as_deref(), Some("invoice.paid"));
    assert_eq!(
        stored.dedup_key.as_deref(),
        Some("evt_1NG8Du2eZvKYlo2CUI79vXWy")
    );

    // Two v1 signatures (Stripe sends several while a secret rolls): one matching is enough.
    let t = now();
    let two = format!(
        "t={t},v1={},v1={}",
        "0".repeat(64),
        hmac_sha256_hex(
            b"whsec_test_secret",
            format!("{t}.{}", std::str::from_utf8(body).unwrap()).as_bytes()
        )
    );
    assert!(
        accepted(post(&server, "/in/stripe", &header(two), body).await)
            .await
            .1,
        "same Stripe id: a duplicate"
    );

    for (t, code) in [
        (now() - 301, "timestamp_out_of_tolerance"),
        (now() + 301, "timestamp_out_of_tolerance"),
    ] {
        assert_eq!(
            error_code(
                post(
                    &server,
                    "/in/stripe",
                    &header(signed(t, b"whsec_test_secret")),
                    body
                )
                .await,
                401
            )
            .await,
            code
        );
    }
    // The base64-decoded key (the Standard Webhooks convention) is wrong for Stripe.
    assert_eq!(
        error_code(
            post(
                &server,
                "/in/stripe",
                &header(signed(now(), b"test_secret")),
                body
            )
            .await,
            401
        )
        .await,
        "invalid_signature"
    );
    assert_eq!(
        error_code(
            post(&server, "/in/stripe", &header("v1=abc".into()), body).await,
            401
        )
        .await,
        "malformed_signature"
    );
}

#[tokio::test]
async fn standard_webhooks_signatures() {
    use base64::Engine;
    let key = b"a standard webhooks key!";
    let secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    );
    let old = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(b"the old key")
    );
    let server = TestServer::start(&format!("[[sources]]\nname = \"sw\"\nprovider = \"standard-webhooks\"\nsecrets = [\"{old}\", \"{secret}\"]")).await;
    let body: &'static [u8] = br#"{"type":"user.created","data":{}}"#;
    let headers = |id: &str, t: i64, key: &[u8]| {
        let sig = hmac_sha256_b64(
            key,
            format!("{id}.{t}.{}", std::str::from_utf8(body).unwrap()).as_bytes(),
        );
        [
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", t.to_string()),
            (
                "webhook-signature",
                format!("v1,{} v1,{sig}", "A".repeat(44)),
            ),
        ]
    };
    let (id, _) =
        accepted(post(&server, "/in/sw", &headers("msg_1", now(), key), body).await).await;
    let stored = server
        .store
        .event(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.dedup_key.as_deref(), stored.event_type.as_deref()),
        (Some("msg_1"), Some("user.created"))
    );
    assert_eq!(stored.verification.secret_index, Some(1));
    assert_eq!(
        error_code(
            post(
                &server,
                "/in/sw",
                &headers("msg_2", now() - 3600, key),
                body
            )
            .await,
            401
        )
        .await,
        "timestamp_out_of_tolerance"
    );
    assert_eq!(
        error_code(
            post(
                &server,
                "/in/sw",
                &headers("msg_3", now() + 3600, key),
                body
            )
            .await,
            401
        )
        .await,
        "timestamp_out_of_tolerance"
    );
    assert_eq!(
        error_code(
            post(&server, "/in/sw", &headers("msg_4", now(), b"wrong"), body).await,
            401
        )
        .await,
        "invalid_signature"
    );
    // The id is signed: replaying a signature under another id fails.
    let mut replayed = headers("msg_5", now(), key);
    replayed[0].1 = "msg_6".into();
    assert_eq!(
        error_code(post(&server, "/in/sw", &replayed, body).await, 401).await,
        "invalid_signature"
    );
}

#[tokio::test]
async fn generic_hmac_token_and_none() {
    let server = TestServer::start(
        r#"
        [[sources]]
        name = "custom"
        provider = "hmac"
        secrets = ["k"]
        header = "X-Signature"
        prefix = "v1="
        signed = "{timestamp}:{body}"
        timestamp_header = "X-Timestamp"
        dedup = "X-Request-Id"
        [[sources]]
        name = "tok"
        provider = "token"
        secrets = ["s3cret"]
        query = "token"
        [[sources]]
        name = "hdr"
        provider = "token"
        secrets = ["s3cret"]
        header = "Authorization"
        prefix = "Bearer "
        [[sources]]
        name = "open"
        provider = "none"
        "#,
    )
    .await;
    let body = b"hello";
    let t = now();
    let sig = hmac_sha256_hex(b"k", format!("{t}:hello").as_bytes());
    let ok = [
        ("x-signature", format!("v1={sig}")),
        ("x-timestamp", t.to_string()),
        ("x-request-id", "r1".into()),
    ];
    assert!(
        !accepted(post(&server, "/in/custom", &ok, body).await)
            .await
            .1
    );
    assert!(
        accepted(post(&server, "/in/custom", &ok, body).await)
            .await
            .1
    );
    let tampered = post(&server, "/in/custom", &ok, b"hellO").await;
    assert_eq!(error_code(tampered, 401).await, "invalid_signature");
    let wrong_key = [
        (
            "x-signature",
            format!(
                "v1={}",
                hmac_sha256_hex(b"not-k", format!("{t}:hello").as_bytes())
            ),
        ),
        ("x-timestamp", t.to_string()),
    ];
    assert_eq!(
        error_code(post(&server, "/in/custom", &wrong_key, body).await, 401).await,
        "invalid_signature"
    );
    let unsigned = [("x-timestamp", t.to_string())];
    assert_eq!(
        error_code(post(&server, "/in/custom", &unsigned, body).await, 401).await,
        "missing_signature"
    );
    let future = [
        (
            "x-signature",
            format!(
                "v1={}",
                hmac_sha256_hex(b"k", format!("{}:hello", t + 900).as_bytes())
            ),
        ),
        ("x-timestamp", (t + 900).to_string()),
    ];
    assert_eq!(
        error_code(post(&server, "/in/custom", &future, body).await, 401).await,
        "timestamp_out_of_tolerance"
    );
    let stale = [
        (
            "x-signature",
            format!(
                "v1={}",
                hmac_sha256_hex(b"k", format!("{}:hello", t - 900).as_bytes())
            ),
        ),
        ("x-timestamp", (t - 900).to_string()),
    ];
    assert_eq!(
        error_code(post(&server, "/in/custom", &stale, body).await, 401).await,
        "timestamp_out_of_tolerance"
    );

    accepted(post(&server, "/in/tok?token=s3cret", &[], body).await).await;
    assert_eq!(
        error_code(post(&server, "/in/tok?token=guess", &[], body).await, 401).await,
        "invalid_signature"
    );
    assert_eq!(
        error_code(post(&server, "/in/tok", &[], body).await, 401).await,
        "missing_signature"
    );
    accepted(
        post(
            &server,
            "/in/hdr",
            &[("authorization", "Bearer s3cret".into())],
            body,
        )
        .await,
    )
    .await;
    assert_eq!(
        error_code(
            post(
                &server,
                "/in/hdr",
                &[("authorization", "Bearer s3cre".into())],
                body
            )
            .await,
            401
        )
        .await,
        "invalid_signature"
    );

    let (id, _) = accepted(post(&server, "/in/open", &[], body).await).await;
    assert_eq!(
        server
            .store
            .event(id.parse().unwrap())
            .await
            .unwrap()
            .unwrap()
            .verification
            .status,
        "unverified"
    );
}

#[tokio::test]
async fn routing_errors_are_json() {
    let server = TestServer::start(GITHUB).await;
    assert_eq!(
        error_code(post(&server, "/in/nope", &[], b"{}").await, 404).await,
        "unknown_source"
    );
    assert_eq!(
        error_code(post(&server, "/in/%FF", &[], b"{}").await, 400).await,
        "invalid_path"
    );
    assert_eq!(
        error_code(reqwest::get(server.url("/elsewhere")).await.unwrap(), 404).await,
        "not_found"
    );
    let response = reqwest::Client::new()
        .put(server.url("/in/gh"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(error_code(response, 405).await, "method_not_allowed");
}

#[tokio::test]
async fn limits() {
    let server = TestServer::start(
        "[server]\nmax_body = \"1KiB\"\n[[sources]]\nname = \"open\"\nprovider = \"none\"",
    )
    .await;
    static BIG: [u8; 2048] = [b'x'; 2048];
    // Declared too large: refused from the headers alone.
    assert_eq!(
        error_code(post(&server, "/in/open", &[], &BIG).await, 413).await,
        "payload_too_large"
    );
    // Exactly the limit is fine.
    accepted(post(&server, "/in/open", &[], &BIG[..1024]).await).await;
    // Chunked, no length declared: cut off while reading.
    let mut chunked =
        b"POST /in/open HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..4 {
        chunked.extend_from_slice(b"200\r\n");
        chunked.extend_from_slice(&[b'y'; 512]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let answer = server.raw(&chunked, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    // A Content-Length that lies low: only the declared bytes are the body, the rest is not
    // silently accepted as part of it.
    let mut lying =
        b"POST /in/open HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
            .to_vec();
    lying.extend_from_slice(&BIG);
    let answer = server.raw(&lying, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Compressed bodies are refused.
    let gz = post(
        &server,
        "/in/open",
        &[("content-encoding", "gzip".into())],
        b"\x1f\x8b",
    )
    .await;
    assert_eq!(error_code(gz, 415).await, "unsupported_content_encoding");
    let bad_length = server
        .raw(
            b"POST /in/open HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
            Duration::from_secs(3),
        )
        .await;
    assert!(bad_length.starts_with("HTTP/1.1 400"), "{bad_length}");
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let server = TestServer::start(
        "[server]\nheader_read_timeout = \"500ms\"\nbody_read_timeout = \"500ms\"\n[[sources]]\nname = \"open\"\nprovider = \"none\"",
    )
    .await;
    // A head that never ends: the connection is closed without a request being served.
    let started = std::time::Instant::now();
    let answer = server
        .raw(
            b"POST /in/open HTTP/1.1\r\nHost: t\r\nX-Slow: ",
            Duration::from_secs(10),
        )
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "header timeout did not fire"
    );
    assert!(!answer.contains("200 OK"), "{answer}");
    // A body that stops arriving: 408 with the JSON error.
    let answer = server
        .raw(
            b"POST /in/open HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly ten b",
            Duration::from_secs(10),
        )
        .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
}

#[tokio::test]
async fn storage_failure_is_503_never_2xx() {
    let server = TestServer::start("[storage]\nmax_size = \"64KiB\"\n[server]\nmax_body = \"64KiB\"\n[[sources]]\nname = \"open\"\nprovider = \"none\"").await;
    // Incompressible (stored bodies are zstd-compressed when that pays), so each one really
    // takes 16 KiB of the 64 KiB the database may use.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let chunk: Vec<u8> = (0..16 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let mut acked = 0;
    let mut refused = None;
    for _ in 0..32 {
        let response = post(&server, "/in/open", &[], &chunk).await;
        if response.status() == 200 {
            acked += 1;
        } else {
            refused = Some(response);
            break;
        }
    }
    let response = refused.expect("a 64 KiB database must fill up");
    assert_eq!(response.headers()["retry-after"], "5");
    let text_code = error_code(response, 503).await;
    assert_eq!(text_code, "storage_unavailable");
    let page = server
        .store
        .list_events(hookgate_store::EventQuery {
            limit: 100,
            before_seq: None,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.items.len(),
        acked,
        "every acknowledged event is stored, and nothing else"
    );
}

#[tokio::test]
async fn restart_keeps_events_and_dedup_memory() {
    let server = TestServer::start(GITHUB).await;
    let body = b"{\"n\":1}";
    let headers = [
        (
            "x-hub-signature-256",
            format!("sha256={}", hmac_sha256_hex(b"new-secret", body)),
        ),
        ("x-github-delivery", "restart-1".to_owned()),
    ];
    let (id, _) = accepted(post(&server, "/in/gh", &headers, body).await).await;
    let dir = server.stop().await;
    let server = TestServer::start_in(dir, GITHUB).await;
    let event: Value = reqwest::get(server.url(&format!("/api/events/{id}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(event["body"], "{\"n\":1}");
    assert_eq!(
        accepted(post(&server, "/in/gh", &headers, body).await).await,
        (id, true)
    );
}

#[tokio::test]
async fn ip_allow_lists_believe_forwarded_for_only_from_trusted_proxies() {
    let sources = "[[sources]]\nname = \"only10\"\nprovider = \"none\"\nallow_ips = [\"10.0.0.0/8\"]\n\
                   [[sources]]\nname = \"local\"\nprovider = \"none\"\nallow_ips = [\"127.0.0.1\"]\n";
    let behind_proxy = TestServer::start(&format!(
        "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n{sources}"
    ))
    .await;
    let xff = |v: &str| [("x-forwarded-for", v.to_owned())];
    // The proxy itself (the TCP peer) is allowed on "local"; a forwarded client in 10/8 on "only10".
    accepted(post(&behind_proxy, "/in/local", &[], b"{}").await).await;
    accepted(post(&behind_proxy, "/in/only10", &xff("10.1.2.3"), b"{}").await).await;
    // The right-most untrusted hop is the client: a spoofed 10.x to its left proves nothing.
    let spoofed = post(
        &behind_proxy,
        "/in/only10",
        &xff("10.1.2.3, 203.0.113.9"),
        b"{}",
    )
    .await;
    assert_eq!(error_code(spoofed, 403).await, "ip_not_allowed");
    assert_eq!(
        error_code(post(&behind_proxy, "/in/only10", &[], b"{}").await, 403).await,
        "ip_not_allowed"
    );

    // Without trusted proxies the header is ignored entirely.
    let direct = TestServer::start(sources).await;
    let ignored = post(&direct, "/in/only10", &xff("10.1.2.3"), b"{}").await;
    assert_eq!(error_code(ignored, 403).await, "ip_not_allowed");
}

#[tokio::test]
async fn path_tokens_basic_auth_and_no_secret_is_ever_stored() {
    let server = TestServer::start(
        r#"
        [[sources]]
        name = "inpath"
        provider = "token"
        secrets = ["path-s3cret"]
        token_in_path = true
        [[sources]]
        name = "inquery"
        provider = "token"
        secrets = ["query-s3cret"]
        query = "token"
        [[sources]]
        name = "inheader"
        provider = "token"
        secrets = ["header-s3cret"]
        header = "X-Gitlab-Token"
        [[sources]]
        name = "basic"
        provider = "basic"
        secrets = ["hooks:basic-s3cret"]
        [[sources]]
        name = "gh"
        provider = "github"
        secrets = ["s"]
        "#,
    )
    .await;
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    let send = |url: String| {
        client
            .post(url)
            .header("cookie", "session=cookie-s3cret")
            .body("{}")
    };

    let (id, _) = accepted(
        send(server.url("/in/inpath/path-s3cret"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    ids.push(id);
    assert_eq!(
        error_code(
            send(server.url("/in/inpath/wrong")).send().await.unwrap(),
            401
        )
        .await,
        "invalid_signature"
    );
    assert_eq!(
        error_code(send(server.url("/in/inpath")).send().await.unwrap(), 401).await,
        "missing_signature"
    );
    // Only path-token sources answer with an extra segment.
    assert_eq!(
        error_code(
            send(server.url("/in/gh/path-s3cret")).send().await.unwrap(),
            404
        )
        .await,
        "not_found"
    );

    let (id, _) = accepted(
        send(server.url("/in/inquery?a=1&token=query-s3cret"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    ids.push(id);
    let (id, _) = accepted(
        send(server.url("/in/inheader"))
            .header("x-gitlab-token", "header-s3cret")
            .send()
            .await
            .unwrap(),
    )
    .await;
    ids.push(id);
    let (id, _) = accepted(
        send(server.url("/in/basic"))
            .basic_auth("hooks", Some("basic-s3cret"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    ids.push(id);
    let wrong = send(server.url("/in/basic"))
        .basic_auth("hooks", Some("guess"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(wrong, 401).await, "invalid_signature");

    for id in &ids {
        let text = reqwest::get(server.url(&format!("/api/events/{id}")))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for secret in [
            "path-s3cret",
            "query-s3cret",
            "header-s3cret",
            "basic-s3cret",
            "aG9va3M6YmFzaWMtczNjcmV0",
            "cookie-s3cret",
        ] {
            assert!(
                !text.contains(secret),
                "event {id} exposes {secret}: {text}"
            );
        }
        assert!(
            text.contains("[redacted]") || text.contains("***"),
            "{text}"
        );
    }
    let list = reqwest::get(server.url("/api/events"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!list.contains("s3cret"), "{list}");
}
