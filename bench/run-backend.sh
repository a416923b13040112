#!/usr/bin/env bash
# Benchmark ONE database backend of Amtsweg with wrk. Normally called by bench/run.sh:
#
#   bash bench/run-backend.sh sqlite
#   scripts/with-postgres.sh bash bench/run-backend.sh postgres   # needs AMTSWEG_TEST_POSTGRES_URL
#
# Steps: fresh database -> `amtsweg migrate` -> `amtsweg demo` -> `amtsweg bench-seed` ->
# `amtsweg serve` on 127.0.0.1 (pinned to CPU 0) -> wait for /readyz -> pre-flight checks ->
# five wrk scenarios (pinned to CPU 1) -> stop the server.
#
# Environment (all optional; bench/run.sh sets them):
#   BENCH_DURATION     seconds per wrk run (1-30, default 10)
#   BENCH_CONNECTIONS  wrk connections (default 32)
#   BENCH_DRAFTS       drafts to seed (default 4000 * duration + 1000)
#   BENCH_OUT          directory for RESULT lines and logs (default: new temp dir)
#   BENCH_PORT         server port (default: first free port from 18480)
#   BENCH_WARMUP       warm-up seconds before measuring (default 2, 0 = none)
#   BENCH_SERVER_CPUS  / BENCH_CLIENT_CPUS   taskset CPU lists (default 0 / 1)
#   AMTSWEG_BIN        server binary (default .build/release/amtsweg)
#
# Output: $BENCH_OUT/<backend>.results with one line per scenario
#   RESULT <name> <rps> <p99_ms> <bad> <ok> <requests> <wrapped> <socket_errors> <duration_s>
# plus `META <key> <value>` lines; raw wrk output and server log in $BENCH_OUT/<backend>/.
set -euo pipefail

backend=${1:-}
case "$backend" in
  sqlite | postgres) ;;
  *)
    echo "usage: $0 sqlite|postgres" >&2
    exit 2
    ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

duration=${BENCH_DURATION:-10}
connections=${BENCH_CONNECTIONS:-32}
threads=1
warmup=${BENCH_WARMUP:-2}
drafts=${BENCH_DRAFTS:-$((duration * 4000 + 1000))}
bin=${AMTSWEG_BIN:-$root/.build/release/amtsweg}
out=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/amtsweg-bench.XXXXXX")}
logs=$out/$backend
results=$out/$backend.results
mkdir -p "$logs"
: >"$results"

say() { printf '[%s] %s\n' "$backend" "$*"; }
die() {
  printf '[%s] ERROR: %s\n' "$backend" "$*" >&2
  exit 1
}

for v in duration connections drafts warmup; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
done
((duration >= 1 && duration <= 30)) || die "duration must be 1..30 seconds"
((connections >= 1)) || die "connections must be >= 1"
[[ -x $bin ]] || die "server binary $bin not found (build with: swift build -c release --product amtsweg)"
command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
command -v curl >/dev/null || die "curl not found"

# ------------------------------------------------------------------ CPU pinning
server_pin=()
client_pin=()
if command -v taskset >/dev/null && (($(nproc --all) >= 2)); then
  server_pin=(taskset -c "${BENCH_SERVER_CPUS:-0}")
  client_pin=(taskset -c "${BENCH_CLIENT_CPUS:-1}")
else
  say "WARNING: fewer than 2 CPUs or no taskset - server and wrk are not pinned"
fi

# ------------------------------------------------------------------ scratch + cleanup
work=$(mktemp -d "${TMPDIR:-/tmp}/amtsweg-bench-$backend.XXXXXX")
server_pid=
bg_pid=

# Run a command in the background and wait for it, so that SIGTERM/SIGINT are handled at
# once (bash defers traps while a foreground command runs); cleanup() kills it.
run_bg() { # logfile cmd...
  local log=$1 rc=0
  shift
  "$@" >"$log" 2>&1 &
  bg_pid=$!
  wait "$bg_pid" || rc=$?
  bg_pid=
  return "$rc"
}

stop_server() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
      say "server did not stop on SIGTERM, sending SIGKILL"
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=
  rm -f "$out/$backend.server.pid"
}

