"""Pages not on the main flow: Lebenslage lists, a service not online yet, the 404 page, English start and search,
the back-office login error. Each must pass axe and say what it should."""
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import check_axe


def load(driver, url):
    driver.get(url)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def test_lebenslage_offline_service_and_not_found(server, driver):
    driver.delete_all_cookies()
    load(driver, f"{server}/de/")
    check_axe(driver)
    lage = driver.find_element(By.CSS_SELECTOR, ".themes a")
    name = lage.text
    lage.click()
    WebDriverWait(driver, 20).until(lambda d: "/de/lebenslagen/" in d.current_url)
    assert driver.find_element(By.TAG_NAME, "h1").text == name
    check_axe(driver)

    # Querschnitt Bürger (id 37) holds the birth certificate, marked as online.
    load(driver, f"{server}/de/lebenslagen/37")
    assert driver.find_elements(By.CSS_SELECTOR, ".tag"), "online services are marked"
    check_axe(driver)

    # A catalogue service no authority here offers online.
    load(driver, f"{server}/de/leistungen/99027002012003")
    assert "noch nicht online" in driver.find_element(By.TAG_NAME, "main").text
    check_axe(driver)

    load(driver, f"{server}/en/no-such-page")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Page not found"
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    check_axe(driver)


def test_english_start_search_and_staff_login_error(server, driver):
    driver.delete_all_cookies()
    load(driver, f"{server}/en/")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    check_axe(driver)
    load(driver, f"{server}/en/suche?q=birth+Geburtsurkunde")
    check_axe(driver)
    load(driver, f"{server}/en/suche?q=")
    assert "Enter a search term" in driver.find_element(By.TAG_NAME, "main").text
    check_axe(driver)

    load(driver, f"{server}/en/verwaltung/anmelden")
    check_axe(driver)
    driver.find_element(By.ID, "username").send_keys("nobody@example.org")
    driver.find_element(By.ID, "password").send_keys("wrong")
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "error-summary"))
    assert "The username or password is wrong" in driver.find_element(By.ID, "error-summary").text
    check_axe(driver)
