"""Tiles for any set of catalogue layers: from the exact cache when its data versions are current, else PostGIS."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI, Request
from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from api.tiles.cache import VERSIONS_SQL, FreshVersions, Tile, TileCache, layer_dependencies
from layers.catalogue import MAP_LAYERS
from layers.layer import Layer
from layers.tiles_meta import bounds_from_row, extent_query
from layers.tiles_sql import layers_at_zoom, tile_params, tile_query

log = logging.getLogger("monitor.tiles")
EMPTY = Tile.from_mvt(b"")
VERSIONS_QUERY = sql.SQL("SELECT {}").format(VERSIONS_SQL)
COMPRESS_IN_THREAD = 64 * 1024  # bigger tiles are gzipped off the event loop


class TileService:
    def __init__(self, pool: AsyncConnectionPool, dependencies: dict[str, tuple[str, ...] | None]):
        self.pool = pool
        self.dependencies = dependencies
        self.cache = TileCache()
        self.fresh = FreshVersions(self._read_versions)
        self._inflight: dict[tuple, asyncio.Future] = {}
        self._bounds: dict[tuple, list[float]] = {}
        self._probe: AsyncConnection | None = None
        self._queries: dict[tuple, str] = {}

    async def _read_versions(self) -> dict:
        # One connection of its own (not the pool's): this read runs before every answer, and skipping the pool's
        # bookkeeping halves its cost. It is reopened after any failure.
        if self._probe is None or self._probe.closed:
            self._probe = await AsyncConnection.connect(self.pool.conninfo, **self.pool.kwargs)
        try:
            row = await (await self._probe.execute(VERSIONS_QUERY, prepare=True)).fetchone()
        except Exception:
            await self._probe.close()
            self._probe = None
            raise
        return row[0]

    async def close(self) -> None:
        if self._probe is not None:
            await self._probe.close()

    def _version_key(self, layers: Sequence[Layer], versions: dict) -> tuple | None:
        """The versions of every table the layers read; None if any layer is untracked (then nothing is cached)."""
        key = []
        for layer in layers:
            oids = self.dependencies.get(layer.id)
            if oids is None:
                return None
            key.append(tuple(versions.get(oid, 0) for oid in oids))
        return tuple(key)

    async def tile(self, layers: Sequence[Layer], z: int, x: int, y: int) -> tuple[Tile, bool]:
        """(tile, served from cache). Layers outside their zoom range contribute nothing."""
        active = layers_at_zoom(layers, z)
        if not active:
            return EMPTY, True
        key = (tuple(layer.id for layer in active), z, x, y)
        current = self._version_key(active, await self.fresh.current())
        if current is not None:
            cached = self.cache.get(key, current)
            if cached is not None:
                return cached, True
            # Identical requests for a tile being built wait for that build rather than query again.
            flight = self._inflight.get((key, current))
            if flight is not None:
                return await asyncio.shield(flight), True
        future = asyncio.get_running_loop().create_future()
        if current is not None:
            self._inflight[(key, current)] = future
        try:
            tile, versions = await self._build(active, z, x, y)
            built = self._version_key(active, versions)
            if built is not None:
                self.cache.put(key, built, tile)
            future.set_result(tile)
            return tile, False
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        finally:
            self._inflight.pop((key, current), None)

    async def _build(self, layers: Sequence[Layer], z: int, x: int, y: int) -> tuple[Tile, dict]:
        # The versions are read in the tile's own snapshot: the cache never files old data under new versions.
        text = self._queries.get((tuple(layer.id for layer in layers), z))
        if text is None:  # composed once per layer set and zoom: the same text is then a prepared statement
            text = tile_query(layers, z, extra=VERSIONS_SQL)[0].as_string()
            self._queries[(tuple(layer.id for layer in layers), z)] = text
        async with self.pool.connection() as conn:
            row = await (await conn.execute(text, tile_params(z, x, y), prepare=True)).fetchone()
        raw = b"".join(bytes(part) for part in row[1:] if part)
        if len(raw) > COMPRESS_IN_THREAD:
            return await asyncio.to_thread(Tile.from_mvt, raw), row[0]
        return Tile.from_mvt(raw), row[0]

    async def bounds(self, layers: Sequence[Layer]) -> list[float] | None:
        """[west, south, east, north] of the layers' data in WGS 84 (None when there is none)."""
        key = (tuple(layer.id for layer in layers), self._version_key(layers, await self.fresh.current()))
        if key[1] is not None and key in self._bounds:
            return self._bounds[key]
        async with self.pool.connection() as conn:
            found = bounds_from_row(await (await conn.execute(extent_query(layers))).fetchone())
        if key[1] is not None:
            self._bounds[key] = found
        return found


def tile_pool(shared: AsyncConnectionPool, size: int) -> AsyncConnectionPool:
    """Connections of the tiles' own: same server and settings as the application's pool, plus generic plans.

    Tile statements are prepared; with PostgreSQL's default plan choice each execution of the large multi-layer
    statement is re-planned (planning costs more than running it: 2.6 ms against 0.8 ms per z14 tile of the
    demo registry). A separate pool keeps that setting away from the other routers' statements.
    """
    options = f"{shared.kwargs.get('options', '')} -c plan_cache_mode=force_generic_plan".strip()
    return AsyncConnectionPool(shared.conninfo, min_size=size, max_size=size, open=False, configure=_warm_up,
                               kwargs={**shared.kwargs, "options": options}, name="tiles",
                               check=AsyncConnectionPool.check_connection, timeout=shared.timeout)


async def _warm_up(conn: AsyncConnection) -> None:
    """A new backend loads PostGIS and PROJ and reads the catalogue of every view on its first tile (tens of ms):
    done here, when the pool opens its connections, rather than in the first requests' time."""
    try:
        for z in (12, 14):  # the clustered and the unclustered statements; tile x=0 y=0 is open ocean: empty
            await conn.execute(tile_query(MAP_LAYERS, z)[0].as_string(), tile_params(z, 0, 0))
    except psycopg.Error as exc:  # a layer whose source is missing fails on its own tiles, not at start-up
        log.warning("tile connection warm-up failed: %s", exc)


@asynccontextmanager
async def tiles_lifespan(app: FastAPI):
    pool = tile_pool(app.state.pool, app.state.settings.pool_size)
    await pool.open(wait=True, timeout=30)
    try:
        async with pool.connection() as conn:
            dependencies = await layer_dependencies(conn, MAP_LAYERS)
        app.state.tiles = TileService(pool, dependencies)
        yield
        await app.state.tiles.close()
    finally:
        await pool.close()


async def get_tiles(request: Request) -> TileService:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a costly hop on the hottest path
    return request.app.state.tiles
