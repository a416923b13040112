"""Tests of e2e/mailsink.py on its own: Python's smtplib sends to a MailSink on loopback.

Needs no Amtsweg server, browser or clamd.
"""

from __future__ import annotations

import smtplib
import socket
import threading
import time
from email.message import EmailMessage

import pytest

from mailsink import MailSink


@pytest.fixture
def sink():
    with MailSink() as s:
        yield s


def make_mail(to: str, subject: str, body: str, sender: str = "amtsweg@example.org") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    return msg


def send(sink: MailSink, msg: EmailMessage, **kwargs) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
        smtp.send_message(msg, **kwargs)


def test_address_and_url(sink):
    assert sink.host == "127.0.0.1"
    assert sink.url == f"smtp://127.0.0.1:{sink.port}"
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
        code, features = smtp.ehlo()
        assert code == 250
        assert smtp.has_extn("8bitmime") and smtp.has_extn("smtputf8")
        assert not smtp.has_extn("starttls")


def test_any_login_is_accepted_and_auth_is_optional(sink):
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.login("amtsweg", "beliebig")[0] == 235
        smtp.send_message(make_mail("auth@example.org", "mit Anmeldung", "x"))
    send(sink, make_mail("auth@example.org", "ohne Anmeldung", "y"))
    assert [m["Subject"] for m in sink.wait_for("auth@example.org", count=2, timeout=2)] == [
        "mit Anmeldung", "ohne Anmeldung"]


def test_messages_and_envelopes_arrive_in_order(sink):
    assert sink.messages() == [] and sink.envelopes() == []
    send(sink, make_mail("a@example.org", "first", "one"))
    send(sink, make_mail("b@example.org, c@example.org", "second", "two"), from_addr="bounce@example.org")
    msgs = sink.messages()
    assert [m["Subject"] for m in msgs] == ["first", "second"]
    assert sink.envelopes() == [
        ("amtsweg@example.org", ["a@example.org"]),
        ("bounce@example.org", ["b@example.org", "c@example.org"]),
    ]
    assert MailSink.text_of(msgs[0]) == "one\n"


def test_wait_for_recipient_and_subject(sink):
    send(sink, make_mail("other@example.org", "Ihre Bestätigung", "x"))
    send(sink, make_mail("Buerger@Example.org", "Erinnerung", "y"))
    # case-insensitive on the envelope recipient; other recipients are not counted
    [m] = sink.wait_for("buerger@example.org", timeout=2)
    assert m["Subject"] == "Erinnerung"
    with pytest.raises(AssertionError):
        sink.wait_for("buerger@example.org", subject_contains="Bestätigung", timeout=0.3)
    send(sink, make_mail("buerger@example.org", "Ihre Bestätigung – Antrag 7", "z"))
    [m] = sink.wait_for("BUERGER@example.org", subject_contains="Bestätigung", timeout=2)
    assert m["Subject"] == "Ihre Bestätigung – Antrag 7"
    assert len(sink.wait_for("buerger@example.org", count=2, timeout=2)) == 2


def test_wait_for_blocks_until_a_mail_arrives(sink):
    def later():
        time.sleep(0.3)
        send(sink, make_mail("late@example.org", "late", "x"))
        send(sink, make_mail("late@example.org", "later", "y"))

    thread = threading.Thread(target=later)
    thread.start()
    try:
        started = time.monotonic()
        msgs = sink.wait_for("late@example.org", count=2, timeout=10)
        assert time.monotonic() - started < 9
        assert [m["Subject"] for m in msgs] == ["late", "later"]
    finally:
        thread.join()


def test_wait_for_times_out_quickly_with_summary(sink):
    send(sink, make_mail("someone@example.org", "Nicht für dich", "x"))
    started = time.monotonic()
    with pytest.raises(AssertionError) as info:
        sink.wait_for("nobody@example.org", timeout=0.5)
    elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 3
    text = str(info.value)
    assert "nobody@example.org" in text
    assert "someone@example.org" in text and "Nicht für dich" in text


def test_utf8_subject_and_body_round_trip(sink):
    subject = "Ihre Bestätigung – Straße"
    body = "Grüße aus der Hauptstraße 5 – Ihr Bürgeramt\nÄÖÜ äöü ß €\n"
    send(sink, make_mail("buerger@example.org", subject, body))
    [m] = sink.wait_for("buerger@example.org", timeout=2)
    assert m["Subject"] == subject
    assert MailSink.text_of(m) == body


