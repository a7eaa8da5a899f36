"""The one edit engine: create, replace, patch, soft delete, restore and history of any editable layer.

What differs between layers is data, not code: an `EditPolicy` (given by the layer's catalogue definition, see
layers/definitions/*.py) names the table (gis/tables.py), the input model and the checks of gis/registry.py,
who owns a row, and how a published feature maps onto the table. The engine validates a row once, in this order,
before the database is asked to store it: the model (types, enumerations, rules across fields), the policy's
checks (catalogue codes, placement, duplicates), then the table's own references and unique columns. The database
constraints stay the last line; a refusal there is logged, because it means a rule is missing here.

Every function takes the caller's connection (opened with `gis.db.connect(url, actor=…)` or from a pool with
`monitor.actor` set), so the history triggers record who made each change and its previous values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ValidationError
from sqlalchemy import Table

from gis.registry import RegistryError, RuleViolation, describe_db_error, point_geojson
from gis.tables import geometry_columns, primary_key, references, unique_columns

log = logging.getLogger("monitor.edits")

Check = Callable[[psycopg.Connection, Any, "int | None"], None]


class NotFound(LookupError):
    pass


class StaleVersion(RuntimeError):
    def __init__(self, current: int):
        super().__init__(f"the row is at version {current}")
        self.current = current


@dataclass(frozen=True)
class Parent:
    """The row this one hangs off (an activity's instance): organisations may only write under their own."""

    field: str  # the column naming the parent
    table: Table
    owner_column: str = "organization_id"  # the parent's owning organisation


@dataclass(frozen=True)
class Reference:
    """Importer: a column naming another record by something people know (a name, an external id)."""

    column: str  # in the file, e.g. "organization"
    field: str  # the model field it fills, e.g. "organization_id"
    table: Table
    match: tuple[str, ...]  # columns of `table` compared with the value (case-insensitively)
    label: str | None = None  # how messages name the column, e.g. "instance (name)"


@dataclass(frozen=True)
class EditPolicy:
    """How a published layer is written: everything the engine, the feature API and the importer need."""

    table: Table
    model: type[BaseModel]
    geometry_field: str | None = "venue"  # the model field a feature's geometry fills (None: no geometry)
    placed_by_parent: bool = False  # the published geometry is the parent's (a commitment at its instance): ignored
    aliases: Mapping[str, str] = field(default_factory=dict)  # published property → model field
    read_only: frozenset[str] = frozenset()  # published properties computed by the database, ignored on writes
    owner_column: str | None = None  # the column naming the organisation that owns a row ("id": the row is one)
    parent: Parent | None = None  # or: the owner is the parent's
    moderated: bool = False  # organisations' submissions wait for an editor (columns moderation, moderation_reason)
    checks: tuple[Check, ...] = ()  # rules that read the database, run before every insert and update
    after_insert: Callable[[psycopg.Connection, int, Any], None] | None = None
    keep_on_replace: tuple[str, ...] = ()  # fields a PUT leaves as they are when not given
    has_document: bool = False  # one attached file (columns document_name, document_sha256)
    # Importer: names a file or GeoPackage layer may have, references by name, keys unique within one file.
    import_names: tuple[str, ...] = ()
    import_references: tuple[Reference, ...] = ()
    file_keys: Callable[[Any], Iterable[tuple]] | None = None

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def fields(self) -> set[str]:
        return set(self.model.model_fields)

    @property
    def list_fields(self) -> tuple[str, ...]:
        return tuple(name for name, info in self.model.model_fields.items() if _is_list(info.annotation))

    def owner_sql(self) -> sql.Composable:
        """An expression for the owning organisation of a row of `table`."""
        if self.owner_column is not None:
            return sql.Identifier(self.owner_column)
        if self.parent is not None:
            return sql.SQL("(SELECT {owner} FROM {table} p WHERE p.{key} = {field})").format(
                owner=sql.Identifier(self.parent.owner_column), table=_table(self.parent.table),
                key=sql.Identifier(primary_key(self.parent.table)), field=sql.Identifier(self.parent.field))
        return sql.SQL("NULL::integer")


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        return True
    return any(get_origin(a) is list for a in get_args(annotation))


def _table(table: Table) -> sql.Composable:
    return sql.Identifier(table.schema, table.name)


# ---------------------------------------------------------------- from a feature to model values

def values_from_feature(policy: EditPolicy, feature: Mapping, partial: bool) -> dict:
    """A GeoJSON Feature (geometry already in CRS84) → model values. Computed properties are dropped, renamed
    ones mapped back; unknown properties are left in so the model refuses them by name."""
    values = {k: v for k, v in (feature.get("properties") or {}).items() if k not in policy.read_only}
    for published, model_field in policy.aliases.items():
        if published in values:
            values.setdefault(model_field, values.pop(published))
    if policy.geometry_field is not None and ("geometry" in feature or not partial):
        values[policy.geometry_field] = feature.get("geometry")
    elif policy.geometry_field is None and feature.get("geometry") is not None and not policy.placed_by_parent:
        raise RegistryError("geometry", f"{policy.name} have no geometry: send \"geometry\": null")
    return values


# ---------------------------------------------------------------- validation

def validate(policy: EditPolicy, values: Mapping):
    """The model instance, or RegistryError naming the first field at fault (`problems` lists them all)."""
    try:
        return policy.model.model_validate(dict(values))
    except ValidationError as exc:
        problems, fields = [], []
        for error in exc.errors():
            cause = (error.get("ctx") or {}).get("error")
            where = cause.field if isinstance(cause, RuleViolation) else ".".join(map(str, error["loc"]))
            fields.append(where or None)
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "missing":
                problems.append(f"{where} is required")
                continue
            got = error.get("input")
            if error["type"] not in ("value_error", "extra_forbidden") and isinstance(got, str | int | float):
                message += f" (got {got!r})"
            bare = isinstance(cause, RuleViolation) or not where or message.startswith(f"{where} ")
            problems.append(message if bare else f"{where}: {message}")
        refusal = RegistryError(fields[0], "; ".join(problems))
        refusal.problems = problems
        raise refusal from None


def one_writer_at_a_time(conn: psycopg.Connection, policy: EditPolicy) -> None:
    """Writers of one table check and write one at a time (a lock held until the transaction ends): otherwise ten
    identical POSTs at once all pass the duplicate check before any of them is stored. Taken before any row lock
    (see `_locked`), so two writers never wait for each other in opposite orders. Writes are rare."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"monitor.edits:{policy.name}",))


def check(conn: psycopg.Connection, policy: EditPolicy, item, row_id: int | None = None,
          changed: Iterable[str] | None = None) -> None:
    """The rules that read the database, then the table's references and unique columns (only `changed` ones
    on an update: what is stored already passed). The caller holds the table's writer lock (`create`, `lock`)."""
    for rule in policy.checks:
        rule(conn, item, row_id)
    values = item.model_dump()
    wanted = set(values) if changed is None else set(changed)
    for column, (target, key) in references(policy.table).items():
        value = values.get(column)
        if column in wanted and value is not None and not conn.execute(
                sql.SQL("SELECT 1 FROM {} WHERE {} = %s").format(_table(target), sql.Identifier(key)),
                (value,)).fetchone():
            raise RegistryError(column, f"{column} '{value}' does not exist in {target.name}")
    for column in unique_columns(policy.table):
        value = values.get(column)
        if column in wanted and value is not None and conn.execute(
                sql.SQL("SELECT 1 FROM {} WHERE {} = %s AND {} IS DISTINCT FROM %s").format(
                    _table(policy.table), sql.Identifier(column), sql.Identifier(primary_key(policy.table))),
                (value, row_id)).fetchone():
            raise RegistryError(column, f"{column} '{value}' already exists", conflict=True)


