"""Fixtures for the tile tests: an HTTP client on the live server and queries against the same database."""

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
    with psycopg.connect(template_db, autocommit=True) as conn:
        def run(query: str, params=None) -> list[tuple]:
            return conn.execute(query, params).fetchall()
        yield run


@pytest.fixture(scope="module")
def rosario_bounds(sql):
    return sql("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
               "FROM (SELECT ST_Extent(geom) e FROM published.barrios) b")[0]
