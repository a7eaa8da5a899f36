"""Decidim → the registry: what a participatory space, a meeting, a result and a proposal become.

Both ways in (the GraphQL API, gis/decidim/client.py, and the open-data ZIP, gis/decidim/opendata.py) first turn
what they read into the plain records below (`Space`, `Meeting`, `Proposal`, `Result`, gathered in a `Snapshot`);
`map_snapshot` then turns a snapshot into the rows the registry should hold (`Record`: model values of
monitor.instances, activities and commitments keyed by external id). The same upstream record therefore becomes
the same registry record whichever way it came. The mapping is documented in docs/import.md ("Decidim").

A `Record` carries only the fields its source can tell: a field a source does not know (for example the proposals
a result answers, which older Decidim APIs do not expose) is left out, so that source never overwrites it.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup

from gis.registry import in_rosario_bbox

Translated = dict[str, str]  # locale → text, as Decidim stores translated fields
TIMEZONE = "America/Argentina/Cordoba"  # Rosario's wall clock (activities' `timezone`)
THEMES_FILE = Path(__file__).with_name("themes.toml")
KINDS = {"process": "digital_process", "assembly": "thematic_council"}  # Decidim space → monitor.instance_kinds
SPACE_PATHS = {"process": "processes", "assembly": "assemblies"}  # their public pages: /processes/<slug>
MAX_NAME = 200
MAX_COMMITMENT = 2000  # CommitmentIn.description
MAX_PROPOSAL_REF = 300


# ---------------------------------------------------------------- what is read from Decidim

@dataclass(frozen=True)
class Platform:
    """One Decidim installation: `key` makes external ids (decidim:<key>:process:12), `name` is the `source`."""

    key: str = "rosario"
    name: str = "Rosario Participa"
    base_url: str = "https://participa.rosario.gob.ar"  # public pages are built from it when Decidim gives none
    locale: str = "es"

    @property
    def source(self) -> str:
        return f"decidim:{self.key}"

    def external_id(self, kind: str, upstream_id: str) -> str:
        return f"{self.source}:{kind}:{upstream_id}"

    def page(self, space: Space, *rest: str) -> str:
        return "/".join([self.base_url.rstrip("/"), SPACE_PATHS[space.kind], space.slug, *rest])


@dataclass
class Space:
    kind: str  # "process" or "assembly"
    id: str
    slug: str
    title: Translated
    subtitle: Translated = field(default_factory=dict)
    short_description: Translated = field(default_factory=dict)
    description: Translated = field(default_factory=dict)
    meta_scope: Translated = field(default_factory=dict)
    participatory_scope: Translated = field(default_factory=dict)  # what is decided
    participatory_structure: Translated = field(default_factory=dict)  # how it is decided
    target: Translated = field(default_factory=dict)  # who takes part
    start_date: date | None = None  # assemblies: creation date
    end_date: date | None = None  # assemblies: closing date
    url: str | None = None
    updated_at: datetime | None = None
    categories: list[Translated] = field(default_factory=list)  # categories or taxonomies (their names)
    has_proposals: bool = False  # the space has a proposals component

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.id)


@dataclass
class Meeting:
    id: str
    space: tuple[str, str]  # Space.key
    component_id: str
    title: Translated
    start: datetime
    end: datetime | None
    description: Translated = field(default_factory=dict)
    address: str | None = None
    location: Translated = field(default_factory=dict)
    latitude: float | None = None
    longitude: float | None = None
    type_of_meeting: str | None = None  # in_person, online, hybrid (None: the source does not say)
    online_meeting_url: str | None = None
    url: str | None = None
    closed: bool = False
    withdrawn: bool | None = None  # None: the source does not say
    registrations_enabled: bool = False
    categories: list[Translated] = field(default_factory=list)
    updated_at: datetime | None = None


@dataclass
class Proposal:
    id: str
    space: tuple[str, str]
    title: Translated = field(default_factory=dict)
    state: str | None = None  # accepted, rejected, evaluating, withdrawn, not_answered / None
    withdrawn: bool = False
    categories: list[Translated] = field(default_factory=list)


@dataclass
class Result:
    id: str
    space: tuple[str, str]
    component_id: str
    title: Translated
    description: Translated = field(default_factory=dict)
    start_date: date | None = None
    end_date: date | None = None
    progress: float | None = None
    status_name: Translated = field(default_factory=dict)
    url: str | None = None
    proposal_ids: list[str] | None = None  # None: the source does not link results to proposals
    categories: list[Translated] = field(default_factory=list)
    updated_at: datetime | None = None


@dataclass
class Snapshot:
    """Everything read from one platform. `covers` names the kinds listed completely (process, assembly,
    meeting, result): only those can tell that a record is gone upstream."""

    spaces: list[Space] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    covers: set[str] = field(default_factory=set)
    version: str | None = None
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- what the registry should hold

@dataclass
class Record:
    table: str  # instances, activities, commitments
    kind: str  # process, assembly, meeting, result
    external_id: str
    values: dict[str, Any]
    label: str
    parent: str | None = None  # the instance's external id (activities, commitments)
    updated_at: datetime | None = None  # upstream: the newest change of the record or what it is made from
    page: str | None = None  # its public page upstream

    @property
    def upstream_hash(self) -> str:
        payload = json.dumps({"values": self.values, "parent": self.parent}, sort_keys=True, default=str,
                             ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class Mapped:
    records: list[Record] = field(default_factory=list)
    unplaced: list[dict] = field(default_factory=list)  # meetings without usable coordinates
    unknown_categories: Counter = field(default_factory=Counter)  # category names no theme matched
    notes: list[str] = field(default_factory=list)
    covers: set[str] = field(default_factory=set)
    version: str | None = None


# ---------------------------------------------------------------- text

def pick(text: Translated | None, locale: str) -> str:
    """The text in `locale`, else in its language (es-AR → es), else in any locale that has one (sorted, so the
    choice is stable), else ''. Machine translations count as translations (Decidim's own display rule)."""
    if not text:
        return ""
    values = {k: v for k, v in text.items() if isinstance(v, str) and v.strip()}
    language = locale.split("-")[0].split("_")[0]
    for wanted in (locale, language):
        if wanted in values:
            return values[wanted]
    same_language = sorted(k for k in values if k.split("-")[0].split("_")[0] == language)
    if same_language:
        return values[same_language[0]]
    return values[sorted(values)[0]] if values else ""


BLOCKS = ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "table", "tr", "section",
          "article", "header", "footer", "pre", "figure")


