"""Rules of the tile builder that the demo data never reaches: dense tiles, and layers that pick rows by zoom."""

from __future__ import annotations

import dataclasses

import httpx
import psycopg
from tile_helpers import decode, tile_of, to_tile_px

from layers.catalogue import CATALOGUE
from layers.tiles_sql import MAX_FEATURES, tile_params, tile_query


def test_a_tile_denser_than_the_cap_clusters_instead_of_dropping_points(fresh_server):
    # 5,000 instances inside one zoom-15 tile, where points are normally not clustered.
    lon, lat, z = -60.6620, -32.9480, 15
    x, y = tile_of(lon, lat, z)
    with psycopg.connect(fresh_server.database_url) as conn:
        conn.execute(
            "INSERT INTO monitor.instances (name, kind, promoter, modality, scope, themes, source, moderation, "
            "is_demo, venue) SELECT 'Denso ' || n, 'roundtable', 'cso', 'in_person', 'city', '{ambiente}', 'test', "
            "'approved', true, ST_SetSRID(ST_MakePoint(%s + (n %% 71) * 0.00003, %s + (n / 71) * 0.00003), 4326) "
            "FROM generate_series(1, 5000) n", (lon - 0.001, lat - 0.001))
        inside = conn.execute("SELECT count(*) FROM published.instances WHERE geom_3857 && ST_TileEnvelope(%s, %s, %s)",
                              (z, x, y)).fetchone()[0]
    assert inside > MAX_FEATURES
    with httpx.Client(base_url=fresh_server.url, timeout=120) as client:
        response = client.get(f"/tiles/instances/{z}/{x}/{y}.mvt")
        features = decode(response.content)["instances"]["features"]
        assert len(features) <= MAX_FEATURES
        assert sum(f["properties"]["point_count"] for f in features) == inside  # every point counted once
        assert any(f["properties"]["point_count"] > 1 for f in features)
        assert len(response.content) < 500 * 1024
        # One zoom deeper the same points fit under the cap and come back one by one, with their ids.
        x2, y2 = tile_of(lon, lat, z + 1)
        deeper = decode(client.get(f"/tiles/instances/{z + 1}/{x2}/{y2}.mvt").content)["instances"]["features"]
        assert all("point_count" not in f["properties"] for f in deeper) or len(deeper) <= MAX_FEATURES


def test_a_zoom_filter_picks_rows_by_zoom_with_the_zoom_bound_as_a_parameter(db):
    # Like H3 hexagons of one resolution per zoom: here even barrio ids at even zooms, odd ones at odd zooms.
    layer = dataclasses.replace(CATALOGUE["barrios"], id="barrios_by_parity", zoom_filter="mod(id, 2) = mod({z}, 2)")
    for z in (11, 12):
        lon, lat = db.execute("SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) "
                              "FROM published.barrios ORDER BY id LIMIT 1").fetchone()
        x, y = tile_of(lon, lat, z)
        query, ids = tile_query([layer], z)
        assert ids == ["barrios_by_parity"] and "%(z)s" in query.as_string(db)
        tile = decode(bytes(db.execute(query, tile_params(z, x, y)).fetchone()[0]))
        found = [f["id"] for f in tile["barrios_by_parity"]["features"]]
        assert found and all(barrio_id % 2 == z % 2 for barrio_id in found)
        assert to_tile_px(lon, lat, z, x, y)  # the tile is the one over the barrio
