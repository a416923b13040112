"""The API against its own OpenAPI document with schemathesis (property-based, generated from the document, not by
us): no request it makes may cause a server error, and answers must match the documented status codes, media types
and schemas. Bounded: a fixed seed, at most 15 examples per operation, two minutes."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import requests

from amtsweg_process import run_cli
from conftest import REPO_ROOT


def test_schemathesis_finds_no_server_error(server, server_db_url, tmp_path):
    binary = shutil.which("schemathesis") or shutil.which("st")
    if binary is None:
        pytest.fail("schemathesis is not installed (scripts/setup-debian.sh installs e2e/requirements.txt)")
    env = dict(os.environ, AMTSWEG_DATABASE_URL=server_db_url)
    api_key = re.search(r"api key (\S+)", run_cli(env, "demo")).group(1)
    # A real application, so that the operations on one get past the 404 and into their logic.
    seeds = tmp_path / "seed"
    run_cli(env, "bench-seed", "--drafts", "1", "--out", str(seeds))
    token, csrf, draft = seeds.read_text().split()[:3]
    submitted = requests.post(f"{server}/de/antrag/{draft}/absenden", data={"_csrf": csrf}, cookies={"amtsweg_session": token},
                              allow_redirects=False, timeout=10)
    application_id = re.search(r"/vorgang/([0-9a-f-]{36})/", submitted.headers["Location"]).group(1)
    version = requests.get(f"{server}/api/v1/applications/{application_id}", headers={"Authorization": f"Bearer {api_key}"},
                           timeout=10).json()["service"]["assistantVersion"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[parameters]\n"path.applicationId" = "{application_id}"\n"path.assistantId" = "geburtsurkunde"\n'
                      f'"path.schemaFile" = "{version}.json"\n')
    report = tmp_path / "junit.xml"
    command = [binary, "--config-file", str(config), "run", f"{server}/api/openapi.yaml", "--url", server, "-H", f"Authorization: Bearer {api_key}",
               "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
               "--max-examples", "15", "--seed", "4711", "--workers", "1", "--max-time", "120", "--request-timeout", "10",
               "--report", "junit", "--report-junit-path", str(report)]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    summary = result.stdout[-6000:]
    print(summary)
    assert result.returncode == 0, f"schemathesis found problems:\n{summary}\n{result.stderr[-2000:]}"
    assert "No issues found" in result.stdout or "passed" in result.stdout.lower(), summary
