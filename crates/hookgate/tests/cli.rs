//! The command line as users run it: the embedded default end to end (serve, curl, events
//! list/show), `check`, and `verify`/`sign` with their exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::Duration,
};

fn hookgate(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `hookgate serve` in `cwd` and returns it with the address from its banner.
fn serve(cwd: &Path, extra: &[&str]) -> (Server, String, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The banner's length depends on the config: read it on a thread and take what arrives
    // promptly, rather than waiting for a fixed number of lines.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(30)).expect("a banner");
    let addr = first.rsplit("http://").next().unwrap().trim().to_owned();
    let mut banner = vec![first];
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
        banner.push(line);
    }
    (Server(child), addr, banner)
}

#[tokio::test]
async fn embedded_default_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr, banner) = serve(dir.path(), &[]);
    let banner = banner.join("\n");
    assert!(banner.contains("embedded default"), "{banner}");
    assert!(
        banner.contains("curl -X POST"),
        "the banner shows a curl line to try: {banner}"
    );

    let response = reqwest::Client::new()
        .post(format!("http://{addr}/in/demo"))
        .header("content-type", "application/json")
        .body(r#"{"hello":"world"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let v: serde_json::Value = response.json().await.unwrap();
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["duplicate"], false);
    assert!(
        dir.path().join("hookgate.db").exists(),
        "stores in ./hookgate.db"
    );

    let server_url = format!("http://{addr}");
    let list = hookgate(&["events", "list", "--server", &server_url], dir.path());
    assert!(list.status.success(), "{}", stderr(&list));
    assert!(stdout(&list).contains(&id), "{}", stdout(&list));
    let json = hookgate(
        &["events", "list", "--server", &server_url, "--json"],
        dir.path(),
    );
    let page: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(page["data"][0]["id"], id.as_str());
    let show = hookgate(
        &["events", "show", &id, "--server", &server_url],
        dir.path(),
    );
    assert!(show.status.success(), "{}", stderr(&show));
    assert!(
        stdout(&show).contains("\"hello\": \"world\""),
        "{}",
        stdout(&show)
    );
    let missing = hookgate(
        &[
            "events",
            "show",
            "evt_0190b1f0c5a87d1f8c3b2a4e5f607182",
            "--server",
            &server_url,
        ],
        dir.path(),
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("no event"),
        "{}",
        stderr(&missing)
    );
    drop(server);

    let unreachable = hookgate(
        &["events", "list", "--server", "http://127.0.0.1:9"],
        dir.path(),
    );
    assert_eq!(unreachable.status.code(), Some(1));
    assert_eq!(
        stderr(&unreachable).lines().count(),
        1,
        "one line: {}",
        stderr(&unreachable)
    );
}

/// `hookgate events show … | head -1`: the reader leaves early and the command ends quietly
/// with success, not with a panic about a broken pipe.
#[tokio::test]
async fn output_into_a_closed_pipe_ends_quietly() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let (server, addr, _) = serve(dir.path(), &[]);
    // Far more than a pipe holds, so the command is still writing when the reader goes.
    let big: Vec<String> = (0..20_000).map(|i| format!("item-{i}")).collect();
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/in/demo"))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "items": big }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let v: serde_json::Value = response.json().await.unwrap();
    let id = v["id"].as_str().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(["events", "show", id, "--server", &format!("http://{addr}")])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    drop(server);
}

#[tokio::test]
async fn sigterm_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr, _) = serve(dir.path(), &[]);
    reqwest::Client::new()
        .post(format!("http://{addr}/in/x"))
        .body("{}")
        .send()
        .await
        .unwrap();
    Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            assert!(status.success(), "exit after SIGTERM: {status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn check_names_the_bad_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets = [\"s\"]\n[[sources]]\nname = \"b\"\nprovider = \"githb\"\n",
    )
    .unwrap();
    let out = hookgate(&["check", "--config", "bad.toml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("sources[1].provider: unknown provider \"githb\"; did you mean \"github\"?"),
        "{err}"
    );

    std::fs::write(
        dir.path().join("hookgate.toml"),
        "[[sources]]\nname = \"gh\"\nprovider = \"github\"\nsecrets = [\"${GH_SECRET}\"]\n",
    )
    .unwrap();
    let unset = hookgate(&["check"], dir.path());
    assert_eq!(unset.status.code(), Some(1));
    assert!(
        stderr(&unset).contains("sources[0].secrets[0]: environment variable GH_SECRET is not set"),
        "{}",
        stderr(&unset)
    );
    let ok = Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .arg("check")
        .env("GH_SECRET", "x")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("/in/gh"), "{}", stdout(&ok));

    let serve_bad = hookgate(&["serve", "--config", "bad.toml"], dir.path());
    assert_eq!(
        serve_bad.status.code(),
        Some(1),
        "serve refuses a bad config at start"
    );
}

