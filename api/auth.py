"""Who is calling: `Authorization: Bearer <token>` → a Principal, and the role checks the write routes use."""

from __future__ import annotations

from fastapi import Depends, Request
from psycopg_pool import AsyncConnectionPool

from api.database import get_pool
from api.errors import Problem
from gis.auth import AUTHENTICATE, Principal, hash_token, principal_from_row

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="monitor"'}


async def optional_principal(request: Request, pool: AsyncConnectionPool = Depends(get_pool)) -> Principal | None:
    header = request.headers.get("authorization")
    if not header:
        return None
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
