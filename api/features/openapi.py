"""The OpenAPI document, completed from the catalogue and from what the service really answers.

- One items path per collection listing its property filters: GDAL (OAPIF driver) sends a property filter to the
  server only when the OpenAPI document lists it as a query parameter of `/collections/{that id}/items`; a generic
  `{collectionId}` path cannot say which properties each layer has.
- For each editable layer, its write operations with their bodies: a GeoJSON Feature whose `properties` are the
  layer's input model (`policy.model.model_json_schema()`, the same rules the edit engine applies), so clients and
  fuzzers can write. Reads of items and features are `application/geo+json` (also HTML and CSV).
- The statuses each operation really returns, every refusal as `application/problem+json`: FastAPI's 422 is never
  sent (api/errors.py answers 400), and it knows nothing of the service's own refusals: 304 (ETags), 401/403
  (tokens), 404, 405 (read-only layers), 409, 412/428 (If-Match), 413, 415, 429 (api/ratelimit.py), 503 (the
  database away). Which routes need a token is read from their dependencies (api/auth.py).
"""

from __future__ import annotations

import copy
import re
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api import auth
from api.features.queryables import property_schema
from api.http import CSV, GEOJSON, HTML
from layers.catalogue import LAYERS
from layers.layer import Layer


def _equality_parameter(prop) -> dict:
    schema = property_schema(prop)
    if schema.get("type") == "array":
        schema = {"type": "string"}  # `themes=ambiente` matches features whose array contains the value
    return {"name": prop.name, "in": "query", "required": False, "style": "form", "explode": False,
            "description": f"{prop.title}: features whose {prop.name} equals this value", "schema": schema}


def to_openapi_30(node):
    """FastAPI writes OpenAPI 3.1 (JSON Schema 2020-12); the `oas30` class and older clients want 3.0.

    Only the 3.1 forms FastAPI emits need rewriting: `anyOf` with `{"type": "null"}`, `type` lists,
    numeric `exclusiveMinimum`/`exclusiveMaximum` and `const`.
    """
    if isinstance(node, list):
        return [to_openapi_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: to_openapi_30(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            node.pop(key)
            node["nullable"] = True
            if len(rest) == 1 and "$ref" not in rest[0]:
                node = {**rest[0], **node}
            elif len(rest) == 1:
                node["allOf"] = rest
            else:
                node[key] = rest
    if isinstance(node.get("type"), list):
        types = [t for t in node["type"] if t != "null"]
        node["nullable"] = len(types) < len(node["type"]) or node.get("nullable", False)
        node["type"] = types[0] if len(types) == 1 else types
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), int | float) and not isinstance(node.get(bound), bool):
            node[limit], node[bound] = node[bound], True
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if "prefixItems" in node:  # a tuple (GeoJSON positions): 3.0 has only `items`
        items = node.pop("prefixItems")
        types = {i.get("type") for i in items}
        node["items"] = {"type": types.pop()} if len(types) == 1 and None not in types else {}
    node.pop("propertyNames", None)  # not in 3.0; the keys' enumeration stays in the description of the model
    if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/$defs/"):
        node["$ref"] = "#/components/schemas/" + node["$ref"].removeprefix("#/$defs/")
    return node


def unique_operation_ids(schema: dict) -> None:
    """A route serving GET and HEAD gets one operationId from FastAPI; OpenAPI wants one per operation."""
    seen: set[str] = set()
    for path in schema.get("paths", {}).values():
        for method, operation in path.items():
            if isinstance(operation, dict) and "operationId" in operation:
                if operation["operationId"] in seen:
                    operation["operationId"] = f"{operation['operationId']}_{method}"
                seen.add(operation["operationId"])


# ---------------------------------------------------------------- shared schemas and responses

