//! `hookgate deliveries list|retry` and `hookgate destinations list|enable|disable`: admin API
//! clients for the delivery side. Bulk retries go in chunks with a progress bar.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use serde_json::Value;

use crate::events::{get, post, text, ServerArgs};

#[derive(Debug, Args)]
pub struct DeliveriesArgs {
    #[command(subcommand)]
    pub command: DeliveriesCommand,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Subcommand)]
pub enum DeliveriesCommand {
    /// Newest deliveries first.
    List {
        /// pending, delivered or dead.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        destination: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Retry one delivery now, or (with --dead) every dead delivery matching the filters.
    Retry {
        /// The delivery (dlv_…).
        #[arg(required_unless_present = "dead", conflicts_with = "dead")]
        id: Option<String>,
        /// Retry dead deliveries in bulk.
        #[arg(long)]
        dead: bool,
        /// Only dead deliveries to this destination.
        #[arg(long, requires = "dead")]
        destination: Option<String>,
        /// Only deliveries created at or after this RFC 3339 time.
        #[arg(long, requires = "dead")]
        since: Option<String>,
        /// Only deliveries created at or before this RFC 3339 time.
        #[arg(long, requires = "dead")]
        until: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct DestinationsArgs {
    #[command(subcommand)]
    pub command: DestinationsCommand,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Subcommand)]
pub enum DestinationsCommand {
    /// Every destination, enabled or not (a 410 Gone disables one).
    List,
    /// Send to a destination again; its waiting deliveries go out.
    Enable { name: String },
    /// Hold a destination's deliveries until it is enabled.
    Disable { name: String },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub fn run(args: &DeliveriesArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        match &args.command {
            DeliveriesCommand::List {
                status,
                destination,
                limit,
                cursor,
            } => {
                let mut query = vec![("limit", limit.to_string())];
                for (key, value) in [
                    ("status", status),
                    ("destination", destination),
                    ("cursor", cursor),
                ] {
                    if let Some(v) = value {
                        query.push((key, v.clone()));
                    }
                }
                let page = get(&args.server, "/api/deliveries", &query).await?;
                if args.server.json {
                    out!("{}", serde_json::to_string_pretty(&page)?);
                } else {
                    print_list(&page);
                }
            }
            DeliveriesCommand::Retry { id: Some(id), .. } => {
                let d = post(
                    &args.server,
                    &format!("/api/deliveries/{id}/retry"),
                    &Value::Null,
                )
                .await?;
                if args.server.json {
                    out!("{}", serde_json::to_string_pretty(&d)?);
                } else {
                    out!(
                        "{} is due now (attempts so far: {})",
                        text(&d, "/id"),
                        text(&d, "/attempt_count")
                    );
                }
            }
            DeliveriesCommand::Retry {
                id: None,
                destination,
                since,
                until,
                ..
            } => {
                retry_dead(
                    &args.server,
                    destination.as_ref(),
                    since.as_ref(),
                    until.as_ref(),
                )
                .await?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Chunks of 500 until none remain, with a progress bar (on a terminal; plain lines for
/// `--json`).
async fn retry_dead(
    server: &ServerArgs,
    destination: Option<&String>,
    since: Option<&String>,
    until: Option<&String>,
) -> anyhow::Result<()> {
    let mut body = serde_json::json!({ "limit": 500 });
    for (key, value) in [
        ("destination", destination),
        ("since", since),
        ("until", until),
    ] {
        if let Some(v) = value {
            body[key] = Value::String(v.clone());
        }
    }
    let mut total = 0u64;
    let bar = indicatif::ProgressBar::hidden();
    if !server.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} dead deliveries retried")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    }
    loop {
        let done = post(server, "/api/deliveries/retry", &body).await?;
        let retried = done.get("retried").and_then(Value::as_u64).unwrap_or(0);
        let remaining = done.get("remaining").and_then(Value::as_u64).unwrap_or(0);
        total += retried;
        bar.set_length(total + remaining);
        bar.set_position(total);
        if remaining == 0 || retried == 0 {
            break;
        }
    }
    bar.finish_and_clear();
    if server.json {
        out!("{}", serde_json::json!({ "retried": total }));
    } else {
        out!("{total} dead deliveries are due now");
    }
    Ok(())
}

fn print_list(page: &Value) {
    let items = page
        .get("data")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if items.is_empty() {
        out!("no deliveries");
        return;
    }
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header([
        "ID",
        "EVENT",
        "DESTINATION",
        "STATUS",
        "ATTEMPTS",
        "NEXT",
        "LAST ERROR",
    ]);
    for d in items {
        table.add_row([
            text(d, "/id"),
            text(d, "/event_id"),
            text(d, "/destination"),
            text(d, "/status"),
            text(d, "/attempt_count"),
            text(d, "/next_attempt_at"),
            text(d, "/last_error"),
        ]);
    }
    out!("{table}");
    if let Some(next) = page.get("next_cursor").and_then(Value::as_str) {
        out!("more: hookgate deliveries list --cursor {next}");
    }
}

pub fn run_destinations(args: &DestinationsArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        match &args.command {
            DestinationsCommand::List => {
                let list = get(&args.server, "/api/destinations", &[]).await?;
                if args.server.json {
                    out!("{}", serde_json::to_string_pretty(&list)?);
                    return Ok(ExitCode::SUCCESS);
                }
                let mut table = Table::new();
                table
                    .load_preset(UTF8_BORDERS_ONLY)
                    .set_header(["NAME", "TYPE", "TARGET", "ENABLED", "REASON"]);
                for d in list.as_array().map(Vec::as_slice).unwrap_or_default() {
                    table.add_row([
                        text(d, "/name"),
                        text(d, "/type"),
                        text(d, "/target"),
                        text(d, "/enabled"),
                        text(d, "/disabled_reason"),
                    ]);
                }
                out!("{table}");
            }
            DestinationsCommand::Enable { name } => {
                post(
                    &args.server,
                    &format!("/api/destinations/{name}/enable"),
                    &Value::Null,
                )
                .await?;
                out!("{name} enabled");
            }
            DestinationsCommand::Disable { name } => {
                post(
                    &args.server,
                    &format!("/api/destinations/{name}/disable"),
                    &Value::Null,
                )
                .await?;
                out!("{name} disabled; its deliveries wait");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
