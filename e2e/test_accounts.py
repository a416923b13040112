"""Browser and HTTP tests of the Servicekonto (citizen account): registration with mail confirmation, login, the
Postfach with applications and claiming, status notifications without personal data, password reset and change,
e-mail change, logging out everywhere, deletion, enumeration resistance, keyboard use, English pages, CSRF and
session cookies, and login throttling.

Mail goes to the `mail_sink` fixture (a real SMTP server); the outbox worker sends asynchronously, so every mail is
awaited with `mail_sink.wait_for(..., timeout=20)`. Every account gets a unique address.

Throttling and loopback addresses: the server counts registrations (every valid one, 10 per 15 minutes) and failed
logins (10 per 15 minutes) per client IP in memory, for the whole session-scoped server. The browser always comes
from 127.0.0.1. To keep this module (and the other modules sharing the server) far from those limits, accounts that
a test only needs as a precondition are created over HTTP, each from a loopback address of its own (127.0.1.N, see
setup_ip()), and the throttling tests use 127.0.0.3 to 127.0.0.6: Linux routes all of 127.0.0.0/8 to the loopback
interface, so a client socket bound to 127.0.x.y reaches the server on 127.0.0.1, which sees 127.0.x.y as the remote
address. The registrations that are the subject of a test (browser journey, keyboard, enumeration) come from 127.0.0.1.
"""

from __future__ import annotations

import itertools
import re
import uuid
from urllib.parse import urlparse

import pytest
import requests
from requests.adapters import HTTPAdapter
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from conftest import check_axe, make_driver
from mailsink import MailSink
from test_birth_certificate import (SERVICE, body_text, choose, click_and_load, field, fill, open_page,
                                    path_of, stale, wait, wait_path)

PASSWORD = "Mein Hund heißt Bello 7"
NEW_PASSWORD = "Der Kater schläft auf dem Sofa 9"
MAIL_TIMEOUT = 20
SUBJECT_VERIFY = "Bestätigen Sie Ihre E-Mail-Adresse"
SUBJECT_ALREADY = "Ihr Servicekonto"
SUBJECT_RESET = "Neues Passwort festlegen"
SUBJECT_PASSWORD_CHANGED = "Ihr Passwort wurde geändert"
SUBJECT_CONFIRM_NEW = "Bestätigen Sie Ihre neue E-Mail-Adresse"
SUBJECT_EMAIL_CHANGED = "Ihre E-Mail-Adresse wurde geändert"
SUBJECT_DELETED = "Ihr Servicekonto wurde gelöscht"
SUBJECT_POSTFACH = "Neue Nachricht in Ihrem Postfach"

LOGIN_FAILED = "E-Mail-Adresse oder Passwort ist falsch."
TOO_MANY = "Zu viele Versuche"
LINK_INVALID = "Dieser Link gilt nicht mehr"


# --- helpers: addresses, mail, HTTP ------------------------------------------------------------

_setup_ips = (f"127.0.1.{n}" for n in itertools.count(1))


def setup_ip() -> str:
    """A loopback address not used before in this session, for creating an account a test only needs as a precondition."""
    return next(_setup_ips)


def address(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:12]}@example.org"


def mail_link(mail_sink, recipient: str, subject: str, path: str, count: int = 1) -> str:
    """The one link to `path` in the newest of at least `count` mails to `recipient` whose subject contains `subject`."""
    mails = mail_sink.wait_for(recipient, count=count, timeout=MAIL_TIMEOUT, subject_contains=subject)
    links = [link for link in MailSink.links_in(mails[-1]) if urlparse(link).path == path]
    assert len(links) == 1, f"expected one link to {path} in {subject!r}:\n{MailSink.text_of(mails[-1])}"
    return links[0]


def mails_to(mail_sink, recipient: str, subject: str | None = None) -> list:
    """The mails received so far for `recipient` (optionally with `subject` in the subject), without waiting."""
    result = []
    for (_, rcpt), message in zip(mail_sink.envelopes(), mail_sink.messages()):
        if recipient.lower() in (r.lower() for r in rcpt) and (subject is None or subject in str(message["Subject"])):
            result.append(message)
    return result


class SourceAddressAdapter(HTTPAdapter):
    """Connects from a given loopback address (see the module docstring)."""

    def __init__(self, ip: str):
        self.ip = ip
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.ip, 0)
        return super().init_poolmanager(*args, **kwargs)


def http(ip: str | None = None) -> requests.Session:
    """A cookie-keeping HTTP client, optionally connecting from loopback address `ip`."""
    session = requests.Session()
    if ip:
        session.mount("http://", SourceAddressAdapter(ip))
    return session


def csrf_of(html: str) -> str:
    match = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert match, "no _csrf field on the page"
    return match.group(1)


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no hidden field {name!r} on the page"
    return match.group(1)


def post_form(client: requests.Session, page_url: str, action_url: str | None = None, **values) -> requests.Response:
    """GETs `page_url` (for the session cookie and CSRF token), then POSTs `values` to `action_url` (default: the
    same URL) without following a redirect."""
    page = client.get(page_url, timeout=30)
    assert page.status_code == 200, f"GET {page_url}: {page.status_code}"
    data = {"_csrf": csrf_of(page.text), **values}
    return client.post(action_url or page_url, data=data, allow_redirects=False, timeout=30)


def main_text(html: str) -> str:
    """The visible text of <main>, tags stripped and whitespace collapsed."""
    match = re.search(r"<main\b[^>]*>(.*)</main>", html, flags=re.S)
    assert match, "no <main> in the page"
    text = re.sub(r"<[^>]+>", " ", match.group(1))
    return re.sub(r"\s+", " ", text).strip()


