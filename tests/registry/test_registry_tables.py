"""gis/tables.py describes the editable tables for the edit engine and the importer: it must match what the
migrations build, column by column (type, nullability, geometry type and SRID, keys)."""

from __future__ import annotations

import psycopg
import pytest
from geoalchemy2 import Geometry
from sqlalchemy import ARRAY, BigInteger, Boolean, Date, DateTime, Integer, SmallInteger, Text
from sqlalchemy.dialects.postgresql import JSONB

from gis.tables import EDITABLE_TABLES, SERVER_MANAGED, geometry_columns, primary_key, references, unique_sets

# information_schema's data_type for each SQLAlchemy type used in gis/tables.py (subclasses before their base).
PG_TYPES = {SmallInteger: "smallint", BigInteger: "bigint", Integer: "integer", Text: "text", Boolean: "boolean",
            Date: "date", ARRAY: "ARRAY", JSONB: "jsonb", Geometry: "USER-DEFINED"}


def pg_type(column) -> str:
    if isinstance(column.type, DateTime):
        return "timestamp with time zone" if column.type.timezone else "timestamp without time zone"
    return next(name for kind, name in PG_TYPES.items() if isinstance(column.type, kind))


@pytest.mark.parametrize("table", EDITABLE_TABLES, ids=lambda t: t.name)
def test_the_description_matches_the_migrated_table(empty_db, table):
    with psycopg.connect(empty_db) as conn:
        columns = {name: (data_type, nullable == "YES") for name, data_type, nullable in conn.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s", (table.schema, table.name))}
        described = {c.name: (pg_type(c), bool(c.nullable) and not c.primary_key) for c in table.columns}
        assert described == columns
        geometries = dict(conn.execute(
            "SELECT f_geometry_column, srid FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s",
            (table.schema, table.name)).fetchall())
        assert {c.name: c.type.srid for c in table.columns if isinstance(c.type, Geometry)} == geometries
        assert set(geometry_columns(table)) == set(geometries) - SERVER_MANAGED
        constraints = conn.execute(
            """SELECT con.contype, array_agg(att.attname ORDER BY att.attname),
                      max(ref.relname), max(refatt.attname)
               FROM pg_constraint con
               JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
               LEFT JOIN pg_class ref ON ref.oid = con.confrelid
               LEFT JOIN pg_attribute refatt ON refatt.attrelid = con.confrelid AND refatt.attnum = con.confkey[1]
               WHERE con.conrelid = %s::regclass AND con.contype IN ('p', 'u', 'f')
               GROUP BY con.oid, con.contype""", (f"{table.schema}.{table.name}",)).fetchall()
    assert [cols for kind, cols, *_ in constraints if kind == "p"] == [[primary_key(table)]]
    assert sorted(tuple(cols) for kind, cols, *_ in constraints if kind == "u") == unique_sets(table)
    foreign = {cols[0]: (ref_table, ref_column) for kind, cols, ref_table, ref_column in constraints if kind == "f"}
    described_foreign = {c.name: (key.column.table.name, key.column.name)
                         for c in table.columns for key in c.foreign_keys}
    assert described_foreign == foreign
    assert set(references(table)) == set(foreign) - SERVER_MANAGED
