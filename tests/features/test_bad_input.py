"""Bad input of every kind gets a 4xx problem+json that says what is wrong, and nothing stored changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from features_helpers import CENTRE, assert_problem, bearer, new_instance

SELF_INTERSECTING = "POLYGON((-60.7 -32.9, -60.6 -33.0, -60.6 -32.9, -60.7 -33.0, -60.7 -32.9))"
INJECTION = "'; DROP TABLE monitor.barrios; --"
MONITOR = str(Path(sys.executable).with_name("monitor"))

# (collection, parameters, words the problem's detail must hold: what is wrong with which parameter)
BAD_READS = [
    ("barrios", {"limit": "0"}, ("limit", "greater than or equal to 1")),
    ("barrios", {"limit": "10001"}, ("limit", "less than or equal to 10000")),
    ("barrios", {"limit": "abc"}, ("limit", "valid integer")),
    ("barrios", {"offset": "-1"}, ("offset", "greater than or equal to 0")),
    ("barrios", {"offset": "1e3"}, ("offset", "valid integer")),
    ("barrios", {"bbox": "1,2,3"}, ("bbox", "4 numbers")),
    ("barrios", {"bbox": "a,b,c,d"}, ("bbox", "list of numbers")),
    ("barrios", {"bbox": "-60.6,-32.9,-60.7,-33.0"}, ("bbox", "lower corner", "upper corner")),
    ("barrios", {"bbox": "-200,-32,-60,-31"}, ("bbox", "outside the valid range")),
    ("barrios", {"bbox": "nan,1,2,3"}, ("bbox", "finite")),
    ("barrios", {"bbox": "1,2,3,4", "bbox-crs": "EPSG:1234"}, ("bbox-crs must be one of", "EPSG/0/22185")),
    ("barrios", {"crs": "EPSG:2154"}, ("crs must be one of", "EPSG/0/22185")),
    ("barrios", {"crs": INJECTION}, ("crs must be one of",)),
    ("activities", {"datetime": "yesterday"}, ("'yesterday'", "RFC 3339")),
    ("activities", {"datetime": "2026-02-01T00:00:00Z/2026-01-01T00:00:00Z"}, ("ends before it starts",)),
    ("barrios", {"filter": "name = "}, ("cql2-text", "expected")),
    ("barrios", {"filter": "nope = 1"}, ("'nope'", "not a queryable of barrios")),
    ("barrios", {"filter": "name = 'x'", "filter-lang": "ecql"}, ("filter-lang", "cql2-text", "cql2-json")),
    ("barrios", {"filter": "population = 'many'"}, ("'population'", "integer", "'many'")),
    ("barrios", {"filter": f"S_INTERSECTS(geometry, {SELF_INTERSECTING})"}, ("not valid", "self-intersection")),
    ("barrios", {"filter": "{\"op\": \"=\", \"args\": [", "filter-lang": "cql2-json"}, ("cql2-json", "eof")),
    ("barrios", {"filter": f"name = 'x'{INJECTION}"}, ("cql2-text", "expected")),
    ("barrios", {"filter": "name = 'x') OR (1 = 1"}, ("cql2-text", "expected")),
    ("barrios", {"filter": "population + 1 > 3"}, ("left side", "queryable property")),
    ("barrios", {"sortby": "nope"}, ("cannot sort barrios", "nope")),
    ("barrios", {"sortby": INJECTION}, ("cannot sort barrios", "drop table")),
    ("barrios", {"properties": "name,nope"}, ("unknown properties: nope",)),
    ("barrios", {"foo": "bar"}, ("unknown query parameter", "foo")),
    ("barrios", {"f": "xml"}, ("f is", "json", "html")),
    ("instances", {"kind": "vecinal' OR '1'='1"}, ("kind is one of", "vecinal")),
    ("instances", {"barrio_id": "1 OR 1=1"}, ("'barrio_id'", "integer", "'1 or 1=1'")),
    ("instances", {"is_demo": "maybe"}, ("'is_demo'", "boolean", "'maybe'")),
]


def assert_says(problem: dict, words, label="") -> None:
    """The problem's detail names what is wrong: every one of `words` is in it (case aside)."""
    detail = problem.get("detail", "").lower()
    missing = [w for w in words if w.lower() not in detail]
    assert not missing, (label, missing, problem)


