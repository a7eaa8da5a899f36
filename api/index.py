"""The Citizen Participation Index over HTTP: the latest run, barrios, districts, runs, gaps, methodology.

Reads only the `published` views of gis/migrations/sql/0003_index.sql. JSON by default; GeoJSON and CSV with
`?f=geojson|csv` or the Accept header. The recompute listener (gis/index/recompute.py) starts with the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import logging

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.database import get_pool
from api.errors import Problem
from api.features.http import GEOJSON, JSON, base_url, respond
from gis.index.methodology import render
from gis.index.parameters import load_parameters, parameters_from_record
from gis.index.recompute import Recomputer

router = APIRouter(tags=["index"])
log = logging.getLogger("monitor.index")

CSV = "text/csv; charset=utf-8"
MARKDOWN = "text/markdown; charset=utf-8"
FORMATS = {"json": JSON, "geojson": GEOJSON, "csv": CSV}
CACHE_SECONDS = 30

RUN_COLUMNS = ("id, computed_at, method_version, parameters, population_method, input_counts, trigger, path, "
               "changed_instance_id, duration_ms, summary")
BARRIO_COLUMNS = (
    "id, barrio_id, name, district, run_id, population, coverage, accessibility, quality, diversity, satisfaction, "
    "composite, rank, rank_median, rank_p05, rank_p95, uncovered_population, mean_nearest_m, e2sfca, imputed, "
    "satisfaction_imputed, satisfaction_source, satisfaction_responses, satisfaction_score, offer_count, "
    "in_person_count, follow_through, effective_themes, effective_kinds, state_share, cso_share, mixed_share")
DISTRICT_COLUMNS = (
    "id, code, name, run_id, barrios, population, coverage, accessibility, quality, diversity, satisfaction, "
    "composite, rank, rank_median, rank_p05, rank_p95, uncovered_population, mean_nearest_m, e2sfca, imputed, "
    "satisfaction_imputed_barrios")
OFFER_COLUMNS = ("instance_id, name, kind, kind_label, promoter, modality, scope, themes, venue_barrio, is_demo, "
                 "distance_m, by_scope, by_proximity, standards_met, standards_total")
GAPS_ORDER = "uncovered_population DESC, composite ASC NULLS FIRST, barrio_id"


# ---------------------------------------------------------------- formats
def output_format(request: Request, f: str | None, allowed: tuple[str, ...] = ("json", "geojson", "csv")) -> str:
    if f is not None:
        if f not in allowed:
            raise Problem(400, "Invalid f", f"f is one of: {', '.join(allowed)}")
        return f
    accept = request.headers.get("accept", "")
    for name in allowed:
        if name != "json" and FORMATS[name].split(";")[0] in accept:
            return name
    return "json"


def csv_body(rows: list[dict]) -> bytes:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ";".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()})
    return out.getvalue().encode()


def feature_collection(rows: list[dict], **extra) -> dict:
    return {"type": "FeatureCollection", **extra, "features": [feature(r) for r in rows]}


def feature(row: dict) -> dict:
    row = dict(row)
    geometry = json.loads(row.pop("geometry")) if row.get("geometry") else None
    return {"type": "Feature", "id": row.get("id"), "geometry": geometry, "properties": row}


def send(request: Request, fmt: str, rows: list[dict], document: dict | None = None,
         filename: str = "index") -> Response:
    """JSON: `document` (or the rows); GeoJSON: the rows as features; CSV: the rows."""
    if fmt == "csv":
        plain = [{k: v for k, v in r.items() if k != "geometry"} for r in rows]
        return respond(request, csv_body(plain), CSV, CACHE_SECONDS,
                       headers={"Content-Disposition": f'inline; filename="{filename}.csv"'})
    if fmt == "geojson":
        return respond(request, feature_collection(rows), GEOJSON, CACHE_SECONDS)
    return respond(request, document if document is not None else rows, JSON, CACHE_SECONDS)


# ---------------------------------------------------------------- queries
async def fetch(pool: AsyncConnectionPool, query: str, params: tuple = ()) -> list[dict]:
    async with pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(query, params)
        return await cur.fetchall()


async def latest_run(pool: AsyncConnectionPool) -> dict:
    rows = await fetch(pool, f"SELECT {RUN_COLUMNS} FROM published.index_runs ORDER BY id DESC LIMIT 1")
    if not rows:
        raise Problem(404, "No index run yet", "the index is computed a few seconds after start-up, or with "
                      "`monitor compute`", headers={"Retry-After": "5"})
    return rows[0]


def geometry_column(fmt: str) -> str:
    return ", ST_AsGeoJSON(geom, 6) AS geometry" if fmt == "geojson" else ""


def run_document(run: dict) -> dict:
    return {"run_id": run["id"], "computed_at": run["computed_at"], "method_version": run["method_version"],
            "parameters": run["parameters"], "population_method": run["population_method"],
            "input_counts": run["input_counts"], "trigger": run["trigger"], "path": run["path"],
            "duration_ms": run["duration_ms"], "summary": run["summary"]}


# ---------------------------------------------------------------- endpoints
@router.get("/index", summary="The latest index run: parameters, population method, input counts, city summary")
async def index(request: Request, pool: AsyncConnectionPool = Depends(get_pool),
                f: str | None = Query(None, description="json")):
    output_format(request, f, ("json",))
    run = await latest_run(pool)
    root = base_url(request)
    links = [{"href": f"{root}{path}", "rel": rel, "type": kind} for path, rel, kind in (
        ("/index/barrios", "barrios", JSON), ("/index/districts", "districts", JSON), ("/gaps", "gaps", JSON),
        ("/index/runs", "runs", JSON), ("/index/methodology", "describedby", MARKDOWN),
        ("/collections/barrio_index", "collection", JSON), ("/collections/hexagons", "collection", JSON),
        ("/collections/district_index", "collection", JSON))]
    return send(request, "json", [], {**run_document(run), "links": links})


@router.get("/index/barrios", summary="Every barrio's pillars, composite, rank interval and uncovered population")
async def barrios(request: Request, pool: AsyncConnectionPool = Depends(get_pool),
                  f: str | None = Query(None, description="json, geojson or csv"),
                  district: str | None = Query(None, pattern="^[A-Z]+$", description="only this district")):
    fmt = output_format(request, f)
    run = await latest_run(pool)
    rows = await fetch(pool, f"SELECT {BARRIO_COLUMNS}{geometry_column(fmt)} FROM published.barrio_index "
                             "WHERE %s::text IS NULL OR district = %s ORDER BY rank, barrio_id", (district, district))
    return send(request, fmt, rows, {**run_document(run), "barrios": rows}, "barrio_index")


@router.get("/index/barrios/{barrio_id}", summary="A barrio's profile: pillars, rank interval, offer, gaps")
async def barrio_profile(request: Request, barrio_id: int = Path(..., ge=1, description="MSLINK"),
                         pool: AsyncConnectionPool = Depends(get_pool),
                         f: str | None = Query(None, description="json, geojson, or csv (the offer)")):
    fmt = output_format(request, f)
    run = await latest_run(pool)
    rows = await fetch(pool, f"SELECT {BARRIO_COLUMNS}, ST_AsGeoJSON(geom, 6) AS geometry "
                             "FROM published.barrio_index WHERE barrio_id = %s", (barrio_id,))
    if not rows:
        raise Problem(404, "Unknown barrio", f"no barrio with MSLINK {barrio_id} in the latest index run")
    offer = await fetch(pool, f"SELECT {OFFER_COLUMNS} FROM published.index_offer WHERE barrio_id = %s "
                              "ORDER BY distance_m NULLS LAST, instance_id", (barrio_id,))
    if fmt == "csv":
        return send(request, fmt, offer, filename=f"offer_{barrio_id}")
    district = await fetch(pool, f"SELECT {DISTRICT_COLUMNS} FROM published.district_index WHERE code = %s",
                           (rows[0]["district"],))
    count = await fetch(pool, "SELECT count(*) AS n FROM published.barrio_index")
    profile = barrio_document(rows[0], offer, district[0] if district else None, count[0]["n"], run)
    if fmt == "geojson":
        return respond(request, {"type": "Feature", "id": barrio_id, "geometry": profile.pop("geometry"),
                                 "properties": profile}, GEOJSON, CACHE_SECONDS)
    profile.pop("geometry")
    return respond(request, profile, JSON, CACHE_SECONDS)


def barrio_document(row: dict, offer: list[dict], district: dict | None, ranked: int, run: dict) -> dict:
    return {
        "barrio_id": row["barrio_id"], "name": row["name"], "district": row["district"],
        "run_id": run["id"], "computed_at": run["computed_at"], "method_version": run["method_version"],
        "population": row["population"], "uncovered_population": row["uncovered_population"],
        "coverage": row["coverage"], "mean_nearest_m": row["mean_nearest_m"], "e2sfca": row["e2sfca"],
        "pillars": {p: row[p] for p in ("accessibility", "quality", "diversity", "satisfaction")},
        "composite": row["composite"], "rank": row["rank"], "of": ranked,
        "rank_interval": {"median": row["rank_median"], "p05": row["rank_p05"], "p95": row["rank_p95"]},
        "satisfaction": {"value": row["satisfaction"], "score": row["satisfaction_score"],
                         "source": row["satisfaction_source"], "responses": row["satisfaction_responses"],
                         "imputed": row["satisfaction_imputed"]},
        "imputed": row["imputed"],
        "offer_summary": {k: row[k] for k in ("offer_count", "in_person_count", "effective_themes",
                                              "effective_kinds", "state_share", "cso_share", "mixed_share",
                                              "follow_through")},
        "offer": offer,
        "district_values": district,
        "geometry": json.loads(row["geometry"]) if row.get("geometry") else None,
    }


@router.get("/index/districts", summary="Every district's pillars, composite and rank interval")
async def districts(request: Request, pool: AsyncConnectionPool = Depends(get_pool),
                    f: str | None = Query(None, description="json, geojson or csv")):
    fmt = output_format(request, f)
    run = await latest_run(pool)
    rows = await fetch(pool, f"SELECT {DISTRICT_COLUMNS}{geometry_column(fmt)} FROM published.district_index "
                             "ORDER BY rank, code")
    return send(request, fmt, rows, {**run_document(run), "districts": rows}, "district_index")


@router.get("/index/runs", summary="Index runs, newest first, with their parameters and input counts")
async def index_runs(request: Request, pool: AsyncConnectionPool = Depends(get_pool),
                     f: str | None = Query(None, description="json or csv"),
                     limit: int = Query(50, ge=1, le=1000)):
    fmt = output_format(request, f, ("json", "csv"))
    rows = await fetch(pool, f"SELECT {RUN_COLUMNS} FROM published.index_runs ORDER BY id DESC LIMIT %s", (limit,))
    if fmt == "csv":
        rows = [{**r, **{k: json.dumps(r[k]) for k in ("parameters", "input_counts", "summary")}} for r in rows]
    return send(request, fmt, rows, {"runs": rows}, "index_runs")


@router.get("/gaps", summary="Barrios by population without a nearby in-person instance, then by lowest index")
async def gaps(request: Request, pool: AsyncConnectionPool = Depends(get_pool),
               f: str | None = Query(None, description="json, geojson or csv"),
               limit: int = Query(50, ge=1, le=1000)):
    fmt = output_format(request, f)
    run = await latest_run(pool)
    rows = await fetch(pool, f"""
        SELECT row_number() OVER (ORDER BY {GAPS_ORDER})::integer AS gap_rank, barrio_id AS id, barrio_id, name,
               district, population, uncovered_population,
               CASE WHEN population > 0 THEN uncovered_population / population END AS uncovered_share,
               coverage, mean_nearest_m, composite, rank, rank_p05, rank_p95, in_person_count
               {geometry_column(fmt)}
        FROM published.barrio_index ORDER BY {GAPS_ORDER} LIMIT %s""", (limit,))
    return send(request, fmt, rows, {**run_document(run), "order": "uncovered_population desc, composite asc",
                                     "gaps": rows}, "gaps")


@router.get("/index/methodology", summary="How the index is calculated, with the parameters of the latest run")
async def methodology(request: Request, pool: AsyncConnectionPool = Depends(get_pool),
                      f: str | None = Query(None, description="markdown (default) or json")):
    if f not in (None, "markdown", "json"):
        raise Problem(400, "Invalid f", "f is markdown or json")
    runs = await fetch(pool, f"SELECT {RUN_COLUMNS} FROM published.index_runs ORDER BY id DESC LIMIT 1")
    run = runs[0] if runs else None
    params = parameters_from_record(run["parameters"]) if run else load_parameters()
    text = render(params, run)
    if f == "json" or (f is None and "application/json" in request.headers.get("accept", "")):
        return respond(request, {"run_id": run["id"] if run else None, "parameters": params.as_record(),
                                 "markdown": text}, JSON, CACHE_SECONDS)
    return respond(request, text.encode(), MARKDOWN, CACHE_SECONDS)


# ---------------------------------------------------------------- background recompute
@contextlib.asynccontextmanager
async def recompute_hook(app):
    """Computes a first run before serving when none exists (so the index layers are never served half-made),
    then listens for writes and recomputes in the background until shutdown."""
    recomputer = Recomputer(app.state.pool.conninfo)
    app.state.index_recomputer = recomputer
    try:
        await recomputer.start_up()
    except Exception as exc:  # e.g. the database is not migrated yet: serve anyway, the listener retries
        log.warning("index start-up run skipped: %s", exc)
    task = asyncio.create_task(recomputer.listen(), name="index-recompute")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
