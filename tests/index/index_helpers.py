"""Helpers shared by the index tests (a module name unique across test folders)."""

from __future__ import annotations

import time

import httpx


def wait_for_run(client: httpx.Client, after: int | None, timeout: float = 120) -> dict:
    """The /index document once a run newer than `after` is published (polls; bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get("/index")
        if response.status_code == 200 and (after is None or response.json()["run_id"] > after):
            return response.json()
        time.sleep(0.5)
    raise AssertionError(f"no index run after {after} within {timeout} s")


def least_served_cell(url: str, query) -> tuple[str, float, float, int]:
    """The most populated uncovered cell, and a point of it inside its barrio (venues must lie in a barrio)."""
    return query(url, """
        SELECT h.h3, ST_X(p), ST_Y(p), h.barrio_id
        FROM published.hexagons h
        JOIN monitor.barrios b ON b.mslink = h.barrio_id,
             ST_PointOnSurface(ST_Intersection(h.geom, b.geom)) p
        WHERE NOT h.covered ORDER BY h.population DESC, h.h3 LIMIT 1""")[0]
