"""Reports in Spanish for the city, each district, each barrio and each instance: printable pages (`/informes/…`),
their PDF (`?f=pdf`, WeasyPrint) and `monitor report` writing them all (cli/report.py).

A report reads the index from an official edition (`?edicion=NAME`, gis/index/editions.py) or, without one, from
the latest run, and says which; what the index does not hold (the registry, standards, commitments, activities,
satisfaction) is read as it is today and said so. Pages are rendered on the server as one self-contained HTML
document (the stylesheet inlined, charts as inline SVG), so that the browser's print, a saved copy and WeasyPrint
give the same report. The charts are a few rectangles and lines written here rather than with a plotting library:
three kinds of chart did not justify a dependency, and the SVG stays small, accessible (titles, text values) and
identical on screen and paper.

Data functions take an async psycopg connection: the API passes a pooled one, the command line its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from html import escape
from pathlib import Path
from string import Template
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from starlette.concurrency import run_in_threadpool

from api.commitments import STATUS_LABELS as COMMITMENT_STATUS
from api.database import get_pool
from api.errors import Problem
from api.http import HTML, respond
from api.routing import get_and_head
from gis.index.editions import NAME

router = APIRouter(tags=["reports"])

TEMPLATES = Path(__file__).resolve().parent / "templates"
CITY_TZ = ZoneInfo("America/Argentina/Cordoba")
PDF = "application/pdf"
CACHE_SECONDS = 300
PILLARS = (("accessibility", "Accesibilidad"), ("quality", "Calidad"), ("diversity", "Diversidad"),
           ("satisfaction", "Satisfacción"))
STANDARD_STATUS = {"met": ("Cumple", "met"), "not_met": ("No cumple", "not-met"), "not_applicable": ("No aplica", "")}
ACTIVITY_STATUS = {"scheduled": "Programada", "cancelled": "Cancelada", "held": "Realizada"}
MODALITY = {"in_person": "presencial", "online": "virtual", "hybrid": "híbrida"}
PROMOTER = {"state": "Estado", "cso": "Sociedad civil", "mixed": "Mixta"}


class ReportNotFound(LookupError):
    """An edition, district, barrio or instance that does not exist."""


# ---------------------------------------------------------------- data
async def rows(conn, query: str, params: tuple | list = ()) -> list[dict]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


@dataclass
class Source:
    """Where the index values of a report come from: an official edition, or the latest run."""

    edition: str | None
    run_id: int
    computed_at: datetime
    method_version: str
    published_at: datetime | None = None
    barrios: list[dict] = field(default_factory=list)  # rank order
    districts: list[dict] = field(default_factory=list)

    def describe(self) -> str:
        run = f"corrida {self.run_id} del {day(self.computed_at)}, método {self.method_version}"
        if self.edition:
            return f"Índice: edición oficial «{self.edition}», publicada el {day(self.published_at)} ({run})."
        return f"Índice: última corrida ({run}); no es una edición oficial."

    def barrio(self, barrio_id: int) -> dict | None:
        return next((b for b in self.barrios if b["barrio_id"] == barrio_id), None)


async def index_source(conn, edition: str | None) -> Source:
    if edition:
        meta = (await rows(conn, "SELECT name, run_id, computed_at, published_at, method_version "
                                 "FROM published.index_editions WHERE name = %s", (edition,))
                if NAME.match(edition) else [])
        if not meta:
            raise ReportNotFound(f"no edition {edition!r}; see /index/editions")
        barrios = [{**r["results"], "barrio_id": r["barrio_id"], "name": r["name"], "district": r["district"]}
                   for r in await rows(conn, "SELECT barrio_id, name, district, results FROM "
                                             "published.index_edition_barrios WHERE edition = %s "
                                             "ORDER BY rank, barrio_id", (edition,))]
        districts = [{**r["results"], "code": r["code"], "name": r["name"]}
                     for r in await rows(conn, "SELECT code, name, results FROM published.index_edition_districts "
                                               "WHERE edition = %s ORDER BY rank, code", (edition,))]
        m = meta[0]
        return Source(edition, m["run_id"], m["computed_at"], m["method_version"], m["published_at"], barrios,
                      districts)
    runs = await rows(conn, "SELECT id, computed_at, method_version FROM published.index_runs ORDER BY id DESC LIMIT 1")
    if not runs:
        raise ReportNotFound("the index has not run yet: run `monitor compute`")
    barrios = await rows(conn, "SELECT * FROM published.barrio_index ORDER BY rank, barrio_id")
    districts = await rows(conn, "SELECT * FROM published.district_index ORDER BY rank, code")
    for row in barrios + districts:
        row.pop("geom", None)
        row.pop("geom_3857", None)
    return Source(None, runs[0]["id"], runs[0]["computed_at"], runs[0]["method_version"], None, barrios, districts)


async def commitments_summary(conn, where: str = "TRUE", params: tuple = ()) -> dict:
    """Commitments by status, overdue ones, and follow-through as the index defines it (due and substantial or
    complete / due)."""
    found = await rows(conn, f"""
        SELECT status, count(*)::integer AS n, count(*) FILTER (WHERE overdue)::integer AS overdue,
               count(*) FILTER (WHERE due_date <= current_date)::integer AS due,
               count(*) FILTER (WHERE due_date <= current_date AND status IN ('substantial', 'complete'))::integer
                   AS fulfilled
        FROM published.commitments WHERE {where} GROUP BY status""", params)
    due, fulfilled = sum(r["due"] for r in found), sum(r["fulfilled"] for r in found)
    return {"by_status": {r["status"]: r["n"] for r in found}, "total": sum(r["n"] for r in found),
            "overdue": sum(r["overdue"] for r in found), "due": due, "fulfilled": fulfilled,
            "share": fulfilled / due if due else None}


async def standards_summary(conn, instance_ids: list[int] | None) -> list[dict]:
    """Each minimum standard and how many of the instances (all published ones, or these) meet it."""
    scope = "" if instance_ids is None else "AND a.instance_id = ANY(%s)"
    params = () if instance_ids is None else (instance_ids,)
    return await rows(conn, f"""
        SELECT c.code, c.ordinal, c.label_es,
               count(a.*) FILTER (WHERE a.status = 'met')::integer AS met,
               count(a.*) FILTER (WHERE a.status = 'not_met')::integer AS not_met,
               count(a.*) FILTER (WHERE a.status = 'not_applicable')::integer AS not_applicable
        FROM published.criteria c
        LEFT JOIN published.assessments a ON a.criterion = c.code {scope}
        GROUP BY c.code, c.ordinal, c.label_es ORDER BY c.ordinal""", params)


# ---------------------------------------------------------------- formatting
def day(moment: datetime | None) -> str:
    return moment.astimezone(CITY_TZ).strftime("%d/%m/%Y") if moment else "—"


def number(value, decimals: int = 0) -> str:
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u2009").replace(".", ",")  # Spanish: decimal comma, thin space for thousands


def points(value) -> str:
    """A pillar (0–1) in the index's points (0–100)."""
    return "—" if value is None else number(value * 100, 1)