def error_summary_texts(html: str) -> list[str]:
    match = re.search(r'<div class="error-summary".*?</div>', html, flags=re.S)
    assert match, "no error summary on the page"
    return [re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<li><a [^>]*>([^<]*)</a></li>", match.group(0))]


def register_http(server: str, email: str, password: str = PASSWORD, ip: str | None = None) -> requests.Response:
    """Registers over HTTP from `ip` (default: a fresh setup_ip())."""
    return post_form(http(ip or setup_ip()), f"{server}/de/konto/registrieren", email=email, password=password)


def confirm_http(mail_sink, email: str, count: int = 1, ip: str | None = None) -> None:
    """Opens the confirmation link of the newest confirmation mail to `email` and presses the button."""
    link = mail_link(mail_sink, email, SUBJECT_VERIFY, "/de/konto/bestaetigen", count=count)
    client = http(ip)
    page = client.get(link, timeout=30)
    assert page.status_code == 200 and 'id="confirm"' in page.text, page.status_code
    base = f"{urlparse(link).scheme}://{urlparse(link).netloc}"
    done = client.post(f"{base}/de/konto/bestaetigen", allow_redirects=False, timeout=30,
                       data={"_csrf": csrf_of(page.text), "token": hidden_value(page.text, "token")})
    assert done.status_code == 200 and "E-Mail-Adresse bestätigt" in done.text, done.status_code


def confirmed_account(server: str, mail_sink, name: str, password: str = PASSWORD) -> str:
    """A new, confirmed account (registered and confirmed over HTTP from a fresh setup_ip()); returns its address."""
    email = address(name)
    response = register_http(server, email, password)
    assert response.status_code == 303 and response.headers["Location"] == "/de/konto/registriert", response.status_code
    confirm_http(mail_sink, email)
    return email


def login_http(server: str, email: str, password: str, ip: str | None = None) -> tuple[requests.Session, requests.Response]:
    client = http(ip)
    response = post_form(client, f"{server}/de/konto/anmelden", email=email, password=password)
    return client, response


def transition_by_api(server: str, api_key: str, application_id: str, status: str, reason: str | None = None) -> None:
    body = {"status": status, **({"reason": reason} if reason else {})}
    response = requests.post(f"{server}/api/v1/applications/{application_id}/status", json=body, timeout=30,
                             headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 200, f"{response.status_code}: {response.text[:500]}"
    assert response.json()["status"] == status


# --- helpers: browser --------------------------------------------------------------------------

def go(driver, element, axe: bool = True) -> None:
    """Clicks something that navigates and waits for the new page; runs axe on it unless `axe` is False."""
    if axe:
        click_and_load(driver, element)
        return
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait(driver).until(stale(old))
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")


def by_id(driver, element_id: str):
    return driver.find_element(By.ID, element_id)


def h1(driver) -> str:
    return driver.find_element(By.TAG_NAME, "h1").text.strip()


def error_summary(driver) -> tuple[list[str], list[str]]:
    """The error summary's (messages, link targets); fails if there is none."""
    summary = wait(driver).until(EC.visibility_of_element_located((By.ID, "error-summary")))
    links = summary.find_elements(By.TAG_NAME, "a")
    return [a.text.strip() for a in links], [a.get_dom_attribute("href") for a in links]


def field_error(driver, field_id: str) -> str:
    """The inline error of a field, after checking the input points at it with aria-describedby."""
    error = by_id(driver, f"{field_id}-error")
    described = (by_id(driver, field_id).get_attribute("aria-describedby") or "").split()
    assert f"{field_id}-error" in described, f"#{field_id} aria-describedby={described}"
    return error.text.strip()


def login_browser(driver, server: str, email: str, password: str, axe: bool = False) -> None:
    """Signs in on /de/konto/anmelden and expects the Postfach."""
    open_page(driver, f"{server}/de/konto/anmelden") if axe else driver.get(f"{server}/de/konto/anmelden")
    fill(driver, email=email, password=password)
    go(driver, by_id(driver, "login"), axe=axe)
    wait_path(driver, r"/de/konto")
    assert h1(driver) == "Mein Postfach"
    assert by_id(driver, "account-email").text.strip() == email.lower()


def attempt_login_browser(driver, server: str, email: str, password: str) -> None:
    """Submits the login form and stays wherever the server answers (no expectation)."""
    driver.get(f"{server}/de/konto/anmelden")
    fill(driver, email=email, password=password)
    go(driver, by_id(driver, "login"), axe=False)


def is_signed_out(driver, server: str) -> bool:
    """Opens the Postfach; signed out means being sent to the login page."""
    driver.get(f"{server}/de/konto")
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")
    return path_of(driver) == "/de/konto/anmelden"


def apply_for_birth_certificate(driver, server: str, first: str, last: str, email: str) -> tuple[str, str, str]:
    """The shortest complete Geburtsurkunde walk (own certificate, collect in person); returns (application id,
    Vorgangsnummer, access code) from the confirmation page. The assistant pages are axe-checked in
    test_birth_certificate.py, so not again here."""
    driver.get(f"{server}/de/leistungen/{SERVICE}")
    go(driver, by_id(driver, "start"), axe=False)
    draft = wait_path(driver, r"/de/antrag/([^/]+)/relation").group(1)

    def next_page(page: str) -> None:
        go(driver, by_id(driver, "continue"), axe=False)
        wait_path(driver, rf"/de/antrag/{re.escape(draft)}/{page}")

    choose(driver, "relation", "self")
    next_page("person")
    fill(driver, F60000000228=first, F60000000227=last)
    next_page("birth")
    fill(driver, G60000083__day="12", G60000083__month="03", G60000083__year="1990", F00000000067="Meißen")
    next_page("document")
    choose(driver, "document_kind", "geburtsurkunde")
    next_page("copies")
    fill(driver, copies="1")
    next_page("delivery")
    choose(driver, "delivery_method", "collection")
    next_page("contact")
    fill(driver, F60000000242=email)
    next_page("pruefen")
    go(driver, by_id(driver, "submit"), axe=False)
    application = wait_path(driver, r"/de/vorgang/([^/]+)/bestaetigung").group(1)
    case_number = by_id(driver, "case-number").text.strip()
    access_code = by_id(driver, "access-code").text.strip()
    assert case_number and access_code
    return application, case_number, access_code


def postfach_items(driver) -> dict[str, dict[str, str]]:
    """The Postfach's applications by Vorgangsnummer: {case number: {"href", "service", "status"}}."""
    items = {}
    for li in driver.find_elements(By.CSS_SELECTOR, "#applications > li"):
        link = li.find_element(By.CSS_SELECTOR, "a.application-link")
        case_number = li.find_element(By.CSS_SELECTOR, "dd.code").text.strip()
        items[case_number] = {"href": link.get_attribute("href"), "service": link.text.strip(),
                              "status": li.find_element(By.CSS_SELECTOR, ".application-status").text.strip()}
    return items


@pytest.fixture(scope="module")
def second_driver():
    """Another browser (its own cookies), e.g. a second device of the same citizen."""
    other = make_driver()
    try:
        yield other
    finally:
        other.quit()


# --- 1. the full journey ------------------------------------------------------------------------

def test_register_confirm_login_apply_and_get_notified(server, driver, mail_sink, api_key):
    base = server
    driver.delete_all_cookies()
    email = address("anna")
    first, last = "Annegret", "Quastenberg"

    # The header links to the Servicekonto; signed out it leads to the login page, which links to registration.
    open_page(driver, f"{base}/de/")
    account_link = by_id(driver, "account-link")
    assert account_link.text.strip() == "Servicekonto"
    assert urlparse(account_link.get_attribute("href")).path == "/de/konto"
    go(driver, account_link)
    wait_path(driver, r"/de/konto/anmelden")
    go(driver, by_id(driver, "register-link"))
    wait_path(driver, r"/de/konto/registrieren")
    assert h1(driver) == "Servicekonto anlegen"

    # Errors: an impossible address and a too short password; both in the summary and at the fields (axe in go()).
    fill(driver, email="anna.example.org", password="kurz")
    go(driver, by_id(driver, "register"))
    wait_path(driver, r"/de/konto/registrieren")
    messages, targets = error_summary(driver)
    assert targets == ["#email", "#password"], targets
    assert "richtigen Format" in messages[0] and "mindestens 8 Zeichen" in messages[1], messages
    assert field_error(driver, "email").endswith(messages[0])
    assert field_error(driver, "password").endswith(messages[1])
    assert driver.title.startswith("Fehler:"), driver.title
    assert field(driver, "email").get_attribute("value") == "anna.example.org", "typed address not kept"
    assert field(driver, "password").get_attribute("value") == "", "password written back into the page"

    # A valid registration: the "check your mail" notice.
    fill(driver, email=email, password=PASSWORD)
    go(driver, by_id(driver, "register"))
    wait_path(driver, r"/de/konto/registriert")
    assert by_id(driver, "notice-title").text.strip() == "Sehen Sie in Ihr E-Mail-Postfach"

    # Confirm with the link from the mail: a page with a button (GET alone must not confirm).
    link = mail_link(mail_sink, email, SUBJECT_VERIFY, "/de/konto/bestaetigen")
    assert link.startswith(f"{base}/de/konto/bestaetigen?token="), link
    open_page(driver, link)
    assert h1(driver) == "E-Mail-Adresse bestätigen"
    go(driver, by_id(driver, "confirm"))
    assert by_id(driver, "notice-title").text.strip() == "E-Mail-Adresse bestätigt"
    go(driver, by_id(driver, "login-link"))
    wait_path(driver, r"/de/konto/anmelden")

    # The link a second time: invalid.
    open_page(driver, link)
    assert h1(driver) == LINK_INVALID
    assert requests.get(link, timeout=30).status_code == 404

    # Login (axe on the form), then the empty Postfach (axe).
    login_browser(driver, base, email, PASSWORD, axe=True)
    assert by_id(driver, "no-applications").is_displayed()
    assert not driver.find_elements(By.ID, "applications")
    for name in ("case_number", "access_code"):
        assert field(driver, name).is_displayed()
    assert by_id(driver, "claim").is_displayed() and by_id(driver, "settings-link").is_displayed()
    assert by_id(driver, "logout").is_displayed()

    # Apply while signed in; the application appears in the Postfach with its status.
    application, case_number, _ = apply_for_birth_certificate(driver, base, first, last, email)
    go(driver, by_id(driver, "account-link"))
    wait_path(driver, r"/de/konto")
    items = postfach_items(driver)
    assert list(items) == [case_number], items
    assert items[case_number]["status"] == "Eingegangen"
    service_title = items[case_number]["service"]
    assert "Geburtsurkunde" in service_title, service_title
    assert urlparse(items[case_number]["href"]).path == f"/de/konto/antraege/{application}"

    # Its status page (axe in go()).
    go(driver, driver.find_element(By.CSS_SELECTOR, "a.application-link"))
    wait_path(driver, rf"/de/konto/antraege/{application}")
    assert by_id(driver, "status").text.strip() == "Eingegangen"
    assert len(driver.find_elements(By.CSS_SELECTOR, "#timeline > li")) == 1
    assert case_number in body_text(driver)
    assert urlparse(by_id(driver, "back-to-postfach").get_attribute("href")).path == "/de/konto"

    # The authority starts work (status change through the API, as a specialist system or the back office does;
    # both end in ApplicationRepository.transition): the account holder gets a mail without personal data.
    transition_by_api(base, api_key, application, "in_progress")
    [notice] = mail_sink.wait_for(email, timeout=MAIL_TIMEOUT, subject_contains=SUBJECT_POSTFACH)
    text = MailSink.text_of(notice)
    subject = str(notice["Subject"])
    for secret in (case_number, case_number.replace("-", ""), first, last, service_title, "Geburtsurkunde",
                   "Eingegangen", "In Bearbeitung", "Meißen", application):
        assert secret not in text and secret not in subject, f"notification mail contains {secret!r}:\n{text}"
    assert MailSink.links_in(notice) == [f"{base}/de/konto"], MailSink.links_in(notice)

    # The Postfach and the status page show the new status.
    go(driver, by_id(driver, "back-to-postfach"))
    assert postfach_items(driver)[case_number]["status"] == "In Bearbeitung"

    # A second change, through the API, gives a second mail, again without details.
    transition_by_api(base, api_key, application, "completed", "Urkunde liegt zur Abholung bereit.")
    notices = mail_sink.wait_for(email, count=2, timeout=MAIL_TIMEOUT, subject_contains=SUBJECT_POSTFACH)
    assert "Abgeschlossen" not in MailSink.text_of(notices[-1]) and "Abholung" not in MailSink.text_of(notices[-1])
    driver.refresh()
    assert postfach_items(driver)[case_number]["status"] == "Abgeschlossen"
    go(driver, driver.find_element(By.CSS_SELECTOR, "a.application-link"))
    assert by_id(driver, "status").text.strip() == "Abgeschlossen"
    timeline = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#timeline > li")]
    assert len(timeline) == 3 and "Urkunde liegt zur Abholung bereit." in timeline[-1], timeline

    # Logout.
    go(driver, by_id(driver, "account-link"))
    go(driver, by_id(driver, "logout"))
    wait_path(driver, r"/de/konto/abgemeldet")
    assert is_signed_out(driver, base)


# --- 2. claiming an application filed without an account ----------------------------------------

def test_claim_application_filed_without_account(server, driver, mail_sink):
    base = server
    owner = confirmed_account(server, mail_sink, "bernd")
    other = confirmed_account(server, mail_sink, "carla")

    # File without an account.
    driver.delete_all_cookies()
    application, case_number, access_code = apply_for_birth_certificate(driver, base, "Bernd", "Ohnekonto", owner)

    # Sign in (fresh session) and claim with a wrong access code first.
    driver.delete_all_cookies()
    login_browser(driver, base, owner, PASSWORD)
    assert driver.find_elements(By.ID, "no-applications")
    wrong_code = ("Z" if access_code[0] != "Z" else "Y") + access_code[1:]
    fill(driver, case_number=case_number, access_code=wrong_code)
    go(driver, by_id(driver, "claim"))  # axe on the error state
    wait_path(driver, r"/de/konto(/antraege)?")
    messages, targets = error_summary(driver)
    assert targets == ["#case_number"] and "passen nicht zusammen" in messages[0], messages
    assert field_error(driver, "case_number").endswith(messages[0])
    assert field(driver, "case_number").get_attribute("value") == case_number
    assert driver.find_elements(By.ID, "no-applications"), "claimed with a wrong code?"

    # The right code (typed in lower case, without dashes) adds it and opens its status page.
    fill(driver, case_number=case_number.replace("-", "").lower(), access_code=access_code.lower())
    go(driver, by_id(driver, "claim"))
    wait_path(driver, rf"/de/konto/antraege/{application}")
    assert by_id(driver, "status").text.strip() == "Eingegangen"
    # The receipt linked there opens for the account (this session never saw the confirmation page).
    receipt_href = driver.find_element(By.CSS_SELECTOR, 'main a[href$="/bestaetigung.pdf"]').get_attribute("href")
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    receipt = requests.get(receipt_href, cookies=cookies, timeout=30)
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF"), receipt.status_code
    go(driver, by_id(driver, "back-to-postfach"))
    assert list(postfach_items(driver)) == [case_number]
    go(driver, by_id(driver, "logout"), axe=False)

    # Another account cannot claim it, even with the right code, nor open it by id.
    login_browser(driver, base, other, PASSWORD)
    fill(driver, case_number=case_number, access_code=access_code)
    go(driver, by_id(driver, "claim"))
    messages, _ = error_summary(driver)
    assert "gehört schon zu einem Konto" in messages[0], messages
    assert driver.find_elements(By.ID, "no-applications")
    open_page(driver, f"{base}/de/konto/antraege/{application}")
    assert h1(driver) == "Seite nicht gefunden"
    assert case_number not in body_text(driver)
    go(driver, by_id(driver, "account-link"), axe=False)
    go(driver, by_id(driver, "logout"), axe=False)

    # The owner still has it.
    login_browser(driver, base, owner, PASSWORD)
    assert list(postfach_items(driver)) == [case_number]
    driver.delete_all_cookies()


# --- 3. password reset ----------------------------------------------------------------------------

def test_password_reset_by_mail(server, driver, second_driver, mail_sink):
    base = server
    email = confirmed_account(server, mail_sink, "dora")
    unknown = address("niemand")

    # This browser is signed in before the reset.
    driver.delete_all_cookies()
    login_browser(driver, base, email, PASSWORD)

    # The other browser asks for a link, for the known and an unknown address: the same page.
    other = second_driver
    other.delete_all_cookies()
    notices = []
    for who in (email, unknown):
        open_page(other, f"{base}/de/konto/anmelden")
        go(other, by_id(other, "forgot-link"))
        wait_path(other, r"/de/konto/passwort-vergessen")
        fill(other, email=who)
        go(other, by_id(other, "send-link"))
        notices.append(other.find_element(By.TAG_NAME, "main").text)
    assert notices[0] == notices[1], notices
    assert "Sehen Sie in Ihr E-Mail-Postfach" in notices[0]

    link = mail_link(mail_sink, email, SUBJECT_RESET, "/de/konto/passwort-neu")
    assert link.startswith(f"{base}/de/konto/passwort-neu?token=")

    # A common password is refused on the reset form (axe on the error state), then a good one is set.
    open_page(other, link)
    assert h1(other) == "Neues Passwort festlegen"
    fill(other, password="passwort1")
    go(other, by_id(other, "set-password"))
    messages, targets = error_summary(other)
    assert targets == ["#password"] and "zu verbreitet" in messages[0], messages
    fill(other, password=NEW_PASSWORD)
    go(other, by_id(other, "set-password"))
    assert by_id(other, "notice-title").text.strip() == "Ihr Passwort ist geändert"
    mail_sink.wait_for(email, timeout=MAIL_TIMEOUT, subject_contains=SUBJECT_PASSWORD_CHANGED)

    # The link is single-use.
    open_page(other, link)
    assert h1(other) == LINK_INVALID

    # No mail went to the unknown address (the known one's mails have arrived by now).
    assert not mails_to(mail_sink, unknown), [str(m["Subject"]) for m in mails_to(mail_sink, unknown)]

    # The browser signed in before is signed out now.
    assert is_signed_out(driver, base), f"still signed in after the reset: {driver.current_url}"

    # The old password fails, the new one works.
    attempt_login_browser(driver, base, email, PASSWORD)
    messages, _ = error_summary(driver)
    assert messages == [LOGIN_FAILED], messages
    login_browser(driver, base, email, NEW_PASSWORD)
    driver.delete_all_cookies()
    other.delete_all_cookies()


# --- 4. settings: e-mail, password, logout everywhere, deletion -----------------------------------------

def test_settings_change_email_password_logout_everywhere_and_delete(server, driver, second_driver, mail_sink):
    base = server
    email = confirmed_account(server, mail_sink, "emil")
    new_email = address("emil-neu")

    driver.delete_all_cookies()
    login_browser(driver, base, email, PASSWORD)
    go(driver, by_id(driver, "settings-link"))
    wait_path(driver, r"/de/konto/einstellungen")
    assert h1(driver) == "Kontoeinstellungen"
    assert by_id(driver, "account-email").text.strip() == email

    # Change of address: a wrong current password first (axe on the error state).
    go(driver, by_id(driver, "change-email-link"))
    wait_path(driver, r"/de/konto/email-aendern")
    fill(driver, email=new_email, current_password="falsches Passwort 1")
    go(driver, by_id(driver, "change-email"))
    messages, targets = error_summary(driver)
    assert targets == ["#current_password"] and messages == ["Das aktuelle Passwort ist falsch."], messages
    assert field_error(driver, "current_password").endswith(messages[0])
    assert field(driver, "email").get_attribute("value") == new_email
    fill(driver, email=new_email, current_password=PASSWORD)
    go(driver, by_id(driver, "change-email"))
    assert by_id(driver, "notice-title").text.strip() == "Sehen Sie in Ihr E-Mail-Postfach"

    link = mail_link(mail_sink, new_email, SUBJECT_CONFIRM_NEW, "/de/konto/email-bestaetigen")
    open_page(driver, link)
    go(driver, by_id(driver, "confirm"))
    assert by_id(driver, "notice-title").text.strip() == "E-Mail-Adresse geändert"
    assert new_email in body_text(driver)
    changed = mail_sink.wait_for(email, timeout=MAIL_TIMEOUT, subject_contains=SUBJECT_EMAIL_CHANGED)
    assert new_email not in MailSink.text_of(changed[-1]), "the old address is told the new one"
    go(driver, by_id(driver, "postfach-link"))
    assert by_id(driver, "account-email").text.strip() == new_email

    # Change of password (axe on the form and the settings page with the success notice).
    go(driver, by_id(driver, "settings-link"), axe=False)
    go(driver, by_id(driver, "change-password-link"))
    wait_path(driver, r"/de/konto/passwort-aendern")
    fill(driver, current_password=PASSWORD, password=new_email.split("@")[0] + "!")
    go(driver, by_id(driver, "change-password"))
    messages, targets = error_summary(driver)
    assert targets == ["#password"] and "E-Mail-Adresse" in messages[0], messages
    fill(driver, current_password=PASSWORD, password=NEW_PASSWORD)
    go(driver, by_id(driver, "change-password"))
    wait_path(driver, r"/de/konto/einstellungen")
    assert "Passwort ist geändert" in by_id(driver, "success").text
    mail_sink.wait_for(new_email, timeout=MAIL_TIMEOUT, subject_contains=SUBJECT_PASSWORD_CHANGED)

    # The old address and the old password no longer sign in; the new ones do, on a second device.
    other = second_driver
    other.delete_all_cookies()
    attempt_login_browser(other, base, email, NEW_PASSWORD)
    assert error_summary(other)[0] == [LOGIN_FAILED]
    attempt_login_browser(other, base, new_email, PASSWORD)
    assert error_summary(other)[0] == [LOGIN_FAILED]
    login_browser(other, base, new_email, NEW_PASSWORD)

    # Logout everywhere ends both sessions.
    go(driver, by_id(driver, "logout-everywhere"))
    wait_path(driver, r"/de/konto/abgemeldet")
    assert is_signed_out(driver, base)
    assert is_signed_out(other, base), "the second device is still signed in"

    # Delete the account (axe on the page, its keep list, a wrong password, then the right one).
    login_browser(driver, base, new_email, NEW_PASSWORD)
    go(driver, by_id(driver, "settings-link"), axe=False)
    go(driver, by_id(driver, "delete-link"))
    wait_path(driver, r"/de/konto/loeschen")
    # (Distinct items: the page repeats the list, see test_delete_page_shows_the_keep_list_once.)
    keep = list(dict.fromkeys(li.text.strip() for li in driver.find_elements(By.CSS_SELECTOR, "main ul.list > li")))
    assert len(keep) == 3 and all(keep), keep
    assert all(li.is_displayed() for li in driver.find_elements(By.CSS_SELECTOR, "main ul.list > li"))
    for words in ("Aufbewahrungsfristen", "Protokoll", "E-Mails"):
        assert any(words in item for item in keep), (words, keep)
    fill(driver, current_password=PASSWORD)
    go(driver, by_id(driver, "delete-account"))
    messages, _ = error_summary(driver)
    assert messages == ["Das aktuelle Passwort ist falsch."], messages
    fill(driver, current_password=NEW_PASSWORD)
    go(driver, by_id(driver, "delete-account"))
    assert by_id(driver, "notice-title").text.strip() == "Ihr Servicekonto ist gelöscht"
    mail_sink.wait_for(new_email, timeout=MAIL_TIMEOUT, subject_contains=SUBJECT_DELETED)
    assert is_signed_out(driver, base)
    attempt_login_browser(driver, base, new_email, NEW_PASSWORD)
    assert error_summary(driver)[0] == [LOGIN_FAILED]
    driver.delete_all_cookies()
    other.delete_all_cookies()


def test_delete_page_shows_the_keep_list_once(server, mail_sink):
    email = confirmed_account(server, mail_sink, "olga")
    client, response = login_http(server, email, PASSWORD)
    assert response.status_code == 303
    page = client.get(f"{server}/de/konto/loeschen", timeout=30)
    assert page.status_code == 200
    lists = page.text.count('<ul class="list" id="keep-list">')
    assert lists == 1 and page.text.count("Aufbewahrungsfristen") == 1, f"{lists} keep lists on the delete page"


# --- 5. no account enumeration -------------------------------------------------------------------

def test_answers_do_not_reveal_which_addresses_have_accounts(server, mail_sink):
    base = server
    existing = confirmed_account(server, mail_sink, "frieda")
    new = address("gustav")

    # Registration: the same redirect for an existing and a new address; the mails differ.
    answers = [register_http(base, who, ip="127.0.0.1") for who in (existing, new)]
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["Location"] == answers[1].headers["Location"] == "/de/konto/registriert"
    pages = [main_text(requests.get(f"{base}{a.headers['Location']}", timeout=30).text) for a in answers]
    assert pages[0] == pages[1]
    [already] = mail_sink.wait_for(existing, timeout=MAIL_TIMEOUT, subject_contains=SUBJECT_ALREADY)
    assert "besteht schon ein Konto" in MailSink.text_of(already)
    assert not any("/bestaetigen?" in link for link in MailSink.links_in(already)), MailSink.links_in(already)
    mail_sink.wait_for(new, timeout=MAIL_TIMEOUT, subject_contains=SUBJECT_VERIFY)
    assert len(mails_to(mail_sink, existing, SUBJECT_VERIFY)) == 1, "a second confirmation mail to an existing account"

    # Login: unknown address and wrong password give the same status and error text.
    failures = [login_http(base, who, "Falsches Passwort 123")[1] for who in (address("unbekannt"), existing)]
    assert [f.status_code for f in failures] == [422, 422]
    assert error_summary_texts(failures[0].text) == error_summary_texts(failures[1].text) == [LOGIN_FAILED]

    # Forgot password: the same page for a known and an unknown address.
    answers = [post_form(http(), f"{base}/de/konto/passwort-vergessen", email=who)
               for who in (existing, address("unbekannt"))]
    assert [a.status_code for a in answers] == [200, 200]
    assert main_text(answers[0].text) == main_text(answers[1].text)
    mail_sink.wait_for(existing, timeout=MAIL_TIMEOUT, subject_contains=SUBJECT_RESET)


# --- 6. keyboard only -------------------------------------------------------------------------------

def press(driver, *keys) -> None:
    ActionChains(driver).send_keys(*keys).perform()


def focused(driver) -> str:
    """A short description of document.activeElement: '#id', or 'tag.class'."""
    return driver.execute_script("""
        const e = document.activeElement;
        if (!e) return 'none';
        if (e.id) return '#' + e.id;
        return e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : '');
    """)


def keyboard_navigate(driver, *keys) -> None:
    """Presses keys that load a new page (Enter on a link or button, or in a form field) and waits for it."""
    old = driver.find_element(By.TAG_NAME, "html")
    press(driver, *keys)
    wait(driver).until(stale(old))
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")


def skip_to_main(driver) -> None:
    """From a freshly loaded page: Tab to the skip link, Enter; focus lands on <main>."""
    assert focused(driver) in ("body", "html"), f"focus on load: {focused(driver)}"
    press(driver, Keys.TAB)
    assert focused(driver) == "a.skip-link", focused(driver)
    press(driver, Keys.ENTER)
    assert focused(driver) == "#main", focused(driver)


def to_error_link(driver, target: str) -> None:
    """On a page with errors, from the focus on load to the error summary's first link, which must point at `target`.
    amtsweg.js focuses the summary when the page loads, so one Tab reaches its first link; without the focus (no
    script) the way is the skip link, then Tab."""
    if focused(driver) != "#error-summary":
        skip_to_main(driver)
    press(driver, Keys.TAB)
    assert driver.execute_script("return document.activeElement.closest('#error-summary') !== null"), focused(driver)
    assert driver.switch_to.active_element.get_dom_attribute("href") == target, focused(driver)


def test_keyboard_only_register_and_login(server, driver, mail_sink):
    base = server
    email = address("hanna")
    driver.delete_all_cookies()
    driver.get(f"{base}/de/konto/registrieren")
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")

    # Into the form: skip link, then the fields in order; a too short password, Enter submits.
    skip_to_main(driver)
    press(driver, Keys.TAB)
    assert focused(driver) == "#email"
    press(driver, email, Keys.TAB)
    assert focused(driver) == "#password"
    press(driver, "kurz", Keys.TAB)
    assert focused(driver) == "#register"
    keyboard_navigate(driver, Keys.ENTER)
    wait_path(driver, r"/de/konto/registrieren")
    check_axe(driver)

    # The error page: the summary comes first in <main>; its link moves focus to the field.
    messages, targets = error_summary(driver)
    assert targets == ["#password"], targets
    to_error_link(driver, "#password")
    press(driver, Keys.ENTER)
    assert focused(driver) == "#password", focused(driver)
    press(driver, PASSWORD)
    keyboard_navigate(driver, Keys.ENTER)
    wait_path(driver, r"/de/konto/registriert")

    # Confirm: the mail link opened in the browser, then the button by keyboard.
    driver.get(mail_link(mail_sink, email, SUBJECT_VERIFY, "/de/konto/bestaetigen"))
    skip_to_main(driver)
    press(driver, Keys.TAB)
    assert focused(driver) == "#confirm"
    keyboard_navigate(driver, Keys.ENTER)
    assert by_id(driver, "notice-title").text.strip() == "E-Mail-Adresse bestätigt"
    skip_to_main(driver)
    press(driver, Keys.TAB)
    assert focused(driver) == "#login-link"
    keyboard_navigate(driver, Keys.ENTER)
    wait_path(driver, r"/de/konto/anmelden")

    # Login: a wrong password first, then the right one.
    skip_to_main(driver)
    press(driver, Keys.TAB)
    assert focused(driver) == "#email"
    press(driver, email, Keys.TAB)
    assert focused(driver) == "#password"
    keyboard_navigate(driver, "Falsches Passwort 123", Keys.ENTER)
    messages, targets = error_summary(driver)
    assert messages == [LOGIN_FAILED] and targets == ["#email"], (messages, targets)
    to_error_link(driver, "#email")
    press(driver, Keys.ENTER)
    assert focused(driver) == "#email"
    assert driver.switch_to.active_element.get_attribute("value") == email, "typed address not kept"
    press(driver, Keys.TAB)
    assert focused(driver) == "#password"
    keyboard_navigate(driver, PASSWORD, Keys.ENTER)
    wait_path(driver, r"/de/konto")
    assert h1(driver) == "Mein Postfach"
    check_axe(driver)
    driver.delete_all_cookies()


# --- 7. English ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, title, button", [
    ("/en/konto/registrieren", "Create an account", "register"),
    ("/en/konto/anmelden", "Sign in", "login"),
])
def test_account_pages_in_english(server, driver, path, title, button):
    driver.delete_all_cookies()
    open_page(driver, f"{server}{path}")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert h1(driver) == title
    assert by_id(driver, "account-link").text.strip() == "Account"
    assert urlparse(by_id(driver, "account-link").get_attribute("href")).path == "/en/konto"
    assert driver.find_element(By.CSS_SELECTOR, 'label[for="email"]').text.strip() == "Email address"
    main = driver.find_element(By.TAG_NAME, "main").text
    for german in ("Passwort", "E-Mail-Adresse", "Anmelden", "Konto anlegen"):
        assert german not in main, f"German {german!r} on {path}:\n{main}"
    if button == "register":
        # The error state in English (no account is created: the form is invalid).
        go(driver, by_id(driver, button))
        messages, targets = error_summary(driver)
        assert targets == ["#email", "#password"] and all(messages), messages
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
        assert not any("Passwort" in m or "E-Mail" in m for m in messages), messages


