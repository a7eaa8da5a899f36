"""What the HTTP tests of every folder share (tests/ is on the import path through its conftest)."""

from __future__ import annotations

import socket

import httpx

PROBLEM = "application/problem+json"
GEOJSON = {"Content-Type": "application/geo+json"}
CENTRE = [-60.6505, -32.9468]  # a point inside Rosario's centre (lon, lat)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bearer(token: str, **extra) -> dict:
    return {"Authorization": f"Bearer {token}", **GEOJSON, **extra}


def new_instance(name: str = "Mesa barrial de prueba", point=None, **props) -> dict:
    properties = {"name": name, "kind": "roundtable", "promoter": "cso", "themes": ["ambiente"],
                  "modality": "in_person", "scope": "barrio", "source": "test", **props}
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": point or CENTRE},
            "properties": properties}


def assert_problem(response: httpx.Response, status: int | tuple = 400, *words: str) -> dict:
    """A problem+json answer with this status whose title or detail holds every one of `words`."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body = response.json()
    assert body["status"] == response.status_code and body["title"]
    text = f"{body.get('title', '')} {body.get('detail', '')}".lower()
    missing = [w for w in words if w.lower() not in text]
    assert not missing, (missing, body)
    return body
