"""Reading Decidim's open-data ZIP (`/open-data/download`): one CSV per export, the same records as the API.

Decidim writes `<host>-open-data-<name>.csv` for each export included in open data (participatory_processes,
assemblies, meetings, proposals, results, and comments we do not read), with `;` between values by default
(`Decidim.default_csv_col_sep`), nested fields flattened with `/` (`title/es`, `category/name/es`,
`participatory_space/id`) and lists joined with `, ` (decidim-core/lib/decidim/exporters/csv.rb). The columns
read are those of the serializers (OpenDataParticipatoryProcessSerializer, OpenDataAssemblySerializer,
MeetingSerializer, ProposalSerializer, ResultSerializer). What a file does not have is left unknown: an export
of Decidim 0.27 has no meeting coordinates, so its meetings stay unplaced.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from gis.decidim.mapping import Meeting, Proposal, Result, Snapshot, Space, Translated

FILES = {"process": "participatory_processes", "assembly": "assemblies", "meeting": "meetings",
         "proposal": "proposals", "result": "results"}
SPACE_SEGMENTS = {"processes": "process", "assemblies": "assembly"}
LOCALE = re.compile(r"^[a-z]{2}([-_][A-Za-z]{2,4})?$")


class OpenDataError(ValueError):
    """The file is not a Decidim open-data ZIP (nothing was written)."""


def read_zip(path: str | Path) -> Snapshot:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise OpenDataError(f"{path}: not a ZIP file ({exc})") from None
    with archive:
        tables = {kind: list(_rows(archive, name)) for kind, name in FILES.items() if _member(archive, name)}
    if not tables:
        raise OpenDataError(f"{path}: no Decidim open-data CSV in it (…-open-data-meetings.csv, …)")
    snapshot = Snapshot(covers={k for k in tables if k != "proposal"})
    spaces: dict[tuple[str, str], Space] = {}
    by_slug: dict[tuple[str, str], Space] = {}
    for kind in ("process", "assembly"):
        for row in tables.get(kind, []):
            space = _space(kind, row)
            spaces[space.key] = space
            by_slug[(kind, space.slug)] = space
            snapshot.spaces.append(space)
    for row in tables.get("meeting", []):
        key = _space_of(row, by_slug)
        if key is not None:
            snapshot.meetings.append(_meeting(row, key))
        else:
            snapshot.notes.append(f"meeting {row.get('id')}: its space is not in the file: skipped")
    for row in tables.get("proposal", []):
        key = _space_of(row, by_slug)
        if key is not None:
            snapshot.proposals.append(_proposal(row, key))
            if key in spaces:
                spaces[key].has_proposals = True
    for row in tables.get("result", []):
        key = _space_of(row, by_slug)
        if key is not None:
            snapshot.results.append(_result(row, key))
        else:
            snapshot.notes.append(f"result {row.get('id')}: its space is not in the file: skipped")
    return snapshot


def _member(archive: zipfile.ZipFile, name: str) -> str | None:
    for member in archive.namelist():
        base = member.rsplit("/", 1)[-1]
        if base == f"{name}.csv" or base.endswith(f"-open-data-{name}.csv"):
            return member
    return None


def _rows(archive: zipfile.ZipFile, name: str) -> Iterator[dict[str, str]]:
    raw = archive.read(_member(archive, name)).decode("utf-8-sig")
    if not raw.strip():
        return
    header = raw.split("\n", 1)[0]
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    for row in csv.DictReader(io.StringIO(raw, newline=""), delimiter=delimiter):
        yield {k.strip(): (v or "").strip() for k, v in row.items() if k}


# ---------------------------------------------------------------- cells

def translated(row: dict[str, str], prefix: str) -> Translated:
    """`title/es`, `title/ca`… → {'es': …}; machine translations (`title/machine_translations/en`) fill in
    locales that have no text of their own."""
    found, machine = {}, {}
    for column, value in row.items():
        if not column.startswith(prefix + "/") or not value:
            continue
        rest = column[len(prefix) + 1:]
        if LOCALE.match(rest):
            found[rest] = value
        elif rest.startswith("machine_translations/") and LOCALE.match(rest.split("/", 1)[1]):
            machine[rest.split("/", 1)[1]] = value
    return {**machine, **found}


def _categories(row: dict[str, str]) -> list[Translated]:
    name = translated(row, "category/name")
    if name:
        return [name]
    # 0.30+: taxonomies; names per locale joined with ", " (one list per locale).
    lists = {locale: [v.strip() for v in value.split(", ") if v.strip()]
             for locale, value in translated(row, "taxonomies/name").items()}
    count = max((len(v) for v in lists.values()), default=0)
    return [{locale: values[i] for locale, values in lists.items() if i < len(values)} for i in range(count)]


def _bool(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.strip().lower() in ("true", "t", "1", "yes", "sí", "si")


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse_time(value: str | None) -> datetime | None:
    """Decidim writes times as Ruby prints them: ISO 8601, `2025-05-10 18:00:00 -0300`, or (0.27, `to_s(:db)`)
    `2025-05-10 21:00:00` in UTC."""
    if not value:
        return None
    text = value.strip().replace(" UTC", " +0000")
    for pattern in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.strptime(text, pattern)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _space_of(row: dict[str, str], by_slug: dict[tuple[str, str], Space]) -> tuple[str, str] | None:
    """A record's space: `participatory_space/id` with the kind from its URL, else the space's slug in the
    record's own URL (results have only that: /processes/<slug>/f/<component>/results/<id>)."""
    for url in (row.get("participatory_space/url"), row.get("url")):
        parts = [p for p in urlsplit(url or "").path.split("/") if p]
        for i, part in enumerate(parts[:-1]):
            if part in SPACE_SEGMENTS:
                kind, slug = SPACE_SEGMENTS[part], parts[i + 1]
                if row.get("participatory_space/id"):
                    return (kind, row["participatory_space/id"])
                space = by_slug.get((kind, slug))
                return space.key if space else None
    return None


