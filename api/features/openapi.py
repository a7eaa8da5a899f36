"""The OpenAPI document, completed with one items path per collection listing its property filters.

GDAL (OAPIF driver) sends a property filter to the server only when the OpenAPI document lists it as a query
parameter of `/collections/{that id}/items`; a generic `{collectionId}` path cannot say which properties each
layer has, so the paths are generated from the catalogue here.
"""

from __future__ import annotations

import copy
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.features.queryables import property_schema
from layers.catalogue import LAYERS

GENERIC_ITEMS = "/collections/{collectionId}/items"


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


def complete(schema: dict) -> dict:
    schema = {**to_openapi_30(schema), "openapi": "3.0.3"}
    unique_operation_ids(schema)
    generic = schema.get("paths", {}).get(GENERIC_ITEMS)
    if not generic or "get" not in generic:
        return schema
    for layer in LAYERS:
        operation = copy.deepcopy(generic["get"])
        operation["operationId"] = f"getItems_{layer.id}"
        operation["summary"] = f"Features of {layer.title}"
        operation["parameters"] = [p for p in operation.get("parameters", []) if p.get("name") != "collectionId"]
        operation["parameters"] += [_equality_parameter(p) for p in layer.properties if p.filterable]
        schema["paths"][f"/collections/{layer.id}/items"] = {"get": operation}
    return schema


@asynccontextmanager
async def openapi_hook(app: FastAPI):
    """Wraps `app.openapi` once at start-up (the lifespan hook is where the app object is at hand)."""
    original = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = complete(original())
        return app.openapi_schema

    app.openapi_schema = None
    app.openapi = openapi
    yield
