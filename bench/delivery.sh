#!/usr/bin/env bash
# Delivery benchmark (issue 4): ingest → durable store → signed HTTP delivery to a local
# receiver, end to end. Prints sustained delivered events/s and ack-to-receipt latency
# (p50/p99): first closed-loop at full speed, then paced at half the rate just measured.
#
#   bench/delivery.sh [SECONDS] [CONNECTIONS]
#
# Everything (senders, hookgate, receiver) shares this machine: compare runs made together.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
connections="${2:-64}"
cargo build --release --quiet --bin hookgate --example delivery_bench
bin="$PWD/target/release/hookgate"
bench="$PWD/target/release/examples/delivery_bench"
echo "nproc $(nproc), $(date -u +%FT%TZ), hookgate $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
full=$("$bench" "$bin" "$seconds" "$connections")
echo "$full"
rate=$(sed -E 's/.*delivered\/s=([0-9]+).*/\1/' <<<"$full")
half=$((rate / 2))
"$bench" "$bin" "$seconds" "$connections" "$half"
