"""Per-cell point counts kept on write (tiles.point_cells, migration 0019) and the tiles built from them.

The counts are checked against the one definition of what is published, the view published.instances, after
every kind of write (single and bulk inserts, moves, renames, unpublishing, soft and hard deletes, approval,
truncation, concurrent writers), with the grid worked out here from the view's Web Mercator coordinates. Tiles
are checked the same way: the clusters and points of a tile add up to the published points that fall in it.
"""

from __future__ import annotations

import threading
from collections import defaultdict

import httpx
import psycopg
import pytest
from test_tile_rules import ID_CEILING, ID_FLOOR, assert_dense_clusters, assert_one_by_one, points_in_tile
from tile_helpers import decode, tile_of, tiles_over

from layers.catalogue import CATALOGUE
from layers.tiles_sql import MAX_FEATURES, tile_params, tile_query

WORLD = 40075016.685578488  # Web Mercator width, metres
ORIGIN = WORLD / 2
LEVELS = range(21)  # kept levels: the level-L grid is the tile grid of zoom L
SOURCE = "published.instances"
INSERT = ("INSERT INTO monitor.instances (name, kind, promoter, modality, scope, themes, source, moderation, is_demo, "
          "venue) SELECT 'Celda ' || n, 'roundtable', 'cso', 'in_person', 'city', '{ambiente}', 'test', %s, true, "
          "ST_SetSRID(ST_MakePoint(%s + (n %% 97) * %s, %s + (n / 97) * %s), 4326) "
          "FROM generate_series(1, %s) n RETURNING id")


