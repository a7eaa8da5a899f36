"""The registry's write side: input models and transactional inserts, shared by the importer and the feature API.

Field names are the columns of monitor.instances / activities / organizations. The database stays the authority
(constraints and triggers in 0001_registry.sql); this module checks types early and turns the database's refusals
into messages that name the field. The caller's connection decides the actor (`gis.db.connect(url, actor=…)`).
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from geojson_pydantic import Point
from psycopg import sql
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

ExternalId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9:._/-]+$", max_length=200)]
HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://")]
Accessibility = Literal["wheelchair", "sign_language", "childcare", "evening", "weekend", "online_access",
                        "easy_read", "interpretation"]


class RegistryError(ValueError):
    """A row the registry refuses. `message` starts with the field it is about; `conflict` marks duplicates."""

    def __init__(self, field: str | None, message: str, conflict: bool = False):
        super().__init__(message)
        self.field = field
        self.message = message
        self.conflict = conflict


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _venue_from_lon_lat(cls, data: Any) -> Any:
        """`lon`/`lat` are accepted in place of a GeoJSON `venue` (forms, CSV rows)."""
        if isinstance(data, dict) and ("lon" in data or "lat" in data) and "venue" in cls.model_fields:
            data = dict(data)
            lon, lat = data.pop("lon", None), data.pop("lat", None)
            if lon is None and lat is None:
                data.setdefault("venue", None)
            elif lon is None or lat is None:
                raise ValueError("lon and lat must be given together")
            else:
                data["venue"] = {"type": "Point", "coordinates": [lon, lat]}
        return data

    @field_validator("venue", check_fields=False)
    @classmethod
    def _finite_2d(cls, venue: Point | None) -> Point | None:
        if venue is not None and not all(math.isfinite(c) for c in venue.coordinates):
            raise ValueError("coordinates must be finite numbers")
        return venue


class OrganizationIn(_Input):
    external_id: ExternalId | None = None
    name: Annotated[str, StringConstraints(min_length=2, max_length=200)]
    kind: Literal["government_area", "cso", "vecinal", "university", "school", "company", "international", "other"]
    description: str | None = None
    website: HttpUrl | None = None
    source: Annotated[str, StringConstraints(min_length=1)]
    is_demo: bool = False


class InstanceIn(_Input):
    external_id: ExternalId | None = None
    name: Annotated[str, StringConstraints(min_length=3, max_length=200)]
    description: str = ""
    kind: str  # a code of monitor.instance_kinds (a catalogue table, so checked against the database)
    promoter: Literal["state", "cso", "mixed"]
    organization_id: int | None = None
    themes: list[str] = Field(min_length=1)  # codes of monitor.themes
    decides: str | None = None
    how_it_works: str | None = None
    how_to_participate: str | None = None
    modality: Literal["in_person", "online", "hybrid"]
    venue: Point | None = None
    venue_address: str | None = None
    online_url: HttpUrl | None = None
    scope: Literal["barrio", "district", "city"]
    scope_barrio_id: int | None = None
    scope_district_code: str | None = None
    scope_note: str | None = None
    schedule: str | None = None
    frequency: Literal["weekly", "biweekly", "monthly", "quarterly", "yearly", "irregular", "permanent"] | None = None
    accessibility: list[Accessibility] = []
    contact: str | None = None
    status: Literal["active", "paused", "ended"] = "active"
    start_date: date | None = None
    end_date: date | None = None
    source: Annotated[str, StringConstraints(min_length=1)]
    source_url: str | None = None
    moderation: Literal["pending", "approved", "rejected"] = "pending"
    moderation_reason: str | None = None
    is_demo: bool = False


class ActivityIn(_Input):
    instance_id: int
    external_id: ExternalId | None = None
    title: Annotated[str, StringConstraints(min_length=3, max_length=200)]
    description: str | None = None
    starts_at: datetime
    ends_at: datetime | None = None
    timezone: str = "America/Argentina/Cordoba"
    venue: Point | None = None
    venue_address: str | None = None
    online_url: HttpUrl | None = None
    registration_url: HttpUrl | None = None
    registration_required: bool = False
    status: Literal["scheduled", "cancelled", "held"] = "scheduled"
    source: Annotated[str, StringConstraints(min_length=1)]
    is_demo: bool = False

    @model_validator(mode="after")
    def _local_times(self) -> ActivityIn:
        """A time without an offset is wall-clock time in the activity's own time zone."""
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {self.timezone!r} is not a known time zone") from None
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                object.__setattr__(self, name, value.replace(tzinfo=zone))
        return self


