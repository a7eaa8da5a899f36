"""Vector tiles: every catalogue layer alone (`/tiles/{layer}/…`) and all of them in one tile (`/tiles/…`),
with TileJSON 3.0 documents. Nothing here names a layer: the catalogue says what exists."""

from __future__ import annotations

import json
from collections.abc import Sequence

import psycopg
from fastapi import APIRouter, Depends, Request, Response

from api.errors import Problem
from api.routing import get_and_head
from api.tiles_http import check_tile, json_response, preflight, tile_response
from api.tiles_service import TileService, get_tiles
from layers.catalogue import LAYERS, get_layer
from layers.layer import Layer
from layers.tiles_meta import WORLD_BOUNDS, attribution, vector_layer

router = APIRouter(tags=["tiles"])

CENTER_ZOOM = 12


def public_base(request: Request) -> str:
    return (request.app.state.settings.public_url or str(request.base_url)).rstrip("/")


def layer_or_404(layer_id: str) -> Layer:
    layer = get_layer(layer_id)
    if layer is None:
        known = ", ".join(entry.id for entry in LAYERS)
        raise Problem(404, "Layer not found", f"no layer {layer_id!r}; layers: {known}")
    return layer


def max_age(layers: Sequence[Layer]) -> int:
    return min(layer.cache_seconds for layer in layers)


async def tilejson(tiles: TileService, layers: Sequence[Layer], tile_url: str, name: str, description: str) -> dict:
    bounds = await tiles.bounds(layers) or WORLD_BOUNDS
    return {
        "tilejson": "3.0.0",
        "name": name,
        "description": description,
        "version": "1.0.0",
        "attribution": attribution(layers),
        "scheme": "xyz",
        "tiles": [tile_url],
        "minzoom": min(layer.minzoom for layer in layers),
        "maxzoom": max(layer.maxzoom for layer in layers),
        "bounds": bounds,
        "center": [round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6), CENTER_ZOOM],
        "vector_layers": [vector_layer(layer) for layer in layers],
    }


async def serve_tile(request: Request, tiles: TileService, layers: Sequence[Layer], z: int, x: int, y: int):
    check_tile(z, x, y, max(layer.maxzoom for layer in layers))
    try:
        tile, cached = await tiles.tile(layers, z, x, y)
    except psycopg.errors.QueryCanceled:
        raise Problem(503, "Tile took too long", f"tile {z}/{x}/{y} hit the statement timeout; try again",
                      headers={"Retry-After": "5"}) from None
    return tile_response(request, tile, max_age(layers), cached)


@get_and_head(router, "/tiles.json", summary="TileJSON 3.0 of all layers in one tile")
async def all_layers_tilejson(request: Request, tiles: TileService = Depends(get_tiles)) -> Response:
    doc = await tilejson(tiles, LAYERS, f"{public_base(request)}/tiles/{{z}}/{{x}}/{{y}}.mvt", "monitor",
                         "Citizen Participation Monitor of Rosario: every public layer")
    return json_response(json.dumps(doc).encode(), request, max_age(LAYERS))


@get_and_head(router, "/tiles/{z}/{x}/{y}.mvt", summary="One tile holding every public layer",
              response_class=Response, responses={200: {"content": {"application/vnd.mapbox-vector-tile": {}}}})
async def all_layers_tile(request: Request, z: int, x: int, y: int, tiles: TileService = Depends(get_tiles)):
    return await serve_tile(request, tiles, LAYERS, z, x, y)


@get_and_head(router, "/tiles/{layer_id}.json", summary="TileJSON 3.0 of one layer")
async def layer_tilejson(request: Request, layer_id: str, tiles: TileService = Depends(get_tiles)) -> Response:
    layer = layer_or_404(layer_id)
    doc = await tilejson(tiles, [layer], f"{public_base(request)}/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.mvt",
                         layer.id, layer.description)
    return json_response(json.dumps(doc).encode(), request, layer.cache_seconds)


@get_and_head(router, "/tiles/{layer_id}/{z}/{x}/{y}.mvt", summary="One tile of one layer",
              response_class=Response, responses={200: {"content": {"application/vnd.mapbox-vector-tile": {}}}})
async def layer_tile(request: Request, layer_id: str, z: int, x: int, y: int, tiles: TileService = Depends(get_tiles)):
    return await serve_tile(request, tiles, [layer_or_404(layer_id)], z, x, y)


@router.options("/tiles.json", include_in_schema=False)
@router.options("/tiles/{path:path}", include_in_schema=False)
async def tiles_preflight() -> Response:
    return preflight()

