"""The moderation queue: what organisations submitted and editors have not decided yet, and the decision.

Edits themselves go through gis/edits.py like any other write; this module only knows the queue of a moderated
layer (a table with `moderation` and `moderation_reason` columns, see `EditPolicy.moderated`).
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis import edits
from gis.edits import EditPolicy
from gis.registry import RegistryError

DECISIONS = ("approved", "rejected", "pending")


def moderate(conn: psycopg.Connection, policy: EditPolicy, row_id: int, decision: str, reason: str | None) -> int:
    """Approve or reject a submission; a rejection needs a reason. Returns the new version."""
    if not policy.moderated:
        raise RegistryError(None, f"{policy.name} are not moderated")
    if decision not in DECISIONS:
        raise RegistryError("decision", "decision is approve or reject")
    if decision == "rejected" and not (reason and reason.strip()):
        raise RegistryError("reason", "reason: a rejection needs a reason the organisation can read")
    edits.load(conn, policy, row_id)
    return conn.execute(sql.SQL("UPDATE {} SET moderation = %s, moderation_reason = %s WHERE id = %s "
                                "RETURNING version").format(sql.Identifier("monitor", policy.name)),
                        (decision, reason, row_id)).fetchone()[0]


# Instances are the only moderated table: the queue names its columns plainly.
PENDING = """
SELECT i.id, i.name, i.kind, i.promoter, i.organization_id, o.name AS organization, i.moderation,
       i.moderation_reason, i.version, i.created_by, i.created_at, i.updated_at,
       ST_AsGeoJSON(i.venue)::json AS geometry, i.barrio_id, i.district_code
FROM monitor.instances i LEFT JOIN monitor.organizations o ON o.id = i.organization_id
WHERE i.deleted_at IS NULL AND i.moderation = ANY(%s) AND (%s::integer IS NULL OR i.organization_id = %s)
ORDER BY i.created_at, i.id
"""


def submissions(conn: psycopg.Connection, organization_id: int | None = None,
                states: tuple[str, ...] = ("pending",)) -> list[dict]:
    """Instances awaiting moderation (or in the given states); only one organisation's when given."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(PENDING, (list(states), organization_id, organization_id)).fetchall()
