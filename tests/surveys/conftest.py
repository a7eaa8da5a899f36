"""Fixtures of the survey tests: a writable server with tokens and an instance nobody has answered about yet, and
Debian's Chromium driven by Playwright (as in tests/web)."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import psycopg
import pytest

from gis.auth import create_token
from gis.db import connect


@pytest.fixture
def survey_world(fresh_server):
    """The fresh server, a client, SQL on its database, an editor and an organisation token, and a published
    instance with an activity and no survey answers yet (plus an activity of another instance)."""
    url = fresh_server.database_url
    with psycopg.connect(url, autocommit=True) as conn:
        instance, activity = conn.execute("""
            SELECT i.id, min(a.id) FROM published.instances i JOIN published.activities a ON a.instance_id = i.id
            WHERE NOT EXISTS (SELECT 1 FROM monitor.survey_responses r WHERE r.instance_id = i.id)
            GROUP BY i.id ORDER BY i.id LIMIT 1""").fetchone()
        other_activity = conn.execute("SELECT min(id) FROM published.activities WHERE instance_id <> %s",
                                      (instance,)).fetchone()[0]
        organization = conn.execute("SELECT min(id) FROM monitor.organizations").fetchone()[0]
    with connect(url, actor="test") as conn:
        tokens = {"editor": create_token(conn, "editor", "test editor")[1],
                  "organization": create_token(conn, "organization", "test org", str(organization))[1]}

    def sql(query, params=None):
        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    with httpx.Client(base_url=fresh_server.url, timeout=60) as http:
        yield SimpleNamespace(server=fresh_server, url=url, http=http, sql=sql, tokens=tokens, instance=instance,
                              activity=activity, other_activity=other_activity)

