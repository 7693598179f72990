#!/usr/bin/env bash
# Faults of a shared PostgreSQL store (issue 30): three `agentver serve` replicas on one
# PostgreSQL under a bounded flood of unique call ids, and one fault injected per run:
#   restart    PostgreSQL restarted mid-flood (pg_ctl restart -m fast)
#   outage     PostgreSQL stopped for 10 s, then started
#   kill9      a replica killed with SIGKILL mid-flood, restarted 3 s later
#   sigterm    a replica sent SIGTERM while PostgreSQL is down; PostgreSQL and the replica back 5 s later
#   start-down a replica started while PostgreSQL is down (the flood reaches it once it is ready)
#   full-disk  a replica's spool on a 1 MiB tmpfs, filled for 7 s (root only)
# Each replica is a clone of the repository of its own (its own spool, as on its own machine),
# all with one AGENTVER_CALLER_KEY. The flood is a Python client: threads spread over the
# replicas, each request a fresh call id, every answer's status kept per id; a request whose
# replica cannot be reached goes to the next one. Per fault: answered 2xx, answered 503, no
# answer (connection refused or cut), stored, lost (answered 2xx but not in the store once all
# is recovered), duplicated (a call with more than one decision event), recovery (fault end →
# every decision answered until then in the store). Prints a markdown table.
# Usage: POSTGRES=postgres://user@host:port bash scripts/pg_faults.sh BINARY [FAULT...]
#   PGDATA: the cluster's data directory (default: asked of the server); pg_ctl runs as its owner.
#   SECONDS_PER_RUN (default 20), CLIENTS (threads, default 6).
# Databases pgf_<fault> are created on $POSTGRES (dropped first if they exist).
set -euo pipefail
: "${POSTGRES:?POSTGRES=postgres://user@host:port is needed}"
source "$(dirname "$0")/bench_scratch.sh"
run_for=${SECONDS_PER_RUN:-20}
clients=${CLIENTS:-6}
faults=("${@:2}")
[[ ${#faults[@]} -gt 0 ]] || faults=(restart outage kill9 sigterm start-down full-disk)
export AGENTVER_CALLER_KEY=pg-faults-shared-key

pgdata=${PGDATA:-$(psql -tA "$POSTGRES/postgres" -c "SHOW data_directory")}
pgbin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)")
pgowner=$(stat -c %U "$pgdata")
as_owner() { if [[ $(id -u) == 0 && $pgowner != root ]]; then (cd / && runuser -u "$pgowner" -- "$@"); else "$@"; fi; }
# The server's own options (port, socket directory, settings), for starting it again after a stop.
pgopts=$(sed -E 's/^[^ ]+ //; s/"-D" "[^"]*" ?//' "$pgdata/postmaster.opts")
pglog=${PGLOG:-$pgdata/pg_faults.log}
pg_stop() { as_owner "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null; }
pg_start() { as_owner "$pgbin/pg_ctl" -D "$pgdata" -l "$pglog" -w -o "$pgopts" start >/dev/null; }
pg_restart() { as_owner "$pgbin/pg_ctl" -D "$pgdata" -l "$pglog" -m fast -w restart >/dev/null; }
# Whatever happens, the server is left running and the tmpfs unmounted.
trap 'kill $(jobs -p) 2>/dev/null || true; umount "$scratch/r3/.git/agentver/spool" 2>/dev/null || true
  as_owner "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null || pg_start; rm -rf "$scratch"' EXIT
psql_q() { psql -tAq "$1" -c "$2"; }

# The repository of benches/common/load.rs's example_repo, and a clone of it per replica.
example_repo
for r in 1 2 3; do git clone -q "$scratch/repo" "$scratch/r$r"; done

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
declare -a port pid
start_replica() { # replica number, store; waits until it answers /readyz
  local r=$1
  (cd "$scratch/r$r" && exec "$av" serve --listen "127.0.0.1:${port[$r]}" --calls "$2" 2>>"$scratch/serve$r.log") &
  pid[$r]=$!
  until curl -sf "http://127.0.0.1:${port[$r]}/readyz" >/dev/null; do
    kill -0 "${pid[$r]}" 2>/dev/null || { echo "replica $r did not start:" >&2; tail -5 "$scratch/serve$r.log" >&2; exit 1; }
    sleep 0.05
  done
}
stop_replica() { kill -TERM "${pid[$1]}" 2>/dev/null || true; wait "${pid[$1]}" 2>/dev/null || true; }

# The flood: CLIENTS threads, thread i on replica i % 3 (the next one while its own cannot be
# reached), for run_for seconds. Writes "<status> <call id>" per request to answers.
flood() { # prefix, answers file
  python3 - "$1" "$2" "$run_for" "$clients" "${port[1]}" "${port[2]}" "${port[3]}" <<'EOF'
import http.client, os, sys, threading, time
prefix, out, seconds, clients, ports = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
end = time.time() + seconds
def worker(t):
    n, shift, conn, since = 0, 0, None, time.time()
    while time.time() < end:
        if shift and time.time() - since > 1:  # back to its own replica now and then
            shift, conn = 0, None
        port = int(ports[(t + shift) % len(ports)])
        n += 1
        cid = f"{prefix}-{t}-{n}"
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", f"/v1/resolve?channel=%2B14155550199&caller=%2B1555{t}{n}&call_id={cid}")
            r = conn.getresponse(); r.read(); status = r.status
        except (OSError, http.client.HTTPException):
            status, conn, shift, since = 0, None, shift + 1, time.time()
            time.sleep(0.02)
        os.write(fd, f"{status} {cid}\n".encode())
threads = [threading.Thread(target=worker, args=(t,)) for t in range(clients)]
for th in threads: th.start()
for th in threads: th.join()
EOF
}

ids_answered() { awk '$1 ~ /^2/ { print $2 }' "$1" | sort -u; }
stored_ids() { psql_q "$1" "SELECT call_id FROM calls WHERE call_id LIKE '$2-%'" | sort -u; }
# Seconds from the fault's end ($3) until every id in $2 (those answered by then) is in the
# store $1; at most 120 s.
caught_up() {
  local store=$1 want=$2 since=$3 missing
  while :; do
    missing=$( { psql -tAq "$store" -c "CREATE TEMP TABLE w (call_id text)" -c "\\copy w FROM '$want'" \
      -c "SELECT count(*) FROM w LEFT JOIN calls USING (call_id) WHERE calls.call_id IS NULL" 2>/dev/null || echo x; } | tail -1)
    [[ $missing == 0 ]] && break
    if (( $(echo "$EPOCHREALTIME - $since > 120" | bc) )); then echo "> 120 s ($missing missing)"; return; fi
    sleep 0.2
  done
  printf '%.1f s\n' "$(echo "$EPOCHREALTIME - $since" | bc)"
}

# What happens to the replicas during a run; sets fault_end (epoch seconds) and note.
inject() { # fault, store
  local fault=$1 store=$2 t0
  case $fault in
    restart) sleep 5; pg_restart; note="pg_ctl restart -m fast at 5 s" ;;
    outage) sleep 5; pg_stop; sleep 10; pg_start; note="stopped at 5 s, started at 15 s" ;;
    kill9) sleep 5; kill -KILL "${pid[2]}"; wait "${pid[2]}" 2>/dev/null || true; sleep 3
      start_replica 2 "$store"; note="replica 2 SIGKILL at 5 s, started again at 8 s" ;;
    sigterm) sleep 5; pg_stop; sleep 1; t0=$EPOCHREALTIME; kill -TERM "${pid[3]}"
      local code=0; wait "${pid[3]}" 2>/dev/null || code=$?
      note=$(printf 'PostgreSQL stopped at 5 s; replica 3 SIGTERM at 6 s: exit %s after %.1f s; both back 4 s later' \
        "$code" "$(echo "$EPOCHREALTIME - $t0" | bc)")
      sleep 4; pg_start; start_replica 3 "$store" ;;
    start-down) sleep 5; pg_stop; t0=$EPOCHREALTIME; start_replica 3 "$store"
      note=$(printf 'PostgreSQL stopped at 5 s; replica 3 (not running until then) ready %.2f s after its start' \
        "$(echo "$EPOCHREALTIME - $t0" | bc)")
      sleep 5; pg_start ;;
    full-disk) sleep 5; dd if=/dev/zero of="$spool3/filler" bs=64k 2>/dev/null || true; sleep 7; rm -f "$spool3/filler"
      note="replica 3's spool: 1 MiB tmpfs, filled at 5 s, freed at 12 s" ;;
  esac
  fault_end=$EPOCHREALTIME
}