def test_raw_8bit_smtputf8_message(sink):
    """A message sent as raw UTF-8 (no MIME encoding) with SMTPUTF8 and a non-ASCII address."""
    raw = (
        "From: amtsweg@example.org\r\n"
        "To: jürgen@straße.example\r\n"
        "Subject: Ihre Bestätigung – Straße\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Straße und Grüße: https://amt.example/bestätigen?t=äbc\r\n"
    ).encode("utf-8")
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.sendmail("amtsweg@example.org", ["jürgen@straße.example"], raw,
                      mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    [m] = sink.wait_for("JÜRGEN@straße.example", timeout=2)
    assert sink.envelopes() == [("amtsweg@example.org", ["jürgen@straße.example"])]
    assert m["Subject"] == "Ihre Bestätigung – Straße"
    assert MailSink.text_of(m) == "Straße und Grüße: https://amt.example/bestätigen?t=äbc\n"


def test_links_in(sink):
    body = (
        "Guten Tag,\n\n"
        "bitte bestätigen Sie Ihre Adresse: https://127.0.0.1:8080/bestaetigen?token=abc-123_XYZ&x=1.\n"
        "Mehr unter <http://example.org/hilfe> oder (https://example.org/faq).\n"
        "Keine Links: ftp://example.org mailto:a@example.org\n"
    )
    send(sink, make_mail("buerger@example.org", "Links", body))
    [m] = sink.wait_for("buerger@example.org", timeout=2)
    assert MailSink.links_in(m) == [
        "https://127.0.0.1:8080/bestaetigen?token=abc-123_XYZ&x=1",
        "http://example.org/hilfe",
        "https://example.org/faq",
    ]


def test_links_in_quoted_printable_long_url(sink):
    """A long URL split by quoted-printable soft line breaks comes back whole."""
    url = "https://amt.example/antrag/fortsetzen?token=" + "a1b2c3d4" * 20
    msg = make_mail("buerger@example.org", "Lang", f"Weiter: {url}\nÄ\n")
    msg.replace_header("Content-Transfer-Encoding", "quoted-printable")
    msg.set_content(f"Weiter: {url}\nÄ\n", cte="quoted-printable")
    send(sink, msg)
    [m] = sink.wait_for("buerger@example.org", timeout=2)
    assert MailSink.links_in(m) == [url]


def test_text_of_multipart_alternative_and_html_only(sink):
    msg = make_mail("buerger@example.org", "Beides", "Klartext https://example.org/a\n")
    msg.add_alternative("<p>HTML <a href='https://example.org/html'>x</a></p>", subtype="html")
    send(sink, msg)
    html_only = EmailMessage()
    html_only["From"], html_only["To"], html_only["Subject"] = "a@example.org", "buerger@example.org", "Nur HTML"
    html_only.set_content("<p>nur HTML</p>", subtype="html")
    send(sink, html_only)
    both, only_html = sink.wait_for("buerger@example.org", count=2, timeout=2)
    assert MailSink.text_of(both) == "Klartext https://example.org/a\n"
    assert MailSink.links_in(both) == ["https://example.org/a"]
    with pytest.raises(AssertionError, match="no text/plain body"):
        MailSink.text_of(only_html)


def test_fail_next_rejects_once_then_accepts(sink):
    sink.fail_next(1)
    msg = make_mail("retry@example.org", "Wiederholung", "x")
    with pytest.raises(smtplib.SMTPDataError) as info:
        send(sink, msg)
    assert info.value.smtp_code == 451
    assert b"4.3.0 Try again later" in info.value.smtp_error
    assert sink.messages() == []
    send(sink, msg)
    [m] = sink.wait_for("retry@example.org", timeout=2)
    assert m["Subject"] == "Wiederholung"


def test_fail_next_custom_code_and_count(sink):
    sink.fail_next(2, code=554, text="5.6.0 Nein")
    for _ in range(2):
        with pytest.raises(smtplib.SMTPDataError) as info:
            send(sink, make_mail("x@example.org", "s", "b"))
        assert info.value.smtp_code == 554 and b"5.6.0 Nein" in info.value.smtp_error
    send(sink, make_mail("x@example.org", "s", "b"))
    assert len(sink.messages()) == 1
    with pytest.raises(ValueError):
        sink.fail_next(1, code=250)


def test_clear(sink):
    send(sink, make_mail("a@example.org", "eins", "x"))
    assert len(sink.messages()) == 1
    sink.clear()
    assert sink.messages() == [] and sink.envelopes() == []
    send(sink, make_mail("a@example.org", "zwei", "y"))
    [m] = sink.wait_for("a@example.org", timeout=2)
    assert m["Subject"] == "zwei"


def test_fixed_port_stop_and_restart():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = MailSink(port=port)
    assert sink.port == port and sink.url == f"smtp://127.0.0.1:{port}"
    sink.start()
    try:
        with pytest.raises(RuntimeError):
            sink.start()
        send(sink, make_mail("a@example.org", "eins", "x"))
    finally:
        sink.stop()
    sink.stop()  # a second stop does nothing
    with pytest.raises(OSError):
        smtplib.SMTP(sink.host, port, timeout=2)
    assert len(sink.messages()) == 1  # still readable after stop
    with sink:  # and it can be started again on the same port
        send(sink, make_mail("a@example.org", "zwei", "y"))
        assert [m["Subject"] for m in sink.wait_for("a@example.org", count=2, timeout=2)] == ["eins", "zwei"]


def test_fixed_port_in_use_raises():
    with MailSink() as first:
        with pytest.raises(OSError):
            MailSink(port=first.port).start()


def test_picked_port_taken_before_start_picks_another():
    sink = MailSink()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", sink.port))
        squatter.listen()
        taken = sink.port
        with sink:
            assert sink.port != taken and sink.url == f"smtp://127.0.0.1:{sink.port}"
            send(sink, make_mail("a@example.org", "umgezogen", "x"))
            assert sink.wait_for("a@example.org", timeout=2)[0]["Subject"] == "umgezogen"
