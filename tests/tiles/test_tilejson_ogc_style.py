"""TileJSON 3.0, OGC API - Tiles metadata and the MapLibre style: all generated from the catalogue, all usable."""

from __future__ import annotations

import pytest
from tile_helpers import canonical, decode, tile_of

from layers.catalogue import CATALOGUE, MAP_LAYERS
from layers.ramps import HEXAGONS, INDEX_RAMPS


def fill(template: str, z: int, x: int, y: int) -> str:
    return template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


def test_the_all_layers_tilejson_describes_and_reaches_every_layer(http, live_server, rosario_bounds):
    doc = http.get("/tiles.json").json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == [f"{live_server.url}/tiles/{{z}}/{{x}}/{{y}}.mvt"]
    assert [v["id"] for v in doc["vector_layers"]] == [layer.id for layer in MAP_LAYERS]
    assert doc["minzoom"] == 0 and doc["maxzoom"] == 16
    west, south, east, north = doc["bounds"]
    assert west <= rosario_bounds[0] and south <= rosario_bounds[1]
    assert east >= rosario_bounds[2] and north >= rosario_bounds[3]
    assert west < doc["center"][0] < east and south < doc["center"][1] < north
    # The advertised URL serves a tile whose layers and fields are the advertised ones.
    x, y = tile_of(doc["center"][0], doc["center"][1], 13)
    tile = decode(http.get(fill(doc["tiles"][0], 13, x, y).replace(live_server.url, "")).content)
    fields = {v["id"]: v["fields"] for v in doc["vector_layers"]}
    assert set(tile) <= set(fields)
    for name, layer in tile.items():
        for feature in layer["features"]:
            assert set(feature["properties"]) <= set(fields[name]), name


@pytest.mark.parametrize("layer", MAP_LAYERS, ids=lambda layer: layer.id)
def test_each_layer_has_its_own_tilejson(http, live_server, layer):
    doc = http.get(f"/tiles/{layer.id}.json").json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == [f"{live_server.url}/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.mvt"]
    assert doc["minzoom"] == layer.minzoom and doc["maxzoom"] == layer.maxzoom
    (entry,) = doc["vector_layers"]
    assert entry["id"] == layer.id
    assert set(layer.tile_properties) <= set(entry["fields"])
    assert not set(entry["fields"]) & {p.name for p in layer.properties if not p.in_tiles}


def test_ogc_tiles_lead_from_the_collection_to_the_same_tiles(http, live_server):
    for layer in MAP_LAYERS:
        sets = http.get(f"/collections/{layer.id}/tiles").json()["tilesets"]
        (tileset_link,) = [lk for lk in sets[0]["links"] if lk["rel"] == "self"]
        assert sets[0]["dataType"] == "vector"
        tileset = http.get(tileset_link["href"].replace(live_server.url, "")).json()
        assert tileset["tileMatrixSetURI"].endswith("/WebMercatorQuad")
        (item,) = [lk for lk in tileset["links"] if lk["rel"] == "item"]
        assert item["type"] == "application/vnd.mapbox-vector-tile" and item["templated"]
        z = max(layer.minzoom, 12)
        x, y = tile_of(-60.6395, -32.9468, z)  # Rosario's centre
        limits = {int(lim["tileMatrix"]): lim for lim in tileset["tileMatrixSetLimits"]}
        assert limits[z]["minTileCol"] <= x <= limits[z]["maxTileCol"]
        assert limits[z]["minTileRow"] <= y <= limits[z]["maxTileRow"]
        href = item["href"].replace("{tileMatrix}", str(z)).replace("{tileRow}", str(y)).replace("{tileCol}", str(x))
        ogc = http.get(href.replace(live_server.url, ""))
        plain = http.get(f"/tiles/{layer.id}/{z}/{x}/{y}.mvt")
        assert ogc.status_code == plain.status_code  # 200, or 204 for a layer with no data yet
        assert canonical(decode(ogc.content)) == canonical(decode(plain.content))
        assert tileset["layers"][0]["id"] == layer.id


def test_the_tile_matrix_set_is_served(http):
    sets = http.get("/tileMatrixSets").json()["tileMatrixSets"]
    assert [s["id"] for s in sets] == ["WebMercatorQuad"]
    tms = http.get("/tileMatrixSets/WebMercatorQuad").json()
    assert tms["id"] == "WebMercatorQuad" and len(tms["tileMatrices"]) >= 17


