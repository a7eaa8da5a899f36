"""The server-side tile cache is exact: a committed write, from any writer, is in the very next tile."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import psycopg
import pytest
from tile_helpers import decode, tile_of

Z = 15


@pytest.fixture
def server(fresh_server):
    with httpx.Client(base_url=fresh_server.url, timeout=60) as client:
        yield fresh_server, client


def write(url: str, statement: str, params=None) -> None:
    with psycopg.connect(url) as conn:  # commits on leaving the block, like any other writer
        conn.execute("SELECT set_config('monitor.actor', 'test:tiles', true)")
        conn.execute(statement, params)


def instance_at(url: str) -> tuple[int, float, float]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM published.instances "
                            "WHERE geom IS NOT NULL ORDER BY id LIMIT 1").fetchone()


def features(client: httpx.Client, path: str, layer: str = "instances") -> dict[int, dict]:
    response = client.get(path)
    assert response.status_code in (200, 204)
    return {f["id"]: f for f in decode(response.content).get(layer, {"features": []})["features"]}


def test_a_rename_is_in_the_next_tile_of_every_address(server):
    live, client = server
    instance_id, lon, lat = instance_at(live.database_url)
    x, y = tile_of(lon, lat, Z)
    paths = [f"/tiles/instances/{Z}/{x}/{y}.mvt", f"/tiles/{Z}/{x}/{y}.mvt",
             f"/collections/instances/tiles/WebMercatorQuad/{Z}/{y}/{x}"]
    before = {path: client.get(path) for path in paths}
    for path in paths:  # warm: now served from the cache
        assert client.get(path).headers["x-tile-cache"] == "hit"
    write(live.database_url, "UPDATE monitor.instances SET name = 'Consejo renombrado' WHERE id = %s", (instance_id,))
    # The per-layer tile (shared with the OGC address) and the all-layers tile are rebuilt, not served stale.
    assert client.get(paths[0]).headers["x-tile-cache"] == "miss"
    assert client.get(paths[1]).headers["x-tile-cache"] == "miss"
    for path in paths:
        after = client.get(path, headers={"If-None-Match": before[path].headers["etag"]})
        assert after.status_code == 200  # the old ETag no longer matches
        assert features(client, path)[instance_id]["properties"]["name"] == "Consejo renombrado"


def test_moving_hiding_and_adding_instances_show_at_once(server):
    live, client = server
    instance_id, lon, lat = instance_at(live.database_url)
    x, y = tile_of(lon, lat, Z)
    here = f"/tiles/instances/{Z}/{x}/{y}.mvt"
    assert instance_id in features(client, here)
    # Moved across the city: gone from its old tile, present in the new one.
    new_lon, new_lat = -60.7200, -32.9000
    write(live.database_url, "UPDATE monitor.instances SET venue = ST_SetSRID(ST_MakePoint(%s, %s), 4326) "
          "WHERE id = %s", (new_lon, new_lat, instance_id))
    nx, ny = tile_of(new_lon, new_lat, Z)
    assert instance_id not in features(client, here)
    assert instance_id in features(client, f"/tiles/instances/{Z}/{nx}/{ny}.mvt")
    # Sent back to moderation: no longer published, so no longer in any tile.
    write(live.database_url, "UPDATE monitor.instances SET moderation = 'pending' WHERE id = %s", (instance_id,))
    assert instance_id not in features(client, f"/tiles/instances/{Z}/{nx}/{ny}.mvt")
    # A new approved instance appears where it was placed.
    with psycopg.connect(live.database_url) as conn:
        new_id = conn.execute(
            "INSERT INTO monitor.instances (name, kind, promoter, modality, scope, themes, source, moderation, venue) "
            "VALUES ('Mesa nueva del test', 'roundtable', 'cso', 'in_person', 'city', '{ambiente}', 'test', "
            "'approved', ST_SetSRID(ST_MakePoint(%s, %s), 4326)) RETURNING id", (lon, lat)).fetchone()[0]
    assert features(client, here)[new_id]["properties"]["name"] == "Mesa nueva del test"


def test_a_write_to_a_joined_table_reaches_the_tiles_of_the_view(server):
    # published.instances takes `organization` from monitor.organizations: renaming one changes instance tiles.
    live, client = server
    with psycopg.connect(live.database_url) as conn:
        instance_id, org_id, lon, lat = conn.execute(
            "SELECT i.id, i.organization_id, ST_X(i.venue), ST_Y(i.venue) FROM monitor.instances i "
            "JOIN published.instances p USING (id) WHERE i.organization_id IS NOT NULL AND i.venue IS NOT NULL "
            "ORDER BY i.id LIMIT 1").fetchone()
    x, y = tile_of(lon, lat, Z)
    path = f"/tiles/instances/{Z}/{x}/{y}.mvt"
    client.get(path)
    write(live.database_url, "UPDATE monitor.organizations SET name = 'Organización renombrada' WHERE id = %s",
          (org_id,))
    assert features(client, path)[instance_id]["properties"]["organization"] == "Organización renombrada"


def test_concurrent_requests_right_after_a_write_all_see_it(server):
    live, client = server
    instance_id, lon, lat = instance_at(live.database_url)
    x, y = tile_of(lon, lat, Z)
    path = f"/tiles/instances/{Z}/{x}/{y}.mvt"
    client.get(path)

    async def burst(n: int) -> list[bytes]:
        async with httpx.AsyncClient(base_url=live.url, timeout=60) as session:
            return [r.content for r in await asyncio.gather(*(session.get(path) for _ in range(n)))]

    for round_ in range(3):
        name = f"Nombre {round_}"
        write(live.database_url, "UPDATE monitor.instances SET name = %s WHERE id = %s", (name, instance_id))
        for content in asyncio.run(burst(24)):
            tile = {f["id"]: f for f in decode(content)["instances"]["features"]}
            assert tile[instance_id]["properties"]["name"] == name


def test_a_rolled_back_write_leaves_the_cached_tile_valid(server):
    live, client = server
    instance_id, lon, lat = instance_at(live.database_url)
    x, y = tile_of(lon, lat, Z)
    path = f"/tiles/instances/{Z}/{x}/{y}.mvt"
    client.get(path)
    with psycopg.connect(live.database_url) as conn:
        conn.execute("UPDATE monitor.instances SET name = 'Nunca' WHERE id = %s", (instance_id,))
        conn.rollback()
    again = client.get(path)
    assert again.headers["x-tile-cache"] == "hit"
    assert features(client, path)[instance_id]["properties"]["name"] != "Nunca"


def test_writes_through_the_feature_api_are_in_the_next_tile(server):
    from gis.auth import create_token
    from gis.db import connect

    live, client = server
    with connect(live.database_url, actor="test:tiles") as conn:
        token = create_token(conn, "editor", "tiles freshness test")[1]
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/geo+json"}
    lon, lat = -60.6700, -32.9550
    x, y = tile_of(lon, lat, Z)
    path = f"/tiles/instances/{Z}/{x}/{y}.mvt"
    before = client.get(path)  # cached from here on
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": {"name": "Mesa creada por la API", "kind": "roundtable", "promoter": "cso",
                              "themes": ["ambiente"], "modality": "in_person", "scope": "city", "source": "test"}}
    created = client.post("/collections/instances/items", json=feature, headers=auth)
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    if created.json()["moderation"] != "approved":
        assert client.post(f"/moderation/{new_id}", json={"decision": "approve"},
                           headers=auth).status_code == 200
    assert features(client, path)[new_id]["properties"]["name"] == "Mesa creada por la API"
    assert client.get(path, headers={"If-None-Match": before.headers["etag"]}).status_code == 200
    etag = client.get(f"/collections/instances/items/{new_id}").headers["etag"]
    renamed = client.patch(f"/collections/instances/items/{new_id}", headers={**auth, "If-Match": etag},
                           json={"type": "Feature", "properties": {"name": "Mesa renombrada por la API"}})
    assert renamed.status_code == 200, renamed.text
    assert features(client, path)[new_id]["properties"]["name"] == "Mesa renombrada por la API"
    etag = client.get(f"/collections/instances/items/{new_id}").headers["etag"]
    deleted = client.delete(f"/collections/instances/items/{new_id}", headers={**auth, "If-Match": etag})
    assert deleted.status_code in (200, 204), deleted.text
    assert new_id not in features(client, path)


def gated_builds(service):
    """Builds of `service` counted; the first one holds its finished tile until the returned gate is set."""
    real, gate, builds = service._build, threading.Event(), []

    async def build(layers, z, x, y):
        builds.append((z, x, y))
        result = await real(layers, z, x, y)
        if len(builds) == 1:
            await asyncio.to_thread(gate.wait, 30)
        return result

    service._build = build
    return gate, builds


def ask_in_thread(url: str, path: str) -> tuple[threading.Thread, list]:
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(httpx.get(url + path, timeout=60)))
    thread.start()
    return thread, answers


def wait_for(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_identical_cold_requests_share_one_build(server):
    live, _ = server
    _, lon, lat = instance_at(live.database_url)
    x, y = tile_of(lon, lat, Z)
    path = f"/tiles/instances/{Z}/{x}/{y}.mvt"
    gate, builds = gated_builds(live.app.state.tiles)
    try:
        first = ask_in_thread(live.url, path)
        wait_for(lambda: builds)
        others = [ask_in_thread(live.url, path) for _ in range(6)]
        time.sleep(0.3)  # they arrive while the first build is held
        gate.set()
        for thread, _ in [first, *others]:
            thread.join(60)
    finally:
        del live.app.state.tiles._build
    contents = {answers[0].content for _, answers in [first, *others]}
    assert len(builds) == 1 and len(contents) == 1 and decode(contents.pop())["instances"]["features"]


def test_a_build_under_way_is_not_shared_with_a_request_that_arrived_after_a_write(server):
    live, _ = server
    instance_id, lon, lat = instance_at(live.database_url)
    x, y = tile_of(lon, lat, Z)
    path = f"/tiles/instances/{Z}/{x}/{y}.mvt"
    gate, builds = gated_builds(live.app.state.tiles)
    try:
        before = ask_in_thread(live.url, path)
        wait_for(lambda: builds)  # the first build has read its snapshot and is held
        write(live.database_url, "UPDATE monitor.instances SET name = 'Escrito durante' WHERE id = %s",
              (instance_id,))
        after = ask_in_thread(live.url, path)
        time.sleep(0.3)  # it finds the held build under way
        gate.set()
        for thread, _ in (before, after):
            thread.join(60)
    finally:
        del live.app.state.tiles._build

    def name(answers: list[httpx.Response]) -> str:
        tile = {f["id"]: f for f in decode(answers[0].content)["instances"]["features"]}
        return tile[instance_id]["properties"]["name"]

    assert name(before[1]) != "Escrito durante"  # it arrived before the write
    assert name(after[1]) == "Escrito durante" and len(builds) == 2