@pytest.mark.parametrize(("collection", "params", "says"), BAD_READS)
def test_bad_read_parameters_get_400_saying_what_is_wrong(http, sql, collection, params, says):
    body = assert_problem(http.get(f"/collections/{collection}/items", params=params), 400)
    assert_says(body, says, params)
    assert sql("SELECT count(*) FROM monitor.barrios")[0][0] == 50


def test_bad_paths_get_404_saying_what_is_missing(http):
    assert_says(assert_problem(http.get("/collections/barrios;drop/items"), 404), ("no collection 'barrios;drop'",))
    assert_says(assert_problem(http.get("/collections/barrios/items/1 OR 1=1"), 404),
                ("ids are integers", "'1 or 1=1'"))
    assert_says(assert_problem(http.get("/collections/barrios/items/99999999999"), 404),
                ("no feature 99999999999 in barrios",))


def test_free_text_values_are_literals_not_sql(http, sql):
    body = http.get("/collections/barrios/items", params={"name": INJECTION}).json()
    assert body["numberMatched"] == 0
    quoted = INJECTION.replace("'", "''")
    body = http.get("/collections/barrios/items", params={"filter": f"name = '{quoted}'"})
    assert body.status_code == 200 and body.json()["numberMatched"] == 0
    assert sql("SELECT count(*) FROM monitor.barrios")[0][0] == 50


def _bad_bodies():
    """(label, body, status, words the detail must hold, the `field` named, if any)."""
    def props(**changes):
        feature = new_instance()
        feature["properties"].update(changes)
        return feature

    def geometry(value):
        feature = new_instance()
        feature["geometry"] = value
        return feature

    return [
        ("malformed JSON", b'{"type": "Feature", ', 400, ("expecting property name", "line 1 column 21"), None),
        ("not a Feature", json.dumps({"type": "FeatureCollection", "features": []}).encode(), 400,
         ("must be a geojson feature",), None),
        ("a list", b"[1, 2]", 400, ("must be a geojson feature",), None),
        # Instances are points: any polygon is refused for its type, whether valid or not. (Self-intersection
        # itself is tested where polygons are accepted: the census loader, below.)
        ("a polygon on the point layer", json.dumps(geometry({"type": "Polygon", "coordinates": [[
            [-60.66, -32.95], [-60.64, -32.95], [-60.64, -32.94], [-60.66, -32.94], [-60.66, -32.95]]]})).encode(),
         400, ("instances geometries are points",), None),
        ("empty point", json.dumps(geometry({"type": "Point", "coordinates": []})).encode(), 400,
         ("point has [longitude, latitude]", "empty or malformed"), None),
        ("string coordinates", json.dumps(geometry({"type": "Point", "coordinates": ["a", "b"]})).encode(), 400,
         ("coordinates", "json numbers"), None),
        ("outside Rosario", json.dumps(geometry({"type": "Point", "coordinates": [-58.38, -34.60]})).encode(), 400,
         ("venue", "outside rosario"), "venue"),
        ("lat/lon swapped", json.dumps(geometry({"type": "Point", "coordinates": CENTRE[::-1]})).encode(), 400,
         ("look like [latitude, longitude]",), None),
        ("on the river, in the bbox but in no barrio",
         json.dumps(geometry({"type": "Point", "coordinates": [-60.60, -32.90]})).encode(), 400,
         ("venue", "outside rosario"), "venue"),
        ("wrong type", json.dumps(props(name=123)).encode(), 400, ("name", "valid string"), None),
        ("wrong array type", json.dumps(props(themes="ambiente")).encode(), 400, ("themes", "valid list"), None),
        ("unknown property", json.dumps(props(colour="red")).encode(), 400, ("colour", "not permitted"), None),
        ("unknown kind", json.dumps(props(kind="nope")).encode(), 400, ("kind", "'nope'"), "kind"),
        ("unknown theme", json.dumps(props(themes=["nope"])).encode(), 400, ("unknown theme", "nope"), None),
        ("huge body", json.dumps(props(description="x" * 400_000)).encode(), 413, ("at most", "bytes"), None),
    ]