cleanup() {
  local rc=$?
  trap - INT TERM
  if [[ -n $bg_pid ]]; then
    kill -TERM "$bg_pid" 2>/dev/null || true
    wait "$bg_pid" 2>/dev/null || true
  fi
  stop_server
  rm -f "$out/$backend.runner.pid"
  if ((rc == 0)) && [[ -z ${BENCH_KEEP:-} ]]; then
    rm -rf "$work" # database file (sqlite) and seed files
  else
    say "scratch files kept in $work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo $$ >"$out/$backend.runner.pid" # lets bench/run.sh stop this script on its own exit

# ------------------------------------------------------------------ database
case "$backend" in
  sqlite) db_url="sqlite:$work/bench.sqlite" ;;
  postgres)
    db_url=${AMTSWEG_TEST_POSTGRES_URL:-}
    [[ -n $db_url ]] || die "AMTSWEG_TEST_POSTGRES_URL is not set (run inside scripts/with-postgres.sh)"
    ;;
esac
export AMTSWEG_DATABASE_URL=$db_url

run_step() { # name cmd...
  local name=$1
  shift
  if ! run_bg "$logs/$name.log" "$@"; then
    tail -n 30 "$logs/$name.log" >&2 || true
    die "'$*' failed (log: $logs/$name.log)"
  fi
}

say "database: $(printf '%s' "${db_url%%\?*}" | sed -E 's#//([^:/@]*):[^/]*@#//\1:***@#')"
run_step migrate "$bin" migrate
run_step demo "$bin" demo
seed=$work/seed.txt
say "seeding $drafts drafts ..."
t0=$(date +%s.%N)
run_step bench-seed "$bin" bench-seed --drafts "$drafts" --out "$seed"
t1=$(date +%s.%N)
seed_seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
[[ -s $seed ]] || die "bench-seed wrote no $seed"
[[ -s $seed.page ]] || die "bench-seed wrote no $seed.page"
[[ -s $seed.large ]] || die "bench-seed wrote no $seed.large"
seed_lines=$(grep -c . "$seed")
page_lines=$(grep -c . "$seed.page")
say "seeded in ${seed_seconds}s: $seed_lines submission lines, $page_lines page lines"
((seed_lines >= drafts)) || say "WARNING: expected $drafts submission lines, got $seed_lines"
{
  echo "META drafts $seed_lines"
  echo "META seed_seconds $seed_seconds"
} >>"$results"

# ------------------------------------------------------------------ server
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=${BENCH_PORT:-}
if [[ -z $port ]]; then
  for p in $(seq 18480 18580); do
    if port_free "$p"; then
      port=$p
      break
    fi
  done
  [[ -n $port ]] || die "no free port in 18480-18580"
elif ! port_free "$port"; then
  die "port $port is already in use"
fi
base=http://127.0.0.1:$port

"${server_pin[@]}" "$bin" serve --host 127.0.0.1 --port "$port" >"$logs/server.log" 2>&1 &
server_pid=$!
echo "$server_pid" >"$out/$backend.server.pid"
say "server pid $server_pid on $base ${server_pin[*]:+(${server_pin[*]})}"

ready=
for _ in $(seq 600); do # up to 60 s
  if ! kill -0 "$server_pid" 2>/dev/null; then
    tail -n 30 "$logs/server.log" >&2 || true
    die "server exited during start-up (log: $logs/server.log)"
  fi
  if curl -fsS -o /dev/null --max-time 1 "$base/readyz" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
[[ -n $ready ]] || die "server not ready after 60 s (log: $logs/server.log)"

# ------------------------------------------------------------------ pre-flight
read -r p_cookie p_csrf p_draft _ <"$seed.page"
urlenc() { # percent-encode for a form body
  local s=$1 i c o=
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in
      [a-zA-Z0-9.~_-]) o+=$c ;;
      *) o+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$o"
}
check() { # expected-status description curl-args...
  local want=$1 what=$2 got
  shift 2
  got=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$@" 2>/dev/null) || got=ERR
  if [[ $got == "$want" ]]; then
    say "pre-flight $what -> $got ok"
  else
    say "WARNING: pre-flight $what -> $got (expected $want); the scenario will report non-$want responses"
  fi
}
check 200 "GET /bench/baseline" "$base/bench/baseline"
check 200 "GET /de/" "$base/de/"
check 200 "GET /de/antrag/{draft}/person" -H "Cookie: amtsweg_session=$p_cookie" \
  "$base/de/antrag/$p_draft/person"