PROBLEM_MEDIA = "application/problem+json"
COMPONENTS = {
    "Problem": {
        "type": "object", "description": "RFC 9457 problem details: every refusal of the service",
        "required": ["title", "status"],
        "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                       "detail": {"type": "string"}, "field": {"type": "string", "nullable": True},
                       "errors": {}},
    },
    "Geometry": {
        "type": "object", "nullable": True, "description": "A GeoJSON geometry (null: none)",
        "required": ["type"], "properties": {"type": {"type": "string"}, "coordinates": {"type": "array"}},
    },
    "Feature": {
        "type": "object", "description": "A GeoJSON Feature (RFC 7946)", "required": ["type", "geometry", "properties"],
        "properties": {"type": {"type": "string", "enum": ["Feature"]}, "id": {},
                       "geometry": {"$ref": "#/components/schemas/Geometry"},
                       "properties": {"type": "object", "nullable": True},
                       "links": {"type": "array", "items": {"type": "object"}}},
    },
    "FeatureCollection": {
        "type": "object", "description": "A page of GeoJSON Features (OGC API - Features)",
        "required": ["type", "features"],
        "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                       "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
                       "numberMatched": {"type": "integer"}, "numberReturned": {"type": "integer"},
                       "links": {"type": "array", "items": {"type": "object"}}},
    },
    "Written": {
        "type": "object", "description": "What a write stored (or, 202, kept for an editor)",
        "required": ["id", "version"],
        "properties": {"id": {}, "version": {"type": "integer"}, "moderation": {"type": "string"},
                       "change": {"type": "string"}, "changes": {"type": "array", "items": {"type": "string"}}},
    },
}
POINT = {"type": "object", "required": ["type", "coordinates"],
         "properties": {"type": {"type": "string", "enum": ["Point"]},
                        "coordinates": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3}}}
DESCRIPTIONS = {
    "200": "OK", "201": "Created", "202": "Accepted: an organisation's change to an approved record, kept for an "
    "editor (the public keeps the approved version)", "204": "No content", "206": "Partial content (HTTP Range)",
    "304": "Not modified (If-None-Match matched the ETag)", "400": "Bad request: a parameter, body or header the "
    "service refuses (`field` names it)", "401": "No token, or an unknown or revoked one",
    "403": "The token's role or organisation may not do this", "404": "Not found", "405": "The layer is read-only",
    "409": "Conflict: a duplicate", "410": "Gone", "412": "Precondition failed: the record changed (If-Match)",
    "413": "Body too large", "415": "Unsupported media type", "428": "Precondition required: send If-Match",
    "429": "Too many requests from this client (Retry-After)", "503": "Database unavailable or query too slow "
    "(Retry-After)",
}
ITEMS = "/collections/{collectionId}/items"
ITEM = "/collections/{collectionId}/items/{featureId}"
# Statuses beyond those every route may give: the feature API's writes (api/features/writes.py) and others.
ROUTE_STATUSES = {
    ("post", ITEMS): {"201", "202", "400", "401", "403", "404", "405", "409", "413", "415"},
    ("put", ITEM): {"200", "202", "400", "401", "403", "404", "405", "409", "412", "413", "415", "428"},
    ("patch", ITEM): {"200", "202", "400", "401", "403", "404", "405", "409", "412", "413", "415", "428"},
    ("delete", ITEM): {"204", "400", "401", "403", "404", "405", "412"},
    ("put", ITEM + "/document"): {"200", "400", "401", "403", "404", "405", "412", "413", "415"},
    ("post", "/moderation/{instanceId}"): {"200", "400", "401", "403", "404", "409"},
    ("post", ITEM + "/restore"): {"200", "401", "403", "404", "405"},
    ("get", ITEM + "/history"): {"200", "401", "403", "404", "405"},
    # The survey form (api/surveys.py): closed links, one answer per browser, its own rate limit; pages for browsers.
    ("get", "/encuesta/{code}"): {"410"},
    ("get", "/encuesta/{code}/qr.svg"): {"410"},
    ("post", "/encuesta/{code}"): {"201", "409", "410", "413", "415"},
    ("post", "/surveys/links"): {"404"},  # an unknown instance or activity
    # Tiles: 204 for an empty tile (api/tiles).
    ("get", "/tiles/{z}/{x}/{y}.mvt"): {"204"},
    ("get", "/tiles/{layer_id}/{z}/{x}/{y}.mvt"): {"204"},
    ("get", "/collections/{collection_id}/tiles/{tms_id}/{z}/{y}/{x}"): {"204"},
}
SURVEY_PAGES = ("/encuesta/",)
IF_MATCH = {"name": "If-Match", "in": "header", "schema": {"type": "string"},
            "description": "The ETag of the feature as you read it (428 without, 412 if it changed since)"}
CONTENT_CRS = {"name": "Content-Crs", "in": "header", "required": False, "schema": {"type": "string"},
               "description": "CRS of the body's coordinates, e.g. <http://www.opengis.net/def/crs/EPSG/0/22185>"}


