"""PMTiles archives (and any exported file) served with HTTP Range, so MapLibre's pmtiles protocol reads them
straight from this server just as from static hosting: 206 with Content-Range, Accept-Ranges, If-Range, HEAD."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from api.errors import Problem
from api.http import TILE_CORS, base_url, etag_matches
from api.routing import get_and_head
from gis.config import ROOT

router = APIRouter(tags=["archives"])

# A plain file name: no directories, no traversal, and short enough for any file system (a longer one would make
# the operating system refuse the lookup with an error rather than answer "no such file").
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.pmtiles$")
PMTILES = "application/vnd.pmtiles"


def archives_dir(request: Request) -> Path:
    """Where `monitor export pmtiles` puts archives: settings.archives_dir when configured, else ./archives."""
    return Path(getattr(request.app.state.settings, "archives_dir", None) or ROOT / "archives")


@get_and_head(router, "/archives", summary="PMTiles archives offered")
async def list_archives(request: Request):
    folder, base = archives_dir(request), base_url(request)
    files = sorted(p for p in folder.glob("*.pmtiles") if NAME.match(p.name)) if folder.is_dir() else []
    return {"archives": [{"name": p.name, "size": p.stat().st_size, "href": f"{base}/archives/{p.name}",
                          "type": PMTILES} for p in files]}


@get_and_head(router, "/archives/{name}", summary="One archive, with HTTP Range support",
              response_class=Response, responses={200: {"content": {PMTILES: {}}}, 206: {"content": {PMTILES: {}}}})
async def archive(request: Request, name: str):
    path = archives_dir(request) / name
    if not NAME.match(name) or not path.is_file():
        raise Problem(404, "Archive not found", f"no archive named {name!r}; see /archives")
    # Starlette's FileResponse implements Range, multiple ranges, If-Range and 416; conditional GET is added here.
    response = FileResponse(path, media_type=PMTILES, stat_result=path.stat(),
                            headers={**TILE_CORS.headers, "Cache-Control": "public, max-age=300"})
    if "range" not in request.headers and etag_matches(request.headers.get("if-none-match"),
                                                       response.headers["etag"].strip('"')):
        return Response(status_code=304, headers={**TILE_CORS.headers, "ETag": response.headers["etag"],
                                                  "Cache-Control": "public, max-age=300"})
    return response


TILE_CORS.preflight_route(router, "/archives/{name}")
