"""Editions of the index: published with the real `monitor edition` command, immutable, served as a list, a time
series per barrio and a difference per barrio; their runs' cell results and offers survive pruning."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg
import pytest

from gis.db import connect
from gis.index.compute import run
from gis.index.editions import EditionError, publish
from gis.index.parameters import load_parameters
from gis.index.runs import cells_of_run

MONITOR = str(Path(sys.executable).with_name("monitor"))


def monitor(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MONITOR, *args], env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True,
                          timeout=600)


def least_served_point(url: str) -> tuple[float, float, int]:
    """A point in the most populated uncovered hexagon, inside its barrio: a new venue there raises coverage."""
    with psycopg.connect(url) as conn:
        return conn.execute("""
            SELECT ST_X(p), ST_Y(p), h.barrio_id FROM published.hexagons h
            JOIN monitor.barrios b ON b.mslink = h.barrio_id,
                 ST_PointOnSurface(ST_Intersection(h.geom, b.geom)) p
            WHERE NOT h.covered ORDER BY h.population DESC, h.h3 LIMIT 1""").fetchone()


def add_venue(url: str, lon: float, lat: float, name: str) -> int:
    with connect(url, actor="test") as conn:
        return conn.execute(
            "INSERT INTO monitor.instances (name, kind, promoter, themes, modality, venue, scope, source, moderation) "
            "VALUES (%s, 'roundtable', 'cso', '{ambiente}', 'in_person', ST_SetSRID(ST_Point(%s, %s), 4326), "
            "'barrio', 'test', 'approved') RETURNING id", (name, lon, lat)).fetchone()[0]


def test_editions_are_published_compared_and_followed_over_time(fresh_server):
    url = fresh_server.database_url
    first = monitor(url, "edition", "publish", "2026-t3", "--compute", "--note", "Primera edición oficial")
    assert first.returncode == 0, first.stderr
    t3 = json.loads(first.stdout)
    assert t3["name"] == "2026-t3" and t3["barrios"] == 50 and t3["districts"] == 6
    lon, lat, barrio = least_served_point(url)
    add_venue(url, lon, lat, "Mesa nueva de la edición t4")
    second = monitor(url, "edition", "publish", "2026-t4", "--compute")
    assert second.returncode == 0, second.stderr
    t4 = json.loads(second.stdout)
    assert t4["run_id"] > t3["run_id"]

    # Immutable, and a name is used once.
    again = monitor(url, "edition", "publish", "2026-t4")
    assert again.returncode == 1 and "exists already" in again.stderr
    assert monitor(url, "edition", "publish", "Edición 4").returncode == 1
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.IntegrityConstraintViolation):
        conn.execute("UPDATE monitor.index_edition_barrios SET composite = 100 WHERE barrio_id = %s", (barrio,))
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.IntegrityConstraintViolation):
        conn.execute("DELETE FROM monitor.index_editions WHERE name = '2026-t3'")
    listed = [json.loads(line) for line in monitor(url, "edition", "list").stdout.splitlines()]
    assert [e["name"] for e in listed] == ["2026-t3", "2026-t4"]

    with httpx.Client(base_url=fresh_server.url, timeout=60) as http:
        editions = http.get("/index/editions").json()["editions"]
        assert [e["name"] for e in editions] == ["2026-t3", "2026-t4"]
        assert editions[0]["note"] == "Primera edición oficial" and editions[0]["barrios"] == 50
        assert editions[0]["parameters"]["coverage_distance_m"] == 800
        assert editions[1]["input_counts"]["instances"] == editions[0]["input_counts"]["instances"] + 1
        (diff_link,) = [x["href"] for x in editions[1]["links"] if x["rel"] == "diff"]
        assert diff_link.endswith("/index/editions/2026-t3/diff/2026-t4")

        diff = http.get("/index/editions/2026-t3/diff/2026-t4").json()
        assert diff["comparable"] and diff["from"]["name"] == "2026-t3" and diff["to"]["run_id"] == t4["run_id"]
        rows = {r["barrio_id"]: r for r in diff["barrios"]}
        assert len(rows) == 50 and {r["status"] for r in rows.values()} == {"both"}
        changed = rows[barrio]
        assert changed["accessibility_change"] > 0 and changed["uncovered_population_change"] < 0
        assert changed["composite_change"] == pytest.approx(changed["composite_to"] - changed["composite_from"])
        # The difference is between what was published, whatever the latest run says now.
        with psycopg.connect(url) as conn:
            frozen = conn.execute("SELECT composite FROM monitor.index_edition_barrios v JOIN monitor.index_editions e "
                                  "ON e.id = v.edition_id WHERE e.name = '2026-t3' AND v.barrio_id = %s",
                                  (barrio,)).fetchone()[0]
        assert changed["composite_from"] == frozen
        geojson = http.get("/index/editions/2026-t3/diff/2026-t4", params={"f": "geojson"}).json()
        assert len(geojson["features"]) == 50 and all(f["geometry"] for f in geojson["features"])
        table = list(csv.DictReader(io.StringIO(http.get("/index/editions/2026-t3/diff/2026-t4?f=csv").text)))
        assert {r["barrio_id"] for r in table} == {str(b) for b in rows}

        history = http.get(f"/index/barrios/{barrio}/history").json()
        assert [p["edition"] for p in history["editions"]] == ["2026-t3", "2026-t4"]
        assert history["editions"][0]["composite"] == changed["composite_from"]
        assert history["editions"][1]["composite"] == changed["composite_to"]
        assert history["editions"][1]["of"] == 50 and history["latest"]["barrio_id"] == barrio
        series = list(csv.DictReader(io.StringIO(http.get(f"/index/barrios/{barrio}/history?f=csv").text)))
        assert [r["edition"] for r in series] == ["2026-t3", "2026-t4"]

        one = http.get("/index/editions/2026-t3").json()
        assert one["run_id"] == t3["run_id"] and len(one["barrios"]) == 50 and len(one["districts"]) == 6
        # An edition keeps the names it was published with.
        with connect(url, actor="test") as conn:
            conn.execute("UPDATE monitor.barrios SET name = name || ' (renombrado)' WHERE mslink = %s", (barrio,))
        again = {b["barrio_id"]: b for b in http.get("/index/editions/2026-t3").json()["barrios"]}
        assert not again[barrio]["name"].endswith("(renombrado)")

        for url_, status in (("/index/editions/2099", 404), ("/index/editions/2026-t3/diff/nada", 404),
                             ("/index/barrios/999999/history", 404), ("/index/editions?f=xml", 400)):
            response = http.get(url_)
            assert response.status_code == status and response.headers["content-type"] == "application/problem+json"


def test_pruning_keeps_the_cells_and_offer_of_edition_runs(fresh_db):
    params = load_parameters(keep_cell_runs=1)
    edition_run = run(fresh_db, params, trigger="test")
    with connect(fresh_db, actor="test") as conn:
        publish(conn, "kept", run_id=edition_run["run_id"])
        with pytest.raises(EditionError):
            publish(conn, "kept")
    with psycopg.connect(fresh_db) as conn:
        before = sorted(cells_of_run(conn, edition_run["run_id"]))
        offer = conn.execute("SELECT count(*) FROM monitor.index_offer WHERE run_id = %s",
                             (edition_run["run_id"],)).fetchone()[0]
    assert len(before) == edition_run["input_counts"]["cells"] and offer > 0
    later = []
    for step in range(3):  # each run changes cells, so older cell results are superseded and prunable
        lon, lat, _ = least_served_point(fresh_db)
        add_venue(fresh_db, lon, lat, f"Mesa {step}")
        later.append(run(fresh_db, params, trigger="test")["run_id"])
    with psycopg.connect(fresh_db) as conn:
        assert sorted(cells_of_run(conn, edition_run["run_id"])) == before
        assert conn.execute("SELECT count(*) FROM monitor.index_offer WHERE run_id = %s",
                            (edition_run["run_id"],)).fetchone()[0] == offer
        # Runs that are no edition were pruned as before: their offers are gone, and so are the superseded cell
        # results no edition needs.
        assert conn.execute("SELECT count(*) FROM monitor.index_offer WHERE run_id = ANY(%s)",
                            (later[:-1],)).fetchone()[0] == 0
        assert conn.execute("""SELECT count(*) FROM monitor.index_cells c WHERE c.valid_to <= %s AND NOT EXISTS (
                                   SELECT 1 FROM monitor.index_editions e
                                   WHERE c.run_id <= e.run_id AND c.valid_to > e.run_id)""",
                            (later[-1],)).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM monitor.index_cells WHERE valid_to IS NOT NULL "
                            "AND valid_to <= %s", (later[-1],)).fetchone()[0] > 0  # what the edition keeps