# --- 8. CSRF, session cookie, other accounts' applications ------------------------------------------

def session_cookie_header(response: requests.Response) -> str:
    headers = [v for k, v in response.raw.headers.items() if k.lower() == "set-cookie" and v.startswith("amtsweg_session=")]
    assert len(headers) == 1, response.raw.headers
    return headers[0]


def test_csrf_session_fixation_cookie_flags_and_foreign_applications(server, driver, mail_sink):
    base = server
    email = confirmed_account(server, mail_sink, "ida")
    login_url = f"{base}/de/konto/anmelden"

    # No session at all, or a session without / with a wrong CSRF token: 403, and nobody is signed in.
    assert requests.post(login_url, data={"email": email, "password": PASSWORD}, allow_redirects=False,
                         timeout=30).status_code == 403
    client = http()
    page = client.get(login_url, timeout=30)
    before = client.cookies["amtsweg_session"]
    for data in ({"email": email, "password": PASSWORD},
                 {"email": email, "password": PASSWORD, "_csrf": "x" * 43}):
        response = client.post(login_url, data=data, allow_redirects=False, timeout=30)
        assert response.status_code == 403, response.status_code
    assert client.get(f"{base}/de/konto", allow_redirects=False, timeout=30).status_code == 303

    # Login: a new session id, with HttpOnly and SameSite=Lax; the old id is dead.
    response = client.post(login_url, data={"email": email, "password": PASSWORD, "_csrf": csrf_of(page.text)},
                           allow_redirects=False, timeout=30)
    assert response.status_code == 303 and response.headers["Location"] == "/de/konto"
    cookie = session_cookie_header(response)
    after = client.cookies["amtsweg_session"]
    assert after != before, "session id not changed at login (session fixation)"
    attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
    assert "httponly" in attributes and "samesite=lax" in attributes and "path=/" in attributes, cookie
    postfach = client.get(f"{base}/de/konto", allow_redirects=False, timeout=30)
    assert postfach.status_code == 200 and email in postfach.text
    stale_client = http()
    stale_client.cookies.set("amtsweg_session", before)
    answer = stale_client.get(f"{base}/de/konto", allow_redirects=False, timeout=30)
    assert answer.status_code == 303 and answer.headers["Location"] == "/de/konto/anmelden"

    # Another account's application (filed while signed in there): 404, like an id that does not exist.
    owner = confirmed_account(server, mail_sink, "jakob")
    driver.delete_all_cookies()
    login_browser(driver, base, owner, PASSWORD)
    application, case_number, _ = apply_for_birth_certificate(driver, base, "Jakob", "Fremdkonto", owner)
    driver.delete_all_cookies()
    foreign = client.get(f"{base}/de/konto/antraege/{application}", allow_redirects=False, timeout=30)
    missing = client.get(f"{base}/de/konto/antraege/{uuid.uuid4()}", allow_redirects=False, timeout=30)
    assert foreign.status_code == missing.status_code == 404
    assert case_number not in foreign.text
    assert main_text(foreign.text) == main_text(missing.text)
    receipt = client.get(f"{base}/de/vorgang/{application}/bestaetigung.pdf", allow_redirects=False, timeout=30)
    assert receipt.status_code == 404, receipt.status_code

    # Signed out, the Postfach routes lead to the login page.
    for path in ("/de/konto", f"/de/konto/antraege/{application}", "/de/konto/einstellungen"):
        answer = requests.get(f"{base}{path}", allow_redirects=False, timeout=30)
        assert answer.status_code == 303 and answer.headers["Location"] == "/de/konto/anmelden", (path, answer.status_code)


