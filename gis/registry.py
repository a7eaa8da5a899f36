"""The registry's rules: input models (one per editable table) and the checks that need the database.

Field names are the columns of monitor.instances / activities / organizations. Every rule a row must obey is
checked here, before the database is asked to store it, so a refusal names its field in words a person can act
on; the constraints and triggers of 0001_registry.sql stay the last line for writers that bypass this code
(psql, bulk loaders). The layer catalogue ties a model and its checks to a table (layers/definitions/*.py); the
edit engine (gis/edits.py) applies them.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import psycopg
from email_validator import EmailNotValidError, validate_email
from geojson_pydantic import Point
from psycopg import sql
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic_core import Url

ExternalId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9:._/-]+$", max_length=200)]

# Text people type is stored and shown everywhere (cards, iCalendar, CSV, tiles): no NUL (PostgreSQL refuses it),
# no other control characters, no lone surrogates. Line breaks and tabs only where the text is prose.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAK = re.compile("[\t\n\r\u2028\u2029]")
# Characters no URL written by a person carries: spaces, controls, and those that end an HTML attribute or a
# Markdown link, or that browsers read as a path separator (the backslash).
_NOT_IN_URL = re.compile("[\\s\x00-\x1f\x7f-\x9f\ud800-\udfff<>\"`\\\\{}|^]")


def _no_control(value: str) -> str:
    found = _CONTROL.search(value)
    if found:
        raise ValueError(f"contains a control character (U+{ord(found.group()):04X} at position {found.start()})")
    return value


def _one_line(value: str) -> str:
    found = _LINE_BREAK.search(value)
    if found:
        raise ValueError(f"must be one line: it contains a line break or tab (position {found.start()})")
    return value


def _http_url(value: str) -> str:
    """An absolute http(s) URL with a host, kept as written; parsed by pydantic-core's URL parser (the WHATWG
    one browsers use). Its parser silently drops tabs and line breaks, so they are refused first."""
    if len(value) > 2000:
        raise ValueError("is longer than 2000 characters")
    found = _NOT_IN_URL.search(value)
    if found:
        raise ValueError(f"is not a URL: it contains {found.group()!r} at position {found.start()} (spaces, "
                         "line breaks, control characters and <>\"`\\{}|^ are not allowed)")
    if not re.match(r"(?i)https?://[^/?#]", value):
        raise ValueError("must be an absolute URL starting with http:// or https://")
    try:
        url = Url(value)
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({str(exc).splitlines()[-1].strip()[:120]})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an absolute URL starting with http:// or https://")
    return value


PUBLIC_CONTACT_HINT = ("an e-mail address (participa@rosario.gob.ar), a web address (https://…) or a telephone "
                       "number (0341 480-2222, 147) of the organisation; a person's name or number goes in "
                       "private_notes")


def _public_contact(value: str) -> str:
    """One institutional channel, published on the map: an e-mail address (checked by email-validator, syntax
    only: no DNS lookup), an absolute http(s) URL, or a telephone number Argentina's numbering plan knows
    (libphonenumber, through `phonenumbers`: local numbers are read as Argentine, short ones like 147 too).
    Several channels, names or free text are refused: they belong in `private_notes`, which is never published."""
    if len(value) > 200:
        raise ValueError("is longer than 200 characters")
    _no_control(value)
    _one_line(value)
    if re.match(r"(?i)https?://", value):
        try:
            return _http_url(value)
        except ValueError as exc:
            raise ValueError(f"{exc}; give {PUBLIC_CONTACT_HINT}") from None
    if "@" in value:
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValueError(f"is not an e-mail address ({exc}); give {PUBLIC_CONTACT_HINT}") from None
        return value
    if re.fullmatch(r"[+()0-9 .\-/]+(?:\s*(?:int\.?|interno|ext\.?)\s*[0-9]{1,6})?", value, re.IGNORECASE):
        try:
            number = phonenumbers.parse(value, "AR")
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and (phonenumbers.is_valid_number(number)
                                   or phonenumbers.is_valid_short_number(number)):
            return value
        raise ValueError(f"is not a telephone number of Argentina's numbering plan; give {PUBLIC_CONTACT_HINT}")
    raise ValueError(f"must be one institutional channel: {PUBLIC_CONTACT_HINT}")


def is_public_contact(value: str) -> bool:
    try:
        _public_contact(value.strip())
    except ValueError:
        return False
    return True


# Characters that show nothing: spaces and separators, format characters (zero-width space, joiners, BOM, soft
# hyphen…), combining marks with nothing to combine with, unassigned and private-use code points, and the letters
# and symbols fonts draw blank (Hangul fillers, the braille blank, Khmer inherent vowels).
_INVISIBLE_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me"}
_BLANK_GLYPHS = set("\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")


def _visible(value: str) -> str:
    """A text that is not empty shows something: a name made only of invisible characters is no name."""
    if value and all(c in _BLANK_GLYPHS or unicodedata.category(c) in _INVISIBLE_CATEGORIES for c in value):
        raise ValueError("has no visible character (only spaces, zero-width or other invisible characters)")
    return value


# Dates and times people give (when an instance started, an activity's time, a commitment's due date) fall within
# these years: year 1 or 9999 is a typing mistake, and such dates break time-zone arithmetic and calendars.
FIRST_YEAR, LAST_YEAR = 1850, 2150


def _plausible_year(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be between the years {FIRST_YEAR} and {LAST_YEAR} (got year {value.year})")
    return value


Text = Annotated[str, AfterValidator(_no_control), AfterValidator(_visible)]  # prose: line breaks and tabs allowed
Line = Annotated[str, AfterValidator(_no_control), AfterValidator(_one_line), AfterValidator(_visible)]  # names
Date = Annotated[date, AfterValidator(_plausible_year)]
DateTime = Annotated[datetime, AfterValidator(_plausible_year)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
PublicContact = Annotated[str, AfterValidator(_no_control), AfterValidator(_public_contact)]
Accessibility = Literal["wheelchair", "sign_language", "childcare", "evening", "weekend", "online_access",
                        "easy_read", "interpretation"]


# Rosario's bounding box with a margin (the same numbers as monitor.in_rosario_bbox()): a cheap first check
# against swapped axes and projected coordinates before the barrio lookup.
ROSARIO_BBOX = (-60.83, -33.07, -60.58, -32.84)
OUTSIDE_BBOX = "venue is outside Rosario (lon -60.83..-60.58, lat -33.07..-32.84)"


def in_rosario_bbox(x: float, y: float) -> bool:
    west, south, east, north = ROSARIO_BBOX
    return west <= x <= east and south <= y <= north


class RegistryError(ValueError):
    """A row the registry refuses. `message` starts with the field it is about; `conflict` marks duplicates."""

    def __init__(self, field: str | None, message: str, conflict: bool = False):
        super().__init__(message)
        self.field = field
        self.message = message
        self.conflict = conflict
        self.problems = [message]  # one per field at fault when several are


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
    def _finite_in_rosario(cls, venue: Point | None) -> Point | None:
        if venue is None:
            return venue
        if not all(math.isfinite(c) for c in venue.coordinates):
            raise ValueError("coordinates must be finite numbers")
        x, y = venue.coordinates[:2]
        if not in_rosario_bbox(x, y):
            # Latitude first is the commonest mistake near (-60.7, -32.9): say so instead of "outside".
            if in_rosario_bbox(y, x):
                raise ValueError("coordinates look like [latitude, longitude]; GeoJSON (CRS84) is "
                                 "[longitude, latitude]")
            raise ValueError(f"venue is outside Rosario: POINT({x!r} {y!r}) falls in no barrio (Rosario is "
                             "lon -60.83..-60.58, lat -33.07..-32.84)")
        return venue


def _require(condition: bool, field: str, message: str) -> None:
    """A rule across fields: refused with the field it is about (pydantic reports it under `loc`)."""
    if not condition:
        raise RuleViolation(field, message)


class RuleViolation(ValueError):
    """A cross-field rule of a model; `field` is the field a person has to change."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class OrganizationIn(_Input):
    external_id: ExternalId | None = None
    name: Annotated[Line, StringConstraints(min_length=2, max_length=200)]
    kind: Literal["government_area", "cso", "vecinal", "university", "school", "company", "international", "other"]
    description: Text | None = None
    website: HttpUrl | None = None
    source: Annotated[Line, StringConstraints(min_length=1)]
    is_demo: bool = False


