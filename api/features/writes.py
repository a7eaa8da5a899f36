"""Part 4: create, replace, update and (soft) delete features of any editable layer, for token holders only.

Nothing here names a layer: the layer's `edit` policy (layers/definitions/*.py) says which table, model and
rules apply, and gis/edits.py applies them. This module reads the body (size, media type, GeoJSON, Content-Crs),
decides who may write what (roles and ownership), and runs the edit on the write pool in one transaction whose
actor is the token, so the history records who. Refusals are raised by the core and answered by api/errors.py.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pyproj import Transformer

from api.auth import principal
from api.database import in_write_transaction
from api.errors import Problem
from api.features.collections import forget_cached
from api.features.items import item_etag, parse_feature_id
from api.http import MAX_JSON_DEPTH, WRITE_CORS, base_url, json_nesting, layer_or_404, read_body
from gis import edits, moderation
from gis.auth import Principal
from gis.edits import EditPolicy
from layers.features_sql import STORAGE_SRID, Crs, crs_by_uri
from layers.layer import Layer

router = APIRouter(tags=["OGC API - Features - Part 4"])

MAX_BODY_BYTES = 256 * 1024
MODERATION_FIELDS = ("moderation", "moderation_reason")  # only editors decide


def editable_target(collection_id: str, feature_id: str | None = None) -> tuple[Layer, EditPolicy, int | None]:
    """The layer, its edit policy and the row a write route is about (404/405 otherwise)."""
    layer = layer_or_404(collection_id)
    if layer.edit is None:
        raise Problem(405, "Method Not Allowed", f"{layer.id} is read-only", headers={"Allow": "GET, HEAD"})
    return layer, layer.edit, None if feature_id is None else parse_feature_id(layer, feature_id)


async def read_feature(request: Request) -> dict:
    body = await read_body(request, MAX_BODY_BYTES)
    if body is None:
        raise Problem(413, "Body too large", f"a feature is at most {MAX_BODY_BYTES} bytes")
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type not in ("application/geo+json", "application/json", "application/merge-patch+json"):
        raise Problem(415, "Unsupported media type", "send application/geo+json (a GeoJSON Feature)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(400, "Malformed JSON", f"the body is not UTF-8: {str(exc)[:160]}") from None
    if json_nesting(text) > MAX_JSON_DEPTH:
        raise Problem(400, "Body too deep", f"a feature nests at most {MAX_JSON_DEPTH} levels of arrays and "
                                            "objects (limit: depth)")
    try:
        feature = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise Problem(400, "Malformed JSON", str(exc)[:200]) from None
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise Problem(400, "Invalid GeoJSON", 'the body must be a GeoJSON Feature ({"type": "Feature", ...})')
    if not isinstance(feature.get("properties", {}), dict | None):
        raise Problem(400, "Invalid GeoJSON", "properties must be an object")
    return feature


def content_crs(request: Request) -> Crs:
    """Part 2 on writes: `Content-Crs: <uri>` says which CRS the body's coordinates are in (default CRS84)."""
    header = request.headers.get("content-crs")
    return crs_by_uri(header.strip().strip("<>") if header else None, "Content-Crs")


@cache
def _transformer(srid: int) -> Transformer:
    return Transformer.from_crs(f"EPSG:{srid}", "OGC:CRS84", always_xy=True)


def geometry_in_crs84(layer: Layer, feature: dict, crs: Crs) -> dict:
    """The feature with its geometry checked against the layer's type and given in CRS84 (what the model reads)."""
    geometry = feature.get("geometry")
    if geometry is None:
        return feature
    if not isinstance(geometry, dict) or geometry.get("type") != layer.geometry_type:
        kind = f"{layer.geometry_type}s (or null)" if layer.has_geometry else "absent (null)"
        raise Problem(400, "Invalid geometry", f"{layer.id} geometries are {kind}")
    coordinates = geometry.get("coordinates")
    if layer.geometry_type == "Point" and (not isinstance(coordinates, list) or len(coordinates) not in (2, 3)):
        raise Problem(400, "Invalid geometry", "a Point has [longitude, latitude]; it is empty or malformed",
                      field="geometry")
    # JSON numbers only: "-60.65" is a string, and the model would otherwise read it as a number.
    if not isinstance(coordinates, list) or not all(isinstance(c, int | float) and not isinstance(c, bool)
                                                    for c in coordinates):
        raise Problem(400, "Invalid geometry", "coordinates must be JSON numbers, not strings or booleans: "
                      f"got {json.dumps(coordinates)[:120]}", field="geometry")
    if crs.srid == STORAGE_SRID and not crs.flip:
        return feature
    x, y = coordinates[:2][::-1] if crs.flip else coordinates[:2]
    if crs.srid != STORAGE_SRID:
        x, y = _transformer(crs.srid).transform(x, y)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise Problem(400, "Invalid geometry", f"the coordinates are outside the range of {crs.uri}")
    return {**feature, "geometry": {**geometry, "coordinates": [x, y]}}


async def feature_values(request: Request, layer: Layer, policy: EditPolicy, partial: bool) -> dict:
    feature = await read_feature(request)
    if policy.placed_by_parent:  # the published geometry is the parent's: what a client sends back is ignored
        feature.pop("geometry", None)
    feature = geometry_in_crs84(layer, feature, content_crs(request))
    return edits.values_from_feature(policy, feature, partial)


