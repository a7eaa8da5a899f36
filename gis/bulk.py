"""Idempotent bulk upserts for the loaders (real sites, demo registry).

A row whose values did not change is not touched, so reloading writes nothing and leaves no history. A row that
somebody else changed since a loader last wrote it (an editor's correction through the API, an import) is
never overwritten: the loader's version is dropped and the row is reported as kept (`kept_local`), for every
source alike. Who wrote a row last is its `updated_by` stamp, compared with the loader's actor.
Geometries are passed as EWKT text (`SRID=4326;POINT(x y)`), which PostGIS casts on insert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg
from psycopg import sql


def upsert_rows(conn: psycopg.Connection, table: str, rows: Sequence[dict], key: Sequence[str] = ("external_id",),
                returning: str | None = None, kept_local: list | None = None) -> dict:
    """Insert or update `rows` (dicts with the same keys) into `schema.table`, matching on `key`.

    Returns {key value: returning value} when `returning` is given (for rows inserted, updated or unchanged).
    Rows edited by someone else since this loader wrote them stay as they are; their keys go to `kept_local`.
    """
    if not rows:
        return {}
    columns = list(rows[0])
    schema, name = table.split(".")
    target = sql.Identifier(schema, name)
    updatable = [c for c in columns if c not in key]
    stamped = conn.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                           "AND column_name = 'updated_by'", (schema, name)).fetchone() is not None
    # Loaders' own writes (this one's, or the geography's re-placing rows in new barrios) are not edits.
    mine = sql.SQL(" AND (t.updated_by IS NULL OR t.updated_by = monitor.current_actor() "
                   "OR t.updated_by LIKE 'loader:%%')") if stamped else sql.SQL("")
    statement = sql.SQL(
        "INSERT INTO {target} AS t ({cols}) VALUES ({vals}) ON CONFLICT ({key}) DO UPDATE SET {sets} "
        "WHERE ({old}) IS DISTINCT FROM ({new}){mine}"
    ).format(mine=mine,
        target=target,
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
        vals=sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
        key=sql.SQL(", ").join(map(sql.Identifier, key)),
        sets=sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in updatable),
        old=sql.SQL(", ").join(sql.SQL("t.{c}").format(c=sql.Identifier(c)) for c in updatable),
        new=sql.SQL(", ").join(sql.SQL("EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in updatable),
    )
    with conn.cursor() as cur:
        cur.executemany(statement, rows)
    if stamped and kept_local is not None:  # offered for single-column keys, like `returning`
        (key_column,) = key
        edited = sql.SQL("SELECT {key} FROM {target} WHERE {key}::text = ANY(%s::text[]) "
                         "AND updated_by IS NOT NULL AND updated_by <> monitor.current_actor() "
                         "AND updated_by NOT LIKE 'loader:%%' ORDER BY 1").format(
            key=sql.Identifier(key_column), target=target)
        kept_local.extend(r[0] for r in conn.execute(edited, ([str(row[key_column]) for row in rows],)).fetchall())
    if not returning:
        return {}
    (key_column,) = key  # `returning` is offered for single-column keys only
    lookup = sql.SQL("SELECT {key}, {ret} FROM {target} WHERE {key} = ANY(%s)").format(
        key=sql.Identifier(key_column), ret=sql.Identifier(returning), target=target)
    found = conn.execute(lookup, ([row[key_column] for row in rows],)).fetchall()
    return {key_value: value for key_value, value in found}


def delete_missing(conn: psycopg.Connection, table: str, keep: Iterable[str], where: str) -> int:
    """Delete rows of `table` matching the fixed condition `where` whose external_id is not in `keep`."""
    schema, name = table.split(".")
    statement = sql.SQL("DELETE FROM {t} WHERE {cond} AND NOT (external_id = ANY(%s))").format(
        t=sql.Identifier(schema, name), cond=sql.SQL(where))
    return conn.execute(statement, (list(keep),)).rowcount


def point_ewkt(lon: float, lat: float) -> str:
    return f"SRID=4326;POINT({lon:.6f} {lat:.6f})"