class InstanceIn(_Input):
    external_id: ExternalId | None = None
    name: Annotated[Line, StringConstraints(min_length=3, max_length=200)]
    description: Text = ""
    kind: Line  # a code of monitor.instance_kinds (a catalogue table, so checked against the database)
    promoter: Literal["state", "cso", "mixed"]
    organization_id: int | None = None
    themes: list[Line] = Field(min_length=1)  # codes of monitor.themes
    decides: Text | None = None
    how_it_works: Text | None = None
    how_to_participate: Text | None = None
    modality: Literal["in_person", "online", "hybrid"]
    venue: Point | None = None
    venue_address: Line | None = None
    online_url: HttpUrl | None = None
    scope: Literal["barrio", "district", "city"]
    scope_barrio_id: int | None = None
    scope_district_code: Line | None = None
    scope_note: Text | None = None
    schedule: Text | None = None
    frequency: Literal["weekly", "biweekly", "monthly", "quarterly", "yearly", "irregular", "permanent"] | None = None
    accessibility: list[Accessibility] = []
    public_contact: PublicContact | None = None  # published as `contact`
    private_notes: Annotated[Text, StringConstraints(max_length=4000)] | None = None  # editors only
    status: Literal["active", "paused", "ended"] = "active"
    start_date: Date | None = None
    end_date: Date | None = None
    source: Annotated[Line, StringConstraints(min_length=1)]
    source_url: HttpUrl | None = None
    moderation: Literal["pending", "approved", "rejected"] = "pending"
    moderation_reason: Text | None = None
    is_demo: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> InstanceIn:
        _require(self.modality == "online" or self.venue is not None, "venue",
                 "venue is required for in-person and hybrid instances")
        _require(self.modality == "in_person" or self.online_url is not None, "online_url",
                 "online_url is required for online and hybrid instances")
        # With a venue the database fills the scope's barrio and district from the place.
        _require(self.scope != "barrio" or self.scope_barrio_id is not None or self.venue is not None,
                 "scope_barrio_id", "scope_barrio_id is required when scope is 'barrio'")
        _require(self.scope != "district" or self.scope_district_code is not None or self.venue is not None,
                 "scope_district_code", "scope_district_code is required when scope is 'district'")
        _require(self.end_date is None or self.start_date is None or self.end_date >= self.start_date,
                 "end_date", "end_date is before start_date")
        _require(self.moderation != "rejected" or bool(self.moderation_reason), "moderation_reason",
                 "moderation_reason is required when moderation is 'rejected'")
        return self


