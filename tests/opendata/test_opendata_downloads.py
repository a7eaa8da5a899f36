"""Downloads of whole collections (api/downloads.py) over real HTTP, opened with GDAL's own tools: the items'
filters, formats of the items, streaming through a server-side cursor, the bulk ZIP, and the links to them."""

from __future__ import annotations

import csv
import gzip
import io
import json
import sqlite3
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pyogrio
import pytest
from opendata_helpers import api_count, gdal_counts, gdal_fields, save

from api import downloads
from gis.config import get_settings
from layers.catalogue import DOWNLOAD_LAYERS, LAYERS

FILTERED = [  # (collection, items filters) — property equality, bbox, datetime, CQL2 text and JSON
    ("instances", {"kind": "vecinal"}),
    ("instances", {"bbox": "-60.70,-32.98,-60.62,-32.92", "modality": "in_person"}),
    ("activities", {"datetime": "2026-01-01T00:00:00Z/.."}),
    ("instances", {"filter": "themes IS NOT NULL AND S_INTERSECTS(geometry, BBOX(-60.7,-32.98,-60.62,-32.92))"}),
    ("barrio_index", {"filter": '{"op": ">", "args": [{"property": "composite"}, 40]}', "filter-lang": "cql2-json"}),
    ("commitments", {"status": "complete"}),
]


@pytest.mark.parametrize(("collection", "params"), FILTERED)
@pytest.mark.parametrize("ext", ["geojson", "csv", "gpkg", "fgb"])
def test_a_download_holds_what_the_same_filters_select_in_the_items(http, sql, tmp_path, collection, params, ext):
    expected = api_count(http, sql, collection, params)
    path = tmp_path / f"{collection}.{ext}"
    response = save(http, f"/datos/{collection}.{ext}", path, params)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == f'attachment; filename="{collection}.{ext}"'
    assert response.headers["content-type"].startswith(downloads.FORMATS[ext].media_type.split(";")[0])
    assert gdal_counts(path, ext) == [expected]


def test_csv_and_geojson_downloads_are_the_items_pages_put_together(http):
    """One writer and one SQL builder: the items' CSV pages and GeoJSON pages, concatenated, are the download."""
    pages_csv, features, offset = [], [], 0
    while True:
        page = http.get("/collections/instances/items", params={"f": "csv", "limit": 100, "offset": offset})
        pages_csv.append(page.text.split("\n", 1)[1] if offset else page.text)
        geojson = http.get("/collections/instances/items", params={"limit": 100, "offset": offset}).json()
        features += geojson["features"]
        offset += 100
        if offset >= geojson["numberMatched"]:
            break
    assert http.get("/datos/instances.csv").text == "".join(pages_csv)
    whole = http.get("/datos/instances.geojson").json()
    assert whole["type"] == "FeatureCollection" and whole["numberReturned"] == len(features)
    assert whole["features"] == features


def test_properties_and_crs_shape_the_files(http, tmp_path):
    params = {"properties": "name,kind,themes,updated_at", "crs": "http://www.opengis.net/def/crs/EPSG/0/22185"}
    path = tmp_path / "instances.gpkg"
    assert save(http, "/datos/instances.gpkg", path, params).status_code == 200
    info = pyogrio.read_info(path)
    assert info["crs"] == "EPSG:22185"
    assert gdal_fields(path, "gpkg") == ["id", "name", "kind", "themes", "updated_at"]
    assert dict(zip(info["fields"], info["ogr_types"], strict=True))["updated_at"] == "OFTDateTime"
    frame = pyogrio.read_dataframe(path)
    # Files keep the GIS axis order (x = easting): Rosario is near 5.44e6 E, 6.36e6 N in POSGAR 94 / Argentina 5.
    x, y = frame.geometry.dropna().x, frame.geometry.dropna().y
    assert x.between(5.40e6, 5.48e6).all() and y.between(6.33e6, 6.38e6).all()
    assert frame.themes.dropna().str.contains(";").any()  # lists as in CSV
    # GeoJSON follows the items: EPSG:22185's own axis order (northing first), said in Content-Crs.
    response = http.get("/datos/instances.geojson", params=params)
    assert response.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/22185>"
    first = next(f for f in response.json()["features"] if f["geometry"])
    northing, easting = first["geometry"]["coordinates"]
    assert 6.33e6 < northing < 6.38e6 and 5.40e6 < easting < 5.48e6


