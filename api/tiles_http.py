"""HTTP behaviour shared by every tile answer: tile address checks, ETag/304, Cache-Control, CORS, gzip."""

from __future__ import annotations

import hashlib

from fastapi import Request, Response

from api.errors import Problem
from gis.tile_cache import Tile

MVT = "application/vnd.mapbox-vector-tile"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Content-Length, Content-Encoding, Content-Range, Accept-Ranges, "
                                     "Cache-Control, X-Tile-Cache",
}
PREFLIGHT = {
    **CORS,
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "If-None-Match, If-Modified-Since, Range, If-Range, Accept, Accept-Encoding",
    "Access-Control-Max-Age": "86400",
}


def check_tile(z: int, x: int, y: int, maxzoom: int) -> None:
    """400 for a malformed address, 404 for a tile outside the WebMercatorQuad matrix or above `maxzoom`."""
    if z < 0 or x < 0 or y < 0:
        raise Problem(400, "Invalid tile address", f"z, x and y must be non-negative integers; got {z}/{x}/{y}")
    if z > maxzoom:
        raise Problem(404, "Tile not found", f"zoom {z} is above the maximum zoom {maxzoom}")
    if x >= 2**z or y >= 2**z:
        raise Problem(404, "Tile not found", f"at zoom {z}, x and y go from 0 to {2**z - 1}; got x={x}, y={y}")


def _quoted(etag: str, gzipped: bool) -> str:
    # A strong ETag per representation (RFC 9110 §8.8.3); both derive from the uncompressed content.
    return f'"{etag}-gzip"' if gzipped else f'"{etag}"'


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    for candidate in header.split(","):
        value = candidate.strip().removeprefix("W/").strip('"')
        if value in (etag, f"{etag}-gzip"):
            return True
    return False


def tile_response(request: Request, tile: Tile, max_age: int, cached: bool) -> Response:
    """200 (gzip when accepted), 204 for an empty tile, 304 when If-None-Match matches."""
    gzipped = "gzip" in request.headers.get("accept-encoding", "")
    headers = {
        **CORS,
        "ETag": _quoted(tile.etag, gzipped),
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept-Encoding",
        "X-Tile-Cache": "hit" if cached else "miss",
    }
    if etag_matches(request.headers.get("if-none-match"), tile.etag):
        return Response(status_code=304, headers=headers)
    if tile.empty:
        return Response(status_code=204, headers=headers)
    if gzipped:
        return Response(tile.gzipped, media_type=MVT, headers={**headers, "Content-Encoding": "gzip"})
    return Response(tile.raw(), media_type=MVT, headers=headers)


def json_response(body: bytes, request: Request, max_age: int = 60, media_type: str = "application/json") -> Response:
    """Small JSON documents (TileJSON, styles, tileset metadata) with the same ETag/304/CORS behaviour."""
    etag = hashlib.blake2b(body, digest_size=12).hexdigest()
    headers = {**CORS, "ETag": f'"{etag}"', "Cache-Control": f"public, max-age={max_age}"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def preflight() -> Response:
    return Response(status_code=204, headers=PREFLIGHT)
