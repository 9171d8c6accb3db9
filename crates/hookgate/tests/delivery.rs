//! Delivery end to end: the real binary routes events to a real receiver and to real
//! commands. Filters and transforms, Standard Webhooks signatures (checked by hookgate-verify
//! and by the `standardwebhooks` PyPI library), retries on a short schedule, dead letters,
//! replay and retry, redirects not followed, 410, Retry-After, the circuit breaker, and the
//! SSRF guard.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

mod support;

use std::{
    process::Command,
    time::{Duration, SystemTime},
};

use hookgate_verify::{Provider, Request, Scheme, Verifier};
use serde_json::{json, Value};
use support::{answer, status_is, Answer, Hookgate, Receiver};

/// From the Standard Webhooks test vectors: a secret every implementation accepts.
const SIGNING_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SETTLE: Duration = Duration::from_secs(15);

fn unix_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_transform_and_signed_deliveries() {
    let rx = Receiver::start().await;
    let hg = Hookgate::start(&format!(
        r#"
[[sources]]
name = "shop"
provider = "none"
[[destinations]]
name = "billing"
type = "http"
url = "{}"
signing_secret = "{SIGNING_SECRET}"
forward_headers = ["x-request-tag"]
[[destinations]]
name = "raw"
type = "http"
url = "{}"
[[routes]]
name = "invoices"
source = "shop"
destinations = ["billing"]
filter = '.type | startswith("invoice.")'
transform = '{{id, type, amount: .data.amount, via: $event.source, tag: $event.headers["x-request-tag"]}}'
[[routes]]
source = "*"
destinations = ["raw"]
"#,
        rx.url("billing"),
        rx.url("raw")
    ))
    .await;

    let paid = hg
        .send(
            "shop",
            &json!({"id": "in_1", "type": "invoice.paid", "data": {"amount": 4200}}),
        )
        .await;
    let skipped = hg
        .send(
            "shop",
            &json!({"id": "cu_1", "type": "customer.created", "data": {}}),
        )
        .await;
    let failed = hg
        .send(
            "shop",
            &json!({"id": "in_2", "type": "invoice.payment_failed", "data": {"amount": 7}}),
        )
        .await;

    let billing = rx.wait_for("billing", 2, SETTLE).await;
    let raw = rx.wait_for("raw", 3, SETTLE).await;
    // The filter let exactly the two invoices through, transformed.
    let mut bodies: Vec<Value> = billing.iter().map(support::Received::json).collect();
    bodies.sort_by_key(|b| b["id"].as_str().unwrap().to_owned());
    assert_eq!(
        bodies,
        vec![
            json!({"id": "in_1", "type": "invoice.paid", "amount": 4200, "via": "shop", "tag": "tag-1"}),
            json!({"id": "in_2", "type": "invoice.payment_failed", "amount": 7, "via": "shop", "tag": "tag-1"}),
        ]
    );
    // The catch-all route got every event with its original bytes and content type.
    assert!(raw.iter().any(|r| r.json()["id"] == "cu_1"));
    assert!(raw
        .iter()
        .all(|r| r.header("content-type") == "application/json"));

    // Headers: the delivery id as webhook-id (stable), the event id and source, the allowed
    // original header, and never hookgate's own credentials or hop-by-hop headers.
    let verifier = Verifier::new(
        Scheme::of(Provider::StandardWebhooks).unwrap(),
        &[SIGNING_SECRET.as_bytes()],
        None,
    )
    .unwrap();
    for r in &billing {
        assert!(r.header("webhook-id").starts_with("dlv_"));
        assert!(r.header("hookgate-event-id").starts_with("evt_"));
        assert_eq!(r.header("hookgate-source"), "shop");
        assert_eq!(r.header("x-request-tag"), "tag-1");
        assert_eq!(r.header("content-type"), "application/json");
        let mut headers = http::HeaderMap::new();
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            headers.insert(name, r.header(name).parse().unwrap());
        }
        let req = Request {
            method: "POST",
            url: "/billing",
            headers: &headers,
            body: &r.body,
        };
        verifier
            .verify(&req, unix_now())
            .expect("hookgate-verify accepts every delivery's signature");
    }
    // Unsigned destination: id and timestamp, no signature.
    assert!(raw.iter().all(|r| r.header("webhook-signature").is_empty()));
    assert!(raw
        .iter()
        .all(|r| !r.header("webhook-timestamp").is_empty()));

    // A verifier nobody here wrote: the standardwebhooks PyPI library.
    if let Some(python) = support::interop_python() {
        let dump: Vec<Value> = billing
            .iter()
            .map(|r| {
                json!({
                    "headers": {
                        "webhook-id": r.header("webhook-id"),
                        "webhook-timestamp": r.header("webhook-timestamp"),
                        "webhook-signature": r.header("webhook-signature"),
                    },
                    "body": String::from_utf8(r.body.clone()).unwrap(),
                })
            })
            .collect();
        let file = hg.path().join("deliveries.json");
        std::fs::write(&file, serde_json::to_vec(&dump).unwrap()).unwrap();
        let script = "import json,sys\nfrom standardwebhooks.webhooks import Webhook\nwh = Webhook(sys.argv[1])\nn = 0\nfor d in json.load(open(sys.argv[2])):\n    wh.verify(d['body'], d['headers'])\n    n += 1\n    try:\n        wh.verify(d['body'] + ' ', d['headers'])\n        sys.exit('a tampered body verified')\n    except Exception:\n        pass\nprint(n)\n";
        let out = Command::new(python)
            .args(["-c", script, SIGNING_SECRET])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "standardwebhooks rejected a delivery: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
    }

    // The event shows where it went; the filtered one went only to "raw".
    let list = hg
        .deliveries_when(&skipped, SETTLE, |l| status_is(l, "delivered"))
        .await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["destination"], "raw");
    let list = hg
        .deliveries_when(&paid, SETTLE, |l| l.len() == 2 && status_is(l, "delivered"))
        .await;
    let billing_delivery = list.iter().find(|d| d["destination"] == "billing").unwrap();
    assert_eq!(billing_delivery["route"], "invoices");
    assert_eq!(billing_delivery["transformed"], true);
    assert_eq!(billing_delivery["attempts"][0]["status_code"], 200);
    assert_eq!(billing_delivery["attempts"][0]["response"], "answer 200");
    let _ = failed;
}

