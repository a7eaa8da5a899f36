"""The landing page and /conformance: what this server claims, each claim backed by tests in tests/features/."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.http import GEOJSON, HTML, JSON, OPENAPI, base_url, link, send
from api.routing import get_and_head
from api.tiles.ogc import TILES_CONFORMANCE

router = APIRouter(tags=["OGC API - Features"])

FEATURES = "http://www.opengis.net/spec/ogcapi-features-{part}/1.0/conf/{name}"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/{name}"

CONFORMANCE: tuple[str, ...] = (
    *(FEATURES.format(part=1, name=n) for n in ("core", "geojson", "html", "oas30")),
    FEATURES.format(part=2, name="crs"),
    *(FEATURES.format(part=3, name=n) for n in ("queryables", "queryables-query-parameters", "filter",
                                                 "features-filter")),
    *(CQL2.format(name=n) for n in ("cql2-text", "cql2-json", "basic-cql2", "advanced-comparison-operators",
                                    "case-insensitive-comparison", "basic-spatial-functions",
                                    "basic-spatial-functions-plus", "spatial-functions", "array-functions",
                                    "property-property")),
    *(FEATURES.format(part=4, name=n) for n in ("create-replace-delete", "update", "features")),
    *TILES_CONFORMANCE,  # OGC API - Tiles, served by api/tiles/ogc.py and tested in tests/tiles/
)


@get_and_head(router, "/", summary="Landing page of the OGC API")
async def landing(request: Request):
    root = base_url(request)
    document = {
        "title": request.app.title,
        "description": request.app.description,
        "links": [
            link(f"{root}/", "self", JSON, "This document"),
            link(f"{root}/?f=html", "alternate", HTML, "This document as HTML"),
            link(f"{root}/api", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(f"{root}/api.html", "service-doc", HTML, "The API documentation"),
            link(f"{root}/conformance", "conformance", JSON, "Conformance classes"),
            link(f"{root}/conformance", "http://www.opengis.net/def/rel/ogc/1.0/conformance", JSON),
            link(f"{root}/collections", "data", JSON, "The collections"),
            link(f"{root}/collections", "http://www.opengis.net/def/rel/ogc/1.0/data", JSON),
            link(f"{root}/map", "alternate", HTML, "The web map"),
        ],
    }
    return send(request, document, document["title"], cache_seconds=3600)


@get_and_head(router, "/conformance", summary="Conformance classes this server implements")
async def conformance(request: Request):
    root = base_url(request)
    document = {"conformsTo": list(CONFORMANCE),
                "links": [link(f"{root}/conformance", "self", JSON), link(f"{root}/", "service", GEOJSON)]}
    return send(request, document, "Conformance", cache_seconds=3600)
