"""The specialist-system API answers what its own OpenAPI document promises.

An application is submitted through the citizen pages with plain HTTP (a `requests.Session`, no
browser), an API key for the demo authority is taken from `amtsweg demo` on the server's own
database, and every API answer is validated against the schemas of the *served*
`/api/openapi.yaml` with third-party validators: `jsonschema.Draft202012Validator` (OpenAPI 3.1
schemas are JSON Schema 2020-12) resolving `#/components/schemas/...` through a
`referencing.Registry`, with format checking (uuid, date-time, uri-reference) switched on.

Uses the session fixtures `server` (base URL) and `api_key` (from `amtsweg demo` on the server's
database) from e2e/conftest.py.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SERVICE = "99027002012000"
DOC_URI = "urn:amtsweg:openapi"
PROBLEM_JSON = "application/problem+json"
TIMEOUT = 10

# The answers submitted (relation = self, postal delivery), page by page, in assistant order.
FIRST_NAME = "Erika"
PAGES = [
    ("relation", {"relation": "self"}),
    ("person", {"F60000000228": FIRST_NAME, "F60000000227": "Mustermann", "F60000000230": "Gabler"}),
    ("birth", {"G60000083-day": "12", "G60000083-month": "8", "G60000083-year": "1964",
               "F00000000067": "Meißen"}),
    ("document", {"document_kind": "geburtsurkunde"}),
    ("copies", {"copies": "2"}),
    ("delivery", {"delivery_method": "post"}),
    ("address", {"F60000000243": "Hauptstraße", "F60000000244": "12a", "F60000000246": "01662",
                 "F60000000247": "Meißen"}),
    ("contact", {"F60000000242": "erika.mustermann@example.org"}),
]


# --- citizen side over plain HTTP ------------------------------------------------------------

class _PageScan(HTMLParser):
    """Collects hidden `_csrf` values and the text of elements by id."""

    def __init__(self, wanted_ids=()):
        super().__init__(convert_charrefs=True)
        self.csrf: list[str] = []
        self.wanted = set(wanted_ids)
        self.texts: dict[str, str] = {}
        self._open: list[list] = []  # [id, tag, depth, parts]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") == "_csrf" and a.get("type") == "hidden":
            self.csrf.append(a.get("value") or "")
        for entry in self._open:
            if entry[1] == tag:
                entry[2] += 1
        if a.get("id") in self.wanted and tag not in ("input", "br", "img", "meta", "link"):
            self._open.append([a["id"], tag, 1, []])

    def handle_endtag(self, tag):
        for entry in list(self._open):
            if entry[1] == tag:
                entry[2] -= 1
                if entry[2] == 0:
                    self.texts[entry[0]] = " ".join("".join(entry[3]).split())
                    self._open.remove(entry)

    def handle_data(self, data):
        for entry in self._open:
            entry[3].append(data)


def scan(html: str, *ids: str) -> _PageScan:
    parser = _PageScan(ids)
    parser.feed(html)
    parser.close()
    return parser


def csrf_of(response: requests.Response) -> str:
    tokens = scan(response.text).csrf
    assert tokens, f"no hidden _csrf input on {response.url}"
    assert len(set(tokens)) == 1, f"several different _csrf tokens on {response.url}: {tokens}"
    return tokens[0]


def post_303(session: requests.Session, url: str, data: dict) -> str:
    """POSTs a form without following redirects; asserts 303 and returns the absolute Location."""
    response = session.post(url, data=data, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 303, (
        f"POST {urlparse(url).path} answered {response.status_code}, expected 303:\n{response.text[:1500]}")
    location = response.headers.get("Location")
    assert location, f"POST {urlparse(url).path}: 303 without Location"
    return urljoin(url, location)


def get_ok(session: requests.Session, url: str) -> requests.Response:
    response = session.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 200, f"GET {urlparse(url).path} answered {response.status_code}"
    return response


def submit_birth_certificate(base: str) -> dict:
    """Submits one birth-certificate application (relation = self, postal delivery) through the
    citizen pages and returns {"id", "caseNumber", "draft"} as read from the confirmation page."""
    session = requests.Session()
    service_page = get_ok(session, f"{base}/de/leistungen/{SERVICE}")
    location = post_303(session, f"{base}/de/leistungen/{SERVICE}/start", {"_csrf": csrf_of(service_page)})
    assert "amtsweg_session" in session.cookies, "no amtsweg_session cookie after starting"
    match = re.fullmatch(r"/de/antrag/([^/]+)/relation", urlparse(location).path)
    assert match, f"start redirected to {location}, expected /de/antrag/{{draft}}/relation"
    draft = match.group(1)

    for index, (page, fields) in enumerate(PAGES):
        page_url = f"{base}/de/antrag/{draft}/{page}"
        assert urlparse(location).path == urlparse(page_url).path, (
            f"expected to be sent to page {page!r}, was sent to {location}")
        form = get_ok(session, page_url)
        location = post_303(session, page_url, {"_csrf": csrf_of(form), **fields})
        if index + 1 == len(PAGES):
            assert urlparse(location).path == f"/de/antrag/{draft}/pruefen", (
                f"after the last page expected the check-answers page, was sent to {location}")

    check = get_ok(session, location)
    location = post_303(session, f"{base}/de/antrag/{draft}/absenden", {"_csrf": csrf_of(check)})
    match = re.fullmatch(r"/de/vorgang/([^/]+)/bestaetigung", urlparse(location).path)
    assert match, f"submit redirected to {location}, expected /de/vorgang/{{id}}/bestaetigung"
    confirmation = get_ok(session, location)
    case_number = scan(confirmation.text, "case-number").texts.get("case-number")
    assert case_number, "confirmation page has no #case-number"
    return {"id": match.group(1), "caseNumber": case_number, "draft": draft}


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def document(server) -> dict:
    response = requests.get(f"{server}/api/openapi.yaml", timeout=TIMEOUT)
    assert response.status_code == 200, f"GET /api/openapi.yaml answered {response.status_code}"
    doc = yaml.safe_load(response.content)
    assert isinstance(doc, dict) and str(doc.get("openapi", "")).startswith("3.1"), "not an OpenAPI 3.1 document"
    return doc


@pytest.fixture(scope="module")
def schema(document):
    """schema(name) → a format-checking Draft 2020-12 validator for components.schemas[name]."""
    registry = Registry().with_resource(
        DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012))
    cache: dict[str, Draft202012Validator] = {}

    def get(name: str) -> Draft202012Validator:
        assert name in document["components"]["schemas"], f"no components.schemas.{name}"
        if name not in cache:
            cache[name] = Draft202012Validator(
                {"$ref": f"{DOC_URI}#/components/schemas/{name}"}, registry=registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER)
        return cache[name]

    return get


@pytest.fixture
def api(server, api_key):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_key}"
    session.headers["Accept"] = "application/json"
    base = f"{server}/api/v1/applications"

    def call(method: str, path: str = "", **kwargs) -> requests.Response:
        return session.request(method, base + path, timeout=TIMEOUT, **kwargs)

    return call


@pytest.fixture
def application(server) -> dict:
    """A freshly submitted application (status received, not acknowledged)."""
    return submit_birth_certificate(server)


# --- validation helpers ---------------------------------------------------------------------

def media_type(response: requests.Response) -> str:
    return (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def assert_valid(validator: Draft202012Validator, instance, what: str) -> None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, f"{what} does not match its OpenAPI schema:\n" + "\n".join(
        f"- at /{'/'.join(map(str, e.absolute_path))}: {e.message} (schema {'/'.join(map(str, e.absolute_schema_path))})"
        for e in errors)


def json_ok(response: requests.Response, schema, name: str) -> dict:
    what = f"{response.request.method} {urlparse(response.url).path}"
    assert response.status_code == 200, f"{what} answered {response.status_code}: {response.text[:800]}"
    assert media_type(response) == "application/json", f"{what}: Content-Type {response.headers.get('Content-Type')!r}"
    body = response.json()
    assert_valid(schema(name), body, f"{what} body ({name})")
    return body


def problem(response: requests.Response, schema, document, status: int, operation=None) -> dict:
    """Asserts an RFC 9457 problem answer with the given status that the document declares."""
    what = f"{response.request.method} {urlparse(response.url).path}"
    assert response.status_code == status, f"{what} answered {response.status_code}, expected {status}: {response.text[:800]}"
    assert media_type(response) == PROBLEM_JSON, f"{what}: Content-Type {response.headers.get('Content-Type')!r}"
    body = response.json()
    assert_valid(schema("Problem"), body, f"{what} {status} body (Problem)")
    assert body["status"] == status, f"{what}: problem status {body['status']} != HTTP {status}"
    if operation is not None:
        path, method = operation
        declared = document["paths"][path][method]["responses"]
        assert str(status) in declared, f"{what} answered {status}, which {method.upper()} {path} does not declare"
    return body


def schema_formats(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["format"]} if isinstance(node.get("format"), str) else set()
        for value in node.values():
            found |= schema_formats(value)
        return found
    if isinstance(node, list):
        return set().union(*map(schema_formats, node)) if node else set()
    return set()


STATUS_OP = ("/api/v1/applications/{applicationId}/status", "post")
GET_OP = ("/api/v1/applications/{applicationId}", "get")
LIST_OP = ("/api/v1/applications", "get")


# --- tests ----------------------------------------------------------------------------------

def test_format_checker_covers_every_schema_format(document):
    """Without this, jsonschema silently ignores formats it has no checker for."""
    formats = schema_formats(document["components"]["schemas"])
    missing = formats - set(Draft202012Validator.FORMAT_CHECKER.checkers)
    assert {"uuid", "date-time"} <= formats
    assert not missing, (f"no format checker for {sorted(missing)} (uri-reference needs the "
                         f"rfc3986-validator package, see e2e/requirements.txt)")


def test_list_matches_application_list(api, schema, application):
    listed = json_ok(api("GET"), schema, "ApplicationList")
    assert application["id"] in [item["id"] for item in listed["items"]]

    filtered = json_ok(api("GET", params={"status": "received", "acknowledged": "false", "limit": 50}),
                       schema, "ApplicationList")
    mine = [item for item in filtered["items"] if item["id"] == application["id"]]
    assert len(mine) == 1, "the new application is missing from ?status=received&acknowledged=false"
    assert all(item["status"] == "received" and item["acknowledgedAt"] is None for item in filtered["items"])

    one = json_ok(api("GET", params={"limit": 1}), schema, "ApplicationList")
    assert len(one["items"]) == 1


def test_application_carries_the_submitted_answers(api, schema, application):
    app = json_ok(api("GET", f"/{application['id']}"), schema, "Application")
    assert app["id"] == application["id"]
    assert app["caseNumber"] == application["caseNumber"], "caseNumber differs from the confirmation page"
    assert app["tenant"] == {"ars": "146270140140", "name": "Stadt Musterstadt"}
    assert app["service"]["leikaKey"] == SERVICE
    assert app["status"] == "received" and app["acknowledgedAt"] is None
    assert app["locale"] == "de"
    assert app["attachments"] == []
    assert [(h["from"], h["to"]) for h in app["history"]] == [(None, "received")]

    data = app["data"]
    assert data["relation"]["relation"] == "self"
    assert data["person"]["F60000000228"] == FIRST_NAME
    assert data["person"]["F60000000227"] == "Mustermann"
    assert isinstance(data["copies"]["copies"], int) and not isinstance(data["copies"]["copies"], bool), (
        f"data.copies.copies is {data['copies']['copies']!r}, expected an integer")
    assert data["copies"]["copies"] == 2
    assert data["delivery"]["delivery_method"] == "post"
    assert data["address"]["F60000000246"] == "01662"
    assert data["contact"]["F60000000242"] == "erika.mustermann@example.org"

    fim_fields = [f for f in app["fields"] if (f["fimId"] or "").startswith("F")]
    assert fim_fields, "no field with a FIM data-field id (F…)"
    mismatches = [
        f"{f['group']}.{f['id']} (fimId {f['fimId']}): fields value {f['value']!r} != "
        f"data value {data.get(f['group'], {}).get(f['id'], '<missing>')!r}"
        for f in fim_fields
        if f["group"] not in data or f["id"] not in data[f["group"]] or data[f["group"]][f["id"]] != f["value"]
    ]
    assert not mismatches, "fields[] and data disagree:\n" + "\n".join(mismatches)
    assert all(f["fimVersion"] for f in fim_fields), "an F… field without fimVersion"


def test_acknowledge_is_idempotent(api, schema, application):
    first = json_ok(api("POST", f"/{application['id']}/acknowledge"), schema, "Application")
    assert first["acknowledgedAt"] is not None and first["status"] == "received"
    again = json_ok(api("POST", f"/{application['id']}/acknowledge"), schema, "Application")
    assert again["acknowledgedAt"] == first["acknowledgedAt"], "acknowledging again changed acknowledgedAt"
    unacknowledged = json_ok(api("GET", params={"acknowledged": "false"}), schema, "ApplicationList")
    assert application["id"] not in [item["id"] for item in unacknowledged["items"]]


def test_status_changes_and_errors(api, schema, document, application):
    path = f"/{application['id']}/status"
    change = schema("StatusChange")

    # received → completed is not an allowed transition: 409 (the request itself is schema-valid).
    illegal = {"status": "completed"}
    assert_valid(change, illegal, "request body")
    problem(api("POST", path, json=illegal), schema, document, 409, STATUS_OP)

    # Allowed: received → in_progress.
    body = {"status": "in_progress"}
    assert_valid(change, body, "request body")
    moved = json_ok(api("POST", path, json=body), schema, "Application")
    assert moved["status"] == "in_progress"
    assert [(h["from"], h["to"]) for h in moved["history"]] == [(None, "received"), ("received", "in_progress")]

    # Not allowed from in_progress either: in_progress → in_progress.
    problem(api("POST", path, json=body), schema, document, 409, STATUS_OP)

    # rejected without (or with an empty) reason: 422 naming the field `reason`.
    for no_reason in ({"status": "rejected"}, {"status": "rejected", "reason": ""}):
        answer = problem(api("POST", path, json=no_reason), schema, document, 422, STATUS_OP)
        assert any(e["field"] == "reason" for e in answer.get("errors", [])), (
            f"422 for {no_reason} does not list the field reason: {answer}")

    # A body that is not JSON, sent as application/json: 400 (unreadable, unlike 422 for unacceptable content).
    problem(api("POST", path, data=b"status=rejected", headers={"Content-Type": "application/json"}),
            schema, document, 400, STATUS_OP)

    # Valid JSON with a wrong content type: 415.
    problem(api("POST", path, data=b'{"status": "completed"}', headers={"Content-Type": "text/plain"}),
            schema, document, 415, STATUS_OP)

    # None of the failed requests changed anything.
    after = json_ok(api("GET", f"/{application['id']}"), schema, "Application")
    assert after["status"] == "in_progress" and len(after["history"]) == 2

    # A rejection with a reason is allowed from in_progress and is final.
    rejected = json_ok(api("POST", path, json={"status": "rejected", "reason": "Kein Eintrag im Register."}),
                       schema, "Application")
    assert rejected["status"] == "rejected"
    assert rejected["history"][-1]["reason"] == "Kein Eintrag im Register."
    problem(api("POST", path, json={"status": "completed"}), schema, document, 409, STATUS_OP)


@pytest.mark.parametrize("authorization", [
    "Bearer not-an-amtsweg-key",
    "Bearer aw_",
    f"Bearer aw_{secrets.token_urlsafe(32)}",  # well-formed but unknown
    "Bearer aw_" + "x" * 200,
    "Token aw_abc",
])
def test_wrong_key_gets_401_problem(server, schema, document, application, authorization):
    response = requests.get(f"{server}/api/v1/applications/{application['id']}",
                            headers={"Authorization": authorization}, timeout=TIMEOUT)
    problem(response, schema, document, 401, GET_OP)


def test_unknown_application_is_404_problem(api, schema, document):
    problem(api("GET", f"/{uuid.uuid4()}"), schema, document, 404, GET_OP)


@pytest.mark.parametrize("query", [{"status": "archived"}, {"limit": "0"}, {"acknowledged": "yes"}])
def test_invalid_list_query_is_a_declared_problem(api, schema, document, query):
    response = api("GET", params=query)
    problem(response, schema, document, 400, LIST_OP)


def test_submitted_data_validates_against_the_assistant_json_schema(server, api):
    """Every application's `data` validates against the assistant version's own JSON Schema (draft 2020-12),
    checked by Python's jsonschema, not by Amtsweg; and the schema really constrains (a broken copy fails)."""
    listed = api("GET", params={"limit": "200"})
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert items, "no applications to check"
    schemas = {}
    for item in items:
        service = item["service"]
        key = (service["assistantId"], service["assistantVersion"])
        if key not in schemas:
            response = requests.get(f"{server}/api/schemas/{key[0]}/{key[1]}.json", timeout=TIMEOUT)
            assert response.status_code == 200 and media_type(response) == "application/schema+json"
            document = response.json()
            Draft202012Validator.check_schema(document)
            schemas[key] = Draft202012Validator(document, format_checker=Draft202012Validator.FORMAT_CHECKER)
        validator = schemas[key]
        assert_valid(validator, item["data"], f"data of {item['caseNumber']}")
        if service["leikaKey"] != SERVICE:
            continue  # other services' data (e.g. e2e/test_imported_services.py) have no copies/contact pages
        broken = json.loads(json.dumps(item["data"]))
        broken["copies"]["copies"] = 11
        assert not validator.is_valid(broken), "copies 11 must violate maximum 10"
        broken = json.loads(json.dumps(item["data"]))
        broken.pop("contact")
        assert not validator.is_valid(broken), "a missing required page must be refused"
    missing = requests.get(f"{server}/api/schemas/geburtsurkunde/0.0.0.json", timeout=TIMEOUT)
    assert missing.status_code == 404
