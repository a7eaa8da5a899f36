"""Fixtures of the back-office tests: a writable server with one token per role (two organisations, each owning
published instances), SQL on its database, and Debian's Chromium (the module-scoped `browser` of tests/conftest.py)."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import psycopg
import pytest

from gis.auth import create_token
from gis.db import connect


@pytest.fixture
def gestion(fresh_server):
    url = fresh_server.database_url
    with psycopg.connect(url, autocommit=True) as conn:
        org_a, org_b = [r[0] for r in conn.execute(
            "SELECT organization_id FROM monitor.instances WHERE organization_id IS NOT NULL AND deleted_at IS NULL "
            "AND moderation = 'approved' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2")]
        instance_a, instance_b = (conn.execute(
            "SELECT min(id) FROM monitor.instances WHERE organization_id = %s AND moderation = 'approved' "
            "AND deleted_at IS NULL", (org,)).fetchone()[0] for org in (org_a, org_b))
    with connect(url, actor="test") as conn:
        tokens = {role: create_token(conn, role, f"Prueba {role}")[1] for role in ("admin", "editor")}
        tokens["org_a"] = create_token(conn, "organization", "Vecinal A", str(org_a))[1]
        tokens["org_b"] = create_token(conn, "organization", "Vecinal B", str(org_b))[1]

    def sql(query, params=None):
        with psycopg.connect(url, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else cursor.rowcount

    with httpx.Client(base_url=fresh_server.url, timeout=60) as http:
        yield SimpleNamespace(server=fresh_server, url=url, http=http, sql=sql, tokens=tokens, org_a=org_a,
                              org_b=org_b, instance_a=instance_a, instance_b=instance_b)
