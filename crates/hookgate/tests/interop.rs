//! Interop with the providers' own SDKs, run at test time: what `stripe`, `standardwebhooks`,
//! `svix`, `slack-sdk`, `twilio` (PyPI) and `@octokit/webhooks-methods` (npm) sign,
//! `hookgate verify` accepts, and what `hookgate sign` produces, those SDKs' verifiers accept.
//! Test vectors copied from docs catch a misread rule once; this catches the day a rule and an
//! SDK drift apart, byte for byte, through the real binary.
//!
//! The SDKs live in `target/interop` (a venv and a node_modules folder, pinned in
//! `tests/interop/requirements.txt` and `package-lock.json`), installed by
//! `tests/interop/setup.sh`, which `.ci/run` calls. Without them every test here fails and says
//! how to install them: an interop test that passes without running an SDK would prove nothing.
//! `HOOKGATE_SKIP_INTEROP=1` skips them explicitly (offline work), and says so.
//!
//! The drivers (`tests/interop/sdk.py`, `tests/interop/octokit.mjs`) exit 0 when the SDK
//! accepts and 1 when it rejects; anything else is a broken driver and fails the test, so a
//! crash can never pass for a rejection.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::Once,
    time::{SystemTime, UNIX_EPOCH},
};

use sha2::{Digest, Sha256};

/// SDK-signed requests are stamped at this fixed time, and `hookgate verify --now` checks them
/// 30 s later, so they never go stale. hookgate's own headers are signed at the real time:
/// most SDK verifiers read the real clock (five-minute windows for Stripe, Standard Webhooks,
/// Svix and Slack).
const SDK_SIGNED_AT: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const CHECKED_AT: i64 = SDK_SIGNED_AT + 30;

/// Where the installed SDKs and the drivers are.
#[derive(Debug)]
struct Sdks {
    python: PathBuf,
    node_dir: PathBuf,
    drivers: PathBuf,
}

/// The installed SDKs, `None` when skipped on purpose; a missing or stale install fails.
fn sdks() -> Option<Sdks> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .ancestors()
        .nth(2)
        .expect("crates/hookgate is two below the root");
    let drivers = manifest.join("tests/interop");
    let interop = root.join("target/interop");
    if std::env::var("HOOKGATE_SKIP_INTEROP").as_deref() == Ok("1") {
        // Straight to stderr, past the test harness's capture, so a skip is never silent.
        static SAID: Once = Once::new();
        SAID.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "interop: HOOKGATE_SKIP_INTEROP=1, skipped: no provider SDK was run"
            );
        });
        return None;
    }
    let sdks = Sdks {
        python: interop.join("venv/bin/python"),
        node_dir: interop.join("node"),
        drivers,
    };
    // setup.sh writes each stamp (a copy of the pin file) after a successful install.
    for (stamp, pins) in [
        ("venv/.installed-from", "requirements.txt"),
        ("node/.installed-from", "package-lock.json"),
    ] {
        let installed = std::fs::read(interop.join(stamp)).ok();
        let wanted = std::fs::read(sdks.drivers.join(pins)).unwrap();
        let problem = match installed {
            Some(installed) if installed == wanted => continue,
            Some(_) => format!("were installed from another tests/interop/{pins}"),
            None => "are not installed".to_owned(),
        };
        panic!(
            "the provider SDKs in {} {problem}: run \
             `bash crates/hookgate/tests/interop/setup.sh` from the workspace root (needs \
             python3 and node >= 20 with npm; reaches PyPI and npm), or set \
             HOOKGATE_SKIP_INTEROP=1 to skip these tests on purpose",
            interop.display(),
        );
    }
    Some(sdks)
}

/// An SDK, as its driver names it.
#[derive(Debug, Clone, Copy)]
enum Sdk {
    /// A `sdk.py` name: stripe, standardwebhooks, svix, slack, twilio.
    Python(&'static str),
    /// `@octokit/webhooks-methods`, through `octokit.mjs`.
    Octokit,
}

/// One provider's story, told against its SDK.
#[derive(Debug, Clone, Copy)]
struct Case<'a> {
    provider: &'static str,
    sdk: Sdk,
    secret: &'static str,
    /// Another secret of the same form: not the signer's.
    other_secret: &'static str,
    body: &'static str,
    content_type: &'static str,
    url: &'a str,
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Accepted,
    Rejected,
}

