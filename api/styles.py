"""GET /styles/monitor.json: the MapLibre style of every catalogue layer over the all-layers tiles."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response

from api.routing import get_and_head
from api.tiles import max_age, public_base
from api.tiles_http import json_response, preflight
from layers.catalogue import LAYERS
from layers.style import monitor_style

router = APIRouter(tags=["tiles"])


@get_and_head(router, "/styles/monitor.json", summary="MapLibre style of the monitor's layers")
async def style(request: Request) -> Response:
    doc = monitor_style(LAYERS, f"{public_base(request)}/tiles.json")
    return json_response(json.dumps(doc, ensure_ascii=False).encode(), request, max_age(LAYERS))


@router.options("/styles/{path:path}", include_in_schema=False)
async def styles_preflight() -> Response:
    return preflight()