fn retrying_config(rx: &Receiver, extra: &str) -> String {
    format!(
        r#"
[[sources]]
name = "app"
provider = "none"
[[destinations]]
name = "flaky"
type = "http"
url = "{}"
retry = {{ schedule = ["100ms", "100ms"], jitter = 0.0 }}
circuit = {{ failures = 0 }}
[[destinations]]
name = "down"
type = "http"
url = "{}"
retry = {{ schedule = ["100ms", "100ms"], jitter = 0.0 }}
circuit = {{ failures = 0 }}
{extra}
[[routes]]
source = "app"
destinations = ["flaky"]
filter = '.to == "flaky"'
[[routes]]
source = "app"
destinations = ["down"]
filter = '.to == "down"'
"#,
        rx.url("flaky"),
        rx.url("down")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_dead_letters_replay_and_retry() {
    let rx = Receiver::start().await;
    rx.script("flaky", vec![answer(500), answer(500)], answer(200));
    rx.script("down", vec![], answer(500));
    let hg = Hookgate::start(&retrying_config(&rx, "")).await;

    // 500, 500, 200: delivered on the third attempt, with the same webhook-id each time.
    let flaky = hg.send("app", &json!({"to": "flaky"})).await;
    let list = hg
        .deliveries_when(&flaky, SETTLE, |l| status_is(l, "delivered"))
        .await;
    let attempts = list[0]["attempts"].as_array().unwrap();
    let codes: Vec<&Value> = attempts.iter().map(|a| &a["status_code"]).collect();
    assert_eq!(codes, [&json!(500), &json!(500), &json!(200)]);
    let ids: Vec<String> = rx
        .requests("flaky")
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(
        ids.iter().all(|id| id == &ids[0]),
        "webhook-id is stable across retries"
    );

    // Always 500: dead after the schedule (1 + 2 attempts).
    let down = hg.send("app", &json!({"to": "down"})).await;
    let list = hg
        .deliveries_when(&down, SETTLE, |l| status_is(l, "dead"))
        .await;
    assert_eq!(list[0]["attempt_count"], 3);
    assert_eq!(list[0]["last_error"], "HTTP 500");
    let dead_id = list[0]["id"].as_str().unwrap().to_owned();
    let dead = hg.get("/api/deliveries?status=dead").await;
    assert_eq!(dead["data"][0]["id"], dead_id.as_str());

    // The receiver recovers; retrying the dead delivery sends it once more, and it lands.
    rx.script("down", vec![], answer(200));
    let (status, _) = hg
        .post(&format!("/api/deliveries/{dead_id}/retry"), &Value::Null)
        .await;
    assert_eq!(status, 200);
    let list = hg
        .deliveries_when(&down, SETTLE, |l| status_is(l, "delivered"))
        .await;
    assert_eq!(list[0]["attempt_count"], 4);
    // Retrying a delivered one is refused with a reason.
    let (status, body) = hg
        .post(&format!("/api/deliveries/{dead_id}/retry"), &Value::Null)
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "already_delivered");

    // Replay: a new delivery (a new webhook-id) of the same event.
    let before = rx.requests("down").len();
    let (status, replayed) = hg
        .post(&format!("/api/events/{down}/replay"), &json!({}))
        .await;
    assert_eq!(status, 202, "{replayed}");
    let new_id = replayed["deliveries"][0]["id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, dead_id);
    let got = rx.wait_for("down", before + 1, SETTLE).await;
    assert_eq!(got.last().unwrap().header("webhook-id"), new_id);
    // Replay to one named destination.
    let (status, replayed) = hg
        .post(
            &format!("/api/events/{down}/replay"),
            &json!({"destination": "flaky"}),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(replayed["deliveries"][0]["destination"], "flaky");
    let (status, body) = hg
        .post(
            &format!("/api/events/{down}/replay"),
            &json!({"destination": "nope"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("unknown_destination"))
    );

    // Bulk retry of dead deliveries by destination.
    rx.script("down", vec![], answer(500));
    let mut dead_events = Vec::new();
    for _ in 0..3 {
        dead_events.push(hg.send("app", &json!({"to": "down"})).await);
    }
    for e in &dead_events {
        hg.deliveries_when(e, SETTLE, |l| status_is(l, "dead"))
            .await;
    }
    rx.script("down", vec![], answer(200));
    let (status, bulk) = hg
        .post(
            "/api/deliveries/retry",
            &json!({"destination": "down", "limit": 2}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (bulk["retried"].as_u64(), bulk["remaining"].as_u64()),
        (Some(2), Some(1))
    );
    let (_, bulk) = hg
        .post("/api/deliveries/retry", &json!({"destination": "down"}))
        .await;
    assert_eq!(
        (bulk["retried"].as_u64(), bulk["remaining"].as_u64()),
        (Some(1), Some(0))
    );
    for e in &dead_events {
        hg.deliveries_when(e, SETTLE, |l| status_is(l, "delivered"))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_gone_and_retry_after() {
    let rx = Receiver::start().await;
    let hg = Hookgate::start(&format!(
        r#"
[[sources]]
name = "app"
provider = "none"
[[destinations]]
name = "moved"
type = "http"
url = "{moved}"
retry = {{ schedule = [] }}
[[destinations]]
name = "gone"
type = "http"
url = "{gone}"
retry = {{ schedule = ["100ms"], jitter = 0.0 }}
circuit = {{ failures = 0 }}
[[destinations]]
name = "busy"
type = "http"
url = "{busy}"
retry = {{ schedule = ["50ms", "2s"], jitter = 0.0 }}
circuit = {{ failures = 0 }}
[[routes]]
source = "app"
destinations = ["moved"]
filter = '.to == "moved"'
[[routes]]
source = "app"
destinations = ["gone"]
filter = '.to == "gone"'
[[routes]]
source = "app"
destinations = ["busy"]
filter = '.to == "busy"'
"#,
        moved = rx.url("moved"),
        gone = rx.url("gone"),
        busy = rx.url("busy"),
    ))
    .await;

    // 3xx is a failure and is never followed, not even to loopback.
    rx.script(
        "moved",
        vec![],
        Answer {
            status: 302,
            headers: vec![("location".into(), rx.url("target"))],
            body: String::new(),
        },
    );
    let moved = hg.send("app", &json!({"to": "moved"})).await;
    let list = hg
        .deliveries_when(&moved, SETTLE, |l| status_is(l, "dead"))
        .await;
    assert_eq!(list[0]["attempts"][0]["status_code"], 302);
    assert!(list[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("not followed"));
    assert!(
        rx.requests("target").is_empty(),
        "the redirect was followed"
    );

    // 410 disables the destination: the next event waits, untried, until it is enabled.
    rx.script("gone", vec![answer(410)], answer(200));
    let first = hg.send("app", &json!({"to": "gone"})).await;
    rx.wait_for("gone", 1, SETTLE).await;
    let disabled = loop {
        let list = hg.get("/api/destinations").await;
        let gone = list
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "gone")
            .unwrap()
            .clone();
        if gone["enabled"] == false {
            break gone;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(disabled["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("410"));
    let second = hg.send("app", &json!({"to": "gone"})).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        rx.requests("gone").len(),
        1,
        "a disabled destination got a request"
    );
    let (status, _) = hg.post("/api/destinations/gone/enable", &Value::Null).await;
    assert_eq!(status, 204);
    for e in [&first, &second] {
        hg.deliveries_when(e, SETTLE, |l| status_is(l, "delivered"))
            .await;
    }

    // 429 with Retry-After: 1 waits a second, though the schedule says 50 ms; a 503 asking
    // for an hour waits only the schedule's longest step (2 s).
    let slow = |status: u16, secs: &str| Answer {
        status,
        headers: vec![("retry-after".into(), secs.into())],
        body: "slow down".into(),
    };
    rx.script("busy", vec![slow(429, "1"), slow(503, "3600")], answer(200));
    let busy = hg.send("app", &json!({"to": "busy"})).await;
    let list = hg
        .deliveries_when(&busy, SETTLE, |l| status_is(l, "delivered"))
        .await;
    assert!(list[0]["attempts"][0]["error"]
        .as_str()
        .unwrap()
        .contains("Retry-After 1s"));
    let got = rx.requests("busy");
    assert_eq!(got.len(), 3);
    let first_wait = got[1].at.duration_since(got[0].at);
    let second_wait = got[2].at.duration_since(got[1].at);
    assert!(
        first_wait >= Duration::from_millis(950),
        "Retry-After ignored: {first_wait:?}"
    );
    assert!(
        (Duration::from_millis(1900)..Duration::from_secs(4)).contains(&second_wait),
        "Retry-After not capped by the schedule: {second_wait:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circuit_opens_and_recovers() {
    let rx = Receiver::start().await;
    rx.script("svc", vec![], answer(503));
    let hg = Hookgate::start(&format!(
        r#"
[[sources]]
name = "app"
provider = "none"
[[destinations]]
name = "svc"
type = "http"
url = "{}"
max_in_flight = 1
retry = {{ schedule = ["100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms"], jitter = 0.0 }}
circuit = {{ failures = 3, cooldown = "1500ms" }}
[[routes]]
source = "app"
destinations = ["svc"]
"#,
        rx.url("svc")
    ))
    .await;
    let mut events = Vec::new();
    for i in 0..5 {
        events.push(hg.send("app", &json!({"n": i})).await);
    }
    // Three failures open the circuit; nothing is sent during the cooldown.
    rx.wait_for("svc", 3, SETTLE).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        rx.requests("svc").len(),
        3,
        "requests sent while the circuit was open"
    );
    // The receiver recovers: after the cooldown one probe succeeds and the rest follow.
    rx.script("svc", vec![], answer(200));
    for e in &events {
        hg.deliveries_when(e, SETTLE, |l| status_is(l, "delivered"))
            .await;
    }
    let got = rx.requests("svc");
    let probe = &got[3];
    assert!(
        probe.at.duration_since(got[2].at) >= Duration::from_millis(1400),
        "the probe came before the cooldown ended"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_guard_refuses_private_targets() {
    let rx = Receiver::start().await;
    let port = rx.port;
    // Every spelling of loopback, plus private and metadata addresses: with the guard on,
    // none is connected to, and each delivery is dead at once with the reason.
    let targets = [
        format!("http://127.0.0.1:{port}/x"),
        format!("http://localhost:{port}/x"),
        format!("http://[::ffff:127.0.0.1]:{port}/x"),
        format!("http://2130706433:{port}/x"),
        format!("http://0x7f.1:{port}/x"),
        format!("http://0177.0.0.1:{port}/x"),
        format!("http://127.1:{port}/x"),
        format!("http://[::1]:{port}/x"),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://10.0.0.1/x".to_owned(),
        "http://192.168.1.1/x".to_owned(),
        "http://[fd00::1]/x".to_owned(),
        format!("http://0x7f000001:{port}/x"),
        format!("http://127.255.255.254:{port}/x"),
        format!("http://0.0.0.0:{port}/x"),
        format!("http://[::]:{port}/x"),
        format!("http://[::ffff:7f00:1]:{port}/x"),
        format!("http://[64:ff9b::7f00:1]:{port}/x"),
        "http://172.16.0.1/x".to_owned(),
        "http://100.64.0.1/x".to_owned(),
        "http://[fe80::1]/x".to_owned(),
        "http://198.18.0.1/x".to_owned(),
    ];
    assert!(targets.len() >= 20);
    let mut config = String::from("[[sources]]\nname = \"app\"\nprovider = \"none\"\n");
    for (i, url) in targets.iter().enumerate() {
        config.push_str(&format!(
            "[[destinations]]\nname = \"t{i}\"\ntype = \"http\"\nurl = \"{url}\"\ndeny_private_networks = true\nretry = {{ schedule = [\"1h\"] }}\n"
        ));
    }
    // And a redirect to loopback: the guard cannot see where a 3xx points, which is why no
    // 3xx is ever followed. (This hop is loopback itself, so it runs unguarded here.)
    config.push_str(&format!(
        "[[destinations]]\nname = \"hop\"\ntype = \"http\"\nurl = \"{}\"\nretry = {{ schedule = [] }}\n",
        rx.url("hop")
    ));
    rx.script(
        "hop",
        vec![],
        Answer {
            status: 307,
            headers: vec![(
                "location".into(),
                format!("http://[::ffff:127.0.0.1]:{port}/reached"),
            )],
            body: String::new(),
        },
    );
    let mut names: Vec<String> = (0..targets.len()).map(|i| format!("\"t{i}\"")).collect();
    names.push("\"hop\"".into());
    config.push_str(&format!(
        "[[routes]]\nsource = \"app\"\ndestinations = [{}]\n",
        names.join(", ")
    ));
    let hg = Hookgate::start(&config).await;
    let event = hg.send("app", &json!({"hello": "ssrf"})).await;
    let list = hg
        .deliveries_when(&event, SETTLE, |l| {
            l.len() == targets.len() + 1 && status_is(l, "dead")
        })
        .await;
    let (hop, guarded): (Vec<_>, Vec<_>) = list.iter().partition(|d| d["destination"] == "hop");
    assert_eq!(hop[0]["attempts"][0]["status_code"], 307);
    assert!(
        rx.requests("reached").is_empty(),
        "the redirect was followed"
    );
    assert_eq!(rx.requests("hop").len(), 1);
    for d in guarded {
        let error = d["last_error"].as_str().unwrap();
        assert!(
            error.contains("private or reserved"),
            "{}: {error}",
            d["destination"]
        );
    }
    assert_eq!(rx.all().len(), 1, "the guard let a request through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_get_payload_values_verbatim_and_never_a_shell() {
    let rx = Receiver::start().await;
    let _ = rx;
    let work = tempfile::tempdir().unwrap();
    let script = work.path().join("record.sh");
    // The command under test records its argv and environment; it is the program, not a
    // shell hookgate runs it through.
    std::fs::write(
        &script,
        "#!/bin/sh\nout=\"$PWD/calls.txt\"\nfor a in \"$@\"; do printf 'arg:%s\\n' \"$a\" >> \"$out\"; done\nprintf 'env:%s\\n' \"$REPO\" >> \"$out\"\nprintf 'id:%s\\n' \"$HOOKGATE_EVENT_ID\" >> \"$out\"\ncat > \"$PWD/stdin.txt\"\necho done\n",
    )
    .unwrap();
    let hg = Hookgate::start(&format!(
        r#"
[[sources]]
name = "gh"
provider = "none"
[[destinations]]
name = "deploy"
type = "command"
command = ["/bin/sh", "{script}", "--ref", {{ jq = ".ref" }}, {{ jq = ".repository.name" }}, {{ jq = ".commits | length" }}]
env = {{ REPO = {{ jq = ".repository.full_name" }} }}
cwd = "{cwd}"
timeout = "10s"
max_in_flight = 1
[[routes]]
source = "gh"
destinations = ["deploy"]
"#,
        script = script.display(),
        cwd = work.path().display()
    ))
    .await;
    let hostile = [
        "$(touch pwned1)",
        "`touch pwned2`",
        "x; touch pwned3",
        "line\ntouch pwned4",
        "-rf",
    ];
    for (i, value) in hostile.iter().enumerate() {
        let event = hg
            .send(
                "gh",
                &json!({
                    "ref": value,
                    "repository": {"name": format!("--name={value}"), "full_name": format!("o/{value} && touch pwned5")},
                    "commits": [1, 2, i],
                }),
            )
            .await;
        let list = hg
            .deliveries_when(&event, SETTLE, |l| status_is(l, "delivered"))
            .await;
        assert_eq!(list[0]["attempts"][0]["exit_code"], 0);
        assert_eq!(list[0]["attempts"][0]["response"], "done\n");
    }
    let calls = std::fs::read_to_string(work.path().join("calls.txt")).unwrap();
    let mut expected = String::new();
    for value in &hostile {
        expected.push_str(&format!(
            "arg:--ref\narg:{value}\narg:--name={value}\narg:3\nenv:o/{value} && touch pwned5\nid:"
        ));
        let line_end = calls[expected.len()..].find('\n').unwrap();
        expected.push_str(&calls[expected.len()..expected.len() + line_end]);
        expected.push('\n');
    }
    assert_eq!(calls, expected);
    let leftovers: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("pwned"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "a payload value ran a command: {leftovers:?}"
    );
    // The body arrives on stdin, byte for byte.
    let stdin: Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join("stdin.txt")).unwrap())
            .unwrap();
    assert_eq!(stdin["ref"], "-rf");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordered_destinations_keep_order_and_rate_limits_pace() {
    let rx = Receiver::start().await;
    // The first event fails twice: an ordered destination holds everything behind it.
    rx.script("ordered", vec![answer(500), answer(500)], answer(200));
    let hg = Hookgate::start(&format!(
        r#"
[[sources]]
name = "app"
provider = "none"
[[destinations]]
name = "ordered"
type = "http"
url = "{}"
ordered = true
retry = {{ schedule = ["200ms", "200ms"], jitter = 0.0 }}
circuit = {{ failures = 0 }}
[[destinations]]
name = "paced"
type = "http"
url = "{}"
rate_limit = 10
[[routes]]
source = "app"
destinations = ["ordered"]
filter = '.to == "ordered"'
[[routes]]
source = "app"
destinations = ["paced"]
filter = '.to == "paced"'
"#,
        rx.url("ordered"),
        rx.url("paced")
    ))
    .await;
    for n in 0..5 {
        hg.send("app", &json!({"to": "ordered", "n": n})).await;
    }
    let got = rx.wait_for("ordered", 7, SETTLE).await;
    let order: Vec<i64> = got
        .iter()
        .map(|r| r.json()["n"].as_i64().unwrap())
        .collect();
    assert_eq!(
        order,
        [0, 0, 0, 1, 2, 3, 4],
        "the head is retried first, the rest wait in order"
    );

    // 10 per second, bursts of 10: 30 events need about two seconds past the first burst.
    let started = std::time::Instant::now();
    for n in 0..30 {
        hg.send("app", &json!({"to": "paced", "n": n})).await;
    }
    let got = rx.wait_for("paced", 30, SETTLE).await;
    let spread = got.last().unwrap().at.duration_since(started);
    assert!(
        spread >= Duration::from_millis(1800),
        "rate limit not applied: 30 in {spread:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_lists_retries_and_replays() {
    let rx = Receiver::start().await;
    rx.script("down", vec![], answer(500));
    let hg = Hookgate::start(&retrying_config(&rx, "")).await;
    let mut events = Vec::new();
    for _ in 0..3 {
        events.push(hg.send("app", &json!({"to": "down"})).await);
    }
    for e in &events {
        hg.deliveries_when(e, SETTLE, |l| status_is(l, "dead"))
            .await;
    }
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_hookgate"))
            .args(args)
            .args(["--server", &hg.base])
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let listed = cli(&["deliveries", "list", "--status", "dead"]);
    assert_eq!(listed.matches("dlv_").count(), 3, "{listed}");
    assert!(listed.contains("HTTP 500"), "{listed}");
    let json: Value =
        serde_json::from_str(&cli(&["deliveries", "list", "--status", "dead", "--json"])).unwrap();
    assert_eq!(json["data"].as_array().unwrap().len(), 3);

    rx.script("down", vec![], answer(200));
    let retried = cli(&["deliveries", "retry", "--dead", "--destination", "down"]);
    assert!(
        retried.contains("3 dead deliveries are due now"),
        "{retried}"
    );
    for e in &events {
        hg.deliveries_when(e, SETTLE, |l| status_is(l, "delivered"))
            .await;
    }
    let replayed = cli(&["events", "replay", &events[0], "--destination", "down"]);
    assert!(replayed.contains("→ down (pending)"), "{replayed}");
    let shown = cli(&["events", "show", &events[0]]);
    assert!(shown.contains("deliveries"), "{shown}");
    assert!(shown.contains("HTTP 500"), "{shown}");

    // A bad id is one clear line and a non-zero exit.
    let out = Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(["deliveries", "retry", "dlv_nope", "--server", &hg.base])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a delivery id"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_tail_follows_new_events() {
    let hg = Hookgate::start("[[sources]]\nname = \"*\"\nprovider = \"none\"\n").await;
    let mut tail = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(["events", "tail", "--json", "--server", &hg.base])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = tail.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    // Events stored before the watcher connected are not shown: send probes until one
    // comes through, so the test does not depend on how fast the tail process starts.
    let deadline = std::time::Instant::now() + SETTLE;
    loop {
        hg.send("probe", &json!({})).await;
        if let Ok(line) = tokio::time::timeout(Duration::from_millis(200), lines.next_line()).await
        {
            assert!(line.unwrap().unwrap().contains("\"probe\""));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "tail never showed an event"
        );
    }
    let a = hg.send("first", &json!({"n": 1})).await;
    let b = hg.send("second", &json!({"n": 2})).await;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let line = tokio::time::timeout(SETTLE, lines.next_line())
            .await
            .expect("tail printed nothing")
            .unwrap()
            .expect("tail ended");
        let e: Value = serde_json::from_str(&line).unwrap();
        if e["source"] != "probe" {
            seen.push((
                e["id"].as_str().unwrap().to_owned(),
                e["source"].as_str().unwrap().to_owned(),
            ));
        }
    }
    assert_eq!(seen, [(a, "first".to_owned()), (b, "second".to_owned())]);
    tail.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_sources_and_destination_health() {
    let rx = Receiver::start().await;
    rx.script("down", vec![], answer(500));
    let hg = Hookgate::start(&format!(
        r#"
[[sources]]
name = "gh"
provider = "github"
secrets = ["s3cret-never-shown"]
[[sources]]
name = "app"
provider = "none"
event_type = "/type"
[[destinations]]
name = "ok"
type = "http"
url = "{}"
[[destinations]]
name = "down"
type = "http"
url = "{}?key=hidden"
retry = {{ schedule = [] }}
circuit = {{ failures = 2, cooldown = "1h" }}
[[routes]]
source = "app"
destinations = ["ok"]
[[routes]]
source = "app"
destinations = ["down"]
filter = '.type == "bad"'
"#,
        rx.url("ok"),
        rx.url("down")
    ))
    .await;
    let good = hg.send("app", &json!({"type": "good"})).await;
    let mut bad = Vec::new();
    for _ in 0..2 {
        bad.push(hg.send("app", &json!({"type": "bad"})).await);
    }
    for e in &bad {
        hg.deliveries_when(e, SETTLE, |l| l.iter().any(|d| d["status"] == "dead"))
            .await;
    }
    hg.deliveries_when(&good, SETTLE, |l| status_is(l, "delivered"))
        .await;

    // Filters: by type, by delivery status (the dead-letter view), by source, by time.
    let by_type = hg.get("/api/events?type=bad").await;
    assert_eq!(by_type["data"].as_array().unwrap().len(), 2);
    let dead = hg.get("/api/events?delivery_status=dead").await;
    let ids: Vec<&str> = dead["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [bad[1].as_str(), bad[0].as_str()], "newest first");
    assert_eq!(dead["data"][0]["deliveries"]["dead"], 1);
    assert_eq!(dead["data"][0]["deliveries"]["delivered"], 1);
    assert_eq!(
        hg.get("/api/events?source=gh").await["data"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        hg.get("/api/events?until=2000-01-01T00:00:00Z").await["data"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        hg.get("/api/events?since=2000-01-01T00:00:00Z").await["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let r = reqwest::get(format!("{}/api/events?since=yesterday", hg.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Text in the body: indexed by the writer once ingest is quiet, so poll briefly.
    let needle = hg
        .send(
            "app",
            &json!({"type": "note", "text": "the quick zebra-crossing 4242"}),
        )
        .await;
    let deadline = std::time::Instant::now() + SETTLE;
    loop {
        let found = hg.get("/api/events?q=zebra-crossing%204242").await;
        let ids: Vec<&str> = found["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        if ids == [needle.as_str()] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "text search never found the event: {found}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(hg.get("/api/events?q=giraffe").await["data"]
        .as_array()
        .unwrap()
        .is_empty());
    // Query syntax and control characters in the text are searched for or dropped, never
    // interpreted, and never a 5xx.
    for odd in ["%22%20OR%20*%20NEAR(", "zebra%00crossing", "%01%02"] {
        let r = reqwest::get(format!("{}/api/events?q={odd}", hg.base))
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "q={odd}");
    }

    // Sources: ingest URLs and a ready command, never a secret.
    let sources = hg.get("/api/sources").await;
    let text = sources.to_string();
    assert!(!text.contains("s3cret"), "a secret leaked: {text}");
    let gh = sources
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "gh")
        .unwrap();
    assert_eq!(gh["ingest_url"], format!("{}/in/gh", hg.base));
    assert!(gh["try_it"].as_str().unwrap().starts_with("hookgate send"));
    assert_eq!(gh["dedup"], "header x-github-delivery");

    // Destination health: the circuit opened after two failures; the URL's query is hidden.
    let list = hg.get("/api/destinations").await;
    let down = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "down")
        .unwrap();
    assert_eq!(down["circuit"], "open");
    assert_eq!(down["consecutive_failures"], 2);
    assert_eq!(down["success_rate"], 0.0);
    assert_eq!(down["last_error"], "HTTP 500");
    assert!(!down["target"].as_str().unwrap().contains("hidden"));
    let ok = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "ok")
        .unwrap();
    assert_eq!(
        (
            ok["circuit"].as_str(),
            ok["success_rate"].as_f64(),
            ok["backlog"].as_u64()
        ),
        (Some("closed"), Some(1.0), Some(0))
    );
}
