#!/usr/bin/env python3
"""A FIT-Connect test environment on 127.0.0.1: token endpoint, Routingdienst, Zustelldienst
(Submission API v1 with event log) and one Zustellpunkt whose Subscriber decrypts and checks every
submission and answers with accept-submission or reject-submission. Written from the API
description in shared/reference/ozg-standards.md §1, independently of Amtsweg's code.

As a module (pytest):

    server = FitConnectServer(client_id="amtsweg", client_secret="geheim",
                              leika_keys=["99027002012000"], ars="146270140140").start()
    server.base, server.destination_id, server.root_pem, server.submissions(), server.stop()

As a program (for the Swift tests):

    python3 e2e/fitconnect_server.py [--client-id amtsweg] [--client-secret geheim]
                                     [--leika KEY ...] [--ars ARS] [--state-dir DIR]
                                     [--port 0] [--subscriber-delay SECONDS] [--verbose]

prints exactly `READY <port>` on stdout once listening, writes the trust anchor to DIR/root.pem
when --state-dir is given, and serves until stdin closes.

PKI: at start a root CA ("Test-Verwaltungs-PKI Root", RSA 4096, self-signed) signs leaf
certificates for the destination's encryption key (RSA-OAEP-256), the destination's signature key
(PS512, SETs of the Subscriber), the Zustelldienst's signature key (PS512, its SETs) and the
Routingdienst's key (PS512, destinationSignature). Every published JWK carries `x5c` = [leaf, root]
(base64 DER). The 4096-bit keys are generated once per process (module-level cache), the
certificates and kids once per server.

Endpoints (JSON; errors of /v1 and /routing as application/problem+json {type,title,status,detail})
- POST /token                                   client_credentials, client_secret_post only
- GET  /routing/v1/routes?leikaKey=&ars=        (or ags= / areaId=; offset, limit <= 500)
- GET  /routing/.well-known/jwks.json           Routingdienst key            (no auth)
- GET  /.well-known/jwks.json                   Zustelldienst key            (no auth)
- GET  /v1/destinations/{id}
- GET  /v1/destinations/{id}/keys/{kid}
- POST /v1/submissions                          -> 201, logs create-submission
- PUT  /v1/submissions/{sid}/attachments/{aid}  Content-Type application/jose -> 204
- PUT  /v1/submissions/{sid}                    -> 200, logs submit-submission; then the Subscriber
                                                   (a background thread) logs accept-/reject-submission
- GET  /v1/submissions/{sid}
- GET  /v1/cases/{caseId}/events?offset=&limit=
Every /v1 and /routing/v1 request needs `Authorization: Bearer <token from /token>`.

The Subscriber decrypts metadata, data and every attachment (protected header alg RSA-OAEP-256,
enc A256GCM, kid = encryptionKid; zip DEF allowed; no size limit below the 128 MiB request limit),
validates the metadata against shared/data/fitconnect/metadata.schema.v1.0.0.json, checks the
SHA-512 hashes, the attachment ids against the announced ones, that the data is JSON and that
publicServiceType (if given) names the submission's service. Problem types it reports (prefix
https://schema.fitko.de/fit-connect/events/problems/): encryption-issue, syntax-violation,
unsupported-metadata-schema, schema-violation, hash-mismatch, unsupported-data-format,
attachments-mismatch, service-mismatch, technical-error (also for rejectNext).
A repeated PUT /v1/submissions/{sid} after submission answers the first answer again; an attachment
upload after submission answers 204 and changes nothing.

Test controls (no auth)
- GET  /test/submissions     every submission with its decrypted content, headers and problems
- POST /test/behaviour       {"failNext": N} next N /v1 requests answer 503;
                             {"rejectNext": true} next submitted submission is rejected;
                             {"forgeNextSet": true} next SET is signed with an unpublished key
                             (under the published kid); {"tokenExpiresIn": seconds} for new tokens.
                             Answers the pending behaviour; GET /test/behaviour shows it.
- GET  /test/root.pem        the trust anchor (PEM)
"""
from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import pathlib
import re
import secrets
import sys
import threading
import time
import urllib.parse
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc import jwe, jws
from joserfc.jwk import RSAKey
from jsonschema import Draft202012Validator

__all__ = ["FitConnectServer", "EVENT_PREFIX", "PROBLEM_PREFIX", "SET_SCHEMA", "main"]

HOST = "127.0.0.1"
EVENT_PREFIX = "https://schema.fitko.de/fit-connect/events/"
PROBLEM_PREFIX = "https://schema.fitko.de/fit-connect/events/problems/"
SET_SCHEMA = "https://schema.fitko.de/fit-connect/events/1.0.0/set-payload.schema.json"
METADATA_SCHEMA_ID = "https://schema.fitko.de/fit-connect/metadata/1.0.0/metadata.schema.json"
METADATA_SCHEMA_PATH = pathlib.Path(__file__).resolve().parents[2] / "shared/data/fitconnect/metadata.schema.v1.0.0.json"
LEIKA_URN = "urn:de:fim:leika:leistung:"
GEBIET_URN = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:"
JWE_ALGORITHMS = ["RSA-OAEP-256", "A256GCM", "DEF"]
DEFAULT_LEIKA = ["99027002012000"]
DEFAULT_ARS = "146270140140"
DESTINATION_NAME = "Stadt Musterstadt – Test"
DESTINATION_SHORT_NAME = "Musterstadt"
DEFAULT_TOKEN_LIFETIME = 1800
DEFAULT_SCOPE = "send:region:DE"
MAX_BODY = 128 << 20
MAX_DECOMPRESSED = 512 << 20

