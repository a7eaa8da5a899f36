"""Keeping the registry in step with a Decidim platform: idempotent, traceable, never deleting.

Every record is keyed by its external id (`decidim:rosario:meeting:45`) and written through the one edit engine
(gis/edits.py, the layers' edit policies), so the registry's rules and the history apply as for any other write.
`monitor.sync_state` (migration 0012_sync) remembers, per record, the version this sync last wrote and a hash of
the upstream record it wrote from:

- upstream unchanged (same hash): nothing is written, whatever happened here;
- upstream changed and the row still as this sync left it: `edits.patch` with the fields that differ (one
  history entry);
- upstream changed but someone edited the row here since (a newer version whose managed fields differ from what
  the sync wrote, read back from the history): the local version stays and the conflict is reported, on every
  run until it is settled (edit the row to match, or run once with `overwrite_local`);
- gone upstream (not listed any more by a source that lists that kind completely): instances become `ended`,
  activities `cancelled`; commitments, which have no such status, are kept and reported. Nothing is deleted.

A run is one transaction: it is written completely or not at all (a dry run rolls it back).
"""

from __future__ import annotations

import json
import logging
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis import edits
from gis.db import connect
from gis.decidim.mapping import Mapped, Platform, Record
from gis.edits import EditPolicy
from gis.registry import RegistryError

log = logging.getLogger("monitor.decidim")
TABLE_ORDER = ("instances", "activities", "commitments")
GONE = "gone"  # upstream_hash of a record that is no longer listed upstream
ENDED = {"instances": {"status": "ended"}, "activities": {"status": "cancelled"}}
KIND_OF = {"process": "process", "assembly": "assembly", "meeting": "meeting", "result": "result"}


class SyncError(RuntimeError):
    """The run was refused as a whole (nothing written)."""


class _DryRun(Exception):
    pass


@dataclass
class Report:
    source: str
    dry_run: bool = False
    version: str | None = None
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    not_checked: Counter = field(default_factory=Counter)  # older than --since
    ended: list[dict] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    kept_deleted: list[dict] = field(default_factory=list)
    unplaced: list[dict] = field(default_factory=list)
    unknown_categories: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "source": self.source, "decidim_version": self.version, "dry_run": self.dry_run,
            "created": dict(self.created), "updated": dict(self.updated), "unchanged": dict(self.unchanged),
            "not_checked": dict(self.not_checked), "ended": self.ended, "conflicts": self.conflicts,
            "refused": self.refused, "kept_deleted": self.kept_deleted, "unplaced_meetings": self.unplaced,
            "unknown_categories": self.unknown_categories, "notes": self.notes,
        }


def _policies() -> dict[str, EditPolicy]:
    from layers.catalogue import EDIT_POLICIES

    missing = [t for t in TABLE_ORDER if t not in EDIT_POLICIES]
    if missing:
        raise SyncError(f"no edit policy for {', '.join(missing)} in layers.catalogue.EDIT_POLICIES")
    return {t: EDIT_POLICIES[t] for t in TABLE_ORDER}


def apply(url: str, mapped: Mapped, platform: Platform, *, actor: str | None = None, dry_run: bool = False,
          since: datetime | None = None, overwrite_local: bool = False,
          policies: dict[str, EditPolicy] | None = None) -> Report:
    """Write `mapped` (from gis.decidim.mapping.map_snapshot) into the registry at `url` in one transaction."""
    policies = policies or _policies()
    report = Report(platform.source, dry_run=dry_run, version=mapped.version, unplaced=list(mapped.unplaced),
                    unknown_categories=dict(mapped.unknown_categories.most_common()), notes=list(mapped.notes))
    run = _Run(policies, platform, report, since, overwrite_local)
    try:
        with connect(url, actor=actor or f"sync:{platform.source}") as conn:
            # One sync of a platform at a time (a second waits for the first to commit).
            conn.execute("SELECT pg_advisory_xact_lock(5000012, hashtext(%s))", (platform.source,))
            run.write(conn, mapped)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


