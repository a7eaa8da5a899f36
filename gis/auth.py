"""API tokens: created once and shown once, stored only as a hash, revocable; roles admin, editor, organization.

Tokens are 256-bit random strings, so a plain SHA-256 is enough to store them safely (a slow password hash
guards low-entropy secrets, which these are not) and lets each request be checked with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

import psycopg

Role = Literal["admin", "editor", "organization"]
ROLES: tuple[str, ...] = ("admin", "editor", "organization")
PREFIX = "mpc_"  # recognisable in logs and secret scanners


class TokenError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    token_id: int
    name: str
    role: Role
    organization_id: int | None

    @property
    def actor(self) -> str:
        """What the history records as who made a change."""
        return f"token:{self.token_id}:{self.role}:{self.name}"

    @property
    def is_editor(self) -> bool:
        return self.role in ("admin", "editor")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def resolve_organization(conn: psycopg.Connection, organization: str) -> int:
    """An organisation by id, external id or exact name."""
    row = conn.execute(
        "SELECT id FROM monitor.organizations WHERE id::text = %s OR external_id = %s OR name = %s ORDER BY id LIMIT 1",
        (organization, organization, organization)).fetchone()
    if row is None:
        raise TokenError(f"no organisation {organization!r} (give its id, external id or exact name)")
    return row[0]


def create_token(conn: psycopg.Connection, role: str, name: str, organization: str | None = None) -> tuple[int, str]:
    """Returns (token id, the token). The token itself is not stored and cannot be shown again."""
    if role not in ROLES:
        raise TokenError(f"role must be one of {', '.join(ROLES)}")
    if not name or not name.strip():
        raise TokenError("a token needs a name (who or what uses it)")
    if (role == "organization") != (organization is not None):
        raise TokenError("an organization token needs its organisation (--organization); other roles take none")
    organization_id = resolve_organization(conn, organization) if organization is not None else None
    token = PREFIX + secrets.token_urlsafe(32)
    token_id = conn.execute(
        "INSERT INTO monitor.api_tokens (name, role, organization_id, token_hash) VALUES (%s, %s, %s, %s) RETURNING id",
        (name.strip(), role, organization_id, hash_token(token))).fetchone()[0]
    return token_id, token


def revoke_token(conn: psycopg.Connection, token_id: int) -> bool:
    row = conn.execute("UPDATE monitor.api_tokens SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL "
                       "RETURNING id", (token_id,)).fetchone()
    return row is not None


def list_tokens(conn: psycopg.Connection) -> list[dict]:
    rows = conn.execute(
        "SELECT t.id, t.name, t.role, t.organization_id, o.name, t.created_at, t.revoked_at, t.last_used_at "
        "FROM monitor.api_tokens t LEFT JOIN monitor.organizations o ON o.id = t.organization_id ORDER BY t.id"
    ).fetchall()
    keys = ("id", "name", "role", "organization_id", "organization", "created_at", "revoked_at", "last_used_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


# One round trip: find the live token and note its use at most hourly (each note is a history row).
AUTHENTICATE = """
WITH found AS (
    SELECT id, name, role, organization_id, last_used_at FROM monitor.api_tokens
    WHERE token_hash = %s AND revoked_at IS NULL
), touched AS (
    UPDATE monitor.api_tokens t SET last_used_at = now() FROM found
    WHERE t.id = found.id AND (found.last_used_at IS NULL OR found.last_used_at < now() - interval '1 hour')
)
SELECT id, name, role, organization_id FROM found
"""


def principal_from_row(row) -> Principal | None:
    return Principal(*row) if row else None
