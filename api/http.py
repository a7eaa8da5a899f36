"""The one HTTP toolkit every router uses: absolute links, format choice, ETag/304, gzip, CORS, Cache-Control.

Done per response rather than as app middleware so that a body is hashed and compressed exactly once and the
headers stay right for HEAD requests (the body is dropped, the headers are kept). CORS is a policy per router
(`Cors`): what a browser may send and read differs between the feature API (bearer tokens, If-Match) and tiles
and archives (Range).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders

from api.errors import Problem
from layers.catalogue import MAP_LAYERS, get_layer, get_map_layer
from layers.layer import Layer

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html; charset=utf-8"
CSV = "text/csv; charset=utf-8"
MARKDOWN = "text/markdown; charset=utf-8"
MVT = "application/vnd.mapbox-vector-tile"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
GZIP_MIN_BYTES = 1024
# `f` values and the media types they stand for (the Accept header is read for the same names).
FORMATS = {"json": JSON, "geojson": GEOJSON, "html": HTML, "csv": CSV}


@dataclass(frozen=True)
class Cors:
    """What cross-origin browsers may read from a router's answers, and send in their requests."""

    expose: str
    methods: str = "GET, HEAD, OPTIONS"
    allow_headers: str = "If-None-Match, Accept, Accept-Encoding"
    max_age: int = 86400

    @property
    def headers(self) -> dict[str, str]:
        return {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": self.expose}

    def preflight(self) -> Response:
        return Response(status_code=204, headers={
            **self.headers, "Access-Control-Allow-Methods": self.methods,
            "Access-Control-Allow-Headers": self.allow_headers, "Access-Control-Max-Age": str(self.max_age)})

    def preflight_route(self, router: APIRouter, *paths: str) -> None:
        """Answer browsers' OPTIONS for these paths (only these: another router's paths keep their own policy)."""
        async def preflight() -> Response:
            return self.preflight()
        for path in paths:
            router.add_api_route(path, preflight, methods=["OPTIONS"], include_in_schema=False)


READ_CORS = Cors(expose="ETag, Content-Crs, Link, Location, Content-Disposition")
WRITE_CORS = Cors(expose=READ_CORS.expose, methods="GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
                  allow_headers="Authorization, Content-Type, Content-Crs, If-Match, If-None-Match, Accept",
                  max_age=600)
TILE_CORS = Cors(expose="ETag, Content-Length, Content-Encoding, Content-Range, Accept-Ranges, Cache-Control, "
                        "X-Tile-Cache",
                 allow_headers="If-None-Match, If-Modified-Since, Range, If-Range, Accept, Accept-Encoding")


async def read_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None as soon as it says or turns out to be longer than `limit` bytes (a chunked
    body is never read whole first)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def base_url(request: Request) -> str:
    """The service root as clients reach it: MONITOR_PUBLIC_URL when set (behind a proxy), else the request's."""
    public = request.app.state.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


def link(href: str, rel: str, type_: str, title: str | None = None, **extra) -> dict:
    return {"href": href, "rel": rel, "type": type_, **({"title": title} if title else {}), **extra}


def layer_or_404(layer_id: str, on_map: bool = False) -> Layer:
    """The catalogue layer a path names: any collection, or (`on_map`) one with a geometry, which tiles draw."""
    if on_map:
        layer = get_map_layer(layer_id)
        if layer is None:
            known = ", ".join(entry.id for entry in MAP_LAYERS)
            raise Problem(404, "Layer not found", f"no layer {layer_id!r}; layers: {known}")
        return layer
    layer = get_layer(layer_id)
    if layer is None:
        raise Problem(404, "Not Found", f"no collection {layer_id!r}; see /collections")
    return layer


def output_format(request: Request, allowed: tuple[str, ...] = ("json", "html")) -> str:
    """The format asked with `?f=` or, failing that, the Accept header; the first allowed one by default."""
    f = request.query_params.get("f")
    if f is not None:
        if f not in allowed:
            raise Problem(400, "Invalid f", f"f is one of: {', '.join(allowed)}")
        return f
    accept = request.headers.get("accept", "")
    if "html" in allowed and "text/html" in accept and "json" not in accept.split("text/html")[0]:
        return "html"
    for name in allowed[1:]:
        if name != "html" and FORMATS[name].split(";")[0] in accept:
            return name
    return allowed[0]


def etag_of(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=12).hexdigest()


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match against a tag given without quotes; the gzip representation's tag matches too."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = etag.strip('"')
    for candidate in header.split(","):
        value = candidate.strip().removeprefix("W/").strip('"')
        if value in (bare, f"{bare}-gzip"):
            return True
    return False


def respond(request: Request, body: bytes | dict | list, media_type: str, cache_seconds: int = 60,
            status: int = 200, headers: dict | None = None, etag: str | None = None,
            cors: Cors = READ_CORS, identity: bytes | None = None) -> Response:
    """200 (gzip when accepted and worth it), or 304 when If-None-Match matches; HEAD keeps the headers.

    The ETag is a hash of the body, or of `identity` when given: bytes that determine the body exactly (an items
    page: its query, its data versions and its head), far fewer than a megabyte-long page to hash per request."""
    if not isinstance(body, bytes):
        body = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    content_tag = etag is None  # a version tag (an item's) names the row, whatever the encoding
    etag = etag or f'"{etag_of(identity if identity is not None else body)}"'
    all_headers = {**cors.headers, "ETag": etag, "Cache-Control": f"public, max-age={cache_seconds}",
                   "Vary": "Accept, Accept-Encoding", **(headers or {})}
    if status == 200 and etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=all_headers)
    if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=5)
        all_headers["Content-Encoding"] = "gzip"
        if content_tag:  # each representation its own strong tag (RFC 9110 §8.8.3), as tiles do
            all_headers["ETag"] = etag[:-1] + '-gzip"'

    if request.method == "HEAD":
        all_headers["Content-Length"] = str(len(body))
        return Response(status_code=status, headers=all_headers, media_type=media_type)
    return Response(body, status_code=status, headers=all_headers, media_type=media_type)


