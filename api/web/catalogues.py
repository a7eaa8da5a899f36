"""GET /map/config.json: the labels, layers and sources the map page needs, read from the database and catalogue."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.database import get_pool
from api.web.card import LABELS
from layers.catalogue import CATALOGUE

router = APIRouter(tags=["map"])

CATALOGUE_QUERIES = {
    "kinds": "SELECT code, label_es AS label FROM published.instance_kinds ORDER BY label_es",
    "themes": "SELECT code, label_es AS label FROM published.themes ORDER BY label_es",
    "criteria": "SELECT code, ordinal, label_es AS label FROM published.standard_criteria ORDER BY ordinal",
    "barrios": "SELECT id, name, district, district_name, population, "
               "ARRAY[ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)] AS bbox "
               "FROM published.barrios ORDER BY name",
    "districts": "SELECT code, name FROM published.districts ORDER BY name",
    "datasets": "SELECT name, features, note, loaded_at FROM published.datasets ORDER BY name",
}
COUNTS = """SELECT count(*) AS instances, count(*) FILTER (WHERE is_demo) AS demo_instances
            FROM published.instances"""
# What the choropleth offers, in this order, with the goalposts of the method (§7): pillars on 0–1, composite 0–100.
PILLARS = (("composite", "Índice compuesto", 100), ("accessibility", "Accesibilidad (cobertura)", 1),
           ("quality", "Calidad", 1), ("diversity", "Diversidad", 1), ("satisfaction", "Satisfacción", 1))
INDEX_LAYERS = {"barrio": "barrio_index", "district": "district_index"}


def index_layers() -> dict:
    """The index layers the catalogue publishes (the index may not be computed yet) and their pillar fields."""
    found = {}
    for unit, layer_id in INDEX_LAYERS.items():
        layer = CATALOGUE.get(layer_id)
        if layer is not None:
            found[unit] = {"layer": layer.id, "pillars": [
                {"field": name, "label": label, "max": top} for name, label, top in PILLARS
                if (p := layer.get_property(name)) is not None and p.in_tiles]}
    return found


# What the page may link to or read, by the path the application documents: a part not (yet) served is left out,
# so the page hides it instead of requesting a missing URL.
APIS = {
    "style": "/styles/monitor.json",
    "tilejson": "/tiles.json",
    "features": "/collections",
    "gaps": "/gaps",
    "index_barrio": "/index/barrios/{",
    "archives": "/archives",  # the PMTiles archives offered, for the static-hosting switch
}


def available_apis(request: Request) -> dict:
    # The OpenAPI document lists every documented path, however deeply its router was included.
    paths = list(request.app.openapi().get("paths", {}))
    found = {key: prefix if any(p.startswith(prefix) for p in paths) else None for key, prefix in APIS.items()}
    found["index_barrio"] = bool(found["index_barrio"])
    return found


@router.get("/map/config.json", summary="Catalogues, labels and layers for the web map")
async def map_config(request: Request, pool: AsyncConnectionPool = Depends(get_pool)):
    answer: dict = {}
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        for key, query in CATALOGUE_QUERIES.items():
            await cur.execute(query)
            answer[key] = await cur.fetchall()
        await cur.execute(COUNTS)
        answer["counts"] = await cur.fetchone()
    answer["labels"] = LABELS
    answer["index_layers"] = index_layers()
    answer["hexagons"] = "hexagons" in CATALOGUE
    answer["apis"] = available_apis(request)
    answer["cluster_below_zoom"] = CATALOGUE["instances"].cluster_below_zoom
    answer["layers"] = [{"id": layer.id, "title": layer.title, "attribution": layer.attribution}
                        for layer in CATALOGUE.values()]
    return answer
