"""Every router the application serves, and every background task it runs, in one place."""

from api import agenda, features, health, web

ROUTERS = [
    health.router,
    agenda.router,
    web.router,
    features.router,
]

# Async context managers `hook(app)` entered at start-up and left at shutdown, in this order
# (e.g. a listener that invalidates caches or schedules index recomputes when data changes).
LIFESPAN_HOOKS = []
