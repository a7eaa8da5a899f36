"""Helpers shared by the feature API tests (imported by name: the test folders are not packages)."""

from __future__ import annotations

import httpx

PROBLEM = "application/problem+json"


def all_features(http: httpx.Client, url: str, params: dict | None = None) -> tuple[list[dict], int]:
    """Follow rel=next from the first page; returns every feature and the numberMatched of the first page."""
    page = http.get(url, params=params)
    assert page.status_code == 200, page.text
    body = page.json()
    matched = body["numberMatched"]
    features = list(body["features"])
    while (nxt := next((link["href"] for link in body["links"] if link["rel"] == "next"), None)):
        body = http.get(nxt).json()
        features += body["features"]
    return features, matched


def assert_problem(response: httpx.Response, status: int | tuple = 400) -> dict:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body = response.json()
    assert body["status"] == response.status_code and body["title"]
    return body


GEOJSON = {"Content-Type": "application/geo+json"}
# A point inside Rosario's centre (lon, lat).
CENTRE = [-60.6505, -32.9468]


def bearer(token: str, **extra) -> dict:
    return {"Authorization": f"Bearer {token}", **GEOJSON, **extra}


def new_instance(name: str = "Mesa barrial de prueba", point=None, **props) -> dict:
    properties = {"name": name, "kind": "roundtable", "promoter": "cso", "themes": ["ambiente"],
                  "modality": "in_person", "scope": "barrio", "source": "test", **props}
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": point or CENTRE},
            "properties": properties}
