"""The served OpenAPI document is valid OpenAPI 3.1 and matches the API's authentication behaviour.

Uses the session fixture `server` from e2e/conftest.py (base URL of a running demo server,
e.g. "http://127.0.0.1:PORT").
"""

import json
import pathlib
import re
import urllib.error
import urllib.request
import uuid

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO = pathlib.Path(__file__).resolve().parent.parent
SOURCE = REPO / "Sources" / "AmtswegWeb" / "Resources" / "openapi.yaml"
UNAUTHENTICATED_PATHS = {"/healthz", "/readyz"}
PROBLEM_JSON = "application/problem+json"


def fetch(base, path, headers=None, method="GET"):
    """Return (status, headers, body) without raising on 4xx/5xx."""
    request = urllib.request.Request(base.rstrip("/") + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def media_type(headers):
    return (headers.get("Content-Type") or "").split(";")[0].strip().lower()


@pytest.fixture(scope="module")
def document(server):
    status, _, body = fetch(server, "/api/openapi.yaml")
    assert status == 200, f"GET /api/openapi.yaml answered {status}"
    doc = yaml.safe_load(body)
    assert isinstance(doc, dict), "GET /api/openapi.yaml is not a YAML mapping"
    return doc


@pytest.fixture(scope="module")
def problem_validator(document):
    registry = Registry().with_resource(
        "urn:amtsweg:openapi", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": "urn:amtsweg:openapi#/components/schemas/Problem"}, registry=registry
    )


def test_served_document_is_valid_openapi_31(document):
    assert str(document.get("openapi", "")).startswith("3.1"), document.get("openapi")
    validate(document)  # raises OpenAPIValidationError on any problem


def test_served_document_is_the_source_resource(document):
    assert document == yaml.safe_load(SOURCE.read_text(encoding="utf-8")), (
        "served /api/openapi.yaml differs from Sources/AmtswegWeb/Resources/openapi.yaml (stale build?)"
    )


def check_unauthenticated_get(server, path, problem_validator, failures, headers=None):
    status, response_headers, body = fetch(server, path, headers=headers)
    if status != 401:
        failures.append(f"GET {path}: expected 401, got {status}")
        return
    if media_type(response_headers) != PROBLEM_JSON:
        failures.append(f"GET {path}: 401 with Content-Type {response_headers.get('Content-Type')!r}")
        return
    try:
        problem = json.loads(body)
    except ValueError:
        failures.append(f"GET {path}: 401 body is not JSON: {body[:200]!r}")
        return
    errors = [e.message for e in problem_validator.iter_errors(problem)]
    if errors:
        failures.append(f"GET {path}: 401 body does not match Problem schema: {errors}")
    elif problem.get("status") != 401:
        failures.append(f"GET {path}: problem status {problem.get('status')!r} != 401")


def test_parameterless_get_paths_require_auth(server, document, problem_validator):
    paths = document["paths"]
    assert UNAUTHENTICATED_PATHS <= set(paths), "document lacks /healthz or /readyz"
    checked, failures = [], []
    for path, item in paths.items():
        if "{" in path or "get" not in item:
            continue
        checked.append(path)
        if path in UNAUTHENTICATED_PATHS:
            assert item["get"].get("security") == [], f"{path} must declare security: []"
            status, _, _ = fetch(server, path)
            if status != 200:
                failures.append(f"GET {path}: expected 200 without auth, got {status}")
        else:
            assert item["get"].get("security") != [], f"{path} must not be declared unauthenticated"
            check_unauthenticated_get(server, path, problem_validator, failures)
    assert "/api/v1/applications" in checked
    assert not failures, "\n".join(failures)


def test_wrong_bearer_key_is_rejected(server, problem_validator):
    failures = []
    for headers in (
        {"Authorization": "Bearer not-a-valid-key"},
        {"Authorization": "Basic " + "dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
    ):
        check_unauthenticated_get(server, "/api/v1/applications", problem_validator, failures, headers)
    assert not failures, "\n".join(failures)


def test_parameterised_get_paths_require_auth_before_lookup(server, document, problem_validator):
    """Unknown ids must not leak as 404 to unauthenticated callers: authentication comes first."""
    failures = []
    for path, item in document["paths"].items():
        if "{" not in path or "get" not in item or item["get"].get("security") == []:
            continue  # public documents (submission schemas) need no key
        concrete = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)
        check_unauthenticated_get(server, concrete, problem_validator, failures)
    assert not failures, "\n".join(failures)
