"""Browser + API tests of the two services whose assistants were imported from FIM XDatenfelder schemas:
Beschäftigungserlaubnis bei Aufenthaltsgestattung (LeiKa 99010012001001) and Aufenthaltserlaubnis aus
humanitären Gründen (LeiKa 99010001001012).

The assistant is walked *generically*, without knowing its pages: on every page all form controls are
filled with plausible values (radios: first option, selects: first real option, text by field id or
input mode, files: a small PDF), the page is submitted, and if it comes back with an error summary the
fields it links to get the next candidate value (at most 5 rounds per page). The first page's Ja/Nein
question "Abfrage Gesetzlicher Vertreter" is answered once with Ja and once with Nein, so both branches
are covered. axe-core runs on every page, error pages included.

After submitting, the application is read through the specialist-system API (`api_key` fixture from
e2e/conftest.py) and its `data` validated against the assistant version's JSON Schema (2020-12) with
Python's jsonschema (with format checking); every entry of `fields` must carry a FIM data-field id (F…).
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from jsonschema import Draft202012Validator
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import REPO_ROOT
from test_api_contract import assert_valid, media_type
from test_birth_certificate import body_text, click_and_load, minimal_pdf, open_page, path_of, wait_path

ASSISTANTS_DIR = REPO_ROOT / "Sources" / "AmtswegWeb" / "Resources" / "assistants"
SERVICES = {
    "99010012001001": "beschaeftigungserlaubnis-aufenthaltsgestattung",
    "99010001001012": "aufenthaltserlaubnis-humanitaer",
}
LEGAL_REPRESENTATIVE_QUESTION = "F00000003327"  # "Abfrage Gesetzlicher Vertreter" (boolean)
MAX_PAGES = 40
MAX_ROUNDS = 5
TIMEOUT = 10

# Candidate values, tried in order when the server refuses the previous one.
NUMBERS = ["1", "12", "1990", "2000"]
TEXTS = ["Muster", "Hauptstraße", "1"]
TEXTAREAS = ["Beschreibung", "Muster"]
BY_FIM_ID = {
    "F60000000246": ["01662"],                 # Postleitzahl
    "F60000000242": ["erika@example.org"],     # E-Mail
    "F60000000240": ["0351 123456"],           # Telefon
    "F60000000241": ["0351 123456"],           # Mobil/Fax
}


def assistant_definition(leika: str) -> dict:
    """The current (highest) published version of the service's assistant."""
    def version_key(definition):
        return tuple(int(part) for part in definition["version"].split("."))
    versions = [json.loads(path.read_text(encoding="utf-8")) for path in ASSISTANTS_DIR.glob(f"{SERVICES[leika]}*.json")]
    versions = [d for d in versions if d["id"] == SERVICES[leika]]
    return max(versions, key=version_key)


# --- generic page filling -------------------------------------------------------------------

class Control:
    """One named form control (a radio group counts as one) with its candidate values."""

    def __init__(self, name: str, kind: str, candidates: list[str], elements: list):
        self.name, self.kind, self.candidates, self.elements = name, kind, candidates, elements


def text_candidates(name: str, element) -> list[str]:
    for fim_id, values in BY_FIM_ID.items():
        if name.endswith(fim_id):
            return values
    if (element.get_attribute("type") or "").lower() == "email":
        return ["erika@example.org"]
    if (element.get_attribute("inputmode") or "").lower() == "numeric":
        return NUMBERS
    if element.tag_name.lower() == "textarea":
        return TEXTAREAS
    return TEXTS


def page_controls(driver) -> dict[str, Control]:
    """The controls of the assistant form (the one with button#continue), by name, in page order."""
    form = driver.find_element(By.ID, "continue").find_element(By.XPATH, "ancestor::form")
    controls: dict[str, Control] = {}
    for element in form.find_elements(By.CSS_SELECTOR, "input, select, textarea"):
        name = element.get_attribute("name") or ""
        tag = element.tag_name.lower()
        kind = (element.get_attribute("type") or "text").lower() if tag == "input" else tag
        if not name or name.startswith("_") or kind in ("hidden", "submit", "button", "reset", "image"):
            continue
        if kind == "radio":  # may be visually replaced by its label; handled when choosing
            control = controls.setdefault(name, Control(name, "radio", [], []))
            control.candidates.append(element.get_attribute("value"))
            control.elements.append(element)
            continue
        if not element.is_displayed():
            continue
        if kind == "select":
            values = [o.get_attribute("value") for o in Select(element).options if o.get_attribute("value")]
            controls[name] = Control(name, "select", values, [element])
        elif kind == "file":
            controls[name] = Control(name, "file", ["nachweis.pdf"], [element])
        elif kind == "checkbox":
            controls[name] = Control(name, "checkbox", [element.get_attribute("value") or "on"], [element])
        else:
            controls[name] = Control(name, "text", text_candidates(name, element), [element])
    return controls


