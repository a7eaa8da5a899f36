"""The map page names no layer and draws no ramp of its own: /map/config.json gives each catalogue layer's role,
title and style layer ids, and the index's colour ramps, the very ones /styles/monitor.json paints with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from web_helpers import evaluate

from layers.catalogue import CATALOGUE, LAYERS
from layers.ramps import HEXAGONS, INDEX_RAMPS

STATIC_JS = Path(__file__).resolve().parents[2] / "api" / "web" / "static" / "js"


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.id)
def test_the_page_scripts_name_no_catalogue_layer(layer):
    # A layer id (or one of its style layer ids, `<id>-…`) as a string literal: '…', "…" or `…`.
    literal = re.compile(r"""(['"`])""" + re.escape(layer.id) + r"""(-[\w-]*)?\1""")
    scripts = sorted(STATIC_JS.glob("*.js"))
    assert scripts
    found = [f"{script.name}:{n}: {line.strip()}" for script in scripts
             for n, line in enumerate(script.read_text().splitlines(), 1) if literal.search(line)]
    assert found == []


def test_each_role_names_one_layer():
    roles = [layer.role for layer in LAYERS if layer.role]
    assert len(roles) == len(set(roles))
    drawn = {layer.role for layer in LAYERS if layer.style}
    assert {"barrio_boundaries", "registry_points", "index_barrio", "index_district", "hexagon_grid"} <= drawn


def test_config_gives_roles_style_layers_and_the_styles_own_ramps(http):
    config = http.get("/map/config.json").json()
    style = http.get("/styles/monitor.json").json()["layers"]
    assert [entry["id"] for entry in config["layers"]] == list(CATALOGUE)
    assert config["roles"] == {layer.role: layer.id for layer in LAYERS if layer.role}
    for entry in config["layers"]:
        layer = CATALOGUE[entry["id"]]
        assert (entry["role"], entry["title"]) == (layer.role, layer.title)
        assert sorted(entry["style_layers"]) == sorted(s["id"] for s in style if s.get("source-layer") == layer.id)

    # The ramps: one per choropleth field, the same expression as every index fill of the style for that field.
    assert list(config["ramps"]) == list(INDEX_RAMPS)
    fills = [s for s in style if s.get("metadata", {}).get("monitor:field")]
    assert {s["source-layer"] for s in fills} == {config["roles"]["index_barrio"], config["roles"]["index_district"]}
    for unit, info in config["index_layers"].items():
        assert info["layer"] == config["roles"][f"index_{unit}"]
        assert [p["field"] for p in info["pillars"]] == list(INDEX_RAMPS)
        for pillar in info["pillars"]:
            (published,) = [s for s in fills if s["id"] == pillar["style_layer"]]
            assert published["source-layer"] == info["layer"]
            assert published["paint"]["fill-color"] == config["ramps"][pillar["field"]]["expression"]
    for field, ramp in config["ramps"].items():
        # Class by class, the style's expression gives the legend's colour (evaluated at each class's middle).
        limits = [ramp["domain"][0], *ramp["breaks"], ramp["domain"][1]]
        for (low, high), entry in zip(zip(limits, limits[1:], strict=False), ramp["legend"], strict=True):
            for value in (low, (low + high) / 2):
                assert evaluate(ramp["expression"], {field: value}) == entry["colour"], (field, value)
        assert ramp["legend"][0]["label"].startswith("0 a ")
    grid = next(entry for entry in config["layers"] if entry["role"] == "hexagon_grid")
    (hexagons,) = [s for s in style if s["id"] in grid["style_layers"] and s["type"] == "fill"]
    assert hexagons["paint"]["fill-color"] == config["hexagons"]["ramp"]["expression"] == HEXAGONS.expression()
    assert evaluate(hexagons["paint"]["fill-color"], {"coverage": 0, "e2sfca": 3}) == \
        config["hexagons"]["ramp"]["legend"][-1]["colour"]
