"""Uploads are scanned by clamd: Debian's clamav-testfiles clam.pdf (a real PDF, so it passes the type check) is
refused with a clear, localized message and nothing is stored; a clean PDF is accepted. axe runs on the error page."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from clamd import TEST_PDF
from test_birth_certificate import choose, continue_to, field, fill, minimal_pdf, path_of, start_application, click_and_load


def test_infected_upload_is_refused_and_a_clean_one_accepted(server, driver, tmp_path):
    driver.delete_all_cookies()
    draft = start_application(driver, server)
    choose(driver, "relation", "sibling")
    continue_to(driver, draft, "interest")

    infected = tmp_path / "nachweis.pdf"
    infected.write_bytes(TEST_PDF.read_bytes())
    fill(driver, interest_reason="Ich benötige die Urkunde für die Nachlassregelung unserer Mutter.")
    field(driver, "interest_proof").send_keys(str(infected))
    click_and_load(driver, driver.find_element(By.ID, "continue"))
    assert path_of(driver) == f"/de/antrag/{draft}/interest", "an infected upload was accepted"
    summary = driver.find_element(By.ID, "error-summary").text
    assert "Schadsoftware" in summary and "nicht gespeichert" in summary, summary
    assert not driver.find_elements(By.CSS_SELECTOR, ".existing-file"), "the infected file was kept"

    clean = tmp_path / "sauber.pdf"
    clean.write_bytes(minimal_pdf())
    field(driver, "interest_proof").send_keys(str(clean))
    continue_to(driver, draft, "applicant")
