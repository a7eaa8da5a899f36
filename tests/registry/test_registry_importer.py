"""`monitor import`: good files in every format load; one bad row loads nothing and is named with its reason."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
from pyproj import Transformer
from shapely import Point

from gis.importer import ImportRejected, import_path
from layers.catalogue import EDIT_POLICIES

# Points inside known barrios (ST_PointOnSurface of each): (lon, lat, mslink, district).
CENTRO = (-60.6505, -32.9468, 15, "CENTRO")
LUDUENA = (-60.68780, -32.93245, 10, "NOROESTE")
ALVEAR = (-60.67793, -32.98528, 20, "SUDOESTE")
TO_POSGAR = Transformer.from_crs(4326, 22185, always_xy=True)  # Rosario's own projected CRS (metres)


def instance_row(**overrides) -> dict:
    row = {"external_id": "test:mesa-1", "name": "Mesa de prueba", "kind": "roundtable", "promoter": "mixed",
           "themes": "ambiente;salud", "modality": "in_person", "lon": CENTRO[0], "lat": CENTRO[1], "scope": "city",
           "moderation": "approved"}
    row.update(overrides)
    return {k: v for k, v in row.items() if v is not None}


def write_csv(path: Path, rows: list[dict]) -> Path:
    header = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_geojson(path: Path, features: list[tuple[dict | None, dict]], crs: str | None = None) -> Path:
    collection = {"type": "FeatureCollection",
                  "features": [{"type": "Feature", "geometry": g, "properties": p} for g, p in features]}
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(collection))
    return path


def counts(url: str) -> tuple[int, ...]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT (SELECT count(*) FROM monitor.instances), "
                            "(SELECT count(*) FROM monitor.activities), (SELECT count(*) FROM monitor.organizations), "
                            "(SELECT count(*) FROM monitor.history)").fetchone()


def placed(url: str, external_id: str, table: str = "instances") -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT barrio_id, district_code, round(ST_X(venue)::numeric, 6)::float, "  # noqa: S608
                            f"round(ST_Y(venue)::numeric, 6)::float FROM monitor.{table} WHERE external_id = %s",
                            (external_id,)).fetchone()


@pytest.fixture
def existing(fresh_db) -> dict:
    """An approved instance and an organisation that the loaded database already holds."""
    with psycopg.connect(fresh_db) as conn:
        instance = conn.execute(
            "SELECT external_id, name, kind, ST_X(venue), ST_Y(venue) FROM monitor.instances i "
            "WHERE venue IS NOT NULL AND external_id IS NOT NULL AND moderation = 'approved' "
            "AND (SELECT count(*) FROM monitor.instances j WHERE lower(j.name) = lower(i.name)) = 1 "
            "ORDER BY id LIMIT 1").fetchone()
        organization = conn.execute("SELECT name FROM monitor.organizations ORDER BY id LIMIT 1").fetchone()[0]
    return {"external_id": instance[0], "name": instance[1], "kind": instance[2], "lon": instance[3],
            "lat": instance[4], "organization": organization}


# ---------------------------------------------------------------- good files

def test_csv_with_lon_lat_loads_every_row(fresh_db, existing, tmp_path):
    path = write_csv(tmp_path / "instances.csv", [
        instance_row(organization=existing["organization"], accessibility="wheelchair|evening"),
        instance_row(external_id="test:mesa-2", name="Consejo de Alvear", kind="consejo_barrial", promoter="state",
                     themes="vivienda", lon=ALVEAR[0], lat=ALVEAR[1], scope="barrio", start_date="2026-03-01"),
    ])
    assert import_path(fresh_db, EDIT_POLICIES, path) == {"file": "instances.csv", "imported": {"instances": 2}}
    assert placed(fresh_db, "test:mesa-1") == (15, "CENTRO", CENTRO[0], CENTRO[1])
    assert placed(fresh_db, "test:mesa-2")[:2] == (20, "SUDOESTE")
    with psycopg.connect(fresh_db) as conn:
        row = conn.execute("SELECT i.themes, i.accessibility, o.name, i.source, i.created_by, "
                           "(SELECT role FROM monitor.instance_organizations WHERE instance_id = i.id) "
                           "FROM monitor.instances i JOIN monitor.organizations o ON o.id = i.organization_id "
                           "WHERE i.external_id = 'test:mesa-1'").fetchone()
        actors = {r[0] for r in conn.execute("SELECT DISTINCT actor FROM monitor.history h WHERE table_name = "
                                             "'instances' AND new_values ->> 'external_id' LIKE 'test:%'")}
    assert row == (["ambiente", "salud"], ["wheelchair", "evening"], existing["organization"],
                   "import:instances.csv", "cli:import", "promoter")
    assert actors == {"cli:import"}


def test_csv_with_a_wkt_column_loads(fresh_db, tmp_path):
    row = instance_row(lon=None, lat=None, wkt=f"POINT ({LUDUENA[0]} {LUDUENA[1]})")
    assert import_path(fresh_db, EDIT_POLICIES, write_csv(tmp_path / "mis_instancias.csv", [row]), layer="instances")[
        "imported"] == {"instances": 1}
    assert placed(fresh_db, "test:mesa-1")[:2] == (10, "NOROESTE")


def test_geojson_with_a_declared_projected_crs_is_reprojected(fresh_db, tmp_path):
    x, y = TO_POSGAR.transform(LUDUENA[0], LUDUENA[1])
    props = instance_row(lon=None, lat=None, themes=["movilidad", "ambiente"])
    online = instance_row(lon=None, lat=None, external_id="test:online", name="Consulta digital de movilidad",
                          kind="digital_process", modality="online", online_url="https://participa.rosario.gob.ar")
    path = write_geojson(tmp_path / "instances.geojson", [({"type": "Point", "coordinates": [x, y]}, props),
                                                          (None, online)], crs="urn:ogc:def:crs:EPSG::22185")
    assert import_path(fresh_db, EDIT_POLICIES, path)["imported"] == {"instances": 2}
    barrio, district, lon, lat = placed(fresh_db, "test:mesa-1")
    assert (barrio, district) == (10, "NOROESTE")
    assert abs(lon - LUDUENA[0]) < 1e-6 and abs(lat - LUDUENA[1]) < 1e-6
    assert placed(fresh_db, "test:online") == (None, None, None, None)


def test_geopackage_with_organizations_instances_and_activities_loads_in_order(fresh_db, tmp_path):
    path = tmp_path / "registro.gpkg"
    pd.DataFrame({"external_id": ["org:club"], "name": ["Club Social Alvear"], "kind": ["cso"]}).pipe(
        lambda frame: __import__("pyogrio").write_dataframe(frame, path, layer="organizations"))
    x, y = TO_POSGAR.transform(ALVEAR[0], ALVEAR[1])
    instances = gpd.GeoDataFrame(
        {"external_id": ["test:club"], "name": ["Mesa del club"], "kind": ["cso_initiative"], "promoter": ["cso"],
         "organization": ["Club Social Alvear"], "themes": ['["deporte", "juventudes"]'], "modality": ["in_person"],
         "scope": ["barrio"], "moderation": ["approved"]},
        geometry=[Point(x, y)], crs="EPSG:22185")
    instances.to_file(path, layer="instances", driver="GPKG")
    activities = gpd.GeoDataFrame(
        {"external_id": ["act:1", "act:2"], "instance_external_id": ["test:club", "test:club"],
         "title": ["Torneo barrial", "Reunión abierta"],
         "starts_at": [pd.Timestamp("2026-12-05 18:00"), pd.Timestamp("2026-12-12 18:00")]},
        geometry=[None, Point(*TO_POSGAR.transform(CENTRO[0], CENTRO[1]))], crs="EPSG:22185")
    activities.to_file(path, layer="activities", driver="GPKG")

    result = import_path(fresh_db, EDIT_POLICIES, path, actor="test:gpkg")
    assert result["imported"] == {"organizations": 1, "instances": 1, "activities": 2}
    assert placed(fresh_db, "test:club")[:2] == (20, "SUDOESTE")
    assert placed(fresh_db, "act:1", "activities")[:2] == (20, "SUDOESTE")  # at its instance's venue
    assert placed(fresh_db, "act:2", "activities")[:2] == (15, "CENTRO")  # at its own venue
    with psycopg.connect(fresh_db) as conn:
        row = conn.execute("SELECT i.themes, o.external_id, (SELECT starts_at AT TIME ZONE 'America/Argentina/Cordoba'"
                           " FROM monitor.activities WHERE external_id = 'act:1')::text "
                           "FROM monitor.instances i JOIN monitor.organizations o ON o.id = i.organization_id "
                           "WHERE i.external_id = 'test:club'").fetchone()
    # A time without an offset is Rosario's wall-clock time.
    assert row == (["deporte", "juventudes"], "org:club", "2026-12-05 18:00:00")


def test_activities_name_their_instance_by_external_id_or_name(fresh_db, existing, tmp_path):
    path = write_geojson(tmp_path / "actividades.geojson", [
        (None, {"instance_external_id": existing["external_id"], "title": "Asamblea anual",
                "starts_at": "2026-12-10T19:00:00-03:00", "external_id": "act:a"}),
        (None, {"instance": existing["name"], "title": "Taller abierto", "starts_at": "2026-12-17 19:00",
                "online_url": "https://meet.example.org/taller", "registration_required": "true"}),
    ])
    assert import_path(fresh_db, EDIT_POLICIES, path)["imported"] == {"activities": 2}
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute("SELECT i.external_id, a.online_url, a.registration_required FROM monitor.activities a "
                            "JOIN monitor.instances i ON i.id = a.instance_id WHERE a.source = "
                            "'import:actividades.geojson' ORDER BY a.starts_at").fetchall()
    assert [r[0] for r in rows] == [existing["external_id"]] * 2
    assert rows[1][1:] == ("https://meet.example.org/taller", True)


# ---------------------------------------------------------------- a bad row stops the whole file

def test_one_bad_row_loads_nothing_and_is_named(fresh_db, tmp_path):
    before = counts(fresh_db)
    path = write_csv(tmp_path / "instances.csv", [
        instance_row(),
        instance_row(external_id="test:mesa-2", name="Mesa de Alvear", lon=ALVEAR[0], lat=ALVEAR[1]),
        instance_row(external_id="test:mesa-3", name="Mesa del río", lon=-60.6, lat=-32.9),
    ])
    with pytest.raises(ImportRejected) as rejected:
        import_path(fresh_db, EDIT_POLICIES, path)
    assert rejected.value.problems == ["line 4: venue is outside Rosario: POINT(-60.6 -32.9) falls in no barrio"]
    assert counts(fresh_db) == before  # not even the good rows, and no history


def test_every_bad_row_is_reported_with_its_feature_number(fresh_db, tmp_path):
    before = counts(fresh_db)
    point = {"type": "Point", "coordinates": [CENTRO[0], CENTRO[1]]}
    path = write_geojson(tmp_path / "instances.geojson", [
        (point, instance_row(lon=None, lat=None)),
        ({"type": "Point", "coordinates": [5432003, 6350000]}, instance_row(lon=None, lat=None, external_id="t:2")),
        (point, instance_row(lon=None, lat=None, external_id="t:3", name="Otra mesa", kind="asamblea")),
    ])
    with pytest.raises(ImportRejected) as rejected:
        import_path(fresh_db, EDIT_POLICIES, path)
    problems = rejected.value.problems
    assert [p.split(":")[0] for p in problems] == ["feature 2", "feature 3"]
    assert "coordinates (5432003, 6350000) look projected (metres), not longitude/latitude" in problems[0]
    assert problems[1].startswith("feature 3: kind: unknown kind 'asamblea'; known kinds: consejo_barrial,")
    assert counts(fresh_db) == before


# (what changes in the second row of a two-row instances.csv, the problem reported for line 3)
BAD_INSTANCE_ROWS = {
    "projected coordinates": ({"lon": 5432003, "lat": 6350000},
                              "coordinates (5432003, 6350000) look projected (metres), not longitude/latitude"),
    "swapped lon/lat": ({"lon": CENTRO[1], "lat": CENTRO[0]}, "longitude and latitude look swapped"),
    "outside Rosario": ({"lon": -60.55, "lat": -32.95},
                        "venue is outside Rosario: POINT(-60.55 -32.95) falls in no barrio"),
    "empty geometry": ({"lon": None, "lat": None, "wkt": "POINT EMPTY"}, "geometry is empty"),
    "unreadable WKT": ({"lon": None, "lat": None, "wkt": "POINT (-60.65"}, "geometry is invalid: WKT"),
    "geometry that is not a point": (
        {"lon": None, "lat": None, "wkt": "LINESTRING (-60.65 -32.94, -60.66 -32.95)"},
        "geometry must be a Point (the venue), not LineString"),
    "lon without lat": ({"lat": None}, "lon and lat must be given together"),
    "in person without venue": ({"lon": None, "lat": None}, "venue is required for in-person and hybrid instances"),
    "unknown kind": ({"kind": "asamblea"}, "kind: unknown kind 'asamblea'; known kinds: consejo_barrial, "),
    "unknown theme": ({"themes": "ambiente;clima"}, "themes: unknown theme 'clima'; known themes: ambiente, "),
    "unknown modality": ({"modality": "presencial"},
                         "modality: Input should be 'in_person', 'online' or 'hybrid' (got 'presencial')"),
    "unknown organization": ({"organization": "Club Inexistente"}, "organization 'Club Inexistente' is unknown"),
    "end before start": ({"start_date": "2026-05-01", "end_date": "2026-04-01"}, "end_date is before start_date"),
    "rejected without reason": ({"moderation": "rejected"}, "moderation_reason is required when moderation is"),
    "missing name": ({"name": None}, "name is required"),
    "bad date": ({"start_date": "mañana"}, "start_date: Input should be a valid date"),
    "duplicate external_id in the file": ({"external_id": "test:mesa-1"},
                                          "duplicate of line 2 (same external_id 'test:mesa-1')"),
    "duplicate name, kind and venue in the file": ({"name": "MESA DE PRUEBA", "lon": CENTRO[0], "lat": CENTRO[1]},
                                                   "duplicate of line 2 (same name, kind and venue)"),
}


@pytest.mark.parametrize("change, problem", BAD_INSTANCE_ROWS.values(), ids=BAD_INSTANCE_ROWS.keys())
def test_bad_instance_row_is_reported(fresh_db, tmp_path, change, problem):
    second = {"external_id": "test:mesa-2", "name": "Mesa de Alvear", "lon": ALVEAR[0], "lat": ALVEAR[1]}
    second = instance_row(**(second | change))
    path = write_csv(tmp_path / "instances.csv", [instance_row(), second])
    before = counts(fresh_db)
    with pytest.raises(ImportRejected) as rejected:
        import_path(fresh_db, EDIT_POLICIES, path)
    assert len(rejected.value.problems) == 1, rejected.value.problems
    assert rejected.value.problems[0].startswith("line 3: ")
    assert problem in rejected.value.problems[0]
    assert counts(fresh_db) == before


def test_duplicates_of_existing_records_are_refused(fresh_db, existing, tmp_path):
    path = write_csv(tmp_path / "instances.csv", [
        instance_row(external_id=existing["external_id"], name="Nombre nuevo"),
        instance_row(external_id="test:copy", name=existing["name"].upper(), kind=existing["kind"],
                     lon=existing["lon"], lat=existing["lat"]),
    ])
    with pytest.raises(ImportRejected) as rejected:
        import_path(fresh_db, EDIT_POLICIES, path)
    first, second = rejected.value.problems
    assert first == f"line 2: external_id '{existing['external_id']}' already exists"
    assert second.startswith(f"line 3: name: an instance named {existing['name'].upper()!r} of kind "
                             f"{existing['kind']!r} already exists at the same venue (id ")


BAD_ACTIVITY_ROWS = {
    "unknown instance external_id": ({"instance_external_id": "no:such"},
                                     "instance_external_id 'no:such' is unknown: no such instance"),
    "unknown instance name": ({"instance_external_id": None, "instance": "Consejo que no existe"},
                              "instance 'Consejo que no existe' is unknown: no such instance"),
    "no instance at all": ({"instance_external_id": None},
                           "instance_external_id, instance (name) or instance_id is required"),
    "unknown instance id": ({"instance_external_id": None, "instance_id": 987654},
                            "instance_id '987654' does not exist in instances"),
    "ends before it starts": ({"ends_at": "2026-12-10 17:00"}, "ends_at is before starts_at"),
    "not a time": ({"starts_at": "el martes"}, "starts_at: Input should be a valid datetime"),
    "unknown time zone": ({"timezone": "Mars/Olympus"}, "timezone 'Mars/Olympus' is not a known time zone"),
    "unknown status": ({"status": "done"}, "status: Input should be 'scheduled', 'cancelled' or 'held'"),
}


@pytest.mark.parametrize("change, problem", BAD_ACTIVITY_ROWS.values(), ids=BAD_ACTIVITY_ROWS.keys())
def test_bad_activity_row_is_reported(fresh_db, existing, tmp_path, change, problem):
    good = {"instance_external_id": existing["external_id"], "title": "Asamblea", "starts_at": "2026-12-10 19:00"}
    bad = {k: v for k, v in (good | {"title": "Otra asamblea"} | change).items() if v is not None}
    path = write_csv(tmp_path / "activities.csv", [good, bad])
    with pytest.raises(ImportRejected) as rejected:
        import_path(fresh_db, EDIT_POLICIES, path)
    (reported,) = rejected.value.problems
    assert reported.startswith(f"line 3: {problem}")


def test_organizations_duplicates_and_unknown_kinds(fresh_db, existing, tmp_path):
    path = write_csv(tmp_path / "organizaciones.csv", [
        {"name": "Biblioteca Popular Alvear", "kind": "cso"},
        {"name": existing["organization"], "kind": "cso"},
        {"name": "biblioteca popular alvear", "kind": "cso"},
        {"name": "Iglesia", "kind": "church", "website": "www.example.org"},
    ])
    with pytest.raises(ImportRejected) as rejected:
        import_path(fresh_db, EDIT_POLICIES, path)
    assert rejected.value.problems[:2] == [f"line 3: name {existing['organization']!r} already exists",
                                           "line 4: duplicate of line 2 (same name)"]
    assert rejected.value.problems[2].startswith("line 5: kind: Input should be 'government_area', 'cso'")
    assert rejected.value.problems[3].startswith("line 5: website: must be an absolute URL")


def test_unknown_columns_are_reported_once(fresh_db, tmp_path):
    path = write_csv(tmp_path / "instances.csv", [instance_row(colour="red"), instance_row(colour="blue")])
    with pytest.raises(ImportRejected) as rejected:
        import_path(fresh_db, EDIT_POLICIES, path)
    (problem,) = rejected.value.problems
    assert problem.startswith("unknown column(s) 'colour' for instances; known columns: accessibility, contact,")


def test_the_layer_comes_from_the_file_name_or_the_option(fresh_db, tmp_path):
    path = write_csv(tmp_path / "datos.csv", [instance_row()])
    with pytest.raises(ImportRejected, match="cannot tell the layer") as rejected:
        import_path(fresh_db, EDIT_POLICIES, path)
    assert "pass --layer" in rejected.value.problems[0]
    with pytest.raises(ImportRejected) as rejected:
        import_path(fresh_db, EDIT_POLICIES, path, layer="things")
    assert rejected.value.problems == ["unknown layer 'things'; known layers: organizations, instances, activities, "
                                       "criteria, assessments, experiences, commitments, survey_responses"]
    assert import_path(fresh_db, EDIT_POLICIES, path, layer="instances")["imported"] == {"instances": 1}


def test_a_csv_that_is_not_utf8_is_refused(fresh_db, tmp_path):
    path = write_csv(tmp_path / "instances.csv", [instance_row(name="Mesa de Echesortu Ñandú")])
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    with pytest.raises(ImportRejected) as rejected:
        import_path(fresh_db, EDIT_POLICIES, path)
    (problem,) = rejected.value.problems
    assert problem.startswith("not UTF-8 text (invalid continuation byte at byte ")
    assert problem.endswith("save the CSV as UTF-8")


def test_unsupported_format_is_refused(fresh_db, tmp_path):
    path = tmp_path / "instances.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(ImportRejected) as rejected:
        import_path(fresh_db, EDIT_POLICIES, path)
    assert rejected.value.problems == ["unsupported format '.xlsx': use GeoJSON (.geojson), CSV (.csv) "
                                       "or GeoPackage (.gpkg)"]


def test_a_bad_activity_in_a_geopackage_stops_its_organizations_and_instances_too(fresh_db, tmp_path):
    path = tmp_path / "registro.gpkg"
    instances = gpd.GeoDataFrame({k: [v] for k, v in instance_row(lon=None, lat=None).items()},
                                 geometry=[Point(CENTRO[0], CENTRO[1])], crs="EPSG:4326")
    instances.to_file(path, layer="instances", driver="GPKG")
    activities = gpd.GeoDataFrame(
        {"instance_external_id": ["test:mesa-1", "test:otra"], "title": ["Reunión", "Reunión perdida"],
         "starts_at": ["2026-12-05 18:00", "2026-12-06 18:00"]}, geometry=[None, None], crs="EPSG:4326")
    activities.to_file(path, layer="activities", driver="GPKG")
    before = counts(fresh_db)
    with pytest.raises(ImportRejected) as rejected:
        import_path(fresh_db, EDIT_POLICIES, path)
    assert rejected.value.problems == ["layer activities feature 2: instance_external_id 'test:otra' is unknown: "
                                       "no such instance in the registry (it must exist already or come earlier "
                                       "in the same file)"]
    assert counts(fresh_db) == before


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # the point of the test: a file without a CRS
def test_geopackage_without_crs_and_projected_coordinates_is_refused(fresh_db, tmp_path):
    path = tmp_path / "instances.gpkg"
    frame = gpd.GeoDataFrame({k: [v] for k, v in instance_row(lon=None, lat=None).items()},
                             geometry=[Point(5432003, 6350000)])  # no CRS declared
    frame.to_file(path, driver="GPKG")
    with pytest.raises(ImportRejected) as rejected:
        import_path(fresh_db, EDIT_POLICIES, path)
    (problem,) = rejected.value.problems
    assert problem.startswith("feature 1: coordinates (5432003, 6350000) look projected")


# ---------------------------------------------------------------- the command line

def run_cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"DATABASE_URL": url}
    monitor = Path(sys.executable).with_name("monitor")
    return subprocess.run([str(monitor), "import", *args], env=env, capture_output=True, text=True, timeout=120)


def test_cli_reports_bad_rows_and_exits_1(fresh_db, tmp_path):
    path = write_csv(tmp_path / "instances.csv", [instance_row(), instance_row(external_id="t:2", kind="asamblea")])
    result = run_cli(fresh_db, str(path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("instances.csv:line 3: kind: unknown kind 'asamblea'; known kinds:")
    assert lines[-1] == "nothing imported: 1 problem(s)"


def test_cli_imports_a_good_file(fresh_db, tmp_path):
    path = write_csv(tmp_path / "instances.csv", [instance_row()])
    result = run_cli(fresh_db, str(path), "--actor", "cli:test")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"file": "instances.csv", "imported": {"instances": 1}}
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT created_by FROM monitor.instances WHERE external_id = 'test:mesa-1'"
                            ).fetchone()[0] == "cli:test"
