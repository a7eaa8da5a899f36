"""What the form refuses, in Spanish, storing nothing: unknown (404), closed (410), out of range (400), a second
answer from the same browser (409), and too many answers from one client (429)."""

from __future__ import annotations

import logging

import httpx
import pytest
from survey_helpers import answers, expire, make_link

from api.surveys import RATE_LIMIT, RateLimiter

JSON = {"Accept": "application/json"}
VALID = {"satisfaction": "4", "themes": ["ambiente", "salud"], "age_band": "25-34", "gender": "female"}


def test_unknown_expired_and_out_of_range_answers_store_nothing(survey_world):
    w = survey_world
    code = make_link(w.url, w.instance)
    closed = make_link(w.url, w.instance)
    expire(w.url, closed)

    for path in ("/encuesta/zzzzzzzz", "/encuesta/NOT-A-CODE!", "/encuesta/zzzzzzzz/qr.svg"):
        page = w.http.get(path)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html"), path
        assert "No encontramos esta encuesta" in page.text and '<html lang="es">' in page.text
    problem = w.http.post("/encuesta/zzzzzzzz", json={"satisfaction": 4}, headers=JSON)
    assert problem.status_code == 404 and problem.headers["content-type"] == "application/problem+json"
    assert problem.json()["title"] == "No encontramos esta encuesta" and "zzzzzzzz" in problem.json()["detail"]
    assert w.http.post("/encuesta/zzzzzzzz", data=VALID).status_code == 404

    page = w.http.get(f"/encuesta/{closed}")
    assert page.status_code == 410 and "Esta encuesta ya cerró" in page.text and "cerró el" in page.text
    assert w.http.post(f"/encuesta/{closed}", data=VALID).status_code == 410
    problem = w.http.post(f"/encuesta/{closed}", json={"satisfaction": 4})
    assert problem.status_code == 410 and problem.json()["reason"] == "expired"
    assert w.http.get(f"/encuesta/{closed}/qr.svg").status_code == 410

    for bad, field in (({"satisfaction": "6"}, "satisfaction"), ({"satisfaction": "0"}, "satisfaction"),
                       ({"satisfaction": "cuatro"}, "satisfaction"), ({}, "satisfaction"),
                       ({**VALID, "themes": ["astrologia"]}, "themes"), ({**VALID, "age_band": "12-15"}, "age_band"),
                       ({**VALID, "gender": "x"}, "gender"), ({**VALID, "barrio_id": "999999"}, "barrio_id"),
                       ({**VALID, "ip": "10.0.0.1"}, "ip")):
        page = w.http.post(f"/encuesta/{code}", data=bad)
        assert page.status_code == 400, bad
        assert "Revisá tu respuesta" in page.text and 'role="alert"' in page.text
        assert ('aria-invalid="true"' in page.text) == (field != "ip")  # an unknown field has no control to mark
        problem = w.http.post(f"/encuesta/{code}", json=bad)
        assert problem.status_code == 400 and problem.headers["content-type"] == "application/problem+json"
        assert problem.json()["title"] == "Respuesta inválida" and field in problem.json()["errors"], bad
    assert w.http.post(f"/encuesta/{code}", json={"satisfaction": 4.0}).status_code == 400
    assert w.http.post(f"/encuesta/{code}", json={"satisfaction": True}).status_code == 400
    assert w.http.post(f"/encuesta/{code}", json=[4]).status_code == 400
    assert w.http.post(f"/encuesta/{code}", content=b"satisfaction=4",
                       headers={"Content-Type": "text/plain"}).status_code == 415
    assert w.http.post(f"/encuesta/{code}", content=b"x" * 20000,
                       headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 413
    # The refused form keeps what was chosen, so only the mistake needs fixing.
    page = w.http.post(f"/encuesta/{code}", data={**VALID, "satisfaction": "9"})
    assert 'value="ambiente" checked' in page.text and 'value="25-34" selected' in page.text
    assert answers(w) == 0


def test_one_answer_per_browser(survey_world):
    w = survey_world
    code = make_link(w.url, w.instance)
    with httpx.Client(base_url=w.server.url, timeout=60) as browser:  # keeps cookies, as a browser does
        stored = browser.post(f"/encuesta/{code}", data=VALID)
        assert stored.status_code == 200 and "¡Gracias por responder!" in stored.text
        cookie = stored.headers["set-cookie"]
        assert f"encuesta_{code}=1" in cookie and f"Path=/encuesta/{code}" in cookie and "HttpOnly" in cookie
        again = browser.get(f"/encuesta/{code}")
        assert again.status_code == 200 and "Ya respondiste esta encuesta desde este navegador" in again.text
        assert "<form" not in again.text
        assert browser.post(f"/encuesta/{code}", data=VALID).status_code == 409
        refused = browser.post(f"/encuesta/{code}", json={"satisfaction": 2}, headers=JSON)
        assert refused.status_code == 409 and refused.json()["title"] == "Ya respondiste esta encuesta"
        assert browser.get(f"/encuesta/{code}", headers=JSON).json()["answered"] is True
    assert answers(w, code) == 1
    # Another browser (no cookie) may answer; JSON clients are answered in JSON.
    other = w.http.post(f"/encuesta/{code}", json={"satisfaction": 5, "themes": ["cultura"]})
    assert other.status_code == 201 and other.json()["stored"] is True
    assert answers(w, code) == 2


def test_too_many_answers_from_one_client_are_refused(survey_world):
    w = survey_world
    code = make_link(w.url, w.instance)
    for _ in range(RATE_LIMIT):
        assert w.http.post(f"/encuesta/{code}", data={"satisfaction": "7"}).status_code == 400
    refused = w.http.post(f"/encuesta/{code}", data=VALID)
    assert refused.status_code == 429 and "Demasiadas respuestas" in refused.text
    assert int(refused.headers["retry-after"]) > 0
    problem = w.http.post(f"/encuesta/{code}", json={"satisfaction": 3})
    assert problem.status_code == 429 and problem.headers["content-type"] == "application/problem+json"
    assert answers(w) == 0
    assert w.http.get(f"/encuesta/{code}").status_code == 200  # reading the form is not limited


def test_rate_limiter_keeps_no_address():
    now = [0.0]
    limiter = RateLimiter(limit=2, window=60, max_clients=3, clock=lambda: now[0])
    assert limiter.hit("192.0.2.1") is None and limiter.hit("192.0.2.1") is None
    assert limiter.hit("192.0.2.1") == pytest.approx(60)
    assert limiter.hit("192.0.2.2") is None  # another client has its own count
    assert not any(b"192.0.2" in key for key in limiter._counts)  # only keyed hashes are kept
    assert RateLimiter()._client("192.0.2.1") != limiter._client("192.0.2.1")  # a new key per process
    now[0] = 61
    assert limiter.hit("192.0.2.1") is None  # the window has passed
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        limiter.hit(address)
    assert len(limiter._counts) <= 3  # bounded memory


def test_access_log_shows_no_survey_client_address():
    access = logging.getLogger("uvicorn.access")
    record = access.makeRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("203.0.113.9:5123", "POST", "/encuesta/abcd2345", "1.1", 200), None)
    other = access.makeRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                              ("203.0.113.9:5123", "GET", "/map", "1.1", 200), None)
    assert all(f.filter(record) and f.filter(other) for f in access.filters)
    assert "203.0.113.9" not in record.getMessage() and record.getMessage().startswith("- ")
    assert other.getMessage().startswith("203.0.113.9")  # other requests are logged as before
