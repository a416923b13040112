"""Browser tests of every service in the library (e2e/service_walks.json): each assistant is completed end to end
twice — once taking the first answer everywhere, once taking the alternative branches listed for it — with axe-core
on every page, including error and "add another" pages. The walk is generic: it fills what the page shows (with
JavaScript on, so conditional questions appear and disappear as in a real browser), picks values that match the
field's pattern from the definition, and on an error summary moves the named fields to their next candidate.

After submitting, the application is read through the specialist-system API and its data validated against the
assistant version's own JSON Schema (2020-12) with Python's jsonschema, and the fee shown on the check page must
be the fee the API reports.
"""

from __future__ import annotations

import datetime
import json
import re

import pytest
import requests
from jsonschema import Draft202012Validator
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import REPO_ROOT, meet_trust_requirement
from test_api_contract import assert_valid
from test_birth_certificate import body_text, click_and_load, minimal_pdf, open_page, path_of, wait_path
from test_imported_services import Control, choose_radio, error_summary

ASSISTANTS_DIR = REPO_ROOT / "Sources" / "AmtswegWeb" / "Resources" / "assistants"
WALKS = json.loads((REPO_ROOT / "e2e" / "service_walks.json").read_text(encoding="utf-8"))
CATALOGUE = json.loads((REPO_ROOT / "Sources" / "AmtswegWeb" / "Resources" / "data" / "ozg-katalog-2019.json").read_text(encoding="utf-8"))


def lebenslage_of(leika: str) -> int:
    """The Lebenslage a LeiKa service belongs to (LeiKa → OZG-Leistung → Lebenslage), as the portal lists it."""
    ozg_id = next(entry["ozgId"] for entry in CATALOGUE["leika"] if entry["leikaKey"] == leika)
    lage = next(entry["lebenslageId"] for entry in CATALOGUE["ozgLeistungen"] if entry["ozgId"] == ozg_id)
    assert lage is not None, f"{leika} has no Lebenslage"
    return lage
MAX_PAGES = 30
MAX_ROUNDS = 6
TIMEOUT = 10
NEXT_YEAR = str(datetime.date.today().year + 1)

DATES = [("1", "2", "1990"), ("1", "2", NEXT_YEAR), ("15", "6", "2020")]
TEXT_POOL = ["Muster", "Hauptstraße", "1", "AB", "123", "MEI", "MEI-AB 123", "DE89370400440532013000",
             "276012345678901", "01662", "erika@example.org", "0351 123456", "+49 351 123456", "HRB 1234",
             "12:30", "A1B2C3", "Beschreibung"]
NUMBERS = ["1", "2", "12", "1990"]
DECIMALS = ["3,5", "12", "1"]


def definition_of(assistant_id: str) -> dict:
    versions = [json.loads(p.read_text(encoding="utf-8")) for p in ASSISTANTS_DIR.glob(f"{assistant_id}*.json")]
    versions = [d for d in versions if d["id"] == assistant_id]
    return max(versions, key=lambda d: tuple(int(x) for x in d["version"].split(".")))


def field_of(definition: dict, page: str, name: str) -> dict | None:
    base = re.sub(r"\[\d+\]$", "", name)
    for p in definition["pages"]:
        if p["id"] == page:
            return next((f for f in p["fields"] if f["id"] == base), None)
    return None


def text_candidates(field: dict | None, element) -> list[str]:
    kind = (field or {}).get("kind", "text")
    if kind in ("decimal", "currency"):
        return DECIMALS
    if kind == "time":
        return ["10:00", "14:30"]
    if kind == "email":
        return ["erika@example.org"]
    if kind == "postalCode":
        return ["01662"]
    if kind == "integer" or (element.get_attribute("inputmode") or "") == "numeric":
        low = (field or {}).get("minValue")
        return ([str(low)] if low is not None else []) + NUMBERS
    pattern = (field or {}).get("pattern")
    if pattern:
        matching = [value for value in TEXT_POOL if re.fullmatch(pattern, value)]
        assert matching, f"no candidate matches the pattern {pattern!r} of {field['id']}"
        return matching
    if element.tag_name.lower() == "textarea":
        return ["Beschreibung des Anliegens", "Muster"]
    return ["Muster", "Hauptstraße", "1"]


def in_hidden_block(element) -> bool:
    return bool(element.find_elements(By.XPATH, "ancestor::*[@hidden]"))


