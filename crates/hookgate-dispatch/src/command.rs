//! Runs a local command as a delivery: the event body on stdin, arguments and environment
//! already evaluated from the event by the caller, stdout and stderr captured (capped) into
//! the attempt record, exit status 0 meaning delivered.
//!
//! It must never run anything through a shell: `program` and `args` become argv exactly, so
//! an event field holding `$(rm -rf ~)` is just a string to the program. It must never leave
//! the command's descendants running after a timeout: the child leads a new process group
//! and the timeout kills that whole group, grandchildren included. And it must never let a
//! command that floods its output, or a descendant that keeps the pipes open, make the
//! worker wait or grow without bound.

use std::{
    os::unix::{ffi::OsStrExt, process::ExitStatusExt},
    path::PathBuf,
    pin::pin,
    process::{ExitStatus, Stdio},
    time::Duration,
};

use nix::{
    sys::signal::{killpg, Signal},
    unistd::Pid,
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWriteExt},
    process::{ChildStdin, Command},
    time::Instant,
};

/// How much of each of stdout and stderr is kept in the attempt record. Attempt records are
/// stored for every try of every delivery, so this bounds their size, not the command's.
const STREAM_CAP: usize = 2 * 1024;

/// How long to keep reading the pipes once the child is gone. A descendant that left the
/// process group (`setsid`, a daemonising script) can hold them open indefinitely, and the
/// outcome is already decided by the child's exit.
const PIPE_GRACE: Duration = Duration::from_secs(1);

/// How long to wait for the child to be reaped after SIGKILL. Only a process stuck in
/// uninterruptible sleep outlives this; tokio reaps it later once it dies.
const REAP_GRACE: Duration = Duration::from_secs(1);

/// One run of a local command for a delivery.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// A path, or a name looked up in `PATH`; never run through a shell.
    pub program: String,
    /// Passed verbatim as `argv[1..]`.
    pub args: Vec<String>,
    /// Added to the inherited environment.
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
    /// Written to the child's stdin, which is then closed (the event body).
    pub stdin: Vec<u8>,
    pub timeout: Duration,
}

/// What happened when the command ran. A command that ran and failed is an outcome, not a
/// [`CommandError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `None` when the child was killed by a signal (or could not be reaped).
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    /// Stdout, then stderr under a `--- stderr ---` line; each keeps its first 2 KiB and
    /// notes how many bytes were dropped. Lossy UTF-8, at most about 4 KiB in total.
    pub output: String,
    pub duration: Duration,
}

impl Outcome {
    /// Exit code 0 within the timeout: the delivery succeeded.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The invocation cannot be turned into argv/envp; caught before anything is started.
    #[error("invalid command: {reason}")]
    Invalid { reason: String },
    #[error("cannot start {program}: {reason}")]
    Spawn { program: String, reason: String },
    #[error("cannot wait for {program}: {reason}")]
    Wait { program: String, reason: String },
}

