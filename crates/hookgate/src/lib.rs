//! The `hookgate` binary: the command line and the composition root.
//!
//! This is the only crate that names a concrete store backend and the only one that reads the
//! outside world's configuration (files, environment, signals). Everything it wires together
//! takes its inputs as arguments.
//!
//! Layout:
//! - `cli`: the clap definitions and dispatch; errors become one line on stderr and an exit code.
//! - `serve`: `hookgate serve`: Config → store → server, signals, retention.
//! - `signing`: `hookgate verify`, `sign` and `send`, on top of `hookgate-verify`.
//! - `events`: `hookgate events list|show`, a client of the admin API.
//! - `check`: `hookgate check`, validate a config and show what it configures.
#![forbid(unsafe_code)]

/// `println!` for command output. When the reader goes away early (`hookgate events list |
/// head`), the command stops quietly with success, as Unix tools do, instead of panicking on
/// the broken pipe; any other write error is one line on stderr and exit 1.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            $crate::output_failed(&e);
        }
    }};
}

#[doc(hidden)]
pub fn output_failed(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("hookgate: cannot write the output: {e}");
    std::process::exit(1);
}

pub mod check;
pub mod cli;
pub mod deliveries;
pub mod events;
pub mod serve;
pub mod signing;
