"""Reloading Rosario's geography onto a loaded registry changes nothing: no row, no history, no placement."""

from __future__ import annotations

import psycopg

from data.districts.loader import load_geography
from gis.config import get_settings

SNAPSHOT = """
SELECT (SELECT count(*) FROM monitor.history),
       (SELECT max(id) FROM monitor.history),
       (SELECT md5(string_agg(mslink || ':' || district_code || ':' || ST_AsBinary(geom)::text || ':' || population
                              || ':' || updated_at, ',' ORDER BY mslink)) FROM monitor.barrios),
       (SELECT md5(string_agg(code || ':' || ST_AsBinary(geom)::text || ':' || population || ':' || updated_at, ','
                              ORDER BY code)) FROM monitor.districts),
       (SELECT md5(string_agg(id || ':' || coalesce(barrio_id, 0) || ':' || coalesce(district_code, '') || ':'
                              || version, ',' ORDER BY id)) FROM monitor.instances),
       (SELECT md5(string_agg(name || sha256 || loaded_at, ',' ORDER BY name)) FROM monitor.datasets)
"""


def snapshot(url: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(SNAPSHOT).fetchone()


def test_reloading_geography_changes_nothing(fresh_db):
    before = snapshot(fresh_db)
    assert before[0] > 0
    assert load_geography(fresh_db, get_settings().data_dir) == {"districts": 0, "barrios": 0}
    assert snapshot(fresh_db) == before
    assert load_geography(fresh_db, get_settings().data_dir) == {"districts": 0, "barrios": 0}
    assert snapshot(fresh_db) == before
