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


def complete(schema: dict) -> dict:
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