def percent(value) -> str:
    return "—" if value is None else f"{number(value * 100, 0)} %"


def e(value) -> str:
    return escape("" if value is None else str(value))


def table(headers: list[str], body: list[list[str]], numeric: set[int] = frozenset()) -> str:
    """An HTML table; cells are HTML the caller escaped."""
    head = "".join(f'<th{" class=num" if i in numeric else ""} scope="col">{h}</th>' for i, h in enumerate(headers))
    lines = "".join("<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{c}</td>' for i, c in enumerate(r))
                    + "</tr>" for r in body)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"


def figures(items: list[tuple[str, str]]) -> str:
    cells = "".join(f"<li><strong>{v}</strong><span>{k}</span></li>" for k, v in items)
    return f'<ul class="figures">{cells}</ul>'


# ---------------------------------------------------------------- charts (inline SVG)
def bar_chart(title: str, bars: list[tuple[str, float | None]], maximum: float = 100, width: int = 560) -> str:
    """Horizontal bars on a 0–maximum scale with their values written out; a missing value says so."""
    label_w, row_h, right = 170, 24, 56
    span = width - label_w - right
    height = row_h * len(bars) + 26
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><title>{e(title)}</title>']
    for tick in range(0, 101, 25):
        x = label_w + span * tick / 100
        parts.append(f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{height - 20}" stroke="#d5d9de"/>'
                     f'<text x="{x:.1f}" y="{height - 6}" font-size="10" text-anchor="middle">'
                     f'{number(maximum * tick / 100)}</text>')
    for i, (label, value) in enumerate(bars):
        y = 6 + i * row_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" font-size="12" text-anchor="end">{e(label)}</text>')
        if value is None:
            parts.append(f'<text x="{label_w + 4}" y="{y + 14}" font-size="11" fill="#50565e">sin dato</text>')
            continue
        w = span * max(0.0, min(value, maximum)) / maximum
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row_h - 8}" fill="#2f6f9f"/>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + 14}" font-size="11">{number(value, 1)}</text>')
    parts.append("</svg>")
    return f'<figure>{"".join(parts)}<figcaption>{e(title)}</figcaption></figure>'


