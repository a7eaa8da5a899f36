"""Part 3 (CQL2 text and JSON) and Part 2 (CRS): results equal to the same selection made in PostGIS."""

from __future__ import annotations

import json

import pytest
from features_helpers import all_features, assert_problem

POLYGON = "POLYGON((-60.70 -32.98, -60.62 -32.98, -60.62 -32.92, -60.70 -32.92, -60.70 -32.98))"
POLYGON_SQL = f"ST_GeomFromText('{POLYGON}', 4326)"

# (collection, cql2-text, the same selection in SQL over the published view)
CASES = [
    ("instances", "kind = 'vecinal'", "kind = 'vecinal'"),
    ("instances", "kind <> 'vecinal' AND is_demo = true", "kind <> 'vecinal' AND is_demo"),
    ("instances", "kind IN ('roundtable', 'public_hearing') OR modality = 'online'",
     "kind IN ('roundtable', 'public_hearing') OR modality = 'online'"),
    ("instances", "NOT (status = 'active')", "NOT (status = 'active')"),
    ("instances", "standards_met BETWEEN 3 AND 6", "standards_met BETWEEN 3 AND 6"),
    ("instances", "name LIKE 'Vecinal%'", "name LIKE 'Vecinal%'"),
    ("instances", "CASEI(name) LIKE CASEI('%BARRIO%')", "lower(name) LIKE lower('%BARRIO%')"),
    ("instances", "venue_address IS NULL", "venue_address IS NULL"),
    ("instances", f"S_INTERSECTS(geometry, {POLYGON})", f"ST_Intersects(geom, {POLYGON_SQL})"),
    ("instances", f"S_WITHIN(geometry, {POLYGON}) AND promoter = 'cso'",
     f"ST_Within(geom, {POLYGON_SQL}) AND promoter = 'cso'"),
    ("instances", "S_INTERSECTS(geometry, BBOX(-60.70, -32.98, -60.62, -32.92))",
     "ST_Intersects(geom, ST_MakeEnvelope(-60.70, -32.98, -60.62, -32.92, 4326))"),
    ("instances", "A_CONTAINS(themes, ('ambiente'))", "themes @> ARRAY['ambiente']"),
    ("instances", "A_OVERLAPS(themes, ('salud', 'cultura'))", "themes && ARRAY['salud', 'cultura']"),
    ("instances", "barrio_id = scope_barrio_id", "barrio_id = scope_barrio_id"),
    ("barrios", "population > 20000 AND district = 'CENTRO'", "population > 20000 AND district = 'CENTRO'"),
    ("barrios", "S_CONTAINS(geometry, POINT(-60.65 -32.95))",
     "ST_Contains(geom, ST_GeomFromText('POINT(-60.65 -32.95)', 4326))"),
    ("activities", "starts_at > TIMESTAMP('2026-12-01T00:00:00Z') AND status = 'scheduled'",
     "starts_at > '2026-12-01T00:00:00Z' AND status = 'scheduled'"),
    ("districts", "id = 3 OR code = 'SUR'", "id = 3 OR code = 'SUR'"),
    ("instances", "name NOT LIKE 'Vecinal%' AND kind NOT IN ('vecinal') AND standards_met NOT BETWEEN 0 AND 2",
     "name NOT LIKE 'Vecinal%' AND kind NOT IN ('vecinal') AND standards_met NOT BETWEEN 0 AND 2"),
    ("instances", "venue_address IS NOT NULL AND CASEI(district) = casei('centro')",
     "venue_address IS NOT NULL AND lower(district) = 'centro'"),
    ("instances", "A_EQUALS(themes, ('ambiente'))", "themes = ARRAY['ambiente']"),
    ("instances", "A_CONTAINEDBY(themes, ('ambiente', 'salud', 'cultura'))",
     "themes <@ ARRAY['ambiente', 'salud', 'cultura']"),
    ("barrios", f"S_DISJOINT(geometry, {POLYGON})", f"ST_Disjoint(geom, {POLYGON_SQL})"),
    ("barrios", f"S_OVERLAPS(geometry, {POLYGON})", f"ST_Overlaps(geom, {POLYGON_SQL})"),
    ("barrios", "S_CROSSES(geometry, LINESTRING(-60.75 -32.95, -60.60 -32.95))",
     "ST_Crosses(geom, ST_GeomFromText('LINESTRING(-60.75 -32.95, -60.60 -32.95)', 4326))"),
    ("districts", "S_TOUCHES(geometry, POINT(-60.65 -32.95))",
     "ST_Touches(geom, ST_GeomFromText('POINT(-60.65 -32.95)', 4326))"),
    ("instances", "S_EQUALS(geometry, POINT(-60.6505 -32.9468))",
     "ST_Equals(geom, ST_GeomFromText('POINT(-60.6505 -32.9468)', 4326))"),
    ("barrios", "area_km2 >= population", "area_km2 >= population"),
]


@pytest.mark.parametrize(("collection", "text", "where"), CASES)
def test_cql2_text_equals_sql(http, sql, collection, text, where):
    features, matched = all_features(http, f"/collections/{collection}/items", {"filter": text, "limit": 50})
    expected = {r[0] for r in sql(f"SELECT id FROM published.{collection} WHERE {where}")}  # noqa: S608
    assert {f["id"] for f in features} == expected
    assert matched == len(expected)