def page_controls(driver, definition: dict, page: str) -> dict[str, Control]:
    """The page's controls by name; a date (with its time) is one control whose elements are its parts."""
    form = driver.find_element(By.ID, "continue").find_element(By.XPATH, "ancestor::form")
    controls: dict[str, Control] = {}
    for element in form.find_elements(By.CSS_SELECTOR, "input, select, textarea"):
        name = element.get_attribute("name") or ""
        tag = element.tag_name.lower()
        kind = (element.get_attribute("type") or "text").lower() if tag == "input" else tag
        if not name or name.startswith("_") or kind in ("hidden", "submit", "button") or in_hidden_block(element):
            continue
        date_part = re.fullmatch(r"(.+)-(day|month|year|time)", name)
        if date_part and field_of(definition, page, date_part.group(1)) is not None:
            base = date_part.group(1)
            control = controls.setdefault(base, Control(base, "date", DATES, {}))
            control.elements[date_part.group(2)] = element
            continue
        if kind == "radio":
            control = controls.setdefault(name, Control(name, "radio", [], []))
            control.candidates.append(element.get_attribute("value"))
            control.elements.append(element)
        elif kind == "select":
            values = [o.get_attribute("value") for o in Select(element).options if o.get_attribute("value")]
            controls[name] = Control(name, "select", values[:3], [element])
        elif kind == "file":
            controls[name] = Control(name, "file", ["nachweis.pdf"], [element])
        else:
            controls[name] = Control(name, "text", text_candidates(field_of(definition, page, name), element), [element])
    return controls


def fill(driver, control: Control, value, pdf_path) -> None:
    if control.kind == "radio":
        choose_radio(driver, next(e for e in control.elements if e.get_attribute("value") == value))
    elif control.kind == "select":
        Select(control.elements[0]).select_by_value(value)
    elif control.kind == "file":
        control.elements[0].send_keys(str(pdf_path))
    elif control.kind == "date":
        for part, text in zip(("day", "month", "year"), value):
            control.elements[part].clear()
            control.elements[part].send_keys(text)
        if "time" in control.elements:
            control.elements["time"].clear()
            control.elements["time"].send_keys("10:00")
    else:
        control.elements[0].clear()
        control.elements[0].send_keys(value)


def control_for_anchor(anchor: str, controls: dict[str, Control]) -> str | None:
    for name in (anchor, re.sub(r"-(day|month|year|time)$", "", anchor), re.sub(r"-[^-]+$", "", anchor)):
        if name in controls:
            return name
    return None


def entry_count(driver) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, "h2.entry-heading"))


def exercise_add_another(driver) -> None:
    """Add an entry, remove it again, add it again: every step redraws the page (axe runs on each)."""
    before = entry_count(driver)
    click_and_load(driver, driver.find_element(By.ID, "add-entry"))
    assert entry_count(driver) == before + 1, "add another did not add an entry"
    click_and_load(driver, driver.find_element(By.ID, f"remove-{before + 1}"))
    assert entry_count(driver) == before, "remove did not remove the entry"
    click_and_load(driver, driver.find_element(By.ID, "add-entry"))
    assert entry_count(driver) == before + 1


def complete_page(driver, definition, *, draft, page, branches, alternate, pdf_path) -> tuple[int, set[str]]:
    """Fills and submits one page until it is accepted; returns (files uploaded, control names filled)."""
    if alternate and driver.find_elements(By.ID, "add-entry"):
        exercise_add_another(driver)
    tried: dict[str, int] = {}
    history = []
    for round_no in range(1, MAX_ROUNDS + 1):
        filled: dict[str, Control] = {}
        # Conditional questions appear as answers are given: fill until nothing new shows up.
        for _ in range(4):
            controls = page_controls(driver, definition, page)
            new = [c for c in controls.values() if c.name not in filled and c.candidates]
            if not new:
                break
            for control in new:
                wanted = branches.get((page, re.sub(r"\[\d+\]$", "", control.name))) if alternate else None
                if wanted is not None and wanted in control.candidates and control.name not in tried:
                    value = wanted
                else:
                    value = control.candidates[min(tried.get(control.name, 0), len(control.candidates) - 1)]
                fill(driver, control, value, pdf_path)
                filled[control.name] = control
        uploads = sum(c.kind == "file" for c in filled.values())
        click_and_load(driver, driver.find_element(By.ID, "continue"))
        summary = error_summary(driver)
        if summary is None:
            return uploads, set(filled)
        anchors = summary[0]
        assert path_of(driver) == f"/de/antrag/{draft}/{page}", f"error summary on {driver.current_url}"
        assert driver.find_elements(By.CSS_SELECTOR, ".field-error, .error-summary"), "errors without messages"
        history.append(f"round {round_no}: errors {anchors}: {body_text(driver)[:600]!r}")
        controls = page_controls(driver, definition, page)
        for anchor in dict.fromkeys(anchors):
            name = control_for_anchor(anchor, controls)
            assert name is not None, f"page {page}: error links to #{anchor}, no such control\n" + "\n".join(history)
            tried[name] = tried.get(name, 0) + 1
            assert tried[name] < len(controls[name].candidates), (
                f"page {page}: no further candidate for {name} ({controls[name].candidates})\n" + "\n".join(history))
    raise AssertionError(f"page {page} of {definition['id']} still refused:\n" + "\n".join(history))


