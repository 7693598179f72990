#!/usr/bin/env bash
# Memory over a million calls (issue 30): `calls import` peak at two sizes, `stats` over 1,000,000
# calls (time and peak), and serve's resident memory before and after `GET /v1/stats`, on SQLite
# and, given a PostgreSQL server, on PostgreSQL. Records are the ones benches/calls.rs generates
# (sales v1..v3 with their real trees, every field, analysis included). Peak memory is GNU time's
# maximum resident set size; serve's figures are VmRSS and VmHWM from /proc.
# Usage: bash scripts/calls_memory.sh [BINARY]        (default: target/release/agentver, built)
#        POSTGRES=postgres://user@host:port bash scripts/calls_memory.sh
#          (databases cm_small and cm_large are created there, and dropped first if they exist)
#        SMALL=2000 LARGE=10000 bash scripts/calls_memory.sh target/debug/agentver   (a quick try)
set -euo pipefail
small=${SMALL:-200000}
large=${LARGE:-1000000}
source "$(dirname "$0")/bench_scratch.sh"

# The repository of benches/common/load.rs's example_repo: sales v1..v3, a pin and a split.
example_repo
trees=$(for n in 1 2 3; do git rev-parse "agent/sales/v$n^{tree}"; done | tr '\n' ' ')

# benches/calls.rs's record(i, trees), one per line, for i in [0, n).
records() {
  python3 - "$1" $trees <<'EOF'
import sys
n, trees = int(sys.argv[1]), sys.argv[2:]
w = sys.stdout.write
for i in range(n):
    v = i % 3
    w('{"call_id":"call-%d","agent":"sales","version":%d,"tree":"%s","variant":"%s","channel":"+14155550199",'
      '"started_at":"2026-11-%02dT%02d:%02d:%02dZ","duration_ms":%d,"success":%s,"cost":%.3f,"sentiment":"%s",'
      '"analysis":{"demo_booked":%s,"team_size":"%s"}}\n' % (
        i, v + 1, trees[v], "abc"[v], 1 + i % 28, i % 24, i % 60, (i // 60) % 60, 30000 + (i * 7919) % 240000,
        'true' if (i * 31 + v) % 10 < 7 + v else 'false', 0.05 + (i % 17) / 100.0,
        ["positive", "neutral", "negative"][i % 3], 'true' if i % 4 == 0 else 'false',
        ["solo", "small", "medium"][i % 3]))
EOF
}
records "$small" >"$scratch/small.jsonl"
records "$large" >"$scratch/large.jsonl"

measure() { # label, command...: "label: seconds s, peak MiB"
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$scratch/time" "$@" >/dev/null
  read -r seconds kib <"$scratch/time"
  printf '%s: %s s, peak %.1f MiB\n' "$label" "$seconds" "$(echo "$kib / 1024" | bc -l)"
}

serve_memory() { # store: serve's VmRSS idle, after each of three stats requests, after four at once
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$av" serve --listen "127.0.0.1:$port" --calls "$1" 2>"$scratch/serve.log" &
  local pid=$!
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.2; done
  sleep 2
  mib() { awk -v k="$1:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"; }
  echo "  serve idle: VmRSS $(mib VmRSS) MiB"
  for i in 1 2 3; do
    local started=$EPOCHREALTIME
    curl -sf "http://127.0.0.1:$port/v1/stats/sales" >/dev/null
    local took; took=$(echo "$EPOCHREALTIME - $started" | bc)
    sleep 1
    echo "  after GET /v1/stats/sales #$i (${took} s): VmRSS $(mib VmRSS) MiB, VmHWM $(mib VmHWM) MiB"
  done
  local clients=()
  for i in 1 2 3 4; do curl -sf "http://127.0.0.1:$port/v1/stats/sales" >/dev/null & clients+=($!); done
  wait "${clients[@]}"
  sleep 1
  echo "  after four at once: VmRSS $(mib VmRSS) MiB, VmHWM $(mib VmHWM) MiB"
  kill -TERM "$pid"
  wait "$pid" || true
}

each_store() { # name, store for the small file, store for the large one
  echo "$1"
  measure "  calls import, $small records" "$av" calls import "$scratch/small.jsonl" --calls "$2"
  measure "  calls import, $large records" "$av" calls import "$scratch/large.jsonl" --calls "$3"
  for i in 1 2 3; do
    measure "  stats sales --compare v2 v3 --json, $large calls, #$i" \
      "$av" stats sales --compare v2 v3 --json --calls "$3"
  done
  serve_memory "$3"
}

each_store SQLite "sqlite:$scratch/small.sqlite" "sqlite:$scratch/large.sqlite"
if [[ -n ${POSTGRES:-} ]]; then
  for db in cm_small cm_large; do
    psql -q "$POSTGRES/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  done
  each_store PostgreSQL "$POSTGRES/cm_small" "$POSTGRES/cm_large"
fi