#[test]
fn sign_and_verify_github_docs_vector() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("body"), "Hello, World!").unwrap();
    let secret = "It's a Secret to Everybody";
    let signed = hookgate(
        &[
            "sign",
            "--provider",
            "github",
            "--secret",
            secret,
            "--body-file",
            "body",
            "--id",
            "d1",
        ],
        dir.path(),
    );
    assert!(signed.status.success(), "{}", stderr(&signed));
    // GitHub's documented example (docs: "Validating webhook deliveries").
    assert!(stdout(&signed).contains("X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"), "{}", stdout(&signed));

    let header = "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    let valid = hookgate(
        &[
            "verify",
            "--provider",
            "github",
            "--secret",
            "old",
            "--secret",
            secret,
            "--header",
            header,
            "--body-file",
            "body",
        ],
        dir.path(),
    );
    assert_eq!(valid.status.code(), Some(0), "{}", stderr(&valid));
    assert!(stdout(&valid).contains("secret 2 of 2"));

    std::fs::write(dir.path().join("tampered"), "Hello, World?").unwrap();
    let invalid = hookgate(
        &[
            "verify",
            "--provider",
            "github",
            "--secret",
            secret,
            "--header",
            header,
            "--body-file",
            "tampered",
        ],
        dir.path(),
    );
    assert_eq!(invalid.status.code(), Some(1));
    assert!(
        stderr(&invalid).contains("invalid_signature"),
        "{}",
        stderr(&invalid)
    );
    assert!(
        !stderr(&invalid).contains("757107ea"),
        "never print the expected signature"
    );

    for usage in [
        vec![
            "verify",
            "--provider",
            "githb",
            "--secret",
            secret,
            "--body-file",
            "body",
        ],
        vec![
            "verify",
            "--provider",
            "github",
            "--secret",
            secret,
            "--body-file",
            "missing-file",
        ],
        vec![
            "verify",
            "--provider",
            "github",
            "--secret",
            secret,
            "--header",
            "no colon",
            "--body-file",
            "body",
        ],
        vec!["verify", "--provider", "github"],
        vec![
            "sign",
            "--provider",
            "github",
            "--secret",
            secret,
            "--body-file",
            "missing-file",
        ],
    ] {
        let out = hookgate(&usage, dir.path());
        assert_eq!(out.status.code(), Some(2), "{usage:?}: {}", stderr(&out));
    }
}

#[test]
fn sign_then_verify_timestamped_schemes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("body"),
        r#"{"id":"evt_1","type":"invoice.paid"}"#,
    )
    .unwrap();
    let whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    for provider in ["stripe", "standard-webhooks"] {
        let signed = hookgate(
            &[
                "sign",
                "--provider",
                provider,
                "--secret",
                whsec,
                "--body-file",
                "body",
                "--now",
                "1700000000",
                "--id",
                "msg_1",
            ],
            dir.path(),
        );
        assert!(signed.status.success(), "{provider}: {}", stderr(&signed));
        let mut args: Vec<String> = [
            "verify",
            "--provider",
            provider,
            "--secret",
            whsec,
            "--body-file",
            "body",
        ]
        .map(String::from)
        .to_vec();
        for line in stdout(&signed).lines() {
            args.extend(["--header".to_owned(), line.to_owned()]);
        }
        let at = |now: &str| {
            let mut a = args.clone();
            a.extend(["--now".to_owned(), now.to_owned()]);
            hookgate(
                &a.iter().map(String::as_str).collect::<Vec<_>>(),
                dir.path(),
            )
        };
        assert_eq!(
            at("1700000100").status.code(),
            Some(0),
            "{provider} within tolerance"
        );
        let stale = at("1700000301");
        assert_eq!(stale.status.code(), Some(1), "{provider} stale");
        assert!(
            stderr(&stale).contains("timestamp_out_of_tolerance"),
            "{}",
            stderr(&stale)
        );
        assert_eq!(
            at("1699999699").status.code(),
            Some(1),
            "{provider} from the future"
        );
    }
}

