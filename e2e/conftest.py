"""Fixtures for Amtsweg's browser tests.

- `server`: starts `$AMTSWEG_BIN serve --demo` on a free loopback port with a fresh SQLite
  database, sending mail to `mail_sink` (a real SMTP server on loopback) and using a real OpenID Connect provider
  (e2e/oidc_provider.py, "Test-BundID") for identity links and step-up, and yields its base URL; `server_db_url` is that database's `AMTSWEG_DATABASE_URL`.
- `api_key`: an API key of the demo authority, from `amtsweg demo` run on the server's database.
- `driver`: Debian's headless Chromium through Selenium 4 and Debian's chromedriver.
- `check_axe(driver)`: runs axe-core (WCAG 2.0/2.1 A and AA rules) on the current page and
  fails with a readable list of violations.

Run with `python3 -m pytest -q e2e` (scripts/test.sh does, after building).
"""

from __future__ import annotations

import os
import pathlib
import re
import socket
import subprocess
import time

import pytest
import requests

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Selenium Manager must never try to download a driver or browser (no internet here).
os.environ.setdefault("SE_OFFLINE", "true")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def amtsweg_bin() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("AMTSWEG_BIN", ".build/debug/amtsweg"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def _tail(path: pathlib.Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as e:
        return f"(no log: {e})"


@pytest.fixture(scope="session")
def server_db_url(tmp_path_factory) -> str:
    """`AMTSWEG_DATABASE_URL` of the `server` fixture's database (fresh SQLite file), so that other
    CLI commands (e.g. `amtsweg demo`) can work on the same database the server uses."""
    return f"sqlite:{tmp_path_factory.mktemp('db') / 'e2e.sqlite'}"


@pytest.fixture(scope="session")
def clamd_socket(tmp_path_factory):
    """Unix socket of a clamd started for the test session (see e2e/clamd.py); the server scans uploads with it."""
    from clamd import CLAMD, TEST_PDF, running_clamd
    if not CLAMD.exists() or not TEST_PDF.exists():
        pytest.fail("clamd or clamav-testfiles not installed: run scripts/setup-debian.sh")
    with running_clamd(tmp_path_factory.mktemp("clamd")) as socket:
        yield socket


@pytest.fixture(scope="session")
def mail_sink():
    """A real SMTP server on loopback (e2e/mailsink.py) that receives every mail the `server` sends."""
    from mailsink import MailSink
    with MailSink() as sink:
        yield sink


@pytest.fixture(scope="session")
def server(tmp_path_factory, server_db_url, clamd_socket, mail_sink):
    """Base URL (http://127.0.0.1:PORT) of a demo server on a fresh SQLite database, scanning uploads with clamd and
    sending mail to `mail_sink`."""
    binary = amtsweg_bin()
    if not binary.is_file():
        pytest.fail(f"server binary {binary} not found: build first (swift build) or set AMTSWEG_BIN")

    tmp = tmp_path_factory.mktemp("server")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp / "server.log"
    # A real OpenID Connect provider ("Test-BundID", e2e/oidc_provider.py) for linking, sign-in and step-up.
    from oidc_provider import OIDCProvider
    idp = OIDCProvider(client_id="amtsweg", client_secret="geheim", redirect_uris=[f"{base}/oidc/callback"]).start()
    env = dict(os.environ, AMTSWEG_DATABASE_URL=server_db_url, AMTSWEG_CLAMD=f"unix:{clamd_socket}",
               AMTSWEG_SMTP_URL=mail_sink.url, AMTSWEG_PUBLIC_URL=base, AMTSWEG_MAIL_FROM="noreply@musterstadt.example",
               AMTSWEG_OIDC_ISSUER=idp.issuer, AMTSWEG_OIDC_CLIENT_ID="amtsweg", AMTSWEG_OIDC_CLIENT_SECRET="geheim",
               AMTSWEG_OIDC_NAME="Test-BundID")
    cmd = [str(binary), "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)]

    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode} during startup; log tail:\n"
                            f"{_tail(log_path)}")
            try:
                if requests.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server not ready within 60 s; log tail:\n{_tail(log_path)}")
            time.sleep(0.25)

        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        idp.stop()
        print(f"\nserver log: {log_path}")


@pytest.fixture(scope="session")
def api_key(server, server_db_url) -> str:
    """An API key of the demo authority, printed by `amtsweg demo` run on the server's database."""
    result = subprocess.run(
        [str(amtsweg_bin()), "demo"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
        env=dict(os.environ, AMTSWEG_DATABASE_URL=server_db_url), stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"amtsweg demo exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    keys = re.findall(r"^api key (aw_\S+)\s*$", result.stdout, flags=re.MULTILINE)
    assert len(keys) == 1, f"expected one line 'api key aw_…' from amtsweg demo, got:\n{result.stdout}"
    return keys[0]


def make_driver():
    """A headless Debian Chromium controlled by Debian's chromedriver (German UI language)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--lang=de-DE"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "de-DE,de"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(60)
    # No implicit wait: tests use explicit waits (WebDriverWait).
    return driver


@pytest.fixture(scope="session")
def driver():
    d = make_driver()
    try:
        yield d
    finally:
        d.quit()


def _axe_source() -> str:
    """axe.min.js as shipped inside the axe-playwright-python package (installed --no-deps)."""
    import importlib.util

    spec = importlib.util.find_spec("axe_playwright_python")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("axe-playwright-python is not installed (run scripts/setup-debian.sh)")
    path = pathlib.Path(list(spec.submodule_search_locations)[0]) / "axe.min.js"
    return path.read_text(encoding="utf-8")


_AXE_SOURCE: str | None = None

_AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})
  .then(r => done({violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary}))
  }))}))
  .catch(e => done({error: String(e && e.stack || e)}));
"""


def format_violations(url: str, violations: list) -> str:
    lines = [f"{len(violations)} axe violation(s) on {url}:"]
    for v in violations:
        lines.append(f"- {v['id']} [{v['impact']}] {v['help']} ({v['helpUrl']})")
        for n in v["nodes"]:
            lines.append(f"    target {n['target']}: {n['html'][:200]}")
            if n.get("summary"):
                lines.append("      " + n["summary"].replace("\n", "\n      "))
    return "\n".join(lines)


def run_axe(driver) -> list:
    """Injects axe-core into the current page (once per page) and returns its violations."""
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        _AXE_SOURCE = _axe_source()
    # execute_script runs through DevTools (Runtime.callFunctionOn), which the page's
    # Content-Security-Policy does not govern, so no CSP bypass is needed.
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(_AXE_SOURCE)
    result = driver.execute_async_script(_AXE_RUN, AXE_TAGS)
    if result.get("error"):
        raise AssertionError(f"axe failed on {driver.current_url}: {result['error']}")
    return result["violations"]


def check_axe(driver) -> None:
    """Asserts that axe-core finds no WCAG 2.1 A/AA violation on the current page."""
    violations = run_axe(driver)
    assert not violations, format_violations(driver.current_url, violations)


# --- The demo case worker: password and TOTP second factor -------------------------------------------------
DEMO_STAFF = ("standesamt@musterstadt.example", "Musterstadt-Demo-2026")
# The demo case worker's published TOTP key (DemoData.totpSecretBase32).
DEMO_TOTP_KEY = "IFWXI43XMVTSARDFNVXSAMRQGI3CAIJB"
_last_totp_step = 0


def totp_code(key_base32: str, step: int) -> str:
    """RFC 6238 TOTP (HMAC-SHA-1, 6 digits) for time step `step`, written independently of the server's code."""
    import base64
    import hashlib
    import hmac
    import struct
    key = base64.b32decode(key_base32 + "=" * (-len(key_base32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def next_demo_totp() -> str:
    """A demo TOTP code not used before in this test session: the server accepts each step once and allows one step
    of clock drift, so a second login within 30 s uses the next step, a third waits for the clock."""
    global _last_totp_step
    now = int(time.time()) // 30
    step = max(now, _last_totp_step + 1)
    while step > int(time.time()) // 30 + 1:
        time.sleep(1)
    _last_totp_step = step
    return totp_code(DEMO_TOTP_KEY, step)


def staff_login(driver, base: str, locale: str = "de") -> None:
    """Signs the browser in as the demo case worker (password page, then TOTP page) and waits for the inbox."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base}/{locale}/verwaltung/anmelden")
    driver.find_element(By.ID, "username").send_keys(DEMO_STAFF[0])
    driver.find_element(By.ID, "password").send_keys(DEMO_STAFF[1])
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/verwaltung/anmelden/code"))
    driver.find_element(By.ID, "code").send_keys(next_demo_totp())
    driver.find_element(By.ID, "verify-code").click()
    WebDriverWait(driver, 20).until(lambda d: re.search(rf"/{locale}/verwaltung/?$", d.current_url))


def meet_trust_requirement(driver, base: str, mail_sink, level_acr: str = "STORK-QAA-Level-4") -> None:
    """When starting a service sent the browser to sign in or to step up: registers and confirms a new account, signs
    in, and proves the level at the test identity provider; ends on the service page, ready to start."""
    import uuid
    from urllib.parse import urlparse
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    def wait_loaded():
        WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")

    if "/konto/anmelden" in driver.current_url:
        login_url = driver.current_url
        email, password = f"walk-{uuid.uuid4().hex[:8]}@example.org", "Ein Satz als Passwort 42"
        driver.get(f"{base}/de/konto/registrieren")
        driver.find_element(By.ID, "email").send_keys(email)
        driver.find_element(By.ID, "password").send_keys(password)
        driver.find_element(By.ID, "register").click()
        WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/konto/registriert"))
        mail = mail_sink.wait_for(email, subject_contains="Bestätigen", timeout=30)[-1]
        driver.get(next(link for link in mail_sink.links_in(mail) if "/konto/bestaetigen" in link))
        wait_loaded()
        driver.find_element(By.ID, "confirm").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "login-link"))
        driver.get(login_url)
        wait_loaded()
        driver.find_element(By.ID, "email").send_keys(email)
        driver.find_element(By.ID, "password").send_keys(password)
        driver.find_element(By.ID, "login").click()
        WebDriverWait(driver, 20).until(lambda d: "/konto/anmelden" not in d.current_url)
        wait_loaded()
        # Back on the service page: starting again either begins the application (an account was enough; the
        # walk starts its own) or sends on to the step-up.
        service_url = driver.current_url
        driver.find_element(By.ID, "start").click()
        WebDriverWait(driver, 20).until(lambda d: "/leistungen/" not in urlparse(d.current_url).path)
        wait_loaded()
        if "/konto/vertrauensniveau" not in driver.current_url:
            driver.get(service_url)
            wait_loaded()
    if "/konto/vertrauensniveau" in driver.current_url:
        check_axe(driver)
        driver.find_element(By.ID, "step-up").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "idp-login"))
        driver.find_element(By.ID, "username").clear()
        # One identity per account: an identity already linked elsewhere is refused.
        driver.find_element(By.ID, "username").send_keys(f"walk{uuid.uuid4().hex[:8]}")
        Select(driver.find_element(By.ID, "level")).select_by_value(level_acr)
        driver.find_element(By.ID, "idp-login").click()
        WebDriverWait(driver, 20).until(lambda d: "/leistungen/" in urlparse(d.current_url).path)
        wait_loaded()
