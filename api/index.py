"""The Citizen Participation Index over HTTP: the latest run, barrios, districts, runs, gaps, methodology.

Barrios, districts and gaps are selections over the catalogue's index layers (`barrio_index`,
`district_index`, layers/definitions/), built by the same SQL builder as the feature API's items
(layers/features_sql.py), so the columns are the layers' properties and a new property appears everywhere at
once. JSON by default; GeoJSON and CSV with `?f=geojson|csv` or the Accept header.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from psycopg_pool import AsyncConnectionPool

from api.database import fetch_rows, get_pool
from api.errors import Problem
from api.formats import rows_csv
from api.http import CSV, GEOJSON, JSON, MARKDOWN, base_url, output_format, respond
from gis.index.methodology import render
from gis.index.parameters import load_parameters, parameters_from_record
from layers.catalogue import CATALOGUE
from layers.features_sql import ItemsQuery, records_sql
from layers.layer import Layer

router = APIRouter(tags=["index"])

CACHE_SECONDS = 30
TABLE_FORMATS = ("json", "geojson", "csv")
BARRIOS, DISTRICTS = CATALOGUE["barrio_index"], CATALOGUE["district_index"]

RUN_COLUMNS = ("id, computed_at, method_version, parameters, population_method, input_counts, trigger, path, "
               "changed_instance_id, duration_ms, summary")
OFFER_COLUMNS = ("instance_id, name, kind, kind_label, promoter, modality, scope, themes, venue_barrio, is_demo, "
                 "distance_m, by_scope, by_proximity, standards_met, standards_total")
# Gaps: most residents without a nearby in-person instance first, then the lowest index.
GAPS_ORDER = [("uncovered_population", True), ("composite", False)]


# ---------------------------------------------------------------- selections and answers
async def select(pool: AsyncConnectionPool, layer: Layer, query: ItemsQuery, geometry: bool) -> list[dict]:
    statement, params = records_sql(layer, query, geometry)
    async with pool.connection() as conn:
        return (await (await conn.execute(statement, params)).fetchone())[0]


def send(request: Request, fmt: str, rows: list[dict], document: dict, filename: str) -> Response:
    """JSON: `document`; GeoJSON: the rows as features; CSV: the rows without their geometry."""
    if fmt == "csv":
        plain = [{k: v for k, v in r.items() if k != "geometry"} for r in rows]
        return respond(request, rows_csv(plain), CSV, CACHE_SECONDS,
                       headers={"Content-Disposition": f'inline; filename="{filename}.csv"'})
    if fmt == "geojson":
        features = [{"type": "Feature", "id": r["id"], "geometry": r.get("geometry"),
                     "properties": {k: v for k, v in r.items() if k != "geometry"}} for r in rows]
        return respond(request, {"type": "FeatureCollection", "features": features}, GEOJSON, CACHE_SECONDS)
    return respond(request, document, JSON, CACHE_SECONDS)


async def latest_run(pool: AsyncConnectionPool) -> dict:
    rows = await fetch_rows(pool, f"SELECT {RUN_COLUMNS} FROM published.index_runs ORDER BY id DESC LIMIT 1")
    if not rows:
        raise Problem(404, "No index run yet", "the index is computed a few seconds after start-up, or with "
                      "`monitor compute`", headers={"Retry-After": "5"})
    return rows[0]


def run_document(run: dict) -> dict:
    return {"run_id": run["id"], "computed_at": run["computed_at"], "method_version": run["method_version"],
            "parameters": run["parameters"], "population_method": run["population_method"],
            "input_counts": run["input_counts"], "trigger": run["trigger"], "path": run["path"],
            "duration_ms": run["duration_ms"], "summary": run["summary"]}


# ---------------------------------------------------------------- endpoints
@router.get("/index", summary="The latest index run: parameters, population method, input counts, city summary")
async def index(request: Request, pool: AsyncConnectionPool = Depends(get_pool),
                f: str | None = Query(None, description="json")):
    output_format(request, ("json",))
    run = await latest_run(pool)
    root = base_url(request)
    links = [{"href": f"{root}{path}", "rel": rel, "type": kind} for path, rel, kind in (
        ("/index/barrios", "barrios", JSON), ("/index/districts", "districts", JSON), ("/gaps", "gaps", JSON),
        ("/index/runs", "runs", JSON), ("/index/methodology", "describedby", MARKDOWN),
        ("/collections/barrio_index", "collection", JSON), ("/collections/hexagons", "collection", JSON),
        ("/collections/district_index", "collection", JSON))]
    return respond(request, {**run_document(run), "links": links}, JSON, CACHE_SECONDS)


@router.get("/index/barrios", summary="Every barrio's pillars, composite, rank interval and uncovered population")
async def barrios(request: Request, pool: AsyncConnectionPool = Depends(get_pool),
                  f: str | None = Query(None, description="json, geojson or csv"),
                  district: str | None = Query(None, pattern="^[A-Z]+$", description="only this district")):
    fmt = output_format(request, TABLE_FORMATS)
    run = await latest_run(pool)
    query = ItemsQuery(limit=10_000, sortby=[("rank", False)], equals={"district": district} if district else {})
    rows = await select(pool, BARRIOS, query, geometry=fmt == "geojson")
    return send(request, fmt, rows, {**run_document(run), "barrios": rows}, "barrio_index")


@router.get("/index/barrios/{barrio_id}", summary="A barrio's profile: pillars, rank interval, offer, gaps")
async def barrio_profile(request: Request, barrio_id: int = Path(..., ge=1, description="MSLINK"),
                         pool: AsyncConnectionPool = Depends(get_pool),
                         f: str | None = Query(None, description="json, geojson, or csv (the offer)")):
    fmt = output_format(request, TABLE_FORMATS)
    run = await latest_run(pool)
    rows = await select(pool, BARRIOS, ItemsQuery(limit=1, equals={"barrio_id": str(barrio_id)}), geometry=True)
    if not rows:
        raise Problem(404, "Unknown barrio", f"no barrio with MSLINK {barrio_id} in the latest index run")
    offer = await fetch_rows(pool, f"SELECT {OFFER_COLUMNS} FROM published.index_offer WHERE barrio_id = %s "
                              "ORDER BY distance_m NULLS LAST, instance_id", (barrio_id,))
    if fmt == "csv":
        return send(request, fmt, offer, {}, f"offer_{barrio_id}")
    district = await select(pool, DISTRICTS, ItemsQuery(limit=1, equals={"code": rows[0]["district"]}), False)
    count = await fetch_rows(pool, "SELECT count(*) AS n FROM published.barrio_index")
    profile = barrio_document(rows[0], offer, district[0] if district else None, count[0]["n"], run)
    geometry = profile.pop("geometry")
    if fmt == "geojson":
        return respond(request, {"type": "Feature", "id": barrio_id, "geometry": geometry, "properties": profile},
                       GEOJSON, CACHE_SECONDS)
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
        "geometry": row.get("geometry"),
    }


@router.get("/index/districts", summary="Every district's pillars, composite and rank interval")
async def districts(request: Request, pool: AsyncConnectionPool = Depends(get_pool),
                    f: str | None = Query(None, description="json, geojson or csv")):
    fmt = output_format(request, TABLE_FORMATS)
    run = await latest_run(pool)
    rows = await select(pool, DISTRICTS, ItemsQuery(limit=100, sortby=[("rank", False)]), fmt == "geojson")
    return send(request, fmt, rows, {**run_document(run), "districts": rows}, "district_index")


@router.get("/index/runs", summary="Index runs, newest first, with their parameters and input counts")
async def index_runs(request: Request, pool: AsyncConnectionPool = Depends(get_pool),
                     f: str | None = Query(None, description="json or csv"),
                     limit: int = Query(50, ge=1, le=1000)):
    fmt = output_format(request, ("json", "csv"))
    rows = await fetch_rows(pool, f"SELECT {RUN_COLUMNS} FROM published.index_runs ORDER BY id DESC LIMIT %s", (limit,))
    return send(request, fmt, rows, {"runs": rows}, "index_runs")


@router.get("/gaps", summary="Barrios by population without a nearby in-person instance, then by lowest index")
async def gaps(request: Request, pool: AsyncConnectionPool = Depends(get_pool),
               f: str | None = Query(None, description="json, geojson or csv"),
               limit: int = Query(50, ge=1, le=1000)):
    fmt = output_format(request, TABLE_FORMATS)
    run = await latest_run(pool)
    columns = ["barrio_id", "name", "district", "population", "uncovered_population", "coverage",
               "mean_nearest_m", "composite", "rank", "rank_p05", "rank_p95", "in_person_count"]
    rows = await select(pool, BARRIOS, ItemsQuery(limit=limit, sortby=GAPS_ORDER, properties=columns),
                        geometry=fmt == "geojson")
    for position, row in enumerate(rows, start=1):
        population = row["population"]
        row["gap_rank"] = position
        row["uncovered_share"] = row["uncovered_population"] / population if population else None
    return send(request, fmt, rows, {**run_document(run), "order": "uncovered_population desc, composite asc",
                                     "gaps": rows}, "gaps")


@router.get("/index/methodology", summary="How the index is calculated, with the parameters of the latest run")
async def methodology(request: Request, pool: AsyncConnectionPool = Depends(get_pool),
                      f: str | None = Query(None, description="markdown (default) or json")):
    if f not in (None, "markdown", "json"):
        raise Problem(400, "Invalid f", "f is markdown or json")
    runs = await fetch_rows(pool, f"SELECT {RUN_COLUMNS} FROM published.index_runs ORDER BY id DESC LIMIT 1")
    run = runs[0] if runs else None
    params = parameters_from_record(run["parameters"]) if run else load_parameters()
    text = render(params, run)
    if f == "json" or (f is None and "application/json" in request.headers.get("accept", "")):
        return respond(request, {"run_id": run["id"] if run else None, "parameters": params.as_record(),
                                 "markdown": text}, JSON, CACHE_SECONDS)
    return respond(request, text.encode(), MARKDOWN, CACHE_SECONDS)
