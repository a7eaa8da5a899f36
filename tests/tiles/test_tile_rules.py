"""Rules of the tile builder that the demo data never reaches: dense tiles, and layers that pick rows by zoom.

The expected contents are worked out independently of the builder: which tile a point falls in and where, from
its longitude and latitude with morecantile; which cell of a tile-aligned grid it belongs to, from that
position; which polygons touch a tile, with PostGIS on a tile box that morecantile gives.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import httpx
import morecantile
import psycopg
from tile_helpers import EXTENT, TMS, decode, tile_of, to_tile_px

from layers.catalogue import CATALOGUE
from layers.tiles_sql import MAX_FEATURES, tile_params, tile_query

DENSE_CELL = 64  # tile units: the documented grid of a tile above the cap (docs/tiles.md, "Safety net")
ID_FLOOR, ID_CEILING = 2**52, 2**53  # cluster ids: above any row id, exact as JavaScript numbers (docs/tiles.md)


def points_in_tile(points: list[tuple[int, float, float]], z: int, x: int, y: int) -> dict[int, tuple[float, float]]:
    """{id: (px, py)} of the points whose tile at zoom z is x/y, with their position in that tile."""
    return {pid: to_tile_px(lon, lat, z, x, y) for pid, lon, lat in points if tile_of(lon, lat, z) == (x, y)}


def assert_dense_clusters(features: list[dict], expected: dict[int, tuple[float, float]]) -> None:
    """The features are the points grouped on a 64-unit grid aligned with the tile: one feature per occupied cell,
    at the mean position of its points, with their number; a cell of one point is that point, with its id."""
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for pid, (px, py) in expected.items():
        cells[(int(px // DENSE_CELL), int(py // DENSE_CELL))].append(pid)
    groups = [(ids, sum(expected[i][0] for i in ids) / len(ids), sum(expected[i][1] for i in ids) / len(ids))
              for ids in cells.values()]
    assert len(features) == len(groups) <= MAX_FEATURES
    unmatched = list(range(len(groups)))
    for feature in features:
        fx, fy = feature["geometry"]["coordinates"]
        best = min(unmatched, key=lambda g: abs(groups[g][1] - fx) + abs(groups[g][2] - fy))
        ids, mx, my = groups[best]
        assert abs(mx - fx) <= 1 and abs(my - fy) <= 1, (feature, ids[:5], (mx, my))
        assert feature["properties"]["point_count"] == len(ids), (feature, len(ids))
        if len(ids) == 1:
            assert feature["id"] == ids[0]
        else:
            assert ID_FLOOR <= feature["id"] < ID_CEILING and feature["id"] not in expected
        unmatched.remove(best)
    assert not unmatched
    assert len({f["id"] for f in features}) == len(features)


def assert_one_by_one(features: list[dict], expected: dict[int, tuple[float, float]]) -> None:
    """Every point of the tile is its own feature, with its id, at its own position, and nothing is clustered."""
    assert sorted(f["id"] for f in features) == sorted(expected)
    for feature in features:
        assert "point_count" not in feature["properties"], feature
        fx, fy = feature["geometry"]["coordinates"]
        px, py = expected[feature["id"]]
        assert abs(fx - px) <= 1 and abs(fy - py) <= 1, (feature["id"], (fx, fy), (px, py))


def test_a_tile_denser_than_the_cap_clusters_instead_of_dropping_points(fresh_server):
    # 5,000 instances, a 71 × 71 grid about 3 m apart, inside one zoom-15 tile, where points are normally not
    # clustered.
    lon, lat, z = -60.6620, -32.9480, 15
    x, y = tile_of(lon, lat, z)
    with psycopg.connect(fresh_server.database_url) as conn:
        added = conn.execute(
            "INSERT INTO monitor.instances (name, kind, promoter, modality, scope, themes, source, moderation, "
            "is_demo, venue) SELECT 'Denso ' || n, 'roundtable', 'cso', 'in_person', 'city', '{ambiente}', 'test', "
            "'approved', true, ST_SetSRID(ST_MakePoint(%s + (n %% 71) * 0.00003, %s + (n / 71) * 0.00003), 4326) "
            "FROM generate_series(1, 5000) n RETURNING id", (lon - 0.001, lat - 0.001)).fetchall()
        added = {row[0] for row in added}
        points = conn.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM published.instances "
                              "WHERE geom IS NOT NULL").fetchall()
    assert added <= {p[0] for p in points}  # all 5,000 published
    expected = points_in_tile(points, z, x, y)
    assert len(expected) > MAX_FEATURES and len(added & set(expected)) == len(added)
    with httpx.Client(base_url=fresh_server.url, timeout=120) as client:
        response = client.get(f"/tiles/instances/{z}/{x}/{y}.mvt")
        assert response.status_code == 200
        features = decode(response.content)["instances"]["features"]
        assert sum(f["properties"]["point_count"] for f in features) == len(expected)  # every point counted once
        assert_dense_clusters(features, expected)
        assert any(f["properties"]["point_count"] > 1 for f in features)
        assert len(response.content) < 500 * 1024

        # One zoom deeper (16, the layer's last) the grid falls in four tiles: those under the cap give the points
        # back one by one with their ids; one still holds more than the cap and is clustered the same way.
        kinds = set()
        for child in TMS.children(morecantile.Tile(x, y, z)):
            deeper_expected = points_in_tile(points, z + 1, child.x, child.y)
            if not added & set(deeper_expected):
                continue
            deeper = client.get(f"/tiles/instances/{z + 1}/{child.x}/{child.y}.mvt")
            assert deeper.status_code == 200
            deeper_features = decode(deeper.content)["instances"]["features"]
            if len(deeper_expected) <= MAX_FEATURES:
                assert_one_by_one(deeper_features, deeper_expected)
                kinds.add("one by one")
            else:
                assert_dense_clusters(deeper_features, deeper_expected)
                kinds.add("clustered")
        assert kinds == {"one by one", "clustered"}  # both branches were exercised


def test_a_zoom_filter_picks_rows_by_zoom_with_the_zoom_bound_as_a_parameter(db):
    # Like H3 hexagons of one resolution per zoom: here even barrio ids at even zooms, odd ones at odd zooms.
    layer = dataclasses.replace(CATALOGUE["barrios"], id="barrios_by_parity", zoom_filter="mod(id, 2) = mod({z}, 2)")
    first, lon, lat = db.execute("SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                                 "FROM published.barrios ORDER BY id LIMIT 1").fetchone()
    for z in (11, 12):
        x, y = tile_of(lon, lat, z)
        query, ids = tile_query([layer], z)
        assert ids == ["barrios_by_parity"] and "%(z)s" in query.as_string(db)
        tile = decode(bytes(db.execute(query, tile_params(z, x, y)).fetchone()[0]))
        found = {f["id"] for f in tile.get("barrios_by_parity", {"features": []})["features"]}
        # The barrios touching the tile and its 64-unit polygon buffer, on morecantile's tile box.
        box = TMS.xy_bounds(morecantile.Tile(x, y, z))
        margin = (box.right - box.left) * 64 / EXTENT
        touching = {row[0]: row[1] for row in db.execute(
            "SELECT id, mod(id, 2) = mod(%s, 2) FROM published.barrios WHERE ST_Intersects(ST_Transform(geom, 3857), "
            "ST_MakeEnvelope(%s, %s, %s, %s, 3857))",
            (z, box.left - margin, box.bottom - margin, box.right + margin, box.top + margin)).fetchall()}
        kept = {i for i, right_parity in touching.items() if right_parity}
        assert kept and kept != set(touching)  # the tile has barrios of both parities: the filter has work to do
        assert found == kept, (z, sorted(found), sorted(kept))
        # The barrio whose interior point picked the tile is there exactly at the zooms of its parity.
        assert (first in found) == (first % 2 == z % 2)