# ---------------------------------------------------------------- writes

def _column_values(policy: EditPolicy, item, only: Iterable[str] | None = None, exclude_none: bool = False) -> dict:
    values = item.model_dump(exclude_none=exclude_none)
    for name in geometry_columns(policy.table):
        if name in values:
            values[name] = point_geojson(getattr(item, name))
    for name, value in values.items():
        if isinstance(value, dict):  # nested models (an aggregate profile) are stored as jsonb
            values[name] = Jsonb(value)
    return {k: v for k, v in values.items() if only is None or k in only}


def _placeholder(policy: EditPolicy, column: str) -> sql.Composable:
    srid = geometry_columns(policy.table).get(column)
    if srid is None:
        return sql.Placeholder(column)
    return sql.SQL("ST_SetSRID(ST_GeomFromGeoJSON({}), {})").format(sql.Placeholder(column), sql.Literal(srid))


def _write(conn: psycopg.Connection, statement: sql.Composable, values: dict):
    """One statement in a savepoint: a refusal leaves the caller's transaction usable."""
    try:
        with conn.transaction():
            return conn.execute(statement, values).fetchone()
    except (psycopg.errors.IntegrityError, psycopg.errors.DataError, psycopg.errors.RaiseException,
            psycopg.errors.InternalError) as exc:
        log.warning("the database refused a %s row that passed the checks: %s", statement, exc)
        raise describe_db_error(exc) from exc


