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


class Problem(Exception):
    """Raise to answer with a problem document: `Problem(400, "Invalid bbox", "bbox needs 4 or 6 numbers")`."""

    def __init__(self, status: int, title: str, detail: str | None = None, headers: dict | None = None, **extra):
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.headers, self.extra = status, title, detail, headers, extra


def problem_response(status: int, title: str, detail: str | None = None, headers: dict | None = None,
                     **extra) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, **({"detail": detail} if detail else {}), **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


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

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unexpected error", exc_info=exc)
        return problem_response(500, "Internal error", "the error was logged; please report it")
