"""GDAL's OAPIF driver (ogrinfo, ogr2ogr) and QGIS's OAPIF provider against the live server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from layers.catalogue import LAYERS

pytestmark = pytest.mark.client
QGIS_SCRIPT = Path(__file__).with_name("qgis_read.py")
# A property present in every feature of each layer, to compare what the client read with the database.
KEYS = {"districts": "code", "barrios": "name", "instances": "name", "activities": "title"}


def key_of(layer_id: str) -> str:
    return KEYS.get(layer_id) or next(layer.properties[0].name for layer in LAYERS if layer.id == layer_id)


def published(sql, layer_id: str, column: str) -> list[str]:
    source = next(layer.source for layer in LAYERS if layer.id == layer_id)
    return sorted(str(r[0]) for r in sql(f"SELECT {column} FROM {source}"))  # noqa: S608 (catalogue names)


def test_ogrinfo_lists_every_collection(live_server):
    out = subprocess.run(["ogrinfo", "-ro", "-so", f"OAPIF:{live_server.url}"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    for layer in LAYERS:
        assert f": {layer.id} (title: {layer.title})" in out


@pytest.mark.parametrize("layer_id", [layer.id for layer in LAYERS])
def test_gdal_reads_every_feature(live_server, sql, tmp_path, layer_id):
    target = tmp_path / f"{layer_id}.geojson"
    subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(target), f"OAPIF:{live_server.url}", layer_id],
                   capture_output=True, text=True, timeout=300, check=True)
    features = json.loads(target.read_text())["features"]
    key = key_of(layer_id)
    assert sorted(str(f["properties"][key]) for f in features) == published(sql, layer_id, key)
    summary = subprocess.run(["ogrinfo", "-ro", "-so", f"OAPIF:{live_server.url}", layer_id],
                             capture_output=True, text=True, timeout=120, check=True).stdout
    assert f"Feature Count: {len(features)}" in summary  # from numberMatched


def test_gdal_attribute_filter_matches_sql(live_server, sql, tmp_path):
    target = tmp_path / "centro.geojson"
    subprocess.run(["ogr2ogr", "-f", "GeoJSON", "-where", "district = 'CENTRO'", str(target),
                    f"OAPIF:{live_server.url}", "barrios"], capture_output=True, text=True, timeout=120, check=True)
    names = sorted(f["properties"]["name"] for f in json.loads(target.read_text())["features"])
    assert names == sorted(r[0] for r in sql("SELECT name FROM published.barrios WHERE district = 'CENTRO'"))


def test_qgis_reads_every_collection_and_feature(live_server, sql):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": "/tmp"}
    env.pop("PYTHONPATH", None)
    pairs = [f"{layer.id}:{key_of(layer.id)}" for layer in LAYERS]
    run = subprocess.run(["/usr/bin/python3", str(QGIS_SCRIPT), live_server.url, *pairs], capture_output=True,
                         text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    for layer in LAYERS:
        read = result[layer.id]
        assert read["valid"], read
        expected = published(sql, layer.id, key_of(layer.id))
        assert sorted(read["keys"]) == expected
        assert read["feature_count"] == len(expected)
        if layer.has_geometry:
            assert read["crs"] == "EPSG:4326" or (read["feature_count"] == 0 and read["crs"] == ""), layer.id
        else:  # a table without geometry (organizations): QGIS reads it as an attribute table
            assert read["crs"] == "", layer.id
