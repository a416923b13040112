"""Save and continue later: the saved page, resuming in a fresh browser, and an invalid link, all axe-checked."""
import re

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import check_axe

SERVICE = "99027002012000"


def load(driver, url):
    driver.get(url)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def click_and_wait(driver, element_id, path_pattern):
    old_url = driver.current_url
    driver.find_element(By.ID, element_id).click()
    WebDriverWait(driver, 20).until(lambda d: d.current_url != old_url or d.find_elements(By.CSS_SELECTOR, "#resume-link"))
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
    if path_pattern:
        assert re.search(path_pattern, driver.current_url), driver.current_url


def test_save_and_resume_in_another_browser(server, driver):
    driver.delete_all_cookies()
    load(driver, f"{server}/de/leistungen/{SERVICE}")
    click_and_wait(driver, "start", r"/relation$")
    driver.find_element(By.ID, "relation-self").click()
    click_and_wait(driver, "continue", r"/person$")
    draft_path = re.search(r"(/de/antrag/[^/]+)/person$", driver.current_url).group(1)
    driver.find_element(By.ID, "F60000000228").send_keys("Erika")
    driver.find_element(By.ID, "F60000000227").send_keys("Mustermann")
    driver.find_element(By.ID, "save").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "resume-link"))
    check_axe(driver)
    link = driver.find_element(By.ID, "resume-link").get_attribute("value")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/de/fortsetzen/[A-Za-z0-9_-]{43}", link), link

    # A fresh browser session (no cookies) continues where the citizen stopped.
    driver.delete_all_cookies()
    load(driver, link)
    assert driver.current_url.endswith(f"{draft_path}/birth"), driver.current_url
    check_axe(driver)
    load(driver, f"{server}{draft_path}/person")
    assert driver.find_element(By.ID, "F60000000228").get_attribute("value") == "Erika"
    check_axe(driver)

    # An unknown link gets a clear, accessible page.
    load(driver, f"{server}/de/fortsetzen/{'x' * 43}")
    assert "abgelaufen" in driver.find_element(By.TAG_NAME, "h1").text
    check_axe(driver)