def check_if_match(request: Request, layer: Layer, row_id: int, required: bool) -> int | None:
    """The version the client saw, from If-Match (the item's ETag)."""
    header = request.headers.get("if-match")
    if header is None:
        if required:
            raise Problem(428, "Precondition Required", "send If-Match with the ETag of the feature you edit")
        return None
    prefix = f'"{layer.id}-{row_id}-v'
    tag = header.strip().removeprefix("W/")
    version = tag[len(prefix):-1]
    # ASCII digits only, and no more than a bigint holds (str.isdigit() takes "²"; int() refuses 5,000 digits).
    if not (tag.startswith(prefix) and tag.endswith('"') and re.fullmatch(r"[0-9]{1,18}", version)):
        raise Problem(412, "Precondition Failed", "If-Match is not an ETag of this feature; GET it again")
    return int(version)


# ---------------------------------------------------------------- who may write what

def guard_fields(caller: Principal, policy: EditPolicy, values: dict) -> None:
    """Organisations never decide moderation nor give their rows to another organisation."""
    if caller.is_editor:
        return
    forbidden = [f for f in MODERATION_FIELDS if policy.moderated and f in values]
    owner = policy.owner_column
    if owner is not None and owner != "id" and owner in values and values[owner] != caller.organization_id:
        forbidden.append(owner)
    if forbidden:
        raise Problem(403, "Forbidden", f"organisation tokens cannot set {', '.join(forbidden)}")


def stamp_new_row(caller: Principal, policy: EditPolicy, values: dict) -> None:
    """An editor's new row is published at once; an organisation's is its own and waits for moderation."""
    if caller.is_editor:
        if policy.moderated:
            values.setdefault("moderation", "approved")
        return
    if policy.moderated:
        values["moderation"] = "pending"
    if policy.owner_column in policy.fields:
        values[policy.owner_column] = caller.organization_id
    elif policy.parent is None:
        raise Problem(403, "Forbidden", f"organisation tokens cannot create {policy.name}")


def check_owner(conn, caller: Principal, policy: EditPolicy, row_id: int) -> None:
    if not caller.is_editor and edits.owner_of(conn, policy, row_id) != caller.organization_id:
        raise Problem(403, "Forbidden", "organisation tokens edit only their own organisation's records")


def needs_review(conn, caller: Principal, policy: EditPolicy, row_id: int) -> bool:
    """An organisation's edit of its own approved row of a moderated layer waits for an editor (the public keeps
    the approved version meanwhile); its edits of a pending or rejected submission apply at once (unpublished)."""
    return (not caller.is_editor and policy.moderated
            and edits.load(conn, policy, row_id, lock=False)["moderation"] == "approved")


def check_parent_owner(conn, caller: Principal, policy: EditPolicy, values: dict) -> None:
    if caller.is_editor:
        return
    named, owner = edits.parent_owner(conn, policy, values)
    if named and owner != caller.organization_id:
        raise Problem(403, "Forbidden", f"organisation tokens add {policy.name} only under their own "
                                        f"{policy.parent.table.name}")


# ---------------------------------------------------------------- running and answering

async def execute(request: Request, caller: Principal, work):
    """`work(conn)` in one transaction on the write pool whose actor is the caller; a refusal stores nothing."""
    return await in_write_transaction(request.app, caller.actor, work)


def written(request: Request, layer: Layer, row_id: int, version: int, status: int, **body) -> Response:
    forget_cached()
    location = f"{base_url(request)}/collections/{layer.id}/items/{row_id}"
    headers = {**WRITE_CORS.headers, "ETag": item_etag(layer, row_id, version), "Location": location,
               "Cache-Control": "no-store"}
    content = json.dumps({"id": row_id, "version": version, **body}, default=str)
    return Response(content, status_code=status, media_type="application/json", headers=headers)


@router.post("/collections/{collectionId}/items", status_code=201, summary="Add a feature (Part 4)")
async def create(collectionId: str, request: Request, caller: Principal = Depends(principal)):  # noqa: N803
    layer, policy, _ = editable_target(collectionId)
    values = await feature_values(request, layer, policy, partial=False)
    guard_fields(caller, policy, values)
    stamp_new_row(caller, policy, values)

    def work(conn):
        check_parent_owner(conn, caller, policy, values)
        row_id = edits.create(conn, policy, values)
        return row_id, edits.load(conn, policy, row_id, lock=False)

    row_id, row = await execute(request, caller, work)
    extra = {"moderation": row["moderation"]} if policy.moderated else {}
    return written(request, layer, row_id, row["version"], 201, **extra)


async def _edit(collection_id: str, feature_id: str, request: Request, caller: Principal, partial: bool):
    layer, policy, row_id = editable_target(collection_id, feature_id)
    expected = check_if_match(request, layer, row_id, required=True)
    values = await feature_values(request, layer, policy, partial)
    guard_fields(caller, policy, values)

    def work(conn):
        check_owner(conn, caller, policy, row_id)
        check_parent_owner(conn, caller, policy, values)
        if needs_review(conn, caller, policy, row_id):
            return moderation.propose_change(conn, policy, row_id, values, expected, partial)
        if partial:
            return edits.patch(conn, policy, row_id, values, expected), None
        return edits.replace(conn, policy, row_id, values, expected), None

    version, proposed = await execute(request, caller, work)
    if proposed:  # kept for an editor: 202, and the row (its ETag, what the public sees) is as it was
        return written(request, layer, row_id, version, 202, moderation="pending", changes=sorted(proposed))
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
    layer, policy, row_id = editable_target(collectionId, featureId)
    expected = check_if_match(request, layer, row_id, required=False)

    def work(conn):
        check_owner(conn, caller, policy, row_id)
        edits.soft_delete(conn, policy, row_id, expected)

    await execute(request, caller, work)
    forget_cached()
    return Response(status_code=204, headers=WRITE_CORS.headers)


WRITE_CORS.preflight_route(router, "/collections/{collectionId}/items", "/collections/{collectionId}/items/{rest:path}")