class ActivityIn(_Input):
    instance_id: int
    external_id: ExternalId | None = None
    title: Annotated[Line, StringConstraints(min_length=3, max_length=200)]
    description: Text | None = None
    starts_at: DateTime
    ends_at: DateTime | None = None
    timezone: Line = "America/Argentina/Cordoba"
    venue: Point | None = None
    venue_address: Line | None = None
    online_url: HttpUrl | None = None
    registration_url: HttpUrl | None = None
    registration_required: bool = False
    status: Literal["scheduled", "cancelled", "held"] = "scheduled"
    source: Annotated[Line, StringConstraints(min_length=1)]
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
        _require(self.ends_at is None or self.ends_at >= self.starts_at, "ends_at", "ends_at is before starts_at")
        return self


AgeBand = Literal["16-24", "25-34", "35-49", "50-64", "65+"]
Gender = Literal["female", "male", "non_binary", "other", "prefer_not_to_say"]
Count = Annotated[int, Field(ge=0)]


class CriterionIn(_Input):
    """A minimum standard. Its `version` goes up with every change; assessments keep the version they used."""

    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_0-9]*$", max_length=60)]
    ordinal: Annotated[int, Field(ge=1, le=100)]
    label_es: Annotated[Line, StringConstraints(min_length=3, max_length=200)]
    label_en: Annotated[Line, StringConstraints(min_length=3, max_length=200)]
    guidance_es: Text | None = None


