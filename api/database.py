"""The connection pool the routers share, opened and closed with the application."""

from __future__ import annotations

from fastapi import Request
from psycopg_pool import AsyncConnectionPool

from gis.config import Settings


def open_pool(url: str, settings: Settings) -> AsyncConnectionPool:
    # Every connection gets the statement timeout: no request can hold the database for long.
    options = f"-c statement_timeout={settings.statement_timeout_ms} -c timezone=America/Argentina/Cordoba"
    return AsyncConnectionPool(url, min_size=2, max_size=settings.pool_size, open=False,
                               kwargs={"options": options, "autocommit": True})


def get_pool(request: Request) -> AsyncConnectionPool:
    return request.app.state.pool
