"""Incremental runs store exactly what a full run from scratch stores; the offer is versioned by barrio (0019); the
listener's runs read and recompute only what changed since the latest run (0020)."""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd
import psycopg
from index_helpers import least_served_cell
from psycopg import sql

from gis.index import changes, compute
from gis.index.compute import run
from gis.index.inputs import read_inputs
from gis.index.parameters import load_parameters

BARRIO_COLUMNS = ("barrio_id, population, coverage, mean_nearest_m, e2sfca, uncovered_population, accessibility, "
                  "quality, diversity, satisfaction, satisfaction_score, satisfaction_source, satisfaction_responses, "
                  "theme_diversity, participant_diversity, effective_themes, effective_kinds, state_share, cso_share, "
                  "mixed_share, offer_count, in_person_count, composite, rank, rank_median, rank_p05, rank_p95")


def stored(url: str, query) -> dict[str, list[tuple]]:
    """Everything a run publishes, without the run ids (floats compared exactly)."""
    return {
        "barrios": query(url, f"SELECT {BARRIO_COLUMNS} FROM monitor.index_barrios "  # noqa: S608 (fixed names)
                              "WHERE run_id = monitor.latest_index_run() ORDER BY barrio_id"),
        "districts": query(url, "SELECT code, population, coverage, quality, diversity, satisfaction, composite, "
                                "rank, rank_median, rank_p05, rank_p95 FROM published.district_index ORDER BY code"),
        "cells": query(url, "SELECT h3, population, nearest_m, covered, e2sfca FROM published.hexagons ORDER BY h3"),
        "offer": query(url, "SELECT barrio_id, instance_id, distance_m, by_scope, by_proximity "
                            "FROM published.index_offer ORDER BY barrio_id, instance_id"),
    }


def forget_everything(url: str) -> None:
    """No stored grid, no cell results or offers, nothing remembered by this process: the next run starts afresh."""
    compute._MEMORY.clear()
    with psycopg.connect(url) as conn:
        for table in ("index_cells", "h3_pieces", "h3_cells", "h3_grids", "index_offer_versions", "index_offer_runs"):
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier("monitor", table)))


def test_an_incremental_run_after_changes_stores_what_a_full_run_from_scratch_stores(fresh_db, query):
    run(fresh_db, trigger="test")
    h3_cell, lon, lat, _ = least_served_cell(fresh_db, query)
    moved, ended, judged = (r[0] for r in query(fresh_db, """
        SELECT id FROM monitor.instances WHERE modality = 'in_person' AND scope = 'barrio' AND status = 'active'
          AND moderation = 'approved' AND deleted_at IS NULL ORDER BY id LIMIT 3"""))
    with psycopg.connect(fresh_db) as conn:  # a move of ~300 m, an end, a new venue, a changed standard
        conn.execute("INSERT INTO monitor.instances (name, kind, promoter, themes, modality, venue, scope, source, "
                     "moderation) VALUES ('Mesa nueva', 'roundtable', 'cso', '{ambiente}', 'in_person', "
                     "ST_SetSRID(ST_Point(%s, %s), 4326), 'barrio', 'test', 'approved')", (lon, lat))
        # Then triggers off: this tests the index alone (a tile-summary trigger of a concurrent branch refused the
        # move of a demo venue), so the standard's derived columns (0014's trigger) are written here.
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("UPDATE monitor.instances SET venue = ST_Translate(venue, 0.003, 0) WHERE id = %s", (moved,))
        conn.execute("UPDATE monitor.instances SET status = 'ended' WHERE id = %s", (ended,))
        conn.execute("INSERT INTO monitor.instance_standards (instance_id, criterion, status, met, criterion_version) "
                     "SELECT %s, code, 'met', true, version FROM monitor.standard_criteria "
                     "ON CONFLICT (instance_id, criterion) DO UPDATE SET status = 'met', met = true, "
                     "method = 'verified'", (judged,))
    compute._MEMORY.clear()  # as a freshly started server: the stored grid is read back from the database
    incremental = run(fresh_db, trigger="test", full=False)
    assert incremental["path"] == "incremental"
    # Only the barrios whose offer changed were written again; every barrio's offer is still readable.
    assert 0 < incremental["offers_written"] < incremental["input_counts"]["barrios"]
    after_incremental = stored(fresh_db, query)
    assert {r[1] for r in after_incremental["offer"]} >= {moved}
    assert ended not in {r[1] for r in after_incremental["offer"]}

    forget_everything(fresh_db)
    full = run(fresh_db, trigger="test")
    assert full["path"] == "full" and full["offers_written"] == len({r[0] for r in after_incremental["offer"]})
    from_scratch = stored(fresh_db, query)
    for part, rows in from_scratch.items():
        assert rows and after_incremental[part] == rows, part
    assert dict((r[0], r[3]) for r in from_scratch["cells"])[h3_cell]  # the new venue covers the cell


