//! Command destinations against real processes. The scripts below are only the programs
//! under test; `run` itself never involves a shell. Most are run as `/bin/sh <script>` so a
//! freshly written file is never exec'd directly (which can fail with ETXTBSY while another
//! test thread forks).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use hookgate_dispatch::command::{run, CommandError, Invocation, Outcome};
use tempfile::TempDir;

struct Scripts {
    dir: TempDir,
}

impl Scripts {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, name: &str, body: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        path
    }
}

fn sh(script: &Path, args: &[&str]) -> Invocation {
    let mut argv = vec![script.to_str().unwrap().to_owned()];
    argv.extend(args.iter().map(|arg| (*arg).to_owned()));
    Invocation {
        program: "/bin/sh".to_owned(),
        args: argv,
        env: vec![],
        cwd: None,
        stdin: vec![],
        timeout: Duration::from_secs(10),
    }
}

async fn run_ok(inv: &Invocation) -> Outcome {
    run(inv).await.unwrap()
}

const HOSTILE: &[&str] = &[
    "$(touch pwned)",
    "`touch pwned2`",
    "a; touch pwned3",
    "line1\ntouch pwned4",
    "-rf",
    "--help",
    "*",
    "'quoted' \"double\"",
    "",
    "ünïcödé",
];

fn assert_nothing_pwned(dir: &Path) {
    let pwned: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .filter(|name| name.to_string_lossy().starts_with("pwned"))
        .collect();
    assert!(pwned.is_empty(), "{pwned:?}");
}

#[tokio::test]
async fn exit_zero_is_success() {
    let scripts = Scripts::new();
    let outcome = run_ok(&sh(&scripts.write("ok.sh", "exit 0"), &[])).await;
    assert!(outcome.succeeded());
    assert_eq!(outcome.exit_code, Some(0));
    assert_eq!(outcome.signal, None);
    assert!(!outcome.timed_out);
    assert_eq!(outcome.output, "");
}

#[tokio::test]
async fn nonzero_exit_is_reported() {
    let scripts = Scripts::new();
    let outcome = run_ok(&sh(
        &scripts.write("fail.sh", "echo failing >&2; exit 3"),
        &[],
    ))
    .await;
    assert!(!outcome.succeeded());
    assert_eq!(outcome.exit_code, Some(3));
    assert_eq!(outcome.output, "--- stderr ---\nfailing\n");
}

#[tokio::test]
async fn program_is_found_in_path_and_args_reach_it_verbatim() {
    let work = tempfile::tempdir().unwrap();
    let outcome = run_ok(&Invocation {
        program: "printf".to_owned(),
        args: std::iter::once("%s|".to_owned())
            .chain(HOSTILE.iter().map(|arg| (*arg).to_owned()))
            .collect(),
        env: vec![],
        cwd: Some(work.path().to_owned()),
        stdin: vec![],
        timeout: Duration::from_secs(10),
    })
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    assert_eq!(outcome.output, format!("{}|", HOSTILE.join("|")));
    assert_nothing_pwned(work.path());
}

#[tokio::test]
async fn hostile_args_are_passed_verbatim() {
    let scripts = Scripts::new();
    let work = tempfile::tempdir().unwrap();
    let script = scripts.write(
        "args.sh",
        r#"for arg in "$@"; do printf '%s\n' "$arg"; done"#,
    );
    let outcome = run_ok(&Invocation {
        cwd: Some(work.path().to_owned()),
        ..sh(&script, HOSTILE)
    })
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let expected: String = HOSTILE.iter().map(|arg| format!("{arg}\n")).collect();
    assert_eq!(outcome.output, expected);
    assert_nothing_pwned(work.path());
}

#[tokio::test]
async fn hostile_env_values_are_passed_verbatim() {
    let scripts = Scripts::new();
    let work = tempfile::tempdir().unwrap();
    let script = scripts.write(
        "env.sh",
        r#"printf '%s\n' "$HG_A" "$HG_B" "$HG_C" "$HG_D"; printf '%s\n' "${HOME:+home inherited}""#,
    );
    let outcome = run_ok(&Invocation {
        env: vec![
            ("HG_A".to_owned(), "$(touch pwned)".to_owned()),
            ("HG_B".to_owned(), "`touch pwned2`".to_owned()),
            ("HG_C".to_owned(), "a; touch pwned3".to_owned()),
            ("HG_D".to_owned(), "line1\ntouch pwned4".to_owned()),
        ],
        cwd: Some(work.path().to_owned()),
        ..sh(&script, &[])
    })
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let home_line = if std::env::var_os("HOME").is_some_and(|home| !home.is_empty()) {
        "home inherited\n"
    } else {
        "\n"
    };
    assert_eq!(
        outcome.output,
        format!(
            "$(touch pwned)\n`touch pwned2`\na; touch pwned3\nline1\ntouch pwned4\n{home_line}"
        )
    );
    assert_nothing_pwned(work.path());
}