def html_to_text(html: str | None) -> str:
    """Decidim's rich text (HTML from its editor) as plain text: paragraphs and line breaks kept, list items as
    `- `, entities decoded, scripts and styles dropped, runs of blank space collapsed."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return _tidy(html)
    soup = BeautifulSoup(html, "html.parser")
    for element in soup(["script", "style", "template"]):
        element.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for item in soup.find_all("li"):
        item.insert_before("\n- ")
    for block in soup.find_all(BLOCKS):
        block.insert_before("\n\n")
        block.insert_after("\n\n")
    return _tidy(soup.get_text())


def _tidy(text: str) -> str:
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.replace("\r", "").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def text(value: Translated | None, locale: str) -> str:
    return html_to_text(pick(value, locale))


def _clip(value: str, limit: int = MAX_NAME) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _normalize(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


# ---------------------------------------------------------------- themes

@dataclass(frozen=True)
class ThemeTable:
    keywords: dict[str, tuple[str, ...]]
    default: str

    @classmethod
    def load(cls, path: Path = THEMES_FILE) -> ThemeTable:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return cls({code: tuple(_normalize(k) for k in words) for code, words in data["keywords"].items()},
                   data["default"])

    def themes_of(self, name: str) -> list[str]:
        padded = f" {_normalize(name)} "
        return sorted(code for code, words in self.keywords.items() if any(f" {w} " in padded for w in words))


# ---------------------------------------------------------------- the mapping

def progress_status(progress: float | None) -> str:
    """Accountability progress (0–100 %) → commitment status."""
    if progress is None or progress <= 0:
        return "not_started"
    if progress < 50:
        return "limited"
    if progress < 100:
        return "substantial"
    return "complete"


def meeting_modality(meeting: Meeting) -> str:
    kind = (meeting.type_of_meeting or "").strip().lower().replace("-", "_")
    if kind in ("online", "in_person", "hybrid"):
        return kind
    return "online" if meeting.online_meeting_url and not meeting.address else "in_person"


def map_snapshot(snapshot: Snapshot, platform: Platform, themes: ThemeTable | None = None,
                 today: date | None = None) -> Mapped:
    themes = themes or ThemeTable.load()
    today = today or datetime.now().date()
    mapped = Mapped(covers=set(snapshot.covers), version=snapshot.version, notes=list(snapshot.notes))
    spaces = {space.key: space for space in snapshot.spaces}
    by_space: dict[tuple[str, str], dict[str, list]] = {
        key: {"meetings": [], "proposals": [], "results": []} for key in spaces}
    for kind, items in (("meetings", snapshot.meetings), ("proposals", snapshot.proposals),
                        ("results", snapshot.results)):
        for item in items:
            if item.space not in by_space:
                mapped.notes.append(f"{kind[:-1]} {item.id} belongs to no space listed ({item.space[0]} "
                                    f"{item.space[1]}): skipped")
                continue
            by_space[item.space][kind].append(item)
    proposal_titles = {p.id: pick(p.title, platform.locale) for p in snapshot.proposals}

    for key, space in spaces.items():
        children = by_space[key]
        instance = _instance(space, children, platform, themes, today, mapped)
        mapped.records.append(instance)
        for meeting in sorted(children["meetings"], key=lambda m: (m.start, m.id)):
            record = _activity(meeting, space, instance.external_id, platform, mapped)
            if record is not None:
                mapped.records.append(record)
        for result in sorted(children["results"], key=lambda r: int(r.id) if r.id.isdigit() else r.id):
            mapped.records.append(_commitment(result, space, instance.external_id, platform, proposal_titles))
    return mapped


def _instance(space: Space, children: dict[str, list], platform: Platform, themes: ThemeTable, today: date,
              mapped: Mapped) -> Record:
    locale = platform.locale
    external_id = platform.external_id(space.kind, space.id)
    page = space.url or platform.page(space)
    name = _clip(pick(space.title, locale) or space.slug)
    parts = [text(space.subtitle, locale), text(space.short_description, locale)]
    full = text(space.description, locale)
    if full and full not in parts:
        parts.append(full)
    if space.has_proposals or children["proposals"]:
        parts.append(_proposal_counts(children["proposals"], platform.name))
    description = "\n\n".join(p for p in parts if p)

    names = [pick(c, locale) for c in space.categories]
    for kind in ("meetings", "proposals", "results"):
        names += [pick(c, locale) for item in children[kind] for c in item.categories]
    codes: set[str] = set()
    for category in filter(None, names):
        found = themes.themes_of(category)
        if not found:
            mapped.unknown_categories[category] += 1
        codes.update(found)

    modality, venue, address, note = _space_modality(children["meetings"])
    if note:
        mapped.notes.append(f"{external_id}: {note}")
    start, end = space.start_date, space.end_date
    if start and end and end < start:
        mapped.notes.append(f"{external_id}: end date {end} before start date {start}: end date left out")
        end = None
    target = text(space.target, locale)
    how_to = f"Participá en {platform.name}: {page}"
    values = {
        "external_id": external_id,
        "name": name,
        "description": description,
        "kind": KINDS[space.kind],
        "promoter": "state",
        "themes": sorted(codes) or [themes.default],
        "decides": text(space.participatory_scope, locale) or None,
        "how_it_works": text(space.participatory_structure, locale) or None,
        "how_to_participate": f"{target}\n\n{how_to}" if target else how_to,
        "modality": modality,
        "venue": venue,
        "venue_address": address,
        "online_url": page,
        "scope": "city",
        "scope_note": text(space.meta_scope, locale) or None,
        "status": "ended" if end is not None and end < today else "active",
        "start_date": start,
        "end_date": end,
        "source": platform.name,
        "source_url": page,
        "is_demo": False,
    }
    newest = max((t for t in [space.updated_at] + [getattr(i, "updated_at", None) for k in children
                                                   for i in children[k]] if t is not None), default=None)
    return Record("instances", space.kind, external_id, values, f"{space.kind} «{name}»", updated_at=newest)


def _proposal_counts(proposals: list[Proposal], platform_name: str) -> str:
    live = [p for p in proposals if not p.withdrawn and (p.state or "") != "withdrawn"]
    states = Counter((p.state or "not_answered") for p in live)
    detail = [f"{states[s]} {label}" for s, label in (("accepted", "aceptadas"), ("rejected", "rechazadas"),
                                                       ("evaluating", "en evaluación")) if states[s]]
    return f"Propuestas en {platform_name}: {len(live)}" + (f" ({', '.join(detail)})." if detail else ".")


def _point(meeting: Meeting) -> dict | None:
    if meeting.latitude is None or meeting.longitude is None:
        return None
    x, y = round(float(meeting.longitude), 7), round(float(meeting.latitude), 7)
    return {"type": "Point", "coordinates": [x, y]} if in_rosario_bbox(x, y) else None


def _space_modality(meetings: list[Meeting]) -> tuple[str, dict | None, str | None, str | None]:
    """(modality, venue, venue address, note). Online when no meeting is held in person. In person (or hybrid
    when some meetings are online or hybrid) only when every placed in-person meeting is at one place (within
    about 100 m): that place is the instance's venue. In-person meetings at several places, or none placed,
    leave the instance online: the venue of a space is never guessed (its meetings are on the map themselves)."""
    live = [m for m in meetings if not m.withdrawn]
    kinds = {meeting_modality(m) for m in live}
    physical = [m for m in live if meeting_modality(m) != "online"]
    if not physical:
        return "online", None, None, None
    placed = [(m, p) for m in physical if (p := _point(m)) is not None]
    if not placed:
        return "online", None, None, "in-person meetings have no coordinates: left online"
    latest_meeting, venue = max(placed, key=lambda mp: (mp[0].start, mp[0].id))
    x0, y0 = venue["coordinates"]
    if any(abs(p["coordinates"][0] - x0) > 0.0012 or abs(p["coordinates"][1] - y0) > 0.0009 for _, p in placed):
        return "online", None, None, "in-person meetings at several places: left online, its meetings are placed"
    modality = "in_person" if kinds == {"in_person"} else "hybrid"
    return modality, venue, latest_meeting.address or None, None


def _activity(meeting: Meeting, space: Space, instance_id: str, platform: Platform, mapped: Mapped) -> Record | None:
    locale = platform.locale
    external_id = platform.external_id("meeting", meeting.id)
    page = meeting.url or platform.page(space, "f", meeting.component_id, "meetings", meeting.id)
    title = _clip(html_to_text(pick(meeting.title, locale))) or f"Encuentro {meeting.id}"
    if len(title) < 3:
        title = f"Encuentro: {title}"
    modality = meeting_modality(meeting)
    venue = _point(meeting) if modality != "online" else None
    location = html_to_text(pick(meeting.location, locale))
    address_parts = [p for p in (location, (meeting.address or "").strip()) if p]
    address = ", ".join(dict.fromkeys(address_parts)) or None
    online = meeting.online_meeting_url if (meeting.online_meeting_url or "").startswith(("http://", "https://")) \
        else None
    if modality == "online":
        online_url = online or page
    elif venue is None:
        # Without a place of its own the database would give the activity its instance's venue: a guess. The
        # meeting's page keeps it unplaced (the agenda shows its address first).
        online_url = online or page
        reason = ("no coordinates" if meeting.latitude is None or meeting.longitude is None
                  else f"coordinates ({meeting.longitude}, {meeting.latitude}) are outside Rosario")
        mapped.unplaced.append({"external_id": external_id, "title": title, "address": address, "reason": reason,
                                "url": page})
    else:
        online_url = online if modality == "hybrid" else None
    ends = meeting.end
    if ends is not None and ends < meeting.start:
        mapped.notes.append(f"{external_id}: ends before it starts: end time left out")
        ends = None
    if meeting.withdrawn:
        status = "cancelled"
    elif meeting.closed:
        status = "held"
    else:
        status = "scheduled"
    values = {
        "external_id": external_id,
        "title": title,
        "description": text(meeting.description, locale) or None,
        "starts_at": meeting.start,
        "ends_at": ends,
        "timezone": TIMEZONE,
        "venue": venue,
        "venue_address": address,
        "online_url": online_url,
        "registration_url": page if meeting.registrations_enabled else None,
        "registration_required": bool(meeting.registrations_enabled),
        "status": status,
        "source": platform.name,
        "is_demo": False,
    }
    return Record("activities", "meeting", external_id, values, f"meeting «{title}»", parent=instance_id,
                  updated_at=meeting.updated_at, page=page)


def _commitment(result: Result, space: Space, instance_id: str, platform: Platform,
                proposal_titles: dict[str, str]) -> Record:
    locale = platform.locale
    external_id = platform.external_id("result", result.id)
    title = " ".join(html_to_text(pick(result.title, locale)).split()) or f"Resultado {result.id}"
    detail = text(result.description, locale)
    description = f"{title}\n\n{detail}" if detail and detail != title else title
    if len(description) < 3:
        description = f"Resultado: {description}"
    made_on, due = result.start_date, result.end_date
    if made_on and due and due < made_on:
        due = None
    progress = None if result.progress is None else max(0, min(100, round(result.progress)))
    values = {
        "external_id": external_id,
        "description": _clip_text(description, MAX_COMMITMENT),
        "made_on": made_on,
        "due_date": due,
        "status": progress_status(result.progress),
        "progress": progress,
        "evidence_url": result.url or platform.page(space, "f", result.component_id, "results", result.id),
        "source": platform.name,
        "is_demo": False,
    }
    if result.proposal_ids is not None:
        ids = sorted(set(result.proposal_ids), key=lambda v: (len(v), v))
        values["government_response"] = _answer(result, ids, proposal_titles, locale)
        values["proposal_ref"] = _refs([platform.external_id("proposal", i) for i in ids]) if ids else None
    return Record("commitments", "result", external_id, values, f"result «{_clip(title, 80)}»", parent=instance_id,
                  updated_at=result.updated_at)


def _answer(result: Result, ids: list[str], proposal_titles: dict[str, str], locale: str) -> str | None:
    parts = []
    status = pick(result.status_name, locale)
    if status:
        progress = f" ({result.progress:g} %)" if result.progress is not None else ""
        parts.append(f"Estado en la plataforma: {status}{progress}.")
    if ids:
        linked = [f"«{proposal_titles[i]}» (#{i})" if proposal_titles.get(i) else f"#{i}" for i in ids]
        parts.append("Responde a las propuestas: " + "; ".join(linked) + ".")
    return " ".join(parts) or None


def _refs(refs: list[str], limit: int = MAX_PROPOSAL_REF) -> str:
    """Proposal external ids, `, `-separated, as many as fit in proposal_ref (300 characters)."""
    kept: list[str] = []
    for ref in refs:
        if len(", ".join([*kept, ref, "…"])) > limit:
            return ", ".join([*kept, "…"])
        kept.append(ref)
    return ", ".join(kept)


def _clip_text(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"