def test_typed_fields_in_the_geopackage(http, tmp_path):
    path = tmp_path / "commitments.gpkg"
    assert save(http, "/datos/commitments.gpkg", path).status_code == 200
    info = pyogrio.read_info(path)
    types = dict(zip(info["fields"], zip(info["ogr_types"], info["ogr_subtypes"], strict=True), strict=True))
    assert types["made_on"] == ("OFTDate", "OFSTNone") and types["due_date"][0] == "OFTDate"
    assert types["overdue"] == ("OFTInteger", "OFSTBoolean") and types["progress"][0] == "OFTInteger64"
    assert types["updated_at"][0] == "OFTDateTime"
    # The layer's title and description from the catalogue, as GeoPackage metadata.
    layer = next(x for x in LAYERS if x.id == "commitments")
    with sqlite3.connect(path) as db:
        identifier, description = db.execute("SELECT identifier, description FROM gpkg_contents "
                                             "WHERE table_name = 'commitments'").fetchone()
    assert identifier == layer.title and description == layer.description


@pytest.mark.parametrize("ext", ["gpkg", "fgb"])
def test_gpkg_and_fgb_are_formats_of_the_items_and_limit_is_ignored(http, sql, tmp_path, ext):
    params = {"kind": "vecinal", "limit": 3, "offset": 2}
    path = tmp_path / f"items.{ext}"
    response = save(http, "/collections/instances/items", path, {**params, "f": ext})
    assert response.status_code == 200, response.text
    assert gdal_counts(path, ext) == [api_count(http, sql, "instances", {"kind": "vecinal"})]


def test_download_true_gives_the_whole_selection_in_the_items_formats(http, sql):
    expected = api_count(http, sql, "activities")
    whole = http.get("/collections/activities/items", params={"download": "true", "limit": 5})
    assert whole.status_code == 200 and "attachment" in whole.headers["content-disposition"]
    assert len(whole.json()["features"]) == expected > 5
    table = http.get("/collections/activities/items", params={"download": "true", "f": "csv", "limit": 5})
    assert len(list(csv.DictReader(io.StringIO(table.text)))) == expected
    # download=false is the ordinary page.
    page = http.get("/collections/activities/items", params={"download": "false", "limit": 5}).json()
    assert page["numberReturned"] == 5


