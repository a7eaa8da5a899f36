"""The commitment tracker: what the government committed to in each instance and what it delivered.

- `GET /commitments`: JSON (default), `?f=geojson` or `?f=csv` (or the Accept header), filtered by `status`,
  `instance`, `barrio` (MSLINK of the instance's venue), `district`, `theme` (one of the instance's themes) and
  `overdue`; paged with `limit`/`offset`. Each commitment carries its evidence, the government's response, its origin
  with links (the activity's or the experience record's feature) and its status timeline read from the change
  history. JSON adds the follow-through summary.
- `GET /compromisos`: the same selection as a Spanish page rendered on the server (works without JavaScript), with
  the filters as a form and the summary at the top.

Selections are the catalogue's `commitments` layer through the feature API's SQL builder (`records_sql`,
`where_clause`), so the columns are the layer's properties and a filter means the same here as in
`/collections/commitments/items`.

Follow-through is the index's definition (gis/index/pillars.py `follow_through`, gis/index/inputs.py): a commitment
is *due* when its due date is today (Rosario) or earlier, and *fulfilled* when it is due and `substantial` or
`complete`; an instance's follow-through is fulfilled / due (none when nothing is due); a barrio's is the mean of
the follow-through of the instances of its offer (the latest index run's `published.index_offer`) that have
something due — what `published.barrio_index.follow_through` holds once the index has been recomputed.

The timeline is public, who changed it is not: a token's name never leaves the history; `by` says only `editor`,
`organización` or `importación`, derived from the kind of actor, or nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.database import fetch_rows, get_pool
from api.errors import Problem
from api.formats import rows_csv
from api.http import CSV, GEOJSON, JSON, base_url, output_format, respond
from api.pages import escape, page
from api.routing import get_and_head
from layers.catalogue import CATALOGUE
from layers.definitions.commitments import STATUSES
from layers.features_sql import ItemsQuery, count_sql, records_sql, where_clause

router = APIRouter(tags=["commitments"])

LAYER = CATALOGUE["commitments"]
CACHE_SECONDS = LAYER.cache_seconds
FORMATS = ("json", "geojson", "csv")
DEFAULT_LIMIT, PAGE_LIMIT, MAX_LIMIT = 100, 50, 1000
LOCAL = ZoneInfo("America/Argentina/Cordoba")

STATUS_LABELS = {"not_started": "Sin iniciar", "limited": "Limitado", "substantial": "Sustancial",
                 "complete": "Cumplido"}
FULFILLED = ("substantial", "complete")
ORIGIN_LABELS = {"activity": "Actividad", "experience": "Registro de experiencia", "proposal": "Propuesta"}
# What the public may learn about who changed a commitment: the kind of actor, never the token's name.
ACTOR_KINDS = {"admin": "editor", "editor": "editor", "organization": "organización"}
IMPORT_ACTORS = ("cli:import", "import:", "loader:", "sync:")  # monitor import, the loaders, monitor sync

# The follow-through counts of the index (gis/index/inputs.py INSTANCES_SQL), over the published commitments.
DUE = sql.SQL("due_date <= current_date")
FULFILLED_SQL = sql.SQL("due_date <= current_date AND status IN ('substantial', 'complete')")
# A barrio's follow-through as the index computes it: the mean of its offer's instance follow-through.
BARRIO_FOLLOW_THROUGH = sql.SQL("""
WITH per_instance AS (
    SELECT instance_id, count(*) FILTER (WHERE {due}) AS due, count(*) FILTER (WHERE {fulfilled}) AS fulfilled
    FROM {source} GROUP BY instance_id
)
SELECT o.barrio_id, count(*)::integer AS instances, avg(p.fulfilled::float8 / p.due) AS follow_through
FROM published.index_offer o
JOIN per_instance p ON p.instance_id = o.instance_id AND p.due > 0
WHERE o.barrio_id = ANY(%s)
GROUP BY o.barrio_id
""")
TIMELINE = """
SELECT row_key::integer AS id, actor, changed_at,
       COALESCE(new_values, old_values) ->> 'status' AS status,
       (COALESCE(new_values, old_values) ->> 'progress')::integer AS progress
