#!/usr/bin/env bash
# Where ingest time goes: loads `hookgate serve` (one GitHub source, SQLite) with wrk and reports
# wrk's throughput and latency next to the store writer's own figures: events per group commit,
# time per batch, time in the fsync'd COMMIT, and how busy the single writer thread was.
#
#   bench/writer-stats.sh [path/to/hookgate]     (build --release first; run from the project root)
#
# Environment: DURATION (5s), CONNS (32). Needs wrk and python3.
set -euo pipefail
HOOKGATE=${1:-target/release/hookgate}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-32}
WORK=$(mktemp -d -t hookgate-writer.XXXXXX)
PORT=9207
SECRET="It's a Secret to Everybody"
command -v wrk >/dev/null || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }

python3 - "$WORK" "$SECRET" <<'PY'
import hashlib, hmac, json, sys
work, secret = sys.argv[1], sys.argv[2].encode()
commit = {"id": "59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5", "message": "Update README.md " + "x" * 200,
          "author": {"name": "Codertocat", "email": "21031067+Codertocat@users.noreply.github.com"}, "modified": ["README.md"]}
body = json.dumps({"ref": "refs/heads/main", "repository": {"id": 186853002, "full_name": "Codertocat/Hello-World"},
                   "sender": {"login": "Codertocat", "id": 21031067}, "commits": [commit] * 3}, separators=(",", ":"))
sig = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
open(f"{work}/post.lua", "w").write(f'''wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "push"
wrk.headers["X-Hub-Signature-256"] = "sha256={sig}"
local n = 0
request = function()
  n = n + 1
  local h = {{}}
  for k, v in pairs(wrk.headers) do h[k] = v end
  h["X-GitHub-Delivery"] = string.format("%d-%d-%d", os.time(), math.random(1, 1e9), n)
  return wrk.format(nil, nil, h)
end
''')
PY
cat > "$WORK/hookgate.toml" <<EOF
[server]
listen = "127.0.0.1:$PORT"
[storage]
url = "sqlite://$WORK/hookgate.db"
[[sources]]
name = "github"
provider = "github"
secrets = ["$SECRET"]
EOF
RUST_LOG=hookgate_store=trace,info "$HOOKGATE" serve --config "$WORK/hookgate.toml" --log-format json >/dev/null 2>"$WORK/log.json" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s "$WORK/post.lua" "http://127.0.0.1:$PORT/in/github" | grep -E "Requests/sec|50%|99%|Non-2xx"
kill $PID; wait $PID 2>/dev/null || true
python3 - "$WORK/log.json" "${DURATION%s}" <<'PY'
import json, statistics, sys
batch, micros, commit = [], [], []
for line in open(sys.argv[1]):
    try:
        f = json.loads(line).get("fields", {})
    except ValueError:
        continue
    if f.get("message") == "batch committed":
        batch.append(f["events"]); micros.append(f["micros"])
    elif "commit_micros" in f:
        commit.append(f["commit_micros"])
q = lambda xs, p: sorted(xs)[int(len(xs) * p)]
print(f"batches {len(batch)}, events/batch mean {statistics.mean(batch):.1f} max {max(batch)}")
print(f"batch us: p50 {statistics.median(micros):.0f} p99 {q(micros, .99)} max {max(micros)}")
print(f"COMMIT (fsync) us: p50 {statistics.median(commit):.0f} p99 {q(commit, .99)}")
print(f"writer busy: {sum(micros) / 1e6 / float(sys.argv[2]):.0%} of the run")
PY
