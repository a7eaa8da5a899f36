"""GET /styles/monitor.json: the MapLibre style of every catalogue layer over the all-layers tiles, with the basemap
MONITOR_BASEMAP chooses (layers/basemap.py); the glyphs of its labels (/fonts/…) and a basemap archive given as a
path (/basemap/{name}.pmtiles)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from pathlib import Path

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from api.errors import Problem
from api.http import TILE_CORS, base_url, etag_matches
from api.routing import get_and_head
from api.tiles.responses import json_response
from api.tiles.routes import max_age
from layers import basemap as bm
from layers.catalogue import BASEMAP_LAYERS, MAP_LAYERS
from layers.style import monitor_style

router = APIRouter(tags=["tiles"])
log = logging.getLogger("monitor.styles")

GLYPH_RANGE = re.compile(r"^(\d+)-(\d+)$")
PBF = "application/x-protobuf"
REMOTE_STYLE_SECONDS = 3600  # a third-party basemap style is fetched at most once an hour per worker
_remote: dict[str, tuple[float, dict]] = {}
_glyph_lock = asyncio.Lock()


def configured_basemap(request: Request) -> bm.Basemap:
    return bm.parse_basemap(getattr(request.app.state.settings, "basemap", bm.LOCAL))


async def _style_document(location: str) -> dict:
    if not location.startswith(("http://", "https://")):
        return json.loads(Path(location).read_text())
    cached = _remote.get(location)
    if cached and time.monotonic() - cached[0] < REMOTE_STYLE_SECONDS:
        return cached[1]
    async with httpx.AsyncClient(timeout=10, follow_redirects=True) as client:
        response = await client.get(location)
        response.raise_for_status()
        doc = response.json()
    _remote[location] = (time.monotonic(), doc)
    return doc


async def basemap_style(request: Request, basemap: bm.Basemap) -> bm.BasemapStyle | None:
    """The parts a basemap adds to the style (None for the local one, which is catalogue layers). A third-party
    style that cannot be read leaves the local basemap in its place, with a note saying why."""
    if basemap.kind == bm.NONE:
        return bm.BasemapStyle(bm.NONE)
    if basemap.kind == bm.PMTILES:
        url = (f"{base_url(request)}/basemap/{Path(basemap.location).name}" if basemap.is_path
               else basemap.location)
        parts = bm.protomaps_layers(bm.SOURCE_PREFIX)
        parts.sources = {bm.SOURCE_PREFIX: {"type": "vector", "url": f"pmtiles://{url}",
                                            "attribution": bm.OSM_ATTRIBUTION}}
        return parts
    if basemap.kind == bm.STYLE:
        try:
            return bm.external_style(await _style_document(basemap.location))
        except (OSError, ValueError, httpx.HTTPError) as exc:
            log.warning("basemap style %s unreadable, using the local basemap: %s", basemap.location, exc)
            return bm.BasemapStyle(bm.LOCAL, note=f"{basemap.location} could not be read: {exc}")
    return bm.BasemapStyle(bm.LOCAL)


@get_and_head(router, "/styles/monitor.json", summary="MapLibre style of the monitor's layers, over its basemap")
async def style(request: Request) -> Response:
    base = base_url(request)
    parts = await basemap_style(request, configured_basemap(request))
    layers = MAP_LAYERS if parts.kind == bm.LOCAL else [layer for layer in MAP_LAYERS if layer not in BASEMAP_LAYERS]
    doc = monitor_style(layers, f"{base}/tiles.json", glyphs_url=f"{base}/fonts/{{fontstack}}/{{range}}.pbf",
                        basemap=parts)
    if parts.sources:
        doc["metadata"]["monitor:basemap-sources"] = list(parts.sources)
    return json_response(doc, request, max_age(MAP_LAYERS))


@get_and_head(router, "/fonts/{fontstack}/{glyphs}.pbf", summary="SDF glyphs of the style's labels (256 code points)",
              response_class=Response, responses={200: {"content": {PBF: {}}}})
async def glyphs(request: Request, fontstack: str, glyphs: str) -> Response:
    match = GLYPH_RANGE.match(glyphs)
    start, end = (int(match[1]), int(match[2])) if match else (-1, -1)
    if not match or start % 256 or end != start + 255 or end > 65535:
        raise Problem(404, "Glyphs not found", "glyph ranges are 256 code points: 0-255, 256-511, … 65280-65535")
    font = bm.font_for(fontstack)
    try:
        async with _glyph_lock:  # made once (about a second per font), then read from disk
            folder = await asyncio.to_thread(bm.glyphs_dir, font)
    except (FileNotFoundError, OSError) as exc:
        raise Problem(503, "Glyphs unavailable", str(exc)) from None
    body = (folder / f"{start}-{end}.pbf").read_bytes()
    response = json_response(body, request, 86400, media_type=PBF)
    response.headers["X-Font"] = font
    return response


@get_and_head(router, "/basemap/{name}", summary="The basemap archive MONITOR_BASEMAP names, with HTTP Range",
              response_class=Response, responses={200: {"content": {"application/vnd.pmtiles": {}}}})
async def basemap_archive(request: Request, name: str):
    basemap = configured_basemap(request)
    path = Path(basemap.location) if basemap.kind == bm.PMTILES and basemap.is_path else None
    if path is None or name != path.name or not path.is_file():
        raise Problem(404, "Basemap archive not found", "MONITOR_BASEMAP names no local PMTiles archive by this name")
    # As /archives/{name}: Starlette's FileResponse answers Range, If-Range and 416; conditional GET added here.
    headers = {**TILE_CORS.headers, "Cache-Control": "public, max-age=3600"}
    response = FileResponse(path, media_type="application/vnd.pmtiles", stat_result=path.stat(), headers=headers)
    if "range" not in request.headers and etag_matches(request.headers.get("if-none-match"),
                                                       response.headers["etag"].strip('"')):
        return Response(status_code=304, headers={**headers, "ETag": response.headers["etag"]})
    return response


TILE_CORS.preflight_route(router, "/styles/{path:path}", "/fonts/{path:path}", "/basemap/{path:path}")
