"""The application as a pure tile server for the tile benchmarks: the same routers and tile code, with only the
tiles start-up hook, so that background jobs (the index recompute at start-up) do not share the CPU being measured."""

from __future__ import annotations

from api import routers
from api.app import create_app
from api.tiles.service import tiles_lifespan


def create_tile_app():
    routers.LIFESPAN_HOOKS[:] = [tiles_lifespan]
    return create_app()