def choose_radio(driver, element) -> None:
    if element.is_displayed():
        element.click()
    else:
        driver.find_element(By.CSS_SELECTOR, f'label[for="{element.get_attribute("id")}"]').click()
    assert element.is_selected(), f"radio {element.get_attribute('name')}={element.get_attribute('value')} not selected"


def fill_control(driver, control: Control, value: str, pdf_path) -> None:
    if control.kind == "radio":
        choose_radio(driver, next(e for e in control.elements if e.get_attribute("value") == value))
    elif control.kind == "select":
        Select(control.elements[0]).select_by_value(value)
    elif control.kind == "file":
        control.elements[0].send_keys(str(pdf_path))
    elif control.kind == "checkbox":
        if not control.elements[0].is_selected():
            control.elements[0].click()
    else:
        element = control.elements[0]
        element.clear()
        element.send_keys(value)


def error_summary(driver) -> tuple[list[str], str] | None:
    """(anchors, text) of #error-summary, or None if the page has none."""
    summaries = driver.find_elements(By.ID, "error-summary")
    if not summaries:
        return None
    links = summaries[0].find_elements(By.CSS_SELECTOR, "a[href^='#']")
    anchors = [a.get_dom_attribute("href")[1:] for a in links]
    return anchors, summaries[0].text


def names_for_anchor(driver, anchor: str) -> set[str]:
    """The control name(s) an error-summary link points to (input by id, or controls inside a group)."""
    found = driver.find_elements(By.ID, anchor)
    assert found, f"error summary on {driver.current_url} links to #{anchor}, but no element has that id"
    element = found[0]
    name = element.get_attribute("name")
    if name:
        return {name}
    return {e.get_attribute("name") for e in element.find_elements(By.CSS_SELECTOR, "[name]")}


def complete_page(driver, *, draft: str, page: str, first: bool, represent: str, pdf_path) -> int:
    """Fills and submits one assistant page until it is accepted; returns the number of files uploaded."""
    tried: dict[str, int] = {}  # control name → index of the candidate in use
    history: list[str] = []
    for round_no in range(1, MAX_ROUNDS + 1):
        controls = page_controls(driver)
        values_used: dict[str, str] = {}
        for control in controls.values():
            if not control.candidates:
                continue
            if first and control.kind == "radio" and set(control.candidates) == {"true", "false"}:
                value = represent
            else:
                value = control.candidates[min(tried.get(control.name, 0), len(control.candidates) - 1)]
            fill_control(driver, control, value, pdf_path)
            values_used[control.name] = value
        if first:
            assert any(c.kind == "radio" and set(c.candidates) == {"true", "false"} for c in controls.values()), (
                f"first page {page} has no Ja/Nein question (expected {LEGAL_REPRESENTATIVE_QUESTION})")
        uploads = sum(c.kind == "file" for c in controls.values())

        click_and_load(driver, driver.find_element(By.ID, "continue"))  # runs axe, error page included
        summary = error_summary(driver)
        if summary is None:
            return uploads

        anchors, text = summary
        assert path_of(driver) == f"/de/antrag/{draft}/{page}", (
            f"error summary shown on {driver.current_url}, expected page {page}")
        assert driver.find_elements(By.CSS_SELECTOR, ".field-error"), (
            f"page {page}: error summary without inline .field-error")
        history.append(f"round {round_no}: sent {values_used}\n  errors: {anchors}\n  {text!r}")
        exhausted = []
        for anchor in anchors:
            for name in names_for_anchor(driver, anchor):
                control = controls.get(name)
                index = tried.get(name, 0) + 1
                if control is None or index >= len(control.candidates):
                    exhausted.append(f"{name} (tried {control.candidates if control else '?'})")
                tried[name] = index
        assert not exhausted, (
            f"page {page} of draft {draft} cannot be completed: no further candidate value for "
            f"{exhausted}\n" + "\n".join(history))
    raise AssertionError(f"page {page} of draft {draft} still refused after {MAX_ROUNDS} rounds:\n"
                         + "\n".join(history))


# --- the test -------------------------------------------------------------------------------

