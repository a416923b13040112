"""Browser tests of the birth-certificate service (LeiKa 99027002012000) against docs/contract.md.

Every page visited is checked with axe-core (WCAG 2.1 A/AA). The main flow is one test, in order:
start page → search → service page → assistant (sibling path, proof upload, postal delivery)
→ check answers → submit → confirmation + PDF receipt → status lookup → case worker moves the
case to in_progress and completed → the citizen's status shows three timeline entries.
A second test checks the error page of an impossible date.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import tempfile
from urllib.parse import urljoin, urlparse

import requests
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import check_axe, next_demo_totp

SERVICE = "99027002012000"
CASE_WORKER = ("standesamt@musterstadt.example", "Musterstadt-Demo-2026")
TIMEOUT = 20


# --- helpers -------------------------------------------------------------------------------

def minimal_pdf() -> bytes:
    """A small but structurally valid one-page PDF (correct xref offsets)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def wait(driver):
    return WebDriverWait(driver, TIMEOUT)


def path_of(driver) -> str:
    return urlparse(driver.current_url).path


def wait_path(driver, pattern: str) -> re.Match:
    """Waits until the current URL path fully matches `pattern`; returns the match."""
    regex = re.compile(pattern)
    try:
        wait(driver).until(lambda d: regex.fullmatch(path_of(d)))
    except Exception as e:  # TimeoutException: say where we are instead
        raise AssertionError(f"expected path {pattern!r}, at {driver.current_url}\n"
                             f"{body_text(driver)[:1500]}") from e
    return regex.fullmatch(path_of(driver))


def body_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text



def stale(element):
    """Waits-condition: the element left the document. Chromium sometimes reports a navigated-away
    node as "does not belong to the document" instead of stale; both mean the old page is gone."""
    def check(_driver):
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True
    return check


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")
    check_axe(driver)


def click_and_load(driver, element) -> None:
    """Clicks something that navigates (link, submit button) and waits for the new page."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait(driver).until(stale(old))
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")
    check_axe(driver)


def field(driver, key: str):
    """A form control by name (FIM id or contract name), falling back to its id."""
    found = driver.find_elements(By.NAME, key) or driver.find_elements(By.ID, key)
    assert found, f"no field {key!r} on {driver.current_url}"
    return found[0]


def fill(driver, **values: str) -> None:
    for key, value in values.items():
        el = field(driver, key.replace("__", "-"))
        el.clear()
        el.send_keys(value)


def choose(driver, name: str, value: str) -> None:
    """Selects a radio button; clicks its label if the input itself is visually replaced."""
    radio = driver.find_element(By.CSS_SELECTOR, f'input[type="radio"][name="{name}"][value="{value}"]')
    if radio.is_displayed():
        radio.click()
    else:
        driver.find_element(By.CSS_SELECTOR, f'label[for="{radio.get_attribute("id")}"]').click()
    assert radio.is_selected(), f"radio {name}={value} not selected"


def continue_to(driver, draft: str, next_page: str) -> None:
    """Presses button#continue and expects the assistant page `next_page` (or 'pruefen')."""
    click_and_load(driver, driver.find_element(By.ID, "continue"))
    wait_path(driver, rf"/de/antrag/{re.escape(draft)}/{next_page}")


def start_application(driver, base: str) -> str:
    """Opens the service page, presses start and returns the draft id (page `relation`)."""
    open_page(driver, f"{base}/de/leistungen/{SERVICE}")
    click_and_load(driver, driver.find_element(By.ID, "start"))
    return wait_path(driver, r"/de/antrag/([^/]+)/relation").group(1)


def status_lookup(driver, base: str, case_number: str, access_code: str) -> list[str]:
    """Looks the case up at /de/status; returns the timeline entries' texts."""
    open_page(driver, f"{base}/de/status")
    fill(driver, case_number=case_number, access_code=access_code)
    click_and_load(driver, driver.find_element(By.ID, "check"))
    wait_path(driver, r"/de/status/[^/]+")
    assert driver.find_element(By.ID, "status").text.strip(), "empty #status"
    entries = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "ol#timeline > li")]
    for text in entries:
        assert re.search(r"\d{4}", text), f"timeline entry without a date: {text!r}"
    return entries


