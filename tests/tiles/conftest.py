"""Fixtures for the tile tests: an HTTP client on the live server and queries against the same database."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def rosario_bounds(sql):
    return sql("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
               "FROM (SELECT ST_Extent(geom) e FROM published.barrios) b")[0]
