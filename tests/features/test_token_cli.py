"""`monitor token create/list/revoke`: the token is printed once, only its hash is stored, revocation bites."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg

MONITOR = str(Path(sys.executable).with_name("monitor"))


def monitor(database_url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([MONITOR, "token", *args], capture_output=True, text=True, env=env, timeout=120,
                          check=check)


def test_token_lifecycle_through_the_cli(fresh_server):
    url = fresh_server.database_url
    with psycopg.connect(url) as conn:
        organization = conn.execute("SELECT external_id FROM monitor.organizations WHERE external_id IS NOT NULL "
                                    "ORDER BY id LIMIT 1").fetchone()[0]
    token = monitor(url, "create", "--role", "organization", "--name", "Vecinal test",
                    "--organization", organization).stdout.strip()
    assert token.startswith("mpc_") and len(token) > 40
    listed = [json.loads(line) for line in monitor(url, "list").stdout.splitlines()]
    entry = next(t for t in listed if t["name"] == "Vecinal test")
    assert entry["role"] == "organization" and entry["revoked_at"] is None
    assert token not in json.dumps(listed) and "token_hash" not in entry
    with psycopg.connect(url) as conn:
        stored = conn.execute("SELECT token_hash FROM monitor.api_tokens WHERE id = %s", (entry["id"],)).fetchone()[0]
        history = conn.execute("SELECT count(*) FROM monitor.history WHERE table_name = 'api_tokens' "
                               "AND new_values::text LIKE %s", (f"%{token}%",)).fetchone()[0]
    assert token not in stored and history == 0
    with httpx.Client(base_url=fresh_server.url, timeout=30) as http:
        headers = {"Authorization": f"Bearer {token}"}
        assert http.get("/moderation/pending", headers=headers).status_code == 200
        monitor(url, "revoke", str(entry["id"]))
        assert http.get("/moderation/pending", headers=headers).status_code == 401
    # Refusals are clear: an organisation token needs its organisation, roles are checked.
    assert monitor(url, "create", "--role", "organization", "--name", "x", check=False).returncode != 0
    assert monitor(url, "create", "--role", "root", "--name", "x", check=False).returncode != 0
    assert monitor(url, "revoke", str(entry["id"]), check=False).returncode != 0
