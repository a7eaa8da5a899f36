"""Tile requests answered before FastAPI's middleware and routing: the hottest path of the service.

Profiled under load (py-spy, one worker), a cached tile spent ~40 % of its CPU in FastAPI's route matching,
dependency resolution and response classes and ~20 % in the middleware wrappers, for an answer that is bytes
already in memory; a tile built from PostGIS spent ~40 % there too (about 0.4 ms of the 1 ms of server CPU a cold
tile costs). `MonitorAPI.__call__` (api/app.py) offers every request to `answer_tile` first. It answers GET and
HEAD of `/tiles/{z}/{x}/{y}.mvt` and `/tiles/{layer}/{z}/{x}/{y}.mvt`, from the cache or built, only as the full
stack would: the Host is one the host check accepts, the client's rate budget is counted (ClientBudgets, shared
with the middleware, which then counts the request no more), and the headers are those of the routed answer
(same `tile_answer`) plus the security middleware's `nosniff`. Anything else — an unknown layer, a bad address, a
host to check by pattern, a spent budget, a tile that failed to build — goes on to the full stack, which owns
every error answer; a failed build is handed to the route (scope key FAILED) rather than run again.
"""

from __future__ import annotations

import re

from api.ratelimit import COUNTED
from api.tiles.responses import tile_answer
from layers.catalogue import MAP_LAYERS
from layers.layer import Layer

FAILED = "monitor.tile_failed"  # scope key: the exception building this tile raised, for the route to answer
TILE_PATH = re.compile(r"/tiles/(?:([A-Za-z0-9_-]+)/)?(\d{1,2})/(\d{1,10})/(\d{1,10})\.mvt")


def _plan(layers: list[Layer]) -> tuple[list[Layer], int, int]:
    """The layers of an address, their shortest cache lifetime (as the routes' `max_age`) and highest zoom."""
    return layers, min(layer.cache_seconds for layer in layers), max(layer.maxzoom for layer in layers)


# By the address's layer segment; None: the all-layers tile.
PLANS = {None: _plan(MAP_LAYERS)} | {layer.id: _plan([layer]) for layer in MAP_LAYERS}


def exact_hosts(hosts: list[str] | None) -> frozenset[bytes] | None:
    """The Host values the shortcut may answer (None: any). Patterns (`*.example.org`) are left to the full
    stack's TrustedHostMiddleware: the shortcut never answers a request that the host check would refuse."""
    if hosts is None:
        return None
    return frozenset(h.encode("idna") for h in hosts if "*" not in h)


async def answer_tile(app, scope, send) -> bool:
    """True when the request was a tile and has been answered."""
    if scope["method"] not in ("GET", "HEAD") or not scope["path"].startswith("/tiles/"):
        return False
    match = TILE_PATH.fullmatch(scope["path"])
    service = getattr(app.state, "tiles", None)
    if match is None or service is None:
        return False
    layer_id, z, x, y = match[1], int(match[2]), int(match[3]), int(match[4])
    plan = PLANS.get(layer_id)
    if plan is None or x >= 2**z or y >= 2**z or z > plan[2]:
        return False
    host = accept_encoding = if_none_match = None
    for name, value in scope["headers"]:
        if name == b"host":
            host = value.split(b":")[0]  # as TrustedHostMiddleware reads it
        elif name == b"accept-encoding":
            accept_encoding = value.decode("latin-1")
        elif name == b"if-none-match":
            if_none_match = value.decode("latin-1")
    hosts = app.state.shortcut_hosts
    if hosts is not None and host not in hosts:
        return False
    if app.state.budgets.over(scope) is not None:  # spent: nothing counted, the middleware answers 429
        return False
    scope[COUNTED] = True
    layers, max_age, _ = plan
    try:
        tile, cached = await service.tile(layers, z, x, y)
    except Exception as exc:
        scope[FAILED] = exc
        return False
    status, headers, body = tile_answer(tile, max_age, cached, accept_encoding, if_none_match)
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw.append((b"x-content-type-options", b"nosniff"))
    if status not in (204, 304):  # as Starlette's Response does
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
    return True
