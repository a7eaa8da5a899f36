"""The service answers /health over real HTTP with what `make run` promises: 50 barrios, 6 districts, data."""

import httpx


def test_health_reports_loaded_registry(live_server):
    body = httpx.get(f"{live_server.url}/health", timeout=10).json()
    assert body["status"] == "ok"
    assert body["counts"]["barrios"] == 50
    assert body["counts"]["districts"] == 6
    assert body["counts"]["instances"] > 300  # 20 real sites + the approved part of 300 demo instances
    assert body["counts"]["activities"] > 0
    assert 0 < body["demo_instances"] < body["counts"]["instances"]


def test_unknown_path_is_problem_json(live_server):
    response = httpx.get(f"{live_server.url}/no-such-thing", timeout=10)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
