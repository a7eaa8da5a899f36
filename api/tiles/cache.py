"""The server-side tile cache and what keeps it exact: per-table data versions read after each request arrives.

Migration 0003 makes every write statement (API, import, CLI, psql) bump the version of its table in
`tiles.data_versions`, inside the writer's transaction. A cached tile remembers the versions of the tables its
layers read, taken in the same snapshot as the tile itself. Before answering from the cache, the server reads
the current versions with a query that *started after the request arrived* (concurrent requests share one such
read), so a committed write is in the very next tile. Layers whose tables are not all tracked are never cached.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from cachetools import LRUCache
from psycopg import AsyncConnection, sql

from api.data_versions import CHANGING_PATTERN, DEPENDENCIES_SQL
from layers.layer import Layer

log = logging.getLogger("monitor.tiles")

VERSIONS_SQL = sql.SQL("(SELECT coalesce(json_object_agg(relid, version), '{}') FROM tiles.data_versions)")
TABLE_KINDS = ("r", "p", "m")  # what has a data version: tables and materialised views (views are followed)


@dataclass(frozen=True)
class Tile:
    """One encoded tile, compressed once. The ETag comes from the uncompressed content."""

    gzipped: bytes
    size: int  # uncompressed bytes
    etag: str  # strong validator of the uncompressed bytes (without quotes)

    @classmethod
    def from_mvt(cls, raw: bytes) -> Tile:
        etag = hashlib.blake2b(raw, digest_size=12).hexdigest()
        return cls(gzip.compress(raw, compresslevel=6, mtime=0), len(raw), etag)

    @property
    def empty(self) -> bool:
        return self.size == 0

    def raw(self) -> bytes:
        return gzip.decompress(self.gzipped)


async def layer_dependencies(conn: AsyncConnection, layers: Sequence[Layer]) -> dict[str, tuple[str, ...] | None]:
    """Per layer, the oids of the tables it reads, or None when any of them is not tracked (never cache it)."""
    has_versions = await (await conn.execute("SELECT to_regclass('tiles.data_versions') IS NOT NULL")).fetchone()
    found: dict[str, tuple[str, ...] | None] = {}
    for layer in layers:
        rows = []
        try:
            # The source and whatever else its tiles read (per-cell counts of a clustered point layer).
            for relation in (layer.source, *layer.tile_relations):
                found_rows = await (await conn.execute(DEPENDENCIES_SQL, (relation, CHANGING_PATTERN))).fetchall()
                rows += [(str(oid), name, tracked) for oid, name, kind, tracked, _ in found_rows
                         if kind in TABLE_KINDS]
        except Exception as exc:  # a source that does not exist yet: its tiles fail on their own, loudly
            log.warning("layer %s: cannot read the dependencies of %s: %s", layer.id, layer.source, exc)
            rows = []
        untracked = [name for _, name, tracked in rows if not tracked]
        if not has_versions[0] or untracked or not rows:
            log.warning("tiles of layer %s are served uncached: untracked tables %s", layer.id, untracked or "?")
            found[layer.id] = None
        else:
            found[layer.id] = tuple(sorted({oid for oid, *_ in rows}))
    return found


class TileCache:
    """Tiles by (layer ids, z, x, y), each with the data versions it was built from; LRU bounded in bytes."""

    def __init__(self, max_bytes: int = 256 * 2**20):
        self._entries: LRUCache[tuple, tuple[tuple, Tile]] = LRUCache(max_bytes, getsizeof=_stored_bytes)

    def get(self, key: tuple, versions: tuple) -> Tile | None:
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] == versions else None

    def __contains__(self, key: tuple) -> bool:
        """A tile is kept for this address, for whatever versions."""
        return key in self._entries

    def put(self, key: tuple, versions: tuple, tile: Tile) -> None:
        if _stored_bytes((versions, tile)) <= self._entries.maxsize:
            self._entries[key] = (versions, tile)


def _stored_bytes(entry: tuple[tuple, Tile]) -> int:
    return len(entry[1].gzipped)
