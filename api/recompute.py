"""The index recomputer's life in the application: a first run before serving, then listening in the background.

Only the process that leads (gis/index/recompute.py, an advisory lock) computes; with `monitor serve --workers N`
the other N - 1 processes wait to take over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from gis.index.recompute import Recomputer

log = logging.getLogger("monitor.index")


@contextlib.asynccontextmanager
async def recompute_hook(app):
    """Computes a first run before serving when none exists (so the index layers are never served half-made)
    if this process leads, then listens for writes and recomputes in the background until shutdown."""
    recomputer = Recomputer(app.state.pool.conninfo)
    app.state.index_recomputer = recomputer
    leader = None
    try:
        leader = await recomputer.try_lead()
        if leader is not None:
            await recomputer.start_up()
    except Exception as exc:  # e.g. the database is not migrated yet: serve anyway, the listener retries
        log.warning("index start-up run skipped: %s", exc)
    task = asyncio.create_task(recomputer.listen(leader), name="index-recompute")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
