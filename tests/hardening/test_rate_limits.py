"""Rate limits (issue 13, item 8): per client, generous for reads, strict for writes, 429 problem with Retry-After.

Before: no limit at all; one client could send writes (or token guesses) as fast as the server answered. The budgets
here are tiny so that the test reaches them; the defaults are in gis/config.py. The server is `monitor serve` in a
process of its own, which trusts `X-Forwarded-For` from loopback as behind a local proxy: that is how the test
speaks as several clients.
"""

from __future__ import annotations

import itertools
import time

import httpx
import pytest
from hardening_helpers import PROBLEM, ServerProcess, bearer

from api.ratelimit import RateLimit
from gis.auth import create_token
from gis.config import Settings
from gis.db import connect

READS, WRITES = 12, 3


@pytest.fixture
def limited(fresh_db):
    with connect(fresh_db, actor="test") as conn:
        tokens = [create_token(conn, "editor", f"editor {n}")[1] for n in range(2)]
    server = ServerProcess(fresh_db, MONITOR_RATE_LIMIT_READS=f"{READS}/minute",
                           MONITOR_RATE_LIMIT_WRITES=f"{WRITES}/minute;100/hour")
    try:
        # Not ServerProcess.wait_ready: its polls, from one address, would spend that address's budget.
        deadline = time.monotonic() + 60
        for n in itertools.count():
            assert server.process.poll() is None and time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{server.url}/health", headers=as_client(f"192.0.2.{n % 250}"),
                             timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield server, tokens
    finally:
        server.stop()


def as_client(address: str, **headers) -> dict:
    return {"X-Forwarded-For": address, **headers}


def assert_limited(response: httpx.Response, limit: str) -> None:
    assert response.status_code == 429, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith(PROBLEM)
    assert limit in response.json()["detail"]
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["access-control-allow-origin"] == "*"  # readable cross-origin like any problem
    assert response.headers["x-content-type-options"] == "nosniff"


def test_writes_are_limited_per_token_and_reads_per_client(limited):
    server, (token, other_token) = limited
    invalid = {"type": "Feature", "geometry": None, "properties": {}}  # refused (400): stores nothing, still counts
    with httpx.Client(base_url=server.url, timeout=30) as http:
        def write(token_=None, address="198.51.100.7"):
            headers = bearer(token_) if token_ else {"Content-Type": "application/geo+json"}
            return http.post("/collections/instances/items", json=invalid, headers=as_client(address, **headers))

        for _ in range(WRITES):
            assert write(token).status_code == 400
        assert_limited(write(token), f"{WRITES} writes per minute")
        # Another token, from the same address, has its own write budget; so has a client without a token.
        assert write(other_token).status_code == 400
        for _ in range(WRITES):
            assert write().status_code == 401
        assert_limited(write(), "writes per minute")
        # Reads from that address: every request so far counted toward its budget, but the two answered 429.
        counted = 2 * WRITES + 1
        answers = [http.get("/health", headers=as_client("198.51.100.7")).status_code
                   for _ in range(READS - counted + 1)]
        assert answers == [200] * (READS - counted) + [429]
        assert_limited(http.get("/collections", headers=as_client("198.51.100.7")), f"{READS} requests per minute")
        # Another client reads on; an IPv6 client is its /64.
        assert http.get("/health", headers=as_client("203.0.113.9")).status_code == 200
        for n in range(READS):
            assert http.get("/health", headers=as_client(f"2001:db8:5:7::{n + 1:x}")).status_code == 200
        assert_limited(http.get("/health", headers=as_client("2001:db8:5:7:ffff::1")), "requests per minute")
        assert http.get("/health", headers=as_client("2001:db8:5:8::1")).status_code == 200
    logged = server.stop()
    assert token not in logged and "198.51.100.7" not in logged


def test_cached_tiles_count_toward_the_read_budget(limited):
    # Cached tiles are answered before the middleware stack (api/tiles/shortcut.py): they must still be counted.
    server, _ = limited
    path = "/tiles/barrios/12/1358/2445.mvt"  # over Rosario's centre
    with httpx.Client(base_url=server.url, timeout=30) as http:
        answers = [http.get(path, headers=as_client("198.51.100.8")) for _ in range(READS)]
        assert [a.status_code for a in answers] == [200] * READS
        assert {a.headers["x-tile-cache"] for a in answers[1:]} == {"hit"}
        assert_limited(http.get(path, headers=as_client("198.51.100.8")), f"{READS} requests per minute")
        assert http.get(path, headers=as_client("203.0.113.10")).headers["x-tile-cache"] == "hit"


def test_the_limits_are_settings_and_wrong_ones_stop_the_start():
    assert Settings().rate_limit_reads and Settings().rate_limit_writes  # on by default
    with pytest.raises(ValueError):
        Settings(MONITOR_RATE_LIMIT_WRITES="sixty a minute")
    assert RateLimit(None, "none", "").reads == []