def _api_routes(routes) -> list[APIRoute]:
    """Every APIRoute, also those of included routers (which FastAPI keeps behind `original_router`; the routers
    of this service are included without a prefix, so their paths are the document's)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif getattr(route, "original_router", None) is not None:
            found.extend(_api_routes(route.original_router.routes))
    return found


def route_statuses(app: FastAPI) -> dict[tuple[str, str], set[str]]:
    """(method, path) → the statuses a route's dependencies add: 401 for routes reading a token, 403 for those
    checking a role; the routes' own (writes' refusals, 204 tiles…) from ROUTE_STATUSES."""
    found: dict[tuple[str, str], set[str]] = {}
    for route in _api_routes(app.routes):
        if not route.include_in_schema:
            continue
        calls, pending = set(), [route.dependant]
        while pending:
            dependant = pending.pop()
            calls.add(dependant.call)
            pending.extend(dependant.dependencies)
        statuses = set()
        if calls & {auth.optional_principal, auth.principal}:
            statuses |= {"401", "403"}  # a session's write without its CSRF token is 403 too
        for method in route.methods:
            found[(method.lower(), route.path)] = statuses | ROUTE_STATUSES.get((method.lower(), route.path), set())
    return found


def _problem_content(html: bool) -> dict:
    content = {PROBLEM_MEDIA: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    if html:  # pages answer browsers with a page (the survey form, /compromisos)
        content[HTML.split(";")[0]] = {"schema": {"type": "string"}}
    return content


def document_statuses(path: str, method: str, operation: dict, extra: set[str]) -> None:
    """The operation's responses: what it really answers, every refusal as a problem."""
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    statuses = {"429", "503"} | extra
    parameters = operation.get("parameters", [])
    if parameters or "requestBody" in operation:
        statuses.add("400")
    if any(p.get("in") == "path" for p in parameters) or "{" in path:
        statuses.add("404")
    if method == "get" and "200" in responses:
        statuses.add("304")
    html = path.startswith(SURVEY_PAGES) or any(
        HTML.split(";")[0] in (r.get("content") or {}) for r in responses.values() if isinstance(r, dict))
    for status in sorted(statuses):
        if status in responses:
            continue
        if status.startswith(("4", "5")):
            responses[status] = {"description": DESCRIPTIONS.get(status, "Refused"), "content": _problem_content(html)}
        elif status == "304":
            responses[status] = {"description": DESCRIPTIONS["304"]}
        elif status in ("204",):
            responses[status] = {"description": DESCRIPTIONS[status]}
        else:
            responses[status] = {"description": DESCRIPTIONS.get(status, "OK"), "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Written"}}}}
    for status in ("429", "503"):
        responses[status].setdefault("headers", {"Retry-After": {
            "description": "Seconds to wait", "schema": {"type": "integer"}}})
    if "201" in responses and "200" in responses and method == "post":
        responses.pop("200")  # FastAPI's default next to the real one


def _items_content(collection: bool) -> dict:
    schema = "#/components/schemas/" + ("FeatureCollection" if collection else "Feature")
    content = {GEOJSON: {"schema": {"$ref": schema}}, HTML.split(";")[0]: {"schema": {"type": "string"}}}
    if collection:
        content[CSV.split(";")[0]] = {"schema": {"type": "string"}}
        content["application/geopackage+sqlite3"] = {"schema": {"type": "string", "format": "binary"}}
        content["application/flatgeobuf"] = {"schema": {"type": "string", "format": "binary"}}
    return content


# ---------------------------------------------------------------- write bodies from the layers' models

def _schema_name(layer: Layer, partial: bool) -> str:
    return "".join(part.title() for part in layer.id.split("_")) + ("FeaturePatch" if partial else "FeatureIn")


def feature_body_schemas(layer: Layer, components: dict) -> tuple[dict, dict]:
    """(full, partial): GeoJSON Features whose properties are the layer's input model, its nested models added to
    `components`. The geometry is the model's geometry field (a Point, or null); a PATCH may leave anything out."""
    policy = layer.edit
    model = policy.model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in model.pop("$defs", {}).items():
        components.setdefault(name, to_openapi_30(definition))
    properties = to_openapi_30(model)
    properties["properties"].pop(policy.geometry_field or "", None)
    required = [f for f in properties.pop("required", []) if f != policy.geometry_field]
    if policy.placed_by_parent:
        geometry = {"description": "ignored: the record is placed at its parent's venue"}
    elif policy.geometry_field is None:
        geometry = {"type": "object", "nullable": True, "enum": [None], "description": "always null"}
    else:
        geometry = {**POINT, "nullable": True,
                    "description": "A Point in CRS84 [longitude, latitude] (or Content-Crs), null for none"}
    schemas = []
    for partial in (False, True):
        props = {**properties, **({"required": required} if required and not partial else {})}
        props["description"] = (f"{layer.title}: the fields of {policy.model.__name__} (gis/registry.py)"
                                + ("; only those to change" if partial else ""))
        schemas.append({"type": "object", "required": ["type", "properties"] if partial else
                        ["type", "geometry", "properties"],
                        "properties": {"type": {"type": "string", "enum": ["Feature"]}, "geometry": geometry,
                                       "properties": props}})
    return schemas[0], schemas[1]


