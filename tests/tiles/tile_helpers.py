"""Tile addressing and decoding for the tile tests (mapbox-vector-tile decodes; morecantile addresses)."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile

TMS = morecantile.tms.get("WebMercatorQuad")
EXTENT = 4096


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    tile = TMS.tile(lon, lat, z)
    return tile.x, tile.y


def to_tile_px(lon: float, lat: float, z: int, x: int, y: int) -> tuple[float, float]:
    """Where (lon, lat) falls in tile z/x/y, in MVT units from the top-left corner."""
    box = TMS.xy_bounds(morecantile.Tile(x, y, z))
    mx, my = TMS.xy(lon, lat)
    return ((mx - box.left) / (box.right - box.left) * EXTENT, (box.top - my) / (box.top - box.bottom) * EXTENT)


def decode(content: bytes) -> dict:
    return mapbox_vector_tile.decode(content, default_options={"y_coord_down": True}) if content else {}


def inside(coordinates) -> bool:
    """A point feature whose position is in this tile proper (not in a neighbour's buffer)."""
    px, py = coordinates
    return 0 <= px < EXTENT and 0 <= py < EXTENT


def tiles_over(bounds, z: int) -> list[tuple[int, int]]:
    return [(t.x, t.y) for t in TMS.tiles(*bounds, zooms=[z])]


def canonical(decoded: dict) -> dict:
    """Decoded layers with features sorted, for comparing two tiles regardless of feature order."""
    return {name: sorted((repr(f.get("id")), repr(f["geometry"]), repr(sorted(f["properties"].items())))
                         for f in layer["features"]) for name, layer in decoded.items()}


def data_versions(url: str) -> dict:
    import psycopg

    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT relid, version FROM tiles.data_versions").fetchall())


def settled_versions(url: str, quiet: float = 5, timeout: float = 180) -> dict:
    """The data versions once no writer has changed them for `quiet` seconds (background jobs of the server,
    such as the index recompute at start-up, may still be writing when a test begins)."""
    import time

    deadline = time.monotonic() + timeout
    last, since = data_versions(url), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = data_versions(url)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
    raise AssertionError(f"the database kept changing for {timeout} s")