/// Runs a command, keeping a transcript for failure messages.
fn run(command: &mut Command) -> (Output, String) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let transcript = format!(
        "{command:?}\n  exit: {:?}\n  stdout: {}\n  stderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).trim(),
        String::from_utf8_lossy(&output.stderr).trim(),
    );
    (output, transcript)
}

/// Exit 0 accepted, 1 rejected; anything else (a usage error, a crashed driver) fails here.
fn verdict(command: &mut Command) -> (Verdict, String) {
    let (output, transcript) = run(command);
    match output.status.code() {
        Some(0) => (Verdict::Accepted, transcript),
        Some(1) => (Verdict::Rejected, transcript),
        _ => panic!("neither accepted nor rejected:\n{transcript}"),
    }
}

/// The `Name: value` lines a signer printed.
fn header_lines(command: &mut Command) -> Vec<String> {
    let (output, transcript) = run(command);
    assert!(output.status.success(), "signing failed:\n{transcript}");
    let lines: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(!lines.is_empty(), "no headers:\n{transcript}");
    lines
}

fn driver(sdks: &Sdks, sdk: Sdk, action: &str) -> Command {
    match sdk {
        Sdk::Python(name) => {
            let mut command = Command::new(&sdks.python);
            command
                .arg(sdks.drivers.join("sdk.py"))
                .args([name, action]);
            command
        }
        Sdk::Octokit => {
            let mut command = Command::new("node");
            command
                .arg(sdks.drivers.join("octokit.mjs"))
                .arg(&sdks.node_dir)
                .arg(action);
            command
        }
    }
}

fn sdk_sign(sdks: &Sdks, case: &Case<'_>, url: &str, body: &Path) -> Vec<String> {
    let mut command = driver(sdks, case.sdk, "sign");
    command
        .args(["--secret", case.secret])
        .arg("--body-file")
        .arg(body);
    if let Sdk::Python(_) = case.sdk {
        command.args(["--url", url, "--id", "msg_2zVn8M5bJd0pT3X"]);
        command.args(["--timestamp", &SDK_SIGNED_AT.to_string()]);
    }
    header_lines(&mut command)
}

fn sdk_verify(
    sdks: &Sdks,
    case: &Case<'_>,
    secrets: &[&str],
    headers: &[String],
    body: &Path,
) -> (Verdict, String) {
    let mut command = driver(sdks, case.sdk, "verify");
    for secret in secrets {
        command.args(["--secret", secret]);
    }
    for header in headers {
        command.args(["--header", header]);
    }
    command.arg("--body-file").arg(body);
    if let Sdk::Python(_) = case.sdk {
        command.args(["--url", case.url]);
    }
    verdict(&mut command)
}

fn hookgate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hookgate"))
}

fn hookgate_sign(case: &Case<'_>, body: &Path, now: i64) -> Vec<String> {
    header_lines(
        hookgate()
            .args(["sign", "--provider", case.provider, "--secret", case.secret])
            .args([
                "--url",
                case.url,
                "--now",
                &now.to_string(),
                "--id",
                "msg_hookgate1",
            ])
            .arg("--body-file")
            .arg(body),
    )
}

fn hookgate_verify(
    case: &Case<'_>,
    secrets: &[&str],
    headers: &[String],
    url: &str,
    body: &Path,
) -> (Verdict, String) {
    let mut command = hookgate();
    command.args(["verify", "--provider", case.provider]);
    for secret in secrets {
        command.args(["--secret", secret]);
    }
    // As a server would see the request: the provider's headers plus its content type.
    command.args(["--header", &format!("Content-Type: {}", case.content_type)]);
    for header in headers {
        command.args(["--header", header]);
    }
    command
        .args(["--url", url, "--now", &CHECKED_AT.to_string()])
        .arg("--body-file")
        .arg(body);
    verdict(&mut command)
}

/// The body with its last letter or digit changed: still valid JSON or form data, so the
/// only thing wrong with it is the signature.
fn tampered(body: &str) -> String {
    let mut bytes = body.as_bytes().to_vec();
    let at = bytes
        .iter()
        .rposition(u8::is_ascii_alphanumeric)
        .expect("something to tamper with");
    bytes[at] = match bytes[at] {
        b'0' => b'1',
        b'1'..=b'9' => b'0',
        b'x' => b'y',
        _ => b'x',
    };
    String::from_utf8(bytes).unwrap()
}

