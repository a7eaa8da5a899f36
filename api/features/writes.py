"""Part 4: create, replace, update and (soft) delete features of editable layers, for token holders only.

The HTTP side checks who may do what and turns the body into registry values; gis/registry.py and
gis/moderation.py do the writes in one transaction whose actor is the token, so the history records who.
"""

from __future__ import annotations

import json
import math
from functools import cache

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pyproj import Transformer
from starlette.concurrency import run_in_threadpool

from api.auth import principal
from api.errors import Problem
from api.features.collections import forget_cached, layer_or_404
from api.features.http import CORS, base_url
from api.features.items import item_etag, parse_feature_id
from gis import moderation
from gis.auth import Principal
from gis.db import connect
from gis.moderation import EDITABLE, Editable, NotFound, StaleVersion
from gis.registry import RegistryError
from layers.features_sql import STORAGE_SRID, Crs, QueryError, crs_by_uri
from layers.layer import Layer

router = APIRouter(tags=["OGC API - Features - Part 4"])

MAX_BODY_BYTES = 256 * 1024
# Fields only editors set: an organisation's submission is always its own and always awaits moderation.
MODERATION_FIELDS = ("moderation", "moderation_reason")
# What a client read from the API and may send back unchanged on PUT: computed, never written.
READ_ONLY = {"id", "version", "updated_at", "created_at", "kind_label", "organization", "barrio", "barrio_id",
             "district", "standards_met", "instance_name"}
# Published property name → registry field, where the published view renames a column.
ALIASES = {"scope_district": "scope_district_code"}


def editable_or_405(layer: Layer) -> Editable:
    editable = EDITABLE.get(layer.id)
    if editable is None or not layer.editable:
        raise Problem(405, "Method Not Allowed", f"{layer.id} is read-only", headers={"Allow": "GET, HEAD"})
    return editable


def editable_target(collection_id: str, feature_id: str) -> tuple[Layer, Editable, int]:
    """The layer, its registry table and the row a write route is about (404/405 otherwise)."""
    layer = layer_or_404(collection_id)
    editable = editable_or_405(layer)
    return layer, editable, parse_feature_id(layer, feature_id)


def database_url(request: Request) -> str:
    return request.app.state.pool.conninfo


async def read_feature(request: Request) -> dict:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Problem(413, "Body too large", f"a feature is at most {MAX_BODY_BYTES} bytes")
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type not in ("application/geo+json", "application/json", "application/merge-patch+json"):
        raise Problem(415, "Unsupported media type", "send application/geo+json (a GeoJSON Feature)")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise Problem(413, "Body too large", f"a feature is at most {MAX_BODY_BYTES} bytes")
    try:
        feature = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Problem(400, "Malformed JSON", str(exc)[:200]) from None
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise Problem(400, "Invalid GeoJSON", 'the body must be a GeoJSON Feature ({"type": "Feature", ...})')
    if not isinstance(feature.get("properties", {}), dict | None):
        raise Problem(400, "Invalid GeoJSON", "properties must be an object")
    return feature


def content_crs(request: Request) -> Crs:
    """Part 2 on writes: `Content-Crs: <uri>` says which CRS the body's coordinates are in (default CRS84)."""
    header = request.headers.get("content-crs")
    try:
        return crs_by_uri(header.strip().strip("<>") if header else None, "Content-Crs")
    except QueryError as exc:
        raise Problem(400, exc.title, exc.detail) from None


@cache
def _transformer(srid: int) -> Transformer:
    return Transformer.from_crs(f"EPSG:{srid}", "OGC:CRS84", always_xy=True)


def to_crs84(coordinates: list, crs: Crs) -> list:
    if crs.srid == STORAGE_SRID and not crs.flip:
        return coordinates
    if not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates[:2]):
        raise Problem(400, "Invalid geometry", "coordinates must be numbers")
    x, y = coordinates[:2][::-1] if crs.flip else coordinates[:2]
    if crs.srid == STORAGE_SRID:
        return [x, y]
    lon, lat = _transformer(crs.srid).transform(x, y)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise Problem(400, "Invalid geometry", f"the coordinates are outside the range of {crs.uri}")
    return [lon, lat]


