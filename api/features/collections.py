"""/collections and /collections/{collectionId}: one document per catalogue layer, nothing named by hand."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request
from psycopg_pool import AsyncConnectionPool

from api import downloads
from api.database import get_pool
from api.http import GEOJSON, HTML, JSON, base_url, layer_or_404, link, send
from api.routing import get_and_head
from api.tiles.ogc import collection_tile_links
from layers.catalogue import LAYERS, MAP_LAYERS
from layers.features_sql import CRS84, SUPPORTED_CRS, extent_sql
from layers.layer import Layer

router = APIRouter(tags=["OGC API - Features"])

GREGORIAN = "http://www.opengis.net/def/uri/ISO-8601/0/Gregorian"
# (database, layer id) → (expires at, extent): extents change slowly.
_extents: dict[tuple[str, str], tuple[float, dict]] = {}


def forget_cached() -> None:
    """After a write: extents are computed afresh (a write to one layer can change another's: activities follow
    their instance's moderation). Items pages need nothing: they are checked against data versions (pages.py)."""
    _extents.clear()


async def extent(pool: AsyncConnectionPool, layer: Layer) -> dict:
    cached = _extents.get((pool.conninfo, layer.id))
    if cached and cached[0] > time.monotonic():
        return cached[1]
    async with pool.connection() as conn:
        xmin, ymin, xmax, ymax, t0, t1 = await (await conn.execute(extent_sql(layer))).fetchone()
    result = {"spatial": {"bbox": [[xmin, ymin, xmax, ymax]] if xmin is not None else [[-180, -90, 180, 90]],
                          "crs": CRS84}}
    if layer.datetime_columns:
        result["temporal"] = {"interval": [[t0.isoformat() if t0 else None, t1.isoformat() if t1 else None]],
                              "trs": GREGORIAN}
    _extents[(pool.conninfo, layer.id)] = (time.monotonic() + min(layer.cache_seconds, 300), result)
    return result


async def collection_document(request: Request, pool: AsyncConnectionPool, layer: Layer) -> dict:
    root = f"{base_url(request)}/collections/{layer.id}"
    return {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "itemType": "feature",
        "crs": list(SUPPORTED_CRS),
        "storageCrs": CRS84,
        "extent": await extent(pool, layer),
        "links": [
            link(root, "self", JSON, layer.title),
            link(f"{root}?f=html", "alternate", HTML),
            link(f"{root}/items", "items", GEOJSON, "Features"),
            link(f"{root}/items?f=html", "items", HTML, "Features as HTML"),
            link(f"{root}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                 "application/schema+json", "Queryables"),
            *(collection_tile_links(base_url(request), layer.id) if layer in MAP_LAYERS else []),
            *downloads.collection_links(base_url(request), layer),  # whole downloads, licence
        ],
        **({"attribution": layer.attribution} if layer.attribution else {}),
    }


@get_and_head(router, "/collections", summary="The published layers")
async def collections(request: Request, pool: AsyncConnectionPool = Depends(get_pool)):
    root = base_url(request)
    document = {
        "links": [link(f"{root}/collections", "self", JSON), link(f"{root}/collections?f=html", "alternate", HTML)],
        "crs": list(SUPPORTED_CRS),
        "collections": [await collection_document(request, pool, layer) for layer in LAYERS],
    }
    return send(request, document, "Collections", cache_seconds=300)


@get_and_head(router, "/collections/{collectionId}", summary="One published layer")
async def collection(collectionId: str, request: Request, pool: AsyncConnectionPool = Depends(get_pool)):  # noqa: N803
    layer = layer_or_404(collectionId)
    return send(request, await collection_document(request, pool, layer), layer.title, cache_seconds=300)
