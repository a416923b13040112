"""A real SMTP server on loopback for the e2e tests: `MailSink`.

The sink is aiosmtpd's SMTP server (run by its threaded `Controller`) on 127.0.0.1. It accepts
every message for every recipient, with no authentication and no TLS, and keeps each one
(parsed with `email.policy.default`) together with its SMTP envelope, so that a test can point
Amtsweg's mail settings at `sink.url` and then look at what was really sent:

    with MailSink() as sink:
        ...  # start the server with its SMTP URL set to sink.url, trigger a mail
        [mail] = sink.wait_for("buerger@example.org", subject_contains="Bestätigung")
        link = MailSink.links_in(mail)[0]

What the server speaks: EHLO/HELO, 8BITMIME and SMTPUTF8 (so UTF-8 addresses, headers and
bodies arrive unchanged), SIZE (32 MiB), and AUTH PLAIN/LOGIN without TLS that accepts any
user name and password (so a sender configured with credentials can deliver too; AUTH is never
required). It does not offer STARTTLS.

`fail_next(n)` answers the next `n` DATA commands with a temporary error (451 by default) and
drops those messages, to test that the sender retries.

Thread-safety: aiosmtpd runs its asyncio loop in a thread of its own; the received messages are
guarded by a `threading.Condition`, so the test thread can read and wait on them at any time.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import re
import socket
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

__all__ = ["MailSink"]

_URL_RE = re.compile(r"""https?://[^\s<>"'`]+""")
# Characters that end a sentence or close a bracket around a URL rather than belong to it.
_URL_TRAILING = ".,;:!?)]}>'\""