def test_each_run_reads_its_own_offer_while_unchanged_barrios_share_rows(fresh_db, query):
    first = run(fresh_db, trigger="test")
    _, lon, lat, barrio = least_served_cell(fresh_db, query)
    with psycopg.connect(fresh_db) as conn:
        new_id = conn.execute(
            "INSERT INTO monitor.instances (name, kind, promoter, themes, modality, venue, scope, source, "
            "moderation) VALUES ('Mesa nueva', 'roundtable', 'cso', '{ambiente}', 'in_person', "
            "ST_SetSRID(ST_Point(%s, %s), 4326), 'barrio', 'test', 'approved') RETURNING id", (lon, lat)).fetchone()[0]
    (versions_before,) = query(fresh_db, "SELECT count(*) FROM monitor.index_offer_versions")[0]
    second = run(fresh_db, trigger="test", full=False, changed_instance_id=new_id)
    offers = {run_id: query(fresh_db, "SELECT barrio_id, instance_id FROM monitor.index_offer WHERE run_id = %s",
                            (run_id,)) for run_id in (first["run_id"], second["run_id"])}
    assert (barrio, new_id) in offers[second["run_id"]] and (barrio, new_id) not in offers[first["run_id"]]
    assert set(offers[second["run_id"]]) - set(offers[first["run_id"]]) == {
        r for r in offers[second["run_id"]] if r[1] == new_id}
    (versions,) = query(fresh_db, "SELECT count(*) FROM monitor.index_offer_versions")[0]
    assert versions == versions_before + second["offers_written"]
    assert 0 < second["offers_written"] < first["input_counts"]["barrios"]


def test_the_migration_keeps_stored_offers_and_its_downgrade_gives_them_back(admin_url):
    from alembic import command

    from gis.db import alembic_config

    name = f"monitor_test_offer_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    rows = sorted([(1, 10, 100, 250.5, False, True), (1, 10, 101, None, True, False), (1, 11, 100, 900.25, True, True),
                   (2, 10, 100, 250.5, False, True), (2, 12, 102, 12.0, True, False)])
    read = "SELECT run_id, barrio_id, instance_id, distance_m, by_scope, by_proximity FROM monitor.index_offer"
    try:
        command.upgrade(alembic_config(url), "0018_instance_changes")
        with psycopg.connect(url) as conn, conn.cursor() as cur:
            cur.executemany("INSERT INTO monitor.index_offer VALUES (%s, %s, %s, %s, %s, %s)", rows)
        command.upgrade(alembic_config(url), "0019_index_speed")
        with psycopg.connect(url) as conn:
            assert sorted(conn.execute(read).fetchall()) == rows
            assert conn.execute("SELECT count(*) FROM monitor.index_offer_versions WHERE valid_to IS NULL"
                                ).fetchone()[0] == 2  # run 2's barrios 10 and 12; barrio 11 ended with run 1
        command.downgrade(alembic_config(url), "0018_instance_changes")
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT relkind FROM pg_class WHERE oid = 'monitor.index_offer'::regclass"
                                ).fetchone()[0] == "r"
            assert sorted(conn.execute(read).fetchall()) == rows
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# ---------------------------------------------------------------- the in-memory incremental path (0020)
def from_scratch(url: str) -> compute.IndexResult:
    """What a full run computes now: every input read, the grid built afresh."""
    params = load_parameters()
    with psycopg.connect(url) as conn:
        conn.execute("SET timezone = 'America/Argentina/Cordoba'")
        inputs = read_inputs(conn, params)
    return compute.compute_index(inputs, params)


def assert_same_result(got: compute.IndexResult, want: compute.IndexResult, step: str) -> None:
    """Exactly equal (NaN = NaN): cells, barrios, districts and the offer."""
    for name in ("cell_table", "barrio_table"):
        pd.testing.assert_frame_equal(getattr(got, name)(), getattr(want, name)(), check_exact=True, obj=step)
    pd.testing.assert_frame_equal(got.districts, want.districts, check_exact=True, obj=step)
    for field in ("barrio", "distance_m", "by_scope", "by_proximity"):
        np.testing.assert_array_equal(getattr(got.offer, field), getattr(want.offer, field), err_msg=step)
    np.testing.assert_array_equal(got.inputs.instances.ids[got.offer.instance],
                                  want.inputs.instances.ids[want.offer.instance], err_msg=step)


