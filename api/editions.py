"""Editions of the index over HTTP: the list, one edition, a barrio's values over the editions, and the difference
between two editions per barrio. Editions are published with `monitor edition publish NAME` (gis/index/editions.py)
and read here from their published views (0015_editions.sql). JSON by default; CSV, and GeoJSON where rows are
barrios (placed on the barrio's current boundary), with `?f=` or the Accept header.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request
from psycopg_pool import AsyncConnectionPool

from api.database import fetch_rows, get_pool
from api.errors import Problem
from api.http import CSV, GEOJSON, JSON, base_url, link, output_format
from api.index import TABLE_FORMATS, send
from gis.index.editions import NAME, PILLARS, VALUES

router = APIRouter(tags=["index"])

EDITION = ("id, name, run_id, published_at, note, computed_at, method_version, population_method, parameters, "
           "input_counts, summary")
BARRIO_VALUES = ", ".join(("barrio_id", "name", "district", *VALUES))
# What a difference compares: each value's change is `to − from` (a negative rank change is a better place).
COMPARED = ("composite", "rank", *PILLARS, "uncovered_population")


def edition_links(root: str, name: str) -> list[dict]:
    return [link(f"{root}/index/editions/{name}", "self", JSON, f"Edición {name}"),
            link(f"{root}/index/editions/{name}?f=geojson", "alternate", GEOJSON, "Barrios (GeoJSON)"),
            link(f"{root}/index/editions/{name}?f=csv", "alternate", CSV, "Barrios (CSV)")]


async def edition_or_404(pool: AsyncConnectionPool, name: str) -> dict:
    rows = await fetch_rows(pool, f"SELECT {EDITION} FROM published.index_editions WHERE name = %s", (name,)) \
        if NAME.match(name) else []
    if not rows:
        raise Problem(404, "Unknown edition", f"no edition {name!r}; see /index/editions")
    return rows[0]


async def edition_barrios(pool: AsyncConnectionPool, name: str, geometry: bool) -> list[dict]:
    shape = ", ST_AsGeoJSON(geom, 7)::json AS geometry" if geometry else ""
    return await fetch_rows(pool, f"SELECT {BARRIO_VALUES}{shape} FROM published.index_edition_barrios "
                             "WHERE edition = %s ORDER BY rank NULLS LAST, barrio_id", (name,))


@router.get("/index/editions", summary="Official editions of the index, oldest first")
async def editions(request: Request, pool: AsyncConnectionPool = Depends(get_pool),
                   f: str | None = Query(None, description="json or csv")):
    fmt = output_format(request, ("json", "csv"))
    rows = await fetch_rows(pool, f"SELECT {EDITION}, (SELECT count(*) FROM published.index_edition_barrios b "
                             "WHERE b.edition = e.name)::integer AS barrios "
                             "FROM published.index_editions e ORDER BY published_at, id")
    root = base_url(request)
    for previous, row in zip([None, *rows], rows, strict=False):
        row["links"] = edition_links(root, row["name"])
        if previous is not None:
            row["links"].append(link(f"{root}/index/editions/{previous['name']}/diff/{row['name']}", "diff", JSON,
                                     f"Cambios desde {previous['name']}"))
    if fmt == "csv":
        rows = [{k: v for k, v in r.items() if k != "links"} for r in rows]
    return send(request, fmt, rows, {"editions": rows, "links": [
        link(f"{root}/index/editions", "self", JSON), link(f"{root}/index/editions?f=csv", "alternate", CSV),
        link(f"{root}/index", "up", JSON, "La última corrida del índice")]}, "index_editions")


@router.get("/index/editions/{name}", summary="One edition: its run, parameters, input counts and barrio values")
async def edition(request: Request, name: str, pool: AsyncConnectionPool = Depends(get_pool),
                  f: str | None = Query(None, description="json, geojson or csv (the barrios)")):
    fmt = output_format(request, TABLE_FORMATS)
    found = await edition_or_404(pool, name)
    barrios = await edition_barrios(pool, name, geometry=fmt == "geojson")
    districts = await fetch_rows(pool, "SELECT code, name, population, accessibility, quality, diversity, "
                                       "satisfaction, composite, rank FROM published.index_edition_districts "
                                       "WHERE edition = %s ORDER BY rank NULLS LAST, code", (name,))
    for row in barrios:
        row["id"] = row["barrio_id"]
    document = {**found, "links": edition_links(base_url(request), name), "barrios": barrios, "districts": districts}
    return send(request, fmt, barrios, document, f"edition_{name}")


@router.get("/index/barrios/{barrio_id}/history", summary="A barrio's index over the editions (a time series)")
async def history(request: Request, barrio_id: int = Path(..., ge=1, description="MSLINK"),
                  pool: AsyncConnectionPool = Depends(get_pool),
                  f: str | None = Query(None, description="json or csv")):
    fmt = output_format(request, ("json", "csv"))
    series = await fetch_rows(pool, f"""
        SELECT e.name AS edition, e.published_at, e.run_id, e.computed_at, e.method_version, {", ".join(
            f"v.{c}" for c in VALUES)}, v.name, v.district,
               (SELECT count(*) FROM published.index_edition_barrios n WHERE n.edition = e.name)::integer AS of
        FROM published.index_editions e
        JOIN published.index_edition_barrios v ON v.edition = e.name AND v.barrio_id = %s
        ORDER BY e.published_at, e.id""", (barrio_id,))
    latest = await fetch_rows(pool, f"SELECT run_id, {BARRIO_VALUES} FROM published.barrio_index WHERE barrio_id = %s",
                         (barrio_id,))
    if not series and not latest:
        raise Problem(404, "Unknown barrio", f"no barrio with MSLINK {barrio_id} in any edition nor in the latest run")
    named = latest[0] if latest else series[-1]
    points = [{k: v for k, v in row.items() if k not in ("name", "district")} for row in series]
    if fmt == "csv":
        return send(request, fmt, [{"barrio_id": barrio_id, **p} for p in points], {}, f"history_{barrio_id}")
    root = base_url(request)
    document = {"barrio_id": barrio_id, "name": named["name"], "district": named["district"], "editions": points,
                "latest": latest[0] if latest else None,
                "links": [link(f"{root}/index/barrios/{barrio_id}/history", "self", JSON),
                          link(f"{root}/index/barrios/{barrio_id}/history?f=csv", "alternate", CSV),
                          link(f"{root}/index/barrios/{barrio_id}", "up", JSON, named["name"])]}
    return send(request, fmt, [], document, f"history_{barrio_id}")


def changed_parameters(a: dict, b: dict) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


@router.get("/index/editions/{a}/diff/{b}", summary="What changed per barrio from edition a to edition b")
async def diff(request: Request, a: str, b: str, pool: AsyncConnectionPool = Depends(get_pool),
               f: str | None = Query(None, description="json, geojson or csv")):
    fmt = output_format(request, TABLE_FORMATS)
    first, second = await edition_or_404(pool, a), await edition_or_404(pool, b)
    before = {r["barrio_id"]: r for r in await edition_barrios(pool, a, geometry=False)}
    after = {r["barrio_id"]: r for r in await edition_barrios(pool, b, geometry=fmt == "geojson")}
    rows = []
    for barrio_id in sorted(set(before) | set(after)):
        old, new = before.get(barrio_id), after.get(barrio_id)
        named = new or old
        row = {"id": barrio_id, "barrio_id": barrio_id, "name": named["name"], "district": named["district"],
               "status": "both" if old and new else ("added" if new else "removed")}
        for column in COMPARED:
            x, y = (old or {}).get(column), (new or {}).get(column)
            row[f"{column}_from"], row[f"{column}_to"] = x, y
            row[f"{column}_change"] = y - x if x is not None and y is not None else None
        if new and "geometry" in new:
            row["geometry"] = new["geometry"]
        rows.append(row)
    rows.sort(key=lambda r: (r["composite_change"] is None, -(r["composite_change"] or 0), r["barrio_id"]))
    parameters = changed_parameters(first["parameters"], second["parameters"])
    method_changed = first["method_version"] != second["method_version"]
    root = base_url(request)
    document = {
        "from": {k: first[k] for k in ("name", "run_id", "published_at", "computed_at", "method_version")},
        "to": {k: second[k] for k in ("name", "run_id", "published_at", "computed_at", "method_version")},
        "comparable": not method_changed and not parameters, "method_changed": method_changed,
        "parameters_changed": parameters,
        "note": "change = to − from; a negative rank change is a better place",
        "barrios": rows,
        "links": [link(f"{root}/index/editions/{a}/diff/{b}", "self", JSON),
                  link(f"{root}/index/editions/{a}/diff/{b}?f=geojson", "alternate", GEOJSON),
                  link(f"{root}/index/editions/{a}/diff/{b}?f=csv", "alternate", CSV)],
    }
    return send(request, fmt, rows, document, f"diff_{a}_{b}")