def _body(ref: str, media_types: tuple[str, ...]) -> dict:
    return {"required": True, "content": {m: {"schema": {"$ref": ref}} for m in media_types}}


def _operation(generic: dict | None, operation_id: str, summary: str) -> dict:
    operation = copy.deepcopy(generic or {"responses": {}})
    operation["operationId"] = operation_id
    operation["summary"] = summary
    operation["parameters"] = [p for p in operation.get("parameters", []) if p.get("name") != "collectionId"]
    return operation


def complete(schema: dict, statuses: dict[tuple[str, str], set[str]] | None = None) -> dict:
    schema = {**to_openapi_30(schema), "openapi": "3.0.3"}
    unique_operation_ids(schema)
    paths = schema.setdefault("paths", {})
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422, never sent
        components.pop(name, None)
    components.update(copy.deepcopy(COMPONENTS))
    statuses = statuses or {}
    generic = paths.get(ITEMS, {})
    generic_item = paths.get(ITEM, {})
    writes = ("application/geo+json", "application/json")
    for path, operations in list(paths.items()):
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            if path in (ITEMS, ITEM) and method == "get":
                operation["responses"]["200"] = {"description": "OK", "content": _items_content(path == ITEMS)}
            if (method, path) in (("post", ITEMS), ("put", ITEM), ("patch", ITEM)):
                operation["requestBody"] = _body("#/components/schemas/Feature", writes + (
                    ("application/merge-patch+json",) if method == "patch" else ()))
                operation["parameters"] = [*operation.get("parameters", []), CONTENT_CRS]
            if (method, path) in (("put", ITEM), ("patch", ITEM)):
                operation["parameters"].append({**IF_MATCH, "required": True})
            if (method, path) == ("delete", ITEM):
                operation["parameters"] = [*operation.get("parameters", []), {**IF_MATCH, "required": False}]
    for layer in LAYERS:
        if "get" in generic:
            operation = _operation(generic["get"], f"getItems_{layer.id}", f"Features of {layer.title}")
            operation["parameters"] += [_equality_parameter(p) for p in layer.properties if p.filterable]
            paths[f"/collections/{layer.id}/items"] = {"get": operation}
        if layer.edit is None:
            continue
        full, partial = feature_body_schemas(layer, components)
        components[_schema_name(layer, False)], components[_schema_name(layer, True)] = full, partial
        ref_full = f"#/components/schemas/{_schema_name(layer, False)}"
        ref_partial = f"#/components/schemas/{_schema_name(layer, True)}"
        if "post" in generic:
            create = _operation(generic["post"], f"createItem_{layer.id}", f"Add a feature to {layer.title}")
            create["requestBody"] = _body(ref_full, writes)
            paths[f"/collections/{layer.id}/items"]["post"] = create
        item_path = {}
        for method, summary, ref in (("get", "One feature of", None), ("put", "Replace a feature of", ref_full),
                                     ("patch", "Update a feature of", ref_partial),
                                     ("delete", "Delete a feature of", None)):
            if method in generic_item:
                operation = _operation(generic_item[method], f"{method}Item_{layer.id}", f"{summary} {layer.title}")
                if ref:
                    operation["requestBody"] = _body(ref, writes + (("application/merge-patch+json",)
                                                                    if method == "patch" else ()))
                item_path[method] = operation
        paths[f"/collections/{layer.id}/items/{{featureId}}"] = item_path
    editable = {layer.id: layer.edit for layer in LAYERS if layer.edit is not None}
    for path, operations in paths.items():
        concrete = re.match(r"^/collections/(?!\{)([^/]+)/items", path)
        template = re.sub(r"^/collections/(?!\{)[^/]+/items", "/collections/{collectionId}/items", path)
        for method, operation in operations.items():
            if isinstance(operation, dict):
                extra = set(statuses.get((method, path), statuses.get((method, template), set())))
                if concrete and concrete.group(1) in editable:  # a layer's own path: it is editable
                    extra.discard("405")
                    if not editable[concrete.group(1)].moderated:
                        extra.discard("202")
                document_statuses(path, method, operation, extra)
    return schema


@asynccontextmanager
async def openapi_hook(app: FastAPI):
    """Wraps `app.openapi` once at start-up (the lifespan hook is where the app object is at hand)."""
    original = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = complete(original(), route_statuses(app))
        return app.openapi_schema

    app.openapi_schema = None
    app.openapi = openapi
    yield