/// Runs `inv` to completion or timeout and reports what happened.
///
/// Cancel-safe in the sense that matters: dropping the future kills the command's whole
/// process group.
pub async fn run(inv: &Invocation) -> Result<Outcome, CommandError> {
    validate(inv)?;
    let started = Instant::now();

    let mut command = Command::new(&inv.program);
    command
        .args(&inv.args)
        .envs(inv.env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // pgid = child pid, so one killpg reaches everything the command starts.
        .process_group(0)
        .kill_on_drop(true);
    if let Some(cwd) = &inv.cwd {
        command.current_dir(cwd);
    }
    let mut child = command.spawn().map_err(|err| CommandError::Spawn {
        program: inv.program.clone(),
        reason: match &inv.cwd {
            // A missing working directory fails the spawn with the same ENOENT as a
            // missing program; naming it saves the operator a guess.
            Some(cwd) => format!("{err} (working directory {})", cwd.display()),
            None => err.to_string(),
        },
    })?;
    let mut group = GroupGuard {
        pgid: child
            .id()
            .and_then(|pid| i32::try_from(pid).ok())
            .map(Pid::from_raw),
    };

    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let mut stdout_captured = Captured::default();
    let mut stderr_captured = Captured::default();

    let (status, timed_out) = {
        // The pipes are serviced while waiting: a child blocked writing to a full pipe, or
        // on reading stdin, would otherwise never exit.
        let mut io = pin!(async {
            tokio::join!(
                feed_stdin(stdin, &inv.stdin),
                drain_into(stdout, &mut stdout_captured),
                drain_into(stderr, &mut stderr_captured),
            );
        });
        let mut io_done = false;
        let mut deadline = pin!(tokio::time::sleep(inv.timeout));

        let exited = loop {
            tokio::select! {
                status = child.wait() => break Some(status),
                () = &mut io, if !io_done => io_done = true,
                () = &mut deadline => break None,
            }
        };

        let (status, timed_out) = match exited {
            Some(status) => {
                let status = status.map_err(|err| CommandError::Wait {
                    program: inv.program.clone(),
                    reason: err.to_string(),
                })?;
                // Reaped: the pid, and with it the group id, may be reused from now on.
                group.disarm();
                (Some(status), false)
            }
            None => {
                group.kill();
                let status = match tokio::time::timeout(REAP_GRACE, child.wait()).await {
                    Ok(Ok(status)) => {
                        group.disarm();
                        Some(status)
                    }
                    Ok(Err(err)) => {
                        tracing::warn!(program = %inv.program, error = %err, "cannot reap timed-out command");
                        None
                    }
                    Err(_) => {
                        tracing::warn!(program = %inv.program, "timed-out command not reaped after SIGKILL");
                        None
                    }
                };
                (status, true)
            }
        };
        if !io_done && tokio::time::timeout(PIPE_GRACE, &mut io).await.is_err() {
            tracing::debug!(program = %inv.program, "a descendant still holds the command's pipes; output cut off");
        }
        (status, timed_out)
    };

    let mut output = String::new();
    stdout_captured.render(&mut output);
    if stderr_captured.total > 0 {
        if !output.is_empty() && !output.ends_with('\n') {
            output.push('\n');
        }
        output.push_str("--- stderr ---\n");
        stderr_captured.render(&mut output);
    }

    Ok(Outcome {
        exit_code: status.and_then(|status: ExitStatus| status.code()),
        signal: status.and_then(|status| status.signal()),
        timed_out,
        output,
        duration: started.elapsed(),
    })
}

fn validate(inv: &Invocation) -> Result<(), CommandError> {
    let invalid = |reason: String| Err(CommandError::Invalid { reason });
    if inv.program.is_empty() {
        return invalid("program is empty".to_owned());
    }
    if inv.program.contains('\0') {
        return invalid(format!("program {:?} contains a NUL byte", inv.program));
    }
    if let Some(index) = inv.args.iter().position(|arg| arg.contains('\0')) {
        return invalid(format!("args[{index}] contains a NUL byte"));
    }
    for (name, value) in &inv.env {
        if name.is_empty() {
            return invalid("an environment variable name is empty".to_owned());
        }
        if name.contains('=') || name.contains('\0') {
            return invalid(format!(
                "environment variable name {name:?} contains '=' or a NUL byte"
            ));
        }
        // The value is not quoted in the message: it may be a secret taken from the event.
        if value.contains('\0') {
            return invalid(format!(
                "the value of environment variable {name} contains a NUL byte"
            ));
        }
    }
    if let Some(cwd) = &inv.cwd {
        if cwd.as_os_str().as_bytes().contains(&0) {
            return invalid(format!(
                "working directory {:?} contains a NUL byte",
                cwd.display()
            ));
        }
    }
    Ok(())
}

/// Kills the command's process group if `run` ends before the child was reaped, e.g.
/// because its future was dropped at shutdown. `kill_on_drop` alone reaches only the child,
/// not the processes it started.
#[derive(Debug)]
struct GroupGuard {
    pgid: Option<Pid>,
}

impl GroupGuard {
    fn kill(&self) {
        if let Some(pgid) = self.pgid {
            // ESRCH only means every member is already gone.
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }

    fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn feed_stdin(pipe: Option<ChildStdin>, body: &[u8]) {
    let Some(mut pipe) = pipe else { return };
    // A command that ignores its stdin closes the pipe and we get EPIPE: not a failure.
    if let Err(err) = pipe.write_all(body).await {
        if err.kind() != std::io::ErrorKind::BrokenPipe {
            tracing::debug!(error = %err, "cannot write the event body to the command's stdin");
        }
    }
    // Dropping the pipe closes it, so a command reading to EOF finishes.
}

/// One output stream: its first [`STREAM_CAP`] bytes and how many bytes it had in all.
#[derive(Debug, Default)]
struct Captured {
    kept: Vec<u8>,
    total: u64,
}

/// Reads the pipe to EOF, keeping only the head: the rest must still be read, or the child
/// blocks on a full pipe.
async fn drain_into<R: AsyncRead + Unpin>(pipe: Option<R>, captured: &mut Captured) {
    let Some(mut pipe) = pipe else { return };
    let mut buffer = [0_u8; 8 * 1024];
    loop {
        match pipe.read(&mut buffer).await {
            Ok(0) => return,
            Ok(read) => {
                let room = STREAM_CAP.saturating_sub(captured.kept.len());
                captured.kept.extend_from_slice(&buffer[..read.min(room)]);
                captured.total += read as u64;
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

impl Captured {
    /// Appends the kept head as lossy UTF-8, at most [`STREAM_CAP`] bytes of text, then a
    /// line saying how many bytes were left out.
    fn render(&self, output: &mut String) {
        let start = output.len();
        let mut shown = 0_usize;
        'chunks: for chunk in self.kept.utf8_chunks() {
            for ch in chunk.valid().chars() {
                if output.len() - start + ch.len_utf8() > STREAM_CAP {
                    break 'chunks;
                }
                output.push(ch);
                shown += ch.len_utf8();
            }
            let invalid = chunk.invalid();
            if invalid.is_empty() {
                continue;
            }
            // A character split by the cap is not garbage; count it with the rest.
            let split_by_cap =
                shown + invalid.len() == self.kept.len() && self.total > self.kept.len() as u64;
            let replacement = char::REPLACEMENT_CHARACTER;
            if split_by_cap || output.len() - start + replacement.len_utf8() > STREAM_CAP {
                break;
            }
            output.push(replacement);
            shown += invalid.len();
        }
        let more = self.total - shown as u64;
        if more > 0 {
            if !output.is_empty() && !output.ends_with('\n') {
                output.push('\n');
            }
            output.push_str(&format!("… ({more} bytes more)\n"));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn rendered(bytes: &[u8]) -> String {
        let mut captured = Captured::default();
        let room = STREAM_CAP.min(bytes.len());
        captured.kept.extend_from_slice(&bytes[..room]);
        captured.total = bytes.len() as u64;
        let mut output = String::new();
        captured.render(&mut output);
        output
    }

    #[test]
    fn short_output_is_kept_whole() {
        assert_eq!(rendered(b"hello\n"), "hello\n");
        assert_eq!(rendered(b""), "");
    }

    #[test]
    fn long_output_keeps_the_head_and_counts_the_rest() {
        let output = rendered(&vec![b'a'; 10_000]);
        assert_eq!(
            output,
            format!("{}\n… (7952 bytes more)\n", "a".repeat(2048))
        );
    }

    #[test]
    fn a_character_split_by_the_cap_is_counted_not_mangled() {
        let mut bytes = vec![b'a'; STREAM_CAP - 1];
        bytes.extend_from_slice("é and more".as_bytes());
        let output = rendered(&bytes);
        assert!(!output.contains(char::REPLACEMENT_CHARACTER), "{output}");
        assert!(output.ends_with("… (11 bytes more)\n"), "{output}");
    }

    #[test]
    fn invalid_utf8_cannot_inflate_past_the_cap() {
        let output = rendered(&vec![0xff; 10_000]);
        let text = output.lines().next().unwrap();
        assert!(text.len() <= STREAM_CAP, "{}", text.len());
        assert!(text.chars().all(|ch| ch == char::REPLACEMENT_CHARACTER));
        assert!(output.ends_with(&format!("… ({} bytes more)\n", 10_000 - STREAM_CAP / 3)));
    }

    #[test]
    fn invalid_invocations_are_refused_before_spawning() {
        let base = Invocation {
            program: "true".to_owned(),
            args: vec![],
            env: vec![],
            cwd: None,
            stdin: vec![],
            timeout: Duration::from_secs(1),
        };
        let cases = [
            Invocation {
                program: String::new(),
                ..base.clone()
            },
            Invocation {
                program: "tr\0ue".to_owned(),
                ..base.clone()
            },
            Invocation {
                args: vec!["ok".to_owned(), "b\0d".to_owned()],
                ..base.clone()
            },
            Invocation {
                env: vec![(String::new(), "v".to_owned())],
                ..base.clone()
            },
            Invocation {
                env: vec![("A=B".to_owned(), "v".to_owned())],
                ..base.clone()
            },
            Invocation {
                env: vec![("A".to_owned(), "v\0".to_owned())],
                ..base.clone()
            },
            Invocation {
                cwd: Some(PathBuf::from("/tmp/\0x")),
                ..base.clone()
            },
        ];
        for case in &cases {
            assert!(
                matches!(validate(case), Err(CommandError::Invalid { .. })),
                "{case:?}"
            );
        }
        assert!(validate(&base).is_ok());
        let err = validate(&cases[2]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid command: args[1] contains a NUL byte"
        );
    }
}