def test_streamed_downloads_are_chunked_and_gzipped_on_the_fly(http):
    plain = http.get("/datos/hexagons.geojson")
    assert "content-length" not in plain.headers and plain.headers.get("transfer-encoding") == "chunked"
    with http.stream("GET", "/datos/hexagons.geojson", headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers["content-encoding"] == "gzip"
        raw = b"".join(response.iter_raw())
    assert json.loads(gzip.decompress(raw))["features"] == plain.json()["features"]
    assert len(raw) < len(plain.content) / 3


def test_rows_are_read_through_a_server_side_cursor_while_the_client_reads(live_server, sql, monkeypatch):
    """A download never holds the selection: the server's session reads it from a cursor, BATCH_ROWS rows per
    FETCH, while the response is being written (watched from pg_stat_activity as it streams)."""
    monkeypatch.setattr(downloads, "BATCH_ROWS", 7)
    done, seen = threading.Event(), set()

    def watch():
        with psycopg.connect(live_server.database_url, autocommit=True) as conn:
            while not done.is_set():
                seen.update(r[0] for r in conn.execute(
                    "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                    "AND query LIKE 'FETCH FORWARD %% FROM \"download\"'"))
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with httpx.Client(base_url=live_server.url, timeout=60) as client, \
                client.stream("GET", "/datos/hexagons.csv") as response:
            assert response.status_code == 200 and "content-length" not in response.headers
            lines = sum(chunk.count(b"\n") for chunk in response.iter_bytes())
            assert lines == 1 + api_count(client, sql, "hexagons")  # the header, then one line per cell
    finally:
        done.set()
        watcher.join()
    assert seen == {'FETCH FORWARD 7 FROM "download"'}


def test_downloads_wait_in_line_for_a_slot(live_server, sql):
    """At most half the pool serves downloads at once; one more is told to retry at once, and the slots are given
    back when the downloads end. The downloads are held by a lock on the table they read."""
    slots = get_settings().pool_size // 2
    with psycopg.connect(live_server.database_url) as lock, ThreadPoolExecutor(slots) as pool:
        lock.execute("LOCK TABLE monitor.h3_cells IN ACCESS EXCLUSIVE MODE")
        waiting = [pool.submit(httpx.get, f"{live_server.url}/datos/hexagons.csv", timeout=120)
                   for _ in range(slots)]
        deadline = time.monotonic() + 20
        while sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                  "AND wait_event_type = 'Lock' AND query LIKE '%%hexagons%%'")[0][0] < slots:
            assert time.monotonic() < deadline, "the downloads did not start"
            time.sleep(0.1)
        busy = httpx.get(f"{live_server.url}/datos/instances.csv", timeout=60)
        assert busy.status_code == 503 and busy.headers["retry-after"] == "10"
        assert busy.headers["content-type"] == "application/problem+json"
        lock.rollback()
        assert [f.result().status_code for f in waiting] == [200] * slots
    assert httpx.get(f"{live_server.url}/datos/instances.csv", timeout=60).status_code == 200


def test_refusals_are_problems_before_anything_is_sent(http):
    for url, status in (("/datos/nothing.geojson", 404), ("/datos/instances.shp", 404),
                        ("/datos/instances.csv?color=red", 400), ("/datos/instances.gpkg?filter=name%20%3D", 400),
                        ("/datos/instances.geojson?bbox=1,2,3", 400),
                        ("/datos/organizations.fgb?bbox=-61,-33,-60,-32", 400),
                        ("/collections/instances/items?f=gpkg&properties=nope", 400),
                        ("/collections/instances/items?download=maybe", 400)):
        response = http.get(url)
        assert response.status_code == status, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json", url
    head = http.head("/datos/instances.gpkg")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-disposition"] == 'attachment; filename="instances.gpkg"'


def test_aggregated_satisfaction_never_shows_fewer_than_five_answers(http, sql, tmp_path):
    path = tmp_path / "satisfaction.gpkg"
    assert save(http, "/datos/satisfaction.gpkg", path).status_code == 200
    frame = pyogrio.read_dataframe(path)
    expected = sql("SELECT count(*), min(responses) FROM published.instance_satisfaction")[0]
    assert len(frame) == expected[0] > 0 and frame.responses.min() >= 5
    assert ((frame.satisfaction - (frame.mean_score - 1) / 4).abs() < 1e-4).all()


def test_the_bulk_zip_holds_every_layer_the_dictionary_and_the_licence(http, sql, tmp_path):
    path = tmp_path / "monitor.zip"
    response = save(http, "/datos/monitor.zip", path)
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        assert {"monitor.gpkg", "diccionario.csv", "LICENCIA.md", "LEEME.md"} <= names
        assert {f"csv/{layer.id}.csv" for layer in DOWNLOAD_LAYERS} <= names
        archive.extract("monitor.gpkg", tmp_path)
        archive.extract("csv/instances.csv", tmp_path)
        dictionary = list(csv.DictReader(io.StringIO(archive.read("diccionario.csv").decode())))
        licence = archive.read("LICENCIA.md").decode()
    for layer in DOWNLOAD_LAYERS:
        assert gdal_counts(tmp_path / "monitor.gpkg", "gpkg", layer.id) == [api_count(http, sql, layer.id)], layer.id
        fields = [row["campo"] for row in dictionary if row["coleccion"] == layer.id]
        assert fields == ["id", *layer.property_names, *(["geometry"] if layer.has_geometry else [])]
        assert layer.id in licence
    titles = {(row["coleccion"], row["campo"]): row["titulo"] for row in dictionary}
    assert titles[("instances", "kind")] == "Tipo" and titles[("barrios", "population")] == "Población estimada 2022"
    assert gdal_counts(tmp_path / "csv" / "instances.csv", "csv") == [api_count(http, sql, "instances")]
    assert "CC BY 4.0" in licence and "Municipalidad de Rosario" in licence


def test_every_collection_links_its_downloads_licence_and_attribution(http):
    for collection in http.get("/collections").json()["collections"]:
        enclosures = {x["type"]: x["href"] for x in collection["links"] if x["rel"] == "enclosure"}
        assert set(enclosures) == {f.media_type for f in downloads.FORMATS.values()}, collection["id"]
        assert all(h.endswith(f"/datos/{collection['id']}.{e}") for h, e in
                   zip(enclosures.values(), downloads.FORMATS, strict=True))
        (licence,) = [x for x in collection["links"] if x["rel"] == "license"]
        assert licence["title"] and licence["attribution"], collection["id"]
        assert http.head(licence["href"]).status_code == 200 if licence["href"].startswith(str(http.base_url)) \
            else licence["href"].startswith("https://creativecommons.org/")
    instances = http.get("/collections/instances").json()
    (licence,) = [x for x in instances["links"] if x["rel"] == "license"]
    assert "CC BY 4.0" in licence["title"]
    barrios = http.get("/collections/barrios").json()
    (licence,) = [x for x in barrios["links"] if x["rel"] == "license"]
    assert licence["href"].endswith("/datos/licencia") and "Municipalidad de Rosario" in licence["attribution"]
