"""Fixtures of the hardening tests: a fresh server with one token per role."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from gis.auth import create_token
from gis.db import connect


@pytest.fixture
def writer(fresh_server):
    """The fresh server, a client, SQL on its database and tokens (admin, editor, an organisation's)."""
    url = fresh_server.database_url
    with psycopg.connect(url, autocommit=True) as conn:
        org = conn.execute("SELECT organization_id FROM monitor.instances WHERE organization_id IS NOT NULL "
                           "AND moderation = 'approved' ORDER BY organization_id LIMIT 1").fetchone()[0]
    with connect(url, actor="test") as conn:
        tokens = {role: create_token(conn, role, f"test {role}")[1] for role in ("admin", "editor")}
        tokens["org"] = create_token(conn, "organization", "org", str(org))[1]

    def sql(query, params=None):
        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    with httpx.Client(base_url=fresh_server.url, timeout=60) as http:
        yield {"http": http, "sql": sql, "tokens": tokens, "org": org, "url": url, "server": fresh_server}
