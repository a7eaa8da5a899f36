"""`monitor export pmtiles PATH`: one PMTiles v3 archive of every public layer over Rosario, for static hosting.

Tiles come from the same SQL as the live endpoint (`layers.tiles_sql`), so an archive tile equals the live tile
of the same address. Tiles are written gzipped in tile-id order (a clustered archive); empty tiles are left out.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Sequence
from pathlib import Path

import morecantile
import psycopg
from pmtiles.tile import Compression, Entry, TileType, zxy_to_tileid
from pmtiles.writer import Writer

from layers.catalogue import MAP_LAYERS
from layers.layer import Layer
from layers.tiles_meta import attribution, bounds_from_row, extent_query, vector_layer
from layers.tiles_sql import tile_params, tile_query

TMS = morecantile.tms.get("WebMercatorQuad")
DEFAULT_MAXZOOM = 16
CENTER_ZOOM = 12


class ExactWriter(Writer):
    """The pmtiles Writer, except that identical tiles are recognised by their bytes, not by Python `hash()`
    alone (the library trusts a 64-bit hash and never compares contents)."""

    def __init__(self, f):
        super().__init__(f)
        # Keyed by content; the library reads the number of distinct contents from this dict's length.
        self.hash_to_offset: dict[bytes, int] = {}

    def write_tile(self, tileid: int, data: bytes) -> None:
        if self.tile_entries and tileid < self.tile_entries[-1].tile_id:
            self.clustered = False
        found = self.hash_to_offset.get(data)
        if found is not None:
            last = self.tile_entries[-1]
            if tileid == last.tile_id + last.run_length and last.offset == found:
                last.run_length += 1
            else:
                self.tile_entries.append(Entry(tileid, found, len(data), 1))
        else:
            self.tile_f.write(data)
            self.tile_entries.append(Entry(tileid, self.offset, len(data), 1))
            self.hash_to_offset[data] = self.offset
            self.offset += len(data)
        self.addressed_tiles += 1


def tile_addresses(bounds: Sequence[float], minzoom: int, maxzoom: int) -> list[tuple[int, int, int]]:
    """Every z/x/y over `bounds` from minzoom to maxzoom, in PMTiles tile-id order."""
    tiles = [(t.z, t.x, t.y) for t in TMS.tiles(*bounds, zooms=list(range(minzoom, maxzoom + 1)))]
    return sorted(tiles, key=lambda t: zxy_to_tileid(*t))


def export_pmtiles(url: str, path: Path, minzoom: int = 0, maxzoom: int = DEFAULT_MAXZOOM,
                   layers: Sequence[Layer] = MAP_LAYERS) -> dict:
    """Write the archive to `path` (atomically: a temporary file renamed at the end). Returns a summary."""
    started = time.monotonic()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    written = empty = raw_bytes = largest = 0
    with psycopg.connect(url) as conn:
        bounds = bounds_from_row(conn.execute(extent_query(layers)).fetchone())
        if bounds is None:
            raise ValueError("the layers hold no data: nothing to export")
        addresses = tile_addresses(bounds, minzoom, maxzoom)
        with open(partial, "wb") as f:
            writer = ExactWriter(f)
            for z, x, y in addresses:
                query, _ = tile_query(layers, z)
                row = conn.execute(query, tile_params(z, x, y), prepare=True).fetchone()
                raw = b"".join(bytes(part) for part in row if part)
                if not raw:
                    empty += 1
                    continue
                writer.write_tile(zxy_to_tileid(z, x, y), gzip.compress(raw, compresslevel=9, mtime=0))
                written += 1
                raw_bytes += len(raw)
                largest = max(largest, len(raw))
            if not written:
                raise ValueError("every tile is empty: nothing to export")
            writer.finalize(_header(bounds), _metadata(layers, minzoom, maxzoom))
    partial.replace(path)
    return {"path": str(path), "tiles": written, "empty_tiles_skipped": empty, "minzoom": minzoom,
            "maxzoom": maxzoom, "bounds": bounds, "bytes": path.stat().st_size, "largest_tile_bytes": largest,
            "uncompressed_tile_bytes": raw_bytes, "seconds": round(time.monotonic() - started, 1)}


def _e7(value: float) -> int:
    return int(round(value * 10_000_000))


def _header(bounds: Sequence[float]) -> dict:
    west, south, east, north = bounds
    return {
        "tile_type": TileType.MVT,
        "tile_compression": Compression.GZIP,
        "min_lon_e7": _e7(west), "min_lat_e7": _e7(south), "max_lon_e7": _e7(east), "max_lat_e7": _e7(north),
        "center_zoom": CENTER_ZOOM,
        "center_lon_e7": _e7((west + east) / 2), "center_lat_e7": _e7((south + north) / 2),
    }


def _metadata(layers: Sequence[Layer], minzoom: int, maxzoom: int) -> dict:
    return {
        "name": "monitor",
        "description": "Citizen Participation Monitor of Rosario: every public layer",
        "attribution": attribution(layers),
        "version": "1.0.0",
        "type": "overlay",
        "format": "pbf",
        "minzoom": str(minzoom),
        "maxzoom": str(maxzoom),
        "generator": "monitor export pmtiles",
        "vector_layers": [vector_layer(layer) for layer in layers],
    }
