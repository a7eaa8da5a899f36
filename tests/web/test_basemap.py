"""The basemap under the web map (MONITOR_BASEMAP, layers/basemap.py): by default the local one, made from what the
monitor holds (bus routes as streets, barrio and district names) with glyphs the service makes itself; `none`; a
PMTiles archive of the Protomaps schema; a third-party style. Real HTTP, real Chromium."""

from __future__ import annotations

import gzip
import json
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from web_helpers import open_page, serve_app, wait_idle

from layers.catalogue import BASEMAP_LAYERS

JUMP = "([lon, lat, zoom]) => window.monitorMap.jumpTo({ center: [lon, lat], zoom })"
BASEMAP_IDS = """() => window.monitorMap.getStyle().layers.filter((l) => l.metadata?.['monitor:basemap'])
    .map((l) => l.id)"""
RENDERED = """(ids) => window.monitorMap.queryRenderedFeatures({ layers: ids })
    .map((f) => ({ layer: f.layer.id, source: f.sourceLayer, ...f.properties }))"""
CENTRE = (-60.655, -32.945)  # Rosario's centre, inland


def app_with_basemap(template_db: str, basemap: str):
    from api.app import create_app
    from gis.config import Settings

    return create_app(Settings(basemap=basemap), url=template_db)


@pytest.fixture(scope="module")
def server_without_basemap(template_db):
    url, stop = serve_app(app_with_basemap(template_db, "none"))
    yield SimpleNamespace(url=url, database_url=template_db)
    stop()


# ---------------------------------------------------------------- HTTP: the style and the glyphs


def test_the_style_carries_the_local_basemap_and_its_own_glyphs(http, live_server):
    style = http.get("/styles/monitor.json").json()
    assert style["metadata"]["monitor:basemap"] == "local"
    assert style["glyphs"] == f"{live_server.url}/fonts/{{fontstack}}/{{range}}.pbf"
    assert "sprite" not in style and list(style["sources"]) == ["monitor"]
    basemap = [layer for layer in style["layers"] if layer.get("metadata", {}).get("monitor:basemap")]
    assert {layer["source-layer"] for layer in basemap} == {layer.id for layer in BASEMAP_LAYERS}
    assert all(layer["source"] == "monitor" for layer in basemap)
    # Labels: the barrio and district names, drawn last (above the data); streets under the boundaries.
    labels = [layer for layer in style["layers"] if layer["type"] == "symbol"]
    assert labels and labels == style["layers"][-len(labels):]
    assert {tuple(layer["layout"]["text-field"]) for layer in labels} == {("get", "name")}
    ids = [layer["id"] for layer in style["layers"]]
    streets = [i for i, layer in enumerate(style["layers"]) if layer["type"] == "line"
               and layer.get("metadata", {}).get("monitor:basemap")]
    assert max(streets) < ids.index("districts-line")
    # Every font the labels ask for is served.
    fonts = {font for layer in labels for font in layer["layout"]["text-font"]}
    for font in fonts:
        response = http.get(f"/fonts/{font}/0-255.pbf")
        assert response.status_code == 200 and response.headers["x-font"] == font


def _glyph_ids(pbf: bytes) -> tuple[str, set[int]]:
    """The fontstack name and the code points of a glyphs PBF (glyphs.proto: stacks{name, range, glyphs{id…}})."""
    def fields(data: bytes):
        i = 0
        while i < len(data):
            key, i = _varint(data, i)
            number, wire = key >> 3, key & 7
            if wire == 0:
                value, i = _varint(data, i)
            elif wire == 2:
                size, i = _varint(data, i)
                value, i = data[i:i + size], i + size
            else:
                raise AssertionError(f"wire type {wire}")
            yield number, value

    (stack,) = [value for number, value in fields(pbf) if number == 1]
    parts = list(fields(stack))
    name = next(value for number, value in parts if number == 1).decode()
    ids = {dict(fields(glyph))[1] for number, glyph in parts if number == 3}
    return name, ids


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if byte < 0x80:
            return value, i