FROM monitor.history
WHERE table_name = 'commitments' AND row_key = ANY(%s) AND action <> 'delete'
ORDER BY id
"""


def _source() -> sql.Composable:
    return sql.Identifier(*LAYER.source.split("."))


# ---------------------------------------------------------------- filters
class FilterError(ValueError):
    """A filter value the tracker cannot use: `english` for programs (problem+json), `spanish` for the page."""

    def __init__(self, field: str, english: str, spanish: str):
        super().__init__(english)
        self.field, self.english, self.spanish = field, english, spanish


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    instance: int | None = None
    barrio: int | None = None
    district: str | None = None
    theme: str | None = None
    overdue: bool | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def equals(self, outcome: bool = True) -> dict[str, str]:
        """Equality filters on the layer's properties. Without `outcome`, only those that choose which
        commitments are looked at (not status or overdue): the scope of the follow-through summary."""
        pairs = {"instance_id": self.instance, "barrio_id": self.barrio, "district": self.district,
                 "themes": self.theme}
        if outcome:
            pairs |= {"status": self.status, "overdue": "true" if self.overdue else None}
        return {name: str(value) for name, value in pairs.items() if value is not None}

    def items_query(self) -> ItemsQuery:
        """The layer's selection: `overdue=false` keeps the commitments without a due date (`overdue` is null
        for them), a CQL2 condition for the same builder."""
        not_overdue = {"op": "or", "args": [{"op": "=", "args": [{"property": "overdue"}, False]},
                                            {"op": "isNull", "args": [{"property": "overdue"}]}]}
        return ItemsQuery(limit=self.limit, offset=self.offset, equals=self.equals(),
                          cql=not_overdue if self.overdue is False else None)

    def params(self, **changes) -> dict[str, str]:
        """The filters as query parameters (the offset only when not 0)."""
        values = asdict(replace(self, **changes))
        out = {}
        for name, value in values.items():
            if value is None or (name == "offset" and value == 0):
                continue
            out[name] = str(value).lower() if isinstance(value, bool) else str(value)
        return out

    @property
    def chosen(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None and k not in ("limit", "offset")}


@dataclass(frozen=True)
class Choices:
    """What the filters accept that the database knows: themes, barrios, districts (code → Spanish name)."""

    themes: dict[str, str]
    barrios: dict[int, str]
    districts: dict[str, str]


async def choices(pool: AsyncConnectionPool) -> Choices:
    themes = await fetch_rows(pool, "SELECT code, label_es FROM published.themes ORDER BY label_es")
    barrios = await fetch_rows(pool, "SELECT id, name, district_name, count(*) OVER (PARTITION BY name) AS namesakes "
                                "FROM published.barrios ORDER BY name, district_name, id")
    districts = await fetch_rows(pool, "SELECT code, name FROM published.districts ORDER BY name")
    # A few official barrios share a name (two Bella Vista, two Parque Casado): their district tells them apart.
    names = {r["id"]: f'{r["name"]} ({r["district_name"]})' if r["namesakes"] > 1 else r["name"] for r in barrios}
    return Choices(themes={r["code"]: r["label_es"] for r in themes}, barrios=names,
                   districts={r["code"]: r["name"] for r in districts})


def _integer(params, name: str, english: str, spanish: str, minimum: int, maximum: int | None = None) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise FilterError(name, english, spanish) from None
    if value < minimum or (maximum is not None and value > maximum):
        raise FilterError(name, english, spanish)
    return value


def parse_filters(params, known: Choices, default_limit: int = DEFAULT_LIMIT) -> Filters:
    """The tracker's filters from query parameters (an empty value means no filter, as a form sends it)."""
    def text(name: str) -> str | None:
        return (params.get(name) or "").strip() or None

    status = text("status")
    if status is not None and status not in STATUSES:
        raise FilterError("status", f"status is one of: {', '.join(STATUSES)}",
                          f"El estado «{status}» no existe: elegí Sin iniciar, Limitado, Sustancial o Cumplido.")
    instance = _integer(params, "instance", "instance is an instance id (a positive integer)",
                        "La instancia se indica con su número de identificación (un entero positivo).", 1)
    barrio = _integer(params, "barrio", "barrio is a barrio id (MSLINK, a positive integer)",
                      "El barrio se indica con su número (MSLINK), un entero positivo.", 1)
    if barrio is not None and barrio not in known.barrios:
        raise FilterError("barrio", f"no barrio with MSLINK {barrio}; see /collections/barrios/items",
                          f"No existe un barrio con el número {barrio}. Elegí uno de la lista.")
    district = text("district")
    if district is not None:
        district = district.upper()
        if district not in known.districts:
            raise FilterError("district", f"district is one of: {', '.join(known.districts)}",
                              f"El distrito «{district}» no existe: elegí "
                              f"{', '.join(known.districts.values())}.")
    theme = text("theme")
    if theme is not None and theme not in known.themes:
        raise FilterError("theme", f"theme is one of: {', '.join(known.themes)}",
                          f"El tema «{theme}» no existe. Elegí uno de la lista.")
    overdue_text = text("overdue")
    if overdue_text is not None and overdue_text.lower() not in ("true", "false"):
        raise FilterError("overdue", "overdue is true or false",
                          "«Vencidos» acepta solo true (solo los vencidos) o false (los que no están vencidos).")
    overdue = None if overdue_text is None else overdue_text.lower() == "true"
    limit = _integer(params, "limit", f"limit is an integer from 1 to {MAX_LIMIT}",
                     f"La cantidad por página es un número entre 1 y {MAX_LIMIT}.", 1, MAX_LIMIT)
    offset = _integer(params, "offset", "offset is an integer, 0 or more",
                      "El desplazamiento es un número entero, 0 o mayor.", 0)
    return Filters(status=status, instance=instance, barrio=barrio, district=district, theme=theme, overdue=overdue,
                   limit=limit or default_limit, offset=offset or 0)