NEW_INSTANCE = ("INSERT INTO monitor.instances (name, kind, promoter, themes, modality, venue, scope, source, "
                "moderation) VALUES (%s, 'roundtable', 'cso', '{ambiente}', 'in_person', "
                "ST_SetSRID(ST_Point(%s, %s), 4326), 'barrio', 'test', 'approved') RETURNING id")
STANDARDS = "SELECT instance_id, criterion, status, met, method FROM monitor.instance_standards ORDER BY 1, 2"


def test_incremental_runs_from_memory_equal_full_runs_after_each_kind_of_change(fresh_db, query):
    """The listener's path: this process made the latest run, so only the instances changed since are read and
    accessibility and the offer are updated where they reach. After each kind of change the result is exactly a
    full computation's, and the standards derived for the changed instances alone are those a derivation of
    every instance gives."""
    _, lon, lat, _ = least_served_cell(fresh_db, query)
    some = [r[0] for r in query(fresh_db, """
        SELECT id FROM monitor.instances WHERE modality = 'in_person' AND scope = 'barrio' AND status = 'active'
          AND moderation = 'approved' AND deleted_at IS NULL ORDER BY id LIMIT 6""")]
    with psycopg.connect(fresh_db) as conn:  # present at the first run: one to delete, one whose activity starts
        doomed = conn.execute(NEW_INSTANCE, ("Mesa efímera", lon, lat)).fetchone()[0]
        waiting = conn.execute(NEW_INSTANCE, ("Mesa en espera", lon + 0.004, lat)).fetchone()[0]
        conn.execute("INSERT INTO monitor.activities (instance_id, title, starts_at, source) "
                     "VALUES (%s, 'Primera reunión', now() + interval '3 seconds', 'test')", (waiting,))
    compute._MEMORY.clear()
    first = run(fresh_db, trigger="test")
    started = time.monotonic()
    (status_before,) = query(fresh_db, "SELECT status FROM monitor.instance_standards WHERE instance_id = %s "
                                       "AND criterion = 'results_published'", (waiting,))[0]

    def replica(statement: str, params=()) -> None:  # triggers off, as in the test above
        with psycopg.connect(fresh_db) as conn:
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute(statement, params)

    def deleted(statement: str, params) -> None:
        assert query(fresh_db, statement, params), "nothing was deleted"

    steps = [
        ("move", lambda: replica("UPDATE monitor.instances SET venue = ST_Translate(venue, 0.003, 0.001) "
                                 "WHERE id = %s", (some[0],))),
        ("new", lambda: query(fresh_db, NEW_INSTANCE, ("Mesa nueva", lon, lat))),
        ("delete", lambda: replica("DELETE FROM monitor.instances WHERE id = %s", (doomed,))),
        ("end", lambda: replica("UPDATE monitor.instances SET status = 'ended' WHERE id = %s", (some[1],))),
        ("soft delete", lambda: replica("UPDATE monitor.instances SET deleted_at = now() WHERE id = %s", (some[2],))),
        ("standards", lambda: replica(
            "INSERT INTO monitor.instance_standards (instance_id, criterion, status, met, criterion_version) "
            "SELECT %s, code, 'met', true, version FROM monitor.standard_criteria "
            "ON CONFLICT (instance_id, criterion) DO UPDATE SET status = 'met', met = true, method = 'verified'",
            (some[3],))),
        ("scope to the city", lambda: replica("UPDATE monitor.instances SET scope = 'city', scope_barrio_id = NULL, "
                                              "themes = '{salud,ambiente}' WHERE id = %s", (some[4],))),
        ("commitment due", lambda: query(fresh_db, (
            "INSERT INTO monitor.commitments (instance_id, description, due_date, status, source) "
            "VALUES (%s, 'Arreglar la plaza', current_date - 1, 'complete', 'test') RETURNING id"), (some[5],))),
        # Deleted outright, with the history trigger on (psql, a script): no row is left to see, the history is.
        ("standard deleted outright", lambda: deleted(
            "DELETE FROM monitor.instance_standards WHERE id = (SELECT min(id) FROM monitor.instance_standards "
            "WHERE instance_id = %s AND status = 'met') RETURNING id", (some[3],))),
        ("activity deleted outright", lambda: deleted(
            "DELETE FROM monitor.activities WHERE id = (SELECT min(a.id) FROM monitor.activities a "
            "JOIN published.instances i ON i.id = a.instance_id WHERE a.instance_id <> %s AND a.deleted_at IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM monitor.experiences e WHERE e.activity_id = a.id) "
            "AND NOT EXISTS (SELECT 1 FROM monitor.commitments c WHERE c.activity_id = a.id) "
            "AND NOT EXISTS (SELECT 1 FROM monitor.survey_responses r WHERE r.activity_id = a.id) "
            "AND NOT EXISTS (SELECT 1 FROM monitor.survey_links l WHERE l.activity_id = a.id)) RETURNING id",
            (waiting,))),
        ("activity started", lambda: time.sleep(max(0.0, 3.5 - (time.monotonic() - started)))),
    ]
    last = first
    for step, change in steps:
        change()
        incremental = run(fresh_db, trigger="test", full=False)
        assert incremental["path"] == "incremental" and incremental["instances_read"] is not None, step
        assert incremental["instances_read"] < first["input_counts"]["instances"] / 4, step
        assert incremental["run_id"] > last["run_id"]
        last = incremental
        assert_same_result(compute._MEMORY[(fresh_db, 9)]["result"], from_scratch(fresh_db), step)

    (status_after,) = query(fresh_db, "SELECT status FROM monitor.instance_standards WHERE instance_id = %s "
                                      "AND criterion = 'results_published'", (waiting,))[0]
    assert (status_before, status_after) == ("not_applicable", "not_met")  # its activity has started since
    derived_incrementally = query(fresh_db, STANDARDS)
    after_incremental = stored(fresh_db, query)
    forget_everything(fresh_db)
    query(fresh_db, "UPDATE monitor.index_runs SET snapshot_xmin = NULL RETURNING id")  # derive every instance
    full = run(fresh_db, trigger="test")
    assert full["input_counts"]["assessments_derived"] == 0  # nothing was left for a whole derivation
    assert query(fresh_db, STANDARDS) == derived_incrementally
    for part, rows in stored(fresh_db, query).items():
        assert rows and after_incremental[part] == rows, part


