"""Who is calling: `Authorization: Bearer <token>` or the back-office's session cookie → a Principal, and the role
checks the write routes use.

A bearer token wins when both are sent. A session (gis/sessions.py, opened at /gestion/entrar) stands for the
token it was opened with; since browsers send cookies by themselves, a write made with a session (any method but
GET, HEAD and OPTIONS) must also carry the session's CSRF token in `X-CSRF-Token`, which only the back-office's own
pages know.
"""

from __future__ import annotations

from fastapi import Depends, Request
from psycopg_pool import AsyncConnectionPool

from api.database import get_pool
from api.errors import Problem
from gis.auth import AUTHENTICATE, Principal, hash_token, principal_from_row
from gis.sessions import AUTHENTICATE_SESSION, csrf_matches, hash_secret

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="monitor"'}
SESSION_COOKIE = "gestion_sesion"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def session_principal(request: Request, pool: AsyncConnectionPool) -> Principal | None:
    """The principal of the request's session cookie, or None without one; 401 for an ended or expired session,
    403 for a write without the session's CSRF token."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    async with pool.connection() as conn:
        row = await (await conn.execute(AUTHENTICATE_SESSION, (hash_secret(secret),))).fetchone()
    principal = principal_from_row(row)
    if principal is None:
        raise Problem(401, "Unauthorized", "the session has expired or was closed: sign in again at /gestion/entrar",
                      headers=CHALLENGE)
    if request.method not in SAFE_METHODS and not csrf_matches(secret, request.headers.get(CSRF_HEADER)):
        raise Problem(403, "Forbidden", f"a write made with a session needs its CSRF token in {CSRF_HEADER}",
                      field="csrf")
    return principal


async def optional_principal(request: Request, pool: AsyncConnectionPool = Depends(get_pool)) -> Principal | None:
    header = request.headers.get("authorization")
    if not header:
        return await session_principal(request, pool)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "Unauthorized", "use Authorization: Bearer <token>", headers=CHALLENGE)
    async with pool.connection() as conn:
        row = await (await conn.execute(AUTHENTICATE, (hash_token(token.strip()),))).fetchone()
    principal = principal_from_row(row)
    if principal is None:
        raise Problem(401, "Unauthorized", "the token is unknown or revoked", headers=CHALLENGE)
    return principal


async def principal(caller: Principal | None = Depends(optional_principal)) -> Principal:
    if caller is None:
        raise Problem(401, "Unauthorized", "this operation needs a bearer token", headers=CHALLENGE)
    return caller


async def editor(caller: Principal = Depends(principal)) -> Principal:
    if not caller.is_editor:
        raise Problem(403, "Forbidden", "only editors and admins may do this")
    return caller


async def admin(caller: Principal = Depends(principal)) -> Principal:
    if caller.role != "admin":
        raise Problem(403, "Forbidden", "only admins may do this")
    return caller
