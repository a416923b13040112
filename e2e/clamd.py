"""A throw-away clamd for the browser tests: unix socket in a temporary folder, signatures only for the EICAR test
string and Debian's clamav-testfiles clam.pdf (SHA-256 hash signatures; the real databases need the internet)."""

from __future__ import annotations

import contextlib
import hashlib
import pathlib
import subprocess
import time

CLAMD = pathlib.Path("/usr/sbin/clamd")
TEST_PDF = pathlib.Path("/usr/share/clamav-testfiles/clam.pdf")
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@contextlib.contextmanager
def running_clamd(folder: pathlib.Path):
    """Yields the socket path of a running clamd; stops it afterwards."""
    database = folder / "db"
    database.mkdir(parents=True)
    pdf = TEST_PDF.read_bytes()
    (database / "amtsweg-test.hsb").write_text(
        f"{hashlib.sha256(EICAR).hexdigest()}:{len(EICAR)}:Eicar-Test-Signature\n"
        f"{hashlib.sha256(pdf).hexdigest()}:{len(pdf)}:Amtsweg.Test.ClamPDF\n")
    socket = folder / "clamd.sock"
    config = folder / "clamd.conf"
    config.write_text(f"LocalSocket {socket}\nDatabaseDirectory {database}\nForeground yes\nLogFile {folder / 'clamd.log'}\n")
    process = subprocess.Popen([str(CLAMD), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not socket.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"clamd did not start: {(folder / 'clamd.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        yield str(socket)
    finally:
        process.terminate()
        process.wait(timeout=30)
