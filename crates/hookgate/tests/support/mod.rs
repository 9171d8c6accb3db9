//! What the delivery tests share: the real hookgate binary started on a config, and a real
//! receiver (axum on port 0) that records every request and answers as each test scripts it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test file uses a part

use std::{
    collections::{HashMap, VecDeque},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    body::Bytes,
    extract::{Path as UrlPath, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use serde_json::Value;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// An answer the receiver gives: status, extra headers, body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub fn answer(status: u16) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: format!("answer {status}"),
    }
}

#[derive(Default)]
struct ReceiverState {
    log: Vec<Received>,
    /// Per path: scripted answers, used up in order; then the default.
    script: HashMap<String, VecDeque<Answer>>,
    default: HashMap<String, Answer>,
}

/// A real HTTP receiver on loopback.
#[derive(Clone)]
pub struct Receiver {
    pub port: u16,
    state: Arc<Mutex<ReceiverState>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let state: Arc<Mutex<ReceiverState>> = Arc::default();
        let app = Router::new()
            .route("/{*path}", post(record))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { port, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    /// Answers `path` with these, in order, then with `then` for ever.
    pub fn script(&self, path: &str, answers: Vec<Answer>, then: Answer) {
        let mut state = self.state.lock().unwrap();
        state.script.insert(format!("/{path}"), answers.into());
        state.default.insert(format!("/{path}"), then);
    }

    pub fn requests(&self, path: &str) -> Vec<Received> {
        let path = format!("/{path}");
        self.state
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    pub fn all(&self) -> Vec<Received> {
        self.state.lock().unwrap().log.clone()
    }

    /// Waits until `path` has had `n` requests.
    pub async fn wait_for(&self, path: &str, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.requests(path);
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "/{path} got {} requests, expected {n}, within {within:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn record(
    State(state): State<Arc<Mutex<ReceiverState>>>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/{path}");
    let answer = {
        let mut state = state.lock().unwrap();
        state.log.push(Received {
            path: path.clone(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: body.to_vec(),
            at: Instant::now(),
        });
        let scripted = state.script.get_mut(&path).and_then(VecDeque::pop_front);
        scripted
            .or_else(|| state.default.get(&path).cloned())
            .unwrap_or_else(|| answer(200))
    };
    let mut response = (
        StatusCode::from_u16(answer.status).unwrap(),
        answer.body.clone(),
    )
        .into_response();
    for (k, v) in &answer.headers {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    response
}

/// The real binary, serving a config written into its own temporary directory.
pub struct Hookgate {
    pub dir: tempfile::TempDir,
    pub base: String,
    pub port: u16,
    child: Option<Child>,
    runs: usize,
}

impl Hookgate {
    /// `config` is everything after `[server]`/`[storage]`, which are filled in.
    pub async fn start(config: &str) -> Self {
        Self::start_with_server("", config).await
    }

    /// Like [`Hookgate::start`], with extra `[server]` settings.
    pub async fn start_with_server(server: &str, config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let text = Self::text(dir.path(), port, config).replacen(
            "[storage]",
            &format!("{server}[storage]"),
            1,
        );
        std::fs::write(dir.path().join("hookgate.toml"), text).unwrap();
        let mut hg = Self {
            dir,
            base: format!("http://127.0.0.1:{port}"),
            port,
            child: None,
            runs: 0,
        };
        hg.spawn().await;
        hg
    }

    fn text(dir: &Path, port: u16, config: &str) -> String {
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nshutdown_timeout = \"2s\"\n[storage]\nurl = \"sqlite://{}\"\n{config}",
            dir.join("hookgate.db").display()
        )
    }

    /// Replaces the config file in one step (write, then rename), as an editor or a deploy
    /// tool would, so the server never reads half a file.
    pub fn rewrite(&self, config: &str) {
        let tmp = self.dir.path().join("hookgate.toml.new");
        std::fs::write(&tmp, Self::text(self.dir.path(), self.port, config)).unwrap();
        std::fs::rename(&tmp, self.dir.path().join("hookgate.toml")).unwrap();
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub async fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.path().join(format!("server.{}.log", self.runs)))
            .unwrap();
        self.runs += 1;
        let child = Command::new(env!("CARGO_BIN_EXE_hookgate"))
            .args(["serve", "--config"])
            .arg(self.dir.path().join("hookgate.toml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_ready().await;
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(r) = reqwest::get(format!("{}/readyz", self.base)).await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "hookgate did not become ready; logs in {}",
            self.dir.path().display()
        );
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn logs(&self) -> String {
        (0..self.runs)
            .map(|i| {
                std::fs::read_to_string(self.dir.path().join(format!("server.{i}.log")))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// POSTs a JSON event to `/in/{source}`; returns the event id.
    pub async fn send(&self, source: &str, body: &Value) -> String {
        let response = reqwest::Client::new()
            .post(format!("{}/in/{source}", self.base))
            .header("content-type", "application/json")
            .header("x-request-tag", "tag-1")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        response.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn get(&self, path: &str) -> Value {
        let r = reqwest::get(format!("{}{path}", self.base)).await.unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = if status == 204 {
            Value::Null
        } else {
            r.json().await.unwrap()
        };
        (status, body)
    }

    /// The event's deliveries (with attempts), once `done` says they are settled.
    pub async fn deliveries_when(
        &self,
        event: &str,
        within: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let event = self.get(&format!("/api/events/{event}")).await;
            let list = event["deliveries"].as_array().cloned().unwrap_or_default();
            if done(&list) {
                return list;
            }
            assert!(
                Instant::now() < deadline,
                "deliveries never settled: {}\nlogs:\n{}",
                serde_json::to_string_pretty(&list).unwrap(),
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Hookgate {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn status_is(list: &[Value], status: &str) -> bool {
    !list.is_empty() && list.iter().all(|d| d["status"] == status)
}

/// The venv `tests/interop/setup.sh` made, or `None` when interop is skipped on purpose.
pub fn interop_python() -> Option<PathBuf> {
    if std::env::var("HOOKGATE_SKIP_INTEROP").as_deref() == Ok("1") {
        eprintln!("HOOKGATE_SKIP_INTEROP=1: the standardwebhooks PyPI check is skipped");
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap();
    let python = root.join("target/interop/venv/bin/python");
    assert!(
        python.exists(),
        "run `bash crates/hookgate/tests/interop/setup.sh` first (or HOOKGATE_SKIP_INTEROP=1)"
    );
    Some(python)
}
