"""Write rules: URLs are absolute http(s) URLs with nothing that breaks a feed or a page; no text field takes NUL
or control characters (400 naming the field); duplicates stay impossible when identical writes race.

Before: an organisation's online_url with a line break was stored and /agenda.ics answered 500 until it was
removed; source_url took `javascript:` (rendered as a link by the card); a NUL byte reached PostgreSQL; ten
identical POSTs at once stored 9 or 10 rows.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import get_args

import httpx
import pytest
from hardening_helpers import assert_problem, bearer, new_instance

from gis.registry import ActivityIn, InstanceIn, OrganizationIn

BAD_URLS = ["https://participa.example.org/a\r\nX-Injected: 1", "javascript:alert(document.cookie)",
            "https://participa.example.org/a b", "participa.example.org/sin-esquema", "https://",
            "data:text/html,<script>alert(1)</script>", "https://participa.example.org/\u0000"]


def _text_fields(model) -> list[str]:
    """The model's fields that hold text people type (str, or a list of str), whatever their constraints."""
    fields = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        flat = [annotation, *get_args(annotation)]
        for item in list(flat):
            flat += list(get_args(item))
        if str in flat and name not in ("external_id",) and not any(getattr(a, "__name__", "") == "Literal"
                                                                 for a in flat):
            fields.append(name)
    return fields


def organization(**props) -> dict:
    return {"type": "Feature", "geometry": None,
            "properties": {"name": "Biblioteca Popular de Prueba", "kind": "cso", "source": "test", **props}}


def activity(instance_id: int, **props) -> dict:
    starts = (datetime.now(UTC) + timedelta(days=20)).replace(microsecond=0).isoformat()
    return {"type": "Feature", "geometry": None,
            "properties": {"instance_id": instance_id, "title": "Asamblea de prueba", "starts_at": starts,
                           "source": "test", **props}}


def online_instance(**props) -> dict:
    body = new_instance("Mesa virtual de prueba", modality="online", scope="city")
    body["properties"].update({"online_url": "https://participa.example.org/mesa", **props})
    body["geometry"] = None
    return body


@pytest.fixture
def bodies(writer):
    """Valid bodies, one per editable layer, and where each is posted."""
    instance_id = writer["sql"]("SELECT id FROM monitor.instances WHERE organization_id = %s AND moderation = "
                                "'approved' AND deleted_at IS NULL ORDER BY id LIMIT 1", (writer["org"],))[0][0]
    return {
        "instances": (online_instance, "instances"),
        "activities": (lambda **p: activity(instance_id, **p), "activities"),
        "organizations": (organization, "organizations"),
    }


def test_the_models_type_every_text_field():
    """Every free-text field of the three models is checked (the list is read from the models themselves)."""
    for model in (InstanceIn, ActivityIn, OrganizationIn):
        for name in _text_fields(model):
            annotation = str(model.model_fields[name].annotation) + str(model.model_fields[name].metadata)
            assert "_no_control" in annotation or "_http_url" in annotation, (model.__name__, name, annotation)


@pytest.mark.parametrize(("layer", "field"), [("instances", "online_url"), ("instances", "source_url"),
                                              ("activities", "online_url"), ("activities", "registration_url"),
                                              ("organizations", "website")])
def test_url_fields_take_only_absolute_http_urls(writer, bodies, layer, field):
    http, token = writer["http"], writer["tokens"]["editor"]
    make, collection = bodies[layer]
    table = f"monitor.{layer}"
    before = writer["sql"](f"SELECT count(*) FROM {table}")  # a fixed name from the parameters above
    for url in BAD_URLS:
        problem = assert_problem(http.post(f"/collections/{collection}/items", json=make(**{field: url}),
                                           headers=bearer(token)), 400, field)
        assert problem.get("field") == field, problem
    assert writer["sql"](f"SELECT count(*) FROM {table}") == before
    fine = http.post(f"/collections/{collection}/items", headers=bearer(token),
                     json=make(**{field: "https://www.rosario.gob.ar/inicio/participación?x=1#y"}))
    assert fine.status_code == 201, fine.text


def test_a_line_break_in_an_organisations_url_never_reaches_the_calendar(writer, bodies):
    http = writer["http"]
    make, _ = bodies["activities"]
    body = make(online_url="https://meet.example.org/x\r\nBEGIN:VEVENT")
    problem = assert_problem(http.post("/collections/activities/items", json=body,
                                       headers=bearer(writer["tokens"]["org"])), 400, "online_url")
    assert problem["field"] == "online_url"
    assert http.get("/agenda.ics").status_code == 200


@pytest.mark.parametrize("layer", ["instances", "activities", "organizations"])
def test_every_text_field_refuses_nul_and_control_characters(writer, bodies, layer):
    http, token = writer["http"], writer["tokens"]["editor"]
    make, collection = bodies[layer]
    model = {"instances": InstanceIn, "activities": ActivityIn, "organizations": OrganizationIn}[layer]
    for name in _text_fields(model):
        for bad in ("Texto\u0000con NUL", "Texto con \u0007 campana", "Texto \u009b CSI"):
            value = [bad] if name == "themes" else bad
            if name.endswith("_url") or name == "website":
                value = "https://participa.example.org/" + bad
            problem = assert_problem(http.post(f"/collections/{collection}/items", json=make(**{name: value}),
                                               headers=bearer(token)), 400, name)
            assert problem.get("field", "").split(".")[0] == name, problem
    assert http.post(f"/collections/{collection}/items", headers=bearer(token),
                     json=make(description="Primera línea\nSegunda línea\tcon tabulador")).status_code == 201


def test_ten_identical_posts_at_once_store_one(writer):
    url, token = writer["server"].url, writer["tokens"]["editor"]
    body = new_instance("Mesa duplicada a la vez", description="Diez envíos simultáneos")
    start = threading.Barrier(10)
    statuses: list[int] = []

    def post():
        with httpx.Client(base_url=url, timeout=60) as client:
            start.wait()
            statuses.append(client.post("/collections/instances/items", json=body, headers=bearer(token)).status_code)

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert sorted(statuses) == [201] + [409] * 9, statuses
    stored = writer["sql"]("SELECT count(*) FROM monitor.instances WHERE name = %s", (body["properties"]["name"],))
    assert stored[0][0] == 1
