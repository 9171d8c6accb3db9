//! A real hookgate server for tests: port 0, a real SQLite file in a temp dir, real HTTP.
#![allow(dead_code)]

use std::{net::SocketAddr, sync::Arc, time::Duration};

use hmac::{Hmac, Mac};
use hookgate_core::{Config, StorageUrl};
use hookgate_server::App;
use hookgate_store::{SqliteOptions, SqliteStore, Store};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_util::sync::CancellationToken;

pub struct TestServer {
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub dir: Arc<tempfile::TempDir>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Starts a server with `config` (TOML); `storage.url` is set to a file in a fresh temp dir.
    pub async fn start(config: &str) -> Self {
        Self::start_in(Arc::new(tempfile::tempdir().unwrap()), config).await
    }

    /// Starts a server whose database lives in `dir` (reuse a dir to test restarts).
    pub async fn start_in(dir: Arc<tempfile::TempDir>, config: &str) -> Self {
        let mut config = Config::parse(config, &|_| None).unwrap();
        let db = dir.path().join("hookgate.db");
        config.storage.url = StorageUrl::Sqlite(db.clone());
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(
                &db,
                &SqliteOptions {
                    max_size: config.storage.max_size,
                },
            )
            .unwrap(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let app = App::new(Arc::new(config), Arc::clone(&store));
        let task = tokio::spawn(hookgate_server::serve(app, listener, shutdown.clone()).map_unit());
        Self {
            addr,
            store,
            dir,
            shutdown,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Graceful stop: listener closed, requests finished, writer drained.
    pub async fn stop(self) -> Arc<tempfile::TempDir> {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .unwrap()
            .unwrap();
        self.store.close().await;
        self.dir
    }

    /// Sends raw bytes and returns whatever the server answers until it closes or `wait` passes.
    pub async fn raw(&self, request: &[u8], wait: Duration) -> String {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        stream.write_all(request).await.unwrap();
        read_for(&mut stream, wait).await
    }
}

pub async fn read_for(stream: &mut TcpStream, wait: Duration) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

trait MapUnit {
    fn map_unit(self) -> impl std::future::Future<Output = ()> + Send;
}

impl<F: std::future::Future<Output = std::io::Result<()>> + Send> MapUnit for F {
    async fn map_unit(self) {
        self.await.unwrap();
    }
}

pub fn hmac_sha256_hex(key: &[u8], msg: &[u8]) -> String {
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    hex::encode(m.finalize().into_bytes())
}

pub fn hmac_sha1_hex(key: &[u8], msg: &[u8]) -> String {
    let mut m = Hmac::<sha1::Sha1>::new_from_slice(key).unwrap();
    m.update(msg);
    hex::encode(m.finalize().into_bytes())
}

pub fn hmac_sha256_b64(key: &[u8], msg: &[u8]) -> String {
    use base64::Engine;
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Asserts DESIGN.md's error body and returns its code.
pub async fn error_code(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.unwrap();
    let message = body["error"]["message"]
        .as_str()
        .expect("error.message is a string");
    assert!(!message.is_empty());
    body["error"]["code"]
        .as_str()
        .expect("error.code is a string")
        .to_owned()
}
