"""Amtsweg as FIT-Connect sender against a FIT-Connect test environment on loopback (e2e/fitconnect_server.py,
written from the API description, not from Amtsweg's code): routing by LeiKa key + ARS with a verified
destinationSignature, the destination key's x5c chain, create → upload → submit, and the event log. What arrived is
decrypted with joserfc by the test double's Subscriber; here the metadata is checked against the official schema with
jsonschema, the Fachdaten against the assistant's published JSON Schema, and every hash is recomputed."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import pathlib
import re
import time

import jsonschema
import pytest
import requests

from amtsweg_process import ServerProcess, run_cli
from conftest import REPO_ROOT, free_port
from fitconnect_server import FitConnectServer

ARS = "146270140140"
LEIKA = "99027002012000"
METADATA_SCHEMA = REPO_ROOT.parent / "shared/data/fitconnect/metadata.schema.v1.0.0.json"


@pytest.fixture(scope="module")
def fitconnect():
    # The Subscriber answers after a second, so a test can forge its answer in between.
    with FitConnectServer(client_id="amtsweg", client_secret="geheim", leika_keys=[LEIKA], ars=ARS, subscriber_delay=1.0) as server:
        yield server


@pytest.fixture(scope="module")
def portal(fitconnect, tmp_path_factory):
    """An Amtsweg server on its own SQLite database, sending the demo's Geburtsurkunde through FIT-Connect (routing)."""
    tmp = tmp_path_factory.mktemp("fitconnect")
    roots = tmp / "roots.pem"
    roots.write_text(fitconnect.root_pem)
    port = free_port()
    env = dict(os.environ, AMTSWEG_DATABASE_URL=f"sqlite:{tmp / 'fc.sqlite'}",
               AMTSWEG_MASTER_KEY=base64.b64encode(os.urandom(32)).decode(), AMTSWEG_PUBLIC_URL=f"http://127.0.0.1:{port}",
               AMTSWEG_FITCONNECT_TOKEN_URL=fitconnect.token_url, AMTSWEG_FITCONNECT_SUBMISSION_URL=fitconnect.base,
               AMTSWEG_FITCONNECT_ROUTING_URL=fitconnect.routing_base, AMTSWEG_FITCONNECT_CLIENT_ID="amtsweg",
               AMTSWEG_FITCONNECT_CLIENT_SECRET="geheim", AMTSWEG_FITCONNECT_TRUST_ROOTS=str(roots),
               AMTSWEG_FITCONNECT_POLL_SECONDS="0.3", AMTSWEG_DELIVERY_RETRY_SECONDS="0.2")
    api_key = re.search(r"api key (\S+)", run_cli(env, "demo")).group(1)
    run_cli(env, "route", "--ars", ARS, "--leika", LEIKA, "--kind", "fitconnect")
    with open(tmp / "server.log", "ab") as log:
        server = ServerProcess(env, port, log)
        try:
            yield {"base": server.base, "env": env, "api_key": api_key, "tmp": tmp, "log": tmp / "server.log"}
        finally:
            server.stop()