def test_some_cases_select_something(http, sql):
    """Guard against a test suite of empty selections that would agree trivially."""
    non_empty = sum(1 for c, _, w in CASES if sql(f"SELECT count(*) FROM published.{c} WHERE {w}")[0][0])  # noqa: S608
    assert non_empty >= len(CASES) - 6


def test_cql2_json_equals_text(http):
    tree = {"op": "and", "args": [
        {"op": "=", "args": [{"property": "kind"}, "vecinal"]},
        {"op": "s_intersects", "args": [{"property": "geometry"},
                                        {"type": "Polygon", "coordinates": [[[-60.8, -33.1], [-60.5, -33.1],
                                                                             [-60.5, -32.8], [-60.8, -32.8],
                                                                             [-60.8, -33.1]]]}]}]}
    by_json, _ = all_features(http, "/collections/instances/items",
                              {"filter": json.dumps(tree), "filter-lang": "cql2-json"})
    by_text, _ = all_features(http, "/collections/instances/items",
                              {"filter": "kind = 'vecinal' AND S_INTERSECTS(geometry, "
                                         "POLYGON((-60.8 -33.1, -60.5 -33.1, -60.5 -32.8, -60.8 -32.8, -60.8 -33.1)))"})
    assert {f["id"] for f in by_json} == {f["id"] for f in by_text} and by_text


def test_filter_crs_22185(http, sql):
    x, y = sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(-60.65, -32.95), 4326), "
               "22185) p) t")[0]
    # EPSG:22185 axis order is northing, easting.
    text = f"S_CONTAINS(geometry, POINT({y} {x}))"
    features, _ = all_features(http, "/collections/barrios/items",
                               {"filter": text, "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/22185"})
    expected = {r[0] for r in sql("SELECT id FROM published.barrios WHERE "
                                  "ST_Contains(geom, ST_SetSRID(ST_MakePoint(-60.65, -32.95), 4326))")}
    assert {f["id"] for f in features} == expected and len(expected) == 1


def test_crs_22185_round_trip_agrees_with_postgis_to_the_centimetre(http, sql):
    epsg = "http://www.opengis.net/def/crs/EPSG/0/22185"
    rows = sql("SELECT id, ST_X(ST_Transform(geom, 22185)), ST_Y(ST_Transform(geom, 22185)) "
               "FROM published.instances WHERE geom IS NOT NULL ORDER BY id LIMIT 40")
    xs, ys = [r[1] for r in rows], [r[2] for r in rows]
    bbox = f"{min(ys) - 1},{min(xs) - 1},{max(ys) + 1},{max(xs) + 1}"  # northing first
    response = http.get("/collections/instances/items",
                        params={"crs": epsg, "bbox-crs": epsg, "bbox": bbox, "limit": 1000})
    assert response.headers["content-crs"] == f"<{epsg}>"
    got = {f["id"]: f["geometry"]["coordinates"] for f in response.json()["features"]}
    bbox_sql = ("SELECT id FROM published.instances WHERE ST_Intersects(ST_Transform(geom, 22185), "
                "ST_MakeEnvelope(%s, %s, %s, %s, 22185))")
    assert set(got) == {r[0] for r in sql(bbox_sql, (min(xs) - 1, min(ys) - 1, max(xs) + 1, max(ys) + 1))}
    for feature_id, x, y in rows:
        northing, easting = got[feature_id]
        assert abs(easting - x) < 0.01 and abs(northing - y) < 0.01


def test_epsg_4326_is_lat_lon_and_3857_is_metres(http, sql):
    lon, lat = sql("SELECT ST_X(geom), ST_Y(geom) FROM published.instances WHERE geom IS NOT NULL "
                   "ORDER BY id LIMIT 1")[0]
    first = sql("SELECT id FROM published.instances WHERE geom IS NOT NULL ORDER BY id LIMIT 1")[0][0]
    crs84 = http.get(f"/collections/instances/items/{first}").json()["geometry"]["coordinates"]
    latlon = http.get(f"/collections/instances/items/{first}",
                      params={"crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}).json()["geometry"]["coordinates"]
    assert crs84 == pytest.approx([lon, lat], abs=1e-7) and latlon == pytest.approx([lat, lon], abs=1e-7)
    x, y = sql("SELECT ST_X(ST_Transform(geom, 3857)), ST_Y(ST_Transform(geom, 3857)) FROM published.instances "
               "WHERE id = %s", (first,))[0]
    merc = http.get(f"/collections/instances/items/{first}",
                    params={"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"})
    assert merc.json()["geometry"]["coordinates"] == pytest.approx([x, y], abs=0.001)
    # bbox-crs 4326 takes lat,lon order
    bbox = f"{lat - 0.001},{lon - 0.001},{lat + 0.001},{lon + 0.001}"
    ids = [f["id"] for f in http.get("/collections/instances/items",
                                     params={"bbox": bbox, "bbox-crs": "EPSG:4326"}).json()["features"]]
    assert first in ids


def test_unsupported_crs_is_refused(http):
    body = assert_problem(http.get("/collections/barrios/items", params={"crs": "EPSG:9999"}))
    assert "22185" in body["detail"]
