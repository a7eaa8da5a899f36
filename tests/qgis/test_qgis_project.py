"""QGIS 3.22 itself (Debian's python3-qgis, headless) opens the generated project in each flavour, finds every layer
valid with its features, draws the map with the kinds' colours, and loads each layer's QML and SLD with the
colours of the published MapLibre style."""

from __future__ import annotations

import json
import math
import os
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest

from layers.catalogue import BASEMAP_LAYERS, CATALOGUE, LAYERS, MAP_LAYERS
from layers.definitions import instances
from layers.ramps import HEXAGONS, INDEX_RAMPS

pytestmark = pytest.mark.client
DRIVER = Path(__file__).with_name("qgis_driver.py")
KIND_MATCH = instances.LAYER.style[0]["paint"]["circle-color"]  # ["match", ["get", "kind"], kind, colour, …, other]
KIND_COLOURS = dict(zip(KIND_MATCH[2:-1:2], KIND_MATCH[3:-1:2], strict=True))
OTHER_KIND = KIND_MATCH[-1]
SIZE = 900


def mercator(lon: float, lat: float) -> tuple[float, float]:
    return math.radians(lon) * 6378137, math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * 6378137


CITY = [*mercator(-60.79, -33.04), *mercator(-60.61, -32.87)]


def run_driver(*args: str, tmp_path: Path) -> dict | list:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": "/tmp",
           "QGIS_AUTH_DB_DIR_PATH": str(tmp_path / "qgis-auth"), "HOME": str(tmp_path)}
    env.pop("PYTHONPATH", None)
    (tmp_path / "qgis-auth").mkdir(exist_ok=True)
    done = subprocess.run(["/usr/bin/python3", str(DRIVER), *args], capture_output=True, text=True, timeout=600,
                          env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def published_count(sql, layer_id: str) -> int:
    return sql(f"SELECT count(*) FROM {CATALOGUE[layer_id].source}")[0][0]  # noqa: S608 (catalogue name)


def qgs_text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".qgs")]
        return archive.read(name).decode()


def kinds_drawn(sql, where: str = "TRUE") -> set[str]:
    return {row[0] for row in sql(f"SELECT DISTINCT kind FROM published.instances WHERE geom IS NOT NULL AND {where}")}


def by_catalogue_id(report: dict) -> dict[str, dict]:
    return {layer["catalogue_id"]: layer for layer in report["layers"]}


def assert_kind_colours(report: dict, kinds: set[str]) -> None:
    """Each kind's MapLibre colour is in the picture, exactly (the centre of its circles)."""
    colours = report["colours"]
    for kind in kinds:
        colour = KIND_COLOURS.get(kind, OTHER_KIND)
        assert colours.get(colour, 0) >= 4, (kind, colour)


def assert_picture_not_empty(report: dict) -> None:
    colours = report["colours"]
    white = colours.get("#ffffff", 0)
    assert sum(colours.values()) - white > SIZE * SIZE // 3  # the city fills much of the picture
    assert len(colours) > 20
    assert report["errors"] == []


def assert_styled_like_the_web(layers: dict[str, dict], labels: dict[str, str]) -> None:
    points = layers["instances"]["renderer"]["rules"]
    assert {r["label"]: r["colours"][0] for r in points} == \
        {**{labels[kind]: colour for kind, colour in KIND_COLOURS.items()}, "Otro": OTHER_KIND}
    for layer_id in ("barrio_index", "district_index"):
        index = layers[layer_id]
        assert index["current_style"] == "composite" and set(index["styles"]) == set(INDEX_RAMPS)
        styles = {"composite": index["renderer"], **index["other_styles"]}
        for field, ramp in INDEX_RAMPS.items():
            assert [r["label"] for r in styles[field]["rules"]] == ramp.labels
            assert [r["colours"][0] for r in styles[field]["rules"]] == list(ramp.colours)
    hexagons = layers["hexagons"]["renderer"]["rules"]
    assert [r["label"] for r in hexagons] == [HEXAGONS.covered_label, HEXAGONS.uncovered_label]
    assert hexagons[1]["colours"][0] == HEXAGONS.uncovered
    assert layers["barrios"]["renderer"]["rules"][0]["colours"][:2] == ["#f4f1ea", "#9a8f7a"]
    names = layers["basemap_labels"]["labeling"]
    assert names["enabled"] and {r["field"] for r in names["rules"]} == {"name"}


@pytest.fixture(scope="module")
def kind_labels(sql) -> dict[str, str]:
    return dict(sql("SELECT code, label_es FROM published.instance_kinds"))


