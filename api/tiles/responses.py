"""What every tile answer shares: tile address checks, and the tile's own ETag/304/gzip behaviour."""

from __future__ import annotations

import json

from fastapi import Request, Response

from api.errors import Problem
from api.http import JSON, MVT, TILE_CORS, etag_matches, respond
from api.tiles.cache import Tile


def check_tile(z: int, x: int, y: int, maxzoom: int) -> None:
    """400 for a malformed address, 404 for a tile outside the WebMercatorQuad matrix or above `maxzoom`."""
    if z < 0 or x < 0 or y < 0:
        raise Problem(400, "Invalid tile address", f"z, x and y must be non-negative integers; got {z}/{x}/{y}")
    if z > maxzoom:
        raise Problem(404, "Tile not found", f"zoom {z} is above the maximum zoom {maxzoom}")
    if x >= 2**z or y >= 2**z:
        raise Problem(404, "Tile not found", f"at zoom {z}, x and y go from 0 to {2**z - 1}; got x={x}, y={y}")


def tile_answer(tile: Tile, max_age: int, cached: bool, accept_encoding: str | None,
                if_none_match: str | None) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body): 200 (gzip when accepted), 204 for an empty tile, 304 when If-None-Match matches.

    Tiles are kept compressed, so unlike other answers their gzip representation is stored, not made per request;
    each representation has its own strong ETag (RFC 9110 §8.8.3), both derived from the uncompressed content.
    One function for the routed answer below and the cache's shortcut (api/tiles/shortcut.py): the same bytes.
    """
    gzipped = "gzip" in (accept_encoding or "")
    headers = {
        **TILE_CORS.headers,
        "ETag": f'"{tile.etag}-gzip"' if gzipped else f'"{tile.etag}"',
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept-Encoding",
        "X-Tile-Cache": "hit" if cached else "miss",
    }
    if etag_matches(if_none_match, tile.etag):
        return 304, headers, b""
    if tile.empty:
        return 204, headers, b""
    headers["Content-Type"] = MVT
    if gzipped:
        headers["Content-Encoding"] = "gzip"
        return 200, headers, tile.gzipped
    return 200, headers, tile.raw()


def tile_response(request: Request, tile: Tile, max_age: int, cached: bool) -> Response:
    status, headers, body = tile_answer(tile, max_age, cached, request.headers.get("accept-encoding"),
                                        request.headers.get("if-none-match"))
    return Response(body, status_code=status, headers=headers)


def json_response(document: dict | bytes, request: Request, max_age: int = 60, media_type: str = JSON) -> Response:
    """Small JSON documents (TileJSON, styles, tileset metadata) with the tiles' CORS policy."""
    body = document if isinstance(document, bytes) else json.dumps(document, ensure_ascii=False).encode()
    return respond(request, body, media_type, max_age, cors=TILE_CORS)
