"""Delivery in the browser: a Fachverfahren's webhook refuses an application (dead letter); the citizen's status page
says it is still being transmitted; the case worker finds it under "Zustellprobleme", sends it again once the
receiver works, and sees it handed over. Every page passes axe, in German and English."""
from __future__ import annotations

import os
import re
import subprocess
import time

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import REPO_ROOT, amtsweg_bin, check_axe, staff_login
from webhook_receiver import WebhookReceiver

ARS = "146270140140"
LEIKA = "99027002012000"  # Geburtsurkunde; the route is removed again at the end
SECRET = "browser-test-webhook-secret-0123456789abcdef"


def cli(server_db_url: str, *args: str) -> str:
    env = dict(os.environ, AMTSWEG_DATABASE_URL=server_db_url, AMTSWEG_WEBHOOK_SECRET=SECRET)
    result = subprocess.run([str(amtsweg_bin()), *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_dead_letter_resend_and_citizen_status(server, server_db_url, driver, tmp_path):
    receiver = WebhookReceiver(SECRET, status=410).start()
    try:
        assert receiver.url in cli(server_db_url, "route", "--ars", ARS, "--leika", LEIKA, "--kind", "api", "--webhook", receiver.url)
        seeds = tmp_path / "seed"
        cli(server_db_url, "bench-seed", "--drafts", "1", "--out", str(seeds))
        token, csrf, draft = seeds.read_text().split()[:3]
        submitted = requests.post(f"{server}/de/antrag/{draft}/absenden", data={"_csrf": csrf}, cookies={"amtsweg_session": token},
                                  allow_redirects=False, timeout=10)
        assert submitted.status_code == 303
        application_id = re.search(r"/vorgang/([0-9a-f-]{36})/", submitted.headers["Location"]).group(1)
        deadline = time.monotonic() + 30
        while not receiver.records() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert receiver.records() and receiver.records()[0]["valid"], "the webhook was not called with a valid signature"

        # The citizen: still being transmitted (the authority has to act, not the citizen).
        driver.get(f"{server}/de/")
        driver.add_cookie({"name": "amtsweg_session", "value": token, "path": "/"})
        driver.get(f"{server}/de/status/{application_id}")
        assert "Wird an die Behörde übermittelt" in driver.find_element(By.ID, "delivery").text
        check_axe(driver)
        driver.get(f"{server}/en/status/{application_id}")
        assert "Being transmitted to the authority" in driver.find_element(By.ID, "delivery").text
        check_axe(driver)
        driver.delete_all_cookies()

        # The case worker: problems page, then send again once the receiver accepts.
        staff_login(driver, server)
        link = driver.find_element(By.ID, "delivery-problems-link")
        assert re.search(r"Zustellprobleme \([1-9]\d*\)", link.text)
        check_axe(driver)
        link.click()
        WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/verwaltung/zustellungen"))
        row = next(r for r in driver.find_elements(By.CSS_SELECTOR, "#deliveries tr.delivery")
                   if application_id in r.find_element(By.CSS_SELECTOR, "a.case-link").get_attribute("href"))
        assert "Fehlgeschlagen, Versand eingestellt" in row.text and "HTTP 410" in row.text
        check_axe(driver)
        receiver.status = None
        row.find_element(By.CSS_SELECTOR, "button.resend").click()
        WebDriverWait(driver, 20).until(lambda d: "ok=zustellung" in d.current_url)
        assert "Die Zustellung wird erneut versucht." in driver.find_element(By.ID, "success").text
        check_axe(driver)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = driver.find_element(By.CSS_SELECTOR, "#deliveries .delivery-state").text
            if state == "Übergeben, Empfangsbestätigung ausstehend":
                break
            time.sleep(0.5)
            driver.refresh()
        assert state == "Übergeben, Empfangsbestätigung ausstehend"
        history = driver.find_element(By.ID, "history").text
        assert "Zustellung fehlgeschlagen" in history and "Zustellung erneut angestoßen" in history
        assert len({r["idempotencyKey"] for r in receiver.records()}) == 1, "a re-send must keep the idempotency key"

        # English back office.
        driver.get(f"{server}/en/verwaltung/zustellungen")
        assert driver.find_element(By.TAG_NAME, "h1").text == "Delivery problems"
        check_axe(driver)
    finally:
        cli(server_db_url, "route", "--ars", ARS, "--leika", LEIKA, "--remove")
        receiver.stop()
