"""Crash safety of submissions and deliveries: the server is killed with SIGKILL again and again while citizens
submit and the delivery worker calls a Fachverfahren's webhook, then restarted each time. Afterwards every
application a citizen was told about exists, every stored application reached the Fachverfahren, and each one under
exactly one idempotency key (repeats after a kill carry the same key, so the receiver keeps it once). Runs on SQLite
and on PostgreSQL (AMTSWEG_TEST_POSTGRES_URL, set by scripts/test.sh). Bounded: 8 kills, 120 submissions, loopback.
"""
from __future__ import annotations

import base64
import os
import queue
import random
import re
import shutil
import subprocess
import threading
import time
import uuid

import pytest
import requests

from amtsweg_process import ServerProcess as Server, run_cli
from conftest import free_port
from webhook_receiver import WebhookReceiver

ARS = "146270140140"
SECRET = "crash-test-webhook-secret-0123456789abcdef"
KILLS = 8
SUBMISSIONS = 120


def database_url(backend: str, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:{tmp_path / 'crash.sqlite'}"
    base = os.environ.get("AMTSWEG_TEST_POSTGRES_URL")
    if not base:
        if os.environ.get("CI"):
            pytest.fail("AMTSWEG_TEST_POSTGRES_URL is not set in CI (scripts/test.sh starts PostgreSQL)")
        pytest.skip("no PostgreSQL (run through scripts/test.sh)")
    psql = shutil.which("psql")
    if psql is None:
        pytest.fail("psql is missing (scripts/setup-debian.sh installs postgresql-client)")
    name = f"amtsweg_crash_{uuid.uuid4().hex[:10]}"
    subprocess.run([psql, base, "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return base.rsplit("/", 1)[0] + "/" + name


def submit_all(base: str, seeds: queue.Queue, accepted: dict, refused: list, stop: threading.Event, threads: int = 4) -> None:
    """Citizens submit their drafts until `stop` or no drafts are left; a draft whose request died is tried again."""
    def citizen():
        session = requests.Session()
        while not stop.is_set():
            try:
                token, csrf, draft = seeds.get_nowait()
            except queue.Empty:
                return
            try:
                response = session.post(f"{base}/de/antrag/{draft}/absenden", data={"_csrf": csrf},
                                        cookies={"amtsweg_session": token}, allow_redirects=False, timeout=10)
            except requests.RequestException:
                seeds.put((token, csrf, draft))  # no answer: maybe stored, maybe not; the next server decides
                time.sleep(0.05)
                continue
            match = re.match(r"^/de/vorgang/([0-9a-f-]{36})/bestaetigung$", response.headers.get("Location", ""))
            if response.status_code == 303 and match:
                accepted[draft] = match.group(1)
            else:
                refused.append((draft, response.status_code))
            # Citizens arrive over several seconds, so kills hit submissions as well as deliveries.
            time.sleep(random.uniform(0.03, 0.12))
    workers = [threading.Thread(target=citizen) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def metric(text: str, state: str, kind: str = "api") -> int:
    match = re.search(rf'amtsweg_deliveries\{{tenant="{ARS}",kind="{kind}",state="{state}"\}} (\d+)', text)
    return int(match.group(1)) if match else 0


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_during_submissions_and_deliveries(backend, tmp_path):
    env = dict(os.environ, AMTSWEG_DATABASE_URL=database_url(backend, tmp_path),
               AMTSWEG_MASTER_KEY=base64.b64encode(os.urandom(32)).decode(), AMTSWEG_WEBHOOK_SECRET=SECRET,
               AMTSWEG_DELIVERY_LEASE_SECONDS="2", AMTSWEG_DELIVERY_RETRY_SECONDS="0.2")
    api_key = re.search(r"api key (\S+)", run_cli(env, "demo")).group(1)
    receiver = WebhookReceiver(SECRET).start()
    try:
        run_cli(env, "route", "--ars", ARS, "--kind", "api", "--webhook", receiver.url)
        seed_file = tmp_path / "seeds"
        run_cli(env, "bench-seed", "--drafts", str(SUBMISSIONS), "--out", str(seed_file))
        seeds: queue.Queue = queue.Queue()
        for line in seed_file.read_text().split("\n"):
            if line.strip():
                seeds.put(tuple(line.split()))
        accepted: dict[str, str] = {}
        refused: list = []
        port = free_port()
        rng = random.Random(4711)
        with open(tmp_path / "server.log", "ab") as log:
            for _ in range(KILLS):
                server = Server(env, port, log)
                stop = threading.Event()
                citizens = threading.Thread(target=submit_all, args=(server.base, seeds, accepted, refused, stop))
                citizens.start()
                time.sleep(rng.uniform(0.2, 1.2))
                server.kill()
                stop.set()
                citizens.join(timeout=30)
            server = Server(env, port, log)
            try:
                submit_all(server.base, seeds, accepted, refused, threading.Event())
                auth = {"Authorization": f"Bearer {api_key}"}
                stored = requests.get(f"{server.base}/api/v1/applications", params={"limit": 200}, headers=auth, timeout=10).json()["items"]
                stored_ids = {item["id"] for item in stored}
                # Every application the citizen saw a confirmation for exists.
                assert set(accepted.values()) <= stored_ids, "an acknowledged application is missing"
                assert len(stored_ids) <= SUBMISSIONS and len(stored_ids) >= len(accepted)
                # Drafts whose request died after the commit were refused on retry (already submitted); nothing else was.
                assert all(status in (303, 404) for _, status in refused), refused[:5]
                # Every stored application reaches the Fachverfahren (retries after kills within the 2 s lease).
                deadline = time.monotonic() + 90
                while True:
                    records = [r for r in receiver.records() if r["answer"] == 200]
                    notified = {s["submissionId"] for r in records for s in r["payload"]["submissions"]}
                    if notified >= stored_ids or time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
                assert all(r["valid"] for r in receiver.records()), "a callback failed the signature check"
                assert notified == stored_ids, f"{len(stored_ids - notified)} applications never reached the receiver"
                keys: dict[str, set] = {}
                for record in records:
                    for submission in record["payload"]["submissions"]:
                        keys.setdefault(submission["submissionId"], set()).add(record["idempotencyKey"])
                assert all(len(k) == 1 for k in keys.values()), "an application was delivered under two idempotency keys"
                repeats = len(records) - len(stored_ids)
                # The Fachverfahren accepts each application once it has it; then all count as delivered.
                for application_id in sorted(stored_ids):
                    answer = requests.post(f"{server.base}/api/v1/applications/{application_id}/acknowledge", headers=auth, timeout=10)
                    assert answer.status_code == 200 and answer.json()["acknowledgedAt"] is not None
                metrics = requests.get(f"{server.base}/metrics", timeout=10).text
                assert metric(metrics, "delivered") == len(stored_ids)
                assert metric(metrics, "delivered", kind="backoffice") == len(stored_ids)
                for state in ("pending", "sent", "dead", "rejected"):
                    assert metric(metrics, state) == 0, f"deliveries left in state {state}"
                print(f"\n{backend}: {KILLS} kills, {len(accepted)} confirmed, {len(refused)} refused on retry, {len(stored_ids)} stored, "
                      f"{len(records)} callbacks ({repeats} repeats with the same key), all delivered once")
            finally:
                server.kill()
    finally:
        receiver.stop()
