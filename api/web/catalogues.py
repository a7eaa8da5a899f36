"""GET /map/config.json: the labels, layers and sources the map page needs, read from the database and catalogue.
The page names no layer: it finds each by its role (layers.layer.LayerRole), with the ids of its style layers in
/styles/monitor.json, and takes the index's colour ramps, class limits and legend labels from layers/ramps.py, the
very ramps the published style paints with."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.database import get_pool
from api.web.card import LABELS
from layers.catalogue import CATALOGUE, MAP_LAYERS
from layers.layer import Layer
from layers.ramps import HEXAGONS, INDEX_RAMPS
from layers.style import layer_styles

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
# The index units of the choropleth: the layer's role, how the legend names the unit, and where the page reads
# the values behind the colours (URL, list key, the row's id).
INDEX_UNITS = {
    "barrio": {"role": "index_barrio", "label": "barrio",
               "values": {"url": "/index/barrios", "key": "barrios", "id": "barrio_id"}},
    "district": {"role": "index_district", "label": "distrito",
                 "values": {"url": "/index/districts", "key": "districts", "id": "code"}},
}


def layer_by_role(role: str) -> Layer | None:
    return next((layer for layer in CATALOGUE.values() if layer.role == role), None)


def style_layer_ids(layer: Layer) -> list[str]:
    return [entry["id"] for entry in layer_styles(layer)] if layer in MAP_LAYERS else []


def index_layers() -> dict:
    """The index layers the catalogue publishes (the index may not be computed yet) and, per field with a ramp,
    the style layer that paints it: the page switches the published style's own fills on and off."""
    found = {}
    for unit, info in INDEX_UNITS.items():
        layer = layer_by_role(info["role"])
        if layer is None:
            continue
        fills = {entry.get("metadata", {}).get("monitor:field"): entry["id"] for entry in layer_styles(layer)}
        pillars = [{"field": ramp.field, "label": ramp.title, "max": ramp.domain[1], "style_layer": fills[ramp.field]}
                   for ramp in INDEX_RAMPS.values()
                   if ramp.field in fills and (p := layer.get_property(ramp.field)) is not None and p.in_tiles]
        found[unit] = {"layer": layer.id, "role": info["role"], "label": info["label"], "values": info["values"],
                       "pillars": pillars}
    return found


def layer_entries() -> list[dict]:
    """Every catalogue layer as the page finds it: by role, with its style layer ids in /styles/monitor.json."""
    return [{"id": layer.id, "role": layer.role, "title": layer.title, "attribution": layer.attribution,
             "geometry_type": layer.geometry_type, "cluster_below_zoom": layer.cluster_below_zoom,
             "style_layers": style_layer_ids(layer)} for layer in CATALOGUE.values()]


def hexagons() -> dict | None:
    layer = layer_by_role("hexagon_grid")
    return None if layer is None else {"layer": layer.id, "ramp": HEXAGONS.as_json()}


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
    answer["layers"] = layer_entries()
    answer["roles"] = {layer.role: layer.id for layer in CATALOGUE.values() if layer.role}
    answer["ramps"] = {field: ramp.as_json() for field, ramp in INDEX_RAMPS.items()}
    answer["index_layers"] = index_layers()
    answer["hexagons"] = hexagons()
    answer["apis"] = available_apis(request)
    points = layer_by_role("registry_points")
    answer["cluster_below_zoom"] = points.cluster_below_zoom if points else None
    return answer
