#!/usr/bin/env bash
# Installs what Amtsweg's tests need on a fresh Debian 12 machine (run as root).
# Idempotent and fast when everything is already there:
#   - apt-get runs only if one of the Debian packages below is missing;
#   - pip does not contact PyPI when every requirement is already satisfied.
# Swift itself (6.3.1 at /opt/swift) is part of the machine image and not installed here.
set -euo pipefail

cd "$(dirname "$0")/.."

# Debian packages:
#   postgresql      - server binaries for scripts/with-postgres.sh (storage tests on PostgreSQL)
#   chromium, chromium-driver - headless browser + WebDriver for e2e/ (Selenium)
#   clamav-daemon, clamav-testfiles - clamd for the upload scan tests (started on a temporary socket, test signatures only)
#   openssl - a throw-away certificate for the SMTP STARTTLS test
#   wrk             - HTTP load generator for bench/
#   qpdf, poppler-utils - check / render generated PDFs (receipts) in tests
#   ca-certificates - TLS for pip
# (SQLite needs nothing: sqlite-nio bundles its own copy.)
APT_PACKAGES=(postgresql chromium chromium-driver wrk qpdf poppler-utils ca-certificates clamav-daemon clamav-testfiles openssl)

# axe-playwright-python only serves as a carrier of axe.min.js (axe-core); installing it with
# --no-deps keeps Playwright (and its browser download) out.
AXE_PACKAGE="axe-playwright-python==0.1.8"

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "setup-debian: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup-debian: must run as root to install Debian packages" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup-debian: Debian packages already installed"
fi

# Python packages for e2e/ (pyenv's CPython here; on Debian's own python3 pip would need
# --break-system-packages, which this variable grants; pip ignores it elsewhere).
export PIP_BREAK_SYSTEM_PACKAGES=1
pip_install() {
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "$@"
}
pip_install -r e2e/requirements.txt
pip_install --no-deps "$AXE_PACKAGE"

echo "setup-debian: done"
