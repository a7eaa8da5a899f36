"""The index over real HTTP: /index, barrios, profiles, districts, runs, gaps, methodology, layers, recompute."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import httpx
import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from index_helpers import least_served_cell, wait_for_run

from gis.auth import create_token
from gis.index.parameters import IndexParameters

ROOT = Path(__file__).resolve().parents[2]
STABLE_FIELDS = {"coverage", "accessibility", "quality", "diversity", "satisfaction", "composite", "rank_median",
                 "rank_p05", "rank_p95", "uncovered_population", "imputed", "satisfaction_imputed", "barrio_id"}


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_index_publishes_the_latest_run_and_its_parameters(live_index):
    doc = live_index.get("/index").json()
    assert doc["method_version"] == "2" and isinstance(doc["run_id"], int)
    assert {"h3_resolution", "circuity_factor", "coverage_distance_m"} <= set(doc["parameters"])
    assert doc["parameters"]["h3_resolution"] == 9 and doc["parameters"]["circuity_factor"] == 1.25
    assert doc["parameters"]["coverage_distance_m"] == 800
    assert "uniform estimate" in doc["population_method"]
    assert doc["input_counts"]["barrios"] == 50 and doc["input_counts"]["instances"] > 0
    assert 0 <= doc["summary"]["coverage"] <= 1
    assert {link["rel"] for link in doc["links"]} >= {"barrios", "districts", "gaps", "runs", "describedby"}
    assert_problem(live_index.get("/index", params={"f": "xml"}), 400)


def test_barrios_in_json_geojson_and_csv(live_index):
    doc = live_index.get("/index/barrios").json()
    rows = doc["barrios"]
    assert len(rows) == 50 and set(rows[0]) >= STABLE_FIELDS
    assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows)
    assert all(0 <= r["coverage"] <= 1 and r["id"] == r["barrio_id"] for r in rows)
    assert doc["parameters"]["h3_resolution"] == 9

    geo = live_index.get("/index/barrios", params={"f": "geojson"})
    assert geo.headers["content-type"].startswith("application/geo+json")
    features = geo.json()["features"]
    assert len(features) == 50 and features[0]["geometry"]["type"] == "MultiPolygon"
    assert {f["properties"]["barrio_id"] for f in features} == {r["barrio_id"] for r in rows}

    for response in (live_index.get("/index/barrios", params={"f": "csv"}),
                     live_index.get("/index/barrios", headers={"Accept": "text/csv"})):
        assert response.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(response.text)))
        assert len(table) == 50 and set(table[0]) >= STABLE_FIELDS
    centro = live_index.get("/index/barrios", params={"district": "CENTRO"}).json()["barrios"]
    assert centro and all(r["district"] == "CENTRO" for r in centro)
    assert_problem(live_index.get("/index/barrios", params={"f": "kml"}), 400)


def test_barrio_profile_has_pillars_rank_interval_offer_and_uncovered_population(live_index):
    gaps = live_index.get("/gaps").json()["gaps"]
    barrio = gaps[0]["barrio_id"]
    profile = live_index.get(f"/index/barrios/{barrio}").json()
    assert profile["barrio_id"] == barrio and profile["of"] == 50
    assert set(profile["pillars"]) == {"accessibility", "quality", "diversity", "satisfaction"}
    interval = profile["rank_interval"]
    assert interval["p05"] <= interval["median"] <= interval["p95"]
    assert profile["uncovered_population"] == pytest.approx(gaps[0]["uncovered_population"])
    assert profile["district_values"]["code"] == profile["district"]
    offer = profile["offer"]
    assert len(offer) == profile["offer_summary"]["offer_count"] > 0
    for item in offer:
        assert 0 <= item["standards_met"] <= item["standards_total"] == 8
        if item["modality"] == "online":
            assert item["distance_m"] is None
        else:
            assert item["distance_m"] >= 0
        if item["by_proximity"]:
            assert item["distance_m"] <= 1200 + 1e-6
    distances = [i["distance_m"] for i in offer if i["distance_m"] is not None]
    assert distances == sorted(distances)

    feature = live_index.get(f"/index/barrios/{barrio}", params={"f": "geojson"}).json()
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "MultiPolygon"
    offer_csv = list(csv.DictReader(io.StringIO(live_index.get(f"/index/barrios/{barrio}?f=csv").text)))
    assert len(offer_csv) == len(offer) and {"distance_m", "standards_met"} <= set(offer_csv[0])

    assert_problem(live_index.get("/index/barrios/999999"), 404)
    assert_problem(live_index.get("/index/barrios/abc"), 400)
    assert_problem(live_index.get("/index/barrios/0"), 400)


def test_districts_runs_and_gaps(live_index):
    districts = live_index.get("/index/districts").json()["districts"]
    assert len(districts) == 6 and all(0 <= d["coverage"] <= 1 for d in districts)
    assert live_index.get("/index/districts", params={"f": "geojson"}).json()["features"][0]["geometry"]

    runs = live_index.get("/index/runs").json()["runs"]
    assert runs and runs[0]["parameters"]["h3_resolution"] == 9 and runs[0]["method_version"] == "2"
    assert [r["id"] for r in runs] == sorted((r["id"] for r in runs), reverse=True)
    assert "input_counts" in live_index.get("/index/runs", params={"f": "csv"}).text.splitlines()[0]
    assert_problem(live_index.get("/index/runs", params={"limit": 0}), 400)

    gaps = live_index.get("/gaps", params={"limit": 50}).json()["gaps"]
    assert [g["gap_rank"] for g in gaps] == list(range(1, 51))
    keys = [(-g["uncovered_population"], g["composite"]) for g in gaps]
    assert keys == sorted(keys)
    csv_rows = list(csv.DictReader(io.StringIO(live_index.get("/gaps", params={"f": "csv", "limit": 5}).text)))
    assert [int(r["barrio_id"]) for r in csv_rows] == [g["barrio_id"] for g in gaps[:5]]


def parameter_table(page: str) -> dict[str, str]:
    """The rows of the page's `## Parameters` table."""
    section = page.split("## Parameters", 1)[1]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("| ")]
    return {name.strip(): value.strip() for name, value in rows[1:]}  # rows[0] is the header