def rank_chart(title: str, barrios: list[dict], of: int, highlight: int | None = None, width: int = 560) -> str:
    """Each barrio's rank (dot) and the range holding 90 % of its Monte Carlo ranks (line), best first."""
    label_w, row_h, right = 215, 14, 16
    span = width - label_w - right
    height = row_h * len(barrios) + 30

    def x(rank: float) -> float:
        return label_w + span * (rank - 1) / max(of - 1, 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><title>{e(title)}</title>']
    for tick in sorted({1, *range(10, of + 1, 10), of}):
        parts.append(f'<line x1="{x(tick):.1f}" y1="2" x2="{x(tick):.1f}" y2="{height - 22}" stroke="#d5d9de"/>'
                     f'<text x="{x(tick):.1f}" y="{height - 8}" font-size="10" text-anchor="middle">{tick}</text>')
    for i, b in enumerate(barrios):
        y = 8 + i * row_h
        strong = b["barrio_id"] == highlight
        colour = "#a4262c" if strong else "#2f6f9f"
        weight = ' font-weight="bold"' if strong else ""
        parts.append(f'<text x="{label_w - 6}" y="{y + 4}" font-size="10" text-anchor="end"{weight}>'
                     f'{e(b["name"])}</text>')
        if b.get("rank_p05") is not None and b.get("rank_p95") is not None:
            parts.append(f'<line x1="{x(b["rank_p05"]):.1f}" y1="{y}" x2="{x(b["rank_p95"]):.1f}" y2="{y}" '
                         f'stroke="{colour}" stroke-width="2"/>')
        if b.get("rank") is not None:
            parts.append(f'<circle cx="{x(b["rank"]):.1f}" cy="{y}" r="3.5" fill="{colour}"/>')
    parts.append("</svg>")
    return f'<figure>{"".join(parts)}<figcaption>{e(title)}</figcaption></figure>'


def line_chart(title: str, series: list[tuple[str, float | None]], width: int = 560, height: int = 180) -> str:
    """A value (0–100) over the editions, one labelled point each."""
    left, bottom, top, right = 36, 34, 12, 20
    span_x, span_y = width - left - right, height - top - bottom
    n = len(series)

    def at(i: int, value: float) -> tuple[float, float]:
        return left + (span_x * i / (n - 1) if n > 1 else span_x / 2), top + span_y * (1 - value / 100)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><title>{e(title)}</title>']
    for tick in (0, 25, 50, 75, 100):
        y = top + span_y * (1 - tick / 100)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#d5d9de"/>'
                     f'<text x="{left - 4}" y="{y + 3:.1f}" font-size="10" text-anchor="end">{tick}</text>')
    known = [(i, v) for i, (_, v) in enumerate(series) if v is not None]
    if len(known) > 1:
        path = " ".join(f"{at(i, v)[0]:.1f},{at(i, v)[1]:.1f}" for i, v in known)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#2f6f9f" stroke-width="2"/>')
    for i, (label, value) in enumerate(series):
        cx = at(i, 0)[0]
        parts.append(f'<text x="{cx:.1f}" y="{height - 14}" font-size="10" text-anchor="middle">{e(label)}</text>')
        if value is not None:
            cy = at(i, value)[1]
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="#2f6f9f"/>'
                         f'<text x="{cx:.1f}" y="{cy - 8:.1f}" font-size="10" text-anchor="middle">'
                         f'{number(value, 1)}</text>')
    parts.append("</svg>")
    return f'<figure>{"".join(parts)}<figcaption>{e(title)}</figcaption></figure>'