def create(conn: psycopg.Connection, policy: EditPolicy, item_or_values) -> int:
    """Validate and insert one row (and what follows from it); returns its id."""
    item = item_or_values if isinstance(item_or_values, BaseModel) else validate(policy, item_or_values)
    one_writer_at_a_time(conn, policy)
    check(conn, policy, item)
    values = _column_values(policy, item, exclude_none=True)
    key = primary_key(policy.table)
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}").format(
        _table(policy.table), sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(_placeholder(policy, c) for c in values), sql.Identifier(key))
    with conn.transaction():
        row_id = _write(conn, statement, values)[0]
        if policy.after_insert is not None:
            policy.after_insert(conn, row_id, item)
    return row_id


def load(conn: psycopg.Connection, policy: EditPolicy, row_id: int, *, lock: bool = True,
         include_deleted: bool = False) -> dict:
    """The stored row (geometries as GeoJSON), its owner and version; locked for the edit by default."""
    geometries = sql.SQL("").join(
        sql.SQL(", ST_AsGeoJSON({c})::json AS {g}").format(c=sql.Identifier(c), g=sql.Identifier(f"{c}_geojson"))
        for c in geometry_columns(policy.table))
    statement = sql.SQL("SELECT *{geometries}, {owner} AS owner_organization_id FROM {table} "
                        "WHERE {key} = %s{deleted}{lock}").format(
        geometries=geometries, owner=policy.owner_sql(), table=_table(policy.table),
        key=sql.Identifier(primary_key(policy.table)),
        deleted=sql.SQL("") if include_deleted else sql.SQL(" AND deleted_at IS NULL"),
        lock=sql.SQL(" FOR UPDATE") if lock else sql.SQL(""))
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(statement, (row_id,)).fetchone()
    if row is None:
        raise NotFound(f"no {policy.name} row {row_id}")
    return row


def stored_values(policy: EditPolicy, row: dict) -> dict:
    values = {name: row[name] for name in policy.fields if name in row}
    for column in geometry_columns(policy.table):
        values[column] = row[f"{column}_geojson"]
    return values


def _update(conn: psycopg.Connection, policy: EditPolicy, row_id: int, values: dict) -> int:
    table, key = _table(policy.table), sql.Identifier(primary_key(policy.table))
    if not values:
        return conn.execute(sql.SQL("SELECT version FROM {} WHERE {} = %s").format(table, key), (row_id,)
                            ).fetchone()[0]
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), _placeholder(policy, c))
                                     for c in values)
    statement = sql.SQL("UPDATE {} SET {} WHERE {} = %(row_id)s RETURNING version").format(table, assignments, key)
    return _write(conn, statement, {**values, "row_id": row_id})[0]


def _locked(conn: psycopg.Connection, policy: EditPolicy, row_id: int, expected_version: int | None,
            values: Mapping | None = None) -> dict:
    key = primary_key(policy.table)
    if values is not None and key in values and values[key] != row_id:  # a code others name (criteria) stays
        raise RegistryError(key, f"{key} never changes: it is how other records name this one")
    one_writer_at_a_time(conn, policy)
    row = load(conn, policy, row_id)
    if expected_version is not None and row["version"] != expected_version:
        raise StaleVersion(row["version"])
    return row


