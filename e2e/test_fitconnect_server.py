"""Tests of the FIT-Connect test environment (e2e/fitconnect_server.py) with a plain Python sender:
joserfc encrypts to the published key, metadata is built to validate against the v1.0.0 schema, SETs
and the destinationSignature are verified with the published keys, the x5c chains with cryptography.

Run: python3 -m pytest -q -p no:cacheprovider e2e/test_fitconnect_server.py
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import time
import uuid

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from fitconnect_server import FitConnectServer, metadata_validator  # noqa: E402

CLIENT_ID = "amtsweg-test"
CLIENT_SECRET = "sehr-geheim"
LEIKA = "99027002012000"
LEIKA_2 = "99050012104000"
ARS = "146270140140"
EVENTS = "https://schema.fitko.de/fit-connect/events/"
PROBLEMS = EVENTS + "problems/"
SET_SCHEMA = "https://schema.fitko.de/fit-connect/events/1.0.0/set-payload.schema.json"
JWE_ALGS = ["RSA-OAEP-256", "A256GCM", "DEF"]


@pytest.fixture(scope="module")
def fc():
    server = FitConnectServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, leika_keys=[LEIKA, LEIKA_2],
                              ars=ARS).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def reset_behaviour(fc):
    yield
    fc.set_behaviour({"failNext": 0, "rejectNext": False, "forgeNextSet": False, "tokenExpiresIn": 1800})


def sha512(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest()


def b64u_json(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


class Sender:
    """A minimal Onlinedienst speaking to the test environment like to the real one."""

    def __init__(self, fc: FitConnectServer):
        self.fc = fc
        self.base = fc.base
        self.http = requests.Session()
        token = self.token()
        self.http.headers["Authorization"] = "Bearer " + token["access_token"]

    def token(self, **overrides) -> dict:
        form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        form.update(overrides)
        r = requests.post(self.base + "/token", data=form, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(self.base + path, timeout=10, **kw)

    def encryption_key(self) -> tuple[RSAKey, str]:
        dest = self.get(f"/v1/destinations/{self.fc.destination_id}").json()
        jwk = self.get(f"/v1/destinations/{dest['destinationId']}/keys/{dest['encryptionKid']}").json()
        # joserfc asks for key_op "encrypt" with RSA-OAEP; FIT-Connect publishes ["wrapKey"].
        return RSAKey.import_key({k: v for k, v in jwk.items() if k != "key_ops"}), jwk["kid"]

    def encrypt(self, plaintext: bytes, key: RSAKey, kid: str, **header) -> str:
        protected = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF", "cty": "application/json", "kid": kid}
        protected.update(header)
        return jwe.encrypt_compact(protected, plaintext, key, algorithms=JWE_ALGS)

    def create(self, attachment_ids: list[str], identifier: str = "urn:de:fim:leika:leistung:" + LEIKA) -> dict:
        r = self.http.post(self.base + "/v1/submissions", json={
            "destinationId": self.fc.destination_id,
            "announcedAttachments": attachment_ids,
            "serviceType": {"name": "Geburtsurkunde", "identifier": identifier},
        }, timeout=10)
        assert r.status_code == 201, r.text
        return r.json()

    def upload(self, sid: str, aid: str, token: str) -> requests.Response:
        return self.http.put(f"{self.base}/v1/submissions/{sid}/attachments/{aid}", data=token,
                             headers={"Content-Type": "application/jose"}, timeout=10)

    def submit_raw(self, sid: str, metadata_jwe: str, data_jwe: str) -> requests.Response:
        return self.http.put(f"{self.base}/v1/submissions/{sid}",
                             json={"encryptedMetadata": metadata_jwe, "encryptedData": data_jwe}, timeout=10)

    @staticmethod
    def metadata(data: bytes, attachments: dict[str, bytes], **changes) -> dict:
        meta = {
            "contentStructure": {
                "data": {"hash": {"type": "sha512", "content": sha512(data)},
                         "submissionSchema": {"schemaUri": "https://schema.example/geburtsurkunde.json",
                                              "mimeType": "application/json"}},
                "attachments": [{"attachmentId": aid, "hash": {"type": "sha512", "content": sha512(content)},
                                 "mimeType": "application/pdf", "purpose": "form" if i == 0 else "attachment",
                                 "filename": f"anlage-{i}.pdf"} for i, (aid, content) in enumerate(attachments.items())],
            },
            "publicServiceType": {"name": "Geburtsurkunde", "identifier": "urn:de:fim:leika:leistung:" + LEIKA},
            "replyChannel": {"eMail": {"address": "max@bund.example"}},
            "additionalReferenceInfo": {"senderReference": "AW-1", "applicationDate": "2025-01-31"},
        }
        meta.update(changes)
        return meta

    def send(self, data: object | None = None, attachments: dict[str, bytes] | None = None,
             metadata: dict | None = None, kid: str | None = None) -> dict:
        """create → upload → submit; returns ids and every JWE sent."""
        data_bytes = json.dumps(data if data is not None else {"kind": {"vorname": "Erika"}}).encode()
        attachments = attachments if attachments is not None else {
            str(uuid.uuid4()): b"%PDF-1.7 Antrag", str(uuid.uuid4()): b"%PDF-1.7 Nachweis"}
        key, enc_kid = self.encryption_key()
        kid = kid or enc_kid
        ids = self.create(list(attachments))
        sent = {"attachments": {}}
        for aid, content in attachments.items():
            token = self.encrypt(content, key, kid, cty="application/pdf")
            assert self.upload(ids["submissionId"], aid, token).status_code == 204
            sent["attachments"][aid] = token
        meta = metadata if metadata is not None else self.metadata(data_bytes, attachments)
        sent["metadata"] = self.encrypt(json.dumps(meta).encode(), key, kid)
        sent["data"] = self.encrypt(data_bytes, key, kid)
        r = self.submit_raw(ids["submissionId"], sent["metadata"], sent["data"])
        assert r.status_code == 200, r.text
        assert r.json() == {**ids, "status": "submitted"}
        return {**ids, "sent": sent, "submitResponse": r.json()}

    def events(self, case_id: str, count: int | None = None, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            r = self.get(f"/v1/cases/{case_id}/events", params={"offset": 0, "limit": 100})
            assert r.status_code == 200, r.text
            body = r.json()
            assert set(body) == {"offset", "count", "totalCount", "eventLog"}
            if count is None or body["count"] >= count or time.monotonic() > deadline:
                return body["eventLog"]
            time.sleep(0.05)

    def verification_key(self, token: str, issuer_kind: str) -> RSAKey:
        kid = b64u_json(token.split(".")[0])["kid"]
        if issuer_kind == "zustelldienst":
            keys = requests.get(self.base + "/.well-known/jwks.json", timeout=10).json()["keys"]
            jwk = next(k for k in keys if k["kid"] == kid)
        else:
            r = self.get(f"/v1/destinations/{self.fc.destination_id}/keys/{kid}")
            assert r.status_code == 200
            jwk = r.json()
        assert jwk["alg"] == "PS512" and jwk["key_ops"] == ["verify"]
        return RSAKey.import_key(jwk)

    def verify_set(self, token: str, issuer_kind: str) -> dict:
        header = b64u_json(token.split(".")[0])
        assert header == {"alg": "PS512", "typ": "secevent+jwt", "kid": header["kid"]}
        obj = jws.deserialize_compact(token, self.verification_key(token, issuer_kind), algorithms=["PS512"])
        return json.loads(obj.payload)


@pytest.fixture(scope="module")
def sender(fc) -> Sender:
    return Sender(fc)


def problem_of(r: requests.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"] and "type" in body
    return body


# --- token ---------------------------------------------------------------------------------------

def test_token_flow_and_401(fc, sender):
    token = sender.token(scope="send:region:DE14")
    assert token["token_type"] == "Bearer" and token["expires_in"] == 1800 and token["scope"] == "send:region:DE14"
    assert len(token["access_token"]) >= 32

    r = requests.post(fc.base + "/token", data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                                "client_secret": "falsch"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = requests.post(fc.base + "/token", data={"grant_type": "client_credentials", "client_id": CLIENT_ID}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = requests.post(fc.base + "/token", data={"grant_type": "password", "client_id": CLIENT_ID,
                                                "client_secret": CLIENT_SECRET}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"

    dest = f"/v1/destinations/{fc.destination_id}"
    problem_of(requests.get(fc.base + dest, timeout=10), 401)
    problem_of(requests.get(fc.base + dest, headers={"Authorization": "Bearer erfunden"}, timeout=10), 401)
    problem_of(requests.get(fc.base + "/routing/v1/routes", params={"leikaKey": LEIKA, "ars": ARS}, timeout=10), 401)
    ok = requests.get(fc.base + dest, headers={"Authorization": "Bearer " + token["access_token"]}, timeout=10)
    assert ok.status_code == 200
    # the key sets need no token
    assert requests.get(fc.base + "/.well-known/jwks.json", timeout=10).status_code == 200
    assert requests.get(fc.base + "/routing/.well-known/jwks.json", timeout=10).status_code == 200


def test_token_expiry(fc, sender):
    assert requests.post(fc.base + "/test/behaviour", json={"tokenExpiresIn": 0}, timeout=10).json()["tokenExpiresIn"] == 0
    token = sender.token()
    assert token["expires_in"] == 0
    r = requests.get(f"{fc.base}/v1/destinations/{fc.destination_id}",
                     headers={"Authorization": "Bearer " + token["access_token"]}, timeout=10)
    problem_of(r, 401)
    assert "invalid_token" in r.headers["WWW-Authenticate"]


# --- routing and keys ----------------------------------------------------------------------------

def test_routing_with_verifiable_signature(fc, sender):
    r = sender.get("/routing/v1/routes", params={"leikaKey": LEIKA, "ars": ARS})
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 1 and body["totalCount"] == 1 and body["offset"] == 0
    route = body["routes"][0]
    assert route["destinationId"] == fc.destination_id
    assert route["destinationName"] == "Stadt Musterstadt – Test" and route["origin"] == "TEST"
    assert route["destinationLogo"] is None and route["contactPersons"] == [] and route["customParameters"] == {}

    signature = route["destinationSignature"]
    header = b64u_json(signature.split(".")[0])
    assert header["alg"] == "PS512"
    keys = requests.get(fc.base + "/routing/.well-known/jwks.json", timeout=10).json()["keys"]
    jwk = next(k for k in keys if k["kid"] == header["kid"])
    assert jwk["alg"] == "PS512" and jwk["key_ops"] == ["verify"]
    claims = json.loads(jws.deserialize_compact(signature, RSAKey.import_key(jwk), algorithms=["PS512"]).payload)
    assert claims["iss"] == fc.base + "/routing"
    assert claims["submissionHost"] == f"127.0.0.1:{fc.port}"
    assert claims["destinationId"] == fc.destination_id
    assert isinstance(claims["iat"], int) and uuid.UUID(claims["jti"])
    assert claims["services"] == [{
        "gebietIDs": ["urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:" + ARS],
        "leistungIDs": ["urn:de:fim:leika:leistung:" + LEIKA, "urn:de:fim:leika:leistung:" + LEIKA_2]}]
    # the Zustelldienst's key must not verify it
    zd = requests.get(fc.base + "/.well-known/jwks.json", timeout=10).json()["keys"][0]
    with pytest.raises(JoseError):
        jws.deserialize_compact(signature, RSAKey.import_key(zd), algorithms=["PS512"])

    # not offered, other area, wider area, by AGS
    for params in ({"leikaKey": "99000000000000", "ars": ARS}, {"leikaKey": LEIKA, "ars": "064120000000"},
                   {"leikaKey": LEIKA, "ars": "14627"}, {"leikaKey": LEIKA, "areaId": "42"}):
        empty = sender.get("/routing/v1/routes", params=params).json()
        assert empty["routes"] == [] and empty["count"] == 0 and empty["totalCount"] == 0, params
    assert sender.get("/routing/v1/routes", params={"leikaKey": LEIKA_2, "ags": "14627140"}).json()["count"] == 1

    for params in ({"leikaKey": "12345", "ars": ARS}, {"leikaKey": LEIKA, "ars": "1462"}, {"leikaKey": LEIKA},
                   {"ars": ARS}, {"leikaKey": LEIKA, "ars": ARS, "ags": "14627140"},
                   {"leikaKey": LEIKA, "ars": ARS, "limit": "501"}):
        problem_of(sender.get("/routing/v1/routes", params=params), 400)


def _chain_ok(jwk: dict, root: x509.Certificate, key_usage: str) -> None:
    leaf = x509.load_der_x509_certificate(base64.b64decode(jwk["x5c"][0]))
    assert len(jwk["x5c"]) == 2
    assert x509.load_der_x509_certificate(base64.b64decode(jwk["x5c"][1])) == root
    leaf.verify_directly_issued_by(root)  # raises if the signature does not verify
    now = datetime.datetime.now(datetime.timezone.utc)
    assert leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert getattr(leaf.extensions.get_extension_for_class(x509.KeyUsage).value, key_usage)
    numbers = leaf.public_key().public_numbers()
    assert leaf.public_key().key_size == 4096
    assert RSAKey.import_key(jwk).as_dict(private=False)["n"] == jwk["n"]
    assert int.from_bytes(base64.urlsafe_b64decode(jwk["n"] + "=" * (-len(jwk["n"]) % 4)), "big") == numbers.n
    assert jwk["e"] == "AQAB" and numbers.e == 65537
    assert len(jwk["n"]) >= 683


def test_key_chains_verify_to_root(fc, sender):
    pem = requests.get(fc.base + "/test/root.pem", timeout=10).text
    assert pem == fc.root_pem
    root = x509.load_pem_x509_certificate(pem.encode())
    assert root.subject == root.issuer
    assert root.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "Test-Verwaltungs-PKI Root"
    root.verify_directly_issued_by(root)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert root.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert isinstance(root.public_key(), rsa.RSAPublicKey) and root.public_key().key_size == 4096
    now = datetime.datetime.now(datetime.timezone.utc)
    assert root.not_valid_before_utc <= now - datetime.timedelta(hours=23)
    assert root.not_valid_after_utc >= now + datetime.timedelta(days=364)

    dest = sender.get(f"/v1/destinations/{fc.destination_id}").json()
    enc = sender.get(f"/v1/destinations/{fc.destination_id}/keys/{dest['encryptionKid']}").json()
    assert list(enc) == ["kty", "kid", "alg", "key_ops", "n", "e", "x5c"]
    assert enc["kty"] == "RSA" and enc["alg"] == "RSA-OAEP-256" and enc["key_ops"] == ["wrapKey"]
    _chain_ok(enc, root, "key_encipherment")
    sig = sender.get(f"/v1/destinations/{fc.destination_id}/keys/{dest['signatureKid']}").json()
    assert sig["alg"] == "PS512" and sig["key_ops"] == ["verify"] and sig["kid"] == dest["signatureKid"]
    _chain_ok(sig, root, "digital_signature")
    for path in ("/.well-known/jwks.json", "/routing/.well-known/jwks.json"):
        (jwk,) = requests.get(fc.base + path, timeout=10).json()["keys"]
        assert jwk["alg"] == "PS512" and jwk["key_ops"] == ["verify"] and jwk["kid"]
        _chain_ok(jwk, root, "digital_signature")
    assert len({enc["n"], sig["n"], jwk["n"]}) == 3


def test_destination(fc, sender):
    dest = sender.get(f"/v1/destinations/{fc.destination_id}").json()
    assert dest == {
        "destinationId": fc.destination_id, "status": "active",
        "encryptionKid": fc.encryption_kid, "signatureKid": fc.signature_kid,
        "services": [{"identifier": "urn:de:fim:leika:leistung:" + key,
                      "submissionSchemas": [{"schemaUri": "*", "mimeType": "application/json"}],
                      "regions": ["DE" + ARS]} for key in (LEIKA, LEIKA_2)],
        "replyChannels": {"eMail": {"usePgp": False}},
        "metadataVersions": ["1.0.0"],
    }
    problem_of(sender.get(f"/v1/destinations/{uuid.uuid4()}"), 404)
    problem_of(sender.get(f"/v1/destinations/{fc.destination_id}/keys/unbekannt"), 404)
    problem_of(sender.get(f"/v1/destinations/{uuid.uuid4()}/keys/{fc.encryption_kid}"), 404)


# --- submissions ---------------------------------------------------------------------------------

def test_full_submission_accepted(fc, sender):
    data = {"kind": {"vorname": "Erika", "geburtsdatum": "2024-05-01"}, "anzahl": 2}
    # larger than joserfc's default limits (64 KiB ciphertext, 250 KiB decompressed)
    attachments = {str(uuid.uuid4()): b"%PDF-1.7 Formular", str(uuid.uuid4()): os.urandom(3 << 20),
                   str(uuid.uuid4()): b"%PDF " * (400 << 10)}
    result = sender.send(data=data, attachments=attachments)
    sid, case_id, sent = result["submissionId"], result["caseId"], result["sent"]

    log = sender.events(case_id, count=3)
    assert len(log) == 3
    created = sender.verify_set(log[0], "zustelldienst")
    submitted = sender.verify_set(log[1], "zustelldienst")
    accepted = sender.verify_set(log[2], "destination")
    for claims in (created, submitted, accepted):
        assert claims["$schema"] == SET_SCHEMA
        assert claims["sub"] == "submission:" + sid and claims["txn"] == "case:" + case_id
        assert isinstance(claims["iat"], int) and uuid.UUID(claims["jti"]).version == 4
    assert len({c["jti"] for c in (created, submitted, accepted)}) == 3
    assert created["iss"] == submitted["iss"] == f"https://127.0.0.1:{fc.port}"
    assert accepted["iss"] == fc.destination_id
    assert created["events"] == {EVENTS + "create-submission": {}}
    tags = {"metadata": sent["metadata"].split(".")[4], "data": sent["data"].split(".")[4],
            "attachments": {aid: token.split(".")[4] for aid, token in sent["attachments"].items()}}
    assert submitted["events"] == {EVENTS + "submit-submission": {"authenticationTags": tags}}
    assert accepted["events"] == {EVENTS + "accept-submission": {"authenticationTags": tags}}
    assert b64u_json(log[2].split(".")[0])["kid"] == fc.signature_kid
    # the destination's key must not verify the Zustelldienst's SET
    with pytest.raises(JoseError):
        jws.deserialize_compact(log[0], sender.verification_key(log[2], "destination"), algorithms=["PS512"])

    public = sender.get(f"/v1/submissions/{sid}").json()
    assert public == {"destinationId": fc.destination_id, "submissionId": sid, "caseId": case_id,
                      "status": "accepted", "serviceType": {"name": "Geburtsurkunde",
                                                            "identifier": "urn:de:fim:leika:leistung:" + LEIKA},
                      "announcedAttachments": list(attachments)}

    (inspected,) = [s for s in requests.get(fc.base + "/test/submissions", timeout=10).json()
                    if s["submissionId"] == sid]
    assert inspected["status"] == "accepted" and inspected["problems"] == [] and inspected["submitCount"] == 1
    assert inspected["data"] == data
    assert inspected["metadata"]["contentStructure"]["data"]["hash"]["content"] == sha512(json.dumps(data).encode())
    assert not list(metadata_validator().iter_errors(inspected["metadata"]))
    for aid, content in attachments.items():
        entry = inspected["attachments"][aid]
        assert entry == {"size": len(content), "sha512": sha512(content),
                         "base64": base64.b64encode(content).decode()}
        assert inspected["headers"]["attachments"][aid]["cty"] == "application/pdf"
    assert inspected["headers"]["metadata"]["alg"] == "RSA-OAEP-256"
    assert inspected["headers"]["data"] == {"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF",
                                            "cty": "application/json", "kid": fc.encryption_kid}
    assert inspected["createCount"] >= 1


def test_resubmit_is_idempotent(fc, sender):
    result = sender.send()
    sid, case_id = result["submissionId"], result["caseId"]
    assert fc.wait_for_status(sid) == "accepted"
    before = sender.events(case_id)
    again = sender.submit_raw(sid, result["sent"]["metadata"], result["sent"]["data"])
    assert again.status_code == 200 and again.json() == result["submitResponse"]
    # even with other content: nothing changes
    other = sender.submit_raw(sid, result["sent"]["data"], result["sent"]["metadata"])
    assert other.status_code == 200 and other.json() == result["submitResponse"]
    aid = next(iter(result["sent"]["attachments"]))
    assert sender.upload(sid, aid, result["sent"]["data"]).status_code == 204
    time.sleep(0.2)
    assert sender.events(case_id) == before
    (inspected,) = [s for s in fc.submissions() if s["submissionId"] == sid]
    assert inspected["submitCount"] == 3 and inspected["status"] == "accepted"
    assert sender.get(f"/v1/submissions/{sid}").json()["status"] == "accepted"


def test_reupload_before_submit_replaces(fc, sender):
    key, kid = sender.encryption_key()
    aid = str(uuid.uuid4())
    ids = sender.create([aid])
    assert sender.upload(ids["submissionId"], aid, sender.encrypt(b"alt", key, kid)).status_code == 204
    assert sender.upload(ids["submissionId"], aid, sender.encrypt(b"neu", key, kid)).status_code == 204
    data = b'{"a": 1}'
    meta = Sender.metadata(data, {aid: b"neu"})
    r = sender.submit_raw(ids["submissionId"], sender.encrypt(json.dumps(meta).encode(), key, kid),
                          sender.encrypt(data, key, kid))
    assert r.status_code == 200
    assert fc.wait_for_status(ids["submissionId"]) == "accepted"


def _rejection(sender: Sender, case_id: str) -> dict:
    log = sender.events(case_id, count=3)
    claims = sender.verify_set(log[2], "destination")
    (name,) = claims["events"]
    assert name == EVENTS + "reject-submission"
    return claims["events"][name]


def test_wrong_hashes_are_rejected(fc, sender):
    data = b'{"kind": {"vorname": "Max"}}'
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())
    attachments = {good: b"%PDF gut", bad: b"%PDF manipuliert"}
    meta = Sender.metadata(b'{"kind": {"vorname": "Moritz"}}', attachments)
    meta["contentStructure"]["attachments"][1]["hash"]["content"] = sha512(b"%PDF original")
    result = sender.send(data=json.loads(data), attachments=attachments, metadata=meta)
    event = _rejection(sender, result["caseId"])
    problems = {(p["type"], p["instance"]) for p in event["problems"]}
    assert problems == {(PROBLEMS + "hash-mismatch", "data"), (PROBLEMS + "hash-mismatch", "attachment:" + bad)}
    assert all(p["title"] and p["detail"] for p in event["problems"])
    assert event["authenticationTags"]["data"] == result["sent"]["data"].split(".")[4]
    assert sender.get(f"/v1/submissions/{result['submissionId']}").json()["status"] == "rejected"
    (inspected,) = [s for s in fc.submissions() if s["submissionId"] == result["submissionId"]]
    assert inspected["status"] == "rejected" and len(inspected["problems"]) == 2
    assert inspected["attachments"][bad]["sha512"] == sha512(b"%PDF manipuliert")


def test_invalid_metadata_wrong_kid_and_mismatched_attachments_are_rejected(fc, sender):
    # schema violation
    result = sender.send(metadata={"contentStructure": {"attachments": "keine Liste"}})
    event = _rejection(sender, result["caseId"])
    assert {p["type"] for p in event["problems"]} == {PROBLEMS + "schema-violation"}
    assert all(p["instance"] == "metadata" for p in event["problems"])

    # encrypted under another kid: not decryptable for the destination, no authenticationTags
    result = sender.send(kid="anderer-schluessel")
    event = _rejection(sender, result["caseId"])
    assert {p["type"] for p in event["problems"]} == {PROBLEMS + "encryption-issue"}
    assert {p["instance"] for p in event["problems"]} >= {"metadata", "data"}
    assert "authenticationTags" not in event

    # an attachment missing from the metadata, and data that is not JSON
    key, kid = sender.encryption_key()
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    ids = sender.create([a, b])
    for aid in (a, b):
        assert sender.upload(ids["submissionId"], aid, sender.encrypt(b"x", key, kid)).status_code == 204
    data = b"<xml/>"
    meta = Sender.metadata(data, {a: b"x"})
    assert sender.submit_raw(ids["submissionId"], sender.encrypt(json.dumps(meta).encode(), key, kid),
                             sender.encrypt(data, key, kid)).status_code == 200
    event = _rejection(sender, ids["caseId"])
    assert {(p["type"], p["instance"]) for p in event["problems"]} == {
        (PROBLEMS + "attachments-mismatch", "metadata"), (PROBLEMS + "syntax-violation", "data")}

    # wrong service in the metadata
    data = b"{}"
    meta = Sender.metadata(data, {}, publicServiceType={"identifier": "urn:de:fim:leika:leistung:" + LEIKA_2})
    result = sender.send(data={}, attachments={}, metadata=meta)
    event = _rejection(sender, result["caseId"])
    assert [p["type"] for p in event["problems"]] == [PROBLEMS + "service-mismatch"]


def test_missing_attachment_is_409(fc, sender):
    key, kid = sender.encryption_key()
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    ids = sender.create([a, b])
    assert sender.upload(ids["submissionId"], a, sender.encrypt(b"x", key, kid)).status_code == 204
    token = sender.encrypt(b"{}", key, kid)
    body = problem_of(sender.submit_raw(ids["submissionId"], token, token), 409)
    assert b in body["detail"]
    assert sender.get(f"/v1/submissions/{ids['submissionId']}").json()["status"] == "incomplete"
    assert len(sender.events(ids["caseId"])) == 1


def test_reject_next(fc, sender):
    requests.post(fc.base + "/test/behaviour", json={"rejectNext": True}, timeout=10).raise_for_status()
    result = sender.send()
    event = _rejection(sender, result["caseId"])
    assert [p["title"] for p in event["problems"]] == ["Abgelehnt zu Testzwecken"]
    assert "authenticationTags" in event
    assert fc.behaviour()["rejectNext"] is False
    assert fc.wait_for_status(sender.send()["submissionId"]) == "accepted"


def test_fail_next(fc, sender):
    r = requests.post(fc.base + "/test/behaviour", json={"failNext": 2}, timeout=10)
    assert r.json()["failNext"] == 2
    path = f"/v1/destinations/{fc.destination_id}"
    problem_of(sender.get(path), 503)
    # the Routingdienst is not affected and doesn't use up a failure
    assert sender.get("/routing/v1/routes", params={"leikaKey": LEIKA, "ars": ARS}).status_code == 200
    problem_of(sender.get(path), 503)
    assert sender.get(path).status_code == 200


def test_forge_next_set(fc, sender):
    requests.post(fc.base + "/test/behaviour", json={"forgeNextSet": True}, timeout=10).raise_for_status()
    ids = sender.create([])
    (forged,) = sender.events(ids["caseId"])
    header = b64u_json(forged.split(".")[0])
    assert header["kid"] == fc.zustelldienst_kid  # the published kid, but another key
    with pytest.raises(JoseError):
        sender.verify_set(forged, "zustelldienst")
    assert fc.behaviour()["forgeNextSet"] is False
    (honest,) = sender.events(sender.create([])["caseId"])
    assert sender.verify_set(honest, "zustelldienst")["events"] == {EVENTS + "create-submission": {}}


def test_behaviour_validation(fc):
    for body in ({"failNext": -1}, {"rejectNext": "ja"}, {"unbekannt": 1}, [1]):
        assert requests.post(fc.base + "/test/behaviour", json=body, timeout=10).status_code == 400
    assert requests.get(fc.base + "/test/behaviour", timeout=10).json() == {
        "failNext": 0, "rejectNext": False, "forgeNextSet": False, "tokenExpiresIn": 1800}


def test_bad_inputs(fc, sender):
    base = fc.base
    good = {"destinationId": fc.destination_id, "announcedAttachments": [],
            "serviceType": {"name": "Geburtsurkunde", "identifier": "urn:de:fim:leika:leistung:" + LEIKA}}
    post = lambda **kw: sender.http.post(base + "/v1/submissions", timeout=10, **kw)  # noqa: E731
    problem_of(post(data=json.dumps(good), headers={"Content-Type": "text/plain"}), 415)
    problem_of(post(data="{", headers={"Content-Type": "application/json"}), 400)
    aid = str(uuid.uuid4())
    for body in ({**good, "destinationId": str(uuid.uuid4())},
                 {**good, "serviceType": {"name": "X", "identifier": "urn:de:fim:leika:leistung:99000000000000"}},
                 {**good, "serviceType": {"identifier": "urn:de:fim:leika:leistung:" + LEIKA}},
                 {**good, "announcedAttachments": [aid, aid]},
                 {**good, "announcedAttachments": [aid, aid.upper()]},
                 {**good, "announcedAttachments": ["keine-uuid"]},
                 {**good, "announcedAttachment": []},
                 [good]):
        problem_of(post(json=body), 422)

    key, kid = sender.encryption_key()
    ids = sender.create([aid])
    sid = ids["submissionId"]
    token = sender.encrypt(b"x", key, kid)
    put = lambda path, **kw: sender.http.put(base + path, timeout=10, **kw)  # noqa: E731
    problem_of(put(f"/v1/submissions/{sid}/attachments/{aid}", data=token,
                   headers={"Content-Type": "application/octet-stream"}), 415)
    problem_of(sender.upload(sid, str(uuid.uuid4()), token), 404)
    problem_of(sender.upload(str(uuid.uuid4()), aid, token), 404)
    problem_of(sender.upload(sid, aid, "a.b.c.d"), 422)
    problem_of(sender.upload(sid, aid, "a.b.c.d.e!"), 422)
    problem_of(sender.upload(sid, aid, b"\xff\xfe"), 422)
    assert sender.upload(sid, aid.upper(), token).status_code == 204  # UUIDs compare case-insensitively

    problem_of(put(f"/v1/submissions/{sid}", data=json.dumps({"encryptedMetadata": token, "encryptedData": token}),
                   headers={"Content-Type": "application/jose"}), 415)
    problem_of(sender.submit_raw(sid, token, "kein.jwe"), 422)
    problem_of(put(f"/v1/submissions/{sid}", json={"encryptedMetadata": token}), 422)
    problem_of(sender.submit_raw(str(uuid.uuid4()), token, token), 404)
    assert sender.get(f"/v1/submissions/{sid}").json()["status"] == "incomplete"

    problem_of(sender.get(f"/v1/submissions/{uuid.uuid4()}"), 404)
    problem_of(sender.get(f"/v1/cases/{uuid.uuid4()}/events"), 404)
    problem_of(sender.get(f"/v1/cases/{ids['caseId']}/events", params={"limit": "501"}), 400)
    problem_of(sender.get(f"/v1/cases/{ids['caseId']}/events", params={"offset": "-1"}), 400)
    page = sender.get(f"/v1/cases/{ids['caseId']}/events", params={"offset": "1", "limit": "5"}).json()
    assert page == {"offset": 1, "count": 0, "totalCount": 1, "eventLog": []}
    problem_of(sender.get("/v1/nirgendwo"), 404)
    problem_of(sender.http.delete(f"{base}/v1/submissions/{sid}", timeout=10), 405)


def test_as_subprocess(tmp_path):
    script = pathlib.Path(__file__).resolve().parent / "fitconnect_server.py"
    proc = subprocess.Popen([sys.executable, str(script), "--client-id", "c", "--client-secret", "s",
                             "--leika", LEIKA, "--leika", LEIKA_2, "--ars", "14627", "--state-dir", str(tmp_path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("READY "), line
        base = f"http://127.0.0.1:{int(line.split()[1])}"
        assert (tmp_path / "root.pem").read_text() == requests.get(base + "/test/root.pem", timeout=10).text
        token = requests.post(base + "/token", data={"grant_type": "client_credentials", "client_id": "c",
                                                     "client_secret": "s"}, timeout=10).json()["access_token"]
        routes = requests.get(base + "/routing/v1/routes", params={"leikaKey": LEIKA_2, "ars": ARS},
                              headers={"Authorization": "Bearer " + token}, timeout=10).json()
        assert routes["count"] == 1  # the Kreis 14627 covers the Gemeinde
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0
