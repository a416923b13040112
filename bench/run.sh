#!/usr/bin/env bash
# Amtsweg HTTP benchmark (see bench/README.md).
#
#   bench/run.sh [--skip-build] [--duration S] [--connections C] [--backend sqlite|postgres|all]
#
# Builds the release binary (unless --skip-build), then benchmarks the SQLite backend and a
# throw-away PostgreSQL cluster (via scripts/with-postgres.sh) with wrk against 127.0.0.1,
# prints a table per backend with the targets, and writes it to bench/results/latest.md.
#
# Exit status: 0 if every requested backend ran, every measurement is valid (no unexpected
# statuses, no reused drafts) and every target passes; 1 otherwise; 2 on usage errors.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

usage() {
  sed -n '2,11s/^# \{0,1\}//p' "$here/run.sh"
}

skip_build=
duration=10
connections=32
backends=(sqlite postgres)
while (($#)); do
  case "$1" in
    --skip-build) skip_build=1 ;;
    --duration)
      duration=${2:?--duration needs a value}
      shift
      ;;
    --duration=*) duration=${1#*=} ;;
    --connections)
      connections=${2:?--connections needs a value}
      shift
      ;;
    --connections=*) connections=${1#*=} ;;
    --backend | --backend=*)
      if [[ $1 == --backend ]]; then
        b=${2:?--backend needs a value}
        shift
      else
        b=${1#*=}
      fi
      case "$b" in
        sqlite | postgres) backends=("$b") ;;
        all) backends=(sqlite postgres) ;;
        *)
          echo "unknown backend '$b' (sqlite, postgres or all)" >&2
          exit 2
          ;;
      esac
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "unknown argument '$1'" >&2
      usage >&2
      exit 2
      ;;
  esac
  shift
done
if ! [[ $duration =~ ^[0-9]+$ ]] || ((duration < 1 || duration > 30)); then
  echo "--duration must be an integer from 1 to 30 (seconds per wrk run)" >&2
  exit 2
fi
if ! [[ $connections =~ ^[0-9]+$ ]] || ((connections < 1 || connections > 1024)); then
  echo "--connections must be an integer from 1 to 1024" >&2
  exit 2
fi

# ------------------------------------------------------------------ prerequisites
if ! command -v wrk >/dev/null; then
  echo "wrk not found - installing it with apt-get ..." >&2
  if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  elif command -v apt-get >/dev/null && command -v sudo >/dev/null; then
    sudo apt-get install -y wrk >/dev/null || { sudo apt-get update >/dev/null && sudo apt-get install -y wrk >/dev/null; }
  fi
  command -v wrk >/dev/null || {
    echo "wrk is required (Debian/Ubuntu: apt-get install wrk)" >&2
    exit 1
  }
fi
command -v curl >/dev/null || {
  echo "curl is required" >&2
  exit 1
}

if [[ -z $skip_build ]]; then
  echo "==> swift build -c release --product amtsweg"
  swift build -c release --product amtsweg
fi
export AMTSWEG_BIN=${AMTSWEG_BIN:-$root/.build/release/amtsweg}
[[ -x $AMTSWEG_BIN ]] || {
  echo "$AMTSWEG_BIN not found; run without --skip-build" >&2
  exit 1
}

out=$(mktemp -d "${TMPDIR:-/tmp}/amtsweg-bench.XXXXXX")
export BENCH_OUT=$out BENCH_DURATION=$duration BENCH_CONNECTIONS=$connections

