"""The agenda: upcoming activities as JSON (`/agenda`) and as iCalendar feeds calendar apps subscribe to.

Feeds follow RFC 5545 (built with `icalendar`): times in America/Argentina/Cordoba with its VTIMEZONE, one
stable UID per activity, SEQUENCE = the activity's version, demo records marked in SUMMARY and CATEGORIES.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.database import get_pool
from api.errors import Problem
from api.http import base_url, respond
from layers.catalogue import get_layer

router = APIRouter(tags=["agenda"])

CITY_TZ = "America/Argentina/Cordoba"
UID_DOMAIN = "monitor-participacion.rosario"
FEED_PAST_DAYS = 30  # feeds keep a month of past activities so a subscriber still sees what just happened
KINDS = get_layer("instances").get_property("kind").enum
DISTRICTS = get_layer("barrios").get_property("district").enum
STATUS_LABELS = {"scheduled": "Programada", "cancelled": "Cancelada", "held": "Realizada"}

ACTIVITY_COLUMNS = sql.SQL("""
    a.id, a.instance_id, a.instance_name, a.kind, k.label_es AS kind_label, a.title, a.description,
    a.starts_at, a.ends_at, a.timezone, a.venue_address, a.online_url, a.registration_url,
    a.registration_required, a.status, a.is_demo, a.barrio_id, a.barrio, a.district, a.updated_at, a.version,
    ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat
