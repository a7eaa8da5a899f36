"""Per-table data versions (migration 0003, `tiles.data_versions`), shared by the exact caches of tiles
(api/tiles/cache.py) and of feature pages (api/features/pages.py): which tables a layer reads, and the current
versions read by a query that started after the caller asked."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

# The relations a layer's source reads (following views through their rewrite rules), whether each base table is
# tracked, and whether any view on the way depends on something other than its tables' rows.
DEPENDENCIES_SQL = r"""
WITH RECURSIVE deps(relid) AS (
    SELECT %s::regclass::oid
    UNION
    SELECT d.refobjid
    FROM deps
    JOIN pg_rewrite r ON r.ev_class = deps.relid
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                    AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> deps.relid
)
SELECT c.oid::int8, c.oid::regclass::text, c.relkind::text,
       EXISTS (SELECT 1 FROM tiles.data_versions v WHERE v.relid = c.oid)
         AND (c.relkind = 'm' OR EXISTS (SELECT 1 FROM pg_trigger t
                                         WHERE t.tgrelid = c.oid AND t.tgname = 'tiles_data_version')),
       c.relkind = 'v' AND (
         pg_get_viewdef(c.oid) ~* %s
         OR EXISTS (SELECT 1 FROM pg_rewrite r
                    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                    AND d.refclassid = 'pg_proc'::regclass
                    JOIN pg_proc p ON p.oid = d.refobjid
                    WHERE r.ev_class = c.oid AND p.provolatile <> 'i'))
FROM deps JOIN pg_class c ON c.oid = deps.relid
"""
# Functions a view can call whose result changes without a write to a table (PostgreSQL records no dependency on
# built-in functions, so their names are looked for in the view's definition).
CHANGING_FUNCTIONS = ("now", "current_date", "current_time", "current_timestamp", "localtime", "localtimestamp",
                      "clock_timestamp", "statement_timestamp", "transaction_timestamp", "timeofday", "random",
                      "current_setting", "current_user", "session_user", "txid_current", "pg_backend_pid")
CHANGING_PATTERN = r"\m(" + "|".join(CHANGING_FUNCTIONS) + r")\M"


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

    async def current(self) -> dict:
        """Versions read by a query that started after the caller asked."""
        loop = asyncio.get_running_loop()
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
                    future.set_result(await self._read())
                except Exception as exc:  # every waiter of this read gets the error; the next read starts anew
                    future.set_exception(exc)
                    future.exception()  # marked retrieved: waiters may have gone away
                future, self._next = self._next, None
        finally:
            self._busy = False
