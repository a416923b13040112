#!/usr/bin/env bash
# Builds Amtsweg and starts the portal on SQLite with the demo authority "Stadt Musterstadt".
#   scripts/start.sh [--host H] [--port P]      (defaults 127.0.0.1:8080)
# The database is AMTSWEG_DATABASE_URL, default sqlite:data/amtsweg.sqlite.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
  export PATH="/opt/swift/usr/bin:$PATH"
fi
swift build --product amtsweg
# Without an SMTP server the demo writes its mails (account confirmation, password reset) as .eml files here.
if [[ -z "${AMTSWEG_SMTP_URL:-}" ]]; then export AMTSWEG_MAIL_DIR="${AMTSWEG_MAIL_DIR:-data/mail}"; fi
exec .build/debug/amtsweg serve --demo "$@"
