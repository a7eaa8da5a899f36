"""Errors as RFC 9457 problem details (`application/problem+json`), never a bare 500."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis.edits import NotFound, StaleVersion
from gis.registry import RegistryError
from layers.features_sql import QueryError

PROBLEM = "application/problem+json"
log = logging.getLogger("monitor.api")
RETRY_AFTER_SECONDS = 5  # what a client is told to wait while the database is away
# Refusals are readable cross-origin like the answers they replace: a browser client sees the problem, not a
# CORS failure.
ERROR_CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After, Allow"}


class Problem(Exception):
    """Raise to answer with a problem document: `Problem(400, "Invalid bbox", "bbox needs 4 or 6 numbers")`."""

    def __init__(self, status: int, title: str, detail: str | None = None, headers: dict | None = None, **extra):
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.headers, self.extra = status, title, detail, headers, extra


def problem_response(status: int, title: str, detail: str | None = None, headers: dict | None = None,
                     **extra) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, **({"detail": detail} if detail else {}), **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers={**ERROR_CORS, **(headers or {})})


def database_unavailable(exc: Exception) -> JSONResponse:
    """503 while the database cannot be reached (down, restarting, refusing connections, the pool exhausted):
    the client is told when to retry; a write that got this stored nothing."""
    log.warning("database unavailable: %s", str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
    return problem_response(503, "Database unavailable", "the database cannot be reached just now; retry in a few "
                            "seconds (nothing was changed)", {"Retry-After": str(RETRY_AFTER_SECONDS)})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem):
        return problem_response(exc.status, exc.title, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        title = {404: "Not Found", 405: "Method Not Allowed"}.get(exc.status_code, "HTTP error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(exc.status_code, title, detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        return problem_response(400, "Invalid request", detail, errors=errors)

    # The core's refusals, whichever router they come from: raised once, turned into a problem here.
    @app.exception_handler(QueryError)
    async def _query(_: Request, exc: QueryError):
        return problem_response(400, exc.title, exc.detail)

    @app.exception_handler(RegistryError)
    async def _registry(_: Request, exc: RegistryError):
        field = {"field": exc.field} if exc.field else {}
        if exc.conflict:
            return problem_response(409, "Conflict", exc.message, **field)
        return problem_response(400, "Invalid feature", exc.message, **field)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound):
        return problem_response(404, "Not Found", str(exc))

    @app.exception_handler(StaleVersion)
    async def _stale(_: Request, exc: StaleVersion):
        return problem_response(412, "Precondition Failed", f"the feature changed meanwhile (now version "
                                f"{exc.current}); GET it again and reapply your change")

    @app.exception_handler(psycopg.errors.DataError)
    async def _bad_value(_: Request, exc: psycopg.errors.DataError):
        return problem_response(400, "Invalid value", str(exc).splitlines()[0][:300])

    @app.exception_handler(psycopg.errors.InvalidParameterValue)
    async def _bad_parameter(_: Request, exc: psycopg.errors.InvalidParameterValue):
        return problem_response(400, "Invalid value", str(exc).splitlines()[0][:300])

    @app.exception_handler(psycopg.errors.QueryCanceled)
    async def _too_slow(_: Request, exc: psycopg.errors.QueryCanceled):
        return problem_response(503, "Query too slow", "the query exceeded the statement timeout; narrow it",
                                {"Retry-After": "5"})

    # The database going away: connection refused or lost, server shutting down, no pooled connection in time
    # (psycopg_pool.PoolTimeout is an OperationalError). QueryCanceled, more specific, keeps its own answer above.
    @app.exception_handler(psycopg.OperationalError)
    async def _database_down(_: Request, exc: psycopg.OperationalError):
        return database_unavailable(exc)

    @app.exception_handler(psycopg.InterfaceError)  # "the connection is closed": lost under a running request
    async def _connection_lost(_: Request, exc: psycopg.InterfaceError):
        return database_unavailable(exc)

    @app.exception_handler(psycopg.errors.InternalError_)
    async def _internal(_: Request, exc: psycopg.errors.InternalError_):
        message = str(exc).splitlines()[0] if str(exc) else ""
        if message.startswith("transform:"):  # PROJ refused coordinates a client sent (outside the CRS's domain)
            return problem_response(400, "Invalid coordinates", f"coordinates outside the domain of their CRS "
                                    f"({message[:200]})")
        log.exception("unexpected database error", exc_info=exc)
        return problem_response(500, "Internal error", "the error was logged; please report it")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unexpected error", exc_info=exc)
        return problem_response(500, "Internal error", "the error was logged; please report it")
