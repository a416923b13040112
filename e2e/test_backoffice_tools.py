"""The back office's working tools in the browser: inbox filters and paging links, assignment, internal notes (with
their error), the export link, and the authority's team page (with its errors and the one-time password). Every
page and error state passes axe, in German; the team page also in English."""
from __future__ import annotations

import os
import re
import subprocess
import uuid

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import REPO_ROOT, amtsweg_bin, check_axe, staff_login


def submit_one(server: str, server_db_url: str, tmp_path) -> str:
    """A complete Geburtsurkunde submitted over HTTP (drafts from `amtsweg bench-seed`); returns the case number."""
    seeds = tmp_path / "seed"
    env = dict(os.environ, AMTSWEG_DATABASE_URL=server_db_url)
    subprocess.run([str(amtsweg_bin()), "bench-seed", "--drafts", "1", "--out", str(seeds)], cwd=REPO_ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    token, csrf, draft = seeds.read_text().split()[:3]
    answer = requests.post(f"{server}/de/antrag/{draft}/absenden", data={"_csrf": csrf}, cookies={"amtsweg_session": token},
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    confirmation = requests.get(server + answer.headers["Location"], cookies={"amtsweg_session": token}, timeout=10).text
    return re.search(r'id="case-number"[^>]*>([^<]+)<', confirmation).group(1)


def test_inbox_filters_assignment_notes_export(server, server_db_url, driver, tmp_path):
    case_number = submit_one(server, server_db_url, tmp_path)
    staff_login(driver, server)
    check_axe(driver)
    Select(driver.find_element(By.ID, "status-filter")).select_by_value("received")
    Select(driver.find_element(By.ID, "service-filter")).select_by_value("99027002012000")
    driver.find_element(By.ID, "filter").click()
    WebDriverWait(driver, 20).until(lambda d: "status=received" in d.current_url)
    assert case_number in driver.find_element(By.ID, "inbox").text
    check_axe(driver)
    driver.get(f"{server}/de/verwaltung?von=2026-02-30")
    assert "Geben Sie ein gültiges Datum ein" in driver.find_element(By.ID, "error-summary").text
    check_axe(driver)

    driver.get(f"{server}/de/verwaltung?zustaendig=niemand")
    next(link for link in driver.find_elements(By.CSS_SELECTOR, "a.case-link") if link.text == case_number).click()
    WebDriverWait(driver, 20).until(lambda d: "/verwaltung/vorgang/" in d.current_url)
    case_url = driver.current_url
    Select(driver.find_element(By.ID, "assignee")).select_by_visible_text("Standesamt Musterstadt")
    driver.find_element(By.ID, "assign").click()
    WebDriverWait(driver, 20).until(lambda d: "ok=zuweisung" in d.current_url)
    assert "Die Zuständigkeit wurde geändert." in driver.find_element(By.ID, "success").text
    check_axe(driver)
    driver.find_element(By.ID, "add-note").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "note-error"))
    assert "Geben Sie einen Text für die Notiz ein." in driver.find_element(By.ID, "error-summary").text
    check_axe(driver)
    driver.find_element(By.ID, "note").send_keys("Register 1990 angefragt")
    driver.find_element(By.ID, "add-note").click()
    WebDriverWait(driver, 20).until(lambda d: "ok=notiz" in d.current_url)
    assert "Register 1990 angefragt" in driver.find_element(By.ID, "notes").text
    assert "Interne Notiz hinzugefügt" in driver.find_element(By.ID, "history").text
    check_axe(driver)
    export = driver.find_element(By.ID, "export").get_attribute("href")
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    archive = requests.get(export, cookies=cookies, timeout=10)
    assert archive.status_code == 200 and archive.content.startswith(b"PK") and b"vorgang.json" in archive.content
    driver.get(f"{server}/de/verwaltung?zustaendig=ich")
    assert case_number in driver.find_element(By.ID, "inbox").text
    driver.get(case_url)


def test_team_page(server, driver):
    staff_login(driver, server)
    driver.find_element(By.ID, "team-link").click()
    WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/verwaltung/team"))
    assert "standesamt@musterstadt.example" in driver.find_element(By.ID, "team").text
    check_axe(driver)
    driver.find_element(By.ID, "name").send_keys("Kim Beispiel")
    driver.find_element(By.ID, "username").send_keys("kein-name")
    driver.find_element(By.ID, "add-colleague").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "error-summary"))
    assert "gültige E-Mail-Adresse" in driver.find_element(By.ID, "error-summary").text
    check_axe(driver)
    username = f"kim-{uuid.uuid4().hex[:6]}@musterstadt.example"
    field = driver.find_element(By.ID, "username")
    field.clear()
    field.send_keys(username)
    driver.find_element(By.ID, "add-colleague").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "success"))
    assert re.search(r"nur jetzt angezeigt: [A-Za-z0-9_-]{20}", driver.find_element(By.ID, "success").text)
    assert username in driver.find_element(By.ID, "team").text
    check_axe(driver)
    driver.get(f"{server}/en/verwaltung/team")
    assert driver.find_element(By.TAG_NAME, "h1").text == "The authority’s team"
    check_axe(driver)