class AssessmentIn(_Input):
    """One instance against one criterion: met, not met or not applicable, by whom, on what evidence."""

    instance_id: int
    criterion: str
    status: Literal["met", "not_met", "not_applicable"]
    method: Literal["derived", "verified"] = "verified"
    evidence_url: HttpUrl | None = None
    note: Text | None = None
    assessed_by: Annotated[Line, StringConstraints(min_length=2, max_length=200)] | None = None
    assessed_on: Date = Field(default_factory=date.today)
    is_demo: bool = False

    @model_validator(mode="after")
    def _verified_by_someone(self) -> AssessmentIn:
        _require(self.method != "verified" or bool(self.assessed_by), "assessed_by",
                 "assessed_by is required for a verified assessment (who checked it)")
        return self


class ParticipantProfile(BaseModel):
    """Who took part, in aggregate only: counts by the survey's age bands, genders and barrios of residence."""

    model_config = ConfigDict(extra="forbid")
    gender: dict[Gender, Count] = {}
    age_band: dict[AgeBand, Count] = {}
    barrio: dict[int, Count] = {}  # MSLINK → people


class ExperienceIn(_Input):
    """The record of a held activity: attendance, who took part (in aggregate), results, proposals, lessons."""

    instance_id: int
    activity_id: int | None = None
    external_id: ExternalId | None = None
    held_on: Date
    attendance: Count | None = None
    participant_profile: ParticipantProfile = ParticipantProfile()
    minutes_url: HttpUrl | None = None
    proposals_count: Count | None = None
    proposals: Text | None = None
    lessons_learned: Text | None = None
    source: Annotated[Line, StringConstraints(min_length=1)]
    is_demo: bool = False

    @model_validator(mode="after")
    def _profile_within_attendance(self) -> ExperienceIn:
        if self.attendance is not None:
            for dimension in ("gender", "age_band", "barrio"):
                counted = sum(getattr(self.participant_profile, dimension).values())
                _require(counted <= self.attendance, "participant_profile",
                         f"participant_profile.{dimension} counts {counted} people, more than the attendance "
                         f"({self.attendance})")
        return self


class CommitmentIn(_Input):
    """What the government committed to, where it came from, and how far it got."""

    instance_id: int
    external_id: ExternalId | None = None
    description: Annotated[Text, StringConstraints(min_length=3, max_length=2000)]
    made_on: Date | None = None
    due_date: Date | None = None
    status: Literal["not_started", "limited", "substantial", "complete"] = "not_started"
    progress: Annotated[int, Field(ge=0, le=100)] | None = None
    evidence_url: HttpUrl | None = None
    government_response: Text | None = None
    activity_id: int | None = None
    experience_id: int | None = None
    proposal_ref: Annotated[Line, StringConstraints(max_length=300)] | None = None
    source: Annotated[Line, StringConstraints(min_length=1)]
    is_demo: bool = False

    @model_validator(mode="after")
    def _dates_ordered(self) -> CommitmentIn:
        _require(self.due_date is None or self.made_on is None or self.due_date >= self.made_on, "due_date",
                 "due_date is before made_on")
        return self


class SurveyResponseIn(_Input):
    """A survey answer on paper, imported: the same anonymous fields as the form (no name, no time of day)."""

    kind: Literal["satisfaction", "interest"] = "satisfaction"
    instance_id: int | None = None
    activity_id: int | None = None
    satisfaction: Annotated[int, Field(ge=1, le=5)] | None = None
    interest: Annotated[int, Field(ge=1, le=5)] | None = None
    interest_themes: list[str] = []
    respondent_barrio_id: int | None = None
    age_band: AgeBand | None = None
    gender: Gender | None = None
    answered_on: Date | None = None
    is_demo: bool = False

    @model_validator(mode="after")
    def _answered(self) -> SurveyResponseIn:
        _require(self.kind != "satisfaction" or self.satisfaction is not None, "satisfaction",
                 "satisfaction (1-5) is required for a satisfaction answer")
        _require(self.kind != "satisfaction" or self.instance_id is not None, "instance_id",
                 "instance_id is required for a satisfaction answer")
        _require(self.kind != "interest" or self.interest is not None, "interest",
                 "interest (1-5) is required for an interest answer")
        return self


