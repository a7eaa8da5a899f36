"""Helpers of the hardening tests (imported by name: the test folders are not packages)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from http_helpers import CENTRE, GEOJSON, PROBLEM, assert_problem, bearer, free_port, new_instance  # noqa: F401 (shared)

ROOT = Path(__file__).resolve().parents[2]



class ServerProcess:
    """`monitor serve` in a process of its own (a crash kills it, not the test run), on `database_url`."""

    def __init__(self, database_url: str, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(self.port)], cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url, **env}, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("the server did not start")

    def stop(self) -> str:
        """Stops it (if alive) and returns what it wrote on stderr."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.stderr.read().decode(errors="replace")
