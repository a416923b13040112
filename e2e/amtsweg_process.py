"""Running the amtsweg binary from tests: one-off CLI commands and servers of their own (for tests that need a
configuration the shared `server` fixture does not have, or that kill the server)."""
from __future__ import annotations

import signal
import subprocess
import time

import requests

from conftest import REPO_ROOT, amtsweg_bin


def run_cli(env: dict, *args: str) -> str:
    """Runs `amtsweg ARGS` with `env`; returns stdout, fails the test on a non-zero exit."""
    result = subprocess.run([str(amtsweg_bin()), *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"amtsweg {' '.join(args)} failed: {result.stderr[-2000:]}"
    return result.stdout


class ServerProcess:
    """`amtsweg serve` on 127.0.0.1:`port`, ready when the constructor returns."""

    def __init__(self, env: dict, port: int, log):
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([str(amtsweg_bin()), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                     cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            assert self.proc.poll() is None, f"server exited with {self.proc.returncode} during startup"
            try:
                if requests.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "server not ready within 60 s"
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, as in a crash."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