def test_glyphs_are_sdf_pbfs_of_dejavu_with_spanish_letters(http):
    response = http.get("/fonts/DejaVu Sans Book/0-255.pbf", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    assert response.headers["access-control-allow-origin"] == "*"
    name, ids = _glyph_ids(response.content)
    assert name == "DejaVu Sans Book"
    assert {ord(c) for c in "Alberdi Echesortu Ñandú ÁÉÍÓÚáéíóúü 0123456789"} - {32} <= ids
    again = http.get("/fonts/DejaVu Sans Book/0-255.pbf", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    # A fontstack the service lacks (a third-party style's) gets DejaVu, bold for bold names.
    assert http.get("/fonts/Noto Sans Regular,Arial/0-255.pbf").headers["x-font"] == "DejaVu Sans Book"
    assert http.get("/fonts/Noto Sans Bold/8192-8447.pbf").headers["x-font"] == "DejaVu Sans Bold"
    for bad in ("0-256", "1-256", "65536-65791", "a-b"):
        assert http.get(f"/fonts/DejaVu Sans Book/{bad}.pbf").status_code == 404, bad


def test_basemap_none_leaves_the_style_as_before(server_without_basemap):
    style = httpx.get(f"{server_without_basemap.url}/styles/monitor.json").json()
    assert style["metadata"]["monitor:basemap"] == "none"
    assert "glyphs" not in style and list(style["sources"]) == ["monitor"]
    assert {layer["type"] for layer in style["layers"]} <= {"background", "fill", "line", "circle"}
    assert not {layer.get("source-layer") for layer in style["layers"]} & {layer.id for layer in BASEMAP_LAYERS}


# ---------------------------------------------------------------- Chromium: the basemap on and off


def test_the_map_draws_streets_and_names_offline_and_switches_them_off(browser, live_server, sql, artifacts_dir):
    page, log = open_page(browser, live_server)
    try:
        ids = page.evaluate(BASEMAP_IDS)
        assert ids and page.is_visible("#basemap-control") and page.is_checked("#toggle-basemap")
        page.evaluate(JUMP, [*CENTRE, 13.5])
        wait_idle(page)
        drawn = page.evaluate(RENDERED, ids)
        names = {f["name"] for f in drawn if f["source"] == "basemap_labels"}
        barrios = {row["name"] for row in sql("SELECT name FROM published.barrios")}
        assert len(names & barrios) >= 3, names  # labels are placed only once their glyphs are drawn
        assert any(f["source"] == "basemap_routes" for f in drawn)
        assert any("/fonts/DejaVu%20Sans%20" in url or "/fonts/DejaVu Sans " in url for url in log.requests)
        assert log.errors == [] and log.outside == []
        page.screenshot(path=os.path.join(artifacts_dir, "web-basemap-on.png"))

        page.click("#toggle-basemap")
        wait_idle(page)
        assert page.evaluate(RENDERED, ids) == []
        assert page.evaluate("document.body.dataset.basemap") == "off"
        assert page.evaluate("(ids) => ids.map((id) => window.monitorMap.getLayoutProperty(id, 'visibility'))",
                             ids) == ["none"] * len(ids)
        barrio_fill = page.evaluate("""() => window.monitorMap.queryRenderedFeatures()
            .filter((f) => f.sourceLayer === 'barrios').length""")
        assert barrio_fill > 0  # the monitor's own layers stay
        page.screenshot(path=os.path.join(artifacts_dir, "web-basemap-off.png"))

        page.click("#toggle-basemap")
        wait_idle(page)
        assert {f["name"] for f in page.evaluate(RENDERED, ids) if f["source"] == "basemap_labels"} & barrios
        assert log.errors == []
    finally:
        page.context.close()


def test_the_map_without_a_basemap_hides_the_switch(browser, server_without_basemap):
    page, log = open_page(browser, server_without_basemap)
    try:
        wait_idle(page)
        assert page.evaluate(BASEMAP_IDS) == []
        assert not page.is_visible("#basemap-control")
        assert not any("/fonts/" in url for url in log.requests)
        assert log.errors == [] and log.outside == []
    finally:
        page.context.close()


# ---------------------------------------------------------------- a Protomaps archive, a third-party style


def _protomaps_archive(path: Path, template_db: str) -> None:
    """A small archive of the Protomaps basemap schema made from the monitor's own data (earth: the city; roads:
    the bus routes; places: the barrio names; water: a strip east of the city), z10–14 over Rosario."""
    import mapbox_vector_tile
    import morecantile
    import psycopg
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer
    from shapely import box, wkb

    with psycopg.connect(template_db) as conn:
        earth = conn.execute("SELECT ST_AsBinary(ST_Transform(ST_Union(geom), 3857)) FROM monitor.barrios").fetchone()
        routes = conn.execute("SELECT ST_AsBinary(geom_3857), line FROM monitor.bus_routes").fetchall()
        places = conn.execute("SELECT ST_AsBinary(geom_3857), name FROM published.basemap_labels "
                              "WHERE kind = 'barrio'").fetchall()
        water = conn.execute("SELECT ST_AsBinary(ST_Transform(ST_MakeEnvelope(-60.62, -33.0, -60.55, -32.88, 4326), "
                             "3857))").fetchone()
    layers = {
        "earth": [(wkb.loads(earth[0]), {"kind": "earth"})],
        "water": [(wkb.loads(water[0]), {"kind": "water"})],
        "roads": [(wkb.loads(g), {"kind": "major_road", "name": f"Línea {line}"}) for g, line in routes],
        "places": [(wkb.loads(g), {"kind": "neighbourhood", "name": name}) for g, name in places],
    }
    tms = morecantile.tms.get("WebMercatorQuad")
    entries = []
    for z in range(10, 15):
        for tile in tms.tiles(-60.80, -33.04, -60.60, -32.86, zooms=[z]):
            bounds = tms.xy_bounds(tile)
            area = box(*bounds).buffer((bounds.right - bounds.left) / 16, join_style="mitre")
            encoded = [{"name": name, "features": [{"geometry": geom.intersection(area), "properties": props}
                                                   for geom, props in features if geom.intersects(area)]}
                       for name, features in layers.items()]
            encoded = [layer for layer in encoded if layer["features"]]
            if encoded:
                data = mapbox_vector_tile.encode(encoded, default_options={"quantize_bounds": tuple(bounds)})
                entries.append((zxy_to_tileid(tile.z, tile.x, tile.y), gzip.compress(data)))
    with path.open("wb") as f:
        writer = Writer(f)
        for tile_id, data in sorted(entries):
            writer.write_tile(tile_id, data)
        writer.finalize({
            "tile_type": TileType.MVT, "tile_compression": Compression.GZIP, "min_zoom": 10, "max_zoom": 14,
            "min_lon_e7": int(-60.80e7), "min_lat_e7": int(-33.04e7), "max_lon_e7": int(-60.60e7),
            "max_lat_e7": int(-32.86e7), "center_zoom": 12, "center_lon_e7": int(-60.66e7),
            "center_lat_e7": int(-32.95e7)}, {"vector_layers": [{"id": name, "fields": {}} for name in layers]})


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # mapbox_vector_tile's use of shapely.ops.transform
def test_a_protomaps_archive_as_basemap(browser, template_db, tmp_path, artifacts_dir):
    archive = tmp_path / "rosario-basemap.pmtiles"
    _protomaps_archive(archive, template_db)
    url, stop = serve_app(app_with_basemap(template_db, str(archive)))
    try:
        style = httpx.get(f"{url}/styles/monitor.json").json()
        assert style["metadata"]["monitor:basemap"] == "pmtiles"
        assert style["sources"]["basemap"]["url"] == f"pmtiles://{url}/basemap/rosario-basemap.pmtiles"
        assert "OpenStreetMap" in style["sources"]["basemap"]["attribution"]
        assert not {layer.get("source-layer") for layer in style["layers"]} & {lay.id for lay in BASEMAP_LAYERS}
        ranged = httpx.get(f"{url}/basemap/rosario-basemap.pmtiles", headers={"Range": "bytes=0-126"})
        assert ranged.status_code == 206 and ranged.content[:7] == b"PMTiles"
        assert httpx.get(f"{url}/basemap/other.pmtiles").status_code == 404

        page, log = open_page(browser, SimpleNamespace(url=url))
        try:
            page.evaluate(JUMP, [*CENTRE, 13.5])
            wait_idle(page)
            ids = page.evaluate(BASEMAP_IDS)
            drawn = page.evaluate(RENDERED, ids)
            assert {"earth", "roads", "places"} <= {f["source"] for f in drawn}
            assert any(url_.endswith(".pmtiles") for url_ in log.requests)
            assert log.errors == [] and log.outside == []
            page.screenshot(path=os.path.join(artifacts_dir, "web-basemap-pmtiles.png"))
        finally:
            page.context.close()
    finally:
        stop()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_a_third_party_style_as_basemap_and_the_fallback(template_db, tmp_path):
    # A style served from another origin: its sources and layers come prefixed, its labels above the data.
    third = {
        "version": 8, "glyphs": "http://127.0.0.1:1/fonts/{fontstack}/{range}.pbf",
        "sources": {"land": {"type": "geojson", "data": {"type": "Feature", "properties": {"name": "Rosario"},
                                                          "geometry": {"type": "Point", "coordinates": CENTRE}}}},
        "layers": [{"id": "bg", "type": "background", "paint": {"background-color": "#eeeeee"}},
                   {"id": "dot", "type": "circle", "source": "land"},
                   {"id": "name", "type": "symbol", "source": "land", "layout": {"text-field": ["get", "name"]}}],
    }
    (tmp_path / "style.json").write_text(json.dumps(third))
    handler = lambda *a, **k: _Quiet(*a, directory=str(tmp_path), **k)  # noqa: E731
    other = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        for basemap in (f"http://127.0.0.1:{other.server_port}/style.json", str(tmp_path / "style.json")):
            url, stop = serve_app(app_with_basemap(template_db, basemap))
            try:
                style = httpx.get(f"{url}/styles/monitor.json").json()
            finally:
                stop()
            assert style["metadata"]["monitor:basemap"] == "style"
            assert list(style["sources"]) == ["monitor", "basemap-land"]
            assert style["metadata"]["monitor:basemap-sources"] == ["basemap-land"]
            ids = [layer["id"] for layer in style["layers"]]
            assert ids[0] == "basemap-bg" and ids[1] == "basemap-dot" and ids[-1] == "basemap-name"
            assert style["glyphs"] == third["glyphs"]
        # Unreachable: the local basemap instead, saying why.
        url, stop = serve_app(app_with_basemap(template_db, "http://127.0.0.1:1/missing.json"))
        try:
            style = httpx.get(f"{url}/styles/monitor.json").json()
        finally:
            stop()
        assert style["metadata"]["monitor:basemap"] == "local"
        assert "could not be read" in style["metadata"]["monitor:basemap-note"]
        assert {layer.get("source-layer") for layer in style["layers"]} >= {lay.id for lay in BASEMAP_LAYERS}
    finally:
        other.shutdown()
