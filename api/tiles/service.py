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

from api.data_versions import FreshVersions
from api.tiles.cache import VERSIONS_SQL, Tile, TileCache, layer_dependencies
from layers.catalogue import MAP_LAYERS
from layers.layer import Layer
from layers.tiles_meta import bounds_from_row, extent_query
from layers.tiles_sql import layers_at_zoom, tile_params, tile_query

log = logging.getLogger("monitor.tiles")
EMPTY = Tile.from_mvt(b"")
VERSIONS_QUERY = sql.SQL("SELECT {}").format(VERSIONS_SQL).as_bytes(None)  # composed once: read per batch
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

    async def _read_versions(self) -> dict:
        # One connection of its own (not the pool's): this read runs before every answer, and skipping the pool's
        # bookkeeping halves its cost. It is reopened after any failure, and a read on a connection that a
        # database restart closed is made once more on a new one rather than failing its requests.
        for attempt in (1, 2):
            if self._probe is None or self._probe.closed:
                self._probe = await AsyncConnection.connect(self.pool.conninfo, **self.pool.kwargs)
            try:
                row = await (await self._probe.execute(VERSIONS_QUERY, prepare=True)).fetchone()
                return row[0]
            except Exception:
                stale = self._probe.closed
                await self._probe.close()
                self._probe = None
                if attempt == 2 or not stale:
                    raise

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
        if key not in self.cache and key not in self._inflight:
            # Nothing kept or being built for this address: no versions to compare, so none are read first (a
            # round trip); the build reads them in its own snapshot, which starts after this request arrived.
            return await self._build_and_keep(active, key, z, x, y), False
        current = self._version_key(active, await self.versions())
        if current is not None:
            cached = self.cache.get(key, current)
            if cached is not None:
                return cached, True
            # A build of this tile under way is shared when it reads the versions just read (after this request
            # arrived): then no write came between, whenever that build started.
            flight = self._inflight.get(key)
            if flight is not None:
                tile, built = await asyncio.shield(flight)
                if built == current:
                    return tile, True
        return await self._build_and_keep(active, key, z, x, y), False

    async def _build_and_keep(self, layers: Sequence[Layer], key: tuple, z: int, x: int, y: int) -> Tile:
        future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            tile, versions = await self._build(layers, z, x, y)
            built = self._version_key(layers, versions)
            if built is not None:
                self.cache.put(key, built, tile)
            future.set_result((tile, built))
            return tile
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        finally:
            if self._inflight.get(key) is future:
                self._inflight.pop(key)

    async def versions(self) -> dict:
        # Read after the caller asked, never pushed: LISTEN/NOTIFY was tried (2026-11-27) and saved ~20 µs of
        # CPU per cached tile under load, but a notification reaches a listener when its backend next gets the
        # CPU, after the writer's commit returns: on a busy machine an API write's next tile came back stale.
        return await self.fresh.current()

    async def _build(self, layers: Sequence[Layer], z: int, x: int, y: int) -> tuple[Tile, dict]:
        # The versions are read in the tile's own snapshot: the cache never files old data under new versions.
        text = statement(layers, z)
        for attempt in (1, 2):
            conn = None
            try:
                async with self.pool.connection() as conn:
                    row = await (await conn.execute(text, tile_params(z, x, y), prepare=True)).fetchone()
                break
            except psycopg.OperationalError:
                # The pool lends connections unchecked (a check is a round trip per tile). One that a database
                # restart closed fails here: then every idle one is checked (a restart closes them all) and the
                # tile is asked once more.
                if attempt == 2 or conn is None or not conn.closed:
                    raise
                await self.pool.check()
        raw = b"".join(bytes(part) for part in row[1:] if part)
        if len(raw) > COMPRESS_IN_THREAD:
            return await asyncio.to_thread(Tile.from_mvt, raw), row[0]
        return Tile.from_mvt(raw), row[0]

    async def bounds(self, layers: Sequence[Layer]) -> list[float] | None:
        """[west, south, east, north] of the layers' data in WGS 84 (None when there is none)."""
        key = (tuple(layer.id for layer in layers), self._version_key(layers, await self.versions()))
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
                               kwargs={**shared.kwargs, "options": options}, name="tiles", timeout=shared.timeout)


_STATEMENTS: dict[tuple[tuple[str, ...], int], str] = {}


def statement(layers: Sequence[Layer], z: int) -> str:
    """The text of the tile statement of these layers at zoom z, composed once (then a prepared statement)."""
    key = (tuple(layer.id for layer in layers), z)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = tile_query(layers, z, extra=VERSIONS_SQL)[0].as_string()
    return _STATEMENTS[key]


def served_statements() -> dict[str, int]:
    """Every distinct tile statement the routes can run (all layers, each layer alone; zooms that share a text
    share the statement), with one zoom that runs it."""
    found: dict[str, int] = {}
    for layers in (MAP_LAYERS, *([layer] for layer in MAP_LAYERS)):
        for z in range(max(layer.maxzoom for layer in layers) + 1):
            if layers_at_zoom(layers, z):
                found.setdefault(statement(layers_at_zoom(layers, z), z), z)
    return found


async def _warm_up(conn: AsyncConnection) -> None:
    """A new backend loads PostGIS and PROJ and reads the catalogue of every view on its first tile (tens of ms),
    and each tile statement is planned on its first run on a connection (1–3 ms): both done here, when the pool
    opens its connections, rather than in the first requests' time. Tile 0/0 of any zoom is open ocean: empty."""
    for text, z in served_statements().items():
        try:
            await conn.execute(text, tile_params(z, 0, 0), prepare=True)
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
