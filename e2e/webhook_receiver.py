"""A Fachverfahren's webhook endpoint on 127.0.0.1, for the delivery tests: checks each callback's
HMAC-SHA512 signature and age the way FIT-Connect receivers do (written independently of Amtsweg's code),
records it, and answers as told.

As a module: `WebhookReceiver(secret).start()` → `.url`, `.records()`, `.stop()`.
As a program (for the Swift tests):

    python3 e2e/webhook_receiver.py --secret S [--fail-next N] [--status CODE]

prints `READY <port>`, serves POST /hook and GET /received (the records as JSON) until stdin closes.
The first N callbacks are answered 503; with --status every callback gets that status.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CALLBACK_TYPE = "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions"


def signature_valid(secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float | None = None) -> bool:
    """FIT-Connect callback check: hex HMAC-SHA512 over `timestamp.body`, timestamp at most 5 minutes off."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs((now or time.time()) - int(timestamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha512).hexdigest()
    return hmac.compare_digest(expected, signature.lower())


class WebhookReceiver:
    """The receiving end; thread-safe records of every callback."""

    def __init__(self, secret: str, fail_next: int = 0, status: int | None = None):
        self.secret = secret
        self.fail_next = fail_next
        self.status = status
        self.lock = threading.Lock()
        self._records: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                if self.path != "/received":
                    self.send_error(404)
                    return
                data = json.dumps(receiver.records()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                valid = signature_valid(receiver.secret, self.headers.get("callback-timestamp"),
                                        self.headers.get("callback-authentication"), body)
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = None
                with receiver.lock:
                    if receiver.status is not None:
                        answer = receiver.status
                    elif receiver.fail_next > 0:
                        receiver.fail_next -= 1
                        answer = 503
                    else:
                        answer = 200 if valid else 401
                    receiver._records.append({
                        "path": self.path, "valid": valid, "answer": answer, "payload": payload,
                        "idempotencyKey": self.headers.get("Idempotency-Key"),
                        "contentType": self.headers.get("Content-Type"),
                    })
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def records(self) -> list[dict]:
        with self.lock:
            return [dict(r) for r in self._records]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", required=True)
    parser.add_argument("--fail-next", type=int, default=0)
    parser.add_argument("--status", type=int)
    args = parser.parse_args()
    receiver = WebhookReceiver(args.secret, args.fail_next, args.status).start()
    print(f"READY {receiver.port}", flush=True)
    sys.stdin.read()
    receiver.stop()


if __name__ == "__main__":
    main()
