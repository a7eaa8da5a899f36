"""Vector tiles: every catalogue layer alone (`/tiles/{layer}/…`) and all of them in one tile (`/tiles/…`),
with TileJSON 3.0 documents. Nothing here names a layer: the catalogue says what exists."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from fastapi import APIRouter, Depends, Request, Response

from api.errors import Problem
from api.http import TILE_CORS, base_url, layer_or_404
from api.routing import get_and_head
from api.tiles.responses import check_tile, json_response, tile_response
from api.tiles.service import TileService, get_tiles
from api.tiles.shortcut import FAILED
from layers.catalogue import MAP_LAYERS
from layers.layer import Layer
from layers.tiles_meta import WORLD_BOUNDS, attribution, vector_layer

router = APIRouter(tags=["tiles"])

CENTER_ZOOM = 12


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
        if (failed := request.scope.get(FAILED)) is not None:  # built by the shortcut, and failed: not again
            raise failed
        tile, cached = await tiles.tile(layers, z, x, y)
    except psycopg.errors.QueryCanceled:
        raise Problem(503, "Tile took too long", f"tile {z}/{x}/{y} hit the statement timeout; try again",
                      headers={"Retry-After": "5"}) from None
    return tile_response(request, tile, max_age(layers), cached)


@get_and_head(router, "/tiles.json", summary="TileJSON 3.0 of all layers in one tile")
async def all_layers_tilejson(request: Request, tiles: TileService = Depends(get_tiles)) -> Response:
    doc = await tilejson(tiles, MAP_LAYERS, f"{base_url(request)}/tiles/{{z}}/{{x}}/{{y}}.mvt", "monitor",
                         "Citizen Participation Monitor of Rosario: every public layer")
    return json_response(doc, request, max_age(MAP_LAYERS))


@get_and_head(router, "/tiles/{z}/{x}/{y}.mvt", summary="One tile holding every public layer",
              response_class=Response, responses={200: {"content": {"application/vnd.mapbox-vector-tile": {}}}})
async def all_layers_tile(request: Request, z: int, x: int, y: int, tiles: TileService = Depends(get_tiles)):
    return await serve_tile(request, tiles, MAP_LAYERS, z, x, y)


@get_and_head(router, "/tiles/{layer_id}.json", summary="TileJSON 3.0 of one layer")
async def layer_tilejson(request: Request, layer_id: str, tiles: TileService = Depends(get_tiles)) -> Response:
    layer = layer_or_404(layer_id, on_map=True)
    doc = await tilejson(tiles, [layer], f"{base_url(request)}/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.mvt",
                         layer.id, layer.description)
    return json_response(doc, request, layer.cache_seconds)


@get_and_head(router, "/tiles/{layer_id}/{z}/{x}/{y}.mvt", summary="One tile of one layer",
              response_class=Response, responses={200: {"content": {"application/vnd.mapbox-vector-tile": {}}}})
async def layer_tile(request: Request, layer_id: str, z: int, x: int, y: int, tiles: TileService = Depends(get_tiles)):
    return await serve_tile(request, tiles, [layer_or_404(layer_id, on_map=True)], z, x, y)


TILE_CORS.preflight_route(router, "/tiles.json", "/tiles/{path:path}")
