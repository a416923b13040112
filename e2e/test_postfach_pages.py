"""Browser tests of the newer Servicekonto pages, each checked with axe-core (WCAG 2.1 A/AA), with their error states:

1. Postfach messages: a case worker sends a Nachforderung (with due date and a PDF) from the case view; the citizen
   gets a mail without details, sees the task and the unread badge, opens the thread, downloads the file, answers
   (first empty: error state, then with a PDF); the case worker sees the answer.
2. Dokumentensafe: empty state, refused upload, list, download, delete; a stored document chosen in an application.
3. Profile for prefilling: consent and postal-code errors, saved state, prefill of the applicant page (not of the
   page about the registered person), withdrawal.
4. Data self-service: the data page, the access log before and after a case worker looked at the case, the ZIP export.
5. Citizen second factor: set-up (wrong and right code), recovery codes, login with TOTP and with a recovery code
   (once), switching off with the password.
6. Linked identity at the Test-BundID provider: cancelling, linking, signing in with it, unlinking (axe only on our
   pages, never on the provider's stand-in pages).
7. The citizen pages in English.
8. Answering a Nachforderung with the keyboard only.
9. Regression tests for eight product bugs found while writing these tests (all fixed since).

The case worker works in a browser of their own (`staff` fixture, signed in once per module with the demo TOTP), so the
citizen's browser (`driver`) keeps its session. Every test uses new accounts (unique addresses), created over HTTP
from loopback addresses of their own (see test_accounts.py), so no test counts towards another's throttling.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import time
import uuid
import zipfile
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import check_axe, make_driver, staff_login, totp_code
from mailsink import MailSink
from test_accounts import (MAIL_TIMEOUT, PASSWORD, SUBJECT_POSTFACH, address, apply_for_birth_certificate, by_id,
                           confirmed_account, error_summary, field_error, focused, go, h1, keyboard_navigate,
                           login_browser, press, skip_to_main)
from test_birth_certificate import (SERVICE, body_text, choose, field, fill, minimal_pdf, open_page, path_of, wait,
                                    wait_path)

TENANT = "Stadt Musterstadt"
REPLIED = "Ihre Antwort wurde an die Behörde übermittelt."
CODE_WRONG = "Der Code stimmt nicht oder wurde schon benutzt."


# --- helpers ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def staff(server):
    """A browser of its own, signed in as the demo case worker (password + TOTP) once for this module."""
    browser = make_driver()
    try:
        staff_login(browser, server)
        check_axe(browser)  # the inbox
        yield browser
    finally:
        browser.quit()


def loaded(driver) -> None:
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")


def cookies_of(driver) -> dict[str, str]:
    return {c["name"]: c["value"] for c in driver.get_cookies()}


def download(driver, href: str) -> requests.Response:
    """GETs a link with the browser's cookies (downloads do not navigate the browser)."""
    response = requests.get(urljoin(driver.current_url, href), cookies=cookies_of(driver), timeout=30)
    assert response.status_code == 200, f"{href}: {response.status_code}"
    return response


def pdf_file(tmp_path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(minimal_pdf())
    return str(path)


def lang(driver) -> str:
    return driver.find_element(By.TAG_NAME, "html").get_attribute("lang")


def main_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "main").text


def signed_in_citizen(server, driver, mail_sink, name: str) -> str:
    """A new confirmed account, signed in in `driver`; returns its address."""
    email = confirmed_account(server, mail_sink, name)
    driver.delete_all_cookies()
    login_browser(driver, server, email, PASSWORD)
    return email


# The order of day, month and year in the browser's date fields: Chromium lays them out in its ICU locale, which can
# differ from the UI language (Debian's headless Chromium with --lang=de-DE still formats dates as en-US).
_DATE_ORDER = """
return new Intl.DateTimeFormat(undefined, {year: 'numeric', month: '2-digit', day: '2-digit'})
  .formatToParts(new Date(2026, 11, 15)).filter(p => p.type !== 'literal').map(p => p.type);
"""


def set_date(driver, element_id: str, day: datetime.date) -> None:
    """Types a date into an <input type=date> in the browser's own date format (as a user would); sets the value by
    script only if the browser did not take the keys."""
    element = by_id(driver, element_id)
    parts = {"day": f"{day.day:02d}", "month": f"{day.month:02d}", "year": f"{day.year:04d}"}
    order = driver.execute_script(_DATE_ORDER)
    element.send_keys("".join(parts[p] for p in order))
    if element.get_attribute("value") != day.isoformat():
        element.clear()
        driver.execute_script("arguments[0].value = arguments[1];"
                              "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", element, day.isoformat())
    assert element.get_attribute("value") == day.isoformat()


def thread_messages(driver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, "#thread-list > li.message")


def send_request(staff, base: str, application: str, subject: str, body: str, due: datetime.date | None = None,
                 file: str | None = None, locale: str = "de") -> str:
    """The case worker sends a Nachforderung from the case view; returns the new message's id."""
    open_page(staff, f"{base}/{locale}/verwaltung/vorgang/{application}")
    before = {li.get_attribute("id") for li in thread_messages(staff)}
    choose(staff, "kind", "request")
    fill(staff, **{"message-subject": subject, "message-body": body})
    if due:
        set_date(staff, "message-due", due)
    if file:
        by_id(staff, "message-file").send_keys(file)
    go(staff, by_id(staff, "send-message"))
    wait_path(staff, rf"/{locale}/verwaltung/vorgang/{re.escape(application)}")
    new = [li for li in thread_messages(staff) if li.get_attribute("id") not in before]
    assert len(new) == 1, [li.text for li in thread_messages(staff)]
    assert "message-open" in new[0].get_attribute("class").split()
    assert subject in new[0].find_element(By.CSS_SELECTOR, ".message-subject").text
    return new[0].get_attribute("id").removeprefix("message-")


