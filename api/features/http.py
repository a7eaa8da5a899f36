"""What every feature-API response shares: absolute links, format choice, ETag/304, gzip, CORS, Cache-Control.

Done per response rather than as app middleware so that a body is hashed and compressed exactly once and the
headers stay right for HEAD requests (the body is dropped, the headers are kept).
"""

from __future__ import annotations

import gzip
import hashlib
import json

from fastapi import Request
from fastapi.responses import Response

from api.errors import Problem

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html; charset=utf-8"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Content-Crs, Link, Location",
}
GZIP_MIN_BYTES = 1024


def base_url(request: Request) -> str:
    """The service root as clients reach it: MONITOR_PUBLIC_URL when set (behind a proxy), else the request's."""
    public = request.app.state.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


def wants_html(request: Request) -> bool:
    f = request.query_params.get("f")
    if f is not None:
        if f not in ("json", "html"):
            raise Problem(400, "Invalid f", "f is json or html")
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept.split("text/html")[0]


def link(href: str, rel: str, type_: str, title: str | None = None, **extra) -> dict:
    return {"href": href, "rel": rel, "type": type_, **({"title": title} if title else {}), **extra}


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def respond(request: Request, body: bytes | dict | list, media_type: str, cache_seconds: int = 60,
            status: int = 200, headers: dict | None = None, etag: str | None = None) -> Response:
    if not isinstance(body, bytes):
        body = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    etag = etag or etag_of(body)
    all_headers = {**CORS, "ETag": etag, "Cache-Control": f"public, max-age={cache_seconds}",
                   "Vary": "Accept, Accept-Encoding", **(headers or {})}
    if status == 200 and _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=all_headers)
    if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=5)
        all_headers["Content-Encoding"] = "gzip"
    if request.method == "HEAD":
        all_headers["Content-Length"] = str(len(body))
        return Response(status_code=status, headers=all_headers, media_type=media_type)
    return Response(body, status_code=status, headers=all_headers, media_type=media_type)


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = [c.strip().removeprefix("W/") for c in header.split(",")]
    return "*" in candidates or etag in candidates


def send(request: Request, document: dict, title: str, media_type: str = JSON, cache_seconds: int = 60,
         headers: dict | None = None, etag: str | None = None) -> Response:
    """A JSON document, or its HTML page when the client asked for HTML."""
    from api.features.html import render

    if wants_html(request):
        return respond(request, render(document, title), HTML, cache_seconds, headers=headers)
    return respond(request, document, media_type, cache_seconds, headers=headers, etag=etag)
