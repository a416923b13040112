"""The operator commands run end to end on a fresh SQLite database (each in its own process)."""
import json
import os
import pathlib
import subprocess

from conftest import amtsweg_bin

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIM = ROOT.parent / "shared" / "data" / "fim" / "S00000000362.xdf3.xml"


def run(tmp_path, *args):
    env = dict(os.environ, AMTSWEG_DATABASE_URL=f"sqlite:{tmp_path}/cli.sqlite", AMTSWEG_KEY_FILE=str(tmp_path / "master.key"))
    return subprocess.run([str(amtsweg_bin()), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_operator_commands(tmp_path):
    migrate = run(tmp_path, "migrate")
    assert migrate.returncode == 0, migrate.stderr
    assert "schema version" in migrate.stdout
    assert oct((tmp_path / "master.key").stat().st_mode & 0o777) == "0o600"

    demo = run(tmp_path, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "146270140140" in demo.stdout and "api key aw_" in demo.stdout

    seed = run(tmp_path, "bench-seed", "--drafts", "5", "--out", str(tmp_path / "seed.txt"))
    assert seed.returncode == 0, seed.stderr
    lines = (tmp_path / "seed.txt").read_text().split("\n")
    assert len([line for line in lines if line.strip()]) == 5

    out = tmp_path / "imported.json"
    imported = run(tmp_path, "import-fim", str(FIM), "--id", "test-import", "--leika", "99010012001001", "--out", str(out))
    assert imported.returncode == 0, imported.stderr
    assert "Regeln NICHT übernommen" in imported.stderr
    definition = json.loads(out.read_text())
    assert definition["id"] == "test-import" and len(definition["pages"]) >= 4

    refused = run(tmp_path, "import-fim", str(tmp_path / "seed.txt"), "--id", "x", "--leika", "99010012001001")
    assert refused.returncode != 0 and "XML" in refused.stderr

    bad_url = subprocess.run([str(amtsweg_bin()), "migrate"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, AMTSWEG_DATABASE_URL="mysql://nope"))
    assert bad_url.returncode != 0 and "postgres://" in bad_url.stderr