def _component(row: dict[str, str]) -> str:
    if row.get("component/id"):
        return row["component/id"]
    match = re.search(r"/f/(\d+)/", row.get("url") or "")
    return match.group(1) if match else ""


# ---------------------------------------------------------------- records

def _space(kind: str, row: dict[str, str]) -> Space:
    start, end = ("start_date", "end_date") if kind == "process" else ("creation_date", "closing_date")
    return Space(
        kind=kind, id=row["id"], slug=row.get("slug") or row["id"], title=translated(row, "title"),
        subtitle=translated(row, "subtitle"), short_description=translated(row, "short_description"),
        description=translated(row, "description"), meta_scope=translated(row, "meta_scope"),
        participatory_scope=translated(row, "participatory_scope"),
        participatory_structure=translated(row, "participatory_structure"), target=translated(row, "target"),
        start_date=parse_day(row.get(start)), end_date=parse_day(row.get(end)), url=row.get("url") or None,
        updated_at=parse_time(row.get("updated_at")))


def _meeting(row: dict[str, str], space: tuple[str, str]) -> Meeting:
    return Meeting(
        id=row["id"], space=space, component_id=_component(row), title=translated(row, "title"),
        description=translated(row, "description"), start=parse_time(row.get("start_time")),
        end=parse_time(row.get("end_time")), address=row.get("address") or None,
        location=translated(row, "location"), latitude=_float(row.get("latitude")),
        longitude=_float(row.get("longitude")), type_of_meeting=row.get("type_of_meeting") or None,
        online_meeting_url=row.get("online_meeting_url") or None, url=row.get("url") or None,
        closed=bool(row.get("closed_at")), withdrawn=_bool(row.get("withdrawn")),
        registrations_enabled=bool(_bool(row.get("registrations_enabled"))), categories=_categories(row),
        updated_at=parse_time(row.get("updated_at")))


def _proposal(row: dict[str, str], space: tuple[str, str]) -> Proposal:
    state = row.get("state") or None
    return Proposal(id=row["id"], space=space, title=translated(row, "title"), state=state,
                    withdrawn=state == "withdrawn" or bool(row.get("withdrawn_at")), categories=_categories(row))


def _result(row: dict[str, str], space: tuple[str, str]) -> Result:
    urls = [u for u in (row.get("proposal_urls") or "").split(", ") if u] if "proposal_urls" in row else None
    ids = None if urls is None else [u.rstrip("/").rsplit("/", 1)[-1] for u in urls]
    return Result(
        id=row["id"], space=space, component_id=_component(row), title=translated(row, "title"),
        description=translated(row, "description"), start_date=parse_day(row.get("start_date")),
        end_date=parse_day(row.get("end_date")), progress=_float(row.get("progress")),
        status_name=translated(row, "status/name"), url=row.get("url") or None, proposal_ids=ids,
        categories=_categories(row), updated_at=parse_time(row.get("updated_at")))
