"""Appointment requests end to end: a parent asks for the Schuleingangsuntersuchung with two preferred appointments,
the case worker confirms the second one in the back office, and the parent sees exactly that appointment in the
status check. axe runs on every page."""

from __future__ import annotations

import re

from selenium.webdriver.common.by import By

from conftest import staff_login
from test_birth_certificate import click_and_load, minimal_pdf, open_page, path_of, wait_path
from test_service_library import complete_page, definition_of, exercise_add_another

SERVICE = "99088028058000"


def test_parent_requests_and_case_worker_confirms_an_appointment(server, driver, tmp_path):
    definition = definition_of("schuleingangsuntersuchung")
    pdf_path = tmp_path / "nachweis.pdf"
    pdf_path.write_bytes(minimal_pdf())
    driver.delete_all_cookies()
    open_page(driver, f"{server}/de/leistungen/{SERVICE}")
    click_and_load(driver, driver.find_element(By.ID, "start"))
    draft, page = wait_path(driver, r"/de/antrag/([^/]+)/([^/]+)").groups()
    visited = []
    while page != "pruefen":
        assert page not in visited and len(visited) < 20, visited
        visited.append(page)
        # On the appointment page: two entries (add another), the walker fills both with valid future dates.
        complete_page(driver, definition, draft=draft, page=page, branches={}, alternate=page == "wunschtermine",
                      pdf_path=pdf_path)
        page = re.fullmatch(rf"/de/antrag/{re.escape(draft)}/([^/]+)", path_of(driver)).group(1)
    assert "wunschtermine" in visited
    slots = [row.text for row in driver.find_elements(By.CSS_SELECTOR, ".summary-row dt") if "Wunschtermin 2" in row.text]
    assert slots, "the check page does not list the second preferred appointment"
    click_and_load(driver, driver.find_element(By.ID, "submit"))
    wait_path(driver, r"/de/vorgang/([^/]+)/bestaetigung")
    case_number = driver.find_element(By.ID, "case-number").text.strip()
    access_code = driver.find_element(By.ID, "access-code").text.strip()

    # Case worker: the two preferred appointments are offered; confirm the second.
    driver.delete_all_cookies()
    staff_login(driver, server)
    link = next(a for a in driver.find_elements(By.CSS_SELECTOR, "a.case-link") if a.text.strip() == case_number)
    click_and_load(driver, link)
    labels = [label.text for label in driver.find_elements(By.CSS_SELECTOR, "label[for^='slot-']")]
    assert len(labels) == 2, labels
    click_and_load(driver, driver.find_element(By.ID, "confirm-appointment"))  # nothing chosen: error
    assert "Wunschtermine" in driver.find_element(By.ID, "error-summary").text
    driver.find_element(By.CSS_SELECTOR, "label[for='slot-2']").click()
    click_and_load(driver, driver.find_element(By.ID, "confirm-appointment"))
    confirmed = driver.find_element(By.ID, "confirmed-appointment").text
    assert confirmed and confirmed in labels[1], (confirmed, labels)
    assert driver.find_element(By.ID, "current-status").text == "In Bearbeitung"

    # Citizen: the status check shows the confirmed appointment.
    driver.delete_all_cookies()
    open_page(driver, f"{server}/de/status")
    driver.find_element(By.ID, "case_number").send_keys(case_number)
    driver.find_element(By.ID, "access_code").send_keys(access_code)
    click_and_load(driver, driver.find_element(By.ID, "check"))
    assert confirmed in driver.find_element(By.ID, "appointment").text