fn unix_now() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

fn assert_verdict(expected: &Verdict, (actual, transcript): (Verdict, String), what: &str) {
    assert_eq!(&actual, expected, "{what}:\n{transcript}");
}

/// Both directions for one provider:
/// 1. the SDK signs → `hookgate verify` accepts it, also as the second of two secrets
///    (rotation), and rejects it under another secret or over a tampered body;
/// 2. `hookgate sign` → the SDK accepts it, and rejects it over a tampered body (which
///    shows the driver can say no).
fn interop_story(case: &Case<'_>) {
    let Some(sdks) = sdks() else { return };
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body");
    let tampered_body = dir.path().join("tampered");
    std::fs::write(&body, case.body).unwrap();
    std::fs::write(&tampered_body, tampered(case.body)).unwrap();
    let name = case.provider;

    let signed = sdk_sign(&sdks, case, case.url, &body);
    let checks = [
        (
            &[case.secret][..],
            &body,
            Verdict::Accepted,
            "hookgate verify rejects what the SDK signed",
        ),
        (
            &[case.other_secret, case.secret][..],
            &body,
            Verdict::Accepted,
            "hookgate verify rejects the SDK's signature under the second secret (rotation)",
        ),
        (
            &[case.other_secret][..],
            &body,
            Verdict::Rejected,
            "hookgate verify accepts the SDK's signature under another secret",
        ),
        (
            &[case.secret][..],
            &tampered_body,
            Verdict::Rejected,
            "hookgate verify accepts the SDK's signature over a tampered body",
        ),
    ];
    for (secrets, body, expected, what) in checks {
        assert_verdict(
            &expected,
            hookgate_verify(case, secrets, &signed, case.url, body),
            &format!("{name}: {what}"),
        );
    }

    let signed = hookgate_sign(case, &body, unix_now());
    assert_verdict(
        &Verdict::Accepted,
        sdk_verify(&sdks, case, &[case.secret], &signed, &body),
        &format!("{name}: the SDK rejects what hookgate sign produced"),
    );
    assert_verdict(
        &Verdict::Rejected,
        sdk_verify(&sdks, case, &[case.secret], &signed, &tampered_body),
        &format!("{name}: the SDK accepts hookgate's signature over a tampered body"),
    );
}

// Bodies carry non-ASCII text: every SDK here signs the UTF-8 bytes, and so must hookgate.

#[test]
fn stripe() {
    interop_story(&Case {
        provider: "stripe",
        sdk: Sdk::Python("stripe"),
        // Stripe keys the HMAC with the whole `whsec_…` string, prefix included.
        secret: "whsec_test_4eC39HqLyjWDarjtT1zdp7dc",
        other_secret: "whsec_test_Bq8Zp0mHq1xkT7vRnWcLs2Fa",
        body: r#"{"id":"evt_1QInterop","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":2000,"description":"café ☕"}}}"#,
        content_type: "application/json; charset=utf-8",
        url: "https://example.com/in/stripe",
    });
}

#[test]
fn standard_webhooks() {
    interop_story(&Case {
        provider: "standard-webhooks",
        sdk: Sdk::Python("standardwebhooks"),
        // `whsec_` then the base64 of the key bytes.
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        other_secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        body: r#"{"type":"invoice.paid","timestamp":"2026-01-01T00:00:00Z","data":{"id":"inv_1","note":"naïve – ok"}}"#,
        content_type: "application/json",
        url: "https://example.com/in/standard-webhooks",
    });
}

#[test]
fn svix() {
    interop_story(&Case {
        provider: "svix",
        sdk: Sdk::Python("svix"),
        secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        other_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        body: r#"{"eventType":"user.created","data":{"id":"u_1","name":"Zoë"}}"#,
        content_type: "application/json",
        url: "https://example.com/in/svix",
    });
}

#[test]
fn slack() {
    interop_story(&Case {
        provider: "slack",
        sdk: Sdk::Python("slack"),
        secret: "8f742231b10e8888abcd99yyyzzz85a5",
        other_secret: "d3b07384d113edec49eaa6238ad5ff00",
        body: r#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","team_id":"T0001","type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention","text":"héllo <@U0LAN0Z89>"}}"#,
        content_type: "application/json",
        url: "https://example.com/in/slack",
    });
}