#[tokio::test]
async fn working_directory_is_honoured() {
    let scripts = Scripts::new();
    let work = tempfile::tempdir().unwrap();
    let outcome = run_ok(&Invocation {
        cwd: Some(work.path().to_owned()),
        ..sh(&scripts.write("pwd.sh", "pwd -P"), &[])
    })
    .await;
    let expected = work.path().canonicalize().unwrap();
    assert_eq!(outcome.output, format!("{}\n", expected.display()));
}

#[tokio::test]
async fn missing_working_directory_is_a_spawn_error() {
    let work = tempfile::tempdir().unwrap();
    let missing = work.path().join("gone");
    let err = run(&Invocation {
        program: "/bin/true".to_owned(),
        args: vec![],
        env: vec![],
        cwd: Some(missing.clone()),
        stdin: vec![],
        timeout: Duration::from_secs(10),
    })
    .await
    .unwrap_err();
    assert!(
        matches!(&err, CommandError::Spawn { reason, .. } if reason.contains(&missing.display().to_string())),
        "{err}"
    );
}

#[tokio::test]
async fn stdin_carries_the_event_body() {
    let scripts = Scripts::new();
    let body = br#"{"type":"push","ref":"refs/heads/main"}"#.to_vec();
    let outcome = run_ok(&Invocation {
        stdin: body.clone(),
        ..sh(&scripts.write("cat.sh", "cat"), &[])
    })
    .await;
    assert!(outcome.succeeded());
    assert_eq!(outcome.output.as_bytes(), body.as_slice());
}

#[tokio::test]
async fn a_command_that_ignores_a_large_stdin_still_succeeds() {
    let scripts = Scripts::new();
    let outcome = run_ok(&Invocation {
        stdin: vec![b'x'; 4 * 1024 * 1024],
        ..sh(&scripts.write("ignore.sh", "echo ignored"), &[])
    })
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    assert_eq!(outcome.output, "ignored\n");
}

#[tokio::test]
async fn flooding_output_is_capped_without_deadlock() {
    let scripts = Scripts::new();
    let script = scripts.write(
        "flood.sh",
        "head -c 1048576 /dev/zero | tr '\\0' o\nhead -c 1048576 /dev/zero | tr '\\0' e >&2",
    );
    let started = Instant::now();
    let outcome = run_ok(&sh(&script, &[])).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        outcome.output.len() <= 4300,
        "{} bytes",
        outcome.output.len()
    );
    let expected = format!(
        "{}\n… (1046528 bytes more)\n--- stderr ---\n{}\n… (1046528 bytes more)\n",
        "o".repeat(2048),
        "e".repeat(2048)
    );
    assert_eq!(outcome.output, expected);
}

/// True once the process is gone: no /proc entry, or a zombie (already dead, waiting for
/// whichever reaper it was reparented to).
fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the parenthesised command name, which may itself contain ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

fn read_pids(path: &Path) -> Vec<u32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| line.trim().parse().unwrap())
        .collect()
}

