"""Self-test of the browser harness, independent of the Amtsweg server.

Proves that headless Chromium + chromedriver start, that axe-core can be injected into a page
served under a strict Content-Security-Policy (no inline script, like Amtsweg's), that a
well-formed page passes check_axe and that a faulty one really fails (so a green e2e run is not
vacuous).
"""

from __future__ import annotations

import http.server
import threading

import pytest

from conftest import check_axe, run_axe

CSP = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'"

GOOD = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Harness: gute Seite</title></head>
<body><header><a href="#main">Zum Inhalt</a></header>
<main id="main"><h1>Geburtsurkunde beantragen</h1>
<form action="/" method="get"><label for="q">Suchbegriff</label> <input id="q" name="q" type="search">
<button type="submit">Suchen</button></form></main></body></html>"""

BAD = """<!doctype html>
<html><head><meta charset="utf-8"></head>
<body><img src="/x.png"><input name="q"><a href="/"></a></body></html>"""


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server API)
        body = (BAD if self.path.startswith("/bad") else GOOD).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def csp_site():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_axe_passes_on_wellformed_page_under_csp(driver, csp_site):
    driver.get(csp_site + "/good")
    # The page's own CSP is in force: an inline <script> would be blocked.
    assert driver.execute_script("return document.documentElement.lang") == "de"
    check_axe(driver)


def test_axe_reports_violations_on_faulty_page(driver, csp_site):
    driver.get(csp_site + "/bad")
    ids = {v["id"] for v in run_axe(driver)}
    assert {"image-alt", "html-has-lang", "document-title"} <= ids, ids
    with pytest.raises(AssertionError, match="image-alt"):
        check_axe(driver)
