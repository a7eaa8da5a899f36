"""Loads never overwrite people's work: `monitor load all` runs at every `make run`, and an editor's correction of
a real site (or of a demo record) made through the API must survive it, reported as kept."""

from __future__ import annotations

import psycopg

from data.districts.sites import load_sites
from gis.config import get_settings
from gis.db import connect
from gis.demo import load_demo
from gis.edits import patch
from layers.catalogue import EDIT_POLICIES

DEMO_SEED = 20211


def test_a_reload_keeps_an_editors_correction_and_says_so(fresh_db):
    data_dir = get_settings().data_dir
    with psycopg.connect(fresh_db) as conn:
        vecinal, version, original = conn.execute(
            "SELECT id, version, how_to_participate FROM monitor.instances WHERE external_id LIKE 'imusa:vecinal:%' "
            "ORDER BY id LIMIT 1").fetchone()
        demo_id, demo_version = conn.execute(
            "SELECT id, version FROM monitor.instances WHERE is_demo AND moderation = 'approved' ORDER BY id LIMIT 1"
        ).fetchone()
        untouched = conn.execute("SELECT id, version FROM monitor.instances WHERE external_id LIKE 'imusa:vecinal:%' "
                                 "ORDER BY id OFFSET 1 LIMIT 1").fetchone()
    corrected = "Reuniones el primer lunes de cada mes a las 19 h en la sede."
    with connect(fresh_db, actor="token:1:editor:test") as conn:
        patch(conn, EDIT_POLICIES["instances"], vecinal, {"how_to_participate": corrected}, version)
        patch(conn, EDIT_POLICIES["instances"], demo_id, {"schedule": "Lunes 19 h (corregido)"}, demo_version)

    sites = load_sites(fresh_db, data_dir)
    demo = load_demo(fresh_db, DEMO_SEED, 300)

    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT how_to_participate, version FROM monitor.instances WHERE id = %s",
                            (vecinal,)).fetchone() == (corrected, version + 1)
        assert conn.execute("SELECT schedule FROM monitor.instances WHERE id = %s", (demo_id,)).fetchone()[0] == \
            "Lunes 19 h (corregido)"
        # What nobody edited is still the loaders' (and unchanged: reloading writes nothing).
        assert conn.execute("SELECT version FROM monitor.instances WHERE id = %s",
                            (untouched[0],)).fetchone()[0] == untouched[1]
        external = dict(conn.execute("SELECT id, external_id FROM monitor.instances WHERE id IN (%s, %s)",
                                     (vecinal, demo_id)).fetchall())
    assert external[vecinal] in sites["kept_local_edits"]
    assert external[demo_id] in demo["kept_local_edits"]
    assert original != corrected
