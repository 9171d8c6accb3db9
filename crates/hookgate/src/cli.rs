//! Command-line definitions (DESIGN.md §3) and dispatch.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "hookgate",
    version,
    about = "A gateway for incoming webhooks: receive, verify, store durably, acknowledge."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (./hookgate.toml if present, else the embedded default).
    Serve(ServeArgs),
    /// Validate a configuration and show what it configures; exit 1 on error.
    Check(ConfigArg),
    /// Check a webhook's signature: exit 0 valid, 1 invalid (reason on stderr), 2 usage error.
    Verify(crate::signing::VerifyArgs),
    /// Print the headers a real sender would add to this body, one 'Name: value' per line.
    Sign(crate::signing::SignArgs),
    /// Sign a body and POST it to URL: test your own endpoint.
    Send(crate::signing::SendArgs),
    /// Inspect and replay stored events through the admin API.
    Events(crate::events::EventsArgs),
    /// List deliveries and retry failed ones through the admin API.
    Deliveries(crate::deliveries::DeliveriesArgs),
    /// List destinations; enable one a 410 disabled.
    Destinations(crate::deliveries::DestinationsArgs),
    /// Print a shell completion script: `hookgate completions bash > /etc/bash_completion.d/hookgate`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, clap::Args)]
pub struct ConfigArg {
    /// Configuration file (TOML).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Listen on this address instead of the configured one (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Parses arguments, runs the command, and turns any error into one line on stderr.
#[must_use]
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => crate::serve::run(&args),
        Command::Check(args) => crate::check::run(&args),
        Command::Verify(args) => return crate::signing::verify(&args),
        Command::Sign(args) => return crate::signing::sign(&args),
        Command::Send(args) => crate::signing::send(&args),
        Command::Events(args) => crate::events::run(&args),
        Command::Deliveries(args) => crate::deliveries::run(&args),
        Command::Destinations(args) => crate::deliveries::run_destinations(&args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            use std::io::Write;
            // Into a buffer first: clap_complete panics when stdout closes early (`| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "hookgate", &mut script);
            match std::io::stdout().write_all(&script) {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
                Err(e) => Err(e.into()),
            }
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hookgate: {e:#}");
            ExitCode::FAILURE
        }
    }
}