# ---------------------------------------------------------------- checks that read the database
# Each takes (connection, validated item, id of the row being edited or None) and raises RegistryError.

def check_instance_codes(conn: psycopg.Connection, item: InstanceIn, row_id: int | None) -> None:
    check_codes(conn, "instance_kinds", "kind", [item.kind])
    check_codes(conn, "themes", "themes", item.themes)


def check_codes(conn: psycopg.Connection, catalogue: str, field: str, codes: list[str]) -> None:
    """Refuse codes missing from a catalogue table, listing the known ones."""
    known = [r[0] for r in conn.execute(
        sql.SQL("SELECT code FROM {} ORDER BY code").format(sql.Identifier("monitor", catalogue))).fetchall()]
    unknown = [c for c in codes if c not in known]
    if unknown:
        noun = field if field.endswith("s") else field + "s"
        raise RegistryError(field, f"{field}: unknown {field.rstrip('s')} {', '.join(map(repr, unknown))}; "
                                   f"known {noun}: {', '.join(known)}")


def check_in_a_barrio(conn: psycopg.Connection, item: Any, row_id: int | None) -> None:
    """A venue inside the bounding box must also fall inside a barrio (the river, the ring road's edge…)."""
    if getattr(item, "venue", None) is None:
        return
    x, y = item.venue.coordinates[:2]
    found = conn.execute("SELECT monitor.barrio_at(ST_SetSRID(ST_MakePoint(%s, %s), 4326))", (x, y)).fetchone()[0]
    if found is None:
        raise RegistryError("venue", f"venue is outside Rosario: POINT({x!r} {y!r}) falls in no barrio")


def check_duplicate_instance(conn: psycopg.Connection, item: InstanceIn, row_id: int | None) -> None:
    """No second instance with the same name (any case), kind and venue (within 1e-6°, about 10 cm)."""
    row = conn.execute(
        """SELECT id FROM monitor.instances
           WHERE deleted_at IS NULL AND lower(name) = lower(%(name)s) AND kind = %(kind)s
             AND id IS DISTINCT FROM %(row_id)s
             AND CASE WHEN %(venue)s::text IS NULL THEN venue IS NULL
                      ELSE ST_DWithin(venue, ST_SetSRID(ST_GeomFromGeoJSON(%(venue)s::text), 4326), 1e-6) END
           ORDER BY id LIMIT 1""",
        {"name": item.name, "kind": item.kind, "venue": point_geojson(item.venue), "row_id": row_id}).fetchone()
    if row is not None:
        raise RegistryError("name", f"name: an instance named {item.name!r} of kind {item.kind!r} already exists "
                                    f"at the same venue (id {row[0]})", conflict=True)


def check_duplicate_activity(conn: psycopg.Connection, item: ActivityIn, row_id: int | None) -> None:
    row = conn.execute(
        "SELECT id FROM monitor.activities WHERE instance_id = %s AND lower(title) = lower(%s) AND starts_at = %s "
        "AND deleted_at IS NULL AND id IS DISTINCT FROM %s",
        (item.instance_id, item.title, item.starts_at, row_id)).fetchone()
    if row is not None:
        raise RegistryError("title", f"title: instance {item.instance_id} already has an activity {item.title!r} "
                                     f"starting at {item.starts_at.isoformat()} (id {row[0]})", conflict=True)


def check_activity_of_instance(conn: psycopg.Connection, item: Any, row_id: int | None) -> None:
    """An experience or commitment that names an activity names one of its own instance's."""
    activity = getattr(item, "activity_id", None)
    if activity is not None and not conn.execute(
            "SELECT 1 FROM monitor.activities WHERE id = %s AND instance_id = %s", (activity, item.instance_id)
    ).fetchone():
        raise RegistryError("activity_id", f"activity_id {activity} is not an activity of instance {item.instance_id}")


