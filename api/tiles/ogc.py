"""OGC API - Tiles for each collection: the same tiles as `/tiles/{layer}/…`, addressed z/row/col in WebMercatorQuad,
with tileset lists, tileset metadata and the tile matrix set definition (from morecantile)."""

from __future__ import annotations

import warnings

import morecantile
from fastapi import APIRouter, Depends, Request, Response

from api.errors import Problem
from api.http import MVT, TILE_CORS, base_url, layer_or_404, link
from api.routing import get_and_head
from api.tiles.responses import json_response
from api.tiles.routes import serve_tile, vector_layer
from api.tiles.service import TileService, get_tiles

router = APIRouter(tags=["OGC API - Tiles"])

TMS_ID = "WebMercatorQuad"
TMS = morecantile.tms.get(TMS_ID)
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
CRS_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
TILES_SPEC = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{}"
# For /conformance (owned by the feature API): what these endpoints implement.
TILES_CONFORMANCE: tuple[str, ...] = tuple(
    TILES_SPEC.format(name) for name in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt", "oas30"))


def collection_tile_links(base: str, collection_id: str) -> list[dict]:
    """Links a collection document adds so clients find its tiles."""
    return [
        link(f"{base}/collections/{collection_id}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
              "application/json", "Vector tilesets"),
        link(f"{base}/tiles/{collection_id}.json", "alternate", "application/json", "TileJSON 3.0"),
    ]


def _check_tms(tms_id: str) -> None:
    if tms_id != TMS_ID:
        raise Problem(404, "Tile matrix set not found", f"only {TMS_ID} is offered; got {tms_id!r}")


def _limits(bounds: list[float], minzoom: int, maxzoom: int) -> list[dict]:
    limits = []
    for z in range(minzoom, maxzoom + 1):
        with warnings.catch_warnings():  # world bounds touch the matrix edge: morecantile warns, then clamps
            warnings.simplefilter("ignore")
            top_left, bottom_right = TMS.tile(bounds[0], bounds[3], z), TMS.tile(bounds[2], bounds[1], z)
        limits.append({"tileMatrix": str(z), "minTileRow": top_left.y, "maxTileRow": bottom_right.y,
                       "minTileCol": top_left.x, "maxTileCol": bottom_right.x})
    return limits


@get_and_head(router, "/tileMatrixSets", summary="Tile matrix sets offered")
async def tile_matrix_sets(request: Request) -> Response:
    base = base_url(request)
    doc = {"tileMatrixSets": [{"id": TMS_ID, "title": TMS.title, "uri": TMS_URI, "links": [
        link(f"{base}/tileMatrixSets/{TMS_ID}", "self", "application/json", TMS.title)]}]}
    return json_response(doc, request, 86400)


@get_and_head(router, "/tileMatrixSets/{tms_id}", summary="A tile matrix set definition")
async def tile_matrix_set(request: Request, tms_id: str) -> Response:
    _check_tms(tms_id)
    return json_response(TMS.model_dump_json(exclude_none=True, by_alias=True).encode(), request, 86400)


@get_and_head(router, "/collections/{collection_id}/tiles", summary="Vector tilesets of a collection")
async def collection_tilesets(request: Request, collection_id: str) -> Response:
    layer = layer_or_404(collection_id, on_map=True)
    base = base_url(request)
    tileset = f"{base}/collections/{layer.id}/tiles/{TMS_ID}"
    doc = {"tilesets": [{
        "title": f"{layer.title} ({TMS_ID})", "dataType": "vector", "crs": CRS_3857, "tileMatrixSetURI": TMS_URI,
        "links": [link(tileset, "self", "application/json", "Tileset metadata"),
                  link(f"{base}/tileMatrixSets/{TMS_ID}", TILING_SCHEME, "application/json", TMS_ID)],
    }], "links": [link(f"{base}/collections/{layer.id}/tiles", "self", "application/json")]}
    return json_response(doc, request, layer.cache_seconds)


@get_and_head(router, "/collections/{collection_id}/tiles/{tms_id}", summary="Tileset metadata")
async def collection_tileset(request: Request, collection_id: str, tms_id: str,
                             tiles: TileService = Depends(get_tiles)) -> Response:
    layer = layer_or_404(collection_id, on_map=True)
    _check_tms(tms_id)
    base = base_url(request)
    here = f"{base}/collections/{layer.id}/tiles/{TMS_ID}"
    bounds = await tiles.bounds([layer]) or [-180.0, -85.051129, 180.0, 85.051129]
    fields = vector_layer(layer)["fields"]
    doc = {
        "title": layer.title, "description": layer.description, "dataType": "vector", "crs": CRS_3857,
        "tileMatrixSetURI": TMS_URI,
        "tileMatrixSetLimits": _limits(bounds, layer.minzoom, layer.maxzoom),
        "boundingBox": {"lowerLeft": bounds[:2], "upperRight": bounds[2:],
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
        "centerPoint": {"coordinates": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2],
                        "tileMatrix": str(max(layer.minzoom, min(12, layer.maxzoom))),
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
        "layers": [{
            "id": layer.id, "title": layer.title, "dataType": "vector",
            "geometryDimension": {"Point": 0, "MultiLineString": 1}.get(layer.geometry_type, 2),
            "minTileMatrix": str(layer.minzoom), "maxTileMatrix": str(layer.maxzoom),
            "propertiesSchema": {"type": "object", "properties": {
                name: {"type": {"Number": "number", "Boolean": "boolean"}.get(kind, "string")}
                for name, kind in fields.items()}},
        }],
        "links": [
            link(here, "self", "application/json", "This tileset"),
            link(f"{base}/tileMatrixSets/{TMS_ID}", TILING_SCHEME, "application/json", TMS_ID),
            link(f"{base}/collections/{layer.id}", "http://www.opengis.net/def/rel/ogc/1.0/geodata",
                  "application/json", layer.title),
            link(f"{here}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}", "item", MVT, "Vector tiles", templated=True),
        ],
    }
    return json_response(doc, request, layer.cache_seconds)


@get_and_head(router, "/collections/{collection_id}/tiles/{tms_id}/{z}/{y}/{x}",
              summary="A vector tile of a collection (row = y, column = x)", response_class=Response,
              responses={200: {"content": {MVT: {}}}})
async def collection_tile(request: Request, collection_id: str, tms_id: str, z: int, y: int, x: int,
                          tiles: TileService = Depends(get_tiles)):
    layer = layer_or_404(collection_id, on_map=True)
    _check_tms(tms_id)
    requested = request.query_params.get("f")
    if requested not in (None, "mvt"):
        raise Problem(406, "Not acceptable", f"tiles are offered as f=mvt only; got f={requested}")
    return await serve_tile(request, tiles, [layer], z, x, y)


TILE_CORS.preflight_route(router, "/collections/{collection_id}/tiles",
                          "/collections/{collection_id}/tiles/{path:path}", "/tileMatrixSets/{path:path}")
