"""Part 1 core, GeoJSON, HTML, OpenAPI and HTTP behaviour, against the live server over real HTTP."""

from __future__ import annotations

import gzip
import json
import socket
from urllib.parse import urlsplit

import httpx
import pytest
from features_helpers import all_features

from layers.catalogue import LAYERS


def test_landing_page_links_are_absolute(http, live_server):
    body = http.get("/").json()
    rels = {link["rel"]: link["href"] for link in body["links"]}
    for rel in ("self", "service-desc", "service-doc", "conformance", "data"):
        assert rels[rel].startswith(live_server.url), rel
    assert http.get(rels["service-desc"]).json()["openapi"].startswith("3.")
    assert http.get(rels["service-doc"]).status_code == 200


def test_conformance_declares_what_qgis_needs(http):
    classes = set(http.get("/conformance").json()["conformsTo"])
    for needed in ("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                   "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                   "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
                   "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
                   "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
                   "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
                   "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2"):
        assert needed in classes


def test_every_catalogue_layer_is_a_collection(http):
    body = http.get("/collections").json()
    ids = [c["id"] for c in body["collections"]]
    assert ids == [layer.id for layer in LAYERS]
    for collection in body["collections"]:
        assert "." not in collection["id"]
        assert collection["storageCrs"].endswith("CRS84")
        assert "http://www.opengis.net/def/crs/EPSG/0/22185" in collection["crs"]
        assert {"items", "self"} <= {link["rel"] for link in collection["links"]}
        assert http.get(f"/collections/{collection['id']}").json()["id"] == collection["id"]


@pytest.mark.parametrize("layer", [layer.id for layer in LAYERS])
def test_paging_through_next_returns_exactly_number_matched(http, sql, layer):
    features, matched = all_features(http, f"/collections/{layer}/items", {"limit": 7})
    source = next(x for x in LAYERS if x.id == layer).source
    assert matched == sql(f"SELECT count(*) FROM {source}")[0][0]  # noqa: S608 (catalogue name, not input)
    assert len(features) == matched
    assert len({f["id"] for f in features}) == matched  # no overlap, no gap


def test_barrio_features_carry_mslink_name_district_population(http, sql):
    features, _ = all_features(http, "/collections/barrios/items", {"limit": 100})
    expected = {row[0]: row[1:] for row in sql("SELECT mslink, name, district_code, round(population)::int "
                                                  "FROM monitor.barrios")}
    assert {f["id"] for f in features} == set(expected)
    for feature in features:
        props = feature["properties"]
        assert (props["name"], props["district"], props["population"]) == expected[feature["id"]]
        assert feature["geometry"]["type"] == "MultiPolygon"


def test_instances_publish_only_approved_rows_with_required_properties(http, sql):
    features, matched = all_features(http, "/collections/instances/items", {"limit": 1000})
    approved = sql("SELECT count(*) FROM monitor.instances WHERE moderation = 'approved' AND deleted_at IS NULL")[0][0]
    assert matched == approved and len(features) == approved
    for prop in ("name", "kind", "promoter", "themes", "modality", "scope", "status", "is_demo"):
        assert prop in features[0]["properties"]
    hidden = sql("SELECT id FROM monitor.instances WHERE moderation <> 'approved' OR deleted_at IS NOT NULL")
    assert not {r[0] for r in hidden} & {f["id"] for f in features}


def test_one_feature_and_missing_ones(http):
    feature = http.get("/collections/barrios/items/1").json()
    assert feature["type"] == "Feature" and feature["id"] == 1
    assert http.get("/collections/barrios/items/999999").status_code == 404
    assert http.get("/collections/barrios/items/abc").status_code == 404
    assert http.get("/collections/nope/items").status_code == 404


def test_limit_offset_and_links(http):
    body = http.get("/collections/barrios/items", params={"limit": 10, "offset": 10}).json()
    assert body["numberReturned"] == 10 and body["numberMatched"] == 50
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert "offset=20" in rels["next"] and "offset=0" in rels["prev"]
    assert http.get("/collections/barrios/items").json()["numberReturned"] == 50  # default limit 100


