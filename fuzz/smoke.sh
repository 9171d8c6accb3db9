#!/usr/bin/env bash
# Build every cargo-fuzz target of hookgate-verify and run each for SECONDS (default 10),
# failing on the first crash, panic, forged request accepted, or timeout. Prints the
# executions per target.
#
#   fuzz/smoke.sh [SECONDS]
#
# The toolchain is stable: cargo-fuzz passes -Z flags (sanitizer, coverage), which
# RUSTC_BOOTSTRAP=1 lets a stable rustc accept. FUZZ_SANITIZER=none builds without
# AddressSanitizer (faster; the crate forbids unsafe code, so ASan mostly guards the
# dependencies). Corpora grow in fuzz/corpus/<target> (git-ignored) and are reused by the
# next run; crashing inputs land in fuzz/artifacts/<target>/.
set -euo pipefail

seconds="${1:-10}"
sanitizer="${FUZZ_SANITIZER:-address}"
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1

# A fresh machine has no cargo-fuzz: install the version these targets were written for.
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --version '^0.13' --locked
fi

cargo fuzz build --sanitizer "$sanitizer"

mkdir -p target/smoke
# Only artifacts newer than this marker are this run's findings.
touch target/smoke/started
failed=()
printf '%-20s %12s %8s %10s\n' target executions seconds status
for target in $(cargo fuzz list); do
    log="target/smoke/$target.log"
    mkdir -p "corpus/$target"
    status=ok
    # -timeout: one input taking 10 s is a hang worth failing on; -rss_limit_mb: a leak.
    if ! cargo fuzz run --sanitizer "$sanitizer" "$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
        status=FAILED
        failed+=("$target")
    fi
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    if [ -z "$runs" ]; then
        runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || echo '?')
    fi
    printf '%-20s %12s %8s %10s\n' "$target" "$runs" "$seconds" "$status"
done

if [ "${#failed[@]}" -gt 0 ]; then
    for target in "${failed[@]}"; do
        echo "---- $target (fuzz/target/smoke/$target.log) ----" >&2
        grep -v '^ *[0-9]*: \|^ *at ' "target/smoke/$target.log" | tail -40 >&2 || true
        find "artifacts/$target" -type f -newer target/smoke/started 2>/dev/null |
            sed 's|^|crashing input: fuzz/|' >&2 || true
        echo "reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer $sanitizer $target <input>  (in fuzz/)" >&2
    done
    exit 1
fi
