"""Tests of e2e/oidc_provider.py on its own: the provider runs as a subprocess (as the Swift tests
start it) and is spoken to with requests; id_tokens are checked with joserfc against /jwks.

Needs no Amtsweg server, browser or clamd.
"""

from __future__ import annotations

import base64
import hashlib
import html.parser
import pathlib
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse

import pytest
import requests
from joserfc import jwk, jws, jwt
from joserfc.errors import (BadSignatureError, ExpiredTokenError, InvalidClaimError,
                             MissingClaimError)

PROVIDER = pathlib.Path(__file__).resolve().parent / "oidc_provider.py"
CLIENT_ID = "amtsweg"
SECRET = "geheim"
REDIRECT = "http://127.0.0.1:8080/anmelden/rueckkehr"
OTHER_REDIRECT = "http://127.0.0.1:8080/anderswo"


def start_provider(*extra: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, str(PROVIDER), "--port", "0", "--client-id", CLIENT_ID, "--client-secret", SECRET,
         "--redirect-uri", REDIRECT, "--redirect-uri", OTHER_REDIRECT, *extra],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError(f"provider did not start: {line!r} {proc.stderr.read()}")
    assert line == line.strip() + "\n" and line.split()[1].isdigit()
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


def stop_provider(proc: subprocess.Popen) -> int:
    proc.stdin.close()
    try:
        return proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.fixture(scope="module")
def idp():
    proc, base = start_provider()
    yield base
    assert stop_provider(proc) == 0


@pytest.fixture(autouse=True)
def normal_mode(request):
    yield
    if "idp" in request.fixturenames:
        requests.post(request.getfixturevalue("idp") + "/_test/mode", json={"mode": "normal"}, timeout=5)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def auth_params(challenge: str, **over) -> dict:
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT,
              "scope": "openid profile email", "state": secrets.token_urlsafe(16),
              "nonce": secrets.token_urlsafe(16), "code_challenge": challenge, "code_challenge_method": "S256"}
    params.update(over)
    return {k: v for k, v in params.items() if v is not None}


def redirect_params(resp: requests.Response, expect_base: str = REDIRECT) -> dict:
    assert resp.status_code == 302, resp.text
    location = resp.headers["Location"]
    base, _, query = location.partition("?")
    assert base == expect_base
    return dict(urllib.parse.parse_qsl(query))


def authorize(idp: str, hint: str = "max:STORK-QAA-Level-3", **over) -> tuple[dict, dict, str]:
    """Automatic mode: returns (authorization params, redirect params, code_verifier)."""
    verifier, challenge = pkce()
    params = auth_params(challenge, login_hint=hint, **over)
    resp = requests.get(idp + "/authorize", params=params, allow_redirects=False, timeout=5)
    back = redirect_params(resp)
    assert back["state"] == params["state"] and back["iss"] == idp and "code" in back
    return params, back, verifier


def token(idp: str, code: str, verifier: str | None, redirect_uri: str = REDIRECT, auth="basic",
          secret: str = SECRET) -> requests.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        form["code_verifier"] = verifier
    kwargs = {}
    if auth == "basic":
        kwargs["auth"] = (CLIENT_ID, secret)
    elif auth == "post":
        form.update(client_id=CLIENT_ID, client_secret=secret)
    return requests.post(idp + "/token", data=form, timeout=5, **kwargs)


def keyset(idp: str) -> jwk.KeySet:
    resp = requests.get(idp + "/jwks", timeout=5)
    resp.raise_for_status()
    return jwk.KeySet.import_key_set(resp.json())


def verify(idp: str, id_token: str, nonce: str, now: int | None = None) -> dict:
    """What a client must do with an id_token (OIDC Core 3.1.3.7), with joserfc."""
    tok = jwt.decode(id_token, keyset(idp), algorithms=["RS256"])
    registry = jwt.JWTClaimsRegistry(
        now=now, leeway=60,
        iss={"essential": True, "value": idp}, aud={"essential": True, "value": CLIENT_ID},
        exp={"essential": True}, iat={"essential": True}, sub={"essential": True},
        nonce={"essential": True, "value": nonce},
        acr={"essential": True, "values": ["STORK-QAA-Level-1", "STORK-QAA-Level-3", "STORK-QAA-Level-4"]})
    registry.validate(tok.claims)
    return tok.claims


def code_flow(idp: str, **over) -> tuple[dict, dict]:
    params, back, verifier = authorize(idp, **over)
    resp = token(idp, back["code"], verifier)
    assert resp.status_code == 200, resp.text
    return params, resp.json()


# --- discovery and keys -----------------------------------------------------------------------