def test_sortby_properties_and_equality_filters(http, sql):
    body = http.get("/collections/barrios/items",
                    params={"sortby": "-population", "properties": "name,population", "limit": 5}).json()
    populations = [f["properties"]["population"] for f in body["features"]]
    assert populations == sorted(populations, reverse=True)
    assert set(body["features"][0]["properties"]) == {"name", "population"}
    assert populations[0] == sql("SELECT max(round(population))::int FROM monitor.barrios")[0][0]
    body = http.get("/collections/barrios/items", params={"district": "CENTRO"}).json()
    expected = sql("SELECT count(*) FROM monitor.barrios WHERE district_code = 'CENTRO'")[0][0]
    assert body["numberMatched"] == expected > 0
    assert {f["properties"]["district"] for f in body["features"]} == {"CENTRO"}


def test_array_equality_and_boolean_filters(http, sql):
    theme = sql("SELECT themes[1] FROM published.instances LIMIT 1")[0][0]
    features, matched = all_features(http, "/collections/instances/items", {"themes": theme, "is_demo": "true"})
    expected = sql("SELECT count(*) FROM published.instances WHERE %s = ANY(themes) AND is_demo", (theme,))[0][0]
    assert matched == expected == len(features) and all(theme in f["properties"]["themes"] for f in features)


def test_bbox_selects_like_postgis(http, sql):
    bbox = (-60.70, -32.98, -60.62, -32.92)
    features, matched = all_features(http, "/collections/instances/items", {"bbox": ",".join(map(str, bbox))})
    expected = {r[0] for r in sql("SELECT id FROM published.instances "
                                  "WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))", bbox)}
    assert {f["id"] for f in features} == expected and matched == len(expected) > 0


def test_datetime_interval_on_activities(http, sql):
    start, end = sql("SELECT min(starts_at), max(starts_at) FROM published.activities")[0]
    middle = start + (end - start) / 2
    interval = f"{middle.isoformat()}/.."
    features, matched = all_features(http, "/collections/activities/items", {"datetime": interval, "limit": 500})
    expected = sql("SELECT count(*) FROM published.activities WHERE COALESCE(ends_at, starts_at) >= %s",
                   (middle,))[0][0]
    assert matched == expected == len(features) > 0
    assert http.get("/collections/barrios/items", params={"datetime": "2026-01-01T00:00:00Z"}).status_code == 400


GET_AND_HEAD = ("/", "/conformance", "/collections", "/collections/barrios", "/collections/barrios/queryables",
                "/collections/barrios/items", "/collections/barrios/items/1")


def raw_gzip_get(http, url: str) -> tuple[httpx.Response, bytes]:
    """GET with Accept-Encoding: gzip, and the bytes exactly as they came over the wire (httpx not decoding them)."""
    with http.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
        return response, b"".join(response.iter_raw())


