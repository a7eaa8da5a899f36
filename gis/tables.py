"""The registry's editable tables as one SQLAlchemy/GeoAlchemy2 definition.

The migrations (gis/migrations/sql) create the tables; this module describes them for the code that writes to
them: the edit engine reads primary keys, foreign keys, unique columns, geometry columns and server-managed
columns from here, the importer reads the same, and tests/registry/test_registry_tables.py compares this
description with the migrated database so the two cannot drift apart silently.
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
)

SCHEMA = "monitor"
metadata = MetaData(schema=SCHEMA)

# Columns the database fills (identity, triggers, defaults the clients never send).
SERVER_MANAGED = frozenset({"id", "version", "created_at", "updated_at", "created_by", "updated_by", "deleted_at",
                            "barrio_id", "district_code", "venue_3857"})


def _stamps() -> list[Column]:
    return [
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Column("created_by", Text),
        Column("updated_by", Text),
        Column("deleted_at", DateTime(timezone=True)),
        Column("version", Integer, nullable=False),
    ]


def _point(name: str, srid: int = 4326) -> Column:
    return Column(name, Geometry("POINT", srid=srid, spatial_index=False))


barrios = Table("barrios", metadata, Column("mslink", Integer, primary_key=True), Column("name", Text, nullable=False))
districts = Table("districts", metadata, Column("id", SmallInteger, primary_key=True),
                  Column("code", Text, nullable=False, unique=True))
instance_kinds = Table("instance_kinds", metadata, Column("code", Text, primary_key=True))
themes = Table("themes", metadata, Column("code", Text, primary_key=True))

organizations = Table(
    "organizations", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("external_id", Text, unique=True),
    Column("kind", Text, nullable=False),
    Column("description", Text),
    Column("website", Text),
    Column("source", Text, nullable=False),
    Column("is_demo", Boolean, nullable=False),
    *_stamps(),
)

instances = Table(
    "instances", metadata,
    Column("id", Integer, primary_key=True),
    Column("external_id", Text, unique=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("kind", Text, ForeignKey("monitor.instance_kinds.code"), nullable=False),
    Column("promoter", Text, nullable=False),
    Column("organization_id", Integer, ForeignKey("monitor.organizations.id")),
    Column("themes", ARRAY(Text), nullable=False),
    Column("decides", Text),
    Column("how_it_works", Text),
    Column("how_to_participate", Text),
    Column("modality", Text, nullable=False),
    _point("venue"),
    Column("venue_address", Text),
    Column("online_url", Text),
    Column("scope", Text, nullable=False),
    Column("scope_barrio_id", Integer, ForeignKey("monitor.barrios.mslink")),
    Column("scope_district_code", Text, ForeignKey("monitor.districts.code")),
    Column("scope_note", Text),
    Column("schedule", Text),
    Column("frequency", Text),
    Column("accessibility", ARRAY(Text), nullable=False),
    Column("contact", Text),
    Column("status", Text, nullable=False),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("source", Text, nullable=False),
    Column("source_url", Text),
    Column("moderation", Text, nullable=False),
    Column("moderation_reason", Text),
    Column("is_demo", Boolean, nullable=False),
    Column("barrio_id", Integer, ForeignKey("monitor.barrios.mslink")),
    Column("district_code", Text, ForeignKey("monitor.districts.code")),
    *_stamps(),
    _point("venue_3857", 3857),
)

activities = Table(
    "activities", metadata,
    Column("id", Integer, primary_key=True),
    Column("instance_id", Integer, ForeignKey("monitor.instances.id"), nullable=False),
    Column("external_id", Text, unique=True),
    Column("title", Text, nullable=False),
    Column("description", Text),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True)),
    Column("timezone", Text, nullable=False),
    _point("venue"),
    Column("venue_address", Text),
    Column("online_url", Text),
    Column("registration_url", Text),
    Column("registration_required", Boolean, nullable=False),
    Column("status", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("is_demo", Boolean, nullable=False),
    Column("barrio_id", Integer, ForeignKey("monitor.barrios.mslink")),
    Column("district_code", Text, ForeignKey("monitor.districts.code")),
    *_stamps(),
    _point("venue_3857", 3857),
)

EDITABLE_TABLES = (organizations, instances, activities)


def geometry_columns(table: Table) -> dict[str, int]:
    """Geometry columns a client writes (not the generated Web Mercator copies) → their SRID."""
    return {c.name: c.type.srid for c in table.columns
            if isinstance(c.type, Geometry) and c.name not in SERVER_MANAGED}


def unique_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if c.unique and not c.primary_key]


def references(table: Table) -> dict[str, tuple[Table, str]]:
    """Client-written columns that name a row of another table → (that table, its key column)."""
    found = {}
    for column in table.columns:
        if column.name in SERVER_MANAGED:
            continue
        for key in column.foreign_keys:
            found[column.name] = (key.column.table, key.column.name)
    return found


def primary_key(table: Table) -> str:
    (column,) = table.primary_key.columns
    return column.name
