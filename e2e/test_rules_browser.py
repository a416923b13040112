"""The rule language in the browser: amtsweg.js must agree with the server on the shared case table
(e2e/expression-cases.json, also run by ExpressionCaseTableTests), and a conditional question must appear and
disappear as the citizen answers, without a round trip — while without JavaScript the server's HTML shows it.
"""

from __future__ import annotations

import json
import subprocess

import requests
from selenium.webdriver.common.by import By

from conftest import REPO_ROOT, amtsweg_bin
from test_birth_certificate import click_and_load, open_page, wait_path

CASES = REPO_ROOT / "e2e" / "expression-cases.json"


def test_browser_and_server_agree_on_the_case_table(server, driver):
    table = json.loads(CASES.read_text(encoding="utf-8"))
    run = subprocess.run([str(amtsweg_bin()), "rules-table", str(CASES)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    assert len(results) == len(table["cases"]) >= 40

    open_page(driver, f"{server}/de")  # any page loads /assets/amtsweg.js
    driver.execute_script("return 1")
    disagreements = []
    for case, result in zip(table["cases"], results):
        assert result["expression"] == case["expression"]
        assert result["server"] == case["expected"], f"server: {case['expression']} on {case['values']}"
        browser = driver.execute_script("return window.amtsweg.evaluate(arguments[0], arguments[1]);",
                                        result["tree"], case["values"])
        if browser != case["expected"]:
            disagreements.append(f"{case['expression']} on {case['values']}: browser {browser}, expected {case['expected']}")
    assert not disagreements, "\n".join(disagreements)


def test_conditional_question_shows_and_hides_without_round_trip(server, driver):
    # Bewohnerparkausweis, first page: the old permit number is asked only for a renewal.
    driver.delete_all_cookies()
    open_page(driver, f"{server}/de/leistungen/99108001001000")
    click_and_load(driver, driver.find_element(By.ID, "start"))
    draft, page = wait_path(driver, r"/de/antrag/([^/]+)/([^/]+)").groups()
    assert page == "application"
    block = driver.find_element(By.ID, "permit_number").find_element(By.XPATH, "ancestor::div[@data-when]")
    assert not block.is_displayed(), "permit number shown before renewal was chosen"

    html = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, 'label[for="application_type-renewal"]').click()
    assert block.is_displayed(), "choosing renewal did not show the permit number"
    assert html == driver.find_element(By.TAG_NAME, "html"), "the page was reloaded"
    driver.find_element(By.CSS_SELECTOR, 'label[for="application_type-new"]').click()
    assert not block.is_displayed(), "choosing a new permit did not hide the permit number"

    # Without JavaScript the question is in the HTML, not hidden: the server decides after "continue".
    session = requests.Session()
    for cookie in driver.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    page_html = session.get(driver.current_url, timeout=10).text
    assert 'id="permit_number"' in page_html and "data-when=" in page_html
    assert "hidden" not in page_html.split('data-when=', 1)[1].split(">", 1)[0]

    # A renewal without the permit number is refused by the server; a new permit ignores a stale number.
    driver.find_element(By.CSS_SELECTOR, 'label[for="application_type-renewal"]').click()
    click_and_load(driver, driver.find_element(By.ID, "continue"))
    assert driver.find_elements(By.ID, "error-summary"), "renewal without permit number accepted"
    assert any(a.get_dom_attribute("href") == "#permit_number"
               for a in driver.find_elements(By.CSS_SELECTOR, "#error-summary a"))