async fn wait_until_gone(pids: &[u32]) {
    let give_up = Instant::now() + Duration::from_secs(1);
    while !pids.iter().all(|&pid| is_gone(pid)) && Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let scripts = Scripts::new();
    let pid_file = scripts.dir.path().join("pids");
    let script = scripts.write(
        "forks.sh",
        r#"sleep 1000 &
echo $! >> "$1"
sleep 1000 &
echo $! >> "$1"
echo $$ >> "$1"
echo started
sleep 1000"#,
    );
    let started = Instant::now();
    let outcome = run_ok(&Invocation {
        timeout: Duration::from_millis(300),
        ..sh(&script, &[pid_file.to_str().unwrap()])
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(outcome.timed_out);
    assert!(!outcome.succeeded());
    assert_eq!(outcome.exit_code, None);
    assert_eq!(outcome.signal, Some(9));
    assert_eq!(outcome.output, "started\n");

    let pids = read_pids(&pid_file);
    assert_eq!(pids.len(), 3, "{pids:?}");
    wait_until_gone(&pids).await;
    for pid in pids {
        assert!(is_gone(pid), "pid {pid} survived the timeout");
    }
}

#[tokio::test]
async fn dropping_the_run_kills_the_whole_process_group() {
    let scripts = Scripts::new();
    let pid_file = scripts.dir.path().join("pids");
    let script = scripts.write(
        "forks.sh",
        r#"sleep 1000 &
echo $! >> "$1"
echo $$ >> "$1"
sleep 1000"#,
    );
    let inv = sh(&script, &[pid_file.to_str().unwrap()]);
    // The worker's shutdown cancels in-flight deliveries by dropping their futures.
    let cancelled = tokio::time::timeout(Duration::from_millis(300), run(&inv)).await;
    assert!(cancelled.is_err());

    let pids = read_pids(&pid_file);
    assert_eq!(pids.len(), 2, "{pids:?}");
    wait_until_gone(&pids).await;
    for pid in pids {
        assert!(is_gone(pid), "pid {pid} survived the cancelled run");
    }
}

#[tokio::test]
async fn a_descendant_that_escaped_the_group_cannot_stall_the_run() {
    let scripts = Scripts::new();
    let pid_file = scripts.dir.path().join("pids");
    // setsid moves the sleeper out of the command's process group (so killpg misses it) while
    // it keeps stdout and stderr open.
    let script = scripts.write(
        "escape.sh",
        r#"setsid sleep 30 &
echo $! >> "$1"
sleep 1000"#,
    );
    let started = Instant::now();
    let outcome = run_ok(&Invocation {
        timeout: Duration::from_millis(300),
        ..sh(&script, &[pid_file.to_str().unwrap()])
    })
    .await;
    let elapsed = started.elapsed();
    for pid in read_pids(&pid_file) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid.try_into().unwrap()),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(outcome.timed_out);
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
}

#[tokio::test]
async fn a_background_child_holding_the_pipes_does_not_hide_a_clean_exit() {
    let scripts = Scripts::new();
    let pid_file = scripts.dir.path().join("pids");
    let script = scripts.write(
        "daemon.sh",
        r#"sleep 30 &
echo $! >> "$1"
echo deployed"#,
    );
    let started = Instant::now();
    let outcome = run_ok(&sh(&script, &[pid_file.to_str().unwrap()])).await;
    let elapsed = started.elapsed();
    for pid in read_pids(&pid_file) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid.try_into().unwrap()),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(outcome.succeeded(), "{outcome:?}");
    assert_eq!(outcome.output, "deployed\n");
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
}

#[tokio::test]
async fn a_script_is_run_directly_by_path() {
    let scripts = Scripts::new();
    let script = scripts.write("direct.sh", r#"printf '%s\n' "$0" "$1""#);
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let inv = Invocation {
        program: script.to_str().unwrap().to_owned(),
        args: vec!["$HOME".to_owned()],
        env: vec![],
        cwd: None,
        stdin: vec![],
        timeout: Duration::from_secs(10),
    };
    // ETXTBSY: another test thread may have forked while our write handle was open, and
    // its child holds that handle until it execs. That is the test's race, not run()'s.
    let mut attempts = 0;
    let outcome = loop {
        match run(&inv).await {
            Err(CommandError::Spawn { reason, .. }) if reason.contains("busy") && attempts < 20 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => break other.unwrap(),
        }
    };
    assert!(outcome.succeeded(), "{outcome:?}");
    assert_eq!(outcome.output, format!("{}\n$HOME\n", script.display()));
}

#[tokio::test]
async fn a_missing_program_is_a_spawn_error() {
    let err = run(&Invocation {
        program: "/nonexistent/hookgate-no-such-program".to_owned(),
        args: vec![],
        env: vec![],
        cwd: None,
        stdin: vec![],
        timeout: Duration::from_secs(1),
    })
    .await
    .unwrap_err();
    assert!(
        matches!(&err, CommandError::Spawn { program, .. } if program == "/nonexistent/hookgate-no-such-program"),
        "{err}"
    );
    assert!(err.to_string().starts_with("cannot start /nonexistent/"));
}

#[tokio::test]
async fn an_invalid_env_name_is_refused_not_panicked_on() {
    let err = run(&Invocation {
        program: "/bin/true".to_owned(),
        args: vec![],
        env: vec![("BAD=NAME".to_owned(), "x".to_owned())],
        cwd: None,
        stdin: vec![],
        timeout: Duration::from_secs(1),
    })
    .await
    .unwrap_err();
    assert!(matches!(err, CommandError::Invalid { .. }), "{err}");
}