def submit(portal, name: str) -> str:
    """Submits a complete demo Geburtsurkunde (from `amtsweg bench-seed`); returns the application id."""
    seeds = portal["tmp"] / f"seed-{name}"
    run_cli(portal["env"], "bench-seed", "--drafts", "1", "--out", str(seeds))
    token, csrf, draft = seeds.read_text().split()[:3]
    answer = requests.post(f"{portal['base']}/de/antrag/{draft}/absenden", data={"_csrf": csrf},
                           cookies={"amtsweg_session": token}, allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    return re.search(r"/vorgang/([0-9a-f-]{36})/", answer.headers["Location"]).group(1)


def application(portal, application_id: str) -> dict:
    answer = requests.get(f"{portal['base']}/api/v1/applications/{application_id}",
                          headers={"Authorization": f"Bearer {portal['api_key']}"}, timeout=10)
    assert answer.status_code == 200
    return answer.json()


def wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def submission_for(fitconnect, case_number: str):
    for submission in fitconnect.submissions():
        metadata = submission.get("metadata") or {}
        if metadata.get("additionalReferenceInfo", {}).get("senderReference") == case_number:
            return submission
    return None


def metric(portal, state: str) -> int:
    text = requests.get(f"{portal['base']}/metrics", timeout=10).text
    match = re.search(rf'amtsweg_deliveries\{{tenant="{ARS}",kind="fitconnect",state="{state}"\}} (\d+)', text)
    return int(match.group(1)) if match else 0


def test_submission_arrives_encrypted_valid_and_accepted(fitconnect, portal):
    application_id = submit(portal, "ok")
    case_number = application(portal, application_id)["caseNumber"]
    submission = wait_for(lambda: submission_for(fitconnect, case_number), what="the submission at the destination")
    accepted = wait_for(lambda: fitconnect.wait_for_status(submission["submissionId"], timeout=1), what="accept-submission")
    assert accepted
    # Every part was a JWE for the destination's encryption key, RSA-OAEP-256 + A256GCM.
    headers = [submission["headers"]["metadata"], submission["headers"]["data"], *submission["headers"]["attachments"].values()]
    assert all(h["alg"] == "RSA-OAEP-256" and h["enc"] == "A256GCM" and h["kid"] == fitconnect.encryption_kid for h in headers)
    metadata = submission["metadata"]
    jsonschema.Draft202012Validator(json.loads(METADATA_SCHEMA.read_text()),
                                    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(metadata)
    # The Fachdaten validate against the assistant version's JSON Schema, as published by the portal.
    schema_uri = metadata["contentStructure"]["data"]["submissionSchema"]["schemaUri"]
    assert schema_uri.startswith(portal["base"] + "/api/schemas/geburtsurkunde/")
    schema = requests.get(schema_uri, timeout=10).json()
    jsonschema.Draft202012Validator(schema).validate(submission["data"])
    # (The Subscriber recomputed the data hash over the decrypted bytes; an accept means it matched.)
    attachments = {a["attachmentId"]: a for a in metadata["contentStructure"]["attachments"]}
    assert set(attachments) == set(submission["attachments"]) == set(submission["announcedAttachments"])
    forms = [a for a in attachments.values() if a["purpose"] == "form"]
    assert len(forms) == 1 and forms[0]["mimeType"] == "application/pdf"
    for attachment_id, received in submission["attachments"].items():
        content = base64.b64decode(received["base64"])
        assert hashlib.sha512(content).hexdigest() == attachments[attachment_id]["hash"]["content"]
    assert base64.b64decode(submission["attachments"][forms[0]["attachmentId"]]["base64"]).startswith(b"%PDF")
    assert metadata["publicServiceType"]["identifier"] == f"urn:de:fim:leika:leistung:{LEIKA}"
    assert metadata["replyChannel"]["eMail"]["address"] == "erika@example.org"
    # Amtsweg read the verified accept-submission: the application counts as delivered.
    wait_for(lambda: application(portal, application_id)["acknowledgedAt"], what="acknowledgedAt")


def test_rejection_and_transient_errors(fitconnect, portal):
    fitconnect.set_behaviour({"failNext": 2})
    application_id = submit(portal, "retry")
    case_number = application(portal, application_id)["caseNumber"]
    submission = wait_for(lambda: submission_for(fitconnect, case_number), what="the submission after two 503 answers")
    assert fitconnect.wait_for_status(submission["submissionId"], timeout=20) == "accepted"
    wait_for(lambda: application(portal, application_id)["acknowledgedAt"], what="delivery after retries")

    before = metric(portal, "rejected")
    fitconnect.set_behaviour({"rejectNext": True})
    rejected_id = submit(portal, "reject")
    wait_for(lambda: metric(portal, "rejected") == before + 1, what="the rejection to be recorded")
    assert application(portal, rejected_id)["acknowledgedAt"] is None


def test_forged_accept_changes_nothing(fitconnect, portal):
    before = {s["submissionId"] for s in fitconnect.submissions()}
    application_id = submit(portal, "forged")
    fresh = wait_for(lambda: [s for s in fitconnect.submissions() if s["submissionId"] not in before and s["status"] == "submitted"],
                     what="the new submission to be submitted")
    # The Subscriber's accept (due a second after the submit) is signed with a key that is not published.
    fitconnect.set_behaviour({"forgeNextSet": True})
    assert fitconnect.wait_for_status(fresh[0]["submissionId"], timeout=20) == "accepted"
    wait_for(lambda: "FIT-Connect event refused" in pathlib.Path(portal["log"]).read_text(), what="the forged SET to be refused")
    time.sleep(1.5)  # several more polls
    assert application(portal, application_id)["acknowledgedAt"] is None, "a forged accept-submission was believed"