def pillar_chart(row: dict, title: str) -> str:
    bars = [(label, None if row.get(key) is None else row[key] * 100) for key, label in PILLARS]
    return bar_chart(title, [*bars, ("Índice compuesto", row.get("composite"))])


# ---------------------------------------------------------------- pages
@dataclass
class Links:
    """Where a report's links to other reports go: the service (`/informes/…?edicion=`) or files beside it."""

    href: Callable[[str, object], str]
    served_here: bool = True  # the service's own pages (the map, /datos) are there to link to

    @staticmethod
    def served(edition: str | None) -> Links:
        suffix = f"?edicion={edition}" if edition else ""
        paths = {"city": "/informes/ciudad", "district": "/informes/distritos/{}", "barrio": "/informes/barrios/{}",
                 "instance": "/informes/instancias/{}"}
        return Links(lambda kind, key: paths[kind].format(key) + suffix)

    @staticmethod
    def files(depth: int) -> Links:
        up = "../" * depth
        paths = {"city": "ciudad.html", "district": "distritos/{}.html", "barrio": "barrios/{}.html",
                 "instance": "instancias/{}.html"}
        return Links(lambda kind, key: up + paths[kind].format(key), served_here=False)


@dataclass
class Page:
    title: str
    main: str
    source: str
    description: str = ""


@cache
def _template() -> Template:
    return Template((TEMPLATES / "informe.html").read_text(encoding="utf-8"))


@cache
def _style() -> str:
    return (TEMPLATES / "informe.css").read_text(encoding="utf-8")


def html_document(page: Page, links: Links) -> str:
    nav = f'<a href="{e(links.href("city", None))}">Ciudad</a>'
    if links.served_here:
        nav += '<a href="/datos">Datos abiertos</a><a href="/map">Mapa</a>'
    return _template().substitute(title=e(page.title), description=e(page.description or page.title),
                                  style=_style(), nav=nav, main=page.main, source=e(page.source),
                                  generated=datetime.now(UTC).astimezone(CITY_TZ).strftime("%d/%m/%Y %H:%M"))


def pdf_bytes(html: str) -> bytes:
    """The report as PDF (WeasyPrint: the print stylesheet, page numbers, SVG charts as vectors)."""
    import weasyprint

    return weasyprint.HTML(string=html).write_pdf()


def _commitments_block(summary: dict, note: str) -> str:
    if not summary["total"]:
        return f"<p class=note>No hay compromisos registrados {note}.</p>"
    order = ("not_started", "limited", "substantial", "complete")
    body = [[e(COMMITMENT_STATUS[s]), number(summary["by_status"].get(s, 0))] for s in order]
    return (figures([("compromisos", number(summary["total"])), ("vencidos", number(summary["overdue"])),
                     ("cumplimiento (vencidos cumplidos)", percent(summary["share"]))])
            + table(["Estado", "Compromisos"], body, {1})
            + "<p class=note>Cumplimiento: de los compromisos con plazo vencido, la parte con estado sustancial o "
              "cumplido (como lo cuenta el índice). Datos de hoy.</p>")


def _standards_block(standards: list[dict], of: int) -> str:
    body = [[e(s["label_es"]), f'{number(s["met"])} de {number(of)}', number(s["not_met"]),
             number(s["not_applicable"])] for s in standards]
    return table(["Estándar mínimo", "Cumplen", "No cumplen", "No aplica"], body, {1, 2, 3})


