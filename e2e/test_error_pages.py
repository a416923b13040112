"""Error states of the status lookup and the back office, each axe-checked: wrong access code, inbox filter,
rejecting without a reason."""
import re

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import check_axe, staff_login
from test_api_contract import submit_birth_certificate


def load(driver, url):
    driver.get(url)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def submit_and_wait(driver, button_id):
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, button_id).click()
    WebDriverWait(driver, 20).until(lambda d: _stale(old))
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _stale(element):
    try:
        element.is_enabled()
        return False
    except Exception:
        return True


def test_status_lookup_with_wrong_code(server, driver):
    application = submit_birth_certificate(server)
    driver.delete_all_cookies()
    load(driver, f"{server}/de/status")
    driver.find_element(By.ID, "case_number").send_keys(application["caseNumber"])
    driver.find_element(By.ID, "access_code").send_keys("AAAA-AAAA")
    submit_and_wait(driver, "check")
    summary = driver.find_element(By.ID, "error-summary")
    assert "passen nicht zusammen" in summary.text
    assert summary.find_element(By.TAG_NAME, "a").get_attribute("href").endswith("#case_number")
    check_axe(driver)


def test_back_office_filter_and_reject_without_reason(server, driver):
    application = submit_birth_certificate(server)
    driver.delete_all_cookies()
    staff_login(driver, server)
    Select(driver.find_element(By.ID, "status-filter")).select_by_value("received")
    driver.find_element(By.CSS_SELECTOR, "form.filter button").click()
    WebDriverWait(driver, 20).until(lambda d: "status=received" in d.current_url)
    check_axe(driver)
    link = next(a for a in driver.find_elements(By.CSS_SELECTOR, "a.case-link") if a.text.strip() == application["caseNumber"])
    link.click()
    WebDriverWait(driver, 20).until(lambda d: re.search(r"/de/verwaltung/vorgang/[^/]+$", d.current_url))
    Select(driver.find_element(By.ID, "status")).select_by_value("rejected")
    submit_and_wait(driver, "transition")
    summary = driver.find_element(By.ID, "error-summary")
    assert "Begründung" in summary.text
    check_axe(driver)
