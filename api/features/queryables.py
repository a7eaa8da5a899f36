"""/collections/{collectionId}/queryables: the JSON Schema of what `filter` and equality parameters accept."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.http import base_url, layer_or_404, send
from api.routing import get_and_head
from layers.layer import Layer, Property

router = APIRouter(tags=["OGC API - Features"])

SCHEMA_JSON = "application/schema+json"
GEOMETRY_FORMAT = {"Point": "geometry-point", "Polygon": "geometry-polygon", "MultiPolygon": "geometry-multipolygon"}


def property_schema(prop: Property) -> dict:
    schema: dict = {"title": prop.title}
    if prop.description:
        schema["description"] = prop.description
    if prop.type == "date":
        schema.update(type="string", format="date")
    elif prop.type == "datetime":
        schema.update(type="string", format="date-time")
    elif prop.type == "array":
        schema.update(type="array", items={"type": "string"})
    else:
        schema["type"] = prop.type
    if prop.enum:
        schema["enum"] = list(prop.enum)
    return schema


def queryables_document(layer: Layer, self_url: str) -> dict:
    properties = {"id": {"title": "Identificador", "type": layer.id_type, "x-ogc-role": "id"}}
    if layer.has_geometry:
        properties["geometry"] = {"title": "Geometría", "x-ogc-role": "primary-geometry",
                                  "format": GEOMETRY_FORMAT.get(layer.geometry_type, "geometry-any")}
    properties.update({p.name: property_schema(p) for p in layer.properties if p.filterable})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": self_url,
        "type": "object",
        "title": layer.title,
        "properties": properties,
        "additionalProperties": False,
    }


@get_and_head(router, "/collections/{collectionId}/queryables", summary="Properties usable in filters")
async def queryables(collectionId: str, request: Request):  # noqa: N803
    layer = layer_or_404(collectionId)
    url = f"{base_url(request)}/collections/{layer.id}/queryables"
    return send(request, queryables_document(layer, url), f"Queryables: {layer.title}", SCHEMA_JSON,
                cache_seconds=3600)