# ---------------------------------------------------------------- inserts

def insert_organization(conn: psycopg.Connection, item: OrganizationIn) -> int:
    return _insert(conn, "organizations", _values(item))


def insert_instance(conn: psycopg.Connection, item: InstanceIn) -> int:
    """Insert an approved-or-pending instance; its organisation (if any) is also recorded in the promoter role."""
    check_codes(conn, "instance_kinds", "kind", [item.kind])
    check_codes(conn, "themes", "themes", item.themes)
    duplicate = find_duplicate_instance(conn, item)
    if duplicate is not None:
        raise RegistryError("name", f"name: an instance named {item.name!r} of kind {item.kind!r} already exists "
                                    f"at the same venue (id {duplicate})", conflict=True)
    with conn.transaction():
        instance_id = _insert(conn, "instances", _values(item))
        if item.organization_id is not None:
            conn.execute("INSERT INTO monitor.instance_organizations (instance_id, organization_id, role) "
                         "VALUES (%s, %s, 'promoter')", (instance_id, item.organization_id))
    return instance_id


def insert_activity(conn: psycopg.Connection, item: ActivityIn) -> int:
    # Checked first: without its instance, the database would complain about the missing place instead.
    if not conn.execute("SELECT 1 FROM monitor.instances WHERE id = %s", (item.instance_id,)).fetchone():
        raise RegistryError("instance_id", f"instance_id {item.instance_id} does not exist in instances")
    duplicate = conn.execute(
        "SELECT id FROM monitor.activities WHERE instance_id = %s AND lower(title) = lower(%s) AND starts_at = %s "
        "AND deleted_at IS NULL", (item.instance_id, item.title, item.starts_at)).fetchone()
    if duplicate:
        raise RegistryError("title", f"title: instance {item.instance_id} already has an activity {item.title!r} "
                                     f"starting at {item.starts_at.isoformat()} (id {duplicate[0]})", conflict=True)
    return _insert(conn, "activities", _values(item))


def check_codes(conn: psycopg.Connection, catalogue: str, field: str, codes: list[str]) -> None:
    """Refuse codes missing from a catalogue table, listing the known ones."""
    known = [r[0] for r in conn.execute(
        sql.SQL("SELECT code FROM {} ORDER BY code").format(sql.Identifier("monitor", catalogue))).fetchall()]
    unknown = [c for c in codes if c not in known]
    if unknown:
        noun = field if field.endswith("s") else field + "s"
        raise RegistryError(field, f"{field}: unknown {field.rstrip('s')} {', '.join(map(repr, unknown))}; "
                                   f"known {noun}: {', '.join(known)}")


def find_duplicate_instance(conn: psycopg.Connection, item: InstanceIn) -> int | None:
    """An existing instance with the same name (any case), kind and venue (within 1e-6°, about 10 cm)."""
    row = conn.execute(
        """SELECT id FROM monitor.instances
           WHERE deleted_at IS NULL AND lower(name) = lower(%(name)s) AND kind = %(kind)s
             AND CASE WHEN %(venue)s::text IS NULL THEN venue IS NULL
                      ELSE ST_DWithin(venue, ST_SetSRID(ST_GeomFromGeoJSON(%(venue)s::text), 4326), 1e-6) END
           ORDER BY id LIMIT 1""",
        {"name": item.name, "kind": item.kind, "venue": _geojson(item.venue)}).fetchone()
    return row[0] if row else None


def _geojson(point: Point | None) -> str | None:
    # 2D only: the columns are geometry(Point, 4326), and a Z value would be refused by the column type.
    return None if point is None else json.dumps({"type": "Point", "coordinates": list(point.coordinates[:2])})


def _values(item: _Input) -> dict[str, Any]:
    values = item.model_dump(exclude_none=True)
    if "venue" in values:
        values["venue"] = _geojson(item.venue)
    return values


