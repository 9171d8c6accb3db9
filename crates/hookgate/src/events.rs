//! `hookgate events list|show`: a client of the admin API. Tables for people, `--json` for
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
    /// One event in full: headers, body, verification.
    Show { id: String },
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
                    println!("{}", serde_json::to_string_pretty(&page)?);
                } else {
                    print_list(&page);
                }
            }
            EventsCommand::Show { id } => {
                let event = get(&args.server, &format!("/api/events/{id}"), &[]).await?;
                if args.server.json {
                    println!("{}", serde_json::to_string_pretty(&event)?);
                } else {
                    print_event(&event);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// GETs an admin API path; API errors become their message, so the CLI prints one clear line.
async fn get(server: &ServerArgs, path: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
    let base = server.server.trim_end_matches('/');
    let mut request = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .query(query);
    if let Some(token) = &server.token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach hookgate at {base}"))?;
    let status = response.status();
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

fn text(v: &Value, pointer: &str) -> String {
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
        println!("no events yet");
        return;
    }
    println!("{table}");
    if let Some(next) = page.get("next_cursor").and_then(Value::as_str) {
        println!("more: hookgate events list --cursor {next}");
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
        println!("{label:<10} {}", text(e, pointer));
    }
    println!("\nheaders");
    for h in e
        .get("headers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        println!("  {}: {}", text(h, "/name"), text(h, "/value"));
    }
    let body = text(e, "/body");
    println!("\nbody ({})", text(e, "/body_encoding"));
    // Pretty-print JSON bodies; show anything else as stored.
    match serde_json::from_str::<Value>(&body) {
        Ok(json) if text(e, "/body_encoding") == "utf8" => {
            println!("{}", serde_json::to_string_pretty(&json).unwrap_or(body));
        }
        _ => println!("{body}"),
    }
}