LEIKA_RE = re.compile(r"^99\d{12}$")
ARS_RE = re.compile(r"^(\d{2}|\d{3}|\d{5}|\d{9}|\d{12})$")
AGS_RE = re.compile(r"^(\d{2}|\d{3}|\d{5}|\d{8})$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
JWE_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
ARS_BOUNDARIES = (2, 3, 5, 9, 12)  # Land, Regierungsbezirk, Kreis, Gemeindeverband, Gemeinde


# --- keys and certificates ---------------------------------------------------------------------

KEY_NAMES = ("root", "encryption", "destination-signature", "zustelldienst", "routing", "rogue")
_KEY_CACHE: dict[str, rsa.RSAPrivateKey] = {}
_KEY_LOCK = threading.Lock()


def process_keys() -> dict[str, rsa.RSAPrivateKey]:
    """The RSA 4096 keys of this process, generated (in parallel) on first use."""
    with _KEY_LOCK:
        missing = [name for name in KEY_NAMES if name not in _KEY_CACHE]
        if missing:
            with ThreadPoolExecutor(len(missing)) as pool:
                generated = pool.map(lambda _: rsa.generate_private_key(public_exponent=65537, key_size=4096), missing)
                _KEY_CACHE.update(zip(missing, generated))
        return dict(_KEY_CACHE)


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _validity() -> tuple[datetime.datetime, datetime.datetime]:
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return now - datetime.timedelta(days=1), now + datetime.timedelta(days=365)


def make_root(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = _name("Test-Verwaltungs-PKI Root", "Test-Verwaltungs-PKI")
    not_before, not_after = _validity()
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))


def make_leaf(key: rsa.RSAPrivateKey, common_name: str, organisation: str, encryption: bool,
              root: x509.Certificate, root_key: rsa.RSAPrivateKey) -> x509.Certificate:
    not_before, not_after = _validity()
    return (x509.CertificateBuilder()
            .subject_name(_name(common_name, organisation)).issuer_name(root.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=not encryption, content_commitment=False,
                                         key_encipherment=encryption, data_encipherment=False, key_agreement=False,
                                         key_cert_sign=False, crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))


def _x5c(*certs: x509.Certificate) -> list[str]:
    return [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in certs]


def public_jwk(key: rsa.RSAPrivateKey, kid: str, alg: str, key_ops: list[str], chain: list[str]) -> dict:
    numbers = key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "alg": alg, "key_ops": list(key_ops),
            "n": b64u(_int_bytes(numbers.n)), "e": b64u(_int_bytes(numbers.e)), "x5c": list(chain)}


@dataclass
class _SigningKey:
    kid: str
    jwk: dict  # public, published
    jose: RSAKey  # private

    def sign(self, header: dict, claims: dict, key: RSAKey | None = None) -> str:
        payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return jws.serialize_compact(header, payload, key or self.jose, algorithms=["PS512"])


# --- JWE ---------------------------------------------------------------------------------------

class _Deflate:
    """"zip": "DEF" without joserfc's 250 KiB cap on the decompressed size (attachments are megabytes).
    Raw DEFLATE (RFC 1951) as RFC 7516 says; like joserfc it also takes a zlib-wrapped stream."""
    name = "DEF"
    description = "DEFLATE"
    recommended = True
    algorithm_type = "JWE"
    algorithm_location = "zip"

    def compress(self, s: bytes) -> bytes:
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return compressor.compress(s) + compressor.flush()

    def decompress(self, s: bytes) -> bytes:
        zlib_header = len(s) >= 2 and s[0] & 0x0F == 8 and int.from_bytes(s[:2], "big") % 31 == 0
        decompressor = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        value = decompressor.decompress(s, MAX_DECOMPRESSED)
        if decompressor.unconsumed_tail:
            raise ValueError(f"decompressed content exceeds {MAX_DECOMPRESSED} bytes")
        return value


class _JWERegistry(jwe.JWERegistry):
    """joserfc's registry without its 64 KiB limit on the ciphertext (a JWE may be as large as a request)."""
    algorithms = {"alg": dict(jwe.JWERegistry.algorithms["alg"]), "enc": dict(jwe.JWERegistry.algorithms["enc"]),
                  "zip": {"DEF": _Deflate()}}  # type: ignore[dict-item]
    max_ciphertext_length = 2 * MAX_BODY


# The Subscriber allows exactly FIT-Connect's algorithms; header parameters joserfc doesn't know are not an error.
JWE_REGISTRY = _JWERegistry(algorithms=JWE_ALGORITHMS, strict_check_header=False)


# --- metadata schema ---------------------------------------------------------------------------

_VALIDATOR: Draft202012Validator | None = None


def metadata_validator() -> Draft202012Validator:
    global _VALIDATOR
    if _VALIDATOR is None:
        schema = json.loads(METADATA_SCHEMA_PATH.read_text(encoding="utf-8"))
        _VALIDATOR = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return _VALIDATOR


# --- state -------------------------------------------------------------------------------------

@dataclass
class Submission:
    submission_id: str
    case_id: str
    destination_id: str
    service_type: dict
    announced: list[str]
    status: str = "incomplete"
    encrypted_attachments: dict[str, str] = field(default_factory=dict)
    encrypted_metadata: str | None = None
    encrypted_data: str | None = None
    submit_count: int = 0
    submit_response: dict | None = None
    # what the Subscriber found
    metadata: object = None
    data: object = None
    attachments: dict[str, bytes] = field(default_factory=dict)
    headers: dict = field(default_factory=lambda: {"metadata": None, "data": None, "attachments": {}})
    problems: list[dict] = field(default_factory=list)

    def announced_id(self, aid: str) -> str | None:
        for a in self.announced:
            if a.lower() == aid.lower():
                return a
        return None

    def public(self) -> dict:
        return {"destinationId": self.destination_id, "submissionId": self.submission_id, "caseId": self.case_id,
                "status": self.status, "serviceType": dict(self.service_type),
                "announcedAttachments": list(self.announced)}


class ApiError(Exception):
    def __init__(self, status: int, detail: str, title: str | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}
        self.title = title or HTTPStatus(status).phrase


def _problem(slug: str, title: str, detail: str, instance: str) -> dict:
    return {"type": PROBLEM_PREFIX + slug, "title": title, "detail": detail, "instance": instance}


def _auth_tag(jwe_compact: str) -> str:
    return jwe_compact.split(".")[4]


