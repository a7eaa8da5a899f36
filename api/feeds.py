"""Atom feeds (RFC 4287) a resident or a newsroom follows in any feed reader: new and changed instances, upcoming
activities, and commitment updates, each filterable by barrio (MSLINK of the venue) and theme (a code of
`monitor.themes`). Built with `feedgen`; every entry's id is its feature's URL, so a changed record is the same entry
with a new `updated`; demo records say so in their title.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from feedgen.feed import FeedGenerator
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.commitments import STATUS_LABELS as COMMITMENT_STATUS
from api.database import get_pool
from api.errors import Problem
from api.http import base_url, respond
from api.routing import get_and_head
from layers import opendata

router = APIRouter(tags=["feeds"])

ATOM = "application/atom+xml; charset=utf-8"
CACHE_SECONDS = 300
ENTRIES = 50
CITY = ZoneInfo("America/Argentina/Cordoba")
DEMO = " (dato de demostración)"
ACTIVITY_STATUS = {"scheduled": "Programada", "cancelled": "Cancelada", "held": "Realizada"}


async def rows(pool: AsyncConnectionPool, query: sql.Composable, params: dict) -> list[dict]:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


async def feed_filter(pool: AsyncConnectionPool = Depends(get_pool),
                      barrio: int | None = Query(None, gt=0, description="barrio id (MSLINK) of the venue"),
                      theme: str | None = Query(None, description="theme code, e.g. ambiente")) -> dict:
    """The filters every feed shares, checked against the published barrios and themes (400 when unknown)."""
    if barrio is not None and not await rows(pool, sql.SQL("SELECT 1 FROM published.barrios WHERE id = %(b)s"),
                                             {"b": barrio}):
        raise Problem(400, "Unknown barrio", f"no barrio with MSLINK {barrio}; see /collections/barrios/items")
    if theme is not None:
        themes = [r["code"] for r in await rows(pool, sql.SQL("SELECT code FROM published.themes ORDER BY code"), {})]
        if theme not in themes:
            raise Problem(400, "Unknown theme", f"theme is one of: {', '.join(themes)}")
    return {"barrio": barrio, "theme": theme}


def conditions(filters: dict, barrio_column: str, themes_column: str) -> sql.Composable:
    parts = [sql.SQL("TRUE")]
    if filters["barrio"] is not None:
        parts.append(sql.SQL("{} = %(barrio)s").format(sql.SQL(barrio_column)))
    if filters["theme"] is not None:
        parts.append(sql.SQL("%(theme)s = ANY({})").format(sql.SQL(themes_column)))
    return sql.SQL(" AND ").join(parts)


def new_feed(request: Request, path: str, title: str, subtitle: str, alternate: str, filters: dict,
             entries: list[dict]) -> FeedGenerator:
    base = base_url(request)
    query = urlencode({k: v for k, v in filters.items() if v is not None})
    self_url = f"{base}{path}" + (f"?{query}" if query else "")
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(title + "".join(f" · {k} {v}" for k, v in filters.items() if v is not None))
    feed.subtitle(subtitle)
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.link(href=f"{base}{alternate}", rel="alternate", type="text/html")
    feed.author({"name": opendata.PUBLISHER["name"], "uri": f"{base}/map"})
    feed.language("es")
    feed.rights(f"{opendata.MONITOR_LICENCE.title}: {opendata.MONITOR_LICENCE.url}")
    feed.generator(opendata.TITLE, uri=f"{base}/datos")
    feed.updated(max((e["updated"] for e in entries), default=datetime(2020, 1, 1, tzinfo=UTC)))
    for item in entries:
        entry = feed.add_entry(order="append")
        entry.id(item["id"])
        entry.title(item["title"])
        entry.updated(item["updated"])
        # One link per entry: feedgen 1.0 writes an entry link's href only (its rel and type are lost), and a
        # link without rel is the alternate one; the feature's GeoJSON is the entry's id.
        entry.link(href=item["link"], rel="alternate", type="text/html")
        entry.summary(item["summary"])
        for code in item.get("themes") or []:
            entry.category(term=code, scheme=f"{base}/collections/instances/queryables#themes")
    return feed


def answer(request: Request, feed: FeedGenerator) -> object:
    return respond(request, feed.atom_str(pretty=True), ATOM, CACHE_SECONDS)


def _local(moment: datetime) -> str:
    return moment.astimezone(CITY).strftime("%d/%m/%Y %H:%M")


def _text(*parts: str | None) -> str:
    return " · ".join(p for p in parts if p)


@get_and_head(router, "/feeds/instancias.atom", summary="Atom feed: new and changed participation instances")
async def instances_feed(request: Request, filters: dict = Depends(feed_filter),
                         pool: AsyncConnectionPool = Depends(get_pool)):
    base = base_url(request)
    found = await rows(pool, sql.SQL("""
        SELECT id, name, kind_label, promoter, modality, barrio, district, themes, description, is_demo, updated_at
        FROM published.instances WHERE {} ORDER BY updated_at DESC, id DESC LIMIT %(limit)s""").format(
        conditions(filters, "barrio_id", "themes")), {**filters, "limit": ENTRIES})
    entries = [{"id": f"{base}/collections/instances/items/{r['id']}",
                "title": r["name"] + (DEMO if r["is_demo"] else ""), "updated": r["updated_at"],
                "link": f"{base}/map#instancia={r['id']}", "themes": r["themes"],
                "summary": _text(r["kind_label"], r["barrio"], r["district"], r["description"])} for r in found]
    feed = new_feed(request, "/feeds/instancias.atom", "Instancias de participación de Rosario",
                    "Instancias nuevas y cambios en las existentes", "/map", filters, entries)
    return answer(request, feed)


@get_and_head(router, "/feeds/actividades.atom", summary="Atom feed: upcoming activities of the instances")
async def activities_feed(request: Request, filters: dict = Depends(feed_filter),
                          pool: AsyncConnectionPool = Depends(get_pool)):
    base = base_url(request)
    found = await rows(pool, sql.SQL("""
        SELECT a.id, a.title, a.instance_id, a.instance_name, a.starts_at, a.ends_at, a.status, a.venue_address,
               a.online_url, a.barrio, a.is_demo, a.updated_at, i.themes
        FROM published.activities a JOIN published.instances i ON i.id = a.instance_id
        WHERE coalesce(a.ends_at, a.starts_at) >= now() AND {}
        ORDER BY a.starts_at, a.id LIMIT %(limit)s""").format(conditions(filters, "a.barrio_id", "i.themes")),
        {**filters, "limit": ENTRIES})
    entries = [{"id": f"{base}/collections/activities/items/{r['id']}",
                "title": f"{_local(r['starts_at'])} · {r['title']}" + (DEMO if r["is_demo"] else ""),
                "updated": r["updated_at"],
                "link": f"{base}/map#instancia={r['instance_id']}", "themes": r["themes"],
                "summary": _text(r["instance_name"], ACTIVITY_STATUS.get(r["status"], r["status"]),
                                 r["venue_address"], r["barrio"], r["online_url"])} for r in found]
    feed = new_feed(request, "/feeds/actividades.atom", "Próximas actividades de participación en Rosario",
                    "La agenda: actividades que todavía no terminaron, por fecha", "/agenda", filters, entries)
    return answer(request, feed)


@get_and_head(router, "/feeds/compromisos.atom", summary="Atom feed: commitment updates")
async def commitments_feed(request: Request, filters: dict = Depends(feed_filter),
                           pool: AsyncConnectionPool = Depends(get_pool)):
    base = base_url(request)
    found = await rows(pool, sql.SQL("""
        SELECT id, instance_id, instance_name, description, status, progress, due_date, overdue,
               government_response, barrio, themes, is_demo, updated_at
        FROM published.commitments WHERE {} ORDER BY updated_at DESC, id DESC LIMIT %(limit)s""").format(
        conditions(filters, "barrio_id", "themes")), {**filters, "limit": ENTRIES})
    entries = [{"id": f"{base}/collections/commitments/items/{r['id']}",
                "title": f"{COMMITMENT_STATUS.get(r['status'], r['status'])} · {r['description']}"
                         + (DEMO if r["is_demo"] else ""),
                "updated": r["updated_at"], "link": f"{base}/compromisos?instance={r['instance_id']}",
                "themes": r["themes"],
                "summary": _text(r["instance_name"], f"avance {r['progress']} %" if r["progress"] is not None else None,
                                 f"plazo {r['due_date'].strftime('%d/%m/%Y')}" if r["due_date"] else None,
                                 "vencido" if r["overdue"] else None, r["government_response"])} for r in found]
    feed = new_feed(request, "/feeds/compromisos.atom", "Compromisos del gobierno en las instancias de participación",
                    "Compromisos nuevos y cambios de estado o avance", "/compromisos", filters, entries)
    return answer(request, feed)
