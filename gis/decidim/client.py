"""Reading a Decidim platform through its GraphQL API (`/api`), politely.

The queries ask only for fields Decidim defines (decidim-api, decidim-core, decidim-participatory_processes,
decidim-assemblies, decidim-meetings, decidim-proposals, decidim-accountability); the subset used is written
out as SDL in gis/decidim/schema/, which the tests serve and validate every query against. Which classification
a platform has depends on its version, probed first with `decidim { version }`: categories up to 0.29,
taxonomies from 0.30 (when the version is hidden, the schema is asked instead; see `probe`).

Polite by default: at most one request every `min_interval` seconds, retries with exponential backoff on 429
(honouring Retry-After) and 5xx, a page size of 50 (Decidim's own maximum). Retries are a small loop rather than
tenacity because they share the rate limiter's clock and read Retry-After. Everything is read before anything
is written, so an unreachable server, or one that answers something that is not Decidim's API, writes nothing.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx

from gis.decidim.mapping import Meeting, Platform, Proposal, Result, Snapshot, Space, Translated

log = logging.getLogger("monitor.decidim")
USER_AGENT = "rosario-participation-monitor/0.1 (Decidim sync)"
RETRY_STATUS = {429, 500, 502, 503, 504}
COMPONENT_TYPES = {"Meetings": "meetings", "Proposals": "proposals", "Accountability": "results"}


class DecidimError(RuntimeError):
    """The platform could not be read: unreachable, or it answered something other than Decidim's API.
    Nothing has been written when this is raised."""


@dataclass(frozen=True)
class Capabilities:
    """What the platform's API has, by version (or by asking its schema)."""

    version: str | None
    taxonomies: bool  # 0.30+: taxonomies (else categories), meetings' url and isWithdrawn
    result_proposals: bool = False  # ResultType.proposals (the proposals a result answers)

    @classmethod
    def for_version(cls, version: str | None) -> Capabilities | None:
        numbers = _version_tuple(version)
        if numbers is None:
            return None
        return cls(version, taxonomies=numbers >= (0, 30), result_proposals=numbers >= (0, 31))


def _version_tuple(version: str | None) -> tuple[int, ...] | None:
    if not version:
        return None
    parts = []
    for piece in version.strip().lstrip("v").split("."):
        digits = "".join(c for c in piece if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) if len(parts) >= 2 else None


