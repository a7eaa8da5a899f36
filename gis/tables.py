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
    BigInteger,
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
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

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
    Column("public_contact", Text),  # published as `contact`
    Column("private_notes", Text),  # editors only: in no published view
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

standard_criteria = Table(
    "standard_criteria", metadata,
    Column("code", Text, primary_key=True),
    Column("ordinal", SmallInteger, nullable=False, unique=True),
    Column("label_es", Text, nullable=False),
    Column("label_en", Text, nullable=False),
    Column("guidance_es", Text),
    *_stamps(),
)

# The assessments of instances against the criteria: one row per instance × criterion.
instance_standards = Table(
    "instance_standards", metadata,
    Column("id", Integer, primary_key=True),
    Column("instance_id", Integer, ForeignKey("monitor.instances.id"), nullable=False),
    Column("criterion", Text, ForeignKey("monitor.standard_criteria.code"), nullable=False),
    Column("met", Boolean, nullable=False),
    Column("status", Text, nullable=False),
    Column("method", Text, nullable=False),
    Column("evidence_url", Text),
    Column("note", Text),
    Column("assessed_by", Text),
    Column("assessed_on", Date, nullable=False),
    Column("criterion_version", Integer, nullable=False),
    Column("is_demo", Boolean, nullable=False),
    *_stamps(),
    UniqueConstraint("instance_id", "criterion", name="assessment_once"),
)

experiences = Table(
    "experiences", metadata,
    Column("id", Integer, primary_key=True),
    Column("external_id", Text, unique=True),
    Column("instance_id", Integer, ForeignKey("monitor.instances.id"), nullable=False),
    Column("activity_id", Integer, ForeignKey("monitor.activities.id")),
    Column("held_on", Date, nullable=False),
    Column("attendance", Integer),
    Column("participant_profile", JSONB, nullable=False),
    Column("minutes_url", Text),
    Column("document_name", Text),
    Column("document_sha256", Text),
    Column("proposals_count", Integer),
    Column("proposals", Text),
    Column("lessons_learned", Text),
    Column("source", Text, nullable=False),
    Column("is_demo", Boolean, nullable=False),
    *_stamps(),
)

commitments = Table(
    "commitments", metadata,
    Column("id", Integer, primary_key=True),
    Column("instance_id", Integer, ForeignKey("monitor.instances.id"), nullable=False),
    Column("external_id", Text, unique=True),
    Column("description", Text, nullable=False),
    Column("made_on", Date),
    Column("due_date", Date),
    Column("status", Text, nullable=False),
    Column("progress", SmallInteger),
    Column("evidence_url", Text),
    Column("government_response", Text),
    Column("activity_id", Integer, ForeignKey("monitor.activities.id")),
    Column("experience_id", Integer, ForeignKey("monitor.experiences.id")),
    Column("proposal_ref", Text),
    Column("source", Text, nullable=False),
    Column("is_demo", Boolean, nullable=False),
    *_stamps(),
)

# Anonymous answers: no stamps, no history of who (only imported in bulk or answered through a survey link).
survey_responses = Table(
    "survey_responses", metadata,
    Column("id", BigInteger, primary_key=True),
    Column("instance_id", Integer, ForeignKey("monitor.instances.id")),
    Column("kind", Text, nullable=False),
    Column("satisfaction", SmallInteger),
    Column("interest", SmallInteger),
    Column("interest_themes", ARRAY(Text), nullable=False),
    Column("respondent_barrio_id", Integer, ForeignKey("monitor.barrios.mslink")),
    Column("age_band", Text),
    Column("gender", Text),
    Column("answered_on", Date, nullable=False),
    Column("is_demo", Boolean, nullable=False),
    Column("link_id", Integer, ForeignKey("monitor.survey_links.id")),
    Column("activity_id", Integer, ForeignKey("monitor.activities.id")),
)
survey_links = Table("survey_links", metadata, Column("id", Integer, primary_key=True))

EDITABLE_TABLES = (organizations, instances, activities, standard_criteria, instance_standards, experiences,
                   commitments, survey_responses)


def geometry_columns(table: Table) -> dict[str, int]:
    """Geometry columns a client writes (not the generated Web Mercator copies) → their SRID."""
    return {c.name: c.type.srid for c in table.columns
            if isinstance(c.type, Geometry) and c.name not in SERVER_MANAGED}


def unique_columns(table: Table) -> list[str]:
    """Columns unique on their own (what a value alone must not repeat)."""
    return [c.name for c in table.columns if c.unique and not c.primary_key]


def unique_sets(table: Table) -> list[tuple[str, ...]]:
    """Every unique key but the primary one: single columns and composite constraints."""
    composite = [tuple(sorted(c.name for c in constraint.columns)) for constraint in table.constraints
                 if isinstance(constraint, UniqueConstraint)]
    return sorted({(name,) for name in unique_columns(table)} | set(composite))


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