def _barrio_table(barrios: list[dict], links: Links, of: int) -> str:
    body = [[number(b["rank"]), f'<a href="{e(links.href("barrio", b["barrio_id"]))}">{e(b["name"])}</a>',
             e(b["district"]), number(b["composite"], 1), f'{number(b["rank_p05"])}–{number(b["rank_p95"])}',
             *(points(b.get(k)) for k, _ in PILLARS), number(b.get("uncovered_population"))] for b in barrios]
    return table(["Pos.", "Barrio", "Distrito", "Índice", f"Intervalo (de {of})", *(p for _, p in PILLARS),
                  "Sin instancia cerca"], body, {0, 3, 4, 5, 6, 7, 8, 9})


async def city_page(conn, source: Source, links: Links) -> Page:
    barrios = source.barrios
    population = sum(b["population"] or 0 for b in barrios)
    uncovered = sum(b["uncovered_population"] or 0 for b in barrios)

    def weighted(key: str) -> float | None:
        known = [(b[key], b["population"] or 0) for b in barrios if b.get(key) is not None]
        weight = sum(w for _, w in known)
        return sum(v * w for v, w in known) / weight if weight else None

    city = {k: weighted(k) for k, _ in PILLARS}
    city["composite"] = weighted("composite")
    instances = (await rows(conn, "SELECT count(*)::integer AS n FROM published.instances"))[0]["n"]
    standards = await standards_summary(conn, None)
    gaps = sorted(barrios, key=lambda b: -(b["uncovered_population"] or 0))[:10]
    districts = [[f'<a href="{e(links.href("district", d["code"]))}">{e(d["name"] or d["code"])}</a>',
                  number(d["rank"]), number(d["composite"], 1), *(points(d.get(k)) for k, _ in PILLARS),
                  number(d.get("population"))] for d in source.districts]
    main = (
        "<h1>Informe de la ciudad</h1>"
        f"<p class=lead>{e(source.describe())}</p>"
        + figures([("habitantes", number(population)), ("sin instancia presencial a 800 m", number(uncovered)),
                   ("índice medio (ponderado por población)", number(city["composite"], 1)),
                   ("instancias publicadas (hoy)", number(instances))])
        + "<h2>Pilares de la ciudad</h2>"
        + pillar_chart(city, "Pilares e índice de la ciudad (0–100; promedio de los barrios ponderado por población)")
        + "<h2>Distritos</h2>"
        + table(["Distrito", "Pos.", "Índice", *(p for _, p in PILLARS), "Habitantes"], districts,
                {1, 2, 3, 4, 5, 6, 7})
        + "<h2>Barrios: posición e intervalo</h2>"
        + rank_chart("Posición de cada barrio (punto) y rango del 90 % de sus posiciones simuladas (línea); 1 = mejor",
                     barrios, len(barrios))
        + _barrio_table(barrios, links, len(barrios))
        + "<h2>Brechas: dónde falta una instancia presencial</h2>"
        + table(["Barrio", "Habitantes sin instancia a 800 m", "Cobertura"],
                [[f'<a href="{e(links.href("barrio", b["barrio_id"]))}">{e(b["name"])}</a>',
                  number(b["uncovered_population"]), percent(b.get("coverage"))] for b in gaps], {1, 2})
        + "<h2>Estándares mínimos (hoy)</h2>" + _standards_block(standards, instances)
        + "<h2>Compromisos y su cumplimiento (hoy)</h2>" + _commitments_block(await commitments_summary(conn), "")
    )
    return Page("Informe de la ciudad", main, source.describe())


async def district_page(conn, source: Source, links: Links, code: str) -> Page:
    district = next((d for d in source.districts if d["code"] == code), None)
    if district is None:
        raise ReportNotFound(f"no district {code!r} in this index")
    barrios = [b for b in source.barrios if b["district"] == code]
    ids = [r["id"] for r in await rows(conn, "SELECT id FROM published.instances WHERE district = %s", (code,))]
    name = district.get("name") or code
    main = (
        f"<h1>Informe del distrito {e(name)}</h1><p class=lead>{e(source.describe())}</p>"
        + figures([("posición entre los distritos", f'{number(district["rank"])} de {len(source.districts)}'),
                   ("índice", number(district["composite"], 1)), ("habitantes", number(district.get("population"))),
                   ("sin instancia presencial a 800 m", number(district.get("uncovered_population")))])
        + "<h2>Pilares</h2>" + pillar_chart(district, f"Pilares e índice del distrito {name} (0–100)")
        + "<h2>Sus barrios</h2>"
        + rank_chart(f"Posición en la ciudad de los barrios del distrito {name}", barrios, len(source.barrios))
        + _barrio_table(barrios, links, len(source.barrios))
        + "<h2>Estándares mínimos de sus instancias (hoy)</h2>" + _standards_block(
            await standards_summary(conn, ids), len(ids))
        + "<h2>Compromisos de sus instancias (hoy)</h2>"
        + _commitments_block(await commitments_summary(conn, "district = %s", (code,)), "en el distrito")
    )
    return Page(f"Informe del distrito {name}", main, source.describe())


