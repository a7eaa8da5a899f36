"""`monitor serve --workers 2`: two server processes that share the connections (api/serving.py), one index
recomputer per database (an advisory lock)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
from http_helpers import free_port

from gis.index.recompute import LEADER_KEY

ROOT = Path(__file__).resolve().parents[1]


def leaders(url: str) -> list[int]:
    """Backends holding the leader lock (a session advisory lock on one bigint key: classid 0, objid = key)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = %s "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (LEADER_KEY,)).fetchall()]


def runs(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM monitor.index_runs").fetchone()[0]


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what} within {timeout} s")


def workers_of(parent: int) -> list[int]:
    """The processes the server started (its workers): the children of its main thread."""
    return [int(pid) for pid in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()]


def connections_per_process(pids: list[int], port: int) -> dict[int, int]:
    """Established TCP connections to `port` (server side) each process holds, read from /proc."""
    ours = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 01: ESTABLISHED
            ours.add(f"socket:[{fields[9]}]")
    held = {}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) in ours:
                    held[pid] = held.get(pid, 0) + 1
            except OSError:
                continue
    return held


def test_a_port_in_use_stops_the_start_rather_than_being_shared():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = subprocess.run([sys.executable, "-m", "api.serving", "api.app:create_app", "--factory", "--port",
                                  str(port), "--workers", "2"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert started.returncode != 0 and "in use" in started.stderr


def test_two_workers_serve_and_one_recomputes(fresh_db):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": fresh_db, "MONITOR_INDEX_DEBOUNCE_SECONDS": "0.5"}
    server = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--workers", "2"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            def healthy():
                try:
                    return http.get("/health").status_code == 200
                except httpx.TransportError:
                    return False
            wait_until(healthy, 90, "the server answered /health")
            # Both workers are up once the slower one has joined; one of them leads.
            with psycopg.connect(fresh_db, autocommit=True) as conn:
                wait_until(lambda: conn.execute(
                    "SELECT count(DISTINCT pid) >= 4 FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()").fetchone()[0], 60, "both workers connected")
            time.sleep(2)
            assert len(leaders(fresh_db)) == 1
            before = runs(fresh_db)
            with psycopg.connect(fresh_db, autocommit=True) as conn:  # a write from any client (psql, an import)
                conn.execute("UPDATE monitor.instances SET status = 'paused' WHERE id = "
                             "(SELECT id FROM published.instances ORDER BY id LIMIT 1)")
            wait_until(lambda: runs(fresh_db) > before, 120, "a recompute after the write")
            time.sleep(4)  # a second recomputer would have run by now (debounce 0.5 s)
            assert runs(fresh_db) == before + 1
            assert http.get("/collections/instances/items", params={"limit": 1}).status_code == 200
        # A burst of connections, as a reverse proxy opens its pool, is spread over both workers: with one shared
        # socket the first worker to wake accepted 20 to 24 of 24. A fair spread leaves each fewer than 3 once in
        # 28,000.
        burst = [socket.create_connection(("127.0.0.1", port)) for _ in range(24)]
        try:
            def accepted():
                held = connections_per_process(workers_of(server.pid), port)
                return held if sum(held.values()) == len(burst) else None

            held = wait_until(accepted, 20, "the workers accepted the burst")
            assert len(held) == 2 and min(held.values()) >= 3, held
        finally:
            for connection in burst:
                connection.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
