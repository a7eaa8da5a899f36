"""Fixtures for the feature API tests: an HTTP client on the live server and a direct database connection."""

from __future__ import annotations

import httpx
import psycopg
import pytest


@pytest.fixture(scope="module")
def http(live_server):
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def sql(template_db):
    """Rows from the template database, to compare the API's answers with the same selection made in SQL."""
    with psycopg.connect(template_db, autocommit=True) as conn:
        def run(query: str, params=None) -> list[tuple]:
            return conn.execute(query, params).fetchall()
        yield run
