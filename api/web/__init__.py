"""The public web map (`/map`) and the small JSON endpoints written for it (card, search, catalogues)."""

from fastapi import APIRouter

from api.web import card, catalogues, page, search

router = APIRouter()
for part in (page, card, catalogues, search):
    router.include_router(part.router)