# ---------------------------------------------------------------- selection, timeline, summary
def actor_kind(actor: str | None) -> str | None:
    """Who changed a commitment, as the public may see it: the kind of actor, never a token's name."""
    if not actor:
        return None
    if actor.startswith("token:"):
        parts = actor.split(":")
        return ACTOR_KINDS.get(parts[2]) if len(parts) > 2 else None
    if actor.startswith(IMPORT_ACTORS):
        return "importación"
    return None


def timelines(rows: list[dict]) -> dict[int, list[dict]]:
    """Per commitment, its states in order: the insert, then every change of status or progress."""
    found: dict[int, list[dict]] = {}
    for row in rows:
        steps = found.setdefault(row["id"], [])
        if steps and (steps[-1]["status"], steps[-1]["progress"]) == (row["status"], row["progress"]):
            continue
        steps.append({"changed_at": row["changed_at"].isoformat(), "status": row["status"],
                      "status_label": STATUS_LABELS.get(row["status"], row["status"]), "progress": row["progress"],
                      "by": actor_kind(row["actor"])})
    return found


def share(due: int, fulfilled: int) -> float | None:
    return fulfilled / due if due else None


def follow_through(due: int, fulfilled: int) -> dict:
    return {"due": due, "fulfilled": fulfilled, "share": share(due, fulfilled)}


def follow_through_of(rows: list[dict]) -> dict:
    """Follow-through of commitment rows that carry `is_due` (due_date <= current_date) and `status`."""
    due = [r for r in rows if r["is_due"]]
    return follow_through(len(due), sum(r["status"] in FULFILLED for r in due))


def enrich(record: dict, base: str, steps: list[dict]) -> dict:
    links = {"href": f"{base}/collections/commitments/items/{record['id']}",
             "instance_href": f"{base}/collections/instances/items/{record['instance_id']}",
             "activity_href": (f"{base}/collections/activities/items/{record['activity_id']}"
                               if record.get("activity_id") is not None else None),
             "experience_href": (f"{base}/collections/experiences/items/{record['experience_id']}"
                                 if record.get("experience_id") is not None else None)}
    return {**record, "status_label": STATUS_LABELS.get(record["status"], record["status"]), **links,
            "timeline": steps}