def test_the_oapif_project_opens_valid_with_every_layer_styled_and_drawn(live_server, sql, kind_labels, tmp_path,
                                                                         artifacts_dir):
    response = httpx.get(f"{live_server.url}/qgis/monitor.qgz", timeout=60)
    assert response.status_code == 200 and response.headers["content-type"] == "application/vnd.qgis.qgz"
    assert 'filename="monitor.qgz"' in response.headers["content-disposition"]
    path = tmp_path / "monitor.qgz"
    path.write_bytes(response.content)
    out = os.path.join(artifacts_dir, "qgis-project-oapif.png")
    report = run_driver("project", str(path), out, json.dumps(CITY), str(SIZE), tmp_path=tmp_path)

    assert report["title"] == "Monitor de Participación Ciudadana de Rosario" and report["crs"] == "EPSG:3857"
    layers = by_catalogue_id(report)
    assert sorted(layers) == sorted(layer.id for layer in LAYERS)  # every public layer, once
    for layer_id, layer in layers.items():
        assert layer["valid"], (layer_id, layer["error"])
        assert layer["provider"] == "OAPIF" and f"typename='{layer_id}'" in layer["source"]
        assert layer["features"] == published_count(sql, layer_id) > 0, layer_id
    groups = {g["group"]: g["layers"] for g in report["tree"]}
    ids = {layer["id"]: layer_id for layer_id, layer in layers.items()}
    assert [ids[i] for i in groups["Participación"]] == ["instances", "activities"]
    assert {ids[i] for i in groups["Mapa base"]} == {layer.id for layer in BASEMAP_LAYERS}
    assert list(groups)[0] == "Participación" and list(groups)[-1] == "Tablas"
    checked = {ids[i] for i in report["checked"]}
    assert {"instances", "barrios", "districts", "basemap_routes", "basemap_labels"} <= checked
    assert not checked & {"hexagons", "barrio_index", "district_index"}  # hidden in the MapLibre style too
    assert "activities" not in checked  # as on the web map: the agenda lists them
    assert_styled_like_the_web(layers, kind_labels)
    assert_picture_not_empty(report)
    assert_kind_colours(report, kinds_drawn(sql))