class Authenticator:
    """An authenticator app for one TOTP key: a code of a new time step each time (the server takes each step once
    and allows one step of drift, so at most two codes per 30 s; a third waits for the clock)."""

    def __init__(self, key_base32: str):
        self.key = key_base32
        self.last_step = 0

    def code(self) -> str:
        step = max(int(time.time()) // 30, self.last_step + 1)
        while step > int(time.time()) // 30 + 1:
            time.sleep(1)
        self.last_step = step
        return totp_code(self.key, step)


def login_until_code_page(driver, base: str, email: str, password: str = PASSWORD, axe: bool = True) -> None:
    driver.get(f"{base}/de/konto/anmelden")
    loaded(driver)
    fill(driver, email=email, password=password)
    go(driver, by_id(driver, "login"), axe=False)
    wait_path(driver, r"/de/konto/anmelden/code")
    if axe:
        check_axe(driver)


def submit_code(driver, code: str) -> None:
    fill(driver, code=code)
    go(driver, by_id(driver, "verify-code"))


def logout(driver, base: str) -> None:
    driver.get(f"{base}/de/konto")
    loaded(driver)
    go(driver, by_id(driver, "logout"), axe=False)
    wait_path(driver, r"/de/konto/abgemeldet")


def at_provider(driver) -> None:
    """Waits for the Test-BundID login form (the provider's own page: no axe, it is a stand-in)."""
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "idp-login"))


def provider_login(driver, username: str, level: str) -> None:
    at_provider(driver)
    by_id(driver, "username").clear()
    by_id(driver, "username").send_keys(username)
    Select(by_id(driver, "level")).select_by_value(level)
    go(driver, by_id(driver, "idp-login"), axe=False)


# --- 1. Postfach messages -------------------------------------------------------------------------------------

def test_nachforderung_reply_and_case_view(server, driver, staff, mail_sink, tmp_path):
    base = server
    email = signed_in_citizen(server, driver, mail_sink, "nachforderung")
    application, case_number, _ = apply_for_birth_certificate(driver, base, "Jolanta", "Brzęczyszczykiewicz", email)

    # The case view before any message (axe), then the compose form's error state: no subject.
    open_page(staff, f"{base}/de/verwaltung/vorgang/{application}")
    assert "Noch keine Nachrichten." in main_text(staff)
    assert not staff.find_elements(By.ID, "thread-list")
    choose(staff, "kind", "request")
    fill(staff, **{"message-body": "Bitte reichen Sie eine Kopie Ihres Personalausweises nach."})
    go(staff, by_id(staff, "send-message"))  # axe on the error state
    wait_path(staff, rf"/de/verwaltung/vorgang/{application}/nachricht")
    messages, targets = error_summary(staff)
    assert messages == ["Geben Sie einen Betreff ein."] and targets == ["#message-subject"], (messages, targets)
    assert staff.title.startswith("Fehler:"), staff.title
    assert "Geben Sie einen Betreff ein." in by_id(staff, "message-subject-error").text
    assert by_id(staff, "message-subject").get_attribute("aria-invalid") == "true"
    # What was typed is kept, including the kind.
    assert by_id(staff, "kind-request").is_selected()
    assert "Personalausweises" in by_id(staff, "message-body").get_attribute("value")
    assert not staff.find_elements(By.ID, "thread-list"), "a refused message was stored"

    # A Nachforderung with a due date and a file (the error page's form is used as it is).
    due = datetime.date.today() + datetime.timedelta(days=30)
    subject = "Ausweiskopie nachreichen"
    body = "Bitte reichen Sie eine Kopie Ihres Personalausweises nach.\nVielen Dank."
    request_id = send_request(staff, base, application, subject, body, due=due, file=pdf_file(tmp_path, "anforderung.pdf"))
    request_item = by_id(staff, f"message-{request_id}")
    assert str(due.year) in request_item.find_element(By.CSS_SELECTOR, ".meta").text
    assert [a.text for a in request_item.find_elements(By.CSS_SELECTOR, "a.message-file")] == ["anforderung.pdf"]
    assert not staff.find_elements(By.ID, f"reply-body-{request_id}"), "the case worker is offered the citizen's reply form"

    # The citizen's mail says only that there is a message.
    [notice] = mail_sink.wait_for(email, timeout=MAIL_TIMEOUT, subject_contains=SUBJECT_POSTFACH)
    text = MailSink.text_of(notice)
    for secret in (subject, "Personalausweis", case_number, "Jolanta", "anforderung.pdf"):
        assert secret not in text and secret not in str(notice["Subject"]), f"mail contains {secret!r}:\n{text}"
    assert MailSink.links_in(notice) == [f"{base}/de/konto"], MailSink.links_in(notice)

    # The Postfach: an open task and an unread badge (axe).
    open_page(driver, f"{base}/de/konto")
    tasks = by_id(driver, "tasks").find_elements(By.CSS_SELECTOR, "a.task-link")
    assert len(tasks) == 1, [t.text for t in tasks]
    assert case_number in tasks[0].text and "Geburtsurkunde" in tasks[0].text, tasks[0].text
    assert urlparse(tasks[0].get_attribute("href")).path == f"/de/konto/antraege/{application}"
    assert urlparse(tasks[0].get_attribute("href")).fragment == f"message-{request_id}"
    assert str(due.year) in by_id(driver, "tasks").text, "the task does not show the due date"
    badges = driver.find_elements(By.CSS_SELECTOR, ".badge.unread")
    assert [b.text.strip() for b in badges] == ["1 neue Nachricht"], [b.text for b in badges]

    # The thread (axe): the request with its file, and a reply form under it.
    go(driver, tasks[0])
    wait_path(driver, rf"/de/konto/antraege/{application}")
    assert by_id(driver, "thread-list").is_displayed()
    item = by_id(driver, f"message-{request_id}")
    assert subject in item.text and "Vielen Dank." in item.text and "Behörde" in item.text, item.text
    files = item.find_elements(By.CSS_SELECTOR, "a.message-file")
    assert [a.text for a in files] == ["anforderung.pdf"]
    assert download(driver, files[0].get_attribute("href")).content.startswith(b"%PDF")
    for element_id in (f"reply-body-{request_id}", f"reply-file-{request_id}", f"reply-{request_id}"):
        assert by_id(driver, element_id).is_displayed(), element_id

    # Read: the badge is gone, the task stays until answered.
    open_page(driver, f"{base}/de/konto")
    assert not driver.find_elements(By.CSS_SELECTOR, ".badge.unread")
    assert driver.find_elements(By.ID, "tasks")

    # An empty reply: error state (axe), linked to the textarea.
    driver.get(f"{base}/de/konto/antraege/{application}")
    loaded(driver)
    go(driver, by_id(driver, f"reply-{request_id}"))
    wait_path(driver, rf"/de/konto/antraege/{application}(/antwort)?")
    messages, targets = error_summary(driver)
    assert messages == ["Geben Sie Ihre Antwort ein."] and targets == [f"#reply-body-{request_id}"], (messages, targets)
    described = (by_id(driver, f"reply-body-{request_id}").get_attribute("aria-describedby") or "").split()
    assert f"reply-error-{request_id}" in described, described
    assert "Geben Sie Ihre Antwort ein." in by_id(driver, f"reply-error-{request_id}").text
    assert driver.title.startswith("Fehler:"), driver.title

    # The answer with a PDF: success notice (axe), the reply in the thread, no form any more.
    by_id(driver, f"reply-body-{request_id}").send_keys("Anbei die Kopie meines Ausweises.")
    by_id(driver, f"reply-file-{request_id}").send_keys(pdf_file(tmp_path, "ausweis-kopie.pdf"))
    go(driver, by_id(driver, f"reply-{request_id}"))
    wait_path(driver, rf"/de/konto/antraege/{application}")
    assert by_id(driver, "success").text.strip() == REPLIED
    replies = driver.find_elements(By.CSS_SELECTOR, "#thread-list > li.message-reply")
    assert len(replies) == 1 and "Anbei die Kopie meines Ausweises." in replies[0].text, [r.text for r in replies]
    assert [a.text for a in replies[0].find_elements(By.CSS_SELECTOR, "a.message-file")] == ["ausweis-kopie.pdf"]
    assert not driver.find_elements(By.ID, f"reply-body-{request_id}")
    assert "beantwortet am" in by_id(driver, f"message-{request_id}").text
    open_page(driver, f"{base}/de/konto")
    assert not driver.find_elements(By.ID, "tasks"), "the answered request is still a task"

    # The case worker sees the answer and its file (axe on the case view).
    open_page(staff, f"{base}/de/verwaltung/vorgang/{application}")
    reply = staff.find_elements(By.CSS_SELECTOR, "#thread-list > li.message-reply")
    assert len(reply) == 1 and "Anbei die Kopie meines Ausweises." in reply[0].text, [r.text for r in reply]
    assert "Antragsteller/in" in reply[0].text
    links = reply[0].find_elements(By.CSS_SELECTOR, "a.message-file")
    assert [a.text for a in links] == ["ausweis-kopie.pdf"]
    assert download(staff, links[0].get_attribute("href")).content.startswith(b"%PDF")
    history = by_id(staff, "history").text
    for entry in ("Nachforderung gestellt", "Antwort der antragstellenden Person"):
        assert entry in history, history


