"""The moderation queue: what organisations submitted and editors have not decided yet, and the decision.

Edits themselves go through gis/edits.py like any other write; this module only knows the queue of a moderated
layer (a table with `moderation` and `moderation_reason` columns, see `EditPolicy.moderated`).

Two kinds of things wait for an editor:
- submissions: rows an organisation created (`moderation = 'pending'`), invisible to the public until approved;
- changes: an organisation's edit (PUT/PATCH) of one of its rows that is already approved. The row is not touched:
  the change is kept in monitor.instance_changes (validated and checked like an edit, so what an editor accepts
  can be stored) and the public keeps seeing the approved version until an editor accepts it; it is then applied
  through `edits.patch`, on top of whatever editors changed meanwhile. A rejected change stays with its reason
  for the organisation to read.
"""

from __future__ import annotations

from collections.abc import Mapping

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from gis import edits
from gis.edits import EditPolicy, NotFound
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
       i.moderation_reason, i.public_contact, i.private_notes, i.version, i.created_by, i.created_at, i.updated_at,
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


# ---------------------------------------------------------------- changes to approved rows

def _json_values(policy: EditPolicy, values: Mapping) -> dict | None:
    """Validated values in the model's JSON form (what a change stores), or None when they do not validate."""
    try:
        return edits.validate(policy, values).model_dump(mode="json")
    except RegistryError:
        return None


def propose_change(conn: psycopg.Connection, policy: EditPolicy, row_id: int, values: Mapping,
                   expected_version: int, partial: bool) -> tuple[int, dict]:
    """An organisation's PUT/PATCH of an approved row, kept for an editor instead of applied.

    Validated and checked as the edit itself would be (a refusal is the same 400/409 now, not at approval). A PATCH
    adds to the organisation's pending change of the row, a PUT replaces it. Returns (the row's version, which does
    not change, and the fields the change holds); no difference from the approved row leaves nothing pending."""
    row = edits.lock(conn, policy, row_id, expected_version, values)
    current = edits.stored_values(policy, row)
    pending = conn.execute("SELECT changes FROM monitor.instance_changes WHERE instance_id = %s "
                           "AND state = 'pending' FOR UPDATE", (row_id,)).fetchone()
    if partial:
        wanted = {**current, **(pending[0] if pending else {}), **values}
    else:
        wanted = {**{k: current[k] for k in policy.keep_on_replace if k in current}, **values}
    item = edits.validate(policy, wanted)
    proposed = item.model_dump(mode="json")
    approved = _json_values(policy, current) or {}
    changes = {k: v for k, v in proposed.items() if k not in approved or approved[k] != v}
    if not changes:
        conn.execute("DELETE FROM monitor.instance_changes WHERE instance_id = %s AND state = 'pending'", (row_id,))
        return row["version"], {}
    edits.check(conn, policy, item, row_id, changed=changes)
    conn.execute(
        """INSERT INTO monitor.instance_changes (instance_id, changes, base_version) VALUES (%s, %s, %s)
           ON CONFLICT (instance_id) DO UPDATE SET changes = EXCLUDED.changes, base_version = EXCLUDED.base_version,
               state = 'pending', reason = NULL, proposed_by = monitor.current_actor(), proposed_at = now(),
               decided_by = NULL, decided_at = NULL""",
        (row_id, Jsonb(changes), row["version"]))
    return row["version"], changes


def decide_change(conn: psycopg.Connection, policy: EditPolicy, row_id: int, decision: str,
                  reason: str | None) -> int:
    """Accept (apply through the edit engine, validated again on the row as it is now) or reject (with a reason
    the organisation reads) the pending change of an approved row. Returns the row's version."""
    found = conn.execute("SELECT changes FROM monitor.instance_changes WHERE instance_id = %s AND state = 'pending' "
                         "FOR UPDATE", (row_id,)).fetchone()
    if found is None:
        raise NotFound(f"no pending change of {policy.name} row {row_id}")
    if decision == "approved":
        version = edits.patch(conn, policy, row_id, found[0], None)
        conn.execute("DELETE FROM monitor.instance_changes WHERE instance_id = %s", (row_id,))
        return version
    if decision != "rejected":
        raise RegistryError("decision", "decision is approve or reject")
    if not (reason and reason.strip()):
        raise RegistryError("reason", "reason: a rejection needs a reason the organisation can read")
    conn.execute("UPDATE monitor.instance_changes SET state = 'rejected', reason = %s, "
                 "decided_by = monitor.current_actor(), decided_at = now() WHERE instance_id = %s", (reason, row_id))
    return edits.load(conn, policy, row_id, lock=False)["version"]


def decide(conn: psycopg.Connection, policy: EditPolicy, row_id: int, decision: str,
           reason: str | None) -> tuple[int, bool]:
    """An editor's decision on what waits about a row: its pending change when the row is approved and has one,
    else the row itself (a submission). Returns (the row's version, whether it was about a change)."""
    row = edits.load(conn, policy, row_id)
    has_change = row["moderation"] == "approved" and conn.execute(
        "SELECT 1 FROM monitor.instance_changes WHERE instance_id = %s AND state = 'pending'", (row_id,)).fetchone()
    if has_change:
        return decide_change(conn, policy, row_id, decision, reason), True
    return moderate(conn, policy, row_id, decision, reason), False


CHANGES = """
SELECT c.instance_id AS id, i.name, i.organization_id, o.name AS organization, c.state, c.reason, c.changes,
       (to_jsonb(i) - 'venue' - 'venue_3857') || jsonb_build_object('venue', ST_AsGeoJSON(i.venue)::jsonb) AS stored,
       c.base_version, i.version, c.proposed_by, c.proposed_at, c.decided_by, c.decided_at
FROM monitor.instance_changes c
JOIN monitor.instances i ON i.id = c.instance_id
LEFT JOIN monitor.organizations o ON o.id = i.organization_id
WHERE i.deleted_at IS NULL AND c.state = ANY(%s) AND (%s::integer IS NULL OR i.organization_id = %s)
ORDER BY c.proposed_at, c.instance_id
"""


def changes(conn: psycopg.Connection, organization_id: int | None = None,
            states: tuple[str, ...] = ("pending",)) -> list[dict]:
    """Changes to approved instances waiting for an editor (or in the given states), each with `current`: the
    approved values of the fields it changes."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(CHANGES, (list(states), organization_id, organization_id)).fetchall()
    for row in rows:
        stored = row.pop("stored")
        row["current"] = {field: stored.get(field) for field in row["changes"]}
    return rows