class FitConnectServer:
    """Token endpoint, Routingdienst, Zustelldienst and one destination with its Subscriber.
    Thread-safe; `start()` serves in a background thread."""

    def __init__(self, client_id: str = "amtsweg", client_secret: str = "geheim",
                 leika_keys: list[str] | tuple[str, ...] | None = None, ars: str = DEFAULT_ARS,
                 port: int = 0, state_dir: str | pathlib.Path | None = None,
                 subscriber_delay: float = 0.0, verbose: bool = False):
        self.client_id = client_id
        self.client_secret = client_secret
        self.leika_keys: list[str] = list(leika_keys or DEFAULT_LEIKA)
        for key in self.leika_keys:
            if not LEIKA_RE.match(key):
                raise ValueError(f"not a LeiKa key: {key!r}")
        if not ARS_RE.match(ars):
            raise ValueError(f"not an ARS (2, 3, 5, 9 or 12 digits): {ars!r}")
        self.ars = ars
        self.subscriber_delay = subscriber_delay
        self.verbose = verbose

        keys = process_keys()
        root_key = keys["root"]
        self.root_cert = make_root(root_key)
        self.root_pem: str = self.root_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

        def leaf(name: str, cn: str, org: str, encryption: bool) -> list[str]:
            return _x5c(make_leaf(keys[name], cn, org, encryption, self.root_cert, root_key), self.root_cert)

        self.destination_id = str(uuid.uuid4())
        self.encryption_kid = "enc-" + secrets.token_hex(8)
        self.signature_kid = "sig-" + secrets.token_hex(8)
        self.zustelldienst_kid = "zd-" + secrets.token_hex(8)
        self.routing_kid = "rd-" + secrets.token_hex(8)
        self._encryption_private = RSAKey.import_key(keys["encryption"])
        self.encryption_jwk = public_jwk(keys["encryption"], self.encryption_kid, "RSA-OAEP-256", ["wrapKey"],
                                         leaf("encryption", DESTINATION_NAME + " (Verschlüsselung)", "Stadt Musterstadt", True))

        def signing(name: str, kid: str, cn: str, org: str) -> _SigningKey:
            return _SigningKey(kid, public_jwk(keys[name], kid, "PS512", ["verify"], leaf(name, cn, org, False)),
                               RSAKey.import_key(keys[name]))

        self._destination_signer = signing("destination-signature", self.signature_kid,
                                           DESTINATION_NAME + " (Signatur)", "Stadt Musterstadt")
        self._zustelldienst_signer = signing("zustelldienst", self.zustelldienst_kid, "Zustelldienst (Test)", "FIT-Connect Test")
        self._routing_signer = signing("routing", self.routing_kid, "Routingdienst (Test)", "FIT-Connect Test")
        self._rogue_key = RSAKey.import_key(keys["rogue"])
        self.signature_jwk = self._destination_signer.jwk

        self._lock = threading.RLock()
        self._tokens: dict[str, float] = {}
        self._token_lifetime = DEFAULT_TOKEN_LIFETIME
        self._fail_next = 0
        self._reject_next = False
        self._forge_next_set = False
        self._submissions: dict[str, Submission] = {}
        self._cases: dict[str, str] = {}
        self._events: dict[str, list[str]] = {}
        self._create_count = 0
        self._workers: list[threading.Thread] = []

        self.httpd = ThreadingHTTPServer((HOST, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fitconnect = self  # type: ignore[attr-defined]
        self.host = HOST
        self.port: int = self.httpd.server_address[1]
        self.base = f"http://{HOST}:{self.port}"
        self.token_url = self.base + "/token"
        self.routing_base = self.base + "/routing"
        self.submission_base = self.base + "/v1"
        self.issuer = f"https://{HOST}:{self.port}"  # iss of the Zustelldienst's SETs
        self.routing_issuer = self.base + "/routing"
        self._thread: threading.Thread | None = None
        if state_dir is not None:
            directory = pathlib.Path(state_dir)
            directory.mkdir(parents=True, exist_ok=True)
            (directory / "root.pem").write_text(self.root_pem, encoding="ascii")

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> "FitConnectServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="fitconnect", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
            self._thread = None
        self.httpd.server_close()
        for worker in list(self._workers):
            worker.join(timeout=10)

    def __enter__(self) -> "FitConnectServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- test controls ---------------------------------------------------------------------

    def behaviour(self) -> dict:
        with self._lock:
            return {"failNext": self._fail_next, "rejectNext": self._reject_next,
                    "forgeNextSet": self._forge_next_set, "tokenExpiresIn": self._token_lifetime}

    def set_behaviour(self, changes: dict) -> dict:
        """Applies {"failNext": int>=0, "rejectNext": bool, "forgeNextSet": bool, "tokenExpiresIn": int>=0};
        ValueError for anything else (nothing is applied then)."""
        if not isinstance(changes, dict):
            raise ValueError("body must be a JSON object")
        known = {"failNext": int, "rejectNext": bool, "forgeNextSet": bool, "tokenExpiresIn": int}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown behaviour {name!r}; known: {', '.join(known)}")
            kind = known[name]
            if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be a non-negative integer")
            if kind is bool and not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
        with self._lock:
            if "failNext" in changes:
                self._fail_next = changes["failNext"]
            if "rejectNext" in changes:
                self._reject_next = changes["rejectNext"]
            if "forgeNextSet" in changes:
                self._forge_next_set = changes["forgeNextSet"]
            if "tokenExpiresIn" in changes:
                self._token_lifetime = changes["tokenExpiresIn"]
        return self.behaviour()

    def take_failure(self) -> bool:
        with self._lock:
            if self._fail_next > 0:
                self._fail_next -= 1
                return True
            return False

    def submissions(self) -> list[dict]:
        """Every submission with what the Subscriber decrypted (the body of GET /test/submissions)."""
        with self._lock:
            out = []
            for s in self._submissions.values():
                out.append({
                    "destinationId": s.destination_id,
                    "submissionId": s.submission_id, "caseId": s.case_id, "status": s.status,
                    "serviceType": dict(s.service_type), "announcedAttachments": list(s.announced),
                    "metadata": s.metadata, "data": s.data,
                    "attachments": {aid: {"size": len(b), "sha512": hashlib.sha512(b).hexdigest(),
                                          "base64": base64.b64encode(b).decode("ascii")}
                                    for aid, b in s.attachments.items()},
                    "headers": {"metadata": s.headers["metadata"], "data": s.headers["data"],
                                "attachments": dict(s.headers["attachments"])},
                    "problems": [dict(p) for p in s.problems],
                    "submitCount": s.submit_count,
                    "createCount": self._create_count,
                })
            return json.loads(json.dumps(out))

    def event_log(self, case_id: str) -> list[str]:
        with self._lock:
            return list(self._events.get(case_id, []))

    def wait_for_status(self, submission_id: str, statuses=("accepted", "rejected"), timeout: float = 10.0) -> str:
        """Waits until the submission has one of `statuses`; returns it (TimeoutError otherwise)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                s = self._submissions.get(submission_id)
                status = s.status if s else None
            if status in statuses:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"submission {submission_id} still {status!r}")
            time.sleep(0.02)

    # --- tokens ----------------------------------------------------------------------------

    def issue_token(self, client_id: str, client_secret: str, grant_type: str | None, scope: str | None) -> dict:
        if not (hmac.compare_digest(client_id.encode(), self.client_id.encode())
                and hmac.compare_digest(client_secret.encode(), self.client_secret.encode())):
            raise ApiError(401, "invalid_client")
        if grant_type != "client_credentials":
            raise ApiError(400, "unsupported_grant_type" if grant_type else "invalid_request")
        token = secrets.token_urlsafe(32)
        with self._lock:
            lifetime = self._token_lifetime
            now = time.monotonic()
            for t in [t for t, exp in self._tokens.items() if exp < now - 3600]:
                del self._tokens[t]
            self._tokens[token] = now + lifetime
        return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": scope or DEFAULT_SCOPE}

    def token_valid(self, token: str) -> bool:
        with self._lock:
            expires = self._tokens.get(token)
        return expires is not None and time.monotonic() < expires

    # --- keys ------------------------------------------------------------------------------

    def routing_jwks(self) -> dict:
        return {"keys": [dict(self._routing_signer.jwk)]}

    def zustelldienst_jwks(self) -> dict:
        return {"keys": [dict(self._zustelldienst_signer.jwk)]}

    def destination_key(self, destination_id: str, kid: str) -> dict:
        self._destination(destination_id)
        if kid == self.encryption_kid:
            return dict(self.encryption_jwk)
        if kid == self.signature_kid:
            return dict(self._destination_signer.jwk)
        raise ApiError(404, f"Schlüssel {kid!r} ist am Zustellpunkt nicht hinterlegt")

    # --- routing ---------------------------------------------------------------------------

    @staticmethod
    def _ars_prefix(ars: str) -> str:
        """The ARS without trailing all-zero segments (064120000000 -> 06412)."""
        bounds = [b for b in ARS_BOUNDARIES if b <= len(ars)]
        while len(bounds) > 1 and set(ars[bounds[-2]:bounds[-1]]) == {"0"}:
            bounds.pop()
        return ars[:bounds[-1]]

    def _covers_ars(self, ars: str) -> bool:
        return self._ars_prefix(ars).startswith(self._ars_prefix(self.ars))

    def _covers_ags(self, ags: str) -> bool:
        own = self._ars_prefix(self.ars)
        if len(own) <= 5:
            return ags.startswith(own)
        if len(own) == 12:
            return ags == own[:5] + own[9:]
        return False

    def destination_signature(self) -> str:
        claims = {
            "iss": self.routing_issuer,
            "iat": int(time.time()),
            "jti": str(uuid.uuid4()),
            "submissionHost": f"{HOST}:{self.port}",
            "destinationId": self.destination_id,
            "services": [{"gebietIDs": [GEBIET_URN + self.ars],
                          "leistungIDs": [LEIKA_URN + k for k in self.leika_keys]}],
        }
        return self._routing_signer.sign({"alg": "PS512", "kid": self.routing_kid}, claims)

    def routes(self, query: dict[str, str]) -> dict:
        leika = query.get("leikaKey")
        if leika is None:
            raise ApiError(400, "leikaKey fehlt")
        if not LEIKA_RE.match(leika):
            raise ApiError(400, "leikaKey muss dem Muster ^99\\d{12}$ entsprechen")
        areas = [name for name in ("ars", "ags", "areaId") if name in query]
        if len(areas) != 1:
            raise ApiError(400, "genau einer der Parameter ars, ags oder areaId ist anzugeben")
        offset = _int_param(query, "offset", 0, 0, None)
        limit = _int_param(query, "limit", 100, 1, 500)
        if "ars" in query:
            if not ARS_RE.match(query["ars"]):
                raise ApiError(400, "ars muss 2, 3, 5, 9 oder 12 Ziffern haben")
            covered = self._covers_ars(query["ars"])
        elif "ags" in query:
            if not AGS_RE.match(query["ags"]):
                raise ApiError(400, "ags muss 2, 3, 5 oder 8 Ziffern haben")
            covered = self._covers_ags(query["ags"])
        else:
            covered = False  # this Routingdienst knows no area ids
        routes = []
        if covered and leika in self.leika_keys:
            routes.append({
                "destinationId": self.destination_id,
                "destinationSignature": self.destination_signature(),
                "destinationName": DESTINATION_NAME,
                "destinationShortName": DESTINATION_SHORT_NAME,
                "destinationLogo": None,
                "contactPersons": [],
                "processingDuration": None,
                "customParameters": {},
                "origin": "TEST",
            })
        page = routes[offset:offset + limit]
        return {"count": len(page), "offset": offset, "totalCount": len(routes), "routes": page}

    # --- destination -----------------------------------------------------------------------

    def _destination(self, destination_id: str) -> None:
        if destination_id != self.destination_id:
            raise ApiError(404, f"Zustellpunkt {destination_id!r} ist unbekannt")

    def destination(self, destination_id: str) -> dict:
        self._destination(destination_id)
        return {
            "destinationId": self.destination_id,
            "status": "active",
            "encryptionKid": self.encryption_kid,
            "signatureKid": self.signature_kid,
            "services": [{"identifier": LEIKA_URN + key,
                          "submissionSchemas": [{"schemaUri": "*", "mimeType": "application/json"}],
                          "regions": ["DE" + self.ars]} for key in self.leika_keys],
            "replyChannels": {"eMail": {"usePgp": False}},
            "metadataVersions": ["1.0.0"],
        }

    # --- SETs ------------------------------------------------------------------------------

    def _log_event(self, sub: Submission, name: str, payload: dict, by_destination: bool) -> str:
        """Signs a SET and appends it to the case's event log. Call with self._lock held."""
        signer = self._destination_signer if by_destination else self._zustelldienst_signer
        claims = {
            "$schema": SET_SCHEMA,
            "jti": str(uuid.uuid4()),
            "iss": sub.destination_id if by_destination else self.issuer,
            "iat": int(time.time()),
            "sub": "submission:" + sub.submission_id,
            "txn": "case:" + sub.case_id,
            "events": {EVENT_PREFIX + name: payload},
        }
        forged = self._forge_next_set
        self._forge_next_set = False
        token = signer.sign({"alg": "PS512", "typ": "secevent+jwt", "kid": signer.kid}, claims,
                            self._rogue_key if forged else None)
        self._events.setdefault(sub.case_id, []).append(token)
        return token

    def events(self, case_id: str, query: dict[str, str]) -> dict:
        offset = _int_param(query, "offset", 0, 0, None)
        limit = _int_param(query, "limit", 100, 1, 500)
        with self._lock:
            if case_id not in self._cases:
                raise ApiError(404, f"Vorgang {case_id!r} ist unbekannt")
            log = list(self._events.get(case_id, []))
        page = log[offset:offset + limit]
        return {"offset": offset, "count": len(page), "totalCount": len(log), "eventLog": page}

    # --- submissions -----------------------------------------------------------------------

    def _submission(self, submission_id: str) -> Submission:
        sub = self._submissions.get(submission_id)
        if sub is None:
            raise ApiError(404, f"Einreichung {submission_id!r} ist unbekannt")
        return sub

    def get_submission(self, submission_id: str) -> dict:
        with self._lock:
            return self._submission(submission_id).public()

    def create_submission(self, body: dict) -> dict:
        if not isinstance(body, dict):
            raise ApiError(422, "Der Inhalt muss ein JSON-Objekt sein")
        unknown = set(body) - {"destinationId", "announcedAttachments", "serviceType", "bidirectional"}
        if unknown:
            raise ApiError(422, f"unbekannte Felder: {', '.join(sorted(unknown))}")
        destination_id = body.get("destinationId")
        if not isinstance(destination_id, str):
            raise ApiError(422, "destinationId fehlt oder ist keine Zeichenkette")
        if destination_id != self.destination_id:
            raise ApiError(422, f"Zustellpunkt {destination_id!r} ist unbekannt")
        service = body.get("serviceType")
        if not isinstance(service, dict):
            raise ApiError(422, "serviceType fehlt oder ist kein Objekt")
        if set(service) - {"name", "identifier", "description"}:
            raise ApiError(422, "serviceType hat unbekannte Felder")
        if not isinstance(service.get("name"), str) or not service["name"].strip():
            raise ApiError(422, "serviceType.name fehlt")
        identifier = service.get("identifier")
        if not isinstance(identifier, str):
            raise ApiError(422, "serviceType.identifier fehlt")
        if identifier not in [LEIKA_URN + k for k in self.leika_keys]:
            raise ApiError(422, f"Die Leistung {identifier!r} wird von diesem Zustellpunkt nicht angeboten")
        announced = body.get("announcedAttachments")
        if not isinstance(announced, list) or not all(isinstance(a, str) for a in announced):
            raise ApiError(422, "announcedAttachments muss eine Liste von UUIDs sein")
        for a in announced:
            if not UUID_RE.match(a):
                raise ApiError(422, f"announcedAttachments: {a!r} ist keine UUID")
        if len({a.lower() for a in announced}) != len(announced):
            raise ApiError(422, "announcedAttachments enthält eine UUID mehrfach")
        if "bidirectional" in body and not isinstance(body["bidirectional"], bool):
            raise ApiError(422, "bidirectional muss true oder false sein")
        sub = Submission(submission_id=str(uuid.uuid4()), case_id=str(uuid.uuid4()),
                         destination_id=destination_id, service_type=dict(service), announced=list(announced))
        with self._lock:
            self._submissions[sub.submission_id] = sub
            self._cases[sub.case_id] = sub.submission_id
            self._create_count += 1
            self._log_event(sub, "create-submission", {}, by_destination=False)
        return {"destinationId": sub.destination_id, "submissionId": sub.submission_id, "caseId": sub.case_id}

    def upload_attachment(self, submission_id: str, attachment_id: str, body: bytes) -> None:
        with self._lock:
            sub = self._submission(submission_id)
            aid = sub.announced_id(attachment_id)
            if aid is None:
                raise ApiError(404, f"Anlage {attachment_id!r} wurde für diese Einreichung nicht angekündigt")
        try:
            text = body.decode("ascii").strip()
        except UnicodeDecodeError:
            text = ""
        if not JWE_RE.match(text):
            raise ApiError(422, "Der Inhalt ist kein JWE in Compact Serialization (5 base64url-Teile)")
        with self._lock:
            if sub.status == "incomplete":  # after submission an upload changes nothing (idempotent retry)
                sub.encrypted_attachments[aid] = text

    def submit(self, submission_id: str, body: object) -> dict:
        if not isinstance(body, dict):
            raise ApiError(422, "Der Inhalt muss ein JSON-Objekt sein")
        with self._lock:
            sub = self._submission(submission_id)
            if sub.status != "incomplete":
                sub.submit_count += 1
                return dict(sub.submit_response or {})
        unknown = set(body) - {"encryptedMetadata", "encryptedData"}
        if unknown:
            raise ApiError(422, f"unbekannte Felder: {', '.join(sorted(unknown))}")
        for name in ("encryptedMetadata", "encryptedData"):
            value = body.get(name)
            if not isinstance(value, str) or not JWE_RE.match(value):
                raise ApiError(422, f"{name} fehlt oder ist kein JWE in Compact Serialization")
        with self._lock:
            if sub.status != "incomplete":  # a concurrent submit won
                sub.submit_count += 1
                return dict(sub.submit_response or {})
            missing = [a for a in sub.announced if a not in sub.encrypted_attachments]
            if missing:
                raise ApiError(409, "Nicht alle angekündigten Anlagen wurden hochgeladen: " + ", ".join(missing))
            sub.encrypted_metadata = body["encryptedMetadata"]
            sub.encrypted_data = body["encryptedData"]
            sub.status = "submitted"
            sub.submit_count += 1
            sub.submit_response = {"destinationId": sub.destination_id, "submissionId": sub.submission_id,
                                   "caseId": sub.case_id, "status": "submitted"}
            self._log_event(sub, "submit-submission", {"authenticationTags": self._tags(sub)}, by_destination=False)
            reject = self._reject_next
            self._reject_next = False
            worker = threading.Thread(target=self._subscriber, args=(sub, reject), name="fitconnect-subscriber",
                                      daemon=True)
            self._workers = [w for w in self._workers if w.is_alive()] + [worker]
            worker.start()
            return dict(sub.submit_response)

    @staticmethod
    def _tags(sub: Submission) -> dict:
        return {"metadata": _auth_tag(sub.encrypted_metadata or ""), "data": _auth_tag(sub.encrypted_data or ""),
                "attachments": {aid: _auth_tag(sub.encrypted_attachments[aid]) for aid in sub.announced}}

    # --- the Subscriber --------------------------------------------------------------------

    def _subscriber(self, sub: Submission, reject: bool) -> None:
        if self.subscriber_delay:
            time.sleep(self.subscriber_delay)
        try:
            result = self._check(sub, reject)
        except Exception as e:  # noqa: BLE001 - a bug in the double must still end in an event
            result = {"problems": [_problem("technical-error", "Technischer Fehler",
                                            f"{type(e).__name__}: {e}", "metadata")],
                      "metadata": None, "data": None, "attachments": {}, "headers": None, "decrypted": False}
        with self._lock:
            sub.metadata, sub.data = result["metadata"], result["data"]
            sub.attachments = result["attachments"]
            if result["headers"] is not None:
                sub.headers = result["headers"]
            sub.problems = result["problems"]
            if sub.problems:
                payload: dict = {"problems": sub.problems}
                if result["decrypted"]:
                    payload["authenticationTags"] = self._tags(sub)
                self._log_event(sub, "reject-submission", payload, by_destination=True)
                sub.status = "rejected"
            else:
                self._log_event(sub, "accept-submission", {"authenticationTags": self._tags(sub)}, by_destination=True)
                sub.status = "accepted"

    def _decrypt(self, token: str, instance: str, headers_out: dict, key: str | None,
                 problems: list[dict]) -> bytes | None:
        try:
            header = json.loads(b64u_decode(token.split(".")[0]))
            if not isinstance(header, dict):
                raise ValueError("not an object")
        except ValueError:
            problems.append(_problem("encryption-issue", "Entschlüsselung fehlgeschlagen",
                                     "Der Protected Header ist kein JSON-Objekt", instance))
            return None
        if key is None:
            headers_out[instance] = header
        else:
            headers_out["attachments"][key] = header
        wrong = [f"{name} ist {header.get(name)!r} statt {want!r}"
                 for name, want in (("alg", "RSA-OAEP-256"), ("enc", "A256GCM"), ("kid", self.encryption_kid))
                 if header.get(name) != want]
        if wrong:
            problems.append(_problem("encryption-issue", "Entschlüsselung fehlgeschlagen",
                                     "Protected Header: " + "; ".join(wrong), instance))
            return None
        try:
            return jwe.decrypt_compact(token, self._encryption_private, registry=JWE_REGISTRY).plaintext or b""
        except Exception as e:  # noqa: BLE001 - joserfc raises various errors
            problems.append(_problem("encryption-issue", "Entschlüsselung fehlgeschlagen",
                                     f"{type(e).__name__}: {e}", instance))
            return None

    def _check(self, sub: Submission, reject: bool) -> dict:
        with self._lock:
            enc_metadata, enc_data = sub.encrypted_metadata or "", sub.encrypted_data or ""
            enc_attachments = dict(sub.encrypted_attachments)
            announced = list(sub.announced)
            service_identifier = sub.service_type.get("identifier")
        problems: list[dict] = []
        headers: dict = {"metadata": None, "data": None, "attachments": {}}
        metadata_bytes = self._decrypt(enc_metadata, "metadata", headers, None, problems)
        data_bytes = self._decrypt(enc_data, "data", headers, None, problems)
        attachments: dict[str, bytes] = {}
        for aid in announced:
            plain = self._decrypt(enc_attachments[aid], "attachment:" + aid, headers, aid, problems)
            if plain is not None:
                attachments[aid] = plain
        decrypted = not problems

        metadata = None
        if metadata_bytes is not None:
            try:
                metadata = json.loads(metadata_bytes)
            except ValueError as e:
                problems.append(_problem("syntax-violation", "Metadaten sind kein JSON", str(e), "metadata"))
        data = None
        if data_bytes is not None:
            try:
                data = json.loads(data_bytes)
            except ValueError as e:
                problems.append(_problem("syntax-violation", "Fachdaten sind kein JSON", str(e), "data"))

        if metadata is not None:
            problems.extend(self._check_metadata(metadata, data_bytes, attachments, announced, service_identifier))
        if reject:
            problems.append(_problem("technical-error", "Abgelehnt zu Testzwecken",
                                     "Der Testserver wurde angewiesen, diese Einreichung abzulehnen", "metadata"))
        return {"problems": problems, "metadata": metadata, "data": data, "attachments": attachments,
                "headers": headers, "decrypted": decrypted}

    def _check_metadata(self, metadata: object, data_bytes: bytes | None, attachments: dict[str, bytes],
                        announced: list[str], service_identifier: str | None) -> list[dict]:
        problems: list[dict] = []
        if isinstance(metadata, dict) and "$schema" in metadata and metadata["$schema"] != METADATA_SCHEMA_ID:
            return [_problem("unsupported-metadata-schema", "Metadatenschema nicht unterstützt",
                             f"$schema {metadata['$schema']!r}; unterstützt: {METADATA_SCHEMA_ID}", "metadata")]
        errors = sorted(metadata_validator().iter_errors(metadata), key=lambda e: list(e.absolute_path))
        for error in errors[:20]:
            path = "/" + "/".join(str(p) for p in error.absolute_path)
            problems.append(_problem("schema-violation", "Metadaten verletzen das Schema",
                                     f"{path}: {error.message}", "metadata"))
        if errors:
            return problems

        content = metadata["contentStructure"]
        data_entry = content.get("data")
        if data_entry is None:
            problems.append(_problem("hash-mismatch", "Hashwert der Fachdaten fehlt",
                                     "contentStructure.data fehlt, obwohl Fachdaten übermittelt wurden", "data"))
        else:
            if data_bytes is not None and data_entry["hash"]["content"] != hashlib.sha512(data_bytes).hexdigest():
                problems.append(_problem("hash-mismatch", "Hashwert der Fachdaten stimmt nicht",
                                         "contentStructure.data.hash passt nicht zu den entschlüsselten Fachdaten",
                                         "data"))
            if data_entry["submissionSchema"]["mimeType"] != "application/json":
                problems.append(_problem("unsupported-data-format", "Datenformat nicht unterstützt",
                                         "Dieser Zustellpunkt nimmt nur application/json an", "data"))

        entries = content["attachments"]
        listed = [e["attachmentId"].lower() for e in entries]
        expected = {a.lower() for a in announced}
        if len(set(listed)) != len(listed) or set(listed) != expected:
            missing = sorted(expected - set(listed))
            extra = sorted(set(listed) - expected)
            detail = "Anlagen in den Metadaten passen nicht zu den angekündigten"
            if missing:
                detail += "; fehlen: " + ", ".join(missing)
            if extra:
                detail += "; nicht angekündigt: " + ", ".join(extra)
            if len(set(listed)) != len(listed):
                detail += "; doppelt aufgeführt"
            problems.append(_problem("attachments-mismatch", "Anlagen stimmen nicht überein", detail, "metadata"))
        by_lower = {aid.lower(): aid for aid in attachments}
        for entry in entries:
            aid = by_lower.get(entry["attachmentId"].lower())
            if aid is None:
                continue
            if entry["hash"]["content"] != hashlib.sha512(attachments[aid]).hexdigest():
                problems.append(_problem("hash-mismatch", "Hashwert der Anlage stimmt nicht",
                                         f"Der Hashwert von Anlage {aid} passt nicht zur entschlüsselten Anlage",
                                         "attachment:" + aid))

        public_service = metadata.get("publicServiceType")
        if isinstance(public_service, dict) and public_service.get("identifier") != service_identifier:
            problems.append(_problem("service-mismatch", "Leistung stimmt nicht überein",
                                     f"publicServiceType.identifier {public_service.get('identifier')!r} "
                                     f"statt {service_identifier!r}", "metadata"))
        return problems


def _int_param(query: dict[str, str], name: str, default: int, minimum: int, maximum: int | None) -> int:
    if name not in query:
        return default
    raw = query[name]
    if not re.fullmatch(r"\d{1,9}", raw):
        raise ApiError(400, f"{name} muss eine ganze Zahl sein")
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        raise ApiError(400, f"{name} muss zwischen {minimum} und {maximum if maximum is not None else '∞'} liegen")
    return value


# --- HTTP --------------------------------------------------------------------------------------

ROUTES = [
    ("GET", re.compile(r"^/v1/destinations/([^/]+)$"), "get_destination"),
    ("GET", re.compile(r"^/v1/destinations/([^/]+)/keys/([^/]+)$"), "get_key"),
    ("POST", re.compile(r"^/v1/submissions$"), "post_submission"),
    ("PUT", re.compile(r"^/v1/submissions/([^/]+)/attachments/([^/]+)$"), "put_attachment"),
    ("PUT", re.compile(r"^/v1/submissions/([^/]+)$"), "put_submission"),
    ("GET", re.compile(r"^/v1/submissions/([^/]+)$"), "get_submission"),
    ("GET", re.compile(r"^/v1/cases/([^/]+)/events$"), "get_events"),
    ("GET", re.compile(r"^/routing/v1/routes$"), "get_routes"),
]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FIT-Connect-Test/1.0"

    @property
    def fc(self) -> FitConnectServer:
        return self.server.fitconnect  # type: ignore[attr-defined]

    def log_message(self, format, *args):  # noqa: A002 - signature of BaseHTTPRequestHandler
        if self.fc.verbose:
            super().log_message(format, *args)

    # --- responses -------------------------------------------------------------------------

    def send(self, status: int, body: bytes, content_type: str | None, headers: dict | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, obj, headers: dict | None = None) -> None:
        self.send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json", headers)

    def send_problem(self, status: int, detail: str, title: str | None = None, headers: dict | None = None) -> None:
        body = {"type": "about:blank", "title": title or HTTPStatus(status).phrase, "status": status, "detail": detail}
        self.send(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/problem+json", headers)

    # --- requests --------------------------------------------------------------------------

    def read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self.send_problem(411, "Content-Length ist erforderlich")
            return None
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self.send_problem(413 if length > 0 else 400, "ungültige Content-Length")
            return None
        return self.rfile.read(length) if length else b""

    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def json_body(self, body: bytes) -> object:
        if self.content_type() != "application/json":
            raise ApiError(415, "Content-Type muss application/json sein")
        try:
            return json.loads(body)
        except ValueError:
            raise ApiError(400, "Der Inhalt ist kein gültiges JSON") from None

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def do_PATCH(self):
        self.handle_any()

    def handle_any(self) -> None:
        body = self.read_body()
        if body is None:
            return
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path
        try:
            query = _parse_query(parts.query)
            if path == "/token":
                return self.token(body)
            if path.startswith("/test/"):
                return self.test_control(path, body)
            if path in ("/.well-known/jwks.json", "/routing/.well-known/jwks.json"):
                if self.command != "GET":
                    raise ApiError(405, "nur GET", headers={"Allow": "GET"})
                return self.send_json(200, self.fc.routing_jwks() if path.startswith("/routing") else self.fc.zustelldienst_jwks())
            if path.startswith("/v1/") and self.fc.take_failure():
                raise ApiError(503, "Der Zustelldienst ist vorübergehend nicht verfügbar (Testverhalten failNext)")
            if path.startswith("/v1/") or path.startswith("/routing/"):
                self.authenticate()
            matched_path = False
            for method, pattern, handler in ROUTES:
                m = pattern.match(path)
                if m:
                    matched_path = True
                    if method == self.command:
                        return getattr(self, handler)(body, query, *(urllib.parse.unquote(g) for g in m.groups()))
            if matched_path:
                raise ApiError(405, f"{self.command} ist hier nicht erlaubt")
            raise ApiError(404, f"{path} gibt es nicht")
        except ApiError as e:
            self.send_problem(e.status, e.detail, e.title, e.headers)

    def authenticate(self) -> None:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not self.fc.token_valid(token.strip()):
            raise ApiError(401, "Ein gültiges Bearer-Token von /token ist erforderlich",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    # --- /token ----------------------------------------------------------------------------

    def token(self, body: bytes) -> None:
        if self.command != "POST":
            return self.send_json(405, {"error": "invalid_request", "error_description": "POST only"}, {"Allow": "POST"})
        if self.content_type() != "application/x-www-form-urlencoded":
            return self.send_json(400, {"error": "invalid_request",
                                        "error_description": "Content-Type must be application/x-www-form-urlencoded"})
        try:
            form = _parse_query(body.decode("utf-8"))
        except (ApiError, UnicodeDecodeError):
            return self.send_json(400, {"error": "invalid_request", "error_description": "malformed form body"})
        if "client_id" not in form or "client_secret" not in form:
            return self.send_json(401, {"error": "invalid_client",
                                        "error_description": "client_secret_post required"})
        try:
            answer = self.fc.issue_token(form["client_id"], form["client_secret"], form.get("grant_type"), form.get("scope"))
        except ApiError as e:
            return self.send_json(e.status, {"error": e.detail})
        self.send_json(200, answer, {"Pragma": "no-cache"})

    # --- API -------------------------------------------------------------------------------

    def get_routes(self, body: bytes, query: dict) -> None:
        self.send_json(200, self.fc.routes(query))

    def get_destination(self, body: bytes, query: dict, destination_id: str) -> None:
        self.send_json(200, self.fc.destination(destination_id))

    def get_key(self, body: bytes, query: dict, destination_id: str, kid: str) -> None:
        self.send_json(200, self.fc.destination_key(destination_id, kid))

    def post_submission(self, body: bytes, query: dict) -> None:
        self.send_json(201, self.fc.create_submission(self.json_body(body)))

    def put_attachment(self, body: bytes, query: dict, submission_id: str, attachment_id: str) -> None:
        with self.fc._lock:
            self.fc._submission(submission_id)
        if self.content_type() != "application/jose":
            raise ApiError(415, "Content-Type muss application/jose sein")
        self.fc.upload_attachment(submission_id, attachment_id, body)
        self.send(204, b"", None)

    def put_submission(self, body: bytes, query: dict, submission_id: str) -> None:
        with self.fc._lock:
            self.fc._submission(submission_id)
        self.send_json(200, self.fc.submit(submission_id, self.json_body(body)))

    def get_submission(self, body: bytes, query: dict, submission_id: str) -> None:
        self.send_json(200, self.fc.get_submission(submission_id))

    def get_events(self, body: bytes, query: dict, case_id: str) -> None:
        self.send_json(200, self.fc.events(case_id, query))

    # --- /test -----------------------------------------------------------------------------

    def test_control(self, path: str, body: bytes) -> None:
        if path == "/test/submissions" and self.command == "GET":
            return self.send_json(200, self.fc.submissions())
        if path == "/test/root.pem" and self.command == "GET":
            return self.send(200, self.fc.root_pem.encode("ascii"), "application/x-pem-file")
        if path == "/test/behaviour" and self.command == "GET":
            return self.send_json(200, self.fc.behaviour())
        if path == "/test/behaviour" and self.command == "POST":
            try:
                changes = json.loads(body or b"{}")
                return self.send_json(200, self.fc.set_behaviour(changes))
            except ValueError as e:
                raise ApiError(400, str(e)) from None
        raise ApiError(404, f"{self.command} {path} gibt es nicht")


def _parse_query(raw: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in urllib.parse.parse_qsl(raw, keep_blank_values=True):
        if name in params:
            raise ApiError(400, f"Parameter {name} ist mehrfach angegeben")
        params[name] = value
    return params


# --- CLI ---------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="FIT-Connect test environment on 127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--client-id", default="amtsweg")
    ap.add_argument("--client-secret", default="geheim")
    ap.add_argument("--leika", action="append", default=[], metavar="KEY",
                    help=f"LeiKa key the destination offers (repeatable; default {DEFAULT_LEIKA[0]})")
    ap.add_argument("--ars", default=DEFAULT_ARS, help=f"ARS the destination serves (default {DEFAULT_ARS})")
    ap.add_argument("--state-dir", metavar="DIR", help="writes the trust anchor to DIR/root.pem")
    ap.add_argument("--subscriber-delay", type=float, default=0.0, metavar="SECONDS",
                    help="how long the Subscriber waits before accepting or rejecting")
    ap.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = ap.parse_args(argv)
    server = FitConnectServer(client_id=args.client_id, client_secret=args.client_secret,
                              leika_keys=args.leika or None, ars=args.ars, port=args.port,
                              state_dir=args.state_dir, subscriber_delay=args.subscriber_delay,
                              verbose=args.verbose).start()
    print(f"READY {server.port}", flush=True)
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
