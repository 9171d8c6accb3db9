#![forbid(unsafe_code)]

// mimalloc instead of glibc malloc: ingest allocates on tokio workers and frees on the store's
// writer thread, a cross-thread pattern glibc handles poorly (it was ~10% of ingest CPU).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    hookgate::cli::run()
}