#[test]
fn send_signs_like_the_provider_for_tokens_and_basic_auth() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hookgate.toml"),
        "[[sources]]\nname = \"inpath\"\nprovider = \"token\"\nsecrets = [\"p@th token\"]\ntoken_in_path = true\n\
         [[sources]]\nname = \"basic\"\nprovider = \"basic\"\nsecrets = [\"hooks:pw\"]\n\
         [[sources]]\nname = \"gh\"\nprovider = \"github\"\nsecrets = [\"gh-secret\"]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("body.json"), "{\"a\":1}").unwrap();
    let (_server, addr, _) = serve(dir.path(), &[]);
    let base = format!("http://{addr}/in");
    for (path, args) in [
        (
            "inpath",
            vec![
                "--provider",
                "token",
                "--token-in-path",
                "--secret",
                "p@th token",
            ],
        ),
        ("basic", vec!["--provider", "basic", "--secret", "hooks:pw"]),
        ("gh", vec!["--provider", "github", "--secret", "gh-secret"]),
    ] {
        let url = format!("{base}/{path}");
        let mut argv = vec!["send", url.as_str(), "--body-file", "body.json"];
        argv.extend(args);
        let out = hookgate(&argv, dir.path());
        assert!(
            out.status.success(),
            "{path}: {} {}",
            stdout(&out),
            stderr(&out)
        );
        assert!(stdout(&out).contains("HTTP 200"), "{}", stdout(&out));
    }
    let wrong = hookgate(
        &[
            "send",
            &format!("{base}/gh"),
            "--body-file",
            "body.json",
            "--provider",
            "github",
            "--secret",
            "nope",
        ],
        dir.path(),
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(stdout(&wrong).contains("HTTP 401"), "{}", stdout(&wrong));
}

/// The commented example must stay a valid config: every `${VAR}` set to a plausible value.
#[test]
fn example_config_is_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap();
    let example = root.join("hookgate.example.toml");
    let text = std::fs::read_to_string(&example).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_hookgate"));
    command.args(["check", "--config"]).arg(&example);
    for var in text
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}'))
        .map(|(v, _)| v)
    {
        // Standard Webhooks secrets must be whsec_ + base64; the rest take any text.
        let value = if var.contains("SIGNING") || var.contains("STANDARD_WEBHOOKS") {
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        } else {
            "example-value"
        };
        command.env(var, value);
    }
    let out = command.current_dir(root).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&out);
    for expected in ["billing", "deploy", "invoices", "routes  2"] {
        assert!(
            listed.contains(expected),
            "{expected} missing from:\n{listed}"
        );
    }
}

#[test]
fn check_reports_jq_errors_with_route_and_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hookgate.toml"),
        "[[sources]]\nname = \"a\"\nprovider = \"none\"\n[[destinations]]\nname = \"d\"\ntype = \"http\"\nurl = \"http://127.0.0.1:9/\"\n[[routes]]\nsource = \"a\"\ndestinations = [\"d\"]\nfilter = '.type | startswith(\"invoice.\"'\n",
    )
    .unwrap();
    let out = hookgate(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("routes[0].filter: 1:30: expected closing parenthesis"),
        "{err}"
    );
}

#[test]
fn completions_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef hookgate"),
        ("fish", "complete -c hookgate"),
    ] {
        let out = hookgate(&["completions", shell], dir.path());
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}");
        assert!(script.contains("deliveries"), "{shell} misses a subcommand");
    }
    let bad = hookgate(&["completions", "tcsh"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
}

/// With `server.admin_listen`, operators' routes live there and not where senders reach.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_listen_splits_ingest_from_operators() {
    let dir = tempfile::tempdir().unwrap();
    let (port, admin) = (
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(),
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(),
    );
    std::fs::write(
        dir.path().join("hookgate.toml"),
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nadmin_listen = \"127.0.0.1:{admin}\"\n[storage]\nurl = \"sqlite://h.db\"\n[[sources]]\nname = \"*\"\nprovider = \"none\"\n"
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(["serve"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    let (ingest, ops) = (
        format!("http://127.0.0.1:{port}"),
        format!("http://127.0.0.1:{admin}"),
    );
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..200 {
        if client
            .get(format!("{ops}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(ready, "the admin listener never answered");
    let status = |url: String| {
        let client = client.clone();
        async move {
            client
                .post(url)
                .body("{}")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let get = |url: String| {
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(format!("{ingest}/in/demo")).await, 200);
    assert_eq!(
        status(format!("{ops}/in/demo")).await,
        404,
        "ingest answered on the admin address"
    );
    assert_eq!(
        get(format!("{ingest}/api/events")).await,
        404,
        "the API answered where senders reach"
    );
    assert_eq!(get(format!("{ingest}/ui")).await, 404);
    assert_eq!(get(format!("{ingest}/metrics")).await, 404);
    assert_eq!(get(format!("{ops}/api/events")).await, 200);
    assert_eq!(get(format!("{ops}/ui")).await, 200);
    assert_eq!(get(format!("{ops}/metrics")).await, 200);
}
