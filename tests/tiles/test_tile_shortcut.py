"""Tiles are answered before routing (api/tiles/shortcut.py), cached or built, with the very answer the routes
would give.

What is observed: whether a request reached the application's middleware stack at all (the stack is wrapped with
a recorder once built), and every header and byte of the answers. A routed answer to compare with is asked with
the shortcut told that no Host is its own, which sends the request through the full stack.
"""

from __future__ import annotations

import httpx
import psycopg
import pytest
from psycopg.errors import QueryCanceled
from tile_helpers import decode, tile_of

CENTRE = (-60.6395, -32.9468)
Z = 14
VOLATILE = {"date", "x-tile-cache"}  # the only headers allowed to differ between a routed and a short-cut answer


@pytest.fixture
def server(fresh_server):
    with httpx.Client(base_url=fresh_server.url, timeout=60) as client:
        client.get("/health")  # the middleware stack is built by the first request
        yield fresh_server, client, record_routed(fresh_server.app)


def record_routed(app) -> list[str]:
    routed: list[str] = []
    inner = app.middleware_stack

    async def recording(scope, receive, send):
        if scope["type"] == "http":
            routed.append(f"{scope['method']} {scope['path']}")
        await inner(scope, receive, send)

    app.middleware_stack = recording
    return routed


def through_the_routes(app, client: httpx.Client, path: str, **headers) -> httpx.Response:
    kept = app.state.shortcut_hosts
    app.state.shortcut_hosts = frozenset()  # no Host is the shortcut's: the full stack answers
    try:
        return client.get(path, headers=headers)
    finally:
        app.state.shortcut_hosts = kept


def stable(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in VOLATILE}


def centre(layer: str | None, z: int = Z, dx: int = 0) -> str:
    x, y = tile_of(*CENTRE, z)
    return f"/tiles/{layer}/{z}/{x + dx}/{y}.mvt" if layer else f"/tiles/{z}/{x + dx}/{y}.mvt"


@pytest.mark.parametrize("layer", ["barrios", "instances", None])
def test_tiles_skip_routing_built_or_cached_and_are_what_the_routes_answer(server, layer):
    live, client, routed = server
    path = centre(layer)
    for encoding in ("gzip", "identity"):
        first = client.get(path, headers={"Accept-Encoding": encoding})
        assert first.headers["x-tile-cache"] == ("miss" if encoding == "gzip" else "hit")
        again = client.get(path, headers={"Accept-Encoding": encoding})
        assert f"GET {path}" not in routed, "a tile went through routing"
        assert again.headers["x-tile-cache"] == "hit"
        by_routes = through_the_routes(live.app, client, path, **{"Accept-Encoding": encoding})
        assert routed[-1] == f"GET {path}"
        routed.clear()
        assert again.status_code == first.status_code == by_routes.status_code == 200
        assert again.content == first.content == by_routes.content and decode(again.content)
        assert stable(again) == stable(first) == stable(by_routes)
        for answer in (first, again):
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert int(answer.headers["content-length"]) == answer.num_bytes_downloaded  # the bytes on the wire


def test_a_tile_that_fails_to_build_is_answered_by_the_routes_without_building_again(server):
    live, client, routed = server
    service, builds = live.app.state.tiles, []

    async def timing_out(layers, z, x, y):
        builds.append((z, x, y))
        raise QueryCanceled("canceling statement due to statement timeout")

    service._build = timing_out
    try:
        answer = client.get(centre("barrios", dx=3))
    finally:
        del service._build
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "statement timeout" in answer.json()["detail"]
    assert routed[-1] == f"GET {centre('barrios', dx=3)}" and len(builds) == 1
    after = client.get(centre("barrios", dx=3))  # nothing of the failure was kept: built now
    assert after.status_code in (200, 204) and after.headers["x-tile-cache"] == "miss" and len(builds) == 1


def test_head_and_revalidation_of_a_cached_tile(server):
    _, client, routed = server
    path = centre("barrios")
    full = client.get(path, headers={"Accept-Encoding": "gzip"})
    seen = len(routed)
    head = client.head(path, headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200 and head.content == b""
    assert stable(head) == stable(full)
    unchanged = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": full.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == full.headers["etag"] and "content-length" not in unchanged.headers
    assert len(routed) == seen
    # A tag of another tile does not match: the tile itself comes back.
    other = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": '"0123456789abcdef01234567"'})
    assert other.status_code == 200 and other.content == full.content


def test_an_empty_cached_tile_is_204_without_routing(server):
    _, client, routed = server
    ocean = "/tiles/instances/14/0/0.mvt"
    assert client.get(ocean).status_code == 204
    seen = len(routed)
    again = client.get(ocean)
    assert again.status_code == 204 and again.headers["x-tile-cache"] == "hit" and len(routed) == seen


@pytest.mark.parametrize("path, status", [
    ("/tiles/nope/3/1/1.mvt", 404),  # no such layer
    ("/tiles/barrios/3/8/1.mvt", 404),  # x off the matrix
    ("/tiles/barrios/23/1/1.mvt", 404),  # above the layer's maximum zoom
])
def test_unknown_layers_and_bad_addresses_are_left_to_the_routes(server, path, status):
    _, client, routed = server
    for _ in range(2):
        answer = client.get(path)
        assert answer.status_code == status and answer.headers["content-type"].startswith("application/problem")
        assert routed[-1] == f"GET {path}"


def test_a_write_makes_the_next_ask_a_new_tile(server):
    live, client, routed = server
    with psycopg.connect(live.database_url) as conn:
        barrio_id, lon, lat = conn.execute(
            "SELECT mslink, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
            "FROM monitor.barrios ORDER BY mslink LIMIT 1").fetchone()
    x, y = tile_of(lon, lat, Z)
    path = f"/tiles/barrios/{Z}/{x}/{y}.mvt"
    client.get(path)
    seen = len(routed)
    assert client.get(path).headers["x-tile-cache"] == "hit" and len(routed) == seen
    with psycopg.connect(live.database_url) as conn:
        conn.execute("UPDATE monitor.barrios SET name = 'Barrio renombrado' WHERE mslink = %s", (barrio_id,))
    after = client.get(path)
    assert after.headers["x-tile-cache"] == "miss" and len(routed) == seen
    names = {f["properties"].get("name") for f in decode(after.content)["barrios"]["features"]}
    assert "Barrio renombrado" in names


def test_a_forged_host_is_refused_even_for_a_cached_tile(server):
    _, client, routed = server
    path = centre("barrios")
    assert client.get(path).status_code == 200
    assert client.get(path).headers["x-tile-cache"] == "hit"
    forged = client.get(path, headers={"Host": "attacker.example"})
    assert forged.status_code == 400 and b"Invalid host" in forged.content
    assert routed[-1] == f"GET {path}"
