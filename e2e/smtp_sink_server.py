"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the Swift tests of the SMTP client.

    python3 e2e/smtp_sink_server.py --dir DIR [--fail-next N] [--tls-cert CERT --tls-key KEY] [--require-auth]

Prints `READY <port>` once it listens, then writes every accepted message to DIR/<n>.json as
{"mail_from", "rcpt_tos", "data"} (data decoded as UTF-8). The first N DATA commands are answered with
451 (temporary failure) and nothing is stored. With a certificate it offers STARTTLS; with --require-auth it
requires AUTH (user "amtsweg", password "geheim 123") before MAIL FROM. Runs until stdin closes or SIGTERM.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, folder: pathlib.Path, fail_next: int):
        self.folder = folder
        self.fail_next = fail_next
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return "451 4.3.0 Try again later"
            self.count += 1
            number = self.count
        content = envelope.original_content or envelope.content
        record = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                  "data": content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content,
                  "tls": session.ssl is not None, "authenticated": bool(session.authenticated)}
        (self.folder / f"{number}.json").write_text(json.dumps(record), encoding="utf-8")
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"amtsweg" and auth_data.password == b"geheim 123"
    return AuthResult(success=ok)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--fail-next", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--require-auth", action="store_true")
    args = parser.parse_args()
    folder = pathlib.Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    controller = Controller(
        Handler(folder, args.fail_next), hostname="127.0.0.1", port=port, server_hostname="sink.localhost",
        enable_SMTPUTF8=True, tls_context=tls_context, require_starttls=tls_context is not None,
        authenticator=authenticator, auth_required=args.require_auth, auth_require_tls=tls_context is not None)
    controller.start()
    print(f"READY {port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