def _insert(conn: psycopg.Connection, table: str, values: dict[str, Any]) -> int:
    """INSERT … RETURNING id inside a savepoint, so a refused row leaves the caller's transaction usable."""
    placeholders = [
        sql.SQL("ST_SetSRID(ST_GeomFromGeoJSON({}), 4326)").format(sql.Placeholder(c)) if c == "venue"
        else sql.Placeholder(c)
        for c in values
    ]
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
        sql.Identifier("monitor", table), sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(placeholders))
    try:
        with conn.transaction():
            return conn.execute(statement, values).fetchone()[0]
    except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as exc:
        raise describe_db_error(exc) from exc


# ---------------------------------------------------------------- database refusals → messages

# Named constraints of 0001_registry.sql: the field they are about and what the rule is.
CONSTRAINTS = {
    "venue_valid": ("venue", "venue is not a valid, non-empty point"),
    "venue_in_rosario_bbox": ("venue", "venue is outside Rosario (lon -60.83..-60.58, lat -33.07..-32.84)"),
    "venue_required": ("venue", "venue is required for in-person and hybrid instances"),
    "online_url_required": ("online_url", "online_url is required for online and hybrid instances"),
    "scope_barrio_given": ("scope_barrio_id", "scope_barrio_id is required when scope is 'barrio'"),
    "scope_district_given": ("scope_district_code", "scope_district_code is required when scope is 'district'"),
    "dates_ordered": ("end_date", "end_date is before start_date"),
    "rejection_has_reason": ("moderation_reason", "moderation_reason is required when moderation is 'rejected'"),
    "activity_venue_valid": ("venue", "venue is not a valid, non-empty point"),
    "activity_venue_in_rosario_bbox": ("venue", "venue is outside Rosario (lon -60.83..-60.58, lat -33.07..-32.84)"),
    "activity_times_ordered": ("ends_at", "ends_at is before starts_at"),
    "activity_has_place": ("venue", "venue or online_url is required (or an instance that has one)"),
}

# Errors raised by the triggers (no constraint name): message pattern → field and rewritten message.
TRIGGER_MESSAGES = (
    (re.compile(r"^(?:activity )?venue (POINT\(.*\)) is outside Rosario"), "venue",
     "venue is outside Rosario: {0} falls in no barrio"),
    (re.compile(r"^an instance needs at least one theme"), "themes", "themes: at least one theme is required"),
    (re.compile(r"^(unknown theme in .*)"), "themes", "themes: {0}"),
    (re.compile(r"^unknown time zone (.*)"), "timezone", "timezone {0} is not a known time zone"),
)

KEY_DETAIL = re.compile(r"Key \((?P<field>[^)]+)\)=\((?P<value>.*)\) (?P<rest>.*)")


def describe_db_error(exc: psycopg.Error) -> RegistryError:
    diag = exc.diag
    primary = diag.message_primary or str(exc)
    if diag.constraint_name in CONSTRAINTS:
        field, message = CONSTRAINTS[diag.constraint_name]
        return RegistryError(field, message)
    for pattern, field, template in TRIGGER_MESSAGES:
        found = pattern.match(primary)
        if found:
            return RegistryError(field, template.format(*found.groups()))
    detail = KEY_DETAIL.match(diag.message_detail or "")
    if isinstance(exc, psycopg.errors.UniqueViolation) and detail:
        return RegistryError(detail["field"], f"{detail['field']} {detail['value']!r} already exists", conflict=True)
    if isinstance(exc, psycopg.errors.ForeignKeyViolation) and detail:
        table = re.search(r'table "([^"]+)"', detail["rest"])
        where = f" in {table.group(1)}" if table else ""
        return RegistryError(detail["field"], f"{detail['field']} {detail['value']!r} does not exist{where}")
    if isinstance(exc, psycopg.errors.NotNullViolation) and diag.column_name:
        return RegistryError(diag.column_name, f"{diag.column_name} is required")
    if isinstance(exc, psycopg.errors.CheckViolation) and diag.constraint_name and diag.table_name:
        # PostgreSQL names a column's own CHECK "<table>_<column>_check".
        field = diag.constraint_name.removeprefix(diag.table_name + "_").removesuffix("_check")
        return RegistryError(field, f"{field} has a value the database refuses ({diag.constraint_name})")
    if "Geometry" in primary or "geometry" in primary:
        return RegistryError("venue", f"venue: {primary}")
    return RegistryError(None, primary)
