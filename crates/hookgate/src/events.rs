//! `hookgate events list|show|replay`: a client of the admin API. Tables for people, `--json` for
//! scripts (the API's own JSON, unchanged).

use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use serde_json::Value;

#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(subcommand)]
    pub command: EventsCommand,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The hookgate server.
    #[arg(
        long,
        global = true,
        env = "HOOKGATE_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// Admin token, when the server has one.
    #[arg(
        long,
        global = true,
        env = "HOOKGATE_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Newest events first.
    List {
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Continue from a previous page's next_cursor.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// One event in full: headers, body, verification, deliveries and their attempts.
    Show { id: String },
    /// Follow events as they are stored, like `tail -f` (one line each; `--json`: one JSON
    /// object per line). Ctrl-C stops.
    Tail,
    /// Deliver a stored event again: to every route the current config gives it, or to one
    /// destination.
    Replay {
        id: String,
        /// Only this destination (even if no route leads there).
        #[arg(long)]
        destination: Option<String>,
    },
}

pub fn run(args: &EventsArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match &args.command {
            EventsCommand::List { limit, cursor } => {
                let mut query = vec![("limit", limit.to_string())];
                if let Some(c) = cursor {
                    query.push(("cursor", c.clone()));
                }
                let page = get(&args.server, "/api/events", &query).await?;
                if args.server.json {
                    out!("{}", serde_json::to_string_pretty(&page)?);
                } else {
                    print_list(&page);
                }
            }
            EventsCommand::Show { id } => {
                let event = get(&args.server, &format!("/api/events/{id}"), &[]).await?;
                if args.server.json {
                    out!("{}", serde_json::to_string_pretty(&event)?);
                } else {
                    print_event(&event);
                }
            }
            EventsCommand::Tail => tail(&args.server).await?,
            EventsCommand::Replay { id, destination } => {
                let body = match destination {
                    Some(d) => serde_json::json!({ "destination": d }),
                    None => serde_json::json!({}),
                };
                let replayed =
                    post(&args.server, &format!("/api/events/{id}/replay"), &body).await?;
                if args.server.json {
                    out!("{}", serde_json::to_string_pretty(&replayed)?);
                } else {
                    for d in replayed
                        .get("deliveries")
                        .and_then(Value::as_array)
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                    {
                        out!(
                            "{} → {} ({})",
                            text(d, "/id"),
                            text(d, "/destination"),
                            text(d, "/status")
                        );
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Reads `/api/stream` (Server-Sent Events) and prints each event as it arrives.
async fn tail(server: &ServerArgs) -> anyhow::Result<()> {
    use std::io::Write;
    let base = server.server.trim_end_matches('/');
    let mut request = reqwest::Client::new().get(format!("{base}/api/stream"));
    if let Some(token) = &server.token {
        request = request.bearer_auth(token);
    }
    let mut response = request
        .send()
        .await
        .with_context(|| format!("cannot reach hookgate at {base}"))?;
    if !response.status().is_success() {
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let message = body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("no error message");
        bail!("{status}: {message}");
    }
    if !server.json {
        eprintln!("following events at {base} (Ctrl-C stops)");
    }
    let mut pending = String::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .with_context(|| format!("the stream from {base} broke"))?
    {
        pending.push_str(&String::from_utf8_lossy(&chunk));
        // SSE messages end with a blank line; keep a partial one for the next chunk.
        while let Some(end) = pending.find("\n\n") {
            let message: String = pending.drain(..end + 2).collect();
            let mut kind = "message";
            let mut data = String::new();
            for line in message.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    kind = if v.trim() == "event" {
                        "event"
                    } else {
                        "other"
                    };
                    if v.trim() == "lagged" {
                        kind = "lagged";
                    }
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            let mut out = std::io::stdout().lock();
            let written = match kind {
                "event" if server.json => writeln!(out, "{data}"),
                "event" => {
                    let e: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
                    writeln!(
                        out,
                        "{}  {}  {:<16} {:<24} {}",
                        text(&e, "/id"),
                        text(&e, "/received_at"),
                        text(&e, "/source"),
                        text(&e, "/type"),
                        text(&e, "/verification/status")
                    )
                }
                "lagged" => {
                    eprintln!(
                        "(fell behind: {data} events not shown; `hookgate events list` has them)"
                    );
                    Ok(())
                }
                _ => Ok(()),
            };
            // A closed stdout (`| head`) ends the tail quietly.
            if written.and_then(|()| out.flush()).is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// GETs an admin API path; API errors become their message, so the CLI prints one clear line.
pub(crate) async fn get(
    server: &ServerArgs,
    path: &str,
    query: &[(&str, String)],
) -> anyhow::Result<Value> {
    call(server, reqwest::Method::GET, path, query, None).await
}

/// POSTs JSON to an admin API path.
pub(crate) async fn post(server: &ServerArgs, path: &str, body: &Value) -> anyhow::Result<Value> {
    call(server, reqwest::Method::POST, path, &[], Some(body)).await
}

async fn call(
    server: &ServerArgs,
    method: reqwest::Method,
    path: &str,
    query: &[(&str, String)],
    body: Option<&Value>,
) -> anyhow::Result<Value> {
    let base = server.server.trim_end_matches('/');
    let mut request = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .query(query);
    if let Some(body) = body {
        request = request.json(body);
    }
    if let Some(token) = &server.token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach hookgate at {base}"))?;
    let status = response.status();
    if status == reqwest::StatusCode::NO_CONTENT {
        return Ok(Value::Null);
    }
    let body: Value = response
        .json()
        .await
        .with_context(|| format!("{base} did not answer JSON (is it hookgate?)"))?;
    if !status.is_success() {
        let message = body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("no error message");
        bail!("{status}: {message}");
    }
    Ok(body)
}

pub(crate) fn text(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".to_owned(),
        Some(other) => other.to_string(),
    }
}

fn print_list(page: &Value) {
    let mut table = Table::new();
    table
        .load_preset(UTF8_BORDERS_ONLY)
        .set_header(["ID", "RECEIVED", "SOURCE", "TYPE", "VERIFIED", "BYTES"]);
    let events = page
        .get("data")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for e in events {
        table.add_row([
            text(e, "/id"),
            text(e, "/received_at"),
            text(e, "/source"),
            text(e, "/type"),
            text(e, "/verification/status"),
            text(e, "/body_size"),
        ]);
    }
    if events.is_empty() {
        out!("no events yet");
        return;
    }
    out!("{table}");
    if let Some(next) = page.get("next_cursor").and_then(Value::as_str) {
        out!("more: hookgate events list --cursor {next}");
    }
}

fn print_event(e: &Value) {
    for (label, pointer) in [
        ("id", "/id"),
        ("source", "/source"),
        ("received", "/received_at"),
        ("type", "/type"),
        ("dedup key", "/dedup_key"),
        ("request", "/path"),
        ("verified", "/verification/status"),
        ("provider", "/verification/provider"),
    ] {
        out!("{label:<10} {}", text(e, pointer));
    }
    out!("\nheaders");
    for h in e
        .get("headers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        out!("  {}: {}", text(h, "/name"), text(h, "/value"));
    }
    let body = text(e, "/body");
    out!("\nbody ({})", text(e, "/body_encoding"));
    // Pretty-print JSON bodies; show anything else as stored.
    match serde_json::from_str::<Value>(&body) {
        Ok(json) if text(e, "/body_encoding") == "utf8" => {
            out!("{}", serde_json::to_string_pretty(&json).unwrap_or(body));
        }
        _ => out!("{body}"),
    }
    let deliveries = e
        .get("deliveries")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if deliveries.is_empty() {
        out!("\ndeliveries: none (no route takes this source)");
        return;
    }
    out!("\ndeliveries");
    for d in deliveries {
        out!(
            "  {}  {}  {}  attempts {}{}",
            text(d, "/id"),
            text(d, "/destination"),
            text(d, "/status"),
            text(d, "/attempt_count"),
            d.get("next_attempt_at")
                .and_then(Value::as_str)
                .map(|t| format!(", next {t}"))
                .unwrap_or_default()
        );
        for a in d
            .get("attempts")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let result = match (a.get("status_code"), a.get("exit_code")) {
                (Some(Value::Number(code)), _) => format!("HTTP {code}"),
                (_, Some(Value::Number(code))) => format!("exit {code}"),
                _ => text(a, "/error"),
            };
            out!(
                "    #{} {} {} ms  {}",
                text(a, "/n"),
                text(a, "/started_at"),
                text(a, "/duration_ms"),
                result
            );
        }
    }
}
