"""`monitor import decidim`: a Decidim platform's API (a local one speaking Decidim's schema over real HTTP) fills
the registry, a second run changes nothing, upstream changes are patched with history, local edits win and are
reported, vanished items end, and a server that cannot be read writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest
from fake_decidim import FakeDecidim, free_port
from graphql import parse, validate

from gis import edits
from gis.db import connect
from gis.decidim.client import Capabilities, DecidimClient, DecidimError, Queries
from gis.decidim.mapping import Platform
from gis.decidim.sync import from_api
from layers.catalogue import EDIT_POLICIES

SOURCE = "decidim:rosario"


def platform(server: FakeDecidim) -> Platform:
    return Platform(base_url=server.base)


def run(db: str, server: FakeDecidim, **options):
    """One import through the API, with pages of 2 items (several pages everywhere) and no waiting."""
    return from_api(db, server.api, platform(server), page_size=2, min_interval=0, backoff=0.01, **options)


def one(db: str, query: str, *params):
    with psycopg.connect(db) as conn:
        return conn.execute(query, params or None).fetchone()


def counts(db: str) -> dict:
    return {table: one(db, f"SELECT count(*) FROM monitor.{table}")[0]
            for table in ("instances", "activities", "commitments", "history", "sync_state")}


def row(db: str, table: str, external_id: str) -> dict:
    with psycopg.connect(db) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return cur.execute(f"SELECT *, ST_AsText(venue) AS wkt FROM monitor.{table} WHERE external_id = %s"
                           if table != "commitments" else
                           f"SELECT * FROM monitor.{table} WHERE external_id = %s", (external_id,)).fetchone()


# ---------------------------------------------------------------- the queries follow Decidim's schema

@pytest.mark.parametrize("version", ["0.27.5", "0.30.1", "0.31.0"])
def test_every_query_is_valid_against_decidims_schema(version):
    server = FakeDecidim(version=version)  # not started: only its schema
    queries = Queries(Capabilities.for_version(version))
    for text in (queries.spaces(), *(queries.component(t) for t in ("Meetings", "Proposals", "Accountability"))):
        assert validate(server.schema, parse(text)) == [], text
    assert ("taxonomies" in queries.spaces()) == (version >= "0.30")
    assert ("categories" in queries.spaces()) == (version < "0.30")


def test_version_probe_chooses_categories_or_taxonomies():
    for version, taxonomies in (("0.27.5", False), ("0.30.1", True), (None, True)):
        server = FakeDecidim(version=version).start()
        try:
            with DecidimClient(server.api, min_interval=0) as client:
                caps = client.probe()
            assert caps.taxonomies is taxonomies, version
            assert server.queries[0].startswith("query Probe { decidim { version")
        finally:
            server.stop()
    # A hidden version on a 0.27 schema: the schema itself tells (introspection).
    server = FakeDecidim(version=None, taxonomies=False).start()
    try:
        with DecidimClient(server.api, min_interval=0) as client:
            assert client.probe().taxonomies is False
    finally:
        server.stop()


# ---------------------------------------------------------------- the first run

def test_import_fills_the_registry_and_the_feature_api(decidim, fresh_server):
    db = fresh_server.database_url
    before = counts(db)
    report = run(db, decidim)
    assert report.created == {"instances": 4, "activities": 10, "commitments": 4}, report.as_dict()
    assert not report.refused and not report.conflicts
    assert decidim.requests > 10  # the probe, the spaces, then every component page by page

    # Processes and assemblies → instances of the right kind, source and public page.
    pp = row(db, "instances", f"{SOURCE}:process:12")
    assert (pp["kind"], pp["promoter"], pp["source"], pp["moderation"]) == (
        "digital_process", "state", "Rosario Participa", "approved")
    assert pp["source_url"] == pp["online_url"] == f"{decidim.base}/processes/pp-2025"
    assert pp["themes"] == ["ambiente", "espacio_publico"]
    assert pp["modality"] == "online"  # in-person meetings at several places: the space itself is not placed
    assert "<" not in pp["description"] and "&nbsp;" not in pp["description"]
    assert "Decidí en qué se invierte el presupuesto de tu distrito." in pp["description"]
    assert "- Propuestas vecinales\n- Votación" in pp["description"]
    assert "Propuestas en Rosario Participa: 6 (3 aceptadas, 1 rechazadas, 1 en evaluación)." in pp["description"]
    assert pp["decides"] == "Qué obras se hacen con el 10 % del presupuesto de cada distrito."
    assert pp["scope"] == "city" and pp["scope_note"] == "Los seis distritos"
    mobility = row(db, "instances", f"{SOURCE}:process:13")
    assert mobility["name"] == "Sustainable Mobility Plan"  # no Spanish title: another locale fills in
    assert mobility["description"] == ("A plan for buses, bikes and walking.\n\n"  # empty in Spanish: English
                                       "Plan de movilidad sustentable: colectivos, bicisendas y peatones.")
    council = row(db, "instances", f"{SOURCE}:assembly:5")
    assert (council["kind"], council["modality"], council["themes"]) == (
        "thematic_council", "in_person", ["educacion", "juventudes"])
    assert council["barrio_id"] == 3  # its meetings' one place (CMD Norte, Alberdi)
    closed = row(db, "instances", f"{SOURCE}:assembly:6")
    assert closed["status"] == "ended" and str(closed["end_date"]) == "2019-12-31"
    assert report.unknown_categories == {"Misceláneas": 1}

    # Meetings → activities: times with their offset, placed by their coordinates, or left unplaced.
    placed = row(db, "activities", f"{SOURCE}:meeting:201")
    assert placed["wkt"] == "POINT(-60.6932 -32.8907)" and placed["barrio_id"] == 3
    assert placed["starts_at"] == datetime(2025, 5, 10, 21, 0, tzinfo=UTC)  # 18:00 at -03:00
    assert placed["timezone"] == "America/Argentina/Cordoba"
    assert placed["venue_address"] == "Centro Municipal de Distrito Norte, Av. Puccio 1850"
    assert placed["registration_required"] is True and placed["online_url"] is None
    assert row(db, "activities", f"{SOURCE}:meeting:202")["status"] == "held"
    online = row(db, "activities", f"{SOURCE}:meeting:203")
    assert online["online_url"] == "https://meet.example.org/pp-2025" and online["venue"] is None
    hybrid = row(db, "activities", f"{SOURCE}:meeting:205")
    assert hybrid["wkt"] == "POINT(-60.6407 -32.9473)" and hybrid["online_url"] == "https://meet.example.org/cierre"
    for unplaced, reason in ((204, "no coordinates"), (206, "fall in no barrio")):
        activity = row(db, "activities", f"{SOURCE}:meeting:{unplaced}")
        assert activity["venue"] is None and activity["barrio_id"] is None  # never the instance's place
        assert activity["online_url"].endswith(f"/meetings/{unplaced}")  # its page, so the trigger guesses nothing
        listed = [u for u in report.unplaced if u["external_id"] == f"{SOURCE}:meeting:{unplaced}"]
        assert len(listed) == 1 and reason in listed[0]["reason"]

    # Accountability results → commitments.
    statuses = {r: row(db, "commitments", f"{SOURCE}:result:{r}") for r in (401, 402, 403, 421)}
    assert [statuses[r]["status"] for r in (401, 402, 403, 421)] == ["limited", "not_started", "complete",
                                                                      "substantial"]
    led = statuses[401]
    assert led["progress"] == 35 and str(led["made_on"]) == "2025-07-01" and str(led["due_date"]) == "2025-12-31"
    assert led["description"] == "Nueva iluminación LED en plaza Alberdi\n\nRecambio de 40 luminarias."
    assert led["evidence_url"] == f"{decidim.base}/processes/pp-2025/f/103/results/401"
    assert statuses[403]["description"] == "Arbrat al bulevard"  # only a Catalan title
    assert led["instance_id"] == pp["id"]

    # The same records in the feature API, at once.
    with httpx.Client(base_url=fresh_server.url, timeout=30) as http:
        for collection, record in (("instances", pp), ("instances", council), ("activities", placed),
                                   ("commitments", led)):
            answer = http.get(f"/collections/{collection}/items/{record['id']}", params={"f": "json"})
            assert answer.status_code == 200, (collection, answer.text)
        feature = http.get(f"/collections/activities/items/{placed['id']}", params={"f": "json"}).json()
        assert feature["geometry"]["coordinates"] == [-60.6932, -32.8907]
        assert feature["properties"]["source"] == "Rosario Participa"
    after = counts(db)
    assert after["history"] - before["history"] >= 18  # every insert is in the history
    assert after["sync_state"] == 18


def test_a_second_run_changes_nothing(decidim, fresh_db):
    run(db := fresh_db, decidim)
    before = counts(db)
    report = run(db, decidim)
    assert counts(db) == before  # no history row, no new record
    assert not report.created and not report.updated and not report.conflicts and not report.ended
    assert report.unchanged == {"instances": 4, "activities": 10, "commitments": 4}


def test_dry_run_writes_nothing(decidim, fresh_db):
    before = counts(fresh_db)
    report = run(fresh_db, decidim, dry_run=True)
    assert report.dry_run and report.created["activities"] == 10
    assert counts(fresh_db) == before


# ---------------------------------------------------------------- changes

def history_of(db: str, table: str, external_id: str) -> list[tuple]:
    with psycopg.connect(db) as conn:
        return conn.execute(
            "SELECT action, actor, old_values, new_values FROM monitor.history h JOIN monitor." + table +
            " t ON h.row_key = t.id::text WHERE h.table_name = %s AND t.external_id = %s ORDER BY h.id",
            (table, external_id)).fetchall()


def test_an_upstream_change_updates_the_record_with_a_history_entry(decidim, fresh_db):
    run(fresh_db, decidim)
    meeting = next(m for m in decidim.data["meetings"] if m["id"] == "201")
    meeting["title"] = {"es": "Asamblea barrial Distrito Norte (nueva fecha)"}
    meeting["start_time"], meeting["end_time"] = "2025-05-11T18:00:00-03:00", "2025-05-11T20:00:00-03:00"
    next(r for r in decidim.data["results"] if r["id"] == "401")["progress"] = 80.0
    before = counts(fresh_db)
    report = run(fresh_db, decidim)
    assert report.updated == {"activities": 1, "commitments": 1}, report.as_dict()
    assert counts(fresh_db)["history"] == before["history"] + 2
    activity = row(fresh_db, "activities", f"{SOURCE}:meeting:201")
    assert activity["title"] == "Asamblea barrial Distrito Norte (nueva fecha)" and activity["version"] == 2
    action, actor, old, new = history_of(fresh_db, "activities", f"{SOURCE}:meeting:201")[-1]
    assert (action, actor) == ("update", f"sync:{SOURCE}")
    assert old["title"] == "Asamblea barrial Distrito Norte" and new["title"].endswith("(nueva fecha)")
    commitment = row(fresh_db, "commitments", f"{SOURCE}:result:401")
    assert (commitment["status"], commitment["progress"]) == ("substantial", 80)
    assert run(fresh_db, decidim).updated == {}  # and then nothing again


def test_a_local_edit_wins_over_an_upstream_change_and_is_reported(decidim, fresh_db):
    run(fresh_db, decidim)
    instance = row(fresh_db, "instances", f"{SOURCE}:assembly:5")
    with connect(fresh_db, actor="token:editora") as conn:
        edits.patch(conn, EDIT_POLICIES["instances"], instance["id"],
                    {"schedule": "Sábados de 10 a 12", "name": "Consejo de Niñas y Niños de Rosario"},
                    instance["version"])
    space = next(s for s in decidim.data["spaces"] if s["id"] == "5")
    space["title"] = {"es": "Consejo Municipal de Niñas y Niños"}
    report = run(fresh_db, decidim)
    assert len(report.conflicts) == 1, report.as_dict()
    conflict = report.conflicts[0]
    assert conflict["external_id"] == f"{SOURCE}:assembly:5" and conflict["kept"] == "local"
    assert conflict["edited_by"] == ["token:editora"] and "name" in conflict["edited_here"]
    assert "name" in conflict["upstream_changed"]
    kept = row(fresh_db, "instances", f"{SOURCE}:assembly:5")
    assert kept["name"] == "Consejo de Niñas y Niños de Rosario" and kept["version"] == instance["version"] + 1
    # Reported again while unsettled; --overwrite-local lets upstream win.
    assert len(run(fresh_db, decidim).conflicts) == 1
    report = run(fresh_db, decidim, overwrite_local=True)
    assert report.updated == {"instances": 1} and not report.conflicts
    assert row(fresh_db, "instances", f"{SOURCE}:assembly:5")["name"] == "Consejo Municipal de Niñas y Niños"


def test_a_local_edit_without_an_upstream_change_is_kept_silently(decidim, fresh_db):
    run(fresh_db, decidim)
    activity = row(fresh_db, "activities", f"{SOURCE}:meeting:211")
    with connect(fresh_db, actor="token:editora") as conn:
        edits.patch(conn, EDIT_POLICIES["activities"], activity["id"], {"description": "Con intérprete de LSA."},
                    activity["version"])
    report = run(fresh_db, decidim)
    assert not report.conflicts and not report.updated
    assert row(fresh_db, "activities", f"{SOURCE}:meeting:211")["description"] == "Con intérprete de LSA."


def test_an_item_gone_upstream_is_ended_never_deleted(decidim, fresh_db):
    run(fresh_db, decidim)
    decidim.data["meetings"] = [m for m in decidim.data["meetings"] if m["id"] != "203"]
    decidim.data["spaces"] = [s for s in decidim.data["spaces"] if s["id"] != "13"]
    decidim.data["results"] = [r for r in decidim.data["results"] if r["id"] != "403"]
    before = counts(fresh_db)
    report = run(fresh_db, decidim)
    ended = {(e["external_id"], e["status"]) for e in report.ended}
    assert ended == {(f"{SOURCE}:meeting:203", "cancelled"), (f"{SOURCE}:meeting:211", "cancelled"),
                     (f"{SOURCE}:process:13", "ended"),
                     (f"{SOURCE}:result:403", "kept (commitments have no ended status)")}, report.ended
    assert row(fresh_db, "activities", f"{SOURCE}:meeting:203")["status"] == "cancelled"
    assert row(fresh_db, "instances", f"{SOURCE}:process:13")["status"] == "ended"
    assert row(fresh_db, "commitments", f"{SOURCE}:result:403") is not None
    after = counts(fresh_db)
    assert {k: after[k] for k in ("instances", "activities", "commitments")} == {
        k: before[k] for k in ("instances", "activities", "commitments")}
    assert after["history"] == before["history"] + 3
    assert run(fresh_db, decidim).ended == []  # ended once


# ---------------------------------------------------------------- politeness and failures

def test_429_then_success(decidim, fresh_db):
    decidim.throttle = 2
    report = run(fresh_db, decidim)
    assert report.created["instances"] == 4
    assert decidim.throttle == 0


def test_an_unreachable_server_writes_nothing(fresh_db):
    before = counts(fresh_db)
    nowhere = f"http://127.0.0.1:{free_port()}/api"
    with pytest.raises(DecidimError, match="cannot reach .*nothing was written"):
        from_api(fresh_db, nowhere, Platform(), min_interval=0, retries=2, backoff=0.01)
    assert counts(fresh_db) == before


def test_a_server_down_or_not_decidim_writes_nothing(decidim, fresh_db):
    before = counts(fresh_db)
    decidim.down = True
    with pytest.raises(DecidimError, match="HTTP 503"):
        run(fresh_db, decidim, retries=2)
    decidim.down = False
    with pytest.raises(DecidimError, match="not answer JSON|HTTP 405"):
        from_api(fresh_db, decidim.base + "/", platform(decidim), min_interval=0, retries=0)
    assert counts(fresh_db) == before


def test_the_command_line(decidim, fresh_db, tmp_path):
    monitor = Path(sys.executable).with_name("monitor")
    env = {**os.environ, "DATABASE_URL": fresh_db}
    done = subprocess.run([str(monitor), "import", "decidim", "--url", decidim.api, "--page-size", "3",
                           "--min-interval", "0"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert '"created": {"instances": 4, "activities": 10, "commitments": 4}' in done.stdout
    assert "unplaced meeting decidim:rosario:meeting:204 «Asamblea en la vecinal Sarmiento»: no coordinates " \
           "(address: Sarmiento 1234)" in done.stderr
    again = subprocess.run([str(monitor), "import", "decidim", "--url", decidim.api, "--min-interval", "0"],
                           env=env, capture_output=True, text=True, timeout=300)
    assert '"created": {}, "updated": {}' in again.stdout
    nowhere = subprocess.run([str(monitor), "import", "decidim", "--url", f"http://127.0.0.1:{free_port()}/api"],
                             env={**env, "PYTHONUNBUFFERED": "1"}, capture_output=True, text=True, timeout=300)
    assert nowhere.returncode == 1 and "nothing imported" in nowhere.stderr


def test_monitor_sync_runs_every_configured_source(decidim, fresh_db, tmp_path):
    archive = decidim.write_zip(tmp_path / "rosario-open-data.zip")
    config = tmp_path / "monitor.toml"
    config.write_text(f'[sync]\ndecidim_url = "{decidim.api}"\nfiles = ["{archive.name}"]\nmin_interval = 0\n')
    monitor = Path(sys.executable).with_name("monitor")
    env = {**os.environ, "DATABASE_URL": fresh_db}
    done = subprocess.run([str(monitor), "sync", "--config", str(config)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.strip().splitlines()
    assert '"created": {"instances": 4, "activities": 10, "commitments": 4}' in first
    assert '"created": {}' in second  # the same records by the other way in
    assert one(fresh_db, "SELECT count(*) FROM monitor.instances WHERE external_id LIKE 'decidim:%'")[0] == 4


def test_since_leaves_records_unchanged_upstream_since_then_unchecked(decidim, fresh_db):
    run(fresh_db, decidim)
    meeting = next(m for m in decidim.data["meetings"] if m["id"] == "201")
    meeting["title"] = {"es": "Asamblea barrial Distrito Norte (editada sin fecha nueva)"}  # updated_at unchanged
    report = run(fresh_db, decidim, since=datetime(2025, 5, 1, tzinfo=UTC))
    assert report.not_checked == {"activities": 1} and not report.updated
    meeting["updated_at"] = "2025-05-02T09:00:00-03:00"
    assert run(fresh_db, decidim, since=datetime(2025, 5, 1, tzinfo=UTC)).updated == {"activities": 1}


def test_requests_are_spaced_by_the_rate_limit(decidim):
    import time

    with DecidimClient(decidim.api, min_interval=0.2) as client:
        started = time.monotonic()
        for _ in range(4):
            client.probe()
        assert time.monotonic() - started >= 0.6
    assert decidim.requests == 4
