"""Every router the application serves, and every background task it runs, in one place."""

from api import agenda, commitments, features, gestion, guide, health, qgis, surveys, tiles, web
from api import downloads as downloads_api
from api import editions as editions_api
from api import feeds as feeds_api
from api import index as index_api
from api import opendata as opendata_api
from api import reports as reports_api
from api.recompute import recompute_hook

ROUTERS = [
    health.router,
    agenda.router,
    web.router,
    features.router,
    tiles.router,
    index_api.router,
    surveys.router,
    guide.router,
    qgis.router,
    commitments.router,
    gestion.router,
    editions_api.router,
    feeds_api.router,
    reports_api.router,
    opendata_api.router,  # before downloads: /datos/catalog.jsonld is not a collection's download
    downloads_api.router,
]

# Async context managers `hook(app)` entered at start-up and left at shutdown, in this order
# (e.g. a listener that invalidates caches or schedules index recomputes when data changes).
LIFESPAN_HOOKS = [
    features.openapi_hook,
    tiles.tiles_lifespan,
    recompute_hook,
]
