"""Bounded parsing: no filter, body or header can crash or stall the service; each limit is named in a 400.

Before: ~1,800 nested parentheses in a CQL2 filter overflowed the parser's stack (the server process died with a
segmentation fault); ~250 nested `NOT (` took 15 s of parsing on the event loop, stalling every other request;
a deeply nested JSON body, an If-Match with 5,000 digits, coordinates outside EPSG:22185's domain and a
5,000-character archive name were answered 500.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from hardening_helpers import CENTRE, ServerProcess, assert_problem, bearer, new_instance

ITEMS = "/collections/instances/items"


def test_deeply_nested_filter_is_refused_and_the_server_lives(template_db):
    server = ServerProcess(template_db)
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for text in ("(" * 1800 + "name = 'x'" + ")" * 1800, "NOT " * 3000 + "name = 'x'"):
                try:
                    response = http.get(ITEMS, params={"filter": text})
                except httpx.HTTPError as exc:  # the process died under the request
                    raise AssertionError(f"the server died: {server.stop()[-1500:]}") from exc
                assert_problem(response, 400, "depth", "20")
            assert server.process.poll() is None
            assert http.get("/health").status_code == 200
    finally:
        server.stop()


def test_slow_filter_is_refused_at_once_and_others_are_served_meanwhile(http):
    """250 nested NOTs: refused by the depth limit in milliseconds; /health, asked at the same time, answers."""
    nested = "NOT (" * 250 + "name = 'x'" + ")" * 250
    answers: dict[str, tuple[float, int]] = {}

    def ask(key: str, path: str, params=None):
        start = time.monotonic()
        response = http.get(path, params=params)
        answers[key] = (time.monotonic() - start, response.status_code)

    threads = [threading.Thread(target=ask, args=("filter", ITEMS, {"filter": nested})),
               threading.Thread(target=ask, args=("health", "/health"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers["filter"][1] == 400 and answers["health"][1] == 200, answers
    assert answers["filter"][0] < 3 and answers["health"][0] < 3, answers


# (parameters, words the problem must hold: which limit)
OVER_A_LIMIT = [
    ({"filter": "NOT (" * 21 + "name = 'x'" + ")" * 21}, ("depth", "20")),
    ({"filter": "NOT NOT " * 15 + "name = 'x'"}, ("depth",)),
    ({"filter": "name = '" + "x" * 20_000 + "'"}, ("length", "16000")),
    ({"filter": "name IN (" + ",".join("'a'" for _ in range(3000)) + ")"}, ("nodes", "2000")),
    ({"filter": '{"op":"not","args":[' * 40 + '{"op":"=","args":[{"property":"name"},"x"]}' + "]}" * 40,
      "filter-lang": "cql2-json"}, ("depth",)),
    ({"filter": '{"op":"in","args":[{"property":"name"},[' + ",".join(['"a"'] * 3000) + "]]}",
      "filter-lang": "cql2-json"}, ("nodes",)),
]


@pytest.mark.parametrize(("params", "words"), OVER_A_LIMIT, ids=[w[0] + str(i) for i, (_, w) in
                                                                enumerate(OVER_A_LIMIT)])
def test_filter_over_a_limit_is_a_400_naming_it(http, params, words):
    assert_problem(http.get(ITEMS, params=params), 400, *words)


def test_filters_within_the_limits_still_work(http, sql):
    nested = "NOT (" * 9 + "kind = 'vecinal'" + ")" * 9  # odd: NOT kind = 'vecinal'
    response = http.get(ITEMS, params={"filter": nested, "limit": 1})
    assert response.status_code == 200, response.text
    expected = sql("SELECT count(*) FROM published.instances WHERE kind <> 'vecinal'")[0][0]
    assert response.json()["numberMatched"] == expected
    strings = http.get(ITEMS, params={"filter": "name = '((((((((((((((((((((((((NOT NOT NOT'"})
    assert strings.status_code == 200  # brackets and words inside a string literal do not nest


@pytest.mark.parametrize(("params", "where"), [
    ({"bbox": "-1e7,-1e7,3e7,3e7", "bbox-crs": "EPSG:22185"}, "bbox"),
    ({"filter": "S_INTERSECTS(geometry, BBOX(1e7,1e7,3e7,3e7))", "filter-crs": "EPSG:22185"}, "filter bbox"),
    ({"filter": "S_INTERSECTS(geometry, POINT(30000000 30000000))", "filter-crs": "EPSG:22185"},
     "filter geometry"),
])
def test_coordinates_outside_the_crs_domain_are_a_400(http, params, where):
    assert_problem(http.get(ITEMS, params=params), 400, where, "outside the domain")


def test_a_long_archive_name_is_a_404(http):
    assert_problem(http.get("/archives/" + "a" * 5000 + ".pmtiles"), 404)


def test_bad_bodies_and_headers_are_refused_and_store_nothing(writer):
    http, token = writer["http"], writer["tokens"]["editor"]
    before = writer["sql"]("SELECT count(*), max(version) FROM monitor.instances")[0]

    deep = '{"type": "Feature", "geometry": null, "properties": {"name": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    assert_problem(http.post(ITEMS, content=deep, headers=bearer(token)), 400, "depth", "32")
    utf16 = json.dumps(new_instance("Mesa en UTF-16")).encode("utf-16")
    assert_problem(http.post(ITEMS, content=utf16, headers=bearer(token)), 400, "utf-8")
    for field in ("name", "description", "how_to_participate"):
        body = new_instance("Mesa con NUL")
        body["properties"][field] = "Mesa\u0000 con NUL"
        assert_problem(http.post(ITEMS, json=body, headers=bearer(token)), 400, field)

    item_id = writer["sql"]("SELECT id FROM published.instances ORDER BY id LIMIT 1")[0][0]
    patch = {"type": "Feature", "properties": {"schedule": "Martes"}}
    for tag in (f'"instances-{item_id}-v' + "9" * 5000 + '"', f'"instances-{item_id}-v²"'):
        headers = {**bearer(token), "If-Match": tag.encode()}  # bytes: the second is not ASCII
        assert_problem(http.patch(f"{ITEMS}/{item_id}", json=patch, headers=headers), 412)
    outside = new_instance("Mesa fuera del dominio", point=[3e7, 3e7])
    assert_problem(http.post(ITEMS, json=outside, headers=bearer(token, **{
        "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/22185>"})), 400)
    assert writer["sql"]("SELECT count(*), max(version) FROM monitor.instances")[0] == before
    assert CENTRE  # the helper's point stays the reference of valid bodies