# --- 9. password rules and unconfirmed addresses -----------------------------------------------------

@pytest.mark.parametrize("password, message", [
    ("kurz7", "mindestens 8 Zeichen"),
    ("passwort1", "zu verbreitet"),
    ("Sommer2026", "zu verbreitet"),
    ("aaaaaaaaaaaa", "zu verbreitet"),
    ("ich-bin-{local}-2026", "nicht Ihre E-Mail-Adresse"),
])
def test_password_rules(server, password, message):
    email = address("kurt")
    local = email.split("@")[0]
    # Invalid registrations do not count towards the registration limit.
    response = register_http(server, email, password.format(local=local), ip="127.0.0.1")
    assert response.status_code == 422, response.status_code
    summary = error_summary_texts(response.text)
    assert len(summary) == 1 and message in summary[0], summary
    assert re.search(r'<p class="field-error" id="password-error">.*?' + re.escape(summary[0]), response.text, re.S)
    assert 'aria-describedby="password-hint password-error"' in response.text
    assert "<title>Fehler:" in response.text


def test_unconfirmed_address_must_confirm_first(server, mail_sink):
    base = server
    email = address("lena")
    assert register_http(base, email).status_code == 303
    mail_sink.wait_for(email, timeout=MAIL_TIMEOUT, subject_contains=SUBJECT_VERIFY)

    # The right password for an unconfirmed address: no session, a page offering a new link.
    client, response = login_http(base, email, PASSWORD)
    assert response.status_code == 403, response.status_code
    assert "Bestätigen Sie zuerst Ihre E-Mail-Adresse" in response.text and 'id="resend"' in response.text
    assert client.get(f"{base}/de/konto", allow_redirects=False, timeout=30).status_code == 303
    resend = client.post(f"{base}/de/konto/bestaetigung-senden", data={"_csrf": csrf_of(response.text)},
                         allow_redirects=False, timeout=30)
    assert resend.status_code == 200 and "Sehen Sie in Ihr E-Mail-Postfach" in resend.text

    # The new mail's link works; the first one was voided by it.
    mails = mail_sink.wait_for(email, count=2, timeout=MAIL_TIMEOUT, subject_contains=SUBJECT_VERIFY)
    first = [l for l in MailSink.links_in(mails[0]) if "/bestaetigen?" in l][0]
    assert requests.get(first, timeout=30).status_code == 404
    confirm_http(mail_sink, email, count=2)
    assert login_http(base, email, PASSWORD)[1].status_code == 303