def check_experience_of_instance(conn: psycopg.Connection, item: CommitmentIn, row_id: int | None) -> None:
    if item.experience_id is not None and not conn.execute(
            "SELECT 1 FROM monitor.experiences WHERE id = %s AND instance_id = %s AND deleted_at IS NULL",
            (item.experience_id, item.instance_id)).fetchone():
        raise RegistryError("experience_id", f"experience_id {item.experience_id} is not an experience of "
                                             f"instance {item.instance_id}")


def check_assessment_once(conn: psycopg.Connection, item: AssessmentIn, row_id: int | None) -> None:
    """One assessment per instance and criterion: a second one is a conflict (edit the first)."""
    row = conn.execute("SELECT id FROM monitor.instance_standards WHERE instance_id = %s AND criterion = %s "
                       "AND id IS DISTINCT FROM %s", (item.instance_id, item.criterion, row_id)).fetchone()
    if row is not None:
        raise RegistryError("criterion", f"criterion: instance {item.instance_id} already has an assessment of "
                                         f"{item.criterion!r} (id {row[0]}); edit that one", conflict=True)


def check_interest_themes(conn: psycopg.Connection, item: SurveyResponseIn, row_id: int | None) -> None:
    if item.interest_themes:
        check_codes(conn, "themes", "interest_themes", item.interest_themes)


def link_promoter(conn: psycopg.Connection, instance_id: int, item: InstanceIn) -> None:
    """After an instance is inserted: its organisation (if any) is also recorded in the promoter role."""
    if item.organization_id is not None:
        conn.execute("INSERT INTO monitor.instance_organizations (instance_id, organization_id, role) "
                     "VALUES (%s, %s, 'promoter')", (instance_id, item.organization_id))


def point_geojson(point: Point | None) -> str | None:
    # 2D only: the columns are geometry(Point, 4326), and a Z value would be refused by the column type.
    return None if point is None else json.dumps({"type": "Point", "coordinates": list(point.coordinates[:2])})


# ---------------------------------------------------------------- the database's refusals, the last line

# Named constraints of 0001_registry.sql: the field they are about and what the rule is. Reached only when a rule
# above missed a case; logged by the engine so the missing check can be added.
CONSTRAINTS = {
    "venue_valid": ("venue", "venue is not a valid, non-empty point"),
    "venue_in_rosario_bbox": ("venue", OUTSIDE_BBOX),
    "venue_required": ("venue", "venue is required for in-person and hybrid instances"),
    "online_url_required": ("online_url", "online_url is required for online and hybrid instances"),
    "scope_barrio_given": ("scope_barrio_id", "scope_barrio_id is required when scope is 'barrio'"),
    "scope_district_given": ("scope_district_code", "scope_district_code is required when scope is 'district'"),
    "dates_ordered": ("end_date", "end_date is before start_date"),
    "rejection_has_reason": ("moderation_reason", "moderation_reason is required when moderation is 'rejected'"),
    "activity_venue_valid": ("venue", "venue is not a valid, non-empty point"),
    "activity_venue_in_rosario_bbox": ("venue", OUTSIDE_BBOX),
    "activity_times_ordered": ("ends_at", "ends_at is before starts_at"),
    "activity_has_place": ("venue", "venue or online_url is required (or an instance that has one)"),
}


def describe_db_error(exc: psycopg.Error) -> RegistryError:
    diag = exc.diag
    if diag.constraint_name in CONSTRAINTS:
        return RegistryError(*CONSTRAINTS[diag.constraint_name])
    field = diag.column_name
    if field is None and diag.constraint_name and diag.table_name:
        # PostgreSQL names a column's own constraint "<table>_<column>_<kind>".
        field = diag.constraint_name.removeprefix(diag.table_name + "_").rsplit("_", 1)[0]
    primary = (diag.message_primary or str(exc)).splitlines()[0]
    return RegistryError(field, f"{field}: {primary}" if field else primary,
                         conflict=isinstance(exc, psycopg.errors.UniqueViolation))


