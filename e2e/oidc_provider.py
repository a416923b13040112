#!/usr/bin/env python3
"""A small but real OpenID Connect provider for tests: "Test-BundID" on loopback.

Run it as a subprocess (the Swift tests and e2e tests do):

    python3 e2e/oidc_provider.py [--port 0] [--client-id amtsweg] [--client-secret geheim]
                                 [--redirect-uri URI ...] [--code-lifetime 60] [--verbose]

It binds 127.0.0.1, prints exactly `READY <port>` on stdout (flushed) and nothing else there,
and serves until its stdin is closed (when stdin is a pipe or a terminal) or it gets SIGTERM or
SIGINT. The issuer is `http://127.0.0.1:<port>`. Or import it: `with OIDCProvider(...) as idp:`.

One client is registered (client_id, client_secret, exact redirect URIs). The signing key is a
fresh 2048-bit RSA key per start (RS256, with a `kid`); JOSE is done with joserfc.

Endpoints
- GET  /.well-known/openid-configuration   discovery document
- GET  /jwks                                the public signing key
- GET  /authorize                           authorization request (code flow, PKCE S256 required,
                                            state and nonce required). Shows the login form of
                                            "Test-BundID" (fields `username`, `level`, buttons
                                            `idp-login`, `idp-cancel`), or, with
                                            `login_hint=SUBJECT:LEVEL` (e.g. `max:STORK-QAA-Level-3`
                                            or `max:substanziell`), redirects at once.
- POST /authorize                           the login form's submission -> 302 to the redirect URI
                                            with code, state and iss (RFC 9207)
- POST /token                               authorization_code grant; client_secret_basic or
                                            client_secret_post; JSON errors per RFC 6749
- GET|POST /userinfo                        Bearer access token -> the user's claims
- POST /_test/mode    {"mode": ...}         makes the NEXT id_token defective (see MODES)
- GET  /_test/mode                          the mode pending now
- GET  /_test/log                           requests received so far (no secrets); DELETE clears
- POST /_test/redirect-uri {"redirect_uri"} registers one more redirect URI at run time

Users: any username of letters, digits, `.`, `_`, `-` logs in. sub = "test-" + username;
"max" -> given_name "Max", family_name "Mustermann", email "max@bund.example";
"erika.gabler" -> "Erika", "Gabler", "erika.gabler@bund.example". These claims are always in
the id_token (whatever the scope). The IdP grants whatever level the user picks (or the hint
names), even one below the requested acr_values: checking `acr` is the client's job.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import signal
import stat
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from joserfc import jwk, jwt

__all__ = ["OIDCProvider", "LEVELS", "MODES", "main"]

HOST = "127.0.0.1"

# acr values of BundID's trust levels (eIDAS/STORK QAA), lowest first, with their German names.
LEVELS: dict[str, str] = {
    "STORK-QAA-Level-1": "basis",
    "STORK-QAA-Level-3": "substanziell",
    "STORK-QAA-Level-4": "hoch",
}
LEVEL_BY_NAME = {name: acr for acr, name in LEVELS.items()}
DEFAULT_LEVEL = "STORK-QAA-Level-1"

# Defects the next id_token can be given (POST /_test/mode).
MODES = ("normal", "wrong_key", "wrong_nonce", "wrong_aud", "expired", "wrong_iss", "no_acr")

ID_TOKEN_LIFETIME = 300
ACCESS_TOKEN_LIFETIME = 300
MAX_BODY = 1 << 20

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CODE_CHALLENGE_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
CODE_VERIFIER_RE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")

# Parameters whose values the request log may show; of all others only the names appear.
LOGGED_VALUES = {
    "response_type", "client_id", "redirect_uri", "scope", "code_challenge_method", "acr_values",
    "login_hint", "grant_type", "username", "level", "action", "prompt", "max_age", "ui_locales",
}

CLAIMS_SUPPORTED = [
    "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr",
    "given_name", "family_name", "email", "email_verified",
]


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def user_claims(username: str) -> dict:
    first, _, last = username.partition(".")
    return {
        "sub": "test-" + username,
        "given_name": first[:1].upper() + first[1:],
        "family_name": (last[:1].upper() + last[1:]) if last else "Mustermann",
        "email": username.lower() + "@bund.example",
        "email_verified": True,
    }


def add_query(uri: str, params: dict) -> str:
    parts = urllib.parse.urlsplit(uri)
    query = parts.query + ("&" if parts.query else "") + urllib.parse.urlencode(params)
    return urllib.parse.urlunsplit(parts._replace(query=query))


def highest_level(acr_values: str | None) -> str | None:
    requested = (acr_values or "").split()
    known = [acr for acr in LEVELS if acr in requested]
    return known[-1] if known else None


def parse_level(value: str) -> str | None:
    if value in LEVELS:
        return value
    return LEVEL_BY_NAME.get(value.lower())


class ParamError(Exception):
    pass


def parse_params(raw: str) -> dict[str, str]:
    """Form/query parameters; empty ones count as absent (RFC 6749 3.1), repeated ones are an error."""
    params: dict[str, str] = {}
    for name, value in urllib.parse.parse_qsl(raw, keep_blank_values=True, errors="replace"):
        if value == "":
            continue
        if name in params:
            raise ParamError(f"parameter {name} given more than once")
        params[name] = value
    return params


@dataclass
class Grant:
    """What an authorization code stands for."""
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str
    scope: str
    username: str
    acr: str
    auth_time: int
    expires_at: float


@dataclass
class AuthRequest:
    client_id: str
    redirect_uri: str
    state: str
    nonce: str
    scope: str
    code_challenge: str
    acr_values: str | None
    login_hint: str | None
    params: dict = field(default_factory=dict)


class AuthError(Exception):
    """An error of an authorization request. With redirect=False it is shown as a 400 page
    (client or redirect URI not trusted); otherwise it goes back to the redirect URI."""

    def __init__(self, error: str, description: str, redirect: bool, redirect_uri: str = "",
                 state: str | None = None):
        super().__init__(description)
        self.error, self.description, self.redirect = error, description, redirect
        self.redirect_uri, self.state = redirect_uri, state


class OIDCProvider:
    """The provider's state and its HTTP server. `start()` serves in a background thread."""

    def __init__(self, port: int = 0, client_id: str = "amtsweg", client_secret: str = "geheim",
                 redirect_uris: list[str] | None = None, code_lifetime: float = 60.0,
                 verbose: bool = False):
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris: list[str] = list(redirect_uris or [])
        self.code_lifetime = code_lifetime
        self.verbose = verbose
        self.kid = "test-bundid-" + secrets.token_hex(4)
        self.key = jwk.RSAKey.generate_key(2048, parameters={"kid": self.kid, "use": "sig", "alg": "RS256"},
                                           private=True)
        # Signs id_tokens in mode wrong_key, under the published kid.
        self.rogue_key = jwk.RSAKey.generate_key(2048, parameters={"kid": self.kid}, private=True)
        self._lock = threading.Lock()
        self._codes: dict[str, Grant] = {}
        self._access_tokens: dict[str, tuple[dict, float]] = {}
        self._mode = "normal"
        self._log: list[dict] = []
        self.httpd = ThreadingHTTPServer((HOST, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.provider = self  # type: ignore[attr-defined]
        self.port: int = self.httpd.server_address[1]
        self.issuer = f"http://{HOST}:{self.port}"
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> "OIDCProvider":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="oidc-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
            self._thread = None
        self.httpd.server_close()

    def __enter__(self) -> "OIDCProvider":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- test controls ---------------------------------------------------------------------

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        with self._lock:
            self._mode = mode

    @property
    def mode(self) -> str:
        with self._lock:
            return self._mode

    def request_log(self) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._log]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def add_redirect_uri(self, uri: str) -> None:
        with self._lock:
            if uri not in self.redirect_uris:
                self.redirect_uris.append(uri)

    def record(self, entry: dict) -> None:
        with self._lock:
            self._log.append(entry)

    # --- documents -------------------------------------------------------------------------

    def discovery(self) -> dict:
        iss = self.issuer
        return {
            "issuer": iss,
            "authorization_endpoint": iss + "/authorize",
            "token_endpoint": iss + "/token",
            "userinfo_endpoint": iss + "/userinfo",
            "jwks_uri": iss + "/jwks",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "acr_values_supported": list(LEVELS),
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": CLAIMS_SUPPORTED,
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "authorization_response_iss_parameter_supported": True,
            "ui_locales_supported": ["de"],
        }

    def jwks(self) -> dict:
        return {"keys": [self.key.as_dict(private=False)]}

    # --- authorization ---------------------------------------------------------------------

    def check_auth_request(self, p: dict[str, str]) -> AuthRequest:
        client_id = p.get("client_id")
        if client_id is None:
            raise AuthError("invalid_request", "client_id fehlt", redirect=False)
        if not hmac.compare_digest(client_id.encode(), self.client_id.encode()):
            raise AuthError("invalid_client", f"unbekannter Client {client_id!r}", redirect=False)
        redirect_uri = p.get("redirect_uri")
        if redirect_uri is None:
            raise AuthError("invalid_request", "redirect_uri fehlt", redirect=False)
        with self._lock:
            registered = redirect_uri in self.redirect_uris
        if not registered:
            raise AuthError("invalid_request", f"redirect_uri {redirect_uri!r} ist nicht registriert",
                            redirect=False)

        state = p.get("state")

        def fail(error: str, description: str) -> AuthError:
            return AuthError(error, description, redirect=True, redirect_uri=redirect_uri, state=state)

        if p.get("response_type") != "code":
            raise fail("unsupported_response_type", "nur response_type=code wird unterstützt")
        scope = p.get("scope", "")
        if "openid" not in scope.split():
            raise fail("invalid_scope", "scope muss openid enthalten")
        challenge = p.get("code_challenge")
        if challenge is None:
            raise fail("invalid_request", "PKCE ist Pflicht: code_challenge fehlt")
        if p.get("code_challenge_method") != "S256":
            raise fail("invalid_request", "PKCE: nur code_challenge_method=S256 wird unterstützt")
        if not CODE_CHALLENGE_RE.match(challenge):
            raise fail("invalid_request", "code_challenge ist kein S256-Wert (43 Zeichen base64url)")
        if state is None:
            raise fail("invalid_request", "state fehlt")
        nonce = p.get("nonce")
        if nonce is None:
            raise fail("invalid_request", "nonce fehlt")
        return AuthRequest(client_id=client_id, redirect_uri=redirect_uri, state=state, nonce=nonce,
                           scope=scope, code_challenge=challenge, acr_values=p.get("acr_values"),
                           login_hint=p.get("login_hint"), params=p)

    def issue_code(self, req: AuthRequest, username: str, acr: str) -> str:
        code = secrets.token_urlsafe(32)
        grant = Grant(client_id=req.client_id, redirect_uri=req.redirect_uri,
                      code_challenge=req.code_challenge, nonce=req.nonce, scope=req.scope,
                      username=username, acr=acr, auth_time=int(time.time()),
                      expires_at=time.monotonic() + self.code_lifetime)
        with self._lock:
            self._codes[code] = grant
        return code

    def success_redirect(self, req: AuthRequest, username: str, acr: str) -> str:
        code = self.issue_code(req, username, acr)
        return add_query(req.redirect_uri, {"code": code, "state": req.state, "iss": self.issuer})

    def error_redirect(self, redirect_uri: str, state: str | None, error: str, description: str) -> str:
        params = {"error": error, "error_description": description}
        if state is not None:
            params["state"] = state
        params["iss"] = self.issuer
        return add_query(redirect_uri, params)

    # --- token -----------------------------------------------------------------------------

    def redeem(self, code: str) -> Grant | None:
        """Takes the code out (single use, even if the request fails later); None if unknown or expired."""
        with self._lock:
            grant = self._codes.pop(code, None)
            now = time.monotonic()
            for c in [c for c, g in self._codes.items() if g.expires_at < now]:
                del self._codes[c]
        if grant is None or grant.expires_at < now:
            return None
        return grant

    def id_token(self, grant: Grant) -> str:
        with self._lock:
            mode, self._mode = self._mode, "normal"
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": None,
            "aud": grant.client_id,
            "exp": now + ID_TOKEN_LIFETIME,
            "iat": now,
            "auth_time": grant.auth_time,
            "nonce": grant.nonce,
            "acr": grant.acr,
        }
        claims.update(user_claims(grant.username))
        key = self.key
        if mode == "wrong_key":
            key = self.rogue_key
        elif mode == "wrong_nonce":
            claims["nonce"] = "falsch-" + secrets.token_urlsafe(16)
        elif mode == "wrong_aud":
            claims["aud"] = "anderer-client"
        elif mode == "expired":
            claims["iat"] = now - 900
            claims["auth_time"] = min(grant.auth_time, now - 900)
            claims["exp"] = now - 600
        elif mode == "wrong_iss":
            claims["iss"] = "https://idp.falsch.example"
        elif mode == "no_acr":
            del claims["acr"]
        return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": self.kid}, claims, key)

    def issue_access_token(self, grant: Grant) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._access_tokens[token] = (user_claims(grant.username), time.monotonic() + ACCESS_TOKEN_LIFETIME)
        return token

    def userinfo(self, token: str) -> dict | None:
        with self._lock:
            entry = self._access_tokens.get(token)
        if entry is None or entry[1] < time.monotonic():
            return None
        return dict(entry[0])