def _accept_any_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    # Without an authenticator aiosmtpd would advertise AUTH (auth_require_tls=False) and then
    # reject every login with 535.
    return AuthResult(success=True)


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _check_bindable(host: str, port: int) -> None:
    """Raises OSError at once if (host, port) can't be listened on. aiosmtpd's Controller only
    reports a failed bind after its whole ready_timeout; asyncio binds with SO_REUSEADDR, so
    this check does too (a port in TIME_WAIT is fine, one with a listener is not)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise OSError(e.errno, f"MailSink cannot listen on {host}:{port}: {e.strerror}") from e


class _Handler:
    """aiosmtpd handler: stores each message in its sink, or rejects it while failures are queued."""

    def __init__(self, sink: MailSink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope) -> str:
        return self.sink._receive(envelope)


class MailSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives."""

    host: str  # "127.0.0.1"
    port: int

    def __init__(self, port: int | None = None):
        """`port`: the TCP port to listen on; None picks a free one (known from `self.port` at once)."""
        self.host = "127.0.0.1"
        self._fixed_port = port is not None
        self.port = port if port is not None else _free_port(self.host)
        self._cond = threading.Condition()
        # (mail_from, rcpt_tos, message) per accepted message, in order of arrival
        self._received: list[tuple[str, list[str], email.message.EmailMessage]] = []
        self._failures: list[tuple[int, str]] = []
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        """The sink's address as an SMTP URL: "smtp://127.0.0.1:PORT"."""
        return f"smtp://{self.host}:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Starts listening; returns once the server answers. Raises RuntimeError if already started."""
        if self._controller is not None:
            raise RuntimeError("MailSink already started")
        # A port picked by _free_port can be taken by someone else before we bind it: pick anew.
        attempts = 1 if self._fixed_port else 5
        for attempt in range(attempts):
            try:
                _check_bindable(self.host, self.port)
            except OSError:
                if attempt + 1 == attempts:
                    raise
                self.port = _free_port(self.host)
                continue
            controller = Controller(
                _Handler(self),
                hostname=self.host,
                port=self.port,
                ready_timeout=10.0,
                # the 220/250 greeting name; avoids socket.getfqdn(), which can hang without DNS
                server_hostname="mailsink.localhost",
                enable_SMTPUTF8=True,
                auth_require_tls=False,
                authenticator=_accept_any_login,
            )
            try:
                controller.start()
            except OSError as e:  # bind failed (or, TimeoutError, the server did not answer)
                controller.stop(no_assert=True)
                if isinstance(e, TimeoutError) or attempt + 1 == attempts:
                    raise
                self.port = _free_port(self.host)
                continue
            except BaseException:
                controller.stop(no_assert=True)
                raise
            self._controller = controller
            return

    def stop(self) -> None:
        """Stops listening (the received messages stay readable). Does nothing if not running."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> MailSink:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- receiving (runs on aiosmtpd's thread) -------------------------------------------------

    def _receive(self, envelope) -> str:
        with self._cond:
            if self._failures:
                code, text = self._failures.pop(0)
                return f"{code} {text}"
        raw = envelope.original_content if envelope.original_content is not None else envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self._cond:
            self._received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
            self._cond.notify_all()
        return "250 OK"

    # -- reading -------------------------------------------------------------------------------

    def messages(self) -> list[email.message.EmailMessage]:
        """All messages received so far (failed ones not included), in order of arrival."""
        with self._cond:
            return [m for _, _, m in self._received]

    def envelopes(self) -> list[tuple[str, list[str]]]:
        """(MAIL FROM, [RCPT TO, ...]) of each message of `messages()`, in the same order."""
        with self._cond:
            return [(f, list(r)) for f, r, _ in self._received]

    def clear(self) -> None:
        """Forgets every message received so far (queued `fail_next` failures stay)."""
        with self._cond:
            self._received.clear()

    def wait_for(
        self,
        recipient: str,
        count: int = 1,
        timeout: float = 15.0,
        subject_contains: str | None = None,
    ) -> list[email.message.EmailMessage]:
        """Waits until at least `count` messages have arrived whose envelope RCPT TO list holds
        `recipient` (compared case-insensitively) and, if `subject_contains` is given, whose
        Subject contains it; returns all such messages in order of arrival (possibly more than
        `count`). After `timeout` seconds raises AssertionError listing what did arrive."""
        wanted = recipient.strip().lower()

        def matching() -> list[email.message.EmailMessage]:
            found = []
            for _, rcpt_tos, message in self._received:
                if wanted not in (r.strip().lower() for r in rcpt_tos):
                    continue
                if subject_contains is not None and subject_contains not in str(message.get("Subject", "")):
                    continue
                found.append(message)
            return found

        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = matching()
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            summary = self._summary_locked()
        what = f"{count} message(s) to {recipient!r}"
        if subject_contains is not None:
            what += f" with subject containing {subject_contains!r}"
        raise AssertionError(
            f"MailSink {self.url}: waited {timeout:g}s for {what}, got {len(found)}; received:\n{summary}"
        )

    def _summary_locked(self) -> str:
        if not self._received:
            return "  (nothing)"
        return "\n".join(
            f"  {i}. from {mail_from!r} to {rcpt_tos!r}: Subject {str(message.get('Subject', ''))!r}"
            for i, (mail_from, rcpt_tos, message) in enumerate(self._received, 1)
        )

    # -- failures ------------------------------------------------------------------------------

    def fail_next(self, n: int, code: int = 451, text: str = "4.3.0 Try again later") -> None:
        """Answers the next `n` DATA commands with "`code` `text`" and drops those messages
        (a 4xx code is a temporary failure the sender should retry; 5xx a permanent one).
        Adds to failures already queued."""
        if n < 0:
            raise ValueError("n must be >= 0")
        if not 400 <= code <= 599:
            raise ValueError("code must be an SMTP error code (400-599)")
        with self._cond:
            self._failures.extend([(code, text)] * n)

    # -- message helpers -------------------------------------------------------------------------

    @staticmethod
    def text_of(message: email.message.EmailMessage) -> str:
        """The message's text/plain body, transfer- and charset-decoded, with "\\n" line ends.
        For multipart messages the first text/plain part (as `get_body` picks it).
        Raises AssertionError if the message has no text/plain body."""
        part = message.get_body(preferencelist=("plain",))
        if part is None:
            raise AssertionError(
                f"message {str(message.get('Subject', ''))!r} has no text/plain body "
                f"(content type {message.get_content_type()})"
            )
        return part.get_content().replace("\r\n", "\n")

    @staticmethod
    def links_in(message: email.message.EmailMessage) -> list[str]:
        """Every http:// and https:// URL in the text/plain body, in order (repeats included),
        without trailing sentence punctuation or closing brackets."""
        links = []
        for match in _URL_RE.finditer(MailSink.text_of(message)):
            url = match.group(0).rstrip(_URL_TRAILING)
            if url:
                links.append(url)
        return links