# ------------------------------------------------------------------ child handling
child=
# shellcheck disable=SC2317  # invoked by trap
cleanup() {
  local rc=$? f pid
  trap - INT TERM
  # Stop a still-running backend script and any server it started (pids recorded in $out).
  for f in "$out"/*.runner.pid "$out"/*.server.pid; do
    [[ -f $f ]] || continue
    pid=$(<"$f")
    if [[ $pid =~ ^[0-9]+$ ]]; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  if [[ -n $child ]]; then
    # Give a wrapper (scripts/with-postgres.sh) up to 15 s to tear down its cluster after the
    # backend script has stopped; only then terminate it.
    for _ in $(seq 150); do
      kill -0 "$child" 2>/dev/null || break
      sleep 0.1
    done
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

run_child() { # cmd...  (background + wait: signals reach cleanup() without delay)
  local rc=0
  "$@" &
  child=$!
  wait "$child" || rc=$?
  child=
  return "$rc"
}

declare -A status
for b in "${backends[@]}"; do
  echo
  echo "==> backend: $b"
  case "$b" in
    sqlite)
      if run_child bash "$here/run-backend.sh" sqlite; then status[$b]=ok; else status[$b]=failed; fi
      ;;
    postgres)
      with_pg=${AMTSWEG_WITH_POSTGRES:-$root/scripts/with-postgres.sh}
      if [[ ! -f $with_pg ]]; then
        echo "[postgres] $with_pg not found - PostgreSQL not measured" >&2
        status[$b]="not run ($with_pg missing)"
        continue
      fi
      # Pin the whole throw-away cluster to the server CPU as well, so the load generator
      # keeps CPU 1 to itself (run-backend.sh re-pins wrk to CPU 1 explicitly).
      pg_pin=()
      if command -v taskset >/dev/null && (($(nproc --all) >= 2)); then pg_pin=(taskset -c "${BENCH_SERVER_CPUS:-0}"); fi
      if run_child "${pg_pin[@]}" bash "$with_pg" bash "$here/run-backend.sh" postgres; then
        status[$b]=ok
      else
        status[$b]=failed
      fi
      ;;
  esac
done

# ------------------------------------------------------------------ report
# shellcheck disable=SC2016  # backticks are Markdown, not command substitution
describe() {
  case "$1" in
    baseline) echo 'baseline `GET /bench/baseline`' ;;
    baseline_end) echo 'baseline again, after the other scenarios' ;;
    start_page) echo 'start page `GET /de/`' ;;
    page_get) echo 'assistant page `GET /de/antrag/{id}/person`' ;;
    page_post) echo 'page POST `POST /de/antrag/{id}/copies`' ;;
    page_post_large) echo 'page POST of the largest assistant (15-field page, all fields)' ;;
    submit) echo 'complete submission `POST /de/antrag/{id}/absenden`' ;;
    *) echo "$1" ;;
  esac
}
label() { [[ $1 == sqlite ]] && echo SQLite || echo PostgreSQL; }
fmt_int() { # thousands separators
  local s
  s=$(printf '%.0f' "$1")
  while [[ $s =~ ^([0-9]+)([0-9]{3})(.*)$ ]]; do s="${BASH_REMATCH[1]},${BASH_REMATCH[2]}${BASH_REMATCH[3]}"; done
  printf '%s' "$s"
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

overall=0
report=$out/report.md
{
  echo "# Amtsweg benchmark results"
  echo
  commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "no commit")
  dirty=
  if [[ -n $(git -C "$root" status --porcelain 2>/dev/null) ]]; then dirty=" (+ uncommitted changes)"; fi
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit: ${commit}${dirty}"
  echo "- machine: $(nproc) CPUs${cpu:+ ($cpu)}; server pinned to CPU ${BENCH_SERVER_CPUS:-0}, wrk to CPU ${BENCH_CLIENT_CPUS:-1}"
  echo "- wrk: 1 thread, $connections connections, ${duration}s per scenario, target 127.0.0.1"
  echo "- ratio = scenario requests/s ÷ baseline requests/s of the same backend in the same run (the higher of the baseline runs before and after the others)"
  targets=()
  for b in "${backends[@]}"; do
    res=$out/$b.results
    echo
    echo "## $(label "$b")"
    echo
    if [[ ${status[$b]} != ok ]] || [[ ! -s $res ]] || ! grep -q '^RESULT submit ' "$res"; then
      if [[ -d $out/$b ]]; then
        echo "**not measured: ${status[$b]}** (logs: $out/$b/)"
      else
        echo "**not measured: ${status[$b]}**"
      fi
      targets+=("| $(label "$b"): benchmark ran | ${status[$b]} | FAIL |")
      overall=1
      continue
    fi
    start_ratio=0 start_bad=0 subs=0 sub_bad=0 sub_n=0 large_ratio=0 large_bad=1
    base_rps=$(awk '$1 == "RESULT" && ($2 == "baseline" || $2 == "baseline_end") && $3 > max { max = $3 } END { print max }' "$res")
    echo "| Scenario | Requests/s | p99 (ms) | × baseline | Unexpected status | Socket errors |"
    echo "|---|---:|---:|---:|---:|---:|"
    while read -r _ name rps p99 bad ok _req wrapped sock dur; do
      ratio=$(awk -v a="$rps" -v b="$base_rps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
      note=
      if ((bad > 0)); then
        note=" ⚠ INVALID"
        overall=1
      fi
      if ((wrapped > 0)); then
        note="$note ⚠ drafts reused ($wrapped)"
        overall=1
      fi
      printf '| %s | %s | %.1f | %s× | %s%s | %s |\n' "$(describe "$name")" "$(fmt_int "$rps")" "$p99" \
        "$ratio" "$bad" "$note" "$sock"
      case "$name" in
        start_page)
          start_ratio=$ratio
          start_bad=$bad
          ;;
        page_post_large)
          large_ratio=$ratio
          large_bad=$bad
          ;;
        submit)
          subs=$(awk -v n="$ok" -v d="$dur" 'BEGIN { printf "%.1f", (d > 0 ? n / d : 0) }')
          sub_bad=$bad
          sub_n=$ok
          ;;
      esac
    done < <(grep '^RESULT ' "$res")
    drafts=$(awk '$1 == "META" && $2 == "drafts" { print $3 }' "$res")
    seed_s=$(awk '$1 == "META" && $2 == "seed_seconds" { print $3 }' "$res")
    reseeded=$(awk '$1 == "META" && $2 == "drafts_reseeded" { print $3 }' "$res")
    echo
    echo "Complete durable submissions per second ($(label "$b")): **$(fmt_int "$subs")/s**" \
      "($(fmt_int "$sub_n") submissions answered 303 in ${duration}s; non-303 responses: $sub_bad;" \
      "$(fmt_int "${drafts:-0}") drafts seeded in ${seed_s:-?}s${reseeded:+; the first submission run used them all, so $(fmt_int "$reseeded") more were seeded and the run repeated})"
    if ge "$start_ratio" 0.50 && ((start_bad == 0)); then r=PASS; else r=FAIL overall=1; fi
    targets+=("| $(label "$b"): start page ≥ 0.50× baseline (0 non-200) | ${start_ratio}×, $start_bad non-200 | $r |")
    if ge "$large_ratio" 0.50 && ((large_bad == 0)); then r=PASS; else r=FAIL overall=1; fi
    targets+=("| $(label "$b"): page POST of the largest assistant ≥ 0.50× baseline (0 non-303) | ${large_ratio}×, $large_bad non-303 | $r |")
    if [[ $b == sqlite ]]; then
      if ge "$subs" 500 && ((sub_bad == 0)); then r=PASS; else r=FAIL overall=1; fi
      targets+=("| SQLite: complete durable submissions ≥ 500/s (0 non-303) | $(fmt_int "$subs")/s, $sub_bad non-303 | $r |")
    fi
  done
  echo
  echo "## Targets"
  echo
  echo "| Target | Measured | Result |"
  echo "|---|---:|---|"
  printf '%s\n' "${targets[@]}"
  echo
  echo "## Assistant engine (in-process, \`amtsweg bench-engine\`)"
  echo
  # Import of the larger real FIM schema and validation of a full submission of the largest assistant,
  # each against a baseline measured in the same run.
  if ! (cd "$root" && "$AMTSWEG_BIN" bench-engine --fim "$root/../shared/data/fim/S00000000377.xdf3.xml"); then
    echo "bench-engine failed"
    overall=1
  fi
} >"$report"

echo
cat "$report"
mkdir -p "$here/results"
cp "$report" "$here/results/latest.md"
echo
echo "Written to bench/results/latest.md; raw wrk output and server logs in $out/"
exit "$overall"