def lock(conn: psycopg.Connection, policy: EditPolicy, row_id: int, expected_version: int | None,
         values: Mapping | None = None) -> dict:
    """The stored row, locked for an edit, once the caller's version is checked (StaleVersion otherwise)."""
    return _locked(conn, policy, row_id, expected_version, values)


def replace(conn: psycopg.Connection, policy: EditPolicy, row_id: int, values: Mapping,
            expected_version: int) -> int:
    """PUT: every field takes the given value or its default, except the policy's `keep_on_replace` fields not
    given (moderation state, owner). Returns the new version."""
    current = stored_values(policy, _locked(conn, policy, row_id, expected_version, values))
    item = validate(policy, {**{k: current[k] for k in policy.keep_on_replace if k in current}, **values})
    check(conn, policy, item, row_id)
    return _update(conn, policy, row_id, _column_values(policy, item))


def patch(conn: psycopg.Connection, policy: EditPolicy, row_id: int, changes: Mapping,
          expected_version: int | None) -> int:
    """PATCH: the given fields change; the whole row is validated again, so it stays consistent. No
    `expected_version`: whatever the row's version is (an editor accepting a change made against an older one)."""
    current = stored_values(policy, _locked(conn, policy, row_id, expected_version, changes))
    item = validate(policy, {**current, **changes})
    check(conn, policy, item, row_id, changed=changes)
    return _update(conn, policy, row_id, _column_values(policy, item, only=changes))


def attach_document(conn: psycopg.Connection, policy: EditPolicy, row_id: int, name: str, sha256: str,
                    expected_version: int | None) -> int:
    """Record a stored file as the row's document (its name and SHA-256); returns the new version."""
    if not policy.has_document:
        raise RegistryError(None, f"{policy.name} have no documents")
    _locked(conn, policy, row_id, expected_version)
    return _update(conn, policy, row_id, {"document_name": name, "document_sha256": sha256})


def soft_delete(conn: psycopg.Connection, policy: EditPolicy, row_id: int, expected_version: int | None) -> None:
    _locked(conn, policy, row_id, expected_version)
    conn.execute(sql.SQL("UPDATE {} SET deleted_at = now() WHERE {} = %s").format(
        _table(policy.table), sql.Identifier(primary_key(policy.table))), (row_id,))


def restore(conn: psycopg.Connection, policy: EditPolicy, row_id: int) -> int:
    row = load(conn, policy, row_id, include_deleted=True)
    if row["deleted_at"] is None:
        return row["version"]
    return conn.execute(sql.SQL("UPDATE {} SET deleted_at = NULL WHERE {} = %s RETURNING version").format(
        _table(policy.table), sql.Identifier(primary_key(policy.table))), (row_id,)).fetchone()[0]


def owner_of(conn: psycopg.Connection, policy: EditPolicy, row_id: int) -> int | None:
    return load(conn, policy, row_id, lock=False)["owner_organization_id"]


def parent_owner(conn: psycopg.Connection, policy: EditPolicy, values: Mapping) -> tuple[bool, int | None]:
    """(whether the values name a parent, the organisation owning that parent)."""
    if policy.parent is None or values.get(policy.parent.field) is None:
        return False, None
    parent = policy.parent
    row = conn.execute(sql.SQL("SELECT {} FROM {} WHERE {} = %s AND deleted_at IS NULL").format(
        sql.Identifier(parent.owner_column), _table(parent.table), sql.Identifier(primary_key(parent.table))),
        (values[parent.field],)).fetchone()
    return True, row[0] if row else None


def history(conn: psycopg.Connection, policy: EditPolicy, row_id: int) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT id, action, actor, changed_at, old_values, new_values FROM monitor.history "
                           "WHERE table_name = %s AND row_key = %s ORDER BY id", (policy.name, str(row_id))
                           ).fetchall()

