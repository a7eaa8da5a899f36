"""GET /styles/monitor.json: the MapLibre style of every catalogue layer over the all-layers tiles."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.http import TILE_CORS, base_url
from api.routing import get_and_head
from api.tiles.responses import json_response
from api.tiles.routes import max_age
from layers.catalogue import MAP_LAYERS
from layers.style import monitor_style

router = APIRouter(tags=["tiles"])


@get_and_head(router, "/styles/monitor.json", summary="MapLibre style of the monitor's layers")
async def style(request: Request) -> Response:
    doc = monitor_style(MAP_LAYERS, f"{base_url(request)}/tiles.json")
    return json_response(doc, request, max_age(MAP_LAYERS))


TILE_CORS.preflight_route(router, "/styles/{path:path}")
