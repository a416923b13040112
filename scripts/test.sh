#!/usr/bin/env bash
# The test command of Amtsweg: `scripts/test.sh`
#
#   1. scripts/setup-debian.sh installs what the tests need (fast no-op when done already);
#   2. inside scripts/with-postgres.sh (a throw-away PostgreSQL, AMTSWEG_TEST_POSTGRES_URL):
#      swift build --build-tests, then swift test (storage tests also run against PostgreSQL);
#   3. the browser tests: python3 -m pytest -q e2e against .build/debug/amtsweg
#      (the e2e fixtures start the server themselves, on SQLite).
# Each part reports on its own; the exit status is non-zero if either failed.
#
# Environment: SKIP_E2E=1 skips the browser tests; SKIP_SETUP=1 skips step 1.
set -euo pipefail

cd "$(dirname "$0")/.."

# Swift 6.3.1 lives in /opt/swift on this machine kind.
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
  export PATH="/opt/swift/usr/bin:$PATH"
fi

# Outer invocation: install, then re-run this script inside a PostgreSQL cluster.
if [[ "${AMTSWEG_TEST_INNER:-}" != 1 ]]; then
  if [[ "${SKIP_SETUP:-}" != 1 ]]; then
    bash scripts/setup-debian.sh
  fi
  export AMTSWEG_TEST_INNER=1
  exec bash scripts/with-postgres.sh bash scripts/test.sh "$@"
fi

# Inner invocation (AMTSWEG_TEST_POSTGRES_URL is set).
swift_result=FAIL
e2e_result=FAIL
build_ok=0

echo "== [swift] swift build --build-tests"
start=$SECONDS
if swift build --build-tests; then
  build_ok=1
  echo "== [swift] swift test"
  if swift test; then
    swift_result=PASS
  fi
else
  echo "== [swift] build failed"
fi
echo "== [swift] $swift_result ($((SECONDS - start)) s)"

if [[ "${SKIP_E2E:-}" == 1 ]]; then
  e2e_result=SKIPPED
  echo "== [e2e] skipped (SKIP_E2E=1)"
elif ((!build_ok)); then
  echo "== [e2e] not run: the build failed"
else
  echo "== [e2e] python3 -m pytest -q e2e"
  start=$SECONDS
  if AMTSWEG_BIN="${AMTSWEG_BIN:-.build/debug/amtsweg}" python3 -m pytest -q -p no:cacheprovider e2e; then
    e2e_result=PASS
  fi
  echo "== [e2e] $e2e_result ($((SECONDS - start)) s)"
fi

echo "== test.sh: swift $swift_result, e2e $e2e_result"
[[ "$swift_result" == PASS && "$e2e_result" != FAIL ]]