@pytest.mark.parametrize("represent", ["true", "false"], ids=["vertreten", "selbst"])
@pytest.mark.parametrize("leika", sorted(SERVICES))
def test_imported_service_end_to_end(server, driver, api_key, tmp_path, leika, represent):
    definition = assistant_definition(leika)
    pdf = minimal_pdf()
    pdf_path = tmp_path / "nachweis.pdf"
    pdf_path.write_bytes(pdf)
    driver.delete_all_cookies()

    # Service page → start.
    open_page(driver, f"{server}/de/leistungen/{leika}")
    start = driver.find_elements(By.ID, "start")
    assert start, f"service page {driver.current_url} has no button#start:\n{body_text(driver)[:800]}"
    click_and_load(driver, start[0])
    draft, page = wait_path(driver, r"/de/antrag/([^/]+)/([^/]+)").groups()
    assert page == definition["pages"][0]["id"], f"start led to page {page}, expected the first page"

    # The assistant, page by page, until the check page.
    visited: list[str] = []
    uploads = 0
    while page != "pruefen":
        assert len(visited) < MAX_PAGES, f"more than {MAX_PAGES} assistant pages: {visited}"
        assert page not in visited, f"page {page} reached twice: {visited + [page]}"
        visited.append(page)
        uploads += complete_page(driver, draft=draft, page=page, first=len(visited) == 1,
                                 represent=represent, pdf_path=pdf_path)
        match = re.fullmatch(rf"/de/antrag/{re.escape(draft)}/([^/]+)", path_of(driver))
        assert match, f"after page {page} at {driver.current_url}, expected an assistant page:\n" \
                      f"{body_text(driver)[:1500]}"
        page = match.group(1)

    # Both branches of the legal-representative question were really taken.
    representative_pages = [p["id"] for p in definition["pages"]
                            if (p.get("showIf") or {}).get("field") == LEGAL_REPRESENTATIVE_QUESTION]
    assert representative_pages, "no page depends directly on the legal-representative question"
    shown = [p for p in representative_pages if p in visited]
    if represent == "true":
        assert shown == representative_pages, f"answered Ja, but {representative_pages} not all shown: {visited}"
    else:
        assert not shown, f"answered Nein, but {shown} shown: {visited}"

    # Check answers → submit → confirmation.
    assert driver.find_elements(By.CSS_SELECTOR, "a.change-link"), "check page has no change links"
    click_and_load(driver, driver.find_element(By.ID, "submit"))
    application_id = wait_path(driver, r"/de/vorgang/([^/]+)/bestaetigung").group(1)
    case_number = driver.find_element(By.ID, "case-number").text.strip()
    assert case_number, "confirmation page has an empty #case-number"

    # The specialist-system API has it.
    api = requests.Session()
    api.headers.update({"Authorization": f"Bearer {api_key}", "Accept": "application/json"})
    listed = api.get(f"{server}/api/v1/applications", params={"limit": "200"}, timeout=TIMEOUT)
    assert listed.status_code == 200, f"GET /api/v1/applications answered {listed.status_code}: {listed.text[:800]}"
    mine = [item for item in listed.json()["items"] if item["caseNumber"] == case_number]
    assert len(mine) == 1, f"case {case_number} listed {len(mine)} times"
    app = mine[0]
    assert app["id"] == application_id
    assert app["service"] == {"leikaKey": leika, "assistantId": definition["id"],
                              "assistantVersion": definition["version"]}, app["service"]
    assert app["status"] == "received"

    data = app["data"]
    assert set(data) == set(visited), f"data pages {sorted(data)} != visited pages {sorted(visited)}"
    answer = data[visited[0]].get(LEGAL_REPRESENTATIVE_QUESTION)
    assert answer in (represent == "true", represent), f"{LEGAL_REPRESENTATIVE_QUESTION} stored as {answer!r}"

    # data validates against the assistant version's JSON Schema; the schema really constrains.
    schema_response = requests.get(
        f"{server}/api/schemas/{definition['id']}/{definition['version']}.json", timeout=TIMEOUT)
    assert schema_response.status_code == 200, f"schema answered {schema_response.status_code}"
    assert media_type(schema_response) == "application/schema+json", schema_response.headers.get("Content-Type")
    schema = schema_response.json()
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert_valid(validator, data, f"data of {case_number} ({leika}, represent={represent})")
    broken = {k: v for k, v in data.items() if k != visited[0]}
    assert not validator.is_valid(broken), f"data without the first page {visited[0]} must be refused"

    # Every answer line carries a FIM data-field id.
    assert app["fields"], "application has no fields"
    not_fim = [f"{f['group']}.{f['id']}: {f['fimId']!r}" for f in app["fields"] if not (f["fimId"] or "").startswith("F")]
    assert not not_fim, "fields without a FIM data-field id (F…):\n" + "\n".join(not_fim)

    # The uploaded PDFs are attachments, byte for byte.
    assert len(app["attachments"]) == uploads, (
        f"{uploads} files uploaded, {len(app['attachments'])} attachments: {app['attachments']}")
    for attachment in app["attachments"]:
        content = api.get(f"{server}/api/v1/applications/{application_id}/attachments/{attachment['id']}",
                          timeout=TIMEOUT)
        assert content.status_code == 200, f"attachment {attachment['id']} answered {content.status_code}"
        assert content.content == pdf, f"attachment {attachment['field']} differs from the uploaded PDF"
