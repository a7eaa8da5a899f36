"""Every router the application serves, and every background task it runs, in one place."""

from api import agenda, archives, features, health, styles, tiles, tiles_ogc, web
from api import index as index_api
from api.tiles_service import tiles_lifespan

ROUTERS = [
    health.router,
    agenda.router,
    web.router,
    features.router,
    tiles.router,
    tiles_ogc.router,
    styles.router,
    archives.router,
    index_api.router,
]

# Async context managers `hook(app)` entered at start-up and left at shutdown, in this order
# (e.g. a listener that invalidates caches or schedules index recomputes when data changes).
LIFESPAN_HOOKS = [
    features.openapi_hook,
    tiles_lifespan,
    index_api.recompute_hook,
]