class DecidimClient:
    def __init__(self, url: str, *, min_interval: float = 0.5, retries: int = 5, backoff: float = 1.0,
                 max_delay: float = 60.0, timeout: float = 30.0, page_size: int = 50,
                 sleep: Callable[[float], None] = time.sleep):
        self.url = url
        self.min_interval = min_interval
        self.retries = retries
        self.backoff = backoff
        self.max_delay = max_delay
        self.page_size = page_size
        self.sleep = sleep
        self.requests = 0
        self.warnings: list[str] = []
        self._last = 0.0
        self._http = httpx.Client(timeout=timeout, follow_redirects=True,
                                  headers={"User-Agent": USER_AGENT, "Accept": "application/json"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DecidimClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ one request

    def _wait_turn(self) -> None:
        delay = self._last + self.min_interval - time.monotonic()
        if delay > 0:
            self.sleep(delay)
        self._last = time.monotonic()

    def _retry_delay(self, attempt: int, response: httpx.Response | None) -> float:
        header = response.headers.get("Retry-After") if response is not None else None
        if header:
            try:
                return min(max(float(header), 0.0), self.max_delay)
            except ValueError:
                when = email.utils.parsedate_to_datetime(header)
                if when is not None:
                    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), self.max_delay)
        return min(self.backoff * 2 ** attempt, self.max_delay)

    def post(self, query: str, variables: dict | None = None) -> dict:
        """The answer's `data`; raises DecidimError when the server cannot be read or answers with errors."""
        problem = ""
        for attempt in range(self.retries + 1):
            self._wait_turn()
            response = None
            try:
                self.requests += 1
                response = self._http.post(self.url, json={"query": query, "variables": variables or {}})
            except httpx.TransportError as exc:
                problem = f"cannot reach {self.url}: {exc.__class__.__name__}: {exc}"
            else:
                if response.status_code not in RETRY_STATUS:
                    return self._data(response)
                problem = f"{self.url} answered HTTP {response.status_code}"
            if attempt < self.retries:
                delay = self._retry_delay(attempt, response)
                log.warning("%s; retrying in %.1f s (%d/%d)", problem, delay, attempt + 1, self.retries)
                self.sleep(delay)
        raise DecidimError(f"{problem} (after {self.retries + 1} attempts); nothing was written")

    def _data(self, response: httpx.Response) -> dict:
        if response.status_code >= 400:
            raise DecidimError(f"{self.url} answered HTTP {response.status_code}: {response.text[:200]!r}; "
                               "is it a Decidim API (…/api)?")
        try:
            body = response.json()
        except ValueError:
            raise DecidimError(f"{self.url} did not answer JSON ({response.headers.get('content-type')}): "
                               "is it a Decidim API (…/api)?") from None
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            raise DecidimError(f"{self.url} answered JSON that is not a GraphQL response")
        errors = body.get("errors") or []
        data = body.get("data")
        # Decidim resolves a meeting without latitude/longitude to coordinates with null non-null fields: the
        # field comes back null with an error. Those (and only those) are expected.
        tolerated = [e for e in errors if "coordinates" in (e.get("path") or [])]
        if errors and (data is None or len(tolerated) != len(errors)):
            messages = "; ".join(str(e.get("message")) for e in errors if e not in tolerated)
            raise DecidimError(f"{self.url} refused the query: {messages}")
        return data or {}

    # ------------------------------------------------------------ what the platform is

    def probe(self) -> Capabilities:
        """`decidim { version }` first; a hidden version (Decidim.Api.disclose_system_version off) falls back to
        the schema (introspection), then to trying the 0.30 field itself."""
        data = self.post("query Probe { decidim { version applicationName } }")
        decidim = data.get("decidim")
        if not isinstance(decidim, dict):
            raise DecidimError(f"{self.url} has no `decidim` field: not a Decidim API")
        found = Capabilities.for_version(decidim.get("version"))
        if found is not None:
            return found
        try:
            fields = self.post('query Fields { meeting: __type(name: "Meeting") { fields { name } } '
                               'result: __type(name: "Result") { fields { name } } }')
            names = {f["name"] for f in ((fields.get("meeting") or {}).get("fields") or [])}
            results = {f["name"] for f in ((fields.get("result") or {}).get("fields") or [])}
            if names:
                return Capabilities(None, taxonomies="taxonomies" in names, result_proposals="proposals" in results)
        except DecidimError as exc:
            log.info("introspection refused (%s): trying the taxonomies field", exc)
        try:
            self.post("query Taxonomies { participatoryProcesses { id taxonomies { id } } }")
            return Capabilities(None, taxonomies=True)
        except DecidimError:
            return Capabilities(None, taxonomies=False)

    # ------------------------------------------------------------ reading everything

    def snapshot(self, platform: Platform, capabilities: Capabilities | None = None) -> Snapshot:
        caps = capabilities or self.probe()
        queries = Queries(caps)
        data = self.post(queries.spaces())
        snapshot = Snapshot(covers={"process", "assembly", "meeting", "result"}, version=caps.version)
        components: list[tuple[Space, str, str]] = []
        for kind, key in (("process", "participatoryProcesses"), ("assembly", "assemblies")):
            if data.get(key) is None:
                raise DecidimError(f"{self.url} listed no {key}: not a Decidim API with that space")
            for raw in data[key]:
                if raw is None:
                    continue
                space = _space(kind, raw, caps)
                snapshot.spaces.append(space)
                for component in raw.get("components") or []:
                    if component and component.get("__typename") in COMPONENT_TYPES:
                        components.append((space, str(component["id"]), component["__typename"]))
                        space.has_proposals |= component["__typename"] == "Proposals"
        for space, component_id, typename in components:
            for node in self.pages(queries.component(typename), component_id, COMPONENT_TYPES[typename]):
                if typename == "Meetings":
                    snapshot.meetings.append(_meeting(node, space, component_id, caps))
                elif typename == "Proposals":
                    snapshot.proposals.append(_proposal(node, space, caps))
                else:
                    snapshot.results.append(_result(node, space, component_id, caps))
        snapshot.notes.extend(self.warnings)
        return snapshot

    def pages(self, query: str, component_id: str, connection: str) -> Iterator[dict]:
        """Every node of a component's connection (meetings, proposals, results), page after page."""
        after, seen = None, set()
        while True:
            data = self.post(query, {"id": component_id, "after": after, "first": self.page_size})
            component = data.get("component")
            if component is None:
                self.warnings.append(f"component {component_id} is not public any more: skipped")
                return
            page = component.get(connection)
            if page is None:
                return
            yield from (node for node in page.get("nodes") or [] if node is not None)
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")
            if not after or after in seen:
                raise DecidimError(f"{self.url}: paging of component {component_id} does not advance")
            seen.add(after)


# ---------------------------------------------------------------- queries

TRANSLATED = "{ translations { locale text } }"


