"""Fixtures for the index tests: a database copy with one index run, and helpers to wait for background runs."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from index_helpers import wait_for_run
from psycopg import sql

from gis.index.compute import run


def copy_of_pristine(admin_url: str, pristine: str) -> tuple[str, str]:
    name = f"monitor_test_index_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(pristine)))
    return name, urlunsplit(urlsplit(admin_url)._replace(path="/" + name))


@pytest.fixture(scope="module")
def indexed_db(admin_url, _loaded_databases):
    """A private copy of the loaded registry with one full index run (default parameters); read-only for tests."""
    name, url = copy_of_pristine(admin_url, _loaded_databases[1])
    run(url, trigger="test")
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def query():
    def run_query(url: str, text: str, params=None) -> list[tuple]:
        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute(text, params).fetchall()
    return run_query


@pytest.fixture(scope="module")
def live_index(live_server):
    """A client on the live server once its start-up run has been published."""
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        wait_for_run(client, None)
        yield client