def neighbours(barrios: list[dict], barrio_id: int, around: int = 8) -> list[dict]:
    """The barrio and those ranked up to `around` places above and below it (rank order)."""
    position = next(i for i, b in enumerate(barrios) if b["barrio_id"] == barrio_id)
    return barrios[max(0, position - around):position + around + 1]


async def barrio_page(conn, source: Source, links: Links, barrio_id: int) -> Page:
    barrio = source.barrio(barrio_id)
    if barrio is None:
        raise ReportNotFound(f"no barrio with MSLINK {barrio_id} in this index")
    offer = await rows(conn, """
        SELECT o.instance_id, i.name, i.kind_label, i.modality, i.barrio, i.is_demo, o.distance_m, i.standards_met
        FROM monitor.index_offer o JOIN published.instances i ON i.id = o.instance_id
        WHERE o.run_id = %s AND o.barrio_id = %s ORDER BY o.distance_m NULLS LAST, o.instance_id""",
                       (source.run_id, barrio_id))
    history = await rows(conn, "SELECT e.name, v.composite FROM published.index_editions e JOIN "
                               "published.index_edition_barrios v ON v.edition = e.name AND v.barrio_id = %s "
                               "ORDER BY e.published_at, e.id", (barrio_id,))
    of = len(source.barrios)
    offer_rows = [[f'<a href="{e(links.href("instance", o["instance_id"]))}">{e(o["name"])}</a>'
                   + (' <span class="demo">(demostración)</span>' if o["is_demo"] else ""),
                   e(o["kind_label"]), e(MODALITY.get(o["modality"], o["modality"])), e(o["barrio"]),
                   "—" if o["distance_m"] is None else f'{number(o["distance_m"])} m',
                   f'{number(o["standards_met"])} de 8'] for o in offer]
    ids = [o["instance_id"] for o in offer]
    main = (
        f'<h1>Informe del barrio {e(barrio["name"])}</h1>'
        f'<p class=lead>Distrito {e(barrio["district"])}. {e(source.describe())}</p>'
        + figures([("posición en la ciudad", f'{number(barrio["rank"])} de {of}'),
                   ("intervalo de la posición (90 %)", f'{number(barrio["rank_p05"])}–{number(barrio["rank_p95"])}'),
                   ("índice", number(barrio["composite"], 1)), ("habitantes", number(barrio["population"])),
                   ("sin instancia presencial a 800 m", number(barrio["uncovered_population"]))])
        + "<h2>Pilares</h2>" + pillar_chart(barrio, f'Pilares e índice de {barrio["name"]} (0–100)')
        + (f'<p class=note>Satisfacción imputada ({e(barrio.get("satisfaction_source"))}): menos de 5 respuestas '
           "propias.</p>" if barrio.get("satisfaction_imputed") else "")
        + "<h2>Posición e intervalo</h2>"
        + rank_chart("Posición (punto) y rango del 90 % de las posiciones simuladas (línea) del barrio, en rojo, y de "
                     "los barrios que lo rodean en el ranking", neighbours(source.barrios, barrio_id), of,
                     highlight=barrio_id)
        + ("<h2>Evolución en las ediciones oficiales</h2>"
           + line_chart(f'Índice de {barrio["name"]} en cada edición (0–100)',
                        [(h["name"], h["composite"]) for h in history]) if history else "")
        + "<h2>Oferta: instancias al alcance del barrio</h2>"
        + (table(["Instancia", "Tipo", "Modalidad", "Sede", "Distancia efectiva", "Estándares"], offer_rows, {4, 5})
           if offer else "<p class=note>El barrio no tiene instancias en su oferta.</p>")
        + "<h2>Brecha</h2>"
        + f'<p>Cobertura: {percent(barrio.get("coverage"))} de los habitantes tiene una instancia presencial o ' \
          f'híbrida a menos de 800 m de caminata; {number(barrio["uncovered_population"])} no la tienen ' \
          f'(distancia media a la más cercana: {number(barrio.get("mean_nearest_m"))} m).</p>'
        + "<h2>Estándares mínimos de su oferta (hoy)</h2>" + _standards_block(await standards_summary(conn, ids),
                                                                             len(ids))
        + "<h2>Compromisos de las instancias del barrio (hoy)</h2>"
        + _commitments_block(await commitments_summary(conn, "barrio_id = %s", (barrio_id,)), "en el barrio")
    )
    return Page(f'Informe del barrio {barrio["name"]}', main, source.describe())