class Queries:
    """The query texts for a platform's capabilities (validated against gis/decidim/schema in the tests)."""

    def __init__(self, caps: Capabilities):
        self.caps = caps
        if caps.taxonomies:
            self.classification = f"taxonomies {{ id name {TRANSLATED} }}"
            self.space_classification = self.classification
        else:
            self.classification = f"category {{ id name {TRANSLATED} }}"
            self.space_classification = f"categories {{ id name {TRANSLATED} }}"

    def spaces(self) -> str:
        common = " ".join([
            "id slug", *(f"{name} {TRANSLATED}" for name in (
                "title", "subtitle", "shortDescription", "description", "metaScope", "participatoryScope",
                "participatoryStructure", "target")),
            "publishedAt updatedAt", self.space_classification,
            f"components {{ id __typename name {TRANSLATED} }}",
        ])
        return (f"query Spaces {{ participatoryProcesses {{ {common} startDate endDate }} "
                f"assemblies {{ {common} creationDate closingDate }} }}")

    def component(self, typename: str) -> str:
        fields = {"Meetings": self.meeting_fields, "Proposals": self.proposal_fields,
                  "Accountability": self.result_fields}[typename]()
        connection = COMPONENT_TYPES[typename]
        return (f"query Page($id: ID!, $after: String, $first: Int) {{ component(id: $id) {{ __typename "
                f"... on {typename} {{ {connection}(first: $first, after: $after) {{ "
                f"pageInfo {{ hasNextPage endCursor }} nodes {{ {fields} }} }} }} }} }}")

    def meeting_fields(self) -> str:
        extra = " url isWithdrawn" if self.caps.taxonomies else ""
        return (f"id title {TRANSLATED} description {TRANSLATED} startTime endTime address location {TRANSLATED} "
                f"coordinates {{ latitude longitude }} typeOfMeeting onlineMeetingUrl closed registrationsEnabled "
                f"updatedAt {self.classification}{extra}")

    def proposal_fields(self) -> str:
        return f"id title {TRANSLATED} state {self.classification}"

    def result_fields(self) -> str:
        extra = " proposals { id }" if self.caps.result_proposals else ""
        return (f"id title {TRANSLATED} description {TRANSLATED} startDate endDate progress "
                f"status {{ id name {TRANSLATED} }} updatedAt {self.classification}{extra}")


# ---------------------------------------------------------------- answers → records

def _translated(value: Any) -> Translated:
    if not isinstance(value, dict):
        return {}
    return {t["locale"]: t["text"] for t in value.get("translations") or []
            if t and t.get("locale") and isinstance(t.get("text"), str)}


def _categories(raw: dict, caps: Capabilities, space: bool = False) -> list[Translated]:
    if caps.taxonomies:
        items = raw.get("taxonomies") or []
    elif space:
        items = raw.get("categories") or []
    else:
        items = [raw.get("category")] if raw.get("category") else []
    return [name for item in items if item and (name := _translated(item.get("name")))]


def parse_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def parse_date(value: Any) -> date | None:
    if not value:
        return None
    return date.fromisoformat(str(value)[:10])


def _space(kind: str, raw: dict, caps: Capabilities) -> Space:
    start, end = ("startDate", "endDate") if kind == "process" else ("creationDate", "closingDate")
    return Space(
        kind=kind, id=str(raw["id"]), slug=raw.get("slug") or str(raw["id"]), title=_translated(raw.get("title")),
        subtitle=_translated(raw.get("subtitle")), short_description=_translated(raw.get("shortDescription")),
        description=_translated(raw.get("description")), meta_scope=_translated(raw.get("metaScope")),
        participatory_scope=_translated(raw.get("participatoryScope")),
        participatory_structure=_translated(raw.get("participatoryStructure")),
        target=_translated(raw.get("target")), start_date=parse_date(raw.get(start)),
        end_date=parse_date(raw.get(end)), updated_at=parse_datetime(raw.get("updatedAt")),
        categories=_categories(raw, caps, space=True))


def _meeting(raw: dict, space: Space, component_id: str, caps: Capabilities) -> Meeting:
    coordinates = raw.get("coordinates") or {}
    return Meeting(
        id=str(raw["id"]), space=space.key, component_id=component_id, title=_translated(raw.get("title")),
        description=_translated(raw.get("description")), start=parse_datetime(raw["startTime"]),
        end=parse_datetime(raw.get("endTime")), address=raw.get("address"),
        location=_translated(raw.get("location")), latitude=coordinates.get("latitude"),
        longitude=coordinates.get("longitude"), type_of_meeting=raw.get("typeOfMeeting"),
        online_meeting_url=raw.get("onlineMeetingUrl"), url=raw.get("url"), closed=bool(raw.get("closed")),
        withdrawn=raw.get("isWithdrawn") if caps.taxonomies else None,
        registrations_enabled=bool(raw.get("registrationsEnabled")), categories=_categories(raw, caps),
        updated_at=parse_datetime(raw.get("updatedAt")))


def _proposal(raw: dict, space: Space, caps: Capabilities) -> Proposal:
    state = raw.get("state")
    return Proposal(id=str(raw["id"]), space=space.key, title=_translated(raw.get("title")), state=state,
                    withdrawn=state == "withdrawn", categories=_categories(raw, caps))


def _result(raw: dict, space: Space, component_id: str, caps: Capabilities) -> Result:
    status = raw.get("status") or {}
    proposals = None
    if caps.result_proposals:
        proposals = [str(p["id"]) for p in raw.get("proposals") or [] if p]
    return Result(
        id=str(raw["id"]), space=space.key, component_id=component_id, title=_translated(raw.get("title")),
        description=_translated(raw.get("description")), start_date=parse_date(raw.get("startDate")),
        end_date=parse_date(raw.get("endDate")), progress=raw.get("progress"),
        status_name=_translated(status.get("name")), proposal_ids=proposals, categories=_categories(raw, caps),
        updated_at=parse_datetime(raw.get("updatedAt")))
