"""Vector tiles (XYZ and OGC API - Tiles), TileJSON, the MapLibre style and PMTiles archives of the catalogue.

The path of a tile request: routes.py (address, layers) → service.py (exact cache or one PostGIS statement from
layers/tiles_sql.py) → cache.py (data versions, compressed tiles) → responses.py (ETag/304/gzip).
"""

from fastapi import APIRouter

from api.tiles import archives, ogc, routes, styles
from api.tiles.service import tiles_lifespan

router = APIRouter()
for part in (routes, ogc, styles, archives):
    router.include_router(part.router)

__all__ = ["router", "tiles_lifespan"]