def raw_exchange(base_url: str, request: bytes) -> bytes:
    """Everything the server sends back for one request on a fresh connection it closes afterwards."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_gzip_body_on_the_wire_decompresses_to_the_identity_json(http):
    url = "/collections/barrios/items"
    identity = http.get(url, headers={"Accept-Encoding": "identity"})
    assert identity.status_code == 200 and "content-encoding" not in identity.headers
    assert int(identity.headers["content-length"]) == len(identity.content)
    response, raw = raw_gzip_get(http, url)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) == len(raw)
    assert raw[:2] == b"\x1f\x8b"  # the gzip magic number: compressed bytes, not JSON text
    assert len(raw) < len(identity.content) / 2  # 50 barrios' polygons compress well
    assert json.loads(gzip.decompress(raw)) == identity.json()
    assert gzip.decompress(raw) == identity.content
    # Both answers depend on Accept-Encoding, so shared caches must key on it.
    for answer in (identity, response):
        assert "accept-encoding" in answer.headers["vary"].lower()


def test_etag_revalidation_cors_and_cache_control(http):
    url = "/collections/barrios/items"
    full = http.get(url, headers={"Accept-Encoding": "identity"})
    assert full.headers["access-control-allow-origin"] == "*"
    assert int(full.headers["cache-control"].split("max-age=")[1].split(",")[0]) > 0
    etag = full.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2
    assert http.get(url, headers={"Accept-Encoding": "identity"}).headers["etag"] == etag  # stable
    unchanged = http.get(url, headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == etag
    other = http.get(url, headers={"If-None-Match": '"not-this-one"', "Accept-Encoding": "identity"})
    assert other.status_code == 200 and other.content == full.content
    # A different selection is a different body, with a different ETag.
    assert http.get(url, params={"limit": 5}).headers["etag"] != etag


@pytest.mark.parametrize("path", GET_AND_HEAD)
def test_head_has_the_headers_of_get_and_no_body(http, live_server, path):
    get = http.get(path, headers={"Accept-Encoding": "identity"})
    head = http.head(path, headers={"Accept-Encoding": "identity"})
    assert get.status_code == head.status_code == 200
    for name in ("etag", "content-type", "cache-control", "access-control-allow-origin"):
        assert head.headers[name] == get.headers[name], name
    assert int(head.headers["content-length"]) == len(get.content) > 0
    # Compressed: the length is that of the gzip bytes a GET sends.
    gzip_get, raw = raw_gzip_get(http, path)
    gzip_head = http.head(path, headers={"Accept-Encoding": "gzip"})
    assert gzip_head.headers.get("content-encoding") == gzip_get.headers.get("content-encoding")
    assert int(gzip_head.headers["content-length"]) == len(raw)
    # No body on the wire: after the header block the server sends nothing before closing the connection
    # (httpx never reads a body for HEAD, so this is checked on a plain socket).
    host = urlsplit(live_server.url).netloc
    answer = raw_exchange(live_server.url, f"HEAD {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n"
                                          "Connection: close\r\n\r\n".encode())
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 200"), status_line
    header_block, separator, body = rest.partition(b"\r\n\r\n")
    assert separator and body == b"", body[:200]
    assert f"content-length: {len(get.content)}".encode() in header_block.lower()


def test_html_encoding(http):
    for path in ("/", "/conformance", "/collections", "/collections/barrios", "/collections/barrios/items",
                 "/collections/barrios/items/1"):
        page = http.get(path, params={"f": "html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), path
        assert "<h1>" in page.text
    browser = http.get("/collections/barrios/items", headers={"Accept": "text/html,application/xhtml+xml"})
    assert browser.headers["content-type"].startswith("text/html")


def test_openapi_is_a_valid_openapi_30_document(http):
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation import OpenAPIV30SpecValidator

    document = http.get("/api").json()
    assert document["openapi"] == "3.0.3"
    validate(document, cls=OpenAPIV30SpecValidator)


def test_openapi_lists_property_filters_per_collection(http):
    document = http.get("/api").json()
    for layer in LAYERS:
        names = {p["name"] for p in document["paths"][f"/collections/{layer.id}/items"]["get"]["parameters"]}
        assert {"limit", "bbox", "filter", "crs"} <= names
        assert {p.name for p in layer.properties if p.filterable} <= names


def test_queryables(http):
    body = http.get("/collections/instances/queryables").json()
    assert body["type"] == "object" and body["$id"].endswith("/collections/instances/queryables")
    assert body["properties"]["kind"]["enum"][0] == "consejo_barrial"
    assert body["properties"]["geometry"]["format"] == "geometry-point"
    assert "description" not in body["properties"]  # long texts are not filterable


def test_cors_preflight_allows_writes_with_tokens(http):
    response = http.options("/collections/instances/items/1", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "PATCH"})
    assert response.status_code == 204
    assert "PATCH" in response.headers["access-control-allow-methods"]
    assert "If-Match" in response.headers["access-control-allow-headers"]


@pytest.mark.parametrize("layer", [layer.id for layer in LAYERS])
def test_each_feature_of_a_page_is_served_alone(http, layer):
    """Works for every id type in the catalogue (integers, bigint H3 cells, string codes)."""
    page = http.get(f"/collections/{layer}/items", params={"limit": 3}).json()
    for feature in page["features"]:
        alone = http.get(f"/collections/{layer}/items/{feature['id']}")
        assert alone.status_code == 200, alone.text
        assert {k: v for k, v in alone.json().items() if k != "links"} == feature
