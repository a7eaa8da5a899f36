"""The database going away and coming back: 503 problems with Retry-After within seconds (reads and writes),
/health says `degraded`, nothing half-written, and no request pays for a connection the restart made stale.

Before: 500s and 28-second hangs while it was away; each stale pooled connection failed one user request after a
restart; writes during an outage answered 500.

The outage is made on the test's own database, not the shared server: new connections are refused
(ALLOW_CONNECTIONS false) and every open one is terminated, as a restart does to the pool.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from hardening_helpers import assert_problem, bearer, new_instance
from psycopg import sql

from api.errors import RETRY_AFTER_SECONDS
from gis.config import get_settings

WAIT = get_settings().db_wait_seconds


def _database(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def terminate_connections(admin_url: str, database: str) -> int:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return len(conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND "
                                "pid <> pg_backend_pid()", (database,)).fetchall())


def allow_connections(admin_url: str, database: str, allowed: bool) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(
            sql.Identifier(database), sql.SQL("true" if allowed else "false")))


def timed(call) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def test_an_outage_gives_503_with_retry_after_and_the_service_comes_back(writer, admin_url):
    http, token, database = writer["http"], writer["tokens"]["editor"], _database(writer["url"])
    assert http.get("/collections/instances/items", params={"limit": 1}).status_code == 200
    before = writer["sql"]("SELECT count(*) FROM monitor.instances")[0][0]
    allow_connections(admin_url, database, False)
    try:
        terminate_connections(admin_url, database)
        checks = {
            "read": lambda: http.get("/collections/instances/items", params={"limit": 2, "offset": 1}),
            "one feature": lambda: http.get("/collections/barrios/items/1"),
            "write": lambda: http.post("/collections/instances/items", json=new_instance("Mesa durante el corte"),
                                       headers=bearer(token)),
        }
        for what, call in checks.items():
            response, seconds = timed(call)
            problem = assert_problem(response, 503, "database")
            assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS), what
            assert response.headers["access-control-allow-origin"] == "*"
            assert seconds < WAIT + 3, (what, seconds)
            assert problem["title"] == "Database unavailable"
        health, seconds = timed(lambda: http.get("/health"))
        assert health.status_code == 503 and health.json()["status"] == "degraded" and seconds < WAIT + 3
        assert health.headers["retry-after"]
    finally:
        allow_connections(admin_url, database, True)
    deadline = time.monotonic() + 40
    while http.get("/health").status_code != 200:  # the pools reconnect on their own
        assert time.monotonic() < deadline, "the service did not come back within 40 s"
        time.sleep(0.5)
    assert http.get("/collections/instances/items", params={"limit": 1}).status_code == 200
    created = http.post("/collections/instances/items", json=new_instance("Mesa después del corte"),
                        headers=bearer(token))
    assert created.status_code == 201, created.text
    # The write refused during the outage stored nothing; the one after it, one row.
    assert writer["sql"]("SELECT count(*) FROM monitor.instances")[0][0] == before + 1


@pytest.mark.parametrize("rounds", [2])
def test_stale_pooled_connections_never_fail_a_request(writer, admin_url, rounds):
    """A restart closes every pooled connection; the next requests (reads and writes) all succeed."""
    http, token, database = writer["http"], writer["tokens"]["editor"], _database(writer["url"])
    for n in range(rounds):
        # Warm both pools, then cut every connection the server holds.
        for _ in range(4):
            assert http.get("/collections/instances/items", params={"limit": 1}).status_code == 200
        assert terminate_connections(admin_url, database) > 0
        statuses = [http.get("/collections/instances/items", params={"limit": 1, "offset": i}).status_code
                    for i in range(12)]
        statuses.append(http.get("/health").status_code)
        statuses.append(http.post("/collections/instances/items", json=new_instance(f"Mesa tras reinicio {n}"),
                                  headers=bearer(token)).status_code)
        assert statuses == [200] * 13 + [201], statuses


def test_tiles_come_back_after_a_restart_without_a_failed_request(writer, admin_url):
    """The tile pool lends connections unchecked (no round trip per tile): a connection a restart closed is
    replaced when a tile fails on it, and the tile is built on another; the version probe reconnects the same way."""
    http, database = writer["http"], _database(writer["url"])
    addresses = [(13, 2716 + dx, 4890 + dy) for dx in range(4) for dy in range(4)]  # Rosario's centre, z13
    for z, x, y in addresses[:8]:  # warm the pool and the probe
        assert http.get(f"/tiles/{z}/{x}/{y}.mvt").status_code in (200, 204)
    assert terminate_connections(admin_url, database) > 0
    # Tiles never built (no cache can answer) and tiles already cached (the version read must reconnect).
    statuses = [http.get(f"/tiles/{z}/{x}/{y}.mvt").status_code for z, x, y in addresses]
    assert all(status in (200, 204) for status in statuses), str(statuses)
    assert any(status == 200 for status in statuses)
