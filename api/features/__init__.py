"""OGC API - Features (Parts 1-4) over every layer of the catalogue: one code path, no layer named."""

from fastapi import APIRouter

from api.features import collections, conformance, documents, items, moderation, queryables, writes
from api.features.openapi import openapi_hook  # registered in api/routers.LIFESPAN_HOOKS

router = APIRouter()
for module in (conformance, collections, queryables, items, writes, documents, moderation):
    router.include_router(module.router)

__all__ = ["router", "openapi_hook"]