""")


@dataclass
class AgendaFilter:
    """Which activities: where, of what, of which instance; `demo=False` leaves demo records out."""

    barrio: int | None = None
    district: str | None = None
    kind: str | None = None
    instance: int | None = None
    demo: bool = True
    limit: int = 100

    def where(self, since: datetime) -> tuple[sql.Composed, dict]:
        conditions = [sql.SQL("coalesce(a.ends_at, a.starts_at) >= %(since)s")]
        params: dict = {"since": since}
        for column, key in (("barrio_id", "barrio"), ("district", "district"), ("kind", "kind"),
                            ("instance_id", "instance")):
            if getattr(self, key) is not None:
                conditions.append(sql.SQL("a.{} = %({})s").format(sql.Identifier(column), sql.SQL(key)))
                params[key] = getattr(self, key)
        if not self.demo:
            conditions.append(sql.SQL("NOT a.is_demo"))
        return sql.SQL(" AND ").join(conditions), params

    def query_string(self) -> str:
        pairs = [(k, getattr(self, k)) for k in ("barrio", "district", "kind", "instance")]
        pairs += [("demo", "false")] if not self.demo else []
        return "&".join(f"{k}={v}" for k, v in pairs if v is not None)


def agenda_filter(
    barrio: int | None = Query(None, gt=0, description="barrio id (MSLINK) where the activity takes place"),
    district: str | None = Query(None, description="district code, e.g. CENTRO"),
    kind: str | None = Query(None, description="kind of instance, e.g. consejo_barrial"),
    instance: int | None = Query(None, gt=0, description="instance id"),
    demo: bool = Query(True, description="include demo records (is_demo = true)"),
    limit: int = Query(100, ge=1, le=1000, description="at most this many activities"),
) -> AgendaFilter:
    """The query parameters every agenda answer shares."""
    if district is not None and district.upper() not in DISTRICTS:
        raise Problem(400, "Unknown district", f"district must be one of {', '.join(DISTRICTS)}")
    if kind is not None and kind not in KINDS:
        raise Problem(400, "Unknown kind", f"kind must be one of {', '.join(KINDS)}")
    return AgendaFilter(barrio, district.upper() if district else None, kind, instance, demo, limit)


async def fetch_activities(pool: AsyncConnectionPool, filters: AgendaFilter, since: datetime) -> list[dict]:
    where, params = filters.where(since)
    query = sql.SQL("""
        SELECT {columns}
        FROM published.activities a JOIN published.instance_kinds k ON k.code = a.kind
        WHERE {where}
        ORDER BY a.starts_at, a.id
        LIMIT %(limit)s
    """).format(columns=ACTIVITY_COLUMNS, where=where)
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, {**params, "limit": filters.limit})
        return await cur.fetchall()


def activity_json(row: dict, base: str) -> dict:
    local = ZoneInfo(row["timezone"] or CITY_TZ)
    return {
        **{k: v for k, v in row.items() if k not in ("starts_at", "ends_at", "updated_at", "lon", "lat")},
        "starts_at": row["starts_at"].astimezone(local).isoformat(),
        "ends_at": row["ends_at"].astimezone(local).isoformat() if row["ends_at"] else None,
        "updated_at": row["updated_at"].isoformat(),
        "status_label": STATUS_LABELS.get(row["status"], row["status"]),
        "location": [row["lon"], row["lat"]] if row["lon"] is not None else None,
        "instance_url": f"{base}/map#instancia={row['instance_id']}",
        "ics_url": f"{base}/instances/{row['instance_id']}/agenda.ics",
    }


@router.get("/agenda", summary="Upcoming activities (JSON), filterable by barrio, district, kind and instance")
async def agenda(request: Request, filters: AgendaFilter = Depends(agenda_filter),
                 pool: AsyncConnectionPool = Depends(get_pool)):
    base = base_url(request)
    rows = await fetch_activities(pool, filters, datetime.now(UTC))
    query = filters.query_string()
    return {
        "timezone": CITY_TZ,
        "count": len(rows),
        "activities": [activity_json(row, base) for row in rows],
        "links": [
            {"rel": "alternate", "type": "text/calendar", "title": "Suscribirse (iCalendar)",
             "href": f"{base}/agenda.ics" + (f"?{query}" if query else "")},
        ],
    }


def calendar_event(row: dict, base: str) -> icalendar.Event:
    local = ZoneInfo(row["timezone"] or CITY_TZ)
    demo = row["is_demo"]
    event = icalendar.Event()
    event.add("uid", f"activity-{row['id']}@{UID_DOMAIN}")
    event.add("dtstamp", row["updated_at"].astimezone(UTC))
    event.add("last-modified", row["updated_at"].astimezone(UTC))
    event.add("sequence", row["version"] - 1)
    event.add("dtstart", row["starts_at"].astimezone(local))
    if row["ends_at"]:
        event.add("dtend", row["ends_at"].astimezone(local))
    event.add("summary", ("[DEMO] " if demo else "") + row["title"])
    event.add("description", event_description(row))
    event.add("location", row["venue_address"] or ("En línea" if row["online_url"] else row["barrio"] or "Rosario"))
    if row["lat"] is not None:
        event.add("geo", (row["lat"], row["lon"]))
    event.add("url", row["online_url"] or row["registration_url"] or f"{base}/map#instancia={row['instance_id']}")
    event.add("categories", [row["kind_label"]] + (["DEMO"] if demo else []))
    event.add("status", "CANCELLED" if row["status"] == "cancelled" else "CONFIRMED")
    return event


def event_description(row: dict) -> str:
    lines = [f"{row['instance_name']} ({row['kind_label']})"]
    if row["description"]:
        lines.append(row["description"])
    if row["registration_required"]:
        lines.append("Requiere inscripción" + (f": {row['registration_url']}" if row["registration_url"] else "."))
    if row["online_url"]:
        lines.append(f"En línea: {row['online_url']}")
    if row["is_demo"]:
        lines.append("Dato de demostración: no es una actividad real.")
    return "\n".join(lines)


def build_calendar(rows: list[dict], name: str, base: str) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Monitor de Participación Ciudadana de Rosario//Agenda//ES")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", CITY_TZ)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for row in rows:
        cal.add_component(calendar_event(row, base))
    cal.add_missing_timezones()  # VTIMEZONE for every TZID the events use
    return cal.to_ical()


async def calendar_response(request: Request, pool: AsyncConnectionPool, filters: AgendaFilter, name: str,
                            filename: str) -> Response:
    if "limit" not in request.query_params:  # a feed holds the whole horizon, not the first page
        filters.limit = 1000
    rows = await fetch_activities(pool, filters, datetime.now(UTC) - timedelta(days=FEED_PAST_DAYS))
    body = build_calendar(rows, name, base_url(request))
    return respond(request, body, "text/calendar; charset=utf-8", 300,
                   headers={"Content-Disposition": f'inline; filename="{filename}"'})


@router.get("/agenda.ics", summary="iCalendar feed of the agenda (same filters as /agenda)",
            response_class=Response, responses={200: {"content": {"text/calendar": {}}}})
async def agenda_ics(request: Request, filters: AgendaFilter = Depends(agenda_filter),
                     pool: AsyncConnectionPool = Depends(get_pool)):
    return await calendar_response(request, pool, filters, "Agenda de participación ciudadana · Rosario",
                                   "agenda.ics")


@router.get("/instances/{instance_id}/agenda.ics", summary="iCalendar feed of one instance's activities",
            response_class=Response, responses={200: {"content": {"text/calendar": {}}}})
async def instance_ics(request: Request, instance_id: int, filters: AgendaFilter = Depends(agenda_filter),
                       pool: AsyncConnectionPool = Depends(get_pool)):
    name = await lookup_name(pool, "SELECT name FROM published.instances WHERE id = %s", instance_id, "instance")
    filters.instance = instance_id
    return await calendar_response(request, pool, filters, f"{name} · Agenda", f"instancia-{instance_id}.ics")


@router.get("/barrios/{barrio_id}/agenda.ics", summary="iCalendar feed of the activities held in one barrio",
            response_class=Response, responses={200: {"content": {"text/calendar": {}}}})
async def barrio_ics(request: Request, barrio_id: int, filters: AgendaFilter = Depends(agenda_filter),
                     pool: AsyncConnectionPool = Depends(get_pool)):
    name = await lookup_name(pool, "SELECT name FROM published.barrios WHERE id = %s", barrio_id, "barrio")
    filters.barrio = barrio_id
    return await calendar_response(request, pool, filters, f"Barrio {name} · Agenda de participación",
                                   f"barrio-{barrio_id}.ics")


async def lookup_name(pool: AsyncConnectionPool, query: str, key: int, what: str) -> str:
    async with pool.connection() as conn:
        row = await (await conn.execute(query, (key,))).fetchone()
    if row is None:
        raise Problem(404, "Not Found", f"no published {what} with id {key}")
    return row[0]