/// Twilio signs the full URL plus the form parameters sorted by name, then value (repeated
/// `MediaUrl` names here), form-decoded (`+`, `%2B`, UTF-8), empty values included.
#[test]
fn twilio_form() {
    interop_story(&Case {
        provider: "twilio",
        sdk: Sdk::Python("twilio"),
        secret: "12345abcdef67890abcdef1234567890",
        other_secret: "0987654321fedcba0987654321fedcba",
        body: "ToCountry=US&Body=Hello+w%C3%B6rld%21&From=%2B15005550006&To=%2B15005550001&MediaUrl=https%3A%2F%2Fexample.com%2Fb.png&MediaUrl=https%3A%2F%2Fexample.com%2Fa.png&NumMedia=2&Tag=vip&Tag=vip&ApiVersion=&AccountSid=AC0123456789abcdef0123456789abcdef&MessageSid=SM0123456789abcdef0123456789abcdef",
        content_type: "application/x-www-form-urlencoded",
        url: "https://example.com/in/twilio?x=1",
    });
}

/// A JSON body is not parsed: Twilio puts its SHA-256 in the `bodySHA256` query parameter and
/// signs the URL alone. The tampered body then fails on that hash.
#[test]
fn twilio_json() {
    const BODY: &str = r#"{"event":"com.twilio.messaging.inbound-message.received","data":{"body":"héllo","from":"+15005550006"}}"#;
    let url = format!(
        "https://example.com/in/twilio?x=1&bodySHA256={}",
        hex::encode(Sha256::digest(BODY))
    );
    interop_story(&Case {
        provider: "twilio",
        sdk: Sdk::Python("twilio"),
        secret: "12345abcdef67890abcdef1234567890",
        other_secret: "0987654321fedcba0987654321fedcba",
        body: BODY,
        content_type: "application/json",
        url: &url,
    });
}

/// Twilio may or may not include the default port in the URL it signs, and the SDK accepts
/// either: a signature over `https://example.com:443/…` verifies against the configured URL
/// without the port.
#[test]
fn twilio_signed_with_default_port() {
    let Some(sdks) = sdks() else { return };
    let case = Case {
        provider: "twilio",
        sdk: Sdk::Python("twilio"),
        secret: "12345abcdef67890abcdef1234567890",
        other_secret: "0987654321fedcba0987654321fedcba",
        body: "Body=ok&From=%2B15005550006",
        content_type: "application/x-www-form-urlencoded",
        url: "https://example.com/in/twilio?x=1",
    };
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body");
    std::fs::write(&body, case.body).unwrap();
    let signed = sdk_sign(&sdks, &case, "https://example.com:443/in/twilio?x=1", &body);
    assert_verdict(
        &Verdict::Accepted,
        hookgate_verify(&case, &[case.secret], &signed, case.url, &body),
        "twilio: hookgate verify rejects a signature over the URL with its default port",
    );
}

#[test]
fn github_octokit() {
    interop_story(&Case {
        provider: "github",
        sdk: Sdk::Octokit,
        secret: "It's a Secret to Everybody",
        other_secret: "It's another secret",
        body: r#"{"action":"opened","issue":{"number":1,"title":"Ünïcode ✓"},"repository":{"full_name":"octo/hello"}}"#,
        content_type: "application/json",
        url: "https://example.com/in/github",
    });
}

/// GitHub has no rotation header, so receivers try each secret in turn; the package's
/// `verifyWithFallback` does that, and must accept hookgate's signature made with the second.
#[test]
fn github_octokit_verify_with_fallback() {
    let Some(sdks) = sdks() else { return };
    let case = Case {
        provider: "github",
        sdk: Sdk::Octokit,
        secret: "new secret",
        other_secret: "old secret",
        body: r#"{"zen":"Keep it logically awesome.","hook_id":1}"#,
        content_type: "application/json",
        url: "https://example.com/in/github",
    };
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body");
    std::fs::write(&body, case.body).unwrap();
    let signed = hookgate_sign(&case, &body, unix_now());
    assert_verdict(
        &Verdict::Accepted,
        sdk_verify(
            &sdks,
            &case,
            &[case.other_secret, case.secret],
            &signed,
            &body,
        ),
        "github: verifyWithFallback rejects hookgate's signature under the second secret",
    );
    assert_verdict(
        &Verdict::Rejected,
        sdk_verify(&sdks, &case, &[case.other_secret], &signed, &body),
        "github: octokit verify accepts hookgate's signature under another secret",
    );
}