def test_the_postgis_project_reads_the_views_with_the_readonly_role_and_no_password(template_db, sql, kind_labels,
                                                                                     tmp_path, artifacts_dir):
    path = tmp_path / "monitor-postgis.qgz"
    env = {**os.environ, "DATABASE_URL": template_db}
    monitor = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "monitor"
    done = subprocess.run([str(monitor), "export", "qgis", str(path), "--source", "postgis", "--authcfg", "mon1tor"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["authcfg"] == "mon1tor"
    text = qgs_text(path)
    assert "password" not in text.lower() and "authcfg=mon1tor" in text
    # The read-only role's login comes from QGIS's authentication database, never from the project.
    auth = {"id": "mon1tor", "username": "monitor_readonly", "password": "asked-once-and-kept-by-qgis"}
    out = os.path.join(artifacts_dir, "qgis-project-postgis.png")
    report = run_driver("project", str(path), out, json.dumps(CITY), str(SIZE), json.dumps(auth), tmp_path=tmp_path)
    layers = by_catalogue_id(report)
    assert sorted(layers) == sorted(layer.id for layer in LAYERS)
    for layer_id, layer in layers.items():
        assert layer["valid"], (layer_id, layer["error"])
        assert layer["provider"] == "postgres" and "authcfg=mon1tor" in layer["source"]
        assert f'"published"."{CATALOGUE[layer_id].source.split(".")[1]}"' in layer["source"]
        assert layer["features"] == published_count(sql, layer_id) > 0, layer_id
    assert_styled_like_the_web(layers, kind_labels)
    assert_picture_not_empty(report)
    assert_kind_colours(report, kinds_drawn(sql))


def test_the_postgis_download_names_the_readonly_role(live_server, template_db):
    text = qgs_text_of(httpx.get(f"{live_server.url}/qgis/monitor.qgz", params={"source": "postgis"}, timeout=60))
    dbname = template_db.rsplit("/", 1)[1]
    assert f"dbname='{dbname}'" in text and "user='monitor_readonly'" in text
    assert "password" not in text.lower()
    assert httpx.get(f"{live_server.url}/qgis/monitor.qgz", params={"source": "wms"}).status_code in (400, 422)
    assert httpx.get(f"{live_server.url}/qgis/monitor.qgz",
                     params={"source": "postgis", "authcfg": "x'; drop"}).status_code in (400, 422)


def qgs_text_of(response: httpx.Response) -> str:
    assert response.status_code == 200
    with zipfile.ZipFile(__import__("io").BytesIO(response.content)) as archive:
        return archive.read("monitor.qgs").decode()


def test_the_tiles_project_draws_the_server_tiles_with_the_same_rules(live_server, sql, tmp_path, artifacts_dir):
    response = httpx.get(f"{live_server.url}/qgis/monitor.qgz", params={"source": "tiles"}, timeout=60)
    assert 'filename="monitor-tiles.qgz"' in response.headers["content-disposition"]
    path = tmp_path / "monitor-tiles.qgz"
    path.write_bytes(response.content)
    # Zoom 14 over the centre: single points, each in its kind's colour.
    west, south = mercator(-60.675, -32.955)
    east, north = mercator(-60.645, -32.930)
    out = os.path.join(artifacts_dir, "qgis-project-tiles.png")
    report = run_driver("project", str(path), out, json.dumps([west, south, east, north]), str(SIZE),
                        tmp_path=tmp_path)
    (layer,) = report["layers"]
    assert layer["valid"] and layer["provider"] == "vectortile" and layer["zmax"] == 16
    assert f"styleUrl={live_server.url}/styles/monitor.json" in layer["source"]
    assert {s["layer"] for s in layer["tile_styles"]} == {m.id for m in MAP_LAYERS}
    kinds = {s["filter"]: s["colours"][0] for s in layer["tile_styles"] if s["layer"] == "instances"}
    for kind, colour in KIND_COLOURS.items():
        assert any(f"'{kind}'" in expression and c == colour for expression, c in kinds.items()), kind
    assert "basemap_labels" in layer["tile_labels"]
    assert_picture_not_empty(report)
    inside = kinds_drawn(sql, "ST_Intersects(geom, ST_MakeEnvelope(-60.675, -32.955, -60.645, -32.930, 4326))")
    assert inside
    assert_kind_colours(report, inside)


def test_each_layer_style_loads_from_qml_and_sld_with_the_web_colours(live_server, tmp_path):
    jobs, expected = [], []
    for layer in MAP_LAYERS:
        for ext in ("qml", "sld"):
            response = httpx.get(f"{live_server.url}/styles/{layer.id}.{ext}", timeout=60)
            assert response.status_code == 200, (layer.id, ext, response.text)
            target = tmp_path / f"{layer.id}.{ext}"
            target.write_bytes(response.content)
            uri = f"typename='{layer.id}' url='{live_server.url}'"
            jobs.append({"uri": uri, "provider": "OAPIF", "path": str(target)})
            expected.append((layer, ext))
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    results = run_driver("styles", str(tmp_path / "jobs.json"), tmp_path=tmp_path)
    for (layer, ext), result in zip(expected, results, strict=True):
        assert result["ok"], (layer.id, ext, result["message"])
        colours = {c for rule in (result["renderer"] or {}).get("rules", []) for c in rule["colours"]}
        wanted = web_colours(layer)
        if layer.id == "hexagons" and ext == "sld":
            wanted = {HEXAGONS.uncovered}  # SLD: the covered ramp in classes between its stops
        assert wanted <= colours, (layer.id, ext, wanted - colours)
        if layer.id == "basemap_labels":
            assert result["labeling"] and result["labeling"]["enabled"], ext
    # An index layer's other fields, by name.
    quality = httpx.get(f"{live_server.url}/styles/barrio_index.qml", params={"style": "quality"}).text
    assert all(colour in quality_colours(quality) for colour in INDEX_RAMPS["quality"].colours)
    assert httpx.get(f"{live_server.url}/styles/barrio_index.qml", params={"style": "nope"}).status_code == 404
    assert httpx.get(f"{live_server.url}/styles/organizations.qml").status_code == 404  # no geometry, no style


def quality_colours(qml_text: str) -> set[str]:
    import re

    return {"#{:02x}{:02x}{:02x}".format(*map(int, m.groups()))
            for m in re.finditer(r'name="color" value="(\d+),(\d+),(\d+),\d+"', qml_text)}


def web_colours(layer) -> set[str]:
    """The literal colours a layer's default MapLibre entries paint with (kinds, classes, fills, outlines)."""
    found = set()
    entries = [e for e in layer.style if e["type"] != "symbol"]
    fields = [e for e in entries if e.get("metadata", {}).get("monitor:field")]
    if fields:
        entries = [fields[0]]  # the default style: the first field's (the composite)
    for entry in entries:
        for key in ("circle-color", "fill-color", "line-color", "circle-stroke-color"):
            value = entry.get("paint", {}).get(key)
            if isinstance(value, str):
                found.add(value)
            elif isinstance(value, list) and value[0] == "match":
                found.update(value[3:-1:2])
            elif isinstance(value, list) and value[0] == "step":
                found.update([value[2], *value[4::2]])
            elif isinstance(value, list) and value[0] == "case":
                found.add(value[-1])
    return {c.lower() for c in found}
