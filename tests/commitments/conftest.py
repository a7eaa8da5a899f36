"""Fixtures of the commitment tracker tests: a fresh server with two new instances and six commitments written
through the feature API with an editor token, one of them moved through three states."""

from __future__ import annotations

from datetime import timedelta

import httpx
import psycopg
import pytest
from commitments_helpers import ADMIN_NAME, EDITOR_NAME
from psycopg.rows import dict_row

from gis.auth import create_token
from gis.db import connect

GEOJSON = {"Content-Type": "application/geo+json"}


def post(http: httpx.Client, token: str, collection: str, properties: dict, geometry=None) -> int:
    response = http.post(f"/collections/{collection}/items", headers={"Authorization": f"Bearer {token}", **GEOJSON},
                         json={"type": "Feature", "geometry": geometry, "properties": properties})
    assert response.status_code == 201, response.text
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def patch(http: httpx.Client, token: str, collection: str, feature_id: int, properties: dict) -> None:
    url = f"/collections/{collection}/items/{feature_id}"
    etag = http.get(url).headers["ETag"]
    response = http.patch(url, headers={"Authorization": f"Bearer {token}", "If-Match": etag, **GEOJSON},
                          json={"type": "Feature", "properties": properties})
    assert response.status_code in (200, 204), response.text


@pytest.fixture
def tracker(fresh_server):
    """The fresh server with known commitments. Instance A (theme `gobierno_abierto`) sits in one barrio and holds
    four commitments, B (theme `discapacidad`) sits in another and holds two:

    | key | instance | due | status | origin |
    | --- | --- | --- | --- | --- |
    | a1 | A | past | complete | proposal, with evidence and a response |
    | a2 | A | past | not_started → limited (30 %) → substantial (70 %) | activity |
    | a3 | A | past | limited | experience |
    | a4 | A | future | limited | — |
    | b1 | B | past | limited | — |
    | b2 | B | none | not_started | — |
    """
    url = fresh_server.database_url
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("SET timezone = 'America/Argentina/Cordoba'")
        today = conn.execute("SELECT current_date AS d").fetchone()["d"]
        venues = conn.execute("""SELECT id, name, district, ST_X(ST_PointOnSurface(geom)) AS lon,
                                        ST_Y(ST_PointOnSurface(geom)) AS lat
                                 FROM published.barrios WHERE id IN (15, 5) ORDER BY id DESC""").fetchall()
    with connect(url, actor="test") as conn:
        editor = create_token(conn, "editor", EDITOR_NAME)[1]
        admin = create_token(conn, "admin", ADMIN_NAME)[1]
    past, future, made = (today - timedelta(days=60)).isoformat(), (today + timedelta(days=60)).isoformat(), \
        (today - timedelta(days=200)).isoformat()

    def sql(query, params=None):
        with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
            conn.execute("SET timezone = 'America/Argentina/Cordoba'")
            return conn.execute(query, params).fetchall()

    with httpx.Client(base_url=fresh_server.url, timeout=60) as http:
        instances = {}
        for key, venue, theme in (("A", venues[0], "gobierno_abierto"), ("B", venues[1], "discapacidad")):
            instances[key] = post(http, editor, "instances", {
                "name": f"Mesa de seguimiento {key}", "kind": "roundtable", "promoter": "state",
                "themes": [theme], "modality": "in_person", "scope": "barrio", "source": "test"},
                {"type": "Point", "coordinates": [venue["lon"], venue["lat"]]})
        activity = post(http, editor, "activities", {
            "instance_id": instances["A"], "title": "Asamblea de cierre", "starts_at": f"{made}T18:00:00-03:00",
            "status": "held", "source": "test"})
        experience = post(http, editor, "experiences", {
            "instance_id": instances["A"], "held_on": made, "attendance": 40, "proposals_count": 3,
            "source": "test"})
        base = {"made_on": made, "source": "test"}
        specs = {
            "a1": {"instance_id": instances["A"], "description": "Publicar el presupuesto participativo",
                   "due_date": past, "status": "complete", "progress": 100, "proposal_ref": "PP-2026-07",
                   "evidence_url": "https://example.org/evidencia/pp", "government_response": "Aceptada y publicada."},
            "a2": {"instance_id": instances["A"], "description": "Iluminar la plaza del barrio", "due_date": past,
                   "status": "not_started", "progress": 0, "activity_id": activity},
            "a3": {"instance_id": instances["A"], "description": "Abrir un espacio de consulta", "due_date": past,
                   "status": "limited", "experience_id": experience},
            "a4": {"instance_id": instances["A"], "description": "Reparar las veredas de la escuela",
                   "due_date": future, "status": "limited"},
            "b1": {"instance_id": instances["B"], "description": "Rampas en las esquinas", "due_date": past,
                   "status": "limited"},
            "b2": {"instance_id": instances["B"], "description": "Semáforos sonoros", "status": "not_started"},
        }
        ids = {key: post(http, editor, "commitments", {**base, **spec}) for key, spec in specs.items()}
        patch(http, editor, "commitments", ids["a2"], {"status": "limited", "progress": 30})
        patch(http, admin, "commitments", ids["a2"], {"status": "substantial", "progress": 70})
        patch(http, editor, "commitments", ids["a2"], {"description": "Iluminar la plaza del barrio (dos cuadras)"})
        yield {"http": http, "sql": sql, "url": url, "server": fresh_server, "today": today, "ids": ids,
               "instances": instances, "activity": activity, "experience": experience,
               "barrios": {"A": venues[0], "B": venues[1]}, "tokens": {"editor": editor, "admin": admin}}