def metres(value: float) -> str:
    return f"{value:,.0f} m"


def assert_page_states(page: str, version: str, parameters: dict) -> None:
    """What the methodology page must say for a run of this method version with these recorded parameters,
    written out here from the method (../shared/docs/index-methodology.md) rather than from the renderer."""
    table = parameter_table(page)
    flat = " ".join(page.split())  # phrases are checked whatever the line breaks
    assert f"Method version {version}." in flat and table["method version"] == version
    assert table["H3 resolution"] == str(parameters["h3_resolution"])
    assert table["circuity factor"] == f"{parameters['circuity_factor']:g}"
    assert f"multiplied by {parameters['circuity_factor']:g}" in flat
    assert table["coverage distance"] == metres(parameters["coverage_distance_m"])
    assert table["offer distance"] == metres(parameters["offer_distance_m"])
    assert table["E2SFCA supply"] == parameters["supply"] and table["aggregation"] == parameters["aggregation"]
    k = parameters["satisfaction_min_responses"]
    assert table["minimum answers for satisfaction (k)"] == str(k) and f"at least **k = {k}** answers" in flat
    weights, pillars = parameters["weights"], ("accessibility", "quality", "diversity", "satisfaction")
    assert table["weights"] == ", ".join(f"{p} {weights[p]:.2f}" for p in pillars)
    assert table["Monte Carlo draws, seed"] == f"{parameters['monte_carlo_draws']:,}, {parameters['monte_carlo_seed']}"
    for band in parameters["e2sfca_bands"]:
        assert f"{band['max_distance_m']:,.0f} m | {band['weight']:g} |" in page

    # The rules the code applies: the satisfaction fallbacks down to the whole city, and a missing pillar.
    assert "**city fallback**: every answer in the city" in flat
    assert f"When even the whole city has fewer than {k} answers the pillar is **missing**" in flat
    assert "**A missing pillar is dropped and the weights rescaled**" in flat
    left = {p: weights[p] for p in pillars if p != "satisfaction"}
    rescaled = ", ".join(f"{p} {w / sum(left.values()):.2f}" for p, w in left.items())
    assert f"a barrio without satisfaction is scored with {rescaled}." in flat

    if version == "1":
        assert "## Diversity (method version 1)" in page and "participant" not in flat.lower()
        return
    k_part, w = parameters["participant_min_answers"], parameters["participant_weight"]
    assert table["minimum answers for participant diversity (k)"] == str(k_part)
    assert table["weight of participant diversity in diversity (w)"] == f"{w:g}"
    assert table["participant dimensions"] == ", ".join(parameters["participant_dimensions"])
    assert "## Diversity (method version 2)" in page and f"**k = {k_part}** answers is left out" in flat
    assert "`D = e^H / min(K, n)`" in flat and "`(1 − w) · theme diversity + w · participant diversity`" in flat
    assert "falls back to **theme diversity alone**" in flat and f"with **w = {w:g}**" in flat

    # The worked example's arithmetic, redone here from the answers the page lists.
    example = page.split("| dimension | answers by group |", 1)[1].split("\n\n", 1)[0]
    values = []
    for line in example.splitlines()[2:]:
        _, groups, n, effective, cap, value = (cell.strip() for cell in line.strip("|").split("|"))
        counts = [int(part.rsplit(" ", 1)[1]) for part in groups.split(" (")[0].split(", ")]
        entropy = -sum(c / sum(counts) * math.log(c / sum(counts)) for c in counts)
        assert int(n) == sum(counts) and float(effective) == pytest.approx(math.exp(entropy), abs=5e-4)
        if sum(counts) >= k_part:
            assert float(value) == pytest.approx(math.exp(entropy) / int(cap), abs=5e-4)
            values.append(float(value))
        else:
            assert value.startswith("left out")
    participants = sum(values) / len(values)
    theme = float(flat.split("With a theme diversity of ", 1)[1].split(",", 1)[0])
    stated = float(flat.split(f"{w:g} × {participants:.3f} = **", 1)[1].split("**", 1)[0])
    assert stated == pytest.approx((1 - w) * theme + w * participants, abs=1e-3)


