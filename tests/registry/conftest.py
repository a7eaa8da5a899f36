"""Fixtures of the registry tests."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest


@pytest.fixture
def writer(fresh_db) -> Iterator[psycopg.Connection]:
    """A connection to this test's own database copy (commit to make rows visible to other connections)."""
    with psycopg.connect(fresh_db) as conn:
        yield conn
