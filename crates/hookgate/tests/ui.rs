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
