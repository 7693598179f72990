#!/usr/bin/env bash
# Two figures of issue 31: `calls --limit 0` over 1,000,000 calls (time and peak memory, as JSON
# Lines and as one JSON array), and the console editor's save of a 1 MiB agent file (check and
# atomic write, as the browser posts it), on SQLite.
# Usage: bash scripts/list_and_editor.sh [BINARY]     (default: target/release/agentver, built)
#        N=20000 bash scripts/list_and_editor.sh target/debug/agentver      (a quick try)
set -euo pipefail
n=${N:-1000000}
source "$(dirname "$0")/bench_scratch.sh"
git init -q -b main
cp -R "$here/agents.example/." .
"$av" publish --all -m one >/dev/null
git add -A && git commit -q -m config
tree=$(git rev-parse "agent/sales/v1^{tree}")

python3 - "$n" "$tree" >"$scratch/calls.jsonl" <<'PY'
import sys
n, tree = int(sys.argv[1]), sys.argv[2]
w = sys.stdout.write
for i in range(n):
    w('{"call_id":"call-%d","agent":"sales","version":1,"tree":"%s","channel":"+14155550100",'
      '"started_at":"2026-11-%02dT%02d:%02d:%02dZ","duration_ms":%d,"success":%s,"cost":0.1,'
      '"analysis":{"demo_booked":%s}}\n' % (i, tree, 1 + i % 28, i % 24, i % 60, (i // 60) % 60,
      30000 + (i * 7919) % 240000, 'true' if i % 3 else 'false', 'true' if i % 4 == 0 else 'false'))
PY
"$av" calls import "$scratch/calls.jsonl" >/dev/null
measure() { # label, command...: "label: seconds s, peak MiB"
  local label=$1; shift
  local out
  out=$( { /usr/bin/time -f "%e %M" "$@" >/dev/null; } 2>&1 | tail -n 1)
  printf '%s: %s s, %.1f MiB peak\n' "$label" "${out% *}" "$(echo "${out#* } / 1024" | bc -l)"
}
for run in 1 2 3; do
  measure "calls --limit 0 --format jsonl, $n calls, run $run" "$av" calls --limit 0 --format jsonl
done
measure "calls --limit 0 --json, $n calls" "$av" calls --limit 0 --json
measure "calls --limit 0 (a table), $n calls" "$av" calls --limit 0

# A 1 MiB agent file: the example's sales agent with a long system prompt.
python3 - <<'PY'
import re
text = open("agents/sales.yaml").read()
line = "    Answer the caller briefly, confirm what they asked for and offer the next step.\n"
filler = line * ((1024 * 1024 - len(text) - 4096) // len(line))
text = text.replace("  system: |\n", "  system: |\n" + filler, 1)
open("agents/big.yaml", "w").write(text)
PY
printf 'agents/big.yaml: %s bytes\n' "$(stat -c %s agents/big.yaml)"
port=$((20000 + RANDOM % 20000))
"$av" console --listen "127.0.0.1:$port" 2>/dev/null &
until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.1; done
for run in 1 2 3 4 5; do
  page=$(curl -s -c "$scratch/jar" -b "$scratch/jar" "http://127.0.0.1:$port/agents/big/edit")
  csrf=$(grep -o 'name="csrf" value="[^"]*"' <<<"$page" | head -n 1 | cut -d'"' -f4)
  base=$(grep -o 'name="base" value="[^"]*"' <<<"$page" | cut -d'"' -f4)
  python3 - "$csrf" "$base" "$run" >"$scratch/body" <<'PY'
import sys, urllib.parse
text = open("agents/big.yaml").read().replace("temperature: ", "temperature: 0.%s #" % sys.argv[3], 1)
sys.stdout.write(urllib.parse.urlencode({"csrf": sys.argv[1], "base": sys.argv[2], "text": text}))
PY
  curl -s -o /dev/null -b "$scratch/jar" -H "Origin: http://127.0.0.1:$port" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @"$scratch/body" \
    -w "editor save of agents/big.yaml, run $run: %{http_code} in %{time_total} s\n" "http://127.0.0.1:$port/agents/big/edit"
done
"$av" check agents >/dev/null 2>&1 || true
grep -c 'temperature: 0.5 #' agents/big.yaml >/dev/null && echo "the last save is on disk"
