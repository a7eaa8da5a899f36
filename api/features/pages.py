"""Items pages and selections kept per application, checked against the data versions of the tables they were
read from, so that every answer is what a statement run now would return.

Migration 0003 makes every write statement (API, import, CLI, psql) bump the version of its table in
`tiles.data_versions`, inside the writer's transaction. Two things are kept, each with the versions of its
layer's tables read in the same snapshot (layers/features_sql.selection_sql):

- a page (its features' text and counts), answered again only after the current versions, read by a query that
  *started after the request arrived* (concurrent requests share one such read), are found equal: no write to
  those tables committed in between;
- a selection's ids in order (layer, filters, order): another page of it is then read by id alone, in a statement
  that reads the current versions itself and returns nothing when they differ (keyed_page_sql). Paging clients
  (GDAL, QGIS) walk one selection; its count and order are computed once per data version.

A committed write is in the very next answer. A layer is kept only when that argument holds for it: every table
its view reads is tracked, and no view on the way calls a function whose result changes without a write (now(),
current_date, random(), or a non-immutable function of our own, which may read untracked tables). Other layers
are read afresh every time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cachetools import LRUCache
from psycopg_pool import AsyncConnectionPool

from api.data_versions import CHANGING_PATTERN, DEPENDENCIES_SQL, FreshVersions
from layers.layer import Layer

log = logging.getLogger("monitor.features")

MAX_BYTES = 64 * 2**20  # kept features text, per application
MAX_PAGE_BYTES = 4 * 2**20  # a larger page is not kept: it would push out many small ones
MAX_SELECTION_KEYS = 100_000  # ids of one selection kept (a larger one is read page by page)
MAX_KEYS = 1_000_000  # ids kept, per application

VERSIONS_SQL = "SELECT relid::int8, version FROM tiles.data_versions"


@dataclass(frozen=True)
class Page:
    features: bytes  # the features' JSON texts, comma-separated (the inside of the `features` array)
    returned: int
    matched: int
    versions: tuple[int, ...]  # of the layer's tables, in the order of `Pages.tables(layer)`


@dataclass(frozen=True)
class Selection:
    """Every id a selection (layer, filters, order) holds, in order, and the data versions they were read with."""

    keys: tuple
    versions: tuple[int, ...]


async def layer_tables(pool: AsyncConnectionPool, layer: Layer) -> tuple[int, ...] | None:
    """The oids of the tables `layer` reads, sorted; None when its pages must not be kept (see module doc)."""
    async with pool.connection() as conn:
        has_versions = (await (await conn.execute("SELECT to_regclass('tiles.data_versions') IS NOT NULL"))
                        .fetchone())[0]
        if not has_versions:
            return None
        try:
            rows = await (await conn.execute(DEPENDENCIES_SQL, (layer.source, CHANGING_PATTERN))).fetchall()
        except Exception as exc:  # a source that does not exist: its items fail on their own, loudly
            log.warning("items of %s are read afresh: cannot read the dependencies of %s: %s",
                        layer.id, layer.source, exc)
            return None
    tables = [(oid, name, tracked) for oid, name, kind, tracked, _ in rows if kind in ("r", "p", "m")]
    untracked = [name for _, name, tracked in tables if not tracked]
    changing = [name for _, name, _, _, volatile in rows if volatile]
    if untracked or changing or not tables:
        log.info("items of %s are read afresh (untracked tables: %s; views depending on time or functions: %s)",
                 layer.id, untracked, changing)
        return None
    return tuple(sorted(oid for oid, _, _ in tables))


class Pages:
    """One application's kept pages (LRU bounded in bytes, keyed by layer and the parsed query) and selections (LRU
    bounded in ids, keyed by layer, filters and order)."""

    def __init__(self, pool: AsyncConnectionPool, max_bytes: int = MAX_BYTES):
        self.pool = pool
        self._tables: dict[str, tuple[int, ...] | None] = {}
        self._pages: LRUCache[tuple, Page] = LRUCache(max_bytes, getsizeof=lambda page: len(page.features) or 1)
        self._selections: LRUCache[tuple, Selection] = LRUCache(MAX_KEYS, getsizeof=lambda s: len(s.keys) or 1)
        self.too_large: LRUCache[tuple, None] = LRUCache(1024)  # selections of more than MAX_SELECTION_KEYS ids
        self.versions = FreshVersions(self._read_versions)

    async def _read_versions(self) -> dict[int, int]:
        async with self.pool.connection() as conn:
            return dict(await (await conn.execute(VERSIONS_SQL, prepare=True)).fetchall())

    async def tables(self, layer: Layer) -> tuple[int, ...] | None:
        if layer.id not in self._tables:
            self._tables[layer.id] = await layer_tables(self.pool, layer)
        return self._tables[layer.id]

    async def get(self, key: tuple, tables: tuple[int, ...]) -> Page | None:
        """The kept page for `key` if no write to its tables has committed since it was read."""
        page = self._pages.get(key)
        if page is None:
            return None
        current = await self.versions.current()
        if tuple(current.get(oid) for oid in tables) != page.versions:
            self._pages.pop(key, None)
            return None
        return page

    def put(self, key: tuple, page: Page) -> None:
        if len(page.features) <= MAX_PAGE_BYTES and None not in page.versions:
            self._pages[key] = page

    def selection(self, key: tuple) -> Selection | None:
        """The ids of a selection, to be used only by a statement that checks their versions (keyed_page_sql)."""
        return self._selections.get(key)

    def keep_selection(self, key: tuple, selection: Selection) -> None:
        if len(selection.keys) <= MAX_SELECTION_KEYS and None not in selection.versions:
            self._selections[key] = selection

    def forget_selection(self, key: tuple) -> None:
        self._selections.pop(key, None)


def pages_of(app) -> Pages:
    """The application's pages, made on first use (each application has its own pool and database)."""
    pages = getattr(app.state, "feature_pages", None)
    if pages is None or pages.pool is not app.state.pool:
        pages = app.state.feature_pages = Pages(app.state.pool)
    return pages