run() { # fault: one row of the table
  local fault=$1 db="pgf_${1//-/_}" prefix=${1//-/} store answers="$scratch/$1.answers"
  psql -q "$POSTGRES/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  store="$POSTGRES/$db"
  spool3=$scratch/r3/.git/agentver/spool
  if [[ $fault == full-disk ]]; then
    [[ $(id -u) == 0 ]] || { echo "| $fault | (needs root for a tmpfs) |||||||" >>"$scratch/table"; return; }
    mkdir -p "$spool3" && mount -t tmpfs -o size=1m,mode=700 tmpfs "$spool3"
  fi
  for r in 1 2 3; do port[$r]=$(free_port); done
  for r in 1 2 3; do [[ $fault == start-down && $r == 3 ]] || start_replica "$r" "$store"; done
  : >"$answers"
  flood "$prefix" "$answers" &
  local flooder=$!
  inject "$fault" "$store"
  sleep 0.1
  ids_answered "$answers" >"$scratch/until-end"
  local recovery; recovery=$(caught_up "$store" "$scratch/until-end" "$fault_end")
  wait "$flooder"
  for r in 1 2 3; do stop_replica "$r"; done
  # Everything answered, after every replica has committed its spool (a last start replays what
  # a SIGTERM with the store down left).
  ids_answered "$answers" >"$scratch/answered"
  stored_ids "$store" "$prefix" >"$scratch/stored"
  local ok unavailable none stored lost duplicated
  ok=$(wc -l <"$scratch/answered")
  unavailable=$(awk '$1 == 503' "$answers" | wc -l)
  none=$(awk '$1 == 0' "$answers" | wc -l)
  stored=$(wc -l <"$scratch/stored")
  lost=$(comm -23 "$scratch/answered" "$scratch/stored" | wc -l)
  duplicated=$(psql_q "$store" "SELECT count(*) FROM (SELECT call_id FROM events WHERE call_id LIKE '$prefix-%' \
    AND source = 'agentver' GROUP BY call_id HAVING count(*) > 1) d")
  [[ $fault == full-disk ]] && umount "$spool3"
  echo "| $fault | $note | $ok | $unavailable | $none | $stored | **$lost** | $duplicated | $recovery |" >>"$scratch/table"
  echo "$fault: $ok answered 2xx, $unavailable 503, $none no answer, $stored stored, $lost lost, $duplicated duplicated, recovery $recovery" >&2
}

echo "| fault | what was done (run of ${run_for} s, ${clients} client threads over 3 replicas) | answered 2xx | answered 503 | no answer | stored | lost | duplicated | recovery (fault end → store caught up) |" >"$scratch/table"
echo "|---|---|---|---|---|---|---|---|---|" >>"$scratch/table"
for fault in "${faults[@]}"; do run "$fault"; done
cat "$scratch/table"