async def instance_page(conn, source: Source, links: Links, instance_id: int) -> Page:
    found = await rows(conn, "SELECT * FROM published.instances WHERE id = %s", (instance_id,))
    if not found:
        raise ReportNotFound(f"no published instance {instance_id}")
    i = found[0]
    standards = await rows(conn, "SELECT criterion_label, status, method FROM published.assessments "
                                 "WHERE instance_id = %s ORDER BY ordinal", (instance_id,))
    upcoming = await rows(conn, "SELECT title, starts_at, status, venue_address FROM published.activities "
                                "WHERE instance_id = %s AND coalesce(ends_at, starts_at) >= now() "
                                "ORDER BY starts_at LIMIT 10", (instance_id,))
    past = await rows(conn, "SELECT title, starts_at, status, venue_address FROM published.activities "
                            "WHERE instance_id = %s AND coalesce(ends_at, starts_at) < now() "
                            "ORDER BY starts_at DESC LIMIT 5", (instance_id,))
    commitments = await rows(conn, "SELECT description, status, progress, due_date, overdue, government_response "
                                   "FROM published.commitments WHERE instance_id = %s "
                                   "ORDER BY due_date NULLS LAST, id", (instance_id,))
    satisfaction = await rows(conn, "SELECT responses, mean_score FROM published.instance_satisfaction "
                                    "WHERE instance_id = %s", (instance_id,))

    def activities(items: list[dict]) -> str:
        if not items:
            return "<p class=note>Ninguna.</p>"
        return table(["Fecha", "Actividad", "Estado", "Lugar"],
                     [[e(a["starts_at"].astimezone(CITY_TZ).strftime("%d/%m/%Y %H:%M")), e(a["title"]),
                       e(ACTIVITY_STATUS.get(a["status"], a["status"])), e(a["venue_address"])] for a in items])

    where = f'<a href="{e(links.href("barrio", i["barrio_id"]))}">{e(i["barrio"])}</a>' if i["barrio_id"] else "—"
    details = [("Tipo", e(i["kind_label"])), ("Promotor", e(PROMOTER.get(i["promoter"], i["promoter"]))),
               ("Organización", e(i.get("organization"))), ("Modalidad", e(MODALITY.get(i["modality"], i["modality"]))),
               ("Barrio", where), ("Distrito", e(i["district"])), ("Temas", e(", ".join(i["themes"] or []))),
               ("Qué se decide", e(i.get("decides"))), ("Cómo participar", e(i.get("how_to_participate"))),
               ("Horario", e(i.get("schedule"))), ("Dirección", e(i.get("venue_address")))]
    met = sum(1 for s in standards if s["status"] == "met")
    main = (
        f'<h1>{e(i["name"])}</h1>'
        + ('<p class="demo">Dato de demostración: esta instancia es inventada.</p>' if i["is_demo"] else "")
        + f'<p class=lead>{e(i.get("description"))}</p>'
        + table(["", ""], [[f"<strong>{k}</strong>", v] for k, v in details])
        + figures([("estándares mínimos cumplidos", f"{met} de {len(standards) or 8}"),
                   ("satisfacción media (1–5)", number(satisfaction[0]["mean_score"], 2) if satisfaction else "—"),
                   ("respuestas a la encuesta", number(satisfaction[0]["responses"]) if satisfaction
                    else "menos de 5 (no se publica)")])
        + "<h2>Estándares mínimos</h2>"
        + table(["Estándar", "Resultado", "Cómo se evaluó"],
                [[e(s["criterion_label"]),
                  f'<span class="{STANDARD_STATUS[s["status"]][1]}">{STANDARD_STATUS[s["status"]][0]}</span>',
                  "verificado" if s["method"] == "verified" else "derivado del registro"] for s in standards])
        + "<h2>Próximas actividades</h2>" + activities(upcoming)
        + "<h2>Últimas actividades</h2>" + activities(past)
        + "<h2>Compromisos del gobierno</h2>"
        + (table(["Compromiso", "Estado", "Avance", "Plazo", "Respuesta del gobierno"],
                 [[e(c["description"]), e(COMMITMENT_STATUS.get(c["status"], c["status"]))
                   + (' <span class="badge">Vencido</span>' if c["overdue"] else ""),
                   "—" if c["progress"] is None else f'{c["progress"]} %',
                   c["due_date"].strftime("%d/%m/%Y") if c["due_date"] else "—", e(c["government_response"])]
                  for c in commitments], {2}) if commitments else "<p class=note>Sin compromisos registrados.</p>")
    )
    return Page(f'Informe de la instancia {i["name"]}', main,
                "Registro, estándares, actividades y compromisos: datos de hoy.")


