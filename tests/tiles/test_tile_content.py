"""What the tiles hold: each barrio and each instance at its own coordinates, at several zooms; clusters whose
counts add up to the true counts; only published rows and tile properties."""

from __future__ import annotations

from collections import Counter

import pytest
from shapely.geometry import Point, shape
from tile_helpers import EXTENT, decode, tile_of, tiles_over, to_tile_px

from layers.catalogue import CATALOGUE
from layers.tiles_sql import CLUSTER_CELL


@pytest.fixture(scope="module")
def barrios(sql):
    rows = sql("SELECT id, name, ST_X(p), ST_Y(p) FROM "
               "(SELECT id, name, ST_PointOnSurface(geom) p FROM published.barrios) s ORDER BY id")
    assert len(rows) == 50
    return rows


@pytest.fixture(scope="module")
def instances(sql):
    rows = sql("SELECT id, name, ST_X(geom), ST_Y(geom) FROM published.instances WHERE geom IS NOT NULL ORDER BY id")
    assert len(rows) > 200
    return rows


@pytest.mark.parametrize("z", [10, 12, 14, 16])
def test_each_barrio_is_drawn_at_its_own_place(http, sql, barrios, z):
    sample = barrios if z <= 12 else barrios[::4]
    for barrio_id, name, lon, lat in sample:
        x, y = tile_of(lon, lat, z)
        response = http.get(f"/tiles/barrios/{z}/{x}/{y}.mvt")
        assert response.status_code == 200
        layer = decode(response.content)["barrios"]
        point = Point(to_tile_px(lon, lat, z, x, y))
        # The polygon holding the barrio's own interior point is that barrio (1.5 units of quantisation allowed).
        holding = [f for f in layer["features"] if shape(f["geometry"]).distance(point) <= 1.5]
        assert barrio_id in [f["id"] for f in holding], (z, name)
        feature = next(f for f in layer["features"] if f["id"] == barrio_id)
        assert feature["properties"]["name"] == name
        assert set(feature["properties"]) <= set(CATALOGUE["barrios"].tile_properties)
        assert "district_name" not in feature["properties"]  # in_tiles=False stays out


def test_a_tile_holds_exactly_the_barrios_that_touch_it(http, sql, barrios):
    z, (_, _, lon, lat) = 14, barrios[10]
    x, y = tile_of(lon, lat, z)
    expected = {r[0] for r in sql("SELECT id FROM published.barrios WHERE ST_Intersects(geom_3857, "
                                  "ST_TileEnvelope(%s, %s, %s, margin => 64.0 / 4096))", (z, x, y))}
    found = {f["id"] for f in decode(http.get(f"/tiles/barrios/{z}/{x}/{y}.mvt").content)["barrios"]["features"]}
    assert found == expected


@pytest.mark.parametrize("z", [13, 14, 16])
def test_each_instance_is_drawn_at_its_own_place(http, instances, z):
    for instance_id, name, lon, lat in instances[::6]:
        x, y = tile_of(lon, lat, z)
        layer = decode(http.get(f"/tiles/instances/{z}/{x}/{y}.mvt").content)["instances"]
        feature = next((f for f in layer["features"] if f["id"] == instance_id), None)
        assert feature is not None, (instance_id, z)
        px, py = to_tile_px(lon, lat, z, x, y)
        fx, fy = feature["geometry"]["coordinates"]
        assert abs(fx - px) <= 1 and abs(fy - py) <= 1, (instance_id, z, (fx, fy), (px, py))
        assert feature["properties"]["name"] == name
        assert "point_count" not in feature["properties"]  # not clustered from zoom 13 on
        assert not {"description", "contact", "venue_address", "online_url"} & set(feature["properties"])


def test_the_all_layers_tile_holds_every_layer_at_the_same_places(http, instances):
    instance_id, _, lon, lat = instances[0]
    x, y = tile_of(lon, lat, 15)
    everything = decode(http.get(f"/tiles/15/{x}/{y}.mvt").content)
    assert {"districts", "barrios", "instances"} <= set(everything)
    for layer_id, layer in everything.items():
        alone = decode(http.get(f"/tiles/{layer_id}/15/{x}/{y}.mvt").content)[layer_id]
        assert sorted(f["id"] for f in layer["features"]) == sorted(f["id"] for f in alone["features"])
    feature = next(f for f in everything["instances"]["features"] if f["id"] == instance_id)
    px, py = to_tile_px(lon, lat, 15, x, y)
    assert abs(feature["geometry"]["coordinates"][0] - px) <= 1


def test_pending_rejected_and_deleted_instances_never_reach_a_tile(http, sql, rosario_bounds):
    hidden = {r[0] for r in sql("SELECT id FROM monitor.instances WHERE venue IS NOT NULL AND "
                                "(moderation <> 'approved' OR deleted_at IS NOT NULL)")}
    shown = set()
    for x, y in tiles_over(rosario_bounds, 13):
        layer = decode(http.get(f"/tiles/instances/13/{x}/{y}.mvt").content).get("instances", {"features": []})
        shown |= {f["id"] for f in layer["features"]}
    published = {r[0] for r in sql("SELECT id FROM published.instances WHERE geom IS NOT NULL")}
    assert shown == published
    assert not shown & hidden


LAST_CELL = EXTENT // CLUSTER_CELL - 1


def _cells(px: float, py: float) -> set[tuple[int, int]]:
    """The grid cells a quantised position may have come from (rounding moves a point by up to half a unit)."""
    last = LAST_CELL
    return {(min(last, max(0, int((px + dx) // CLUSTER_CELL))), min(last, max(0, int((py + dy) // CLUSTER_CELL))))
            for dx in (-0.5, 0.5) for dy in (-0.5, 0.5)}


@pytest.mark.parametrize(("layer_id", "z"), [("instances", 0), ("instances", 9), ("instances", 10),
                                             ("instances", 12), ("activities", 10), ("activities", 12)])
def test_clusters_at_low_zoom_add_up_to_the_true_counts(http, sql, rosario_bounds, layer_id, z):
    rows = sql(f"SELECT ST_X(geom), ST_Y(geom) FROM published.{layer_id} WHERE geom IS NOT NULL")  # noqa: S608
    assert z < CATALOGUE[layer_id].cluster_below_zoom
    counted, clusters = 0, 0
    for x, y in tiles_over(rosario_bounds, z):
        layer = decode(http.get(f"/tiles/{layer_id}/{z}/{x}/{y}.mvt").content).get(layer_id, {"features": []})
        # Points are tiled without a buffer: every feature of this tile is made of this tile's points only.
        truth = Counter()
        for lon, lat in rows:
            px, py = to_tile_px(lon, lat, z, x, y)
            if 0 <= px <= EXTENT and 0 <= py <= EXTENT:
                truth[(min(int(px // CLUSTER_CELL), LAST_CELL), min(int(py // CLUSTER_CELL), LAST_CELL))] += 1
        for feature in layer["features"]:
            count = feature["properties"]["point_count"]
            # Each cluster's count is the number of points in its grid cell.
            assert any(truth[cell] == count for cell in _cells(*feature["geometry"]["coordinates"])), (z, x, y)
            counted += count
            clusters += count > 1
            # Feature ids must survive JavaScript numbers (MapLibre's feature state keys on them).
            assert feature["id"] < 2**53
    assert counted == len(rows)
    assert clusters > 0  # clustering really happened at this zoom
