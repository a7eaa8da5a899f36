"""Bad input of every kind gets a 4xx problem+json that says what is wrong, and nothing stored changes."""

from __future__ import annotations

import json

import pytest
from features_helpers import CENTRE, assert_problem, bearer, new_instance

SELF_INTERSECTING = "POLYGON((-60.7 -32.9, -60.6 -33.0, -60.6 -32.9, -60.7 -33.0, -60.7 -32.9))"
INJECTION = "'; DROP TABLE monitor.barrios; --"

BAD_READS = [
    ("barrios", {"limit": "0"}, "limit"),
    ("barrios", {"limit": "10001"}, "limit"),
    ("barrios", {"limit": "abc"}, "limit"),
    ("barrios", {"offset": "-1"}, "offset"),
    ("barrios", {"offset": "1e3"}, "offset"),
    ("barrios", {"bbox": "1,2,3"}, "bbox"),
    ("barrios", {"bbox": "a,b,c,d"}, "bbox"),
    ("barrios", {"bbox": "-60.6,-32.9,-60.7,-33.0"}, "bbox"),
    ("barrios", {"bbox": "-200,-32,-60,-31"}, "bbox"),
    ("barrios", {"bbox": "nan,1,2,3"}, "bbox"),
    ("barrios", {"bbox": "1,2,3,4", "bbox-crs": "EPSG:1234"}, "bbox-crs"),
    ("barrios", {"crs": "EPSG:2154"}, "crs"),
    ("barrios", {"crs": INJECTION}, "crs"),
    ("activities", {"datetime": "yesterday"}, "datetime"),
    ("activities", {"datetime": "2026-02-01T00:00:00Z/2026-01-01T00:00:00Z"}, "datetime"),
    ("barrios", {"filter": "name = "}, "filter"),
    ("barrios", {"filter": "nope = 1"}, "queryable"),
    ("barrios", {"filter": "name = 'x'", "filter-lang": "ecql"}, "filter-lang"),
    ("barrios", {"filter": "population = 'many'"}, "population"),
    ("barrios", {"filter": f"S_INTERSECTS(geometry, {SELF_INTERSECTING})"}, "geometry"),
    ("barrios", {"filter": "{\"op\": \"=\", \"args\": [", "filter-lang": "cql2-json"}, "cql2-json"),
    ("barrios", {"filter": f"name = 'x'{INJECTION}"}, "filter"),
    ("barrios", {"filter": "name = 'x') OR (1 = 1"}, "filter"),
    ("barrios", {"filter": "population + 1 > 3"}, "supported"),
    ("barrios", {"sortby": "nope"}, "sortby"),
    ("barrios", {"sortby": INJECTION}, "sortby"),
    ("barrios", {"properties": "name,nope"}, "nope"),
    ("barrios", {"foo": "bar"}, "foo"),
    ("barrios", {"f": "xml"}, "f"),
    ("instances", {"kind": "vecinal' OR '1'='1"}, "kind"),
    ("instances", {"barrio_id": "1 OR 1=1"}, "barrio_id"),
    ("instances", {"is_demo": "maybe"}, "is_demo"),
]


@pytest.mark.parametrize(("collection", "params", "mentions"), BAD_READS)
def test_bad_read_parameters_get_400(http, sql, collection, params, mentions):
    body = assert_problem(http.get(f"/collections/{collection}/items", params=params), 400)
    assert mentions.lower() in (body["title"] + " " + body.get("detail", "")).lower()
    assert sql("SELECT count(*) FROM monitor.barrios")[0][0] == 50


def test_bad_paths_get_404(http):
    assert_problem(http.get("/collections/barrios;drop/items"), 404)
    assert_problem(http.get("/collections/barrios/items/1 OR 1=1"), 404)
    assert_problem(http.get("/collections/barrios/items/99999999999"), 404)


def test_free_text_values_are_literals_not_sql(http, sql):
    body = http.get("/collections/barrios/items", params={"name": INJECTION}).json()
    assert body["numberMatched"] == 0
    quoted = INJECTION.replace("'", "''")
    body = http.get("/collections/barrios/items", params={"filter": f"name = '{quoted}'"})
    assert body.status_code == 200 and body.json()["numberMatched"] == 0
    assert sql("SELECT count(*) FROM monitor.barrios")[0][0] == 50


def _bad_bodies():
    def props(**changes):
        feature = new_instance()
        feature["properties"].update(changes)
        return feature

    def geometry(value):
        feature = new_instance()
        feature["geometry"] = value
        return feature

    return [
        ("malformed JSON", b'{"type": "Feature", ', 400),
        ("not a Feature", json.dumps({"type": "FeatureCollection", "features": []}).encode(), 400),
        ("a list", b"[1, 2]", 400),
        ("self-intersecting polygon", json.dumps(geometry({"type": "Polygon", "coordinates": [[
            [-60.7, -32.9], [-60.6, -33.0], [-60.6, -32.9], [-60.7, -33.0], [-60.7, -32.9]]]})).encode(), 400),
        ("empty point", json.dumps(geometry({"type": "Point", "coordinates": []})).encode(), 400),
        ("string coordinates", json.dumps(geometry({"type": "Point", "coordinates": ["a", "b"]})).encode(), 400),
        ("outside Rosario", json.dumps(geometry({"type": "Point", "coordinates": [-58.38, -34.60]})).encode(), 400),
        ("lat/lon swapped", json.dumps(geometry({"type": "Point", "coordinates": CENTRE[::-1]})).encode(), 400),
        ("on the river, in the bbox but in no barrio",
         json.dumps(geometry({"type": "Point", "coordinates": [-60.60, -32.90]})).encode(), 400),
        ("wrong type", json.dumps(props(name=123)).encode(), 400),
        ("wrong array type", json.dumps(props(themes="ambiente")).encode(), 400),
        ("unknown property", json.dumps(props(colour="red")).encode(), 400),
        ("unknown kind", json.dumps(props(kind="nope")).encode(), 400),
        ("unknown theme", json.dumps(props(themes=["nope"])).encode(), 400),
        ("huge body", json.dumps(props(description="x" * 400_000)).encode(), 413),
    ]


def test_bad_writes_get_4xx_and_change_nothing(world):
    http, sql, token = world["http"], world["sql"], world["tokens"]["editor"]
    # (A token's first use notes last_used_at in api_tokens: that is the only change allowed.)
    counts = ("SELECT (SELECT count(*) FROM monitor.instances), "
              "(SELECT count(*) FROM monitor.history WHERE table_name <> 'api_tokens')")
    before = sql(counts)[0]
    for label, body, status in _bad_bodies():
        response = http.post("/collections/instances/items", content=body, headers=bearer(token))
        problem = assert_problem(response, status)
        assert problem.get("detail"), label
    assert_problem(http.post("/collections/instances/items", content=b"hello",
                             headers={**bearer(token), "Content-Type": "text/plain"}), 415)
    target = sql("SELECT id FROM published.instances ORDER BY id LIMIT 1")[0][0]
    path = f"/collections/instances/items/{target}"
    etag = http.get(path).headers["etag"]
    for label, body, status in _bad_bodies():
        response = http.patch(path, content=body, headers=bearer(token, **{"If-Match": etag}))
        if label in ("a list", "not a Feature", "malformed JSON", "huge body"):
            assert_problem(response, status)
        else:
            assert_problem(response, (400, 413))
    assert sql(counts)[0] == before
    assert http.get(path).headers["etag"] == etag