async def select(pool: AsyncConnectionPool, filters: Filters, base: str, geometry: bool = False
                 ) -> tuple[list[dict], int, date]:
    """The page of commitments the filters choose (with origin links and timelines), how many match, and today."""
    query = filters.items_query()
    statement, params = records_sql(LAYER, query, geometry)
    counting, count_params = count_sql(LAYER, query)
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        records = (await (await conn.execute(statement, params)).fetchone())[0]
        matched = (await (await conn.execute(counting, count_params)).fetchone())[0]
        today = (await (await conn.execute("SELECT current_date")).fetchone())[0]
        await cur.execute(TIMELINE, ([str(r["id"]) for r in records],))
        steps = timelines(await cur.fetchall())
    return [enrich(r, base, steps.get(r["id"], [])) for r in records], matched, today


async def summary(pool: AsyncConnectionPool, filters: Filters) -> dict:
    """Follow-through of the commitments in the filters' scope (every filter but status and overdue)."""
    where, params = where_clause(LAYER, ItemsQuery(equals=filters.equals(outcome=False)))
    counts = sql.SQL("count(*)::integer AS commitments, count(*) FILTER (WHERE overdue)::integer AS overdue, "
                     "count(*) FILTER (WHERE {due})::integer AS due, "
                     "count(*) FILTER (WHERE {fulfilled})::integer AS fulfilled").format(due=DUE,
                                                                                         fulfilled=FULFILLED_SQL)

    def grouped(columns: str, order: str) -> sql.Composable:
        return (sql.SQL("SELECT {columns}, {counts} FROM {source}").format(
            columns=sql.SQL(columns), counts=counts, source=_source()) + where
            + sql.SQL(f" GROUP BY {columns} ORDER BY {order}"))

    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        async def rows(query, values) -> list[dict]:
            await cur.execute(query, values)
            return await cur.fetchall()

        by_status = {r["status"]: r for r in await rows(grouped("status", "status"), params)}
        instances = await rows(grouped("instance_id, instance_name, barrio_id, barrio", "instance_name, instance_id"),
                               params)
        located = [r for r in await rows(grouped("barrio_id, barrio, district", "barrio, barrio_id"), params)
                   if r["barrio_id"] is not None]
        if filters.barrio is not None and not any(r["barrio_id"] == filters.barrio for r in located):
            named = await rows("SELECT name AS barrio, district FROM published.barrios WHERE id = %s",
                               (filters.barrio,))
            located.append({"barrio_id": filters.barrio, "barrio": None, "district": None,
                            **(named[0] if named else {}), "commitments": 0, "overdue": 0, "due": 0, "fulfilled": 0})
        offer = {r["barrio_id"]: r for r in await rows(
            BARRIO_FOLLOW_THROUGH.format(due=DUE, fulfilled=FULFILLED_SQL, source=_source()),
            ([r["barrio_id"] for r in located],))}
    totals = {key: sum(r[key] for r in by_status.values()) for key in ("commitments", "overdue", "due", "fulfilled")}
    return {
        "scope": filters.equals(outcome=False),
        "commitments": totals["commitments"],
        "overdue": totals["overdue"],
        "by_status": {s: by_status[s]["commitments"] if s in by_status else 0 for s in STATUSES},
        "follow_through": follow_through(totals["due"], totals["fulfilled"]),
        "instances": [{**{k: r[k] for k in ("instance_id", "instance_name", "barrio_id", "barrio", "commitments",
                                            "overdue")},
                       "follow_through": follow_through(r["due"], r["fulfilled"])} for r in instances],
        "barrios": [{**{k: r[k] for k in ("barrio_id", "barrio", "district", "commitments", "overdue")},
                     "located": follow_through(r["due"], r["fulfilled"]),
                     "follow_through": offer[r["barrio_id"]]["follow_through"] if r["barrio_id"] in offer else None,
                     "follow_through_instances": offer[r["barrio_id"]]["instances"] if r["barrio_id"] in offer else 0}
                    for r in located],
    }


# ---------------------------------------------------------------- /commitments
def _href(base: str, path: str, params: dict) -> str:
    return f"{base}{path}" + (f"?{urlencode(params)}" if params else "")