def test_bad_writes_get_4xx_saying_what_is_wrong_and_change_nothing(world):
    http, sql, token = world["http"], world["sql"], world["tokens"]["editor"]
    # (A token's first use notes last_used_at in api_tokens: that is the only change allowed.)
    counts = ("SELECT (SELECT count(*) FROM monitor.instances), "
              "(SELECT count(*) FROM monitor.history WHERE table_name <> 'api_tokens')")
    before = sql(counts)[0]
    target = sql("SELECT id FROM published.instances ORDER BY id LIMIT 1")[0][0]
    path = f"/collections/instances/items/{target}"
    etag = http.get(path).headers["etag"]
    for label, body, status, says, field in _bad_bodies():
        for method, url, headers in (("POST", "/collections/instances/items", bearer(token)),
                                     ("PATCH", path, bearer(token, **{"If-Match": etag}))):
            problem = assert_problem(http.request(method, url, content=body, headers=headers), status)
            assert_says(problem, says, (method, label))
            if field is not None:
                assert problem.get("field") == field, (method, label, problem)
    wrong_type = http.post("/collections/instances/items", content=b"hello",
                           headers={**bearer(token), "Content-Type": "text/plain"})
    assert_says(assert_problem(wrong_type, 415), ("application/geo+json",))
    assert sql(counts)[0] == before
    assert http.get(path).headers["etag"] == etag


def test_a_self_intersecting_census_area_is_refused_and_nothing_is_stored(fresh_db, tmp_path):
    """Polygons are accepted by `monitor load census`: a bow-tie area is refused, saying so, and the census layer
    already loaded stays as it was."""
    env = {**os.environ, "DATABASE_URL": fresh_db, "COLUMNS": "1000", "NO_COLOR": "1"}
    square = {"type": "Polygon", "coordinates": [[[-60.70, -32.96], [-60.66, -32.96], [-60.66, -32.92],
                                                  [-60.70, -32.92], [-60.70, -32.96]]]}
    bow_tie = {"type": "Polygon", "coordinates": [[[-60.7, -32.9], [-60.6, -33.0], [-60.6, -32.9], [-60.7, -33.0],
                                                   [-60.7, -32.9]]]}
    with psycopg.connect(fresh_db) as conn:  # the test's own polygons are what they claim, by PostGIS
        assert conn.execute("SELECT ST_IsValid(ST_GeomFromGeoJSON(%s))", (json.dumps(square),)).fetchone()[0]
        reason = conn.execute("SELECT ST_IsValidReason(ST_GeomFromGeoJSON(%s))", (json.dumps(bow_tie),)).fetchone()[0]
        assert reason.startswith("Self-intersection"), reason

    def census_file(name, *geometries):
        path = tmp_path / name
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"radio": f"R{i}", "poblacion": 100 * (i + 1)}, "geometry": g}
            for i, g in enumerate(geometries)]}))
        return str(path)

    def load(path):
        return subprocess.run([MONITOR, "load", "census", path, "--field", "poblacion", "--code-field", "radio",
                               "--no-compute"], env=env, capture_output=True, text=True, timeout=300)

    def stored():
        with psycopg.connect(fresh_db) as conn:
            return conn.execute("SELECT code, population, source, ST_AsText(geom) FROM monitor.census_areas "
                                "ORDER BY id").fetchall()

    first = load(census_file("radios.geojson", square))
    assert first.returncode == 0, first.stderr
    loaded = stored()
    assert [row[:3] for row in loaded] == [("R0", 100.0, "radios.geojson:poblacion")]

    refused = load(census_file("radios_nuevos.geojson", square, bow_tie))
    message = " ".join(refused.stderr.replace("│", " ").split()).lower()
    assert refused.returncode != 0, refused.stdout
    assert "radios_nuevos.geojson" in message and "features [1]" in message, message  # which file, which feature
    assert "invalid" in message and "self-intersection" in message, message  # and what is wrong with it
    assert stored() == loaded