# --- tests ---------------------------------------------------------------------------------

def test_birth_certificate_full_flow(server, driver, tmp_path):
    base = server
    driver.delete_all_cookies()

    # Start page and search.
    open_page(driver, f"{base}/de/")
    q = driver.find_element(By.CSS_SELECTOR, 'form[action="/de/suche"] input#q[name="q"]')
    old = driver.find_element(By.TAG_NAME, "html")
    q.send_keys("Geburtsurkunde", Keys.ENTER)
    wait(driver).until(stale(old))
    wait_path(driver, r"/de/suche")
    check_axe(driver)

    links = driver.find_elements(By.CSS_SELECTOR, "a.service-link")
    assert links, "no search results for Geburtsurkunde"
    link = next((a for a in links if SERVICE in (a.get_attribute("href") or "")), links[0])
    click_and_load(driver, link)
    wait_path(driver, rf"/de/leistungen/{SERVICE}")
    assert "€" in body_text(driver), "service page names no fee in €"

    # Assistant.
    click_and_load(driver, driver.find_element(By.ID, "start"))
    draft = wait_path(driver, r"/de/antrag/([^/]+)/relation").group(1)

    # Language switch on an assistant page: same page under /en/, <html lang="en">, and back.
    de_path = path_of(driver)
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "a[hreflang=en]"))
    assert path_of(driver) == "/en/" + de_path[len("/de/"):]
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "a[hreflang=de]"))
    assert path_of(driver) == de_path
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"

    choose(driver, "relation", "sibling")
    continue_to(driver, draft, "interest")

    proof = tmp_path / "nachweis.pdf"
    proof.write_bytes(minimal_pdf())
    fill(driver, interest_reason="Ich benötige die Urkunde für die Nachlassregelung unserer Mutter.")
    field(driver, "interest_proof").send_keys(str(proof))
    continue_to(driver, draft, "applicant")

    fill(driver, F60000000228="Erika", F60000000227="Mustermann")
    continue_to(driver, draft, "person")

    fill(driver, F60000000228="Max", F60000000227="Mustermann")
    continue_to(driver, draft, "birth")

    fill(driver, G60000083__day="12", G60000083__month="03", G60000083__year="1990",
         F00000000067="Meißen")
    continue_to(driver, draft, "document")

    choose(driver, "document_kind", "registerausdruck")
    continue_to(driver, draft, "copies")

    fill(driver, copies="2")
    continue_to(driver, draft, "delivery")

    choose(driver, "delivery_method", "post")
    continue_to(driver, draft, "address")

    fill(driver, F60000000243="Hauptstraße", F60000000244="1", F60000000246="01662",
         F60000000247="Meißen")
    continue_to(driver, draft, "contact")

    fill(driver, F60000000242="erika.mustermann@example.org")
    continue_to(driver, draft, "pruefen")

    # Check answers.
    text = body_text(driver)
    for expected in ("Meißen", "Hauptstraße", "01662", "Mustermann", "Erika", "1990",
                     "erika.mustermann@example.org", "nachweis.pdf"):
        assert expected in text, f"check page does not show {expected!r}"
    assert driver.find_elements(By.CSS_SELECTOR, "a.change-link"), "no change links"

    click_and_load(driver, driver.find_element(By.ID, "submit"))
    application = wait_path(driver, r"/de/vorgang/([^/]+)/bestaetigung").group(1)

    # Confirmation: case number, access code, fee 12 € + 6 € for the second copy.
    case_number = driver.find_element(By.ID, "case-number").text.strip()
    access_code = driver.find_element(By.ID, "access-code").text.strip()
    assert case_number and access_code
    assert "18,00" in driver.find_element(By.ID, "fee").text

    receipt_url = urljoin(driver.current_url, driver.find_element(By.ID, "receipt").get_attribute("href"))
    assert urlparse(receipt_url).path == f"/de/vorgang/{application}/bestaetigung.pdf"
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    assert "amtsweg_session" in cookies
    pdf = requests.get(receipt_url, cookies=cookies, timeout=TIMEOUT)
    assert pdf.status_code == 200, pdf.status_code
    assert pdf.content.startswith(b"%PDF"), pdf.content[:40]
    # The served receipt is PDF/A-3b with its text extractable (e2e/check_pdfa.py: qpdf, pikepdf, poppler, LittleCMS).
    receipt_file = pathlib.Path(tempfile.mkdtemp()) / "receipt.pdf"
    receipt_file.write_bytes(pdf.content)
    checked = subprocess.run([sys.executable, str(pathlib.Path(__file__).with_name("check_pdfa.py")), str(receipt_file), case_number],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # Status lookup as the citizen, in a fresh session.
    driver.delete_all_cookies()
    entries = status_lookup(driver, base, case_number, access_code)
    assert len(entries) >= 1

    # Case worker: log in, open the case from the inbox, in_progress → completed, log out.
    driver.delete_all_cookies()
    open_page(driver, f"{base}/de/verwaltung/anmelden")
    fill(driver, username=CASE_WORKER[0], password=CASE_WORKER[1])
    click_and_load(driver, driver.find_element(By.ID, "login"))
    # Second factor: the TOTP page, checked with axe once.
    wait_path(driver, r"/de/verwaltung/anmelden/code")
    fill(driver, code=next_demo_totp())
    click_and_load(driver, driver.find_element(By.ID, "verify-code"))
    wait_path(driver, r"/de/verwaltung/?")

    case_links = [a for a in driver.find_elements(By.CSS_SELECTOR, "a.case-link")
                  if a.text.strip() == case_number]
    assert case_links, f"case {case_number} not in the inbox"
    click_and_load(driver, case_links[0])
    case_path = wait_path(driver, r"/de/verwaltung/vorgang/[^/]+").group(0)
    assert "Meißen" in body_text(driver)

    for status, reason in (("in_progress", ""), ("completed", "Urkunde per Post versandt.")):
        Select(field(driver, "status")).select_by_value(status)
        if reason:
            fill(driver, reason=reason)
        click_and_load(driver, driver.find_element(By.ID, "transition"))
        if path_of(driver) != case_path:  # e.g. back to the inbox: reopen the case
            open_page(driver, base + case_path)

    click_and_load(driver, driver.find_element(By.ID, "logout"))

    # The citizen now sees received → in_progress → completed.
    driver.delete_all_cookies()
    entries = status_lookup(driver, base, case_number, access_code)
    assert len(entries) == 3, entries


def test_impossible_birth_date_shows_error_summary(server, driver):
    base = server
    driver.delete_all_cookies()
    draft = start_application(driver, base)

    choose(driver, "relation", "self")
    continue_to(driver, draft, "person")
    fill(driver, F60000000228="Max", F60000000227="Mustermann")
    continue_to(driver, draft, "birth")

    fill(driver, G60000083__day="31", G60000083__month="02", G60000083__year="1990",
         F00000000067="Meißen")
    # Stays on the birth page, with the error summary (axe runs on it in click_and_load).
    continue_to(driver, draft, "birth")

    summary = wait(driver).until(EC.visibility_of_element_located((By.ID, "error-summary")))
    hrefs = [a.get_dom_attribute("href") for a in summary.find_elements(By.TAG_NAME, "a")]
    assert "#G60000083-day" in hrefs, hrefs
    assert driver.find_elements(By.CSS_SELECTOR, ".field-error"), "no inline error"
    assert driver.find_element(By.ID, "G60000083-day"), "summary link target missing"
    # What was typed is kept.
    assert field(driver, "G60000083-day").get_attribute("value") == "31"
    assert field(driver, "F00000000067").get_attribute("value") == "Meißen"