check 303 "POST /de/antrag/{draft}/copies" -H "Cookie: amtsweg_session=$p_cookie" \
  -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-raw "_csrf=$(urlenc "$p_csrf")&copies=2" "$base/de/antrag/$p_draft/copies"

# ------------------------------------------------------------------ wrk
result_line=
run_wrk() { # name script url seedfile duration   -> sets $result_line
  local name=$1 script=$2 url=$3 seedfile=$4 secs=$5
  if ! run_bg "$logs/$name.wrk.txt" "${client_pin[@]}" wrk -t"$threads" -c"$connections" \
    -d"${secs}s" --timeout 5s --latency -s "$here/$script" "$url" -- "$seedfile" "$threads"; then
    cat "$logs/$name.wrk.txt" >&2
    die "wrk failed for $name"
  fi
  result_line=$(grep '^RESULT ' "$logs/$name.wrk.txt" | tail -n 1) || true
  if [[ -z $result_line ]]; then
    cat "$logs/$name.wrk.txt" >&2
    die "no RESULT line from wrk for $name"
  fi
}

record() { # RESULT-line
  local _tag name rps p99 bad ok req wrapped sock dur
  read -r _tag name rps p99 bad ok req wrapped sock dur <<<"$1"
  printf '%s\n' "$1" >>"$results"
  say "$(printf '%-10s %9s req/s  p99 %7s ms  %s requests in %ss: %s expected, %s unexpected status, %s wrapped, %s socket errors' \
    "$name" "$rps" "$p99" "$req" "$dur" "$ok" "$bad" "$wrapped" "$sock")"
}

if ((warmup > 0)); then
  say "warm-up ${warmup}s"
  run_wrk warmup_baseline baseline.lua "$base/bench/baseline" - "$warmup"
  run_wrk warmup_start start_page.lua "$base/de/" - "$warmup"
fi

say "measuring: ${duration}s per scenario, $connections connections, $threads wrk thread"
run_wrk baseline baseline.lua "$base/bench/baseline" - "$duration"
record "$result_line"
run_wrk start_page start_page.lua "$base/de/" - "$duration"
record "$result_line"
run_wrk page_get page_get.lua "$base/" "$seed.page" "$duration"
record "$result_line"
run_wrk page_post page_post.lua "$base/" "$seed.page" "$duration"
record "$result_line"
run_wrk page_post_large page_post_large.lua "$base/" "$seed.large" "$duration"
record "$result_line"

# Submissions consume drafts. If wrk ran out of unused lines (wrapped > 0) the run is not
# a valid measurement: seed more drafts (2x what was needed) and measure once more.
run_wrk submit submit.lua "$base/" "$seed" "$duration"
sub=$result_line
read -r _ _ _ _ _ _ sub_req sub_wrapped _ _ <<<"$sub"
if ((sub_wrapped > 0)); then
  more=$((sub_req * 2))
  say "submission run used all $seed_lines drafts; seeding $more more drafts and re-measuring"
  printf 'RESULT_DISCARDED %s\n' "${sub#RESULT }" >>"$results"
  run_step bench-seed-2 "$bin" bench-seed --drafts "$more" --out "$work/seed2.txt"
  echo "META drafts_reseeded $more" >>"$results"
  run_wrk submit-retry submit.lua "$base/" "$work/seed2.txt" "$duration"
  sub=$result_line
fi
record "$sub"

# The baseline again at the end: the first run may still share the core with start-up work
# (WAL checkpoint after seeding, first housekeeping pass); ratios use the higher of the two.
run_wrk baseline_end baseline.lua "$base/bench/baseline" - "$duration"
record "$result_line"

kill -0 "$server_pid" 2>/dev/null || die "server died during the benchmark (log: $logs/server.log)"
stop_server
# keep the kept server log small if the server logs every request
if [[ $(stat -c %s "$logs/server.log" 2>/dev/null || echo 0) -gt 10485760 ]]; then
  tail -c 1048576 "$logs/server.log" >"$logs/server.log.tail" && mv "$logs/server.log.tail" "$logs/server.log"
fi
say "done; results in $results, logs in $logs/"