def expected_cells(conn: psycopg.Connection) -> dict[tuple[int, int, int], tuple[int, int, int, int]]:
    """{(level, ix, iy): (points, Σx mm, Σy mm, Σid)} of the published points, computed here from the view."""
    cells: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for pid, mx, my in conn.execute(f"SELECT id, ST_X(geom_3857), ST_Y(geom_3857) FROM {SOURCE} "  # noqa: S608
                                    "WHERE geom_3857 IS NOT NULL"):
        # The same float steps as the trigger: one division, then exact power-of-two scalings.
        qx, qy = (mx + ORIGIN) / WORLD, (ORIGIN - my) / WORLD
        for level in LEVELS:
            cell = cells[(level, int(qx * 2**level // 1), int(qy * 2**level // 1))]
            cell[0] += 1
            cell[1] += round(mx * 1000)
            cell[2] += round(my * 1000)
            cell[3] += pid
    return {key: tuple(value) for key, value in cells.items()}


def stored_cells(conn: psycopg.Connection) -> dict[tuple[int, int, int], tuple[int, int, int, int]]:
    return {(level, ix, iy): (n, sx, sy, sid) for level, ix, iy, n, sx, sy, sid in conn.execute(
        "SELECT level, ix, iy, n, sx, sy, sid FROM tiles.point_cells WHERE source = %s", (SOURCE,))}


def assert_cells_match_the_view(conn: psycopg.Connection) -> None:
    expected, stored = expected_cells(conn), stored_cells(conn)
    assert stored.keys() == expected.keys(), sorted(stored.keys() ^ expected.keys())[:10]
    wrong = [(key, stored[key], expected[key]) for key in expected
             if stored[key][0] != expected[key][0] or stored[key][3] != expected[key][3]
             or abs(stored[key][1] - expected[key][1]) > stored[key][0]
             or abs(stored[key][2] - expected[key][2]) > stored[key][0]]
    assert not wrong, wrong[:10]  # millimetre sums: one rounding per point allowed
    members = {r[0] for r in conn.execute("SELECT id FROM tiles.point_members WHERE source = %s", (SOURCE,))}
    published = {r[0] for r in conn.execute(f"SELECT id FROM {SOURCE} WHERE geom_3857 IS NOT NULL")}  # noqa: S608
    assert members == published
    assert not conn.execute("SELECT count(*) FROM tiles.point_cells WHERE n <= 0").fetchone()[0]


def write(url: str, statement: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:  # commits on leaving the block, like any other writer
        conn.execute("SELECT set_config('monitor.actor', 'test:point_cells', true)")
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def test_the_loaded_registry_is_counted_as_the_view_publishes(db):
    assert_cells_match_the_view(db)
    # A rebuild from scratch gives the very same cells: counts do not depend on the order of the writes.
    before = stored_cells(db)
    assert db.execute("SELECT tiles.point_cells_rebuild(%s)", (SOURCE,)).fetchone()[0] == before[(0, 0, 0)][0]
    assert stored_cells(db) == before


def test_every_kind_of_write_keeps_the_counts_exact(fresh_db):
    url = fresh_db
    lon, lat = -60.6620, -32.9480
    bulk = [r[0] for r in write(url, INSERT, ("approved", lon, 0.0001, lat, 0.0001, 2000))]  # one bulk statement
    pending = [r[0] for r in write(url, INSERT, ("pending", lon + 0.01, 0.0001, lat, 0.0001, 50))]
    (single,) = write(url, INSERT, ("approved", lon - 0.02, 0, lat - 0.02, 0, 1))
    with psycopg.connect(url) as conn:
        assert_cells_match_the_view(conn)
    writes = [
        ("UPDATE monitor.instances SET venue = ST_SetSRID(ST_MakePoint(-60.70, -32.97), 4326) WHERE id = %s",
         (single[0],)),  # moved across the city
        ("UPDATE monitor.instances SET name = name || ' (renombrada)' WHERE id = ANY (%s)", (bulk[:300],)),
        ("UPDATE monitor.instances SET moderation = 'approved' WHERE id = ANY (%s)", (pending[:20],)),  # published
        ("UPDATE monitor.instances SET moderation = 'pending' WHERE id = ANY (%s)", (bulk[300:400],)),  # unpublished
        ("UPDATE monitor.instances SET deleted_at = now() WHERE id = ANY (%s)", (bulk[400:450],)),  # soft delete
        ("UPDATE monitor.instances SET venue = NULL, modality = 'online', online_url = 'https://example.org' "
         "WHERE id = ANY (%s)", (bulk[450:460],)),  # online only: no point
        ("DELETE FROM monitor.instances WHERE id = ANY (%s)", (bulk[460:1000],)),  # hard delete
        ("UPDATE monitor.instances SET venue = ST_SetSRID(ST_MakePoint(ST_X(venue) - 0.002, ST_Y(venue)), 4326) "
         "WHERE id = ANY (%s)", (bulk[1000:],)),  # a bulk move
    ]
    for statement, params in writes:
        write(url, statement, params)
        with psycopg.connect(url) as conn:
            assert_cells_match_the_view(conn)
    with psycopg.connect(url) as conn:  # emptied: every cell goes, none is left at zero
        conn.execute("TRUNCATE monitor.instances CASCADE")
        assert not stored_cells(conn)
        conn.rollback()


def test_concurrent_writers_in_the_same_cells_lose_no_count(fresh_db):
    url = fresh_db
    lon, lat = -60.6500, -32.9500
    first = psycopg.connect(url)
    try:
        first.execute(INSERT, ("approved", lon, 0.00001, lat, 0.00001, 30))  # uncommitted: holds its locks
        done = threading.Event()

        def second() -> None:
            write(url, INSERT, ("approved", lon, 0.00001, lat, 0.00001, 30))  # the same cells
            done.set()

        thread = threading.Thread(target=second)
        thread.start()
        assert not done.wait(1)  # waits for the first writer
        first.commit()
        thread.join(30)
        assert done.is_set()
    finally:
        first.close()
    with psycopg.connect(url) as conn:
        assert_cells_match_the_view(conn)


def published_in_tile(conn: psycopg.Connection, z: int, x: int, y: int) -> int:
    """Published points of tile z/x/y, each point in exactly one tile (the tile grid from the view's coordinates)."""
    rows = conn.execute(f"SELECT ST_X(geom_3857), ST_Y(geom_3857) FROM {SOURCE} "  # noqa: S608
                        "WHERE geom_3857 IS NOT NULL").fetchall()
    return sum(1 for mx, my in rows
               if int((mx + ORIGIN) / WORLD * 2**z // 1) == x and int((ORIGIN - my) / WORLD * 2**z // 1) == y)


def tile_counts(client: httpx.Client, z: int, x: int, y: int) -> tuple[int, list[dict]]:
    response = client.get(f"/tiles/instances/{z}/{x}/{y}.mvt")
    assert response.status_code in (200, 204)
    assert len(response.content) < 500 * 1024
    features = decode(response.content).get("instances", {"features": []})["features"]
    for feature in features:
        assert feature["id"] < ID_CEILING
    return sum(f["properties"].get("point_count", 1) for f in features), features


def test_tile_counts_follow_every_write(fresh_server):
    url = fresh_server.database_url
    lon, lat = -60.6620, -32.9480
    with httpx.Client(base_url=fresh_server.url, timeout=120) as client:
        steps = [
            (INSERT, ("approved", lon, 0.0001, lat, 0.0001, 1500)),
            ("UPDATE monitor.instances SET moderation = 'rejected', moderation_reason = 'prueba' "
             "WHERE id IN (SELECT id FROM monitor.instances WHERE name LIKE 'Celda %' ORDER BY id LIMIT 200)", None),
            ("UPDATE monitor.instances SET deleted_at = now() "
             "WHERE id IN (SELECT id FROM monitor.instances WHERE name LIKE 'Celda %' ORDER BY id DESC LIMIT 100)",
             None),
            ("DELETE FROM monitor.instances "
             "WHERE id IN (SELECT id FROM published.instances WHERE name LIKE 'Celda %' ORDER BY id LIMIT 300)", None),
        ]
        for statement, params in [(None, None), *steps]:
            if statement:
                write(url, statement, params)
            with psycopg.connect(url) as conn:
                total = conn.execute(f"SELECT count(*) FROM {SOURCE} WHERE geom IS NOT NULL").fetchone()[0]  # noqa: S608
                for z in (10, 12, 14):
                    x, y = tile_of(lon, lat, z)
                    counted, _ = tile_counts(client, z, x, y)
                    assert counted == published_in_tile(conn, z, x, y), (statement, z)
                # Every published point is in exactly one z10 tile: the tiles over them add up to all of them.
                bounds = conn.execute(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "  # noqa: S608
                                      f"(SELECT ST_Extent(geom) e FROM {SOURCE}) s").fetchone()
                assert sum(tile_counts(client, 10, x, y)[0] for x, y in tiles_over(bounds, 10)) == total, statement


@pytest.mark.parametrize("z", [13, 14])
def test_dense_tiles_from_the_counts_keep_every_point(fresh_server, z):
    # 5,000 instances about 3 m apart inside one tile of zoom z (13 or 14): more than the cap, so the tile is made
    # of 64-unit clusters read from level z + 6 of the counts.
    lon, lat = -60.6620, -32.9480
    x, y = tile_of(lon, lat, z)
    added = {r[0] for r in write(fresh_server.database_url, INSERT, ("approved", lon - 0.001, 0.00003,
                                                                   lat - 0.001, 0.00003, 5000))}
    with psycopg.connect(fresh_server.database_url) as conn:
        points = conn.execute(f"SELECT id, ST_X(geom), ST_Y(geom) FROM {SOURCE} "  # noqa: S608
                              "WHERE geom IS NOT NULL").fetchall()
    expected = points_in_tile(points, z, x, y)
    assert len(expected) > MAX_FEATURES and added <= set(expected)
    with httpx.Client(base_url=fresh_server.url, timeout=120) as client:
        counted, features = tile_counts(client, z, x, y)
        assert counted == len(expected)
        assert_dense_clusters(features, expected)
        assert any(f["properties"]["point_count"] > 1 for f in features)
        assert all(f["id"] >= ID_FLOOR for f in features if f["properties"]["point_count"] > 1)
        # Lone points keep their id and their properties; clusters have none but their count.
        for feature in features:
            if feature["properties"]["point_count"] == 1:
                assert feature["properties"]["kind"]
            else:
                assert set(feature["properties"]) == {"point_count"}
        # Two zooms deeper (16) the points are back one by one, from the ids the counts keep per cell.
        x16, y16 = tile_of(lon, lat, 16)
        deeper = points_in_tile(points, 16, x16, y16)
        if len(deeper) <= MAX_FEATURES:
            response = client.get(f"/tiles/instances/16/{x16}/{y16}.mvt")
            assert_one_by_one(decode(response.content)["instances"]["features"], deeper)


def test_tiles_of_the_counts_equal_tiles_grouped_live(db):
    """The stored path gives the live path's clusters (same cells, counts, ids; positions within a unit)."""
    import dataclasses

    import layers.tiles_sql as tiles_sql

    stored = CATALOGUE["instances"]
    live = dataclasses.replace(stored, point_cells=False)
    lon, lat = db.execute(f"SELECT ST_X(geom), ST_Y(geom) FROM {SOURCE} WHERE geom IS NOT NULL "  # noqa: S608
                          "ORDER BY id LIMIT 1").fetchone()
    for z in (0, 9, 10, 11, 12, 13, 14):
        x, y = tile_of(lon, lat, z)
        tiles = []
        for layer in (stored, live):
            tiles_sql._COLUMNS.clear()  # composed columns are cached by layer id and zoom
            tiles.append(decode(bytes(db.execute(tile_query([layer], z)[0], tile_params(z, x, y)).fetchone()[0])))
        tiles_sql._COLUMNS.clear()
        (a, b) = ({f["id"]: f for f in t["instances"]["features"]} for t in tiles)
        assert a.keys() == b.keys(), z
        for fid, feature in a.items():
            assert feature["properties"] == b[fid]["properties"], (z, fid)
            (ax, ay), (bx, by) = feature["geometry"]["coordinates"], b[fid]["geometry"]["coordinates"]
            assert abs(ax - bx) <= 1 and abs(ay - by) <= 1, (z, fid)
        if z < stored.cluster_below_zoom:
            assert any(f["properties"].get("point_count", 1) > 1 for f in a.values()), z  # really clustered