def test_methodology_is_written_from_the_parameters_used(live_index):
    run = live_index.get("/index/runs", params={"limit": 1}).json()["runs"][0]
    page = live_index.get("/index/methodology")
    assert page.headers["content-type"].startswith("text/markdown")
    assert_page_states(page.text, run["method_version"], run["parameters"])
    assert f"Run {run['id']} of " in page.text and f"{run['input_counts']['cells']} H3 cells" in page.text
    as_json = live_index.get("/index/methodology", params={"f": "json"}).json()
    assert as_json["run_id"] == run["id"] and as_json["markdown"] == page.text
    assert as_json["parameters"] == run["parameters"]


def test_docs_methodology_states_the_default_configuration():
    """docs/methodology.md is the page for the defaults: method 2 with the method's default values."""
    page = (ROOT / "docs" / "methodology.md").read_text()
    assert_page_states(page, "2", IndexParameters.model_construct().as_record())
    table = parameter_table(page)  # the defaults of ../shared/docs/index-methodology.md and of method 2
    assert (table["H3 resolution"], table["coverage distance"], table["offer distance"]) == ("9", "800 m", "1,200 m")
    assert table["minimum answers for participant diversity (k)"] == "5"
    assert table["weight of participant diversity in diversity (w)"] == "0.5"


def test_index_layers_come_through_features_and_tiles(live_index):
    items = live_index.get("/collections/barrio_index/items", params={"limit": 100}).json()
    assert items["numberMatched"] == 50
    for feature in items["features"]:
        assert feature["id"] == feature["properties"]["barrio_id"]
        assert 0 <= feature["properties"]["coverage"] <= 1
    cells = live_index.get("/index").json()["input_counts"]["cells"]
    assert live_index.get("/collections/hexagons/items", params={"limit": 1}).json()["numberMatched"] == cells
    assert live_index.get("/collections/district_index/items").json()["numberMatched"] == 6

    tile = morecantile.tms.get("WebMercatorQuad").tile(-60.6505, -32.9468, 13)
    body = live_index.get(f"/tiles/hexagons/{tile.z}/{tile.x}/{tile.y}.mvt")
    assert body.status_code == 200
    decoded = mapbox_vector_tile.decode(body.content)
    hexes = decoded["hexagons"]["features"]
    assert hexes and {"h3", "coverage", "e2sfca", "population"} <= set(hexes[0]["properties"])
    assert all(f["properties"]["coverage"] in (0, 1) for f in hexes)


def test_writes_trigger_a_debounced_recompute_that_changes_the_barrio(fresh_server):
    url = fresh_server.database_url
    with httpx.Client(base_url=fresh_server.url, timeout=60) as client:
        first = wait_for_run(client, None)
        with psycopg.connect(url) as conn:
            h3_cell, lon, lat, barrio = least_served_cell(url, lambda u, q, p=None: conn.execute(q, p).fetchall())
        before = client.get(f"/index/barrios/{barrio}").json()

        # 1. A direct SQL write (any client: psql, an import) is heard through LISTEN/NOTIFY.
        with psycopg.connect(url) as conn:
            conn.execute(
                "INSERT INTO monitor.survey_responses (instance_id, kind, satisfaction, respondent_barrio_id) "
                "SELECT %s, 'satisfaction', 1, %s FROM generate_series(1, 6)",
                (before["offer"][0]["instance_id"], barrio))
        second = wait_for_run(client, first["run_id"])
        assert second["path"] == "incremental" and second["trigger"].startswith("auto:")
        after_sql = client.get(f"/index/barrios/{barrio}").json()
        assert after_sql["satisfaction"] != before["satisfaction"]
        assert after_sql["satisfaction"]["responses"] is None or after_sql["satisfaction"]["responses"] >= 5

        # 2. A write through the feature API: an in-person instance in the barrio's least served cell.
        with psycopg.connect(url, autocommit=True) as conn:
            token = create_token(conn, "editor", "index test")[1]
        feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                   "properties": {"name": "Mesa nueva del índice", "kind": "roundtable", "promoter": "cso",
                                  "themes": ["ambiente"], "modality": "in_person", "scope": "barrio",
                                  "source": "test"}}
        created = client.post("/collections/instances/items", json=feature,
                              headers={"Authorization": f"Bearer {token}", "Content-Type": "application/geo+json"})
        assert created.status_code == 201, created.text
        new_id = int(created.headers["location"].rstrip("/").rsplit("/", 1)[1])
        third = wait_for_run(client, second["run_id"])
        runs = client.get("/index/runs", params={"limit": 1}).json()["runs"]
        assert runs[0]["changed_instance_id"] == new_id and third["path"] == "incremental"
        after_api = client.get(f"/index/barrios/{barrio}").json()
        assert after_api["coverage"] > after_sql["coverage"]
        assert after_api["uncovered_population"] < after_sql["uncovered_population"]
        assert new_id in {item["instance_id"] for item in after_api["offer"]}
        assert not math.isclose(after_api["pillars"]["accessibility"], before["pillars"]["accessibility"])
