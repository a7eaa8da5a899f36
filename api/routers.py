"""Every router the application serves, in one list: add a new surface here."""

from api import health

ROUTERS = [
    health.router,
]