def test_discovery(idp):
    resp = requests.get(idp + "/.well-known/openid-configuration", timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    d = resp.json()
    assert d["issuer"] == idp
    assert d["authorization_endpoint"] == idp + "/authorize"
    assert d["token_endpoint"] == idp + "/token"
    assert d["jwks_uri"] == idp + "/jwks"
    assert d["response_types_supported"] == ["code"]
    assert d["subject_types_supported"] == ["public"]
    assert d["id_token_signing_alg_values_supported"] == ["RS256"]
    assert d["code_challenge_methods_supported"] == ["S256"]
    assert d["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert d["acr_values_supported"] == ["STORK-QAA-Level-1", "STORK-QAA-Level-3", "STORK-QAA-Level-4"]
    assert d["scopes_supported"] == ["openid", "profile", "email"]
    assert {"sub", "iss", "aud", "exp", "iat", "nonce", "acr", "auth_time",
            "given_name", "family_name", "email"} <= set(d["claims_supported"])


def test_jwks_is_one_public_rsa_2048_key(idp):
    keys = requests.get(idp + "/jwks", timeout=5).json()["keys"]
    assert len(keys) == 1
    [k] = keys
    assert k["kty"] == "RSA" and k["kid"] and k["alg"] == "RS256" and k["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(k)
    n = int.from_bytes(base64.urlsafe_b64decode(k["n"] + "=" * (-len(k["n"]) % 4)), "big")
    assert n.bit_length() == 2048


# --- the code flow ----------------------------------------------------------------------------

def test_automatic_code_flow_with_pkce(idp):
    params, body = code_flow(idp)
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0 and body["access_token"]
    header = jwt.decode(body["id_token"], keyset(idp)).header
    assert header["alg"] == "RS256" and header["kid"] == requests.get(idp + "/jwks", timeout=5).json()["keys"][0]["kid"]
    claims = verify(idp, body["id_token"], params["nonce"])
    now = time.time()
    assert claims["iss"] == idp and claims["aud"] == CLIENT_ID
    assert claims["sub"] == "test-max"
    assert claims["nonce"] == params["nonce"]
    assert claims["acr"] == "STORK-QAA-Level-3"
    assert claims["given_name"] == "Max" and claims["family_name"] == "Mustermann"
    assert claims["email"] == "max@bund.example"
    assert abs(claims["iat"] - now) < 10 and 290 <= claims["exp"] - claims["iat"] <= 300
    assert claims["auth_time"] <= claims["iat"]

    info = requests.get(idp + "/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}, timeout=5)
    assert info.status_code == 200 and info.json()["sub"] == "test-max"
    assert requests.get(idp + "/userinfo", headers={"Authorization": "Bearer falsch"}, timeout=5).status_code == 401


def test_sub_is_stable_and_level_names_work(idp):
    _, a = code_flow(idp, hint="erika.gabler:hoch")
    _, b = code_flow(idp, hint="erika.gabler:STORK-QAA-Level-1")
    ca = jwt.decode(a["id_token"], keyset(idp)).claims
    cb = jwt.decode(b["id_token"], keyset(idp)).claims
    assert ca["sub"] == cb["sub"] == "test-erika.gabler"
    assert (ca["given_name"], ca["family_name"], ca["email"]) == ("Erika", "Gabler", "erika.gabler@bund.example")
    assert ca["acr"] == "STORK-QAA-Level-4" and cb["acr"] == "STORK-QAA-Level-1"


def test_client_secret_post(idp):
    _, back, verifier = authorize(idp)
    resp = token(idp, back["code"], verifier, auth="post")
    assert resp.status_code == 200, resp.text
    assert resp.headers["Cache-Control"] == "no-store"


def test_pkce_mismatch_is_invalid_grant(idp):
    _, back, _ = authorize(idp)
    resp = token(idp, back["code"], pkce()[0])
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"


def test_missing_code_verifier_is_invalid_grant(idp):
    _, back, _ = authorize(idp)
    resp = token(idp, back["code"], None)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"


def test_code_reuse_is_invalid_grant(idp):
    _, back, verifier = authorize(idp)
    assert token(idp, back["code"], verifier).status_code == 200
    resp = token(idp, back["code"], verifier)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"


def test_token_redirect_uri_must_match(idp):
    _, back, verifier = authorize(idp)
    resp = token(idp, back["code"], verifier, redirect_uri=OTHER_REDIRECT)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"


def test_client_authentication(idp):
    _, back, verifier = authorize(idp)
    for kwargs in ({"secret": "falsch"}, {"secret": "falsch", "auth": "post"}, {"auth": None}):
        resp = token(idp, back["code"], verifier, **kwargs)
        assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"
        assert resp.headers["WWW-Authenticate"].startswith("Basic")
    # A failed client authentication does not use the code up.
    assert token(idp, back["code"], verifier).status_code == 200


def test_token_errors(idp):
    r = requests.post(idp + "/token", data={"grant_type": "password"}, auth=(CLIENT_ID, SECRET), timeout=5)
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = requests.post(idp + "/token", data={"grant_type": "authorization_code"}, auth=(CLIENT_ID, SECRET), timeout=5)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = requests.post(idp + "/token", json={"grant_type": "authorization_code"}, auth=(CLIENT_ID, SECRET), timeout=5)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert token(idp, "unbekannt", pkce()[0]).json()["error"] == "invalid_grant"


def test_code_expires():
    proc, base = start_provider("--code-lifetime", "0.5")
    try:
        _, back, verifier = authorize(base)
        time.sleep(1)
        resp = token(base, back["code"], verifier)
        assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"
    finally:
        assert stop_provider(proc) == 0


# --- /authorize errors ------------------------------------------------------------------------

@pytest.mark.parametrize("over", [
    {"redirect_uri": "http://127.0.0.1:8080/boese"},
    {"redirect_uri": REDIRECT + "/"},
    {"redirect_uri": REDIRECT + "?x=1"},
    {"redirect_uri": None},
    {"client_id": "fremd"},
    {"client_id": None},
])
def test_untrusted_client_or_redirect_uri_gets_400_page(idp, over):
    resp = requests.get(idp + "/authorize", params=auth_params(pkce()[1], login_hint="max:hoch", **over),
                        allow_redirects=False, timeout=5)
    assert resp.status_code == 400 and "Location" not in resp.headers
    assert resp.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("over, error", [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": None}, "unsupported_response_type"),
    ({"scope": "profile email"}, "invalid_scope"),
    ({"code_challenge": None}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"nonce": None}, "invalid_request"),
    ({"login_hint": "max:Level-2"}, "invalid_request"),
])
def test_bad_request_redirects_with_error(idp, over, error):
    params = auth_params(pkce()[1], **{"login_hint": "max:hoch", **over})
    back = redirect_params(requests.get(idp + "/authorize", params=params, allow_redirects=False, timeout=5))
    assert back["error"] == error and back["state"] == params["state"] and "code" not in back


# --- the login form ---------------------------------------------------------------------------

class FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs: dict[str, dict] = {}
        self.options: list[dict] = []
        self.buttons: list[dict] = []
        self.form: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.form = a
        elif tag == "input":
            self.inputs[a["name"]] = a
        elif tag == "option":
            self.options.append(a)
        elif tag == "button":
            self.buttons.append(a)


def login_form(idp: str, **over) -> tuple[dict, FormParser]:
    params = auth_params(pkce()[1], **over)
    resp = requests.get(idp + "/authorize", params=params, timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    parser = FormParser()
    parser.feed(resp.text)
    return params, parser


def hidden_fields(parser: FormParser) -> dict:
    return {n: a["value"] for n, a in parser.inputs.items() if a.get("type") == "hidden"}


def test_login_form(idp):
    params, form = login_form(idp, acr_values="STORK-QAA-Level-1 STORK-QAA-Level-3")
    assert form.form["method"] == "post" and form.form["action"] == "/authorize"
    assert hidden_fields(form) == params
    assert form.inputs["username"]["type"] == "text" and form.inputs["username"]["id"] == "username"
    assert [(o["value"], "selected" in o) for o in form.options] == [
        ("STORK-QAA-Level-1", False), ("STORK-QAA-Level-3", True), ("STORK-QAA-Level-4", False)]
    assert {b["id"] for b in form.buttons} == {"idp-login", "idp-cancel"}

    _, form = login_form(idp)
    assert [o["value"] for o in form.options if "selected" in o] == ["STORK-QAA-Level-1"]
    _, form = login_form(idp, login_hint="erika")
    assert form.inputs["username"]["value"] == "erika"


def test_login_form_submission(idp):
    verifier, challenge = pkce()
    params = auth_params(challenge)
    resp = requests.get(idp + "/authorize", params=params, timeout=5)
    parser = FormParser()
    parser.feed(resp.text)
    form = {**hidden_fields(parser), "username": "max", "level": "STORK-QAA-Level-4", "action": "login"}
    back = redirect_params(requests.post(idp + "/authorize", data=form, allow_redirects=False, timeout=5))
    assert back["state"] == params["state"]
    body = token(idp, back["code"], verifier).json()
    claims = verify(idp, body["id_token"], params["nonce"])
    assert claims["acr"] == "STORK-QAA-Level-4" and claims["sub"] == "test-max"

    r = requests.post(idp + "/authorize", data={**form, "username": ""}, allow_redirects=False, timeout=5)
    assert r.status_code == 400 and 'id="idp-login"' in r.text
    r = requests.post(idp + "/authorize", data={**form, "redirect_uri": "http://127.0.0.1:1/x"},
                      allow_redirects=False, timeout=5)
    assert r.status_code == 400 and "Location" not in r.headers


def test_cancel(idp):
    params, parser = login_form(idp)
    form = {**hidden_fields(parser), "username": "", "action": "cancel"}
    back = redirect_params(requests.post(idp + "/authorize", data=form, allow_redirects=False, timeout=5))
    assert back["error"] == "access_denied" and back["state"] == params["state"] and "code" not in back


# --- test controls ----------------------------------------------------------------------------

def test_request_log_shows_pkce_and_nonce_without_secrets(idp):
    assert requests.delete(idp + "/_test/log", timeout=5).status_code == 204
    code_flow(idp)
    log = requests.get(idp + "/_test/log", timeout=5).json()
    assert [e["path"] for e in log] == ["/authorize", "/token"]
    auth, tok = log
    assert {"code_challenge", "code_challenge_method", "nonce", "state"} <= set(auth["query"])
    assert auth["values"]["code_challenge_method"] == "S256"
    assert {"code", "code_verifier", "redirect_uri", "grant_type"} <= set(tok["form"])
    assert tok["client_auth"] == "client_secret_basic"
    text = str(log)
    assert SECRET not in text and "code_verifier':" not in text
    for e in log:
        assert not {"nonce", "state", "code", "code_verifier", "code_challenge", "client_secret"} & set(e["values"])


@pytest.mark.parametrize("mode", ["wrong_key", "wrong_nonce", "wrong_aud", "expired", "wrong_iss", "no_acr"])
def test_defect_modes(idp, mode):
    r = requests.post(idp + "/_test/mode", json={"mode": mode}, timeout=5)
    assert r.status_code == 200 and r.json() == {"mode": mode}
    params, body = code_flow(idp)
    kid = requests.get(idp + "/jwks", timeout=5).json()["keys"][0]["kid"]
    if mode == "wrong_key":
        assert jws.extract_compact(body["id_token"].encode()).headers()["kid"] == kid
        with pytest.raises(BadSignatureError):
            verify(idp, body["id_token"], params["nonce"])
    else:
        claims = jwt.decode(body["id_token"], keyset(idp)).claims  # signature is fine
        error, claim = {"wrong_nonce": (InvalidClaimError, "nonce"), "wrong_aud": (InvalidClaimError, "aud"),
                        "expired": (ExpiredTokenError, "exp"), "wrong_iss": (InvalidClaimError, "iss"),
                        "no_acr": (MissingClaimError, "acr")}[mode]
        with pytest.raises(error) as e:
            verify(idp, body["id_token"], params["nonce"])
        assert mode == "expired" or claim in str(e.value)
        if mode == "expired":
            assert claims["exp"] < time.time() - 300
        if mode == "no_acr":
            assert "acr" not in claims
    # Only the next id_token is defective.
    assert requests.get(idp + "/_test/mode", timeout=5).json() == {"mode": "normal"}
    params, body = code_flow(idp)
    verify(idp, body["id_token"], params["nonce"])


def test_unknown_mode_is_rejected(idp):
    r = requests.post(idp + "/_test/mode", json={"mode": "kaputt"}, timeout=5)
    assert r.status_code == 400


def test_redirect_uri_registration_at_run_time(idp):
    uri = "http://127.0.0.1:9999/spaeter"
    resp = requests.get(idp + "/authorize", params=auth_params(pkce()[1], redirect_uri=uri, login_hint="max:hoch"),
                        allow_redirects=False, timeout=5)
    assert resp.status_code == 400
    assert requests.post(idp + "/_test/redirect-uri", json={"redirect_uri": uri}, timeout=5).status_code == 200
    resp = requests.get(idp + "/authorize", params=auth_params(pkce()[1], redirect_uri=uri, login_hint="max:hoch"),
                        allow_redirects=False, timeout=5)
    assert "code" in redirect_params(resp, expect_base=uri)


# --- process lifecycle ------------------------------------------------------------------------

def test_sigterm_stops_the_provider():
    proc, base = start_provider()
    assert requests.get(base + "/jwks", timeout=5).status_code == 200
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert proc.stdout.read() == ""  # nothing after READY
    proc.stdin.close()


def test_closing_stdin_stops_the_provider_and_each_start_has_a_new_key():
    proc, base = start_provider()
    kid = requests.get(base + "/jwks", timeout=5).json()["keys"][0]["kid"]
    assert stop_provider(proc) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(base + "/jwks", timeout=2)
    proc2, base2 = start_provider()
    try:
        assert requests.get(base2 + "/jwks", timeout=5).json()["keys"][0]["kid"] != kid
    finally:
        stop_provider(proc2)