class _Run:
    def __init__(self, policies: dict[str, EditPolicy], platform: Platform, report: Report,
                 since: datetime | None, overwrite_local: bool):
        self.policies = policies
        self.platform = platform
        self.report = report
        self.since = since
        self.overwrite_local = overwrite_local
        self.instance_ids: dict[str, int] = {}

    def write(self, conn: psycopg.Connection, mapped: Mapped) -> None:
        states = self._states(conn)
        seen: set[tuple[str, str]] = set()
        unplaced = {u["external_id"] for u in mapped.unplaced}
        for table in TABLE_ORDER:
            for record in (r for r in mapped.records if r.table == table):
                seen.add((table, record.external_id))
                digest = record.upstream_hash  # of the upstream values, before local ids and checks
                if record.parent is not None:
                    parent = self._instance_id(conn, record.parent)
                    if parent is None:
                        self.report.refused.append({"external_id": record.external_id, "label": record.label,
                                                    "reason": f"its instance {record.parent} was not written"})
                        continue
                    record.values["instance_id"] = parent
                if table == "activities" and record.values.get("venue") is not None:
                    self._check_place(conn, record, unplaced)
                self._one(conn, record, states.get((table, record.external_id)), digest)
        for (table, external_id), state in states.items():
            kind = external_id.split(":")[-2] if external_id.count(":") >= 3 else ""
            if (table, external_id) not in seen and kind in mapped.covers and state["upstream_hash"] != GONE:
                self._gone(conn, table, external_id, state)

    # ------------------------------------------------------------ reading

    def _states(self, conn: psycopg.Connection) -> dict[tuple[str, str], dict]:
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute("SELECT table_name, external_id, row_id, version_written, upstream_hash "
                               "FROM monitor.sync_state WHERE source = %s", (self.platform.source,)).fetchall()
        return {(r["table_name"], r["external_id"]): r for r in rows}

    def _instance_id(self, conn: psycopg.Connection, external_id: str) -> int | None:
        if external_id not in self.instance_ids:
            row = conn.execute("SELECT id FROM monitor.instances WHERE external_id = %s", (external_id,)).fetchone()
            if row is None:
                return None
            self.instance_ids[external_id] = row[0]
        return self.instance_ids[external_id]

    def _check_place(self, conn: psycopg.Connection, record: Record, unplaced: set[str]) -> None:
        """A point inside Rosario's box may still fall in no barrio (the river, the edge): then the meeting stays
        unplaced, like one without coordinates, instead of being refused."""
        x, y = record.values["venue"]["coordinates"]
        if conn.execute("SELECT monitor.barrio_at(ST_SetSRID(ST_MakePoint(%s, %s), 4326))", (x, y)).fetchone()[0]:
            return
        record.values["venue"] = None
        if not record.values.get("online_url"):  # as for a meeting without coordinates: its page, no guess
            record.values["online_url"] = record.page or self.platform.base_url
        if record.external_id not in unplaced:
            self.report.unplaced.append({"external_id": record.external_id, "title": record.values["title"],
                                         "address": record.values.get("venue_address"),
                                         "reason": f"coordinates ({x}, {y}) fall in no barrio of Rosario",
                                         "url": record.page})

    def _row(self, conn: psycopg.Connection, table: str, row_id: int) -> dict | None:
        try:
            return edits.load(conn, self.policies[table], row_id, include_deleted=True)
        except edits.NotFound:
            return None

    def _row_json(self, conn: psycopg.Connection, table: str, row_id: int) -> dict:
        return conn.execute(f"SELECT to_jsonb(t) FROM monitor.{table} t WHERE id = %s", (row_id,)).fetchone()[0]

    def _local_edit(self, conn: psycopg.Connection, table: str, row: dict, state: dict,
                    fields: list[str]) -> dict | None:
        """The local changes since this sync wrote `version_written`, or None: which managed fields differ from
        what the sync wrote (read from the history) and who changed the row since."""
        if row["version"] == state["version_written"]:
            return None
        with conn.cursor(row_factory=dict_row) as cur:
            history = cur.execute(
                "SELECT actor, new_values FROM monitor.history WHERE table_name = %s AND row_key = %s "
                "AND (new_values ->> 'version')::int >= %s ORDER BY id",
                (table, str(row["id"]), state["version_written"])).fetchall()
        written = next((h["new_values"] for h in history
                        if int(h["new_values"].get("version", 0)) == state["version_written"]), None)
        actors = sorted({h["actor"] for h in history if int(h["new_values"].get("version", 0)) >
                         state["version_written"]})
        if written is None:  # no history to compare with: any newer version counts as a local edit
            return {"fields": [], "by": actors}
        current = self._row_json(conn, table, row["id"])
        changed = [f for f in fields if f != "instance_id" and current.get(f) != written.get(f)]
        if current.get("instance_id") != written.get("instance_id"):
            changed.append("instance_id")
        if current.get("deleted_at") != written.get("deleted_at"):
            changed.append("deleted_at")
        return {"fields": changed, "by": actors} if changed else None

    # ------------------------------------------------------------ writing

    def _one(self, conn: psycopg.Connection, record: Record, state: dict | None, digest: str) -> None:
        table, policy = record.table, self.policies[record.table]
        if state is not None and state["upstream_hash"] == digest:
            self.report.unchanged[table] += 1
            return
        if (state is not None and self.since is not None and record.updated_at is not None
                and record.updated_at < self.since):
            self.report.not_checked[table] += 1
            return
        try:
            if state is None:
                existing = conn.execute(f"SELECT id FROM monitor.{table} WHERE external_id = %s",
                                        (record.external_id,)).fetchone()
                if existing is None:
                    values = {**record.values, "moderation": "approved"} if table == "instances" else record.values
                    row_id = edits.create(conn, policy, values)
                    version = conn.execute(f"SELECT version FROM monitor.{table} WHERE id = %s",
                                           (row_id,)).fetchone()[0]
                    self._remember(conn, record, row_id, version, digest)
                    self.report.created[table] += 1
                    return
                # A row with this key written before this sync kept state (another tool, an older run): adopted.
                state = {"row_id": existing[0], "version_written": None, "upstream_hash": None}
            self._update(conn, record, state, digest)
        except RegistryError as exc:
            self.report.refused.append({"external_id": record.external_id, "label": record.label,
                                        "reason": exc.message})

    def _update(self, conn: psycopg.Connection, record: Record, state: dict, digest: str,
                changes: dict | None = None) -> None:
        table, policy = record.table, self.policies[record.table]
        row = self._row(conn, table, state["row_id"])
        if row is None:
            self.report.refused.append({"external_id": record.external_id, "label": record.label,
                                        "reason": f"row {state['row_id']} of {table} no longer exists"})
            return
        if row["deleted_at"] is not None:
            self.report.kept_deleted.append({"external_id": record.external_id, "label": record.label,
                                             "id": row["id"], "by": row.get("updated_by")})
            return
        wanted = changes if changes is not None else record.values
        if state["version_written"] is not None and not self.overwrite_local:
            local = self._local_edit(conn, table, row, state, list(wanted))
            if local is not None:
                self.report.conflicts.append({
                    "table": table, "id": row["id"], "external_id": record.external_id, "label": record.label,
                    "local_version": row["version"], "synced_version": state["version_written"],
                    "edited_here": local["fields"], "edited_by": local["by"],
                    "upstream_changed": sorted(k for k, v in wanted.items() if not _same(row.get(k), v)),
                    "kept": "local"})
                return
        stored = edits.stored_values(policy, row)
        diff = {k: v for k, v in wanted.items() if k in policy.fields and not _same(stored.get(k), v)}
        version = row["version"]
        if diff:
            version = edits.patch(conn, policy, row["id"], diff, row["version"])
            self.report.updated[table] += 1
        else:
            self.report.unchanged[table] += 1
        self._remember(conn, record, row["id"], version, digest)

    def _gone(self, conn: psycopg.Connection, table: str, external_id: str, state: dict) -> None:
        label = f"{table} {external_id}"
        entry = {"table": table, "external_id": external_id, "id": state["row_id"]}
        if table not in ENDED:
            self.report.ended.append({**entry, "status": "kept (commitments have no ended status)"})
            self._forget_upstream(conn, table, external_id)
            return
        record = Record(table, external_id.split(":")[-2], external_id, dict(ENDED[table]), label)
        before = len(self.report.conflicts) + len(self.report.refused) + len(self.report.kept_deleted)
        self._update(conn, record, dict(state), GONE, changes=ENDED[table])
        if len(self.report.conflicts) + len(self.report.refused) + len(self.report.kept_deleted) == before:
            self.report.ended.append({**entry, "status": ENDED[table]["status"]})

    def _remember(self, conn: psycopg.Connection, record: Record, row_id: int, version: int, digest: str) -> None:
        conn.execute(
            """INSERT INTO monitor.sync_state (source, table_name, external_id, row_id, version_written,
                                               upstream_hash, synced_at)
               VALUES (%s, %s, %s, %s, %s, %s, now())
               ON CONFLICT (source, table_name, external_id) DO UPDATE
               SET row_id = EXCLUDED.row_id, version_written = EXCLUDED.version_written,
                   upstream_hash = EXCLUDED.upstream_hash, synced_at = EXCLUDED.synced_at""",
            (self.platform.source, record.table, record.external_id, row_id, version, digest))

    def _forget_upstream(self, conn: psycopg.Connection, table: str, external_id: str) -> None:
        conn.execute("UPDATE monitor.sync_state SET upstream_hash = %s, synced_at = now() "
                     "WHERE source = %s AND table_name = %s AND external_id = %s",
                     (GONE, self.platform.source, table, external_id))


