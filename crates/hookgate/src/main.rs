#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    hookgate::cli::run()
}