# --- 10. login throttling (from loopback addresses of its own) -----------------------------------------

def test_login_throttling_per_address_and_per_ip(server, mail_sink):
    base = server
    email = confirmed_account(server, mail_sink, "max")

    # Ten wrong passwords for one address (from 127.0.0.3): then even the right one is refused, from any IP.
    for attempt in range(10):
        _, response = login_http(base, email, f"Falsches Passwort {attempt}", ip="127.0.0.3")
        assert response.status_code == 422 and error_summary_texts(response.text) == [LOGIN_FAILED], attempt
    for ip in ("127.0.0.3", "127.0.0.4"):
        _, response = login_http(base, email, PASSWORD, ip=ip)
        assert response.status_code == 422, (ip, response.status_code)
        assert TOO_MANY in error_summary_texts(response.text)[0], (ip, error_summary_texts(response.text))

    # Ten failures from one IP (127.0.0.5), each for another unknown address: that IP is refused for any address.
    for attempt in range(10):
        _, response = login_http(base, address(f"rate{attempt}"), PASSWORD, ip="127.0.0.5")
        assert error_summary_texts(response.text) == [LOGIN_FAILED], attempt
    _, response = login_http(base, address("rate-next"), PASSWORD, ip="127.0.0.5")
    assert TOO_MANY in error_summary_texts(response.text)[0], error_summary_texts(response.text)


def test_ip_throttle_is_not_reset_by_a_login_to_another_account(server, mail_sink):
    base = server
    own = confirmed_account(server, mail_sink, "spray")
    ip = "127.0.0.6"
    for attempt in range(9):
        _, response = login_http(base, address(f"victim{attempt}"), "passwort1", ip=ip)
        assert error_summary_texts(response.text) == [LOGIN_FAILED], attempt
    assert login_http(base, own, PASSWORD, ip=ip)[1].status_code == 303
    _, response = login_http(base, address("victim9"), "passwort1", ip=ip)  # the 10th failure from this IP
    assert error_summary_texts(response.text) == [LOGIN_FAILED]
    _, response = login_http(base, address("victim10"), "passwort1", ip=ip)
    assert TOO_MANY in error_summary_texts(response.text)[0], error_summary_texts(response.text)
