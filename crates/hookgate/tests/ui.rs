//! The web inspector in a real browser: Debian's Chromium driven by playwright-core (installed
//! by `tests/interop/setup.sh`; `.ci/run` installs Chromium when missing). The script is
//! `tests/interop/ui.mjs`; screenshots land in `target/ui-screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed test

mod support;

use std::{path::Path, process::Command};

use support::{Hookgate, Receiver};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspector_lists_live_shows_detail_and_replays() {
    if support::interop_python().is_none() {
        return;
    }
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: `apt-get install chromium` (.ci/run does), or set CHROMIUM"
    );
    let rx = Receiver::start().await;
    let hg = Hookgate::start(&format!(
        "[[sources]]\nname = \"shop\"\nprovider = \"none\"\nevent_type = \"/type\"\n\
         [[destinations]]\nname = \"orders\"\ntype = \"http\"\nurl = \"{}\"\n\
         [[routes]]\nsource = \"shop\"\ndestinations = [\"orders\"]\n",
        rx.url("orders")
    ))
    .await;
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.ancestors().nth(2).unwrap();
    let shots = root.join("target/ui-screenshots");
    let node_dir = root.join("target/interop/node");
    let out = Command::new("node")
        .arg(manifest.join("tests/interop/ui.mjs"))
        .arg(&node_dir)
        .arg(&hg.base)
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .current_dir(&node_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the browser test failed: {}\n{}\nserver logs:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        hg.logs()
    );
    for shot in [
        "list.png",
        "detail.png",
        "replayed.png",
        "list-dark-phone.png",
    ] {
        assert!(shots.join(shot).exists(), "{shot} was not written");
    }
    assert_eq!(
        rx.requests("orders").len(),
        2,
        "the first delivery and the replay"
    );
}

/// With `admin_token` set, a browser signs in once and carries the token in an HttpOnly,
/// SameSite=Strict cookie; without it, pages send it to the login page and the API says 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspector_sign_in_with_the_admin_token() {
    let hg = Hookgate::start_with_server(
        "admin_token = \"t0ken-for-ui\"\n",
        "[[sources]]\nname = \"*\"\nprovider = \"none\"\n",
    )
    .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(format!("{}/ui", hg.base)).send().await.unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/ui/login");
    let api = client
        .get(format!("{}/api/events", hg.base))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);

    let login = |token: &'static str| {
        let client = client.clone();
        let url = format!("{}/ui/login", hg.base);
        async move {
            client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("token={token}"))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(login("wrong").await.status(), 401);
    let ok = login("t0ken-for-ui").await;
    assert_eq!(ok.status(), 303);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();
    for path in ["/ui", "/api/events", "/ui/destinations"] {
        let r = client
            .get(format!("{}{path}", hg.base))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path} with the session cookie");
    }
}
