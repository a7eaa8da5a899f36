"""Fixtures for the feature API tests: an HTTP client on the live server and a direct database connection."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from gis.auth import create_token
from gis.db import connect


@pytest.fixture
def world(fresh_server):
    """The fresh server, a client, SQL on its database, and one token per role (two organisations)."""
    url = fresh_server.database_url
    with psycopg.connect(url, autocommit=True) as conn:
        org_a, org_b = [r[0] for r in conn.execute(
            "SELECT organization_id FROM monitor.instances WHERE organization_id IS NOT NULL "
            "AND moderation = 'approved' GROUP BY 1 ORDER BY count(*) DESC LIMIT 2")]
    with connect(url, actor="test") as conn:
        tokens = {role: create_token(conn, role, f"test {role}")[1] for role in ("admin", "editor")}
        tokens["org_a"] = create_token(conn, "organization", "org a", str(org_a))[1]
        tokens["org_b"] = create_token(conn, "organization", "org b", str(org_b))[1]

    def sql(query, params=None):
        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    with httpx.Client(base_url=fresh_server.url, timeout=60) as http:
        yield {"http": http, "sql": sql, "tokens": tokens, "org_a": org_a, "org_b": org_b, "url": url}
