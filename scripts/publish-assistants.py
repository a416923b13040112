#!/usr/bin/env python3
"""Locks newly added assistant versions in Sources/AmtswegWeb/Resources/assistants/versions.lock.

Adds `id version sha256` for every definition file whose id and version are not locked yet. It never changes an
existing line: a published version is immutable, and PublishedVersionsTests fails if its file changes.
"""
import hashlib
import json
import pathlib
import sys

FOLDER = pathlib.Path(__file__).resolve().parent.parent / "Sources" / "AmtswegWeb" / "Resources" / "assistants"
LOCK = FOLDER / "versions.lock"

locked = {" ".join(line.split()[:2]) for line in LOCK.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")}
added = []
for path in sorted(FOLDER.rglob("*.json")):
    definition = json.loads(path.read_text(encoding="utf-8"))
    key = f"{definition['id']} {definition['version']}"
    if key not in locked:
        added.append(f"{key} {hashlib.sha256(path.read_bytes()).hexdigest()}")
        locked.add(key)
if added:
    with LOCK.open("a", encoding="utf-8") as lock:
        lock.write("\n".join(added) + "\n")
print("\n".join(f"locked {line}" for line in added) or "nothing new to lock", file=sys.stderr)
