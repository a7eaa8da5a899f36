"""Helpers shared by the feature API tests (imported by name: the test folders are not packages)."""

from __future__ import annotations

import httpx
from http_helpers import CENTRE, GEOJSON, PROBLEM, assert_problem, bearer, new_instance  # noqa: F401 (shared)


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