def send(request: Request, document: dict, title: str, media_type: str = JSON, cache_seconds: int = 60,
         headers: dict | None = None, etag: str | None = None) -> Response:
    """A JSON document, or its HTML page when the client asked for HTML."""
    from api.features.html import render

    if output_format(request, ("json", "html")) == "html":
        return respond(request, render(document, title), HTML, cache_seconds, headers=headers)
    return respond(request, document, media_type, cache_seconds, headers=headers, etag=etag)


# JSON read from clients nests at most this deep (a GeoJSON Feature with a polygon nests 6): Python's parser
# recurses once per level, and a body of 100,000 "[" would end in RecursionError.
MAX_JSON_DEPTH = 32
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def json_nesting(text: str, openers: str = "[{") -> int:
    """How deeply a JSON text nests `openers` (strings skipped), in one pass without parsing or recursion."""
    depth = deepest = 0
    for token in _JSON_TOKENS.finditer(text):
        char = token.group()
        if char in openers:
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}" and ("[" if char == "]" else "{") in openers:
            depth -= 1
    return deepest


# ---------------------------------------------------------------- headers of every answer
# HTML pages load scripts, styles and workers from this origin only and cannot be framed (clickjacking of the
# survey form or the admin pages). MapLibre runs its workers from blob: URLs and draws into blob:/data: images;
# a basemap may come from another https origin (MONITOR_BASEMAP). Inline styles: the feature pages carry one.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob: https:; font-src 'self' data:; connect-src 'self' https:; "
            "worker-src 'self' blob:; child-src 'self' blob:; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'")
# The interactive API page (FastAPI's Swagger UI) loads its bundle from a CDN and starts it with an inline script.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


class SecurityHeaders:
    """ASGI middleware: `X-Content-Type-Options: nosniff` on every answer; on HTML pages a Content-Security-Policy,
    `X-Frame-Options` and a Referrer-Policy. Pure ASGI (not BaseHTTPMiddleware): bodies and streams (tiles, HTTP
    Range on archives) pass through untouched."""

    def __init__(self, app, docs_path: str | None = None):
        self.app, self.docs_path = app, docs_path

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        csp = DOCS_CSP if scope.get("path") == self.docs_path else PAGE_CSP

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", csp)
                    headers.setdefault("X-Frame-Options", "DENY")
                    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def trusted_hosts(settings) -> list[str] | None:
    """The Host names accepted when links are built from the Host header (MONITOR_PUBLIC_URL unset), so that a
    forged Host never ends in a link, a Location or a cached page; None when any is fine."""
    if settings.public_url:
        return None
    hosts = [h.strip() for h in settings.allowed_hosts.split(",") if h.strip()]
    return None if "*" in hosts else hosts
