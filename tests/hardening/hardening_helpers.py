"""Helpers of the hardening tests (imported by name: the test folders are not packages)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"
GEOJSON = {"Content-Type": "application/geo+json"}
CENTRE = [-60.6505, -32.9468]  # a point inside Rosario's centre (lon, lat)


def assert_problem(response: httpx.Response, status: int | tuple = 400, *words: str) -> dict:
    """A problem+json answer with this status whose title or detail holds every one of `words`."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body = response.json()
    text = f"{body.get('title', '')} {body.get('detail', '')}".lower()
    missing = [w for w in words if w.lower() not in text]
    assert not missing, (missing, body)
    return body


def bearer(token: str, **extra) -> dict:
    return {"Authorization": f"Bearer {token}", **GEOJSON, **extra}


def new_instance(name: str = "Mesa barrial de prueba", point=None, **props) -> dict:
    properties = {"name": name, "kind": "roundtable", "promoter": "cso", "themes": ["ambiente"],
                  "modality": "in_person", "scope": "barrio", "source": "test", **props}
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": point or CENTRE},
            "properties": properties}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
