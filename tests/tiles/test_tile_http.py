"""HTTP behaviour of tiles: ETag from content and 304, Cache-Control per layer, CORS, HEAD, gzip, bad addresses,
empty tiles."""

from __future__ import annotations

import pytest
from tile_helpers import decode, tile_of

from layers.catalogue import CATALOGUE, MAP_LAYERS

CENTRE = (-60.6395, -32.9468)  # Rosario's centre: every layer has data around it


def centre_tile(z: int) -> str:
    x, y = tile_of(*CENTRE, z)
    return f"{z}/{x}/{y}"


def test_a_matching_etag_gets_304_and_a_stale_one_the_tile(http):
    path = f"/tiles/{centre_tile(13)}.mvt"
    first = http.get(path)
    assert first.status_code == 200 and first.content
    etag = first.headers["etag"]
    again = http.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert http.get(path, headers={"If-None-Match": f'"stale", W/{etag}'}).status_code == 304
    assert http.get(path, headers={"If-None-Match": "*"}).status_code == 304
    stale = http.get(path, headers={"If-None-Match": '"0123456789abcdef01234567"'})
    assert stale.status_code == 200 and stale.content == first.content


def test_the_etag_comes_from_the_content(http):
    # The same bytes reached through two addresses (per-layer and OGC API) carry the same ETag ...
    z, x, y = (int(v) for v in centre_tile(12).split("/"))
    plain = http.get(f"/tiles/barrios/{z}/{x}/{y}.mvt")
    ogc = http.get(f"/collections/barrios/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert plain.content == ogc.content and plain.headers["etag"] == ogc.headers["etag"]
    # ... and different tiles different ones; both encodings of one tile derive from one content hash.
    other = http.get(f"/tiles/barrios/{z}/{x + 1}/{y}.mvt")
    assert other.headers["etag"] != plain.headers["etag"]
    identity = http.get(f"/tiles/barrios/{z}/{x}/{y}.mvt", headers={"Accept-Encoding": "identity"})
    assert identity.headers["etag"].strip('"') + "-gzip" == plain.headers["etag"].strip('"')
    assert http.get(f"/tiles/barrios/{z}/{x}/{y}.mvt",
                    headers={"If-None-Match": identity.headers["etag"]}).status_code == 304


def test_tiles_are_gzipped_for_clients_that_accept_it(http):
    path = f"/tiles/{centre_tile(12)}.mvt"
    zipped = http.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert int(zipped.headers["content-length"]) < len(zipped.content)  # httpx inflated it
    plain = http.get(path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == zipped.content and decode(plain.content)["instances"]["features"]
    assert "Accept-Encoding" in zipped.headers["vary"]


def test_head_answers_the_headers_of_get_without_a_body(http):
    path = f"/tiles/instances/{centre_tile(14)}.mvt"
    got, head = http.get(path), http.head(path)
    assert head.status_code == 200 and head.content == b""
    for header in ("etag", "content-length", "content-type", "cache-control", "content-encoding"):
        assert head.headers[header] == got.headers[header]


@pytest.mark.parametrize("layer_id", [layer.id for layer in MAP_LAYERS])
def test_cache_control_follows_each_layer(http, layer_id):
    z = max(CATALOGUE[layer_id].minzoom, 12)
    response = http.get(f"/tiles/{layer_id}/{centre_tile(z)}.mvt")
    assert response.headers["cache-control"] == f"public, max-age={CATALOGUE[layer_id].cache_seconds}"


def test_the_all_layers_tile_is_cached_as_briefly_as_its_most_volatile_layer(http):
    shortest = min(layer.cache_seconds for layer in MAP_LAYERS)
    assert http.get(f"/tiles/{centre_tile(12)}.mvt").headers["cache-control"] == f"public, max-age={shortest}"


def test_cors_for_tiles_tilejson_and_style(http):
    origin = {"Origin": "https://example.org"}
    for path in (f"/tiles/{centre_tile(12)}.mvt", "/tiles.json", "/tiles/barrios.json", "/styles/monitor.json",
                 "/collections/barrios/tiles/WebMercatorQuad"):
        response = http.get(path, headers=origin)
        assert response.headers["access-control-allow-origin"] == "*", path
        assert "ETag" in response.headers["access-control-expose-headers"]
    preflight = http.options(f"/tiles/{centre_tile(12)}.mvt",
                             headers={**origin, "Access-Control-Request-Method": "GET",
                                      "Access-Control-Request-Headers": "If-None-Match"})
    assert preflight.status_code == 204
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert "If-None-Match" in preflight.headers["access-control-allow-headers"]


def test_a_repeated_tile_comes_from_the_server_cache(http):
    path = f"/tiles/districts/{centre_tile(11)}.mvt"
    first, second = http.get(path), http.get(path)
    assert second.headers["x-tile-cache"] == "hit"
    assert first.content == second.content and first.headers["etag"] == second.headers["etag"]


@pytest.mark.parametrize(("path", "status", "says"), [
    ("/tiles/-1/0/0.mvt", 400, "non-negative"),
    ("/tiles/3/-1/0.mvt", 400, "non-negative"),
    ("/tiles/a/0/0.mvt", 400, "integer"),
    ("/tiles/17/0/0.mvt", 404, "above the maximum zoom 16"),
    ("/tiles/3/8/0.mvt", 404, "from 0 to 7"),
    ("/tiles/3/0/8.mvt", 404, "from 0 to 7"),
    ("/tiles/nowhere/3/0/0.mvt", 404, "no layer 'nowhere'"),
    ("/tiles/nowhere.json", 404, "no layer"),
    ("/collections/barrios/tiles/WorldCRS84Quad/0/0/0", 404, "only WebMercatorQuad"),
    ("/collections/barrios/tiles/WebMercatorQuad/2/4/0", 404, "from 0 to 3"),
    ("/collections/nowhere/tiles", 404, "no layer"),
])
def test_bad_tile_addresses_get_a_problem_document(http, path, status, says):
    response = http.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.json()["detail"]


def test_empty_tiles_answer_204_with_the_same_etag_everywhere(http):
    # Open ocean and a layer asked below its minimum zoom: nothing to draw.
    ocean = http.get("/tiles/10/100/700.mvt")
    below = http.get(f"/tiles/activities/{centre_tile(CATALOGUE['activities'].minzoom - 1)}.mvt")
    for response in (ocean, below):
        assert response.status_code == 204 and response.content == b""
        assert response.headers["access-control-allow-origin"] == "*"
    assert ocean.headers["etag"] == below.headers["etag"]
    assert http.get("/tiles/10/100/700.mvt", headers={"If-None-Match": ocean.headers["etag"]}).status_code == 304