def feature_values(layer: Layer, editable: Editable, feature: dict, partial: bool, crs: Crs | None = None) -> dict:
    """A GeoJSON Feature → registry field values. Unknown properties are left in, so the model refuses them."""
    values = {k: v for k, v in (feature.get("properties") or {}).items() if k not in READ_ONLY}
    for published, field in ALIASES.items():
        if published in values and field in editable.model.model_fields:
            values.setdefault(field, values.pop(published))
    if "geometry" in feature or not partial:
        geometry = feature.get("geometry")
        if geometry is not None:
            if not isinstance(geometry, dict) or geometry.get("type") != layer.geometry_type:
                raise Problem(400, "Invalid geometry", f"{layer.id} geometries are {layer.geometry_type}s "
                                                       "(or null for online-only)")
            coordinates = geometry.get("coordinates")
            if not isinstance(coordinates, list) or len(coordinates) not in (2, 3):
                raise Problem(400, "Invalid geometry", "a Point has [longitude, latitude]; it is empty or malformed")
            if crs is not None:
                geometry = {**geometry, "coordinates": to_crs84(coordinates, crs)}
        values["venue"] = geometry
    if "venue" in values and values["venue"] is not None:
        _check_axis_order(values["venue"]["coordinates"])
    return values


def _check_axis_order(coordinates: list) -> None:
    # Rosario is near (-60.7, -32.9): latitude first is the commonest mistake, so say so instead of "outside".
    if all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates[:2]):
        x, y = coordinates[:2]
        if -33.2 < x < -32.7 and -61 < y < -60.4:
            raise Problem(400, "Invalid geometry", "coordinates look like [latitude, longitude]; GeoJSON (CRS84) "
                                                   "is [longitude, latitude]")


def check_if_match(request: Request, layer: Layer, row_id: int, required: bool) -> int | None:
    """The version the client saw, from If-Match (the item's ETag)."""
    header = request.headers.get("if-match")
    if header is None:
        if required:
            raise Problem(428, "Precondition Required", "send If-Match with the ETag of the feature you edit")
        return None
    prefix = f'"{layer.id}-{row_id}-v'
    tag = header.strip().removeprefix("W/")
    if not (tag.startswith(prefix) and tag.endswith('"') and tag[len(prefix):-1].isdigit()):
        raise Problem(412, "Precondition Failed", "If-Match is not an ETag of this feature; GET it again")
    return int(tag[len(prefix):-1])


def guard_organization_fields(caller: Principal, values: dict) -> None:
    if caller.is_editor:
        return
    forbidden = [f for f in MODERATION_FIELDS if f in values]
    if "organization_id" in values and values["organization_id"] != caller.organization_id:
        forbidden.append("organization_id")
    if forbidden:
        raise Problem(403, "Forbidden", f"organisation tokens cannot set {', '.join(forbidden)}")


def check_owner(conn, caller: Principal, editable: Editable, row_id: int) -> None:
    if caller.is_editor:
        return
    row = moderation.load(conn, editable, row_id)
    if row["owner_organization_id"] != caller.organization_id:
        raise Problem(403, "Forbidden", "organisation tokens edit only their own organisation's records")


def check_parent_owner(conn, caller: Principal, values: dict) -> None:
    """Activities of an organisation token must hang off one of its own instances."""
    if caller.is_editor or "instance_id" not in values:
        return
    row = conn.execute("SELECT organization_id FROM monitor.instances WHERE id = %s AND deleted_at IS NULL",
                       (values["instance_id"],)).fetchone()
    if row is None or row[0] != caller.organization_id:
        raise Problem(403, "Forbidden", "organisation tokens add activities only to their own instances")


def registry_problem(exc: RegistryError) -> Problem:
    if exc.conflict:
        return Problem(409, "Conflict", exc.message, field=exc.field)
    return Problem(400, "Invalid feature", exc.message, **({"field": exc.field} if exc.field else {}))


def written(request: Request, layer: Layer, row_id: int, version: int, status: int, **body) -> Response:
    forget_cached()
    location = f"{base_url(request)}/collections/{layer.id}/items/{row_id}"
    headers = {**CORS, "ETag": item_etag(layer, row_id, version), "Location": location, "Cache-Control": "no-store"}
    content = json.dumps({"id": row_id, "version": version, **body}, default=str)
    return Response(content, status_code=status, media_type="application/json", headers=headers)


