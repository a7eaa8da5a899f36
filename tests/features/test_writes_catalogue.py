"""One write path for every editable layer: `organizations` is written through the same engine and rules as
`instances`, with nothing in api/ naming it (its layer definition carries its edit policy)."""

from __future__ import annotations

from pathlib import Path

from features_helpers import assert_problem, bearer

from layers.catalogue import CATALOGUE, EDIT_POLICIES

ROOT = Path(__file__).resolve().parents[2]


def organization(name: str = "Biblioteca Popular de Prueba", **props) -> dict:
    return {"type": "Feature", "geometry": None,
            "properties": {"name": name, "kind": "cso", "source": "test", **props}}


def test_no_editable_layer_is_named_in_the_http_surface():
    """Adding an editable layer is a definition file: the write path in api/ never names one."""
    code = "\n".join(p.read_text() for p in [*(ROOT / "api" / "features").glob("*.py"), ROOT / "api" / "errors.py",
                                             ROOT / "api" / "database.py", ROOT / "api" / "http.py"])
    for layer_id in EDIT_POLICIES:
        assert f'"{layer_id}"' not in code.replace('QUEUE = "instances"', ""), layer_id
    # Every editable collection, plus survey answers (imported, never published one by one).
    assert set(EDIT_POLICIES) == {layer.id for layer in CATALOGUE.values() if layer.editable} | {"survey_responses"}
    assert {"organizations", "instances", "activities", "criteria", "assessments", "experiences",
            "commitments"} <= set(EDIT_POLICIES)


def test_an_editor_creates_edits_and_deletes_an_organization(world):
    http, sql, tokens = world["http"], world["sql"], world["tokens"]
    created = http.post("/collections/organizations/items", json=organization(), headers=bearer(tokens["editor"]))
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    path = f"/collections/organizations/items/{new_id}"
    feature = http.get(path).json()
    assert feature["geometry"] is None and feature["properties"]["name"] == "Biblioteca Popular de Prueba"
    etag = http.get(path).headers["etag"]
    assert etag == f'"organizations-{new_id}-v1"'
    changed = http.patch(path, json={"type": "Feature", "properties": {"website": "https://biblio.example.org"}},
                         headers=bearer(tokens["editor"], **{"If-Match": etag}))
    assert changed.status_code == 200, changed.text
    assert sql("SELECT website, version, created_by IS NOT NULL FROM monitor.organizations WHERE id = %s",
               (new_id,)) == [("https://biblio.example.org", 2, True)]
    # A stale ETag loses, and nothing changes.
    stale = http.patch(path, json={"type": "Feature", "properties": {"description": "otra"}},
                       headers=bearer(tokens["editor"], **{"If-Match": etag}))
    assert assert_problem(stale, 412)["detail"].startswith("the feature changed meanwhile (now version 2)")
    history = http.get(f"{path}/history", headers=bearer(tokens["editor"])).json()["changes"]
    assert [change["action"] for change in history] == ["insert", "update"]
    assert http.delete(path, headers=bearer(tokens["editor"])).status_code == 204
    assert http.get(path).status_code == 404
    restored = http.post(f"{path}/restore", headers=bearer(tokens["editor"]))
    assert restored.status_code == 200 and http.get(path).status_code == 200


def test_organization_refusals_name_the_field_and_store_nothing(world):
    http, sql, tokens = world["http"], world["sql"], world["tokens"]
    before = sql("SELECT count(*), max(version) FROM monitor.organizations")
    existing = sql("SELECT name FROM monitor.organizations ORDER BY id LIMIT 1")[0][0]
    cases = [
        (organization(kind="club"), 400, "kind", "kind: Input should be"),
        (organization(website="javascript:alert(1)"), 400, "website", "website: must be an absolute URL"),
        (organization(name=existing), 409, "name", f"name '{existing}' already exists"),
        ({**organization(), "geometry": {"type": "Point", "coordinates": [-60.65, -32.95]}}, 400, None,
         "organizations geometries are absent"),
        (organization(colour="red"), 400, "colour", "colour: Extra inputs are not permitted"),
    ]
    for body, status, field, detail in cases:
        problem = assert_problem(http.post("/collections/organizations/items", json=body,
                                           headers=bearer(tokens["editor"])), status)
        assert problem["detail"].startswith(detail), problem
        assert problem.get("field") == field, problem
    assert sql("SELECT count(*), max(version) FROM monitor.organizations") == before


def test_an_organization_token_edits_its_own_record_only(world):
    http, tokens = world["http"], world["tokens"]
    assert_problem(http.post("/collections/organizations/items", json=organization(),
                             headers=bearer(tokens["org_a"])), 403)
    own = f"/collections/organizations/items/{world['org_a']}"
    other = f"/collections/organizations/items/{world['org_b']}"
    change = {"type": "Feature", "properties": {"description": "Editado por la propia organización"}}
    mine = http.patch(own, json=change, headers=bearer(tokens["org_a"], **{"If-Match": http.get(own).headers["etag"]}))
    assert mine.status_code == 200, mine.text
    theirs = http.patch(other, json=change,
                        headers=bearer(tokens["org_a"], **{"If-Match": http.get(other).headers["etag"]}))
    assert "their own organisation's records" in assert_problem(theirs, 403)["detail"]
    assert http.get(other).json()["properties"]["description"] != change["properties"]["description"]


def test_items_answer_csv_with_a_wkt_column(world):
    http, sql = world["http"], world["sql"]
    response = http.get("/collections/instances/items", params={"f": "csv", "limit": 5, "sortby": "id"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    header = lines[0].split(",")
    assert header[0] == "id" and header[-1] == "wkt" and "name" in header
    expected = sql("SELECT id, ST_X(geom), ST_Y(geom) FROM published.instances ORDER BY id LIMIT 5")
    import csv
    import io
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["id"]) for r in rows] == [e[0] for e in expected]
    for row, (_, x, y) in zip(rows, expected, strict=True):
        if x is None:
            assert row["wkt"] == ""
        else:
            lon, lat = map(float, row["wkt"].removeprefix("POINT (").removesuffix(")").split())
            assert abs(lon - x) < 1e-6 and abs(lat - y) < 1e-6
    assert 'rel="next"' in response.headers["link"]
