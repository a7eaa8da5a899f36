"""Back-office sessions and one-time invitations: no HTTP here (api/gestion/ and api/auth.py use it).

A session is opened with a token that exists (gis/auth.py) and stands for it: same role, same organisation, same
actor in the history; revoking the token ends its sessions. The browser holds a 256-bit random secret (an
HttpOnly cookie); the table holds only its SHA-256, so a copy of the database opens no session. The CSRF token of a
session is derived from its secret (an HMAC), so it needs no storage and no page of another site can compute it.

An invitation is a one-time link for an organisation, made by an admin. Its code is stored as a SHA-256 as well;
using it mints an organisation token once, in the same transaction that marks the invitation used (the row is
locked, so two people opening the same link at once get one token between them).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from gis.auth import AUTHENTICATE, Principal, create_token, hash_token, principal_from_row, resolve_organization

SESSION_HOURS = 8  # a working day; then the person signs in again
INVITATION_DAYS = 7  # default life of an invitation link
MAX_INVITATION_DAYS = 60


class InvitationError(ValueError):
    """An invitation that cannot be used; `reason` is unknown, used, expired or revoked."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_token(secret: str) -> str:
    """The CSRF token of the session whose cookie holds `secret`."""
    return hmac.new(secret.encode(), b"monitor-gestion-csrf", hashlib.sha256).hexdigest()


def csrf_matches(secret: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(secret), given.strip())


# ---------------------------------------------------------------------------------------------- sessions
# A live session of a live token: the token's principal (the same columns as gis.auth.AUTHENTICATE).
AUTHENTICATE_SESSION = """
SELECT t.id, t.name, t.role, t.organization_id
FROM monitor.sessions s JOIN monitor.api_tokens t ON t.id = s.token_id
WHERE s.session_hash = %s AND s.ended_at IS NULL AND s.expires_at > now() AND t.revoked_at IS NULL
"""


def open_session(conn: psycopg.Connection, token_id: int, hours: float = SESSION_HOURS) -> tuple[str, datetime]:
    """A new session for a token: (the secret for the cookie, when it expires). Expired sessions are purged."""
    conn.execute("DELETE FROM monitor.sessions WHERE expires_at < now() - interval '1 day'")
    secret = secrets.token_urlsafe(32)
    expires = conn.execute(
        "INSERT INTO monitor.sessions (session_hash, token_id, expires_at) "
        "VALUES (%s, %s, now() + make_interval(secs => %s)) RETURNING expires_at",
        (hash_secret(secret), token_id, hours * 3600)).fetchone()[0]
    return secret, expires


def sign_in(conn: psycopg.Connection, token: str) -> tuple[Principal, str, datetime] | None:
    """A token exchanged for a session: (who, the session secret, its expiry), or None for an unknown token."""
    principal = principal_from_row(conn.execute(AUTHENTICATE, (hash_token(token.strip()),)).fetchone())
    if principal is None:
        return None
    secret, expires = open_session(conn, principal.token_id)
    return principal, secret, expires


def session_principal(conn: psycopg.Connection, secret: str) -> Principal | None:
    return principal_from_row(conn.execute(AUTHENTICATE_SESSION, (hash_secret(secret),)).fetchone())


def end_session(conn: psycopg.Connection, secret: str) -> bool:
    row = conn.execute("UPDATE monitor.sessions SET ended_at = now() WHERE session_hash = %s AND ended_at IS NULL "
                       "RETURNING id", (hash_secret(secret),)).fetchone()
    return row is not None


# ---------------------------------------------------------------------------------------------- invitations
def create_invitation(conn: psycopg.Connection, organization: str, name: str,
                      days: int = INVITATION_DAYS) -> tuple[int, str, datetime]:
    """(invitation id, the code — shown once, never stored —, expiry) for an organisation (id, external id or
    exact name). `name` names the token it will mint (who will use it)."""
    if not name or not name.strip():
        raise ValueError("an invitation needs a name (who will use it)")
    if not 1 <= days <= MAX_INVITATION_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_INVITATION_DAYS}")
    organization_id = resolve_organization(conn, str(organization))
    code = secrets.token_urlsafe(24)
    row = conn.execute(
        "INSERT INTO monitor.invitations (code_hash, organization_id, name, expires_at) "
        "VALUES (%s, %s, %s, now() + make_interval(days => %s)) RETURNING id, expires_at",
        (hash_secret(code), organization_id, name.strip(), days)).fetchone()
    return row[0], code, row[1]


INVITATIONS = """
SELECT i.id, i.organization_id, o.name AS organization, i.name, i.created_by, i.created_at, i.expires_at, i.used_at,
       i.token_id, i.revoked_at,
       CASE WHEN i.revoked_at IS NOT NULL THEN 'revoked' WHEN i.used_at IS NOT NULL THEN 'used'
            WHEN i.expires_at <= now() THEN 'expired' ELSE 'open' END AS status
FROM monitor.invitations i JOIN monitor.organizations o ON o.id = i.organization_id
ORDER BY i.created_at DESC, i.id DESC
"""


def list_invitations(conn: psycopg.Connection) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(INVITATIONS).fetchall()


def revoke_invitation(conn: psycopg.Connection, invitation_id: int) -> bool:
    row = conn.execute("UPDATE monitor.invitations SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL "
                       "AND used_at IS NULL RETURNING id", (invitation_id,)).fetchone()
    return row is not None


def invitation(conn: psycopg.Connection, code: str, lock: bool = False) -> dict:
    """The open invitation a code names, or InvitationError saying why it cannot be used."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT i.id, i.organization_id, o.name AS organization, i.name, i.expires_at, i.used_at, i.revoked_at, "
            "i.expires_at <= now() AS expired FROM monitor.invitations i "
            "JOIN monitor.organizations o ON o.id = i.organization_id WHERE i.code_hash = %s"
            + (" FOR UPDATE OF i" if lock else ""), (hash_secret(code),)).fetchone()
    if row is None:
        raise InvitationError("unknown", "no invitation has this code")
    if row["revoked_at"] is not None:
        raise InvitationError("revoked", "the invitation was revoked")
    if row["used_at"] is not None:
        raise InvitationError("used", "the invitation was already used")
    if row["expired"]:
        raise InvitationError("expired", "the invitation expired")
    return row


def accept_invitation(conn: psycopg.Connection, code: str) -> tuple[Principal, str]:
    """Use an invitation once: mints its organisation token and marks the invitation used. Returns (the token's
    principal, the token — shown once)."""
    found = invitation(conn, code, lock=True)
    token_id, token = create_token(conn, "organization", found["name"], str(found["organization_id"]))
    conn.execute("UPDATE monitor.invitations SET used_at = now(), token_id = %s WHERE id = %s", (token_id, found["id"]))
    return Principal(token_id, found["name"], "organization", found["organization_id"]), token