def page_links(base: str, filters: Filters, matched: int, returned: int, fmt: str) -> list[dict]:
    types = {"json": JSON, "geojson": GEOJSON, "csv": CSV}
    links = [{"href": _href(base, "/commitments", {**filters.params(), "f": fmt}), "rel": "self", "type": types[fmt]}]
    links += [{"href": _href(base, "/commitments", {**filters.params(), "f": other}), "rel": "alternate",
               "type": types[other]} for other in FORMATS if other != fmt]
    links.append({"href": _href(base, "/compromisos", filters.params(limit=PAGE_LIMIT)), "rel": "alternate",
                  "type": "text/html", "title": "Seguimiento de compromisos (página en español)"})
    if filters.offset + returned < matched:
        links.append({"href": _href(base, "/commitments", {**filters.params(offset=filters.offset + filters.limit),
                                                           "f": fmt}), "rel": "next", "type": types[fmt]})
    if filters.offset > 0:
        links.append({"href": _href(base, "/commitments", {**filters.params(offset=max(0, filters.offset
                                                                                      - filters.limit)), "f": fmt}),
                      "rel": "prev", "type": types[fmt]})
    return links


CSV_COLUMNS = ["id", *LAYER.property_names, "status_label", "href", "instance_href", "activity_href",
               "experience_href", "timeline"]


@get_and_head(router, "/commitments", summary="Government commitments with their evidence, response, origin and "
              "status timeline, and the follow-through per instance and barrio (JSON, GeoJSON or CSV)")
async def commitments(request: Request, pool: AsyncConnectionPool = Depends(get_pool),
                      f: str | None = Query(None, description="json (default), geojson or csv"),
                      status: str | None = Query(None, description=f"one of {', '.join(STATUSES)}"),
                      instance: str | None = Query(None, description="instance id"),
                      barrio: str | None = Query(None, description="barrio id (MSLINK) of the instance's venue"),
                      district: str | None = Query(None, description="district code, e.g. CENTRO"),
                      theme: str | None = Query(None, description="theme code among the instance's themes"),
                      overdue: str | None = Query(None, description="true or false"),
                      limit: str | None = Query(None, description=f"1–{MAX_LIMIT}, default {DEFAULT_LIMIT}"),
                      offset: str | None = Query(None, description="0 or more")) -> Response:
    fmt = output_format(request, FORMATS)
    try:
        filters = parse_filters(request.query_params, await choices(pool))
    except FilterError as exc:
        raise Problem(400, "Invalid parameter", exc.english, field=exc.field) from None
    base = base_url(request)
    records, matched, today = await select(pool, filters, base, geometry=fmt == "geojson")
    links = page_links(base, filters, matched, len(records), fmt)
    if fmt == "csv":
        rows = [{k: json.dumps(v, ensure_ascii=False) if k == "timeline" else v for k, v in r.items()}
                for r in records]
        link_header = ", ".join(f'<{x["href"]}>; rel="{x["rel"]}"' for x in links if x["rel"] in ("next", "prev"))
        return respond(request, rows_csv(rows, CSV_COLUMNS), CSV, CACHE_SECONDS,
                       headers={"Content-Disposition": 'inline; filename="commitments.csv"',
                                **({"Link": link_header} if link_header else {})})
    if fmt == "geojson":
        features = [{"type": "Feature", "id": r["id"], "geometry": r.get("geometry"),
                     "properties": {k: v for k, v in r.items() if k not in ("id", "geometry")}} for r in records]
        return respond(request, {"type": "FeatureCollection", "as_of": today, "numberMatched": matched,
                                 "numberReturned": len(records), "features": features, "links": links},
                       GEOJSON, CACHE_SECONDS)
    document = {"as_of": today, "filters": filters.chosen, "numberMatched": matched, "numberReturned": len(records),
                "commitments": records, "summary": await summary(pool, filters), "links": links}
    return respond(request, document, JSON, CACHE_SECONDS)


# ---------------------------------------------------------------- /compromisos
STYLESHEET = '<link rel="stylesheet" href="/map/static/pages/commitments.css">'
OVERDUE_CHOICES = {"": "Todos", "true": "Solo vencidos", "false": "Sin vencer"}
DEMO = ' <span class="demo">(dato de demostración)</span>'


def percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}\u00a0%"  # no break between number and sign


def day(value: str | date | None) -> str:
    if value is None:
        return "—"
    parsed = date.fromisoformat(value) if isinstance(value, str) else value
    return parsed.strftime("%d/%m/%Y")


