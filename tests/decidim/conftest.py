"""Fixtures of the Decidim importer tests: a local Decidim over real HTTP (tests/decidim/fake_decidim.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_decidim import FakeDecidim


@pytest.fixture
def decidim() -> Iterator[FakeDecidim]:
    """Decidim 0.27 (categories), the version Rosario-like platforms run; its records change per test."""
    server = FakeDecidim(version="0.27.5").start()
    yield server
    server.stop()


@pytest.fixture
def decidim_031() -> Iterator[FakeDecidim]:
    """Decidim 0.31: taxonomies, meetings' url and isWithdrawn, results' proposals."""
    server = FakeDecidim(version="0.31.0").start()
    yield server
    server.stop()


@pytest.fixture
def second_db(admin_url, _loaded_databases) -> Iterator[str]:
    """Another private copy of the loaded database (as `fresh_db`), to import the same platform another way."""
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    name = f"monitor_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                      sql.Identifier(_loaded_databases[1])))
    yield urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
