"""The connection pools the routers share, opened and closed with the application.

Reads go through the async pool. Writes run the synchronous edit engine (gis/edits.py, shared with the importer)
in a worker thread, on a synchronous pool with the same server and session settings (statement timeout, time
zone): no request opens a connection of its own.
"""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import psycopg
from fastapi import FastAPI, Request
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool
from starlette.concurrency import run_in_threadpool

from gis.config import Settings

T = TypeVar("T")


def session_options(settings: Settings) -> str:
    # Every connection gets the statement timeout: no request can hold the database for long.
    return f"-c statement_timeout={settings.statement_timeout_ms} -c timezone=America/Argentina/Cordoba"


async def check_idle_connection(conn: psycopg.AsyncConnection) -> None:
    """The pool's test of a connection before lending it, without a round trip when nothing says it is broken.

    An idle connection receives nothing unless the server is ending it: a restart, an administrator's
    pg_terminate_backend or a crash leave an error message or an end of file on its socket. So a socket with nothing
    to read means a live connection as far as any test could tell (a dropped network would not answer a test query
    either); anything to read, and the connection is tested with an empty query (which raises if it is broken, and
    the pool replaces it). The full test on every loan cost a round trip per request.
    """
    if conn.closed:
        raise psycopg.OperationalError("the connection is closed")
    waiting = select.poll()  # not select.select: it cannot take descriptors above 1023
    waiting.register(conn.fileno(), select.POLLIN)
    if waiting.poll(0):
        await AsyncConnectionPool.check_connection(conn)


# When the database goes away, a request waits at most `db_wait_seconds` for a connection and is answered 503
# (api/errors.py); `check` tests each pooled connection before lending it, so after a database restart the
# stale connections are replaced instead of failing the next requests.
def open_pool(url: str, settings: Settings) -> AsyncConnectionPool:
    return AsyncConnectionPool(url, min_size=2, max_size=settings.pool_size, open=False,
                               timeout=settings.db_wait_seconds, check=check_idle_connection,
                               kwargs={"options": session_options(settings), "autocommit": True,
                                       "connect_timeout": settings.db_wait_seconds})


def open_write_pool(url: str, settings: Settings) -> ConnectionPool:
    return ConnectionPool(url, min_size=1, max_size=max(2, settings.pool_size // 2), open=False, name="writes",
                          timeout=settings.db_wait_seconds, check=ConnectionPool.check_connection,
                          kwargs={"options": session_options(settings), "connect_timeout": settings.db_wait_seconds})


def get_pool(request: Request) -> AsyncConnectionPool:
    return request.app.state.pool


async def fetch_rows(pool: AsyncConnectionPool, query, params: tuple | list = ()) -> list[dict]:
    """Every row of a read, as dicts."""
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


@contextmanager
def write_transaction(app: FastAPI, actor: str | None) -> Iterator[psycopg.Connection]:
    """One transaction on the write pool: committed when the block ends, rolled back on any error. `actor`
    is what the history triggers record as who made the change (None: the database user)."""
    with app.state.write_pool.connection() as conn, conn.transaction():
        if actor:
            conn.execute("SELECT set_config('monitor.actor', %s, true)", (actor,))
        yield conn


async def in_write_transaction(app: FastAPI, actor: str | None, work: Callable[[psycopg.Connection], T]) -> T:
    """`work(conn)` (the core's functions are synchronous) in a worker thread, in one write transaction."""
    def transaction() -> T:
        with write_transaction(app, actor) as conn:
            return work(conn)
    return await run_in_threadpool(transaction)
