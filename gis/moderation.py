"""Edits after the insert: replace, patch, soft delete and restore, moderation, and the pending queue.

Inserts live in gis/registry.py (shared with `monitor import`); this module reuses its input models so an edit
is validated exactly like a new row. Every function takes the caller's connection, opened with
`gis.db.connect(url, actor=…)`, so the history triggers record who made each change and its previous values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from pydantic import ValidationError

from gis.registry import ActivityIn, InstanceIn, RegistryError, describe_db_error, insert_activity, insert_instance


@dataclass(frozen=True)
class Editable:
    """A published layer whose rows are edited in a registry table."""

    table: str  # in schema monitor
    model: type  # the registry input model (pydantic)
    insert: Callable[[psycopg.Connection, Any], int]
    owner_sql: str  # the organisation that owns a row (for organisation tokens)


# Published layer id → registry table. The feature API looks layers up here; a layer missing is read-only.
EDITABLE: dict[str, Editable] = {
    "instances": Editable("instances", InstanceIn, insert_instance, "organization_id"),
    "activities": Editable("activities", ActivityIn, insert_activity,
                           "(SELECT organization_id FROM monitor.instances p WHERE p.id = instance_id)"),
}


class NotFound(LookupError):
    pass


class StaleVersion(RuntimeError):
    def __init__(self, current: int):
        super().__init__(f"the row is at version {current}")
        self.current = current


def model_fields(editable: Editable) -> set[str]:
    return set(editable.model.model_fields)


def load(conn: psycopg.Connection, editable: Editable, row_id: int, *, lock: bool = True,
         include_deleted: bool = False) -> dict:
    """The registry row (model fields, venue as GeoJSON, version, owner, moderation), locked for the edit."""
    statement = sql.SQL("SELECT *, ST_AsGeoJSON(venue)::json AS venue_geojson, {owner} AS owner_organization_id "
                        "FROM {table} WHERE id = %s{deleted}{lock}").format(
        owner=sql.SQL(editable.owner_sql), table=sql.Identifier("monitor", editable.table),
        deleted=sql.SQL("") if include_deleted else sql.SQL(" AND deleted_at IS NULL"),
        lock=sql.SQL(" FOR UPDATE") if lock else sql.SQL(""))
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(statement, (row_id,)).fetchone()
    if row is None:
        raise NotFound(f"no {editable.table} row {row_id}")
    return row


def current_values(editable: Editable, row: dict) -> dict:
    values = {name: row.get(name) for name in model_fields(editable) if name in row}
    values["venue"] = row["venue_geojson"]
    return values


def validate(editable: Editable, values: dict):
    try:
        return editable.model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'feature'}: {e['msg']}" for e in exc.errors())
        raise RegistryError(None, problems) from None


def _update(conn: psycopg.Connection, editable: Editable, row_id: int, values: dict) -> int:
    """UPDATE the given columns; returns the new version. Database refusals become RegistryError."""
    if not values:
        return conn.execute(sql.SQL("SELECT version FROM {} WHERE id = %s").format(
            sql.Identifier("monitor", editable.table)), (row_id,)).fetchone()[0]
    assignments = [
        sql.SQL("{} = ST_SetSRID(ST_GeomFromGeoJSON({}), 4326)" if column == "venue" else "{} = {}").format(
            sql.Identifier(column), sql.Placeholder(column))
        for column in values
    ]
    statement = sql.SQL("UPDATE {} SET {} WHERE id = %(row_id)s RETURNING version").format(
        sql.Identifier("monitor", editable.table), sql.SQL(", ").join(assignments))
    try:
        with conn.transaction():
            return conn.execute(statement, {**values, "row_id": row_id}).fetchone()[0]
    except (psycopg.errors.IntegrityError, psycopg.errors.DataError, psycopg.errors.RaiseException,
            psycopg.errors.InternalError) as exc:
        raise describe_db_error(exc) from exc


def _dump(item) -> dict:
    values = item.model_dump()
    venue = values.get("venue")
    if "venue" in values:
        values["venue"] = None if venue is None else json.dumps(
            {"type": "Point", "coordinates": list(item.venue.coordinates[:2])})
    return values


def replace(conn: psycopg.Connection, editable: Editable, row_id: int, values: dict, expected_version: int,
            keep: tuple[str, ...] = ()) -> int:
    """PUT: every field takes the given value or its default, except `keep` fields not given, which stay as they
    are (moderation state, owner). Returns the new version."""
    row = load(conn, editable, row_id)
    if row["version"] != expected_version:
        raise StaleVersion(row["version"])
    current = current_values(editable, row)
    item = validate(editable, {**{k: current[k] for k in keep if k in current}, **values})
    return _update(conn, editable, row_id, _dump(item))


def patch(conn: psycopg.Connection, editable: Editable, row_id: int, changes: dict, expected_version: int) -> int:
    """PATCH: the given fields change; the whole row is validated again, so it stays consistent."""
    row = load(conn, editable, row_id)
    if row["version"] != expected_version:
        raise StaleVersion(row["version"])
    merged = {**current_values(editable, row), **changes}
    dumped = _dump(validate(editable, merged))
    return _update(conn, editable, row_id, {k: dumped[k] for k in changes})


def soft_delete(conn: psycopg.Connection, editable: Editable, row_id: int, expected_version: int | None) -> None:
    row = load(conn, editable, row_id)
    if expected_version is not None and row["version"] != expected_version:
        raise StaleVersion(row["version"])
    conn.execute(sql.SQL("UPDATE {} SET deleted_at = now() WHERE id = %s").format(
        sql.Identifier("monitor", editable.table)), (row_id,))


def restore(conn: psycopg.Connection, editable: Editable, row_id: int) -> int:
    row = load(conn, editable, row_id, include_deleted=True)
    if row["deleted_at"] is None:
        return row["version"]
    return conn.execute(sql.SQL("UPDATE {} SET deleted_at = NULL WHERE id = %s RETURNING version").format(
        sql.Identifier("monitor", editable.table)), (row_id,)).fetchone()[0]


def moderate(conn: psycopg.Connection, instance_id: int, decision: str, reason: str | None) -> int:
    """Approve or reject an instance; a rejection needs a reason. Returns the new version."""
    if decision not in ("approved", "rejected", "pending"):
        raise RegistryError("decision", "decision is approve or reject")
    if decision == "rejected" and not (reason and reason.strip()):
        raise RegistryError("reason", "reason: a rejection needs a reason the organisation can read")
    load(conn, EDITABLE["instances"], instance_id)
    return conn.execute("UPDATE monitor.instances SET moderation = %s, moderation_reason = %s WHERE id = %s "
                        "RETURNING version", (decision, reason, instance_id)).fetchone()[0]


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


def history(conn: psycopg.Connection, editable: Editable, row_id: int) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT id, action, actor, changed_at, old_values, new_values FROM monitor.history "
                           "WHERE table_name = %s AND row_key = %s ORDER BY id", (editable.table, str(row_id))
                           ).fetchall()
