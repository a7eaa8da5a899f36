"""Strict input types (issue 13, item 8): what a person could not have meant is refused with a 400 naming the field.

Before: coordinates given as strings were read as numbers, a name made only of invisible characters (zero-width
spaces, Hangul fillers, the braille blank) was stored and shown as an empty label, and dates in year 1 (or 9999)
were stored. Each is now a 400 problem whose `field` says what to correct, and nothing is stored.
"""

from __future__ import annotations

import pytest
from hardening_helpers import CENTRE, assert_problem, bearer, new_instance

INVISIBLE_NAMES = ["\u200b\u200b\u200b\u200b", "\u3164\u3164\u3164", "\u2800\u2800\u2800", "\u200d\ufeff\u00ad\u2060",
                   "\u115f\u1160\u17b4", "\u00a0\u2003\u200b"]


def refused(writer, path: str, body: dict, field: str) -> dict:
    http, sql = writer["http"], writer["sql"]
    before = sql("SELECT (SELECT count(*) FROM monitor.instances) + (SELECT count(*) FROM monitor.activities) "
                 "+ (SELECT count(*) FROM monitor.commitments)")[0][0]
    problem = assert_problem(http.post(path, json=body, headers=bearer(writer["tokens"]["editor"])), 400)
    assert problem.get("field") == field, problem
    after = sql("SELECT (SELECT count(*) FROM monitor.instances) + (SELECT count(*) FROM monitor.activities) "
                "+ (SELECT count(*) FROM monitor.commitments)")[0][0]
    assert after == before
    return problem


def an_activity(instance_id: int, **props) -> dict:
    return {"type": "Feature", "geometry": None, "properties": {
        "instance_id": instance_id, "title": "Reunión abierta", "starts_at": "2027-03-01T19:00:00-03:00",
        "source": "test", **props}}


@pytest.mark.parametrize("coordinates", [[str(CENTRE[0]), str(CENTRE[1])], [CENTRE[0], str(CENTRE[1])],
                                         [True, False], [CENTRE[0], None]])
def test_coordinates_must_be_json_numbers(writer, coordinates):
    body = new_instance("Mesa con coordenadas en texto")
    body["geometry"]["coordinates"] = coordinates
    problem = refused(writer, "/collections/instances/items", body, "geometry")
    assert "number" in problem["detail"]


def test_names_made_only_of_invisible_characters_are_refused(writer):
    instance_id = writer["sql"]("SELECT id FROM published.instances ORDER BY id LIMIT 1")[0][0]
    for name in INVISIBLE_NAMES:
        problem = refused(writer, "/collections/instances/items", new_instance(name), "name")
        assert "visible" in problem["detail"]
        refused(writer, "/collections/activities/items", an_activity(instance_id, title=name), "title")
    # Visible text with invisible characters inside it (an emoji sequence joins with U+200D) is a name.
    created = writer["http"].post("/collections/instances/items", json=new_instance("Mesa familiar 👨\u200d👩\u200d👧"),
                                  headers=bearer(writer["tokens"]["editor"]))
    assert created.status_code == 201, created.text


def test_dates_out_of_any_plausible_year_are_refused(writer):
    instance_id = writer["sql"]("SELECT id FROM published.instances ORDER BY id LIMIT 1")[0][0]
    problem = refused(writer, "/collections/instances/items", new_instance(start_date="0001-01-01"), "start_date")
    assert "year 1" in problem["detail"]
    refused(writer, "/collections/instances/items", new_instance(end_date="9999-12-31"), "end_date")
    refused(writer, "/collections/activities/items", an_activity(instance_id, starts_at="0001-01-01T10:00:00"),
            "starts_at")
    refused(writer, "/collections/activities/items",
            an_activity(instance_id, ends_at="0001-01-01T00:00:00+00:00"), "ends_at")
    refused(writer, "/collections/commitments/items", {"type": "Feature", "geometry": None, "properties": {
        "instance_id": instance_id, "description": "Iluminar la plaza", "due_date": "0001-01-01",
        "source": "test"}}, "due_date")
    # A vecinal founded in 1925 is a date people mean.
    created = writer["http"].post("/collections/instances/items", json=new_instance(
        "Vecinal fundada hace un siglo", start_date="1925-05-25"), headers=bearer(writer["tokens"]["editor"]))
    assert created.status_code == 201, created.text
