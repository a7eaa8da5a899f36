"""The application factory: one pool, problem+json errors, and the routers."""

from __future__ import annotations

from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware

from api.database import open_pool, open_write_pool
from api.errors import install_error_handlers
from api.http import SecurityHeaders, trusted_hosts
from api.ratelimit import ClientBudgets, RateLimit
from api.routers import LIFESPAN_HOOKS, ROUTERS
from api.tiles.shortcut import answer_tile, exact_hosts
from gis.cluster import database_url
from gis.config import Settings, get_settings


class MonitorAPI(FastAPI):
    """FastAPI, with tiles answered before the middleware stack and routing (api/tiles/shortcut.py)."""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and await answer_tile(self, scope, send):
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, url: str | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.pool = open_pool(url or database_url(settings), settings)
        await app.state.pool.open(wait=True, timeout=30)
        app.state.write_pool = open_write_pool(app.state.pool.conninfo, settings)
        app.state.write_pool.open(wait=True, timeout=30)
        try:
            async with AsyncExitStack() as stack:
                for hook in LIFESPAN_HOOKS:
                    await stack.enter_async_context(hook(app))
                yield
        finally:
            app.state.write_pool.close()
            await app.state.pool.close()

    app = MonitorAPI(
        title="Monitor de Participación Ciudadana de Rosario",
        description="Registry, index, OGC API - Features and vector tiles of citizen participation in Rosario.",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/api",
        docs_url="/api.html",
        redoc_url=None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    # Inside SecurityHeaders, so a 429 carries the same headers as any answer.
    app.state.budgets = ClientBudgets(settings.rate_limit_reads, settings.rate_limit_writes)
    app.add_middleware(RateLimit, budgets=app.state.budgets)
    app.add_middleware(SecurityHeaders, docs_path=app.docs_url)
    hosts = trusted_hosts(settings)
    if hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)  # outermost: a forged Host stops here
    app.state.shortcut_hosts = exact_hosts(hosts)
    for router in ROUTERS:
        app.include_router(router)
    return app