@pytest.mark.parametrize("alternate", [False, True], ids=["first-answers", "branches"])
@pytest.mark.parametrize("assistant_id", sorted(WALKS))
def test_library_service_end_to_end(server, driver, api_key, mail_sink, tmp_path, assistant_id, alternate):
    walk = WALKS[assistant_id]
    leika = walk["leikaKey"]
    definition = definition_of(assistant_id)
    branches = {(b["page"], b["field"]): b["value"] for b in walk["branches"]}
    if alternate and not branches and not any(p.get("repeat") for p in definition["pages"]):
        pytest.skip("no alternative branch listed")
    pdf = minimal_pdf()
    pdf_path = tmp_path / "nachweis.pdf"
    pdf_path.write_bytes(pdf)
    driver.delete_all_cookies()

    # Found under its Lebenslage, marked as online, with the assistant's title.
    open_page(driver, f"{server}/de/lebenslagen/{lebenslage_of(leika)}")
    links = [a for a in driver.find_elements(By.CSS_SELECTOR, "#online-services a.service-link")
             if (a.get_dom_attribute("href") or "").endswith(f"/leistungen/{leika}")]
    assert len(links) == 1, f"Lebenslage page lists {leika} {len(links)} times"
    assert links[0].text.strip() == definition["title"]["de"]
    assert links[0].find_elements(By.XPATH, "following-sibling::span[contains(@class, 'tag')]"), "not marked as online"
    click_and_load(driver, links[0])
    for fact in ("legalBasis", "processingTime"):
        assert definition["information"][fact]["de"][:40] in body_text(driver), f"service page lacks {fact}"
    start = driver.find_elements(By.ID, "start")
    assert start, f"service page has no start button:\n{body_text(driver)[:800]}"
    click_and_load(driver, start[0])
    if "/konto/" in path_of(driver):
        # The authority needs an account or a proven identity for this service (demo-offerings.json).
        meet_trust_requirement(driver, server, mail_sink)
        click_and_load(driver, driver.find_element(By.ID, "start"))
    draft, page = wait_path(driver, r"/de/antrag/([^/]+)/([^/]+)").groups()
    assert page == definition["pages"][0]["id"]

    visited, uploads, answered = [], 0, set()
    while page != "pruefen":
        assert len(visited) < MAX_PAGES and page not in visited, f"walk loops or is too long: {visited + [page]}"
        visited.append(page)
        files, names = complete_page(driver, definition, draft=draft, page=page, branches=branches,
                                     alternate=alternate, pdf_path=pdf_path)
        uploads += files
        answered |= {(page, re.sub(r"\[\d+\]$", "", n)) for n in names}
        match = re.fullmatch(rf"/de/antrag/{re.escape(draft)}/([^/]+)", path_of(driver))
        assert match, f"after page {page}: {driver.current_url}\n{body_text(driver)[:1200]}"
        page = match.group(1)

    if alternate:
        missed = [key for key in branches if key[0] in {p["id"] for p in definition["pages"]} and key not in answered]
        assert not missed, f"branch answers never asked: {missed} (visited {visited})"

    fee_text = driver.find_element(By.ID, "fee").text
    click_and_load(driver, driver.find_element(By.ID, "submit"))
    application_id = wait_path(driver, r"/de/vorgang/([^/]+)/bestaetigung").group(1)
    case_number = driver.find_element(By.ID, "case-number").text.strip()

    api = requests.Session()
    api.headers.update({"Authorization": f"Bearer {api_key}", "Accept": "application/json"})
    app = api.get(f"{server}/api/v1/applications/{application_id}", timeout=TIMEOUT)
    assert app.status_code == 200, app.text[:500]
    app = app.json()
    assert app["caseNumber"] == case_number
    assert app["service"]["assistantId"] == assistant_id
    cents = app["fee"]["amountCents"]
    euros = f"{cents // 100},{cents % 100:02d}"
    assert euros in fee_text.replace("\xa0", " "), f"check page fee {fee_text!r}, API {cents} cents"
    assert set(app["data"]) <= set(visited), f"data pages {sorted(app['data'])} not all visited {visited}"

    schema = requests.get(f"{server}/api/schemas/{assistant_id}/{definition['version']}.json", timeout=TIMEOUT).json()
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert_valid(validator, app["data"], f"{assistant_id} ({'branches' if alternate else 'first answers'})")
    assert len(app["attachments"]) == uploads


@pytest.mark.parametrize("assistant_id", sorted(WALKS))
def test_library_service_in_english(server, driver, mail_sink, assistant_id):
    """The service page and the first question page speak English (titles, labels, hints), with axe on both."""
    definition = definition_of(assistant_id)
    driver.delete_all_cookies()
    open_page(driver, f"{server}/en/leistungen/{WALKS[assistant_id]['leikaKey']}")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    text = body_text(driver)
    assert definition["title"]["en"] in text, f"English title missing on the service page of {assistant_id}"
    assert definition["information"]["processingTime"]["en"][:40] in text
    click_and_load(driver, driver.find_element(By.ID, "start"))
    if "/konto/" in path_of(driver):
        meet_trust_requirement(driver, server, mail_sink)
        click_and_load(driver, driver.find_element(By.ID, "start"))
    wait_path(driver, r"/en/antrag/([^/]+)/([^/]+)")
    text = body_text(driver)
    first = definition["pages"][0]
    for field in first["fields"]:
        if field.get("showWhen") or field.get("display") == "hidden":
            continue
        assert field["label"]["en"] in text, f"{assistant_id}: English label of {field['id']} missing"