def test_the_style_draws_every_layer_from_the_monitor_source_offline(http, live_server):
    style = http.get("/styles/monitor.json").json()
    assert style["version"] == 8
    assert style["sources"] == {"monitor": {"type": "vector", "url": f"{live_server.url}/tiles.json"}}
    # Offline: nothing fetched from elsewhere. The only glyphs are the service's own, for the labels of the local
    # basemap (MONITOR_BASEMAP's default; tests/web/test_basemap.py covers the others); no sprite.
    assert style["glyphs"] == f"{live_server.url}/fonts/{{fontstack}}/{{range}}.pbf" and "sprite" not in style
    assert {layer["type"] for layer in style["layers"]} <= {"background", "fill", "line", "circle", "symbol"}
    assert all(layer["metadata"]["monitor:basemap"] for layer in style["layers"] if layer["type"] == "symbol")
    ids = [layer["id"] for layer in style["layers"]]
    assert len(ids) == len(set(ids))
    drawn = {layer["source-layer"] for layer in style["layers"] if layer["type"] != "background"}
    assert drawn == {layer.id for layer in MAP_LAYERS}
    for layer in style["layers"][1:]:
        assert layer["source"] == "monitor"
        assert layer["minzoom"] >= CATALOGUE[layer["source-layer"]].minzoom
    # Point layers split into single features and clusters sized by point_count.
    clusters = {layer["source-layer"] for layer in style["layers"] if layer["id"].endswith("-clusters")}
    assert clusters == {layer.id for layer in MAP_LAYERS if layer.geometry_type == "Point"}
    kinds = [layer["type"] for layer in style["layers"]]
    assert kinds.index("fill") < kinds.index("line") < kinds.index("circle")  # points on top of areas
    assert kinds.index("symbol") > max(i for i, kind in enumerate(kinds) if kind == "circle")  # labels on top
    # The style's source resolves to a TileJSON whose layers are exactly the style's source layers.
    tilejson = http.get(style["sources"]["monitor"]["url"].replace(live_server.url, "")).json()
    assert {v["id"] for v in tilejson["vector_layers"]} == drawn


def test_the_styles_index_fills_paint_with_the_ramps_defined_once(http):
    """One fill per index layer and choropleth field, painted with layers/ramps.py (which /map/config.json hands
    to the web map): the composite and each pillar mean the same colours in QGIS and on the map."""
    style = http.get("/styles/monitor.json").json()
    fills = {(entry["source-layer"], entry["metadata"]["monitor:field"]): entry for entry in style["layers"]
             if "monitor:field" in entry.get("metadata", {})}
    index = [layer.id for layer in MAP_LAYERS if layer.role in ("index_barrio", "index_district")]
    assert len(index) == 2
    assert set(fills) == {(layer_id, field) for layer_id in index for field in INDEX_RAMPS}
    for (layer_id, field), entry in fills.items():
        ramp = INDEX_RAMPS[field]
        assert entry["type"] == "fill" and entry["filter"] == ["has", field]
        assert entry["paint"]["fill-color"] == ramp.expression()
        assert entry["metadata"]["monitor:layer-role"] == CATALOGUE[layer_id].role
        assert [ramp.colour_of(v) for v in ramp.limits[:-1]] == list(ramp.colours)
    roles = [(entry.get("metadata", {}).get("monitor:layer-role"), entry) for entry in style["layers"]]
    assert [entry["paint"]["fill-color"] for role, entry in roles if role == "hexagon_grid"] == [HEXAGONS.expression()]


def test_feature_api_points_clients_to_the_tiles(http):
    """Conformance lists OGC API - Tiles, and each collection links to tilesets that answer."""
    conforms = http.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conforms
    for collection in http.get("/collections").json()["collections"]:
        tilesets = [link["href"] for link in collection["links"]
                    if link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"]
        if CATALOGUE[collection["id"]] not in MAP_LAYERS:  # a table, or points only listed (commitments)
            assert tilesets == []
            continue
        assert len(tilesets) == 1
        assert http.get(tilesets[0]).status_code == 200