# --- HTTP -------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 32rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }}
label {{ display: block; margin-top: 1rem; font-weight: bold; }}
input, select {{ font-size: 1rem; padding: .4rem; width: 100%; box-sizing: border-box; }}
button {{ font-size: 1rem; padding: .5rem 1rem; margin: 1.5rem .5rem 0 0; }}
.hinweis {{ background: #fff3cd; padding: .5rem; }}
.fehler {{ color: #a00; }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
{body}
</main>
</body>
</html>
"""


def login_page(req: AuthRequest, username: str = "", error: str = "") -> str:
    selected = highest_level(req.acr_values) or DEFAULT_LEVEL
    options = "\n".join(
        f'<option value="{acr}"{" selected" if acr == selected else ""}>{name} ({acr})</option>'
        for acr, name in LEVELS.items())
    hidden = "\n".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in req.params.items() if k not in ("username", "level", "action"))
    err = f'<p class="fehler" role="alert">{html.escape(error)}</p>' if error else ""
    body = f"""<p class="hinweis">Test-Identitätsanbieter – keine echte Anmeldung.</p>
{err}
<form method="post" action="/authorize">
{hidden}
<label for="username">Benutzername</label>
<input type="text" id="username" name="username" value="{html.escape(username)}" autocomplete="username"
       pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{{0,63}}">
<label for="level">Vertrauensniveau</label>
<select id="level" name="level">
{options}
</select>
<button type="submit" id="idp-login" name="action" value="login">Anmelden</button>
<button type="submit" id="idp-cancel" name="action" value="cancel" formnovalidate>Abbrechen</button>
</form>"""
    return PAGE.format(title="Anmelden mit Test-BundID", body=body)


def error_page(description: str) -> str:
    return PAGE.format(title="Fehlerhafte Anfrage – Test-BundID",
                       body=f'<p class="fehler" role="alert">{html.escape(description)}</p>')


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Test-BundID/1.0"

    @property
    def provider(self) -> OIDCProvider:
        return self.server.provider  # type: ignore[attr-defined]

    def log_message(self, format, *args):  # noqa: A002 - signature of BaseHTTPRequestHandler
        # Silent by default: a parent that doesn't drain stderr must never block the server.
        if self.provider.verbose:
            super().log_message(format, *args)

    # --- responses -------------------------------------------------------------------------

    def send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Pragma", "no-cache")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, obj, headers: dict | None = None) -> None:
        self.send(status, json.dumps(obj).encode(), "application/json", headers)

    def send_html(self, status: int, page: str) -> None:
        self.send(status, page.encode(), "text/html; charset=utf-8",
                  {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                   "X-Frame-Options": "DENY"})

    def redirect(self, location: str) -> None:
        self.send(HTTPStatus.FOUND, b"", "text/plain; charset=utf-8", {"Location": location})

    def oauth_error(self, status: int, error: str, description: str, headers: dict | None = None) -> None:
        self.send_json(status, {"error": error, "error_description": description}, headers)

    # --- requests --------------------------------------------------------------------------

    def read_body(self) -> bytes | None:
        """The request body; None (after answering 413/400) if it can't be read."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self.send_json(HTTPStatus.LENGTH_REQUIRED, {"error": "invalid_request",
                                                        "error_description": "Content-Length required"})
            return None
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self.send_json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE if length > 0 else HTTPStatus.BAD_REQUEST,
                           {"error": "invalid_request", "error_description": "bad Content-Length"})
            return None
        return self.rfile.read(length) if length else b""

    def split_path(self) -> tuple[str, str]:
        parts = urllib.parse.urlsplit(self.path)
        return parts.path, parts.query

    def log_request_entry(self, path: str, query: dict, form: dict, client_auth: str | None = None) -> None:
        if path.startswith("/_test/"):
            return
        values = {k: v for k, v in {**query, **form}.items() if k in LOGGED_VALUES}
        entry = {"method": self.command, "path": path, "query": sorted(query), "form": sorted(form),
                 "values": values, "time": time.time()}
        if client_auth is not None:
            entry["client_auth"] = client_auth
        self.provider.record(entry)

    def do_GET(self):
        path, raw_query = self.split_path()
        try:
            query = parse_params(raw_query)
        except ParamError as e:
            self.log_request_entry(path, {}, {})
            return self.send_html(HTTPStatus.BAD_REQUEST, error_page(str(e)))
        self.log_request_entry(path, query, {}, self.bearer_auth_kind() if path == "/userinfo" else None)
        p = self.provider
        if path == "/.well-known/openid-configuration":
            return self.send_json(HTTPStatus.OK, p.discovery())
        if path == "/jwks":
            return self.send(HTTPStatus.OK, json.dumps(p.jwks()).encode(), "application/json")
        if path == "/authorize":
            return self.authorize_get(query)
        if path == "/userinfo":
            return self.userinfo()
        if path == "/_test/log":
            return self.send_json(HTTPStatus.OK, p.request_log())
        if path == "/_test/mode":
            return self.send_json(HTTPStatus.OK, {"mode": p.mode})
        return self.send_json(HTTPStatus.NOT_FOUND, {"error": "not_found"})

    def do_POST(self):
        path, raw_query = self.split_path()
        body = self.read_body()
        if body is None:
            return
        if path.startswith("/_test/"):
            return self.test_control(path, body)
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        form: dict[str, str] = {}
        form_error = None
        if ctype == "application/x-www-form-urlencoded":
            try:
                form = parse_params(body.decode("utf-8", errors="replace"))
            except ParamError as e:
                form_error = str(e)
        elif path in ("/authorize", "/token"):
            form_error = "Content-Type must be application/x-www-form-urlencoded"
        client_auth = None
        if path == "/token":
            client_auth = ("client_secret_basic" if self.headers.get("Authorization", "").lower().startswith("basic ")
                           else "client_secret_post" if "client_secret" in form else "none")
        elif path == "/userinfo":
            client_auth = self.bearer_auth_kind()
        self.log_request_entry(path, parse_params_lenient(raw_query), form, client_auth)
        if path == "/authorize":
            if form_error:
                return self.send_html(HTTPStatus.BAD_REQUEST, error_page(form_error))
            return self.authorize_post(form)
        if path == "/token":
            if form_error:
                return self.oauth_error(HTTPStatus.BAD_REQUEST, "invalid_request", form_error)
            return self.token(form)
        if path == "/userinfo":
            return self.userinfo()
        return self.send_json(HTTPStatus.NOT_FOUND, {"error": "not_found"})

    def do_DELETE(self):
        path, _ = self.split_path()
        if self.read_body() is None:
            return
        if path == "/_test/log":
            self.provider.clear_log()
            return self.send(HTTPStatus.NO_CONTENT, b"", "text/plain")
        return self.send_json(HTTPStatus.NOT_FOUND, {"error": "not_found"})

    # --- /authorize ------------------------------------------------------------------------

    def auth_error(self, e: AuthError) -> None:
        if e.redirect:
            self.redirect(self.provider.error_redirect(e.redirect_uri, e.state, e.error, e.description))
        else:
            self.send_html(HTTPStatus.BAD_REQUEST, error_page(f"{e.error}: {e.description}"))

    def authorize_get(self, query: dict) -> None:
        p = self.provider
        try:
            req = p.check_auth_request(query)
        except AuthError as e:
            return self.auth_error(e)
        hint = req.login_hint
        if hint and ":" in hint:
            username, _, level = hint.rpartition(":")
            acr = parse_level(level)
            if not USERNAME_RE.match(username) or acr is None:
                return self.auth_error(AuthError(
                    "invalid_request", f"login_hint {hint!r} ist nicht BENUTZER:NIVEAU", redirect=True,
                    redirect_uri=req.redirect_uri, state=req.state))
            return self.redirect(p.success_redirect(req, username, acr))
        username = hint if hint and USERNAME_RE.match(hint) else ""
        self.send_html(HTTPStatus.OK, login_page(req, username))

    def authorize_post(self, form: dict) -> None:
        p = self.provider
        try:
            req = p.check_auth_request({k: v for k, v in form.items() if k not in ("username", "level", "action")})
        except AuthError as e:
            return self.auth_error(e)
        if form.get("action") == "cancel":
            return self.redirect(p.error_redirect(req.redirect_uri, req.state, "access_denied",
                                                  "Anmeldung abgebrochen"))
        username = form.get("username", "")
        acr = parse_level(form.get("level", ""))
        if not USERNAME_RE.match(username):
            return self.send_html(HTTPStatus.BAD_REQUEST, login_page(
                req, username, "Bitte einen Benutzernamen aus Buchstaben, Ziffern, Punkt, _ oder - angeben."))
        if acr is None:
            return self.send_html(HTTPStatus.BAD_REQUEST, login_page(req, username, "Unbekanntes Vertrauensniveau."))
        self.redirect(p.success_redirect(req, username, acr))

    # --- /token ----------------------------------------------------------------------------

    def client_credentials(self, form: dict) -> tuple[str, str] | str:
        """(client_id, secret), or an error description."""
        auth = self.headers.get("Authorization")
        if auth:
            scheme, _, value = auth.partition(" ")
            if scheme.lower() != "basic":
                return "only HTTP Basic client authentication is supported in the Authorization header"
            if "client_secret" in form:
                return "more than one client authentication method used"
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return "malformed Basic credentials"
            user, sep, password = decoded.partition(":")
            if not sep:
                return "malformed Basic credentials"
            # RFC 6749 2.3.1: both are form-urlencoded before Base64.
            client_id = urllib.parse.unquote_plus(user)
            if "client_id" in form and form["client_id"] != client_id:
                return "client_id in body differs from the Basic credentials"
            return client_id, urllib.parse.unquote_plus(password)
        if "client_id" in form and "client_secret" in form:
            return form["client_id"], form["client_secret"]
        return "client authentication required (client_secret_basic or client_secret_post)"

    def token(self, form: dict) -> None:
        p = self.provider
        unauthorized = {"WWW-Authenticate": 'Basic realm="Test-BundID", charset="UTF-8"'}
        creds = self.client_credentials(form)
        if isinstance(creds, str):
            return self.oauth_error(HTTPStatus.UNAUTHORIZED, "invalid_client", creds, unauthorized)
        client_id, secret = creds
        if not (hmac.compare_digest(client_id.encode(), p.client_id.encode())
                and hmac.compare_digest(secret.encode(), p.client_secret.encode())):
            return self.oauth_error(HTTPStatus.UNAUTHORIZED, "invalid_client", "client authentication failed",
                                    unauthorized)
        grant_type = form.get("grant_type")
        if grant_type is None:
            return self.oauth_error(HTTPStatus.BAD_REQUEST, "invalid_request", "grant_type missing")
        if grant_type != "authorization_code":
            return self.oauth_error(HTTPStatus.BAD_REQUEST, "unsupported_grant_type",
                                    "only authorization_code is supported")
        code = form.get("code")
        if code is None:
            return self.oauth_error(HTTPStatus.BAD_REQUEST, "invalid_request", "code missing")
        grant = p.redeem(code)
        if grant is None:
            return self.oauth_error(HTTPStatus.BAD_REQUEST, "invalid_grant",
                                    "code unknown, expired or already used")
        if grant.client_id != client_id:
            return self.oauth_error(HTTPStatus.BAD_REQUEST, "invalid_grant", "code was issued to another client")
        if form.get("redirect_uri") != grant.redirect_uri:
            return self.oauth_error(HTTPStatus.BAD_REQUEST, "invalid_grant",
                                    "redirect_uri differs from the authorization request")
        verifier = form.get("code_verifier")
        if verifier is None:
            return self.oauth_error(HTTPStatus.BAD_REQUEST, "invalid_grant", "PKCE: code_verifier missing")
        if not CODE_VERIFIER_RE.match(verifier) or not hmac.compare_digest(s256(verifier), grant.code_challenge):
            return self.oauth_error(HTTPStatus.BAD_REQUEST, "invalid_grant", "PKCE: code_verifier does not match")
        self.send_json(HTTPStatus.OK, {
            "access_token": p.issue_access_token(grant),
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME,
            "id_token": p.id_token(grant),
            "scope": grant.scope,
        })

    # --- /userinfo -------------------------------------------------------------------------

    def bearer_auth_kind(self) -> str:
        return "bearer" if self.headers.get("Authorization", "").lower().startswith("bearer ") else "none"

    def userinfo(self) -> None:
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        claims = self.provider.userinfo(token.strip()) if scheme.lower() == "bearer" else None
        if claims is None:
            return self.send_json(HTTPStatus.UNAUTHORIZED, {"error": "invalid_token"},
                                  {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        self.send_json(HTTPStatus.OK, claims)

    # --- /_test ----------------------------------------------------------------------------

    def test_control(self, path: str, body: bytes) -> None:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": "body must be JSON"})
        if not isinstance(data, dict):
            return self.send_json(HTTPStatus.BAD_REQUEST, {"error": "body must be a JSON object"})
        p = self.provider
        if path == "/_test/mode":
            try:
                p.set_mode(data.get("mode"))
            except ValueError as e:
                return self.send_json(HTTPStatus.BAD_REQUEST, {"error": str(e), "modes": list(MODES)})
            return self.send_json(HTTPStatus.OK, {"mode": p.mode})
        if path == "/_test/redirect-uri":
            uri = data.get("redirect_uri")
            if not isinstance(uri, str) or not uri:
                return self.send_json(HTTPStatus.BAD_REQUEST, {"error": "redirect_uri (string) required"})
            p.add_redirect_uri(uri)
            return self.send_json(HTTPStatus.OK, {"redirect_uris": list(p.redirect_uris)})
        if path == "/_test/log" and data.get("clear"):
            p.clear_log()
            return self.send_json(HTTPStatus.OK, [])
        return self.send_json(HTTPStatus.NOT_FOUND, {"error": "not_found"})


def parse_params_lenient(raw: str) -> dict[str, str]:
    try:
        return parse_params(raw)
    except ParamError:
        return {}


# --- CLI --------------------------------------------------------------------------------------

def _watch_stdin(stop: threading.Event) -> None:
    """Sets `stop` when stdin reaches EOF — only if stdin is a pipe, socket or terminal (so that
    a provider started with stdin=/dev/null doesn't stop at once)."""
    try:
        fd = sys.stdin.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError, AttributeError):
        return
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)):
        return

    def run():
        try:
            while os.read(fd, 65536):
                pass
        except OSError:
            pass
        stop.set()

    threading.Thread(target=run, name="stdin-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="OpenID Connect provider for tests (Test-BundID) on 127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="port to bind (0: a free one)")
    ap.add_argument("--client-id", default="amtsweg")
    ap.add_argument("--client-secret", default="geheim")
    ap.add_argument("--redirect-uri", action="extend", nargs="+", default=[], metavar="URI",
                    help="registered redirect URIs (exact match); repeatable")
    ap.add_argument("--code-lifetime", type=float, default=60.0, metavar="SECONDS",
                    help="lifetime of authorization codes (default 60)")
    ap.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = ap.parse_args(argv)

    provider = OIDCProvider(port=args.port, client_id=args.client_id, client_secret=args.client_secret,
                            redirect_uris=args.redirect_uri, code_lifetime=args.code_lifetime,
                            verbose=args.verbose)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    provider.start()
    _watch_stdin(stop)
    sys.stdout.write(f"READY {provider.port}\n")
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    provider.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
