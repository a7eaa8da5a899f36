"""The server-side tile cache and what keeps it exact: per-table data versions read after each request arrives.

Migration 0003 makes every write statement (API, import, CLI, psql) bump the version of its table in
`tiles.data_versions`, inside the writer's transaction. A cached tile remembers the versions of the tables its
layers read, taken in the same snapshot as the tile itself. Before answering from the cache, the server reads
the current versions with a query that *started after the request arrived* (concurrent requests share one such
read), so a committed write is in the very next tile. Layers whose tables are not all tracked are never cached.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from psycopg import AsyncConnection, sql

from layers.layer import Layer

log = logging.getLogger("monitor.tiles")

VERSIONS_SQL = sql.SQL("(SELECT coalesce(json_object_agg(relid, version), '{}') FROM tiles.data_versions)")

# The base tables and materialised views a relation reads, following views through their rewrite rules.
DEPENDENCIES_SQL = """
WITH RECURSIVE deps(relid) AS (
    SELECT %s::regclass::oid
    UNION
    SELECT d.refobjid
    FROM deps
    JOIN pg_rewrite r ON r.ev_class = deps.relid
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                    AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> deps.relid
)
SELECT c.oid::text, c.relkind, c.oid::regclass::text,
       c.relkind = 'm' OR EXISTS (SELECT 1 FROM pg_trigger t
                                  WHERE t.tgrelid = c.oid AND t.tgname = 'tiles_data_version')
FROM deps JOIN pg_class c ON c.oid = deps.relid
WHERE c.relkind IN ('r', 'p', 'm')
"""


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
        try:
            rows = await (await conn.execute(DEPENDENCIES_SQL, (layer.source,))).fetchall()
        except Exception as exc:  # a source that does not exist yet: its tiles fail on their own, loudly
            log.warning("layer %s: cannot read the dependencies of %s: %s", layer.id, layer.source, exc)
            rows = []
        untracked = [name for _, _, name, tracked in rows if not tracked]
        if not has_versions[0] or untracked or not rows:
            log.warning("tiles of layer %s are served uncached: untracked tables %s", layer.id, untracked or "?")
            found[layer.id] = None
        else:
            found[layer.id] = tuple(sorted(oid for oid, *_ in rows))
    return found


class FreshVersions:
    """The current data versions, read by a query that started after the caller asked.

    One read is in flight at a time; everyone who asks while it runs shares the next one (which starts as soon
    as the running one ends), so under load one round trip serves many requests and no one gets stale versions.
    """

    def __init__(self, read: Callable[[], Awaitable[dict]]):
        self._read = read
        self._busy = False
        self._next: asyncio.Future | None = None
        self._driver: asyncio.Task | None = None
        self._last: tuple[float, dict] | None = None  # (loop time the last successful read started, its result)

    async def current(self, since: float | None = None) -> dict:
        """Versions read by a query that started after the caller asked, or after `since` (a loop time) when
        given: a request that already had versions read for it (a cache miss after the shortcut's lookup) reuses
        them rather than paying another round trip."""
        loop = asyncio.get_running_loop()
        if since is not None and self._last is not None and self._last[0] >= since:
            return self._last[1]
        if self._busy:
            if self._next is None:
                self._next = loop.create_future()
            return await asyncio.shield(self._next)
        self._busy = True
        first = loop.create_future()
        self._driver = loop.create_task(self._drive(first))
        return await asyncio.shield(first)

    async def _drive(self, future: asyncio.Future) -> None:
        try:
            while future is not None:
                try:
                    started = asyncio.get_running_loop().time()
                    result = await self._read()
                    self._last = (started, result)
                    future.set_result(result)
                except Exception as exc:  # every waiter of this read gets the error; the next read starts anew
                    future.set_exception(exc)
                    future.exception()  # marked retrieved: waiters may have gone away
                future, self._next = self._next, None
        finally:
            self._busy = False


class TileCache:
    """Tiles by (layer ids, z, x, y), each with the data versions it was built from; LRU bounded in bytes."""

    def __init__(self, max_bytes: int = 256 * 2**20):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, tuple[tuple, Tile]] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0

    def get(self, key: tuple, versions: tuple) -> Tile | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != versions:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[1]

    def put(self, key: tuple, versions: tuple, tile: Tile) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old[1].gzipped)
        self._entries[key] = (versions, tile)
        self._bytes += len(tile.gzipped)
        while self._bytes > self.max_bytes and self._entries:
            _, (_, evicted) = self._entries.popitem(last=False)
            self._bytes -= len(evicted.gzipped)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)