# ---------------------------------------------------------------- HTTP
async def answer(request: Request, pool: AsyncConnectionPool, edition: str | None, make, *args):
    fmt = request.query_params.get("f", "html")
    if fmt not in ("html", "pdf"):
        raise Problem(400, "Invalid f", "f is html or pdf")
    try:
        async with pool.connection() as conn:
            source = await index_source(conn, edition)
            page = await make(conn, source, Links.served(edition), *args)
    except ReportNotFound as exc:
        raise Problem(404, "Not Found", str(exc)) from None
    html = html_document(page, Links.served(edition))
    if fmt == "pdf":
        body = await run_in_threadpool(pdf_bytes, html)
        filename = request.url.path.strip("/").replace("/", "-")
        return respond(request, body, PDF, CACHE_SECONDS,
                       headers={"Content-Disposition": f'inline; filename="{filename}.pdf"'})
    return respond(request, html.encode(), HTML, CACHE_SECONDS)


EDITION = Query(None, description="an official edition's name (see /index/editions); default: the latest run")
FORMAT = Query(None, description="html (default) or pdf")


@get_and_head(router, "/informes/ciudad", summary="Report on the city (printable HTML or PDF)")
async def city_report(request: Request, edicion: str | None = EDITION, f: str | None = FORMAT,
                      pool: AsyncConnectionPool = Depends(get_pool)):
    return await answer(request, pool, edicion, city_page)


@get_and_head(router, "/informes/distritos/{code}", summary="Report on a district (printable HTML or PDF)")
async def district_report(request: Request, code: str, edicion: str | None = EDITION, f: str | None = FORMAT,
                          pool: AsyncConnectionPool = Depends(get_pool)):
    return await answer(request, pool, edicion, district_page, code.upper())


@get_and_head(router, "/informes/barrios/{barrio_id}", summary="Report on a barrio (printable HTML or PDF)")
async def barrio_report(request: Request, barrio_id: int = PathParam(..., ge=1, description="MSLINK"),
                        edicion: str | None = EDITION, f: str | None = FORMAT,
                        pool: AsyncConnectionPool = Depends(get_pool)):
    return await answer(request, pool, edicion, barrio_page, barrio_id)


@get_and_head(router, "/informes/instancias/{instance_id}", summary="Report on an instance (printable HTML or PDF)")
async def instance_report(request: Request, instance_id: int = PathParam(..., ge=1), edicion: str | None = EDITION,
                          f: str | None = FORMAT, pool: AsyncConnectionPool = Depends(get_pool)):
    return await answer(request, pool, edicion, instance_page, instance_id)
