"""The demo registry is deterministic and always flagged; the real sites load with their source named."""

from datetime import date

import psycopg

from data.districts.sites import load_sites
from gis.config import get_settings
from gis.demo import generate, load_demo, read_barrios

ANCHOR = date(2026, 11, 23)


def test_same_seed_same_demo(template_db):
    with psycopg.connect(template_db) as conn:
        barrios = read_barrios(conn)
    first = generate(7, 120, barrios, ANCHOR)
    second = generate(7, 120, barrios, ANCHOR)
    assert first == second
    assert generate(8, 120, barrios, ANCHOR).instances != first.instances


def test_demo_covers_every_kind_modality_scope_promoter_and_status(template_db):
    with psycopg.connect(template_db) as conn:
        demo = generate(20211, 300, read_barrios(conn), ANCHOR)
        kinds = {r[0] for r in conn.execute("SELECT code FROM monitor.instance_kinds WHERE code <> 'district_centre'")}
    instances = demo.instances
    assert {i["kind"] for i in instances} == kinds
    assert {i["modality"] for i in instances} == {"in_person", "online", "hybrid"}
    assert {i["scope"] for i in instances} == {"barrio", "district", "city"}
    assert {i["promoter"] for i in instances} == {"state", "cso", "mixed"}
    assert {c["status"] for c in demo.commitments} == {"not_started", "limited", "substantial", "complete"}
    assert all(a["starts_at"].date() > ANCHOR for a in demo.activities)
    assert all(r["is_demo"] for group in (instances, demo.activities, demo.commitments, demo.surveys,
                                          demo.standards, demo.organizations) for r in group)


def test_reloading_demo_and_sites_changes_nothing(fresh_db):
    def snapshot(conn):
        digest = "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM monitor.{} t"
        return (conn.execute("SELECT count(*) FROM monitor.history").fetchone()[0],
                conn.execute(digest.format("instances")).fetchone()[0],
                conn.execute(digest.format("activities")).fetchone()[0])

    with psycopg.connect(fresh_db) as conn:
        anchor = conn.execute("SELECT max(updated_at)::date FROM monitor.instances WHERE is_demo").fetchone()[0]
        before = snapshot(conn)
    load_demo(fresh_db, 20211, 300, anchor=anchor)
    load_sites(fresh_db, get_settings().data_dir)
    with psycopg.connect(fresh_db) as conn:
        assert snapshot(conn) == before


def test_every_demo_row_is_flagged_and_real_rows_name_their_source(db):
    real = db.execute("SELECT kind, count(*) FROM monitor.instances WHERE NOT is_demo GROUP BY kind").fetchall()
    assert dict(real) == {"vecinal": 18, "district_centre": 2}
    assert db.execute("SELECT count(*) FROM monitor.instances WHERE NOT is_demo AND source NOT LIKE "
                      "'Municipalidad de Rosario%' AND source NOT LIKE 'Centros Municipales%'").fetchone()[0] == 0
    unflagged = db.execute("""
        SELECT count(*) FROM monitor.activities a JOIN monitor.instances i ON i.id = a.instance_id
        WHERE i.is_demo AND NOT a.is_demo""").fetchone()[0]
    assert unflagged == 0
    assert db.execute("SELECT count(*) FROM published.instances WHERE is_demo "
                      "AND description NOT LIKE 'Dato de demostración%'").fetchone()[0] == 0