def _same(stored: Any, wanted: Any) -> bool:
    """Stored and upstream values compared as the registry holds them (points to about a centimetre)."""
    if isinstance(wanted, dict) and wanted.get("type") == "Point":
        if not isinstance(stored, dict) or stored.get("type") != "Point":
            return False
        return all(abs(a - b) < 1e-7 for a, b in zip(stored["coordinates"][:2], wanted["coordinates"][:2],
                                                       strict=True))
    if isinstance(wanted, datetime) and isinstance(stored, datetime):
        return wanted == stored
    if isinstance(wanted, date) and isinstance(stored, date):
        return wanted == stored
    if isinstance(wanted, list) and isinstance(stored, list):
        return list(stored) == list(wanted)
    if wanted in ("", None) and stored in ("", None):
        return True
    return stored == wanted


# ---------------------------------------------------------------- monitor sync: every configured source

@dataclass(frozen=True)
class SyncConfig:
    """`[sync]` of monitor.toml: decidim_url (the API, …/api), files (open-data ZIPs), and the platform."""

    decidim_url: str | None = None
    files: tuple[Path, ...] = ()
    platform: Platform = Platform()
    page_size: int = 50
    min_interval: float = 0.5


def load_config(path: Path | None = None) -> SyncConfig:
    from gis.config import CONFIG_FILE

    path = path or CONFIG_FILE
    if not path.exists():
        raise SyncError(f"{path} does not exist: write a [sync] section (decidim_url, files)")
    section = tomllib.loads(path.read_text(encoding="utf-8")).get("sync")
    if not section:
        raise SyncError(f"{path} has no [sync] section (decidim_url, files)")
    url = section.get("decidim_url")
    default = Platform()
    base = section.get("base_url") or (url.rstrip("/").removesuffix("/api") if url else default.base_url)
    platform = Platform(key=section.get("platform_key", default.key), name=section.get("platform_name", default.name),
                        base_url=base, locale=section.get("locale", default.locale))
    files = tuple((path.parent / f) if not Path(f).is_absolute() else Path(f) for f in section.get("files", []))
    return SyncConfig(url, files, platform, int(section.get("page_size", 50)),
                      float(section.get("min_interval", 0.5)))