# --- 2. Dokumentensafe -------------------------------------------------------------------------------------------

def test_document_safe_and_choosing_a_stored_document(server, driver, mail_sink, tmp_path):
    base = server
    email = signed_in_citizen(server, driver, mail_sink, "safe")

    # Empty state (axe), reached from the Postfach.
    go(driver, by_id(driver, "documents-link"))
    wait_path(driver, r"/de/konto/dokumente")
    assert h1(driver) == "Dokumentensafe"
    assert by_id(driver, "no-documents").is_displayed()
    assert not driver.find_elements(By.ID, "documents")

    # Error states (axe): no file, then a text file.
    go(driver, by_id(driver, "upload-document"))
    messages, targets = error_summary(driver)
    assert messages == ["Wählen Sie eine Datei aus."] and targets == ["#document-file"], (messages, targets)
    text_file = tmp_path / "notizen.txt"
    text_file.write_text("Nur ein paar Notizen.\n", encoding="utf-8")
    by_id(driver, "document-file").send_keys(str(text_file))
    go(driver, by_id(driver, "upload-document"))
    messages, targets = error_summary(driver)
    assert targets == ["#document-file"] and "PDF-, PNG- oder JPEG-Datei" in messages[0], messages
    assert field_error(driver, "document-file").endswith(messages[0])
    assert driver.title.startswith("Fehler:"), driver.title
    assert by_id(driver, "no-documents").is_displayed()

    # Two PDFs (axe on the list with its success notice).
    for name in ("personalausweis.pdf", "vollmacht.pdf"):
        by_id(driver, "document-file").send_keys(pdf_file(tmp_path, name))
        go(driver, by_id(driver, "upload-document"))
        wait_path(driver, r"/de/konto/dokumente")
        assert by_id(driver, "success").text.strip() == "Das Dokument ist im Dokumentensafe gespeichert."
    links = driver.find_elements(By.CSS_SELECTOR, "#documents a.document-link")
    assert sorted(a.text for a in links) == ["personalausweis.pdf", "vollmacht.pdf"], [a.text for a in links]
    ids = {a.text: urlparse(a.get_attribute("href")).path.rsplit("/", 1)[-1] for a in links}
    for name, document in ids.items():
        button = by_id(driver, f"delete-{document}")
        assert name in button.get_attribute("aria-label"), button.get_attribute("aria-label")
    pdf_link = next(a for a in links if a.text == "personalausweis.pdf")
    assert download(driver, pdf_link.get_attribute("href")).content == minimal_pdf()

    # Delete one (axe on the notice).
    go(driver, by_id(driver, f"delete-{ids['vollmacht.pdf']}"))
    wait_path(driver, r"/de/konto/dokumente")
    assert by_id(driver, "success").text.strip() == "Das Dokument wurde gelöscht."
    assert [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#documents a.document-link")] == ["personalausweis.pdf"]

    # An application with a file question offers the stored document; choosing it replaces the upload.
    open_page(driver, f"{base}/de/leistungen/{SERVICE}")
    go(driver, by_id(driver, "start"))
    draft = wait_path(driver, r"/de/antrag/([^/]+)/relation").group(1)

    def next_page(page: str) -> None:
        go(driver, by_id(driver, "continue"))
        wait_path(driver, rf"/de/antrag/{re.escape(draft)}/{page}")

    choose(driver, "relation", "sibling")
    next_page("interest")
    safe = Select(by_id(driver, "interest_proof__safe"))
    options = {o.get_attribute("value"): o.text for o in safe.options}
    assert list(options.values())[0] == "– nichts auswählen –", options
    assert len(options) == 2 and "personalausweis.pdf" in options[ids["personalausweis.pdf"]], options
    safe_label = driver.find_element(By.CSS_SELECTOR, 'label[for="interest_proof__safe"]').text
    assert safe_label == "Oder aus Ihrem Dokumentensafe wählen", safe_label
    fill(driver, interest_reason="Ich benötige die Urkunde meiner Schwester für die Nachlassregelung.")
    safe.select_by_value(ids["personalausweis.pdf"])
    next_page("applicant")
    fill(driver, F60000000228="Ruth", F60000000227="Safemann")
    next_page("person")
    fill(driver, F60000000228="Sara", F60000000227="Safemann")
    next_page("birth")
    fill(driver, G60000083__day="02", G60000083__month="11", G60000083__year="1985", F00000000067="Riesa")
    next_page("document")
    choose(driver, "document_kind", "geburtsurkunde")
    next_page("copies")
    fill(driver, copies="1")
    next_page("delivery")
    choose(driver, "delivery_method", "collection")
    next_page("contact")
    fill(driver, F60000000242=email)
    next_page("pruefen")
    assert "personalausweis.pdf" in body_text(driver), body_text(driver)
    go(driver, by_id(driver, "submit"))
    wait_path(driver, r"/de/vorgang/[^/]+/bestaetigung")
    # The document stays in the safe.
    open_page(driver, f"{base}/de/konto/dokumente")
    assert [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#documents a.document-link")] == ["personalausweis.pdf"]


# --- 3. profile and prefill -----------------------------------------------------------------------------------------

PROFILE = {
    "givenNames": "Wilhelmine", "familyName": "Vorausfüller", "birthName": "Altmann", "birthDate": "12.03.1990",
    "birthPlace": "Meißen", "street": "Elbstraße", "houseNumber": "7a", "postalCode": "01662", "city": "Meißen",
    "email": "wilhelmine@example.org", "phone": "+49 3521 12345",
}


def test_profile_consent_errors_prefill_and_withdrawal(server, driver, mail_sink, tmp_path):
    base = server
    signed_in_citizen(server, driver, mail_sink, "profil")
    go(driver, by_id(driver, "profile-link"))
    wait_path(driver, r"/de/konto/profil")
    assert h1(driver) == "Meine Angaben zum Vorausfüllen"
    assert not driver.find_elements(By.ID, "consent-since") and not driver.find_elements(By.ID, "delete-profile")
    for item in PROFILE:
        assert by_id(driver, item).get_attribute("value") == "", item
        label = driver.find_element(By.CSS_SELECTOR, f'label[for="{item}"]').text.strip()
        assert label, f"#{item} has no label"

    # Without consent (axe on the error state): nothing stored, what was typed is kept.
    fill(driver, **PROFILE)
    go(driver, by_id(driver, "save-profile"))
    wait_path(driver, r"/de/konto/profil")
    messages, targets = error_summary(driver)
    assert targets == ["#consent"] and "Einwilligung" in messages[0], (messages, targets)
    assert field_error(driver, "consent").endswith(messages[0])
    assert driver.title.startswith("Fehler:")
    assert by_id(driver, "familyName").get_attribute("value") == PROFILE["familyName"]
    assert not driver.find_elements(By.ID, "consent-since")

    # A bad postal code with consent (axe).
    fill(driver, postalCode="1662")
    if not by_id(driver, "consent").is_selected():
        by_id(driver, "consent").click()
    go(driver, by_id(driver, "save-profile"))
    messages, targets = error_summary(driver)
    assert messages == ["Die Postleitzahl hat 5 Ziffern."] and targets == ["#postalCode"], (messages, targets)
    assert field_error(driver, "postalCode").endswith(messages[0])
    assert by_id(driver, "postalCode").get_attribute("value") == "1662"

    # Saved (axe): notice, date of consent, the values shown again.
    fill(driver, postalCode=PROFILE["postalCode"])
    if not by_id(driver, "consent").is_selected():
        by_id(driver, "consent").click()
    go(driver, by_id(driver, "save-profile"))
    assert by_id(driver, "success").text.strip() == "Ihre Angaben sind gespeichert."
    assert by_id(driver, "consent-since").text.startswith("Gespeichert mit Ihrer Einwilligung vom")
    for item, value in PROFILE.items():
        assert by_id(driver, item).get_attribute("value") == value, item
    assert by_id(driver, "delete-profile").is_displayed()

    # An application: the applicant page is prefilled (axe), with a notice; the registered person's page is not.
    open_page(driver, f"{base}/de/leistungen/{SERVICE}")
    go(driver, by_id(driver, "start"))
    draft = wait_path(driver, r"/de/antrag/([^/]+)/relation").group(1)

    def next_page(page: str) -> None:
        go(driver, by_id(driver, "continue"))
        wait_path(driver, rf"/de/antrag/{re.escape(draft)}/{page}")

    choose(driver, "relation", "sibling")
    next_page("interest")
    assert not driver.find_elements(By.ID, "prefill-notice")
    fill(driver, interest_reason="Für die Nachlassregelung unserer Eltern.")
    field(driver, "interest_proof").send_keys(pdf_file(tmp_path, "nachweis.pdf"))
    next_page("applicant")
    notice = by_id(driver, "prefill-notice").text
    assert "Aus Ihren gespeicherten Angaben vorausgefüllt" in notice, notice
    assert by_id(driver, "F60000000228").get_attribute("value") == PROFILE["givenNames"]
    assert by_id(driver, "F60000000227").get_attribute("value") == PROFILE["familyName"]
    next_page("person")
    assert not driver.find_elements(By.ID, "prefill-notice"), "the page about the registered person is prefilled"
    for field_id in ("F60000000228", "F60000000227", "F60000000230"):
        assert by_id(driver, field_id).get_attribute("value") == "", field_id

    # Withdrawal (axe): deleted, nothing prefilled any more.
    open_page(driver, f"{base}/de/konto/profil")
    go(driver, by_id(driver, "delete-profile"))
    wait_path(driver, r"/de/konto/profil(/loeschen)?")
    assert by_id(driver, "success").text.strip() == "Ihre Angaben sind gelöscht. Wir füllen nichts mehr vor."
    assert not driver.find_elements(By.ID, "consent-since") and not driver.find_elements(By.ID, "delete-profile")
    assert all(by_id(driver, item).get_attribute("value") == "" for item in PROFILE)
    driver.get(f"{base}/de/leistungen/{SERVICE}")
    loaded(driver)
    go(driver, by_id(driver, "start"), axe=False)
    draft = wait_path(driver, r"/de/antrag/([^/]+)/relation").group(1)
    choose(driver, "relation", "sibling")
    next_page("interest")
    fill(driver, interest_reason="Für die Nachlassregelung unserer Eltern.")
    field(driver, "interest_proof").send_keys(pdf_file(tmp_path, "nachweis.pdf"))
    next_page("applicant")
    assert not driver.find_elements(By.ID, "prefill-notice")
    assert by_id(driver, "F60000000228").get_attribute("value") == ""


# --- 4. data self-service ------------------------------------------------------------------------------------------

def test_data_page_access_log_and_export(server, driver, staff, mail_sink):
    base = server
    email = signed_in_citizen(server, driver, mail_sink, "daten")
    application, case_number, _ = apply_for_birth_certificate(driver, base, "Konstantin", "Datenmann", email)

    # Settings → data page (axe) → access log, still empty (axe).
    open_page(driver, f"{base}/de/konto/einstellungen")
    go(driver, by_id(driver, "data-link"))
    wait_path(driver, r"/de/konto/daten")
    assert h1(driver) == "Meine Daten"
    assert urlparse(by_id(driver, "export-link").get_attribute("href")).path == "/de/konto/daten/export.zip"
    go(driver, by_id(driver, "access-link"))
    wait_path(driver, r"/de/konto/zugriffe")
    assert h1(driver) == "Zugriffe auf meine Anträge"
    assert by_id(driver, "no-access").is_displayed()
    assert not driver.find_elements(By.ID, "access-log")

    # A case worker opens the case: the log shows the role and the authority, not the person (axe).
    open_page(staff, f"{base}/de/verwaltung/vorgang/{application}")
    driver.refresh()
    loaded(driver)
    check_axe(driver)
    rows = driver.find_elements(By.CSS_SELECTOR, "#access-log tbody tr")
    assert rows, "no access logged"
    cells = [td.text.strip() for td in rows[0].find_elements(By.TAG_NAME, "td")]
    assert cells[1] == case_number and cells[2] == f"Verwaltung der Behörde, {TENANT}" and cells[3] == "Vorgang angesehen", cells
    assert "Standesamt Musterstadt" not in main_text(driver), "the case worker's name is shown"
    headers = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#access-log th[scope=col]")]
    assert headers == ["Zeitpunkt", "Vorgangsnummer", "Wer (Rolle)", "Was"], headers

    # The ZIP export (with the browser's session).
    go(driver, by_id(driver, "back-link"))
    wait_path(driver, r"/de/konto/daten")
    response = download(driver, by_id(driver, "export-link").get_attribute("href"))
    assert response.headers["Content-Type"].startswith("application/zip"), response.headers
    assert "attachment" in response.headers.get("Content-Disposition", ""), response.headers
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    names = archive.namelist()
    assert "daten.json" in names and "LIESMICH.txt" in names, names
    data = json.loads(archive.read("daten.json"))
    assert data["account"]["email"] == email
    [exported] = data["applications"]
    assert exported["caseNumber"] == case_number and exported["leikaKey"] == SERVICE, exported
    assert "Geburtsurkunde" in exported["service"] and exported["authority"] == TENANT
    answers = json.dumps(exported["answers"], ensure_ascii=False)
    assert "Konstantin" in answers and "Datenmann" in answers, answers
    assert any(entry["who"] == f"Verwaltung der Behörde, {TENANT}" and entry["caseNumber"] == case_number
               for entry in data["accessLog"]), data["accessLog"]
    assert data["profile"] is None and data["documentSafe"] == []

    # Signed out, nothing to download.
    answer = requests.get(f"{base}/de/konto/daten/export.zip", allow_redirects=False, timeout=30)
    assert answer.status_code == 303 and answer.headers["Location"] == "/de/konto/anmelden", answer.status_code


# --- 5. second factor for citizens ---------------------------------------------------------------------------------

def test_citizen_two_factor_setup_login_recovery_and_switch_off(server, driver, mail_sink):
    base = server
    email = signed_in_citizen(server, driver, mail_sink, "zweifaktor")

    # Settings (axe) → set-up page (axe): the key in groups, the otpauth link, the code field.
    open_page(driver, f"{base}/de/konto/einstellungen")
    assert by_id(driver, "two-factor-status").text.startswith("Ausgeschaltet")
    go(driver, by_id(driver, "two-factor-link"))
    wait_path(driver, r"/de/konto/zwei-faktor")
    assert h1(driver) == "Zwei-Faktor-Anmeldung einrichten"
    shown = by_id(driver, "totp-secret").text.strip()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", shown), shown
    secret = shown.replace(" ", "")
    uri = urlparse(by_id(driver, "otpauth-link").get_attribute("href"))
    assert uri.scheme == "otpauth" and uri.netloc == "totp", uri
    assert parse_qs(uri.query)["secret"] == [secret], uri.query
    app = Authenticator(secret)

    # A wrong code (axe on the error state): the same key again.
    wrong = f"{(int(totp_code(secret, int(time.time()) // 30)) + 1) % 1_000_000:06d}"
    fill(driver, code=wrong)
    go(driver, by_id(driver, "confirm-totp"))
    messages, targets = error_summary(driver)
    assert targets == ["#code"] and messages[0].startswith(CODE_WRONG), messages
    assert field_error(driver, "code").endswith(messages[0])
    assert by_id(driver, "totp-secret").text.strip() == shown, "a new key after a wrong code"

    # The right code: ten recovery codes (axe), then settings say it is on.
    fill(driver, code=app.code())
    go(driver, by_id(driver, "confirm-totp"))
    codes = [li.text.strip() for li in driver.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]
    assert h1(driver) == "Ihre Wiederherstellungscodes"
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    assert all(re.fullmatch(r"[a-z0-9]{5}-[a-z0-9]{5}", c) for c in codes), codes
    go(driver, by_id(driver, "continue"))
    wait_path(driver, r"/de/konto/einstellungen")
    assert by_id(driver, "two-factor-status").text.startswith("Eingeschaltet")

    # Login: password, then the code page (axe); a wrong code (axe), then the right one.
    logout(driver, base)
    login_until_code_page(driver, base, email)
    assert h1(driver) == "Bestätigungscode eingeben"
    driver.get(f"{base}/de/konto")  # the password alone does not sign in
    loaded(driver)
    assert path_of(driver) == "/de/konto/anmelden", driver.current_url
    login_until_code_page(driver, base, email, axe=False)
    submit_code(driver, wrong)
    messages, targets = error_summary(driver)
    assert targets == ["#code"] and messages[0].startswith(CODE_WRONG), messages
    submit_code(driver, app.code())
    wait_path(driver, r"/de/konto")
    assert by_id(driver, "account-email").text.strip() == email

    # A recovery code works once.
    logout(driver, base)
    login_until_code_page(driver, base, email, axe=False)
    submit_code(driver, codes[0])
    wait_path(driver, r"/de/konto")
    logout(driver, base)
    login_until_code_page(driver, base, email, axe=False)
    submit_code(driver, codes[0])
    messages, _ = error_summary(driver)
    assert messages[0].startswith(CODE_WRONG), messages
    submit_code(driver, codes[1].upper())
    wait_path(driver, r"/de/konto")

    # Managing (axe): eight codes left; switching off needs the password (error state, axe).
    open_page(driver, f"{base}/de/konto/zwei-faktor")
    assert h1(driver) == "Zwei-Faktor-Anmeldung"
    assert "Unbenutzte Wiederherstellungscodes: 8." in main_text(driver)
    fill(driver, current_password="Nicht mein Passwort 1")
    go(driver, by_id(driver, "disable-2fa"))
    messages, targets = error_summary(driver)
    assert messages == ["Das aktuelle Passwort ist falsch."] and targets == ["#current_password"], messages
    fill(driver, current_password=PASSWORD)
    go(driver, by_id(driver, "disable-2fa"))
    wait_path(driver, r"/de/konto/einstellungen")
    assert by_id(driver, "two-factor-status").text.startswith("Ausgeschaltet")

    # Off: the password alone signs in again.
    logout(driver, base)
    login_browser(driver, base, email, PASSWORD)


# --- 6. linked identity ---------------------------------------------------------------------------------------------

def test_linked_identity_cancel_link_login_and_unlink(server, driver, mail_sink):
    base = server
    email = signed_in_citizen(server, driver, mail_sink, "identitaet")
    username = f"pf{uuid.uuid4().hex[:10]}"

    open_page(driver, f"{base}/de/konto/einstellungen")
    go(driver, by_id(driver, "identity-link"))
    wait_path(driver, r"/de/konto/identitaet")
    assert h1(driver) == "Verknüpfte Identität"
    assert "noch nicht mit Test-BundID verknüpft" in main_text(driver)
    assert by_id(driver, "link").text.strip() == "Mit Test-BundID verknüpfen"

    # Cancelling at the provider: our "Abgebrochen" page (axe), nothing linked.
    go(driver, by_id(driver, "link"), axe=False)
    at_provider(driver)
    go(driver, by_id(driver, "idp-cancel"))
    assert h1(driver) == "Abgebrochen"
    assert "abgebrochen" in main_text(driver) and "nichts geändert" in main_text(driver)
    go(driver, by_id(driver, "back-link"))
    wait_path(driver, r"/de/konto/identitaet")
    assert driver.find_elements(By.ID, "link") and not driver.find_elements(By.ID, "unlink")

    # Linking at level "substanziell": back on our page, linked (axe).
    go(driver, by_id(driver, "link"), axe=False)
    provider_login(driver, username, "STORK-QAA-Level-3")
    wait_path(driver, r"/de/konto/identitaet")
    check_axe(driver)
    text = main_text(driver)
    assert "mit Test-BundID verknüpft (höchstes nachgewiesenes Vertrauensniveau: substanziell" in text, text
    assert "In dieser Sitzung nachgewiesenes Vertrauensniveau: substanziell." in text, text
    assert by_id(driver, "unlink").text.strip() == "Verknüpfung mit Test-BundID lösen"

    # Signing in with the linked identity (login page with axe).
    logout(driver, base)
    open_page(driver, f"{base}/de/konto/anmelden")
    assert by_id(driver, "provider-login").text.strip() == "Mit Test-BundID anmelden"
    go(driver, by_id(driver, "provider-login"), axe=False)
    provider_login(driver, username, "STORK-QAA-Level-3")
    wait_path(driver, r"/de/konto")
    check_axe(driver)
    assert by_id(driver, "account-email").text.strip() == email

    # Unlinking (axe): then that identity signs nobody in (axe on that page).
    open_page(driver, f"{base}/de/konto/identitaet")
    go(driver, by_id(driver, "unlink"))
    wait_path(driver, r"/de/konto/identitaet")
    assert driver.find_elements(By.ID, "link") and "noch nicht mit Test-BundID verknüpft" in main_text(driver)
    logout(driver, base)
    driver.get(f"{base}/de/konto/anmelden")
    loaded(driver)
    go(driver, by_id(driver, "provider-login"), axe=False)
    provider_login(driver, username, "STORK-QAA-Level-3")
    check_axe(driver)
    assert h1(driver) == "Kein Konto verknüpft", h1(driver)
    assert path_of(driver) != "/de/konto" and not driver.find_elements(By.ID, "account-email")


# --- 7. English --------------------------------------------------------------------------------------------------

GERMAN_WORDS = ("Zurück", "Ihre ", "Ihr ", " Sie ", "Löschen", "Hochladen", "Angaben", "Einwilligung", "Nachricht",
                "Antwort", "verknüpf", "Schlüssel", "Zugriffe", "herunterladen", "Dokument", "Aufgaben", "Behörde")


def assert_english(driver, title: str) -> None:
    assert lang(driver) == "en", f"{driver.current_url}: lang={lang(driver)}"
    assert h1(driver) == title, f"{driver.current_url}: h1 {h1(driver)!r}"
    text = main_text(driver)
    found = [word for word in GERMAN_WORDS if word in text]
    assert not found, f"German {found} on {driver.current_url}:\n{text}"


def test_citizen_pages_in_english(server, driver, staff, mail_sink, tmp_path):
    base = server
    email = signed_in_citizen(server, driver, mail_sink, "english")
    application, case_number, _ = apply_for_birth_certificate(driver, base, "Oliver", "Englishman", email)
    request_id = send_request(staff, base, application, "Proof of relationship", "Please send a copy of your passport.",
                              due=datetime.date.today() + datetime.timedelta(days=14))

    # The Postfach with a task and an unread message.
    open_page(driver, f"{base}/en/konto")
    assert_english(driver, "My Postfach")
    assert by_id(driver, "tasks-heading").text == "Open tasks"
    assert [b.text.strip() for b in driver.find_elements(By.CSS_SELECTOR, ".badge.unread")] == ["1 new message"]
    task = driver.find_element(By.CSS_SELECTOR, "#tasks a.task-link")
    assert task.text.startswith("The authority asks for a reply:") and case_number in task.text, task.text
    assert urlparse(task.get_attribute("href")).path == f"/en/konto/antraege/{application}"

    # The thread and its error state in English.
    go(driver, task)
    assert lang(driver) == "en"
    assert driver.find_element(By.CSS_SELECTOR, f'label[for="reply-body-{request_id}"]').text == "Your reply"
    go(driver, by_id(driver, f"reply-{request_id}"))
    messages, targets = error_summary(driver)
    assert messages == ["Enter your reply."] and targets == [f"#reply-body-{request_id}"], messages
    assert lang(driver) == "en"

    # Document safe, with the English error state.
    open_page(driver, f"{base}/en/konto/dokumente")
    assert_english(driver, "Document safe")
    text_file = tmp_path / "note.txt"
    text_file.write_text("just text\n", encoding="utf-8")
    by_id(driver, "document-file").send_keys(str(text_file))
    go(driver, by_id(driver, "upload-document"))
    messages, _ = error_summary(driver)
    assert messages == ["“Document” must be a PDF, PNG or JPEG file."], messages
    assert_english(driver, "Document safe")

    # Profile, with the English consent error.
    open_page(driver, f"{base}/en/konto/profil")
    assert_english(driver, "My details for prefilling")
    fill(driver, givenNames="Oliver")
    go(driver, by_id(driver, "save-profile"))
    messages, targets = error_summary(driver)
    assert messages == ["Confirm your consent so that we may store your details."] and targets == ["#consent"], messages
    assert lang(driver) == "en"

    for path, title in (("/en/konto/daten", "My data"), ("/en/konto/zugriffe", "Accesses to my applications"),
                        ("/en/konto/identitaet", "Linked identity")):
        open_page(driver, f"{base}{path}")
        assert_english(driver, title)
        if path.endswith("zugriffe"):  # the case worker opened the case to send the request
            assert f"Authority administrator, {TENANT}" in by_id(driver, "access-log").text, main_text(driver)

    # Two-factor set-up, with the English error state.
    open_page(driver, f"{base}/en/konto/zwei-faktor")
    assert_english(driver, "Set up two-factor sign-in")
    fill(driver, code="000000")
    go(driver, by_id(driver, "confirm-totp"))
    messages, _ = error_summary(driver)
    assert messages[0].startswith("The code is wrong"), messages
    assert_english(driver, "Set up two-factor sign-in")


# --- 8. keyboard only ---------------------------------------------------------------------------------------------

def test_keyboard_only_reply_to_a_nachforderung(server, driver, staff, mail_sink):
    base = server
    email = signed_in_citizen(server, driver, mail_sink, "tastatur")
    application, _, _ = apply_for_birth_certificate(driver, base, "Tamara", "Tastatur", email)
    request_id = send_request(staff, base, application, "Geburtsort bestätigen", "Bitte bestätigen Sie den Geburtsort.")
    textarea, button = f"#reply-body-{request_id}", f"#reply-{request_id}"

    driver.get(f"{base}/de/konto/antraege/{application}")
    loaded(driver)
    skip_to_main(driver)
    visited = []
    for _ in range(15):
        press(driver, Keys.TAB)
        visited.append(focused(driver))
        if visited[-1] == textarea:
            break
    assert visited[-1] == textarea, f"Tab never reached {textarea}: {visited}"

    # Enter on the button with nothing typed: the error page, focus on its summary; its link leads to the textarea.
    press(driver, Keys.TAB)
    assert focused(driver) == f"#reply-file-{request_id}", focused(driver)
    press(driver, Keys.TAB)
    assert focused(driver) == button, focused(driver)
    keyboard_navigate(driver, Keys.ENTER)
    check_axe(driver)
    messages, targets = error_summary(driver)
    assert targets == [textarea], targets
    assert focused(driver) == "#error-summary", focused(driver)
    press(driver, Keys.TAB)
    assert driver.switch_to.active_element.get_dom_attribute("href") == textarea
    press(driver, Keys.ENTER)
    assert focused(driver) == textarea, focused(driver)

    # Type, Tab past the file input to the button, Enter.
    press(driver, "Der Geburtsort ist Meißen.")
    press(driver, Keys.TAB)
    press(driver, Keys.TAB)
    assert focused(driver) == button, focused(driver)
    keyboard_navigate(driver, Keys.ENTER)
    wait_path(driver, rf"/de/konto/antraege/{application}")
    check_axe(driver)
    assert by_id(driver, "success").text.strip() == REPLIED
    replies = driver.find_elements(By.CSS_SELECTOR, "#thread-list > li.message-reply")
    assert len(replies) == 1 and "Der Geburtsort ist Meißen." in replies[0].text, [r.text for r in replies]


# --- 9. regression tests for bugs found while writing this module ----------------------------------------------

def enable_two_factor(driver, base: str) -> Authenticator:
    """Sets up the second factor for the signed-in citizen; returns their authenticator."""
    driver.get(f"{base}/de/konto/zwei-faktor")
    loaded(driver)
    app = Authenticator(by_id(driver, "totp-secret").text.replace(" ", ""))
    fill(driver, code=app.code())
    go(driver, by_id(driver, "confirm-totp"), axe=False)
    assert driver.find_elements(By.ID, "recovery-codes")
    return app


def citizen_with_request(server, driver, staff, mail_sink, name: str) -> tuple[str, str]:
    """A signed-in citizen with an application and an open Nachforderung; returns (application, request id)."""
    email = signed_in_citizen(server, driver, mail_sink, name)
    application, _, _ = apply_for_birth_certificate(driver, server, "Berta", "Fehlerfall", email)
    return application, send_request(staff, server, application, "Nachweis", "Bitte Nachweis senden.")


def test_bug_language_switch_on_two_factor_management(server, driver, mail_sink):
    signed_in_citizen(server, driver, mail_sink, "bug-sprache")
    enable_two_factor(driver, server)
    driver.get(f"{server}/de/konto/zwei-faktor")
    loaded(driver)
    english = driver.find_element(By.CSS_SELECTOR, "a[hreflang=en]").get_attribute("href")
    assert urlparse(english).path == "/en/konto/zwei-faktor", english


def test_bug_login_with_second_factor_keeps_the_return_path(server, driver, mail_sink):
    email = signed_in_citizen(server, driver, mail_sink, "bug-weiter")
    app = enable_two_factor(driver, server)
    logout(driver, server)
    driver.get(f"{server}/de/konto/anmelden?weiter=/de/konto/dokumente")
    loaded(driver)
    fill(driver, email=email, password=PASSWORD)
    go(driver, by_id(driver, "login"), axe=False)
    wait_path(driver, r"/de/konto/anmelden/code")
    submit_code(driver, app.code())
    assert path_of(driver) == "/de/konto/dokumente", driver.current_url


def test_bug_english_profile_accepts_its_own_date_format(server, driver, mail_sink):
    signed_in_citizen(server, driver, mail_sink, "bug-datum")
    open_page(driver, f"{server}/en/konto/profil")
    assert by_id(driver, "birthDate-hint").text == "For example 31/12/1990"
    fill(driver, birthDate="31/12/1990")
    by_id(driver, "consent").click()
    go(driver, by_id(driver, "save-profile"), axe=False)
    assert not driver.find_elements(By.ID, "error-summary"), error_summary(driver)
    assert driver.find_elements(By.ID, "success")


def test_bug_export_json_names_the_files_in_the_zip(server, driver, mail_sink, tmp_path):
    signed_in_citizen(server, driver, mail_sink, "bug-export")
    driver.get(f"{server}/de/konto/dokumente")
    loaded(driver)
    for _ in range(2):
        by_id(driver, "document-file").send_keys(pdf_file(tmp_path, "gleich.pdf"))
        go(driver, by_id(driver, "upload-document"), axe=False)
    archive = zipfile.ZipFile(io.BytesIO(download(driver, f"{server}/de/konto/daten/export.zip").content))
    in_zip = sorted(n for n in archive.namelist() if n.startswith("dokumentensafe/"))
    in_json = sorted(entry["file"] for entry in json.loads(archive.read("daten.json"))["documentSafe"])
    assert len(in_zip) == 2 and in_json == in_zip, (in_json, in_zip)


def test_bug_already_answered_error_links_to_something(server, driver, staff, mail_sink):
    application, request_id = citizen_with_request(server, driver, staff, mail_sink, "bug-doppelt")
    driver.get(f"{server}/de/konto/antraege/{application}")
    loaded(driver)
    # Another tab answers first (same session and CSRF token).
    csrf = driver.find_element(By.CSS_SELECTOR, 'form.reply-form input[name="_csrf"]').get_attribute("value")
    answered = requests.post(f"{server}/de/konto/antraege/{application}/antwort", cookies=cookies_of(driver),
                             data={"_csrf": csrf, "request": request_id, "body": "Aus dem anderen Tab."},
                             allow_redirects=False, timeout=30)
    assert answered.status_code == 303, answered.status_code
    by_id(driver, f"reply-body-{request_id}").send_keys("Noch einmal.")
    go(driver, by_id(driver, f"reply-{request_id}"), axe=False)
    messages, targets = error_summary(driver)
    assert messages == ["Diese Nachforderung ist schon beantwortet."], messages
    assert driver.find_elements(By.CSS_SELECTOR, targets[0]), f"summary link {targets[0]} has no target"


def test_bug_refused_reply_file_is_flagged_at_the_file_input(server, driver, staff, mail_sink, tmp_path):
    application, request_id = citizen_with_request(server, driver, staff, mail_sink, "bug-datei")
    driver.get(f"{server}/de/konto/antraege/{application}")
    loaded(driver)
    text_file = tmp_path / "antwort.txt"
    text_file.write_text("kein PDF\n", encoding="utf-8")
    by_id(driver, f"reply-body-{request_id}").send_keys("Anbei.")
    by_id(driver, f"reply-file-{request_id}").send_keys(str(text_file))
    go(driver, by_id(driver, f"reply-{request_id}"), axe=False)
    messages, targets = error_summary(driver)
    assert "PDF-, PNG- oder JPEG-Datei" in messages[0], messages
    assert targets == [f"#reply-file-{request_id}"], targets


def test_bug_compose_error_is_tied_to_its_field(server, driver, staff):
    driver.delete_all_cookies()
    application, _, _ = apply_for_birth_certificate(driver, server, "Carl", "Ohnebetreff", address("bug-compose"))
    open_page(staff, f"{server}/de/verwaltung/vorgang/{application}")
    fill(staff, **{"message-body": "Text ohne Betreff."})
    go(staff, by_id(staff, "send-message"), axe=False)
    assert error_summary(staff)[1] == ["#message-subject"]
    subject = by_id(staff, "message-subject")
    described = (subject.get_attribute("aria-describedby") or "").split()
    assert "message-error" in described or subject.get_attribute("aria-invalid") == "true", described


def test_bug_safe_choice_kept_after_an_error(server, driver, mail_sink, tmp_path):
    signed_in_citizen(server, driver, mail_sink, "bug-safe")
    driver.get(f"{server}/de/konto/dokumente")
    loaded(driver)
    by_id(driver, "document-file").send_keys(pdf_file(tmp_path, "nachweis.pdf"))
    go(driver, by_id(driver, "upload-document"), axe=False)
    driver.get(f"{server}/de/leistungen/{SERVICE}")
    loaded(driver)
    go(driver, by_id(driver, "start"), axe=False)
    choose(driver, "relation", "sibling")
    go(driver, by_id(driver, "continue"), axe=False)
    Select(by_id(driver, "interest_proof__safe")).select_by_index(1)
    go(driver, by_id(driver, "continue"), axe=False)  # no reason given
    assert error_summary(driver)[1] == ["#interest_reason"]
    kept = Select(by_id(driver, "interest_proof__safe")).first_selected_option.text
    stored = driver.find_elements(By.CSS_SELECTOR, ".existing-file")
    assert "nachweis.pdf" in kept or stored, (kept, [s.text for s in stored])