def moment(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(LOCAL).strftime("%d/%m/%Y %H:%M")


def _select_html(name: str, label: str, options: dict, chosen, error: FilterError | None) -> str:
    invalid = error is not None and error.field == name
    attributes = ' aria-invalid="true" aria-describedby="filtros-error"' if invalid else ""
    items = "".join(f'<option value="{escape(str(value))}"{" selected" if str(value) == str(chosen) else ""}>'
                    f'{escape(text)}</option>' for value, text in options.items())
    return (f'<div class="field{" invalid" if invalid else ""}"><label for="filtro-{name}">{escape(label)}</label>'
            f'<select id="filtro-{name}" name="{name}"{attributes}>{items}</select></div>')


def form_html(known: Choices, raw, error: FilterError | None) -> str:
    def chosen(name: str) -> str:
        return (raw.get(name) or "").strip()

    fields = [
        _select_html("status", "Estado", {"": "Todos", **STATUS_LABELS}, chosen("status"), error),
        _select_html("barrio", "Barrio", {"": "Todos", **known.barrios}, chosen("barrio"), error),
        _select_html("theme", "Tema", {"": "Todos", **known.themes}, chosen("theme"), error),
        _select_html("overdue", "Vencidos", OVERDUE_CHOICES, chosen("overdue").lower(), error),
    ]
    # Filters the form does not show (from a link: an instance, a district) are kept when it is sent again.
    kept = "".join(f'<input type="hidden" name="{name}" value="{escape(chosen(name))}">'
                   for name in ("instance", "district") if chosen(name))
    return (f'<form class="filters" method="get" action="/compromisos" aria-labelledby="filtros-titulo">'
            f'<h2 id="filtros-titulo">Filtrar</h2><div class="filter-grid">{"".join(fields)}</div>{kept}'
            '<p class="actions"><button type="submit">Filtrar</button> '
            '<a href="/compromisos">Quitar los filtros</a></p></form>')


def summary_html(data: dict, filters: Filters, known: Choices) -> str:
    counts = "".join(f'<li class="status-count" data-status="{s}"><span class="status status-{s}">'
                     f'{STATUS_LABELS[s]}</span> <strong>{data["by_status"][s]}</strong></li>' for s in STATUSES)
    ft = data["follow_through"]
    if ft["due"]:
        headline = (f'<p class="follow-through" data-share="{ft["share"]}"><strong>{percent(ft["share"])}</strong> '
                    f'de cumplimiento: de los {ft["due"]} compromisos con el plazo cumplido, {ft["fulfilled"]} '
                    'tienen un avance sustancial o están cumplidos.</p>')
    else:
        headline = '<p class="follow-through muted">Ningún compromiso tiene todavía el plazo cumplido.</p>'
    outcome_note = (" El resumen cuenta todos los estados: no aplica los filtros de estado ni de vencimiento."
                    if filters.status is not None or filters.overdue is not None else "")
    parts = ['<section class="summary" aria-labelledby="resumen-titulo"><h2 id="resumen-titulo">Resumen</h2>',
             f'<p>{data["commitments"]} compromisos; {data["overdue"]} vencidos sin cumplir.{outcome_note}</p>',
             f'<ul class="status-counts" aria-label="Compromisos por estado">{counts}</ul>', headline]
    if filters.barrio is not None:
        barrio = next((b for b in data["barrios"] if b["barrio_id"] == filters.barrio), None)
        if barrio is not None:
            value = barrio["follow_through"]
            offer = (f'En la oferta de participación de {escape(known.barrios.get(filters.barrio, ""))} (las '
                     'instancias que alcanzan al barrio, como en el índice): ')
            if value is None:
                offer += "ninguna instancia tiene compromisos cuyo plazo ya llegó."
            else:
                offer += (f'<strong>{percent(value)}</strong> de cumplimiento, promedio de '
                          f'{barrio["follow_through_instances"]} instancias con compromisos cuyo plazo ya llegó.')
            parts.append(f'<p class="barrio-follow-through" data-share="{"" if value is None else value}">{offer}</p>')
    rows = [r for r in data["instances"] if r["follow_through"]["due"]]
    if rows:
        body = "".join(f'<tr><th scope="row"><a href="/compromisos?instance={r["instance_id"]}">'
                       f'{escape(r["instance_name"])}</a></th><td>{r["follow_through"]["fulfilled"]} de '
                       f'{r["follow_through"]["due"]}</td><td>{percent(r["follow_through"]["share"])}</td></tr>'
                       for r in rows)
        parts.append(f'<details><summary>Cumplimiento por instancia ({len(rows)})</summary>'
                     '<table><caption class="visually-hidden">Cumplimiento por instancia</caption><thead><tr>'
                     '<th scope="col">Instancia</th><th scope="col">Sustanciales o cumplidos</th>'
                     f'<th scope="col">Cumplimiento</th></tr></thead><tbody>{body}</tbody></table></details>')
    parts.append('<p class="muted definition">Cumplimiento: parte de los compromisos con el plazo cumplido (hasta hoy) '
                 'que tienen un avance sustancial o están cumplidos, la misma definición que usa el índice de '
                 'participación.</p></section>')
    return "".join(parts)


def origin_html(record: dict, titles: dict) -> str:
    parts = []
    if record["activity_id"] is not None:
        title = titles["activities"].get(record["activity_id"]) or f"n.º {record['activity_id']}"
        parts.append(f'Actividad: <a href="{escape(record["activity_href"])}">{escape(title)}</a>')
    if record["experience_id"] is not None:
        held = titles["experiences"].get(record["experience_id"])
        text = f"del {day(held)}" if held else f"n.º {record['experience_id']}"
        parts.append(f'Registro de experiencia: <a href="{escape(record["experience_href"])}">{escape(text)}</a>')
    if record["proposal_ref"]:
        parts.append(f'Propuesta: {escape(record["proposal_ref"])}')
    return "<br>".join(parts) if parts else '<span class="muted">No informado</span>'


def progress_text(progress: int | None) -> str:
    return f" · {progress}\u00a0%" if progress is not None else ""


def by_text(kind: str | None) -> str:
    return f' <span class="muted">({escape(kind)})</span>' if kind else ""


def commitment_html(record: dict, titles: dict) -> str:
    status = record["status"]
    overdue = ' <span class="badge overdue">Vencido</span>' if record["overdue"] else ""
    progress = f" · avance {record['progress']}\u00a0%" if record["progress"] is not None else ""
    evidence = (f'<a href="{escape(record["evidence_url"])}" rel="noopener nofollow">Ver la evidencia</a>'
                if record["evidence_url"] else '<span class="muted">Sin evidencia publicada</span>')
    response = (escape(record["government_response"]) if record["government_response"]
                else '<span class="muted">Sin respuesta del gobierno</span>')
    place = f' · {escape(record["barrio"])}' if record["barrio"] else ""
    steps = "".join(
        f'<li data-status="{escape(s["status"])}"><time datetime="{escape(s["changed_at"])}">'
        f'{moment(s["changed_at"])}</time> {escape(s["status_label"])}'
        f'{progress_text(s["progress"])}{by_text(s["by"])}</li>'
        for s in record["timeline"])
    return f"""<li><article class="commitment" id="compromiso-{record["id"]}" data-id="{record["id"]}"
 data-status="{escape(status)}" aria-labelledby="compromiso-{record["id"]}-titulo">
<h3 id="compromiso-{record["id"]}-titulo">{escape(record["description"])}{DEMO if record["is_demo"] else ""}</h3>
<p class="state"><span class="status status-{escape(status)}">{STATUS_LABELS[status]}</span>{progress}
 · plazo: {day(record["due_date"])}{overdue}</p>
<p class="instance"><a href="/map#instancia={record["instance_id"]}">{escape(record["instance_name"])}</a>{place}</p>
<dl class="facts">
<dt>Asumido el</dt><dd>{day(record["made_on"])}</dd>
<dt>Respuesta del gobierno</dt><dd>{response}</dd>
<dt>Evidencia</dt><dd>{evidence}</dd>
<dt>Origen</dt><dd>{origin_html(record, titles)}</dd>
</dl>
<details class="timeline"><summary>Historial del estado ({len(record["timeline"])})</summary>
<ol>{steps}</ol></details>
</article></li>"""


async def origin_titles(pool: AsyncConnectionPool, records: list[dict]) -> dict:
    activities = [r["activity_id"] for r in records if r["activity_id"] is not None]
    experiences = [r["experience_id"] for r in records if r["experience_id"] is not None]
    found = {"activities": {}, "experiences": {}}
    if activities:
        rows = await fetch_rows(pool, "SELECT id, title FROM published.activities WHERE id = ANY(%s)", (activities,))
        found["activities"] = {r["id"]: r["title"] for r in rows}
    if experiences:
        rows = await fetch_rows(pool, "SELECT id, held_on FROM published.experiences WHERE id = ANY(%s)",
                                (experiences,))
        found["experiences"] = {r["id"]: r["held_on"] for r in rows}
    return found


def pager_html(filters: Filters, matched: int, returned: int) -> str:
    links = []
    if filters.offset > 0:
        previous = filters.params(offset=max(0, filters.offset - filters.limit))
        links.append(f'<a rel="prev" href="/compromisos?{escape(urlencode(previous))}">Anteriores</a>')
    if filters.offset + returned < matched:
        following = filters.params(offset=filters.offset + filters.limit)
        links.append(f'<a rel="next" href="/compromisos?{escape(urlencode(following))}">Siguientes</a>')
    return f'<nav class="pager" aria-label="Páginas">{" ".join(links)}</nav>' if links else ""


INTRO = """<h1>Seguimiento de compromisos</h1>
<p class="lead">Qué se comprometió el gobierno en cada instancia de participación, de dónde salió el compromiso, qué
respondió y cuánto avanzó, con su historial de estados.</p>"""


@router.api_route("/compromisos", methods=["GET", "HEAD"], include_in_schema=False)
async def commitments_page(request: Request, pool: AsyncConnectionPool = Depends(get_pool)):
    known = await choices(pool)
    raw = request.query_params
    headers = {"Cache-Control": f"public, max-age={CACHE_SECONDS}"}
    try:
        filters = parse_filters(raw, known, default_limit=PAGE_LIMIT)
    except FilterError as exc:
        main = (f'{STYLESHEET}{INTRO}<div class="errors" id="filtros-error" role="alert"><h2>Revisá los filtros</h2>'
                f'<p>{escape(exc.spanish)}</p></div>{form_html(known, raw, exc)}')
        return page("Seguimiento de compromisos", main, status=400, indexable=False,
                    headers={"Cache-Control": "no-store"})
    records, matched, _ = await select(pool, filters, "")
    data = await summary(pool, filters)
    titles = await origin_titles(pool, records)
    chosen = []
    if filters.instance is not None:
        name = next((r["instance_name"] for r in data["instances"] if r["instance_id"] == filters.instance), None)
        chosen.append(f"Instancia: {escape(name or str(filters.instance))}")
    if filters.district is not None:
        chosen.append(f"Distrito: {escape(known.districts[filters.district])}")
    note = f'<p class="chosen">{" · ".join(chosen)}</p>' if chosen else ""
    if records:
        first = filters.offset + 1
        listing = (f'<p class="count" role="status">Compromisos {first} a {filters.offset + len(records)} de '
                   f'{matched}.</p><ol class="commitment-list">'
                   f'{"".join(commitment_html(r, titles) for r in records)}</ol>'
                   f'{pager_html(filters, matched, len(records))}')
    else:
        listing = '<p class="count" role="status">Ningún compromiso coincide con estos filtros.</p>'
    whole = filters.params(limit=MAX_LIMIT, offset=0)
    downloads = "".join(f'<a href="/commitments?{escape(urlencode({**whole, "f": f}))}">{label}</a> '
                        for f, label in (("csv", "CSV"), ("geojson", "GeoJSON"), ("json", "JSON")))
    main = (f'{STYLESHEET}{INTRO}{note}{form_html(known, raw, None)}{summary_html(data, filters, known)}'
            f'<section class="results" aria-labelledby="lista-titulo"><h2 id="lista-titulo">Compromisos</h2>'
            f'{listing}<p class="downloads">Descargar esta selección: {downloads}</p></section>')
    return page("Seguimiento de compromisos", main, wide=True, headers=headers,
                description="Compromisos asumidos por el gobierno en las instancias de participación ciudadana de "
                            "Rosario: estado, evidencia, respuesta y cumplimiento.")