def dumps(report: Report) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, default=str)


# ---------------------------------------------------------------- the ways in

def from_api(url: str, api_url: str, platform: Platform, *, since: datetime | None = None, dry_run: bool = False,
             overwrite_local: bool = False, page_size: int = 50, min_interval: float = 0.5, retries: int = 5,
             backoff: float = 1.0, actor: str | None = None) -> Report:
    """Read the whole platform through its API (raising DecidimError, with nothing written, if it cannot be
    read), then write it in one transaction."""
    from gis.decidim.client import DecidimClient
    from gis.decidim.mapping import map_snapshot

    with DecidimClient(api_url, page_size=page_size, min_interval=min_interval, retries=retries,
                       backoff=backoff) as client:
        snapshot = client.snapshot(platform)
    return apply(url, map_snapshot(snapshot, platform), platform, actor=actor, dry_run=dry_run, since=since,
                 overwrite_local=overwrite_local)


def from_open_data(url: str, path: str | Path, platform: Platform, *, dry_run: bool = False,
                   overwrite_local: bool = False, actor: str | None = None) -> Report:
    from gis.decidim.mapping import map_snapshot
    from gis.decidim.opendata import read_zip

    snapshot = read_zip(path)
    return apply(url, map_snapshot(snapshot, platform), platform, actor=actor, dry_run=dry_run,
                 overwrite_local=overwrite_local)


def sync_all(url: str, config: SyncConfig, *, dry_run: bool = False) -> list[tuple[str, Report | str]]:
    """`monitor sync`: the configured API, then each configured open-data file, each in its own transaction.
    A source that cannot be read is reported (its error instead of a report) and the others still run."""
    from gis.decidim.client import DecidimError
    from gis.decidim.opendata import OpenDataError

    jobs = []
    if config.decidim_url:
        jobs.append((config.decidim_url, lambda: from_api(url, config.decidim_url, config.platform, dry_run=dry_run,
                                                          page_size=config.page_size,
                                                          min_interval=config.min_interval)))
    for path in config.files:
        jobs.append((str(path), lambda path=path: from_open_data(url, path, config.platform, dry_run=dry_run)))
    if not jobs:
        raise SyncError("[sync] names no source: set decidim_url or files")
    results: list[tuple[str, Report | str]] = []
    for name, job in jobs:
        try:
            results.append((name, job()))
        except (DecidimError, OpenDataError, SyncError, OSError) as exc:
            results.append((name, str(exc)))
    return results