def test_changes_since_the_latest_run_include_commitments_fallen_due(fresh_db, query):
    """A commitment due yesterday changes its instance's follow-through today, though no row was written."""
    run(fresh_db, trigger="test")
    (instance,) = query(fresh_db, "SELECT min(id) FROM monitor.instances WHERE status = 'active'")[0]
    query(fresh_db, "INSERT INTO monitor.commitments (instance_id, description, due_date, status, source) "
                    "VALUES (%s, 'Arreglar la plaza', current_date - 1, 'complete', 'test') RETURNING id", (instance,))
    latest = run(fresh_db, trigger="test")
    with psycopg.connect(fresh_db) as conn:
        conn.execute("SET timezone = 'America/Argentina/Cordoba'")
        # As if no row had been written since the latest run (whatever other transactions the server has open)…
        conn.execute("UPDATE monitor.index_runs SET snapshot_xmin = "
                     "(pg_current_xact_id()::text::bigint + 1)::text::xid8 WHERE id = %s",
                     (latest["run_id"],))
        assert instance not in changes.changed_instances(conn, latest["run_id"]).ids
        # … and as if it had been two days ago: the commitment fell due since.
        conn.execute("UPDATE monitor.index_runs SET computed_at = computed_at - interval '2 days' WHERE id = %s",
                     (latest["run_id"],))
        assert instance in changes.changed_instances(conn, latest["run_id"]).ids
        conn.rollback()


def test_the_0020_migration_goes_down_and_up_again(admin_url):
    from alembic import command

    from gis.db import alembic_config

    name = f"monitor_test_0020_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    try:
        command.upgrade(alembic_config(url), "0020_index_incremental")
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT monitor.derive_assessments(ARRAY[1])").fetchone()[0] == 0
            assert conn.execute("SELECT monitor.derive_assessments()").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM published.index_offer").fetchone()[0] == 0
        command.downgrade(alembic_config(url), "0019_index_speed")
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT monitor.derive_assessments()").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM published.index_offer").fetchone()[0] == 0
            assert not conn.execute("SELECT count(*) FROM pg_attribute WHERE attrelid = 'monitor.index_runs'::regclass "
                                    "AND attname = 'snapshot_xmin'").fetchone()[0]
        command.upgrade(alembic_config(url), "0020_index_incremental")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