async def execute(request: Request, caller: Principal, work):
    """`work(conn)` in one transaction whose actor is the caller; registry refusals → 4xx, nothing stored."""
    def transaction():
        with connect(database_url(request), actor=caller.actor) as conn:
            return work(conn)
    try:
        return await run_in_threadpool(transaction)
    except RegistryError as exc:
        raise registry_problem(exc) from None
    except NotFound as exc:
        raise Problem(404, "Not Found", str(exc)) from None
    except StaleVersion as exc:
        raise Problem(412, "Precondition Failed", f"the feature changed meanwhile (now version {exc.current}); "
                                                  "GET it again and reapply your change") from None


@router.post("/collections/{collectionId}/items", status_code=201, summary="Add a feature (Part 4)")
async def create(collectionId: str, request: Request, caller: Principal = Depends(principal)):  # noqa: N803
    layer = layer_or_404(collectionId)
    editable = editable_or_405(layer)
    values = feature_values(layer, editable, await read_feature(request), False, content_crs(request))
    guard_organization_fields(caller, values)
    if "organization_id" in editable.model.model_fields:
        if caller.is_editor:
            values.setdefault("moderation", "approved")
        else:
            values.update(organization_id=caller.organization_id, moderation="pending")

    def work(conn):
        check_parent_owner(conn, caller, values)
        item = moderation.validate(editable, values)
        row_id = editable.insert(conn, item)
        return row_id, moderation.load(conn, editable, row_id, lock=False)

    row_id, row = await execute(request, caller, work)
    return written(request, layer, row_id, row["version"], 201, moderation=row.get("moderation"))


async def _edit(collection_id: str, feature_id: str, request: Request, caller: Principal, partial: bool):
    layer, editable, row_id = editable_target(collection_id, feature_id)
    expected = check_if_match(request, layer, row_id, required=True)
    values = feature_values(layer, editable, await read_feature(request), partial, content_crs(request))
    guard_organization_fields(caller, values)

    def work(conn):
        check_owner(conn, caller, editable, row_id)
        check_parent_owner(conn, caller, values)
        if partial:
            return moderation.patch(conn, editable, row_id, values, expected)
        keep = (*MODERATION_FIELDS, "organization_id") if "organization_id" in editable.model.model_fields else ()
        return moderation.replace(conn, editable, row_id, values, expected, keep=keep)

    version = await execute(request, caller, work)
    return written(request, layer, row_id, version, 200)


@router.put("/collections/{collectionId}/items/{featureId}", summary="Replace a feature (Part 4; If-Match)")
async def replace(collectionId: str, featureId: str, request: Request,  # noqa: N803
                  caller: Principal = Depends(principal)):
    return await _edit(collectionId, featureId, request, caller, partial=False)


@router.patch("/collections/{collectionId}/items/{featureId}", summary="Update a feature (Part 4; If-Match)")
async def update(collectionId: str, featureId: str, request: Request,  # noqa: N803
                 caller: Principal = Depends(principal)):
    return await _edit(collectionId, featureId, request, caller, partial=True)


@router.delete("/collections/{collectionId}/items/{featureId}", status_code=204,
               summary="Delete a feature (soft: editors can restore it)")
async def delete(collectionId: str, featureId: str, request: Request,  # noqa: N803
                 caller: Principal = Depends(principal)):
    layer, editable, row_id = editable_target(collectionId, featureId)
    expected = check_if_match(request, layer, row_id, required=False)

    def work(conn):
        check_owner(conn, caller, editable, row_id)
        moderation.soft_delete(conn, editable, row_id, expected)

    await execute(request, caller, work)
    forget_cached()
    return Response(status_code=204, headers=CORS)


@router.options("/collections/{rest:path}", include_in_schema=False)
async def preflight(rest: str):
    """CORS preflight: browsers ask before sending writes with a bearer token or If-Match."""
    return Response(status_code=204, headers={
        **CORS, "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match, If-None-Match, Accept",
        "Access-Control-Max-Age": "600"})
